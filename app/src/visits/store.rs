//! Visits in the database: who may be named on one, what is pending on it, and the
//! follow-up list of what visits were ended with.

use super::{FollowUp, PendingItem, PendingKind};
use crate::patients::{PatientSummary, VisitState};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};

/// Whether the patient is this facility's and current: `Some(true)` when their record
/// was merged into another, `None` when there is no such patient.
pub async fn patient_merged(
    tx: &mut Tx,
    facility_id: i64,
    patient_id: i64,
) -> Result<Option<bool>, StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        (Option<i64>,),
        "SELECT merged_into FROM patient WHERE id = $1 AND facility_id = $2",
        patient_id,
        facility_id
    )
    .map(|row| row.map(|(merged,)| merged.is_some()))
}

/// The patient's visit not yet ended, if any.
pub async fn open_visit_of(tx: &mut Tx, patient_id: i64) -> Result<Option<i64>, StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "SELECT id FROM visit WHERE patient_id = $1 AND state <> $2",
        patient_id,
        VisitState::Done.code()
    )
    .map(|row| row.map(|(id,)| id))
}

/// Whether `staff_member_id` is an active member of this facility's staff holding one
/// of `roles` (codes).
pub async fn active_with_role(
    tx: &mut Tx,
    facility_id: i64,
    staff_member_id: i64,
    roles: &[crate::staff::StaffRole],
) -> Result<bool, StoreError> {
    let held = crate::fetch_all!(
        tx.exec(),
        (String,),
        "SELECT r.role FROM staff_member s JOIN staff_role r ON r.staff_member_id = s.id \
         WHERE s.id = $1 AND s.facility_id = $2 AND s.active",
        staff_member_id,
        facility_id
    )?;
    Ok(held
        .iter()
        .any(|(code,)| roles.iter().any(|role| role.code() == code)))
}

/// Tells the screens following the rooms (the board's waiting room, the rooms) that a
/// visit began, moved or ended. Written in the transaction that changed it.
pub async fn announce(
    tx: &mut Tx,
    visit_id: i64,
    state: VisitState,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use crate::live::{EventKind, NewEvent, Topic};
    for topic in [Topic::Rooms, Topic::Visit(visit_id)] {
        let event = NewEvent {
            topic,
            kind: EventKind::Visit,
            subject: Some(visit_id),
            code: Some(state.code().to_owned()),
            visit: Some(visit_id),
        };
        crate::live::store::record(tx, &event, now).await?;
    }
    Ok(())
}

/// Everything still pending on a visit, in the order a person would check it: critical
/// values first, then results, specimens and procedures.
pub async fn pending(tx: &mut Tx, visit_id: i64) -> Result<Vec<PendingItem>, StoreError> {
    let row = |kind: PendingKind| {
        move |(item_id, name_fr, name_en): (i64, String, String)| PendingItem {
            kind,
            item_id,
            name_fr,
            name_en,
        }
    };
    let mut items: Vec<PendingItem> = crate::fetch_all!(
        tx.exec(),
        (i64, String, String),
        "SELECT a.id, t.name_fr, t.name_en FROM critical_alert a \
         JOIN lab_result r ON r.id = a.lab_result_id JOIN lab_order o ON o.id = r.lab_order_id \
         JOIN lab_test t ON t.id = o.lab_test_id \
         WHERE a.visit_id = $1 AND a.acknowledged_at IS NULL ORDER BY a.id",
        visit_id
    )?
    .into_iter()
    .map(row(PendingKind::UnacknowledgedCritical))
    .collect();
    // A send-out's results come back by the reference lab's interface: pending all the same.
    items.extend(
        crate::fetch_all!(
            tx.exec(),
            (i64, String, String),
            "SELECT o.id, t.name_fr, t.name_en FROM lab_order o JOIN lab_test t ON t.id = o.lab_test_id \
             WHERE o.visit_id = $1 AND o.state IN ('ordered', 'collected', 'received', 'resulted') ORDER BY o.id",
            visit_id
        )?
        .into_iter()
        .map(row(PendingKind::PendingResult)),
    );
    items.extend(
        crate::fetch_all!(
            tx.exec(),
            (i64, String, String),
            "SELECT id, accession, accession FROM specimen WHERE visit_id = $1 AND state = 'collected' ORDER BY id",
            visit_id
        )?
        .into_iter()
        .map(row(PendingKind::SpecimenNotReceived)),
    );
    items.extend(
        crate::fetch_all!(
            tx.exec(),
            (i64, String, String),
            "SELECT o.id, k.name_fr, k.name_en FROM procedure_order o \
             JOIN procedure_kind k ON k.id = o.procedure_kind_id \
             WHERE o.visit_id = $1 AND o.state IN ('ordered', 'roomed', 'in_progress') ORDER BY o.id",
            visit_id
        )?
        .into_iter()
        .map(row(PendingKind::OpenProcedure)),
    );
    Ok(items)
}

