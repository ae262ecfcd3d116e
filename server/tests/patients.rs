//! Patients as a real clinic receives them (issue 17): found as the front desk types.
#![allow(clippy::unwrap_used)]

mod common;

use plateau_app::patients::{NewPatient, PatientSearch, Sex};
use serde_json::Value;

async fn add_patient(db: &common::TestDb, record: &str, family: &str, given: &str, born: &str) -> i64 {
    let facility_id =
        plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT MIN(id) FROM facility").unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let id = plateau_app::patients::store::create_patient(
        &mut tx,
        facility_id,
        &NewPatient {
            record_number: record.to_owned(),
            family_name: family.to_owned(),
            given_name: given.to_owned(),
            birth_date: born.parse().unwrap(),
            sex: Sex::Female,
            preferred_language: "fr".to_owned(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn search(server: &common::TestServer, typed: &str) -> Vec<String> {
    let answer = server.call("patients", &[("typed", typed)]).await;
    assert_eq!(answer.status(), 200, "{typed}");
    let search: PatientSearch = answer.json().await.unwrap();
    search.patients.into_iter().map(|p| p.record_number).collect()
}

/// What a search finds among the patients this test made (the demo clinic has its own
/// Hélène).
async fn found(server: &common::TestServer, typed: &str) -> Vec<String> {
    let mut ours = search(server, typed).await;
    ours.retain(|record| record.starts_with("P-"));
    ours
}

on_both_databases!(
    the_front_desk_finds_patients_however_their_names_are_typed,
    |db| {
        let server = common::demo_server(&db).await;
        add_patient(&db, "P-100", "Œuvray", "Hélène", "1971-06-02").await;
        add_patient(&db, "P-101", "Straße", "Jürgen", "1980-01-31").await;
        add_patient(&db, "P-102", "Oeuvray", "Paul", "1990-12-24").await;
        server.sign_in_demo("s.lambert").await;
        for typed in ["Hélène", "helene", "HELENE", "hel"] {
            assert_eq!(found(&server, typed).await, vec!["P-100"], "{typed}");
        }
        for typed in ["Œuvray", "oeuvray", "OEUV"] {
            assert_eq!(found(&server, typed).await, vec!["P-100", "P-102"], "{typed}");
        }
        assert_eq!(found(&server, "oeuvray paul").await, vec!["P-102"]);
        assert_eq!(found(&server, "strasse").await, vec!["P-101"]);
        assert_eq!(found(&server, "Straße jurgen").await, vec!["P-101"]);
        // By date of birth, by record number, and the two with a name.
        assert_eq!(found(&server, "02/06/1971").await, vec!["P-100"]);
        assert_eq!(found(&server, "oeuvray 1990-12-24").await, vec!["P-102"]);
        assert_eq!(found(&server, "p-101").await, vec!["P-101"]);
        assert!(found(&server, "nobody").await.is_empty());
        // The demo clinic's patients were indexed when they were made.
        assert_eq!(search(&server, "durand élise").await, vec!["DEMO-0001"]);
        assert!(search(&server, "hélène").await.len() >= 2);
        // Every patient answered is named in the audit trail.
        let named = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT COUNT(*) FROM audit_event WHERE action = $1 AND patient_id IS NOT NULL",
            "patient.search"
        )
        .unwrap();
        assert!(named >= 14, "{named}");
    }
);

on_both_databases!(a_search_is_refused_when_it_is_no_search, |db| {
    let server = common::demo_server(&db).await;
    server.sign_in_demo("s.lambert").await;
    for typed in ["", "   ", "\u{200B}", "a\u{0}b", &"x".repeat(121), "-- '"] {
        let answer = server.call("patients", &[("typed", typed)]).await;
        assert_eq!(answer.status(), 400, "{typed:?}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["Invalid"][0]["field"], "typed", "{body}");
    }
    // Clinicians find their patients through rooms, board and queue, not by searching
    // the whole clinic; the administrator opens no patient.
    for username in ["a.girard", "c.lefevre", "n.faure", "i.chevalier"] {
        server.sign_in_demo(username).await;
        assert_eq!(
            server.call("patients", &[("typed", "durand")]).await.status(),
            403,
            "{username}"
        );
    }
});

on_both_databases!(
    records_made_before_names_were_indexed_are_found_after_start_up,
    |db| {
        let server = common::demo_server(&db).await;
        let facility_id =
            plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT MIN(id) FROM facility").unwrap();
        // A record as an earlier version wrote it: no words, no key.
        let mut tx = db.store.begin().await.unwrap();
        plateau_app::execute!(
        tx.exec(),
        "INSERT INTO patient (facility_id, record_number, family_name, given_name, birth_date, sex, preferred_language) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        facility_id,
        "P-OLD",
        "Ñúñez",
        "Zoé",
        chrono::NaiveDate::from_ymd_opt(1944, 2, 29).unwrap(),
        "female",
        "es"
    )
    .unwrap();
        tx.commit().await.unwrap();
        server.sign_in_demo("s.lambert").await;
        assert!(found(&server, "nunez").await.is_empty());
        let indexed = plateau_app::patients::store::index_unindexed_names(&db.store)
            .await
            .unwrap();
        assert_eq!(indexed, 1, "only the record without words");
        assert_eq!(found(&server, "nunez zoe").await, vec!["P-OLD"]);
        assert_eq!(
            plateau_app::patients::store::index_unindexed_names(&db.store)
                .await
                .unwrap(),
            0
        );
    }
);
