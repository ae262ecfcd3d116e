//! The server side of the lab's actions: opening the desk (who, which facility, what
//! time), the patient behind a visit or a specimen with its access checked and audited,
//! the bench where results are entered and verified, critical alerts and their
//! escalation, and the audit entry and live events every change writes.

use super::store::{self as lab, OrderState, PatientOfVisit, SpecimenRef};
use super::{
    AlertOutcome, CriticalAlert, EarlierValue, Flag, LabOrder, LabOrderState, LabTest, ResultStatus,
};
use crate::audit::{Entry, Outcome};
use crate::auth::{Capability, Principal};
use crate::error::Refusal;
use crate::error::{AppError, Problem};
use crate::facility::FacilityClock;
use crate::live::{EventKind, NewEvent, Topic};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

pub fn forbidden() -> AppError {
    let error = AppError::Forbidden;
    crate::error::set_response_status(&error);
    error
}

/// Refuses, with the refusal in the audit trail.
pub async fn refused(store: &Store, principal: &Principal, action: &str, record: String) -> AppError {
    let entry = Entry::by(principal, action, Outcome::Refused).record(record);
    if let Err(error) = crate::audit::record(store, entry).await {
        tracing::error!(%error, "a refusal could not be audited");
    }
    forbidden()
}

/// An accession number as typed or scanned, trimmed; refused unless well formed.
pub fn checked_accession(accession: &str) -> Result<String, AppError> {
    let accession = accession.trim().to_uppercase();
    if super::is_accession(&accession) {
        Ok(accession)
    } else {
        Err(AppError::invalid("accession", Problem::Malformed))
    }
}

/// Who acts, in which facility, at what time.
pub struct Desk {
    pub store: Store,
    pub facility_id: i64,
    pub clock: FacilityClock,
}

impl Desk {
    pub async fn open() -> Result<Desk, AppError> {
        let store = crate::store::from_context()?;
        let (facility_id, clock) = crate::facility::current_clock(&store).await?;
        let facility_id = facility_id.ok_or_else(AppError::not_found)?;
        Ok(Desk {
            store,
            facility_id,
            clock,
        })
    }

    /// The patient of a visit in the principal's care (or opened by break-glass); the read
    /// is audited.
    pub async fn patient_in_care(
        &self,
        principal: &Principal,
        visit_id: i64,
    ) -> Result<PatientOfVisit, AppError> {
        let patient = match lab::patient_of_visit(self.store.read(), self.facility_id, visit_id).await {
            Err(StoreError::NotFound) => {
                let record = format!("visit/{visit_id}/lab");
                return Err(crate::procedures::refused_unknown(&self.store, principal, record).await);
            }
            other => other?,
        };
        crate::procedures::require_access(
            &self.store,
            principal,
            patient.patient_id,
            visit_id,
            self.clock.now,
        )
        .await?;
        let entry = Entry::by(principal, "patient.read", Outcome::Allowed)
            .patient(patient.patient_id)
            .record(format!("visit/{visit_id}/lab"));
        crate::audit::record(&self.store, entry).await?;
        Ok(patient)
    }

    /// The patient of a specimen, for the lab (which works on every specimen it holds);
    /// the read is audited.
    pub async fn patient_for_lab(
        &self,
        principal: &Principal,
        visit_id: i64,
        specimen_id: i64,
    ) -> Result<PatientOfVisit, AppError> {
        let patient = lab::patient_of_visit(self.store.read(), self.facility_id, visit_id).await?;
        let entry = Entry::by(principal, "patient.read", Outcome::Allowed)
            .patient(patient.patient_id)
            .record(format!("specimen/{specimen_id}"));
        crate::audit::record(&self.store, entry).await?;
        Ok(patient)
    }

    pub async fn specimen(&self, accession: &str) -> Result<SpecimenRef, AppError> {
        match lab::specimen_by_accession(self.store.read(), self.facility_id, accession).await {
            Err(StoreError::NotFound) => Err(AppError::not_found()),
            other => Ok(other?),
        }
    }

    pub async fn specimen_in(&self, tx: &mut Tx, accession: &str) -> Result<SpecimenRef, AppError> {
        match lab::specimen_by_accession(tx.exec(), self.facility_id, accession).await {
            Err(StoreError::NotFound) => Err(AppError::not_found()),
            other => Ok(other?),
        }
    }
}

/// A change to tell live screens about.
pub struct Change {
    pub kind: EventKind,
    pub subject: i64,
    pub visit_id: i64,
    pub code: String,
    pub record: String,
}

impl Change {
    pub fn order(order_id: i64, visit_id: i64, state: LabOrderState) -> Change {
        Change {
            kind: EventKind::LabOrder,
            subject: order_id,
            visit_id,
            code: state.code().to_owned(),
            record: format!("lab_order/{order_id}"),
        }
    }

