//! The frame every screen sits in: document shell, top bar, navigation, language switch,
//! and the shared loading, error and not-found views.

use crate::auth::{
    page_access, Access, AccountPage, CurrentUser, IdleLock, LockScreen, SignInPage, UserMenu, UserMenuItems,
};
use crate::board::BoardPage;
use crate::error::AppError;
use crate::i18n::{provide_i18n, use_i18n, Locale, SetLanguage};
use crate::live::LiveIndicator;
use crate::rooms::{RoomPage, RoomsPage};
use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, Meta, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

mod forms;
mod page_forms;
mod server_page;
mod submission;
mod ticking;

pub use forms::*;
pub use page_forms::*;
pub use server_page::*;
pub use submission::*;
pub use ticking::*;

/// The HTML document the server sends; the client hydrates `App` inside it, except on a
/// server page, which loads no WebAssembly at all.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    // The stylesheet is named by its content in a release build (cargo-leptos
    // `hash-files`), so a browser keeps it until it changes.
    let stylesheet = view! { <HashedStylesheet options=options.clone() id="leptos"/> };
    let scripts = (!on_server_page()).then(|| {
        view! {
            <AutoReload options=options.clone()/>
            <HydrationScripts options/>
        }
    });
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {stylesheet}
                {scripts}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Whether this request is for a server page (always false in the browser, which only
/// ever hydrates the other pages).
fn on_server_page() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_some_and(|parts| is_server_page(parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    false
}

/// The page's Content-Security-Policy: scripts only from this site or carrying this
/// response's nonce (Leptos puts it on its hydration and data scripts), WebAssembly
/// allowed to compile, no framing, no plugins, forms only to this site.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let nonce = leptos::nonce::use_nonce()
        .map(|n| n.to_string())
        .unwrap_or_default();
    let policy = content_security_policy(&nonce);
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&policy),
    ) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The policy for a page whose inline scripts carry `nonce`; with an empty nonce, no
