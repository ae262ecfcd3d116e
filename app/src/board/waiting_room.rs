//! The waiting room: clinicians call a waiting patient into a free exam room. A server
//! page (plain forms, no WebAssembly) over the board's snapshot.

use crate::shell::SubmissionField;
use crate::visits::words::use_words;
use leptos::prelude::*;

/// The waiting room: clinicians call a waiting patient into a free exam room.
#[component]
pub fn WaitingRoomPage() -> impl IntoView {
    let w = use_words();
    let board = Resource::new(|| (), |_| super::load_board());
    let call = <crate::visits::CallPatient as leptos::server_fn::ServerFn>::PATH;
    view! {
        <section class="page waiting-room" aria-labelledby="page-title">
            <h1 id="page-title">{w.waiting_title}</h1>
            {crate::shell::loaded(board, move |board| {
                use crate::rooms::RoomKind;
                let free: Vec<(String, String)> = board
                    .rooms
                    .iter()
                    .filter(|r| r.room.kind == RoomKind::Exam && r.room.status.is_available() && r.occupant.is_none())
                    .map(|r| (r.room.id.to_string(), r.room.name.clone()))
                    .collect();
                let waiting = board.waiting.into_iter().filter(|v| v.state == crate::patients::VisitState::Waiting).collect::<Vec<_>>();
                if waiting.is_empty() {
                    return view! { <p class="empty">{w.nobody_waiting}</p> }.into_any();
                }
                let clock = board.clock.clone();
                view! {
                    {free.is_empty().then(|| view! { <p class="warning-panel">{w.no_free_room}</p> })}
                    <ul class="waiting-list">
                        {waiting.into_iter().map(|v| {
                            let free = free.clone();
                            let name = format!("{} {}", v.patient.family_name, v.patient.given_name);
                            view! {
                                <li class="card">
                                    <p><strong>{name}</strong>" · "{v.reason}</p>
                                    <p class="hint">{w.waiting_since}" "{clock.time_of_day(v.arrived_at)}</p>
                                    {(!free.is_empty()).then(|| view! {
                                        <form class="inline-form" method="post" action=call>
                                            <SubmissionField/>
                                            <input type="hidden" name="visit_id" value=v.visit_id.to_string()/>
                                            <label class="field">
                                                <span>{w.call_into}</span>
                                                <select name="room_id">
                                                    {free.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                                                </select>
                                            </label>
                                            <button type="submit" class="button primary">{w.call}</button>
                                        </form>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            })}
        </section>
    }
    .into_any()
}
