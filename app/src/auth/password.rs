//! Password and PIN hashing: argon2id with OWASP's recommended minimum (19 MiB of
//! memory, 2 passes, 1 lane), PHC strings in the database so the settings can be raised
//! later without breaking existing hashes. Hashing runs on the blocking pool: it takes
//! tens of milliseconds on purpose.
//!
//! Every hash (sign-in, PIN unlock, password and PIN changes, new accounts) takes one of
//! a few slots, one per core: each holds 19 MiB while it runs, so a flood of anonymous
//! sign-ins queues here instead of taking the server's memory (100 at once took it from
//! 248 MiB to 1.9 GB). A request that finds the queue full, or waits in it longer than
//! [`QUEUE_WAIT`], is answered "busy, retry" (503 with `Retry-After`) without hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Shortest and longest password accepted (NIST SP 800-63B: at least 8; long passphrases welcome).
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
/// PINs unlock a locked screen of one's own session only, and five wrong tries end it.
pub const PIN_MIN: usize = 4;
pub const PIN_MAX: usize = 8;

fn hasher() -> Argon2<'static> {
    #[allow(clippy::unwrap_used)] // constant, valid parameters
    let params = Params::new(19 * 1024, 2, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn salt() -> SaltString {
    let mut bytes = [0u8; 16];
    crate::auth::session::random_bytes(&mut bytes);
    #[allow(clippy::unwrap_used)] // 16 bytes is always a valid salt
    SaltString::encode_b64(&bytes).unwrap()
}

/// The longest a hash waits for a slot before the request is answered busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Requests that may wait for a slot, per slot; beyond, they are answered busy at once.
const WAITING_PER_SLOT: usize = 16;

/// Why a secret could not be hashed or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    /// Every slot is taken and the queue is full or too slow: retry in a moment.
    Busy,
    Failed(String),
}

impl From<HashError> for crate::error::AppError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => crate::error::AppError::busy(),
            HashError::Failed(detail) => {
                tracing::error!(%detail, "password hashing failed");
                let error = crate::error::AppError::Internal;
                crate::error::set_response_status(&error);
                error
            }
        }
    }
}

impl From<HashError> for crate::store::StoreError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => crate::store::StoreError::Unavailable("password hashing is busy".into()),
            HashError::Failed(detail) => crate::store::StoreError::Database(detail),
        }
    }
}

struct Slots {
    free: Semaphore,
    count: usize,
    waiting: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicU64,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let count = std::thread::available_parallelism().map_or(2, |n| n.get());
        Slots {
            free: Semaphore::new(count),
            count,
            waiting: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            done: AtomicU64::new(0),
        }
    })
}

/// How many hashes may run at once: the number of cores.
pub fn slot_count() -> usize {
    slots().count
}

/// The most hashes that ever ran at once in this process.
pub fn peak_in_flight() -> usize {
    slots().peak.load(Ordering::Relaxed)
}

/// Hashes finished since start-up: the server returns their freed memory to the system
/// once they stop coming (`server/src/memory.rs`).
pub fn hashes_done() -> u64 {
    slots().done.load(Ordering::Relaxed)
}

/// A computation for one of the hashing threads.
type Job = Box<dyn FnOnce() + Send>;

/// The threads that compute hashes, one per slot, alive as long as the process. Each
/// hash takes 19 MiB; on threads of the blocking pool, which come and go, every new
/// thread's allocator kept its own copy of that memory (a 300-request burst peaked at
/// 300 to 491 MiB with two slots). A few threads that live on keep a few copies at most.
fn hashing_threads() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<Job>> {
    static THREADS: OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> = OnceLock::new();
    THREADS.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..slots().count {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("plateau-hash-{n}"))
                .spawn(move || loop {
                    let job = receiver
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        std::sync::Mutex::new(sender)
    })
}

