//! `plateau backup` and `plateau restore` for the embedded SQLite database.
//!
//! A backup is a consistent copy taken while the server serves (SQLite's `VACUUM INTO`
//! reads one snapshot): every write acknowledged before it began is in it. It is
//! written beside its name and renamed only once checked (SQLite's integrity check and
//! the audit trail's chain), so a file of that name is always a whole backup. PostgreSQL
//! is backed up with its own tools (`pg_dump`, README).
//!
//! A restore replaces the database file only when no server is using it (the server
//! holds a lock on `plateau.db.serving`), keeps the replaced file beside it, and removes
//! the old write-ahead log, which belongs to the replaced file and must not be replayed
//! onto the restored one.

use crate::config::StartupError;
use plateau_app::store::trail::{self, Verdict};
use plateau_app::store::{sqlite_file, Store};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What a checked database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub audit_rows: i64,
    /// The audit chain's head (`ID:SEAL`), to keep and give later to `audit verify`.
    pub head: Option<String>,
}

fn failed(reason: impl std::fmt::Display) -> StartupError {
    StartupError::Backup(reason.to_string())
}

/// The lock a serving server holds on its SQLite database; `None` when another process
/// holds it.
pub fn lock_serving(database: &Path) -> Result<Option<File>, StartupError> {
    let path = with_suffix(database, ".serving");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(format!("cannot lock {}: {e}", path.display()))),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Opens a database file read and write without migrating it, and checks it: SQLite's
/// integrity check, a Plateau schema, an unbroken audit chain.
async fn check_file(path: &Path) -> Result<Checked, StartupError> {
    let store = Store::connect(&crate::config::sqlite_url(path))
        .await
        .map_err(|e| {
            failed(format!(
                "{} is not a SQLite database Plateau can open: {e}",
                path.display()
            ))
        })?;
    let checked = check_store(&store, path).await;
    store.close().await;
    checked
}

async fn check_store(store: &Store, path: &Path) -> Result<Checked, StartupError> {
    let shown = path.display();
    let integrity = store
        .integrity_check()
        .await
        .map_err(|e| failed(format!("{shown} is not a SQLite database: {e}")))?;
    if integrity != "ok" {
        return Err(failed(format!("{shown} is damaged: {integrity}")));
    }
    let audit_rows = plateau_app::fetch_scalar!(store.read(), i64, "SELECT COUNT(*) FROM audit_event")
        .map_err(|_| failed(format!("{shown} is not a Plateau database")))?;
    match trail::verify(store)
        .await
        .map_err(|e| failed(format!("{shown}: {e}")))?
    {
        Verdict::Intact { head, .. } => Ok(Checked {
            audit_rows,
            head: head.map(|(id, seal)| format!("{id}:{seal}")),
        }),
        Verdict::Broken { row_id, .. } => Err(failed(format!(
            "{shown}: its audit trail is broken at row {row_id} (plateau audit verify says more)"
        ))),
    }
}

/// Writes a checked, consistent copy of the serving database to `to`, a new file.
pub async fn backup(store: &Store, to: &Path) -> Result<Checked, StartupError> {
    if to.exists() {
        return Err(failed(format!(
            "{} already exists: give a new file",
            to.display()
        )));
    }
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    if let Err(error) = store.backup_sqlite_into(&partial).await {
        let _ = std::fs::remove_file(&partial);
        return Err(failed(error));
    }
    let checked = match check_file(&partial).await {
        Ok(checked) => checked,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    durable_rename(&partial, to)?;
    Ok(checked)
}

/// Replaces the database of `database_url` by the backup `from`; the database it
/// replaces is kept beside it, named in the answer.
pub async fn restore(
    from: &Path,
    database_url: &str,
    replace: bool,
) -> Result<(Checked, Option<PathBuf>), StartupError> {
    let target = sqlite_file(database_url).ok_or_else(|| {
        failed("plateau restore is for the SQLite database; restore PostgreSQL with pg_restore")
    })?;
    if !from.is_file() {
        return Err(failed(format!("{} is not a file", from.display())));
    }
    if target.exists() && !replace {
        return Err(failed(format!(
            "{} exists: give --replace to replace it (it is kept beside, renamed)",
            target.display()
        )));
    }
    let Some(_serving) = lock_serving(&target)? else {
        return Err(failed("a server is running on this database: stop it first"));
    };
    // Check a private copy, so that the file restored is the file checked.
    let incoming = with_suffix(&target, ".restoring");
    for stale in [
        &incoming,
        &with_suffix(&incoming, "-wal"),
        &with_suffix(&incoming, "-shm"),
    ] {
        let _ = std::fs::remove_file(stale);
    }
    std::fs::copy(from, &incoming).map_err(|e| failed(format!("cannot copy {}: {e}", from.display())))?;
    let checked = match check_file(&incoming).await {
        Ok(checked) => checked,
        Err(error) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(error);
        }
    };
    let kept = if target.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = with_suffix(&target, &format!(".before-restore-{stamp}"));
        std::fs::rename(&target, &kept)
            .map_err(|e| failed(format!("cannot move {} aside: {e}", target.display())))?;
        // The log and index of the replaced file go with it.
        for part in ["-wal", "-shm"] {
            let old = with_suffix(&target, part);
            if old.exists() {
                std::fs::rename(&old, with_suffix(&kept, part))
                    .map_err(|e| failed(format!("cannot move {} aside: {e}", old.display())))?;
            }
        }
        Some(kept)
    } else {
        None
    };
    durable_rename(&incoming, &target)?;
    Ok((checked, kept))
}

/// Renames `from` to `to` once both the file and, after the rename, its directory are on
/// disk.
fn durable_rename(from: &Path, to: &Path) -> Result<(), StartupError> {
    File::open(from)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(format!("cannot write {}: {e}", from.display())))?;
    std::fs::rename(from, to).map_err(|e| failed(format!("cannot name {}: {e}", to.display())))?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}
