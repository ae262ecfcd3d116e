//! The subscription endpoint, `GET /api/live?topics=rooms,lab&after=41`: first what the
//! subscriber missed since `after` (or since the `Last-Event-ID` an `EventSource` sends
//! when it reconnects), in order, then live changes, with a heartbeat when nothing
//! happens. Nothing is skipped and nothing is sent twice.
//!
//! Two transports carry the same messages. Browsers open a WebSocket: once it is
//! upgraded, hyper lets go of the connection and its buffers (24 KiB), and an idle
//! subscriber costs the server a few hundred bytes of socket buffers instead. A plain
//! request (curl, a script, a proxy without WebSocket) gets Server-Sent Events. Each
//! WebSocket text message is one Server-Sent Events message, so both share one encoder
//! and the browser one decoder ([`super::SseMessage`]).

use super::bus::{message, EventBus, Frame};
use super::store::{self, Extent};
use super::{EndReason, Position, Topic};
use crate::audit::{self, Entry, Outcome};
use crate::auth::{session, Principal, RequestAuth};
use crate::store::StoreError;
use axum::body::{Body, Bytes};
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Sleep;

#[derive(Debug, Deserialize)]
pub struct SubscribeParams {
    topics: Option<String>,
    after: Option<String>,
}

/// A subscription the server refuses, with a reason a developer can act on.
fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        reason.into(),
    )
        .into_response()
}

/// `after=41` or `Last-Event-ID: 41`: a position in the log, or nothing.
fn parse_position(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "malformed last event id {:?}: expected the id of an event this server sent",
            text.chars().take(32).collect::<String>()
        ));
    }
    text.parse::<i64>().map_err(|e| e.to_string())
}

pub async fn subscribe(
    State(bus): State<EventBus>,
    Extension(auth): Extension<RequestAuth>,
    headers: HeaderMap,
    params: Result<Query<SubscribeParams>, axum::extract::rejection::QueryRejection>,
    websocket: Result<WebSocketUpgrade, ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    // A request that asks for an upgrade must be a valid WebSocket handshake (the guard
    // has already refused one from another site); any other gets Server-Sent Events.
    let websocket = match websocket {
        Ok(upgrade) => Some(upgrade),
        Err(rejection) if headers.contains_key(header::UPGRADE) => return rejection.into_response(),
        Err(_) => None,
    };
    let principal = match auth.principal.clone() {
        Some(principal) if !principal.locked => principal,
        Some(_) => return refuse(StatusCode::LOCKED, "the screen is locked: unlock it first"),
        None => return refuse(StatusCode::UNAUTHORIZED, "sign in first"),
    };
    let Ok(Query(params)) = params else {
        return refuse(StatusCode::BAD_REQUEST, "malformed query string");
    };
    let Some(names) = params.topics else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "name the topics to follow: topics=rooms,lab,visit:<visit id>",
        );
    };
    let topics = match Topic::parse_list(&names) {
        Ok(topics) => topics,
        Err(unknown) => return refuse(StatusCode::BAD_REQUEST, unknown.to_string()),
    };
    // The browser's own reconnection names the last event it received; it wins over the
    // position in the address, which is where the page started.
    let last_seen = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").to_owned())
        .or(params.after);
    let after = match last_seen.as_deref().map(parse_position).transpose() {
        Ok(after) => after,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    let Some(slot) = bus.session_slot(principal.session_id) else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "this session holds as many live links as it may: close another tab first",
        );
    };
    let store = bus.store().clone();
    for topic in &topics {
        if let Err(response) = authorise(&store, &principal, &auth, *topic).await {
            return response;
        }
    }
    // Listen first, then read where the log ends: whatever commits in between arrives
    // both ways and is sent once.
    let receiver = bus.subscribe();
    let extent = match store::extent(&store).await {
        Ok(extent) => extent,
        Err(error) => return database_unavailable(error),
    };
    let start = match after {
        Some(after) if after > extent.last_id => {
            return refuse(
                StatusCode::CONFLICT,
                format!(
                    "event {after} was never sent by this server (its log ends at {}): reload the data and subscribe again",
                    extent.last_id
                ),
            )
        }
        Some(after) => Start::from(after, extent, bus.settings().max_replay),
        None => Start::Head(extent.last_id),
    };
    let token = crate::auth::session_token(&headers);
    let mut subscription = Subscription::new(bus, token, auth.settings.idle_lock, topics, receiver, start);
    subscription.slot = Some(slot);
    if let Some(upgrade) = websocket {
        return upgrade
            // The browser sends nothing but pongs and a close: small buffers are enough.
            .read_buffer_size(256)
            .max_message_size(4096)
            .max_frame_size(4096)
            // Each message goes out at once; a subscriber that stops reading holds at
            // most this much before the subscription waits (and later reads the log).
            .write_buffer_size(0)
            .max_write_buffer_size(64 * 1024)
            .on_upgrade(move |socket| relay(socket, subscription));
    }
    let body = Body::from_stream(futures::stream::unfold(subscription, |mut s| async move {
        s.next()
            .await
            .map(|bytes| (Ok::<Bytes, std::convert::Infallible>(bytes), s))
    }));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
            // Proxies must pass each event on at once.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        body,
    )
        .into_response()
}

