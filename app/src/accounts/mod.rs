//! Staff accounts as administrators run them: who may sign in, with which roles, and the
//! certifications (with expiry dates) that later decide who may perform what.

mod api;
mod types;
mod view;

#[cfg(feature = "ssr")]
pub mod store;

pub use api::*;
pub use types::*;
pub use view::*;
