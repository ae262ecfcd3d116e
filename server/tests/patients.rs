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

/// A clinic with no demo: its first administrator, a front desk, a physician and a
/// supervisor, as `plateau user add` makes them.
async fn empty_clinic(db: &common::TestDb) -> common::TestServer {
    for (username, role) in [
        ("admin", "administrator"),
        ("desk", "front_desk"),
        ("doctor", "physician"),
        ("chief", "supervisor"),
    ] {
        common::add_account(&db.store, username, &[role]).await;
    }
    common::TestServer::start(db.store.clone()).await
}

async fn sign_in(server: &common::TestServer, username: &str) {
    let answer = server.sign_in(username, common::TEST_PASSWORD).await;
    assert_eq!(answer.status(), 200, "{username}");
}

/// The form fields of an identity, `identity[...]` as a browser's form sends them.
fn identity(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let defaults = [
        ("family_name", "Œuvray"),
        ("given_name", "Hélène"),
        ("birth_date", "1971-06-02"),
        ("sex", "female"),
        ("preferred_language", "fr"),
    ];
    let mut form: Vec<(String, String)> = defaults
        .iter()
        .filter(|(name, _)| !fields.iter().any(|(f, _)| f == name))
        .chain(fields.iter())
        .map(|(name, value)| {
            let name = if name.starts_with("identity")
                || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            {
                (*name).to_owned()
            } else {
                format!("identity[{name}]")
            };
            (name, (*value).to_owned())
        })
        .collect();
    form.sort();
    form
}

