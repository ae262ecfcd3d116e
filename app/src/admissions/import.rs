//! ADT messages from the front office, applied: patients registered and updated with the
//! desk's own checks, visits begun, ended and cancelled, duplicates merged. A message is
//! applied whole or not at all, and once; an update that contradicts the record's birth
//! date or sex is held for a person; every message is answered with an ACK saying which.

use super::adt::{self, Admission, AdtError, AdtEvent, Identifier};
use crate::audit::{Entry, Outcome};
use crate::error::AppError;
use crate::lab::hl7::{self, AckCode, ErrorCondition};
use crate::lab::import::{content_digest, identify, Answer, Sender, SenderRole, Transport};
use crate::patients::identity::Identity;
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

const UNAVAILABLE: &str = "not applied: the clinic's database is unavailable, send again later";

/// Why a message was not applied as sent.
enum Stop {
    /// Refused with this ACK code and condition: the text says why.
    Refused(AckCode, ErrorCondition, String),
    /// Held for a person at the clinic, about this patient.
    Held(String, i64),
    /// The database failed: the sender tries again later.
    Failed(AppError),
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Self {
        Stop::Failed(error)
    }
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Stop::Failed(error.into())
    }
}

fn unknown(text: String) -> Stop {
    Stop::Refused(AckCode::Error, ErrorCondition::UnknownKeyIdentifier, text)
}

/// What a message did, for the ACK and the audit trail.
struct Applied {
    detail: String,
    patient_id: Option<i64>,
}

/// Imports one ADT message from one of `candidates` (the interfaces the transport
/// authenticated) as of `now`. Never fails: a database error is answered AE.
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
                 condition: Option<ErrorCondition>| {
        let errors: Vec<(ErrorCondition, String)> =
            condition.map(|c| (c, text.to_owned())).into_iter().collect();
        Answer {
            code,
            ack: hl7::acknowledgement(message, control_id, code, text, &errors, now.naive_utc(), &own_id),
        }
    };
    let message = match hl7::parse(raw) {
        Ok(message) => message,
        Err(error) => {
            let control_id = hl7::control_id_hint(raw).unwrap_or_default();
            return reply(
                None,
                &control_id,
                error.ack_code(),
                &error.to_string(),
                Some(error.condition()),
            );
        }
    };
    let control_id = message.control_id();
    let candidates: Vec<Sender> = candidates
        .iter()
        .filter(|sender| sender.role == SenderRole::FrontOffice)
        .cloned()
        .collect();
    let every = match crate::lab::store::senders(store).await {
        Ok(every) => every,
        Err(error) => {
            tracing::error!(%error, control_id, "ADT message not applied");
            return reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, None);
        }
    };
    let header = message.header();
    let (namespace, universal_id) = (header.text(4, 1), header.text(4, 2));
    let Some(sender) = identify(&candidates, &every, transport, &namespace, &universal_id) else {
        let text = format!(
            "MSH-4 {:?} is not a front office configured for this interface",
            namespace.chars().take(60).collect::<String>()
        );
        return reply(
            Some(&message),
            &control_id,
            AckCode::Reject,
            &text,
            Some(ErrorCondition::UnknownKeyIdentifier),
        );
    };
    let digest = content_digest(raw);
    match crate::admissions::store::earlier(store, sender.reference_lab_id, &control_id).await {
        Ok(Some((earlier_digest, outcome, detail))) if outcome != "refused" => {
            return if earlier_digest != digest {
                let text = "this control id was used before for another message: not applied";
                reply(
                    Some(&message),
                    &control_id,
                    AckCode::Error,
                    text,
                    Some(ErrorCondition::DuplicateKeyIdentifier),
                )
            } else if outcome == "held" {
                let text = format!("already received: held for a person at the clinic ({detail})");
                reply(
                    Some(&message),
                    &control_id,
                    AckCode::Error,
                    &text,
                    Some(ErrorCondition::DuplicateKeyIdentifier),
                )
            } else {
                reply(
                    Some(&message),
                    &control_id,
                    AckCode::Accept,
                    "already received: not applied again",
                    None,
                )
            };
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(%error, control_id, "ADT message not applied");
            return reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, None);
        }
    }
    let admission = match adt::admission(&message) {
        Ok(admission) => admission,
        Err(error) => {
            let (code, condition) = match &error {
                AdtError::Hl7(hl7) => (hl7.ack_code(), hl7.condition()),
                AdtError::UnsupportedEvent(_) => (AckCode::Reject, ErrorCondition::UnsupportedEventCode),
                AdtError::Missing { .. } => (AckCode::Error, ErrorCondition::RequiredFieldMissing),
            };
            let text = error.to_string();
            let event = header.text(9, 2);
            let stored = Stored {
                sender,
                control_id: &control_id,
                digest: &digest,
                event: &event,
                transport,
                raw,
            };
            return match stored.record(store, "refused", &text, None, now).await {
                Ok(()) => reply(Some(&message), &control_id, code, &text, Some(condition)),
                Err(_) => reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, None),
            };
        }
    };
    let stored = Stored {
        sender,
        control_id: &control_id,
        digest: &digest,
        event: admission.event.code(),
        transport,
        raw,
    };
    let outcome = match apply(store, sender, &admission, Checked::AgainstRecord, now).await {
        Ok((mut tx, applied)) => {
            let recorded = super::store::record(
                &mut tx,
                &stored.received("applied", &applied.detail, applied.patient_id),
                now,
            )
            .await;
            match recorded {
                Ok(_) => tx.commit().await.map_err(Stop::from),
                Err(error) => Err(Stop::from(error)),
            }
        }
        Err(stop) => Err(stop),
    };
    let (outcome, detail, patient_id, code, condition) = match outcome {
        Ok(()) => return reply(Some(&message), &control_id, AckCode::Accept, "", None),
        Err(Stop::Held(detail, patient)) => (
            "held",
            format!("held for a person at the clinic: {detail}"),
            Some(patient),
            AckCode::Error,
            ErrorCondition::ApplicationRecordLocked,
        ),
        Err(Stop::Refused(code, condition, text)) => ("refused", text, None, code, condition),
        Err(Stop::Failed(error)) => {
            tracing::error!(%error, control_id, "ADT message not applied");
            return reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, None);
        }
    };
    match stored.record(store, outcome, &detail, patient_id, now).await {
        Ok(()) => reply(Some(&message), &control_id, code, &detail, Some(condition)),
        Err(_) => reply(Some(&message), &control_id, AckCode::Error, UNAVAILABLE, None),
    }
}

