//! Server functions of signing in and out, the lock screen and one's own sessions.

use super::{SessionState, SessionSummary};
use crate::error::AppError;
use leptos::prelude::*;

/// Who is signed in here, and whether the screen is locked. Never fails for nobody.
#[server(prefix = "/api", endpoint = "session", client = crate::shell::SubmissionClient)]
pub async fn load_session() -> Result<SessionState, AppError> {
    Ok(SessionState {
        user: super::guard::current_principal().map(|p| current_user(&p)),
    })
}

/// The browser's report that someone touched the screen or typed since its last report:
/// with a page load and a form posted without JavaScript, the only requests that restart
/// the server's idle clock (the router layer records it). Answers like `load_session`,
/// so the browser learns meanwhile whether the session was locked or ended elsewhere.
#[server(prefix = "/api", endpoint = "activity", client = crate::shell::SubmissionClient)]
pub async fn report_activity() -> Result<SessionState, AppError> {
    load_session().await
}

/// The person signed in on the current request, as the browser is told.
#[cfg(feature = "ssr")]
pub fn signed_in_user() -> Option<super::CurrentUser> {
    super::guard::current_principal().map(|p| current_user(&p))
}

#[cfg(feature = "ssr")]
fn current_user(principal: &super::Principal) -> super::CurrentUser {
    super::CurrentUser {
        username: principal.username.clone(),
        display_name: principal.display_name.clone(),
        roles: principal.roles.clone(),
        locked: principal.locked,
        has_pin: principal.has_pin,
        idle_lock_seconds: u32::try_from(super::guard::settings().idle_lock.as_secs()).unwrap_or(u32::MAX),
        wall_board: principal.wall_board,
    }
}

