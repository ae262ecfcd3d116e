//! The HTTP application: Leptos pages and server functions, static files, health.

use crate::limits::HttpLimits;
use axum::extract::{FromRef, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use plateau_app::audit::{self, AuditFilter};
use plateau_app::auth::guard::RequestAuth;
use plateau_app::auth::{AuthSettings, Capability};
use plateau_app::error::AppError;
use plateau_app::live::{EventBus, LiveSettings};
use plateau_app::store::{Store, StoreError};
use plateau_app::{shell, App};
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub auth: AuthSettings,
    pub events: EventBus,
    pub limits: Arc<HttpLimits>,
}

/// Builds the whole router around a store, with the default live settings; tests serve
/// it on port 0. Serve it with [`crate::limits::serve`], which also gives each request
/// its peer's address for the audit trail.
pub async fn router(
    store: Store,
    leptos_options: LeptosOptions,
    auth: AuthSettings,
) -> Result<Router, StoreError> {
    let events = EventBus::start(store.clone(), LiveSettings::default()).await?;
    Ok(router_with(store, leptos_options, auth, events))
}

/// The router around a running event fan-out (`EventBus::start`), which stops when the
/// router and the bus are dropped. Close the bus before a graceful shutdown: open
/// subscriptions would otherwise keep the server waiting.
pub fn router_with(
    store: Store,
    leptos_options: LeptosOptions,
    auth: AuthSettings,
    events: EventBus,
) -> Router {
    router_within(store, leptos_options, auth, events, HttpLimits::default())
}

/// [`router_with`], its requests bounded by `limits` (body size and times; serve it with
/// [`crate::limits::serve`] for the header time and the connection cap).
pub fn router_within(
    store: Store,
    leptos_options: LeptosOptions,
    auth: AuthSettings,
    events: EventBus,
    limits: HttpLimits,
) -> Router {
    let routes = generate_route_list(App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        store: store.clone(),
        auth,
        events: events.clone(),
        limits: Arc::new(limits.clone()),
    };
    let context = {
        let options = leptos_options.clone();
        move || {
            provide_context(store.clone());
            provide_context(events.clone());
            provide_context(options.clone());
        }
    };
    // A form posted to a server page is read, then the page is drawn with it.
    let draw_page = leptos_axum::render_app_async_with_context(context.clone(), {
        let options = leptos_options.clone();
        move || shell(options.clone())
    });
    let max_body = limits.max_message_body;
    let posted_to_page = move |request: axum::extract::Request| {
        let draw_page = draw_page.clone();
        async move { crate::server_pages::posted(request, max_body, draw_page).await }
    };
    // Live subscriptions skip compression: each event is flushed on its own, and the
    // compressing wrapper would cost every idle subscription kilobytes of memory.
    let live = Router::new().route(
        plateau_app::live::SUBSCRIBE_PATH,
        get(plateau_app::live::stream::subscribe),
    );
    let mut pages = Router::new();
    for pattern in plateau_app::shell::SERVER_PAGES {
        pages = pages.route(
            &plateau_app::shell::axum_route(pattern),
            axum::routing::post(posted_to_page.clone()),
        );
    }
    let pages = pages
        .route("/healthz", get(healthz))
        .route("/audit.csv", get(audit_csv))
        .route(
            crate::interfaces::HL7_PATH,
            axum::routing::post(crate::interfaces::receive_over_http),
        )
        .route(
            crate::interfaces::ADT_PATH,
            axum::routing::post(crate::interfaces::receive_adt_over_http),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(CompressionLayer::new());
    // The client's files, compressed once at build; a development build's are compressed
    // here (the layer leaves an answer already compressed as it is).
    let assets = crate::assets::router(&leptos_options).layer(CompressionLayer::new());
    pages
        .merge(assets)
        .merge(live)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::guard_requests,
        ))
        // Outside the guard: a body is bounded before anyone looks up its session, and the
        // guard's own work counts in the answer's time.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::limits::bound_requests,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_message_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// 200 only when the database answers, within two seconds.
async fn healthz(State(store): State<Store>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database not answering");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("health check: database timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// The audit trail as CSV, filtered like the audit page. The security layer already
/// checked the capability; this checks again, as every endpoint does.
async fn audit_csv(
    State(store): State<Store>,
    Extension(auth): Extension<RequestAuth>,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let Some(principal) = auth
        .principal
        .filter(|p| !p.locked && p.can(Capability::ReadAudit))
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let answer = async {
        let (query, _) = plateau_app::audit::validated_query(&store, &filter).await?;
        let (lines, _) = plateau_app::audit::store::search(&store, &query).await?;
        let entry = audit::Entry::by(&principal, "audit.export", audit::Outcome::Allowed)
            .meta(auth.meta.clone())
            .detail(format!("{} lines; {}", lines.len(), filter.query_string()));
        audit::record(&store, entry).await?;
        Ok::<_, AppError>(plateau_app::audit::store::to_csv(&lines))
    };
    match answer.await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"plateau-audit.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
        Err(error) => (error.status(), error.to_string()).into_response(),
    }
}

/// Leptos settings for a site built by cargo-leptos into `site_root`; its files are named
/// by their content when the build left its hash file beside this binary.
pub fn leptos_options(site_root: &str, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("plateau")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .hash_files(crate::assets::hash_file().is_some_and(|file| file.exists()))
        .build()
}
