//! The browser's end of the live link: one WebSocket per tab, following what the
//! signed-in person may see, with a version counter per topic that screens' resources
//! read, so they reload when something they show has changed.
//!
//! On the server (and before the script runs) nothing connects: the page is as loaded.

use super::{EventKind, LinkState, LiveEvent, Topic};
use leptos::prelude::*;

/// What screens read of the live link.
#[derive(Clone, Copy)]
pub struct Live {
    pub link: RwSignal<LinkState>,
    /// When the screen last heard from the server (milliseconds since 1970), if it has.
    pub last_update: RwSignal<Option<f64>>,
    rooms: RwSignal<u64>,
    lab: RwSignal<u64>,
    visits: RwSignal<u64>,
    /// The changes heard, counted by what they are about, for screens that show only
    /// some of a topic (one room, one patient, the critical values).
    heard: RwSignal<Heard>,
}

/// Changes heard so far, counted by what they are about. A screen's resource reads the
/// count of what it shows; the count of anything else changing does not reload it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heard {
    /// Every time everything had to be reloaded (a resync, back online): counted in all.
    reloads: u64,
    /// By the topic's name and the kind of change.
    kinds: Vec<((&'static str, EventKind), u64)>,
    /// Room status changes, by room.
    rooms: Vec<(i64, u64)>,
    /// Changes about a visit, whatever their topic, by visit.
    visits: Vec<(i64, u64)>,
    /// The last change about a visit counted: one change is written to each of its
    /// topics in turn (consecutive ids), and a screen following two of them counts it once.
    last_visit_change: Option<VisitChange>,
}

/// A change about a visit as it was last counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VisitChange {
    id: i64,
    kind: EventKind,
    subject: Option<i64>,
    code: Option<String>,
    visit: i64,
}

fn bump<K: PartialEq>(counts: &mut Vec<(K, u64)>, key: K) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => counts.push((key, 1)),
    }
}

fn count<K: PartialEq>(counts: &[(K, u64)], key: &K) -> u64 {
    counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

/// The name under which a topic's kinds are counted: one for every visit.
fn topic_name(topic: Topic) -> &'static str {
    match topic {
        Topic::Rooms => "rooms",
        Topic::Lab => "lab",
        Topic::Visit(_) => "visit",
    }
}

impl Heard {
    /// Counts one change.
    pub fn heard(&mut self, event: &LiveEvent) {
        bump(&mut self.kinds, (topic_name(event.topic), event.kind));
        if let (Topic::Rooms, EventKind::RoomStatus, Some(room)) = (event.topic, event.kind, event.subject) {
            bump(&mut self.rooms, room);
        }
        let visit = match event.topic {
            Topic::Visit(visit) => Some(visit),
            _ => event.visit,
        };
        if let Some(visit) = visit {
            let change = VisitChange {
                id: event.id,
                kind: event.kind,
                subject: event.subject,
                code: event.code.clone(),
                visit,
            };
            // The change just before, by id, and the same in all but its id.
            let same = self.last_visit_change.as_ref().is_some_and(|last| {
                last.id + 1 == change.id
                    && (last.kind, last.subject, &last.code, last.visit)
                        == (change.kind, change.subject, &change.code, change.visit)
            });
            self.last_visit_change = Some(change);
            if !same {
                bump(&mut self.visits, visit);
            }
        }
    }

    /// Changes of these kinds on `topic`.
    pub fn of(&self, topic: Topic, kinds: &[EventKind]) -> u64 {
        let name = topic_name(topic);
        self.reloads
            + kinds
                .iter()
                .map(|kind| count(&self.kinds, &(name, *kind)))
                .sum::<u64>()
    }

    /// Status changes of this room.
    pub fn room(&self, room_id: i64) -> u64 {
        self.reloads + count(&self.rooms, &room_id)
    }

    /// Changes about this visit: its procedures, lab orders, critical values, itself.
    pub fn visit(&self, visit_id: i64) -> u64 {
        self.reloads + count(&self.visits, &visit_id)
    }
}

