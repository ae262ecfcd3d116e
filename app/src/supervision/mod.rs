//! Supervision: the supervisors' view of the people at work (presence, load, the
//! procedures they are on) and of what awaits them. Above staff and procedures, which it
//! puts together; the board shows the same people.

mod api;
mod view;

pub use api::*;
pub use view::*;