async fn register(server: &common::TestServer, form: &[(String, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    server.call("register_patient", &pairs).await
}

async fn patients_in(db: &common::TestDb) -> i64 {
    plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT COUNT(*) FROM patient").unwrap()
}

on_both_databases!(
    an_empty_clinic_registers_its_first_patients_and_is_warned_of_a_duplicate,
    |db| {
        let server = empty_clinic(&db).await;
        sign_in(&server, "desk").await;
        assert!(found(&server, "oeuvray").await.is_empty());
        let first: Value = register(
            &server,
            &identity(&[
                ("trusted_person", "Paul Œuvray (frère), 06 12 34 56 78"),
                ("weight_kg", "61,5"),
                ("weighed_on", "2026-11-30"),
                ("allergy_status", "recorded"),
                ("identity[allergies][0][substance]", "Pénicilline"),
                ("identity[allergies][0][reaction]", "Urticaire"),
                ("identity[allergies][0][severity]", "moderate"),
            ]),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(first["Registered"]["record_number"], "P000001", "{first}");
        let first_id = first["Registered"]["patient_id"].as_i64().unwrap();
        // Plateau's numbers are found like any other, and the record reads back whole.
        assert_eq!(search(&server, "helene oeuvray").await, vec!["P000001"]);
        let record: Value = server
            .call("patient_record", &[("patient_id", &first_id.to_string())])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(record["identity"]["weight"]["grams"], 61_500, "{record}");
        assert_eq!(record["identity"]["allergies"][0]["substance"], "Pénicilline");
        assert_eq!(record["identity"]["allergy_status"], "recorded");

        // The same person typed again, with a slip and the names swapped: shown, not stored.
        let again = identity(&[("family_name", "Helene"), ("given_name", "Oeuvrai")]);
        let answer: Value = register(&server, &again).await.json().await.unwrap();
        assert_eq!(
            answer["ProbableDuplicates"][0]["record_number"], "P000001",
            "{answer}"
        );
        assert_eq!(patients_in(&db).await, 1);
        // The desk looked: this is someone else (a namesake born the same day).
        let mut seen = again.clone();
        seen.push(("seen_duplicates[0]".into(), first_id.to_string()));
        let second: Value = register(&server, &seen).await.json().await.unwrap();
        assert_eq!(second["Registered"]["record_number"], "P000002", "{second}");
        // A front office's number, with its authority.
        let theirs: Value = register(
            &server,
            &identity(&[
                ("family_name", "Straße"),
                ("record_number", "880012"),
                ("assigning_authority", "CHU-NANTES"),
            ]),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(theirs["Registered"]["record_number"], "880012", "{theirs}");
        let audited = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT COUNT(*) FROM audit_event WHERE action = $1 AND patient_id IS NOT NULL",
            "patient.register"
        )
        .unwrap();
        assert_eq!(audited, 3);
        // Those who do not register patients may not.
        for username in ["doctor", "admin"] {
            sign_in(&server, username).await;
            assert_eq!(
                register(&server, &identity(&[])).await.status(),
                403,
                "{username}"
            );
        }
    }
);

on_both_databases!(
    a_registration_with_bad_input_is_refused_whole_and_stores_nothing,
    |db| {
        let server = empty_clinic(&db).await;
        sign_in(&server, "desk").await;
        let taken = identity(&[("record_number", "880012"), ("assigning_authority", "CHU")]);
        assert_eq!(register(&server, &taken).await.status(), 200);
        let before = patients_in(&db).await;
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let long = "x".repeat(81);
        for (field, value, wanted) in [
            ("birth_date", tomorrow.as_str(), "Implausible"),
            ("birth_date", "1890-01-01", "Implausible"),
            ("birth_date", "02/06/1971", "Malformed"),
            ("family_name", "   ", "Required"),
            ("family_name", "Du\u{1}rand", "Malformed"),
            ("given_name", long.as_str(), "TooLong"),
            ("sex", "F", "Malformed"),
            ("preferred_language", "français", "Malformed"),
            ("weight_kg", "61,5", "Required"),
        ] {
            let answer = register(&server, &identity(&[(field, value)])).await;
            assert_eq!(answer.status(), 400, "{field}={value:?}");
            let body: Value = answer.json().await.unwrap();
            let problems = body["Invalid"].as_array().cloned().unwrap_or_default();
            assert!(
                problems.iter().any(|p| p["problem"] == wanted),
                "{field}={value:?}: {body}"
            );
        }
        // A number already used: told on its field.
        let other = identity(&[
            ("family_name", "Martin"),
            ("record_number", "880012"),
            ("assigning_authority", "CHU"),
        ]);
        let answer = register(&server, &other).await;
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["Invalid"][0]["field"], "record_number", "{body}");
        assert_eq!(body["Invalid"][0]["problem"], "AlreadyTaken", "{body}");
        // An unreadable request: nothing either.
        let answer = server.call("register_patient", &[("identity", "x")]).await;
        assert_eq!(answer.status(), 400);
        assert_eq!(patients_in(&db).await, before);
    }
);

on_both_databases!(
    an_identity_change_is_audited_with_the_old_value_and_a_stale_edit_is_refused,
    |db| {
        let server = empty_clinic(&db).await;
        sign_in(&server, "desk").await;
        let registered: Value = register(&server, &identity(&[])).await.json().await.unwrap();
        let id = registered["Registered"]["patient_id"]
            .as_i64()
            .unwrap()
            .to_string();
        let mut edit = identity(&[("family_name", "Œuvray-Martin"), ("allergy_status", "none_known")]);
        edit.push(("patient_id".into(), id.clone()));
        edit.push(("version".into(), "0".into()));
        let pairs: Vec<(&str, &str)> = edit.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let record: Value = server.call("update_patient", &pairs).await.json().await.unwrap();
        assert_eq!(record["version"], 1, "{record}");
        assert_eq!(record["identity"]["family_name"], "Œuvray-Martin");
        let detail = plateau_app::fetch_scalar!(
            db.store.read(),
            String,
            "SELECT detail FROM audit_event WHERE action = $1",
            "patient.update"
        )
        .unwrap();
        assert!(
            detail.contains("family_name: «Œuvray» → «Œuvray-Martin»"),
            "{detail}"
        );
        assert!(
            detail.contains("allergy_status: «unasked» → «none_known»"),
            "{detail}"
        );
        // The new name is found, and the old one no longer.
        assert_eq!(found(&server, "martin").await, Vec::<String>::new());
        assert_eq!(search(&server, "oeuvray martin").await, vec!["P000001"]);
        // Another desk's edit, made on version 0, comes second: refused, not overwritten.
        let answer = server.call("update_patient", &pairs).await;
        assert_eq!(answer.status(), 409);
        // The same checks as registering.
        let mut bad = identity(&[("birth_date", "1800-01-01")]);
        bad.push(("patient_id".into(), id.clone()));
        bad.push(("version".into(), "1".into()));
        let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(server.call("update_patient", &pairs).await.status(), 400);
        let unknown = server.call("patient_record", &[("patient_id", "999999")]).await;
        assert_eq!(unknown.status(), 404);
    }
);

on_both_databases!(
    a_supervisor_merges_a_duplicate_and_everything_of_it_follows,
    |db| {
        let server = empty_clinic(&db).await;
        sign_in(&server, "desk").await;
        let kept: Value = register(&server, &identity(&[])).await.json().await.unwrap();
        let kept = kept["Registered"]["patient_id"].as_i64().unwrap();
        let mut duplicate = identity(&[
            ("family_name", "Euvray"),
            ("allergy_status", "recorded"),
            ("identity[allergies][0][substance]", "Latex"),
            ("identity[allergies][0][severity]", "severe"),
        ]);
        duplicate.push(("seen_duplicates[0]".into(), kept.to_string()));
        let merged: Value = register(&server, &duplicate).await.json().await.unwrap();
        let merged = merged["Registered"]["patient_id"].as_i64().unwrap();
        let visit: i64 = server
            .call(
                "check_in",
                &[("patient_id", &merged.to_string()), ("reason", "Pansement")],
            )
            .await
            .json()
            .await
            .unwrap();
        let (kept, merged) = (kept.to_string(), merged.to_string());
        let caller = &server;
        let merge = |kept: &str, merged: &str, reason: &str| {
            let form = [("kept_id", kept), ("merged_id", merged), ("reason", reason)];
            let form: Vec<(String, String)> = form
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            async move {
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                caller.call("merge_patients", &pairs).await
            }
        };
        // The front desk warns; a supervisor merges.
        assert_eq!(
            merge(&kept, &merged, "Même personne, vérifié à l'accueil")
                .await
                .status(),
            403
        );
        sign_in(&server, "chief").await;
        let itself = merge(&kept, &kept, "Même personne, vérifié à l'accueil").await;
        assert_eq!(itself.status(), 400);
        let body: Value = itself.json().await.unwrap();
        assert_eq!(body["Invalid"][0]["field"], "merged_id", "{body}");
        assert_eq!(merge(&kept, &merged, "oui").await.status(), 400);
        assert_eq!(
            merge(&kept, "999999", "Même personne, vérifié à l'accueil")
                .await
                .status(),
            404
        );
        common::ok(merge(&kept, &merged, "Même personne, vérifié à l'accueil").await).await;
        // The visit and the allergy now belong to the kept record.
        let owner = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT patient_id FROM visit WHERE id = $1",
            visit
        )
        .unwrap();
        assert_eq!(owner.to_string(), kept);
        sign_in(&server, "desk").await;
        let record: Value = server
            .call("patient_record", &[("patient_id", &kept)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            record["identity"]["allergies"][0]["substance"], "Latex",
            "{record}"
        );
        assert_eq!(record["identity"]["allergy_status"], "recorded");
        // The duplicate is found no more, and says where it went.
        assert_eq!(search(&server, "oeuvray").await, vec!["P000001"]);
        let gone: Value = server
            .call("patient_record", &[("patient_id", &merged)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(gone["merged_into"].to_string(), kept);
        // Merging it again, or checking it in, is refused with the reason.
        sign_in(&server, "chief").await;
        assert_eq!(
            common::refusal(merge(&kept, &merged, "Même personne, vérifié à l'accueil").await).await,
            "record_merged"
        );
        for patient in [&kept, &merged] {
            let audited = plateau_app::fetch_scalar!(
                db.store.read(),
                i64,
                "SELECT COUNT(*) FROM audit_event WHERE action LIKE 'patient.merge%' AND patient_id = $1",
                patient.parse::<i64>().unwrap()
            )
            .unwrap();
            assert_eq!(audited, 1, "{patient}");
        }
    }
);
