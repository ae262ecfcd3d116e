//! Equipment: ultrasound, ECG machine, instrument kits; where each item is, its state,
//! and which procedure holds it.

mod api;
#[cfg(feature = "ssr")]
pub mod store;
mod types;

pub use api::*;
pub use types::*;
