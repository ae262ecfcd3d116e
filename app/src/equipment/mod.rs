//! Equipment: ultrasound, ECG machine, instrument kits; where each item is, its state,
//! and which procedure holds it.

mod api;
mod setup;
mod setup_view;
#[cfg(feature = "ssr")]
pub mod store;
mod types;

pub use api::*;
pub use setup::*;
pub use setup_view::EquipmentSetupPage;
pub use types::*;
