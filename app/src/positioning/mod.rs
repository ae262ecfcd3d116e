//! Patient positioning: the position chosen from drawn figures, its SNOMED CT code, the
//! supports and padding, the pressure points checked, and every repositioning.

#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;

pub use types::*;
pub use view::*;
