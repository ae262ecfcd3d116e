//! The audit trail: who did what to which record, when, from where, allowed or refused.
//! Every read and write of patient data, every sign-in, lock, unlock and failure. Rows
//! are append-only: database triggers refuse updates and deletes on both backends.

mod api;
mod types;
mod view;

#[cfg(feature = "ssr")]
pub mod store;

pub use api::*;
pub use types::*;
pub use view::*;

#[cfg(feature = "ssr")]
pub use store::{record, record_all, record_in, record_patients_listed, Entry};
