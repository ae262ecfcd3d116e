//! One action on a procedure, start to end: who may act, on the version they saw, in one
//! transaction, audited, and told to every live screen. The server functions say what
//! to do; this says how it is done safely.

use super::store::{self as orders, Change, OrderState};
use super::{ProcedureKind, ProcedureState, ProcedureStep, StaffingRole, Supervision};
use crate::auth::{Capability, Principal};
use crate::equipment::EquipmentState;
use crate::error::validate::Checks;
use crate::error::Refusal;
use crate::error::{AppError, Problem};
use crate::live::{EventKind, NewEvent, Topic};
use crate::patients::VisitState;
use crate::positioning::{BodyPosition, PressurePoint, Support};
use crate::rooms::RoomStatus;
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};

pub fn check_ids(checks: &mut Checks, procedure_id: i64, version: i64) {
    if procedure_id <= 0 {
        checks.fail("procedure_id", Problem::Malformed);
    }
    if version <= 0 {
        checks.fail("version", Problem::Malformed);
    }
}

/// The patient must be in this person's care (or opened through break-glass). A refusal
/// is written to the audit trail on its own transaction: call this before opening one,
/// never with a transaction open (on SQLite the audit row needs the one write connection).
pub async fn require_access(
    store: &Store,
    principal: &Principal,
    patient_id: i64,
    visit_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match crate::care::store::access_to(store, principal, patient_id, visit_id, now).await? {
        Some(_) => Ok(()),
        None => {
            let entry = crate::audit::Entry::by(principal, "patient.read", crate::audit::Outcome::Refused)
                .patient(patient_id)
                .record(format!("visit/{visit_id}"));
            crate::audit::record(store, entry).await?;
            Err(refuse(AppError::NotAssigned))
        }
    }
}

/// Like [`require_access`], and also open to whoever may take a procedure still waiting in
/// the queue (ordered or roomed, not started): they are meant to do it, and the queue
/// sends them there. Such an opening is audited with its reason; acting on the procedure
/// then puts them on the care team. Answers whether the queue was the way in.
pub async fn require_access_or_queue(
    store: &Store,
    principal: &Principal,
    patient_id: i64,
    visit_id: i64,
    state: ProcedureState,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let queued = matches!(state, ProcedureState::Ordered | ProcedureState::Roomed);
    if !queued || !principal.can(Capability::PerformProcedures) {
        require_access(store, principal, patient_id, visit_id, now).await?;
        return Ok(false);
    }
    if crate::care::store::access_to(store, principal, patient_id, visit_id, now)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let entry = crate::audit::Entry::by(principal, "patient.read.queue", crate::audit::Outcome::Allowed)
        .patient(patient_id)
        .record(format!("visit/{visit_id}"))
        .detail("a queued procedure this person may take");
    crate::audit::record(store, entry).await?;
    Ok(true)
}

/// The visits of queued procedures in `open` that `principal` may take (and so open).
pub fn takeable_visits(principal: &Principal, open: &[super::Procedure]) -> Vec<i64> {
    if !principal.can(Capability::PerformProcedures) {
        return Vec::new();
    }
    open.iter()
        .filter(|p| matches!(p.state, ProcedureState::Ordered | ProcedureState::Roomed))
        .map(|p| p.visit.visit_id)
        .collect()
}

/// The answer about a procedure or visit that does not exist: the refusal one of someone
/// else's patient gets, audited alike, so that probing ids tells nothing.
pub async fn refused_unknown(store: &Store, principal: &Principal, record: String) -> AppError {
    let entry =
        crate::audit::Entry::by(principal, "patient.read", crate::audit::Outcome::Refused).record(record);
    if let Err(error) = crate::audit::record(store, entry).await {
        return error.into();
    }
    refuse(AppError::NotAssigned)
}

fn refuse(error: AppError) -> AppError {
    crate::error::set_response_status(&error);
    error
}

