//! Slows, then pauses, sign-in after repeated failures (OWASP: well under 100 failed
//! tries an hour), counted three ways: per typed username, whether or not the account
//! exists, so the answers are the same for both; per address, so that one machine
//! spraying one password over many usernames is stopped; and for everyone, so that many
//! machines at once are too.
//!
//! A username's pause would let anyone lock a clinician out by failing on purpose under
//! her name. So, following OWASP's "device cookies": a browser on which the account signed
//! in successfully carries a random token (only its SHA-256 is stored), and a try from it
//! is counted against that browser's trust alone, never stopped by the username's, the
//! address's or everyone's pause. Five failures in a row pause that trust too, and the
//! browser is then treated like any other.

use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Duration, Utc};

/// What failures are counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The typed username.
    Username,
    /// The client's address.
    Address,
    /// Every try on this server's database, wherever it comes from.
    Everyone,
    /// One trusted browser of one account.
    Device,
}

impl Scope {
    fn code(self) -> &'static str {
        match self {
            Scope::Username => "username",
            Scope::Address => "address",
            Scope::Everyone => "everyone",
            Scope::Device => "device",
        }
    }

    /// Failures allowed before the first pause; each as many again lengthens it.
    pub fn free_failures(self) -> i64 {
        match self {
            Scope::Username | Scope::Device => 5,
            Scope::Address => 10,
            Scope::Everyone => 100,
        }
    }
}

/// How long sign-in stays closed after the `failures`-th failure in a row: nothing for
/// the first few, then one minute, five, fifteen, an hour, one step every
/// [`Scope::free_failures`]. For a username, at most about twenty failed tries fit in an
/// hour.
pub fn pause_after(scope: Scope, failures: i64) -> Option<Duration> {
    match failures / scope.free_failures() {
        0 => None,
        1 => Some(Duration::minutes(1)),
        2 => Some(Duration::minutes(5)),
        3 => Some(Duration::minutes(15)),
        _ => Some(Duration::hours(1)),
    }
}

/// How long a browser stays trusted after its last successful sign-in.
pub fn device_trust() -> Duration {
    Duration::days(90)
}

/// The key a username's failures are counted under.
pub fn key(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

/// Whether a try may go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead; if it fails, sign-in is closed until this time (if any).
    Allowed { closes_until: Option<DateTime<Utc>> },
    /// Sign-in is closed until then; the password is not checked.
    Closed { until: DateTime<Utc> },
}

/// Takes one try of `username` from a browser that is not trusted for it, on its own
/// transaction: closed while `address` (when given) or everyone is paused; otherwise
/// counted against the username before the password is checked, in one atomic step with
/// the check that it is open, so that tries sent at the same moment cannot slip past the
/// count. A success clears the username's count ([`succeeded`]); a failure leaves it and
/// is counted against the address and everyone ([`failed`]).
pub async fn take_attempt(
    store: &Store,
    username: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Attempt, StoreError> {
    let mut tx = store.begin().await?;
    // A streak whose pause is over and that began an hour ago starts again; old entries
    // are forgotten so typed-in nonsense does not pile up.
    crate::execute!(
        tx.exec(),
        "DELETE FROM sign_in_limit WHERE first_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        now - Duration::hours(1),
        now
    )?;
    let wide = [
        address.map(|a| (Scope::Address, address_key(a))),
        Some((Scope::Everyone, String::new())),
    ];
    for (scope, subject) in wide.into_iter().flatten() {
        if let Some(until) = paused_until(&mut tx, scope, &subject, now).await? {
            tx.commit().await?;
            return Ok(Attempt::Closed { until });
        }
    }
    let attempt = count(&mut tx, Scope::Username, &key(username), now).await?;
    tx.commit().await?;
    Ok(attempt)
}

/// Counts a wrong password from an untrusted browser against its address and everyone.
/// They are counted once the password proved wrong, so that the successful sign-ins of a
/// clinic whose tablets share one address never pause it (tries in flight together may
/// pass the limit by the few hashes that run at once). Returns until when this failure
/// paused sign-in, if it did (or another did meanwhile).
pub async fn failed(
    tx: &mut Tx,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut paused = None;
    for (scope, subject) in [
        (Scope::Address, address_key(address)),
        (Scope::Everyone, String::new()),
    ] {
        let until = match count(tx, scope, &subject, now).await? {
            Attempt::Allowed { closes_until } => closes_until,
            // Paused meanwhile by a failure that ran alongside.
            Attempt::Closed { until } => Some(until),
        };
        paused = paused.max(until);
    }
    Ok(paused)
}

/// A successful sign-in (or password confirmation) clears the username's count.
pub async fn succeeded(tx: &mut Tx, username: &str) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "DELETE FROM sign_in_limit WHERE scope = $1 AND subject = $2",
        Scope::Username.code(),
        key(username)
    )?;
    Ok(())
}

