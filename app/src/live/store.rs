//! The event log: written in the transaction of the change it reports, read in order.

use super::{EventKind, LiveEvent, Topic};
use crate::store::{Backend, Store, StoreError, Tx};
use chrono::{DateTime, Utc};

/// The PostgreSQL channel that wakes the other app servers when events are committed.
pub const CHANNEL: &str = "plateau_events";

/// A change to report, as a domain module hands it over.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub topic: Topic,
    pub kind: EventKind,
    pub subject: Option<i64>,
    pub code: Option<String>,
    /// The visit it is about, if any: screens of one patient listen for theirs.
    pub visit: Option<i64>,
}

/// Writes `event` into the log within `tx`; returns its id. Call it last, just before
/// committing: taking the next id locks the counter row until the commit, which is what
/// keeps ids in commit order, so the lock should be held for as short a time as possible.
pub async fn record(tx: &mut Tx, event: &NewEvent, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "UPDATE event_counter SET last_id = last_id + 1 WHERE only_row = 1 RETURNING last_id"
    )?;
    crate::execute!(
        tx.exec(),
        "INSERT INTO event (id, topic, kind, subject_id, code, visit_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        event.topic.to_string(),
        event.kind.code(),
        event.subject,
        event.code.as_deref(),
        event.visit,
        now
    )?;
    if tx.backend() == Backend::Postgres {
        // Delivered to the listeners of every app server when (and only if) this commits.
        crate::execute!(tx.exec(), "SELECT pg_notify($1, $2)", CHANNEL, id.to_string())?;
    }
    tx.wrote_events();
    Ok(id)
}

/// How far the log goes: the last id handed out, and the last one pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Extent {
    pub last_id: i64,
    pub pruned_through: i64,
}

pub async fn extent(store: &Store) -> Result<Extent, StoreError> {
    crate::fetch_optional!(
        store.read(),
        Extent,
        "SELECT last_id, pruned_through FROM event_counter WHERE only_row = 1"
    )?
    .ok_or_else(|| StoreError::Unavailable("the event counter row is missing".into()))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    topic: String,
    kind: String,
    subject_id: Option<i64>,
    code: Option<String>,
    visit_id: Option<i64>,
    created_at: DateTime<Utc>,
}

/// A row as subscribers receive it; `None` for a topic or kind this version does not
/// know (written by a newer server during a rolling upgrade), which is skipped.
fn to_event(row: EventRow) -> Option<LiveEvent> {
    Some(LiveEvent {
        id: row.id,
        topic: Topic::parse(&row.topic).ok()?,
        kind: EventKind::from_code(&row.kind)?,
        subject: row.subject_id,
        code: row.code,
        visit: row.visit_id,
        at: row.created_at.timestamp_micros(),
    })
}

/// Events read from the log in one go.
pub struct Batch {
    pub events: Vec<LiveEvent>,
    /// The id of the last row read, which may be an event this version skips.
    pub last_row: Option<i64>,
    /// Fewer rows than asked for: the log was read to its end.
    pub complete: bool,
}

/// Up to `limit` events after `after`, in order.
pub async fn after(store: &Store, after: i64, limit: i64) -> Result<Batch, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        EventRow,
        "SELECT id, topic, kind, subject_id, code, visit_id, created_at FROM event WHERE id > $1 ORDER BY id LIMIT $2",
        after,
        limit
    )?;
    let complete = (rows.len() as i64) < limit;
    let last_row = rows.last().map(|row| row.id);
    Ok(Batch {
        events: rows.into_iter().filter_map(to_event).collect(),
        last_row,
        complete,
    })
}

/// Deletes the events committed before `before`; subscribers further behind than what
/// remains are told to reload their data. Returns how many were deleted.
pub async fn prune(store: &Store, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let through = crate::fetch_scalar!(
        tx.exec(),
        Option<i64>,
        "SELECT MAX(id) FROM event WHERE created_at < $1",
        before
    )?;
    let Some(through) = through else {
        return Ok(0);
    };
    let deleted = crate::execute!(tx.exec(), "DELETE FROM event WHERE id <= $1", through)?;
    crate::execute!(
        tx.exec(),
        "UPDATE event_counter SET pruned_through = $1 WHERE only_row = 1 AND pruned_through < $1",
        through
    )?;
    tx.commit().await?;
    Ok(deleted)
}
