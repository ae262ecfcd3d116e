//! Who may open which patient: the care team of a visit, supervisors, and emergency
//! (break-glass) access with a reason, flagged in the audit trail and reviewed by
//! supervisors.

mod api;
mod types;
mod view;

#[cfg(feature = "ssr")]
pub mod store;

pub use api::*;
pub use types::*;
pub use view::*;
