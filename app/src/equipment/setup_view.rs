//! The equipment's set-up page: an administrator adds an item, changes it or moves it to
//! another room, or retires it. A server page: plain forms, no WebAssembly.

use super::{EquipmentKind, EquipmentSetup};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::rooms::Room;
use crate::shell::{after_post, go_to, Field, FormProblems, Outcome, PostedForm, SetupTabs, SubmissionField};
use leptos::prelude::*;

struct SetupWords {
    title: &'static str,
    add_title: &'static str,
    add: &'static str,
    code: &'static str,
    code_hint: &'static str,
    name: &'static str,
    kind: &'static str,
    room: &'static str,
    no_room: &'static str,
    save: &'static str,
    retire: &'static str,
    no_items: &'static str,
    problems: &'static str,
}

const FR: SetupWords = SetupWords {
    title: "Équipement",
    add_title: "Ajouter un équipement",
    add: "Ajouter",
    code: "Code (étiquette)",
    code_hint: "Majuscules, chiffres et tirets : ECHO-1, KIT-S3",
    name: "Nom",
    kind: "Type",
    room: "Rangé en salle",
    no_room: "Aucune salle en particulier",
    save: "Enregistrer",
    retire: "Retirer (ne sera plus utilisé)",
    no_items: "Aucun équipement : ajoutez le premier.",
    problems: "À corriger",
};

const EN: SetupWords = SetupWords {
    title: "Equipment",
    add_title: "Add an item",
    add: "Add",
    code: "Code (label)",
    code_hint: "Capitals, digits and dashes: US-1, KIT-S3",
    name: "Name",
    kind: "Kind",
    room: "Kept in room",
    no_room: "No room in particular",
    save: "Save",
    retire: "Retire (no longer used)",
    no_items: "No equipment yet: add the first item.",
    problems: "To correct",
};

fn use_words() -> &'static SetupWords {
    match crate::i18n::use_i18n().locale() {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

/// An id a form of this page sends, or none when the field is empty.
fn id_in(form: &PostedForm, field: &str) -> Result<Option<i64>, AppError> {
    let text = form.text(field);
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| AppError::invalid(field, crate::error::Problem::Malformed))
}

#[component]
pub fn EquipmentSetupPage() -> impl IntoView {
    let w = use_words();
    let sent = crate::shell::posted_form().unwrap_or_default();
    let act = |form: PostedForm| async move {
        super::save_equipment(
            id_in(&form, "equipment_id")?,
            form.text("code"),
            form.text("name"),
            form.text("kind"),
            id_in(&form, "room_id")?,
        )
        .await
    };
    let render = move |outcome: Outcome<i64>| {
        let error = match outcome {
            Outcome::Done(_) => {
                go_to("/setup/equipment");
                return ().into_any();
            }
            Outcome::Refused(error) => Some((id_in(&sent, "equipment_id").ok().flatten(), error)),
            Outcome::Opened => None,
        };
        view! { <EquipmentList error sent=sent.clone()/> }.into_any()
    };
    view! {
        <section class="page equipment-setup" aria-labelledby="page-title">
            <SetupTabs current="/setup/equipment"/>
            <h1 id="page-title">{w.title}</h1>
            {after_post(act, render)}
        </section>
    }
    .into_any()
}

#[component]
fn EquipmentList(error: Option<(Option<i64>, AppError)>, sent: PostedForm) -> impl IntoView {
    let w = use_words();
    let setup = Resource::new(|| (), |_| super::equipment_to_set_up());
    let retire = <super::RetireEquipment as leptos::server_fn::ServerFn>::PATH;
    // A refused form is drawn again as it was sent; the others as stored.
    let error_for = move |item: Option<i64>| error.clone().filter(|(i, _)| *i == item).map(|(_, e)| e);
    view! {
        {crate::shell::loaded(setup, move |setup: EquipmentSetup| {
            let sent = sent.clone();
            let rooms = setup.rooms.clone();
            view! {
                {setup.items.is_empty().then(|| view! { <p class="empty">{w.no_items}</p> })}
                <ul class="room-setup-list">
                    {setup.items.into_iter().map(|item| {
                        let id = item.id;
                        let error = error_for(Some(id));
                        let values = if error.is_some() {
                            ItemValues::sent(&sent)
                        } else {
                            ItemValues {
                                code: item.code.clone(),
                                name: item.name.clone(),
                                kind: item.kind.code().to_owned(),
                                room_id: item.room_id.map(|r| r.to_string()).unwrap_or_default(),
                            }
                        };
                        view! {
                            <li class="card">
                                <ItemForm equipment_id=Some(id) values error rooms=rooms.clone()/>
                                <crate::shell::ActionButton action=retire label=w.retire class="button secondary" fields=vec![("equipment_id", id.to_string())]/>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <h2>{w.add_title}</h2>
                {
                    let error = error_for(None);
                    let values = if error.is_some() { ItemValues::sent(&sent) } else { ItemValues::default() };
                    view! { <ItemForm equipment_id=None values error rooms=rooms.clone()/> }
                }
            }
        })}
    }
    .into_any()
}

#[derive(Debug, Clone, Default)]
struct ItemValues {
    code: String,
    name: String,
    kind: String,
    room_id: String,
}

impl ItemValues {
    fn sent(form: &PostedForm) -> Self {
        ItemValues {
            code: form.text("code"),
            name: form.text("name"),
            kind: form.text("kind"),
            room_id: form.text("room_id"),
        }
    }
}

#[component]
fn ItemForm(
    equipment_id: Option<i64>,
    values: ItemValues,
    error: Option<AppError>,
    rooms: Vec<Room>,
) -> impl IntoView {
    let w = use_words();
    let t = crate::i18n::use_i18n().t();
    let kind_problem = crate::shell::problem_with(error.as_ref(), "equipment_kind");
    let room_problem = crate::shell::problem_with(error.as_ref(), "room_id");
    let kind = values.kind.clone();
    let room_id = values.room_id.clone();
    view! {
        <form class="stacked-form room-form" method="post" action="/setup/equipment">
            <SubmissionField/>
            {equipment_id.map(|id| view! { <input type="hidden" name="equipment_id" value=id.to_string()/> })}
            <FormProblems error=error.clone() title=w.problems/>
            <Field label=w.code name="code" value=values.code required=true max=16 hint=w.code_hint error=error.clone()/>
            <Field label=w.name name="name" value=values.name required=true max=80 error=error.clone()/>
            <label class="field">
                <span>{w.kind}</span>
                <select name="kind" aria-invalid=kind_problem.map(|_| "true")>
                    {EquipmentKind::ALL.iter().map(|k| {
                        view! { <option value=k.code() selected=kind == k.code()>{(t.back_office.equipment_kind)(*k)}</option> }
                    }).collect_view()}
                </select>
                {kind_problem.map(|p| view! { <strong class="field-problem">{p}</strong> })}
            </label>
            <label class="field">
                <span>{w.room}</span>
                <select name="room_id" aria-invalid=room_problem.map(|_| "true")>
                    <option value="" selected=room_id.is_empty()>{w.no_room}</option>
                    {rooms.into_iter().map(|room| {
                        let value = room.id.to_string();
                        let selected = room_id == value;
                        view! { <option value=value selected=selected>{format!("{} · {}", room.code, room.name)}</option> }
                    }).collect_view()}
                </select>
                {room_problem.map(|p| view! { <strong class="field-problem">{p}</strong> })}
            </label>
            <button type="submit" class="button primary">{if equipment_id.is_some() { w.save } else { w.add }}</button>
        </form>
    }
    .into_any()
}
