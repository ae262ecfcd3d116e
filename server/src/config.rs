//! Turns command-line options into what the server needs, with one-line errors.

use crate::cli::DatabaseArgs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why Plateau could not start, in one line a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr:?}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("data directory {path} is not usable: {reason}")]
    DataDir { path: String, reason: String },
    #[error("no data directory: set PLATEAU_DATA_DIR or --data-dir (HOME is not set)")]
    NoDataDir,
    #[error("cannot open database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error("cannot prepare database {url}: {reason}")]
    Migrate { url: String, reason: String },
    #[error("cannot load the demo clinic: {0}")]
    Seed(String),
    #[error("cannot read the event log to start the live link: {0}")]
    Live(String),
    #[error("server stopped with an error: {0}")]
    Serve(String),
    #[error("--idle-lock {0:?} is not a duration: give seconds, minutes or hours, e.g. 90s, 5m, 1h (between 10s and 12h)")]
    IdleLock(String),
    #[error("--trusted-proxy {0:?} is not an IP address (e.g. 127.0.0.1 or ::1)")]
    TrustedProxy(String),
    #[error("cannot create the account: {0}")]
    User(String),
    #[error("cannot set up the reference lab: {0}")]
    ReferenceLab(String),
    #[error("nothing imported: {0}")]
    Import(String),
    #[error("{0}")]
    Backup(String),
    #[error("another server is using this database ({0}): stop it first")]
    InUse(String),
    #[error("the audit trail is broken: {0}")]
    AuditBroken(String),
    #[error("cannot check the audit trail: {0}")]
    Audit(String),
}

/// "90s", "5m", "1h" (a bare number is minutes), between 10 seconds and 12 hours.
pub fn parse_idle_lock(text: &str) -> Result<std::time::Duration, StartupError> {
    let trimmed = text.trim();
    let (number, unit) = match trimmed.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => trimmed.split_at(i),
        None => (trimmed, "m"),
    };
    let seconds = match (number.parse::<u64>(), unit.trim()) {
        (Ok(n), "s") => Some(n),
        (Ok(n), "m") => n.checked_mul(60),
        (Ok(n), "h") => n.checked_mul(3600),
        _ => None,
    };
    seconds
        .filter(|s| (10..=12 * 3600).contains(s))
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| StartupError::IdleLock(text.to_owned()))
}

/// The proxies given with `--trusted-proxy`, as IP addresses.
pub fn parse_trusted_proxies(addresses: &[String]) -> Result<Vec<std::net::IpAddr>, StartupError> {
    addresses
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<std::net::IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|_| StartupError::TrustedProxy(a.to_owned()))
        })
        .collect()
}

pub fn parse_listen(addr: &str) -> Result<SocketAddr, StartupError> {
    addr.trim()
        .parse()
        .map_err(|e: std::net::AddrParseError| StartupError::Listen {
            addr: addr.to_owned(),
            reason: format!("{e} (expected IP:PORT, e.g. 127.0.0.1:3000)"),
        })
}

/// The database URL to use: the one given, else a SQLite file in the data directory,
/// which is created if missing and must be writable.
pub fn database_url(args: &DatabaseArgs) -> Result<String, StartupError> {
    if let Some(url) = args.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Ok(url.trim().to_owned());
    }
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir()?,
    };
    prepare_data_dir(&dir)?;
    Ok(sqlite_url(&dir.join("plateau.db")))
}

/// `sqlite://PATH`, with the characters a URL gives a meaning to escaped.
pub fn sqlite_url(path: &Path) -> String {
    let path = path.display().to_string();
    let escaped = path.replace('%', "%25").replace('?', "%3F").replace('#', "%23");
    format!("sqlite://{escaped}")
}

fn default_data_dir() -> Result<PathBuf, StartupError> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("plateau"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or(StartupError::NoDataDir)?;
    Ok(PathBuf::from(home).join(".local/share/plateau"))
}

fn prepare_data_dir(dir: &Path) -> Result<(), StartupError> {
    let fail = |reason: String| StartupError::DataDir {
        path: dir.display().to_string(),
        reason,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(fail("it is not a directory".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    // Prove we can write there now, rather than fail on the first patient saved.
    let probe = dir.join(".plateau-write-check");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("not writable: {e}")))?;
    std::fs::remove_file(&probe).map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// A PostgreSQL URL, `postgres://u@h:5432/postgres?x=y` with the database
/// name replaced (tests and benchmarks make a database of their own).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{name}?{query}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_lock_durations() {
        assert_eq!(
            parse_idle_lock("5m").ok(),
            Some(std::time::Duration::from_secs(300))
        );
        assert_eq!(
            parse_idle_lock("90s").ok(),
            Some(std::time::Duration::from_secs(90))
        );
        assert_eq!(
            parse_idle_lock("1h").ok(),
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(
            parse_idle_lock("15").ok(),
            Some(std::time::Duration::from_secs(900))
        );
        for bad in ["", "m", "5x", "-5m", "1s", "13h", "99999999999999999999h"] {
            assert!(parse_idle_lock(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let parsed = parse_trusted_proxies(&["10.0.0.1".into(), " ::ffff:10.0.0.2 ".into(), "".into()]);
        let expected: Vec<std::net::IpAddr> = ["10.0.0.1", "10.0.0.2"]
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect();
        assert_eq!(parsed.ok(), Some(expected));
        let error = parse_trusted_proxies(&["proxy.local".into()])
            .err()
            .map(|e| e.to_string());
        assert!(error
            .unwrap_or_default()
            .contains("\"proxy.local\" is not an IP address"));
    }

    #[test]
    fn a_bad_address_is_one_clear_line() {
        let error = parse_listen("localhost:http")
            .map(|_| ())
            .err()
            .map(|e| e.to_string());
        let error = error.unwrap_or_default();
        assert!(
            error.starts_with("cannot listen on \"localhost:http\""),
            "{error}"
        );
        assert!(!error.contains('\n'));
        assert!(parse_listen("127.0.0.1:0").is_ok());
    }

    #[test]
    fn odd_characters_in_the_path_are_escaped() {
        assert_eq!(
            sqlite_url(Path::new("/srv/a?b#c%d/plateau.db")),
            "sqlite:///srv/a%3Fb%23c%25d/plateau.db"
        );
    }

    #[test]
    fn an_explicit_url_wins() {
        let args = DatabaseArgs {
            database_url: Some("postgres://postgres@127.0.0.1/x".into()),
            owner_url: None,
            data_dir: Some("/nonexistent/never".into()),
        };
        assert_eq!(
            database_url(&args).ok().as_deref(),
            Some("postgres://postgres@127.0.0.1/x")
        );
    }

    #[test]
    fn the_data_dir_is_created_or_reported() {
        let base = std::env::temp_dir().join(format!("plateau-datadir-{}", std::process::id()));
        let args = DatabaseArgs {
            database_url: None,
            owner_url: None,
            data_dir: Some(base.join("nested")),
        };
        let url = database_url(&args).unwrap_or_default();
        assert!(url.ends_with("nested/plateau.db"), "{url}");
        assert!(base.join("nested").is_dir());

        let file = base.join("a-file");
        std::fs::write(&file, b"x").unwrap_or_default();
        let args = DatabaseArgs {
            database_url: None,
            owner_url: None,
            data_dir: Some(file),
        };
        let error = database_url(&args)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("not a directory"), "{error}");
        let _ = std::fs::remove_dir_all(base);
    }

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://p@h/db?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://p@h", "x"), "postgres://p@h/x");
    }
}
