//! Setting the clinic itself up: its name, its time zone and its national identifier
//! (in France its FINESS number). An administrator does it; each change is audited
//! with what it replaced.

use crate::error::AppError;
pub use crate::facility::FacilityIdentity;
use leptos::prelude::*;

/// A FINESS number: 9 characters, digits, except a Corsican department's "2A" or "2B"
/// as its first two.
pub fn is_finess(number: &str) -> bool {
    let bytes = number.as_bytes();
    bytes.len() == 9
        && bytes
            .iter()
            .enumerate()
            .all(|(at, b)| b.is_ascii_digit() || (at == 1 && (*b == b'A' || *b == b'B') && bytes[0] == b'2'))
}

/// The clinic's identity, for its set-up page (administrators).
#[server(prefix = "/api", endpoint = "facility_to_set_up", client = crate::shell::SubmissionClient)]
pub async fn facility_to_set_up() -> Result<FacilityIdentity, AppError> {
    use crate::auth::{require, Capability};
    require(Capability::SetUpFacility).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    Ok(crate::facility::store::identity(&store, facility_id).await?)
}

/// Renames the clinic, moves it to another time zone, or sets its FINESS number.
#[server(prefix = "/api", endpoint = "save_facility", client = crate::shell::SubmissionClient)]
pub async fn save_facility(name: String, timezone: String, national_id: String) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    let principal = require(Capability::SetUpFacility).await?;
    let mut checks = Checks::new();
    let name = checks.text("name", &name, 120);
    let timezone = checks.text("timezone", &timezone, 64);
    if !timezone.is_empty() && !crate::facility::store::known_timezone(&timezone) {
        checks.fail("timezone", Problem::Malformed);
    }
    let national_id = checks.optional_text("national_id", &national_id.to_uppercase(), 9);
    if !national_id.is_empty() && !is_finess(&national_id) {
        checks.fail("national_id", Problem::Malformed);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let was = crate::facility::store::identity(&store, facility_id).await?;
    let now = FacilityIdentity {
        name,
        timezone,
        national_id,
    };
    if now == was {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    crate::facility::store::save_identity(&mut tx, facility_id, &now).await?;
    let entry = Entry::by(&principal, "facility.update", Outcome::Allowed)
        .record(format!("facility/{facility_id}"))
        .detail(format!(
            "was {:?} {} FINESS {:?}; now {:?} {} FINESS {:?}",
            was.name, was.timezone, was.national_id, now.name, now.timezone, now.national_id
        ));
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_finess_number_is_nine_digits_or_a_corsican_department() {
        for ok in ["750000523", "2A0000011", "2B0000012", "970000015"] {
            assert!(super::is_finess(ok), "{ok}");
        }
        for bad in [
            "",
            "75000052",
            "7500005230",
            "3A0000011",
            "A20000011",
            "75000052X",
            "75 000052",
        ] {
            assert!(!super::is_finess(bad), "{bad}");
        }
    }
}
