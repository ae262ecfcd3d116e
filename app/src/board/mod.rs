//! The board: every room, the waiting queue and the staff, at a glance.

mod api;
mod view;

pub use api::*;
pub use view::*;
