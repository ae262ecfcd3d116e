//! What no client may exceed (header and body times, body size, connections), through
//! the real router and accept loop on port 0, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use plateau_server::limits::HttpLimits;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn short_limits() -> HttpLimits {
    HttpLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        answer_timeout: Duration::from_secs(1),
        max_connections: 64,
        max_body: 4096,
        max_message_body: 8192,
    }
}

/// Reads what the server answers until it closes the connection or `wait` passes.
async fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                // One answer is enough once its head is in.
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Some(String::from_utf8_lossy(&answer).into_owned());
                }
            }
        }
    }
}

on_both_databases!(a_client_sending_its_headers_byte_by_byte_is_cut_off, |db| {
    let server = TestServer::start_limited(db.store.clone(), short_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nHost: clinic\r\nUser-Agent: slow\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut closed = false;
    for byte in request.iter().cycle().take(200) {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    let held = start.elapsed();
    assert!(closed, "still connected after {held:?}");
    assert!(
        held >= Duration::from_millis(900),
        "cut off after {held:?}, before the limit"
    );
    assert!(held < Duration::from_secs(5), "held for {held:?}");
    // Others are served meanwhile and after.
    let ok = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
});

on_both_databases!(a_body_announced_too_large_is_refused_at_once, |db| {
    let server = TestServer::start_limited(db.store.clone(), short_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 5000000000\r\n\r\nusername=a",
        server.addr,
        server.origin()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = answer_within(&mut stream, Duration::from_millis(500)).await;
    let answer = answer.expect("an answer without waiting for the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
});

on_both_databases!(a_body_streamed_past_the_limit_is_refused, |db| {
    let server = TestServer::start_limited(db.store.clone(), short_limits()).await;
    for path in ["/api/sign_in", "/hl7/oru"] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Transfer-Encoding: chunked\r\n\r\n",
            server.addr,
            server.origin()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("400\r\n{}\r\n", "a".repeat(1024));
        let mut answer = None;
        for _ in 0..32 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            answer = answer_within(&mut stream, Duration::from_millis(50)).await;
            if answer.is_some() {
                break;
            }
        }
        let answer = match answer {
            Some(answer) => answer,
            None => answer_within(&mut stream, Duration::from_secs(2))
                .await
                .unwrap_or_default(),
        };
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }
    // A form within the limit is read as before (here: refused for its content, 401).
    let small = server
        .call("sign_in", &[("username", "nobody"), ("password", "x")])
        .await;
    assert_eq!(small.status(), 401);
});

on_both_databases!(a_body_that_stops_arriving_is_answered_408, |db| {
    let server = TestServer::start_limited(db.store.clone(), short_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n\r\nusername=a",
        server.addr,
        server.origin()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = answer_within(&mut stream, Duration::from_secs(3))
        .await
        .unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
});

on_both_databases!(connections_beyond_the_cap_are_answered_503, |db| {
    let limits = HttpLimits {
        max_connections: 2,
        header_timeout: Duration::from_secs(30),
        ..short_limits()
    };
    let server = TestServer::start_limited(db.store.clone(), limits).await;
    let _held: Vec<TcpStream> = vec![
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: clinic\r\n\r\n")
        .await
        .unwrap();
    let answer = answer_within(&mut third, Duration::from_secs(2)).await;
    let answer = answer.expect("an answer at once, not a queue");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after"), "{answer}");
});

on_both_databases!(live_subscriptions_outlast_the_answer_time, |db| {
    plateau_app::demo::seed(&db.store, chrono::Utc::now())
        .await
        .unwrap();
    let live = plateau_app::live::LiveSettings {
        heartbeat: Duration::from_millis(300),
        ..Default::default()
    };
    let server = TestServer::start_within(db.store.clone(), Default::default(), live, short_limits()).await;
    server.sign_in_demo("j.morel").await;
    let mut subscription = server.subscribe("topics=rooms", None).await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        let message = subscription.next_within(Duration::from_secs(1)).await;
        assert!(message.is_some(), "the stream ended after {:?}", start.elapsed());
    }
    let mut socket = server.subscribe_websocket("topics=rooms").await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        let message = socket.next_within(Duration::from_secs(1)).await;
        assert!(message.is_some(), "the socket ended after {:?}", start.elapsed());
    }
});
