//! What travels on the live link: topics, events, and the state of the link itself.

use crate::auth::{session_allows, Capability};
use crate::staff::StaffRole;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stream of changes a screen may follow. Who may follow which is the access policy's
/// decision (`Topic::capability`, and the care team for a visit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Topic {
    /// Room status and who is in which room: the rooms screen and the board.
    Rooms,
    /// Specimens and results, for the lab workstation.
    Lab,
    /// One visit: what its patient's tablet and escort page follow.
    Visit(i64),
}

/// Why a topic name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTopic(pub String);

impl fmt::Display for UnknownTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown topic {:?}: the topics are rooms, lab and visit:<visit id>",
            self.0.chars().take(64).collect::<String>()
        )
    }
}

impl Topic {
    pub fn parse(name: &str) -> Result<Topic, UnknownTopic> {
        match name {
            "rooms" => Ok(Topic::Rooms),
            "lab" => Ok(Topic::Lab),
            _ => name
                .strip_prefix("visit:")
                .filter(|id| !id.is_empty() && id.len() <= 18 && id.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|id| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
                .map(Topic::Visit)
                .ok_or_else(|| UnknownTopic(name.to_owned())),
        }
    }

    /// `rooms,lab`: the topics as a subscription names them. An empty list is allowed: it
    /// follows the link itself (heartbeats, the end of the session) and no changes.
    pub fn parse_list(names: &str) -> Result<Vec<Topic>, UnknownTopic> {
        let mut topics = Vec::new();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let topic = Topic::parse(name)?;
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        Ok(topics)
    }

    /// The capability a person needs to follow this topic. A visit also needs its
    /// patient in their care (checked by the server against the care team).
    pub fn capability(self) -> Capability {
        match self {
            // The rooms screen and the board follow it; whoever sees the rooms sees the
            // board, and a wall board sees the board alone.
            Topic::Rooms => Capability::ViewBoard,
            Topic::Lab => Capability::UseLab,
            Topic::Visit(_) => Capability::OpenPatient,
        }
    }

    /// The topics a session's screens follow by default: everything it may see that is
    /// not about one visit.
    pub fn defaults_for(roles: &[StaffRole], wall_board: bool) -> Vec<Topic> {
        [Topic::Rooms, Topic::Lab]
            .into_iter()
            .filter(|topic| session_allows(roles, wall_board, topic.capability()))
            .collect()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Rooms => f.write_str("rooms"),
            Topic::Lab => f.write_str("lab"),
            Topic::Visit(id) => write!(f, "visit:{id}"),
        }
    }
}

impl TryFrom<String> for Topic {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Topic::parse(&name).map_err(|e| e.to_string())
    }
}

impl From<Topic> for String {
    fn from(topic: Topic) -> String {
        topic.to_string()
    }
}

crate::coded_enum! {
    /// What happened. Events carry identifiers and codes only; a screen fetches the
    /// details it shows through the server functions, which check access and audit reads.
    pub enum EventKind {
        /// A room's status changed; `code` is the new HL7 table 0116 status.
        RoomStatus = "room.status",
        /// A procedure was ordered or changed (state, staff, position, equipment); `code`
        /// is its state.
        Procedure = "procedure",
        /// A person started or ended a shift or a break; `code` is their presence.
        StaffPresence = "staff.presence",
        /// An item of equipment changed state or place; `code` is its state.
        Equipment = "equipment",
        /// A lab order changed (ordered, collected, received, resulted, verified,
        /// rejected); `code` is its state, `subject` the order.
        LabOrder = "lab.order",
        /// A critical value was raised, acknowledged or escalated; `code` says which.
        CriticalAlert = "lab.critical",
        /// A visit began, moved or ended; `code` is its state, `subject` the visit.
        Visit = "visit",
    }
}

/// One committed change, as a subscriber receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// Its place in the event log: strictly increasing, in commit order.
    pub id: i64,
    pub topic: Topic,
    pub kind: EventKind,
    /// The room, visit or specimen it is about.
    pub subject: Option<i64>,
    /// A short code (a new status, a flag).
    pub code: Option<String>,
    /// The visit it is about, if any (on every topic): a screen of one patient asks the
    /// server again for its patient's changes only.
    #[serde(default)]
    pub visit: Option<i64>,
    /// When it was committed, in microseconds since 1970 (UTC).
    pub at: i64,
}

/// Where a subscriber stands in the log: sent when a subscription starts (`ready`), when
/// it must reload its data (`resync`), and with every heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub head: i64,
}

