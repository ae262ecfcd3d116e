//! What no client may exceed: how long it takes to send a request's headers and body,
//! how large a body is, how long an answer may take, and how many connections are open
//! at once. Without these, a few hundred connections sending their headers a byte at a
//! time, or one request announcing gigabytes, hold the server.

use crate::router::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// The limits of the HTTP server; tests shorten them.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// A client has this long to send a request's headers (and an idle kept-alive
    /// connection is closed after it).
    pub header_timeout: Duration,
    /// ...and this long to send its body, answered 408 beyond.
    pub body_timeout: Duration,
    /// An answer that takes longer than this is abandoned (its transaction rolls back)
    /// and answered 503. Live subscriptions are exempt: they last.
    pub answer_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed at once.
    pub max_connections: usize,
    /// The largest request body, answered 413 beyond (forms are a few kilobytes).
    pub max_body: usize,
    /// The largest body of a reference lab's HL7 message over HTTP.
    pub max_message_body: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            answer_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_body: 256 * 1024,
            max_message_body: 2 * 1024 * 1024,
        }
    }
}

/// Bounds every request but the live link's: the body's size (413, from the announced
/// `Content-Length` before reading anything, or as it streams) and the time to send it
/// (408), then the time to answer (503). The body is read here, whole, so that what runs
/// next (server functions, the HL7 handler) never meets an unfinished or oversized one.
pub async fn bound_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = bound(&state.limits, request, next).await;
    crate::security::with_security_headers(response, &state.auth)
}

async fn bound(limits: &HttpLimits, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == plateau_app::live::SUBSCRIBE_PATH {
        return next.run(request).await;
    }
    let max = if crate::interfaces::is_interface_path(path) {
        limits.max_message_body
    } else {
        limits.max_body
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > max as u64) {
        return too_large(max);
    }
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(limits.body_timeout, read_body(body, max)).await {
        Err(_) => {
            tracing::info!(path = %parts.uri.path(), "request body not sent in time");
            return closing(
                (
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body took too long to arrive",
                )
                    .into_response(),
            );
        }
        Ok(Err(BodyError::TooLarge)) => return too_large(max),
        Ok(Err(BodyError::Broken)) => {
            return closing((StatusCode::BAD_REQUEST, "the request body could not be read").into_response())
        }
        Ok(Ok(bytes)) => bytes,
    };
    let request = Request::from_parts(parts, Body::from(body));
    match tokio::time::timeout(limits.answer_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("answer abandoned after the time limit");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "the answer took too long; try again",
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
    }
}

enum BodyError {
    TooLarge,
    Broken,
}

async fn read_body(mut body: Body, max: usize) -> Result<axum::body::Bytes, BodyError> {
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > max {
                return Err(BodyError::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.into())
}

fn too_large(max: usize) -> Response {
    closing(
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {} KiB", max / 1024),
        )
            .into_response(),
    )
}

/// The rest of the body is never read, so the connection cannot carry another request:
/// say so, and the client opens a new one instead of sending into a closed one.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then lets the
/// requests in flight finish. Connections get `TCP_NODELAY` (live events are small
/// writes that must leave at once) and the peer's address (`ConnectInfo`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    // Shutdown: `stop` tells every connection to finish its request and close; each
    // holds a `running` receiver until it has, so the loop waits for `running.closed()`.
    let (stop, stopping) = tokio::sync::watch::channel(());
    let (running, still_running) = tokio::sync::watch::channel(());
    // HTTP/1 only, as before (browsers reach Plateau over HTTP/1.1 or through the proxy).
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: wait a little rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many connections: one turned away");
            tokio::spawn(turn_away(stream));
            continue;
        };
        let service = app
            .clone()
            .map_request(move |request: Request<hyper::body::Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let builder = builder.clone();
        let mut stopping = stopping.clone();
        let still_running = still_running.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let mut stopped = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::trace!(%error, "connection ended");
                        }
                        break;
                    }
                    _ = stopping.changed(), if !stopped => {
                        stopped = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(slot);
            drop(still_running);
        });
    }
    drop(listener);
    drop(still_running);
    let _ = stop.send(());
    running.closed().await;
    Ok(())
}

/// Answers a connection beyond the cap with 503 and closes it, without waiting for (or
/// parsing) its request: what it sent meanwhile is read and dropped, so the answer is
/// not lost to a reset.
async fn turn_away(mut stream: TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
retry-after: 5\r\ncontent-length: 33\r\nconnection: close\r\n\r\ntoo many connections; try again\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}
