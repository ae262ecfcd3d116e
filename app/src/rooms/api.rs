//! Server functions of the rooms screen: authorise, validate, read, map the error.

use super::RoomOverview;
use crate::error::AppError;
use crate::facility::FacilityClock;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Every room with its patient, and the clock to show times with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsSnapshot {
    pub clock: FacilityClock,
    pub rooms: Vec<RoomOverview>,
}

/// One room with its patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    pub clock: FacilityClock,
    pub room: RoomOverview,
}

#[server(prefix = "/api", endpoint = "rooms")]
pub async fn list_rooms() -> Result<RoomsSnapshot, AppError> {
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let rooms = match facility_id {
        Some(id) => super::store::overview(&store, id).await?,
        None => Vec::new(),
    };
    Ok(RoomsSnapshot { clock, rooms })
}

#[server(prefix = "/api", endpoint = "room")]
pub async fn load_room(room_id: i64) -> Result<RoomSnapshot, AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    if room_id <= 0 {
        checks.fail("room_id", Problem::Malformed);
    }
    checks.finish()?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let room = super::store::overview_of(&store, facility_id, room_id).await?;
    Ok(RoomSnapshot { clock, room })
}
