//! Server functions of the back office: orders, rooming, staffing, the procedure's steps.
//! Each one authorises, validates, acts in one transaction guarded by the version the
//! person saw, audits, and tells every live screen.

// A server function takes its form's fields one by one: the catalog entry has ten.
#![allow(clippy::too_many_arguments)]

use super::{Procedure, ProcedureKind};
use crate::error::AppError;
use crate::facility::FacilityClock;
use crate::rooms::Room;
use crate::staff::StaffPresence;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The back-office queue and the catalog to order from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    pub clock: FacilityClock,
    /// Waiting procedures, stat first, then by waiting time.
    pub queue: Vec<Procedure>,
    /// Procedures with a patient in their room, started or not.
    pub under_way: Vec<Procedure>,
}

/// A staff member as the staffing form offers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChoice {
    pub staff_member_id: i64,
    pub name: String,
    pub presence: StaffPresence,
    /// Open procedures they are already on.
    pub load: usize,
}

/// Everything the procedure page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureSnapshot {
    pub clock: FacilityClock,
    pub procedure: Procedure,
    /// Rooms the patient may be brought to now.
    pub available_rooms: Vec<Room>,
    /// The room the patient is in now (the procedure's, once roomed), if any.
    pub patient_room: Option<Room>,
    pub staff: Vec<StaffChoice>,
    pub positioning: Vec<crate::positioning::Positioning>,
    pub reposition_reminder_minutes: i64,
    pub equipment: Vec<crate::equipment::EquipmentItem>,
    /// The person looking, to offer a supervisor their attestation.
    pub viewer_staff_member_id: i64,
}

/// What a physician orders from: the active catalog.
#[server(prefix = "/api", endpoint = "procedure_catalog", client = crate::shell::SubmissionClient)]
pub async fn procedure_catalog() -> Result<Vec<ProcedureKind>, AppError> {
    crate::auth::require(crate::auth::Capability::OrderProcedures).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(Vec::new());
    };
    let mut catalog = super::store::catalog(&store, facility_id).await?;
    catalog.retain(|k| k.active);
    Ok(catalog)
}

/// Checks what every order from the room names: the visit, what is ordered (its field
/// and id), the priority and the note.
pub fn checked_order(
    visit_id: i64,
    (field, ordered): (&str, i64),
    priority: &str,
    note: &str,
) -> Result<(super::Priority, String), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if visit_id <= 0 {
        checks.fail("visit_id", Problem::Malformed);
    }
    if ordered <= 0 {
        checks.fail(field, Problem::Required);
    }
    let priority = super::Priority::from_code(priority);
    if priority.is_none() {
        checks.fail("priority", Problem::Malformed);
    }
    let note = checks.optional_text("note", note, 500);
    checks.finish()?;
    Ok((priority.ok_or(AppError::Internal)?, note))
}

