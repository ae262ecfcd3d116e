//! Server functions of the rooms screen: authorise, validate, read, map the error.

use super::RoomOverview;
use crate::care::PatientAccess;
use crate::error::AppError;
use crate::facility::FacilityClock;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Every room with its patient, and the clock to show times with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsSnapshot {
    pub clock: FacilityClock,
    pub rooms: Vec<RoomOverview>,
}

/// One room with its patient, when this person may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    pub clock: FacilityClock,
    /// The occupant is left out unless this person may open the patient.
    pub room: RoomOverview,
    /// Why the patient is shown, when they are.
    pub access: Option<PatientAccess>,
    /// A patient is in the room whom this person may not open.
    pub restricted: Option<RestrictedOccupant>,
    /// The last cleaning attestation, if the room was ever cleaned through Plateau.
    pub last_cleaning: Option<super::Cleaning>,
    /// The procedures of the patient in the room, when shown.
    pub procedures: Vec<crate::procedures::Procedure>,
    /// What this person may order for the patient (a physician's catalog), else empty.
    pub order_catalog: Vec<crate::procedures::ProcedureKind>,
}

/// A patient present in the room but outside this person's care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestrictedOccupant {
    pub patient_id: i64,
    /// They may open the patient anyway by breaking the glass.
    pub may_break_glass: bool,
}

#[server(prefix = "/api", endpoint = "rooms", client = crate::shell::SubmissionClient)]
pub async fn list_rooms() -> Result<RoomsSnapshot, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::ViewRooms).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let mut rooms = match facility_id {
        Some(id) => super::store::overview(&store, id).await?,
        None => Vec::new(),
    };
    // The rooms screen names the patients in the rooms: a read of each one's data.
    let shown = rooms.iter_mut().filter_map(|r| r.occupant.as_mut());
    crate::care::show_on_list(&store, &principal, "rooms", shown, &[]).await?;
    Ok(RoomsSnapshot { clock, rooms })
}

#[server(prefix = "/api", endpoint = "room", client = crate::shell::SubmissionClient)]
pub async fn load_room(room_id: i64) -> Result<RoomSnapshot, AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::Capability;
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if room_id <= 0 {
        checks.fail("room_id", Problem::Malformed);
    }
    checks.finish()?;
    let principal = crate::auth::require(Capability::ViewRooms).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let mut room = super::store::overview_of(&store, facility_id, room_id).await?;
    let last_cleaning = super::store::last_cleaning(&store, room_id).await?;
    let record = format!("room/{room_id}");
    let Some(occupant) = room.occupant.take() else {
        return Ok(RoomSnapshot {
            clock,
            room,
            access: None,
            restricted: None,
            last_cleaning,
            procedures: Vec::new(),
            order_catalog: Vec::new(),
        });
    };
    let patient_id = occupant.patient.id;
    let access =
        crate::care::store::access_to(&store, &principal, patient_id, occupant.visit_id, clock.now).await?;
    let entry = Entry::by(
        &principal,
        "patient.read",
        if access.is_some() {
            Outcome::Allowed
        } else {
            Outcome::Refused
        },
    )
    .patient(patient_id)
    .record(record)
    .break_glass(access == Some(PatientAccess::BreakGlass));
    audit::record(&store, entry).await?;
    let restricted = access.is_none().then(|| RestrictedOccupant {
        patient_id,
        may_break_glass: principal.can(Capability::BreakGlass),
    });
    let (mut procedures, mut order_catalog) = (Vec::new(), Vec::new());
    if access.is_some() {
        procedures = crate::procedures::store::of_visit(&store, facility_id, occupant.visit_id).await?;
        if principal.can(Capability::OrderProcedures) {
            order_catalog = crate::procedures::store::catalog(&store, facility_id).await?;
            order_catalog.retain(|k| k.active);
        }
        room.occupant = Some(occupant);
    }
    Ok(RoomSnapshot {
        clock,
        room,
        access,
        restricted,
        last_cleaning,
        procedures,
        order_catalog,
    })
}

