//! The real-time backbone: every change another screen cares about is written, in the
//! same transaction, to an ordered event log (`store`); each server broadcasts what it
//! reads there to its subscribers (`bus`), who follow topics over Server-Sent Events
//! (`stream`); the browser keeps one link per tab, shows its state, and reloads what
//! changed (`client`, `view`).

mod api;
mod client;
mod types;
mod view;

#[cfg(feature = "ssr")]
pub mod bus;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod stream;

pub use api::*;
pub use client::*;
pub use types::*;
pub use view::*;

#[cfg(feature = "ssr")]
pub use bus::{EventBus, LiveSettings};
#[cfg(feature = "ssr")]
pub use store::NewEvent;

/// Where browsers subscribe (Server-Sent Events); a plain axum route, not a server function.
pub const SUBSCRIBE_PATH: &str = "/api/live";

/// The position a page starts its live link from: on the server, the last event it has
/// broadcast, read before any of the page's data; in the browser, what the server wrote.
pub fn page_position() -> i64 {
    #[cfg(feature = "ssr")]
    let position = leptos::prelude::use_context::<EventBus>()
        .map(|bus| bus.head().head)
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let position = 0;
    position
}
