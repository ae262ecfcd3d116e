//! ADT messages and the patients and visits they name, in the database.

use super::adt::Identifier;
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

/// The facility an interface belongs to.
pub async fn facility_of(store: &Store, sender_id: i64) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        store.read(),
        i64,
        "SELECT facility_id FROM reference_lab WHERE id = $1",
        sender_id
    )
}

/// A message received before from this sender with this control id: its content digest
/// and outcome.
pub async fn earlier(
    store: &Store,
    sender_id: i64,
    control_id: &str,
) -> Result<Option<(String, String, String)>, StoreError> {
    crate::fetch_optional!(
        store.read(),
        (String, String, String),
        "SELECT content_sha256, outcome, detail FROM adt_message WHERE sender_id = $1 AND control_id = $2",
        sender_id,
        control_id
    )
}

/// One message as received, and what became of it.
pub struct Received<'a> {
    pub sender_id: i64,
    pub control_id: &'a str,
    pub content_sha256: &'a str,
    pub event: &'a str,
    pub transport: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub patient_id: Option<i64>,
    pub raw: &'a str,
}

/// Records a message (once: a message refused before is recorded again with its new
/// outcome, since the sender may have sent it again after the clinic fixed the cause).
pub async fn record(tx: &mut Tx, message: &Received<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    crate::execute!(
        tx.exec(),
        "DELETE FROM adt_message WHERE sender_id = $1 AND control_id = $2 AND outcome = 'refused'",
        message.sender_id,
        message.control_id
    )?;
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO adt_message (sender_id, control_id, content_sha256, event, transport, received_at, outcome, \
         detail, patient_id, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        message.sender_id,
        message.control_id,
        message.content_sha256,
        message.event,
        message.transport,
        now,
        message.outcome,
        message.detail,
        message.patient_id,
        message.raw
    )
}

/// The current record of the patient the front office knows by `identifier`: a record
/// merged into another leads to that one.
pub async fn patient_known_as(
    tx: &mut Tx,
    facility_id: i64,
    identifier: &Identifier,
) -> Result<Option<i64>, StoreError> {
    let found = crate::fetch_optional!(
        tx.exec(),
        (i64, Option<i64>),
        "SELECT id, merged_into FROM patient WHERE facility_id = $1 AND record_number = $2 AND assigning_authority = $3",
        facility_id,
        &identifier.id,
        &identifier.authority
    )?;
    let Some((mut id, mut merged_into)) = found else {
        return Ok(None);
    };
    // Merges never form a cycle (a merged record is never merged into), but stop anyway.
    for _ in 0..8 {
        let Some(next) = merged_into else { break };
        id = next;
        merged_into = crate::fetch_scalar!(
            tx.exec(),
            Option<i64>,
            "SELECT merged_into FROM patient WHERE id = $1",
            id
        )?;
    }
    Ok(Some(id))
}

/// The visit the front office numbered `visit`, else the patient's visit not yet ended.
pub async fn visit_of(
    tx: &mut Tx,
    patient_id: i64,
    visit: Option<&Identifier>,
) -> Result<Option<i64>, StoreError> {
    if let Some(visit) = visit {
        let numbered = crate::fetch_optional!(
            tx.exec(),
            (i64,),
            "SELECT id FROM visit WHERE patient_id = $1 AND visit_number = $2 AND visit_authority = $3 \
             ORDER BY id DESC LIMIT 1",
            patient_id,
            &visit.id,
            &visit.authority
        )?;
        if let Some((id,)) = numbered {
            return Ok(Some(id));
        }
    }
    crate::visits::store::open_visit_of(tx, patient_id).await
}

/// Numbers a visit as the front office does.
pub async fn number_visit(tx: &mut Tx, visit_id: i64, visit: &Identifier) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE visit SET visit_number = $1, visit_authority = $2 WHERE id = $3",
        &visit.id,
        &visit.authority,
        visit_id
    )?;
    Ok(())
}

/// Whether anything clinical was recorded on a visit: an order, a specimen, a procedure.
pub async fn has_clinical_work(tx: &mut Tx, visit_id: i64) -> Result<bool, StoreError> {
    let count = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT (SELECT COUNT(*) FROM lab_order WHERE visit_id = $1) + (SELECT COUNT(*) FROM specimen WHERE visit_id = $1) \
         + (SELECT COUNT(*) FROM procedure_order WHERE visit_id = $1)",
        visit_id
    )?;
    Ok(count > 0)
}

/// Marks an arrival entered in error: the visit is over, and says it was cancelled.
pub async fn cancel_visit(tx: &mut Tx, visit_id: i64) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE visit SET cancelled = $1 WHERE id = $2",
        true,
        visit_id
    )?;
    Ok(())
}

/// Gives a record the front office's identifier (an A40 naming a number Plateau does
/// not know yet: the same person, known by a new number).
pub async fn renumber(tx: &mut Tx, patient_id: i64, identifier: &Identifier) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE patient SET record_number = $1, assigning_authority = $2, version = version + 1 WHERE id = $3",
        &identifier.id,
        &identifier.authority,
        patient_id
    )?;
    Ok(())
}

/// A held message waiting in this facility: its sender, the message, its patient.
pub async fn held(
    store: &Store,
    facility_id: i64,
    id: i64,
) -> Result<Option<(i64, String, i64)>, StoreError> {
    crate::fetch_optional!(
        store.read(),
        (i64, String, i64),
        "SELECT m.sender_id, m.raw, m.patient_id FROM adt_message m JOIN reference_lab r ON r.id = m.sender_id \
         WHERE m.id = $1 AND r.facility_id = $2 AND m.outcome = 'held' AND m.resolved_at IS NULL AND m.patient_id IS NOT NULL",
        id,
        facility_id
    )
}

/// Records a person's decision on a held message; returns whether it was still waiting.
pub async fn resolve(
    tx: &mut Tx,
    id: i64,
    resolution: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE adt_message SET resolution = $1, resolved_by = $2, resolved_at = $3 WHERE id = $4 AND resolved_at IS NULL",
        resolution,
        by,
        now,
        id
    )?;
    Ok(changed == 1)
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    id: i64,
    event: String,
    control_id: String,
    received_at: DateTime<Utc>,
    detail: String,
    sender: String,
    patient_id: i64,
    record_number: String,
    family_name: String,
    given_name: String,
    birth_date: chrono::NaiveDate,
}

/// The messages of this facility held for a person, oldest first.
pub async fn held_list(store: &Store, facility_id: i64) -> Result<Vec<super::HeldAdmission>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        HeldRow,
        "SELECT m.id, m.event, m.control_id, m.received_at, m.detail, r.name AS sender, p.id AS patient_id, \
         p.record_number, p.family_name, p.given_name, p.birth_date \
         FROM adt_message m JOIN reference_lab r ON r.id = m.sender_id JOIN patient p ON p.id = m.patient_id \
         WHERE r.facility_id = $1 AND m.outcome = 'held' AND m.resolved_at IS NULL ORDER BY m.received_at, m.id",
        facility_id
    )?;
    Ok(rows
        .into_iter()
        .map(|r| super::HeldAdmission {
            id: r.id,
            event: r.event,
            control_id: r.control_id,
            received_at: r.received_at,
            detail: r.detail,
            sender: r.sender,
            patient: crate::patients::PatientSummary {
                id: r.patient_id,
                record_number: r.record_number,
                family_name: r.family_name,
                given_name: r.given_name,
                birth_date: r.birth_date,
                shortened: false,
            },
        })
        .collect())
}