/// Signs in and answers where to go next. The same refusal, in about the same time, for
/// an unknown username and a wrong password; repeated failures close sign-in for that
/// username, that address or everyone for a while, except on a browser this account
/// signed in from before (its device cookie), where only that browser's failures count.
/// Signing in on a browser that had someone else's (locked) session ends that session:
/// this is how a colleague takes over a shared tablet.
#[server(prefix = "/api", endpoint = "sign_in", client = crate::shell::SubmissionClient)]
pub async fn sign_in(
    username: String,
    password: String,
    next: Option<String>,
    #[server(default)] new_password: String,
) -> Result<String, AppError> {
    use super::{password, session, throttle};
    use crate::audit::{self, Entry, Outcome};
    use crate::error::{validate::Checks, Problem};
    use chrono::Utc;

    let mut checks = Checks::new();
    let username = checks.text("username", &username, 64).to_lowercase();
    if password.is_empty() {
        checks.fail("password", Problem::Required);
    } else if password.chars().count() > password::PASSWORD_MAX {
        checks.fail("password", Problem::TooLong);
    }
    if new_password.chars().count() > password::PASSWORD_MAX {
        checks.fail("new_password", Problem::TooLong);
    }
    checks.finish()?;

    let store = crate::store::from_context()?;
    let now = Utc::now();
    let meta = super::guard::request_meta();
    let credentials = crate::accounts::store::credentials(&store, &username).await?;
    let usable = credentials.as_ref().filter(|c| c.active);
    let device = request_cookie(super::DEVICE_COOKIE).filter(|t| session::plausible_token(t));
    // The try is counted before the password is checked (and forgotten on success): on
    // a browser trusted for this account against that browser alone, elsewhere against
    // the username, once the address and everyone are found open.
    let trusted = match (&device, usable) {
        (Some(token), Some(account)) => {
            throttle::take_device_attempt(&store, &session::token_hash(token), account.account_id, now)
                .await?
        }
        _ => None,
    };
    let attempt = match trusted {
        Some(attempt) => attempt,
        None => throttle::take_attempt(&store, &username, Some(&meta.address), now).await?,
    };
    let closes_until = match attempt {
        throttle::Attempt::Closed { until } => {
            let entry =
                Entry::anonymous(&username, "sign_in", Outcome::Refused).detail("paused after failures");
            audit::record(&store, entry).await?;
            return Err(too_many_attempts(until, now));
        }
        throttle::Attempt::Allowed { closes_until } => closes_until,
    };
    let typed = password.clone();
    let matched = password::verify(password, usable.map(|c| c.password_hash.clone())).await?;
    let Some(account) = usable.filter(|_| matched) else {
        let mut entry =
            Entry::anonymous(&username, "sign_in", Outcome::Refused).detail("wrong username or password");
        if let Some(c) = &credentials {
            entry = entry.account(c.account_id);
        }
        let mut tx = store.begin().await?;
        let paused = match trusted {
            Some(_) => None,
            None => throttle::failed(&mut tx, &meta.address, now).await?,
        };
        audit::record_in(&mut tx, entry).await?;
        tx.commit().await?;
        let error = match closes_until.max(paused) {
            Some(until) => too_many_attempts(until, now),
            None => AppError::SignInRefused,
        };
        crate::error::set_response_status(&error);
        return Err(error);
    };

    // A password someone else set (an administrator's reset) opens nothing until its
    // owner has chosen a new one: whoever reset it keeps no way in.
    let chosen = if account.must_change_password {
        let problem = if new_password.is_empty() {
            Some(Problem::ChangeRequired)
        } else if new_password == typed {
            Some(Problem::NotAllowed)
        } else {
            password::password_problem(&new_password)
        };
        if let Some(problem) = problem {
            let mut tx = store.begin().await?;
            if trusted.is_none() {
                throttle::succeeded(&mut tx, &username).await?;
            }
            tx.commit().await?;
            let error = AppError::invalid("new_password", problem);
            crate::error::set_response_status(&error);
            return Err(error);
        }
        Some(password::hash(new_password).await?)
    } else {
        None
    };

    let settings = super::guard::settings();
    let device = device.unwrap_or_else(session::new_token);
    let mut tx = store.begin().await?;
    if let Some(hash) = &chosen {
        crate::accounts::store::set_password(
            &mut tx,
            account.account_id,
            hash,
            crate::accounts::store::ChosenBy::Owner,
            now,
        )
        .await?;
        let entry = Entry::anonymous(&username, "account.change_password", Outcome::Allowed)
            .account(account.account_id)
            .record(format!("account/{}", account.account_id))
            .detail("chosen at sign-in after a password set by someone else");
        audit::record_in(&mut tx, entry).await?;
    }
    // A success on a trusted browser says nothing of whoever fails under this username
    // elsewhere: their count stands.
    if trusted.is_none() {
        throttle::succeeded(&mut tx, &username).await?;
    }
    throttle::trust_device(&mut tx, &session::token_hash(&device), account.account_id, now).await?;
    if let Some(previous) = super::guard::current_principal() {
        session::end(
            &mut tx,
            previous.session_id,
            session::EndReason::SwitchedUser,
            now,
        )
        .await?;
    }
    let (session_id, token) = session::create(
        &mut tx,
        account.account_id,
        &meta,
        now,
        session::SessionKind::Person,
        &settings,
    )
    .await?;
    let entry = Entry::anonymous(&username, "sign_in", Outcome::Allowed)
        .account(account.account_id)
        .record(format!("session/{session_id}"))
        .detail(if trusted.is_some() { "trusted device" } else { "" });
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    set_session_cookie(Some((&token, session::SessionKind::Person)), &settings);
    set_cookie(device_cookie(&device, &settings));

    let roles = crate::accounts::store::roles(&store, account.staff_member_id).await?;
    let destination = next
        .filter(|n| safe_next(n))
        .unwrap_or_else(|| super::home_for(&roles).to_owned());
    redirect_plain_form(&destination);
    Ok(destination)
}

#[cfg(feature = "ssr")]
fn too_many_attempts(until: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> AppError {
    let minutes = ((until - now).num_seconds().max(1) + 59) / 60;
    let error = AppError::TooManyAttempts {
        minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
    };
    crate::error::set_response_status(&error);
    error
}

/// Only a path of this site: never `//elsewhere` or `https://elsewhere`.
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 200
        && !next.chars().any(|c| c.is_control())
}

/// The session token a request's cookies carry.
#[cfg(feature = "ssr")]
pub fn session_token(headers: &http::HeaderMap) -> Option<String> {
    cookie_value(headers, super::SESSION_COOKIE)
}

