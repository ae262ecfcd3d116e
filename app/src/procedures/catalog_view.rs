//! The administrators' catalog page: every procedure the back office does, what it needs,
//! and the facility's back-office settings.

use super::{load_catalog, ProcedureKind, SaveFacilitySettings, SaveProcedureKind};
use crate::accounts::CertificationKind;
use crate::equipment::EquipmentKind;
use crate::facility::FacilitySettings;
use crate::i18n::use_i18n;
use crate::positioning::BodyPosition;
use crate::shell::{action_url, loaded, submit_with, ActionFeedback};
use leptos::prelude::*;

#[component]
pub fn CatalogPage() -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SaveProcedureKind>::new();
    let settings = ServerAction::<SaveFacilitySettings>::new();
    let catalog = Resource::new(
        move || (save.version().get(), settings.version().get()),
        |_| load_catalog(),
    );
    view! {
        <section class="page catalog" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().back_office.catalog_title}</h1>
            <ActionFeedback action=save done=|t| t.saved/>
            {loaded(catalog, move |snapshot| {
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
                    <SettingsForm current=snapshot.settings action=settings/>
                    <h2>{move || i18n.t().back_office.catalog_new}</h2>
                    <KindForm kind=blank action=save/>
                    <h2>{move || i18n.t().back_office.catalog_entries}</h2>
                    <ul class="team-list">
                        {snapshot
                            .catalog
                            .into_iter()
                            .map(|kind| {
                                let title = format!("{} · {}", kind.name(i18n.locale()), kind.code);
                                let code = kind.code.clone();
                                let active = kind.active;
                                view! {
                                    <li class="catalog-entry" data-code=code data-active=active.to_string()>
                                        <details>
                                            <summary>
                                                {title}
                                                {(!active).then(|| view! { " · " {move || i18n.t().deactivated} })}
                                            </summary>
                                            <KindForm kind action=save/>
                                        </details>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        </section>
    }
}

/// One catalog entry's form: new when its id is 0.
#[component]
fn KindForm(kind: ProcedureKind, action: ServerAction<SaveProcedureKind>) -> impl IntoView {
    let i18n = use_i18n();
    let id = kind.id;
    let field = move |name: &str| format!("kind-{id}-{name}");
    let submit = submit_with(action, move |fields| SaveProcedureKind {
        id,
        code: fields.text("code"),
        name_fr: fields.text("name_fr"),
        name_en: fields.text("name_en"),
        qualification: fields.text("qualification"),
        supervised: fields.text("supervised") == "true",
        equipment: fields.indexed("equipment", EquipmentKind::ALL.len()),
        default_position: fields.text("default_position"),
        typical_minutes: fields.text("typical_minutes").parse().unwrap_or_default(),
        active: fields.text("active") == "true",
    });
    let qualifications = CertificationKind::ALL
        .iter()
        .map(|q| {
            let q = *q;
            view! { <option value=q.code() selected=kind.qualification == Some(q)>{move || (i18n.t().certification)(q)}</option> }
        })
        .collect_view();
    let positions = BodyPosition::ALL
        .iter()
        .map(|p| {
            let p = *p;
            view! { <option value=p.code() selected=kind.default_position == p>{move || (i18n.t().back_office.position)(p)}</option> }
        })
        .collect_view();
    let equipment = EquipmentKind::ALL
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let e = *e;
            view! {
                <label class="choice">
                    <input type="checkbox" name=format!("equipment[{i}]") value=e.code() checked=kind.equipment.contains(&e)/>
                    {move || (i18n.t().back_office.equipment_kind)(e)}
                </label>
            }
        })
        .collect_view();
    view! {
        <form class="stacked-form kind-form" method="post" action={action_url::<SaveProcedureKind>()} on:submit=submit>
            <input type="hidden" name="id" value=id/>
            <label for=field("code")>{move || i18n.t().back_office.catalog_code}</label>
            <input type="text" id=field("code") name="code" value=kind.code required maxlength="40" pattern="[a-z0-9_]{2,40}"/>
            <label for=field("name_fr")>{move || i18n.t().back_office.catalog_name_fr}</label>
            <input type="text" id=field("name_fr") name="name_fr" value=kind.name_fr required maxlength="120"/>
            <label for=field("name_en")>{move || i18n.t().back_office.catalog_name_en}</label>
            <input type="text" id=field("name_en") name="name_en" value=kind.name_en required maxlength="120"/>
            <label for=field("qualification")>{move || i18n.t().back_office.catalog_qualification}</label>
            <select id=field("qualification") name="qualification">
                <option value="" selected=kind.qualification.is_none()>{move || i18n.t().back_office.catalog_any_clinician}</option>
                {qualifications}
            </select>
            <label class="choice">
                <input type="checkbox" name="supervised" value="true" checked=kind.supervised/>
                {move || i18n.t().back_office.catalog_supervised}
            </label>
            <fieldset class="choices">
                <legend>{move || i18n.t().back_office.equipment_title}</legend>
                {equipment}
            </fieldset>
            <label for=field("position")>{move || i18n.t().back_office.catalog_position}</label>
            <select id=field("position") name="default_position">{positions}</select>
            <label for=field("minutes")>{move || i18n.t().back_office.catalog_minutes}</label>
            <input type="number" id=field("minutes") name="typical_minutes" value=kind.typical_minutes min="1" max="480" required/>
            <label class="choice">
                <input type="checkbox" name="active" value="true" checked=kind.active/>
                {move || i18n.t().active}
            </label>
            <button type="submit" class="button">{move || i18n.t().save}</button>
        </form>
    }
}

/// How often patients are repositioned; whether wall screens shorten identifiers.
#[component]
fn SettingsForm(current: FacilitySettings, action: ServerAction<SaveFacilitySettings>) -> impl IntoView {
    let i18n = use_i18n();
    let submit = submit_with(action, move |fields| SaveFacilitySettings {
        reposition_reminder_minutes: fields
            .text("reposition_reminder_minutes")
            .parse()
            .unwrap_or_default(),
        board_short_identifiers: fields.text("board_short_identifiers") == "true",
        critical_escalation_minutes: fields.text("critical_escalation_minutes").parse().ok(),
    });
    view! {
        <section class="facility-settings" aria-labelledby="settings-title">
            <h2 id="settings-title">{move || i18n.t().back_office.settings_title}</h2>
            <form class="stacked-form" method="post" action={action_url::<SaveFacilitySettings>()} on:submit=submit>
                <label for="reposition-minutes">{move || i18n.t().back_office.settings_reposition}</label>
                <input
                    type="number"
                    id="reposition-minutes"
                    name="reposition_reminder_minutes"
                    value=current.reposition_reminder_minutes
                    min="5"
                    max="480"
                    required
                />
                <label for="critical-escalation">{move || i18n.t().lab.settings_escalation}</label>
                <input
                    type="number"
                    id="critical-escalation"
                    name="critical_escalation_minutes"
                    value=current.critical_escalation_minutes
                    min="1"
                    max="120"
                    required
                />
                <label class="choice">
                    <input type="checkbox" name="board_short_identifiers" value="true" checked=current.board_short_identifiers/>
                    {move || i18n.t().back_office.settings_short_identifiers}
                </label>
                <button type="submit" class="button">{move || i18n.t().save}</button>
                <ActionFeedback action done=|t| t.saved/>
            </form>
        </section>
    }
}
