//! The one store API every domain module uses.
//!
//! SQLite is the embedded default; PostgreSQL serves clinics that run several app servers.
//! Domain modules write each statement once, in the SQL both dialects share (`$1`
//! placeholders, `RETURNING`, partial indexes), and run it through the macros below, which
//! pick the backend at run time.
//!
//! SQLite allows one writer at a time. Rather than let concurrent requests race for the
//! write lock (and fail with SQLITE_BUSY), every write goes through a pool of exactly one
//! connection, so writers queue in the pool instead of in SQLite; reads use their own pool
//! and, in WAL mode, never wait for writers. A request that holds that connection and
//! asks for it again would wait for itself until the pool gives up (30 s, every other
//! writer queued behind it): [`Store::begin`] refuses such a nested transaction at once.

mod error;
mod roles;
mod schema;
pub mod submission;
pub mod trail;

pub use error::StoreError;
pub use schema::{schema_columns, SchemaColumn};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
enum Pools {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// The task holding the write connection, if any.
        writer: Writer,
    },
    Postgres(PgPool),
}

/// A handle on the database, cheap to clone and shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    pools: Pools,
    /// Woken when a transaction of this process that wrote events commits.
    events: Arc<Notify>,
}

/// Where a statement runs: a pool (reads) or the connection of an open transaction.
pub enum Exec<'a> {
    SqlitePool(&'a SqlitePool),
    SqliteConn(&'a mut SqliteConnection),
    PgPool(&'a PgPool),
    PgConn(&'a mut PgConnection),
}

/// Which task holds SQLite's one write connection: a task asking for it again while it
/// holds it would wait for itself.
#[derive(Clone, Debug, Default)]
struct Writer(Arc<std::sync::Mutex<Option<tokio::task::Id>>>);

impl Writer {
    fn held_by_this_task(&self) -> bool {
        let holder = *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        holder.is_some() && holder == tokio::task::try_id()
    }

    /// Marks the write connection as held by this task until the guard is dropped.
    fn hold(&self) -> WriterHeld {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = tokio::task::try_id();
        WriterHeld(self.clone())
    }
}

/// Clears the holder when the transaction ends, committed or rolled back.
struct WriterHeld(Writer);

impl Drop for WriterHeld {
    fn drop(&mut self) {
        *self.0 .0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

/// A write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: TxInner,
    events: Arc<Notify>,
    wrote_events: bool,
    /// Audit rows, appended to the chain when the transaction commits (see [`trail`]).
    trail: Vec<trail::TrailRow>,
    /// The request's submission key, if this transaction claimed it (see [`submission`]).
    claim: submission::ClaimHeld,
    /// SQLite: this task holds the write connection while the transaction is open.
    _writer: Option<WriterHeld>,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            TxInner::Sqlite(tx) => Exec::SqliteConn(tx),
            TxInner::Postgres(tx) => Exec::PgConn(tx),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Notes that this transaction wrote to the event log, so that its commit wakes the
    /// live subscribers of this server at once.
    pub fn wrote_events(&mut self) {
        self.wrote_events = true;
    }

    /// Adds an audit row to the trail when this transaction commits: it commits or rolls
    /// back with the change it describes.
    pub fn audit(&mut self, row: trail::TrailRow) {
        self.trail.push(row);
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        if !self.trail.is_empty() {
            let rows = std::mem::take(&mut self.trail);
            trail::append(&mut self, &rows).await?;
        }
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        self.claim.committed();
        if self.wrote_events {
            self.events.notify_one();
        }
        Ok(())
    }
}

/// Runs `$body` with `$e` bound to the executor of whichever backend `$exec` is on.
/// The body is written once; the compiler checks it against both drivers.
#[macro_export]
macro_rules! on_backend {
    ($exec:expr, |$e:ident| $body:expr) => {
        match $exec {
            $crate::store::Exec::SqlitePool($e) => $body,
            $crate::store::Exec::SqliteConn($e) => $body,
            $crate::store::Exec::PgPool($e) => $body,
            $crate::store::Exec::PgConn($e) => $body,
        }
    };
}

/// `fetch_all!(exec, Row, "SELECT ... WHERE a = $1", a)`: every row, decoded into `Row`.
#[macro_export]
macro_rules! fetch_all {
    ($exec:expr, $row:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::on_backend!($exec, |e| sqlx::query_as::<_, $row>($sql)$(.bind($bind))*.fetch_all(e).await)
            .map_err($crate::store::StoreError::from)
    };
}

/// `fetch_optional!(exec, Row, sql, binds...)`: at most one row.
#[macro_export]
macro_rules! fetch_optional {
    ($exec:expr, $row:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::on_backend!($exec, |e| sqlx::query_as::<_, $row>($sql)$(.bind($bind))*.fetch_optional(e).await)
            .map_err($crate::store::StoreError::from)
    };
}

/// `fetch_scalar!(exec, T, sql, binds...)`: the first column of exactly one row.
#[macro_export]
macro_rules! fetch_scalar {
    ($exec:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::on_backend!($exec, |e| sqlx::query_scalar::<_, $ty>($sql)$(.bind($bind))*.fetch_one(e).await)
            .map_err($crate::store::StoreError::from)
    };
}

/// `execute!(exec, sql, binds...)`: the number of rows changed.
#[macro_export]
macro_rules! execute {
    ($exec:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::on_backend!($exec, |e| sqlx::query($sql)$(.bind($bind))*.execute(e).await.map(|done| done.rows_affected()))
            .map_err($crate::store::StoreError::from)
    };
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Opens the database at `url` (`sqlite://path` or `postgres://...`). A SQLite file is
    /// created when missing; its directory must exist.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(url).await
        } else {
            Err(StoreError::Unavailable(format!(
                "unsupported database URL (expected sqlite:// or postgres://): {}",
                redact(url)
            )))
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it is acknowledged, to a person or to a
            // reference lab's engine that will not send the message again (NORMAL can lose
            // the last commits on power loss). Measured in docs/benchmarks.md.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // REPLACE then fires the DELETE triggers, so the append-only tables refuse it.
            .pragma("recursive_triggers", "ON")
            // Only reached if another process writes; our own writers queue in the pool.
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Store {
            pools: Pools::Sqlite {
                read,
                write,
                writer: Writer::default(),
            },
            events: Arc::default(),
        })
    }

    async fn connect_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Store {
            pools: Pools::Postgres(pool),
            events: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations that are not yet applied. Safe to run from several servers
    /// at once on PostgreSQL (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Where reads run.
    pub fn read(&self) -> Exec<'_> {
        match &self.pools {
            Pools::Sqlite { read, .. } => Exec::SqlitePool(read),
            Pools::Postgres(pool) => Exec::PgPool(pool),
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads then writes cannot be refused
    /// half-way by another writer; and a task that already holds it is refused at once
    /// rather than left waiting for itself (a bug: finish or drop the open transaction
    /// first, as refusals do before they are audited).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let (inner, writer) = match &self.pools {
            Pools::Sqlite { write, writer, .. } => {
                if writer.held_by_this_task() {
                    tracing::error!("a write transaction was begun while this task holds the writer");
                    return Err(StoreError::Database(
                        "nested write transaction on SQLite".to_owned(),
                    ));
                }
                let tx = write.begin_with("BEGIN IMMEDIATE").await?;
                (TxInner::Sqlite(tx), Some(writer.hold()))
            }
            Pools::Postgres(pool) => (TxInner::Postgres(pool.begin().await?), None),
        };
        let mut tx = Tx {
            inner,
            events: self.events.clone(),
            wrote_events: false,
            trail: Vec::new(),
            claim: submission::ClaimHeld::none(),
            _writer: writer,
        };
        // A form's submission is claimed by the first transaction of its request, so the
        // change commits with its claim and a repeat of the form cannot act again.
        tx.claim = submission::claim(&mut tx, chrono::Utc::now()).await?;
        Ok(tx)
    }

    /// Resolves when a transaction of this process that wrote events has committed since
    /// the last call (a wake-up that nobody waited for is kept for the next waiter).
    pub async fn events_committed(&self) {
        self.events.notified().await
    }

    /// The PostgreSQL pool, for what only PostgreSQL does (LISTEN).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pools {
            Pools::Postgres(pool) => Some(pool),
            Pools::Sqlite { .. } => None,
        }
    }

    /// Answers only when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        fetch_scalar!(self.read(), i64, "SELECT CAST(1 AS BIGINT)").map(|_| ())
    }

    /// Waits for the connections in use to be returned, then closes them all, so that
    /// SQLite checkpoints its WAL and PostgreSQL sees clean disconnects.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

