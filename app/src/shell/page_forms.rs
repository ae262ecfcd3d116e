//! The forms of a server page that act through a server function. Each posts to the page
//! itself, its `form` field naming the function; the page runs that function with the
//! other fields, decoded exactly as the function decodes a plain form post, then sends the
//! browser on (a 303, with `?done=` naming what was done) or draws the page again with the
//! refused form as it was sent and what is wrong beside each field. Nothing typed is lost,
//! and authorisation, checks, audit and live events stay the server function's own.

use super::{after_post, problem_with, Outcome, PostedForm};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A form's work: its function's answer, as JSON.
type Act =
    Arc<dyn Fn(PostedForm) -> Pin<Box<dyn Future<Output = Result<String, AppError>> + Send>> + Send + Sync>;

/// The server functions a server page's forms may name.
#[derive(Clone, Default)]
pub struct PageForms {
    accepted: Vec<(&'static str, Act)>,
}

impl PageForms {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts the forms that name `S`.
    pub fn accept<S>(mut self) -> Self
    where
        S: ServerFn<Error = AppError> + serde::de::DeserializeOwned + Send + 'static,
        S::Output: serde::Serialize,
    {
        #[cfg(feature = "ssr")]
        let act: Act = Arc::new(|form: PostedForm| Box::pin(run::<S>(form)));
        // A server page is never drawn in the browser: nothing there runs a form.
        #[cfg(not(feature = "ssr"))]
        let act: Act = Arc::new(|_| Box::pin(async { Err(AppError::Malformed) }));
        self.accepted.push((S::PATH, act));
        self
    }

    /// Acts on the form posted to this page, if one was and this page accepts it, then
    /// draws `render` of what became of it.
    pub fn after_post<V: IntoView + 'static>(
        self,
        render: impl Fn(PageOutcome) -> V + Clone + Send + Sync + 'static,
    ) -> impl IntoView {
        let accepted = self.accepted;
        let act = move |form: PostedForm| {
            let which = form.which();
            let act = accepted
                .iter()
                .find(|(path, _)| *path == which)
                .map(|(_, act)| act.clone());
            async move {
                match act {
                    Some(act) => act(form).await.map(|answer| (which, answer)),
                    None => Err(AppError::Malformed),
                }
            }
        };
        after_post(act, move |outcome: Outcome<(String, String)>| {
            render(match outcome {
                Outcome::Opened => PageOutcome::Opened,
                Outcome::Done((which, answer)) => PageOutcome::Done(Done { which, answer }),
                Outcome::Refused(error) => PageOutcome::Refused(Refused {
                    sent: super::posted_form().unwrap_or_default(),
                    error,
                }),
            })
        })
    }
}

impl PageForms {
    /// The usual course of a page: once a form did its work the browser goes back to
    /// `path`, told what was done (a 303 with `?done=`); otherwise `render` draws the
    /// page, with the refused form if one was.
    pub fn back_to<V: IntoView + 'static>(
        self,
        path: impl Into<String>,
        render: impl Fn(Option<Refused>) -> V + Clone + Send + Sync + 'static,
    ) -> impl IntoView {
        let path = path.into();
        self.after_post(move |outcome| match outcome {
            PageOutcome::Done(done) => {
                go_to_done(&path, &done.which);
                ().into_any()
            }
            outcome => render(outcome.refused()).into_any(),
        })
    }
}

/// Runs the server function a form names, with its fields.
#[cfg(feature = "ssr")]
async fn run<S>(form: PostedForm) -> Result<String, AppError>
where
    S: ServerFn<Error = AppError> + serde::de::DeserializeOwned + Send + 'static,
    S::Output: serde::Serialize,
{
    // The function's own access, as the router checks it for a call (the page's was
    // checked already); the function authorises its work itself as well.
    match crate::auth::endpoint_access(S::PATH) {
        None => return Err(AppError::NotFound),
        Some(crate::auth::Access::Needs(capability)) => {
            crate::auth::require(capability).await?;
        }
        Some(_) => {}
    }
    let fields = form.encoded();
    // The same decoding as the server function's own for a plain form post (PostUrl).
    let arguments = serde_qs::Config::new(5, false)
        .deserialize_str::<S>(&fields)
        .map_err(|_| AppError::Malformed)?;
    let answer = arguments.run_body().await?;
    Ok(leptos::serde_json::to_string(&answer).unwrap_or_default())
}

/// What became of a server page's form.
#[derive(Clone)]
pub enum PageOutcome {
    /// The page was opened, not posted to.
    Opened,
    /// A form's server function did its work.
    Done(Done),
    /// Nothing was changed.
    Refused(Refused),
}

