//! Breaking the glass from a room, and the supervisors' review list.

use super::{break_glass_log, BreakGlass, ReviewBreakGlass};
use crate::facility::Stamp;
use crate::i18n::use_i18n;
use crate::shell::{action_url, loaded, submit_with, ActionFeedback};
use leptos::either::Either;
use leptos::prelude::*;

/// Shown in place of a patient who is not in this person's care. `on_opened` runs once
/// the emergency access is recorded, to load the patient.
#[component]
pub fn BreakGlassForm(patient_id: i64, may_break_glass: bool, on_opened: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<BreakGlass>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            on_opened.run(());
        }
    });
    view! {
        <div class="restricted-patient" role="note">
            <p>{move || i18n.t().patient_not_assigned}</p>
            {may_break_glass.then(|| view! {
                <form class="stacked-form" method="post" action={action_url::<BreakGlass>()}
                    on:submit={submit_with(action, move |f| BreakGlass { patient_id, reason: f.text("reason") })}>
                    <input type="hidden" name="patient_id" value=patient_id.to_string()/>
                    <label>
                        <span>{move || i18n.t().break_glass_reason}</span>
                        <textarea name="reason" required minlength="10" maxlength="500" rows="3"></textarea>
                    </label>
                    <p class="hint">{move || i18n.t().break_glass_hint}</p>
                    <button type="submit" class="button danger">{move || i18n.t().break_glass}</button>
                    <ActionFeedback action/>
                </form>
            })}
        </div>
    }
}

/// A server page: each review is a one-button form, and the page is drawn again after it.
#[component]
pub fn BreakGlassLogPage() -> impl IntoView {
    let i18n = use_i18n();
    let entries = Resource::new(|| (), |_| break_glass_log());
    let review = <ReviewBreakGlass as leptos::server_fn::ServerFn>::PATH;
    view! {
        <section class="page break-glass-log" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().break_glass_log_title}</h1>
            {loaded(entries, move |log| {
                if log.entries.is_empty() {
                    return Either::Left(view! { <p class="empty">{move || i18n.t().break_glass_none}</p> });
                }
                Either::Right(view! {
                    <table class="data-table">
                        <thead>
                            <tr>
                                <th scope="col">{move || i18n.t().when}</th>
                                <th scope="col">{move || i18n.t().person}</th>
                                <th scope="col">{move || i18n.t().patient_record_number}</th>
                                <th scope="col">{move || i18n.t().break_glass_reason}</th>
                                <th scope="col">{move || i18n.t().review}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {log
                                .entries
                                .iter()
                                .cloned()
                                .map(|e| {
                                    let id = e.id;
                                    let reviewed = e.reviewed_by.is_some().to_string();
                                    view! {
                                        <tr data-reviewed=reviewed>
                                            <td><Stamp clock=log.clock.clone() at=e.opened_at/></td>
                                            <td>{e.staff_name} <small>{e.username}</small></td>
                                            <td>{e.patient_record_number} <small>{e.patient_name}</small></td>
                                            <td>{e.reason}</td>
                                            <td>
                                                {match e.reviewed_by {
                                                    Some(reviewer) => Either::Left(view! { <span>{move || (i18n.t().reviewed_by)(&reviewer)}</span> }),
                                                    None => Either::Right(view! {
                                                        <crate::shell::ActionButton action=review label=i18n.t().mark_reviewed
                                                            class="button secondary" fields=vec![("id", id.to_string())]/>
                                                    }),
                                                }}
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                })
            })}
        </section>
    }
}
