//! Lab benchmark, in two parts.
//!
//! 1. HL7 results imported per second: the importer (`plateau_app::lab::import::import`)
//!    called directly, no HTTP, on a fresh SQLite or PostgreSQL database with the demo
//!    clinic. Every message is the reference lab's fixture (`LAB-ORU-1.hl7`, Donald Duck,
//!    two order groups, ten observations) with its own control id (MSH-10) and placer
//!    numbers (OBR-2), sent as the demo reference lab (MSH-4 `REFLAB`), answering two
//!    orders made for it and shipped to that lab, so that every message files (AA).
//!    Run one at a time, then with K importers at once, then each message sent twice (the
//!    resend must be acknowledged AA and store nothing).
//! 2. Verification-to-tablet latency: one real `plateau serve --demo` process (release
//!    build), S room tablets signed in as a nurse and subscribed to `rooms` over WebSockets;
//!    the physician orders a potassium for Paul Garnier and collects it, the lab technician
//!    receives it, enters the result and verifies it. Latency runs from just before the
//!    `verify_result` call to the moment each tablet has read the `lab.order` `verified`
//!    event for that order.
//!
//! Build the release server first (`cargo leptos build --release`), then for example:
//!   cargo build --release -p plateau --example lab_bench
//!   target/release/examples/lab_bench                                  # both parts, SQLite
//!   target/release/examples/lab_bench --only import --messages 500 --concurrency 4 \
//!       --postgres postgres://postgres@127.0.0.1:5432/postgres
//!   target/release/examples/lab_bench --only latency --subscribers 100 --verifications 50
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use plateau_app::lab::hl7::AckCode;
use plateau_app::lab::import::{self, Transport};
use plateau_app::store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{now_micros, percentile, start_server, Database};

const FIXTURE: &str = include_str!("../../app/src/lab/fixtures/LAB-ORU-1.hl7");
/// Observations with a value in the fixture (two of its ten are empty, status I).
const RESULTS_PER_MESSAGE: i64 = 8;

struct Options {
    only: Option<String>,
    messages: usize,
    concurrency: usize,
    postgres: Option<String>,
    subscribers: usize,
    verifications: usize,
    binary: String,
}

fn options() -> Options {
    let mut o = Options {
        only: None,
        messages: 500,
        concurrency: 4,
        postgres: None,
        subscribers: 100,
        verifications: 50,
        binary: "target/release/plateau".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--only" => o.only = Some(value),
            "--messages" => o.messages = value.parse().expect("--messages N"),
            "--concurrency" => o.concurrency = value.parse().expect("--concurrency K"),
            "--postgres" => o.postgres = Some(value),
            "--subscribers" => o.subscribers = value.parse().expect("--subscribers S"),
            "--verifications" => o.verifications = value.parse().expect("--verifications V"),
            "--binary" => o.binary = value,
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    assert!(
        matches!(o.only.as_deref(), None | Some("import") | Some("latency")),
        "--only import|latency"
    );
    assert!(
        o.messages > 0 && o.concurrency > 0,
        "--messages and --concurrency at least 1"
    );
    o
}

fn summary(mut micros: Vec<i64>) -> String {
    micros.sort_unstable();
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&micros, 50.0),
        percentile(&micros, 99.0),
        percentile(&micros, 100.0)
    )
}

// ---------------------------------------------------------------------------------------
// Part 1: HL7 messages imported per second.

/// The fixture, answering orders `{prefix}{i}A` and `{prefix}{i}B` with control id
/// `{prefix}{i}`.
fn message(prefix: &str, i: usize) -> String {
    let rewritten = FIXTURE
        .replacen("|SomeSystem||", "|SomeSystem|REFLAB|", 1)
        // The second group answers the order's own test (the fixture names a differential).
        .replace("|26464-8^", "|57021-8^")
        .replace("|88502218|", &format!("|{prefix}{i}A|"))
        .replace("|855238581|", &format!("|{prefix}{i}B|"))
        .replace("|182|", &format!("|{prefix}{i}|"));
    assert_eq!(rewritten.matches(&format!("|{prefix}{i}")).count(), 3);
    rewritten
}

