use super::PatientSummary;
use crate::i18n::use_i18n;
use chrono::NaiveDate;
use leptos::prelude::*;

/// A patient's two identifiers, always shown together: name with date of birth, and the
/// record number.
#[component]
pub fn PatientIdentity(patient: PatientSummary, today: NaiveDate) -> impl IntoView {
    let i18n = use_i18n();
    let age = patient.age_on(today);
    let birth_date = patient.birth_date;
    let name = patient.display_name();
    let record_number = patient.record_number;
    view! {
        <div class="patient">
            <p class="patient-name">{name}</p>
            <p class="patient-ids">
                <span>{move || (i18n.t().born_on)(&(i18n.t().date)(birth_date), age)}</span>
                " · "
                <span class="record-number">{move || i18n.t().record_number} " " {record_number.clone()}</span>
            </p>
        </div>
    }
}

/// A patient as lists name them: in full, or shortened (initials, year of birth, the end
/// of the record number) on wall screens where the facility chooses.
#[component]
pub fn PatientLabel(
    patient: PatientSummary,
    today: NaiveDate,
    #[prop(optional)] short: bool,
) -> impl IntoView {
    if short || patient.shortened {
        leptos::either::Either::Left(
            view! { <p class="patient-name short-identity">{patient.short_identity()}</p> },
        )
    } else {
        leptos::either::Either::Right(view! { <PatientIdentity patient today/> })
    }
}
