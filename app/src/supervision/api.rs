//! Server functions of the supervisors' view: who is where, on which procedure, and what
//! awaits the supervisor (presence to attest, work to co-sign).

use crate::error::AppError;
use crate::facility::FacilityClock;
use crate::procedures::{Procedure, StaffingRole};
use crate::staff::{StaffMember, StaffPresence};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A person as the board and the supervisors see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffStatus {
    pub member: StaffMember,
    pub presence: StaffPresence,
    #[serde(with = "crate::time::millis_opt")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Open procedures they are on, with their part in each.
    pub assignments: Vec<(i64, StaffingRole)>,
}

impl StaffStatus {
    /// Busy: on a procedure whose patient is in the room.
    pub fn busy_in<'a>(&self, procedures: &'a [Procedure]) -> Option<&'a Procedure> {
        procedures
            .iter()
            .find(|p| p.room_id.is_some() && self.assignments.iter().any(|(id, _)| *id == p.id))
    }
}

/// What a supervisor watches: everyone's presence and load, and what awaits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffOverview {
    pub clock: FacilityClock,
    pub staff: Vec<StaffStatus>,
    pub procedures: Vec<Procedure>,
    /// Procedures where this supervisor is assigned and has not yet attested presence.
    pub awaiting_me: Vec<i64>,
    /// Done procedures this supervisor supervised and has yet to co-sign.
    pub to_cosign: Vec<Procedure>,
    /// The supervisor looking: their own row speaks in the first person.
    pub viewer_staff_member_id: i64,
}

/// Everyone's presence and assignments in the facility.
#[cfg(feature = "ssr")]
pub async fn statuses(
    store: &crate::store::Store,
    facility_id: i64,
    open: &[Procedure],
) -> Result<Vec<StaffStatus>, AppError> {
    let (members, presences) = tokio::try_join!(
        crate::staff::store::list(store, facility_id),
        crate::staff::store::presences(store, facility_id),
    )?;
    Ok(members
        .into_iter()
        .map(|member| {
            let found = presences.iter().find(|(id, _, _)| *id == member.id);
            let assignments = open
                .iter()
                .flat_map(|p| {
                    p.staff
                        .iter()
                        .filter(|s| s.staff_member_id == member.id)
                        .map(|s| (p.id, s.role))
                })
                .collect();
            StaffStatus {
                presence: found.map_or(StaffPresence::Off, |(_, p, _)| *p),
                since: found.map(|(_, _, since)| *since),
                member,
                assignments,
            }
        })
        .collect())
}

#[server(prefix = "/api", endpoint = "staff_overview", client = crate::shell::SubmissionClient)]
pub async fn load_staff_overview() -> Result<StaffOverview, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::SuperviseStaff).await?;
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(StaffOverview {
            clock,
            staff: Vec::new(),
            procedures: Vec::new(),
            awaiting_me: Vec::new(),
            to_cosign: Vec::new(),
            viewer_staff_member_id: principal.staff_member_id,
        });
    };
    let me = principal.staff_member_id;
    let (mut procedures, mut to_cosign) = tokio::try_join!(
        crate::procedures::store::open(&store, facility_id),
        crate::procedures::store::awaiting_cosignature(&store, facility_id, me),
    )?;
    let staff = statuses(&store, facility_id, &procedures).await?;
    let shown = procedures
        .iter_mut()
        .chain(to_cosign.iter_mut())
        .map(|p| &mut p.visit);
    crate::care::show_on_list(&store, &principal, "supervision", shown, &[]).await?;
    let awaiting_me = procedures
        .iter()
        .filter(|p| {
            p.staff.iter().any(|s| {
                s.staff_member_id == principal.staff_member_id
                    && s.role == StaffingRole::Supervisor
                    && s.present_at.is_none()
            })
        })
        .map(|p| p.id)
        .collect();
    Ok(StaffOverview {
        clock,
        staff,
        procedures,
        awaiting_me,
        to_cosign,
        viewer_staff_member_id: me,
    })
}
