//! Fan-out of committed events to this server's subscribers.
//!
//! One task per server reads the event log after each wake-up and broadcasts what it has
//! not sent yet. Wake-ups come from this process's own commits (SQLite or PostgreSQL), from
//! PostgreSQL `NOTIFY` for the commits of other app servers, and from a slow poll that
//! recovers anything a lost notification would otherwise delay. The log is the truth;
//! the wake-ups only make reading it prompt.
//!
//! The broadcast channel never waits for a subscriber: one that falls behind loses its
//! place in the channel (tokio reports how far it lagged) and reads what it missed from
//! the log instead, so a slow tablet never delays the others and never misses anything.

use super::store::{self, CHANNEL};
use super::{LiveEvent, Position, Topic};
use crate::store::Store;
use axum::body::Bytes;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;

/// How the live link behaves; the defaults suit a clinic, tests shorten them.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// Events a subscriber may fall behind the broadcast before it reads from the log.
    pub channel_capacity: usize,
    /// How often an idle subscription hears from the server (and its session is checked).
    pub heartbeat: Duration,
    /// How often the log is read even without a wake-up.
    pub poll: Duration,
    /// A subscriber further behind than this reloads its data instead of replaying.
    pub max_replay: i64,
    /// How long events stay in the log.
    pub retention: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            channel_capacity: 1024,
            heartbeat: Duration::from_secs(15),
            poll: Duration::from_secs(2),
            max_replay: 5000,
            retention: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// One event, encoded once for every subscriber.
#[derive(Debug)]
pub struct Frame {
    pub id: i64,
    pub topic: Topic,
    /// The whole Server-Sent Events message, ready to write.
    pub bytes: Bytes,
}

impl Frame {
    pub fn of(event: &LiveEvent) -> Frame {
        Frame {
            id: event.id,
            topic: event.topic,
            bytes: message("change", Some(event.id), event),
        }
    }
}

/// One Server-Sent Events message (`change`, `ready`, `resync`, `heartbeat`, `end`), with
/// the id the browser resumes from when it carries one.
pub fn message(name: &str, id: Option<i64>, data: &impl serde::Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_default();
    match id {
        Some(id) => Bytes::from(format!("id: {id}\nevent: {name}\ndata: {json}\n\n")),
        None => Bytes::from(format!("event: {name}\ndata: {json}\n\n")),
    }
}

struct Shared {
    store: Store,
    settings: LiveSettings,
    sender: broadcast::Sender<Arc<Frame>>,
    /// The last id broadcast: a position every page may safely start from.
    head: AtomicI64,
    /// Subscriptions opened or ended so far: the server returns freed memory to the
    /// system once this stops moving (a reconnection storm has settled).
    churn: AtomicU64,
    /// Set when the server shuts down: every subscription ends.
    closing: tokio::sync::watch::Sender<bool>,
    /// Open subscriptions per session.
    per_session: std::sync::Mutex<std::collections::HashMap<i64, usize>>,
}

/// Live subscriptions one session may hold at once: a page holds one, a few tabs are
/// fine; more is a leak or someone holding the server's memory.
pub const SUBSCRIPTIONS_PER_SESSION: usize = 8;

/// One of a session's subscriptions; given back when dropped.
pub struct SessionSlot {
    shared: Arc<Shared>,
    session_id: i64,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut held = self
            .shared
            .per_session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = held.get_mut(&self.session_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.session_id);
            }
        }
    }
}

/// The fan-out of one server. Cheap to clone; the pump stops when the last clone is gone.
#[derive(Clone)]
pub struct EventBus {
    shared: Arc<Shared>,
}