/// Runs `work` (one argon2 computation) in a slot, on a hashing thread. The slot is held
/// until the work ends, even if the request that asked is gone meanwhile.
async fn in_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
    let slots = slots();
    if slots.waiting.fetch_add(1, Ordering::AcqRel) >= slots.count * WAITING_PER_SLOT {
        slots.waiting.fetch_sub(1, Ordering::AcqRel);
        return Err(HashError::Busy);
    }
    let permit = tokio::time::timeout(QUEUE_WAIT, slots.free.acquire()).await;
    slots.waiting.fetch_sub(1, Ordering::AcqRel);
    let Ok(Ok(permit)) = permit else {
        tracing::warn!("every password hashing slot is busy: answered busy");
        return Err(HashError::Busy);
    };
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let running = slots.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        slots.peak.fetch_max(running, Ordering::AcqRel);
        let outcome = work();
        slots.in_flight.fetch_sub(1, Ordering::AcqRel);
        slots.done.fetch_add(1, Ordering::Relaxed);
        drop(permit);
        let _ = answer.send(outcome);
    });
    hashing_threads()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .map_err(|_| HashError::Failed("the password hashing threads have stopped".to_owned()))?;
    answered
        .await
        .map_err(|_| HashError::Failed("a password hashing thread stopped mid-hash".to_owned()))
}

/// The PHC string of `secret`.
pub async fn hash(secret: String) -> Result<String, HashError> {
    in_slot(move || {
        hasher()
            .hash_password(secret.as_bytes(), &salt())
            .map(|h| h.to_string())
            .map_err(|e| HashError::Failed(format!("password hashing failed: {e}")))
    })
    .await?
}

/// Whether `secret` matches `phc`. With `None` (no such account) a dummy hash is checked
/// instead, so that an unknown username takes as long as a wrong password.
pub async fn verify(secret: String, phc: Option<String>) -> Result<bool, HashError> {
    let known = phc.is_some();
    let matched = in_slot(move || {
        let phc = phc.unwrap_or_else(|| dummy_hash().to_owned());
        match PasswordHash::new(&phc) {
            Ok(parsed) => hasher().verify_password(secret.as_bytes(), &parsed).is_ok(),
            Err(error) => {
                tracing::error!(%error, "stored password hash cannot be read");
                false
            }
        }
    })
    .await?;
    Ok(known && matched)
}

/// Computes the stand-in hash for unknown usernames now, at start-up, so that the first
/// such sign-in takes no longer than any other.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(dummy_hash).await;
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hasher()
            .hash_password(b"no such account", &salt())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Why a new password or PIN is refused, as a field problem.
pub fn password_problem(password: &str) -> Option<crate::error::Problem> {
    use crate::error::Problem;
    let length = password.chars().count();
    if password.trim().is_empty() {
        Some(Problem::Required)
    } else if length < PASSWORD_MIN {
        Some(Problem::TooShort)
    } else if length > PASSWORD_MAX {
        Some(Problem::TooLong)
    } else {
        None
    }
}

pub fn pin_problem(pin: &str) -> Option<crate::error::Problem> {
    use crate::error::Problem;
    if pin.is_empty() {
        Some(Problem::Required)
    } else if !pin.chars().all(|c| c.is_ascii_digit()) {
        Some(Problem::Malformed)
    } else if pin.len() < PIN_MIN {
        Some(Problem::TooShort)
    } else if pin.len() > PIN_MAX {
        Some(Problem::TooLong)
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::Problem;

    #[tokio::test]
    async fn hashes_are_argon2id_at_owasp_settings_and_verify() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(phc.clone()))
            .await
            .unwrap());
        // Same secret, new salt: a different hash.
        assert_ne!(hash("correct horse battery".into()).await.unwrap(), phc);
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify("no such account".into(), None).await.unwrap());
        assert!(!verify("anything".into(), Some("not a phc string".into()))
            .await
            .unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hashes_never_run_more_than_one_per_core_and_the_rest_are_told_busy() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        // More than the slots and their queue can hold, all at once.
        let tries: Vec<_> = (0..slot_count() * (WAITING_PER_SLOT + 1) + 50)
            .map(|_| tokio::spawn(verify("a wrong one".into(), Some(phc.clone()))))
            .collect();
        let mut busy = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(HashError::Busy) => busy += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        assert!(peak_in_flight() <= slot_count(), "{} at once", peak_in_flight());
        assert!(busy > 0, "the queue overflowed: some were told busy");
    }

    #[test]
    fn password_and_pin_rules() {
        assert_eq!(password_problem(""), Some(Problem::Required));
        assert_eq!(password_problem("short"), Some(Problem::TooShort));
        assert_eq!(password_problem(&"x".repeat(129)), Some(Problem::TooLong));
        assert_eq!(password_problem("long enough pass"), None);
        assert_eq!(pin_problem("12a4"), Some(Problem::Malformed));
        assert_eq!(pin_problem("123"), Some(Problem::TooShort));
        assert_eq!(pin_problem("123456789"), Some(Problem::TooLong));
        assert_eq!(pin_problem("2468"), None);
    }
}
