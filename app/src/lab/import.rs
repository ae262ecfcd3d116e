//! Results from reference labs: an HL7 v2 ORU^R01 message, received over HTTP or MLLP,
//! filed against the order it answers, or held in quarantine for a person; always
//! answered with an ACK. A message is stored whole or not at all, and once per sender and
//! control id: a resend is acknowledged without being stored twice.

use super::hl7::{self, AckCode, ObservationReport, OrderResults};
use super::store as lab;
use super::{Flag, LabOrderState, ResultStatus};
use crate::audit::{Entry, Outcome};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

/// The SHA-256 (hex) of an interface token, as stored: the token itself is never kept.
pub fn token_digest(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How a message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Mllp,
}

impl Transport {
    fn code(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Mllp => "mllp",
        }
    }
}

/// The answer to a message: its ACK text, and its code for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: AckCode,
    pub ack: String,
}

/// Why an order group could not be filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    UnknownOrder,
    PatientMismatch,
    OrderClosed,
}

impl Hold {
    fn code(self) -> &'static str {
        match self {
            Hold::UnknownOrder => "unknown_order",
            Hold::PatientMismatch => "patient_mismatch",
            Hold::OrderClosed => "order_closed",
        }
    }
}

/// Imports one message as of `now`; never fails: a database error is answered AE so the
/// sender tries again later.
pub async fn import(store: &Store, raw: &str, transport: Transport, now: DateTime<Utc>) -> Answer {
    let own_id = format!("PLT{}", now.timestamp_micros());
    let reply = |message: Option<&hl7::Message>, control_id: &str, code: AckCode, text: &str| Answer {
        code,
        ack: hl7::acknowledgement(message, control_id, code, text, now.naive_utc(), &own_id),
    };
    let message = match hl7::parse(raw) {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(%error, "HL7 message refused");
            let control_id = hl7::control_id_hint(raw).unwrap_or_default();
            return reply(None, &control_id, error.ack_code(), &error.to_string());
        }
    };
    let control_id = message.control_id();
    let report = match hl7::observation_report(&message) {
        Ok(report) => report,
        Err(error) => {
            tracing::warn!(%error, control_id, "HL7 report refused");
            return reply(Some(&message), &control_id, error.ack_code(), &error.to_string());
        }
    };
    match file(store, &report, raw, transport, now).await {
        Ok(Filed::Duplicate) => reply(
            Some(&message),
            &control_id,
            AckCode::Accept,
            "already received: not stored again",
        ),
        Ok(Filed::Done { held }) if held.is_empty() => {
            reply(Some(&message), &control_id, AckCode::Accept, "")
        }
        Ok(Filed::Done { held }) => {
            let text = format!("held for review: {}", held.join("; "));
            reply(Some(&message), &control_id, AckCode::Error, &text)
        }
        Err(error) => {
            tracing::error!(%error, control_id, "HL7 report not stored");
            reply(
                Some(&message),
                &control_id,
                AckCode::Error,
                "not stored: the clinic's database is unavailable, send again later",
            )
        }
    }
}

enum Filed {
    Duplicate,
    /// Filed; `held` says which order groups went to quarantine, and why.
    Done {
        held: Vec<String>,
    },
}

async fn file(
    store: &Store,
    report: &ObservationReport,
    raw: &str,
    transport: Transport,
    now: DateTime<Utc>,
) -> Result<Filed, StoreError> {
    let mut tx = store.begin().await?;
    let sender = if report.sending_facility.is_empty() {
        report.sending_application.clone()
    } else {
        report.sending_facility.clone()
    };
    let already = crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "SELECT id FROM hl7_message WHERE sending_facility = $1 AND control_id = $2",
        &sender,
        &report.control_id
    )?;
    if already.is_some() {
        return Ok(Filed::Duplicate);
    }
    let Some(facility_id) = crate::facility::store::first_id(&mut tx).await? else {
        return Err(StoreError::NotFound);
    };
    // Stored first (as quarantined), so results and quarantine rows can name it; set to
    // filed at the end when nothing was held.
    let message_id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO hl7_message (sending_facility, control_id, transport, received_at, outcome, raw) \
         VALUES ($1, $2, $3, $4, 'quarantined', $5) RETURNING id",
        &sender,
        &report.control_id,
        transport.code(),
        now,
        raw
    )?;
    let actor = format!("hl7:{}", sender.chars().take(40).collect::<String>());
    let mut held = Vec::new();
    // Live events are written last, just before the commit: taking the event counter
    // early would make concurrent imports (on PostgreSQL) wait for each other.
    let mut changes = Vec::new();
    for (index, group) in report.orders.iter().enumerate() {
        let placer = group.placer_order_number.clone();
        match matched_order(&mut tx, facility_id, report, group).await? {
            Ok(order) => file_group(&mut tx, &actor, message_id, &order, group, now, &mut changes).await?,
            Err(hold) => {
                let index = i64::try_from(index).unwrap_or(i64::MAX);
                quarantine(&mut tx, message_id, index, &placer, hold, report, group).await?;
                held.push(format!("order {placer:?}: {}", hold.code()));
            }
        }
    }
    if held.is_empty() {
        crate::execute!(
            tx.exec(),
            "UPDATE hl7_message SET outcome = 'filed' WHERE id = $1",
            message_id
        )?;
    }
    let entry = Entry::anonymous(&actor, "lab.hl7.import", Outcome::Allowed)
        .record(format!("hl7_message/{message_id}"))
        .detail(format!(
            "{} {} groups, {} held",
            report.control_id,
            report.orders.len(),
            held.len()
        ));
    crate::audit::store::record_in(&mut tx, entry).await?;
    for change in &changes {
        super::act::announce(&mut tx, change, now).await?;
    }
    if !held.is_empty() {
        let event = crate::live::NewEvent {
            topic: crate::live::Topic::Lab,
            kind: crate::live::EventKind::LabOrder,
            subject: Some(message_id),
            code: Some("quarantined".to_owned()),
        };
        crate::live::store::record(&mut tx, &event, now).await?;
    }
    tx.commit().await?;
    Ok(Filed::Done { held })
}