/// Takes one try of `account_id` on the browser whose device cookie hashes to
/// `token_hash`, counted against that browser's trust alone: `None` when the browser is
/// not trusted for the account (never was, no longer, or paused), and the ordinary limits
/// of [`take_attempt`] apply.
pub async fn take_device_attempt(
    store: &Store,
    token_hash: &str,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Attempt>, StoreError> {
    let mut tx = store.begin().await?;
    let counted = crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "UPDATE trusted_device SET failures = failures + 1 \
         WHERE token_hash = $1 AND account_id = $2 AND trusted_at > $3 \
           AND (locked_until IS NULL OR locked_until <= $4) \
         RETURNING failures",
        token_hash,
        account_id,
        now - device_trust(),
        now
    )?;
    let Some((failures,)) = counted else {
        return Ok(None);
    };
    let closes_until = pause_after(Scope::Device, failures).map(|pause| now + pause);
    crate::execute!(
        tx.exec(),
        "UPDATE trusted_device SET locked_until = $1 WHERE token_hash = $2 AND account_id = $3",
        closes_until,
        token_hash,
        account_id
    )?;
    tx.commit().await?;
    Ok(Some(Attempt::Allowed { closes_until }))
}

/// After a successful sign-in: this browser is trusted for the account for
/// [`device_trust`] from now, with its failures forgotten.
pub async fn trust_device(
    tx: &mut Tx,
    token_hash: &str,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "DELETE FROM trusted_device WHERE trusted_at < $1",
        now - device_trust()
    )?;
    crate::execute!(
        tx.exec(),
        "INSERT INTO trusted_device (token_hash, account_id, trusted_at, failures, locked_until) \
         VALUES ($1, $2, $3, 0, NULL) \
         ON CONFLICT (token_hash, account_id) DO UPDATE SET trusted_at = $3, failures = 0, locked_until = NULL",
        token_hash,
        account_id,
        now
    )?;
    Ok(())
}

fn address_key(address: &str) -> String {
    address.chars().take(64).collect()
}

async fn paused_until(
    tx: &mut Tx,
    scope: Scope,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        (DateTime<Utc>,),
        "SELECT locked_until FROM sign_in_limit WHERE scope = $1 AND subject = $2 AND locked_until > $3",
        scope.code(),
        subject,
        now
    )
    .map(|row| row.map(|(until,)| until))
}

/// Counts one failure (or one try) under `scope` and `subject` unless sign-in is closed
/// there, in one statement; sets the pause it earns.
async fn count(tx: &mut Tx, scope: Scope, subject: &str, now: DateTime<Utc>) -> Result<Attempt, StoreError> {
    let counted = crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "INSERT INTO sign_in_limit (scope, subject, failures, first_failure_at, locked_until) \
         VALUES ($1, $2, 1, $3, NULL) \
         ON CONFLICT (scope, subject) DO UPDATE SET failures = sign_in_limit.failures + 1 \
         WHERE sign_in_limit.locked_until IS NULL OR sign_in_limit.locked_until <= $3 \
         RETURNING failures",
        scope.code(),
        subject,
        now
    )?;
    let Some((failures,)) = counted else {
        let until = crate::fetch_scalar!(
            tx.exec(),
            Option<DateTime<Utc>>,
            "SELECT locked_until FROM sign_in_limit WHERE scope = $1 AND subject = $2",
            scope.code(),
            subject
        )?;
        return Ok(Attempt::Closed {
            until: until.unwrap_or(now),
        });
    };
    let closes_until = pause_after(scope, failures).map(|pause| now + pause);
    crate::execute!(
        tx.exec(),
        "UPDATE sign_in_limit SET locked_until = $1 WHERE scope = $2 AND subject = $3",
        closes_until,
        scope.code(),
        subject
    )?;
    Ok(Attempt::Allowed { closes_until })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_typos_are_free_then_pauses_grow() {
        for f in 1..Scope::Username.free_failures() {
            assert_eq!(pause_after(Scope::Username, f), None);
        }
        assert_eq!(pause_after(Scope::Username, 5), Some(Duration::minutes(1)));
        assert_eq!(pause_after(Scope::Username, 10), Some(Duration::minutes(5)));
        assert_eq!(pause_after(Scope::Username, 15), Some(Duration::minutes(15)));
        assert_eq!(pause_after(Scope::Username, 40), Some(Duration::hours(1)));
    }

    #[test]
    fn an_address_and_everyone_get_more_room_than_one_username() {
        assert_eq!(pause_after(Scope::Address, 9), None);
        assert_eq!(pause_after(Scope::Address, 10), Some(Duration::minutes(1)));
        assert_eq!(pause_after(Scope::Address, 30), Some(Duration::minutes(15)));
        assert_eq!(pause_after(Scope::Everyone, 99), None);
        assert_eq!(pause_after(Scope::Everyone, 100), Some(Duration::minutes(1)));
        assert_eq!(pause_after(Scope::Device, 5), Some(Duration::minutes(1)));
    }

    #[test]
    fn an_hour_holds_far_fewer_than_a_hundred_tries() {
        // An attacker retrying the moment each pause ends.
        for (scope, most) in [(Scope::Username, 20), (Scope::Device, 20), (Scope::Address, 40)] {
            let mut elapsed = Duration::zero();
            let mut tries = 0;
            while elapsed < Duration::hours(1) {
                tries += 1;
                elapsed += pause_after(scope, tries).unwrap_or(Duration::zero()) + Duration::seconds(1);
            }
            assert!(tries <= most, "{scope:?}: {tries} tries in an hour");
        }
    }

    #[test]
    fn usernames_are_counted_case_blind_and_bounded() {
        assert_eq!(key("  Lea.Martin "), "lea.martin");
        assert_eq!(key(&"x".repeat(500)).len(), 64);
    }
}