/// The physician orders a procedure for the visit of a patient in their care.
#[server(prefix = "/api", endpoint = "order_procedure", client = crate::shell::SubmissionClient)]
pub async fn order_procedure(
    visit_id: i64,
    kind_id: i64,
    priority: String,
    note: String,
) -> Result<i64, AppError> {
    use crate::error::Problem;
    let (priority, note) = super::checked_order(visit_id, ("kind_id", kind_id), &priority, &note)?;
    let principal = crate::auth::require(crate::auth::Capability::OrderProcedures).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let Some(patient_id) = crate::patients::store::patient_of_visit(&store, visit_id).await? else {
        return Err(super::act::refused_unknown(&store, &principal, format!("visit/{visit_id}")).await);
    };
    super::act::require_access(&store, &principal, patient_id, visit_id, clock.now).await?;
    let mut tx = store.begin().await?;
    let (_, visit_state) = crate::patients::store::whereabouts(&mut tx, facility_id, visit_id).await?;
    if visit_state == crate::patients::VisitState::Done {
        return Err(AppError::refused(crate::error::Refusal::VisitEnded));
    }
    let kind = match super::store::kind_in(&mut tx, facility_id, kind_id).await {
        Ok(kind) if kind.active => kind,
        Ok(_) | Err(crate::store::StoreError::NotFound) => {
            return Err(AppError::invalid("kind_id", Problem::NotAllowed))
        }
        Err(error) => return Err(error.into()),
    };
    let order = super::store::NewOrder {
        visit_id,
        kind_id: kind.id,
        priority,
        note: &note,
        ordered_by: principal.staff_member_id,
    };
    let id = super::store::order(&mut tx, &order, clock.now).await?;
    crate::care::store::assign(&mut tx, visit_id, principal.staff_member_id, clock.now).await?;
    let detail = format!("{} {}", kind.code, priority.code());
    super::act::record(
        &mut tx,
        &principal,
        "procedure.order",
        patient_id,
        id,
        visit_id,
        detail,
        super::ProcedureState::Ordered,
        clock.now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The back-office queue and what is under way.
#[server(prefix = "/api", endpoint = "procedure_queue", client = crate::shell::SubmissionClient)]
pub async fn procedure_queue() -> Result<QueueSnapshot, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::ViewRooms).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(QueueSnapshot {
            clock,
            queue: Vec::new(),
            under_way: Vec::new(),
        });
    };
    let mut open = super::store::open(&store, facility_id).await?;
    let takeable = super::takeable_visits(&principal, &open);
    let shown = open.iter_mut().map(|p| &mut p.visit);
    crate::care::show_on_list(&store, &principal, "procedures", shown, &takeable).await?;
    let queue = super::store::queue(&open);
    open.retain(|p| p.state != super::ProcedureState::Ordered);
    Ok(QueueSnapshot {
        clock,
        queue,
        under_way: open,
    })
}

/// One procedure with what staff need to carry it out.
#[server(prefix = "/api", endpoint = "procedure", client = crate::shell::SubmissionClient)]
pub async fn load_procedure(procedure_id: i64) -> Result<ProcedureSnapshot, AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if procedure_id <= 0 {
        checks.fail("procedure_id", Problem::Malformed);
    }
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::ViewRooms).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let procedure = match super::store::get(&store, facility_id, procedure_id).await {
        Err(crate::store::StoreError::NotFound) => {
            return Err(
                super::act::refused_unknown(&store, &principal, format!("procedure/{procedure_id}")).await,
            )
        }
        other => other?,
    };
    let patient_id = procedure.visit.patient.id;
    super::act::require_access_or_queue(
        &store,
        &principal,
        patient_id,
        procedure.visit.visit_id,
        procedure.state,
        clock.now,
    )
    .await?;
    let entry = crate::audit::Entry::by(&principal, "patient.read", crate::audit::Outcome::Allowed)
        .patient(patient_id)
        .record(format!("procedure/{procedure_id}"));
    crate::audit::record(&store, entry).await?;
    let (rooms, members, presences, open, positioning, settings, equipment) = tokio::try_join!(
        crate::rooms::store::list(&store, facility_id),
        crate::staff::store::list(&store, facility_id),
        crate::staff::store::presences(&store, facility_id),
        super::store::open(&store, facility_id),
        crate::positioning::store::history(&store, procedure_id),
        crate::facility::store::settings(&store, facility_id),
        crate::equipment::store::list(&store, facility_id),
    )?;
    let room_now = match procedure.room_id {
        Some(room) => Some(room),
        None => crate::patients::store::room_of_visit(&store, procedure.visit.visit_id).await?,
    };
    let patient_room = rooms.iter().find(|r| Some(r.id) == room_now).cloned();
    let available_rooms = rooms
        .into_iter()
        .filter(|r| r.kind.takes_procedures() && r.status.is_available())
        .collect();
    let staff = members
        .into_iter()
        .filter(|m| {
            m.roles
                .iter()
                .any(|r| crate::auth::allows(*r, crate::auth::Capability::PerformProcedures))
        })
        .map(|m| StaffChoice {
            staff_member_id: m.id,
            name: m.display_name(),
            presence: presences
                .iter()
                .find(|(id, _, _)| *id == m.id)
                .map_or(StaffPresence::Off, |(_, p, _)| *p),
            load: open
                .iter()
                .filter(|p| p.staff.iter().any(|s| s.staff_member_id == m.id))
                .count(),
        })
        .collect();
    Ok(ProcedureSnapshot {
        clock,
        procedure,
        available_rooms,
        patient_room,
        staff,
        positioning,
        reposition_reminder_minutes: settings.reposition_reminder_minutes,
        equipment,
        viewer_staff_member_id: principal.staff_member_id,
    })
}

