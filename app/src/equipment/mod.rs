//! Equipment: ultrasound, ECG machine, instrument kits; where each item is, its state,
//! and which procedure holds it.

#[cfg(feature = "ssr")]
pub mod store;
mod types;

pub use types::*;
