//! The frame every screen sits in: document shell, top bar, navigation, language switch,
//! and the shared loading, error and not-found views.

use crate::board::BoardPage;
use crate::error::AppError;
use crate::i18n::{provide_i18n, use_i18n, Locale, SetLanguage};
use crate::rooms::{RoomPage, RoomsPage};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

/// The HTML document the server sends; the client hydrates `App` inside it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The language to start in: on the server, the request's; in the browser, the page's.
fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    let locale = crate::i18n::request_locale();
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    let locale = crate::i18n::document_locale();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let locale = Locale::default();
    locale
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let i18n = provide_i18n(initial_locale());
    view! {
        <Html {..} lang=move || i18n.locale().tag() dir="ltr"/>
        <Stylesheet id="leptos" href="/pkg/plateau.css"/>
        <Meta name="color-scheme" content="light"/>
        <Meta name="description" content=move || i18n.t().tagline/>
        <Title text=move || i18n.t().app_name/>
        <Router>
            <a class="skip-link" href="#main">{move || i18n.t().skip_to_content}</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-name">{move || i18n.t().app_name}</span>
                    <span class="brand-tagline">{move || i18n.t().tagline}</span>
                </a>
                <Navigation/>
                <LanguageSwitch/>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    // Async: the server waits for the data, so every page is complete HTML
                    // that works without JavaScript and gets its real status code.
                    <Route path=path!("/") view=RoomsPage ssr=SsrMode::Async/>
                    <Route path=path!("/rooms/:id") view=RoomPage ssr=SsrMode::Async/>
                    <Route path=path!("/board") view=BoardPage ssr=SsrMode::Async/>
                    <Route path=path!("/lab") view=LabPage ssr=SsrMode::Async/>
                    <Route path=path!("/escort") view=EscortPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The surfaces of Plateau, as large touch targets. `A` marks the current one with
/// `aria-current="page"`.
#[component]
fn Navigation() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <nav class="main-nav" aria-label=move || i18n.t().main_navigation>
            <A href="/" exact=true>{move || i18n.t().nav_rooms}</A>
            <A href="/board">{move || i18n.t().nav_board}</A>
            <A href="/lab">{move || i18n.t().nav_lab}</A>
            <A href="/escort">{move || i18n.t().nav_escort}</A>
        </nav>
    }
}

/// Switches the interface language and remembers the choice. Without JavaScript the
/// browser posts the form to the server function, which sends it back to the same page.
/// With JavaScript the choice is sent directly and applied in place: this avoids
/// `ActionForm`, whose form decoding would add tens of kilobytes to the client.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let set_language = ServerAction::<SetLanguage>::new();
    Effect::new(move |_| {
        if let Some(Ok(locale)) = set_language.value().get() {
            i18n.set(locale);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if let Some(lang) = ev.submitter().and_then(|button| button.get_attribute("value")) {
            ev.prevent_default();
            set_language.dispatch(SetLanguage { lang });
        }
    };
    let action = <SetLanguage as leptos::server_fn::ServerFn>::PATH;
    view! {
        <form class="language-switch" method="post" action=action on:submit=on_submit>
            <fieldset>
                <legend class="visually-hidden">{move || i18n.t().language}</legend>
                {Locale::ALL
                    .into_iter()
                    .map(|locale| {
                        view! {
                            <button
                                type="submit"
                                name="lang"
                                value=locale.tag()
                                lang=locale.tag()
                                aria-pressed=move || (i18n.locale() == locale).to_string()
                            >
                                {locale.native_name()}
                            </button>
                        }
                    })
                    .collect_view()}
            </fieldset>
        </form>
    }
}

/// Shows what a resource loaded, with the loading text while it first loads (the
/// previous content stays while it reloads) and the error panel if it failed.
pub fn loaded<T, V>(
    resource: Resource<Result<T, AppError>>,
    render: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=Loading>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || {
                    let render = render.clone();
                    Suspend::new(async move { resource.await.map(render) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="loading" role="status">
            {move || i18n.t().loading}
        </p>
    }
}

/// Errors caught by an `ErrorBoundary`, in the reader's language. Only [`AppError`]s
/// carry a message meant for people; anything else shows the generic one.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let i18n = use_i18n();
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| match error.downcast_ref::<AppError>() {
                Some(error) => i18n.t().error(error),
                None => i18n.t().error_internal.to_owned(),
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="error-panel" role="alert">
            <h2>{move || i18n.t().error_title}</h2>
            <ul>{move || messages().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
        </div>
    }
}

/// The translated 404 page; on the server it also sets the status.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <section class="page not-found" aria-labelledby="not-found-title">
            <h1 id="not-found-title">{move || i18n.t().not_found_title}</h1>
            <p>{move || i18n.t().not_found_body}</p>
            <p>
                <a class="button" href="/">{move || i18n.t().go_to_rooms}</a>
            </p>
        </section>
    }
}

/// A surface that a later version of Plateau fills in; says so plainly.
#[component]
fn NotYetAvailable(title: fn(&crate::i18n::Messages) -> &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">{move || title(i18n.t())}</h1>
            <p class="empty">{move || i18n.t().not_yet_available}</p>
        </section>
    }
}

#[component]
fn LabPage() -> impl IntoView {
    view! { <NotYetAvailable title=|t| t.lab_title/> }
}

#[component]
fn EscortPage() -> impl IntoView {
    view! { <NotYetAvailable title=|t| t.escort_title/> }
}