/// Writes the audit entry and the live events of a change to a procedure.
#[allow(clippy::too_many_arguments)] // one audit row and one event, field by field
pub async fn record(
    tx: &mut Tx,
    principal: &Principal,
    action: &str,
    patient_id: i64,
    procedure_id: i64,
    visit_id: i64,
    detail: String,
    state: ProcedureState,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let entry = crate::audit::Entry::by(principal, action, crate::audit::Outcome::Allowed)
        .patient(patient_id)
        .record(format!("procedure/{procedure_id}"))
        .detail(detail);
    crate::audit::store::record_in(tx, entry).await?;
    for topic in [Topic::Rooms, Topic::Visit(visit_id)] {
        let event = NewEvent {
            topic,
            kind: EventKind::Procedure,
            subject: Some(procedure_id),
            code: Some(state.code().to_owned()),
            visit: Some(visit_id),
        };
        crate::live::store::record(tx, &event, now).await?;
    }
    Ok(())
}

pub struct Acting {
    principal: Principal,
    facility_id: i64,
    now: DateTime<Utc>,
    today: NaiveDate,
    tx: Tx,
    order: OrderState,
    kind: ProcedureKind,
    patient_id: i64,
    /// The order's version was already moved on by this action.
    advanced: bool,
    rooms_changed: Vec<(i64, RoomStatus)>,
}

impl Acting {
    /// Opens the action: the person may perform procedures, the procedure exists and is
    /// still as they saw it (else `Conflict`), and its patient is in their care.
    pub async fn begin(procedure_id: i64, version: i64) -> Result<Acting, AppError> {
        let principal = crate::auth::require(Capability::PerformProcedures).await?;
        let store = crate::store::from_context()?;
        let (facility_id, clock) = crate::facility::current_clock(&store).await?;
        let facility_id = facility_id.ok_or_else(AppError::not_found)?;
        // Whose procedure it is, and whether they are in this person's care, before the
        // transaction: a refusal is audited without holding the writer.
        // An id that names no procedure is answered like one of a patient outside this
        // person's care (and audited alike): probing ids tells nothing of what exists.
        let seen = match orders::state_in(store.read(), facility_id, procedure_id).await {
            Err(StoreError::NotFound) => {
                return Err(refused_unknown(&store, &principal, format!("procedure/{procedure_id}")).await)
            }
            other => other?,
        };
        let visit_id = seen.visit_id;
        let Some(patient_id) = crate::patients::store::patient_of_visit(&store, visit_id).await? else {
            return Err(refused_unknown(&store, &principal, format!("procedure/{procedure_id}")).await);
        };
        let from_queue =
            require_access_or_queue(&store, &principal, patient_id, visit_id, seen.state, clock.now).await?;
        let mut tx = store.begin().await?;
        let order = orders::state_in(tx.exec(), facility_id, procedure_id).await?;
        if order.version != version {
            tracing::info!(
                procedure_id,
                version,
                current = order.version,
                "procedure changed meanwhile"
            );
            return Err(AppError::conflict());
        }
        let kind = orders::kind_in(&mut tx, facility_id, order.procedure_kind_id).await?;
        if from_queue {
            // Taking a queued procedure puts its taker on the patient's care team, in the
            // transaction of what they do (the trail has the action).
            crate::care::store::assign(&mut tx, visit_id, principal.staff_member_id, clock.now).await?;
        }
        Ok(Acting {
            principal,
            facility_id,
            now: clock.now,
            today: clock.today(),
            tx,
            order,
            kind,
            patient_id,
            advanced: false,
            rooms_changed: Vec::new(),
        })
    }

    fn next(&self, step: ProcedureStep) -> Result<ProcedureState, AppError> {
        self.order.state.after(step).map_err(AppError::refused)
    }

    async fn advance(&mut self, to: ProcedureState, change: Change<'_>) -> Result<(), AppError> {
        if !orders::advance(
            &mut self.tx,
            self.order.id,
            self.order.version,
            to,
            change,
            self.now,
        )
        .await?
        {
            return Err(AppError::conflict());
        }
        self.order.state = to;
        self.advanced = true;
        Ok(())
    }

