//! The administrators' catalog page: every procedure the back office does, what it needs,
//! and the facility's back-office settings.

use super::{load_catalog, ProcedureKind, SaveFacilitySettings, SaveProcedureKind};
use crate::accounts::CertificationKind;
use crate::equipment::EquipmentKind;
use crate::facility::FacilitySettings;
use crate::i18n::use_i18n;
use crate::positioning::BodyPosition;
use crate::shell::{loaded, shown, ticked, PageForm, PageFormNote, PageForms, Refused};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A server page: each entry's form and the settings post to the page, and a refused
/// form comes back open, as it was typed, with what is wrong beside it.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page catalog" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().back_office.catalog_title}</h1>
            <PageFormNote action=SaveProcedureKind::PATH refused=None done=|t| t.saved/>
            {PageForms::new()
                .accept::<SaveProcedureKind>()
                .accept::<SaveFacilitySettings>()
                .back_to("/admin/catalog", |refused| view! { <Catalog refused/> })}
        </section>
    }
}

#[component]
fn Catalog(refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = Resource::new(|| (), |_| load_catalog());
    view! {
            {loaded(catalog, move |snapshot| {
                let refused_of = |id: i64| Refused::of(&refused, SaveProcedureKind::PATH, Some(("id", &id.to_string())));
                let settings_refused = Refused::of(&refused, SaveFacilitySettings::PATH, None);
                let blank = ProcedureKind {
                    id: 0,
                    code: String::new(),
                    name_fr: String::new(),
                    name_en: String::new(),
                    qualification: None,
                    supervised: false,
                    equipment: Vec::new(),
                    default_position: BodyPosition::Seated,
                    typical_minutes: 15,
                    active: true,
                };
                view! {
                    <SettingsForm current=snapshot.settings refused=settings_refused/>
                    <h2>{move || i18n.t().back_office.catalog_new}</h2>
                    <KindForm kind=blank refused=refused_of(0)/>
                    <h2>{move || i18n.t().back_office.catalog_entries}</h2>
                    <ul class="team-list">
                        {snapshot
                            .catalog
                            .into_iter()
                            .map(|kind| {
                                let title = format!("{} · {}", kind.name(i18n.locale()), kind.code);
                                let code = kind.code.clone();
                                let active = kind.active;
                                let refused = refused_of(kind.id);
                                let open = refused.is_some();
                                view! {
                                    <li class="catalog-entry" data-code=code data-active=active.to_string()>
                                        <details open=open>
                                            <summary>
                                                {title}
                                                {(!active).then(|| view! { " · " {move || i18n.t().deactivated} })}
                                            </summary>
                                            <KindForm kind refused/>
                                        </details>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
    }
}

/// One catalog entry's form: new when its id is 0.
#[component]
fn KindForm(kind: ProcedureKind, refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    let id = kind.id;
    let field = move |name: &str| format!("kind-{id}-{name}");
    let qualification = shown(
        &refused,
        "qualification",
        kind.qualification.map(|q| q.code()).unwrap_or_default(),
    );
    let position = shown(&refused, "default_position", kind.default_position.code());
    let equipment_ticked = |i: usize, stored: bool| ticked(&refused, &format!("equipment[{i}]"), stored);
    let qualifications = CertificationKind::ALL
        .iter()
        .map(|q| {
            let q = *q;
            view! { <option value=q.code() selected=qualification == q.code()>{move || (i18n.t().certification)(q)}</option> }
        })
        .collect_view();
    let positions = BodyPosition::ALL
        .iter()
        .map(|p| {
            let p = *p;
            view! { <option value=p.code() selected=position == p.code()>{move || (i18n.t().back_office.position)(p)}</option> }
        })
        .collect_view();
    let equipment = EquipmentKind::ALL
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let e = *e;
            view! {
                <label class="choice">
                    <input type="checkbox" name=format!("equipment[{i}]") value=e.code() checked=equipment_ticked(i, kind.equipment.contains(&e))/>
                    {move || (i18n.t().back_office.equipment_kind)(e)}
                </label>
            }
        })
        .collect_view();
    view! {
        <PageForm action=SaveProcedureKind::PATH class="stacked-form kind-form">
            <input type="hidden" name="id" value=id/>
            <label for=field("code")>{move || i18n.t().back_office.catalog_code}</label>
            <input type="text" id=field("code") name="code" value=shown(&refused, "code", kind.code.clone()) required maxlength="40" pattern="[a-z0-9_]{2,40}"/>
            <label for=field("name_fr")>{move || i18n.t().back_office.catalog_name_fr}</label>
            <input type="text" id=field("name_fr") name="name_fr" value=shown(&refused, "name_fr", kind.name_fr.clone()) required maxlength="120"/>
            <label for=field("name_en")>{move || i18n.t().back_office.catalog_name_en}</label>
            <input type="text" id=field("name_en") name="name_en" value=shown(&refused, "name_en", kind.name_en.clone()) required maxlength="120"/>
            <label for=field("qualification")>{move || i18n.t().back_office.catalog_qualification}</label>
            <select id=field("qualification") name="qualification">
                <option value="" selected=qualification.is_empty()>{move || i18n.t().back_office.catalog_any_clinician}</option>
                {qualifications}
            </select>
            <label class="choice">
                <input type="checkbox" name="supervised" value="true" checked=ticked(&refused, "supervised", kind.supervised)/>
                {move || i18n.t().back_office.catalog_supervised}
            </label>
            <fieldset class="choices">
                <legend>{move || i18n.t().back_office.equipment_title}</legend>
                {equipment}
            </fieldset>
            <label for=field("position")>{move || i18n.t().back_office.catalog_position}</label>
            <select id=field("position") name="default_position">{positions}</select>
            <label for=field("minutes")>{move || i18n.t().back_office.catalog_minutes}</label>
            <input type="number" id=field("minutes") name="typical_minutes" value=shown(&refused, "typical_minutes", kind.typical_minutes.to_string()) min="1" max="480" required/>
            <label class="choice">
                <input type="checkbox" name="active" value="true" checked=ticked(&refused, "active", kind.active)/>
                {move || i18n.t().active}
            </label>
            <button type="submit" class="button">{move || i18n.t().save}</button>
            <PageFormNote action=SaveProcedureKind::PATH refused/>
        </PageForm>
    }
}

/// How often patients are repositioned; whether wall screens shorten identifiers.
#[component]
fn SettingsForm(current: FacilitySettings, refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="facility-settings" aria-labelledby="settings-title">
            <h2 id="settings-title">{move || i18n.t().back_office.settings_title}</h2>
            <PageForm action=SaveFacilitySettings::PATH class="stacked-form">
                <label for="reposition-minutes">{move || i18n.t().back_office.settings_reposition}</label>
                <input
                    type="number"
                    id="reposition-minutes"
                    name="reposition_reminder_minutes"
                    value=shown(&refused, "reposition_reminder_minutes", current.reposition_reminder_minutes.to_string())
                    min="5"
                    max="480"
                    required
                />
                <label for="critical-escalation">{move || i18n.t().lab.settings_escalation}</label>
                <input
                    type="number"
                    id="critical-escalation"
                    name="critical_escalation_minutes"
                    value=shown(&refused, "critical_escalation_minutes", current.critical_escalation_minutes.to_string())
                    min="1"
                    max="120"
                    required
                />
                <label class="choice">
                    <input type="checkbox" name="board_short_identifiers" value="true" checked=ticked(&refused, "board_short_identifiers", current.board_short_identifiers)/>
                    {move || i18n.t().back_office.settings_short_identifiers}
                </label>
                <button type="submit" class="button">{move || i18n.t().save}</button>
                <PageFormNote action=SaveFacilitySettings::PATH refused done=|t| t.saved/>
            </PageForm>
        </section>
    }
}