/// Sends a subscription's messages over an upgraded WebSocket until either end stops.
async fn relay(mut socket: WebSocket, mut subscription: Subscription) {
    loop {
        tokio::select! {
            next = subscription.next() => {
                let Some(bytes) = next else {
                    let _ = socket.send(ws::Message::Close(None)).await;
                    return;
                };
                let Ok(text) = ws::Utf8Bytes::try_from(bytes) else {
                    tracing::error!("a live message is not UTF-8");
                    return;
                };
                if socket.send(ws::Message::Text(text)).await.is_err() {
                    return;
                }
            }
            // Pings are answered inside the socket; the browser says nothing else but
            // goodbye. Reading also notices a connection the other end has dropped.
            incoming = socket.recv() => match incoming {
                Some(Ok(ws::Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// May `principal` follow `topic`? A refusal is audited.
async fn authorise(
    store: &crate::store::Store,
    principal: &Principal,
    auth: &RequestAuth,
    topic: Topic,
) -> Result<(), Response> {
    // A visit that does not exist is refused like one outside this person's care, so
    // that probing ids tells nothing of which exist.
    let allowed = match may_follow(store, principal, topic).await {
        Ok(Some(allowed)) => allowed,
        Ok(None) => false,
        Err(error) => return Err(database_unavailable(error)),
    };
    if allowed {
        return Ok(());
    }
    let entry = Entry::by(principal, "live.subscribe", Outcome::Refused)
        .meta(auth.meta.clone())
        .record(format!("topic/{topic}"));
    if let Err(error) = audit::record(store, entry).await {
        tracing::error!(%error, "could not audit a refused subscription");
    }
    Err(refuse(
        StatusCode::FORBIDDEN,
        format!("you may not follow the topic {topic}"),
    ))
}

/// Whether `principal` may follow `topic`: the capability, and for a visit its patient in
/// their care (or break-glass). `None` for a visit that does not exist.
async fn may_follow(
    store: &crate::store::Store,
    principal: &Principal,
    topic: Topic,
) -> Result<Option<bool>, StoreError> {
    if !principal.can(topic.capability()) {
        return Ok(Some(false));
    }
    let Topic::Visit(visit_id) = topic else {
        return Ok(Some(true));
    };
    let Some(patient_id) = crate::patients::store::patient_of_visit(store, visit_id).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    let access = crate::care::store::access_to(store, principal, patient_id, visit_id, now).await?;
    Ok(Some(access.is_some()))
}

/// The answer when the database does not: the browser tries again later.
fn database_unavailable(error: StoreError) -> Response {
    tracing::warn!(%error, "live subscription: the database does not answer");
    refuse(StatusCode::SERVICE_UNAVAILABLE, "the database does not answer")
}

/// Where a subscription begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// From the end of the log: the subscriber has just loaded its data.
    Head(i64),
    /// Replay what came after this id, then go live.
    Replay(i64),
    /// Too far behind to replay (pruned, or more than the replay limit): reload the data.
    Resync(i64),
}

impl Start {
    fn from(after: i64, extent: Extent, max_replay: i64) -> Start {
        if after < extent.pruned_through || extent.last_id - after > max_replay {
            Start::Resync(extent.last_id)
        } else {
            Start::Replay(after)
        }
    }
}

struct Subscription {
    bus: EventBus,
    receiver: broadcast::Receiver<Arc<Frame>>,
    topics: Vec<Topic>,
    /// The last id considered, whatever its topic: everything up to it was sent or
    /// was not for this subscriber.
    position: i64,
    /// Events read from the log, waiting to be sent.
    backlog: VecDeque<Arc<Frame>>,
    /// A control message to send before anything else.
    control: Option<Bytes>,
    /// The log after `position` is still to be read (a subscriber catching up).
    replay: bool,
    token: Option<String>,
    idle_lock: std::time::Duration,
    heartbeat: Pin<Box<Sleep>>,
    closing: tokio::sync::watch::Receiver<bool>,
    ended: bool,
    /// One of its session's subscriptions, given back when this one ends.
    slot: Option<crate::live::bus::SessionSlot>,
}

impl Subscription {
    fn new(
        bus: EventBus,
        token: Option<String>,
        idle_lock: std::time::Duration,
        topics: Vec<Topic>,
        receiver: broadcast::Receiver<Arc<Frame>>,
        start: Start,
    ) -> Subscription {
        let (position, control_message) = match start {
            Start::Head(head) => (head, message("ready", Some(head), &Position { head })),
            Start::Replay(after) => (after, message("ready", Some(after), &Position { head: after })),
            Start::Resync(head) => (head, message("resync", Some(head), &Position { head })),
        };
        // The first beat comes after a random part of the interval, so that subscriptions
        // opened together (a server restart) do not all check their sessions at once.
        let every = bus.settings().heartbeat;
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let first = every / 2 + (every / 2).mul_f64(f64::from(jitter % 1000) / 1000.0);
        let heartbeat = Box::pin(tokio::time::sleep(first));
        bus.note_churn();
        Subscription {
            receiver,
            topics,
            position,
            backlog: VecDeque::new(),
            control: Some(control_message),
            replay: matches!(start, Start::Replay(_)),
            token,
            idle_lock,
            heartbeat,
            closing: bus.closing(),
            ended: false,
            slot: None,
            bus,
        }
    }

    fn follows(&self, frame: &Frame) -> bool {
        self.topics.contains(&frame.topic)
    }

    /// The next message for this subscriber; `None` ends the response.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(message) = self.control.take() {
            return Some(message);
        }
        if self.ended {
            return None;
        }
        if self.replay {
            self.replay = false;
            if let Err(message) = self.read_log(None).await {
                return Some(message);
            }
        }
        loop {
            while let Some(frame) = self.backlog.pop_front() {
                if self.follows(&frame) {
                    return Some(frame.bytes.clone());
                }
            }
            tokio::select! {
                biased;
                received = self.receiver.recv() => match received {
                    Ok(frame) if frame.id <= self.position => {}
                    Ok(frame) => {
                        if frame.id > self.position + 1 {
                            // Committed before this subscription listened, or skipped by
                            // the pump: read the gap from the log first.
                            if let Err(message) = self.read_log(Some(frame.id - 1)).await {
                                return Some(message);
                            }
                        }
                        if frame.id > self.position {
                            self.position = frame.id;
                            self.backlog.push_back(frame);
                        }
                    }
                    // Fell behind the broadcast: read what it missed from the log.
                    Err(RecvError::Lagged(_)) => {
                        if let Err(message) = self.read_log(None).await {
                            return Some(message);
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.closing.changed() => {
                    self.ended = true;
                    return Some(unavailable());
                }
                () = &mut self.heartbeat => {
                    let every = self.bus.settings().heartbeat;
                    self.heartbeat.as_mut().reset(tokio::time::Instant::now() + every);
                    return Some(self.heartbeat_or_end().await);
                }
            }
        }
    }

    /// Moves the events after `position` (up to `until`, or to the end of the log) into
    /// the backlog. Too many to replay: a `resync` message instead, and the subscriber
    /// continues from the end of the log. The log unreadable: an `end`, and the browser
    /// reconnects from what it last received.
    async fn read_log(&mut self, until: Option<i64>) -> Result<(), Bytes> {
        let store = self.bus.store().clone();
        let max_replay = self.bus.settings().max_replay;
        let failed = |error: StoreError| {
            tracing::warn!(%error, "cannot read the live log for a subscriber");
            unavailable()
        };
        let extent = store::extent(&store).await.map_err(failed)?;
        let until = until.unwrap_or(extent.last_id);
        if until - self.position > max_replay || self.position < extent.pruned_through {
            self.backlog.clear();
            self.position = extent.last_id;
            return Err(message(
                "resync",
                Some(extent.last_id),
                &Position { head: extent.last_id },
            ));
        }
        while self.position < until {
            let batch = store::after(&store, self.position, 512).await.map_err(failed)?;
            for event in batch.events.into_iter().filter(|e| e.id <= until) {
                self.backlog.push_back(Arc::new(Frame::of(&event)));
            }
            match batch.last_row {
                Some(last) => self.position = last.min(until),
                None => break,
            }
            if batch.complete {
                break;
            }
        }
        Ok(())
    }

    /// A heartbeat, or the end of the subscription if its session no longer allows it.
    async fn heartbeat_or_end(&mut self) -> Bytes {
        let Some(token) = self.token.as_deref() else {
            return self.end(EndReason::SignedOut);
        };
        let now = chrono::Utc::now();
        match session::resolve(self.bus.store(), token, now, self.idle_lock).await {
            Ok(None) => self.end(EndReason::SignedOut),
            Ok(Some(principal)) if principal.locked => self.end(EndReason::Locked),
            Ok(Some(principal)) => {
                // Access is checked again at every beat: a break-glass access that
                // expired, a care team left or a role removed ends the subscription.
                for topic in self.topics.clone() {
                    match may_follow(self.bus.store(), &principal, topic).await {
                        Ok(Some(true)) => {}
                        Ok(_) => return self.end(EndReason::AccessEnded),
                        Err(error) => tracing::warn!(%error, "cannot check a subscriber's access"),
                    }
                }
                message("heartbeat", None, &Position { head: self.position })
            }
            // The database hiccupped: keep the link, check again at the next beat.
            Err(error) => {
                tracing::warn!(%error, "cannot check a subscriber's session");
                message("heartbeat", None, &Position { head: self.position })
            }
        }
    }

    fn end(&mut self, reason: EndReason) -> Bytes {
        self.ended = true;
        message("end", None, &serde_json::json!({ "reason": reason }))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.bus.note_churn();
    }
}

/// The end of a subscription the browser should simply resume (the server is stopping,
/// or its database did not answer): it reconnects from the last event it received.
fn unavailable() -> Bytes {
    message("end", None, &serde_json::json!({ "reason": "unavailable" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscriber that falls behind the broadcast channel (here: 2 places, 20 events,
    /// never polled meanwhile) reads what it missed from the log: all of it, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_subscriber_behind_the_broadcast_reads_the_log_instead() -> Result<(), String> {
        use crate::live::{EventKind, LiveSettings, NewEvent};
        let dir = std::env::temp_dir().join(format!("plateau_lag_{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let url = format!("sqlite://{}", dir.join("lag.db").display());
        let store = crate::store::Store::connect(&url)
            .await
            .map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        let settings = LiveSettings {
            channel_capacity: 2,
            ..LiveSettings::default()
        };
        let bus = EventBus::start(store.clone(), settings)
            .await
            .map_err(|e| e.to_string())?;
        let mut subscription = Subscription::new(
            bus.clone(),
            None,
            std::time::Duration::from_secs(60),
            vec![Topic::Rooms],
            bus.subscribe(),
            Start::Head(0),
        );
        for _ in 0..20 {
            let mut tx = store.begin().await.map_err(|e| e.to_string())?;
            let event = NewEvent {
                topic: Topic::Rooms,
                kind: EventKind::RoomStatus,
                subject: Some(1),
                code: None,
                visit: None,
            };
            store::record(&mut tx, &event, chrono::Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
        }
        // Let the pump broadcast all twenty, overflowing the subscriber's two places.
        while bus.head().head < 20 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let ready = subscription.next().await.unwrap_or_default();
        assert!(ready.starts_with(b"id: 0\nevent: ready"));
        let mut ids = Vec::new();
        while ids.len() < 20 {
            let message = subscription.next().await.unwrap_or_default();
            let text = String::from_utf8_lossy(&message).into_owned();
            assert!(text.contains("event: change"), "{text}");
            ids.push(
                text.trim_start_matches("id: ")
                    .split('\n')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            );
        }
        let expected: Vec<String> = (1..=20).map(|i: i64| i.to_string()).collect();
        assert_eq!(ids, expected);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }

    #[test]
    fn positions_are_plain_non_negative_numbers() {
        assert_eq!(parse_position("41"), Ok(41));
        assert_eq!(parse_position(" 0 "), Ok(0));
        for bad in ["", "-1", "4a", "1e3", "0x10", "99999999999999999999", "💥"] {
            assert!(parse_position(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_subscriber_too_far_behind_reloads_instead_of_replaying() {
        let extent = Extent {
            last_id: 10_000,
            pruned_through: 100,
        };
        assert_eq!(Start::from(9_000, extent, 5000), Start::Replay(9_000));
        assert_eq!(Start::from(4_000, extent, 5000), Start::Resync(10_000));
        assert_eq!(Start::from(50, extent, 100_000), Start::Resync(10_000));
        assert_eq!(Start::from(100, extent, 100_000), Start::Replay(100));
    }
}
