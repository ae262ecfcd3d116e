//! Staff: who works in the clinic, in what roles, and whether they are at work now.

mod api;
#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;

pub use api::*;
pub use types::*;
pub use view::*;
