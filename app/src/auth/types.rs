use crate::auth::policy::{session_allows, Capability};
use crate::staff::StaffRole;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The person signed in on this browser, as every screen knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<StaffRole>,
    /// The screen is locked: nothing but the lock screen is shown until they unlock.
    pub locked: bool,
    /// They have a PIN to unlock with; without one, they unlock with their password.
    pub has_pin: bool,
    /// Seconds without a touch or a key before the screen locks itself.
    pub idle_lock_seconds: u32,
    /// This browser is a wall board: the board alone, and it never locks itself.
    pub wall_board: bool,
}

impl CurrentUser {
    /// A placeholder for a screen shown while nobody is signed in.
    pub fn nobody() -> Self {
        CurrentUser {
            username: String::new(),
            display_name: String::new(),
            roles: Vec::new(),
            locked: true,
            has_pin: false,
            idle_lock_seconds: 300,
            wall_board: false,
        }
    }

    pub fn can(&self, capability: Capability) -> bool {
        !self.locked && session_allows(&self.roles, self.wall_board, capability)
    }
}

/// What the browser needs to know about its session, signed in or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    pub user: Option<CurrentUser>,
}

/// One of a person's signed-in browsers, as they see it in their account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: i64,
    pub device: String,
    pub address: String,
    #[serde(with = "crate::time::millis")]
    pub signed_in_at: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub last_active_at: DateTime<Utc>,
    pub locked: bool,
    /// A wall board set up from this account.
    pub wall_board: bool,
    /// The browser this list is shown on.
    pub current: bool,
}