/// inline script runs at all.
pub fn content_security_policy(nonce: &str) -> String {
    let scripts = if nonce.is_empty() {
        "script-src 'self' 'wasm-unsafe-eval'".to_owned()
    } else {
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")
    };
    format!(
        "default-src 'self'; {scripts}; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
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

/// A server page's route: the page, guarded, on the server; in the browser's client,
/// only a request for it (its code is not in the client at all).
macro_rules! server_page {
    ($page:path) => {{
        #[cfg(feature = "ssr")]
        let page = guard($page);
        #[cfg(not(feature = "ssr"))]
        let page = view! { <LoadFromServer/> };
        page
    }};
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let i18n = provide_i18n(initial_locale());
    // Who is signed in decides what every part of the page shows. The server knows it
    // from the request and writes it into the page; the browser reads it back while
    // hydrating, so no screen waits for it.
    let user = SharedValue::new(signed_in_user).into_inner();
    let session = Session(RwSignal::new(user));
    provide_context(session);
    // A form posted without JavaScript that failed comes back here with its error in the
    // address; the server reads it and the page says what went wrong.
    let form_error = SharedValue::new(failed_form_post).into_inner();
    provide_context(FailedFormPost(form_error.clone()));
    // The document's language and title are plain values: Leptos writes the <head> at
    // the end of the streamed page, where reading a signal can find its arena gone
    // (leptos-rs/leptos#3729). In the browser, a language switch updates them here.
    let (locale, messages) = untrack(|| (i18n.locale(), i18n.t()));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let document = document();
        document.set_title(i18n.t().app_name);
        if let Some(html) = document.document_element() {
            let _ = html.set_attribute("lang", i18n.locale().tag());
        }
    });
    // Where this page stands in the event log, read before any of its data: the live
    // link starts there, so no change made while the page loaded goes unseen.
    crate::live::provide_live(SharedValue::new(crate::live::page_position).into_inner());
    view! {
        <Html {..} lang=locale.tag() dir="ltr"/>
        <Meta name="color-scheme" content="light"/>
        <Meta name="description" content=messages.tagline/>
        <Title text=messages.app_name/>
        <Router>
            <a class="skip-link" href="#main">{move || i18n.t().skip_to_content}</a>
            // One line: the surfaces, the live link, who is signed in with the lock; the
            // rest (account, language, sign-out) in a menu, so the page keeps the screen.
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-name">{move || i18n.t().app_name}</span>
                </a>
                <Navigation/>
                <LiveIndicator/>
                <UserMenu/>
                <details class="more-menu">
                    <summary class="button secondary">{move || i18n.t().menu}</summary>
                    <div class="more-menu-panel">
                        <UserMenuItems/>
                        <LanguageSwitch/>
                    </div>
                </details>
            </header>
            <crate::lab::CriticalBanner/>
            <main id="main" tabindex="-1">
                {form_error.map(|error| {
                    view! { <p class="form-error" role="alert">{move || i18n.t().error(&error)}</p> }
                })}
                <Routes fallback=NotFound>
                    // Async: the server waits for the data, so every page is complete HTML
                    // that works without JavaScript and gets its real status code.
                    <Route path=path!("/") view=|| guard(RoomsPage) ssr=SsrMode::Async/>
                    <Route path=path!("/rooms/:id") view=|| guard(RoomPage) ssr=SsrMode::Async/>
                    <Route path=path!("/board") view=|| guard(BoardPage) ssr=SsrMode::Async/>
                    <Route path=path!("/lab") view=|| guard(crate::lab::LabPage) ssr=SsrMode::Async/>
                    <Route path=path!("/lab/specimen") view=|| guard(crate::lab::SpecimenPage) ssr=SsrMode::Async/>
                    <Route path=path!("/lab/send-outs") view=|| server_page!(crate::lab::SendOutsPage) ssr=SsrMode::Async/>
                    <Route path=path!("/lab/turnaround") view=|| server_page!(crate::lab::TurnaroundPage) ssr=SsrMode::Async/>
                    <Route path=path!("/lab/labels/:accession") view=|| server_page!(crate::lab::LabelPage) ssr=SsrMode::Async/>
                    <Route path=path!("/escort") view=|| guard(EscortPage) ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=|| guard(SignInPage) ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=|| guard(account_page) ssr=SsrMode::Async/>
                    <Route path=path!("/admin/accounts") view=|| server_page!(crate::accounts::AccountsPage) ssr=SsrMode::Async/>
                    <Route path=path!("/admin/accounts/new") view=|| server_page!(crate::accounts::NewAccountPage) ssr=SsrMode::Async/>
                    <Route path=path!("/admin/accounts/:id") view=|| server_page!(crate::accounts::AccountEditPage) ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=|| server_page!(crate::audit::AuditPage) ssr=SsrMode::Async/>
                    <Route path=path!("/break-glass") view=|| server_page!(crate::care::BreakGlassLogPage) ssr=SsrMode::Async/>
                    <Route path=path!("/procedures/:id") view=|| guard(crate::procedures::ProcedurePage) ssr=SsrMode::Async/>
                    <Route path=path!("/supervision") view=|| server_page!(supervision_page) ssr=SsrMode::Async/>
                    <Route path=path!("/admin/catalog") view=|| server_page!(crate::procedures::CatalogPage) ssr=SsrMode::Async/>
                    <Route path=path!("/admin/lab-tests") view=|| server_page!(crate::lab::LabCatalogPage) ssr=SsrMode::Async/>
                    // Server pages: drawn by the server only, and loading no WebAssembly.
                    <Route path=path!("/desk") view=|| server_page!(crate::patients::DeskPage) ssr=SsrMode::Async/>
                    <Route path=path!("/desk/register") view=|| server_page!(crate::patients::RegisterPatientPage) ssr=SsrMode::Async/>
                    <Route path=path!("/patients/:id") view=|| server_page!(crate::visits::PatientPage) ssr=SsrMode::Async/>
                    <Route path=path!("/patients/:id/edit") view=|| server_page!(crate::patients::EditPatientPage) ssr=SsrMode::Async/>
                    <Route path=path!("/waiting-room") view=|| server_page!(crate::board::WaitingRoomPage) ssr=SsrMode::Async/>
                    <Route path=path!("/follow-ups") view=|| server_page!(crate::visits::FollowUpsPage) ssr=SsrMode::Async/>
                    <Route path=path!("/setup/facility") view=|| server_page!(crate::clinic::FacilitySetupPage) ssr=SsrMode::Async/>
                    <Route path=path!("/setup/rooms") view=|| server_page!(crate::rooms::RoomSetupPage) ssr=SsrMode::Async/>
                    <Route path=path!("/setup/equipment") view=|| server_page!(crate::equipment::EquipmentSetupPage) ssr=SsrMode::Async/>
                    <Route path=path!("/setup/interfaces") view=|| server_page!(crate::interfaces::InterfaceSetupPage) ssr=SsrMode::Async/>
                </Routes>
            </main>
            <IdleLock/>
            <AfterNavigation/>
        </Router>
    }
}

