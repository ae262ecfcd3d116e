//! Server pages: screens the server renders as complete HTML with plain forms, and which
//! load no WebAssembly at all (ARCHITECTURE.md, "How a screen is built").
//!
//! A server page is a route of the one route table, so it shares the shell, the guard,
//! the words and the widgets of every page; the document the server sends for it simply
//! carries no hydration script. Its forms post to the page's own address: the server
//! reads the fields ([`PostedForm`]), the page acts while it renders, then either sends
//! the browser on (a redirect, so a reload does not post again) or shows the same form
//! again with what was typed and what is wrong, so nothing typed is lost.
//!
//! Links to a server page from a hydrated page carry `rel="external"` (the client router
//! would otherwise draw it in the browser, and its code is not in the client); should one
//! be followed in the browser anyway, the page loads from the server.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The route patterns of the server pages (`:name` for a parameter).
pub const SERVER_PAGES: &[&str] = &[
    "/desk",
    "/desk/register",
    "/patients/:id",
    "/patients/:id/edit",
    "/waiting-room",
    "/follow-ups",
    "/setup/facility",
    "/setup/rooms",
    "/setup/equipment",
    "/setup/interfaces",
    "/admin/accounts",
    "/admin/accounts/new",
    "/admin/accounts/:id",
    "/admin/audit",
    "/admin/catalog",
    "/admin/lab-tests",
    "/break-glass",
    "/supervision",
    "/lab/send-outs",
    "/lab/turnaround",
    "/lab/labels/:accession",
];

/// The set-up pages, in the order an administrator walks them on the first day.
const SETUP_PAGES: [(&str, &str, &str); 4] = [
    ("/setup/facility", "Établissement", "Clinic"),
    ("/setup/rooms", "Salles", "Rooms"),
    ("/setup/equipment", "Équipement", "Equipment"),
    (
        "/setup/interfaces",
        "Laboratoires et accueil",
        "Labs and front office",
    ),
];

/// The set-up pages' own navigation, at the top of each, `current` marked.
#[component]
pub fn SetupTabs(current: &'static str) -> impl IntoView {
    let locale = crate::i18n::use_i18n().locale();
    let label = match locale {
        crate::i18n::Locale::Fr => "Paramétrage",
        crate::i18n::Locale::En => "Set-up",
    };
    view! {
        <nav class="setup-tabs" aria-label=label>
            {SETUP_PAGES.iter().map(|(href, fr, en)| {
                let text = match locale {
                    crate::i18n::Locale::Fr => *fr,
                    crate::i18n::Locale::En => *en,
                };
                view! { <a href=*href aria-current=(*href == current).then_some("page")>{text}</a> }
            }).collect_view()}
        </nav>
    }
    .into_any()
}

/// Whether the page at `path` is a server page.
pub fn is_server_page(path: &str) -> bool {
    SERVER_PAGES
        .iter()
        .any(|pattern| crate::auth::route_matches(pattern, path))
}

/// The same patterns in axum's syntax (`{name}`), for the server's POST routes.
pub fn axum_route(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|part| match part.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The fields of a form posted to a server page, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostedForm(pub Vec<(String, String)>);

impl PostedForm {
    /// A field's value, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    /// Every value sent under `name` (checkboxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(field, _)| field == name)
    }

    /// Which of a page's forms was sent (its `form` field).
    pub fn which(&self) -> String {
        self.text("form")
    }

    /// The fields encoded as the browser sent them (`application/x-www-form-urlencoded`).
    #[cfg(feature = "ssr")]
    pub fn encoded(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.0)
            .finish()
    }
}

/// The form posted to this page, if it was posted to (server only; the server's POST
/// route puts it on the request).
pub fn posted_form() -> Option<PostedForm> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()?
            .extensions
            .get::<PostedForm>()
            .cloned()
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// Sends the browser on to `path` once this page's form has done its work (303: the
/// next page is fetched with a GET, and reloading it posts nothing again).
pub fn go_to(path: &str) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::SEE_OTHER);
        if let Ok(location) = http::HeaderValue::from_str(path) {
            response.insert_header(http::header::LOCATION, location);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = path;
}

/// The header a page's answer carries when it must not be kept for a repeat of its form
/// (it shows a secret once, such as a new interface token); the server removes it, and a
/// repeat is told the form was sent.
pub const ANSWER_NOT_KEPT: &str = "x-plateau-answer-not-kept";

/// Marks this page's answer as one not to keep (see [`ANSWER_NOT_KEPT`]).
pub fn answer_not_kept() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::HeaderName::from_static(ANSWER_NOT_KEPT),
            http::HeaderValue::from_static("1"),
        );
    }
}

/// What a server page is in the browser's client: nothing of its own. Reached by the
/// client router (a link without `rel="external"`), it asks the server for the page.
#[component]
pub fn LoadFromServer() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let _ = window().location().reload();
    });
    view! { <super::Loading/> }
}

/// What became of a server page's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome<T> {
    /// The page was opened, not posted to.
    Opened,
    /// The form did its work.
    Done(T),
    /// Nothing was changed, for this reason; the form is shown again as it was sent.
    Refused(AppError),
}

