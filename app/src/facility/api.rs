use super::FacilityClock;
use crate::error::AppError;
use crate::store::Store;
use chrono::Utc;

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