/// After moving to another page in the browser: focus goes to the new page's content (a
/// screen reader starts there, a keyboard continues from there) and the top bar's menu
/// closes. Nothing happens on the first page, or during server rendering.
#[component]
fn AfterNavigation() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let location = leptos_router::hooks::use_location();
        Effect::new(move |previous: Option<String>| {
            let path = location.pathname.get();
            if previous.is_some_and(|previous| previous != path) {
                let document = document();
                if let Some(main) = document
                    .get_element_by_id("main")
                    .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = main.focus();
                }
                if let Ok(Some(menu)) = document.query_selector(".more-menu[open]") {
                    let _ = menu.remove_attribute("open");
                }
            }
            path
        });
    }
}

/// The person signed in on this request, as the server knows it.
fn signed_in_user() -> Option<CurrentUser> {
    #[cfg(feature = "ssr")]
    let user = crate::auth::signed_in_user();
    #[cfg(not(feature = "ssr"))]
    let user = None;
    user
}

/// The error of a form posted without JavaScript, which the server function sent back
/// to the form's page in the `__err` parameter (base64 of the JSON error). Anyone can
/// write that parameter into a link: what is not base64 of JSON is ignored, and the rest
/// goes through [`error_from_address`].
fn failed_form_post() -> Option<AppError> {
    #[cfg(feature = "ssr")]
    {
        use base64::Engine;
        let parts = use_context::<http::request::Parts>()?;
        let encoded = parts
            .uri
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("__err="))?;
        let encoded = percent_decode(encoded);
        let encoded = encoded.trim_end_matches('=');
        // server_fn writes the URL-safe alphabet; the standard one is read too.
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
            .ok()?;
        let error: AppError = serde_json::from_slice(&json).ok()?;
        Some(error_from_address(error))
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// What an error that came back in the address may say. The address is anyone's to
/// write (a crafted link), so only the app's own errors are shown as they are: fields its
/// forms have, its refusals, a pause it can give. Anything else (a field name no form
/// has, a network error the server never sends, a pause of a year) is shown as "something
/// went wrong", never in the link's words.
pub fn error_from_address(error: AppError) -> AppError {
    let plausible = match &error {
        AppError::Invalid(fields) => {
            !fields.is_empty()
                && fields.len() <= 32
                && fields.iter().all(|f| crate::i18n::known_field(&f.field))
        }
        AppError::TooManyAttempts { minutes } => (1..=60).contains(minutes),
        AppError::Network(_) => false,
        _ => true,
    };
    if plausible {
        error
    } else {
        AppError::Internal
    }
}

/// `%2B` to `+` and so on; anything malformed is kept as it is.
#[cfg(feature = "ssr")]
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The error of the plain form post this page came back from, shown once at the top of
/// the page; the form's own feedback does not repeat it.
#[derive(Clone)]
pub struct FailedFormPost(pub Option<AppError>);

/// The person using this browser, shared with every screen.
#[derive(Clone, Copy)]
pub struct Session(RwSignal<Option<CurrentUser>>);

impl Session {
    /// The signed-in person; reactive.
    pub fn user(&self) -> Option<CurrentUser> {
        self.0.get()
    }

    /// The signed-in person, without tracking (browser timers).
    pub fn user_now(&self) -> Option<CurrentUser> {
        self.0.get_untracked()
    }

    pub fn set_locked(&self, locked: bool) {
        self.0.update(|user| {
            if let Some(user) = user {
                user.locked = locked;
            }
        });
    }
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session(RwSignal::new(None)))
}