/// Sets a room's status by hand (closed, contaminated, available again), if it is still
/// `from`: when two people act on the same room at once, the second is told it changed.
/// Every screen following the rooms sees the change at once.
#[server(prefix = "/api", endpoint = "room_status", client = crate::shell::SubmissionClient)]
pub async fn change_room_status(room_id: i64, from: String, to: String) -> Result<(), AppError> {
    use super::RoomStatus;
    use crate::audit::{self, Entry, Outcome};
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if room_id <= 0 {
        checks.fail("room_id", Problem::Malformed);
    }
    let change = checks.manual_change((&from, &to), RoomStatus::from_code, RoomStatus::manual_changes);
    checks.finish()?;
    let (from, to) = change.ok_or(AppError::Internal)?;
    let principal = crate::auth::require(crate::auth::Capability::ChangeRoomStatus).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let now = clock.now;
    let mut tx = store.begin().await?;
    let room = super::store::get_in(&mut tx, facility_id, room_id).await?;
    if !super::store::change_status(&mut tx, facility_id, room_id, from, to, now).await? {
        // Someone else changed it first: nothing is written, and they are told.
        drop(tx);
        tracing::info!(room_id, expected = %from, found = %room.status, "room status changed meanwhile");
        return Err(AppError::conflict());
    }
    let entry = Entry::by(&principal, "room.status", Outcome::Allowed)
        .record(format!("room/{room_id}"))
        .detail(format!("{from} -> {to}"));
    audit::store::record_in(&mut tx, entry).await?;
    super::store::announce_status(&mut tx, room_id, to, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Attests that a room waiting for cleaning (housekeeping or contaminated) was cleaned,
/// every item of its kind's checklist ticked: the only way it becomes available again.
#[server(prefix = "/api", endpoint = "attest_cleaning", client = crate::shell::SubmissionClient)]
pub async fn attest_cleaning(
    room_id: i64,
    from: String,
    #[server(default)] items: Vec<String>,
) -> Result<(), AppError> {
    use super::{CleaningItem, RoomStatus};
    use crate::audit::{self, Entry, Outcome};
    use crate::error::Refusal;
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if room_id <= 0 {
        checks.fail("room_id", Problem::Malformed);
    }
    let from = RoomStatus::from_code(&from).filter(|s| s.needs_cleaning());
    if from.is_none() {
        checks.fail("from", Problem::Malformed);
    }
    let items = crate::positioning::parse_code_list::<CleaningItem>(items.iter().map(String::as_str));
    if items.is_none() {
        checks.fail("items", Problem::Malformed);
    }
    checks.finish()?;
    let (Some(from), Some(items)) = (from, items) else {
        return Err(AppError::Internal);
    };
    let principal = crate::auth::require(crate::auth::Capability::ChangeRoomStatus).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let now = clock.now;
    let mut tx = store.begin().await?;
    let room = super::store::get_in(&mut tx, facility_id, room_id).await?;
    if !room.status.needs_cleaning() {
        return Err(AppError::refused(Refusal::RoomNotAwaitingCleaning));
    }
    if room
        .kind
        .cleaning_checklist()
        .iter()
        .any(|item| !items.contains(item))
    {
        return Err(AppError::refused(Refusal::ChecklistIncomplete));
    }
    if !super::store::change_status(&mut tx, facility_id, room_id, from, RoomStatus::Unoccupied, now).await? {
        return Err(AppError::conflict());
    }
    super::store::attest_cleaning(&mut tx, room_id, from, principal.staff_member_id, &items, now).await?;
    let entry = Entry::by(&principal, "room.cleaned", Outcome::Allowed)
        .record(format!("room/{room_id}"))
        .detail(crate::positioning::join_codes(&items));
    audit::store::record_in(&mut tx, entry).await?;
    super::store::announce_status(&mut tx, room_id, RoomStatus::Unoccupied, now).await?;
    tx.commit().await?;
    Ok(())
}
