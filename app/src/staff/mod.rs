//! The people who work in the clinic and the roles they hold.

#[cfg(feature = "ssr")]
pub mod store;
mod types;

pub use types::*;
