use super::{load_board, BoardSnapshot};
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::patients::PatientIdentity;
use crate::rooms::{RoomGrid, RoomsSnapshot};
use crate::shell::loaded;
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn BoardPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    // The board follows the rooms: it reloads whenever a room changes anywhere.
    let board = Resource::new(move || live.changes(Topic::Rooms), |_| load_board());
    view! {
        <section class="page board" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().board_title}</h1>
            {loaded(board, |snapshot| view! { <Board snapshot/> })}
        </section>
    }
}

#[component]
fn Board(snapshot: BoardSnapshot) -> impl IntoView {
    let i18n = use_i18n();
    let BoardSnapshot {
        clock,
        rooms,
        waiting,
        staff,
    } = snapshot;
    let today = clock.today();
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
                                <PatientIdentity patient=visit.patient today/>
                                <p class="visit-reason">{visit.reason}</p>
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
    let staff_view = if staff.is_empty() {
        Either::Left(view! { <p class="empty">{move || i18n.t().staff_empty}</p> })
    } else {
        Either::Right(view! {
            <ul class="staff-list">
                {staff
                    .into_iter()
                    .map(|member| {
                        let roles = member.roles.clone();
                        view! {
                            <li class="staff-item">
                                <span class="staff-name">{member.display_name()}</span>
                                <span class="staff-roles">
                                    {move || {
                                        roles
                                            .iter()
                                            .map(|role| (i18n.t().staff_role)(*role))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    }}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        })
    };
    view! {
        <div class="board-layout">
            <div class="board-rooms">
                <RoomGrid snapshot=RoomsSnapshot { clock, rooms }/>
            </div>
            <aside class="board-side">
                <h2>{move || i18n.t().waiting_title}</h2>
                {waiting_view}
                <h2>{move || i18n.t().staff_title}</h2>
                {staff_view}
            </aside>
        </div>
    }
}