impl Live {
    fn new() -> Live {
        Live {
            link: RwSignal::new(LinkState::AsLoaded),
            last_update: RwSignal::new(None),
            rooms: RwSignal::new(0),
            lab: RwSignal::new(0),
            visits: RwSignal::new(0),
            heard: RwSignal::new(Heard::default()),
        }
    }

    /// Changes whenever a change of one of these kinds happened on `topic` (or the data
    /// must be reloaded): the critical banner follows critical values, not every room.
    pub fn changes_of(&self, topic: Topic, kinds: &'static [EventKind]) -> u64 {
        self.heard.with(|heard| heard.of(topic, kinds))
    }

    /// Changes whenever this room's status changed (or the data must be reloaded).
    pub fn room_changes(&self, room_id: i64) -> u64 {
        self.heard.with(|heard| heard.room(room_id))
    }

    /// Changes whenever something about this visit changed (or the data must be
    /// reloaded): a room tablet asks again for its own patient only.
    pub fn visit_changes(&self, visit_id: i64) -> u64 {
        self.heard.with(|heard| heard.visit(visit_id))
    }

    fn counter(&self, topic: Topic) -> RwSignal<u64> {
        match topic {
            Topic::Rooms => self.rooms,
            Topic::Lab => self.lab,
            Topic::Visit(_) => self.visits,
        }
    }

