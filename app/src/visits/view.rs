//! A visit's screens: the patient's page at the front desk (identity, the visit under
//! way, check-in, departure with the discharge hold, merging a duplicate) and the
//! supervisors' follow-up list. Server pages: plain forms, no WebAssembly.

use super::words::use_words;
use super::{Discharge, PendingItem, VisitAtDesk};
use crate::auth::Capability;
use crate::error::{AppError, Problem};
use crate::patients::{IdentitySummary, PatientRecord};
use crate::shell::{after_post, go_to, Field, FormProblems, Outcome, PostedForm, SubmissionField};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a form of the patient's page did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PatientPageAction {
    CheckedIn,
    Ended,
    /// The visit was not ended: these are pending.
    Held(Vec<PendingItem>),
    Merged,
}

/// Runs the form the patient's page sent.
async fn act_on_patient(patient_id: i64, form: PostedForm) -> Result<PatientPageAction, AppError> {
    let id = |name: &str| -> Result<Option<i64>, AppError> {
        let text = form.text(name);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| AppError::invalid(name, Problem::Malformed))
    };
    match form.which().as_str() {
        "check_in" => {
            let care_team = form
                .all("care_team")
                .iter()
                .map(|m| {
                    m.parse()
                        .map_err(|_| AppError::invalid("care_team", Problem::Malformed))
                })
                .collect::<Result<Vec<i64>, _>>()?;
            super::check_in(patient_id, form.text("reason"), id("attending_id")?, care_team).await?;
            Ok(PatientPageAction::CheckedIn)
        }
        "end_visit" => {
            let visit_id = id("visit_id")?.ok_or(AppError::Malformed)?;
            match super::end_visit(visit_id, form.text("reason")).await? {
                Discharge::Ended { .. } => Ok(PatientPageAction::Ended),
                Discharge::Held(pending) => Ok(PatientPageAction::Held(pending)),
            }
        }
        "merge" => {
            let number = form.text("merged_record_number").trim().to_owned();
            if number.is_empty() {
                return Err(AppError::invalid("merged_id", Problem::Required));
            }
            let found = crate::patients::search_patients(number.clone()).await?;
            let duplicate = found
                .patients
                .iter()
                .find(|p| p.record_number.eq_ignore_ascii_case(&number))
                .ok_or_else(|| AppError::invalid("merged_id", Problem::NotAllowed))?;
            crate::patients::merge_patients(patient_id, duplicate.id, form.text("reason")).await?;
            Ok(PatientPageAction::Merged)
        }
        _ => Err(AppError::Malformed),
    }
}

/// A patient's page at the front desk.
#[component]
pub fn PatientPage() -> impl IntoView {
    let id = crate::shell::id_param()();
    let sent = crate::shell::posted_form().unwrap_or_default();
    let act = move |form: PostedForm| async move {
        let patient_id = id.ok_or(AppError::NotFound)?;
        act_on_patient(patient_id, form).await
    };
    let render = move |outcome: Outcome<PatientPageAction>| {
        let (held, error) = match outcome {
            Outcome::Done(PatientPageAction::Held(pending)) => (pending, None),
            Outcome::Done(_) => {
                // Done: the page is fetched again, so a reload posts nothing twice.
                go_to(&format!("/patients/{}", id.unwrap_or_default()));
                return ().into_any();
            }
            Outcome::Refused(error) => (Vec::new(), Some((sent.which(), error))),
            Outcome::Opened => (Vec::new(), None),
        };
        view! { <PatientPageBody id held error sent=sent.clone()/> }.into_any()
    };
    after_post(act, render)
}

