//! Patients and their visits: who is in the clinic, why, and where.

#[cfg(feature = "ssr")]
pub mod matching;
mod search;
#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;

pub use search::*;
pub use types::*;
pub use view::*;
