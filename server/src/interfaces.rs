//! Machine interfaces: HL7 v2 results from reference labs and ADT messages from the front
//! office, over HTTP (POST, authenticated by the sender's bearer token) and over MLLP (a
//! TCP port, open only to the addresses configured for a sender, whose messages must name
//! it in MSH-4), and the timer that escalates unacknowledged critical values.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use plateau_app::lab::hl7::{self, MllpDecoder};
use plateau_app::lab::import::{self, Transport};
use plateau_app::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where reference labs post ORU^R01 messages.
pub const HL7_PATH: &str = "/hl7/oru";
/// Where the front office posts ADT messages.
pub const ADT_PATH: &str = "/hl7/adt";

/// Whether `path` is one where machines post HL7 messages with their own token.
pub fn is_interface_path(path: &str) -> bool {
    path == HL7_PATH || path == ADT_PATH
}

/// A reference lab posts one HL7 v2 message; the answer is its ACK (AA, AE or AR), with
/// 200, since the ACK itself says what happened. Without a known token: 401, nothing read.
pub async fn receive_over_http(State(store): State<Store>, headers: HeaderMap, body: String) -> Response {
    receive(store, headers, body, Heard::Results).await
}

/// The front office posts one ADT message; answered as results are.
pub async fn receive_adt_over_http(State(store): State<Store>, headers: HeaderMap, body: String) -> Response {
    receive(store, headers, body, Heard::Admissions).await
}

/// Which kind of message an address hears.
#[derive(Clone, Copy)]
enum Heard {
    Results,
    Admissions,
}

async fn import(
    store: &Store,
    raw: &str,
    senders: &[import::Sender],
    heard: Heard,
    transport: Transport,
) -> String {
    let now = chrono::Utc::now();
    match heard {
        Heard::Results => import::import(store, raw, senders, transport, now).await.ack,
        Heard::Admissions => {
            plateau_app::admissions::import::import(store, raw, senders, transport, now)
                .await
                .ack
        }
    }
}

async fn receive(store: Store, headers: HeaderMap, body: String, heard: Heard) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return unauthorised();
    };
    let sender = match plateau_app::lab::store::sender_by_token(&store, &import::token_digest(token)).await {
        Ok(Some(sender)) => sender,
        Ok(None) => return unauthorised(),
        Err(error) => {
            tracing::warn!(%error, "HL7 over HTTP: database unavailable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable, send again later",
            )
                .into_response();
        }
    };
    tracing::debug!(sender = %sender.code, "HL7 message received");
    let ack = import(&store, &body, &[sender], heard, Transport::Http).await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/hl7-v2; charset=utf-8")],
        ack,
    )
        .into_response()
}

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a reference lab's or the front office's interface token is required",
    )
        .into_response()
}

/// Frames larger than this are refused: no lab report comes near it.
const MAX_FRAME: usize = hl7::MAX_MESSAGE_BYTES;
/// Connections at once from the configured labs; one more is closed at once rather than
/// queued, so idle connections cannot hold back a delivery for long.
const MAX_CONNECTIONS: usize = 32;
/// A connection silent this long is closed.
const IDLE: Duration = Duration::from_secs(300);

/// Accepts MLLP connections until the process stops: a connection from an address no
/// reference lab is configured for is closed before a byte is read; from a lab's, each
/// framed message is imported as that lab's and answered with a framed ACK, in order, on
/// the same connection.
pub async fn serve_mllp(listener: TcpListener, store: Store) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "MLLP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let address = peer.ip().to_canonical().to_string();
        let labs = match plateau_app::lab::store::senders_at(&store, &address).await {
            Ok(labs) => labs,
            Err(error) => {
                tracing::warn!(%error, %peer, "MLLP: database unavailable, connection closed");
                continue;
            }
        };
        if labs.is_empty() {
            tracing::warn!(%peer, "MLLP connection from an address no reference lab is configured for: refused");
            continue;
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "MLLP: every connection slot is taken, connection closed");
            continue;
        };
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(error) = mllp_connection(stream, &store, &labs).await {
                tracing::debug!(%error, %peer, "MLLP connection ended");
            }
            drop(slot);
        });
    }
}

async fn mllp_connection(
    mut stream: TcpStream,
    store: &Store,
    labs: &[import::Sender],
) -> std::io::Result<()> {
    let mut decoder = MllpDecoder::new(MAX_FRAME);
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = match tokio::time::timeout(IDLE, stream.read(&mut buffer)).await {
            Ok(read) => read?,
            Err(_) => return Ok(()),
        };
        if read == 0 {
            return Ok(());
        }
        for frame in decoder.push(&buffer[..read]) {
            let ack = match frame {
                Ok(message) => {
                    // One port for every sender: an ADT message goes to admissions, any
                    // other to the lab (each hears only senders of its own role).
                    let adt = hl7::parse(&message).is_ok_and(|m| m.header().text(9, 1) == "ADT");
                    let heard = if adt { Heard::Admissions } else { Heard::Results };
                    import(store, &message, labs, heard, Transport::Mllp).await
                }
                Err(error) => {
                    tracing::warn!(%error, "MLLP frame refused");
                    let now = chrono::Utc::now();
                    let own = format!("PLT{}", now.timestamp_micros());
                    hl7::acknowledgement(
                        None,
                        "",
                        hl7::AckCode::Reject,
                        &error.to_string(),
                        &[],
                        now.naive_utc(),
                        &own,
                    )
                }
            };
            stream.write_all(&hl7::frame(&ack)).await?;
        }
    }
}

/// Every half minute, escalates critical values nobody acknowledged in time.
pub async fn escalate_critical_values(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match plateau_app::lab::act::escalate_overdue(&store, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(alerts = n, "critical values escalated to the supervisors"),
            Err(error) => tracing::warn!(%error, "could not escalate critical values"),
        }
    }
}