/// Whether `user` may open the page at `path`.
pub fn may_open(user: Option<&CurrentUser>, path: &str) -> bool {
    match (page_access(path), user) {
        (Some(Access::Public), _) => true,
        (_, None) => false,
        (Some(Access::SignedIn | Access::SignedInEvenLocked), Some(user)) => !user.wall_board,
        (Some(Access::Needs(capability)), Some(user)) => user.can(capability),
        (None, _) => false,
    }
}

/// What a page shows for the person using this browser.
#[derive(Clone, PartialEq)]
enum PageAccess {
    Open,
    Locked,
    SignIn,
    Refused,
}

/// Renders `page` only for someone the policy lets open this address; a locked screen
/// shows the lock screen instead (the page is not in the document at all), others get
/// the sign-in form or a refusal. The server refuses their data calls regardless.
/// The supervisors' page, and the roles waiting for them as the second person (accounts
/// sit above staff, so the shell puts the two together).
#[cfg(feature = "ssr")]
fn supervision_page() -> impl IntoView {
    view! {
        <crate::supervision::SupervisionPage/>
        <div class="page"><crate::accounts::RoleGrantsToDecide/></div>
    }
}

/// One's own account, and one's own shift (staff sits above accounts and sign-in, so the
/// shell puts the two together).
fn account_page() -> impl IntoView {
    view! {
        <AccountPage/>
        <div class="page"><crate::staff::MyPresence/></div>
    }
}

fn guard<V: IntoView + 'static>(page: fn() -> V) -> impl IntoView {
    let path = leptos_router::hooks::use_location().pathname.get_untracked();
    let session = use_session();
    let access = Memo::new(move |_| {
        let user = session.user();
        match user {
            Some(user) if user.locked && page_access(&path) != Some(Access::Public) => PageAccess::Locked,
            user if may_open(user.as_ref(), &path) => PageAccess::Open,
            None => PageAccess::SignIn,
            Some(_) => PageAccess::Refused,
        }
    });
    move || match access.get() {
        PageAccess::Open => EitherOf4::A(page()),
        PageAccess::Locked => EitherOf4::B(view! { <LockScreen/> }),
        PageAccess::SignIn => EitherOf4::C(view! { <SignInPage/> }),
        PageAccess::Refused => EitherOf4::D(view! { <Forbidden/> }),
    }
}

/// A translated text, chosen when shown.
pub type Label = fn(&crate::i18n::Messages) -> &'static str;

