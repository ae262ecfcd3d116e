//! The administrators' lab catalog page: every test, its ranges and limits, its specimen
//! and where it is run.

use super::{ranges_text, LabTest, Performed, SaveLabTest, SpecimenType, ValueKind};
use crate::i18n::use_i18n;
use crate::shell::{loaded, shown, ticked, PageForm, PageFormNote, PageForms, Refused};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A server page: each test's form posts to the page, and a refused one comes back open,
/// as it was typed, with what is wrong beside each field.
#[component]
pub fn LabCatalogPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page lab-catalog" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().lab.catalog_title}</h1>
            <PageFormNote action=SaveLabTest::PATH refused=None done=|t| t.saved/>
            {PageForms::new().accept::<SaveLabTest>().back_to("/admin/lab-tests", |refused| view! { <LabTests refused/> })}
        </section>
    }
}

#[component]
fn LabTests(refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    let tests = Resource::new(|| (), |_| super::load_lab_tests());
    view! {
            {loaded(tests, move |tests| {
                let refused_of = |id: i64| Refused::of(&refused, SaveLabTest::PATH, Some(("id", &id.to_string())));
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
                        let refused = refused_of(test.id);
                        let open = refused.is_some();
                        view! {
                            <li class="catalog-entry" data-loinc=loinc data-active=active.to_string()>
                                <details open=open>
                                    <summary>
                                        {title}
                                        {(!active).then(|| view! { " · " {move || i18n.t().deactivated} })}
                                    </summary>
                                    <TestEditor test refused/>
                                </details>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <h2>{move || i18n.t().lab.catalog_new}</h2>
                    <TestEditor test=blank refused=refused_of(0)/>
                    <h2>{move || i18n.t().lab.catalog_entries}</h2>
                    <ul class="team-list">{entries}</ul>
                }
            })}
    }
}

/// One test's form: new when its id is 0.
#[component]
fn TestEditor(test: LabTest, refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    let id = test.id;
    let field = move |name: &str| format!("test-{id}-{name}");
    let limit = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let specimen_options = SpecimenType::ALL
        .iter()
        .map(|t| {
            let t = *t;
            view! { <option value=t.code() selected=shown(&refused, "specimen_type", test.specimen_type.code()) == t.code()>{move || (i18n.t().lab.specimen_type)(t)}</option> }
        })
        .collect_view();
    let kind_options = ValueKind::ALL
        .iter()
        .map(|k| {
            let k = *k;
            view! { <option value=k.code() selected=shown(&refused, "value_kind", test.value_kind.code()) == k.code()>{move || (i18n.t().lab.value_kind)(k)}</option> }
        })
        .collect_view();
    let performed_options = Performed::ALL
        .iter()
        .map(|p| {
            let p = *p;
            view! { <option value=p.code() selected=shown(&refused, "performed", test.performed.code()) == p.code()>{move || (i18n.t().lab.performed)(p)}</option> }
        })
        .collect_view();
    let text_field = {
        let refused = refused.clone();
        move |name: &'static str, label: fn(&crate::i18n::Messages) -> &'static str, value: String| {
            let problem = refused.as_ref().and_then(|r| r.problem(name));
            view! {
                <label for=field(name)>{move || label(i18n.t())}</label>
                <input type="text" id=field(name) name=name value=shown(&refused, name, value) maxlength="120"
                    aria-invalid=problem.map(|_| "true")/>
                {problem.map(|p| view! { <strong class="field-problem">{p}</strong> })}
            }
        }
    };
    let ranges = shown(&refused, "ranges", ranges_text(&test.ranges));
    let second_verifier = ticked(&refused, "second_verifier", test.second_verifier);
    let active = ticked(&refused, "active", test.active);
    view! {
        <PageForm action=SaveLabTest::PATH class="stacked-form test-form">
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
            <textarea id=field("ranges") name="ranges" rows="4">{ranges}</textarea>
            <label for=field("performed")>{move || i18n.t().lab.catalog_performed}</label>
            <select id=field("performed") name="performed">{performed_options}</select>
            {text_field("turnaround_minutes", |t| t.lab.catalog_turnaround, test.turnaround_minutes.to_string())}
            <label class="choice">
                <input type="checkbox" name="second_verifier" value="true" checked=second_verifier/>
                {move || i18n.t().lab.catalog_second_verifier}
            </label>
            <label class="choice">
                <input type="checkbox" name="active" value="true" checked=active/>
                {move || i18n.t().active}
            </label>
            <button type="submit" class="button">{move || i18n.t().save}</button>
            <PageFormNote action=SaveLabTest::PATH refused/>
        </PageForm>
    }
}