/// Brings the patient to a procedure room: the room becomes occupied, the room they leave
/// goes to housekeeping at once.
#[server(prefix = "/api", endpoint = "room_patient", client = crate::shell::SubmissionClient)]
pub async fn room_patient(procedure_id: i64, version: i64, room_id: i64) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    if room_id <= 0 {
        checks.fail("room_id", Problem::Required);
    }
    checks.finish()?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.room(room_id).await?;
    acting.finish("procedure.room", format!("room/{room_id}")).await
}

/// Takes one step of the procedure's life: start, complete, or cancel with a reason.
#[server(prefix = "/api", endpoint = "take_procedure_step", client = crate::shell::SubmissionClient)]
pub async fn take_procedure_step(
    procedure_id: i64,
    version: i64,
    step: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    use super::ProcedureStep;
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    let step = ProcedureStep::from_code(&step).filter(|s| *s != ProcedureStep::Room);
    if step.is_none() {
        checks.fail("step", Problem::Malformed);
    }
    let reason = checks.optional_text("reason", &reason, 300);
    if step == Some(ProcedureStep::Cancel) && reason.is_empty() {
        checks.fail("reason", Problem::Required);
    }
    checks.finish()?;
    let step = step.ok_or(AppError::Internal)?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.step(step, &reason).await?;
    acting.finish(&format!("procedure.{}", step.code()), reason).await
}

/// Puts a person on the procedure, if the clinic's rules allow: qualified and certified,
/// at work, and a supervisor for those who need one.
#[server(prefix = "/api", endpoint = "assign_staff", client = crate::shell::SubmissionClient)]
pub async fn assign_staff(
    procedure_id: i64,
    version: i64,
    staff_member_id: i64,
    role: String,
) -> Result<(), AppError> {
    use super::StaffingRole;
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    if staff_member_id <= 0 {
        checks.fail("staff_member_id", Problem::Required);
    }
    let role = StaffingRole::from_code(&role);
    if role.is_none() {
        checks.fail("role", Problem::Malformed);
    }
    checks.finish()?;
    let role = role.ok_or(AppError::Internal)?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.assign(staff_member_id, role).await?;
    acting
        .finish(
            "procedure.assign",
            format!("staff/{staff_member_id} {}", role.code()),
        )
        .await
}

/// Takes a person off a procedure that has not started.
#[server(prefix = "/api", endpoint = "unassign_staff", client = crate::shell::SubmissionClient)]
pub async fn unassign_staff(procedure_id: i64, version: i64, staff_member_id: i64) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    if staff_member_id <= 0 {
        checks.fail("staff_member_id", Problem::Required);
    }
    checks.finish()?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.unassign(staff_member_id).await?;
    acting
        .finish("procedure.unassign", format!("staff/{staff_member_id}"))
        .await
}

/// The supervisor on a procedure attests, themself, being present.
#[server(prefix = "/api", endpoint = "attest_supervision", client = crate::shell::SubmissionClient)]
pub async fn attest_supervision(procedure_id: i64, version: i64) -> Result<(), AppError> {
    let mut checks = crate::error::validate::Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    checks.finish()?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.attest_supervision().await?;
    acting.finish("procedure.supervise", String::new()).await
}

