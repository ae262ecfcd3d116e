//! Forms posted to a server page (see `plateau_app::shell::server_page`): the fields are
//! read here and handed to the page, which acts on them while the server renders it.
//! The security layer has already checked where the post came from and who sent it,
//! and made a repeated sending act once.

use crate::security::refusal;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, Method};
use axum::response::Response;
use plateau_app::error::AppError;
use plateau_app::shell::PostedForm;
use std::future::Future;
use std::pin::Pin;

/// The most fields a page's form sends: more is no form of ours.
const MAX_FIELDS: usize = 400;

/// Reads the form posted to a page and renders the page with it (`render` draws a page
/// for a GET request).
pub async fn posted<R>(request: Request, max_body: usize, render: R) -> Response
where
    R: Fn(Request<Body>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + 'static>>,
{
    let form_encoded = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return refusal(AppError::Malformed);
    }
    let (mut parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, max_body).await else {
        return refusal(AppError::Malformed);
    };
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body)
        .into_owned()
        .take(MAX_FIELDS + 1)
        .collect();
    if fields.len() > MAX_FIELDS {
        return refusal(AppError::Malformed);
    }
    parts.extensions.insert(PostedForm(fields));
    if let Some(submission) = plateau_app::store::submission::current() {
        parts
            .extensions
            .insert(plateau_app::store::submission::Carried(submission));
    }
    // The page is drawn as for a GET; its form's work is done while it is drawn.
    parts.method = Method::GET;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    render(Request::from_parts(parts, Body::empty())).await
}
