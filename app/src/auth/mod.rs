//! Who is using this browser, and what they may do: accounts, sign-in, sessions, the
//! idle lock of shared tablets, the access policy and emergency (break-glass) access.
//!
//! Sessions live in the database, identified by a random 256-bit token whose SHA-256
//! alone is stored. The router resolves the session of every request once and puts the
//! [`Principal`] in the request; server functions ask [`require`] for it with the
//! capability they need, so every call is checked on the server whatever the page shows.

mod api;
mod policy;
mod types;
mod view;

#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod throttle;

pub use api::*;
pub use policy::*;
pub use types::*;
pub use view::*;

#[cfg(feature = "ssr")]
pub use guard::{
    current_principal, request_meta, require, require_signed_in, require_signed_in_even_locked, settings,
    AuthSettings, Principal, RequestAuth, RequestMeta,
};

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "plateau_session";

/// The cookie that marks a browser on which people signed in before (its token's hash
/// is kept per account): there, a username's pause after failures does not apply.
pub const DEVICE_COOKIE: &str = "plateau_device";
