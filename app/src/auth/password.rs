//! Password and PIN hashing: argon2id with OWASP's recommended minimum (19 MiB of
//! memory, 2 passes, 1 lane), PHC strings in the database so the settings can be raised
//! later without breaking existing hashes. Hashing runs on the blocking pool: it takes
//! tens of milliseconds on purpose.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

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

/// The PHC string of `secret`.
pub async fn hash(secret: String) -> Result<String, crate::store::StoreError> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(secret.as_bytes(), &salt())
            .map(|h| h.to_string())
            .map_err(|e| crate::store::StoreError::Database(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| crate::store::StoreError::Database(format!("password hashing task failed: {e}")))?
}

/// Whether `secret` matches `phc`. With `None` (no such account) a dummy hash is checked
/// instead, so that an unknown username takes as long as a wrong password.
pub async fn verify(secret: String, phc: Option<String>) -> bool {
    let known = phc.is_some();
    let matched = tokio::task::spawn_blocking(move || {
        let phc = phc.unwrap_or_else(|| dummy_hash().to_owned());
        match PasswordHash::new(&phc) {
            Ok(parsed) => hasher().verify_password(secret.as_bytes(), &parsed).is_ok(),
            Err(error) => {
                tracing::error!(%error, "stored password hash cannot be read");
                false
            }
        }
    })
    .await
    .unwrap_or(false);
    known && matched
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
        assert!(verify("correct horse battery".into(), Some(phc.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(phc.clone())).await);
        // Same secret, new salt: a different hash.
        assert_ne!(hash("correct horse battery".into()).await.unwrap(), phc);
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify("no such account".into(), None).await);
        assert!(!verify("anything".into(), Some("not a phc string".into())).await);
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
