//! The front desk's screens: finding a patient, registering one (with the probable
//! duplicates shown before a second record is made), editing an identity, and the front
//! office's updates held for a person. Server pages: plain forms, no WebAssembly.

use super::identity::{AllergyForm, AllergyStatus, Identity, IdentityForm, Severity, ALLERGIES_MAX};
use super::words::use_words;
use super::{PatientSummary, Registration, Sex};
use crate::error::AppError;
use crate::shell::{after_post, go_to, Field, FormProblems, Outcome, PostedForm, SubmissionField};
use leptos::prelude::*;

/// Empty allergy lines offered under the recorded ones.
const EMPTY_ALLERGY_LINES: usize = 2;

/// The identity as the registration or edit form sent it.
pub fn identity_from(form: &PostedForm) -> IdentityForm {
    let allergies = (0..ALLERGIES_MAX + EMPTY_ALLERGY_LINES)
        .map(|i| AllergyForm {
            substance: form.text(&format!("allergy_substance_{i}")),
            reaction: form.text(&format!("allergy_reaction_{i}")),
            severity: form.text(&format!("allergy_severity_{i}")),
        })
        // A line with nothing typed is no allergy; a reaction without its substance is
        // kept, so that the checks say what is missing rather than dropping it.
        .filter(|a| !a.substance.trim().is_empty() || !a.reaction.trim().is_empty())
        .collect();
    IdentityForm {
        record_number: form.text("record_number"),
        assigning_authority: form.text("assigning_authority"),
        family_name: form.text("family_name"),
        given_name: form.text("given_name"),
        birth_name: form.text("birth_name"),
        birth_date: form.text("birth_date"),
        sex: form.text("sex"),
        preferred_language: form.text("preferred_language"),
        interpreter_needed: form.ticked("interpreter_needed"),
        trusted_person: form.text("trusted_person"),
        emergency_contact: form.text("emergency_contact"),
        weight_kg: form.text("weight_kg"),
        weighed_on: form.text("weighed_on"),
        allergy_status: form.text("allergy_status"),
        allergies,
    }
}

/// The front desk: find a patient, register one, and the front office's held updates.
#[component]
pub fn DeskPage() -> impl IntoView {
    let w = use_words();
    let typed = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("q")
        .unwrap_or_default();
    let searched = typed.trim().to_owned();
    let found = Resource::new(
        || (),
        move |_| {
            let searched = searched.clone();
            async move {
                if searched.is_empty() {
                    Ok(None)
                } else {
                    super::search_patients(searched).await.map(Some)
                }
            }
        },
    );
    view! {
        <section class="page desk" aria-labelledby="page-title">
            <h1 id="page-title">{w.desk_title}</h1>
            <form class="search-form" method="get" action="/desk" role="search">
                <Field label=w.search_label name="q" value=typed kind="search" hint=w.search_hint max=120/>
                <button type="submit" class="button">{w.search}</button>
            </form>
            {crate::shell::loaded(found, move |found| {
                found.map(|found| {
                    let more = found.more;
                    if found.patients.is_empty() {
                        return view! { <p class="empty">{w.no_patient_found}</p> }.into_any();
                    }
                    view! {
                        <PatientList patients=found.patients/>
                        {more.then(|| view! { <p class="hint">{w.more_found}</p> })}
                    }
                    .into_any()
                })
            })}
            <p><a class="button primary" href="/desk/register">{w.register_title}</a></p>
            <HeldUpdates/>
        </section>
    }
    .into_any()
}

