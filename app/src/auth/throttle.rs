//! Slows, then locks, sign-in for a username after repeated failures (OWASP: well under
//! 100 failed tries an hour). Counted per typed username, whether or not the account
//! exists, so the answers are the same for both.

use crate::store::{Store, StoreError, Tx};

/// Takes and commits one attempt on its own transaction.
pub async fn take_attempt(store: &Store, username: &str, now: DateTime<Utc>) -> Result<Attempt, StoreError> {
    let mut tx = store.begin().await?;
    let attempt = attempt(&mut tx, username, now).await?;
    tx.commit().await?;
    Ok(attempt)
}
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

/// Whether a try may go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead; if it fails, sign-in is closed until this time (if any).
    Allowed { closes_until: Option<DateTime<Utc>> },
    /// Sign-in for this username is closed until then; the password is not checked.
    Closed { until: DateTime<Utc> },
}

/// Counts a try before the password is checked, in one atomic step with the check that
/// sign-in is open, so that tries sent at the same moment cannot slip past the count. A
/// success clears the count ([`succeeded`]); a failure leaves it.
pub async fn attempt(tx: &mut Tx, username: &str, now: DateTime<Utc>) -> Result<Attempt, StoreError> {
    let key = key(username);
    // A streak whose pause is over and that began an hour ago starts again; old entries
    // are forgotten so typed-in nonsense does not pile up.
    crate::execute!(
        tx.exec(),
        "DELETE FROM sign_in_throttle WHERE first_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        now - Duration::hours(1),
        now
    )?;
    let counted = crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "INSERT INTO sign_in_throttle (username, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, NULL) \
         ON CONFLICT (username) DO UPDATE SET failures = sign_in_throttle.failures + 1 \
         WHERE sign_in_throttle.locked_until IS NULL OR sign_in_throttle.locked_until <= $2 \
         RETURNING failures",
        &key,
        now
    )?;
    let Some((failures,)) = counted else {
        let until = crate::fetch_scalar!(
            tx.exec(),
            Option<DateTime<Utc>>,
            "SELECT locked_until FROM sign_in_throttle WHERE username = $1",
            &key
        )?;
        return Ok(Attempt::Closed {
            until: until.unwrap_or(now),
        });
    };
    let closes_until = pause_after(failures).map(|pause| now + pause);
    crate::execute!(
        tx.exec(),
        "UPDATE sign_in_throttle SET locked_until = $1 WHERE username = $2",
        closes_until,
        &key
    )?;
    Ok(Attempt::Allowed { closes_until })
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
