//! Plateau's shared code: domain types used by both the server and the WebAssembly
//! client, the server functions between them, and the views. One module per area of the
//! clinic; each holds its types, its server functions, its SQL (`store`, server only) and
//! its views.
// No unsafe code in what handles patient data (the workspace only denies it, for the one
// audited call in the server binary).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod admissions;
pub mod audit;
pub mod auth;
pub mod board;
pub mod care;
pub mod clinic;
pub mod codes;
pub mod equipment;
pub mod error;
pub mod facility;
pub mod i18n;
pub mod interfaces;
pub mod lab;
pub mod live;
pub mod patients;
pub mod positioning;
pub mod procedures;
pub mod rooms;
pub mod shell;
pub mod staff;
pub mod supervision;
pub mod time;
pub mod visits;

#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod store;

pub use shell::{shell, App};