/// Patients found, each a link to their record.
#[component]
fn PatientList(patients: Vec<PatientSummary>) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    view! {
        <ul class="patient-list">
            {patients
                .into_iter()
                .map(|p| {
                    let href = format!("/patients/{}", p.id);
                    let born = (i18n.t().date)(p.birth_date);
                    view! {
                        <li>
                            <a class="patient-link" href=href>
                                <strong>{p.family_name}" "{p.given_name}</strong>
                                <span>{born}</span>
                                <span class="record-number">{p.record_number}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The front office's messages that contradict a record, each applied or dismissed by
/// the person who checked it with the patient.
#[component]
fn HeldUpdates() -> impl IntoView {
    let w = use_words();
    let i18n = crate::i18n::use_i18n();
    let held = Resource::new(|| (), |_| crate::admissions::held_admissions());
    let resolve = <crate::admissions::ResolveHeldAdmission as leptos::server_fn::ServerFn>::PATH;
    view! {
        <section aria-labelledby="held-title">
            <h2 id="held-title">{w.held_title}</h2>
            {crate::shell::loaded(held, move |held| {
                if held.is_empty() {
                    return view! { <p class="empty">{w.held_none}</p> }.into_any();
                }
                view! {
                    <ul class="held-list">
                        {held
                            .into_iter()
                            .map(|h| {
                                let id = h.id.to_string();
                                let received = (i18n.t().date)(h.received_at.date_naive());
                                view! {
                                    <li class="card">
                                        <p>
                                            <a href=format!("/patients/{}", h.patient.id)>
                                                <strong>{h.patient.family_name}" "{h.patient.given_name}</strong>
                                            </a>
                                            " · "{h.patient.record_number}
                                        </p>
                                        <p>{h.detail}</p>
                                        <p class="hint">{w.held_from}" "{h.sender}" · "{h.event}" · "{received}</p>
                                        <div class="button-row">
                                            <crate::shell::ActionButton
                                                action=resolve
                                                label=w.held_apply
                                                fields=vec![("id", id.clone()), ("apply", "true".into())]
                                            />
                                            <crate::shell::ActionButton
                                                action=resolve
                                                label=w.held_dismiss
                                                class="button secondary"
                                                fields=vec![("id", id), ("apply", "false".into())]
                                            />
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            })}
        </section>
    }
    .into_any()
}

/// Registers a patient. A probable duplicate stops it and is shown; the desk then opens
/// the right record, or confirms this is another person.
#[component]
pub fn RegisterPatientPage() -> impl IntoView {
    let w = use_words();
    let sent = crate::shell::posted_form().unwrap_or_default();
    let act = |form: PostedForm| async move {
        let seen = form
            .all("seen_duplicate")
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect();
        super::register_patient(identity_from(&form), seen).await
    };
    let render = move |outcome: Outcome<Registration>| {
        let values = identity_from(&sent);
        match outcome {
            Outcome::Done(Registration::Registered { patient_id, .. }) => {
                go_to(&format!("/patients/{patient_id}"));
                ().into_any()
            }
            Outcome::Done(Registration::ProbableDuplicates(duplicates)) => {
                view! { <RegistrationForm values duplicates/> }.into_any()
            }
            Outcome::Refused(error) => view! { <RegistrationForm values error/> }.into_any(),
            Outcome::Opened => view! { <RegistrationForm values=IdentityForm::default()/> }.into_any(),
        }
    };
    view! {
        <section class="page register-patient" aria-labelledby="page-title">
            <p><a class="button secondary" href="/desk">{w.desk_title}</a></p>
            <h1 id="page-title">{w.register_title}</h1>
            {after_post(act, render)}
        </section>
    }
    .into_any()
}

#[component]
fn RegistrationForm(
    values: IdentityForm,
    #[prop(optional)] duplicates: Vec<PatientSummary>,
    #[prop(optional)] error: Option<AppError>,
) -> impl IntoView {
    let w = use_words();
    let has_duplicates = !duplicates.is_empty();
    let seen = duplicates.iter().map(|d| d.id.to_string()).collect::<Vec<_>>();
    view! {
        {has_duplicates.then(|| view! {
            <div class="warning-panel" role="alert">
                <h2>{w.duplicates_title}</h2>
                <p>{w.duplicates_body}</p>
                <PatientList patients=duplicates/>
            </div>
        })}
        <form class="stacked-form identity-form" method="post" action="/desk/register">
            <SubmissionField/>
            {seen.into_iter().map(|id| view! { <input type="hidden" name="seen_duplicate" value=id/> }).collect_view()}
            <FormProblems error=error.clone() title=w.problems_title/>
            <IdentityFields values error/>
            <button type="submit" class="button primary">
                {if has_duplicates { w.register_anyway } else { w.register }}
            </button>
        </form>
    }
    .into_any()
}

/// Edits a patient's identity; an edit made on a record someone changed meanwhile is
/// refused rather than overwriting it.
#[component]
pub fn EditPatientPage() -> impl IntoView {
    let w = use_words();
    let id = crate::shell::id_param()();
    let sent = crate::shell::posted_form();
    let record = Resource::new(
        || (),
        move |_| crate::shell::unless_missing(id, super::read_patient_record),
    );
    let act = move |form: PostedForm| async move {
        let version = form.text("version").parse().map_err(|_| AppError::Malformed)?;
        let patient_id = id.ok_or(AppError::NotFound)?;
        super::update_patient(patient_id, version, identity_from(&form)).await
    };
    let form_for = move |record: super::PatientRecord, error: Option<AppError>| {
        // After a refusal the form shows what was typed, not the record.
        let values = match (&error, &sent) {
            (Some(_), Some(sent)) => identity_from(sent),
            _ => record.identity.form(),
        };
        let action = format!("/patients/{}/edit", record.id);
        view! {
            <form class="stacked-form identity-form" method="post" action=action>
                <SubmissionField/>
                <input type="hidden" name="version" value=record.version.to_string()/>
                <FormProblems error=error.clone() title=w.problems_title/>
                <IdentityFields values error editing=true/>
                <button type="submit" class="button primary">{w.save}</button>
            </form>
        }
    };
    let render = move |outcome: Outcome<super::PatientRecord>| match outcome {
        Outcome::Done(record) => {
            go_to(&format!("/patients/{}", record.id));
            ().into_any()
        }
        outcome => {
            let form_for = form_for.clone();
            let error = match outcome {
                Outcome::Refused(error) => Some(error),
                _ => None,
            };
            crate::shell::loaded(record, move |record| match record {
                Some(record) => form_for(record, error.clone()).into_any(),
                None => view! { <crate::shell::NotFound/> }.into_any(),
            })
            .into_any()
        }
    };
    view! {
        <section class="page edit-patient" aria-labelledby="page-title">
            {id.map(|id| view! { <p><a class="button secondary" href=format!("/patients/{id}")>{w.record_title}</a></p> })}
            <h1 id="page-title">{w.edit_title}</h1>
            {after_post(act, render)}
        </section>
    }
    .into_any()
}

/// Every field of an identity, as the desk fills it in.
#[component]
fn IdentityFields(
    values: IdentityForm,
    error: Option<AppError>,
    /// Editing a record: its number is kept as it is.
    #[prop(optional)]
    editing: bool,
) -> impl IntoView {
    let w = use_words();
    let problem = |field| crate::shell::problem_with(error.as_ref(), field);
    let lines = values.allergies.len() + EMPTY_ALLERGY_LINES;
    let allergies = (0..lines.min(ALLERGIES_MAX + EMPTY_ALLERGY_LINES))
        .map(|i| {
            let allergy = values.allergies.get(i).cloned().unwrap_or_default();
            view! { <AllergyLine index=i allergy/> }
        })
        .collect_view();
    let allergy_problem = problem("allergies");
    let status_problem = problem("allergy_status");
    let sex_problem = problem("sex");
    let sex = values.sex.clone();
    let status = values.allergy_status.clone();
    view! {
        <fieldset>
            <legend>{w.identity_section}</legend>
            {(!editing).then(|| view! {
                <Field label=w.record_number name="record_number" value=values.record_number.clone() hint=w.record_number_hint max=20 error=error.clone()/>
                <Field label=w.assigning_authority name="assigning_authority" value=values.assigning_authority.clone() max=40 error=error.clone()/>
            })}
            {editing.then(|| view! {
                <input type="hidden" name="record_number" value=values.record_number.clone()/>
                <input type="hidden" name="assigning_authority" value=values.assigning_authority.clone()/>
            })}
            <Field label=w.family_name name="family_name" value=values.family_name required=true max=80 error=error.clone()/>
            <Field label=w.given_name name="given_name" value=values.given_name required=true max=80 error=error.clone()/>
            <Field label=w.birth_name name="birth_name" value=values.birth_name max=80 error=error.clone()/>
            <Field label=w.birth_date name="birth_date" value=values.birth_date kind="date" required=true error=error.clone()/>
            <label class="field">
                <span>{w.sex}</span>
                <select name="sex" required aria-invalid=sex_problem.map(|_| "true")>
                    <option value="" selected=sex.is_empty()>{w.none}</option>
                    {Sex::ALL
                        .iter()
                        .map(|s| view! { <option value=s.code() selected=sex == s.code()>{(w.sex_name)(*s)}</option> })
                        .collect_view()}
                </select>
                {sex_problem.map(|p| view! { <strong class="field-problem">{p}</strong> })}
            </label>
            <Field label=w.preferred_language name="preferred_language" value=values.preferred_language required=true max=35 list="languages" hint=w.language_hint error=error.clone()/>
            <datalist id="languages">
                {["fr", "en", "ar", "es", "pt", "it", "de", "tr", "ro", "ru", "uk", "zh", "wo", "fr-CA"]
                    .into_iter()
                    .map(|tag| view! { <option value=tag></option> })
                    .collect_view()}
            </datalist>
            <label class="check">
                <input type="checkbox" name="interpreter_needed" checked=values.interpreter_needed/>
                <span>{w.interpreter_needed}</span>
            </label>
        </fieldset>
        <fieldset>
            <legend>{w.contacts_section}</legend>
            <Field label=w.trusted_person name="trusted_person" value=values.trusted_person max=200 error=error.clone()/>
            <Field label=w.emergency_contact name="emergency_contact" value=values.emergency_contact max=200 error=error.clone()/>
        </fieldset>
        <fieldset>
            <legend>{w.weight_section}</legend>
            <Field label=w.weight_kg name="weight_kg" value=values.weight_kg max=8 error=error.clone()/>
            <Field label=w.weighed_on name="weighed_on" value=values.weighed_on kind="date" error=error.clone()/>
        </fieldset>
        <fieldset>
            <legend>{w.allergies_section}</legend>
            <div class="choice-row" role="radiogroup">
                {AllergyStatus::ALL
                    .iter()
                    .map(|s| {
                        let checked = status == s.code() || (status.is_empty() && *s == AllergyStatus::Unasked);
                        view! {
                            <label class="check">
                                <input type="radio" name="allergy_status" value=s.code() checked=checked/>
                                <span>{(w.allergy_status)(*s)}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            {status_problem.map(|p| view! { <p class="field-problem" role="alert">{p}</p> })}
            {allergy_problem.map(|p| view! { <p class="field-problem" role="alert">{p}</p> })}
            <p class="hint">{w.allergy_rows_hint}</p>
            <div class="allergy-lines">{allergies}</div>
        </fieldset>
    }
    .into_any()
}

#[component]
fn AllergyLine(index: usize, allergy: AllergyForm) -> impl IntoView {
    let w = use_words();
    let severity = allergy.severity.clone();
    view! {
        <div class="allergy-line">
            <label class="field">
                <span>{w.substance}</span>
                <input type="text" name=format!("allergy_substance_{index}") value=allergy.substance maxlength="120"/>
            </label>
            <label class="field">
                <span>{w.reaction}</span>
                <input type="text" name=format!("allergy_reaction_{index}") value=allergy.reaction maxlength="200"/>
            </label>
            <label class="field">
                <span>{w.severity_label}</span>
                <select name=format!("allergy_severity_{index}")>
                    {Severity::ALL
                        .iter()
                        .map(|s| {
                            let selected = severity == s.code() || (severity.is_empty() && *s == Severity::Unknown);
                            view! { <option value=s.code() selected=selected>{(w.severity)(*s)}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        </div>
    }
    .into_any()
}

/// A checked identity as the desk and the care team read it.
#[component]
pub fn IdentitySummary(identity: Identity) -> impl IntoView {
    let w = use_words();
    let i18n = crate::i18n::use_i18n();
    let t = i18n.t();
    let or_none = |text: String| if text.is_empty() { w.none.to_owned() } else { text };
    let weight = identity.weight.map_or(w.not_weighed.to_owned(), |weight| {
        format!("{} kg · {}", weight.grams as f64 / 1000.0, (t.date)(weight.on))
    });
    let allergies = match identity.allergy_status {
        AllergyStatus::Recorded => identity
            .allergies
            .iter()
            .map(|a| {
                let reaction = if a.reaction.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", a.reaction)
                };
                format!("{}{} · {}", a.substance, reaction, (w.severity)(a.severity))
            })
            .collect::<Vec<_>>(),
        status => vec![(w.allergy_status)(status).to_owned()],
    };
    view! {
        <dl class="identity-summary">
            <dt>{w.record_number}</dt>
            <dd class="record-number">{identity.record_number.unwrap_or_default()}</dd>
            <dt>{w.birth_date}</dt>
            <dd>{(t.date)(identity.birth_date)}</dd>
            <dt>{w.sex}</dt>
            <dd>{(w.sex_name)(identity.sex)}</dd>
            <dt>{w.birth_name}</dt>
            <dd>{or_none(identity.birth_name)}</dd>
            <dt>{w.preferred_language}</dt>
            <dd>
                {identity.preferred_language}" · "
                {if identity.interpreter_needed { w.interpreter_yes } else { w.interpreter_no }}
            </dd>
            <dt>{w.trusted_person}</dt>
            <dd>{or_none(identity.trusted_person)}</dd>
            <dt>{w.emergency_contact}</dt>
            <dd>{or_none(identity.emergency_contact)}</dd>
            <dt>{w.weight_section}</dt>
            <dd>{weight}</dd>
            <dt>{w.allergies_section}</dt>
            <dd><ul class="plain-list">{allergies.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul></dd>
        </dl>
    }
    .into_any()
}