    async fn set_room(&mut self, room_id: i64, from: RoomStatus, to: RoomStatus) -> Result<bool, AppError> {
        let changed =
            crate::rooms::store::change_status(&mut self.tx, self.facility_id, room_id, from, to, self.now)
                .await?;
        if changed {
            self.rooms_changed.push((room_id, to));
        }
        Ok(changed)
    }

    /// Brings the patient into `room_id`; the room they leave goes to housekeeping.
    pub async fn room(&mut self, room_id: i64) -> Result<(), AppError> {
        let next = self.next(ProcedureStep::Room)?;
        let room = match crate::rooms::store::get_in(&mut self.tx, self.facility_id, room_id).await {
            Err(StoreError::NotFound) => return Err(AppError::invalid("room_id", Problem::NotAllowed)),
            other => other?,
        };
        if !room.kind.takes_procedures() {
            return Err(AppError::refused(Refusal::RoomNotForPatients));
        }
        if !room.status.is_available() {
            return Err(AppError::refused(Refusal::RoomNotAvailable));
        }
        let visit_id = self.order.visit_id;
        let (from_room, visit_state) =
            crate::patients::store::whereabouts(&mut self.tx, self.facility_id, visit_id).await?;
        if visit_state == VisitState::Done {
            return Err(AppError::refused(Refusal::VisitEnded));
        }
        if let Some(from_room) = from_room {
            if orders::others_open_in_room(&mut self.tx, visit_id, from_room, self.order.id).await? > 0 {
                return Err(AppError::refused(Refusal::PatientInAnotherRoom));
            }
        }
        // The room first: of two tablets rooming patients into it at once, the second
        // waits on its row and then finds it occupied.
        if !self
            .set_room(room_id, RoomStatus::Unoccupied, RoomStatus::Occupied)
            .await?
        {
            return Err(AppError::conflict());
        }
        let moved = crate::patients::store::move_visit(
            &mut self.tx,
            visit_id,
            from_room,
            Some(room_id),
            VisitState::InProcedure,
            self.now,
        )
        .await?;
        if !moved {
            return Err(AppError::conflict());
        }
        if let Some(from_room) = from_room {
            self.set_room(from_room, RoomStatus::Occupied, RoomStatus::Housekeeping)
                .await?;
        }
        self.advance(next, Change::Roomed { room_id }).await
    }

    /// The performer's standing on this procedure today, if there is one.
    async fn performer(&mut self) -> Result<(Option<Supervision>, Option<bool>), AppError> {
        let team = orders::staff_in(&mut self.tx, self.order.id).await?;
        let supervisor = team
            .iter()
            .find(|(_, role, _)| *role == StaffingRole::Supervisor)
            .map(|(_, _, present)| *present);
        let Some((performer_id, _, _)) = team.iter().find(|(_, role, _)| *role == StaffingRole::Performer)
        else {
            return Ok((None, supervisor));
        };
        let candidate = orders::candidate(&mut self.tx, self.facility_id, *performer_id).await?;
        let supervision = candidate
            .may_perform(&self.kind, self.today)
            .map_err(AppError::refused)?;
        Ok((Some(supervision), supervisor))
    }

    pub async fn step(&mut self, step: ProcedureStep, reason: &str) -> Result<(), AppError> {
        let next = self.next(step)?;
        let by = self.principal.staff_member_id;
        match step {
            ProcedureStep::Start => {
                let (performer, supervisor) = self.performer().await?;
                super::may_start(performer, supervisor).map_err(AppError::refused)?;
                let held = crate::equipment::store::held_by(&mut self.tx, self.order.id).await?;
                if self
                    .kind
                    .equipment
                    .iter()
                    .any(|kind| !held.iter().any(|item| item.kind == *kind))
                {
                    return Err(AppError::refused(Refusal::EquipmentNotReserved));
                }
                for item in held {
                    crate::equipment::store::set_state(
                        &mut self.tx,
                        item.id,
                        EquipmentState::InUse,
                        self.now,
                    )
                    .await?;
                }
                self.advance(next, Change::Started { by }).await
            }
            ProcedureStep::Complete => {
                self.advance(next, Change::Completed { by }).await?;
                self.end().await
            }
            ProcedureStep::Cancel => {
                self.advance(next, Change::Cancelled { by, reason }).await?;
                self.end().await
            }
            ProcedureStep::Room => Err(AppError::invalid("step", Problem::Malformed)),
        }
    }

