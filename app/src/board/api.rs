use crate::equipment::EquipmentItem;
use crate::error::AppError;
use crate::facility::FacilityClock;
use crate::patients::PatientVisit;
use crate::procedures::Procedure;
use crate::rooms::RoomOverview;
use crate::supervision::StaffStatus;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardSnapshot {
    pub clock: FacilityClock,
    pub rooms: Vec<RoomOverview>,
    /// Patients waiting to be seen (not yet in the back-office queue).
    pub waiting: Vec<PatientVisit>,
    /// The back-office queue, most pressing first.
    pub queue: Vec<Procedure>,
    /// Procedures with their patient in a room.
    pub under_way: Vec<Procedure>,
    pub staff: Vec<StaffStatus>,
    pub equipment: Vec<EquipmentItem>,
    /// Wall screens show initials and year of birth instead of names.
    pub short_identifiers: bool,
}

#[server(prefix = "/api", endpoint = "board", client = crate::shell::SubmissionClient)]
pub async fn load_board() -> Result<BoardSnapshot, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::ViewBoard).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(BoardSnapshot {
            clock,
            rooms: Vec::new(),
            waiting: Vec::new(),
            queue: Vec::new(),
            under_way: Vec::new(),
            staff: Vec::new(),
            equipment: Vec::new(),
            short_identifiers: false,
        });
    };
    let (mut rooms, mut waiting, mut open, equipment, settings) = tokio::try_join!(
        crate::rooms::store::overview(&store, facility_id),
        crate::patients::store::waiting(&store, facility_id),
        crate::procedures::store::open(&store, facility_id),
        crate::equipment::store::list(&store, facility_id),
        crate::facility::store::settings(&store, facility_id),
    )?;
    let staff = crate::supervision::statuses(&store, facility_id, &open).await?;
    // Those in the back-office queue are listed there, with their procedure.
    waiting.retain(|v| v.state == crate::patients::VisitState::Waiting);
    // The board names patients in rooms, waiting and queued: a read of each one's data.
    let takeable = crate::procedures::takeable_visits(&principal, &open);
    let shown = rooms
        .iter_mut()
        .filter_map(|r| r.occupant.as_mut())
        .chain(waiting.iter_mut())
        .chain(open.iter_mut().map(|p| &mut p.visit));
    crate::care::show_on_list(&store, &principal, "board", shown, &takeable).await?;
    let queue = crate::procedures::store::queue(&open);
    open.retain(|p| p.state != crate::procedures::ProcedureState::Ordered);
    Ok(BoardSnapshot {
        clock,
        rooms,
        waiting,
        queue,
        under_way: open,
        staff,
        equipment,
        short_identifiers: settings.board_short_identifiers || principal.wall_board,
    })
}
