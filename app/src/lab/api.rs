//! Server functions of the lab: orders from the room tablet, collection at the bedside,
//! the lab workstation, and critical values. Each authorises, validates, calls the store
//! in one transaction with its audit entry and live events, and maps the error.
#![allow(clippy::too_many_arguments)]

use super::{CriticalAlert, EarlierValue, LabOrder, LabTest, Specimen};
use crate::error::AppError;
use crate::facility::FacilityClock;
use crate::patients::PatientSummary;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the room tablet shows of a visit's lab work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitLab {
    pub clock: FacilityClock,
    pub visit_id: i64,
    pub patient: PatientSummary,
    pub orders: Vec<LabOrder>,
    /// Earlier verified values per LOINC code, for the small charts.
    pub history: Vec<(String, Vec<EarlierValue>)>,
    /// The tests the viewer may order (empty when they may not order).
    pub catalog: Vec<LabTest>,
}

/// A specimen at the lab workstation, opened by scanning its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecimenDesk {
    pub clock: FacilityClock,
    pub specimen: Specimen,
    pub patient: PatientSummary,
    pub room_code: Option<String>,
    pub orders: Vec<LabOrder>,
    pub history: Vec<(String, Vec<EarlierValue>)>,
}

/// One line of the worklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkItem {
    pub order: LabOrder,
    pub patient: PatientSummary,
}

/// The lab workstation's worklist and the open critical notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worklist {
    pub clock: FacilityClock,
    pub items: Vec<WorkItem>,
    pub alerts: Vec<CriticalAlert>,
    pub quarantine: Vec<super::QuarantineItem>,
    /// Messages whose control id their lab had used before, for a person to look at.
    pub reused: Vec<super::ReusedControlId>,
}

/// The open critical values a person should see now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertList {
    pub clock: FacilityClock,
    pub alerts: Vec<CriticalAlert>,
}

/// What a specimen label prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecimenLabel {
    pub clock: FacilityClock,
    pub specimen: Specimen,
    pub patient: PatientSummary,
    pub tests: Vec<String>,
}

#[cfg(feature = "ssr")]
mod server {
    pub use super::super::act::*;
}

/// The lab work of a visit, for the tablet of the room where its patient is.
#[server(prefix = "/api", endpoint = "visit_lab", client = crate::shell::SubmissionClient)]
pub async fn load_visit_lab(visit_id: i64) -> Result<VisitLab, AppError> {
    use crate::auth::Capability;
    if visit_id <= 0 {
        return Err(AppError::invalid("visit_id", crate::error::Problem::Malformed));
    }
    let principal = crate::auth::require(Capability::ViewRooms).await?;
    let desk = server::Desk::open().await?;
    let patient = desk.patient_in_care(&principal, visit_id).await?;
    let store = &desk.store;
    // Critical values of the visit show in the banner every screen carries, not here.
    let (orders, tests) = tokio::try_join!(
        super::store::orders_of_visit(store, desk.facility_id, visit_id),
        super::store::tests(store, desk.facility_id),
    )?;
    let history = server::history(store, patient.patient_id, &orders).await?;
    let catalog = if principal.can(Capability::OrderProcedures) {
        tests.into_iter().filter(|t| t.active).collect()
    } else {
        Vec::new()
    };
    Ok(VisitLab {
        clock: desk.clock,
        visit_id,
        patient: patient.summary(),
        orders,
        history,
        catalog,
    })
}