/// The surfaces of Plateau this person may use, as large touch targets. `A` marks the
/// current one with `aria-current="page"`.
#[component]
fn Navigation() -> impl IntoView {
    let i18n = use_i18n();
    let links: [(&'static str, Label); 14] = [
        ("/desk", |t| t.nav_desk),
        ("/", |t| t.nav_rooms),
        ("/board", |t| t.nav_board),
        ("/waiting-room", |t| t.nav_waiting_room),
        ("/supervision", |t| t.back_office.nav_supervision),
        ("/follow-ups", |t| t.nav_follow_ups),
        ("/lab", |t| t.nav_lab),
        ("/escort", |t| t.nav_escort),
        ("/break-glass", |t| t.nav_break_glass),
        ("/admin/accounts", |t| t.nav_accounts),
        ("/admin/audit", |t| t.nav_audit),
        ("/admin/catalog", |t| t.back_office.nav_catalog),
        ("/admin/lab-tests", |t| t.lab.nav_catalog),
        ("/setup/facility", |t| t.nav_setup),
    ];
    let session = use_session();
    let current_path = leptos_router::hooks::use_location().pathname.get_untracked();
    move || {
        let current_path = current_path.clone();
        // A wall board shows its board and goes nowhere else.
        let user = session.user().filter(|u| !u.locked && !u.wall_board)?;
        Some(view! {
            <nav class="main-nav" aria-label=move || i18n.t().main_navigation>
                {links
                    .into_iter()
                    .filter(|(href, _)| may_open(Some(&user), href))
                    .map(|(href, label)| {
                        if is_server_page(href) {
                            // Loaded from the server: the client router has no such page.
                            let current = (current_path == href).then_some("page");
                            view! { <a href=href rel="external" aria-current=current>{move || label(i18n.t())}</a> }.into_any()
                        } else {
                            view! { <A href=href exact=true>{move || label(i18n.t())}</A> }.into_any()
                        }
                    })
                    .collect_view()}
            </nav>
        })
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
                    // A live change can reach this view and the page around it at once: the
                    // page's redraw disposes of this view and its resource, and this may
                    // still run once after. Awaiting a disposed resource panics the client,
                    // so a disposed one shows nothing (the new view is on its way).
                    if resource.is_disposed() {
                        return None;
                    }
                    let render = render.clone();
                    let reading = std::future::IntoFuture::into_future(resource);
                    Some(Suspend::new(async move { reading.await.map(render) }))
                }}
            </ErrorBoundary>
        </Transition>
    }
}

/// What `resource` last read successfully, with the browser's clock at that reading. A
/// failed reading (a Wi-Fi drop) keeps what was shown rather than emptying the screen:
/// what must not be missed stays until the server says it is gone.
pub fn last_read<T>(resource: Resource<Result<T, AppError>>) -> Memo<Option<(T, f64)>>
where
    T: Clone + PartialEq + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    Memo::new(move |previous: Option<&Option<(T, f64)>>| match resource.get() {
        Some(Ok(value)) => Some((value, now_millis())),
        _ => previous.cloned().flatten(),
    })
}

/// The page's `:id` as a positive number; `None` for an address that names none.
pub fn id_param() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
    }
}

/// A page's data where "not found" is the page's own answer (its 404), not an error.
pub async fn unless_missing<T>(
    id: Option<i64>,
    load: impl AsyncFnOnce(i64) -> Result<T, AppError>,
) -> Result<Option<T>, AppError> {
    let Some(id) = id else {
        return Ok(None);
    };
    match load(id).await {
        Ok(found) => Ok(Some(found)),
        Err(AppError::NotFound) => Ok(None),
        Err(error) => Err(error),
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

/// The refusal a signed-in person sees for a page their roles do not open; on the server
/// it also sets the status.
#[component]
pub fn Forbidden() -> impl IntoView {
    crate::error::set_response_status(&AppError::Forbidden);
    let i18n = use_i18n();
    view! {
        <section class="page forbidden" aria-labelledby="forbidden-title">
            <h1 id="forbidden-title">{move || i18n.t().forbidden_title}</h1>
            <p>{move || i18n.t().error_forbidden}</p>
        </section>
    }
}

/// A surface that a later version of Plateau fills in; says so plainly.
#[component]
fn NotYetAvailable(title: Label) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">{move || title(i18n.t())}</h1>
            <p class="empty">{move || i18n.t().not_yet_available}</p>
        </section>
    }
}

#[component]
fn EscortPage() -> impl IntoView {
    view! { <NotYetAvailable title=|t| t.escort_title/> }
}
