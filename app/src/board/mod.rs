//! The board: every room, the waiting queue and the staff, at a glance.

mod api;
mod view;
mod waiting_room;

pub use api::*;
pub use view::*;
pub use waiting_room::*;
