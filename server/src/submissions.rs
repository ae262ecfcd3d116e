//! A form acts once however often it is sent: the layer around each server function
//! call that carries a submission key (see `plateau_app::store::submission`). A repeat of
//! an answered submission gets the same answer without running again; one that arrives
//! while the first still runs waits for its answer; a key sent with another request is
//! refused.

use crate::security::refusal;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use plateau_app::error::AppError;
use plateau_app::store::submission::{self, KeptAnswer, Known, Submission};
use plateau_app::store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The headers of an answer that are kept with it and given again.
const KEPT_HEADERS: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::LOCATION,
    HeaderName::from_static("serverfnerror"),
];

/// The largest answer kept: a form's answer is small; a larger one is given once, and a
/// repeat is told the form was sent.
const MAX_KEPT_ANSWER: usize = 256 * 1024;

/// The largest answer given at all: a page is far smaller.
const MAX_GIVEN_ANSWER: usize = 16 * 1024 * 1024;

/// How long a repeat waits for the first sending's answer.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);

/// Runs `handle` for a request of `account_id` that may carry a submission key (header
/// or form field) and answers repeats of it. A request without a key runs as it is.
pub async fn once<F, Fut>(
    store: &Store,
    account_id: i64,
    request: Request,
    max_body: usize,
    handle: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let header_key = request
        .headers()
        .get(plateau_app::shell::SUBMISSION_HEADER)
        .map(|v| v.to_str().map(str::to_owned));
    // Only a form posted without JavaScript (it asks for a page back) carries its key in
    // the body; our client's calls, which carry it in the header, are not read twice.
    let plain_form = {
        let text = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .unwrap_or("")
        };
        text(header::CONTENT_TYPE).starts_with("application/x-www-form-urlencoded")
            && text(header::ACCEPT).contains("text/html")
    };
    if header_key.is_none() && !plain_form {
        return handle(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, max_body).await else {
        return refusal(AppError::Malformed);
    };
    let key = match header_key {
        Some(Ok(key)) => Some(key),
        Some(Err(_)) => return refusal(AppError::Malformed),
        None => submission::key_in_form(&body).map(str::to_owned),
    };
    let request = Request::from_parts(parts, Body::from(body.clone()));
    let Some(key) = key else {
        return handle(request).await;
    };
    if !submission::is_well_formed(&key) {
        return refusal(AppError::Malformed);
    }
    let digest = submission::digest(request.uri().path(), &body);
    let submission = Submission::new(account_id, key, digest);
    match submission::answer_of(store, &submission).await {
        Ok(None) => {}
        Ok(Some(known)) => return repeat(store, &submission, known).await,
        Err(error) => {
            tracing::warn!(%error, "could not look up a submission");
            return refusal(AppError::Unavailable);
        }
    }
    let response = submission.run(handle(request)).await;
    if submission.lost() {
        // A double tap: the other sending claimed the key first; this one gets its answer.
        return repeat(store, &submission, Known::Running).await;
    }
    if !submission.claimed() {
        return response;
    }
    keep(store, &submission, response).await
}

/// Keeps `response` as the submission's answer, and gives it. An answer too large to
/// keep, or one that shows a secret once, is given to this sending only: a repeat is
/// told the form was sent.
async fn keep(store: &Store, submission: &Arc<Submission>, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, MAX_GIVEN_ANSWER).await else {
        tracing::warn!("a submission's answer was too large to give");
        return refusal(AppError::AlreadySent);
    };
    let secret = parts
        .headers
        .remove(plateau_app::shell::ANSWER_NOT_KEPT)
        .is_some();
    let answer = if secret || body.len() > MAX_KEPT_ANSWER {
        let (sent, sent_body) = refusal(AppError::AlreadySent).into_parts();
        let sent_body = to_bytes(sent_body, MAX_KEPT_ANSWER).await.unwrap_or_default();
        kept(&sent, &sent_body)
    } else {
        kept(&parts, &body)
    };
    if let Err(error) = submission::keep_answer(store, submission, &answer).await {
        // The change is committed; only a repeat loses its copy of the answer (it is told
        // the form was sent).
        tracing::warn!(%error, "could not keep a submission's answer");
    }
    Response::from_parts(parts, Body::from(body))
}

/// An answer as it is kept: its status, the headers given again, its body.
fn kept(parts: &axum::http::response::Parts, body: &[u8]) -> KeptAnswer {
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    KeptAnswer {
        status: parts.status.as_u16(),
        headers,
        body: body.to_vec(),
    }
}

/// The answer to a repeat: the kept answer, waiting for it while the first still runs.
async fn repeat(store: &Store, submission: &Submission, known: Known) -> Response {
    let mut known = known;
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        match known {
            Known::OtherRequest => return refusal(AppError::SubmissionReused),
            Known::Answered(answer) => return replayed(answer),
            Known::Running if tokio::time::Instant::now() >= deadline => {
                return refusal(AppError::AlreadySent)
            }
            Known::Running => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        known = match submission::answer_of(store, submission).await {
            Ok(Some(known)) => known,
            // Rolled back meanwhile: nothing was done, and the sender may send again.
            Ok(None) => return refusal(AppError::AlreadySent),
            Err(error) => {
                tracing::warn!(%error, "could not look up a submission");
                return refusal(AppError::Unavailable);
            }
        };
    }
}

fn replayed(answer: KeptAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