#[component]
fn PatientPageBody(
    id: Option<i64>,
    held: Vec<PendingItem>,
    /// The form that was refused, and why.
    error: Option<(String, AppError)>,
    sent: PostedForm,
) -> impl IntoView {
    let may_merge = crate::shell::use_session()
        .user()
        .is_some_and(|u| u.can(Capability::MergePatients));
    let pw = crate::patients::words::use_words();
    let both = Resource::new(
        || (),
        move |_| async move {
            let Some(record) = crate::shell::unless_missing(id, crate::patients::read_patient_record).await?
            else {
                return Ok(None);
            };
            let desk = super::visit_desk(record.id).await?;
            Ok(Some((record, desk)))
        },
    );
    view! {
        <section class="page patient-page" aria-labelledby="page-title">
            <p><a class="button secondary" href="/desk">{pw.desk_title}</a></p>
            {crate::shell::loaded(both, move |found: Option<(PatientRecord, VisitAtDesk)>| {
                let Some((record, desk)) = found else {
                    return view! { <crate::shell::NotFound/> }.into_any();
                };
                let error_of = |form: &str| error.as_ref().filter(|(which, _)| which == form).map(|(_, e)| e.clone());
                let identity = record.identity.clone();
                let title = format!("{} {}", identity.family_name, identity.given_name);
                let merged_into = record.merged_into;
                // A form this page does not have: said at the top.
                let stray = error
                    .as_ref()
                    .filter(|(which, _)| !["check_in", "end_visit", "merge"].contains(&which.as_str()))
                    .map(|(_, e)| e.clone());
                view! {
                    <h1 id="page-title">{title}</h1>
                    <FormProblems error=stray title=pw.problems_title/>
                    {merged_into.map(|kept| view! {
                        <p class="warning-panel">{pw.merged_into}" "<a href=format!("/patients/{kept}")>{pw.open_record}</a></p>
                    })}
                    <section aria-labelledby="identity-title">
                        <h2 id="identity-title">{pw.identity_section}</h2>
                        <IdentitySummary identity/>
                        {merged_into.is_none().then(|| view! {
                            <p><a class="button secondary" href=format!("/patients/{}/edit", record.id)>{pw.edit}</a></p>
                        })}
                    </section>
                    {merged_into.is_none().then(|| view! {
                        <VisitSection
                            patient_id=record.id
                            desk
                            held=held.clone()
                            error=error_of("check_in").or_else(|| error_of("end_visit"))
                            sent=sent.clone()
                        />
                    })}
                    {(may_merge && merged_into.is_none()).then(|| view! {
                        <MergeForm patient_id=record.id error=error_of("merge") sent=sent.clone()/>
                    })}
                }
                .into_any()
            })}
        </section>
    }
    .into_any()
}

