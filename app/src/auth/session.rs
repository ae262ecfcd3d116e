//! Sessions in the database: created at sign-in, resolved on every request, locked when
//! idle, ended by signing out, by the person from another browser, or by an administrator.

use super::guard::{Principal, RequestMeta};
use crate::staff::StaffRole;
use crate::store::{Store, StoreError, Tx};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};

/// Fills `bytes` from the operating system's random source.
pub fn random_bytes(bytes: &mut [u8]) {
    #[allow(clippy::expect_used)] // without an OS random source no session can be safe
    getrandom::getrandom(bytes).expect("the operating system's random source is unavailable");
}

/// A new session token: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    crate::store::trail::sha256_hex(token.as_bytes())
}

/// Whether a cookie value can be a token at all; anything else is refused unread.
pub fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    SignedOut,
    Revoked,
    SwitchedUser,
    PinFailures,
    Deactivated,
    /// The person turned this screen into a wall board, which has a session of its own.
    BecameWallBoard,
}

impl EndReason {
    fn code(self) -> &'static str {
        match self {
            EndReason::SignedOut => "signed_out",
            EndReason::Revoked => "revoked",
            EndReason::SwitchedUser => "switched_user",
            EndReason::PinFailures => "pin_failures",
            EndReason::Deactivated => "deactivated",
            EndReason::BecameWallBoard => "wall_board",
        }
    }
}

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A person working: their roles, locked when idle, ended after the session lifetime.
    Person,
    /// A wall screen: the board alone, never locked by idleness, ended after the wall
    /// board lifetime.
    WallBoard,
}

impl SessionKind {
    /// How long a session of this kind lasts.
    pub fn lifetime(self, settings: &super::AuthSettings) -> std::time::Duration {
        match self {
            SessionKind::Person => settings.session_lifetime,
            SessionKind::WallBoard => settings.wall_board_lifetime,
        }
    }
}

/// Opens a session for `account_id`; returns the token for the cookie.
pub async fn create(
    tx: &mut Tx,
    account_id: i64,
    meta: &RequestMeta,
    now: DateTime<Utc>,
    kind: SessionKind,
    settings: &super::AuthSettings,
) -> Result<(i64, String), StoreError> {
    let token = new_token();
    let expires_at = now + Duration::from_std(kind.lifetime(settings)).unwrap_or(Duration::hours(12));
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO session (token_hash, account_id, created_at, last_active_at, expires_at, user_agent, address, wall_board) \
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7) RETURNING id",
        token_hash(&token),
        account_id,
        now,
        expires_at,
        &meta.device,
        &meta.address,
        kind == SessionKind::WallBoard
    )?;
    Ok((id, token))
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    account_id: i64,
    staff_member_id: i64,
    username: String,
    given_name: String,
    family_name: String,
    has_pin: bool,
    last_active_at: DateTime<Utc>,
    locked_at: Option<DateTime<Utc>>,
    wall_board: bool,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    #[sqlx(try_from = "String")]
    role: StaffRole,
}

/// The person behind `token`, if it names a live session of an active account, locked
/// or not by the server's idle clock, whatever the browser says (`is_locked`).
pub async fn resolve(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
    idle_lock: std::time::Duration,
) -> Result<Option<Principal>, StoreError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let row = crate::fetch_optional!(
        store.read(),
        SessionRow,
        "SELECT s.id, s.account_id, a.staff_member_id, a.username, m.given_name, m.family_name, \
                (a.pin_hash IS NOT NULL) AS has_pin, s.last_active_at, s.locked_at, s.wall_board \
         FROM session s JOIN account a ON a.id = s.account_id JOIN staff_member m ON m.id = a.staff_member_id \
         WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND m.active = $3",
        token_hash(token),
        now,
        true
    )?;
    let Some(row) = row else { return Ok(None) };
    let mut roles: Vec<StaffRole> = crate::fetch_all!(
        store.read(),
        RoleRow,
        "SELECT role FROM staff_role WHERE staff_member_id = $1",
        row.staff_member_id
    )?
    .into_iter()
    .map(|r| r.role)
    .collect();
    roles.sort();
    let locked = is_locked(row.locked_at, row.last_active_at, row.wall_board, now, idle_lock);
    Ok(Some(Principal {
        session_id: row.id,
        account_id: row.account_id,
        staff_member_id: row.staff_member_id,
        username: row.username,
        display_name: crate::staff::display_name(&row.given_name, &row.family_name),
        roles,
        locked,
        has_pin: row.has_pin,
        last_active_at: row.last_active_at,
        wall_board: row.wall_board,
    }))
}

/// Whether a session is locked: locked by hand, or idle for longer than `idle_lock`,
/// which a wall board never is (nobody touches a screen on a wall).
fn is_locked(
    locked_at: Option<DateTime<Utc>>,
    last_active_at: DateTime<Utc>,
    wall_board: bool,
    now: DateTime<Utc>,
    idle_lock: std::time::Duration,
) -> bool {
    let idle = Duration::from_std(idle_lock).unwrap_or(Duration::minutes(5));
    locked_at.is_some() || (!wall_board && now - last_active_at > idle)
}