/// A message as it is recorded, whatever became of it.
struct Stored<'a> {
    sender: &'a Sender,
    control_id: &'a str,
    digest: &'a str,
    event: &'a str,
    transport: Transport,
    raw: &'a str,
}

impl Stored<'_> {
    fn received<'b>(
        &'b self,
        outcome: &'b str,
        detail: &'b str,
        patient_id: Option<i64>,
    ) -> super::store::Received<'b> {
        super::store::Received {
            sender_id: self.sender.reference_lab_id,
            control_id: self.control_id,
            content_sha256: self.digest,
            event: self.event,
            transport: match self.transport {
                Transport::Http => "http",
                Transport::Mllp => "mllp",
            },
            outcome,
            detail,
            patient_id,
            raw: self.raw,
        }
    }

    /// Records a message that was not applied (held or refused), on its own.
    async fn record(
        &self,
        store: &Store,
        outcome: &str,
        detail: &str,
        patient_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = store.begin().await?;
        super::store::record(&mut tx, &self.received(outcome, detail, patient_id), now).await?;
        let mut entry = Entry::anonymous(&self.sender.actor(), "adt.not_applied", Outcome::Refused)
            .detail(format!("{} {}: {outcome}: {detail}", self.event, self.control_id));
        if let Some(patient) = patient_id {
            entry = entry.patient(patient);
        }
        crate::audit::record_in(&mut tx, entry).await?;
        tx.commit().await
    }
}

/// Whether an identity update is checked against the record's birth date and sex (a
/// message as it arrives), or was checked by a person (a held message they apply).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    AgainstRecord,
    ByPerson,
}

