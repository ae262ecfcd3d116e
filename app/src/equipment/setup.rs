//! Setting the clinic's equipment up: an administrator adds an item, changes it or moves
//! it to another room, and retires it. An item once used is retired, never deleted, so
//! that what it was used for stays told.

use super::EquipmentItem;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The equipment in use and the rooms it may be kept in, for the set-up page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquipmentSetup {
    pub items: Vec<EquipmentItem>,
    pub rooms: Vec<crate::rooms::Room>,
}

/// An equipment code as its label shows it: "US-1", "KIT-S3".
pub fn is_equipment_code(code: &str) -> bool {
    (1..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// The clinic's equipment and rooms, for the set-up page (administrators).
#[server(prefix = "/api", endpoint = "equipment_to_set_up", client = crate::shell::SubmissionClient)]
pub async fn equipment_to_set_up() -> Result<EquipmentSetup, AppError> {
    use crate::auth::{require, Capability};
    require(Capability::SetUpFacility).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    Ok(EquipmentSetup {
        items: super::store::list(&store, facility_id).await?,
        rooms: crate::rooms::store::list(&store, facility_id).await?,
    })
}

/// Adds an item (no `equipment_id`) or changes one: code, name, kind and the room it is
/// kept in (none: kept nowhere in particular). A new item is available.
#[server(prefix = "/api", endpoint = "save_equipment", client = crate::shell::SubmissionClient)]
pub async fn save_equipment(
    #[server(default)] equipment_id: Option<i64>,
    code: String,
    name: String,
    kind: String,
    #[server(default)] room_id: Option<i64>,
) -> Result<i64, AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    use crate::store::StoreError;
    let principal = require(Capability::SetUpFacility).await?;
    let mut checks = Checks::new();
    let code = checks.text("code", &code.to_uppercase(), 16);
    if !code.is_empty() && !is_equipment_code(&code) {
        checks.fail("code", Problem::Malformed);
    }
    let name = checks.text("name", &name, 80);
    let kind = super::EquipmentKind::from_code(kind.trim());
    if kind.is_none() {
        checks.fail("equipment_kind", Problem::Malformed);
    }
    if room_id.is_some_and(|id| id <= 0) {
        checks.fail("room_id", Problem::Malformed);
    }
    checks.finish()?;
    let kind = kind.ok_or(AppError::Malformed)?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    if let Some(room_id) = room_id {
        // Only a room of this clinic still in use (not retired) keeps equipment.
        let rooms = crate::rooms::store::list(&store, facility_id).await?;
        if !rooms.iter().any(|room| room.id == room_id) {
            return Err(AppError::invalid("room_id", Problem::NotAllowed));
        }
    }
    let item = super::store::NewItem {
        code: &code,
        name: &name,
        kind,
        room_id,
    };
    // A code is an item's for good, retired or not: the label on it says so.
    let code_taken = |error: StoreError| match error {
        StoreError::Unique { .. } => AppError::invalid("code", Problem::AlreadyTaken),
        other => other.into(),
    };
    let mut tx = store.begin().await?;
    let (id, action) = match equipment_id {
        None => {
            let id = super::store::create(&mut tx, facility_id, &item, clock.now)
                .await
                .map_err(code_taken)?;
            (id, "equipment.create")
        }
        Some(id) => {
            if !super::store::update(&mut tx, facility_id, id, &item)
                .await
                .map_err(code_taken)?
            {
                return Err(AppError::invalid("equipment_id", Problem::NotAllowed));
            }
            (id, "equipment.update")
        }
    };
    let entry = Entry::by(&principal, action, Outcome::Allowed)
        .record(format!("equipment/{id}"))
        .detail(format!(
            "{code} {name} ({kind}) in {}",
            room_id.map_or_else(|| "no room".to_owned(), |room| format!("room/{room}"))
        ));
    audit::record_in(&mut tx, entry).await?;
    super::store::announce(&mut tx, id, None, clock.now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Retires an item no procedure holds: it leaves every list and is reserved by no one
/// again; its history stays.
#[server(prefix = "/api", endpoint = "retire_equipment", client = crate::shell::SubmissionClient)]
pub async fn retire_equipment(equipment_id: i64) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::Problem;
    use crate::store::StoreError;
    let principal = require(Capability::SetUpFacility).await?;
    if equipment_id <= 0 {
        return Err(AppError::invalid("equipment_id", Problem::Malformed));
    }
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let item = match super::store::get_in(&mut tx, facility_id, equipment_id).await {
        Err(StoreError::NotFound) => return Err(AppError::invalid("equipment_id", Problem::NotAllowed)),
        other => other?,
    };
    if item.held_by.is_some() || !super::store::retire(&mut tx, facility_id, equipment_id, clock.now).await? {
        return Err(AppError::refused(crate::error::Refusal::EquipmentUnavailable));
    }
    let entry = Entry::by(&principal, "equipment.retire", Outcome::Allowed)
        .record(format!("equipment/{equipment_id}"))
        .detail(item.code);
    audit::record_in(&mut tx, entry).await?;
    super::store::announce(&mut tx, equipment_id, None, clock.now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn equipment_codes_are_short_capitals_digits_and_dashes() {
        for ok in ["US-1", "KIT-S3", "ECG"] {
            assert!(super::is_equipment_code(ok), "{ok}");
        }
        for bad in ["", "us-1", "US 1", "ÉCHO-1", "A-VERY-LONG-CODE-1"] {
            assert!(!super::is_equipment_code(bad), "{bad}");
        }
    }
}
