//! The rooms' set-up page: an administrator adds a room, changes one, or retires it. A
//! server page: plain forms, no WebAssembly.

use super::{RoomKind, RoomSetting};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::shell::{after_post, go_to, Field, FormProblems, Outcome, PostedForm, SetupTabs, SubmissionField};
use leptos::prelude::*;

pub struct SetupWords {
    pub title: &'static str,
    pub add_title: &'static str,
    pub add: &'static str,
    pub code: &'static str,
    pub code_hint: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub order: &'static str,
    pub save: &'static str,
    pub retire: &'static str,
    pub no_rooms: &'static str,
    pub problems: &'static str,
}

const FR: SetupWords = SetupWords {
    title: "Salles",
    add_title: "Ajouter une salle",
    add: "Ajouter",
    code: "Code",
    code_hint: "Majuscules, chiffres et tirets : EX1, PROC-2",
    name: "Nom",
    kind: "Type",
    order: "Ordre dans les listes",
    save: "Enregistrer",
    retire: "Retirer (ne sera plus utilisée)",
    no_rooms: "Aucune salle : ajoutez la première.",
    problems: "À corriger",
};

const EN: SetupWords = SetupWords {
    title: "Rooms",
    add_title: "Add a room",
    add: "Add",
    code: "Code",
    code_hint: "Capitals, digits and dashes: EX1, PROC-2",
    name: "Name",
    kind: "Kind",
    order: "Place in the lists",
    save: "Save",
    retire: "Retire (no longer used)",
    no_rooms: "No room yet: add the first.",
    problems: "To correct",
};

fn use_words() -> &'static SetupWords {
    match crate::i18n::use_i18n().locale() {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

/// The room a form of this page names: none for the form that adds one.
fn room_of(form: &PostedForm) -> Result<Option<i64>, AppError> {
    let text = form.text("room_id");
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| AppError::Malformed)
}

#[component]
pub fn RoomSetupPage() -> impl IntoView {
    let w = use_words();
    let sent = crate::shell::posted_form().unwrap_or_default();
    let act = |form: PostedForm| async move {
        let order = form.text("sort_order");
        let sort_order = if order.trim().is_empty() {
            0
        } else {
            order
                .trim()
                .parse()
                .map_err(|_| AppError::invalid("sort_order", crate::error::Problem::Malformed))?
        };
        super::save_room(
            room_of(&form)?,
            form.text("code"),
            form.text("name"),
            form.text("kind"),
            sort_order,
        )
        .await
    };
    let render = move |outcome: Outcome<i64>| {
        let error = match outcome {
            Outcome::Done(_) => {
                go_to("/setup/rooms");
                return ().into_any();
            }
            Outcome::Refused(error) => Some((room_of(&sent).ok().flatten(), error)),
            Outcome::Opened => None,
        };
        view! { <RoomList error sent=sent.clone()/> }.into_any()
    };
    view! {
        <section class="page room-setup" aria-labelledby="page-title">
            <SetupTabs current="/setup/rooms"/>
            <h1 id="page-title">{w.title}</h1>
            {after_post(act, render)}
        </section>
    }
    .into_any()
}

#[component]
fn RoomList(error: Option<(Option<i64>, AppError)>, sent: PostedForm) -> impl IntoView {
    let w = use_words();
    let rooms = Resource::new(|| (), |_| super::rooms_to_set_up());
    let retire = <super::RetireRoom as leptos::server_fn::ServerFn>::PATH;
    // A refused form is drawn again as it was sent; the others as stored.
    let error_for = move |room: Option<i64>| error.clone().filter(|(r, _)| *r == room).map(|(_, e)| e);
    view! {
        {crate::shell::loaded(rooms, move |rooms: Vec<RoomSetting>| {
            let sent = sent.clone();
            view! {
                {rooms.is_empty().then(|| view! { <p class="empty">{w.no_rooms}</p> })}
                <ul class="room-setup-list">
                    {rooms.into_iter().map(|setting| {
                        let id = setting.room.id;
                        let error = error_for(Some(id));
                        let values = if error.is_some() {
                            RoomValues::sent(&sent)
                        } else {
                            RoomValues {
                                code: setting.room.code.clone(),
                                name: setting.room.name.clone(),
                                kind: setting.room.kind.code().to_owned(),
                                sort_order: setting.sort_order.to_string(),
                            }
                        };
                        view! {
                            <li class="card">
                                <RoomForm room_id=Some(id) values error/>
                                <crate::shell::ActionButton action=retire label=w.retire class="button secondary" fields=vec![("room_id", id.to_string())]/>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <h2>{w.add_title}</h2>
                {
                    let error = error_for(None);
                    let values = if error.is_some() { RoomValues::sent(&sent) } else { RoomValues::default() };
                    view! { <RoomForm room_id=None values error/> }
                }
            }
        })}
    }
    .into_any()
}

#[derive(Debug, Clone, Default)]
struct RoomValues {
    code: String,
    name: String,
    kind: String,
    sort_order: String,
}

impl RoomValues {
    fn sent(form: &PostedForm) -> Self {
        RoomValues {
            code: form.text("code"),
            name: form.text("name"),
            kind: form.text("kind"),
            sort_order: form.text("sort_order"),
        }
    }
}

#[component]
fn RoomForm(room_id: Option<i64>, values: RoomValues, error: Option<AppError>) -> impl IntoView {
    let w = use_words();
    let t = crate::i18n::use_i18n().t();
    let kind_problem = crate::shell::problem_with(error.as_ref(), "room_kind");
    let kind = values.kind.clone();
    view! {
        <form class="stacked-form room-form" method="post" action="/setup/rooms">
            <SubmissionField/>
            {room_id.map(|id| view! { <input type="hidden" name="room_id" value=id.to_string()/> })}
            <FormProblems error=error.clone() title=w.problems/>
            <Field label=w.code name="code" value=values.code required=true max=12 hint=w.code_hint error=error.clone()/>
            <Field label=w.name name="name" value=values.name required=true max=60 error=error.clone()/>
            <label class="field">
                <span>{w.kind}</span>
                <select name="kind" aria-invalid=kind_problem.map(|_| "true")>
                    {RoomKind::ALL.iter().map(|k| {
                        let selected = kind == k.code() || (kind.is_empty() && *k == RoomKind::Exam);
                        view! { <option value=k.code() selected=selected>{(t.room_kind)(*k)}</option> }
                    }).collect_view()}
                </select>
                {kind_problem.map(|p| view! { <strong class="field-problem">{p}</strong> })}
            </label>
            <Field label=w.order name="sort_order" value=values.sort_order kind="number" max=4 error=error.clone()/>
            <button type="submit" class="button primary">{if room_id.is_some() { w.save } else { w.add }}</button>
        </form>
    }
    .into_any()
}
