//! A visit from arrival to departure: checked in at the front desk, called into an exam
//! room, ended when the patient goes home, with the discharge hold naming what is
//! still pending. Above patients, rooms, procedures and the lab, which it reads.

mod api;
#[cfg(feature = "ssr")]
pub mod departure;
#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;
pub mod words;

pub use api::*;
pub use types::*;
pub use view::*;
