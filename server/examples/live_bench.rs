//! Real-time backbone benchmark: holds N live subscriptions on one or more `plateau`
//! servers (real processes), commits room changes at a steady rate through the first
//! server's API, and reports commit-to-receipt latency (p50, p99, max), throughput, and
//! each server's memory per idle subscriber (resident set growth / subscribers).
//!
//! Build the release server first (`cargo leptos build --release`), then for example:
//!   cargo run --release -p plateau --example live_bench -- --subscribers 1000
//!   cargo run --release -p plateau --example live_bench -- --subscribers 1000 --transport sse
//!   cargo run --release -p plateau --example live_bench -- --subscribers 1000 --servers 2 \
//!       --postgres postgres://postgres@127.0.0.1:5432/postgres
//! Latency runs from the moment the server took the commit's time (just before the
//! transaction) to the moment the subscriber had read the whole event, on the same clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{now_micros, percentile, start_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Options {
    subscribers: usize,
    rate: f64,
    seconds: u64,
    servers: usize,
    postgres: Option<String>,
    binary: String,
    /// `websocket` (what browsers open) or `sse` (a plain event stream).
    transport: String,
}

fn options() -> Options {
    let mut o = Options {
        subscribers: 100,
        rate: 20.0,
        seconds: 10,
        servers: 1,
        postgres: None,
        binary: "target/release/plateau".into(),
        transport: "websocket".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--subscribers" => o.subscribers = value.parse().expect("--subscribers N"),
            "--rate" => o.rate = value.parse().expect("--rate commits per second"),
            "--seconds" => o.seconds = value.parse().expect("--seconds S"),
            "--servers" => o.servers = value.parse().expect("--servers K"),
            "--postgres" => o.postgres = Some(value),
            "--binary" => o.binary = value,
            "--transport" => o.transport = value,
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    assert!(
        matches!(o.transport.as_str(), "websocket" | "sse"),
        "--transport websocket|sse"
    );
    assert!(
        o.servers >= 1 && (o.servers == 1 || o.postgres.is_some()),
        "several servers need --postgres"
    );
    o
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// CPU time (user + system) a process has used so far, in clock ticks (`/proc/<pid>/stat`).
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

async fn sign_in(port: u16) -> String {
    let origin = format!("http://127.0.0.1:{port}");
    let response = reqwest::Client::new()
        .post(format!("{origin}/api/sign_in"))
        .header("origin", &origin)
        .header("accept", "application/json")
        .form(&[("username", "a.girard"), ("password", "tilleuls-demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "sign in");
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn lab_room(port: u16, cookie: &str) -> i64 {
    let origin = format!("http://127.0.0.1:{port}");
    let rooms: serde_json::Value = reqwest::Client::new()
        .post(format!("{origin}/api/rooms"))
        .header("origin", &origin)
        .header("accept", "application/json")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"]["code"] == "LAB")
        .and_then(|r| r["room"]["id"].as_i64())
        .unwrap()
}

/// What a subscriber does with each message it reads: tells when it is ready, and records
/// the latency of every change.
struct Receipts {
    ready: tokio::sync::mpsc::Sender<()>,
    announced: bool,
    mine: Vec<i64>,
    latencies: Arc<Mutex<Vec<i64>>>,
}

impl Receipts {
    async fn read(&mut self, message: &str, received: i64) {
        if !self.announced && message.contains("event: ready") {
            self.announced = true;
            let _ = self.ready.send(()).await;
        }
        if let Some(at) = message.split("\"at\":").nth(1) {
            let digits: String = at.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(at) = digits.parse::<i64>() {
                self.mine.push(received - at);
            }
        }
        if self.mine.len() >= 64 {
            self.latencies.lock().unwrap().append(&mut self.mine);
        }
    }
}

impl Drop for Receipts {
    fn drop(&mut self) {
        self.latencies.lock().unwrap().append(&mut self.mine);
    }
}

/// One subscriber over a WebSocket, as a browser opens it. The client side is written by
/// hand (handshake, then unmasked server frames read straight from the socket) so that the
/// benchmark spends as little of the shared CPU as a subscriber can, leaving it to the
/// server being measured.
async fn websocket_subscriber(port: u16, cookie: String, mut receipts: Receipts) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = format!(
        "GET /api/live?topics=rooms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\
         Origin: http://127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    // The handshake's answer, up to its blank line.
    let head_end = loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed during the WebSocket handshake");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    assert!(
        buffer.starts_with(b"HTTP/1.1 101"),
        "WebSocket refused: {}",
        String::from_utf8_lossy(&buffer[..head_end])
    );
    buffer.drain(..head_end);
    loop {
        // Every complete frame in the buffer (server frames are never masked).
        let mut consumed = 0;
        let received = now_micros();
        while let Some((opcode, payload)) = server_frame(&buffer[consumed..]) {
            let (start, end) = (consumed + payload.start, consumed + payload.end);
            consumed = end;
            match opcode {
                0x1 => {
                    let text = std::str::from_utf8(&buffer[start..end]).unwrap();
                    receipts.read(text, received).await;
                }
                0x8 => return,
                _ => {}
            }
        }
        buffer.drain(..consumed);
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// The opcode and payload range of the unmasked frame at the start of `bytes`, when it has
/// arrived whole.
fn server_frame(bytes: &[u8]) -> Option<(u8, std::ops::Range<usize>)> {
    let (&first, &second) = (bytes.first()?, bytes.get(1)?);
    let (length, header): (usize, usize) = match second & 0x7f {
        126 => (u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?) as usize, 4),
        127 => (
            usize::try_from(u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        short => (short as usize, 2),
    };
    let end = header.checked_add(length)?;
    (bytes.len() >= end).then_some((first & 0x0f, header..end))
}

/// One subscriber: a raw HTTP/1.1 connection reading the event stream.
async fn event_stream_subscriber(port: u16, cookie: String, mut receipts: Receipts) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "GET /api/live?topics=rooms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let received = now_micros();
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer).into_owned();
        let mut consumed = 0;
        while let Some(end) = text[consumed..].find("\n\n") {
            receipts.read(&text[consumed..consumed + end], received).await;
            consumed += end + 2;
        }
        buffer.drain(..consumed);
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    let data_dir = std::env::temp_dir().join(format!("plateau-live-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let (database, pg_cleanup) = match &o.postgres {
        Some(admin) => {
            let name = format!("plateau_bench_{}", std::process::id());
            let status = Command::new("psql")
                .args([admin.as_str(), "-qc", &format!("CREATE DATABASE {name}")])
                .status()
                .unwrap();
            assert!(status.success(), "create the benchmark database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap();
            (
                vec!["--database-url".into(), format!("{base}/{name}")],
                Some((admin.clone(), name)),
            )
        }
        None => (vec!["--data-dir".into(), data_dir.display().to_string()], None),
    };
    // One after the other: the first loads the demo clinic.
    let mut servers = Vec::new();
    for _ in 0..o.servers {
        servers.push(start_server(&o.binary, &database).await);
    }
    let cookie = sign_in(servers[0].port).await;
    let room = lab_room(servers[0].port, &cookie).await;
    let before: Vec<u64> = servers.iter().map(|s| resident_kib(s.child.id())).collect();

    let latencies = Arc::new(Mutex::new(Vec::with_capacity(o.subscribers * 256)));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(o.subscribers);
    let mut tasks = Vec::new();
    // In two halves: the growth between them is the cost of one more subscriber, without
    // what the first ones warmed up once (connection pools, caches, allocator arenas).
    let half = o.subscribers / 2;
    let mut halfway = Vec::new();
    for (from, to) in [(0, half), (half, o.subscribers)] {
        for i in from..to {
            let port = servers[i % servers.len()].port;
            let receipts = Receipts {
                ready: ready_tx.clone(),
                announced: false,
                mine: Vec::new(),
                latencies: latencies.clone(),
            };
            tasks.push(if o.transport == "websocket" {
                tokio::spawn(websocket_subscriber(port, cookie.clone(), receipts))
            } else {
                tokio::spawn(event_stream_subscriber(port, cookie.clone(), receipts))
            });
        }
        for _ in from..to {
            ready_rx.recv().await.unwrap();
        }
        // Let the servers settle: once subscriptions stop arriving they return the memory
        // the handshakes freed (server/src/memory.rs: 2-4 s after the last one arrived, at
        // most once in 10 s).
        tokio::time::sleep(Duration::from_secs(12)).await;
        if halfway.is_empty() {
            halfway = servers.iter().map(|s| resident_kib(s.child.id())).collect();
        }
    }
    let idle: Vec<u64> = servers.iter().map(|s| resident_kib(s.child.id())).collect();

    // Commit at a steady rate through the first server's API.
    let origin = format!("http://127.0.0.1:{}", servers[0].port);
    let client = reqwest::Client::new();
    let commits = (o.rate * o.seconds as f64) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / o.rate));
    let started = Instant::now();
    let cpu_before: Vec<u64> = servers
        .iter()
        .map(|s| cpu_ticks(&s.child.id().to_string()))
        .collect();
    let own_cpu_before = cpu_ticks("self");
    let mut status = "U";
    for _ in 0..commits {
        ticker.tick().await;
        let to = if status == "U" { "C" } else { "U" };
        let response = client
            .post(format!("{origin}/api/room_status"))
            .header("origin", &origin)
            .header("accept", "application/json")
            .header("cookie", &cookie)
            .form(&[
                ("room_id", room.to_string().as_str()),
                ("from", status),
                ("to", to),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "commit");
        status = to;
    }
    let committing = started.elapsed();
    let cpu_after: Vec<u64> = servers
        .iter()
        .map(|s| cpu_ticks(&s.child.id().to_string()))
        .collect();
    let own_cpu = cpu_ticks("self") - own_cpu_before;
    // Let the last events arrive.
    let expected = commits * o.subscribers;
    let deadline = Instant::now() + Duration::from_secs(10);
    while latencies.lock().unwrap().len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(servers);
    for task in tasks {
        let _ = task.await;
    }
    let mut all = latencies.lock().unwrap().clone();
    all.sort_unstable();
    let kind = if o.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{kind}, {} server(s), {} subscribers over {}, {} commits at {}/s over {:.1} s",
        o.servers,
        o.subscribers,
        o.transport,
        commits,
        o.rate,
        committing.as_secs_f64()
    );
    println!(
        "received {} of {} events ({} missing); {:.0} events delivered/s",
        all.len(),
        expected,
        expected.saturating_sub(all.len()),
        all.len() as f64 / committing.as_secs_f64()
    );
    println!(
        "commit-to-receipt latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        percentile(&all, 100.0)
    );
    // Clock ticks are hundredths of a second on Linux.
    let busy = |ticks: u64| ticks as f64 / 100.0 / committing.as_secs_f64() * 100.0;
    let servers_cpu: Vec<String> = cpu_before
        .iter()
        .zip(&cpu_after)
        .map(|(b, a)| format!("{:.0} %", busy(a - b)))
        .collect();
    println!(
        "CPU while committing (100 % = one core; PostgreSQL's own not counted): server(s) {}, \
         this benchmark client {:.0} %",
        servers_cpu.join(" / "),
        busy(own_cpu)
    );
    for (i, ((b, h), a)) in before.iter().zip(&halfway).zip(&idle).enumerate() {
        let per_server = |n: usize| n / o.servers + usize::from(i < n % o.servers);
        let (all_held, first_half) = (per_server(o.subscribers), per_server(half));
        // Not (a - b) / all: the servers return what start-up and sign-in freed once the
        // first subscriptions settle, so the resident set may shrink from `b` to `h`.
        println!(
            "server {}: {} KiB resident before, {} KiB with {} subscribers, {} KiB with {}: \
             {:.2} KiB per further idle subscriber",
            i + 1,
            b,
            h,
            first_half,
            a,
            all_held,
            (*a as f64 - *h as f64) / (all_held - first_half) as f64,
        );
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    if let Some((admin, name)) = pg_cleanup {
        let _ = Command::new("psql")
            .args([
                admin.as_str(),
                "-qc",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ])
            .status();
    }
}
