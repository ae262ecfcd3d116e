//! The clinic's set-up page: its name, time zone and FINESS number. A server page:
//! one plain form, no WebAssembly.

use super::FacilityIdentity;
use crate::i18n::Locale;
use crate::shell::{after_post, go_to, Field, FormProblems, Outcome, PostedForm, SetupTabs, SubmissionField};
use leptos::prelude::*;

struct SetupWords {
    title: &'static str,
    name: &'static str,
    timezone: &'static str,
    timezone_hint: &'static str,
    national_id: &'static str,
    national_id_hint: &'static str,
    save: &'static str,
    saved: &'static str,
    problems: &'static str,
}

const FR: SetupWords = SetupWords {
    title: "Établissement",
    name: "Nom de l'établissement",
    timezone: "Fuseau horaire",
    timezone_hint: "Toutes les heures affichées le sont dans ce fuseau : Europe/Paris, America/Martinique…",
    national_id: "Numéro FINESS",
    national_id_hint: "9 caractères (2A ou 2B pour la Corse) ; facultatif",
    save: "Enregistrer",
    saved: "Enregistré.",
    problems: "À corriger",
};

const EN: SetupWords = SetupWords {
    title: "Clinic",
    name: "Clinic name",
    timezone: "Time zone",
    timezone_hint: "Every time on screen is shown in it: Europe/Paris, America/Martinique…",
    national_id: "FINESS number",
    national_id_hint: "9 characters (2A or 2B for Corsica); optional",
    save: "Save",
    saved: "Saved.",
    problems: "To correct",
};

fn use_words() -> &'static SetupWords {
    match crate::i18n::use_i18n().locale() {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

/// Time zones of French clinics, offered as one types; any IANA zone is accepted.
const ZONES: &[&str] = &[
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "America/Miquelon",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "Europe/Monaco",
];

#[component]
pub fn FacilitySetupPage() -> impl IntoView {
    let w = use_words();
    let act = |form: PostedForm| async move {
        super::save_facility(form.text("name"), form.text("timezone"), form.text("national_id")).await
    };
    let sent = crate::shell::posted_form().unwrap_or_default();
    let saved = leptos_router::hooks::use_query_map().with_untracked(|query| query.get("saved").is_some());
    let render = move |outcome: Outcome<()>| match outcome {
        Outcome::Done(()) => {
            go_to("/setup/facility?saved");
            ().into_any()
        }
        Outcome::Refused(error) => {
            let values = FacilityIdentity {
                name: sent.text("name"),
                timezone: sent.text("timezone"),
                national_id: sent.text("national_id"),
            };
            view! { <FacilityForm values error=Some(error) saved=false/> }.into_any()
        }
        Outcome::Opened => {
            let identity = Resource::new(|| (), |_| super::facility_to_set_up());
            crate::shell::loaded(identity, move |values: FacilityIdentity| {
                view! { <FacilityForm values error=None saved/> }
            })
            .into_any()
        }
    };
    view! {
        <section class="page facility-setup" aria-labelledby="page-title">
            <SetupTabs current="/setup/facility"/>
            <h1 id="page-title">{w.title}</h1>
            {after_post(act, render)}
        </section>
    }
    .into_any()
}

#[component]
fn FacilityForm(
    values: FacilityIdentity,
    error: Option<crate::error::AppError>,
    saved: bool,
) -> impl IntoView {
    let w = use_words();
    view! {
        <form class="stacked-form card" method="post" action="/setup/facility">
            <SubmissionField/>
            {saved.then(|| view! { <p class="done" role="status">{w.saved}</p> })}
            <FormProblems error=error.clone() title=w.problems/>
            <Field label=w.name name="name" value=values.name required=true max=120 error=error.clone()/>
            <Field label=w.timezone name="timezone" value=values.timezone required=true max=64 hint=w.timezone_hint list="zones" error=error.clone()/>
            <datalist id="zones">
                {ZONES.iter().map(|zone| view! { <option value=*zone></option> }).collect_view()}
            </datalist>
            <Field label=w.national_id name="national_id" value=values.national_id max=9 hint=w.national_id_hint error=error.clone()/>
            <button type="submit" class="button primary">{w.save}</button>
        </form>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn the_zones_offered_are_all_known() {
        for zone in super::ZONES {
            assert!(zone.parse::<chrono_tz::Tz>().is_ok(), "{zone}");
        }
    }
}
