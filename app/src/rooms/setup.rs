//! Setting the clinic's rooms up: an administrator adds, renames and retires them.
//! A room once used is retired, never deleted, so that what happened in it stays told.

use crate::error::AppError;
use leptos::prelude::*;

/// A room code as signs and labels show it: "EX1", "PROC-2".
pub fn is_room_code(code: &str) -> bool {
    (1..=12).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// Adds a room (no `room_id`) or changes one: code, name, kind and place in the lists.
/// A new room is free; a room's kind does not change while a patient is in it.
#[server(prefix = "/api", endpoint = "save_room", client = crate::shell::SubmissionClient)]
pub async fn save_room(
    #[server(default)] room_id: Option<i64>,
    code: String,
    name: String,
    kind: String,
    #[server(default)] sort_order: i64,
) -> Result<i64, AppError> {
    use super::{RoomKind, RoomStatus};
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    use crate::store::StoreError;
    let principal = require(Capability::SetUpFacility).await?;
    let mut checks = Checks::new();
    let code = checks.text("code", &code.to_uppercase(), 12);
    if !code.is_empty() && !is_room_code(&code) {
        checks.fail("code", Problem::Malformed);
    }
    let name = checks.text("name", &name, 60);
    let kind = RoomKind::from_code(kind.trim());
    if kind.is_none() {
        checks.fail("room_kind", Problem::Malformed);
    }
    if !(0..=9999).contains(&sort_order) {
        checks.fail("sort_order", Problem::Implausible);
    }
    checks.finish()?;
    let kind = kind.ok_or(AppError::Malformed)?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let (id, status, action) = match room_id {
        None => {
            let room = super::store::NewRoom {
                code: &code,
                name: &name,
                kind,
                status: RoomStatus::Unoccupied,
                sort_order,
            };
            let id = super::store::create(&mut tx, facility_id, &room, clock.now).await?;
            (id, RoomStatus::Unoccupied, "room.create")
        }
        Some(id) => {
            let room = match super::store::get_in(&mut tx, facility_id, id).await {
                Err(StoreError::NotFound) => return Err(AppError::invalid("room_id", Problem::NotAllowed)),
                other => other?,
            };
            if room.kind != kind && room.status == RoomStatus::Occupied {
                return Err(AppError::refused(crate::error::Refusal::RoomNotAvailable));
            }
            if !super::store::update(&mut tx, facility_id, id, &code, &name, kind, sort_order).await? {
                return Err(AppError::invalid("room_id", Problem::NotAllowed));
            }
            (id, room.status, "room.update")
        }
    };
    super::store::announce_status(&mut tx, id, status, clock.now).await?;
    let entry = Entry::by(&principal, action, Outcome::Allowed)
        .record(format!("room/{id}"))
        .detail(format!("{code} {name} ({kind})"));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// Retires a room no patient is in: it leaves every list and takes no one again; its
/// history stays. Its equipment is left without a room.
#[server(prefix = "/api", endpoint = "retire_room", client = crate::shell::SubmissionClient)]
pub async fn retire_room(room_id: i64) -> Result<(), AppError> {
    use super::RoomStatus;
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::Problem;
    use crate::store::StoreError;
    let principal = require(Capability::SetUpFacility).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let room = match super::store::get_in(&mut tx, facility_id, room_id).await {
        Err(StoreError::NotFound) => return Err(AppError::invalid("room_id", Problem::NotAllowed)),
        other => other?,
    };
    if room.status == RoomStatus::Occupied {
        return Err(AppError::refused(crate::error::Refusal::RoomNotAvailable));
    }
    if !super::store::retire(&mut tx, facility_id, room_id, room.status, clock.now).await? {
        return Err(AppError::conflict());
    }
    super::store::announce_status(&mut tx, room_id, RoomStatus::Closed, clock.now).await?;
    let entry = Entry::by(&principal, "room.retire", Outcome::Allowed)
        .record(format!("room/{room_id}"))
        .detail(room.code);
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// A room as its set-up page shows it: what it is, and its place in the lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoomSetting {
    pub room: super::Room,
    pub sort_order: i64,
}

/// The clinic's rooms in use, for their set-up page (administrators).
#[server(prefix = "/api", endpoint = "rooms_to_set_up", client = crate::shell::SubmissionClient)]
pub async fn rooms_to_set_up() -> Result<Vec<RoomSetting>, AppError> {
    use crate::auth::{require, Capability};
    require(Capability::SetUpFacility).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let rooms = super::store::list(&store, facility_id).await?;
    let orders = super::store::sort_orders(&store, facility_id).await?;
    Ok(rooms
        .into_iter()
        .map(|room| RoomSetting {
            sort_order: orders
                .iter()
                .find(|(id, _)| *id == room.id)
                .map_or(0, |(_, order)| *order),
            room,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn room_codes_are_short_capitals_digits_and_dashes() {
        for ok in ["EX1", "PROC-2", "A"] {
            assert!(super::is_room_code(ok), "{ok}");
        }
        for bad in ["", "ex1", "EX 1", "SALLE-D-EXAMEN-1", "É1"] {
            assert!(!super::is_room_code(bad), "{bad}");
        }
    }
}