    /// After the procedure ends: its equipment is released, and the patient leaves the
    /// room (which goes to housekeeping) unless another of their procedures goes on there.
    async fn end(&mut self) -> Result<(), AppError> {
        for item in crate::equipment::store::held_by(&mut self.tx, self.order.id).await? {
            let after_use = if item.kind.needs_sterilising() {
                EquipmentState::Sterilising
            } else {
                EquipmentState::Available
            };
            crate::equipment::store::set_state(&mut self.tx, item.id, after_use, self.now).await?;
        }
        crate::equipment::store::release(&mut self.tx, self.order.id, self.now).await?;
        let Some(room_id) = self.order.room_id else {
            return Ok(());
        };
        let visit_id = self.order.visit_id;
        if orders::others_open_in_room(&mut self.tx, visit_id, room_id, self.order.id).await? > 0 {
            return Ok(());
        }
        // Back to the waiting room when nothing else is queued: the visit ends when the
        // patient leaves (`end_visit`), which the discharge hold may stop.
        let next_state = if orders::waiting_of_visit(&mut self.tx, visit_id).await? > 0 {
            VisitState::Queued
        } else {
            VisitState::Waiting
        };
        let left = crate::patients::store::move_visit(
            &mut self.tx,
            visit_id,
            Some(room_id),
            None,
            next_state,
            self.now,
        )
        .await?;
        if left {
            self.set_room(room_id, RoomStatus::Occupied, RoomStatus::Housekeeping)
                .await?;
        }
        Ok(())
    }

    pub async fn assign(&mut self, staff_member_id: i64, role: StaffingRole) -> Result<(), AppError> {
        if !self.order.state.is_open() {
            return Err(AppError::refused(Refusal::AlreadyEnded));
        }
        if role != StaffingRole::Helper && self.order.state == ProcedureState::InProgress {
            return Err(AppError::refused(Refusal::AlreadyStarted));
        }
        let candidate = match orders::candidate(&mut self.tx, self.facility_id, staff_member_id).await {
            Err(StoreError::NotFound) => {
                return Err(AppError::invalid("staff_member_id", Problem::NotAllowed))
            }
            other => other?,
        };
        let team = orders::staff_in(&mut self.tx, self.order.id).await?;
        let taken = team
            .iter()
            .any(|(id, r, _)| *id == staff_member_id || (*r == role && role != StaffingRole::Helper));
        if taken {
            return Err(AppError::refused(Refusal::AlreadyAssigned));
        }
        candidate
            .may_take(role, &self.kind, self.today)
            .map_err(AppError::refused)?;
        let by = self.principal.staff_member_id;
        orders::assign(&mut self.tx, self.order.id, staff_member_id, role, by, self.now).await?;
        crate::care::store::assign(&mut self.tx, self.order.visit_id, staff_member_id, self.now).await?;
        Ok(())
    }

    pub async fn unassign(&mut self, staff_member_id: i64) -> Result<(), AppError> {
        if !self.order.state.is_open() {
            return Err(AppError::refused(Refusal::AlreadyEnded));
        }
        let team = orders::staff_in(&mut self.tx, self.order.id).await?;
        let Some((_, role, _)) = team.iter().find(|(id, _, _)| *id == staff_member_id) else {
            return Err(AppError::not_found());
        };
        if *role != StaffingRole::Helper && self.order.state == ProcedureState::InProgress {
            return Err(AppError::refused(Refusal::AlreadyStarted));
        }
        orders::unassign(&mut self.tx, self.order.id, staff_member_id).await?;
        Ok(())
    }

