//! Patients benchmark (issue 17), on a fresh SQLite or PostgreSQL database:
//! 1. Patient search answer time with N patients (default 100,000): the store's search
//!    (`plateau_app::patients::store::search`, what `search_patients` runs after its
//!    checks), for what a desk types: a family name's first letters, a full name, a name
//!    and a birth date, a record number; p50 and p99 over every query.
//! 2. ADT messages imported per second: the front office's importer
//!    (`plateau_app::admissions::import::import`) called directly, no HTTP, each an A04
//!    for a new patient (registered and checked in), then each an A08 updating one.
//!
//!   cargo build --release -p plateau --example patients_bench
//!   target/release/examples/patients_bench [--patients 100000] [--messages 2000] \
//!       [--postgres postgres://postgres@127.0.0.1:5432/postgres]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use plateau_app::lab::hl7::AckCode;
use plateau_app::lab::import::{SenderRole, Transport};
use plateau_app::patients::identity::IdentityForm;
use std::time::Instant;
use support::{percentile, Database};

const FAMILIES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefebvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Œuvray",
    "Nguyen",
];
const GIVEN: &[&str] = &[
    "Marie", "Jean", "Léa", "Hélène", "Paul", "Zoé", "Louis", "Chloé", "Gabriel", "Inès", "Jules", "Emma",
    "Adam", "Élise", "Noé", "Jade", "Raphaël", "Louise", "Arthur", "Anaïs",
];

fn argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let patients: usize = argument("--patients").map_or(100_000, |n| n.parse().unwrap());
    let messages: usize = argument("--messages").map_or(2_000, |n| n.parse().unwrap());
    let postgres = argument("--postgres");
    let database = Database::create(postgres.as_deref(), "patients").await;
    let store = plateau_app::store::Store::connect(database.url()).await.unwrap();
    store.migrate().await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut tx = store.begin().await.unwrap();
    let facility_id =
        plateau_app::facility::store::create(&mut tx, "Banc d'essai", "Europe/Paris", chrono::Utc::now())
            .await
            .unwrap();
    tx.commit().await.unwrap();

    let started = Instant::now();
    let mut tx = store.begin().await.unwrap();
    for i in 0..patients {
        let form = IdentityForm {
            record_number: format!("B{i:07}"),
            assigning_authority: "BENCH".into(),
            family_name: format!(
                "{}{}",
                FAMILIES[i % FAMILIES.len()],
                if i % 7 == 0 { "-Lenoir" } else { "" }
            ),
            given_name: GIVEN[(i / FAMILIES.len()) % GIVEN.len()].into(),
            birth_date: format!("{}-{:02}-{:02}", 1930 + i % 90, 1 + i % 12, 1 + i % 28),
            sex: if i % 2 == 0 { "female" } else { "male" }.into(),
            preferred_language: "fr".into(),
            ..IdentityForm::default()
        };
        let identity = form.check(today).unwrap();
        let number = identity.record_number.clone().unwrap();
        plateau_app::patients::registry::insert(&mut tx, facility_id, &number, &identity, chrono::Utc::now())
            .await
            .unwrap();
        if i % 10_000 == 9_999 {
            tx.commit().await.unwrap();
            tx = store.begin().await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    println!(
        "{}: {patients} patients registered in {:.1} s",
        database.kind(),
        started.elapsed().as_secs_f64()
    );

    // 1. Search, as desks type.
    let typed = [
        "dur",
        "lefe",
        "martin marie",
        "oeuvray helene",
        "garcia 1955-06-25",
        "B0054321",
        "nguyen",
        "le",
    ];
    let mut times = Vec::new();
    let mut found = 0;
    for round in 0..50 {
        for query in typed {
            let query = plateau_app::patients::matching::PatientQuery::read(query);
            let at = Instant::now();
            let answer = plateau_app::patients::store::search(&store, facility_id, &query, 26)
                .await
                .unwrap();
            times.push(at.elapsed().as_micros() as i64);
            if round == 0 {
                found += answer.len();
            }
        }
    }
    times.sort_unstable();
    println!(
        "{}: search among {patients} patients, {} queries ({found} patients found by one round): p50 {:.2} ms, p99 {:.2} ms",
        database.kind(),
        times.len(),
        percentile(&times, 50.0) / 1000.0,
        percentile(&times, 99.0) / 1000.0
    );

    // 2. ADT messages per second.
    let setup =
        plateau_app::lab::act::ReferenceLabSetup::checked("ACCUEIL", "Accueil", "ACCUEIL", &[]).unwrap();
    let (_, token) = plateau_app::lab::act::set_up_reference_lab(
        &store,
        facility_id,
        &setup,
        SenderRole::FrontOffice,
        true,
        plateau_app::lab::act::Who::Interface("bench"),
    )
    .await
    .unwrap();
    let digest = plateau_app::lab::import::token_digest(&token.unwrap());
    let sender = plateau_app::lab::store::sender_by_token(&store, &digest)
        .await
        .unwrap()
        .unwrap();
    let message = |event: &str, i: usize| {
        format!(
            "MSH|^~\\&|FO|ACCUEIL|PLATEAU|CLINIQUE|20261203101500||ADT^{event}^ADT_A01|{event}-{i}|P|2.5\r\
             PID|1||A{i:07}^^^CHU^MR||Durand^Élise||19580714|F\rPV1|1|O|||||||||||||||||V{i}^^^CHU^VN\r\
             PV2|||^Plaie de la main\r"
        )
    };
    for event in ["A04", "A08"] {
        let started = Instant::now();
        for i in 0..messages {
            let raw = message(event, i).replace("Élise", if event == "A08" { "Élisa" } else { "Élise" });
            let answer = plateau_app::admissions::import::import(
                &store,
                &raw,
                std::slice::from_ref(&sender),
                Transport::Mllp,
                chrono::Utc::now(),
            )
            .await;
            assert_eq!(answer.code, AckCode::Accept, "{}", answer.ack);
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{}: {messages} ADT {event} imported one at a time in {seconds:.1} s: {:.0} messages/s",
            database.kind(),
            messages as f64 / seconds
        );
    }
    store.close().await;
    database.remove().await;
}
