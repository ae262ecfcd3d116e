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
    use crate::audit::{self, Entry, Outcome};
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
    let (rooms, waiting, staff) = tokio::try_join!(
        crate::rooms::store::overview(&store, facility_id),
        crate::patients::store::waiting(&store, facility_id),
        crate::staff::store::list(&store, facility_id),
    )?;
    // The board names patients in rooms and waiting: a read of patient data.
    audit::record(
        &store,
        Entry::by(&principal, "board.read", Outcome::Allowed).record("board"),
    )
    .await?;
    Ok(BoardSnapshot {
        clock,
        rooms,
        waiting,
        staff,
    })
}