    pub fn alert(alert_id: i64, visit_id: i64, what: &str) -> Change {
        Change {
            kind: EventKind::CriticalAlert,
            subject: alert_id,
            visit_id,
            code: what.to_owned(),
            record: format!("critical_alert/{alert_id}"),
        }
    }
}

/// Writes the live events of a change: the lab, the rooms (whose tablets show results),
/// and the visit's own topic. Events carry ids and codes, never results.
pub async fn announce(tx: &mut Tx, change: &Change, now: DateTime<Utc>) -> Result<(), StoreError> {
    for topic in [Topic::Lab, Topic::Rooms, Topic::Visit(change.visit_id)] {
        let event = NewEvent {
            topic,
            kind: change.kind,
            subject: Some(change.subject),
            code: Some(change.code.clone()),
            visit: Some(change.visit_id),
        };
        crate::live::store::record(tx, &event, now).await?;
    }
    Ok(())
}

/// Who acts on lab records: a signed-in person, or a machine interface (a reference lab's,
/// the escalation timer) named in the audit trail.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Person(&'a Principal),
    Interface(&'a str),
}

impl Who<'_> {
    pub fn entry(&self, action: &str, outcome: Outcome) -> Entry {
        match self {
            Who::Person(principal) => Entry::by(principal, action, outcome),
            Who::Interface(name) => Entry::anonymous(name, action, outcome),
        }
    }
}

/// A verified result that is critical.
pub struct CriticalFinding {
    pub facility_id: i64,
    pub result_id: i64,
    pub visit_id: i64,
    pub patient_id: i64,
    pub detail: String,
}

/// Raises the alert of a critical result, whoever found it (a technician verifying at the
/// bench, a reference lab's message): due after the facility's delay, which the escalation
/// timer watches, and audited as `lab.critical.raise`. The caller announces the change.
pub async fn raise_critical(
    tx: &mut Tx,
    who: &Who<'_>,
    finding: &CriticalFinding,
    now: DateTime<Utc>,
) -> Result<Change, StoreError> {
    let settings = crate::facility::store::settings_in(tx, finding.facility_id).await?;
    let due = now + chrono::Duration::minutes(settings.critical_escalation_minutes);
    let alert_id = lab::raise_alert(tx, finding.result_id, finding.visit_id, now, due).await?;
    let entry = who
        .entry("lab.critical.raise", Outcome::Allowed)
        .patient(finding.patient_id)
        .record(format!("critical_alert/{alert_id}"))
        .detail(format!("result/{} {}", finding.result_id, finding.detail));
    crate::audit::store::record_in(tx, entry).await?;
    Ok(Change::alert(alert_id, finding.visit_id, "raised"))
}

/// The audit entry and the live events of a change.
pub async fn record(
    tx: &mut Tx,
    principal: &Principal,
    action: &str,
    patient_id: i64,
    change: Change,
    detail: String,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let entry = Entry::by(principal, action, Outcome::Allowed)
        .patient(patient_id)
        .record(change.record.clone())
        .detail(detail);
    crate::audit::store::record_in(tx, entry).await?;
    Ok(announce(tx, &change, now).await?)
}

/// Records a change to every order of a specimen.
pub async fn record_specimen(
    tx: &mut Tx,
    desk: &Desk,
    principal: &Principal,
    specimen: &SpecimenRef,
    action: &str,
    state: LabOrderState,
    detail: String,
) -> Result<(), AppError> {
    let patient = lab::patient_of_visit(tx.exec(), desk.facility_id, specimen.visit_id).await?;
    for order_id in lab::order_ids_of_specimen(tx, specimen.id).await? {
        let change = Change::order(order_id, specimen.visit_id, state);
        record(
            tx,
            principal,
            action,
            patient.patient_id,
            change,
            detail.clone(),
            desk.clock.now,
        )
        .await?;
    }
    Ok(())
}

/// Earlier verified values of each numeric test among `orders`, for the patient.
pub async fn history(
    store: &Store,
    patient_id: i64,
    orders: &[LabOrder],
) -> Result<Vec<(String, Vec<EarlierValue>)>, AppError> {
    let mut history: Vec<(String, Vec<EarlierValue>)> = Vec::new();
    for order in orders {
        for result in order.results.iter().filter(|r| r.numeric_value.is_some()) {
            if history.iter().any(|(code, _)| *code == result.loinc) {
                continue;
            }
            let values = lab::earlier_values(store, patient_id, &result.loinc, order.id).await?;
            history.push((result.loinc.clone(), values));
        }
    }
    Ok(history)
}