/// Donald Duck of the fixture, a patient here with a visit; returns the visit.
async fn donald_duck(store: &Store) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let facility = plateau_app::facility::store::first_id(&mut tx)
        .await
        .unwrap()
        .unwrap();
    let patient = plateau_app::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO patient (facility_id, record_number, family_name, given_name, birth_date, sex, preferred_language) \
         VALUES ($1, '10006579', 'Duck', 'Donald', $2, 'male', 'en') RETURNING id",
        facility,
        chrono::NaiveDate::from_ymd_opt(1924, 10, 10).unwrap()
    )
    .unwrap();
    let visit = plateau_app::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO visit (patient_id, reason, arrived_at, state) VALUES ($1, 'Bilan', $2, 'queued') RETURNING id",
        patient,
        chrono::Utc::now()
    )
    .unwrap();
    tx.commit().await.unwrap();
    visit
}

/// The two send-out orders each message of a run answers, collected and shipped to the
/// demo reference lab, awaiting results.
async fn send_out_orders(store: &Store, visit: i64, prefix: &str, messages: usize) {
    let mut tx = store.begin().await.unwrap();
    let now = chrono::Utc::now();
    let shipment = plateau_app::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO shipment (reference_lab_id, state, packed_by, packed_at, shipped_at) \
         SELECT r.id, 'shipped', a.staff_member_id, $1, $1 FROM reference_lab r, account a \
         WHERE r.code = 'REFLAB' AND a.username = 'i.chevalier' RETURNING id",
        now
    )
    .unwrap();
    for i in 0..messages {
        for (suffix, loinc) in [("A", "24317-0"), ("B", "57021-8")] {
            let placer = format!("{prefix}{i}{suffix}");
            let specimen = plateau_app::fetch_scalar!(
                tx.exec(),
                i64,
                "INSERT INTO specimen (accession, visit_id, specimen_type, body_site, identity_checks, collected_by, \
                 collected_at, state, shipment_id) SELECT $1, $2, 'BLD', '', 'name_birth_date', a.staff_member_id, $3, \
                 'shipped', $4 FROM account a WHERE a.username = 'c.lefevre' RETURNING id",
                format!("S-{placer}"),
                visit,
                now,
                shipment
            )
            .unwrap();
            let made = plateau_app::execute!(
                tx.exec(),
                "INSERT INTO lab_order (visit_id, lab_test_id, placer_number, priority, note, ordered_by, ordered_at, \
                 state, specimen_id) SELECT $1, t.id, $2, 'routine', '', a.staff_member_id, $3, 'collected', $5 \
                 FROM lab_test t, account a WHERE t.loinc = $4 AND a.username = 'c.lefevre'",
                visit,
                &placer,
                now,
                loinc,
                specimen
            )
            .unwrap();
            assert_eq!(made, 1, "order {placer}");
        }
    }
    tx.commit().await.unwrap();
}

async fn count(store: &Store, sql: &str, prefix: &str) -> i64 {
    plateau_app::fetch_scalar!(store.read(), i64, sql, format!("{prefix}%")).unwrap()
}

