//! Server functions of a visit's life: check-in, calling in, ending with the discharge
//! hold, and following up what was still pending.

use super::{Discharge, FollowUp, VisitAtDesk};
use crate::error::AppError;
use leptos::prelude::*;

/// Checks a patient in: their visit begins, they wait in the waiting room (the board
/// shows them at once), and the attending physician and the care team named may open
/// their record. Returns the visit.
#[server(prefix = "/api", endpoint = "check_in", client = crate::shell::SubmissionClient)]
pub async fn check_in(
    patient_id: i64,
    reason: String,
    #[server(default)] attending_id: Option<i64>,
    #[server(default)] care_team: Vec<i64>,
) -> Result<i64, AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::Refusal;
    use crate::error::{validate::Checks, Problem};
    use crate::patients::store::{create_visit, NewVisit};
    use crate::patients::VisitState;
    use crate::staff::StaffRole;
    let principal = require(Capability::RegisterPatients).await?;
    let mut checks = Checks::new();
    let reason = checks.text("reason", &reason, super::VISIT_REASON_MAX);
    if care_team.len() > super::CARE_TEAM_MAX {
        checks.fail("care_team", Problem::TooLong);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    match super::store::patient_merged(&mut tx, facility_id, patient_id).await? {
        None => return Err(AppError::invalid("patient_id", Problem::NotAllowed)),
        Some(true) => return Err(AppError::refused(Refusal::RecordMerged)),
        Some(false) => {}
    }
    if super::store::open_visit_of(&mut tx, patient_id).await?.is_some() {
        return Err(AppError::refused(Refusal::AlreadyCheckedIn));
    }
    let mut checks = Checks::new();
    if let Some(attending) = attending_id {
        if !super::store::active_with_role(&mut tx, facility_id, attending, &[StaffRole::Physician]).await? {
            checks.fail("attending_id", Problem::NotAllowed);
        }
    }
    for member in &care_team {
        if !super::store::active_with_role(&mut tx, facility_id, *member, &super::CLINICIANS).await? {
            checks.fail("care_team", Problem::NotAllowed);
            break;
        }
    }
    checks.finish()?;
    let visit_id = create_visit(
        &mut tx,
        &NewVisit {
            patient_id,
            reason: &reason,
            arrived_at: clock.now,
            state: VisitState::Waiting,
            room_id: None,
            ended_at: None,
        },
    )
    .await?;
    crate::execute!(
        tx.exec(),
        "UPDATE visit SET attending_id = $1 WHERE id = $2",
        attending_id,
        visit_id
    )?;
    for member in attending_id.iter().chain(&care_team) {
        crate::care::store::assign(&mut tx, visit_id, *member, clock.now).await?;
    }
    super::store::announce(&mut tx, visit_id, VisitState::Waiting, clock.now).await?;
    let entry = Entry::by(&principal, "visit.check_in", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("visit/{visit_id}"))
        .detail(reason);
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(visit_id)
}

