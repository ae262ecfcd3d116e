//! Care teams and break-glass accesses in the database.

use super::{BreakGlassEntry, PatientAccess};
use crate::auth::{Capability, Principal};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

pub async fn assign(
    tx: &mut Tx,
    visit_id: i64,
    staff_member_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO care_assignment (visit_id, staff_member_id, assigned_at) VALUES ($1, $2, $3) \
         ON CONFLICT (visit_id, staff_member_id) DO NOTHING",
        visit_id,
        staff_member_id,
        now
    )?;
    Ok(())
}

/// Why `principal` may open the patient of `visit_id`, or `None` when they may not
/// (yet: a clinician may still break the glass).
/// How long a visit's care team keeps its access once the visit has ended: the rest of
/// the shift, to finish the notes. After that the patient is like any other's.
pub const CARE_AFTER_VISIT: chrono::TimeDelta = chrono::TimeDelta::hours(12);

pub async fn access_to(
    store: &Store,
    principal: &Principal,
    patient_id: i64,
    visit_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<PatientAccess>, StoreError> {
    if !principal.can(Capability::OpenPatient) {
        return Ok(None);
    }
    if principal.can(Capability::OpenAnyPatient) {
        return Ok(Some(PatientAccess::AnyPatient));
    }
    let assigned = crate::fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM care_assignment c JOIN visit v ON v.id = c.visit_id \
         WHERE c.visit_id = $1 AND c.staff_member_id = $2 AND (v.ended_at IS NULL OR v.ended_at > $3)",
        visit_id,
        principal.staff_member_id,
        now - CARE_AFTER_VISIT
    )?;
    if assigned > 0 {
        return Ok(Some(PatientAccess::CareTeam));
    }
    let broken = crate::fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM break_glass WHERE account_id = $1 AND patient_id = $2 AND expires_at > $3",
        principal.account_id,
        patient_id,
        now
    )?;
    Ok((broken > 0).then_some(PatientAccess::BreakGlass))
}

/// What a person may see of the patients on a list (rooms, board): everyone's
/// identifiers, and the clinical details of those they may open.
pub struct Visible {
    any_patient: bool,
    care_visits: Vec<i64>,
    broken_patients: Vec<i64>,
}

impl Visible {
    pub fn details_of(&self, visit_id: i64, patient_id: i64) -> bool {
        self.any_patient || self.care_visits.contains(&visit_id) || self.broken_patients.contains(&patient_id)
    }
}

/// Reads, in two queries, whose details `principal` may see on a list.
pub async fn visible(
    store: &Store,
    principal: &Principal,
    now: DateTime<Utc>,
) -> Result<Visible, StoreError> {
    if !principal.can(Capability::OpenPatient) {
        return Ok(Visible {
            any_patient: false,
            care_visits: Vec::new(),
            broken_patients: Vec::new(),
        });
    }
    if principal.can(Capability::OpenAnyPatient) {
        return Ok(Visible {
            any_patient: true,
            care_visits: Vec::new(),
            broken_patients: Vec::new(),
        });
    }
    let care_visits = crate::fetch_all!(
        store.read(),
        (i64,),
        "SELECT c.visit_id FROM care_assignment c JOIN visit v ON v.id = c.visit_id \
         WHERE c.staff_member_id = $1 AND (v.ended_at IS NULL OR v.ended_at > $2)",
        principal.staff_member_id,
        now - CARE_AFTER_VISIT
    )?;
    let broken_patients = crate::fetch_all!(
        store.read(),
        (i64,),
        "SELECT patient_id FROM break_glass WHERE account_id = $1 AND expires_at > $2",
        principal.account_id,
        now
    )?;
    Ok(Visible {
        any_patient: false,
        care_visits: care_visits.into_iter().map(|(id,)| id).collect(),
        broken_patients: broken_patients.into_iter().map(|(id,)| id).collect(),
    })
}

pub async fn open(
    tx: &mut Tx,
    account_id: i64,
    patient_id: i64,
    reason: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO break_glass (account_id, patient_id, reason, opened_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        account_id,
        patient_id,
        reason,
        now,
        until
    )
}

/// Whether a patient of `facility_id` exists.
pub async fn patient_exists(store: &Store, facility_id: i64, patient_id: i64) -> Result<bool, StoreError> {
    let count = crate::fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM patient WHERE id = $1 AND facility_id = $2",
        patient_id,
        facility_id
    )?;
    Ok(count > 0)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    patient_id: i64,
    opened_at: DateTime<Utc>,
    username: String,
    staff_given: String,
    staff_family: String,
    record_number: String,
    patient_given: String,
    patient_family: String,
    reason: String,
    reviewer: Option<String>,
}

/// Emergency accesses of the facility, unreviewed first, then newest first.
pub async fn log(store: &Store, facility_id: i64, limit: i64) -> Result<Vec<BreakGlassEntry>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        EntryRow,
        "SELECT b.id, b.patient_id, b.opened_at, a.username, m.given_name AS staff_given, m.family_name AS staff_family, \
                p.record_number, p.given_name AS patient_given, p.family_name AS patient_family, b.reason, \
                r.username AS reviewer \
         FROM break_glass b \
         JOIN account a ON a.id = b.account_id JOIN staff_member m ON m.id = a.staff_member_id \
         JOIN patient p ON p.id = b.patient_id \
         LEFT JOIN account r ON r.id = b.reviewed_by \
         WHERE p.facility_id = $1 \
         ORDER BY (b.reviewed_by IS NULL) DESC, b.id DESC LIMIT $2",
        facility_id,
        limit
    )?;
    Ok(rows
        .into_iter()
        .map(|r| BreakGlassEntry {
            id: r.id,
            patient_id: r.patient_id,
            opened_at: r.opened_at,
            username: r.username,
            staff_name: crate::staff::display_name(&r.staff_given, &r.staff_family),
            patient_record_number: r.record_number,
            patient_name: format!("{} {}", r.patient_given, r.patient_family),
            reason: r.reason,
            reviewed_by: r.reviewer,
        })
        .collect())
}

/// Marks an access of `facility_id` reviewed; false when there is no such access, it was
/// reviewed already, or it is the reviewer's own (nobody reviews themselves).
pub async fn review(
    tx: &mut Tx,
    facility_id: i64,
    id: i64,
    reviewer_account_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE break_glass SET reviewed_by = $1, reviewed_at = $2 \
         WHERE id = $3 AND reviewed_by IS NULL AND account_id <> $1 \
           AND patient_id IN (SELECT id FROM patient WHERE facility_id = $4)",
        reviewer_account_id,
        now,
        id,
        facility_id
    )?;
    Ok(changed > 0)
}