/// Imports `messages` with `importers` at once (each message twice when `twice`); checks
/// every answer and what was stored; prints the rate when `report`.
async fn import_run(
    store: &Store,
    visit: i64,
    prefix: &str,
    messages: usize,
    importers: usize,
    twice: bool,
    report: bool,
) {
    send_out_orders(store, visit, prefix, messages).await;
    let texts: Arc<Vec<String>> = Arc::new((0..messages).map(|i| message(prefix, i)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let token = import::token_digest(plateau_app::demo::DEMO_INTERFACE_TOKEN);
    let lab: Arc<Vec<import::Sender>> = Arc::new(
        plateau_app::lab::store::sender_by_token(store, &token)
            .await
            .unwrap()
            .into_iter()
            .collect(),
    );
    for _ in 0..importers {
        let (store, texts, next, lab) = (store.clone(), texts.clone(), next.clone(), lab.clone());
        tasks.push(tokio::spawn(async move {
            let (mut first, mut resent) = (Vec::new(), Vec::new());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(text) = texts.get(i) else { break };
                let sends = if twice { 2 } else { 1 };
                for send in 0..sends {
                    let at = Instant::now();
                    let answer =
                        import::import(&store, text, &lab, Transport::Http, chrono::Utc::now()).await;
                    let took = at.elapsed().as_micros() as i64;
                    let expected_text = send == 1;
                    if answer.code != AckCode::Accept
                        || answer.ack.contains("already received") != expected_text
                    {
                        eprintln!(
                            "message {i} (send {}) not filed as expected:\n{}",
                            send + 1,
                            answer.ack.replace('\r', "\n")
                        );
                        std::process::exit(1);
                    }
                    if send == 0 {
                        first.push(took);
                    } else {
                        resent.push(took);
                    }
                }
            }
            (first, resent)
        }));
    }
    let (mut first, mut resent) = (Vec::new(), Vec::new());
    for task in tasks {
        let (f, r) = task.await.unwrap();
        first.extend(f);
        resent.extend(r);
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Everything filed once, nothing twice.
    let stored = count(
        store,
        "SELECT COUNT(*) FROM hl7_message WHERE control_id LIKE $1 AND outcome = 'filed'",
        prefix,
    )
    .await;
    let results = count(
        store,
        "SELECT COUNT(*) FROM lab_result r JOIN hl7_message m ON m.id = r.hl7_message_id WHERE m.control_id LIKE $1",
        prefix,
    )
    .await;
    let answered = count(
        store,
        "SELECT COUNT(*) FROM lab_order WHERE placer_number LIKE $1 AND state <> 'collected'",
        prefix,
    )
    .await;
    let n = messages as i64;
    assert_eq!(stored, n, "messages stored");
    assert_eq!(results, RESULTS_PER_MESSAGE * n, "results stored");
    assert_eq!(answered, 2 * n, "orders answered");
    if !report {
        return;
    }
    let how = if importers == 1 {
        "one at a time".to_owned()
    } else {
        format!("{importers} importers at once")
    };
    if twice {
        println!(
            "  {how}, each sent twice: {} deliveries in {elapsed:.2} s = {:.0} deliveries/s \
             ({:.0} distinct messages/s); first sends {}; resends {}",
            2 * messages,
            2.0 * messages as f64 / elapsed,
            messages as f64 / elapsed,
            summary(first),
            summary(resent)
        );
    } else {
        println!(
            "  {how}: {messages} messages in {elapsed:.2} s = {:.0} messages/s \
             ({:.0} results/s); per message {}",
            messages as f64 / elapsed,
            (RESULTS_PER_MESSAGE * n) as f64 / elapsed,
            summary(first)
        );
    }
}

async fn import_bench(o: &Options) {
    let database = Database::create(o.postgres.as_deref(), "import").await;
    let store = Store::connect(database.url()).await.unwrap();
    store.migrate().await.unwrap();
    plateau_app::demo::seed(&store, chrono::Utc::now()).await.unwrap();
    let visit = donald_duck(&store).await;
    println!(
        "HL7 import, {}: {} messages of 2 order groups and {RESULTS_PER_MESSAGE} results each",
        database.kind(),
        o.messages
    );
    let k = o.concurrency;
    // Not reported: warms the connection pools, the statement caches and the database file.
    import_run(&store, visit, "W", 100, 1, false, false).await;
    import_run(&store, visit, "S", o.messages, 1, false, true).await;
    import_run(&store, visit, "C", o.messages, k, false, true).await;
    import_run(&store, visit, "D", o.messages, 1, true, true).await;
    import_run(&store, visit, "E", o.messages, k, true, true).await;
    store.close().await;
    database.remove().await;
}

// ---------------------------------------------------------------------------------------
// Part 2: verification-to-tablet latency, on a real server.

/// Calls the server's functions as our client does: form posts from its origin, asking
/// for JSON, with a session cookie.
struct Api {
    client: reqwest::Client,
    origin: String,
}

impl Api {
    async fn sign_in(&self, username: &str) -> String {
        let response = self
            .client
            .post(format!("{}/api/sign_in", self.origin))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .form(&[
                ("username", username),
                ("password", plateau_app::demo::DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "sign in as {username}");
        let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn call(&self, cookie: &str, endpoint: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let response = self
            .client
            .post(format!("{}/api/{endpoint}", self.origin))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{endpoint}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// The order's version, as the lab workstation sees it through its specimen.
    async fn version(&self, cookie: &str, accession: &str, order: i64) -> String {
        let desk = self
            .call(cookie, "specimen_desk", &[("accession", accession)])
            .await;
        desk["orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == order)
            .map(|o| o["version"].to_string())
            .unwrap()
    }
}

/// One room tablet: a WebSocket subscription to `rooms`, reporting every `lab.order`
/// `verified` event it reads as (order, read at, committed at).
async fn tablet(
    port: u16,
    cookie: String,
    ready: tokio::sync::mpsc::Sender<()>,
    seen: tokio::sync::mpsc::UnboundedSender<(i64, i64, i64)>,
) {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let mut request = format!("ws://127.0.0.1:{port}/api/live?topics=rooms")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert("origin", format!("http://127.0.0.1:{port}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut announced = false;
    while let Some(Ok(message)) = socket.next().await {
        let received = now_micros();
        let Message::Text(text) = message else { continue };
        for block in text.split("\n\n") {
            if !announced && block.contains("event: ready") {
                announced = true;
                let _ = ready.send(()).await;
            }
            if !block.contains("verified") {
                continue;
            }
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            if event["kind"] == "lab.order" && event["code"] == "verified" {
                let order = event["subject"].as_i64().unwrap();
                let _ = seen.send((order, received, event["at"].as_i64().unwrap()));
            }
        }
    }
}

async fn latency_bench(o: &Options) {
    let database = Database::create(o.postgres.as_deref(), "latency").await;
    let arguments = match &database {
        Database::Sqlite { dir, .. } => vec!["--data-dir".to_owned(), dir.display().to_string()],
        Database::Postgres { url, .. } => vec!["--database-url".to_owned(), url.clone()],
    };
    let server = start_server(&o.binary, &arguments).await;
    let api = Api {
        client: reqwest::Client::new(),
        origin: format!("http://127.0.0.1:{}", server.port),
    };
    let nurse = api.sign_in("a.girard").await;
    let physician = api.sign_in("c.lefevre").await;
    let technician = api.sign_in("i.chevalier").await;

    // Paul Garnier's potassium, received at the bench in the demo clinic.
    let worklist = api.call(&technician, "lab_worklist", &[]).await;
    let garnier = worklist["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| {
            item["patient"]["family_name"] == "Garnier" && item["order"]["test"]["loinc"] == "2823-3"
        })
        .expect("the demo's potassium for Garnier")["order"]
        .clone();
    let visit = garnier["visit_id"].to_string();
    let test = garnier["test"]["id"].to_string();
    let mut waiting = Some((
        garnier["id"].as_i64().unwrap(),
        garnier["specimen"]["accession"].as_str().unwrap().to_owned(),
    ));

    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(o.subscribers);
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tablets = Vec::new();
    for _ in 0..o.subscribers {
        tablets.push(tokio::spawn(tablet(
            server.port,
            nurse.clone(),
            ready_tx.clone(),
            seen_tx.clone(),
        )));
    }
    for _ in 0..o.subscribers {
        ready_rx.recv().await.unwrap();
    }

    let (mut from_call, mut from_commit, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    let mut delivered = 0;
    // The last tablet's latency, verification by verification.
    let mut slowest: Vec<i64> = Vec::new();
    for _ in 0..o.verifications {
        // A received potassium: the demo's first, then one ordered, collected and received
        // each time.
        let (order, accession) = match waiting.take() {
            Some(found) => found,
            None => {
                let form = [
                    ("visit_id", visit.as_str()),
                    ("test_id", test.as_str()),
                    ("priority", "stat"),
                    ("note", ""),
                ];
                let order = api
                    .call(&physician, "order_lab_test", &form)
                    .await
                    .as_i64()
                    .unwrap();
                let id = order.to_string();
                let form = [
                    ("visit_id", visit.as_str()),
                    ("order_ids[0]", id.as_str()),
                    ("identity_check", "name_birth_date"),
                    ("name_confirmed", "true"),
                    ("stated_birth_date", "1972-01-09"),
                ];
                let accession = api.call(&physician, "collect_specimen", &form).await;
                let accession = accession.as_str().unwrap().to_owned();
                api.call(&technician, "receive_specimen", &[("accession", &accession)])
                    .await;
                (order, accession)
            }
        };
        let id = order.to_string();
        let version = api.version(&technician, &accession, order).await;
        let form = [
            ("order_id", id.as_str()),
            ("version", version.as_str()),
            ("value", "4.1"),
            ("unit", "mmol/L"),
        ];
        api.call(&technician, "enter_result", &form).await;
        let version = api.version(&technician, &accession, order).await;
        // Let the tablets read the earlier steps' events first.
        tokio::time::sleep(Duration::from_millis(50)).await;

        let before = now_micros();
        let form = [("order_id", id.as_str()), ("version", version.as_str())];
        api.call(&technician, "verify_result", &form).await;
        calls.push(now_micros() - before);
        let mut readers = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while readers < o.subscribers {
            match tokio::time::timeout_at(deadline, seen_rx.recv()).await {
                Ok(Some((subject, received, at))) if subject == order => {
                    readers += 1;
                    from_call.push(received - before);
                    from_commit.push(received - at);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        delivered += readers;
        slowest.push(
            from_call[from_call.len() - readers..]
                .iter()
                .copied()
                .max()
                .unwrap_or(0),
        );
    }
    drop(server);
    for tablet in tablets {
        let _ = tablet.await;
    }
    database.remove().await;
    let expected = o.verifications * o.subscribers;
    println!(
        "Verification to tablet, {}, 1 server: {} tablets on `rooms` over WebSockets, {} verifications",
        database_kind(o),
        o.subscribers,
        o.verifications
    );
    println!(
        "  received {delivered} of {expected} `verified` events ({} missing)",
        expected - delivered
    );
    println!(
        "  from just before verify_result to the tablet: {}",
        summary(from_call)
    );
    println!(
        "  from the server's commit time to the tablet:  {}",
        summary(from_commit)
    );
    println!(
        "  verify_result call (answer received):         {}",
        summary(calls)
    );
    let mut worst: Vec<(usize, i64)> = slowest.iter().copied().enumerate().collect();
    worst.sort_by_key(|(_, micros)| -micros);
    let worst: Vec<String> = worst
        .iter()
        .take(3)
        .map(|(i, micros)| format!("#{} {:.1} ms", i + 1, *micros as f64 / 1000.0))
        .collect();
    println!(
        "  last tablet per verification: {}; slowest verifications {}",
        summary(slowest),
        worst.join(", ")
    );
}

fn database_kind(o: &Options) -> &'static str {
    if o.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    if o.only.as_deref() != Some("latency") {
        import_bench(&o).await;
    }
    if o.only.as_deref() != Some("import") {
        latency_bench(&o).await;
    }
}