/// Puts what a visit was ended with on the follow-up list, with the reason given.
pub async fn hold(
    tx: &mut Tx,
    visit_id: i64,
    items: &[PendingItem],
    reason: &str,
    ended_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for item in items {
        crate::execute!(
            tx.exec(),
            "INSERT INTO discharge_pending (visit_id, kind, item_id, name_fr, name_en, reason, ended_by, ended_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            visit_id,
            item.kind.code(),
            item.item_id,
            &item.name_fr,
            &item.name_en,
            reason,
            ended_by,
            now
        )?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct FollowUpRow {
    id: i64,
    visit_id: i64,
    #[sqlx(try_from = "String")]
    kind: PendingKind,
    item_id: i64,
    name_fr: String,
    name_en: String,
    reason: String,
    ended_at: DateTime<Utc>,
    by_given: Option<String>,
    by_family: Option<String>,
    patient_id: i64,
    record_number: String,
    family_name: String,
    given_name: String,
    birth_date: NaiveDate,
}

/// This facility's pending items not yet followed up, oldest first.
pub async fn follow_ups(store: &Store, facility_id: i64) -> Result<Vec<FollowUp>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        FollowUpRow,
        "SELECT d.id, d.visit_id, d.kind, d.item_id, d.name_fr, d.name_en, d.reason, d.ended_at, \
         s.given_name AS by_given, s.family_name AS by_family, \
         p.id AS patient_id, p.record_number, p.family_name, p.given_name, p.birth_date \
         FROM discharge_pending d JOIN visit v ON v.id = d.visit_id JOIN patient p ON p.id = v.patient_id \
         LEFT JOIN staff_member s ON s.id = d.ended_by \
         WHERE p.facility_id = $1 AND d.followed_up_at IS NULL ORDER BY d.ended_at, d.id",
        facility_id
    )?;
    Ok(rows
        .into_iter()
        .map(|r| FollowUp {
            id: r.id,
            visit_id: r.visit_id,
            patient: PatientSummary {
                id: r.patient_id,
                record_number: r.record_number,
                family_name: r.family_name,
                given_name: r.given_name,
                birth_date: r.birth_date,
                shortened: false,
            },
            item: PendingItem {
                kind: r.kind,
                item_id: r.item_id,
                name_fr: r.name_fr,
                name_en: r.name_en,
            },
            reason: r.reason,
            ended_by: match (r.by_given, r.by_family) {
                (Some(given), Some(family)) => Some(format!("{given} {family}")),
                _ => None,
            },
            ended_at: r.ended_at,
        })
        .collect())
}

/// Marks a pending item followed up; returns its patient, or `None` when there is no
/// such item open in this facility.
pub async fn follow_up(
    tx: &mut Tx,
    facility_id: i64,
    id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let patient = crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "SELECT p.id FROM discharge_pending d JOIN visit v ON v.id = d.visit_id JOIN patient p ON p.id = v.patient_id \
         WHERE d.id = $1 AND p.facility_id = $2 AND d.followed_up_at IS NULL",
        id,
        facility_id
    )?;
    let Some((patient_id,)) = patient else {
        return Ok(None);
    };
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE discharge_pending SET followed_up_by = $1, followed_up_at = $2 WHERE id = $3 AND followed_up_at IS NULL",
        by,
        now,
        id
    )?;
    Ok((changed == 1).then_some(patient_id))
}

/// Whether `patient_id` is a patient of this facility.
pub async fn is_patient_of(store: &Store, facility_id: i64, patient_id: i64) -> Result<bool, StoreError> {
    crate::fetch_optional!(
        store.read(),
        (i64,),
        "SELECT id FROM patient WHERE id = $1 AND facility_id = $2",
        patient_id,
        facility_id
    )
    .map(|row| row.is_some())
}

/// A patient's visit under way in this facility, as the desk sees it.
pub async fn open_visit(
    store: &Store,
    facility_id: i64,
    patient_id: i64,
) -> Result<Option<super::OpenVisit>, StoreError> {
    let row = crate::fetch_optional!(
        store.read(),
        OpenVisitRow,
        "SELECT v.id, v.state, v.reason, v.arrived_at, r.name AS room, \
         s.given_name AS attending_given, s.family_name AS attending_family \
         FROM visit v JOIN patient p ON p.id = v.patient_id \
         LEFT JOIN room r ON r.id = v.room_id LEFT JOIN staff_member s ON s.id = v.attending_id \
         WHERE v.patient_id = $1 AND p.facility_id = $2 AND v.state <> $3",
        patient_id,
        facility_id,
        VisitState::Done.code()
    )?;
    Ok(row.map(|r| super::OpenVisit {
        visit_id: r.id,
        state: r.state,
        reason: r.reason,
        arrived_at: r.arrived_at,
        room: r.room,
        attending: match (r.attending_given, r.attending_family) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            _ => None,
        },
    }))
}

#[derive(sqlx::FromRow)]
struct OpenVisitRow {
    id: i64,
    #[sqlx(try_from = "String")]
    state: VisitState,
    reason: String,
    arrived_at: DateTime<Utc>,
    room: Option<String>,
    attending_given: Option<String>,
    attending_family: Option<String>,
}

/// This facility's active staff holding one of `roles`, by name: whom the desk may name
/// at check-in.
pub async fn staff_holding(
    store: &Store,
    facility_id: i64,
    roles: &[crate::staff::StaffRole],
) -> Result<Vec<super::StaffChoice>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        (i64, String, String, String),
        "SELECT s.id, s.given_name, s.family_name, r.role FROM staff_member s \
         JOIN staff_role r ON r.staff_member_id = s.id \
         WHERE s.facility_id = $1 AND s.active ORDER BY s.family_name, s.given_name, s.id",
        facility_id
    )?;
    let mut choices: Vec<super::StaffChoice> = Vec::new();
    for (id, given, family, role) in rows {
        if !roles.iter().any(|r| r.code() == role) || choices.iter().any(|c| c.id == id) {
            continue;
        }
        choices.push(super::StaffChoice {
            id,
            name: format!("{given} {family}"),
        });
    }
    Ok(choices)
}
