use super::{load_board, BoardSnapshot};
use crate::auth::Capability;
use crate::equipment::{ChangeEquipmentState, EquipmentItem, EquipmentState};
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::patients::PatientLabel;
use crate::procedures::{Procedure, ProcedureQueue};
use crate::rooms::{RoomGrid, RoomsSnapshot};
use crate::shell::{action_url, loaded, submit_with, use_session, ActionFeedback};
use crate::supervision::StaffStatus;
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn BoardPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    // The board follows the rooms: it reloads whenever a room, a procedure, a person's
    // presence or an item of equipment changes anywhere.
    let equipment_action = ServerAction::<ChangeEquipmentState>::new();
    let source = move || (live.changes(Topic::Rooms), equipment_action.version().get());
    let board = Resource::new(source, |_| load_board());
    // A wall board uses the whole screen, in large type, and offers to set up nothing.
    let wall_board = use_session().user_now().is_some_and(|user| user.wall_board);
    view! {
        <section class=if wall_board { "page board wall-board" } else { "page board" } aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().board_title}</h1>
            <ActionFeedback action=equipment_action/>
            {loaded(board, move |snapshot| view! { <Board snapshot equipment_action/> })}
            <crate::auth::WallBoardSetUp/>
        </section>
    }
}

/// The states staff may set an item to by hand, one button each (a plain form each).
#[component]
fn EquipmentChanges(
    equipment_id: i64,
    state: EquipmentState,
    action: ServerAction<ChangeEquipmentState>,
) -> impl IntoView {
    let i18n = use_i18n();
    state
        .manual_changes()
        .iter()
        .map(|to| {
            let to = *to;
            let submit = submit_with(action, move |_| ChangeEquipmentState {
                equipment_id,
                from: state.code().to_owned(),
                to: to.code().to_owned(),
            });
            view! {
                <form method="post" action={action_url::<ChangeEquipmentState>()} on:submit=submit>
                    <input type="hidden" name="equipment_id" value=equipment_id/>
                    <input type="hidden" name="from" value=state.code()/>
                    <input type="hidden" name="to" value=to.code()/>
                    <button type="submit" class="button secondary" data-to=to.code()>
                        {move || (i18n.t().back_office.equipment_change)(to)}
                    </button>
                </form>
            }
        })
        .collect_view()
}

#[component]
fn Board(snapshot: BoardSnapshot, equipment_action: ServerAction<ChangeEquipmentState>) -> impl IntoView {
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
                                <PatientLabel patient=visit.patient today=clock.today() short/>
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
    // Each room's card says what goes on in it: the procedure, who is there, the
    // equipment kept in it.
    let activity = {
        let (under_way, equipment) = (under_way.clone(), equipment.clone());
        Callback::new(move |room_id: i64| {
            let procedure = under_way.iter().find(|p| p.room_id == Some(room_id)).cloned();
            let kept = equipment
                .iter()
                .filter(|item| item.room_id == Some(room_id))
                .cloned()
                .collect();
            view! { <RoomActivity procedure equipment=kept/> }.into_any()
        })
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
    let may_change = use_session()
        .user_now()
        .is_some_and(|user| user.can(Capability::PerformProcedures));
    let equipment_view = equipment
        .into_iter()
        .map(|item| {
            let (kind, state) = (item.kind, item.state);
            let label = format!("{} · {}", item.code, room_code(item.room_id));
            let changes = (may_change && item.held_by.is_none())
                .then(|| view! { <EquipmentChanges equipment_id=item.id state action=equipment_action/> });
            view! {
                <li class="staff-item equipment-item" data-code=item.code data-state=state.code()>
                    <span class="staff-name">{label}</span>
                    <span class="staff-roles">
                        {move || (i18n.t().back_office.equipment_kind)(kind)} " · "
                        {move || (i18n.t().back_office.equipment_state)(state)}
                    </span>
                    {changes}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="board-layout">
            <div class="board-rooms">
                <RoomGrid snapshot=RoomsSnapshot { clock: clock.clone(), rooms } short activity/>
                <h2>{move || i18n.t().back_office.under_way_title}</h2>
                <ul class="staff-list under-way">{under_way_view}</ul>
            </div>
            <aside class="board-side">
                <h2>{move || i18n.t().back_office.queue_title}</h2>
                <ProcedureQueue queue clock short/>
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

/// On a room's card: the procedure under way and its staff, and the equipment in the
/// room with its state.
#[component]
fn RoomActivity(procedure: Option<Procedure>, equipment: Vec<EquipmentItem>) -> impl IntoView {
    let i18n = use_i18n();
    let procedure = procedure.map(|procedure| {
        let (kind, state) = (procedure.kind.clone(), procedure.state);
        let team = procedure.team();
        view! {
            <p class="room-procedure" data-state=state.code()>
                {move || kind.name(i18n.locale()).to_owned()} " · "
                {move || (i18n.t().back_office.procedure_state)(state)}
            </p>
            {(!team.is_empty()).then(|| view! { <p class="room-staff">{team}</p> })}
        }
    });
    let equipment = (!equipment.is_empty()).then(|| {
        let items = equipment
            .into_iter()
            .map(|item| {
                let (state, code) = (item.state, item.code.clone());
                view! {
                    <li data-code=code data-state=state.code()>
                        {item.code} " · " {move || (i18n.t().back_office.equipment_state)(state)}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="room-equipment">{items}</ul> }
    });
    view! { {procedure} {equipment} }
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
    let team = procedure.team();
    let place = room.clone();
    view! {
        <li class="staff-item" data-state=state.code() data-room=room>
            <a class="queue-link" href=format!("/procedures/{}", procedure.id)>
                <span class="staff-name">{place} " · " {move || kind.name(i18n.locale()).to_owned()}</span>
                <PatientLabel patient=procedure.visit.patient today=clock.today() short/>
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
