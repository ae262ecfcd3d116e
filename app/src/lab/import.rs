//! Results from reference labs: an HL7 v2 ORU^R01 message, received over HTTP or MLLP from
//! a lab that authenticated itself, filed against the order it answers, or held in
//! quarantine for a person; always answered with an ACK.
//!
//! The clinic's rules apply to every result, whoever measured it: the catalog's unit,
//! plausible limits, reference range and critical limits (the sender's flag and range are
//! kept beside Plateau's). A result is filed only on an order sent out to the lab that
//! answers, for the patient the message names, for the test ordered, and on a verified
//! order only as a correction; anything else is held whole for a person. A message is
//! stored whole or not at all, and once: a resend (same lab, control id and content) is
//! acknowledged without being stored twice; the same control id with other content is
//! stored and flagged.

use super::hl7::{self, AckCode, ErrorCondition, ObservationReport, ObservationResult, OrderResults};
use super::store as lab;
use super::{ClinicRules, Flag, HoldReason, LabOrderState, LabTest, Reading, ResultStatus, ValueKind};
use crate::audit::{Entry, Outcome};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

/// The SHA-256 (hex) of a text: how interface tokens are stored (never the token itself)
/// and how a message's content is recognised.
pub fn token_digest(token: &str) -> String {
    crate::auth::session::token_hash(token)
}

/// A message's content, whatever ends its segments (CR, LF, CRLF) or frames it: its
/// non-empty segments joined by CR.
pub fn content_digest(raw: &str) -> String {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let segments: Vec<&str> = raw
        .split(['\r', '\n'])
        .map(|line| line.trim_matches(|c: char| c == '\u{0b}' || c == '\u{1c}'))
        .filter(|line| !line.trim().is_empty())
        .collect();
    token_digest(&segments.join("\r"))
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

crate::coded_enum! {
    /// What a system that sends Plateau HL7 messages is: a reference lab (results) or
    /// the front office (admissions). Each is heard only for its own messages.
    pub enum SenderRole {
        Lab = "lab",
        FrontOffice = "front_office",
    }
}

/// A reference lab (or the front office) as it authenticated itself: by its token over
/// HTTP, or over MLLP by the address it connected from (and then by the MSH-4 it must name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub reference_lab_id: i64,
    pub role: SenderRole,
    pub code: String,
    pub name: String,
    /// How it names itself in MSH-4; empty when not configured (then only over HTTP).
    pub sending_facility: String,
}

impl Sender {
    pub fn actor(&self) -> String {
        format!("hl7:{}", self.code.chars().take(40).collect::<String>())
    }
}

/// Whether an MSH-4 (namespace id, universal id) names this identity.
fn names(identity: &str, namespace: &str, universal_id: &str) -> bool {
    let identity = identity.trim();
    !identity.is_empty()
        && (identity.eq_ignore_ascii_case(namespace.trim())
            || identity.eq_ignore_ascii_case(universal_id.trim()))
}

/// Which of the labs that could have sent a message did: the one whose configured MSH-4
/// the message names; or, over HTTP, a lab without one, unless the message names another
/// lab's. None: the message claims to come from a lab that did not authenticate.
pub fn identify<'a>(
    candidates: &'a [Sender],
    every_lab: &[Sender],
    transport: Transport,
    namespace: &str,
    universal_id: &str,
) -> Option<&'a Sender> {
    if let Some(lab) = candidates
        .iter()
        .find(|lab| names(&lab.sending_facility, namespace, universal_id))
    {
        return Some(lab);
    }
    let claims_another = every_lab
        .iter()
        .any(|lab| names(&lab.sending_facility, namespace, universal_id));
    match transport {
        Transport::Http if !claims_another => candidates
            .iter()
            .find(|lab| lab.sending_facility.trim().is_empty()),
        _ => None,
    }
}

/// The answer to a message: its ACK text, and its code for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: AckCode,
    pub ack: String,
}