/// The supervisor co-signs the work they supervised, once done, with an optional remark.
#[server(prefix = "/api", endpoint = "cosign_procedure", client = crate::shell::SubmissionClient)]
pub async fn cosign_procedure(
    procedure_id: i64,
    version: i64,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let mut checks = crate::error::validate::Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    let note = checks.optional_text("note", &note, 500);
    checks.finish()?;
    crate::auth::require(crate::auth::Capability::SuperviseStaff).await?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    let note = (!note.is_empty()).then_some(note);
    acting.cosign(note.as_deref()).await?;
    acting.finish("procedure.cosign", note.unwrap_or_default()).await
}

/// Places or repositions the patient: the position, supports used, pressure points checked.
#[server(prefix = "/api", endpoint = "position_patient", client = crate::shell::SubmissionClient)]
pub async fn position_patient(
    procedure_id: i64,
    version: i64,
    position: String,
    #[server(default)] supports: Vec<String>,
    #[server(default)] points: Vec<String>,
) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    use crate::positioning::{parse_code_list, BodyPosition, PressurePoint, Support};
    let mut checks = Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    let position = BodyPosition::from_code(&position);
    if position.is_none() {
        checks.fail("position", Problem::Required);
    }
    let supports = parse_code_list::<Support>(supports.iter().map(String::as_str));
    if supports.is_none() {
        checks.fail("supports", Problem::Malformed);
    }
    let points = parse_code_list::<PressurePoint>(points.iter().map(String::as_str));
    match (position, &points) {
        (_, None) => checks.fail("points", Problem::Malformed),
        (Some(position), Some(points)) if points.iter().any(|p| !position.pressure_points().contains(p)) => {
            checks.fail("points", Problem::NotAllowed)
        }
        _ => {}
    }
    checks.finish()?;
    let (Some(position), Some(supports), Some(points)) = (position, supports, points) else {
        return Err(AppError::Internal);
    };
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.position(position, &supports, &points).await?;
    acting
        .finish("procedure.position", position.code().to_owned())
        .await
}

/// Reserves an item of equipment for the procedure; released when it ends.
#[server(prefix = "/api", endpoint = "reserve_equipment", client = crate::shell::SubmissionClient)]
pub async fn reserve_equipment(procedure_id: i64, version: i64, equipment_id: i64) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    super::act::check_ids(&mut checks, procedure_id, version);
    if equipment_id <= 0 {
        checks.fail("equipment_id", Problem::Required);
    }
    checks.finish()?;
    let mut acting = super::act::Acting::begin(procedure_id, version).await?;
    acting.reserve(equipment_id).await?;
    acting
        .finish("procedure.equipment", format!("equipment/{equipment_id}"))
        .await
}

/// The catalog as administrators edit it, retired entries included, with the facility's
/// back-office settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    pub catalog: Vec<ProcedureKind>,
    pub settings: crate::facility::FacilitySettings,
}

#[server(prefix = "/api", endpoint = "catalog", client = crate::shell::SubmissionClient)]
pub async fn load_catalog() -> Result<CatalogSnapshot, AppError> {
    crate::auth::require(crate::auth::Capability::EditCatalog).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(CatalogSnapshot {
            catalog: Vec::new(),
            settings: crate::facility::FacilitySettings::default(),
        });
    };
    let (catalog, settings) = tokio::try_join!(
        super::store::catalog(&store, facility_id),
        crate::facility::store::settings(&store, facility_id),
    )?;
    Ok(CatalogSnapshot { catalog, settings })
}

