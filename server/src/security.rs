//! The layer every request passes through before any handler: security headers,
//! cross-site request refusal, the session behind the cookie, and the access policy of
//! `plateau_app::auth` applied by path. Server functions check again, with the
//! capability they need, when they run.

use crate::router::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use plateau_app::audit::{self, Entry, Outcome};
use plateau_app::auth::guard::RequestAuth;
use plateau_app::auth::{
    endpoint_access, page_access, session, session_cookie, session_token, wall_board_reaches, Access,
    AuthSettings, Principal, RequestMeta, SESSION_COOKIE,
};
use plateau_app::error::AppError;
use std::net::{IpAddr, SocketAddr};

/// Applies headers, CSRF refusal, session resolution and the access policy.
pub async fn guard_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let settings = state.auth.clone();
    let path = request.uri().path().to_owned();
    if is_static(&path) {
        // No session is looked up for static files; a missing one still renders the 404
        // page, which needs to know that nobody is signed in.
        let meta = request_meta(&request, &settings);
        let response = run(request, next, None, meta, settings.clone()).await;
        return with_security_headers(response, &settings);
    }
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // A WebSocket is opened with a GET, but carries the signed-in person's cookie to
    // whichever page opened it: only this site's pages may open one.
    let websocket = request.headers().contains_key(header::UPGRADE);
    // A reference lab's interface posts results with its own token and no cookie: there
    // is no session a cross-site page could ride on.
    let machine = crate::interfaces::is_interface_path(&path) && session_token(request.headers()).is_none();
    if (unsafe_method || websocket) && !machine && !same_origin(request.headers()) {
        tracing::warn!(%path, origin = ?request.headers().get(header::ORIGIN), "cross-site request refused");
        return with_security_headers(refusal(AppError::CrossSite), &settings);
    }

    let meta = request_meta(&request, &settings);
    let wants_json = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let token = session_token(request.headers());
    let now = Utc::now();
    let principal = match &token {
        Some(token) => match session::resolve(&state.store, token, now, settings.idle_lock).await {
            Ok(principal) => principal,
            Err(error) => {
                tracing::warn!(%error, "session lookup failed");
                return with_security_headers(refusal(AppError::Unavailable), &settings);
            }
        },
        None => None,
    };
    // Only what a person did restarts the idle clock: an unattended tablet whose screen
    // keeps reloading its data must still lock.
    let by_a_person = caused_by_a_person(request.method(), &path, wants_json);
    if let Some(principal) = principal.as_ref().filter(|_| by_a_person) {
        if let Err(error) = session::touch(&state.store, principal, now, settings.idle_lock).await {
            tracing::warn!(%error, "could not record session activity");
        }
    }
    // A cookie that names no live session (tampered, expired, revoked) is removed.
    let stale_cookie = token.is_some() && principal.is_none();

    let is_endpoint = path.starts_with("/api/") || endpoint_access(&path).is_some();
    let response = if is_endpoint {
        match endpoint_access(&path) {
            // Not in the policy: nobody may call it, whatever it is.
            None => refusal(AppError::NotFound),
            Some(access) => match endpoint_decision(&path, access, principal.as_ref()) {
                // A signed-in person's form acts once, however often it is sent.
                Ok(()) if unsafe_method && principal.is_some() => {
                    run_once(&state, request, next, principal, meta, settings.clone()).await
                }
                Ok(()) => run(request, next, principal, meta, settings.clone()).await,
                Err(error) => {
                    if let (AppError::Forbidden, Some(principal)) = (&error, &principal) {
                        let entry = Entry::by(principal, "access", Outcome::Refused)
                            .meta(meta)
                            .record(path.clone())
                            .detail(format!("{access:?}"));
                        if let Err(e) = audit::record(&state.store, entry).await {
                            tracing::error!(error = %e, "could not audit a refused access");
                        }
                    }
                    refusal(error)
                }
            },
        }
    } else {
        match page_access(&path) {
            // Anonymous visitors of a page that needs someone go to sign in, and come back.
            Some(access) if access != Access::Public && principal.is_none() => {
                let next_path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                Redirect::to(&format!("/sign-in?next={}", encode_component(next_path))).into_response()
            }
            // A form posted to a server page acts once, however often it is sent.
            _ if unsafe_method && principal.is_some() => {
                run_once(&state, request, next, principal, meta, settings.clone()).await
            }
            // Locked screens and missing capabilities are the page's to show (lock screen,
            // 403 refusal); its data calls are refused by the server functions.
            _ => run(request, next, principal, meta, settings.clone()).await,
        }
    };
    let mut response = with_security_headers(response, &settings);
    // A plain form (no JavaScript) whose server function failed is sent back to its page
    // with the error in the address; browsers follow that only with a redirect status.
    if !wants_json
        && response.headers().contains_key("serverfnerror")
        && response.headers().contains_key(header::LOCATION)
    {
        *response.status_mut() = axum::http::StatusCode::SEE_OTHER;
    }
    // ...unless this very response signed someone in.
    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(format!("{SESSION_COOKIE}=").as_bytes()));
    if stale_cookie && !sets_session {
        if let Ok(value) = HeaderValue::from_str(&session_cookie(None, &settings)) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// [`run`] for a signed-in person's form: acting once, however often it is sent.
async fn run_once(
    state: &AppState,
    request: Request,
    next: Next,
    principal: Option<Principal>,
    meta: RequestMeta,
    settings: AuthSettings,
) -> Response {
    let account_id = principal.as_ref().map_or(0, |p| p.account_id);
    let max_body = state.limits.max_message_body;
    crate::submissions::once(&state.store, account_id, request, max_body, |request| {
        run(request, next, principal, meta, settings)
    })
    .await
}

async fn run(
    mut request: Request,
    next: Next,
    principal: Option<Principal>,
    meta: RequestMeta,
    settings: AuthSettings,
) -> Response {
    request.extensions_mut().insert(RequestAuth {
        principal,
        meta,
        settings,
    });
    next.run(request).await
}

/// Whether a person's touch or key caused this request, so that it restarts the idle
/// clock: a page loaded (or the audit export downloaded), a form posted without
/// JavaScript, or the browser's report that someone touched the screen or typed
/// (`/api/activity`, sent at most every 30 seconds while they do). Nothing a screen
/// fetches by itself is: data reloaded after a live change or a reconnection, the
/// session check, where the log ends, the live link itself. Server functions called with
/// JavaScript are among those, whoever caused them; the report covers the person's part.
pub fn caused_by_a_person(method: &Method, path: &str, wants_json: bool) -> bool {
    use leptos::server_fn::ServerFn;
    if path == <plateau_app::auth::ReportActivity as ServerFn>::PATH {
        return true;
    }
    if path.starts_with("/api/") {
        return *method == Method::POST && !wants_json;
    }
    *method == Method::GET
}

/// Whether the policy lets this caller through to the endpoint at `path`; the refusal
/// if not.
pub fn endpoint_decision(path: &str, access: Access, principal: Option<&Principal>) -> Result<(), AppError> {
    match (access, principal) {
        (Access::Public, _) => Ok(()),
        (_, None) => Err(AppError::Unauthenticated),
        (_, Some(p)) if p.wall_board && !wall_board_reaches(path, access) => Err(AppError::Forbidden),
        (Access::SignedInEvenLocked, Some(_)) => Ok(()),
        (_, Some(p)) if p.locked => Err(AppError::Locked),
        (Access::SignedIn, Some(_)) => Ok(()),
        (Access::Needs(capability), Some(p)) if p.can(capability) => Ok(()),
        (Access::Needs(_), Some(_)) => Err(AppError::Forbidden),
    }
}

/// A refusal in the shape our client decodes: the status and the error as JSON.
pub(crate) fn refusal(error: AppError) -> Response {
    let body = serde_json::to_vec(&error).unwrap_or_default();
    (error.status(), [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == "/favicon.ico"
        || path == "/robots.txt"
        || path == plateau_app::shell::PRINT_SCRIPT_PATH
}

/// A state-changing request must come from this site. Browsers say where a request
/// comes from in `Sec-Fetch-Site` (all current ones) or `Origin` (older ones); a request
/// with neither is refused too, so scripts must send `Origin` like a browser does.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

fn request_meta(request: &Request, settings: &AuthSettings) -> RequestMeta {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let address = client_address(peer, request.headers(), &settings.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let device = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(200).collect())
        .unwrap_or_default();
    RequestMeta { address, device }
}

/// Who a request came from. The connection's peer, unless it is one of the trusted
/// proxies: then `X-Forwarded-For` is read from the right (each proxy appends the address
/// it was reached from) and the first address that is not a trusted proxy is the client.
/// Everything to its left was written by the client and proves nothing. From any other
/// peer the header is ignored, whatever it says.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut values = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return Some(peer);
        };
        values.push(text);
    }
    let mut client = peer;
    for entry in values.iter().flat_map(|v| v.split(',')).rev() {
        // Something that is not an address ends the chain: the last proxy is all we know.
        let Some(ip) = forwarded_address(entry.trim()) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

/// `203.0.113.7`, `2001:db8::1`, or with a port: `203.0.113.7:4711`, `[2001:db8::1]:4711`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Headers every response carries. Pages set their own Content-Security-Policy with the
/// nonce of their scripts; everything else gets one that allows no script at all.
pub(crate) fn with_security_headers(mut response: Response, settings: &AuthSettings) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(value) = HeaderValue::from_str(&plateau_app::shell::content_security_policy("")) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // No other site's window keeps a handle on ours, and no other site embeds what we serve.
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if settings.behind_tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    // Pages and answers about patients are not kept in shared caches or on disk.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Percent-encodes a path and query for use as one query parameter value.
fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_this_site_may_change_anything() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://clinic.local:3000"),
            ("host", "clinic.local:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "clinic.local:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "clinic.local")
        ])));
        assert!(!same_origin(&headers(&[("host", "clinic.local")])));
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let proxy = ip("10.0.0.1");
        let trusted: Vec<IpAddr> = proxy.into_iter().collect();
        let forwarded = headers(&[("x-forwarded-for", "198.51.100.9, 203.0.113.7")]);
        // From anyone else the header is ignored.
        assert_eq!(
            client_address(ip("192.0.2.5"), &forwarded, &trusted),
            ip("192.0.2.5")
        );
        assert_eq!(client_address(proxy, &forwarded, &[]), proxy);
        // From the proxy: the right-most address, not the one the client wrote before it.
        assert_eq!(client_address(proxy, &forwarded, &trusted), ip("203.0.113.7"));
        // Trusted proxies in the chain are skipped; an IPv4 peer seen over IPv6 is itself.
        let chain = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.1")]);
        assert_eq!(
            client_address(ip("::ffff:10.0.0.1"), &chain, &trusted),
            ip("203.0.113.7")
        );
        let ported = headers(&[("x-forwarded-for", "[2001:db8::1]:4711")]);
        assert_eq!(client_address(proxy, &ported, &trusted), ip("2001:db8::1"));
        // Nonsense ends the chain at the proxy; no header: the proxy itself.
        let junk = headers(&[("x-forwarded-for", "203.0.113.7, unknown")]);
        assert_eq!(client_address(proxy, &junk, &trusted), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_address(None, &forwarded, &trusted), None);
    }

    #[test]
    fn only_what_a_person_does_is_activity() {
        assert!(caused_by_a_person(&Method::GET, "/rooms/3", false));
        assert!(caused_by_a_person(&Method::POST, "/api/activity", true));
        assert!(caused_by_a_person(&Method::POST, "/api/start_procedure", false));
        assert!(!caused_by_a_person(&Method::POST, "/api/rooms", true));
        assert!(!caused_by_a_person(&Method::POST, "/api/session", true));
        assert!(!caused_by_a_person(&Method::GET, "/api/live", false));
    }

    #[test]
    fn next_addresses_are_encoded() {
        assert_eq!(encode_component("/rooms/3?x=1&y=2"), "/rooms/3%3Fx%3D1%26y%3D2");
    }
}
