//! Server functions of emergency access.

use super::EmergencyAccesses;
use crate::error::AppError;
use leptos::prelude::*;

/// Opens a patient outside one's assignments, for the configured time, giving a reason.
/// The access is written to the audit trail flagged, and listed for supervisors.
#[server(prefix = "/api", endpoint = "break_glass", client = crate::shell::SubmissionClient)]
pub async fn break_glass(patient_id: i64, reason: String) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    let principal = require(Capability::BreakGlass).await?;
    let mut checks = Checks::new();
    if patient_id <= 0 {
        checks.fail("patient_id", Problem::Malformed);
    }
    let reason = checks.text("reason", &reason, super::REASON_MAX);
    if !reason.is_empty() && reason.chars().count() < super::REASON_MIN {
        checks.fail("reason", Problem::TooShort);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    if !super::store::patient_exists(&store, facility_id, patient_id).await? {
        return Err(AppError::not_found());
    }
    let lasts = chrono::Duration::from_std(crate::auth::guard::settings().break_glass_for)
        .unwrap_or(chrono::Duration::hours(4));
    let mut tx = store.begin().await?;
    let id = super::store::open(
        &mut tx,
        principal.account_id,
        patient_id,
        &reason,
        clock.now,
        clock.now + lasts,
    )
    .await?;
    let entry = Entry::by(&principal, "patient.break_glass", Outcome::Allowed)
        .patient(patient_id)
        .record(format!("break_glass/{id}"))
        .detail(reason)
        .break_glass(true);
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Prepares patients on a list (rooms screen, board) for `principal`, the minimum they
/// need: patients they may open (their care team's, or `takeable`: visits of queued
/// procedures they may take) in full with the reason for the visit; any other patient
/// shortened (initials, year of birth, end of the record number) and without the
/// reason, whatever the role. One audit row per patient shown records the read.
#[cfg(feature = "ssr")]
pub async fn show_on_list<'a>(
    store: &crate::store::Store,
    principal: &crate::auth::Principal,
    list: &str,
    visits: impl IntoIterator<Item = &'a mut crate::patients::PatientVisit>,
    takeable: &[i64],
) -> Result<(), AppError> {
    use crate::audit::{Entry, Outcome};
    let visible = super::store::visible(store, principal, chrono::Utc::now()).await?;
    let mut entries = Vec::new();
    for visit in visits {
        // A wall board opens no patient and takes nothing (`Principal::can`), so it shows
        // everyone shortened, whoever set it up.
        let details =
            visible.details_of(visit.visit_id, visit.patient.id) || takeable.contains(&visit.visit_id);
        if !details {
            visit.reason.clear();
            visit.patient = visit.patient.shortened();
        }
        let entry = Entry::by(principal, &format!("{list}.read"), Outcome::Allowed)
            .patient(visit.patient.id)
            .record(format!("visit/{}", visit.visit_id))
            .detail(if details {
                "identity and reason"
            } else {
                "shortened identity"
            });
        entries.push(entry);
    }
    if entries.is_empty() {
        entries.push(Entry::by(principal, &format!("{list}.read"), Outcome::Allowed).record(list.to_owned()));
    }
    crate::audit::record_all(store, entries).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "break_glass_log", client = crate::shell::SubmissionClient)]
pub async fn break_glass_log() -> Result<EmergencyAccesses, AppError> {
    use crate::audit;
    use crate::auth::{require, Capability};
    let principal = require(Capability::ReviewBreakGlass).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(EmergencyAccesses {
            clock,
            entries: Vec::new(),
        });
    };
    let entries = super::store::log(&store, facility_id, 200).await?;
    audit::record_patients_listed(
        &store,
        &principal,
        "break_glass.read",
        entries.iter().map(|e| e.patient_id),
    )
    .await?;
    Ok(EmergencyAccesses { clock, entries })
}

#[server(prefix = "/api", endpoint = "review_break_glass", client = crate::shell::SubmissionClient)]
pub async fn review_break_glass(id: i64) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    let principal = require(Capability::ReviewBreakGlass).await?;
    if id <= 0 {
        return Err(AppError::invalid("id", crate::error::Problem::Malformed));
    }
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let mut tx = store.begin().await?;
    if !super::store::review(&mut tx, facility_id, id, principal.account_id, clock.now).await? {
        return Err(AppError::not_found());
    }
    audit::record_in(
        &mut tx,
        Entry::by(&principal, "break_glass.review", Outcome::Allowed).record(format!("break_glass/{id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
