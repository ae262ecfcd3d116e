//! Rooms: what each room is, its HL7 status, and who is in it.

mod api;
mod setup;
mod setup_view;
#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;

pub use api::*;
pub use setup::*;
pub use setup_view::*;
pub use types::*;
pub use view::*;