impl EventBus {
    /// Starts the pump from the log's current end.
    pub async fn start(store: Store, settings: LiveSettings) -> Result<EventBus, crate::store::StoreError> {
        let head = store::extent(&store).await?.last_id;
        let (sender, _) = broadcast::channel(settings.channel_capacity.max(1));
        let shared = Arc::new(Shared {
            store: store.clone(),
            settings,
            sender,
            head: AtomicI64::new(head),
            churn: AtomicU64::new(0),
            closing: tokio::sync::watch::Sender::new(false),
            per_session: Default::default(),
        });
        tokio::spawn(pump(Arc::downgrade(&shared), store, head));
        Ok(EventBus { shared })
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    pub fn settings(&self) -> &LiveSettings {
        &self.shared.settings
    }

    /// The last event this server has broadcast. A page that reads its data after asking
    /// for this position and subscribes from it misses nothing (at worst it hears again
    /// about a change its data already shows).
    pub fn head(&self) -> Position {
        Position {
            head: self.shared.head.load(Ordering::Acquire),
        }
    }

    /// A subscription slot for `session_id`; `None` when it holds
    /// [`SUBSCRIPTIONS_PER_SESSION`] already.
    pub fn session_slot(&self, session_id: i64) -> Option<SessionSlot> {
        let mut held = self
            .shared
            .per_session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = held.entry(session_id).or_default();
        if *count >= SUBSCRIPTIONS_PER_SESSION {
            return None;
        }
        *count += 1;
        Some(SessionSlot {
            shared: self.shared.clone(),
            session_id,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.shared.sender.subscribe()
    }

    /// Counts a subscription opened or ended.
    pub(crate) fn note_churn(&self) {
        self.shared.churn.fetch_add(1, Ordering::Relaxed);
    }

    /// How many subscriptions have been opened or ended since the server started.
    pub fn churn(&self) -> u64 {
        self.shared.churn.load(Ordering::Relaxed)
    }

    /// Resolves when the server is shutting down.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shared.closing.subscribe()
    }

    /// Ends every subscription (the server is shutting down).
    pub fn close(&self) {
        self.shared.closing.send_replace(true);
    }
}

async fn pump(shared: Weak<Shared>, store: Store, mut last: i64) {
    let mut listener = Listener::new(&store);
    let prune_every = Duration::from_secs(60 * 60);
    let mut next_prune = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let poll = match shared.upgrade() {
            Some(shared) => shared.settings.poll,
            None => return,
        };
        tokio::select! {
            _ = store.events_committed() => {}
            woken = listener.woken() => {
                if woken.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(poll) => {}
        }
        let Some(shared) = shared.upgrade() else { return };
        last = catch_up(&shared, last).await;
        if tokio::time::Instant::now() >= next_prune {
            next_prune += prune_every;
            let retention = chrono::Duration::from_std(shared.settings.retention)
                .unwrap_or_else(|_| chrono::Duration::days(7));
            let before = chrono::Utc::now() - retention;
            match store::prune(&store, before).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "pruned old events from the live log"),
                Err(error) => tracing::warn!(%error, "could not prune the live log"),
            }
        }
    }
}

/// Broadcasts every event after `last`; returns the new last id. On a read error the
/// next wake-up tries again from the same place.
async fn catch_up(shared: &Shared, mut last: i64) -> i64 {
    loop {
        let batch = match store::after(&shared.store, last, 512).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "could not read the live log");
                return last;
            }
        };
        for event in &batch.events {
            // No receiver is not an error: nobody is watching right now.
            let _ = shared.sender.send(Arc::new(Frame::of(event)));
        }
        if let Some(last_row) = batch.last_row {
            last = last_row;
            shared.head.store(last, Ordering::Release);
        }
        if batch.complete {
            return last;
        }
    }
}

/// PostgreSQL `LISTEN` on the events channel, reconnected when lost. On SQLite there is
/// no other server to hear from, and it never wakes.
struct Listener {
    pool: Option<sqlx::PgPool>,
    connection: Option<sqlx::postgres::PgListener>,
    retry_at: tokio::time::Instant,
}

impl Listener {
    fn new(store: &Store) -> Listener {
        Listener {
            pool: store.postgres_pool().cloned(),
            connection: None,
            retry_at: tokio::time::Instant::now(),
        }
    }

    /// Resolves when a notification arrives or the connection was lost (either way the
    /// log should be read now); `Err` when the store is closing.
    async fn woken(&mut self) -> Result<(), ()> {
        let Some(pool) = self.pool.clone() else {
            return std::future::pending().await;
        };
        if self.connection.is_none() {
            tokio::time::sleep_until(self.retry_at).await;
            match Self::connect(&pool).await {
                Ok(connection) => {
                    self.connection = Some(connection);
                    // Anything committed while nobody listened is in the log: read it now.
                    return Ok(());
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for events; reading the log by polling meanwhile");
                    self.retry_at = tokio::time::Instant::now() + Duration::from_secs(1);
                    return std::future::pending().await;
                }
            }
        }
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        match connection.try_recv().await {
            Ok(Some(_)) => Ok(()),
            // Lost: reconnect ourselves rather than let sqlx do it silently, so that the
            // log is read again once LISTEN is back (a notification sent in between would
            // otherwise wait for the next poll).
            Ok(None) => {
                tracing::warn!("the events listener lost its connection; reconnecting");
                self.connection = None;
                Ok(())
            }
            Err(sqlx::Error::PoolClosed) => Err(()),
            Err(error) => {
                tracing::warn!(%error, "lost the events listener; reconnecting");
                self.connection = None;
                self.retry_at = tokio::time::Instant::now() + Duration::from_millis(200);
                Ok(())
            }
        }
    }

    async fn connect(pool: &sqlx::PgPool) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::SseMessage;

    /// What the server writes is what the browser reads, whichever transport carries it.
    #[test]
    fn written_messages_read_back() {
        let written = message("ready", Some(41), &Position { head: 41 });
        let text = std::str::from_utf8(&written).unwrap_or_default();
        let read = SseMessage::parse(text);
        assert_eq!(read.as_ref().map(|m| (m.name, m.id)), Some(("ready", Some(41))));
        let position = read.and_then(|m| serde_json::from_str::<Position>(m.data).ok());
        assert_eq!(position.map(|p| p.head), Some(41));
        let end = message("end", None, &serde_json::json!({ "reason": "locked" }));
        let text = std::str::from_utf8(&end).unwrap_or_default();
        assert_eq!(SseMessage::parse(text).map(|m| m.id), Some(None));
    }
}