/// Adds a catalog entry (`id` 0) or replaces one. Entries are retired, never deleted:
/// orders refer to them.
#[server(prefix = "/api", endpoint = "save_procedure_kind", client = crate::shell::SubmissionClient)]
pub async fn save_procedure_kind(
    #[server(default)] id: i64,
    code: String,
    name_fr: String,
    name_en: String,
    #[server(default)] qualification: String,
    #[server(default)] supervised: bool,
    #[server(default)] equipment: Vec<String>,
    default_position: String,
    typical_minutes: i64,
    #[server(default)] active: bool,
) -> Result<i64, AppError> {
    use crate::accounts::CertificationKind;
    use crate::equipment::EquipmentKind;
    use crate::error::{validate::Checks, Problem};
    use crate::positioning::{parse_code_list, BodyPosition};
    let mut checks = Checks::new();
    if id < 0 {
        checks.fail("id", Problem::Malformed);
    }
    let code = checks.text("code", &code, 40);
    if !code.is_empty() && !super::is_catalog_code(&code) {
        checks.fail("code", Problem::Malformed);
    }
    let name_fr = checks.text("name_fr", &name_fr, 120);
    let name_en = checks.text("name_en", &name_en, 120);
    let qualification = match qualification.trim() {
        "" => Some(None),
        code => CertificationKind::from_code(code).map(Some),
    };
    if qualification.is_none() {
        checks.fail("qualification", Problem::Malformed);
    }
    let equipment = parse_code_list::<EquipmentKind>(equipment.iter().map(String::as_str));
    if equipment.is_none() {
        checks.fail("equipment", Problem::Malformed);
    }
    let default_position = BodyPosition::from_code(&default_position);
    if default_position.is_none() {
        checks.fail("default_position", Problem::Required);
    }
    if !(1..=480).contains(&typical_minutes) {
        checks.fail("typical_minutes", Problem::NotAllowed);
    }
    checks.finish()?;
    let (Some(qualification), Some(equipment), Some(default_position)) =
        (qualification, equipment, default_position)
    else {
        return Err(AppError::Internal);
    };
    let principal = crate::auth::require(crate::auth::Capability::EditCatalog).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let kind = ProcedureKind {
        id,
        code,
        name_fr,
        name_en,
        qualification,
        supervised: supervised && qualification.is_some(),
        equipment,
        default_position,
        typical_minutes,
        active,
    };
    let mut tx = store.begin().await?;
    let saved = super::store::save_kind(&mut tx, facility_id, &kind).await?;
    let entry = crate::audit::Entry::by(&principal, "catalog.save", crate::audit::Outcome::Allowed)
        .record(format!("procedure_kind/{saved}"))
        .detail(kind.code.clone());
    crate::audit::store::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Sets how often patients are repositioned and whether wall screens shorten patient
/// identifiers.
#[server(prefix = "/api", endpoint = "facility_settings", client = crate::shell::SubmissionClient)]
pub async fn save_facility_settings(
    reposition_reminder_minutes: i64,
    #[server(default)] board_short_identifiers: bool,
    #[server(default)] critical_escalation_minutes: Option<i64>,
) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if !(5..=480).contains(&reposition_reminder_minutes) {
        checks.fail("reposition_reminder_minutes", Problem::NotAllowed);
    }
    if critical_escalation_minutes.is_some_and(|m| !(1..=120).contains(&m)) {
        checks.fail("critical_escalation_minutes", Problem::NotAllowed);
    }
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::EditCatalog).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let mut tx = store.begin().await?;
    let current = crate::facility::store::settings_in(&mut tx, facility_id).await?;
    let critical_escalation_minutes =
        critical_escalation_minutes.unwrap_or(current.critical_escalation_minutes);
    let settings = crate::facility::FacilitySettings {
        reposition_reminder_minutes,
        board_short_identifiers,
        critical_escalation_minutes,
    };
    crate::facility::store::save_settings(&mut tx, facility_id, &settings).await?;
    let entry = crate::audit::Entry::by(&principal, "facility.settings", crate::audit::Outcome::Allowed)
        .record(format!("facility/{facility_id}"))
        .detail(format!(
            "reposition {reposition_reminder_minutes} min, short identifiers {board_short_identifiers}, \
             critical escalation {critical_escalation_minutes} min"
        ));
    crate::audit::store::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}
