//! Registering, reading, editing and merging patient records: the front desk's work,
//! and the supervisors' when two records turn out to be one person.

use super::identity::{IdentityForm, PatientRecord, Registration};
use crate::error::AppError;
use leptos::prelude::*;

/// Registers a patient. A record that probably is the same person (same birth date, a
/// like name) stops the registration and is shown instead, unless `seen_duplicates`
/// names every such record: the desk looked and this is someone else.
#[server(prefix = "/api", endpoint = "register_patient", client = crate::shell::SubmissionClient)]
pub async fn register_patient(
    identity: IdentityForm,
    #[server(default)] seen_duplicates: Vec<i64>,
) -> Result<Registration, AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    let principal = require(Capability::RegisterPatients).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let identity = identity.check(clock.today())?;
    let duplicates = super::registry::probable_duplicates(&store, facility_id, &identity, None).await?;
    if duplicates.iter().any(|d| !seen_duplicates.contains(&d.id)) {
        audit::record_patients_listed(
            &store,
            &principal,
            "patient.duplicates_shown",
            duplicates.iter().map(|d| d.id),
        )
        .await?;
        return Ok(Registration::ProbableDuplicates(duplicates));
    }
    let mut tx = store.begin().await?;
    let record_number = match &identity.record_number {
        Some(number) => number.clone(),
        None => super::registry::next_record_number(&mut tx, facility_id).await?,
    };
    let patient_id =
        super::registry::insert(&mut tx, facility_id, &record_number, &identity, clock.now).await?;
    let mut detail = format!("{record_number} {}", identity.assigning_authority);
    if !duplicates.is_empty() {
        let seen: Vec<String> = duplicates.iter().map(|d| d.record_number.clone()).collect();
        detail.push_str(&format!(" (not {}, as the desk checked)", seen.join(", ")));
    }
    let entry = Entry::by(&principal, "patient.register", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("patient/{patient_id}"))
        .detail(detail.trim().to_owned());
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(Registration::Registered {
        patient_id,
        record_number,
    })
}

/// A patient's record, to check or edit it. An audited read.
#[server(prefix = "/api", endpoint = "patient_record", client = crate::shell::SubmissionClient)]
pub async fn read_patient_record(patient_id: i64) -> Result<PatientRecord, AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    let principal = require(Capability::RegisterPatients).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let record = super::registry::read(&store, facility_id, patient_id).await?;
    audit::record(
        &store,
        Entry::by(&principal, "patient.read", Outcome::Allowed)
            .patient(patient_id)
            .record(format!("patient/{patient_id}")),
    )
    .await?;
    Ok(record)
}

/// Changes a patient's identity, as last read at `version`. Every changed field is
/// audited with the value it replaces; an edit made on an older version is refused
/// (someone changed the record meanwhile: read it again).
#[server(prefix = "/api", endpoint = "update_patient", client = crate::shell::SubmissionClient)]
pub async fn update_patient(
    patient_id: i64,
    version: i64,
    identity: IdentityForm,
) -> Result<PatientRecord, AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    let principal = require(Capability::RegisterPatients).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let before = super::registry::read(&store, facility_id, patient_id).await?;
    if before.merged_into.is_some() {
        return Err(AppError::refused(crate::error::Refusal::RecordMerged));
    }
    if before.version != version {
        return Err(AppError::conflict());
    }
    let mut after = identity.check(clock.today())?;
    // The number stays Plateau's own unless the front office's is typed with its authority.
    let record_number = match &after.record_number {
        Some(number) => number.clone(),
        None if before.identity.assigning_authority.is_empty() => {
            before.identity.record_number.clone().unwrap_or_default()
        }
        None => {
            return Err(AppError::invalid(
                "record_number",
                crate::error::Problem::Required,
            ))
        }
    };
    after.record_number = Some(record_number.clone());
    let changes = before.identity.changes_to(&after);
    if changes.is_empty() {
        return Ok(before);
    }
    let mut tx = store.begin().await?;
    if !super::registry::update(
        &mut tx,
        facility_id,
        patient_id,
        version,
        &record_number,
        &after,
        clock.now,
    )
    .await?
    {
        return Err(AppError::conflict());
    }
    let entry = Entry::by(&principal, "patient.update", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("patient/{patient_id}"))
        .detail(changes.join("; "));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(PatientRecord {
        version: before.version + 1,
        identity: after,
        ..before
    })
}

/// Merges the record `merged_id` (a duplicate) into `kept_id`: its visits, and with them
/// everything that happened in them, its allergies and emergency accesses follow; the
/// duplicate is no longer found. Audited on both records, with the reason.
#[server(prefix = "/api", endpoint = "merge_patients", client = crate::shell::SubmissionClient)]
pub async fn merge_patients(kept_id: i64, merged_id: i64, reason: String) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    let principal = require(Capability::MergePatients).await?;
    let mut checks = Checks::new();
    let reason = checks.text("reason", &reason, crate::care::REASON_MAX);
    if !reason.is_empty() && reason.chars().count() < crate::care::REASON_MIN {
        checks.fail("reason", Problem::TooShort);
    }
    if kept_id == merged_id {
        checks.fail("merged_id", Problem::NotAllowed);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let Some(merged) = super::registry::merge(&mut tx, facility_id, kept_id, merged_id).await? else {
        return Err(AppError::refused(crate::error::Refusal::RecordMerged));
    };
    let detail = format!(
        "patient/{merged_id} merged into patient/{kept_id}: {} visit(s), {} allergy(ies) moved. {reason}",
        merged.visits, merged.allergies
    );
    for (patient, action) in [(kept_id, "patient.merge_kept"), (merged_id, "patient.merged")] {
        let entry = Entry::by(&principal, action, Outcome::Allowed)
            .patient(patient)
            .record(format!("patient/{kept_id}"))
            .detail(detail.clone());
        audit::record_in(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}
