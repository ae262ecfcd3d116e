//! The server side of access control: who is calling, from where, and the checks every
//! server function makes before it touches anything.

use super::policy::{session_allows, Capability};
use crate::audit::{self, Outcome};
use crate::error::{set_response_status, AppError};
use crate::staff::StaffRole;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The signed-in person behind a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub session_id: i64,
    pub account_id: i64,
    pub staff_member_id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<StaffRole>,
    pub locked: bool,
    pub has_pin: bool,
    pub last_active_at: DateTime<Utc>,
    /// A wall screen's session: the board alone, shortened, never locked by idleness.
    pub wall_board: bool,
}

impl Principal {
    pub fn can(&self, capability: Capability) -> bool {
        session_allows(&self.roles, self.wall_board, capability)
    }

    /// "nurse,supervisor": the roles as the audit trail records them.
    pub fn role_codes(&self) -> String {
        crate::staff::role_codes(&self.roles)
    }
}

/// Where a request came from, as the audit trail records it.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub address: String,
    pub device: String,
}

/// How sessions behave; set at start-up.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Without a touch or a key for this long, a screen locks (default five minutes).
    pub idle_lock: Duration,
    /// A session ends this long after sign-in, whatever happens (twelve hours).
    pub session_lifetime: Duration,
    /// Cookies carry `Secure` and responses HSTS: the clinic reaches Plateau over TLS.
    pub behind_tls: bool,
    /// The proxies whose `X-Forwarded-For` says who the client is (the TLS proxy); from
    /// anyone else the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long an emergency access to a patient lasts.
    pub break_glass_for: Duration,
    /// A wall board's session ends this long after it was set up (thirty days): it runs
    /// all day every day, and its person or an administrator can end it sooner.
    pub wall_board_lifetime: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            idle_lock: Duration::from_secs(5 * 60),
            session_lifetime: Duration::from_secs(12 * 60 * 60),
            behind_tls: false,
            trusted_proxies: Vec::new(),
            break_glass_for: Duration::from_secs(4 * 60 * 60),
            wall_board_lifetime: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

/// What the router learned about a request before any handler ran.
#[derive(Debug, Clone)]
pub struct RequestAuth {
    pub principal: Option<Principal>,
    pub meta: RequestMeta,
    pub settings: AuthSettings,
}

/// The request's authentication, as the router layer attached it.
pub fn request_auth() -> Result<RequestAuth, AppError> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestAuth>().cloned())
        .ok_or_else(|| {
            tracing::error!("request reached a server function without the authentication layer");
            AppError::Internal
        })
}

/// The signed-in person, locked or not; `None` when nobody is (or outside a request, as
/// when a missing static file's 404 page is rendered).
pub fn current_principal() -> Option<Principal> {
    leptos::prelude::use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<RequestAuth>()
            .and_then(|auth| auth.principal.clone())
    })
}

/// Where the current request came from; empty outside a Leptos request (a plain axum
/// handler passes its own with `Entry::meta`).
pub fn request_meta() -> RequestMeta {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<RequestAuth>()
                .map(|auth| auth.meta.clone())
        })
        .unwrap_or_default()
}

fn refuse(error: AppError) -> AppError {
    set_response_status(&error);
    error
}

/// The caller, who must be signed in; their screen may be locked.
pub fn require_signed_in_even_locked() -> Result<Principal, AppError> {
    current_principal().ok_or_else(|| refuse(AppError::Unauthenticated))
}

/// The caller, who must be signed in on an unlocked screen.
pub fn require_signed_in() -> Result<Principal, AppError> {
    let principal = require_signed_in_even_locked()?;
    if principal.locked {
        return Err(refuse(AppError::Locked));
    }
    Ok(principal)
}

/// The caller, who must be signed in, unlocked and hold `capability`. A refusal of a
/// signed-in person is written to the audit trail.
pub async fn require(capability: Capability) -> Result<Principal, AppError> {
    let principal = require_signed_in()?;
    if principal.can(capability) {
        return Ok(principal);
    }
    if let Ok(store) = crate::store::from_context() {
        let entry =
            audit::Entry::by(&principal, "access", Outcome::Refused).detail(format!("lacks {capability}"));
        if let Err(error) = audit::record(&store, entry).await {
            tracing::error!(%error, "could not audit a refused access");
        }
    }
    Err(refuse(AppError::Forbidden))
}

/// The auth settings of this server.
pub fn settings() -> AuthSettings {
    request_auth().map(|auth| auth.settings).unwrap_or_default()
}