/// The order a group answers, by its placer number (OBR-2) or else by our accession
/// number on the specimen (SPM-2 or OBR-3); and only if the patient in the message is
/// that order's patient.
async fn matched_order(
    tx: &mut Tx,
    facility_id: i64,
    report: &ObservationReport,
    group: &OrderResults,
) -> Result<Result<lab::OrderState, Hold>, StoreError> {
    let by_placer = if group.placer_order_number.is_empty() {
        None
    } else {
        lab::order_by_placer(tx, facility_id, &group.placer_order_number).await?
    };
    let order = match by_placer {
        Some(order) => Some(order),
        None => {
            let accessions = [
                group.specimen.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
                group.filler_order_number.clone(),
            ];
            let mut found = None;
            for accession in accessions.iter().filter(|a| super::is_accession(a)) {
                found = lab::order_by_accession(tx, facility_id, accession, &group.service.code).await?;
                if found.is_some() {
                    break;
                }
            }
            found
        }
    };
    let Some(order) = order else {
        return Ok(Err(Hold::UnknownOrder));
    };
    if matches!(order.state, LabOrderState::Cancelled | LabOrderState::Rejected) {
        return Ok(Err(Hold::OrderClosed));
    }
    let patient = lab::patient_of_visit(tx.exec(), facility_id, order.visit_id).await?;
    if !same_patient(report, &patient) {
        return Ok(Err(Hold::PatientMismatch));
    }
    Ok(Ok(order))
}

/// Two identifiers must agree: the family name, and the birth date or the record number.
fn same_patient(report: &ObservationReport, patient: &lab::PatientOfVisit) -> bool {
    let name = fold(&report.patient.family_name) == fold(&patient.family_name);
    let birth = report.patient.birth_date == Some(patient.birth_date);
    let record = report
        .patient
        .identifiers
        .iter()
        .any(|id| !id.id.is_empty() && id.id == patient.record_number);
    name && (birth || record)
}

/// Upper case without accents or spaces, so "Lefèvre" and "LEFEVRE" match.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' | 'Á' => 'A',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'í' | 'Î' | 'Ï' | 'Í' => 'I',
            'ô' | 'ö' | 'ó' | 'Ô' | 'Ö' | 'Ó' => 'O',
            'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' | 'Ú' => 'U',
            'ç' | 'Ç' => 'C',
            'ñ' | 'Ñ' => 'N',
            other => other.to_ascii_uppercase(),
        })
        .collect()
}

/// OBX-11 as a result status: final, corrected, or preliminary for anything else.
fn status_of(code: &str) -> ResultStatus {
    match code {
        "F" => ResultStatus::Final,
        "C" => ResultStatus::Corrected,
        _ => ResultStatus::Preliminary,
    }
}

/// A person files a held group on the order they chose, having checked that the
/// patient is the order's: the group is taken again from the message as received.
pub async fn attach_held(
    tx: &mut Tx,
    actor: &str,
    message_id: i64,
    raw: &str,
    group_index: i64,
    order: &lab::OrderState,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Ok(report) = hl7::parse(raw).and_then(|m| hl7::observation_report(&m)) else {
        return Ok(false);
    };
    let Some(group) = usize::try_from(group_index)
        .ok()
        .and_then(|i| report.orders.get(i))
    else {
        return Ok(false);
    };
    let mut changes = Vec::new();
    file_group(tx, actor, message_id, order, group, now, &mut changes).await?;
    for change in &changes {
        super::act::announce(tx, change, now).await?;
    }
    Ok(true)
}