/// The patients of the orders' visits.
pub async fn patients_of(
    store: &Store,
    facility_id: i64,
    orders: &[LabOrder],
) -> Result<Vec<(i64, crate::patients::PatientSummary)>, AppError> {
    // One query for all of them: the visits of the facility's orders from the oldest one
    // shown, kept when an order shown names them.
    let Some(oldest) = orders.iter().map(|o| o.id).min() else {
        return Ok(Vec::new());
    };
    let condition = "v.id IN (SELECT o.visit_id FROM lab_order o JOIN lab_test t ON t.id = o.lab_test_id \
                     WHERE t.facility_id = $1 AND o.id >= $2)";
    let visits = crate::patients::store::visits_where(store, condition, facility_id, oldest).await?;
    Ok(visits
        .into_iter()
        .filter(|v| orders.iter().any(|o| o.visit_id == v.visit_id))
        .map(|v| (v.visit_id, v.patient))
        .collect())
}

pub async fn room_of_visit(store: &Store, visit_id: i64) -> Result<Option<String>, AppError> {
    Ok(crate::fetch_optional!(
        store.read(),
        (String,),
        "SELECT r.code FROM visit v JOIN room r ON r.id = v.room_id WHERE v.id = $1",
        visit_id
    )?
    .map(|(code,)| code))
}

/// An order on the bench: entering and verifying its results, in one transaction.
pub struct Bench {
    principal: Principal,
    desk: Desk,
    tx: Tx,
    order: OrderState,
    test: LabTest,
    patient: PatientOfVisit,
    detail: String,
}

impl Bench {
    /// Opens the order if it is still at the version the technician saw.
    pub async fn begin(principal: &Principal, order_id: i64, version: i64) -> Result<Bench, AppError> {
        if order_id <= 0 || version <= 0 {
            let mut checks = crate::error::validate::Checks::new();
            checks.fail(
                if order_id <= 0 { "order_id" } else { "version" },
                Problem::Malformed,
            );
            checks.finish()?;
        }
        let desk = Desk::open().await?;
        let mut tx = desk.store.begin().await?;
        let order = match lab::order_state(&mut tx, desk.facility_id, order_id).await {
            Err(StoreError::NotFound) => return Err(AppError::not_found()),
            other => other?,
        };
        if order.version != version {
            return Err(AppError::conflict());
        }
        let test = lab::test_in(&mut tx, desk.facility_id, order.lab_test_id).await?;
        let patient = lab::patient_of_visit(tx.exec(), desk.facility_id, order.visit_id).await?;
        Ok(Bench {
            principal: principal.clone(),
            desk,
            tx,
            order,
            test,
            patient,
            detail: String::new(),
        })
    }

    /// Enters (or re-enters, before verification) the result.
    pub async fn enter(&mut self, typed: &str, unit: &str) -> Result<(), AppError> {
        match self.order.state {
            LabOrderState::Received | LabOrderState::Resulted => {}
            LabOrderState::Verified => return Err(AppError::refused(Refusal::AlreadyVerified)),
            _ => return Err(AppError::refused(Refusal::SpecimenNotReceived)),
        }
        let measured = self.test.read_value(typed, unit).map_err(|problem| {
            use super::ValueProblem::*;
            let (field, problem) = match problem {
                Empty => ("value", Problem::Required),
                NotANumber | NotAnAllowedCode | NotEnteredAtTheBench => ("value", Problem::Malformed),
                TooManyDecimals => ("value", Problem::TooPrecise),
                Implausible => ("value", Problem::Implausible),
                WrongUnit => ("unit", Problem::WrongUnit),
            };
            AppError::invalid(field, problem)
        })?;
        let today = self.desk.clock.today();
        let age = i64::from(self.patient.summary().age_on(today));
        let range = self.test.range_for(self.patient.sex, age);
        let flag = self.test.flag(&measured, range);
        let range_text = self.test.range_text(self.patient.sex, age);
        lab::discard_unverified(&mut self.tx, self.order.id).await?;
        let name = self.test.name(crate::i18n::Locale::Fr).to_owned();
        let result = lab::NewResult {
            order_id: self.order.id,
            loinc: self.test.loinc.clone(),
            reported: lab::AsReported::bench(&self.test.loinc, &name),
            name,
            value: measured.text.clone(),
            numeric_value: measured.number,
            unit: self.test.unit.clone(),
            reference_range: range_text,
            flag: Some(flag),
            status: ResultStatus::Final,
            entered_by: Some(self.principal.staff_member_id),
            hl7_message_id: None,
        };
        lab::add_result(&mut self.tx, &result, self.desk.clock.now).await?;
        self.detail = format!("{} {} {}", self.test.loinc, measured.text, flag.code());
        Ok(())
    }