/// The physician orders a test for the visit of a patient in their care.
#[server(prefix = "/api", endpoint = "order_lab_test", client = crate::shell::SubmissionClient)]
pub async fn order_lab_test(
    visit_id: i64,
    test_id: i64,
    priority: String,
    note: String,
) -> Result<i64, AppError> {
    use crate::error::Problem;
    let (priority, note) =
        crate::procedures::checked_order(visit_id, ("test_id", test_id), &priority, &note)?;
    let principal = crate::auth::require(crate::auth::Capability::OrderProcedures).await?;
    let desk = server::Desk::open().await?;
    let patient = desk.patient_in_care(&principal, visit_id).await?;
    let mut tx = desk.store.begin().await?;
    let test = match super::store::test_in(&mut tx, desk.facility_id, test_id).await {
        Ok(test) if test.active => test,
        Ok(_) | Err(crate::store::StoreError::NotFound) => {
            return Err(AppError::invalid("test_id", Problem::NotAllowed))
        }
        Err(error) => return Err(error.into()),
    };
    let (_, visit_state) = crate::patients::store::whereabouts(&mut tx, desk.facility_id, visit_id).await?;
    if visit_state == crate::patients::VisitState::Done {
        return Err(AppError::refused(crate::error::Refusal::VisitEnded));
    }
    let order = super::store::NewLabOrder {
        visit_id,
        test_id,
        priority,
        note: &note,
        ordered_by: principal.staff_member_id,
    };
    let id = super::store::order(&mut tx, &order, desk.clock.now).await?;
    crate::care::store::assign(&mut tx, visit_id, principal.staff_member_id, desk.clock.now).await?;
    let change = server::Change::order(id, visit_id, super::LabOrderState::Ordered);
    let detail = format!("{} {}", test.loinc, priority.code());
    server::record(
        &mut tx,
        &principal,
        "lab.order",
        patient.patient_id,
        change,
        detail,
        desk.clock.now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The collector, with the patient, confirms two identifiers and labels one specimen for
/// the chosen tests. Only then does the label exist.
#[server(prefix = "/api", endpoint = "collect_specimen", client = crate::shell::SubmissionClient)]
pub async fn collect_specimen(
    visit_id: i64,
    #[server(default)] order_ids: Vec<i64>,
    identity_check: String,
    #[server(default)] name_confirmed: bool,
    #[server(default)] stated_birth_date: String,
    #[server(default)] stated_record_number: String,
    #[server(default)] body_site: String,
) -> Result<String, AppError> {
    use super::IdentityCheck;
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if visit_id <= 0 {
        checks.fail("visit_id", Problem::Malformed);
    }
    if order_ids.is_empty() || order_ids.len() > 20 || order_ids.iter().any(|id| *id <= 0) {
        checks.fail("order_ids", Problem::Required);
    }
    let check = IdentityCheck::from_code(&identity_check);
    if !name_confirmed {
        checks.fail("name_confirmed", Problem::Required);
    }
    let stated_birth_date = match check {
        Some(IdentityCheck::NameAndBirthDate) => checks.date("stated_birth_date", &stated_birth_date),
        Some(IdentityCheck::NameAndRecordNumber) => {
            checks.text("stated_record_number", &stated_record_number, 32);
            None
        }
        None => {
            checks.fail("identity_check", Problem::Malformed);
            None
        }
    };
    let body_site = checks.optional_text("body_site", &body_site, 80);
    checks.finish()?;
    let check = check.ok_or(AppError::Internal)?;
    let principal = crate::auth::require(crate::auth::Capability::PerformProcedures).await?;
    let desk = server::Desk::open().await?;
    let patient = desk.patient_in_care(&principal, visit_id).await?;
    let confirmed = match check {
        IdentityCheck::NameAndBirthDate => stated_birth_date == Some(patient.birth_date),
        IdentityCheck::NameAndRecordNumber => stated_record_number.trim() == patient.record_number,
    };
    if !confirmed {
        // Nothing is labelled for a patient whose identity is not confirmed.
        let field = match check {
            IdentityCheck::NameAndBirthDate => "stated_birth_date",
            IdentityCheck::NameAndRecordNumber => "stated_record_number",
        };
        let entry = crate::audit::Entry::by(&principal, "lab.collect", crate::audit::Outcome::Refused)
            .patient(patient.patient_id)
            .record(format!("visit/{visit_id}"))
            .detail("identity not confirmed");
        crate::audit::record(&desk.store, entry).await?;
        return Err(AppError::invalid(field, Problem::Mismatch));
    }
    let mut tx = desk.store.begin().await?;
    let mut specimen_type = None;
    let mut orders = Vec::new();
    for id in &order_ids {
        let order = match super::store::order_state(&mut tx, desk.facility_id, *id).await {
            Ok(order) if order.visit_id == visit_id => order,
            Ok(_) | Err(crate::store::StoreError::NotFound) => {
                return Err(AppError::invalid("order_ids", Problem::NotAllowed))
            }
            Err(error) => return Err(error.into()),
        };
        if order.state != super::LabOrderState::Ordered {
            return Err(AppError::refused(crate::error::Refusal::AlreadyCollected));
        }
        let test = super::store::test_in(&mut tx, desk.facility_id, order.lab_test_id).await?;
        if specimen_type.is_some_and(|t| t != test.specimen_type) {
            return Err(AppError::refused(crate::error::Refusal::MixedSpecimenTypes));
        }
        specimen_type = Some(test.specimen_type);
        orders.push(order);
    }
    let specimen_type = specimen_type.ok_or(AppError::Internal)?;
    if specimen_type.needs_body_site() && body_site.is_empty() {
        return Err(AppError::invalid("body_site", Problem::Required));
    }
    let specimen = super::store::NewSpecimen {
        visit_id,
        specimen_type,
        body_site: &body_site,
        identity_check: check,
        collected_by: principal.staff_member_id,
    };
    let today = desk.clock.today();
    let (specimen_id, accession) = super::store::collect(&mut tx, &specimen, today, desk.clock.now).await?;
    for order in &orders {
        if !super::store::attach_to_specimen(&mut tx, order.id, order.version, specimen_id).await? {
            return Err(AppError::conflict());
        }
        let change = server::Change::order(order.id, visit_id, super::LabOrderState::Collected);
        let detail = format!("{accession} {}", check.code());
        server::record(
            &mut tx,
            &principal,
            "lab.collect",
            patient.patient_id,
            change,
            detail,
            desk.clock.now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(accession)
}

/// What a specimen's label prints; only for a specimen that exists (so only after the
/// identity was confirmed).
#[server(prefix = "/api", endpoint = "specimen_label", client = crate::shell::SubmissionClient)]
pub async fn load_specimen_label(accession: String) -> Result<SpecimenLabel, AppError> {
    let accession = server::checked_accession(&accession)?;
    let principal = crate::auth::require_signed_in()?;
    let desk = server::Desk::open().await?;
    if !principal.can(crate::auth::Capability::PerformProcedures)
        && !principal.can(crate::auth::Capability::UseLab)
    {
        return Err(server::refused(
            &desk.store,
            &principal,
            "lab.label.read",
            format!("specimen/{accession}"),
        )
        .await);
    }
    let found = desk.specimen(&accession).await?;
    let patient = if principal.can(crate::auth::Capability::UseLab) {
        desk.patient_for_lab(&principal, found.visit_id, found.id).await?
    } else {
        desk.patient_in_care(&principal, found.visit_id).await?
    };
    let orders = super::store::orders_of_specimen(&desk.store, desk.facility_id, found.id).await?;
    let locale = crate::i18n::request_locale();
    let tests = orders.iter().map(|o| o.test.name(locale).to_owned()).collect();
    let specimen = orders
        .into_iter()
        .find_map(|o| o.specimen)
        .ok_or_else(AppError::not_found)?;
    Ok(SpecimenLabel {
        clock: desk.clock,
        specimen,
        patient: patient.summary(),
        tests,
    })
}

/// Each order with its patient, from the patients of their visits.
#[cfg(feature = "ssr")]
fn with_patients(orders: Vec<LabOrder>, patients: &[(i64, PatientSummary)]) -> Vec<WorkItem> {
    orders
        .into_iter()
        .filter_map(|order| {
            let (_, patient) = patients.iter().find(|(visit, _)| *visit == order.visit_id)?;
            Some(WorkItem {
                order,
                patient: patient.clone(),
            })
        })
        .collect()
}

/// The lab workstation's worklist.
#[server(prefix = "/api", endpoint = "lab_worklist", client = crate::shell::SubmissionClient)]
pub async fn lab_worklist() -> Result<Worklist, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let since = desk.clock.now - chrono::Duration::hours(12);
    let (orders, alerts, mut quarantine, reused) = tokio::try_join!(
        super::store::worklist(&desk.store, desk.facility_id, since),
        super::store::recent_alerts(&desk.store, desk.facility_id, desk.clock.now),
        super::store::quarantine(&desk.store),
        super::store::reused_control_ids(&desk.store),
    )?;
    for request in quarantine.iter_mut().filter_map(|q| q.attach_request.as_mut()) {
        request.requested_by_me = request.requested_by_id == principal.staff_member_id;
    }
    let patients = server::patients_of(&desk.store, desk.facility_id, &orders).await?;
    let items = with_patients(orders, &patients);
    let named = items
        .iter()
        .map(|item| item.patient.id)
        .chain(alerts.iter().map(|alert| alert.patient.id));
    crate::audit::record_patients_listed(&desk.store, &principal, "lab.worklist.read", named).await?;
    // Held results name a person as the message does, perhaps nobody Plateau knows: each
    // held group shown is its own row, with that name.
    if !quarantine.is_empty() {
        let held = quarantine
            .iter()
            .map(|item| {
                crate::audit::Entry::by(&principal, "lab.quarantine.read", crate::audit::Outcome::Allowed)
                    .record(format!("lab_quarantine/{}", item.id))
                    .detail(item.patient_text.clone())
            })
            .collect();
        crate::audit::record_all(&desk.store, held).await?;
    }
    Ok(Worklist {
        clock: desk.clock,
        items,
        alerts,
        quarantine,
        reused,
    })
}

/// A specimen at the workstation, found by its accession number (as the scanner types it).
#[server(prefix = "/api", endpoint = "specimen_desk", client = crate::shell::SubmissionClient)]
pub async fn load_specimen_desk(accession: String) -> Result<SpecimenDesk, AppError> {
    let accession = server::checked_accession(&accession)?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let found = desk.specimen(&accession).await?;
    let patient = desk.patient_for_lab(&principal, found.visit_id, found.id).await?;
    let orders = super::store::orders_of_specimen(&desk.store, desk.facility_id, found.id).await?;
    let history = server::history(&desk.store, patient.patient_id, &orders).await?;
    let room_code = server::room_of_visit(&desk.store, found.visit_id).await?;
    let specimen = orders
        .iter()
        .find_map(|o| o.specimen.clone())
        .ok_or_else(AppError::not_found)?;
    Ok(SpecimenDesk {
        clock: desk.clock,
        specimen,
        patient: patient.summary(),
        room_code,
        orders,
        history,
    })
}

/// The lab receives a specimen.
#[server(prefix = "/api", endpoint = "receive_specimen", client = crate::shell::SubmissionClient)]
pub async fn receive_specimen(accession: String) -> Result<(), AppError> {
    let accession = server::checked_accession(&accession)?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let mut tx = desk.store.begin().await?;
    let found = desk.specimen_in(&mut tx, &accession).await?;
    if !super::store::receive(&mut tx, found.id, principal.staff_member_id, desk.clock.now).await? {
        return Err(AppError::refused(crate::error::Refusal::SpecimenNotAwaited));
    }
    server::record_specimen(
        &mut tx,
        &desk,
        &principal,
        &found,
        "lab.receive",
        super::LabOrderState::Received,
        accession,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The lab refuses a specimen, with its reason; the tests wait for a new specimen.
#[server(prefix = "/api", endpoint = "reject_specimen", client = crate::shell::SubmissionClient)]
pub async fn reject_specimen(accession: String, reason: String) -> Result<(), AppError> {
    let accession = server::checked_accession(&accession)?;
    let Some(reason) = super::RejectionReason::from_code(&reason) else {
        return Err(AppError::invalid("reason", crate::error::Problem::Required));
    };
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let mut tx = desk.store.begin().await?;
    let found = desk.specimen_in(&mut tx, &accession).await?;
    if !super::store::reject(
        &mut tx,
        found.id,
        reason,
        principal.staff_member_id,
        desk.clock.now,
    )
    .await?
    {
        return Err(AppError::refused(crate::error::Refusal::SpecimenNotAwaited));
    }
    let detail = format!("{accession} {}", reason.code());
    server::record_specimen(
        &mut tx,
        &desk,
        &principal,
        &found,
        "lab.reject",
        super::LabOrderState::Rejected,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A technician enters a result: checked against the test (a number within plausible
/// bounds, at its precision, in its unit; or one of its codes), flagged for the patient.
#[server(prefix = "/api", endpoint = "enter_result", client = crate::shell::SubmissionClient)]
pub async fn enter_result(
    order_id: i64,
    version: i64,
    value: String,
    #[server(default)] unit: String,
) -> Result<(), AppError> {
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let mut bench = server::Bench::begin(&principal, order_id, version).await?;
    bench.enter(&value, &unit).await?;
    bench.finish("lab.result", super::LabOrderState::Resulted).await
}

/// A technician verifies the entered result; a critical one raises its alert at once.
#[server(prefix = "/api", endpoint = "verify_result", client = crate::shell::SubmissionClient)]
pub async fn verify_result(order_id: i64, version: i64) -> Result<(), AppError> {
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let mut bench = server::Bench::begin(&principal, order_id, version).await?;
    bench.verify().await?;
    bench.finish("lab.verify", super::LabOrderState::Verified).await
}

/// Critical values that the viewer should see now: for patients in their care, the
/// tests they ordered, and (for supervisors) those escalated to them.
#[server(prefix = "/api", endpoint = "critical_alerts", client = crate::shell::SubmissionClient)]
pub async fn critical_alerts() -> Result<AlertList, AppError> {
    let principal = crate::auth::require_signed_in()?;
    let (desk, mine) = open_alerts_for(&principal).await?;
    // The banner names patients, record numbers and values: each read is in the trail.
    if !mine.is_empty() {
        let named = mine.iter().map(|alert| alert.patient.id);
        crate::audit::record_patients_listed(&desk.store, &principal, "lab.critical.read", named).await?;
    }
    Ok(AlertList {
        clock: desk.clock,
        alerts: mine,
    })
}

/// How many critical values wait for this person, asked by a locked screen: a count, so
/// nothing of any patient shows on a tablet nobody has unlocked.
#[server(prefix = "/api", endpoint = "critical_values_waiting", client = crate::shell::SubmissionClient)]
pub async fn critical_values_waiting() -> Result<usize, AppError> {
    let principal = crate::auth::require_signed_in_even_locked()?;
    let (_, mine) = open_alerts_for(&principal).await?;
    Ok(mine.len())
}

/// The open critical values `principal` should see now.
#[cfg(feature = "ssr")]
async fn open_alerts_for(
    principal: &crate::auth::Principal,
) -> Result<(server::Desk, Vec<CriticalAlert>), AppError> {
    let desk = server::Desk::open().await?;
    let alerts = super::store::recent_alerts(&desk.store, desk.facility_id, desk.clock.now).await?;
    let mut mine = Vec::new();
    for alert in alerts.into_iter().filter(CriticalAlert::is_open) {
        if server::may_see_alert(&desk, principal, &alert).await? {
            mine.push(alert);
        }
    }
    Ok((desk, mine))
}

/// Whoever was reached acknowledges a critical value: with the value read back (checked
/// against the result), without read-back, or the lab records that nobody could be
/// reached, which escalates it at once.
#[server(prefix = "/api", endpoint = "acknowledge_critical", client = crate::shell::SubmissionClient)]
pub async fn acknowledge_critical(
    alert_id: i64,
    outcome: String,
    #[server(default)] notified_person: String,
    #[server(default)] read_back_value: String,
) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if alert_id <= 0 {
        checks.fail("alert_id", Problem::Malformed);
    }
    let outcome = super::AlertOutcome::from_code(&outcome);
    if outcome.is_none() {
        checks.fail("outcome", Problem::Required);
    }
    let notified_person = checks.optional_text("notified_person", &notified_person, 120);
    let read_back_value = checks.optional_text("read_back_value", &read_back_value, 40);
    if outcome == Some(super::AlertOutcome::ReadBack) && read_back_value.is_empty() {
        checks.fail("read_back_value", Problem::Required);
    }
    checks.finish()?;
    let outcome = outcome.ok_or(AppError::Internal)?;
    let principal = crate::auth::require_signed_in()?;
    let desk = server::Desk::open().await?;
    server::acknowledge(
        &desk,
        &principal,
        alert_id,
        outcome,
        &notified_person,
        &read_back_value,
    )
    .await
}

/// A person resolves results held in quarantine: attaches them to the order they name,
/// having compared the patient the message names with the order's (for another patient,
/// `reason` asks a second person, who confirms or declines), or discards them with a
/// reason.
#[server(prefix = "/api", endpoint = "resolve_quarantine", client = crate::shell::SubmissionClient)]
pub async fn resolve_quarantine(
    quarantine_id: i64,
    resolution: String,
    #[server(default)] placer_number: String,
    #[server(default)] identity_checked: bool,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if quarantine_id <= 0 {
        checks.fail("quarantine_id", Problem::Malformed);
    }
    let placer_number = placer_number.trim().to_owned();
    let reason = checks.optional_text("reason", &reason, 300);
    match resolution.as_str() {
        "attach" => {
            checks.text("placer_number", &placer_number, 40);
            if !identity_checked {
                checks.fail("identity_checked", Problem::Required);
            }
        }
        "discard" => {
            checks.text("reason", &reason, 300);
        }
        "confirm" | "decline" => {}
        _ => checks.fail("resolution", Problem::Malformed),
    }
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let resolution = match resolution.as_str() {
        "attach" => server::Resolution::Attach {
            placer_number: &placer_number,
            reason: &reason,
        },
        "discard" => server::Resolution::Discard { reason: &reason },
        other => server::Resolution::Answer {
            confirm: other == "confirm",
        },
    };
    server::resolve_quarantine(&desk, &principal, quarantine_id, resolution).await
}

/// The patient a held message names beside the patient of the order a person proposes to
/// attach it to.
#[server(prefix = "/api", endpoint = "compare_held", client = crate::shell::SubmissionClient)]
pub async fn compare_held(
    quarantine_id: i64,
    placer_number: String,
) -> Result<super::HeldComparison, AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if quarantine_id <= 0 {
        checks.fail("quarantine_id", Problem::Malformed);
    }
    let placer_number = checks.text("placer_number", &placer_number, 40);
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    server::compare_held(&desk, &principal, quarantine_id, &placer_number).await
}

/// A person has looked at a message whose control id its lab had used for another one.
#[server(prefix = "/api", endpoint = "review_reused_control_id", client = crate::shell::SubmissionClient)]
pub async fn review_reused_control_id(hl7_message_id: i64) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if hl7_message_id <= 0 {
        checks.fail("hl7_message_id", Problem::Malformed);
    }
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    server::review_reused(&desk, &principal, hl7_message_id).await
}

/// Send-outs: what waits to be packed, the reference labs, and the shipments on their way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendOuts {
    pub clock: FacilityClock,
    pub labs: Vec<(i64, String, String)>,
    pub waiting: Vec<WorkItem>,
    pub shipments: Vec<super::Shipment>,
    pub patients: Vec<(i64, PatientSummary)>,
}

#[server(prefix = "/api", endpoint = "send_outs", client = crate::shell::SubmissionClient)]
pub async fn load_send_outs() -> Result<SendOuts, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let since = desk.clock.now - chrono::Duration::days(7);
    let (labs, waiting, shipments) = tokio::try_join!(
        super::store::reference_labs(&desk.store, desk.facility_id),
        super::store::awaiting_send_out(&desk.store, desk.facility_id),
        super::store::shipments(&desk.store, desk.facility_id, since),
    )?;
    let mut all: Vec<LabOrder> = waiting.clone();
    all.extend(shipments.iter().flat_map(|s| s.orders.iter().cloned()));
    let patients = server::patients_of(&desk.store, desk.facility_id, &all).await?;
    let waiting = with_patients(waiting, &patients);
    let named = patients.iter().map(|(_, patient)| patient.id);
    crate::audit::record_patients_listed(&desk.store, &principal, "lab.sendouts.read", named).await?;
    Ok(SendOuts {
        clock: desk.clock,
        labs,
        waiting,
        shipments,
        patients,
    })
}

/// Packs the chosen specimens for a reference lab.
#[server(prefix = "/api", endpoint = "pack_shipment", client = crate::shell::SubmissionClient)]
pub async fn pack_shipment(
    reference_lab_id: i64,
    #[server(default)] accessions: Vec<String>,
) -> Result<i64, AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if reference_lab_id <= 0 {
        checks.fail("reference_lab_id", Problem::Required);
    }
    let accessions: Vec<String> = accessions
        .iter()
        .map(|a| a.trim().to_uppercase())
        .filter(|a| !a.is_empty())
        .collect();
    if accessions.is_empty() || accessions.len() > 200 || !accessions.iter().all(|a| super::is_accession(a)) {
        checks.fail("accessions", Problem::Required);
    }
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    server::pack(&desk, &principal, reference_lab_id, &accessions).await
}

/// Records a shipment's next step: shipped, received by the reference lab, resulted.
#[server(prefix = "/api", endpoint = "advance_shipment", client = crate::shell::SubmissionClient)]
pub async fn advance_shipment(shipment_id: i64, state: String) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if shipment_id <= 0 {
        checks.fail("shipment_id", Problem::Malformed);
    }
    if !matches!(state.as_str(), "shipped" | "received" | "resulted") {
        checks.fail("state", Problem::Malformed);
    }
    checks.finish()?;
    let principal = crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    server::advance_shipment(&desk, &principal, shipment_id, &state).await
}