impl HoldReason {
    /// The ACK's error condition for results held for this reason.
    fn condition(self) -> ErrorCondition {
        match self {
            HoldReason::UnknownOrder
            | HoldReason::PatientMismatch
            | HoldReason::NotSentToThisLab
            | HoldReason::TestMismatch => ErrorCondition::UnknownKeyIdentifier,
            HoldReason::OrderClosed | HoldReason::AlreadyVerified => ErrorCondition::ApplicationRecordLocked,
            HoldReason::Implausible | HoldReason::UnitMismatch => ErrorCondition::DataTypeError,
        }
    }
}

/// Imports one message from one of `candidates` (the labs the transport authenticated) as
/// of `now`; never fails: a database error is answered AE so the sender tries again later.
pub async fn import(
    store: &Store,
    raw: &str,
    candidates: &[Sender],
    transport: Transport,
    now: DateTime<Utc>,
) -> Answer {
    let own_id = format!("PLT{}", now.timestamp_micros());
    let reply = |message: Option<&hl7::Message>,
                 control_id: &str,
                 code: AckCode,
                 text: &str,
                 errors: &[(ErrorCondition, String)]| Answer {
        code,
        ack: hl7::acknowledgement(message, control_id, code, text, errors, now.naive_utc(), &own_id),
    };
    let message = match hl7::parse(raw) {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(%error, "HL7 message refused");
            let control_id = hl7::control_id_hint(raw).unwrap_or_default();
            let errors = [(error.condition(), error.to_string())];
            return reply(None, &control_id, error.ack_code(), &error.to_string(), &errors);
        }
    };
    let control_id = message.control_id();
    let candidates: Vec<Sender> = candidates
        .iter()
        .filter(|sender| sender.role == SenderRole::Lab)
        .cloned()
        .collect();
    let candidates = &candidates[..];
    let report = match hl7::observation_report(&message) {
        Ok(report) => report,
        Err(error) => {
            tracing::warn!(%error, control_id, "HL7 report refused");
            let errors = [(error.condition(), error.to_string())];
            return reply(
                Some(&message),
                &control_id,
                error.ack_code(),
                &error.to_string(),
                &errors,
            );
        }
    };
    // The other labs' identities matter only for a candidate configured without one.
    let every_lab = if candidates
        .iter()
        .any(|lab| lab.sending_facility.trim().is_empty())
    {
        match lab::senders(store).await {
            Ok(labs) => labs,
            Err(error) => {
                tracing::error!(%error, control_id, "HL7 report not stored");
                return reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, &[]);
            }
        }
    } else {
        Vec::new()
    };
    let Some(sender) = identify(
        candidates,
        &every_lab,
        transport,
        &report.sending_facility,
        &report.sending_facility_id,
    ) else {
        let text = format!(
            "MSH-4 {:?} is not the sending facility configured for this interface",
            report.sending_facility.chars().take(60).collect::<String>()
        );
        tracing::warn!(control_id, facility = %report.sending_facility, "HL7 message from an unexpected sender refused");
        let errors = [(ErrorCondition::UnknownKeyIdentifier, text.clone())];
        return reply(Some(&message), &control_id, AckCode::Reject, &text, &errors);
    };
    match file(store, sender, &report, raw, transport, now).await {
        Ok(Filed::Duplicate { held: false }) => reply(
            Some(&message),
            &control_id,
            AckCode::Accept,
            "already received: not stored again",
            &[],
        ),
        Ok(Filed::TooManyCritical { count }) => {
            let text = format!(
                "{count} critical values in one message, more than the {MAX_CRITICAL_PER_MESSAGE} a person can be \
                 told about at once: nothing was filed; telephone the clinic, then send them in smaller messages"
            );
            let errors = [(ErrorCondition::ApplicationInternalError, text.clone())];
            reply(Some(&message), &control_id, AckCode::Error, &text, &errors)
        }
        Ok(Filed::Duplicate { held: true }) => {
            let text = "already received: held for review at the clinic, not stored again";
            let errors = [(ErrorCondition::DuplicateKeyIdentifier, text.to_owned())];
            reply(Some(&message), &control_id, AckCode::Error, text, &errors)
        }
        Ok(Filed::Done { held, reused }) => {
            let lines: Vec<String> = held
                .iter()
                .map(|(placer, reason)| format!("order {placer:?}: {}", reason.code()))
                .collect();
            let mut errors: Vec<(ErrorCondition, String)> = held
                .iter()
                .zip(&lines)
                .map(|((_, reason), line)| (reason.condition(), line.clone()))
                .collect();
            if reused {
                errors.push((
                    ErrorCondition::DuplicateKeyIdentifier,
                    "this control id was used before for another message: stored and flagged for review"
                        .to_owned(),
                ));
            }
            if held.is_empty() {
                reply(Some(&message), &control_id, AckCode::Accept, "", &errors)
            } else {
                let text = format!("held for review: {}", lines.join("; "));
                reply(Some(&message), &control_id, AckCode::Error, &text, &errors)
            }
        }
        Err(error) => {
            tracing::error!(%error, control_id, "HL7 report not stored");
            reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, &[])
        }
    }
}

