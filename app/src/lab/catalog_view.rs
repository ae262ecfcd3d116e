//! The administrators' lab catalog page: every test, its ranges and limits, its specimen
//! and where it is run.

use super::{ranges_text, LabTest, Performed, SaveLabTest, SpecimenType, ValueKind};
use crate::i18n::use_i18n;
use crate::shell::{action_url, loaded, submit_with, ActionFeedback};
use leptos::prelude::*;

#[component]
pub fn LabCatalogPage() -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SaveLabTest>::new();
    let tests = Resource::new(move || save.version().get(), |_| super::load_lab_tests());
    view! {
        <section class="page lab-catalog" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().lab.catalog_title}</h1>
            <ActionFeedback action=save done=|t| t.saved/>
            {loaded(tests, move |tests| {
                let blank = LabTest {
                    id: 0,
                    loinc: String::new(),
                    name_fr: String::new(),
                    name_en: String::new(),
                    specimen_type: SpecimenType::Blood,
                    value_kind: ValueKind::Numeric,
                    unit: String::new(),
                    decimals: 1,
                    plausible_low: None,
                    plausible_high: None,
                    critical_low: None,
                    critical_high: None,
                    allowed_codes: Vec::new(),
                    normal_codes: Vec::new(),
                    performed: Performed::InHouse,
                    turnaround_minutes: 30,
                    second_verifier: false,
                    active: true,
                    ranges: Vec::new(),
                };
                let entries = tests
                    .into_iter()
                    .map(|test| {
                        let title = format!("{} · {}", test.name(i18n.locale()), test.loinc);
                        let loinc = test.loinc.clone();
                        let active = test.active;
                        view! {
                            <li class="catalog-entry" data-loinc=loinc data-active=active.to_string()>
                                <details>
                                    <summary>
                                        {title}
                                        {(!active).then(|| view! { " · " {move || i18n.t().deactivated} })}
                                    </summary>
                                    <TestEditor test action=save/>
                                </details>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <h2>{move || i18n.t().lab.catalog_new}</h2>
                    <TestEditor test=blank action=save/>
                    <h2>{move || i18n.t().lab.catalog_entries}</h2>
                    <ul class="team-list">{entries}</ul>
                }
            })}
        </section>
    }
}

/// One test's form: new when its id is 0.
#[component]
fn TestEditor(test: LabTest, action: ServerAction<SaveLabTest>) -> impl IntoView {
    let i18n = use_i18n();
    let id = test.id;
    let field = move |name: &str| format!("test-{id}-{name}");
    let submit = submit_with(action, move |f| SaveLabTest {
        id,
        loinc: f.text("loinc"),
        name_fr: f.text("name_fr"),
        name_en: f.text("name_en"),
        specimen_type: f.text("specimen_type"),
        value_kind: f.text("value_kind"),
        unit: f.text("unit"),
        decimals: f.text("decimals"),
        plausible_low: f.text("plausible_low"),
        plausible_high: f.text("plausible_high"),
        critical_low: f.text("critical_low"),
        critical_high: f.text("critical_high"),
        allowed_codes: f.text("allowed_codes"),
        normal_codes: f.text("normal_codes"),
        performed: f.text("performed"),
        turnaround_minutes: f.text("turnaround_minutes"),
        second_verifier: f.text("second_verifier") == "true",
        active: f.text("active") == "true",
        ranges: f.text("ranges"),
    });
    let limit = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let specimen_options = SpecimenType::ALL
        .iter()
        .map(|t| {
            let t = *t;
            view! { <option value=t.code() selected=t == test.specimen_type>{move || (i18n.t().lab.specimen_type)(t)}</option> }
        })
        .collect_view();
    let kind_options = ValueKind::ALL
        .iter()
        .map(|k| {
            let k = *k;
            view! { <option value=k.code() selected=k == test.value_kind>{move || (i18n.t().lab.value_kind)(k)}</option> }
        })
        .collect_view();
    let performed_options = Performed::ALL
        .iter()
        .map(|p| {
            let p = *p;
            view! { <option value=p.code() selected=p == test.performed>{move || (i18n.t().lab.performed)(p)}</option> }
        })
        .collect_view();
    let text_field =
        move |name: &'static str, label: fn(&crate::i18n::Messages) -> &'static str, value: String| {
            view! {
                <label for=field(name)>{move || label(i18n.t())}</label>
                <input type="text" id=field(name) name=name value=value maxlength="120"/>
            }
        };
    view! {
        <form class="stacked-form test-form" method="post" action={action_url::<SaveLabTest>()} on:submit=submit>
            <input type="hidden" name="id" value=id/>
            {text_field("loinc", |t| t.lab.catalog_loinc, test.loinc.clone())}
            {text_field("name_fr", |t| t.back_office.catalog_name_fr, test.name_fr.clone())}
            {text_field("name_en", |t| t.back_office.catalog_name_en, test.name_en.clone())}
            <label for=field("specimen_type")>{move || i18n.t().lab.catalog_specimen}</label>
            <select id=field("specimen_type") name="specimen_type">{specimen_options}</select>
            <label for=field("value_kind")>{move || i18n.t().lab.catalog_value_kind}</label>
            <select id=field("value_kind") name="value_kind">{kind_options}</select>
            {text_field("unit", |t| t.lab.catalog_unit, test.unit.clone())}
            {text_field("decimals", |t| t.lab.catalog_decimals, test.decimals.to_string())}
            {text_field("plausible_low", |t| t.lab.catalog_plausible_low, limit(test.plausible_low))}
            {text_field("plausible_high", |t| t.lab.catalog_plausible_high, limit(test.plausible_high))}
            {text_field("critical_low", |t| t.lab.catalog_critical_low, limit(test.critical_low))}
            {text_field("critical_high", |t| t.lab.catalog_critical_high, limit(test.critical_high))}
            {text_field("allowed_codes", |t| t.lab.catalog_allowed_codes, test.allowed_codes.join(", "))}
            {text_field("normal_codes", |t| t.lab.catalog_normal_codes, test.normal_codes.join(", "))}
            <label for=field("ranges")>{move || i18n.t().lab.catalog_ranges}</label>
            <textarea id=field("ranges") name="ranges" rows="4">{ranges_text(&test.ranges)}</textarea>
            <label for=field("performed")>{move || i18n.t().lab.catalog_performed}</label>
            <select id=field("performed") name="performed">{performed_options}</select>
            {text_field("turnaround_minutes", |t| t.lab.catalog_turnaround, test.turnaround_minutes.to_string())}
            <label class="choice">
                <input type="checkbox" name="second_verifier" value="true" checked=test.second_verifier/>
                {move || i18n.t().lab.catalog_second_verifier}
            </label>
            <label class="choice">
                <input type="checkbox" name="active" value="true" checked=test.active/>
                {move || i18n.t().active}
            </label>
            <button type="submit" class="button">{move || i18n.t().save}</button>
        </form>
    }
}
