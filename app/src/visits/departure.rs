//! How a visit ends, whoever ends it (a person at the clinic, or the front office's
//! system with an A03): the discharge hold, the room to housekeeping, the follow-up list,
//! the screens told. Runs in the caller's transaction, which audits and commits.

use super::PendingItem;
use crate::error::Refusal;
use crate::error::{AppError, Problem};
use crate::patients::VisitState;
use crate::store::{StoreError, Tx};
use chrono::{DateTime, Utc};

/// What ending a visit did.
pub enum Departure {
    /// Nothing changed: these are pending, and no reason was given.
    Held(Vec<PendingItem>),
    /// The visit ended; these pending items went on the follow-up list.
    Ended {
        patient_id: i64,
        pending: Vec<PendingItem>,
    },
}

/// The room a patient left goes to housekeeping, and the screens are told.
pub async fn leave_room(
    tx: &mut Tx,
    facility_id: i64,
    room_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use crate::rooms::RoomStatus;
    if crate::rooms::store::change_status(
        tx,
        facility_id,
        room_id,
        RoomStatus::Occupied,
        RoomStatus::Housekeeping,
        now,
    )
    .await?
    {
        crate::rooms::store::announce_status(tx, room_id, RoomStatus::Housekeeping, now).await?;
    }
    Ok(())
}

/// Ends a visit unless something is pending and `reason` is empty. `ended_by`: the staff
/// member, or `None` for the front office's system.
pub async fn end(
    tx: &mut Tx,
    facility_id: i64,
    visit_id: i64,
    reason: &str,
    ended_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Departure, AppError> {
    let (room, state) = match crate::patients::store::whereabouts(tx, facility_id, visit_id).await {
        Err(StoreError::NotFound) => return Err(AppError::invalid("visit_id", Problem::NotAllowed)),
        other => other?,
    };
    if state == VisitState::Done {
        return Err(AppError::refused(Refusal::VisitEnded));
    }
    let pending = super::store::pending(tx, visit_id).await?;
    if !pending.is_empty() && reason.trim().is_empty() {
        return Ok(Departure::Held(pending));
    }
    if !crate::patients::store::move_visit(tx, visit_id, room, None, VisitState::Done, now).await? {
        return Err(AppError::conflict());
    }
    if let Some(room) = room {
        leave_room(tx, facility_id, room, now).await?;
    }
    super::store::hold(tx, visit_id, &pending, reason, ended_by, now).await?;
    super::store::announce(tx, visit_id, VisitState::Done, now).await?;
    let patient_id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT patient_id FROM visit WHERE id = $1",
        visit_id
    )?;
    Ok(Departure::Ended { patient_id, pending })
}

/// What the audit trail says of a departure: each pending item, then the reason.
pub fn audit_detail(pending: &[PendingItem], reason: &str) -> String {
    let mut detail: Vec<String> = pending
        .iter()
        .map(|item| format!("{} {} ({})", item.kind, item.item_id, item.name_en))
        .collect();
    if !reason.is_empty() {
        detail.push(reason.to_owned());
    }
    detail.join("; ")
}
