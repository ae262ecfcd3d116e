use super::use_live;
use crate::i18n::use_i18n;
use crate::shell::use_session;
use leptos::prelude::*;

/// The state of this screen's live link, on every screen of a signed-in person: live,
/// reconnecting or offline, with the time it last heard from the server. The state is
/// announced to screen readers when it changes; the time is not.
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let session = use_session();
    let shown = move || session.user().is_some_and(|user| !user.locked);
    let updated = move || {
        live.last_update
            .get()
            .map(|ms| (i18n.t().live_updated_at)(&clock_time(ms, i18n.locale().tag())))
    };
    view! {
        <Show when=shown>
            <p class="live-indicator" data-link=move || live.link.get().code()>
                <span class="live-dot" aria-hidden="true"></span>
                <span class="live-state" role="status">
                    {move || (i18n.t().link_state)(live.link.get())}
                </span>
                <span class="live-updated">{updated}</span>
            </p>
        </Show>
    }
}

/// `14:05:09`, in the browser's time zone (the tablet's, the clinic's).
fn clock_time(ms: f64, locale: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let options = js_sys::Object::new();
        for (key, value) in [("hour", "2-digit"), ("minute", "2-digit"), ("second", "2-digit")] {
            let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
        }
        js_sys::Date::new(&ms.into())
            .to_locale_time_string_with_options(locale, &options)
            .into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ms, locale);
        String::new()
    }
}