/// Calls a waiting patient into an exam room, which must be free; the caller joins the
/// care team. A room the patient leaves goes to housekeeping.
#[server(prefix = "/api", endpoint = "call_patient", client = crate::shell::SubmissionClient)]
pub async fn call_patient(visit_id: i64, room_id: i64) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::Problem;
    use crate::error::Refusal;
    use crate::patients::VisitState;
    use crate::rooms::{RoomKind, RoomStatus};
    use crate::store::StoreError;
    let principal = require(Capability::CallPatients).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let room = match crate::rooms::store::get_in(&mut tx, facility_id, room_id).await {
        Err(StoreError::NotFound) => return Err(AppError::invalid("room_id", Problem::NotAllowed)),
        other => other?,
    };
    if room.kind != RoomKind::Exam {
        return Err(AppError::refused(Refusal::RoomNotForExams));
    }
    if !room.status.is_available() {
        return Err(AppError::refused(Refusal::RoomNotAvailable));
    }
    let (from_room, state) = match crate::patients::store::whereabouts(&mut tx, facility_id, visit_id).await {
        Err(StoreError::NotFound) => return Err(AppError::invalid("visit_id", Problem::NotAllowed)),
        other => other?,
    };
    match state {
        VisitState::Done => return Err(AppError::refused(Refusal::VisitEnded)),
        VisitState::InProcedure => return Err(AppError::refused(Refusal::PatientInAnotherRoom)),
        VisitState::Waiting | VisitState::Queued | VisitState::InExam => {}
    }
    if !crate::rooms::store::change_status(
        &mut tx,
        facility_id,
        room_id,
        RoomStatus::Unoccupied,
        RoomStatus::Occupied,
        clock.now,
    )
    .await?
    {
        return Err(AppError::conflict());
    }
    crate::rooms::store::announce_status(&mut tx, room_id, RoomStatus::Occupied, clock.now).await?;
    if !crate::patients::store::move_visit(
        &mut tx,
        visit_id,
        from_room,
        Some(room_id),
        VisitState::InExam,
        clock.now,
    )
    .await?
    {
        return Err(AppError::conflict());
    }
    if let Some(from_room) = from_room {
        super::departure::leave_room(&mut tx, facility_id, from_room, clock.now).await?;
    }
    crate::care::store::assign(&mut tx, visit_id, principal.staff_member_id, clock.now).await?;
    super::store::announce(&mut tx, visit_id, VisitState::InExam, clock.now).await?;
    let patient_id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT patient_id FROM visit WHERE id = $1",
        visit_id
    )?;
    let entry = Entry::by(&principal, "visit.call", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("visit/{visit_id}"))
        .detail(room.code);
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a visit: the patient has gone home, their room goes to housekeeping. When a
/// result, a critical value, a specimen or a procedure is still pending, nothing is
/// changed and the pending items are answered, unless `reason` says why the patient
/// leaves anyway: then the visit ends and each item goes on the follow-up list.
#[server(prefix = "/api", endpoint = "end_visit", client = crate::shell::SubmissionClient)]
pub async fn end_visit(visit_id: i64, #[server(default)] reason: String) -> Result<Discharge, AppError> {
    use super::departure;
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    let principal = require(Capability::EndVisits).await?;
    let mut checks = Checks::new();
    let reason = checks.optional_text("reason", &reason, crate::care::REASON_MAX);
    if !reason.is_empty() && reason.chars().count() < crate::care::REASON_MIN {
        checks.fail("reason", Problem::TooShort);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let ended = departure::end(
        &mut tx,
        facility_id,
        visit_id,
        &reason,
        Some(principal.staff_member_id),
        clock.now,
    )
    .await?;
    let (patient_id, pending) = match ended {
        departure::Departure::Held(pending) => return Ok(Discharge::Held(pending)),
        departure::Departure::Ended { patient_id, pending } => (patient_id, pending),
    };
    let entry = Entry::by(&principal, "visit.end", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("visit/{visit_id}"))
        .detail(departure::audit_detail(&pending, &reason));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(Discharge::Ended {
        followed_up_later: pending,
    })
}

/// What visits were ended with and nobody has followed up yet, oldest first. Names
/// patients: an audited read.
#[server(prefix = "/api", endpoint = "discharge_follow_ups", client = crate::shell::SubmissionClient)]
pub async fn discharge_follow_ups() -> Result<Vec<FollowUp>, AppError> {
    use crate::auth::{require, Capability};
    let principal = require(Capability::SuperviseStaff).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let list = super::store::follow_ups(&store, facility_id).await?;
    crate::audit::record_patients_listed(
        &store,
        &principal,
        "visit.follow_ups",
        list.iter().map(|f| f.patient.id),
    )
    .await?;
    Ok(list)
}

/// Marks a pending item followed up (the result read, the patient called back).
#[server(prefix = "/api", endpoint = "follow_up", client = crate::shell::SubmissionClient)]
pub async fn mark_followed_up(id: i64) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    let principal = require(Capability::SuperviseStaff).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let Some(patient_id) =
        super::store::follow_up(&mut tx, facility_id, id, principal.staff_member_id, clock.now).await?
    else {
        return Err(AppError::not_found());
    };
    let entry = Entry::by(&principal, "visit.follow_up", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("discharge_pending/{id}"));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// The desk's view of a patient's visit: the one under way, or whom a check-in may name.
/// Names the patient: an audited read.
#[server(prefix = "/api", endpoint = "visit_desk", client = crate::shell::SubmissionClient)]
pub async fn visit_desk(patient_id: i64) -> Result<VisitAtDesk, AppError> {
    use crate::auth::{require, Capability};
    use crate::staff::StaffRole;
    let principal = require(Capability::RegisterPatients).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    if !super::store::is_patient_of(&store, facility_id, patient_id).await? {
        return Err(AppError::not_found());
    }
    let open = super::store::open_visit(&store, facility_id, patient_id).await?;
    let physicians = super::store::staff_holding(&store, facility_id, &[StaffRole::Physician]).await?;
    let clinicians = super::store::staff_holding(&store, facility_id, &super::CLINICIANS).await?;
    crate::audit::record_patients_listed(&store, &principal, "visit.read", [patient_id]).await?;
    Ok(VisitAtDesk {
        clock,
        open,
        physicians,
        clinicians,
    })
}