    /// Verifies the entered results; a critical one raises its alert.
    pub async fn verify(&mut self) -> Result<(), AppError> {
        match self.order.state {
            LabOrderState::Resulted => {}
            LabOrderState::Verified => return Err(AppError::refused(Refusal::AlreadyVerified)),
            _ => return Err(AppError::refused(Refusal::NothingToVerify)),
        }
        let pending = lab::unverified_entered_by(&mut self.tx, self.order.id).await?;
        if pending.is_empty() {
            return Err(AppError::refused(Refusal::NothingToVerify));
        }
        let me = self.principal.staff_member_id;
        if self.test.second_verifier && pending.iter().any(|(_, by, _)| *by == Some(me)) {
            return Err(AppError::refused(Refusal::SecondVerifierRequired));
        }
        let now = self.desk.clock.now;
        lab::verify(&mut self.tx, self.order.id, Some(me), now).await?;
        for (result_id, _, flag) in &pending {
            if Flag::from_code(flag).is_some_and(Flag::is_critical) {
                let finding = CriticalFinding {
                    facility_id: self.desk.facility_id,
                    result_id: *result_id,
                    visit_id: self.order.visit_id,
                    patient_id: self.patient.patient_id,
                    detail: format!("{} {flag}", self.test.loinc),
                };
                let change =
                    raise_critical(&mut self.tx, &Who::Person(&self.principal), &finding, now).await?;
                announce(&mut self.tx, &change, now).await?;
            }
        }
        self.detail = self.test.loinc.clone();
        Ok(())
    }

