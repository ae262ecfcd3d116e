//! Patients and their visits: who is in the clinic, why, and where.

mod desk;
pub mod identity;
#[cfg(feature = "ssr")]
pub mod matching;
mod records;
#[cfg(feature = "ssr")]
pub mod registry;
mod search;
#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;
pub mod words;

pub use desk::*;
pub use identity::{IdentityForm, PatientRecord, Registration};
pub use records::*;
pub use search::*;
pub use types::*;
pub use view::*;
