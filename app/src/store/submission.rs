//! Submissions that act once: a double tap, or a request a tablet sends again after a
//! Wi-Fi drop, changes nothing twice.
//!
//! The browser sends a random key with each filled-in form (in the
//! [`crate::shell::SUBMISSION_HEADER`] header, or as the `submission` field of a form
//! posted without JavaScript). While the request runs, the
//! key sits in a task-local [`Submission`]; the first write transaction the request opens
//! claims it by inserting its row, so the change and the claim commit together or not at
//! all, and a second request with the same key cannot claim it (the primary key refuses
//! it; on PostgreSQL it waits for the first to commit or roll back). The answer is then
//! kept with the row, and a repeat receives that same answer without acting
//! ([`answer_of`]). A key sent again with another address or body is refused: it never
//! gets another form's answer.

use super::{Store, StoreError, Tx};
use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How long a key is remembered.
pub const KEPT_FOR: Duration = Duration::hours(24);

tokio::task_local! {
    static CURRENT: Arc<Submission>;
}

/// The submission a request carries.
#[derive(Debug)]
pub struct Submission {
    pub account_id: i64,
    pub key: String,
    /// SHA-256 (hex) of the address and body.
    pub request: String,
    claimed: AtomicBool,
    lost: AtomicBool,
}

impl Submission {
    pub fn new(account_id: i64, key: String, request: String) -> Arc<Self> {
        Arc::new(Submission {
            account_id,
            key,
            request,
            claimed: AtomicBool::new(false),
            lost: AtomicBool::new(false),
        })
    }

    /// Whether a committed transaction of this request claimed the key.
    pub fn claimed(&self) -> bool {
        self.claimed.load(Ordering::SeqCst)
    }

    /// Whether another request with the same key claimed it first.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Runs `work` (the request's handler) with this submission in force.
    pub async fn run<F: std::future::Future>(self: &Arc<Self>, work: F) -> F::Output {
        CURRENT.scope(self.clone(), work).await
    }
}

/// The submission of the request this task serves, if it carries one.
pub fn current() -> Option<Arc<Submission>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// A request's submission carried on the request itself, for work the request hands to
/// another task: a server page acts on its form while the page renders, in a task of its
/// own (`shell::after_post`).
#[derive(Debug, Clone)]
pub struct Carried(pub Arc<Submission>);

/// What a submission was sent with: SHA-256 (hex) of its address and body.
pub fn digest(path: &str, body: &[u8]) -> String {
    super::trail::sha256_hex(&[path.as_bytes(), b"\n", body].concat())
}

/// The `submission` field of a form body (`a=1&submission=KEY&b=2`), if it has one.
pub fn key_in_form(body: &[u8]) -> Option<&str> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("submission="))
}

/// A key is 16 to 64 letters, digits, `-` or `_` (a UUID is 36).
pub fn is_well_formed(key: &str) -> bool {
    (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Releases the claim if its transaction rolls back, so that a later transaction of the
/// same request (or a retry) may still claim it.
#[derive(Debug)]
pub(super) struct ClaimHeld {
    submission: Option<Arc<Submission>>,
    committed: bool,
}

impl ClaimHeld {
    pub(super) fn none() -> Self {
        ClaimHeld {
            submission: None,
            committed: false,
        }
    }

    pub(super) fn committed(&mut self) {
        self.committed = true;
    }
}

impl Drop for ClaimHeld {
    fn drop(&mut self) {
        if let (Some(submission), false) = (&self.submission, self.committed) {
            submission.claimed.store(false, Ordering::SeqCst);
        }
    }
}

/// Claims the request's key in `tx`, if it carries one not yet claimed. Called by
/// [`Store::begin`]. A key another request claimed is [`StoreError::AlreadySubmitted`].
pub(super) async fn claim(tx: &mut Tx, now: DateTime<Utc>) -> Result<ClaimHeld, StoreError> {
    let Ok(submission) = CURRENT.try_with(Arc::clone) else {
        return Ok(ClaimHeld::none());
    };
    if submission.claimed.swap(true, Ordering::SeqCst) {
        return Ok(ClaimHeld::none());
    }
    let held = ClaimHeld {
        submission: Some(submission.clone()),
        committed: false,
    };
    crate::execute!(
        tx.exec(),
        "DELETE FROM submission WHERE claimed_at < $1",
        now - KEPT_FOR
    )?;
    let inserted = crate::execute!(
        tx.exec(),
        "INSERT INTO submission (account_id, key, request, claimed_at) VALUES ($1, $2, $3, $4)",
        submission.account_id,
        &submission.key,
        &submission.request,
        now
    );
    match inserted {
        Ok(_) => Ok(held),
        Err(StoreError::Unique { .. }) => {
            submission.lost.store(true, Ordering::SeqCst);
            Err(StoreError::AlreadySubmitted)
        }
        Err(error) => Err(error),
    }
}

/// What a submission's key is known for.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    /// Sent with another address or body.
    OtherRequest,
    /// Claimed, its answer not yet kept (the first request is still running).
    Running,
    /// Claimed and answered: this answer is given again.
    Answered(KeptAnswer),
}

/// An answer kept for a key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptAnswer {
    pub status: u16,
    /// The headers that carry meaning: name and value.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct Row {
    request: String,
    status: Option<i32>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
}