/// The value of the cookie `name` among a request's cookies.
#[cfg(feature = "ssr")]
pub fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The cookie `name` of the request a server function is answering.
#[cfg(feature = "ssr")]
fn request_cookie(name: &str) -> Option<String> {
    use_context::<http::request::Parts>().and_then(|parts| cookie_value(&parts.headers, name))
}

/// `Set-Cookie` for the device cookie: sent only to sign-in, kept as long as the trust.
#[cfg(feature = "ssr")]
pub fn device_cookie(token: &str, settings: &super::AuthSettings) -> String {
    let secure = if settings.behind_tls { "; Secure" } else { "" };
    format!(
        "{}={token}; Path=/api/sign_in; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        super::DEVICE_COOKIE,
        super::throttle::device_trust().num_seconds()
    )
}

/// `Set-Cookie` for the session: the token, kept as long as its kind of session lasts,
/// or its removal with `None`.
#[cfg(feature = "ssr")]
pub fn session_cookie(
    token: Option<(&str, super::session::SessionKind)>,
    settings: &super::AuthSettings,
) -> String {
    let secure = if settings.behind_tls { "; Secure" } else { "" };
    match token {
        Some((token, kind)) => format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            super::SESSION_COOKIE,
            kind.lifetime(settings).as_secs()
        ),
        None => format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
            super::SESSION_COOKIE
        ),
    }
}

#[cfg(feature = "ssr")]
fn set_session_cookie(token: Option<(&str, super::session::SessionKind)>, settings: &super::AuthSettings) {
    set_cookie(session_cookie(token, settings));
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: String) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}

/// A browser posting a plain form (no JavaScript) is sent on to `path`; our own client
/// reads the answer and moves on itself.
#[cfg(feature = "ssr")]
fn redirect_plain_form(path: &str) {
    let wants_json = use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
        .and_then(|accept| accept.to_str().ok().map(|a| a.contains("application/json")))
        .unwrap_or(false);
    if !wants_json {
        leptos_axum::redirect(path);
    }
}

#[server(prefix = "/api", endpoint = "sign_out", client = crate::shell::SubmissionClient)]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    let principal = super::guard::require_signed_in_even_locked()?;
    let store = crate::store::from_context()?;
    let now = chrono::Utc::now();
    let mut tx = store.begin().await?;
    super::session::end(
        &mut tx,
        principal.session_id,
        super::session::EndReason::SignedOut,
        now,
    )
    .await?;
    let entry = Entry::by(&principal, "sign_out", Outcome::Allowed)
        .record(format!("session/{}", principal.session_id));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    set_session_cookie(None, &super::guard::settings());
    redirect_plain_form("/sign-in");
    Ok(())
}

/// Turns this screen into a wall board: the person's own session ends, and the browser
/// gets a wall board's, which shows the board alone with patients shortened, changes
/// nothing and never locks itself. It stays in the person's list of sessions, where they
/// (or an administrator, with all of theirs) can end it; signing out ends it here.
#[server(prefix = "/api", endpoint = "wall_board", client = crate::shell::SubmissionClient)]
pub async fn start_wall_board() -> Result<String, AppError> {
    use super::session::{self, EndReason, SessionKind};
    use crate::audit::{self, Entry, Outcome};
    let principal = super::guard::require(super::Capability::SetUpWallBoard).await?;
    let store = crate::store::from_context()?;
    let settings = super::guard::settings();
    let meta = super::guard::request_meta();
    let now = chrono::Utc::now();
    let mut tx = store.begin().await?;
    session::end(&mut tx, principal.session_id, EndReason::BecameWallBoard, now).await?;
    let (session_id, token) = session::create(
        &mut tx,
        principal.account_id,
        &meta,
        now,
        SessionKind::WallBoard,
        &settings,
    )
    .await?;
    let entry = Entry::by(&principal, "session.wall_board", Outcome::Allowed)
        .record(format!("session/{session_id}"))
        .detail(format!("in place of session/{}", principal.session_id));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    set_session_cookie(Some((&token, SessionKind::WallBoard)), &settings);
    redirect_plain_form("/board");
    Ok("/board".to_owned())
}

