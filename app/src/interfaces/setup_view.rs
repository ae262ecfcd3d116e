//! The interfaces' set-up page: an administrator adds a reference lab or the front
//! office's system, changes how it connects, gives it a new token (shown once, on the
//! answer to that form only) or revokes it. A server page: plain forms, no WebAssembly.

use super::{InterfaceSetting, IssuedToken};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::shell::{after_post, go_to, Field, FormProblems, Outcome, PostedForm, SetupTabs, SubmissionField};
use leptos::prelude::*;

struct SetupWords {
    title: &'static str,
    intro: &'static str,
    labs: &'static str,
    front_office: &'static str,
    add_title: &'static str,
    add: &'static str,
    code: &'static str,
    code_hint: &'static str,
    name: &'static str,
    is_front_office: &'static str,
    sending_facility: &'static str,
    sending_facility_hint: &'static str,
    peers: &'static str,
    peers_hint: &'static str,
    new_token: &'static str,
    save: &'static str,
    revoke: &'static str,
    http_open: &'static str,
    http_closed: &'static str,
    mllp_closed: &'static str,
    none: &'static str,
    token_title: &'static str,
    token_once: &'static str,
    token_use: &'static str,
    back: &'static str,
    problems: &'static str,
}

const FR: SetupWords = SetupWords {
    title: "Laboratoires et accueil",
    intro: "Les systèmes qui envoient des messages HL7 à Plateau : les laboratoires de référence (résultats) et le logiciel d'accueil (admissions).",
    labs: "Laboratoires de référence",
    front_office: "Logiciel d'accueil",
    add_title: "Ajouter un laboratoire ou le logiciel d'accueil",
    add: "Ajouter",
    code: "Code",
    code_hint: "2 à 20 majuscules, chiffres, - ou _ : BIO-REF",
    name: "Nom",
    is_front_office: "C'est le logiciel d'accueil (admissions ADT), pas un laboratoire",
    sending_facility: "Établissement émetteur (MSH-4)",
    sending_facility_hint: "Comme il se nomme dans ses messages ; nécessaire pour MLLP",
    peers: "Adresses MLLP",
    peers_hint: "Adresses IP d'où son moteur se connecte, séparées par des espaces ; aucune : HTTP seulement",
    new_token: "Lui donner un nouveau jeton d'interface (l'ancien cesse de fonctionner)",
    save: "Enregistrer",
    revoke: "Révoquer (plus aucun message accepté)",
    http_open: "HTTP : jeton actif",
    http_closed: "HTTP : aucun jeton",
    mllp_closed: "MLLP : aucune adresse",
    none: "Aucun pour l'instant.",
    token_title: "Jeton d'interface de",
    token_once: "Copiez-le maintenant dans le moteur d'interface : Plateau n'en garde que l'empreinte et ne l'affichera plus.",
    token_use: "À envoyer dans l'en-tête « Authorization: Bearer … » de chaque message posté à",
    back: "Retour aux interfaces",
    problems: "À corriger",
};

const EN: SetupWords = SetupWords {
    title: "Labs and front office",
    intro: "The systems that send Plateau HL7 messages: reference labs (results) and the front office's system (admissions).",
    labs: "Reference labs",
    front_office: "Front office system",
    add_title: "Add a reference lab or the front office's system",
    add: "Add",
    code: "Code",
    code_hint: "2 to 20 capitals, digits, - or _: BIO-REF",
    name: "Name",
    is_front_office: "This is the front office's system (ADT admissions), not a lab",
    sending_facility: "Sending facility (MSH-4)",
    sending_facility_hint: "As it names itself in its messages; needed for MLLP",
    peers: "MLLP addresses",
    peers_hint: "IP addresses its engine connects from, separated by spaces; none: HTTP only",
    new_token: "Give it a new interface token (the old one stops working)",
    save: "Save",
    revoke: "Revoke (accept no more messages)",
    http_open: "HTTP: token active",
    http_closed: "HTTP: no token",
    mllp_closed: "MLLP: no address",
    none: "None yet.",
    token_title: "Interface token of",
    token_once: "Copy it into the interface engine now: Plateau keeps only its fingerprint and will not show it again.",
    token_use: "To be sent in the \"Authorization: Bearer …\" header of every message posted to",
    back: "Back to the interfaces",
    problems: "To correct",
};

