//! Server functions of admissions: the front office's updates held for a person, and
//! their decision.

use crate::error::AppError;
use crate::patients::PatientSummary;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An ADT message held for a person: it contradicts the record's birth date or sex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAdmission {
    pub id: i64,
    pub event: String,
    pub control_id: String,
    #[serde(with = "crate::time::millis")]
    pub received_at: DateTime<Utc>,
    /// What contradicts the record.
    pub detail: String,
    /// The front office's system, by name.
    pub sender: String,
    pub patient: PatientSummary,
}

/// The front office's messages held for a person, oldest first. Names patients: an
/// audited read.
#[server(prefix = "/api", endpoint = "held_admissions", client = crate::shell::SubmissionClient)]
pub async fn held_admissions() -> Result<Vec<HeldAdmission>, AppError> {
    use crate::auth::{require, Capability};
    let principal = require(Capability::RegisterPatients).await?;
    let store = crate::store::from_context()?;
    let Some(facility_id) = crate::facility::current_clock(&store).await?.0 else {
        return Ok(Vec::new());
    };
    let list = super::store::held_list(&store, facility_id).await?;
    crate::audit::record_patients_listed(&store, &principal, "adt.held", list.iter().map(|h| h.patient.id))
        .await?;
    Ok(list)
}

/// Applies a held message as sent (`apply`: the desk checked with the patient) or
/// dismisses it (the record is right).
#[server(prefix = "/api", endpoint = "resolve_held_admission", client = crate::shell::SubmissionClient)]
pub async fn resolve_held_admission(id: i64, #[server(default)] apply: bool) -> Result<(), AppError> {
    use crate::auth::{require, Capability};
    let principal = require(Capability::RegisterPatients).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    super::import::resolve_held(&store, facility_id, id, apply, &principal, clock.now)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(())
}
