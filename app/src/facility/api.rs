use super::FacilityClock;
use crate::error::AppError;
use crate::store::Store;
use chrono::Utc;

/// The facility's id and its clock now, for what needs a clinic: none yet is not found.
pub async fn existing_clock(store: &Store) -> Result<(i64, FacilityClock), AppError> {
    let (facility_id, clock) = current_clock(store).await?;
    Ok((facility_id.ok_or_else(AppError::not_found)?, clock))
}

/// The facility's id and its clock now; no facility yet gives a UTC clock and `None`.
pub async fn current_clock(store: &Store) -> Result<(Option<i64>, FacilityClock), AppError> {
    let now = Utc::now();
    Ok(match super::store::current(store).await? {
        Some(facility) => (Some(facility.id), FacilityClock::at(&facility, now)),
        None => (
            None,
            FacilityClock {
                facility_name: String::new(),
                now,
                utc_offset_seconds: 0,
            },
        ),
    })
}