const UNAVAILABLE: &str = "not stored: the clinic's database is unavailable, send again later";

enum Filed {
    /// Received before; `held`: it was held for review then.
    Duplicate { held: bool },
    /// Stored; `held` says which order groups went to quarantine, and why; `reused`: its
    /// control id had come with another message.
    Done {
        held: Vec<(String, HoldReason)>,
        reused: bool,
    },
    /// Refused whole: it would raise more critical alerts than people can act on.
    TooManyCritical { count: usize },
}

/// The most critical values one message may raise. A real report carries a few; twenty
/// alerts at once is a lab's system gone wrong (or a forged message), and each would ring
/// on a tablet until acknowledged with read-back: such a message is refused (AE), nothing
/// filed, and the lab telephones as it would for any result it cannot deliver.
pub const MAX_CRITICAL_PER_MESSAGE: usize = 20;

/// What filing needs to know beyond the message: the catalog, the escalation delay, the
/// facility's offset for timestamps without one, who files.
struct Filing<'a> {
    facility_id: i64,
    catalog: Vec<LabTest>,
    utc_offset_minutes: i32,
    sender: &'a Sender,
    message_id: i64,
    /// Who files: the lab's interface, or the person who attached held results.
    who: super::act::Who<'a>,
    /// A person attaching held results has seen them: values are filed with a note
    /// rather than held again.
    by_person: bool,
    now: DateTime<Utc>,
}

