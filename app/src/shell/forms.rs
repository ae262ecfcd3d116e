//! Forms that work with and without JavaScript, without `ActionForm`.
//!
//! Each form posts to its server function's URL, so without JavaScript the browser sends
//! it as a plain form. With JavaScript, `on:submit` reads the fields and dispatches the
//! server action instead; this keeps the client small (ActionForm's form decoding costs
//! tens of kilobytes of WebAssembly).

use crate::error::AppError;
use crate::i18n::use_i18n;
use leptos::either::Either;
use leptos::prelude::*;

/// The fields of a submitted form, read in the browser. Empty during server rendering.
pub struct FormFields {
    #[cfg(feature = "hydrate")]
    data: Option<web_sys::FormData>,
    #[cfg(feature = "hydrate")]
    form: Option<web_sys::HtmlFormElement>,
}

impl FormFields {
    pub fn of(ev: &leptos::ev::SubmitEvent) -> Self {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let form = ev
                .target()
                .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok());
            let data = form
                .as_ref()
                .and_then(|form| web_sys::FormData::new_with_form(form).ok());
            FormFields { data, form }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = ev;
            FormFields {}
        }
    }

    /// A text field's value, empty when absent.
    pub fn text(&self, name: &str) -> String {
        #[cfg(feature = "hydrate")]
        {
            self.data
                .as_ref()
                .and_then(|data| data.get(name).as_string())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = name;
            String::new()
        }
    }

    /// The values of checkboxes named `name[0]`, `name[1]`... (the indexed form a plain
    /// form post also decodes), for indices below `count`.
    pub fn indexed(&self, name: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| self.text(&format!("{name}[{i}]")))
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// Handles a form's submit with JavaScript: builds the server function's arguments from
/// the fields and dispatches it; the browser's own post is cancelled.
///
/// The form acts once however often it is sent: it carries one submission key, the same
/// for a double tap or a retry after a network failure, and a new one once the server
/// has answered. A form marked `data-reset="on-success"` is emptied once it succeeded,
/// so a second tap sends nothing chosen rather than the same order again.
pub fn submit_with<S>(
    action: ServerAction<S>,
    build: impl Fn(&FormFields) -> S + 'static,
) -> impl Fn(leptos::ev::SubmitEvent) + 'static
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let key = StoredValue::new(super::new_submission_key());
    #[cfg(feature = "hydrate")]
    let sent_from = StoredValue::new_local(None::<web_sys::HtmlFormElement>);
    Effect::new(move |_| {
        let answered = action.value().with(|value| match value {
            None | Some(Err(AppError::Network(_))) => None,
            Some(result) => Some(result.is_ok()),
        });
        if let Some(succeeded) = answered {
            key.set_value(super::new_submission_key());
            #[cfg(feature = "hydrate")]
            if let Some(form) = sent_from.get_value().filter(|_| succeeded) {
                if form.get_attribute("data-reset").as_deref() == Some("on-success") {
                    form.reset();
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = succeeded;
        }
    });
    move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let fields = FormFields::of(&ev);
        #[cfg(feature = "hydrate")]
        sent_from.set_value(fields.form.clone());
        super::send_key_with(S::PATH, key.get_value());
        action.dispatch(build(&fields));
    }
}

/// The submission key of a form a browser without JavaScript posts: sent twice (a double
/// click), the form acts once. With JavaScript the form's own key is sent instead.
#[component]
pub fn SubmissionField() -> impl IntoView {
    let key = super::new_submission_key();
    view! { <input type="hidden" name="submission" value=key/> }
}

/// The URL a form posts to: its server function's.
pub fn action_url<S: leptos::server_fn::ServerFn>() -> &'static str {
    S::PATH
}

/// The outcome of a form's last submission: working, the error in the reader's words,
/// or `done` once it succeeded.
#[component]
pub fn ActionFeedback<S>(
    action: ServerAction<S>,
    #[prop(optional)] done: Option<super::Label>,
) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let i18n = use_i18n();
    let shown_above = use_context::<super::FailedFormPost>().and_then(|failed| failed.0);
    move || {
        if action.pending().get() {
            return Some(Either::Left(
                view! { <p class="form-status" role="status">{i18n.t().working}</p> },
            ));
        }
        let message = match action.value().get()? {
            // Restored from the address after a plain form post: anyone may have written
            // it, so it says only what the banner at the top says, and is not repeated.
            Err(error) if action.version().get() == 0 => {
                let error = super::error_from_address(error);
                if shown_above.as_ref() == Some(&error) {
                    return None;
                }
                (i18n.t().error(&error), "form-error", "alert")
            }
            Err(error) => (i18n.t().error(&error), "form-error", "alert"),
            Ok(_) => (done?(i18n.t()).to_owned(), "form-status", "status"),
        };
        let (text, class, role) = message;
        Some(Either::Right(view! { <p class=class role=role>{text}</p> }))
    }
}

/// Where the print buttons' script is served (by the server, beside `/pkg`).
pub const PRINT_SCRIPT_PATH: &str = "/print.js";

/// What gives the print buttons their click. The pages that print (labels, manifests) are
/// server pages and carry no WebAssembly, and the Content-Security-Policy runs no inline
/// `onclick`: this script of the site's own does it, once however many buttons there are.
pub const PRINT_SCRIPT: &str = "if(!window.plateauPrint){window.plateauPrint=1;document.addEventListener('click',function(e){if(e.target.closest('[data-print]'))window.print();});}\n";

/// Opens the browser's print dialog (see [`PRINT_SCRIPT`]); without scripts, the
/// browser's own print command does the same.
#[component]
pub fn PrintButton(label: super::Label, #[prop(optional)] secondary: bool) -> impl IntoView {
    let i18n = use_i18n();
    let class = if secondary { "button secondary" } else { "button" };
    view! {
        <button type="button" class=class data-print="">{move || label(i18n.t())}</button>
        <script src=PRINT_SCRIPT_PATH defer></script>
    }
}

/// Sends the browser to `path` with a full page load: after signing in or out, every
/// piece of state starts afresh.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