/// Collection-to-verification times of the last 30 days, per test, against targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnaroundBoard {
    pub days: i64,
    pub lines: Vec<super::Turnaround>,
}

#[server(prefix = "/api", endpoint = "turnaround", client = crate::shell::SubmissionClient)]
pub async fn load_turnaround() -> Result<TurnaroundBoard, AppError> {
    crate::auth::require(crate::auth::Capability::UseLab).await?;
    let desk = server::Desk::open().await?;
    let days = 30;
    let since = desk.clock.now - chrono::Duration::days(days);
    let (tests, minutes) = tokio::try_join!(
        super::store::tests(&desk.store, desk.facility_id),
        super::store::turnaround(&desk.store, desk.facility_id, since),
    )?;
    let lines = tests
        .into_iter()
        .filter_map(|test| {
            let of_test = minutes
                .iter()
                .filter(|(id, _)| *id == test.id)
                .map(|(_, m)| *m)
                .collect();
            super::Turnaround::of(test, of_test)
        })
        .collect();
    Ok(TurnaroundBoard { days, lines })
}

/// The whole test catalog, retired tests included, for administrators.
#[server(prefix = "/api", endpoint = "lab_tests", client = crate::shell::SubmissionClient)]
pub async fn load_lab_tests() -> Result<Vec<LabTest>, AppError> {
    crate::auth::require(crate::auth::Capability::EditCatalog).await?;
    let desk = server::Desk::open().await?;
    Ok(super::store::tests(&desk.store, desk.facility_id).await?)
}

