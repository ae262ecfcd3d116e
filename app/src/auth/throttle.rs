//! Slows, then locks, sign-in for a username after repeated failures (OWASP: well under
//! 100 failed tries an hour). Counted per typed username, whether or not the account
//! exists, so the answers are the same for both.

use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Duration, Utc};

/// Failures allowed before the first pause.
pub const FREE_FAILURES: i64 = 5;

/// How long sign-in stays closed after the `failures`-th failure in a row: nothing for
/// the first few typos, then one minute, five, fifteen, an hour. At most about twenty
/// failed tries fit in an hour.
pub fn pause_after(failures: i64) -> Option<Duration> {
    match failures {
        f if f < FREE_FAILURES => None,
        5..=9 => Some(Duration::minutes(1)),
        10..=14 => Some(Duration::minutes(5)),
        15..=19 => Some(Duration::minutes(15)),
        _ => Some(Duration::hours(1)),
    }
}

/// The key failures are counted under.
pub fn key(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

#[derive(sqlx::FromRow)]
struct ThrottleRow {
    failures: i64,
    first_failure_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// When sign-in for `username` opens again, if it is closed now.
pub async fn closed_until(
    store: &Store,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row = crate::fetch_optional!(
        store.read(),
        ThrottleRow,
        "SELECT failures, first_failure_at, locked_until FROM sign_in_throttle WHERE username = $1",
        key(username)
    )?;
    Ok(row.and_then(|r| r.locked_until).filter(|until| *until > now))
}

/// Counts a failure; returns when sign-in opens again if it is now closed.
pub async fn failed(
    tx: &mut Tx,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let key = key(username);
    // Old, finished entries are forgotten so typed-in nonsense does not pile up.
    crate::execute!(
        tx.exec(),
        "DELETE FROM sign_in_throttle WHERE first_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        now - Duration::days(1),
        now
    )?;
    let row = crate::fetch_optional!(
        tx.exec(),
        ThrottleRow,
        "SELECT failures, first_failure_at, locked_until FROM sign_in_throttle WHERE username = $1",
        &key
    )?;
    // A streak an hour old with no lock running starts over.
    let (failures, first) = match row {
        Some(r)
            if now - r.first_failure_at < Duration::hours(1) || r.locked_until.is_some_and(|u| u > now) =>
        {
            (r.failures + 1, r.first_failure_at)
        }
        _ => (1, now),
    };
    let locked_until = pause_after(failures).map(|pause| now + pause);
    crate::execute!(
        tx.exec(),
        "INSERT INTO sign_in_throttle (username, failures, first_failure_at, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (username) DO UPDATE SET failures = $2, first_failure_at = $3, locked_until = $4",
        &key,
        failures,
        first,
        locked_until
    )?;
    Ok(locked_until)
}

/// A successful sign-in clears the count.
pub async fn succeeded(tx: &mut Tx, username: &str) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "DELETE FROM sign_in_throttle WHERE username = $1",
        key(username)
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_typos_are_free_then_pauses_grow() {
        for f in 1..FREE_FAILURES {
            assert_eq!(pause_after(f), None);
        }
        assert_eq!(pause_after(5), Some(Duration::minutes(1)));
        assert_eq!(pause_after(10), Some(Duration::minutes(5)));
        assert_eq!(pause_after(15), Some(Duration::minutes(15)));
        assert_eq!(pause_after(40), Some(Duration::hours(1)));
    }

    #[test]
    fn an_hour_holds_far_fewer_than_a_hundred_tries() {
        // An attacker retrying the moment each pause ends.
        let mut elapsed = Duration::zero();
        let mut tries = 0;
        while elapsed < Duration::hours(1) {
            tries += 1;
            elapsed += pause_after(tries).unwrap_or(Duration::zero()) + Duration::seconds(1);
        }
        assert!(tries < 100, "{tries} tries in an hour");
        assert!(tries <= 20, "{tries} tries in an hour");
    }

    #[test]
    fn usernames_are_counted_case_blind_and_bounded() {
        assert_eq!(key("  Lea.Martin "), "lea.martin");
        assert_eq!(key(&"x".repeat(500)).len(), 64);
    }
}