/// The file of a `sqlite://` URL; `None` for any other database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    SqliteConnectOptions::from_str(url)
        .ok()
        .map(|options| options.get_filename().to_path_buf())
}

impl Store {
    /// SQLite: writes a consistent copy of the database to `path` (a new file) while the
    /// server goes on serving. `VACUUM INTO` reads one snapshot, on a read connection, so
    /// writers do not wait for it.
    pub async fn backup_sqlite_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        let Pools::Sqlite { read, .. } = &self.pools else {
            return Err(StoreError::Database(
                "only a SQLite database is backed up by Plateau; use pg_dump for PostgreSQL".to_owned(),
            ));
        };
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Database("the backup path is not valid UTF-8".to_owned()))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(read).await?;
        Ok(())
    }

    /// SQLite's own check of every page and index: "ok", or what is wrong.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        let rows: Vec<String> = fetch_all!(self.read(), (String,), "PRAGMA integrity_check")?
            .into_iter()
            .map(|(line,)| line)
            .collect();
        Ok(rows.join("; "))
    }
}

/// A database URL fit for a log line or an error message: no password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The store of the running server, as the router provides it to server functions.
pub fn from_context() -> Result<Store, crate::error::AppError> {
    leptos::prelude::use_context::<Store>().ok_or_else(|| {
        tracing::error!("no store in context: the router was built without one");
        crate::error::AppError::Internal
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{redact, Store, StoreError};
    use std::time::{Duration, Instant};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_holding_the_sqlite_writer_is_refused_a_second_one_at_once() {
        let dir = std::env::temp_dir().join(format!("plateau_store_nested_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        // A request, as the server runs each one: in a task of its own.
        let (open, nested, took) = tokio::spawn({
            let store = store.clone();
            async move {
                let open = store.begin().await.unwrap();
                let started = Instant::now();
                let nested = store.begin().await.map(drop);
                (open, nested, started.elapsed())
            }
        })
        .await
        .unwrap();
        assert!(matches!(nested, Err(StoreError::Database(_))), "{nested:?}");
        assert!(
            took < Duration::from_secs(1),
            "refused at once, not after the pool's wait"
        );
        // Another request waits for the writer, and gets it once this one is done.
        let other = tokio::spawn({
            let store = store.clone();
            async move { store.begin().await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!other.is_finished(), "another task queues for the writer");
        drop(open);
        other.await.unwrap().unwrap();
        // Once its transaction has ended, this task may open another.
        store.begin().await.unwrap().commit().await.unwrap();
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A clinic that received results before migration 0007 keeps them, linked as they were.
    #[tokio::test]
    async fn the_reference_results_migration_keeps_earlier_messages() {
        use sqlx::Executor;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let all = &super::SQLITE_MIGRATIONS;
        let before = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(
                all.migrations.iter().filter(|m| m.version < 7).cloned().collect(),
            ),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&pool).await.unwrap_or_else(|e| panic!("{e}"));
        pool.execute(
            "INSERT INTO facility (id, name, timezone, created_at) VALUES (1, 'C', 'Europe/Paris', '2026-01-01T00:00:00Z');
             INSERT INTO hl7_message (id, sending_facility, control_id, transport, received_at, outcome, raw)
                 VALUES (5, 'OLDLAB', '182', 'http', '2026-01-01T00:00:00Z', 'quarantined', 'MSH|...');
             INSERT INTO lab_quarantine (hl7_message_id, placer_number, group_index, reason, patient_text, observations)
                 VALUES (5, 'PL1', 0, 'unknown_order', 'X', 'Y');",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        all.run(&pool).await.unwrap_or_else(|e| panic!("{e}"));
        let (key, facility, held): (String, String, i64) = sqlx::query_as(
            "SELECT m.receipt_key, m.sending_facility, q.hl7_message_id FROM hl7_message m \
             JOIN lab_quarantine q ON q.hl7_message_id = m.id",
        )
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((key.as_str(), facility.as_str(), held), ("OLDLAB", "OLDLAB", 5));
        // The new reasons are allowed, the foreign keys still hold.
        pool.execute(
            "INSERT INTO lab_quarantine (hl7_message_id, placer_number, group_index, reason, patient_text, observations)
                 VALUES (5, 'PL2', 0, 'not_sent_to_this_lab', 'X', 'Y')",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let dangling = pool
            .execute(
                "INSERT INTO lab_quarantine (hl7_message_id, placer_number, group_index, reason, patient_text, observations)
                     VALUES (99, 'PL3', 0, 'unknown_order', 'X', 'Y')",
            )
            .await;
        assert!(dangling.is_err(), "a held group names a message that exists");
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://clinic:s3cret@db:5432/plateau"),
            "postgres://clinic:***@db:5432/plateau"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact("sqlite:///var/lib/plateau/plateau.db"),
            "sqlite:///var/lib/plateau/plateau.db"
        );
    }
}