/// What is known of `submission`'s key, if anything.
pub async fn answer_of(store: &Store, submission: &Submission) -> Result<Option<Known>, StoreError> {
    let row = crate::fetch_optional!(
        store.read(),
        Row,
        "SELECT request, status, headers, body FROM submission WHERE account_id = $1 AND key = $2",
        submission.account_id,
        &submission.key
    )?;
    Ok(row.map(|row| {
        if row.request != submission.request {
            return Known::OtherRequest;
        }
        match (row.status.and_then(|s| u16::try_from(s).ok()), row.headers) {
            (Some(status), Some(headers)) => Known::Answered(KeptAnswer {
                status,
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                body: row.body.unwrap_or_default(),
            }),
            _ => Known::Running,
        }
    }))
}

/// Keeps the answer given to `submission`, for its repeats.
pub async fn keep_answer(
    store: &Store,
    submission: &Submission,
    answer: &KeptAnswer,
) -> Result<(), StoreError> {
    let headers = serde_json::to_string(&answer.headers).map_err(|e| StoreError::Database(e.to_string()))?;
    let mut tx = store.begin().await?;
    crate::execute!(
        tx.exec(),
        "UPDATE submission SET status = $1, headers = $2, body = $3 WHERE account_id = $4 AND key = $5",
        i32::from(answer.status),
        headers,
        &answer.body,
        submission.account_id,
        &submission.key
    )?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::{digest, is_well_formed, key_in_form};

    #[test]
    fn a_form_body_names_its_key() {
        assert_eq!(
            key_in_form(b"kind=3&submission=abcdefghijklmnop&x=1"),
            Some("abcdefghijklmnop")
        );
        assert_eq!(key_in_form(b"kind=3"), None);
        assert_eq!(key_in_form(&[0xff, 0xfe]), None);
    }

    #[test]
    fn the_digest_tells_requests_apart() {
        assert_eq!(digest("/api/a", b"x=1"), digest("/api/a", b"x=1"));
        assert_ne!(digest("/api/a", b"x=1"), digest("/api/a", b"x=2"));
        assert_ne!(digest("/api/a", b"x=1"), digest("/api/b", b"x=1"));
        assert_eq!(digest("", b"").len(), 64);
    }

    #[test]
    fn keys_are_random_tokens_of_sensible_length() {
        assert!(is_well_formed("0b6f0c1e-4a4e-4c1a-9d1e-2f5b8f7d9a10"));
        assert!(is_well_formed("abcdefghijklmnop"));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"a".repeat(65)));
        assert!(!is_well_formed("0b6f0c1e 4a4e 4c1a 9d1e 2f5b8f7d9a10"));
        assert!(!is_well_formed("ключ-ключ-ключ-ключ"));
    }
}