/// What became of the form posted to this page. `act` runs once, on the server, while
/// the page renders; the page then draws `render` of the outcome.
pub fn after_post<T, Fut, V>(
    act: impl Fn(PostedForm) -> Fut + Send + Sync + 'static,
    render: impl Fn(Outcome<T>) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
    V: IntoView + 'static,
{
    let posted = posted_form();
    // The form's submission key is claimed by the work it does, which runs in a task of
    // its own: it goes along.
    #[cfg(feature = "ssr")]
    let carried = use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<crate::store::submission::Carried>()
            .cloned()
    });
    let act = std::sync::Arc::new(act);
    let outcome = Resource::new(
        || (),
        move |_| {
            let posted = posted.clone();
            let act = act.clone();
            #[cfg(feature = "ssr")]
            let carried = carried.clone();
            async move {
                let Some(form) = posted else {
                    return Outcome::Opened;
                };
                let work = act(form);
                #[cfg(feature = "ssr")]
                let done = match carried {
                    Some(carried) => carried.0.run(work).await,
                    None => work.await,
                };
                #[cfg(not(feature = "ssr"))]
                let done = work.await;
                match done {
                    Ok(done) => Outcome::Done(done),
                    Err(error) => Outcome::Refused(error),
                }
            }
        },
    );
    view! {
        <Suspense fallback=super::Loading>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    let outcome = outcome.await;
                    // A refused form is drawn again with the refusal's status.
                    if let Outcome::Refused(error) = &outcome {
                        crate::error::set_response_status(error);
                    }
                    render(outcome)
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// The words for what is wrong with `field` in `error`, if anything.
pub fn problem_with(error: Option<&AppError>, field: &str) -> Option<&'static str> {
    let AppError::Invalid(fields) = error? else {
        return None;
    };
    let t = crate::i18n::use_i18n().t();
    fields
        .iter()
        .find(|f| f.field == field)
        .map(|f| t.problem(f.problem))
}

/// A labelled input of a server page's form, with what is wrong with it underneath.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(into)] value: String,
    /// The input's type; text by default.
    #[prop(optional)]
    kind: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    /// The longest value accepted, in characters.
    #[prop(optional)]
    max: Option<usize>,
    /// Suggestions offered as one types (a `datalist` of this page).
    #[prop(optional)]
    list: Option<&'static str>,
    #[prop(optional_no_strip)] error: Option<AppError>,
) -> impl IntoView {
    let problem = problem_with(error.as_ref(), name);
    let described = (hint.is_some() || problem.is_some()).then(|| format!("{name}-note"));
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type=kind.unwrap_or("text")
                name=name
                value=value
                required=required
                maxlength=max.map(|m| m.to_string())
                list=list
                aria-invalid=problem.map(|_| "true")
                aria-describedby=described.clone()
            />
            {(hint.is_some() || problem.is_some()).then(|| view! {
                <span id=described class="field-note">
                    {problem.map(|p| view! { <strong class="field-problem">{p}</strong>" "})}
                    {hint}
                </span>
            })}
        </label>
    }
    .into_any()
}

/// What stopped a server page's form, at its top: every field's problem, or the refusal.
#[component]
pub fn FormProblems(error: Option<AppError>, title: &'static str) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    error.map(|error| {
        let text = i18n.t().error(&error);
        view! {
            <div class="form-error" role="alert">
                <strong>{title}</strong>
                <p>{text}</p>
            </div>
        }
    })
}

/// A one-button form that posts to a server function (without JavaScript; the server
/// sends the browser back to this page, with the error in the address if it failed).
#[component]
pub fn ActionButton(
    action: &'static str,
    label: &'static str,
    fields: Vec<(&'static str, String)>,
    #[prop(optional)] class: Option<&'static str>,
) -> impl IntoView {
    view! {
        <form class="inline-form" method="post" action=action>
            <super::SubmissionField/>
            {fields
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
                .collect_view()}
            <button type="submit" class=class.unwrap_or("button")>{label}</button>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_pages_are_recognised_with_their_parameters() {
        assert!(is_server_page("/desk"));
        assert!(is_server_page("/patients/12"));
        assert!(is_server_page("/patients/12/edit"));
        assert!(!is_server_page("/patients"));
        assert!(!is_server_page("/rooms/3"));
        assert!(!is_server_page("/"));
    }

    #[test]
    fn axum_routes_name_their_parameters_in_braces() {
        assert_eq!(axum_route("/patients/:id/edit"), "/patients/{id}/edit");
        assert_eq!(axum_route("/desk"), "/desk");
    }

    #[test]
    fn a_posted_form_reads_fields_checkboxes_and_absent_fields() {
        let form = PostedForm(vec![
            ("form".into(), "check_in".into()),
            ("care_team".into(), "3".into()),
            ("care_team".into(), "5".into()),
            ("interpreter_needed".into(), "on".into()),
        ]);
        assert_eq!(form.which(), "check_in");
        assert_eq!(form.all("care_team"), ["3", "5"]);
        assert!(form.ticked("interpreter_needed"));
        assert_eq!(form.text("reason"), "");
    }

    /// Every server page is a page of the policy, or nobody could open it.
    #[test]
    fn every_server_page_has_its_access() {
        for pattern in SERVER_PAGES {
            let example = pattern
                .split('/')
                .map(|part| if part.starts_with(':') { "1" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            assert!(crate::auth::page_access(&example).is_some(), "{pattern}");
        }
    }
}
