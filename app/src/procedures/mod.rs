//! Procedures: the facility's catalog, orders from the exam room, the back-office queue,
//! rooming, staffing by qualification, and each procedure's life from order to end.

#[cfg(feature = "ssr")]
mod act;
#[cfg(feature = "ssr")]
pub use act::{refused_unknown, require_access, takeable_visits};
mod api;
mod catalog_view;
#[cfg(feature = "ssr")]
pub mod store;
mod types;
mod view;

pub use api::*;
pub use catalog_view::*;
pub use types::*;
pub use view::*;