/// Files a group's results on its order. Final results from the reference lab are
/// verified there; a critical one raises its alert here.
async fn file_group(
    tx: &mut Tx,
    actor: &str,
    message_id: i64,
    order: &lab::OrderState,
    group: &OrderResults,
    now: DateTime<Utc>,
    changes: &mut Vec<super::act::Change>,
) -> Result<(), StoreError> {
    let patient = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT patient_id FROM visit WHERE id = $1",
        order.visit_id
    )?;
    let settings_minutes = {
        let facility = crate::facility::store::first_id(tx).await?.unwrap_or_default();
        crate::facility::store::settings_in(tx, facility)
            .await?
            .critical_escalation_minutes
    };
    let mut all_final = true;
    let mut filed = 0;
    for observation in group.observations.iter().filter(|o| !o.value.is_empty()) {
        let status = status_of(&observation.status);
        all_final &= status != ResultStatus::Preliminary;
        let flag = observation.flags.first().and_then(|f| Flag::from_code(f));
        let numeric = (observation.value_type == "NM")
            .then(|| observation.value.parse::<f64>().ok())
            .flatten();
        let name = if observation.code.text.is_empty() {
            observation.code.code.clone()
        } else {
            observation.code.text.clone()
        };
        let result = lab::NewResult {
            order_id: order.id,
            loinc: &observation.code.code,
            name: &name,
            value: &observation.value,
            numeric_value: numeric,
            unit: &observation.units,
            reference_range: &observation.reference_range,
            flag,
            status,
            entered_by: None,
            hl7_message_id: Some(message_id),
        };
        let result_id = lab::add_result(tx, &result, now).await?;
        filed += 1;
        if status == ResultStatus::Preliminary {
            continue;
        }
        crate::execute!(
            tx.exec(),
            "UPDATE lab_result SET verified_at = $1 WHERE id = $2",
            now,
            result_id
        )?;
        if flag.is_some_and(Flag::is_critical) {
            let due = now + chrono::Duration::minutes(settings_minutes);
            let alert = lab::raise_alert(tx, result_id, order.visit_id, now, due).await?;
            changes.push(super::act::Change::alert(alert, order.visit_id, "raised"));
        }
    }
    let state = if filed > 0 && all_final {
        LabOrderState::Verified
    } else {
        LabOrderState::Resulted
    };
    crate::execute!(
        tx.exec(),
        "UPDATE lab_order SET state = $1, version = version + 1 WHERE id = $2",
        state.code(),
        order.id
    )?;
    let entry = Entry::anonymous(actor, "lab.result", Outcome::Allowed)
        .patient(patient)
        .record(format!("lab_order/{}", order.id))
        .detail(format!("{filed} results from hl7_message/{message_id}"));
    crate::audit::store::record_in(tx, entry).await?;
    changes.push(super::act::Change::order(order.id, order.visit_id, state));
    Ok(())
}

/// Keeps a group nobody may file automatically, with what a person needs to decide.
async fn quarantine(
    tx: &mut Tx,
    message_id: i64,
    group_index: i64,
    placer: &str,
    hold: Hold,
    report: &ObservationReport,
    group: &OrderResults,
) -> Result<(), StoreError> {
    let who = &report.patient;
    let ids: Vec<String> = who
        .identifiers
        .iter()
        .map(|i| format!("{} {}", i.type_code, i.id))
        .collect();
    let patient_text = format!(
        "{}, {} · {} · {} · {}",
        who.family_name,
        who.given_name,
        who.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        who.sex,
        ids.join(", ")
    );
    let observations = group
        .observations
        .iter()
        .map(|o| {
            format!(
                "{} {} = {} {} [{}] {} {}",
                o.code.code,
                o.code.text,
                o.value,
                o.units,
                o.reference_range,
                o.flags.join(","),
                o.status
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    crate::execute!(
        tx.exec(),
        "INSERT INTO lab_quarantine (hl7_message_id, placer_number, group_index, reason, patient_text, observations) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        message_id,
        placer,
        group_index,
        hold.code(),
        patient_text,
        observations
    )?;
    let entry = Entry::anonymous("hl7", "lab.hl7.quarantine", Outcome::Allowed)
        .record(format!("hl7_message/{message_id}"))
        .detail(format!("{placer} {}", hold.code()));
    crate::audit::store::record_in(tx, entry).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_accents_case_or_spaces() {
        assert_eq!(fold("Lefèvre"), fold("LEFEVRE"));
        assert_eq!(fold("Le Goff"), fold("LEGOFF"));
        assert_ne!(fold("Martin"), fold("Martins"));
    }

    #[test]
    fn result_statuses_follow_obx_11() {
        assert_eq!(status_of("F"), ResultStatus::Final);
        assert_eq!(status_of("C"), ResultStatus::Corrected);
        assert_eq!(status_of("P"), ResultStatus::Preliminary);
        assert_eq!(status_of("I"), ResultStatus::Preliminary);
    }
}