fn use_words() -> &'static SetupWords {
    match crate::i18n::use_i18n().locale() {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

#[component]
pub fn InterfaceSetupPage() -> impl IntoView {
    let w = use_words();
    let sent = crate::shell::posted_form().unwrap_or_default();
    let act = |form: PostedForm| async move {
        super::save_interface(
            form.text("code"),
            form.text("name"),
            form.ticked("front_office"),
            form.text("sending_facility"),
            form.text("mllp_peers"),
            form.ticked("new_token"),
        )
        .await
    };
    let render = move |outcome: Outcome<Option<IssuedToken>>| {
        let error = match outcome {
            Outcome::Done(Some(issued)) => {
                // Shown on this answer only: a repeat of the form is told it was sent.
                crate::shell::answer_not_kept();
                let front_office = sent.ticked("front_office");
                return view! { <TokenShownOnce issued front_office/> }.into_any();
            }
            Outcome::Done(None) => {
                go_to("/setup/interfaces");
                return ().into_any();
            }
            Outcome::Refused(error) => Some((sent.text("code").trim().to_owned(), error)),
            Outcome::Opened => None,
        };
        view! { <InterfaceList error sent=sent.clone()/> }.into_any()
    };
    view! {
        <section class="page interface-setup" aria-labelledby="page-title">
            <SetupTabs current="/setup/interfaces"/>
            <h1 id="page-title">{w.title}</h1>
            <p>{w.intro}</p>
            {after_post(act, render)}
        </section>
    }
    .into_any()
}

#[component]
fn TokenShownOnce(issued: IssuedToken, front_office: bool) -> impl IntoView {
    let w = use_words();
    let path = if front_office { "/hl7/adt" } else { "/hl7/oru" };
    view! {
        <div class="warning-panel token-panel" role="status">
            <h2>{w.token_title}" "{issued.code}</h2>
            <p><code class="token">{issued.token}</code></p>
            <p>{w.token_once}</p>
            <p>{w.token_use}" "<code>{path}</code></p>
        </div>
        <p><a class="button" href="/setup/interfaces">{w.back}</a></p>
    }
    .into_any()
}

#[component]
fn InterfaceList(error: Option<(String, AppError)>, sent: PostedForm) -> impl IntoView {
    let w = use_words();
    let interfaces = Resource::new(|| (), |_| super::interfaces_to_set_up());
    view! {
        {crate::shell::loaded(interfaces, move |interfaces: Vec<InterfaceSetting>| {
            // A refused form is drawn again as it was sent: an interface's own, or the new one.
            let refused_existing = error
                .as_ref()
                .is_some_and(|(code, _)| interfaces.iter().any(|i| i.code == *code));
            let new_error = if refused_existing { None } else { error.clone().map(|(_, e)| e) };
            let new_values = if new_error.is_some() { Values::sent(&sent) } else { Values::new() };
            let (front_office, labs): (Vec<_>, Vec<_>) =
                interfaces.into_iter().partition(|i| i.front_office);
            view! {
                <InterfaceGroup title=w.labs members=labs error=error.clone() sent=sent.clone()/>
                <InterfaceGroup title=w.front_office members=front_office error=error.clone() sent=sent.clone()/>
                <h2>{w.add_title}</h2>
                <div class="card"><InterfaceForm existing=false values=new_values error=new_error/></div>
            }
        })}
    }
    .into_any()
}

#[component]
fn InterfaceGroup(
    title: &'static str,
    members: Vec<InterfaceSetting>,
    error: Option<(String, AppError)>,
    sent: PostedForm,
) -> impl IntoView {
    let w = use_words();
    let revoke = <super::RevokeInterface as leptos::server_fn::ServerFn>::PATH;
    view! {
        <h2>{title}</h2>
        {members.is_empty().then(|| view! { <p class="empty">{w.none}</p> })}
        <ul class="room-setup-list">
            {members.into_iter().map(|interface| {
                let error = error.clone().filter(|(code, _)| *code == interface.code).map(|(_, e)| e);
                let values = if error.is_some() { Values::sent(&sent) } else { Values::of(&interface) };
                let http = if interface.has_token { w.http_open } else { w.http_closed };
                let mllp = if interface.mllp_peers.is_empty() {
                    w.mllp_closed.to_owned()
                } else {
                    format!("MLLP : {}", interface.mllp_peers.join(", "))
                };
                view! {
                    <li class="card">
                        <h3>{interface.code.clone()}" · "{interface.name.clone()}</h3>
                        <p class="field-note">{http}" · "{mllp}</p>
                        <InterfaceForm existing=true values error/>
                        <crate::shell::ActionButton action=revoke label=w.revoke class="button secondary" fields=vec![("interface_id", interface.id.to_string())]/>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// What an interface's form holds.
#[derive(Debug, Clone)]
struct Values {
    code: String,
    name: String,
    front_office: bool,
    sending_facility: String,
    mllp_peers: String,
    new_token: bool,
}

impl Values {
    /// A new interface gets its token with it.
    fn new() -> Self {
        Values {
            code: String::new(),
            name: String::new(),
            front_office: false,
            sending_facility: String::new(),
            mllp_peers: String::new(),
            new_token: true,
        }
    }

    fn of(interface: &InterfaceSetting) -> Self {
        Values {
            code: interface.code.clone(),
            name: interface.name.clone(),
            front_office: interface.front_office,
            sending_facility: interface.sending_facility.clone(),
            mllp_peers: interface.mllp_peers.join(" "),
            new_token: false,
        }
    }

    fn sent(form: &PostedForm) -> Self {
        Values {
            code: form.text("code"),
            name: form.text("name"),
            front_office: form.ticked("front_office"),
            sending_facility: form.text("sending_facility"),
            mllp_peers: form.text("mllp_peers"),
            new_token: form.ticked("new_token"),
        }
    }
}

#[component]
fn InterfaceForm(existing: bool, values: Values, error: Option<AppError>) -> impl IntoView {
    let w = use_words();
    view! {
        <form class="stacked-form room-form" method="post" action="/setup/interfaces">
            <SubmissionField/>
            <FormProblems error=error.clone() title=w.problems/>
            {if existing {
                // An interface is named by its code, and stays what it is.
                view! {
                    <input type="hidden" name="code" value=values.code.clone()/>
                    {values.front_office.then(|| view! { <input type="hidden" name="front_office" value="on"/> })}
                }
                .into_any()
            } else {
                view! {
                    <Field label=w.code name="code" value=values.code.clone() required=true max=20 hint=w.code_hint error=error.clone()/>
                    <label class="check">
                        <input type="checkbox" name="front_office" checked=values.front_office/>
                        <span>{w.is_front_office}</span>
                    </label>
                }
                .into_any()
            }}
            <Field label=w.name name="name" value=values.name required=true max=120 error=error.clone()/>
            <Field label=w.sending_facility name="sending_facility" value=values.sending_facility max=180 hint=w.sending_facility_hint error=error.clone()/>
            <Field label=w.peers name="mllp_peers" value=values.mllp_peers max=2000 hint=w.peers_hint error=error.clone()/>
            <label class="check">
                <input type="checkbox" name="new_token" checked=values.new_token/>
                <span>{w.new_token}</span>
            </label>
            <button type="submit" class="button primary">{if existing { w.save } else { w.add }}</button>
        </form>
    }
    .into_any()
}
