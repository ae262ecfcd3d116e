//! Admissions from the front office's system: HL7 v2 ADT messages (arrivals, updates,
//! departures, cancellations, merges) read into Plateau's terms (adt.rs, pure and
//! unit-tested on real messages) and applied to patients and visits with the same checks
//! as the desk's (import.rs); updates held for a person and their decision (api.rs).
//! Above patients and visits, beside the lab's results.

#[cfg(feature = "ssr")]
pub mod adt;
mod api;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod store;

pub use api::*;
