//! Server functions of the audit view. The CSV export is a plain route in the server
//! crate that reuses [`validated_query`].

use super::{AuditFilter, AuditPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Lines shown per page; the CSV export takes up to [`EXPORT_LIMIT`].
pub const PAGE_SIZE: i64 = 100;
pub const EXPORT_LIMIT: i64 = 100_000;

#[server(prefix = "/api", endpoint = "audit", client = crate::shell::SubmissionClient)]
pub async fn search_audit(filter: AuditFilter, before: Option<i64>) -> Result<AuditPage, AppError> {
    use crate::auth::{require, Capability};
    let principal = require(Capability::ReadAudit).await?;
    let store = crate::store::from_context()?;
    let (mut query, clock) = validated_query(&store, &filter).await?;
    query.before_id = before.filter(|id| *id > 0);
    query.limit = PAGE_SIZE;
    let (lines, next_before) = super::store::search(&store, &query).await?;
    let entry =
        super::Entry::by(&principal, "audit.read", super::Outcome::Allowed).detail(filter.query_string());
    super::record(&store, entry).await?;
    Ok(AuditPage {
        lines,
        next_before,
        clock,
    })
}

/// Checks an administrator's filter and turns its facility days into UTC instants, by
/// the facility's clock (returned too: the page shows times by it).
#[cfg(feature = "ssr")]
pub async fn validated_query(
    store: &crate::store::Store,
    filter: &AuditFilter,
) -> Result<(super::store::Query, crate::facility::FacilityClock), AppError> {
    use crate::error::{validate::Checks, Problem};
    use chrono::{Duration, NaiveDate};
    let mut checks = Checks::new();
    let mut optional_text = |field: &str, value: &Option<String>, max: usize| {
        let value = checks.optional_text(field, value.as_deref().unwrap_or_default(), max);
        (!value.is_empty()).then_some(value)
    };
    let username = optional_text("username", &filter.username, 64).map(|u| u.to_lowercase());
    let patient = optional_text("patient", &filter.patient, 32);
    let from_text = optional_text("from", &filter.from, 10);
    let to_text = optional_text("to", &filter.to, 10);
    let mut date = |field: &str, text: Option<String>| checks.date(field, &text?);
    let from = date("from", from_text);
    let to = date("to", to_text);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            checks.fail("to", Problem::NotAllowed);
        }
    }
    checks.finish()?;
    let (_, clock) = crate::facility::current_clock(store).await?;
    let offset = Duration::seconds(i64::from(clock.utc_offset_seconds));
    let start_of = |day: NaiveDate| day.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - offset);
    let query = super::store::Query {
        username,
        patient_record_number: patient,
        from: from.and_then(start_of),
        until: to.and_then(|d| d.succ_opt()).and_then(start_of),
        before_id: None,
        limit: EXPORT_LIMIT,
    };
    Ok((query, clock))
}