impl PageOutcome {
    /// The refusal, if the form was refused.
    pub fn refused(self) -> Option<Refused> {
        match self {
            PageOutcome::Refused(refused) => Some(refused),
            _ => None,
        }
    }
}

/// A form that did its work: its server function's path, and the function's answer.
#[derive(Clone, Debug)]
pub struct Done {
    pub which: String,
    answer: String,
}

impl Done {
    /// The function's answer (such as the id of what it made), if it is a `T`.
    pub fn answer<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        leptos::serde_json::from_str(&self.answer).ok()
    }
}

/// A refused form: what was sent and why.
#[derive(Clone, Debug)]
pub struct Refused {
    pub sent: PostedForm,
    pub error: AppError,
}

impl Refused {
    /// This refusal if it was of the form naming `action` (its server function's path)
    /// whose `key` field was `value` (one form among several alike, such as one per row).
    pub fn of(refused: &Option<Refused>, action: &str, key: Option<(&str, &str)>) -> Option<Refused> {
        refused
            .as_ref()
            .filter(|r| r.sent.which() == action)
            .filter(|r| key.is_none_or(|(field, value)| r.sent.text(field) == value))
            .cloned()
    }

    /// The words for what is wrong with `field`, if anything.
    pub fn problem(&self, field: &str) -> Option<&'static str> {
        problem_with(Some(&self.error), field)
    }
}

/// The value a field shows: as sent when its form was refused, else as stored.
pub fn shown(refused: &Option<Refused>, field: &str, stored: impl Into<String>) -> String {
    match refused {
        Some(refused) => refused.sent.text(field),
        None => stored.into(),
    }
}

/// Whether a checkbox is ticked: as sent when its form was refused, else as stored.
pub fn ticked(refused: &Option<Refused>, field: &str, stored: bool) -> bool {
    match refused {
        Some(refused) => refused.sent.ticked(field),
        None => stored,
    }
}

/// The name a done form goes by in the address (`?done=`): its function's last segment.
fn done_name(action: &str) -> &str {
    action.rsplit('/').next().unwrap_or(action)
}

/// Sends the browser on to `path` after the form naming `action` did its work, saying so.
fn go_to_done(path: &str, action: &str) {
    let separator = if path.contains('?') { '&' } else { '?' };
    super::go_to(&format!("{path}{separator}done={}", done_name(action)));
}

/// A form of a server page that posts to the page and acts through the server function
/// at `action`; a double tap acts once.
#[component]
pub fn PageForm(
    action: &'static str,
    #[prop(optional)] class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <form class=class method="post">
            <super::SubmissionField/>
            <input type="hidden" name="form" value=action/>
            {children()}
        </form>
    }
    .into_any()
}

/// What stopped a form, beside it (the refusal of `refused`), or, when the form naming
/// `action` has just done its work, `done` in the reader's words.
#[component]
pub fn PageFormNote(
    action: &'static str,
    refused: Option<Refused>,
    #[prop(optional)] done: Option<super::Label>,
) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    let query = leptos_router::hooks::use_query_map();
    let just_done = query.read_untracked().get("done").as_deref() == Some(done_name(action));
    match refused {
        Some(refused) => {
            let text = i18n.t().error(&refused.error);
            view! { <p class="form-error" role="alert">{text}</p> }.into_any()
        }
        None => done
            .filter(|_| just_done)
            .map(|done| view! { <p class="form-status" role="status">{done(i18n.t())}</p> })
            .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_belongs_to_its_form_and_row() {
        let refused = Some(Refused {
            sent: PostedForm(vec![
                ("form".into(), "/api/save_lab_test".into()),
                ("id".into(), "4".into()),
                ("name_fr".into(), "Kaliémie".into()),
            ]),
            error: AppError::Malformed,
        });
        assert!(Refused::of(&refused, "/api/save_lab_test", None).is_some());
        assert!(Refused::of(&refused, "/api/save_lab_test", Some(("id", "4"))).is_some());
        assert!(Refused::of(&refused, "/api/save_lab_test", Some(("id", "5"))).is_none());
        assert!(Refused::of(&refused, "/api/pack_shipment", None).is_none());
        let this = Refused::of(&refused, "/api/save_lab_test", None);
        assert_eq!(shown(&this, "name_fr", "Glycémie"), "Kaliémie");
        assert_eq!(shown(&None, "name_fr", "Glycémie"), "Glycémie");
        assert!(!ticked(&this, "active", true));
    }

    #[test]
    fn a_done_form_is_named_by_its_function() {
        assert_eq!(done_name("/api/update_account"), "update_account");
    }
}