/// Locks this browser's screen now (the idle timer, or the person leaving the tablet).
#[server(prefix = "/api", endpoint = "lock", client = crate::shell::SubmissionClient)]
pub async fn lock_screen() -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    let principal = super::guard::require_signed_in_even_locked()?;
    let store = crate::store::from_context()?;
    let mut tx = store.begin().await?;
    super::session::lock(&mut tx, principal.session_id, chrono::Utc::now()).await?;
    let entry = Entry::by(&principal, "screen.lock", Outcome::Allowed)
        .record(format!("session/{}", principal.session_id));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    redirect_plain_form("/");
    Ok(())
}

/// Wrong PINs allowed on one lock before the session ends and a full sign-in is needed.
pub const PIN_TRIES: i64 = 5;

/// Unlocks this browser's screen for the person who locked it, with their PIN (or their
/// password when they have no PIN). Five wrong tries end the session.
#[server(prefix = "/api", endpoint = "unlock", client = crate::shell::SubmissionClient)]
pub async fn unlock(secret: String) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::error::{validate::Checks, Problem};
    let principal = super::guard::require_signed_in_even_locked()?;
    let mut checks = Checks::new();
    if secret.is_empty() {
        checks.fail("secret", Problem::Required);
    } else if secret.chars().count() > super::password::PASSWORD_MAX {
        checks.fail("secret", Problem::TooLong);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let now = chrono::Utc::now();
    let record = format!("session/{}", principal.session_id);
    // The try is counted first, atomically, so that tries sent together cannot exceed
    // the limit; a session past it (or ended meanwhile) is not unlocked at all.
    let mut tx = store.begin().await?;
    let tries = super::session::count_pin_try(&mut tx, principal.session_id, PIN_TRIES).await?;
    if tries.is_none() {
        super::session::end(
            &mut tx,
            principal.session_id,
            super::session::EndReason::PinFailures,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    let Some(tries) = tries else {
        set_session_cookie(None, &super::guard::settings());
        return Err(AppError::unauthenticated());
    };
    let credentials = crate::accounts::store::credentials(&store, &principal.username)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let hash = credentials
        .pin_hash
        .clone()
        .unwrap_or(credentials.password_hash.clone());
    let matched = super::password::verify(secret, Some(hash)).await?;
    let mut tx = store.begin().await?;
    if matched && super::session::unlock(&mut tx, principal.session_id, now).await? {
        audit::record_in(
            &mut tx,
            Entry::by(&principal, "screen.unlock", Outcome::Allowed).record(record),
        )
        .await?;
        tx.commit().await?;
        redirect_plain_form("/");
        return Ok(());
    }
    let entry = Entry::by(&principal, "screen.unlock", Outcome::Refused)
        .record(record)
        .detail(format!("wrong PIN ({tries} of {PIN_TRIES})"));
    audit::record_in(&mut tx, entry).await?;
    let error = if tries >= PIN_TRIES {
        super::session::end(
            &mut tx,
            principal.session_id,
            super::session::EndReason::PinFailures,
            now,
        )
        .await?;
        set_session_cookie(None, &super::guard::settings());
        AppError::Unauthenticated
    } else {
        AppError::Invalid(vec![crate::error::FieldError {
            field: "secret".into(),
            problem: Problem::Incorrect,
        }])
    };
    tx.commit().await?;
    crate::error::set_response_status(&error);
    Err(error)
}

#[server(prefix = "/api", endpoint = "my_sessions", client = crate::shell::SubmissionClient)]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let principal = super::guard::require_signed_in()?;
    let store = crate::store::from_context()?;
    let settings = super::guard::settings();
    Ok(super::session::list_open(
        &store,
        principal.account_id,
        Some(principal.session_id),
        chrono::Utc::now(),
        settings.idle_lock,
    )
    .await?)
}

/// Ends one of one's own sessions (a tablet left signed in elsewhere).
#[server(prefix = "/api", endpoint = "end_my_session", client = crate::shell::SubmissionClient)]
pub async fn end_my_session(session_id: i64) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    let principal = super::guard::require_signed_in()?;
    let store = crate::store::from_context()?;
    let mut tx = store.begin().await?;
    let ended =
        super::session::end_own(&mut tx, principal.account_id, session_id, chrono::Utc::now()).await?;
    if !ended {
        return Err(AppError::not_found());
    }
    audit::record_in(
        &mut tx,
        Entry::by(&principal, "session.end", Outcome::Allowed).record(format!("session/{session_id}")),
    )
    .await?;
    tx.commit().await?;
    if session_id == principal.session_id {
        set_session_cookie(None, &super::guard::settings());
    }
    redirect_plain_form("/account");
    Ok(())
}