    /// Changes whenever something on `topic` changed, or the data must be reloaded: a
    /// resource whose source reads it reloads then.
    pub fn changes(&self, topic: Topic) -> u64 {
        self.counter(topic).get()
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn changed(&self, event: &LiveEvent) {
        self.counter(event.topic).update(|v| *v += 1);
        self.heard.update(|heard| heard.heard(event));
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn reload_everything(&self) {
        for counter in [self.rooms, self.lab, self.visits] {
            counter.update(|v| *v += 1);
        }
        self.heard.update(|heard| heard.reloads += 1);
    }
}

/// Sets up the live link of this page, which starts at `position` in the event log (the
/// server read it before reading the page's data).
pub fn provide_live(position: i64) -> Live {
    let live = Live::new();
    provide_context(live);
    #[cfg(feature = "hydrate")]
    browser::start(live, position);
    #[cfg(not(feature = "hydrate"))]
    let _ = position;
    live
}

pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(Live::new)
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::super::{EndReason, Position, SseMessage};
    use super::*;
    use crate::error::AppError;
    use crate::shell::{load_page, use_session, Session};
    use futures::future::{AbortHandle, Abortable};
    use futures::StreamExt;
    use gloo_net::websocket::{futures::WebSocket, Message};
    use std::cell::{Cell, RefCell};
    use std::time::Duration;

    /// The task reading the link's socket (gloo-net's), stopped when the link is closed
    /// on purpose; the socket closes as the task drops it.
    struct Connection {
        reading: AbortHandle,
    }

    thread_local! {
        static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
        /// Which connection is the current one: a closed one's last messages, still
        /// queued, are not acted on.
        static GENERATION: Cell<u64> = const { Cell::new(0) };
        /// The topics to follow; `None` while nobody is signed in or the screen is locked.
        static TOPICS: RefCell<Option<String>> = const { RefCell::new(None) };
        static LAST_ID: Cell<i64> = const { Cell::new(0) };
        static LAST_HEARD: Cell<f64> = const { Cell::new(0.0) };
        static FAILURES: Cell<u32> = const { Cell::new(0) };
    }

    /// Without a word from the server for this long (three heartbeats), the link is dead
    /// even if the browser has not noticed (a tablet that lost its Wi-Fi).
    const SILENCE_MS: f64 = 45_000.0;
    /// Reconnecting for longer than this is shown as offline.
    const OFFLINE_AFTER_MS: f64 = 20_000.0;

    pub fn start(live: Live, position: i64) {
        LAST_ID.set(position);
        let session = use_session();
        Effect::new(move |_| {
            let topics = session.user().filter(|u| !u.locked).map(|user| {
                Topic::defaults_for(&user.roles, user.wall_board)
                    .iter()
                    .map(Topic::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            });
            if TOPICS.with_borrow(|current| *current == topics) {
                return;
            }
            let follow = topics.is_some();
            TOPICS.set(topics);
            if follow {
                connect(live, session);
            } else {
                disconnect();
            }
        });
        let _ = set_interval_with_handle(move || watchdog(live, session), Duration::from_secs(5));
        // Back online: start afresh from the last event received, whatever the browser
        // thinks of the old connection.
        let _ = window_event_listener(leptos::ev::online, move |_| {
            if TOPICS.with_borrow(Option::is_some) {
                connect(live, session);
                // What failed to load while offline loads now.
                live.reload_everything();
            }
        });
        let _ = window_event_listener(leptos::ev::offline, move |_| live.link.set(LinkState::Offline));
    }

    fn now() -> f64 {
        js_sys::Date::now()
    }

    fn heard(live: Live) {
        let now = now();
        LAST_HEARD.set(now);
        live.last_update.set(Some(now));
    }

    fn disconnect() {
        // Closed on purpose: not a failure to report, and nothing it still hears counts.
        GENERATION.set(GENERATION.get() + 1);
        if let Some(connection) = CONNECTION.take() {
            connection.reading.abort();
        }
    }

    fn current(generation: u64) -> bool {
        GENERATION.get() == generation
    }

    /// `ws://host/api/live?topics=...&after=<last event received>`.
    fn address(topics: &str) -> String {
        let location = leptos::prelude::window().location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        format!(
            "{scheme}://{}{}?topics={topics}&after={}",
            location.host().unwrap_or_default(),
            super::super::SUBSCRIBE_PATH,
            LAST_ID.get()
        )
    }

    fn connect(live: Live, session: Session) {
        disconnect();
        let Some(topics) = TOPICS.with_borrow(Clone::clone) else {
            return;
        };
        let Ok(mut socket) = WebSocket::open(&address(&topics)) else {
            retry_later(live, session);
            return;
        };
        if live.link.get_untracked() != LinkState::Live {
            live.link.set(if FAILURES.get() == 0 {
                LinkState::Connecting
            } else {
                LinkState::Reconnecting
            });
        }
        let generation = GENERATION.get();
        let (reading, registration) = AbortHandle::new_pair();
        CONNECTION.set(Some(Connection { reading }));
        let read = async move {
            let mut opened = false;
            while let Some(next) = socket.next().await {
                if !current(generation) {
                    return;
                }
                let text = match next {
                    Ok(Message::Text(text)) => text,
                    // Not a message of ours.
                    Ok(Message::Bytes(_)) => continue,
                    // An error or the close: the socket is done.
                    Err(_) => break,
                };
                // The server's first word ("ready") says the link is open. Back after
                // failures: reload what may have failed to load meanwhile (the replay that
                // follows brings the changes themselves).
                if !opened {
                    opened = true;
                    if FAILURES.replace(0) > 0 {
                        live.reload_everything();
                    }
                    live.link.set(LinkState::Live);
                }
                if let Some(message) = SseMessage::parse(&text) {
                    received(live, session, &message);
                }
            }
            // Dropped, refused (an error status before the upgrade) or closed by the server
            // without a word: ours to retry, from the last event received.
            if current(generation) {
                failed(live, session);
            }
        };
        leptos::task::spawn_local(async move {
            let _ = Abortable::new(read, registration).await;
        });
    }

    fn received(live: Live, session: Session, message: &SseMessage) {
        fn data<T: serde::de::DeserializeOwned>(message: &SseMessage) -> Option<T> {
            serde_json::from_str(message.data).ok()
        }
        match message.name {
            "change" => {
                if let Some(event) = data::<LiveEvent>(message) {
                    if event.id > LAST_ID.get() {
                        LAST_ID.set(event.id);
                        live.changed(&event);
                    }
                }
            }
            "resync" => {
                if let Some(position) = data::<Position>(message) {
                    LAST_ID.set(position.head);
                }
                live.reload_everything();
            }
            "end" => {
                disconnect();
                #[derive(serde::Deserialize)]
                struct End {
                    reason: EndReason,
                }
                match data::<End>(message).map(|end| end.reason) {
                    Some(EndReason::Locked) => session.set_locked(true),
                    Some(EndReason::SignedOut) => load_page("/sign-in"),
                    Some(EndReason::AccessEnded) => {
                        let _ = window().location().reload();
                    }
                    None => retry_later(live, session),
                }
                return;
            }
            // ready, heartbeat
            _ => {}
        }
        heard(live);
    }

    fn failed(live: Live, session: Session) {
        FAILURES.set(FAILURES.get() + 1);
        live.link.set(state_while_down());
        disconnect();
        retry_later(live, session);
    }

    fn state_while_down() -> LinkState {
        let offline = !leptos::prelude::window().navigator().on_line();
        if offline || now() - LAST_HEARD.get() > OFFLINE_AFTER_MS {
            LinkState::Offline
        } else {
            LinkState::Reconnecting
        }
    }

    /// Tries again after a pause that grows with each failure, first asking the server
    /// where its log ends: a log behind what this screen saw (a restored database) means
    /// the data must be reloaded.
    fn retry_later(live: Live, session: Session) {
        let pause = [1, 2, 5, 10, 15][FAILURES.get().min(4) as usize];
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    if TOPICS.with_borrow(Option::is_none) {
                        return;
                    }
                    match super::super::live_position().await {
                        Ok(position) => {
                            if LAST_ID.get() > position.head {
                                LAST_ID.set(position.head);
                                live.reload_everything();
                            }
                            connect(live, session);
                        }
                        Err(AppError::Locked) => session.set_locked(true),
                        Err(AppError::Unauthenticated) => load_page("/sign-in"),
                        Err(_) => {
                            FAILURES.set(FAILURES.get() + 1);
                            live.link.set(state_while_down());
                            retry_later(live, session);
                        }
                    }
                });
            },
            Duration::from_secs(pause),
        );
    }

    fn watchdog(live: Live, session: Session) {
        if TOPICS.with_borrow(Option::is_none) {
            return;
        }
        let connected = CONNECTION.with_borrow(Option::is_some);
        let silent = now() - LAST_HEARD.get();
        if connected && live.link.get_untracked() == LinkState::Live && silent > SILENCE_MS {
            live.link.set(LinkState::Reconnecting);
            connect(live, session);
        } else if live.link.get_untracked() != LinkState::Live {
            let state = state_while_down();
            if live.link.get_untracked() != state && live.link.get_untracked() != LinkState::Connecting {
                live.link.set(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, topic: Topic, kind: EventKind, subject: i64, visit: Option<i64>) -> LiveEvent {
        LiveEvent {
            id,
            topic,
            kind,
            subject: Some(subject),
            code: None,
            visit,
            at: 0,
        }
    }

    #[test]
    fn a_screen_counts_only_the_changes_it_shows() {
        let mut heard = Heard::default();
        // A result for the patient of visit 7, told to the lab and the rooms in turn: one
        // change for the visit.
        heard.heard(&event(10, Topic::Lab, EventKind::LabOrder, 40, Some(7)));
        heard.heard(&event(11, Topic::Rooms, EventKind::LabOrder, 40, Some(7)));
        assert_eq!(heard.visit(7), 1);
        // The same again later is another change.
        heard.heard(&event(15, Topic::Rooms, EventKind::LabOrder, 40, Some(7)));
        assert_eq!(heard.visit(7), 2);
        assert_eq!(heard.visit(8), 0, "another room's tablet does not reload");
        assert_eq!(heard.room(3), 0);
        assert_eq!(heard.of(Topic::Rooms, &[EventKind::CriticalAlert]), 0);
        assert_eq!(
            heard.of(Topic::Rooms, &[EventKind::LabOrder, EventKind::Procedure]),
            2
        );
        // A room's status, and a visit's own topic.
        heard.heard(&event(16, Topic::Rooms, EventKind::RoomStatus, 3, None));
        heard.heard(&event(17, Topic::Visit(8), EventKind::Procedure, 12, None));
        assert_eq!((heard.room(3), heard.room(4)), (1, 0));
        assert_eq!(heard.visit(8), 1);
        // A resync reloads everything.
        heard.reloads += 1;
        assert_eq!(
            (heard.visit(8), heard.room(4), heard.of(Topic::Lab, &[])),
            (2, 1, 1)
        );
    }
}
