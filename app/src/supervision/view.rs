//! The supervisors' page: who is where, and what awaits them. A server page.

use super::{load_staff_overview, StaffOverview};
use crate::i18n::use_i18n;
use crate::procedures::Procedure;
use crate::shell::loaded;
use crate::staff::{PresenceButtons, SetPresence};
use leptos::either::Either;
use leptos::prelude::*;

/// A server page: its presence buttons are plain forms, and the server sends the browser
/// back to the page, drawn afresh, once a change is made.
#[component]
pub fn SupervisionPage() -> impl IntoView {
    let i18n = use_i18n();
    // The buttons' action, unused here: without a client, each button posts its form.
    let presence = ServerAction::<SetPresence>::new();
    let overview = Resource::new(|| (), |_| load_staff_overview());
    view! {
        <section class="page supervision" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().back_office.supervision_title}</h1>
            {loaded(overview, move |overview| view! { <Supervision overview presence/> })}
        </section>
    }
}

#[component]
fn Supervision(overview: StaffOverview, presence: ServerAction<SetPresence>) -> impl IntoView {
    let i18n = use_i18n();
    let StaffOverview {
        clock,
        staff,
        procedures,
        awaiting_me,
        to_cosign,
        viewer_staff_member_id: overview_viewer,
    } = overview;
    let today = clock.today();
    let awaiting: Vec<Procedure> = procedures
        .iter()
        .filter(|p| awaiting_me.contains(&p.id))
        .cloned()
        .collect();
    let viewer = overview_viewer;
    let rows = staff
        .into_iter()
        .map(|person| {
            let presence_action = presence;
            let presence = person.presence;
            let since = person.since.map(|at| clock.time_of_day(at)).unwrap_or_default();
            let work = person
                .assignments
                .iter()
                .filter_map(|(id, role)| procedures.iter().find(|p| p.id == *id).map(|p| (p.clone(), *role)))
                .map(|(p, role)| {
                    let kind = p.kind.clone();
                    view! {
                        <li>
                            <a href=format!("/procedures/{}", p.id)>{move || kind.name(i18n.locale()).to_owned()}</a>
                            " · " {move || (i18n.t().back_office.staffing_role)(role)}
                        </li>
                    }
                })
                .collect_view();
            let load = person.assignments.len();
            let staff_member_id = person.member.id;
            view! {
                <tr data-presence=presence.code()>
                    <td>{person.member.display_name()}</td>
                    <td>{move || (i18n.t().back_office.presence)(presence)} " · " {since}</td>
                    <td>{load}</td>
                    <td><ul class="plain-list">{work}</ul></td>
                    <td><PresenceButtons staff_member_id current=presence action=presence_action own={staff_member_id == viewer}/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>{move || i18n.t().back_office.awaiting_me_title}</h2>
        <ProcedureLinks procedures=awaiting today empty=move || i18n.t().back_office.awaiting_me_empty/>
        <h2>{move || i18n.t().back_office.to_cosign_title}</h2>
        <ProcedureLinks procedures=to_cosign today empty=move || i18n.t().back_office.to_cosign_empty/>
        <h2>{move || i18n.t().staff_title}</h2>
        <table class="data-table">
            <thead>
                <tr>
                    <th>{move || i18n.t().person}</th>
                    <th>{move || i18n.t().back_office.presence_title}</th>
                    <th>"#"</th>
                    <th>{move || i18n.t().back_office.procedures_in_room}</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Procedures to open, each with its patient; `empty` says so when there are none.
#[component]
fn ProcedureLinks(
    procedures: Vec<Procedure>,
    today: chrono::NaiveDate,
    empty: impl Fn() -> &'static str + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    if procedures.is_empty() {
        return Either::Left(view! { <p class="empty">{empty}</p> });
    }
    let items = procedures
        .into_iter()
        .map(|p| {
            let kind = p.kind;
            view! {
                <li class="queue-item">
                    <a class="queue-link" href=format!("/procedures/{}", p.id)>
                        <strong>{move || kind.name(i18n.locale()).to_owned()}</strong>
                        <crate::patients::PatientIdentity patient=p.visit.patient today/>
                    </a>
                </li>
            }
        })
        .collect_view();
    Either::Right(view! { <ol class="queue">{items}</ol> })
}