async fn file(
    store: &Store,
    sender: &Sender,
    report: &ObservationReport,
    raw: &str,
    transport: Transport,
    now: DateTime<Utc>,
) -> Result<Filed, StoreError> {
    let Some(facility) = crate::facility::store::current(store).await? else {
        return Err(StoreError::NotFound);
    };
    let catalog = lab::tests(store, facility.id).await?;
    let digest = content_digest(raw);
    let mut tx = store.begin().await?;
    let earlier = crate::fetch_all!(
        tx.exec(),
        (String, String),
        "SELECT content_sha256, outcome FROM hl7_message WHERE reference_lab_id = $1 AND control_id = $2",
        sender.reference_lab_id,
        &report.control_id
    )?;
    if let Some((_, outcome)) = earlier.iter().find(|(sha, _)| *sha == digest) {
        return Ok(Filed::Duplicate {
            held: outcome == "quarantined",
        });
    }
    let reused = !earlier.is_empty();
    let claimed = if report.sending_facility.is_empty() {
        report.sending_application.clone()
    } else {
        report.sending_facility.clone()
    };
    // Stored first (as quarantined), so results and quarantine rows can name it; set to
    // filed at the end when nothing was held.
    let message_id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO hl7_message (reference_lab_id, receipt_key, sending_facility, control_id, content_sha256, \
         transport, received_at, outcome, raw, control_id_reused) \
         VALUES ($1, $9, $2, $3, $4, $5, $6, 'quarantined', $7, $8) RETURNING id",
        sender.reference_lab_id,
        &claimed,
        &report.control_id,
        &digest,
        transport.code(),
        now,
        raw,
        reused,
        format!("{}/{digest}", sender.reference_lab_id)
    )?;
    let actor = sender.actor();
    let filing = Filing {
        facility_id: facility.id,
        catalog,
        utc_offset_minutes: crate::facility::FacilityClock::at(&facility, now).utc_offset_seconds / 60,
        sender,
        message_id,
        who: super::act::Who::Interface(&actor),
        by_person: false,
        now,
    };
    let mut held = Vec::new();
    // Live events are written last, just before the commit: taking the event counter
    // early would make concurrent imports (on PostgreSQL) wait for each other.
    let mut changes = Vec::new();
    for (index, group) in report.orders.iter().enumerate() {
        let placer = group.placer_order_number.clone();
        match checked_order(&mut tx, &filing, report, group).await? {
            Ok(order) => {
                filing
                    .file_group(&mut tx, &order, report, group, &mut changes)
                    .await?
            }
            Err(hold) => {
                let index = i64::try_from(index).unwrap_or(i64::MAX);
                quarantine(&mut tx, &actor, message_id, index, &placer, hold, report, group).await?;
                held.push((placer, hold));
            }
        }
    }
    let alerts = changes
        .iter()
        .filter(|c| c.kind == crate::live::EventKind::CriticalAlert)
        .count();
    if alerts > MAX_CRITICAL_PER_MESSAGE {
        // Rolled back whole: the lab is told, and telephones.
        drop(tx);
        tracing::warn!(control_id = %report.control_id, alerts, "HL7 message with too many critical values refused");
        return Ok(Filed::TooManyCritical { count: alerts });
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
            "{} {} groups, {} held{}",
            report.control_id,
            report.orders.len(),
            held.len(),
            if reused { ", control id reused" } else { "" }
        ));
    crate::audit::store::record_in(&mut tx, entry).await?;
    for change in &changes {
        super::act::announce(&mut tx, change, now).await?;
    }
    if !held.is_empty() || reused {
        let event = crate::live::NewEvent {
            topic: crate::live::Topic::Lab,
            kind: crate::live::EventKind::LabOrder,
            subject: Some(message_id),
            code: Some(if held.is_empty() { "reused" } else { "quarantined" }.to_owned()),
            visit: None,
        };
        crate::live::store::record(&mut tx, &event, now).await?;
    }
    tx.commit().await?;
    Ok(Filed::Done { held, reused })
}

/// The order a group answers, by its placer number (OBR-2) or else by our accession
/// number on the specimen (SPM-2 or OBR-3).
async fn order_of_group(
    tx: &mut Tx,
    facility_id: i64,
    group: &OrderResults,
) -> Result<Option<lab::OrderState>, StoreError> {
    if !group.placer_order_number.is_empty() {
        if let Some(order) = lab::order_by_placer(tx.exec(), facility_id, &group.placer_order_number).await? {
            return Ok(Some(order));
        }
    }
    let accessions = [
        group.specimen.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
        group.filler_order_number.clone(),
    ];
    let service = hl7::loinc_of(&group.service, &group.service_alternate).unwrap_or_default();
    for accession in accessions.iter().filter(|a| super::is_accession(a)) {
        if let Some(order) = lab::order_by_accession(tx, facility_id, accession, service).await? {
            return Ok(Some(order));
        }
    }
    Ok(None)
}

