//! The lab: the test catalog, orders from the room tablet, specimens labelled at the
//! bedside, the lab workstation, results and their flags, critical values that reach a
//! person, and results from reference labs over HL7 v2.

#[cfg(feature = "ssr")]
pub mod act;
mod api;
pub mod barcode;
mod catalog;
mod catalog_view;
#[cfg(feature = "ssr")]
pub mod hl7;
#[cfg(feature = "ssr")]
pub mod import;
mod sendout_view;
mod sound;
#[cfg(feature = "ssr")]
pub mod store;
mod turnaround_view;
mod types;
mod view;

pub use api::*;
pub use catalog::TestForm;
pub use catalog_view::*;
pub use sendout_view::*;
pub use turnaround_view::*;
pub use types::*;
pub use view::*;
