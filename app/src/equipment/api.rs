//! Server functions about equipment: its state set by hand (sterilised, out of service,
//! back in service). Reservations belong to procedures.

use crate::error::AppError;
use leptos::prelude::*;

/// Sets an item's state by hand, if it is still `from`: a sterilised kit back to
/// available, a broken machine out of service. An item in use is freed by its procedure.
#[server(prefix = "/api", endpoint = "equipment_state", client = crate::shell::SubmissionClient)]
pub async fn change_equipment_state(equipment_id: i64, from: String, to: String) -> Result<(), AppError> {
    use super::EquipmentState;
    use crate::audit::{self, Entry, Outcome};
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if equipment_id <= 0 {
        checks.fail("equipment_id", Problem::Malformed);
    }
    let change = checks.manual_change(
        (&from, &to),
        EquipmentState::from_code,
        EquipmentState::manual_changes,
    );
    checks.finish()?;
    let (from, to) = change.ok_or(AppError::Internal)?;
    let principal = crate::auth::require(crate::auth::Capability::PerformProcedures).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let mut tx = store.begin().await?;
    let item = super::store::get_in(&mut tx, facility_id, equipment_id).await?;
    if item.held_by.is_some()
        || !super::store::change_state(&mut tx, facility_id, equipment_id, from, to, clock.now).await?
    {
        return Err(AppError::conflict());
    }
    let entry = Entry::by(&principal, "equipment.state", Outcome::Allowed)
        .record(format!("equipment/{equipment_id}"))
        .detail(format!("{from} -> {to}"));
    audit::store::record_in(&mut tx, entry).await?;
    super::store::announce(&mut tx, equipment_id, Some(to.code()), clock.now).await?;
    tx.commit().await?;
    Ok(())
}