/// The visit under way with its departure, or the check-in form.
#[component]
fn VisitSection(
    patient_id: i64,
    desk: VisitAtDesk,
    held: Vec<PendingItem>,
    error: Option<AppError>,
    sent: PostedForm,
) -> impl IntoView {
    let w = use_words();
    let i18n = crate::i18n::use_i18n();
    let t = i18n.t();
    let action = format!("/patients/{patient_id}");
    let body = match desk.open {
        Some(visit) => {
            let held_now = !held.is_empty();
            let locale = i18n.locale();
            view! {
                <dl class="identity-summary">
                    <dt>{t.visit_state_label}</dt>
                    <dd>{(t.visit_state)(visit.state)}</dd>
                    <dt>{w.reason}</dt>
                    <dd>{visit.reason}</dd>
                    <dt>{w.arrived}</dt>
                    <dd>{desk.clock.time_of_day(visit.arrived_at)}</dd>
                    <dt>{w.room}</dt>
                    <dd>{visit.room.unwrap_or_else(|| w.waiting_room.to_owned())}</dd>
                    <dt>{w.attending}</dt>
                    <dd>{visit.attending.unwrap_or_else(|| w.nobody.to_owned())}</dd>
                </dl>
                <h3>{w.end_title}</h3>
                {held_now.then(|| view! {
                    <div class="warning-panel" role="alert">
                        <strong>{w.held_title}</strong>
                        <p>{w.held_body}</p>
                        <ul>{held.iter().map(|item| view! { <li>{item.name(locale).to_owned()}</li> }).collect_view()}</ul>
                    </div>
                })}
                <form class="stacked-form" method="post" action=action.clone()>
                    <SubmissionField/>
                    <input type="hidden" name="form" value="end_visit"/>
                    <input type="hidden" name="visit_id" value=visit.visit_id.to_string()/>
                    <FormProblems error=error.clone() title=w.end_title/>
                    {(held_now || error.is_some()).then(|| view! {
                        <Field label=w.end_reason name="reason" value=sent.text("reason") hint=w.end_reason_hint max=500 error=error.clone()/>
                    })}
                    <button type="submit" class="button">{if held_now { w.end_anyway } else { w.end_visit }}</button>
                </form>
            }
            .into_any()
        }
        None => {
            let chosen_team = sent.all("care_team");
            let attending = sent.text("attending_id");
            view! {
                <p class="empty">{w.no_visit}</p>
                <h3>{w.check_in_title}</h3>
                <form class="stacked-form" method="post" action=action.clone()>
                    <SubmissionField/>
                    <input type="hidden" name="form" value="check_in"/>
                    <FormProblems error=error.clone() title=w.check_in_title/>
                    <Field label=w.reason name="reason" value=sent.text("reason") required=true max=super::VISIT_REASON_MAX error=error.clone()/>
                    <label class="field">
                        <span>{w.attending}</span>
                        <select name="attending_id">
                            <option value="">{w.nobody}</option>
                            {desk.physicians.iter().map(|p| {
                                let id = p.id.to_string();
                                let selected = attending == id;
                                view! { <option value=id selected=selected>{p.name.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <fieldset>
                        <legend>{w.care_team}</legend>
                        {desk.clinicians.iter().map(|c| {
                            let id = c.id.to_string();
                            let checked = chosen_team.contains(&id);
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="care_team" value=id checked=checked/>
                                    <span>{c.name.clone()}</span>
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" class="button primary">{w.check_in}</button>
                </form>
            }
            .into_any()
        }
    };
    view! {
        <section aria-labelledby="visit-title">
            <h2 id="visit-title">{w.visit_section}</h2>
            {body}
        </section>
    }
    .into_any()
}

/// Merging a duplicate record into this one (supervisors and administrators).
#[component]
fn MergeForm(patient_id: i64, error: Option<AppError>, sent: PostedForm) -> impl IntoView {
    let pw = crate::patients::words::use_words();
    view! {
        <section aria-labelledby="merge-title">
            <h2 id="merge-title">{pw.merge_title}</h2>
            <p class="hint">{pw.merge_body}</p>
            <form class="stacked-form" method="post" action=format!("/patients/{patient_id}")>
                <SubmissionField/>
                <input type="hidden" name="form" value="merge"/>
                <FormProblems error=error.clone() title=pw.merge_title/>
                <label class="field">
                    <span>{pw.merge_duplicate}</span>
                    <input type="text" name="merged_record_number" value=sent.text("merged_record_number") required maxlength="20"/>
                </label>
                <Field label=pw.merge_reason name="reason" value=sent.text("reason") required=true max=500 error=error.clone()/>
                <button type="submit" class="button danger">{pw.merge}</button>
            </form>
        </section>
    }
    .into_any()
}

/// What visits were ended with, until someone follows each up.
#[component]
pub fn FollowUpsPage() -> impl IntoView {
    let w = use_words();
    let i18n = crate::i18n::use_i18n();
    let list = Resource::new(|| (), |_| super::discharge_follow_ups());
    let done = <super::MarkFollowedUp as leptos::server_fn::ServerFn>::PATH;
    view! {
        <section class="page follow-ups" aria-labelledby="page-title">
            <h1 id="page-title">{w.follow_ups_title}</h1>
            {crate::shell::loaded(list, move |list| {
                if list.is_empty() {
                    return view! { <p class="empty">{w.no_follow_up}</p> }.into_any();
                }
                let locale = i18n.locale();
                view! {
                    <ul class="follow-up-list">
                        {list.into_iter().map(|f| {
                            let name = format!("{} {}", f.patient.family_name, f.patient.given_name);
                            let by = f.ended_by.unwrap_or_else(|| w.front_office.to_owned());
                            let ended = (i18n.t().date)(f.ended_at.date_naive());
                            view! {
                                <li class="card">
                                    <p><strong>{name}</strong>" · "{f.patient.record_number}</p>
                                    <p>{f.item.name(locale).to_owned()}</p>
                                    <p class="hint">{w.ended_by}" "{by}" · "{ended}" · "{f.reason}</p>
                                    <crate::shell::ActionButton action=done label=w.followed_up fields=vec![("id", f.id.to_string())]/>
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