/// The order a group may be filed on, or why a person must look first: the order is
/// known and open, is the named patient's, was sent out to this lab, is for the test the
/// message reports, is not verified already (unless these are corrections), and every
/// value meets the catalog's unit and plausibility rules.
async fn checked_order(
    tx: &mut Tx,
    filing: &Filing<'_>,
    report: &ObservationReport,
    group: &OrderResults,
) -> Result<Result<lab::OrderState, HoldReason>, StoreError> {
    let Some(order) = order_of_group(tx, filing.facility_id, group).await? else {
        return Ok(Err(HoldReason::UnknownOrder));
    };
    if matches!(order.state, LabOrderState::Cancelled | LabOrderState::Rejected) {
        return Ok(Err(HoldReason::OrderClosed));
    }
    let patient = lab::patient_of_visit(tx.exec(), filing.facility_id, order.visit_id).await?;
    if !same_patient(report, &patient) {
        return Ok(Err(HoldReason::PatientMismatch));
    }
    if lab::shipped_to(tx, &order).await? != Some(filing.sender.reference_lab_id) {
        return Ok(Err(HoldReason::NotSentToThisLab));
    }
    let test = filing.catalog.iter().find(|t| t.id == order.lab_test_id);
    if !same_test(group, test) {
        return Ok(Err(HoldReason::TestMismatch));
    }
    let valued = || group.observations.iter().filter(|o| !o.value.is_empty());
    if order.state == LabOrderState::Verified
        && valued().any(|o| status_of(&o.status, &group.result_status) != ResultStatus::Corrected)
    {
        return Ok(Err(HoldReason::AlreadyVerified));
    }
    let age = age_of(&patient, filing.now, filing.utc_offset_minutes);
    for observation in valued() {
        if let (Some(test), _) = rules_for(&filing.catalog, observation) {
            if let Reading::Hold(reason) =
                test.read_reported(&observation.value, &observation.units, patient.sex, age)
            {
                return Ok(Err(reason));
            }
        }
    }
    Ok(Ok(order))
}

/// OBR-4 reports the test ordered: when it carries a LOINC code, that code must be the
/// order's test's (no guessing which panel contains which test).
fn same_test(group: &OrderResults, test: Option<&LabTest>) -> bool {
    match (hl7::loinc_of(&group.service, &group.service_alternate), test) {
        (Some(reported), Some(test)) => reported == test.loinc,
        // A lab's own code for the test cannot be compared: the order's number decides.
        _ => true,
    }
}

/// The patient's age in whole years, today in the facility.
fn age_of(patient: &lab::PatientOfVisit, now: DateTime<Utc>, offset_minutes: i32) -> i64 {
    let today = (now + chrono::Duration::minutes(i64::from(offset_minutes))).date_naive();
    i64::from(patient.summary().age_on(today))
}

/// The catalog test whose rules apply to an observation (by its LOINC code), and that code.
fn rules_for<'a>(
    catalog: &'a [LabTest],
    observation: &'a ObservationResult,
) -> (Option<&'a LabTest>, &'a str) {
    let loinc = hl7::loinc_of(&observation.code, &observation.code_alternate).unwrap_or_default();
    let test = catalog
        .iter()
        .find(|t| !loinc.is_empty() && t.loinc == loinc && t.value_kind != ValueKind::Panel);
    (test, loinc)
}

/// Two identifiers must agree: the family name, and the birth date or the record number.
fn same_patient(report: &ObservationReport, patient: &lab::PatientOfVisit) -> bool {
    identities_agree(
        &report.patient,
        &patient.family_name,
        patient.birth_date,
        &patient.record_number,
    )
}

