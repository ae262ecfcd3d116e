//! Finding a patient as the front desk types: names (without accents or capitals), a date
//! of birth, a record number, in any order in one field.

use super::PatientSummary;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The most patients one search answers with: more means type more.
pub const SEARCH_LIMIT: usize = 25;

/// What a search found, best first, and whether there were more than it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSearch {
    pub patients: Vec<PatientSummary>,
    pub more: bool,
}

/// Finds patients of this clinic by what the front desk typed. Every patient answered is
/// named in the audit trail; an empty or over-long search is refused.
#[server(prefix = "/api", endpoint = "patients", client = crate::shell::SubmissionClient)]
pub async fn search_patients(typed: String) -> Result<PatientSearch, AppError> {
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    let principal = require(Capability::RegisterPatients).await?;
    let mut checks = Checks::new();
    let typed = checks.text("typed", &typed, 120);
    checks.finish()?;
    let query = super::matching::PatientQuery::read(&typed);
    if query.is_empty() {
        return Err(AppError::invalid("typed", Problem::Malformed));
    }
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(PatientSearch {
            patients: Vec::new(),
            more: false,
        });
    };
    let mut patients = super::store::search(&store, facility_id, &query, SEARCH_LIMIT + 1).await?;
    let more = patients.len() > SEARCH_LIMIT;
    patients.truncate(SEARCH_LIMIT);
    crate::audit::record_patients_listed(
        &store,
        &principal,
        "patient.search",
        patients.iter().map(|p| p.id),
    )
    .await?;
    Ok(PatientSearch { patients, more })
}