/// Adds (id 0) or changes a test of the catalog; every field is checked, and a LOINC code
/// already in the catalog is refused on its field.
#[server(prefix = "/api", endpoint = "save_lab_test", client = crate::shell::SubmissionClient)]
pub async fn save_lab_test(
    id: i64,
    loinc: String,
    name_fr: String,
    name_en: String,
    specimen_type: String,
    value_kind: String,
    #[server(default)] unit: String,
    #[server(default)] decimals: String,
    #[server(default)] plausible_low: String,
    #[server(default)] plausible_high: String,
    #[server(default)] critical_low: String,
    #[server(default)] critical_high: String,
    #[server(default)] allowed_codes: String,
    #[server(default)] normal_codes: String,
    performed: String,
    turnaround_minutes: String,
    #[server(default)] second_verifier: bool,
    #[server(default)] active: bool,
    #[server(default)] ranges: String,
) -> Result<i64, AppError> {
    let form = super::TestForm {
        id,
        loinc,
        name_fr,
        name_en,
        specimen_type,
        value_kind,
        unit,
        decimals,
        plausible_low,
        plausible_high,
        critical_low,
        critical_high,
        allowed_codes,
        normal_codes,
        performed,
        turnaround_minutes,
        second_verifier,
        active,
        ranges,
    };
    let test = form.checked()?;
    let principal = crate::auth::require(crate::auth::Capability::EditCatalog).await?;
    let desk = server::Desk::open().await?;
    let mut tx = desk.store.begin().await?;
    let saved = if test.id == 0 {
        super::store::add_test(&mut tx, desk.facility_id, &test).await?
    } else if super::store::update_test(&mut tx, desk.facility_id, &test).await? {
        test.id
    } else {
        return Err(AppError::not_found());
    };
    let entry = crate::audit::Entry::by(&principal, "lab.catalog.save", crate::audit::Outcome::Allowed)
        .record(format!("lab_test/{saved}"))
        .detail(test.loinc.clone());
    crate::audit::store::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(saved)
}
