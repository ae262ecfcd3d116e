//! Sign-in flood benchmark: the server's memory under a burst of anonymous sign-ins, and
//! how long a real sign-in takes during it.
//!
//! One real `plateau serve --demo` process (release build) on a fresh SQLite database. A
//! nurse signs in once on her tablet (so that it carries a device cookie). Then, for each
//! round, B anonymous sign-ins with unknown usernames and a wrong password are sent all at
//! once, each from its own loopback address (127.0.x.y), so that only the server's bound on
//! concurrent password hashes and its limit for everyone stand between the burst and the
//! memory; meanwhile the nurse signs in again and again on her tablet. Resident memory
//! (`VmRSS` of the server process) is read every 10 ms.
//!
//! Reports, per round: answers by status, the peak resident memory during the burst, the
//! resident memory 6 s after it (freed memory is handed back once hashes stop coming), and
//! the nurse's sign-in latency (p50, p99, max, and how many were told busy).
//!
//! Build the release server first (`cargo build --release -p plateau` is enough: sign-in
//! needs no WebAssembly), then for example:
//!   cargo build --release -p plateau --example signin_bench
//!   target/release/examples/signin_bench --burst 300 --rounds 3
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{percentile, start_server};

struct Options {
    burst: usize,
    rounds: usize,
    binary: String,
}

fn options() -> Options {
    let mut o = Options {
        burst: 300,
        rounds: 3,
        binary: "target/release/plateau".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--burst" => o.burst = value.parse().expect("--burst B"),
            "--rounds" => o.rounds = value.parse().expect("--rounds R"),
            "--binary" => o.binary = value,
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    assert!(o.burst > 0 && o.rounds > 0, "--burst and --rounds at least 1");
    o
}

/// Resident memory of a process, in MiB.
fn resident_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or_default()
        / 1024.0
}

/// Posts the sign-in form as our client does; the status and the answer's cookies.
async fn sign_in(
    client: &reqwest::Client,
    origin: &str,
    device: Option<&str>,
    username: &str,
    password: &str,
) -> (u16, Vec<String>) {
    let mut request = client
        .post(format!("{origin}/api/sign_in"))
        .header("origin", origin)
        .header("accept", "application/json");
    if let Some(token) = device {
        request = request.header("cookie", format!("plateau_device={token}"));
    }
    match request
        .form(&[("username", username), ("password", password)])
        .send()
        .await
    {
        Ok(response) => {
            let cookies = response
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            (response.status().as_u16(), cookies)
        }
        Err(_) => (0, Vec::new()),
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    let dir = std::env::temp_dir().join(format!("plateau_signin_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = start_server(&o.binary, &["--data-dir".to_owned(), dir.display().to_string()]).await;
    let pid = server.child.id();
    let origin = format!("http://127.0.0.1:{}", server.port);
    let client = reqwest::Client::new();
    let (status, cookies) = sign_in(&client, &origin, None, "a.girard", "tilleuls-demo").await;
    assert_eq!(status, 200, "the nurse signs in on her tablet");
    let tablet = cookies
        .iter()
        .find_map(|c| c.strip_prefix("plateau_device="))
        .and_then(|c| c.split(';').next())
        .expect("a device cookie")
        .to_owned();
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "idle after start-up: {:.0} MiB resident; burst of {} anonymous sign-ins, {} rounds",
        resident_mib(pid),
        o.burst,
        o.rounds
    );

    for round in 1..=o.rounds {
        let before = resident_mib(pid);
        let done = Arc::new(AtomicBool::new(false));
        let sampler = tokio::spawn({
            let done = done.clone();
            async move {
                let mut peak = 0.0f64;
                while !done.load(Ordering::Relaxed) {
                    peak = peak.max(resident_mib(pid));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                peak
            }
        });
        let nurse = tokio::spawn({
            let (client, origin, tablet, done) =
                (client.clone(), origin.clone(), tablet.clone(), done.clone());
            async move {
                let mut micros = Vec::new();
                let mut busy = 0;
                while !done.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (status, _) =
                        sign_in(&client, &origin, Some(&tablet), "a.girard", "tilleuls-demo").await;
                    match status {
                        200 => micros.push(started.elapsed().as_micros() as i64),
                        503 => busy += 1,
                        other => panic!("the nurse's sign-in answered {other}"),
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (micros, busy)
            }
        });
        let started = Instant::now();
        let burst: Vec<_> = (0..o.burst)
            .map(|i| {
                let address = IpAddr::V4(Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8));
                let client = reqwest::Client::builder().local_address(address).build().unwrap();
                let origin = origin.clone();
                tokio::spawn(async move {
                    let username = format!("nobody.{round}.{i}");
                    sign_in(&client, &origin, None, &username, "Printemps2024!")
                        .await
                        .0
                })
            })
            .collect();
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for request in burst {
            *statuses.entry(request.await.unwrap()).or_default() += 1;
        }
        let took = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let peak = sampler.await.unwrap();
        let (mut micros, busy) = nurse.await.unwrap();
        micros.sort_unstable();
        // The server trims 2-4 s after hashes stop, at most once in 10 s.
        tokio::time::sleep(Duration::from_secs(12)).await;
        let after = resident_mib(pid);
        println!(
            "round {round}: burst answered in {:.2} s {statuses:?}; resident {before:.0} MiB before, \
             peak {peak:.0} MiB, {after:.0} MiB 12 s after",
            took.as_secs_f64()
        );
        println!(
            "  nurse on her tablet meanwhile: {} sign-ins, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {busy} told busy",
            micros.len(),
            percentile(&micros, 50.0),
            percentile(&micros, 99.0),
            percentile(&micros, 100.0)
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
