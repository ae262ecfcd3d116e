use crate::error::AppError;
use crate::facility::FacilityClock;
use crate::patients::PatientVisit;
use crate::rooms::RoomOverview;
use crate::staff::StaffMember;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardSnapshot {
    pub clock: FacilityClock,
    pub rooms: Vec<RoomOverview>,
    pub waiting: Vec<PatientVisit>,
    pub staff: Vec<StaffMember>,
}

#[server(prefix = "/api", endpoint = "board")]
pub async fn load_board() -> Result<BoardSnapshot, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::ViewBoard).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(BoardSnapshot {
            clock,
            rooms: Vec::new(),
            waiting: Vec::new(),
            staff: Vec::new(),
        });
    };
    let (mut rooms, mut waiting, staff) = tokio::try_join!(
        crate::rooms::store::overview(&store, facility_id),
        crate::patients::store::waiting(&store, facility_id),
        crate::staff::store::list(&store, facility_id),
    )?;
    // The board names patients in rooms and waiting: a read of each one's data.
    let shown = rooms
        .iter_mut()
        .filter_map(|r| r.occupant.as_mut())
        .chain(waiting.iter_mut());
    crate::care::show_on_list(&store, &principal, "board", shown).await?;
    Ok(BoardSnapshot {
        clock,
        rooms,
        waiting,
        staff,
    })
}