/// The patient a message names and a clinic patient are the same person: the family name,
/// and the birth date or the record number.
pub fn identities_agree(
    named: &hl7::PatientIdentity,
    family_name: &str,
    birth_date: chrono::NaiveDate,
    record_number: &str,
) -> bool {
    let name = fold(&named.family_name) == fold(family_name);
    let birth = named.birth_date == Some(birth_date);
    let record = named
        .identifiers
        .iter()
        .any(|id| !id.id.is_empty() && id.id == record_number);
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

/// A line's status: OBX-11 says it (F final, C corrected, anything else preliminary);
/// when a lab leaves OBX-11 empty, the order's status (OBR-25) stands for its lines; when
/// both are empty the line is preliminary, and shows that its status was not sent.
fn status_of(obx_11: &str, obr_25: &str) -> ResultStatus {
    let given = match obx_11.trim() {
        "" => obr_25.trim(),
        own => own,
    };
    match given {
        "F" => ResultStatus::Final,
        "C" => ResultStatus::Corrected,
        _ => ResultStatus::Preliminary,
    }
}

/// Whether the sender's own flags (OBX-8) call the value critical.
fn sender_says_critical(flags: &[String]) -> bool {
    flags
        .iter()
        .filter_map(|f| Flag::from_code(f.trim()))
        .any(Flag::is_critical)
}

/// A person files a held group on the order they chose, having compared the patient the
/// message names with the order's (and, when they differ, a second person confirmed): the
/// group is taken again from the message as received, and the clinic's rules applied.
pub async fn attach_held(
    store: &Store,
    tx: &mut Tx,
    who: super::act::Who<'_>,
    message_id: i64,
    group_index: i64,
    order: &lab::OrderState,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some((raw, sender)) = lab::message_and_sender(tx, message_id).await? else {
        return Ok(false);
    };
    let Ok(report) = hl7::parse(&raw).and_then(|m| hl7::observation_report(&m)) else {
        return Ok(false);
    };
    let Some(group) = usize::try_from(group_index)
        .ok()
        .and_then(|i| report.orders.get(i))
    else {
        return Ok(false);
    };
    let Some(facility) = crate::facility::store::current(store).await? else {
        return Err(StoreError::NotFound);
    };
    let filing = Filing {
        facility_id: facility.id,
        catalog: lab::tests(store, facility.id).await?,
        utc_offset_minutes: crate::facility::FacilityClock::at(&facility, now).utc_offset_seconds / 60,
        sender: &sender,
        message_id,
        who,
        by_person: true,
        now,
    };
    let mut changes = Vec::new();
    filing.file_group(tx, order, &report, group, &mut changes).await?;
    for change in &changes {
        super::act::announce(tx, change, now).await?;
    }
    Ok(true)
}

impl Filing<'_> {
    /// Files a group's results on its order with the clinic's rules: Plateau's flag and
    /// range from the catalog beside the sender's, codes and times as sent, each result
    /// superseding the earlier one of the same observation, comments with what they are
    /// about. Final results are verified by the reference lab; a critical one, by
    /// Plateau's limits or the sender's flag, raises its alert as at the bench.
    async fn file_group(
        &self,
        tx: &mut Tx,
        order: &lab::OrderState,
        report: &ObservationReport,
        group: &OrderResults,
        changes: &mut Vec<super::act::Change>,
    ) -> Result<(), StoreError> {
        let patient = lab::patient_of_visit(tx.exec(), self.facility_id, order.visit_id).await?;
        let age = age_of(&patient, self.now, self.utc_offset_minutes);
        let at = |t: &Option<hl7::Hl7Timestamp>| t.as_ref().map(|t| t.to_utc(self.utc_offset_minutes));
        let collected_at =
            at(&group.observed_at).or_else(|| group.specimen.as_ref().and_then(|s| at(&s.collected_at)));
        let mut all_final = true;
        let mut filed = 0;
        for observation in group.observations.iter().filter(|o| !o.value.is_empty()) {
            let status = status_of(&observation.status, &group.result_status);
            all_final &= status != ResultStatus::Preliminary;
            let (test, loinc) = rules_for(&self.catalog, observation);
            let reading =
                test.map(|t| t.read_reported(&observation.value, &observation.units, patient.sex, age));
            let sender_flag = observation.flags.join(",");
            let (numeric, flag, range, rules) = match reading {
                Some(Reading::Flagged { number, flag, range }) => {
                    (number, Some(flag), range, ClinicRules::Applied)
                }
                // Only a person attaching held results gets here with a unit or plausibility
                // problem: filed as sent, with no flag of Plateau's where the unit differs.
                Some(Reading::Hold(HoldReason::UnitMismatch)) => (
                    None,
                    observation.flags.first().and_then(|f| Flag::from_code(f)),
                    observation.reference_range.clone(),
                    ClinicRules::UnitDiffers,
                ),
                _ => (
                    super::reported_number(&observation.value).filter(|_| observation.value_type == "NM"),
                    observation.flags.first().and_then(|f| Flag::from_code(f)),
                    observation.reference_range.clone(),
                    ClinicRules::NotApplicable,
                ),
            };
            let name = match (&observation.code.text, test) {
                (_, Some(test)) => test.name_fr.clone(),
                (text, None) if !text.is_empty() => text.clone(),
                _ => observation.code.code.clone(),
            };
            let coded = observation.coded.clone().unwrap_or_default();
            let replaces = lab::current_result_of(tx, order.id, loinc, &observation.code).await?;
            let result = lab::NewResult {
                order_id: order.id,
                loinc: loinc.to_owned(),
                name,
                value: observation.value.clone(),
                numeric_value: numeric,
                unit: observation.units.clone(),
                reference_range: range,
                flag,
                status,
                entered_by: None,
                hl7_message_id: Some(self.message_id),
                reported: lab::AsReported {
                    observation_code: observation.code.code.clone(),
                    observation_system: observation.code.system.clone(),
                    observation_text: observation.code.text.clone(),
                    value_code: coded.code,
                    value_system: coded.system,
                    value_text: coded.original_text,
                    sender_flag: sender_flag.clone(),
                    sender_range: observation.reference_range.clone(),
                    status_as_sent: observation.status.trim().to_owned(),
                    clinic_rules: rules,
                    observed_at: at(&observation.observed_at).or(collected_at),
                    collected_at,
                    replaces_result_id: replaces.as_ref().map(|r| r.id),
                },
            };
            let result_id = lab::add_result(tx, &result, self.now).await?;
            filed += 1;
            for note in &observation.notes {
                lab::add_note(tx, self.message_id, order.id, Some(result_id), "result", note).await?;
            }
            if status == ResultStatus::Preliminary {
                continue;
            }
            lab::verify_result(tx, result_id, self.now).await?;
            let critical = flag.is_some_and(Flag::is_critical) || sender_says_critical(&observation.flags);
            // A final that repeats the value of a preliminary already alerted on is not
            // told twice.
            let told = replaces
                .as_ref()
                .is_some_and(|r| r.alerted && r.value == observation.value);
            if critical && !told {
                let finding = super::act::CriticalFinding {
                    facility_id: self.facility_id,
                    result_id,
                    visit_id: order.visit_id,
                    patient_id: patient.patient_id,
                    detail: format!(
                        "{} {} {} from {}",
                        if loinc.is_empty() {
                            &observation.code.code
                        } else {
                            loinc
                        },
                        observation.value,
                        flag.map_or(sender_flag.clone(), |f| f.code().to_owned()),
                        self.sender.code
                    ),
                };
                changes.push(super::act::raise_critical(tx, &self.who, &finding, self.now).await?);
            }
        }
        for note in &report.notes {
            lab::add_note(tx, self.message_id, order.id, None, "report", note).await?;
        }
        for note in &group.notes {
            lab::add_note(tx, self.message_id, order.id, None, "order", note).await?;
        }
        let state = if filed > 0 && all_final && !lab::has_preliminary(tx, order.id).await? {
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
        let entry = self
            .who
            .entry("lab.result", Outcome::Allowed)
            .patient(patient.patient_id)
            .record(format!("lab_order/{}", order.id))
            .detail(format!(
                "{filed} results from hl7_message/{} ({}){}",
                self.message_id,
                self.sender.code,
                if self.by_person {
                    " attached by a person"
                } else {
                    ""
                }
            ));
        crate::audit::store::record_in(tx, entry).await?;
        changes.push(super::act::Change::order(order.id, order.visit_id, state));
        Ok(())
    }
}

/// Keeps a group nobody may file automatically, with what a person needs to decide.
#[allow(clippy::too_many_arguments)]
async fn quarantine(
    tx: &mut Tx,
    actor: &str,
    message_id: i64,
    group_index: i64,
    placer: &str,
    hold: HoldReason,
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
    let mut lines: Vec<String> = group
        .observations
        .iter()
        .map(|o| {
            let mut line = format!(
                "{} {} = {} {} [{}] {} {}",
                o.code.code,
                o.code.text,
                o.value,
                o.units,
                o.reference_range,
                o.flags.join(","),
                o.status
            );
            for note in &o.notes {
                line.push_str(&format!(" — {note}"));
            }
            line
        })
        .collect();
    lines.extend(
        report
            .notes
            .iter()
            .chain(&group.notes)
            .map(|n| format!("NTE: {n}")),
    );
    crate::execute!(
        tx.exec(),
        "INSERT INTO lab_quarantine (hl7_message_id, placer_number, group_index, reason, patient_text, observations) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        message_id,
        placer,
        group_index,
        hold.code(),
        patient_text,
        lines.join("\n")
    )?;
    let entry = Entry::anonymous(actor, "lab.hl7.quarantine", Outcome::Allowed)
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
    fn a_line_without_status_takes_its_orders_else_is_preliminary() {
        assert_eq!(status_of("F", ""), ResultStatus::Final);
        assert_eq!(status_of("C", "F"), ResultStatus::Corrected);
        assert_eq!(
            status_of("P", "F"),
            ResultStatus::Preliminary,
            "the line's own status wins"
        );
        assert_eq!(status_of("I", ""), ResultStatus::Preliminary);
        assert_eq!(status_of("", "F"), ResultStatus::Final);
        assert_eq!(status_of(" ", "C"), ResultStatus::Corrected);
        assert_eq!(status_of("", ""), ResultStatus::Preliminary);
    }

    #[test]
    fn the_same_content_whatever_ends_its_segments() {
        let cr = "MSH|^~\\&|A|B\rPID|1\r";
        assert_eq!(content_digest(cr), content_digest("MSH|^~\\&|A|B\r\nPID|1\r\n"));
        assert_eq!(
            content_digest(cr),
            content_digest("\u{b}MSH|^~\\&|A|B\nPID|1\u{1c}\r")
        );
        assert_ne!(content_digest(cr), content_digest("MSH|^~\\&|A|B\rPID|2\r"));
    }

    #[test]
    fn a_message_comes_from_the_lab_that_authenticated() {
        let lab = |id: i64, facility: &str| Sender {
            reference_lab_id: id,
            role: SenderRole::Lab,
            code: format!("L{id}"),
            name: String::new(),
            sending_facility: facility.to_owned(),
        };
        let every = [lab(1, "BIOREF"), lab(2, "CERBA"), lab(3, "")];
        let http = |candidates: &[Sender], ns: &str, uid: &str| {
            identify(candidates, &every, Transport::Http, ns, uid).map(|l| l.reference_lab_id)
        };
        assert_eq!(http(&every[..1], "BIOREF", ""), Some(1));
        assert_eq!(http(&every[..1], "bioref", ""), Some(1));
        assert_eq!(
            http(&every[..1], "X", "BIOREF"),
            Some(1),
            "the universal id names it too"
        );
        assert_eq!(http(&every[..1], "CERBA", ""), None, "another lab's name");
        assert_eq!(
            http(&every[..1], "", ""),
            None,
            "a configured lab must name itself"
        );
        assert_eq!(
            http(&every[2..], "", ""),
            Some(3),
            "not configured: HTTP's token is enough"
        );
        assert_eq!(
            http(&every[2..], "CERBA", ""),
            None,
            "but never while claiming another lab"
        );
        let mllp = |candidates: &[Sender], ns: &str| {
            identify(candidates, &every, Transport::Mllp, ns, "").map(|l| l.reference_lab_id)
        };
        assert_eq!(mllp(&every[..2], "CERBA"), Some(2));
        assert_eq!(mllp(&every[2..], ""), None, "over MLLP the lab must name itself");
        assert_eq!(mllp(&[], "BIOREF"), None);
    }

    #[test]
    fn critical_by_the_senders_flag_too() {
        assert!(sender_says_critical(&["HH".to_owned()]));
        assert!(sender_says_critical(&["A".to_owned(), "LL".to_owned()]));
        assert!(!sender_says_critical(&["H".to_owned()]));
        assert!(!sender_says_critical(&[]));
    }
}