/// Sets one's PIN for unlocking shared tablets; the password proves it is them.
#[server(prefix = "/api", endpoint = "set_pin", client = crate::shell::SubmissionClient)]
pub async fn set_pin(password: String, pin: String) -> Result<(), AppError> {
    use crate::error::validate::Checks;
    let principal = super::guard::require_signed_in()?;
    let mut checks = Checks::new();
    if let Some(problem) = super::password::pin_problem(&pin) {
        checks.fail("pin", problem);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    confirm_password(&store, &principal, password).await?;
    let pin_hash = super::password::hash(pin).await?;
    let mut tx = store.begin().await?;
    crate::accounts::store::set_pin(&mut tx, principal.account_id, &pin_hash).await?;
    own_change_done(tx, &principal, "account.set_pin").await
}

/// Changes one's password; every other session of the account ends.
#[server(prefix = "/api", endpoint = "change_password", client = crate::shell::SubmissionClient)]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    use crate::error::validate::Checks;
    let principal = super::guard::require_signed_in()?;
    let mut checks = Checks::new();
    if let Some(problem) = super::password::password_problem(&new_password) {
        checks.fail("new_password", problem);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    confirm_password(&store, &principal, current).await?;
    let hash = super::password::hash(new_password).await?;
    let now = chrono::Utc::now();
    let mut tx = store.begin().await?;
    crate::accounts::store::set_password(
        &mut tx,
        principal.account_id,
        &hash,
        crate::accounts::store::ChosenBy::Owner,
        now,
    )
    .await?;
    crate::execute!(
        tx.exec(),
        "UPDATE session SET ended_at = $1, ended_reason = 'revoked' WHERE account_id = $2 AND id <> $3 AND ended_at IS NULL",
        now,
        principal.account_id,
        principal.session_id
    )?;
    own_change_done(tx, &principal, "account.change_password").await
}

/// Records a change to one's own credentials, commits it, and goes back to the account.
#[cfg(feature = "ssr")]
async fn own_change_done(
    mut tx: crate::store::Tx,
    principal: &super::Principal,
    action: &str,
) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    let entry =
        Entry::by(principal, action, Outcome::Allowed).record(format!("account/{}", principal.account_id));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    redirect_plain_form("/account");
    Ok(())
}

/// Checks the signed-in person's own password before a change to their credentials.
#[cfg(feature = "ssr")]
async fn confirm_password(
    store: &crate::store::Store,
    principal: &super::Principal,
    password: String,
) -> Result<(), AppError> {
    use super::throttle;
    use crate::audit::{self, Entry, Outcome};
    use crate::error::Problem;
    if password.is_empty() || password.chars().count() > super::password::PASSWORD_MAX {
        return Err(AppError::invalid("password", Problem::Incorrect));
    }
    // Counted like a sign-in: someone at an unlocked tablet cannot guess the password.
    let now = chrono::Utc::now();
    if let throttle::Attempt::Closed { until } =
        throttle::take_attempt(store, &principal.username, None, now).await?
    {
        return Err(too_many_attempts(until, now));
    }
    let hash = crate::accounts::store::credentials(store, &principal.username)
        .await?
        .map(|c| c.password_hash);
    if !super::password::verify(password, hash).await? {
        audit::record(
            store,
            Entry::by(principal, "account.confirm_password", Outcome::Refused),
        )
        .await?;
        return Err(AppError::invalid("password", Problem::Incorrect));
    }
    let mut tx = store.begin().await?;
    throttle::succeeded(&mut tx, &principal.username).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert!(safe_next("/rooms/3"));
        assert!(!safe_next("//evil.example/"));
        assert!(!safe_next("/\\evil.example"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("/a\nb"));
        assert!(!safe_next(&format!("/{}", "a".repeat(300))));
    }
}