/// Applies a message in a transaction the caller records it in and commits.
async fn apply(
    store: &Store,
    sender: &Sender,
    admission: &Admission,
    checked: Checked,
    now: DateTime<Utc>,
) -> Result<(Tx, Applied), Stop> {
    let facility_id = super::store::facility_of(store, sender.reference_lab_id).await?;
    let clock = crate::facility::current_clock(store)
        .await
        .map_err(Stop::Failed)?
        .1;
    let identity = admission.patient.check(clock.today()).map_err(|error| {
        Stop::Refused(
            AckCode::Error,
            ErrorCondition::DataTypeError,
            format!("PID: {}", describe(&error)),
        )
    })?;
    let identifier = Identifier {
        id: admission.patient.record_number.clone(),
        authority: admission.patient.assigning_authority.clone(),
    };
    let actor = sender.actor();
    let by = UpdateBy {
        store,
        facility_id,
        checked,
        actor: &actor,
        now,
    };
    let mut tx = store.begin().await?;
    let applied = match admission.event {
        AdtEvent::Admit | AdtEvent::Register => {
            let patient_id = register_or_update(&by, &mut tx, &identifier, &identity).await?;
            arrive(&mut tx, patient_id, admission, &actor, now).await?
        }
        AdtEvent::Update => {
            let Some(patient_id) = super::store::patient_known_as(&mut tx, facility_id, &identifier).await?
            else {
                return Err(unknown(format!(
                    "no patient {} of {} at the clinic",
                    identifier.id, identifier.authority
                )));
            };
            let detail = update(&by, &mut tx, patient_id, &identity).await?;
            Applied {
                detail,
                patient_id: Some(patient_id),
            }
        }
        AdtEvent::Discharge | AdtEvent::CancelArrival => {
            let Some(patient_id) = super::store::patient_known_as(&mut tx, facility_id, &identifier).await?
            else {
                return Err(unknown(format!(
                    "no patient {} of {} at the clinic",
                    identifier.id, identifier.authority
                )));
            };
            leave(&mut tx, facility_id, patient_id, admission, &actor, now).await?
        }
        AdtEvent::Merge => merge(&mut tx, facility_id, &identifier, admission, &actor).await?,
    };
    Ok((tx, applied))
}

fn describe(error: &AppError) -> String {
    match error {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{} {:?}", f.field, f.problem))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn entry(actor: &str, action: &str, patient_id: i64, detail: String) -> Entry {
    Entry::anonymous(actor, action, Outcome::Allowed)
        .patient(patient_id)
        .record(format!("patient/{patient_id}"))
        .detail(detail)
}

/// Who updates a record, where, how checked, and when.
struct UpdateBy<'a> {
    store: &'a Store,
    facility_id: i64,
    checked: Checked,
    actor: &'a str,
    now: DateTime<Utc>,
}

async fn register_or_update(
    by: &UpdateBy<'_>,
    tx: &mut Tx,
    identifier: &Identifier,
    identity: &Identity,
) -> Result<i64, Stop> {
    let UpdateBy {
        facility_id,
        actor,
        now,
        ..
    } = *by;
    if let Some(patient_id) = super::store::patient_known_as(tx, facility_id, identifier).await? {
        update(by, tx, patient_id, identity).await?;
        return Ok(patient_id);
    }
    let patient_id =
        crate::patients::registry::insert(tx, facility_id, &identifier.id, identity, now).await?;
    let detail = format!("{} {} from the front office", identifier.id, identifier.authority);
    crate::audit::record_in(tx, entry(actor, "patient.register", patient_id, detail)).await?;
    Ok(patient_id)
}

