use super::{load_board, BoardSnapshot};
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::patients::{PatientIdentity, PatientSummary};
use crate::procedures::{Procedure, ProcedureQueue};
use crate::rooms::{RoomGrid, RoomsSnapshot};
use crate::shell::loaded;
use crate::staff::StaffStatus;
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn BoardPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    // The board follows the rooms: it reloads whenever a room, a procedure, a person's
    // presence or an item of equipment changes anywhere.
    let board = Resource::new(move || live.changes(Topic::Rooms), |_| load_board());
    view! {
        <section class="page board" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().board_title}</h1>
            {loaded(board, |snapshot| view! { <Board snapshot/> })}
        </section>
    }
}

/// A patient as the board names them: in full, or shortened on wall screens.
#[component]
fn BoardPatient(patient: PatientSummary, clock: FacilityClock, short: bool) -> impl IntoView {
    if short {
        Either::Left(view! { <p class="patient-name short-identity">{patient.short_identity()}</p> })
    } else {
        Either::Right(view! { <PatientIdentity patient today=clock.today()/> })
    }
}

#[component]
fn Board(snapshot: BoardSnapshot) -> impl IntoView {
    let i18n = use_i18n();
    let BoardSnapshot {
        clock,
        rooms,
        waiting,
        queue,
        under_way,
        staff,
        equipment,
        short_identifiers: short,
    } = snapshot;
    let waiting_view = if waiting.is_empty() {
        Either::Left(view! { <p class="empty">{move || i18n.t().waiting_empty}</p> })
    } else {
        let clock = clock.clone();
        Either::Right(view! {
            <ol class="queue">
                {waiting
                    .into_iter()
                    .map(|visit| {
                        let minutes = clock.minutes_since(visit.arrived_at);
                        let state = visit.state;
                        view! {
                            <li class="queue-item">
                                <BoardPatient patient=visit.patient clock=clock.clone() short/>
                                {(!short).then(|| view! { <p class="visit-reason">{visit.reason}</p> })}
                                <p class="queue-wait">
                                    {move || (i18n.t().visit_state)(state)} " · "
                                    {move || (i18n.t().for_duration)(minutes)}
                                </p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        })
    };
    let rooms_by_id: Vec<(i64, String)> = rooms.iter().map(|r| (r.room.id, r.room.code.clone())).collect();
    let room_code = move |id: Option<i64>| {
        id.and_then(|id| rooms_by_id.iter().find(|(r, _)| *r == id).map(|(_, c)| c.clone()))
            .unwrap_or_default()
    };
    let under_way_view = under_way
        .iter()
        .map(
            |p| view! { <UnderWay procedure=p.clone() clock=clock.clone() room=room_code(p.room_id) short/> },
        )
        .collect_view();
    let staff_view = staff
        .into_iter()
        .map(|person| view! { <StaffLine person under_way=under_way.clone() room_code=room_code.clone()/> })
        .collect_view();
    let equipment_view = equipment
        .into_iter()
        .map(|item| {
            let (kind, state) = (item.kind, item.state);
            let label = format!("{} · {}", item.code, room_code(item.room_id));
            view! {
                <li class="staff-item equipment-item" data-code=item.code data-state=state.code()>
                    <span class="staff-name">{label}</span>
                    <span class="staff-roles">
                        {move || (i18n.t().back_office.equipment_kind)(kind)} " · "
                        {move || (i18n.t().back_office.equipment_state)(state)}
                    </span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="board-layout">
            <div class="board-rooms">
                <RoomGrid snapshot=RoomsSnapshot { clock: clock.clone(), rooms }/>
                <h2>{move || i18n.t().back_office.under_way_title}</h2>
                <ul class="staff-list under-way">{under_way_view}</ul>
            </div>
            <aside class="board-side">
                <h2>{move || i18n.t().back_office.queue_title}</h2>
                <ProcedureQueue queue clock/>
                <h2>{move || i18n.t().waiting_title}</h2>
                {waiting_view}
                <h2>{move || i18n.t().staff_title}</h2>
                <ul class="staff-list">{staff_view}</ul>
                <h2>{move || i18n.t().back_office.equipment_board_title}</h2>
                <ul class="staff-list">{equipment_view}</ul>
            </aside>
        </div>
    }
}

/// A procedure with its patient in a room: what, where, who, for how long.
#[component]
fn UnderWay(procedure: Procedure, clock: FacilityClock, room: String, short: bool) -> impl IntoView {
    let i18n = use_i18n();
    let state = procedure.state;
    let since = procedure
        .started_at
        .or(procedure.roomed_at)
        .unwrap_or(procedure.ordered_at);
    let minutes = clock.minutes_since(since);
    let kind = procedure.kind.clone();
    let team = procedure
        .staff
        .iter()
        .map(|s| s.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let place = room.clone();
    view! {
        <li class="staff-item" data-state=state.code() data-room=room>
            <a class="queue-link" href=format!("/procedures/{}", procedure.id)>
                <span class="staff-name">{place} " · " {move || kind.name(i18n.locale()).to_owned()}</span>
                <BoardPatient patient=procedure.visit.patient clock short/>
                <span class="staff-roles">
                    {move || (i18n.t().back_office.procedure_state)(state)} " · "
                    {move || (i18n.t().for_duration)(minutes)} " · " {team}
                </span>
            </a>
        </li>
    }
}

/// A person: presence, and where they are busy.
#[component]
fn StaffLine(
    person: StaffStatus,
    under_way: Vec<Procedure>,
    room_code: impl Fn(Option<i64>) -> String + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let presence = person.presence;
    let busy = person.busy_in(&under_way).map(|p| room_code(p.room_id));
    let roles = person.member.roles.clone();
    view! {
        <li class="staff-item" data-presence=presence.code()>
            <span class="staff-name">{person.member.display_name()}</span>
            <span class="staff-roles">
                {move || {
                    roles.iter().map(|role| (i18n.t().staff_role)(*role)).collect::<Vec<_>>().join(", ")
                }}
                " · "
                {move || (i18n.t().back_office.presence)(presence)}
                {busy.map(|room| view! { " · " {move || (i18n.t().back_office.busy_in)(&room)} })}
            </span>
        </li>
    }
}