/// Records activity so the idle clock restarts: at most every 15 seconds, or every
/// quarter of the idle time when that is shorter.
pub async fn touch(
    store: &Store,
    principal: &Principal,
    now: DateTime<Utc>,
    idle_lock: std::time::Duration,
) -> Result<(), StoreError> {
    let every = Duration::from_std(idle_lock / 4)
        .unwrap_or(Duration::seconds(15))
        .min(Duration::seconds(15));
    if principal.locked || now - principal.last_active_at < every {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    crate::execute!(
        tx.exec(),
        "UPDATE session SET last_active_at = $1 WHERE id = $2 AND locked_at IS NULL",
        now,
        principal.session_id
    )?;
    tx.commit().await
}

pub async fn lock(tx: &mut Tx, session_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE session SET locked_at = COALESCE(locked_at, $1) WHERE id = $2",
        now,
        session_id
    )?;
    Ok(())
}

/// Unlocks a session that is still open; false when it ended meanwhile.
pub async fn unlock(tx: &mut Tx, session_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE session SET locked_at = NULL, pin_failures = 0, last_active_at = $1 WHERE id = $2 AND ended_at IS NULL",
        now,
        session_id
    )?;
    Ok(changed > 0)
}

/// Counts a PIN try on an open session below `limit` tries; returns this try's number,
/// or `None` when the session has ended or used up its tries.
pub async fn count_pin_try(tx: &mut Tx, session_id: i64, limit: i64) -> Result<Option<i64>, StoreError> {
    Ok(crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "UPDATE session SET pin_failures = pin_failures + 1 \
         WHERE id = $1 AND ended_at IS NULL AND pin_failures < $2 RETURNING pin_failures",
        session_id,
        limit
    )?
    .map(|(tries,)| tries))
}

pub async fn end(
    tx: &mut Tx,
    session_id: i64,
    reason: EndReason,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE session SET ended_at = $1, ended_reason = $2 WHERE id = $3 AND ended_at IS NULL",
        now,
        reason.code(),
        session_id
    )?;
    Ok(changed > 0)
}

/// Ends one of `account_id`'s sessions; false when it is not theirs or already ended.
pub async fn end_own(
    tx: &mut Tx,
    account_id: i64,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE session SET ended_at = $1, ended_reason = $2 WHERE id = $3 AND account_id = $4 AND ended_at IS NULL",
        now,
        EndReason::Revoked.code(),
        session_id,
        account_id
    )?;
    Ok(changed > 0)
}

/// Ends every open session of an account; returns how many.
pub async fn end_all(
    tx: &mut Tx,
    account_id: i64,
    reason: EndReason,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE session SET ended_at = $1, ended_reason = $2 WHERE account_id = $3 AND ended_at IS NULL",
        now,
        reason.code(),
        account_id
    )
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    user_agent: String,
    address: String,
    created_at: DateTime<Utc>,
    last_active_at: DateTime<Utc>,
    locked_at: Option<DateTime<Utc>>,
    wall_board: bool,
}

/// An account's open sessions, most recently active first.
pub async fn list_open(
    store: &Store,
    account_id: i64,
    current_session: Option<i64>,
    now: DateTime<Utc>,
    idle_lock: std::time::Duration,
) -> Result<Vec<super::SessionSummary>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        SummaryRow,
        "SELECT id, user_agent, address, created_at, last_active_at, locked_at, wall_board FROM session \
         WHERE account_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY last_active_at DESC, id DESC",
        account_id,
        now
    )?;
    Ok(rows
        .into_iter()
        .map(|r| super::SessionSummary {
            id: r.id,
            device: describe_device(&r.user_agent),
            address: r.address,
            signed_in_at: r.created_at,
            last_active_at: r.last_active_at,
            locked: is_locked(r.locked_at, r.last_active_at, r.wall_board, now, idle_lock),
            wall_board: r.wall_board,
            current: Some(r.id) == current_session,
        })
        .collect())
}

/// "Chrome on Android" rather than a whole User-Agent string.
pub fn describe_device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPad", "iPadOS"),
        ("iPhone", "iOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) if user_agent.is_empty() => "?".to_owned(),
        (None, None) => user_agent.chars().take(40).collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_unique_and_only_their_hash_is_kept() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(plausible_token(&a));
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&a)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn tampered_cookies_are_not_tokens() {
        assert!(!plausible_token(""));
        assert!(!plausible_token("abc"));
        assert!(!plausible_token(&"a".repeat(44)));
        assert!(!plausible_token(&format!("{}'", "a".repeat(42))));
    }

    #[test]
    fn devices_are_named_plainly() {
        let tablet = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        assert_eq!(describe_device(tablet), "Chrome · Android");
        assert_eq!(describe_device(""), "?");
        assert_eq!(describe_device("curl/8.0"), "curl/8.0");
    }
}
