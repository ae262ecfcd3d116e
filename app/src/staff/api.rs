//! Server functions about the people at work: their presence (the supervisors' view of
//! who is where is `supervision`'s).

use super::StaffPresence;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in person's own staff member and presence, for their account page; `None`
/// in a facility not yet set up.
#[server(prefix = "/api", endpoint = "my_presence", client = crate::shell::SubmissionClient)]
pub async fn my_presence() -> Result<Option<(i64, StaffPresence)>, AppError> {
    let principal = crate::auth::require_signed_in()?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(None);
    };
    let me = principal.staff_member_id;
    let presence = super::store::presences(&store, facility_id)
        .await?
        .into_iter()
        .find(|(id, _, _)| *id == me)
        .map_or(StaffPresence::Off, |(_, presence, _)| presence);
    Ok(Some((me, presence)))
}

/// Starts or ends a shift or a break: one's own, or anyone's for a supervisor.
#[server(prefix = "/api", endpoint = "set_presence", client = crate::shell::SubmissionClient)]
pub async fn set_presence(staff_member_id: i64, presence: String) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::error::{validate::Checks, Problem};
    use crate::live::{EventKind, NewEvent, Topic};
    let mut checks = Checks::new();
    if staff_member_id <= 0 {
        checks.fail("staff_member_id", Problem::Malformed);
    }
    let presence = StaffPresence::from_code(&presence);
    if presence.is_none() {
        checks.fail("presence", Problem::Malformed);
    }
    checks.finish()?;
    let presence = presence.ok_or(AppError::Internal)?;
    let principal = crate::auth::require_signed_in()?;
    let own = principal.staff_member_id == staff_member_id;
    if !own {
        crate::auth::require(crate::auth::Capability::SuperviseStaff).await?;
    }
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    let mut tx = store.begin().await?;
    // Someone of this facility, still working here.
    let roles = super::store::working_roles(&mut tx, facility_id, staff_member_id).await?;
    if roles.is_empty() {
        return Err(AppError::not_found());
    }
    super::store::set_presence(&mut tx, staff_member_id, presence, clock.now).await?;
    let entry = Entry::by(&principal, "staff.presence", Outcome::Allowed)
        .record(format!("staff/{staff_member_id}"))
        .detail(presence.code());
    audit::store::record_in(&mut tx, entry).await?;
    let event = NewEvent {
        topic: Topic::Rooms,
        kind: EventKind::StaffPresence,
        subject: Some(staff_member_id),
        code: Some(presence.code().to_owned()),
        visit: None,
    };
    crate::live::store::record(&mut tx, &event, clock.now).await?;
    tx.commit().await?;
    Ok(())
}