    /// Whether the person acting is this procedure's supervisor.
    async fn acting_as_supervisor(&mut self) -> Result<bool, AppError> {
        let me = self.principal.staff_member_id;
        let team = orders::staff_in(&mut self.tx, self.order.id).await?;
        Ok(team
            .iter()
            .any(|(id, role, _)| *id == me && *role == StaffingRole::Supervisor))
    }

    pub async fn attest_supervision(&mut self) -> Result<(), AppError> {
        if !self.order.state.is_open() {
            return Err(AppError::refused(Refusal::AlreadyEnded));
        }
        if !self.acting_as_supervisor().await? {
            return Err(AppError::refused(Refusal::NotTheSupervisor));
        }
        let me = self.principal.staff_member_id;
        if !orders::attest_presence(&mut self.tx, self.order.id, me, self.now).await? {
            return Err(AppError::conflict());
        }
        Ok(())
    }

    /// The supervisor co-signs the work they supervised, once it is done.
    pub async fn cosign(&mut self, note: Option<&str>) -> Result<(), AppError> {
        let supervisor = self.acting_as_supervisor().await?;
        super::may_cosign(self.order.state, supervisor).map_err(AppError::refused)?;
        let me = self.principal.staff_member_id;
        if !orders::cosign(&mut self.tx, self.order.id, me, note, self.now).await? {
            return Err(AppError::refused(Refusal::AlreadyCosigned));
        }
        Ok(())
    }

    pub async fn position(
        &mut self,
        position: BodyPosition,
        supports: &[Support],
        points: &[PressurePoint],
    ) -> Result<(), AppError> {
        if !matches!(
            self.order.state,
            ProcedureState::Roomed | ProcedureState::InProgress
        ) {
            return Err(AppError::refused(if self.order.state.is_open() {
                Refusal::NotRoomed
            } else {
                Refusal::AlreadyEnded
            }));
        }
        let placement = crate::positioning::store::NewPositioning {
            procedure_id: self.order.id,
            position,
            supports,
            points,
            placed_by: self.principal.staff_member_id,
        };
        crate::positioning::store::record(&mut self.tx, &placement, self.now).await?;
        Ok(())
    }

    pub async fn reserve(&mut self, equipment_id: i64) -> Result<(), AppError> {
        if !self.order.state.is_open() {
            return Err(AppError::refused(Refusal::AlreadyEnded));
        }
        let item = match crate::equipment::store::get_in(&mut self.tx, self.facility_id, equipment_id).await {
            Err(StoreError::NotFound) => return Err(AppError::invalid("equipment_id", Problem::NotAllowed)),
            other => other?,
        };
        if !self.kind.equipment.contains(&item.kind) {
            return Err(AppError::refused(Refusal::EquipmentNotNeeded));
        }
        if item.state != EquipmentState::Available || item.held_by.is_some() {
            return Err(AppError::refused(Refusal::EquipmentUnavailable));
        }
        let by = self.principal.staff_member_id;
        match crate::equipment::store::reserve(&mut self.tx, equipment_id, self.order.id, by, self.now).await
        {
            // Reserved by someone else in the same instant.
            Err(StoreError::Unique { .. }) => Err(AppError::refused(Refusal::EquipmentUnavailable)),
            other => Ok(other?),
        }
    }

    /// Audits the action, tells every live screen, and commits.
    pub async fn finish(mut self, action: &str, detail: String) -> Result<(), AppError> {
        if !self.advanced && !orders::touch(&mut self.tx, self.order.id, self.order.version).await? {
            return Err(AppError::conflict());
        }
        for (room_id, status) in std::mem::take(&mut self.rooms_changed) {
            crate::rooms::store::announce_status(&mut self.tx, room_id, status, self.now).await?;
        }
        record(
            &mut self.tx,
            &self.principal,
            action,
            self.patient_id,
            self.order.id,
            self.order.visit_id,
            detail,
            self.order.state,
            self.now,
        )
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