crate::coded_enum! {
    /// Why the server ended a subscription.
    pub enum EndReason {
        /// The screen locked itself (idle): unlock, and the subscription resumes.
        Locked = "locked",
        /// The session ended (signed out, expired, ended from another device).
        SignedOut = "signed_out",
        /// The person may no longer follow a topic (a break-glass access expired, they
        /// left the care team, a role was taken away): the page reloads and says so.
        AccessEnded = "access_ended",
    }
}

crate::coded_enum! {
    /// The state of this screen's live link, as the indicator shows it.
    pub enum LinkState {
        /// Rendered by the server: the page is as of its loading (no script has run yet).
        AsLoaded = "as_loaded",
        Connecting = "connecting",
        Live = "live",
        /// Lost for a moment; the browser is reconnecting and will catch up.
        Reconnecting = "reconnecting",
        /// No network, or the server has not answered for a while.
        Offline = "offline",
    }
}

/// One message of the live link as written on the wire (the Server-Sent Events format,
/// which WebSocket messages carry too): `id: 5\nevent: change\ndata: {...}\n\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage<'a> {
    pub name: &'a str,
    pub id: Option<i64>,
    pub data: &'a str,
}

impl<'a> SseMessage<'a> {
    /// Reads one message; `None` for text that is not one (no event name or no data).
    pub fn parse(text: &'a str) -> Option<SseMessage<'a>> {
        let (mut name, mut id, mut data) = (None, None, None);
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("event: ") {
                name = Some(value);
            } else if let Some(value) = line.strip_prefix("id: ") {
                id = Some(value.parse().ok()?);
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = Some(value);
            }
        }
        Some(SseMessage {
            name: name?,
            id,
            data: data?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_refuse_anything_else() {
        for topic in [Topic::Rooms, Topic::Lab, Topic::Visit(42)] {
            assert_eq!(Topic::parse(&topic.to_string()), Ok(topic));
        }
        for bad in [
            "",
            "room",
            "ROOMS",
            "visit:",
            "visit:0",
            "visit:-1",
            "visit:1x",
            "visit: 1",
            "visit:99999999999999999999",
            "lab ",
            "board",
        ] {
            assert!(Topic::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_list_is_deduplicated_and_may_be_empty() {
        assert_eq!(
            Topic::parse_list("rooms, lab,rooms"),
            Ok(vec![Topic::Rooms, Topic::Lab])
        );
        assert_eq!(Topic::parse_list(""), Ok(vec![]));
        let refused = Topic::parse_list("rooms,pharmacy").map_err(|e| e.to_string());
        assert!(refused.is_err_and(|e| e.contains("pharmacy")));
    }

    #[test]
    fn people_follow_what_their_roles_may_see() {
        assert_eq!(
            Topic::defaults_for(&[StaffRole::Nurse], false),
            vec![Topic::Rooms]
        );
        assert_eq!(
            Topic::defaults_for(&[StaffRole::LabTechnician], false),
            vec![Topic::Lab]
        );
        assert_eq!(
            Topic::defaults_for(&[StaffRole::Phlebotomist], false),
            vec![Topic::Rooms, Topic::Lab]
        );
        // A wall board set up by a supervisor follows the board's topic, not the lab's.
        assert_eq!(
            Topic::defaults_for(&[StaffRole::Supervisor], true),
            vec![Topic::Rooms]
        );
        assert!(Topic::defaults_for(&[StaffRole::Administrator], false).is_empty());
    }

    #[test]
    fn events_travel_as_json_with_topic_names() {
        let event = LiveEvent {
            id: 7,
            topic: Topic::Visit(3),
            kind: EventKind::RoomStatus,
            subject: Some(2),
            code: Some("C".into()),
            visit: Some(3),
            at: 1,
        };
        let json = serde_json::to_string(&event).unwrap_or_default();
        assert!(json.contains("\"topic\":\"visit:3\""), "{json}");
        assert!(json.contains("\"kind\":\"room.status\""), "{json}");
        assert_eq!(serde_json::from_str::<LiveEvent>(&json).ok(), Some(event));
    }

    #[test]
    fn a_wire_message_reads_back() {
        let change = SseMessage::parse("id: 12\nevent: change\ndata: {\"id\":12}\n\n");
        assert_eq!(
            change,
            Some(SseMessage {
                name: "change",
                id: Some(12),
                data: "{\"id\":12}"
            })
        );
        let beat = SseMessage::parse("event: heartbeat\ndata: {}\n\n");
        assert_eq!(beat.map(|m| (m.name, m.id)), Some(("heartbeat", None)));
        for bad in [
            "",
            "data: {}\n\n",
            "event: change\n\n",
            "id: x\nevent: change\ndata: {}",
        ] {
            assert_eq!(SseMessage::parse(bad), None, "{bad:?}");
        }
    }
}