/// Updates a record with what the front office sent, keeping what it does not send (the
/// trusted person, the interpreter, the weight, allergies when it lists none). A birth
/// date or sex that contradicts the record is held for a person.
async fn update(by: &UpdateBy<'_>, tx: &mut Tx, patient_id: i64, sent: &Identity) -> Result<String, Stop> {
    let UpdateBy {
        store,
        facility_id,
        checked,
        actor,
        now,
    } = *by;
    let before = crate::patients::registry::read(store, facility_id, patient_id).await?;
    let old = &before.identity;
    let person_checked = checked == Checked::ByPerson;
    if old.birth_date != sent.birth_date && !person_checked {
        return Err(Stop::Held(
            format!(
                "birth date {} on record, {} sent",
                old.birth_date, sent.birth_date
            ),
            patient_id,
        ));
    }
    if old.sex != sent.sex && sent.sex != crate::patients::Sex::Unknown && !person_checked {
        return Err(Stop::Held(
            format!("sex {} on record, {} sent", old.sex, sent.sex),
            patient_id,
        ));
    }
    let mut after = sent.clone();
    after.sex = if sent.sex == crate::patients::Sex::Unknown {
        old.sex
    } else {
        sent.sex
    };
    after.trusted_person = old.trusted_person.clone();
    after.interpreter_needed = old.interpreter_needed;
    after.weight = old.weight;
    if after.emergency_contact.is_empty() {
        after.emergency_contact = old.emergency_contact.clone();
    }
    if after.birth_name.is_empty() {
        after.birth_name = old.birth_name.clone();
    }
    if after.allergies.is_empty() {
        after.allergy_status = old.allergy_status;
        after.allergies = old.allergies.clone();
    }
    after.record_number = old.record_number.clone();
    let changes = old.changes_to(&after);
    if changes.is_empty() {
        return Ok("identity unchanged".to_owned());
    }
    let number = old.record_number.clone().unwrap_or_default();
    if !crate::patients::registry::update(tx, facility_id, patient_id, before.version, &number, &after, now)
        .await?
    {
        return Err(Stop::Failed(AppError::conflict()));
    }
    let detail = changes.join("; ");
    crate::audit::record_in(tx, entry(actor, "patient.update", patient_id, detail.clone())).await?;
    Ok(detail)
}