    /// Moves the order on, audits, tells live screens, and commits.
    pub async fn finish(mut self, action: &str, state: LabOrderState) -> Result<(), AppError> {
        if !lab::set_order_state(&mut self.tx, self.order.id, self.order.version, state).await? {
            return Err(AppError::conflict());
        }
        let change = Change::order(self.order.id, self.order.visit_id, state);
        let now = self.desk.clock.now;
        record(
            &mut self.tx,
            &self.principal,
            action,
            self.patient.patient_id,
            change,
            self.detail,
            now,
        )
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// Whether a person should be shown an open alert: the lab sees all; clinicians those of
/// patients in their care and the tests they ordered (wherever the patient is now: a
/// send-out's result may come back after they left the care team); supervisors those
/// escalated.
pub async fn may_see_alert(
    desk: &Desk,
    principal: &Principal,
    alert: &CriticalAlert,
) -> Result<bool, AppError> {
    if principal.can(Capability::UseLab)
        || (alert.escalated_at.is_some() && principal.can(Capability::SuperviseStaff))
        || alert.ordered_by_id == principal.staff_member_id
    {
        return Ok(true);
    }
    let access = crate::care::store::access_to(
        &desk.store,
        principal,
        alert.patient.id,
        alert.visit_id,
        desk.clock.now,
    )
    .await?;
    Ok(access.is_some())
}

/// Records how telling someone about a critical value went.
pub async fn acknowledge(
    desk: &Desk,
    principal: &Principal,
    alert_id: i64,
    outcome: AlertOutcome,
    notified_person: &str,
    read_back_value: &str,
) -> Result<(), AppError> {
    let alert = match lab::alert(&desk.store, desk.facility_id, alert_id).await {
        Err(StoreError::NotFound) => return Err(AppError::not_found()),
        other => other?,
    };
    // Refusals are audited before any write transaction opens (never while holding one).
    let refuse = |action: &'static str| {
        refused(
            &desk.store,
            principal,
            action,
            format!("critical_alert/{alert_id}"),
        )
    };
    if !may_see_alert(desk, principal, &alert).await? {
        return Err(refuse("lab.critical.acknowledge").await);
    }
    // Only the lab, which calls, records that nobody answered: the alert goes to the
    // supervisors at once and stays open.
    if outcome == AlertOutcome::UnableToReach && !principal.can(Capability::UseLab) {
        return Err(refuse("lab.critical.unreachable").await);
    }
    if !alert.is_open() {
        return Err(AppError::refused(Refusal::AlreadyAcknowledged));
    }
    let now = desk.clock.now;
    let mut tx = desk.store.begin().await?;
    if outcome == AlertOutcome::UnableToReach {
        lab::escalate_now(&mut tx, alert_id, now).await?;
        let change = Change::alert(alert_id, alert.visit_id, "escalated");
        record(
            &mut tx,
            principal,
            "lab.critical.unreachable",
            alert.patient.id,
            change,
            notified_person.to_owned(),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    if outcome == AlertOutcome::ReadBack && !same_value(read_back_value, &alert.value) {
        return Err(AppError::invalid("read_back_value", Problem::Mismatch));
    }
    let ack = lab::Acknowledgement {
        by: principal.staff_member_id,
        outcome,
        notified_person,
        read_back_value: (outcome == AlertOutcome::ReadBack).then_some(read_back_value),
    };
    if !lab::acknowledge(&mut tx, alert_id, &ack, now).await? {
        return Err(AppError::refused(Refusal::AlreadyAcknowledged));
    }
    let change = Change::alert(alert_id, alert.visit_id, outcome.code());
    let detail = format!("{} {}", outcome.code(), alert.value);
    record(
        &mut tx,
        principal,
        "lab.critical.acknowledge",
        alert.patient.id,
        change,
        detail,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How a person resolves held results.
pub enum Resolution<'a> {
    /// Attach to the order with this placer number. When the order's patient is not the
    /// one the message names, `reason` asks a second person to confirm.
    Attach {
        placer_number: &'a str,
        reason: &'a str,
    },
    /// A second person confirms (true) or declines another's request to attach.
    Answer {
        confirm: bool,
    },
    Discard {
        reason: &'a str,
    },
}

/// The patient a held message names beside the patient and test of the order a person
/// proposes; reading the order's patient is audited.
pub async fn compare_held(
    desk: &Desk,
    principal: &Principal,
    id: i64,
    placer_number: &str,
) -> Result<super::HeldComparison, AppError> {
    let Some(held) = lab::held(desk.store.read(), id).await? else {
        return Err(AppError::not_found());
    };
    let order = lab::order_by_placer(desk.store.read(), desk.facility_id, placer_number).await?;
    let Some(order) = order else {
        return Err(AppError::invalid("placer_number", Problem::NotAllowed));
    };
    let comparison = comparison(desk, id, &held, &order, placer_number).await?;
    let entry = Entry::by(principal, "patient.read", Outcome::Allowed)
        .patient(comparison.order_patient.id)
        .record(format!("lab_quarantine/{id}"))
        .detail(format!("compared with order {placer_number}"));
    crate::audit::record(&desk.store, entry).await?;
    Ok(comparison)
}

async fn comparison(
    desk: &Desk,
    id: i64,
    held: &lab::Held,
    order: &OrderState,
    placer_number: &str,
) -> Result<super::HeldComparison, AppError> {
    let report = super::hl7::parse(&held.raw)
        .and_then(|m| super::hl7::observation_report(&m))
        .map_err(|_| AppError::invalid("quarantine_id", Problem::Malformed))?;
    let group = usize::try_from(held.group_index)
        .ok()
        .and_then(|i| report.orders.get(i))
        .ok_or_else(|| AppError::invalid("quarantine_id", Problem::Malformed))?;
    let patient = lab::patient_of_visit(desk.store.read(), desk.facility_id, order.visit_id).await?;
    let test = lab::tests(&desk.store, desk.facility_id)
        .await?
        .into_iter()
        .find(|t| t.id == order.lab_test_id)
        .ok_or_else(AppError::not_found)?;
    let named = &report.patient;
    let reported_test = super::hl7::loinc_of(&group.service, &group.service_alternate);
    Ok(super::HeldComparison {
        quarantine_id: id,
        placer_number: placer_number.to_owned(),
        message_family_name: named.family_name.clone(),
        message_given_name: named.given_name.clone(),
        message_birth_date: named
            .birth_date
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default(),
        message_sex: named.sex.clone(),
        message_identifiers: named
            .identifiers
            .iter()
            .map(|i| format!("{} {}", i.type_code, i.id).trim().to_owned())
            .collect(),
        message_test: format!("{} {}", group.service.code, group.service.text)
            .trim()
            .to_owned(),
        same_patient: super::import::identities_agree(
            named,
            &patient.family_name,
            patient.birth_date,
            &patient.record_number,
        ),
        same_test: reported_test.is_none_or(|code| code == test.loinc),
        order_patient: patient.summary(),
        order_sex: patient.sex,
        order_test: format!("{} {}", test.loinc, test.name_fr),
    })
}

/// Attaches held results to the order a person names, or discards them; audited. Results
/// go onto an order of another patient than the message names only when a second person
/// confirms the first one's request, with its reason.
pub async fn resolve_quarantine(
    desk: &Desk,
    principal: &Principal,
    id: i64,
    resolution: Resolution<'_>,
) -> Result<(), AppError> {
    let now = desk.clock.now;
    let Some(held) = lab::held(desk.store.read(), id).await? else {
        return Err(AppError::not_found());
    };
    if held.resolved {
        return Err(AppError::conflict());
    }
    let me = principal.staff_member_id;
    let mut tx = desk.store.begin().await?;
    let (action, detail, attach_to) = match resolution {
        Resolution::Discard { reason } => ("lab.hl7.discard", format!("discarded: {reason}"), None),
        Resolution::Attach {
            placer_number,
            reason,
        } => {
            let Some(order) = lab::order_by_placer(tx.exec(), desk.facility_id, placer_number).await? else {
                return Err(AppError::invalid("placer_number", Problem::NotAllowed));
            };
            let compared = comparison(desk, id, &held, &order, placer_number).await?;
            if compared.same_patient {
                (
                    "lab.hl7.attach",
                    format!("attached to {placer_number}"),
                    Some(order),
                )
            } else if reason.is_empty() {
                return Err(AppError::invalid("reason", Problem::Mismatch));
            } else {
                if !lab::request_attach(&mut tx, id, order.id, me, reason, now).await? {
                    return Err(AppError::conflict());
                }
                let entry = Entry::by(principal, "lab.hl7.attach.request", Outcome::Allowed)
                    .patient(compared.order_patient.id)
                    .record(format!("lab_quarantine/{id}"))
                    .detail(format!("to {placer_number}, patient differs: {reason}"));
                crate::audit::store::record_in(&mut tx, entry).await?;
                announce_quarantine(&mut tx, held.hl7_message_id, "attach_requested", now).await?;
                tx.commit().await?;
                return Ok(());
            }
        }
        Resolution::Answer { confirm } => {
            let (Some(order_id), Some(requested_by)) = (held.attach_order_id, held.attach_requested_by)
            else {
                return Err(AppError::conflict());
            };
            if requested_by == me {
                return Err(AppError::refused(Refusal::SecondPersonRequired));
            }
            if !lab::answer_attach(&mut tx, id, confirm.then_some(me)).await? {
                return Err(AppError::conflict());
            }
            let order = lab::order_state(&mut tx, desk.facility_id, order_id).await?;
            let reason = held.attach_reason.clone().unwrap_or_default();
            if !confirm {
                let entry = Entry::by(principal, "lab.hl7.attach.decline", Outcome::Allowed)
                    .record(format!("lab_quarantine/{id}"))
                    .detail(format!("declined attaching to lab_order/{order_id}: {reason}"));
                crate::audit::store::record_in(&mut tx, entry).await?;
                announce_quarantine(&mut tx, held.hl7_message_id, "attach_declined", now).await?;
                tx.commit().await?;
                return Ok(());
            }
            (
                "lab.hl7.attach.confirm",
                format!("attached to lab_order/{order_id}, patient differs, requested by staff/{requested_by}: {reason}"),
                Some(order),
            )
        }
    };
    let order_id = attach_to.as_ref().map(|o| o.id);
    if let Some(order) = &attach_to {
        let who = Who::Person(principal);
        if !super::import::attach_held(
            &desk.store,
            &mut tx,
            who,
            held.hl7_message_id,
            held.group_index,
            order,
            now,
        )
        .await?
        {
            return Err(AppError::invalid("quarantine_id", Problem::Malformed));
        }
    }
    let outcome = if order_id.is_some() {
        "attached"
    } else {
        "discarded"
    };
    if !lab::resolve(&mut tx, id, me, outcome, order_id, now).await? {
        return Err(AppError::conflict());
    }
    let mut entry = Entry::by(principal, action, Outcome::Allowed)
        .record(format!("lab_quarantine/{id}"))
        .detail(detail);
    if let Some(order) = &attach_to {
        let patient = lab::patient_of_visit(tx.exec(), desk.facility_id, order.visit_id).await?;
        entry = entry.patient(patient.patient_id);
    }
    crate::audit::store::record_in(&mut tx, entry).await?;
    announce_quarantine(&mut tx, held.hl7_message_id, "resolved", now).await?;
    tx.commit().await?;
    Ok(())
}

/// A person has looked at a message whose control id its lab had used before.
pub async fn review_reused(desk: &Desk, principal: &Principal, message_id: i64) -> Result<(), AppError> {
    let now = desk.clock.now;
    let mut tx = desk.store.begin().await?;
    if !lab::review_reused(&mut tx, message_id, principal.staff_member_id, now).await? {
        return Err(AppError::conflict());
    }
    let entry = Entry::by(principal, "lab.hl7.review", Outcome::Allowed)
        .record(format!("hl7_message/{message_id}"))
        .detail("control id reused: reviewed");
    crate::audit::store::record_in(&mut tx, entry).await?;
    announce_quarantine(&mut tx, message_id, "reviewed", now).await?;
    tx.commit().await?;
    Ok(())
}

async fn announce_quarantine(
    tx: &mut Tx,
    message_id: i64,
    what: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let event = NewEvent {
        topic: Topic::Lab,
        kind: EventKind::LabOrder,
        subject: Some(message_id),
        code: Some(what.to_owned()),
        visit: None,
    };
    crate::live::store::record(tx, &event, now).await?;
    Ok(())
}

/// Packs specimens for a reference lab; each must hold a send-out test and wait.
pub async fn pack(
    desk: &Desk,
    principal: &Principal,
    reference_lab_id: i64,
    accessions: &[String],
) -> Result<i64, AppError> {
    let labs = lab::reference_labs(&desk.store, desk.facility_id).await?;
    if !labs.iter().any(|(id, _, _)| *id == reference_lab_id) {
        return Err(AppError::invalid("reference_lab_id", Problem::NotAllowed));
    }
    let waiting = lab::awaiting_send_out(&desk.store, desk.facility_id).await?;
    let mut specimens = Vec::new();
    for accession in accessions {
        let found = waiting
            .iter()
            .find_map(|o| o.specimen.as_ref().filter(|s| s.accession == *accession));
        let Some(specimen) = found else {
            return Err(AppError::invalid("accessions", Problem::NotAllowed));
        };
        if !specimens.contains(&specimen.id) {
            specimens.push(specimen.id);
        }
    }
    let now = desk.clock.now;
    let mut tx = desk.store.begin().await?;
    let id = match lab::pack(
        &mut tx,
        reference_lab_id,
        &specimens,
        principal.staff_member_id,
        now,
    )
    .await
    {
        Err(StoreError::NotFound) => return Err(AppError::conflict()),
        other => other?,
    };
    let entry = Entry::by(principal, "lab.sendout.pack", Outcome::Allowed)
        .record(format!("shipment/{id}"))
        .detail(accessions.join(" "));
    crate::audit::store::record_in(&mut tx, entry).await?;
    announce_shipment(&mut tx, id, "packed", now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Records a shipment's next step.
pub async fn advance_shipment(desk: &Desk, principal: &Principal, id: i64, to: &str) -> Result<(), AppError> {
    let now = desk.clock.now;
    let mut tx = desk.store.begin().await?;
    let current = crate::fetch_optional!(
        tx.exec(),
        (String,),
        "SELECT s.state FROM shipment s JOIN reference_lab r ON r.id = s.reference_lab_id \
         WHERE s.id = $1 AND r.facility_id = $2",
        id,
        desk.facility_id
    )?;
    let Some((from,)) = current else {
        return Err(AppError::not_found());
    };
    if super::next_shipment_state(&from) != Some(to)
        || !lab::advance_shipment(&mut tx, id, &from, to, now).await?
    {
        return Err(AppError::conflict());
    }
    let entry = Entry::by(principal, "lab.sendout.advance", Outcome::Allowed)
        .record(format!("shipment/{id}"))
        .detail(format!("{from} -> {to}"));
    crate::audit::store::record_in(&mut tx, entry).await?;
    announce_shipment(&mut tx, id, to, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn announce_shipment(tx: &mut Tx, id: i64, state: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let event = NewEvent {
        topic: Topic::Lab,
        kind: EventKind::LabOrder,
        subject: Some(id),
        code: Some(format!("shipment.{state}")),
        visit: None,
    };
    crate::live::store::record(tx, &event, now).await?;
    Ok(())
}

/// A reference lab as it is set up to send results: its code and name, how it names itself
/// in MSH-4, and the addresses its MLLP engine connects from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceLabSetup {
    pub code: String,
    pub name: String,
    pub sending_facility: String,
    pub mllp_peers: Vec<String>,
}

impl ReferenceLabSetup {
    /// Every field checked: a code of 2 to 20 capitals, digits, `-` or `_`; a name; an
    /// MSH-4 identity without HL7 delimiters (required to receive over MLLP); addresses
    /// that are IP addresses (kept in their canonical form).
    pub fn checked(
        code: &str,
        name: &str,
        sending_facility: &str,
        peers: &[String],
    ) -> Result<Self, AppError> {
        let mut checks = crate::error::validate::Checks::new();
        let code = code.trim().to_owned();
        let code_ok = (2..=20).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !code_ok {
            checks.fail("code", Problem::Malformed);
        }
        let name = checks.text("name", name, 120);
        let sending_facility = checks.optional_text("sending_facility", sending_facility, 180);
        if sending_facility
            .chars()
            .any(|c| "|^~\\&".contains(c) || c.is_control())
        {
            checks.fail("sending_facility", Problem::Malformed);
        }
        let mut mllp_peers = Vec::new();
        for peer in peers {
            match peer.trim().parse::<std::net::IpAddr>() {
                Ok(address) => mllp_peers.push(address.to_canonical().to_string()),
                Err(_) => checks.fail("mllp_peers", Problem::Malformed),
            }
        }
        if !mllp_peers.is_empty() && sending_facility.is_empty() {
            checks.fail("sending_facility", Problem::Required);
        }
        checks.finish()?;
        mllp_peers.sort();
        mllp_peers.dedup();
        Ok(ReferenceLabSetup {
            code,
            name,
            sending_facility,
            mllp_peers,
        })
    }
}

/// Creates or updates a reference lab; with `new_token`, gives it a new interface token
/// (the earlier one stops working), returned to be shown once: only its SHA-256 is kept.
pub async fn set_up_reference_lab(
    store: &Store,
    facility_id: i64,
    setup: &ReferenceLabSetup,
    role: super::import::SenderRole,
    new_token: bool,
    who: Who<'_>,
) -> Result<(i64, Option<String>), AppError> {
    let mut tx = store.begin().await?;
    let id = lab::upsert_reference_lab(&mut tx, facility_id, &setup.code, &setup.name).await?;
    lab::set_role(&mut tx, id, role).await?;
    let peers: Vec<&str> = setup.mllp_peers.iter().map(String::as_str).collect();
    lab::set_interface_identity(&mut tx, id, &setup.sending_facility, &peers).await?;
    let token = new_token.then(crate::auth::session::new_token);
    if let Some(token) = &token {
        lab::set_interface_token(&mut tx, id, &super::import::token_digest(token)).await?;
    }
    let entry = who
        .entry("reference_lab.set", Outcome::Allowed)
        .record(format!("reference_lab/{id}"))
        .detail(format!(
            "{} ({role}) MSH-4 {:?}, MLLP from [{}]{}",
            setup.code,
            setup.sending_facility,
            peers.join(", "),
            if token.is_some() {
                ", new interface token"
            } else {
                ""
            }
        ));
    crate::audit::store::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok((id, token))
}

#[cfg(test)]
mod setup_tests {
    use super::*;

    #[test]
    fn a_reference_lab_is_checked_before_it_is_stored() {
        let peers = |list: &[&str]| list.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        let setup = ReferenceLabSetup::checked(
            "BIO-REF",
            " Biologie ",
            "BIOREF",
            &peers(&["10.0.0.5", "::ffff:10.0.0.5", "::1"]),
        );
        let setup = setup.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(setup.name, "Biologie");
        assert_eq!(setup.mllp_peers, ["10.0.0.5", "::1"], "canonical and once");
        assert!(
            ReferenceLabSetup::checked("bio", "Bio", "", &[]).is_err(),
            "capitals"
        );
        assert!(ReferenceLabSetup::checked("B", "Bio", "", &[]).is_err());
        assert!(ReferenceLabSetup::checked("BIO", " ", "", &[]).is_err());
        assert!(ReferenceLabSetup::checked("BIO", "Bio", "A|B", &[]).is_err());
        assert!(
            ReferenceLabSetup::checked("BIO", "Bio", "", &peers(&["10.0.0.5"])).is_err(),
            "MLLP needs MSH-4"
        );
        assert!(ReferenceLabSetup::checked("BIO", "Bio", "BIO", &peers(&["lab.example"])).is_err());
        assert!(
            ReferenceLabSetup::checked("BIO", "Bio", "", &[]).is_ok(),
            "HTTP only"
        );
    }
}

/// A value read back matches the result: the same number (a decimal comma allowed), or
/// the same code.
pub fn same_value(read_back: &str, value: &str) -> bool {
    let read_back = read_back.trim().replace(',', ".");
    match (read_back.parse::<f64>(), value.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() < 1e-9,
        _ => read_back.eq_ignore_ascii_case(value.trim()),
    }
}

/// Escalates every critical alert past due and not acknowledged, as of `now`: each is
/// marked, audited and pushed to every screen, where supervisors see it. Run every half
/// minute by the server; `now` is a parameter so tests control the clock.
pub async fn escalate_overdue(store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut tx = store.begin().await?;
    let escalated = lab::escalate_due(&mut tx, now).await?;
    for (alert_id, visit_id) in &escalated {
        let entry = Entry::anonymous("system", "lab.critical.escalate", Outcome::Allowed)
            .record(format!("critical_alert/{alert_id}"));
        crate::audit::store::record_in(&mut tx, entry).await?;
        let change = Change::alert(*alert_id, *visit_id, "escalated");
        announce(&mut tx, &change, now).await?;
    }
    tx.commit().await?;
    Ok(escalated.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_compares_values_not_spelling() {
        assert!(same_value("6,8", "6.8"));
        assert!(same_value(" 6.80 ", "6.8"));
        assert!(!same_value("6.3", "6.8"));
        assert!(same_value("POS", "pos"));
        assert!(!same_value("neg", "pos"));
        assert!(!same_value("", "6.8"));
    }

    #[test]
    fn accession_numbers_are_checked_before_any_lookup() {
        assert_eq!(
            checked_accession(" l2611260042 ").ok().as_deref(),
            Some("L2611260042")
        );
        assert!(checked_accession("L26").is_err());
        assert!(checked_accession("'; DROP TABLE specimen; --").is_err());
    }
}
