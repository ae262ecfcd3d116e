//! Foundation, through the real router on port 0, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{NaiveDate, Utc};
use common::TestServer;
use plateau_app::demo::{self, SeedOutcome};
use plateau_app::patients::store::{count_patients, create_patient, create_visit, NewVisit};
use plateau_app::patients::{NewPatient, Sex, VisitState};
use plateau_app::rooms::RoomsSnapshot;
use plateau_app::store::schema_columns;

async fn demo_server(db: &common::TestDb) -> TestServer {
    assert_eq!(
        demo::seed(&db.store, Utc::now()).await.unwrap(),
        SeedOutcome::Seeded
    );
    let server = TestServer::start(db.store.clone()).await;
    // A supervisor opens every room and every patient.
    server.sign_in_demo("j.morel").await;
    server
}

on_both_databases!(health_answers_only_with_the_database, |db| {
    let server = TestServer::start(db.store.clone()).await;
    let ok = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    db.store.close().await;
    let down = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(down.status(), 503);
    assert_eq!(down.text().await.unwrap(), "database unavailable");
});

on_both_databases!(rooms_render_on_the_server_in_the_browser_language, |db| {
    let server = demo_server(&db).await;
    let (status, english) = server.get_html("/", "en-GB,en;q=0.9").await;
    assert_eq!(status, 200);
    assert!(english.contains(r#"<html lang="en""#), "{english}");
    for expected in [
        "Rooms",
        "Consultation 1",
        "Occupied",
        "Housekeeping",
        "Contaminated",
        "DURAND, Élise",
        "DEMO-0001",
    ] {
        assert!(english.contains(expected), "missing {expected}");
    }
    let (_, french) = server.get_html("/", "fr-FR,fr;q=0.9").await;
    assert!(french.contains(r#"<html lang="fr""#));
    for expected in ["Salles", "Occupée", "Nettoyage", "Disponible", "IPP"] {
        assert!(french.contains(expected), "missing {expected}");
    }
    // No preference we support: French, the clinic's language.
    let (_, fallback) = server.get_html("/", "de-DE").await;
    assert!(fallback.contains("Salles"));
});

on_both_databases!(a_remembered_choice_beats_the_browser_language, |db| {
    let server = demo_server(&db).await;
    let set = server.call("language", &[("lang", "en")]).await;
    assert_eq!(set.status(), 200);
    let cookie = set
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("plateau_lang=en;"), "{cookie}");
    assert!(
        cookie.contains("SameSite=Lax") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let page = server
        .client
        .get(server.url("/"))
        .header("accept-language", "fr")
        .header("cookie", format!("plateau_lang=en; {}", server.cookie().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Rooms"));
});

on_both_databases!(language_switch_works_without_javascript, |db| {
    let server = demo_server(&db).await;
    // A browser without JavaScript posts the form and expects to be sent back.
    let response = server
        .client
        .post(server.url("/api/language"))
        .header("origin", server.origin())
        .header("accept", "text/html")
        .header("referer", server.url("/board"))
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers().get("location").unwrap().to_str().unwrap();
    assert!(location.starts_with(&server.url("/board")), "{location}");
    assert!(response.headers().get("set-cookie").is_some());
});

on_both_databases!(bad_language_is_refused_and_nothing_is_remembered, |db| {
    let server = TestServer::start(db.store.clone()).await;
    for bad in ["klingon", "", "en-US-x-very-long-private-tag"] {
        let response = server.call("language", &[("lang", bad)]).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(response.headers().get("set-cookie").is_none());
        let body = response.text().await.unwrap();
        assert!(body.contains("Invalid") && body.contains("lang"), "{body}");
    }
    let missing = server.call("language", &[]).await;
    assert_eq!(missing.status(), 400);
    assert!(missing.text().await.unwrap().contains("Malformed"));
    // A body that is not even text: refused as malformed, without the decoder's words.
    let garbage = server
        .client
        .post(server.url("/api/language"))
        .header("origin", server.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff_u8, 0xfe, 0x00, 0x80])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(garbage.text().await.unwrap(), r#""Malformed""#);
});

on_both_databases!(rooms_server_function_returns_every_room_with_its_patient, |db| {
    let server = demo_server(&db).await;
    let response = server.call("rooms", &[]).await;
    assert_eq!(response.status(), 200);
    let snapshot: RoomsSnapshot = response.json().await.unwrap();
    assert_eq!(snapshot.rooms.len(), 9);
    assert_eq!(snapshot.clock.facility_name, "Clinique des Tilleuls (démo)");
    // Europe/Paris is one or two hours ahead of UTC.
    assert!([3600, 7200].contains(&snapshot.clock.utc_offset_seconds));
    let e1 = snapshot.rooms.iter().find(|r| r.room.code == "E1").unwrap();
    assert_eq!(e1.occupant.as_ref().unwrap().patient.record_number, "DEMO-0001");
    for overview in &snapshot.rooms {
        // A room with a patient is occupied, and an occupied room has a patient.
        assert_eq!(
            overview.occupant.is_some(),
            overview.room.status == plateau_app::rooms::RoomStatus::Occupied
        );
    }
});

on_both_databases!(room_detail_refuses_bad_ids_clearly, |db| {
    let server = demo_server(&db).await;
    let malformed = server.call("room", &[("room_id", "abc")]).await;
    assert_eq!(malformed.status(), 400);
    assert!(malformed.text().await.unwrap().contains("Malformed"));
    let negative = server.call("room", &[("room_id", "-3")]).await;
    assert_eq!(negative.status(), 400);
    let unknown = server.call("room", &[("room_id", "999999")]).await;
    assert_eq!(unknown.status(), 404);
    let good = server.call("room", &[("room_id", "1")]).await;
    assert_eq!(good.status(), 200);
    let (status, page) = server.get_html("/rooms/1", "en").await;
    assert_eq!(status, 200);
    assert!(page.contains("E1 · Consultation 1") && page.contains("Reason for visit"));
    for missing in ["/rooms/999999", "/rooms/abc", "/rooms/0", "/rooms/-3"] {
        let (status, page) = server.get_html(missing, "en").await;
        assert_eq!(status, 404, "{missing}");
        assert!(page.contains("Page not found"), "{missing}");
    }
});

on_both_databases!(unknown_pages_get_a_translated_404, |db| {
    let server = TestServer::start(db.store.clone()).await;
    let (status, french) = server.get_html("/no/such/page", "fr").await;
    assert_eq!(status, 404);
    assert!(french.contains("Page introuvable"));
    let (status, english) = server.get_html("/no/such/page", "en").await;
    assert_eq!(status, 404);
    assert!(english.contains("Page not found"));
});

on_both_databases!(board_shows_rooms_queue_and_staff, |db| {
    let server = demo_server(&db).await;
    // Someone who left the clinic is no longer listed.
    let mut tx = db.store.begin().await.unwrap();
    let changed = plateau_app::execute!(
        tx.exec(),
        "UPDATE staff_member SET active = $1 WHERE family_name = $2",
        false,
        "Faure"
    )
    .unwrap();
    assert_eq!(changed, 1);
    tx.commit().await.unwrap();
    let (status, page) = server.get_html("/board", "en").await;
    assert_eq!(status, 200);
    for expected in [
        "Waiting",
        "Staff",
        "BLANC, Odile",
        // The back-office queue names each patient's procedure and its priority.
        "Waiting for the back office",
        "Venipuncture",
        "STAT",
        "Procedures under way",
        "Laceration repair",
        "Camille Lefèvre",
        "Lab technician",
        "On a break",
        "ECHO-1",
    ] {
        assert!(page.contains(expected), "missing {expected}");
    }
    // A patient who has left is on no list, nor is a former colleague.
    assert!(!page.contains("MOREAU, Jacqueline"));
    assert!(!page.contains("Nicolas Faure"));
});

on_both_databases!(an_empty_clinic_says_how_to_start, |db| {
    common::add_account(&db.store, "first.nurse", &["nurse"]).await;
    let server = TestServer::start(db.store.clone()).await;
    assert_eq!(
        server
            .sign_in("first.nurse", common::TEST_PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(server.call("room", &[("room_id", "1")]).await.status(), 404);
    let (status, page) = server.get_html("/", "en").await;
    assert_eq!(status, 200);
    assert!(page.contains("No rooms yet"));
});

on_both_databases!(demo_seed_is_idempotent, |db| {
    assert_eq!(
        demo::seed(&db.store, Utc::now()).await.unwrap(),
        SeedOutcome::Seeded
    );
    assert_eq!(
        demo::seed(&db.store, Utc::now()).await.unwrap(),
        SeedOutcome::AlreadyPresent
    );
    assert_eq!(count_patients(&db.store).await.unwrap(), 20);
    // Migrations run again are a no-op too.
    db.store.migrate().await.unwrap();
});

on_both_databases!(thirty_two_concurrent_writers_lose_nothing, |db| {
    demo::seed(&db.store, Utc::now()).await.unwrap();
    let before = count_patients(&db.store).await.unwrap();
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..32 {
        let store = db.store.clone();
        writers.spawn(async move {
            let mut tx = store.begin().await?;
            let patient = NewPatient {
                record_number: format!("LOAD-{n:03}"),
                family_name: "Charge".into(),
                given_name: format!("Test {n}"),
                birth_date: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                sex: Sex::Unknown,
                preferred_language: "fr".into(),
            };
            let patient_id = create_patient(&mut tx, 1, &patient).await?;
            let visit = NewVisit {
                patient_id,
                reason: "charge",
                arrived_at: Utc::now(),
                state: VisitState::Waiting,
                room_id: None,
                ended_at: None,
            };
            create_visit(&mut tx, &visit).await?;
            tx.commit().await
        });
    }
    let mut failures = Vec::new();
    while let Some(result) = writers.join_next().await {
        if let Err(error) = result.unwrap() {
            failures.push(error.to_string());
        }
    }
    assert!(failures.is_empty(), "writers failed: {failures:?}");
    assert_eq!(count_patients(&db.store).await.unwrap(), before + 32);
});

on_both_databases!(a_duplicate_record_number_names_the_field, |db| {
    demo::seed(&db.store, Utc::now()).await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let duplicate = NewPatient {
        record_number: "DEMO-0001".into(),
        family_name: "Autre".into(),
        given_name: "Personne".into(),
        birth_date: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        sex: Sex::Female,
        preferred_language: "fr".into(),
    };
    let error = create_patient(&mut tx, 1, &duplicate).await.unwrap_err();
    assert!(
        matches!(
            error,
            plateau_app::store::StoreError::Unique {
                field: "record_number"
            }
        ),
        "{error:?}"
    );
});

on_both_databases!(foreign_keys_are_enforced, |db| {
    let mut tx = db.store.begin().await.unwrap();
    let orphan = NewVisit {
        patient_id: 424_242,
        reason: "nobody",
        arrived_at: Utc::now(),
        state: VisitState::Waiting,
        room_id: None,
        ended_at: None,
    };
    assert!(create_visit(&mut tx, &orphan).await.is_err());
});

/// SQLite runs in WAL mode (readers never wait for the writer) with foreign keys on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_uses_wal_and_foreign_keys() {
    let db = common::TestDb::sqlite().await;
    let mode = plateau_app::fetch_scalar!(db.store.read(), String, "PRAGMA journal_mode").unwrap();
    assert_eq!(mode, "wal");
    let mut tx = db.store.begin().await.unwrap();
    let foreign_keys = plateau_app::fetch_scalar!(tx.exec(), i64, "PRAGMA foreign_keys").unwrap();
    assert_eq!(foreign_keys, 1);
    drop(tx);
    db.cleanup().await;
}

/// Both dialects' migrations must describe the same tables and columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_match() {
    let Some(pg) = common::TestDb::postgres().await else {
        eprintln!("PLATEAU_TEST_POSTGRES_URL not set: schema comparison not run");
        return;
    };
    let sqlite = common::TestDb::sqlite().await;
    let mut on_sqlite = schema_columns(&sqlite.store).await.unwrap();
    let mut on_postgres = schema_columns(&pg.store).await.unwrap();
    on_sqlite.sort();
    on_postgres.sort();
    assert!(!on_sqlite.is_empty());
    assert_eq!(on_sqlite, on_postgres);
    sqlite.cleanup().await;
    pg.cleanup().await;
}

/// A backup taken while three writers write holds every write acknowledged before it
/// began; restored elsewhere, it is whole (integrity, audit chain) and holds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_write_load_holds_every_acknowledged_write() {
    use plateau_app::audit::{Entry, Outcome};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let db = common::TestDb::sqlite().await;
    demo::seed(&db.store, Utc::now()).await.unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..3 {
        let (store, acknowledged, stop) = (db.store.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let detail = format!("write {writer}-{n}");
                let entry =
                    Entry::anonymous("backup.test", "test.write", Outcome::Allowed).detail(detail.clone());
                plateau_app::audit::record(&store, entry).await.unwrap();
                acknowledged.lock().unwrap().push(detail);
                n += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dir = std::env::temp_dir().join(format!("plateau-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clinic.backup");
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let checked = plateau_server::backup::backup(&db.store, &file).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let written = acknowledged.lock().unwrap().len();
    assert!(before.len() > 20, "the writers wrote only {}", before.len());
    assert!(checked.head.is_some());
    // The partial file is gone; the same name again is refused.
    assert!(!dir.join("clinic.backup.partial").exists());
    let again = plateau_server::backup::backup(&db.store, &file)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    // Restored into a new place, every write acknowledged before the backup is there.
    let restored_url = format!("sqlite://{}", dir.join("restored.db").display());
    let (restored, kept) = plateau_server::backup::restore(&file, &restored_url, false)
        .await
        .unwrap();
    assert_eq!(kept, None);
    assert_eq!(restored, checked);
    let store = plateau_app::store::Store::connect(&restored_url).await.unwrap();
    store.migrate().await.unwrap();
    let details: std::collections::HashSet<String> = plateau_app::fetch_all!(
        store.read(),
        (String,),
        "SELECT detail FROM audit_event WHERE action = 'test.write'"
    )
    .unwrap()
    .into_iter()
    .map(|(d,)| d)
    .collect();
    let missing: Vec<&String> = before.iter().filter(|d| !details.contains(*d)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert!(
        details.len() < written,
        "the backup is a snapshot, not the end state"
    );
    assert!(matches!(
        plateau_app::store::trail::verify(&store).await.unwrap(),
        plateau_app::store::trail::Verdict::Intact { .. }
    ));
    assert!(count_patients(&store).await.unwrap() > 0);
    store.close().await;

    // No restore under a running server, nor over a database without --replace; nothing
    // that is not a whole Plateau database is restored.
    let live = plateau_app::store::sqlite_file(&db.url).unwrap();
    let serving = plateau_server::backup::lock_serving(&live).unwrap().unwrap();
    let refused = plateau_server::backup::restore(&file, &db.url, true)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("a server is running"), "{refused}");
    drop(serving);
    let refused = plateau_server::backup::restore(&file, &restored_url, false)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("--replace"), "{refused}");
    let garbage = dir.join("garbage.backup");
    std::fs::write(&garbage, b"not a database at all, only words").unwrap();
    let refused = plateau_server::backup::restore(&garbage, &restored_url, true)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not a SQLite database"), "{refused}");
    let refused = plateau_server::backup::restore(&dir.join("none"), &restored_url, true)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("is not a file"), "{refused}");
    let refused = plateau_server::backup::restore(&file, "postgres://postgres@127.0.0.1/x", true)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("pg_restore"), "{refused}");
    // With --replace the earlier file is kept beside.
    let (_, kept) = plateau_server::backup::restore(&file, &restored_url, true)
        .await
        .unwrap();
    assert!(kept.unwrap().exists());
    let _ = std::fs::remove_dir_all(&dir);
    db.cleanup().await;
}