/// A01/A04: the patient's visit begins (unless one is under way), waiting.
async fn arrive(
    tx: &mut Tx,
    patient_id: i64,
    admission: &Admission,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Stop> {
    use crate::patients::store::{create_visit, NewVisit};
    use crate::patients::VisitState;
    if let Some(visit_id) = crate::visits::store::open_visit_of(tx, patient_id).await? {
        if let Some(number) = &admission.visit {
            super::store::number_visit(tx, visit_id, number).await?;
        }
        return Ok(Applied {
            detail: format!("visit/{visit_id} already under way"),
            patient_id: Some(patient_id),
        });
    }
    let reason: String = match admission.reason.trim() {
        "" => "Arrivée (accueil)".to_owned(),
        reason => reason.chars().take(crate::visits::VISIT_REASON_MAX).collect(),
    };
    let visit_id = create_visit(
        tx,
        &NewVisit {
            patient_id,
            reason: &reason,
            arrived_at: now,
            state: VisitState::Waiting,
            room_id: None,
            ended_at: None,
        },
    )
    .await?;
    if let Some(number) = &admission.visit {
        super::store::number_visit(tx, visit_id, number).await?;
    }
    crate::visits::store::announce(tx, visit_id, VisitState::Waiting, now).await?;
    let detail = format!("visit/{visit_id}: {reason}");
    crate::audit::record_in(tx, entry(actor, "visit.check_in", patient_id, detail.clone())).await?;
    Ok(Applied {
        detail,
        patient_id: Some(patient_id),
    })
}

/// A03 (the patient left) and A11 (the arrival was entered in error).
async fn leave(
    tx: &mut Tx,
    facility_id: i64,
    patient_id: i64,
    admission: &Admission,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Stop> {
    use crate::visits::departure::{self, Departure};
    let Some(visit_id) = super::store::visit_of(tx, patient_id, admission.visit.as_ref()).await? else {
        return Err(unknown(
            "no visit of this patient is under way at the clinic".to_owned(),
        ));
    };
    let (_, state) = crate::patients::store::whereabouts(tx, facility_id, visit_id).await?;
    if state == crate::patients::VisitState::Done {
        return Ok(Applied {
            detail: format!("visit/{visit_id} had already ended"),
            patient_id: Some(patient_id),
        });
    }
    let cancelling = admission.event == AdtEvent::CancelArrival;
    if cancelling && super::store::has_clinical_work(tx, visit_id).await? {
        return Err(Stop::Refused(
            AckCode::Error,
            ErrorCondition::ApplicationRecordLocked,
            "orders, specimens or procedures are recorded on this visit: it cannot be cancelled, end it instead".to_owned(),
        ));
    }
    // The front office's word that the patient left ends the visit: what is still pending
    // goes on the follow-up list rather than being lost.
    let reason = if cancelling {
        "Arrivée annulée par l'accueil (A11)"
    } else {
        "Sortie signalée par l'accueil (A03)"
    };
    let pending = match departure::end(tx, facility_id, visit_id, reason, None, now).await? {
        Departure::Ended { pending, .. } => pending,
        Departure::Held(pending) => pending,
    };
    if cancelling {
        super::store::cancel_visit(tx, visit_id).await?;
    }
    let action = if cancelling { "visit.cancel" } else { "visit.end" };
    let detail = format!("visit/{visit_id}: {}", departure::audit_detail(&pending, reason));
    crate::audit::record_in(tx, entry(actor, action, patient_id, detail.clone())).await?;
    Ok(Applied {
        detail,
        patient_id: Some(patient_id),
    })
}

/// A40: the prior record (MRG-1) is merged into the patient's (PID-3); a patient Plateau
/// knows only by the prior number takes the new one.
async fn merge(
    tx: &mut Tx,
    facility_id: i64,
    kept: &Identifier,
    admission: &Admission,
    actor: &str,
) -> Result<Applied, Stop> {
    let Some(prior) = &admission.prior else {
        return Err(unknown("MRG-1 is required".to_owned()));
    };
    let Some(prior_id) = super::store::patient_known_as(tx, facility_id, prior).await? else {
        return Err(unknown(format!(
            "no patient {} of {} at the clinic to merge",
            prior.id, prior.authority
        )));
    };
    let detail = match super::store::patient_known_as(tx, facility_id, kept).await? {
        Some(kept_id) if kept_id == prior_id => "already one record".to_owned(),
        Some(kept_id) => {
            let Some(merged) = crate::patients::registry::merge(tx, facility_id, kept_id, prior_id).await?
            else {
                return Err(unknown("the prior record was already merged".to_owned()));
            };
            let detail = format!(
                "patient/{prior_id} merged into patient/{kept_id}: {} visit(s), {} allergy(ies) moved (A40)",
                merged.visits, merged.allergies
            );
            for (patient, action) in [(kept_id, "patient.merge_kept"), (prior_id, "patient.merged")] {
                crate::audit::record_in(tx, entry(actor, action, patient, detail.clone())).await?;
            }
            return Ok(Applied {
                detail,
                patient_id: Some(kept_id),
            });
        }
        None => {
            super::store::renumber(tx, prior_id, kept).await?;
            let detail = format!(
                "{} of {} now known as {} of {} (A40)",
                prior.id, prior.authority, kept.id, kept.authority
            );
            crate::audit::record_in(tx, entry(actor, "patient.update", prior_id, detail.clone())).await?;
            detail
        }
    };
    Ok(Applied {
        detail,
        patient_id: Some(prior_id),
    })
}

/// A person's decision on an update held for them: applied as sent (they checked the
/// birth date or sex with the patient), or dismissed (the record is right). Returns the
/// patient, or `None` when there is no such message waiting in this facility.
pub async fn resolve_held(
    store: &Store,
    facility_id: i64,
    held_id: i64,
    apply_it: bool,
    principal: &crate::auth::Principal,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    let Some((sender_id, raw, patient_id)) = super::store::held(store, facility_id, held_id).await? else {
        return Ok(None);
    };
    let (mut tx, detail) = if apply_it {
        let senders = crate::lab::store::senders(store).await?;
        let Some(sender) = senders.iter().find(|s| s.reference_lab_id == sender_id) else {
            return Ok(None);
        };
        let message = hl7::parse(&raw).map_err(|_| AppError::Malformed)?;
        let admission = adt::admission(&message).map_err(|_| AppError::Malformed)?;
        match apply(store, sender, &admission, Checked::ByPerson, now).await {
            Ok((tx, applied)) => (tx, applied.detail),
            Err(Stop::Failed(error)) => return Err(error),
            Err(Stop::Held(..)) => return Err(AppError::conflict()),
            Err(Stop::Refused(_, _, text)) => {
                tracing::warn!(held_id, %text, "a held ADT message no longer applies");
                return Err(AppError::conflict());
            }
        }
    } else {
        (store.begin().await?, "dismissed: the record is right".to_owned())
    };
    let resolution = if apply_it { "applied" } else { "dismissed" };
    if !super::store::resolve(&mut tx, held_id, resolution, principal.staff_member_id, now).await? {
        return Err(AppError::conflict());
    }
    let entry = Entry::by(principal, "adt.resolve", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("adt_message/{held_id}"))
        .detail(format!("{resolution}: {detail}"));
    crate::audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(Some(patient_id))
}
