//! Server pages (issue 17 screens, built as issue 18 decided): an empty clinic set up,
//! a patient registered, checked in, called and sent home from plain HTML forms that
//! load no WebAssembly; a refused form comes back with what was typed; a form acts once;
//! nobody reaches a page or its form without the right role.
#![allow(clippy::unwrap_used)]

mod common;

fn key(n: u32) -> String {
    format!("server-page-test-key-{n:08}")
}

const IDENTITY: [(&str, &str); 5] = [
    ("family_name", "Œuvray"),
    ("given_name", "Léa"),
    ("birth_date", "1990-02-03"),
    ("sex", "female"),
    ("preferred_language", "fr"),
];

on_both_databases!(
    an_empty_clinic_is_run_from_server_pages_without_javascript,
    |db| {
        common::add_account(&db.store, "admin", &["administrator"]).await;
        common::add_account(&db.store, "desk", &["front_desk"]).await;
        common::add_account(&db.store, "doctor", &["physician"]).await;
        let doctor = common::staff(&db.store, "doctor").await.to_string();
        let server = common::TestServer::start(db.store.clone()).await;

        // The administrator's room set-up: a server page, no WebAssembly, no script of ours.
        common::signed_in(&server, "admin").await;
        let (status, html) = server.get_html("/setup/rooms", "fr").await;
        assert_eq!(status, 200);
        assert!(html.contains("Aucune salle"), "{html}");
        assert!(
            !html.contains(".wasm") && !html.contains("/pkg/plateau.js"),
            "{html}"
        );
        // A bad code comes back with what was typed, and nothing is stored.
        let refused = server
            .post_page(
                "/setup/rooms",
                &[
                    ("submission", &key(1)),
                    ("code", "e x"),
                    ("name", "Examen un"),
                    ("kind", "exam"),
                ],
            )
            .await;
        // The page is drawn again with the refusal's status.
        assert_eq!(refused.status(), 400);
        let html = refused.text().await.unwrap();
        assert!(html.contains("value=\"Examen un\""), "{html}");
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM room").await, 0);
        let added = server
            .post_page(
                "/setup/rooms",
                &[
                    ("submission", &key(2)),
                    ("code", "ex1"),
                    ("name", "Examen 1"),
                    ("kind", "exam"),
                    ("sort_order", "1"),
                ],
            )
            .await;
        assert_eq!(added.status(), 303);
        assert_eq!(common::location(&added), "/setup/rooms");
        let room = common::id_of(&db.store, "SELECT id FROM room WHERE code = $1", "EX1")
            .await
            .to_string();
        let (_, html) = server.get_html("/setup/rooms", "en").await;
        assert!(html.contains("value=\"Examen 1\""), "{html}");

        // The front desk registers a patient; a refused form keeps every field typed.
        common::signed_in(&server, "desk").await;
        let mut form: Vec<(&str, &str)> = IDENTITY.to_vec();
        form.retain(|(field, _)| *field != "family_name");
        let k3 = key(3);
        form.extend([
            ("allergy_status", "recorded"),
            ("submission", k3.as_str()),
            ("allergy_substance_0", "Pénicilline"),
            ("allergy_reaction_0", "Urticaire"),
            ("allergy_severity_0", "moderate"),
        ]);
        let refused = server.post_page("/desk/register", &form).await;
        assert_eq!(refused.status(), 400);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("value=\"Léa\"") && html.contains("value=\"Pénicilline\""),
            "{html}"
        );
        assert!(html.contains("role=\"alert\""), "{html}");
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM patient").await, 0);
        let mut form: Vec<(&str, &str)> = IDENTITY.to_vec();
        let k4 = key(4);
        form.extend([
            ("allergy_status", "recorded"),
            ("submission", k4.as_str()),
            ("allergy_substance_0", "Pénicilline"),
            ("allergy_severity_0", "severe"),
        ]);
        let registered = server.post_page("/desk/register", &form).await;
        assert_eq!(registered.status(), 303, "{}", registered.text().await.unwrap());
        let patient_page = common::location(&registered);
        let patient = patient_page.trim_start_matches("/patients/").to_owned();
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM allergy").await, 1);
        // The same person again: the desk is shown the record it already has.
        let mut form: Vec<(&str, &str)> = IDENTITY.to_vec();
        let k5 = key(5);
        form.push(("submission", k5.as_str()));
        let warned = server.post_page("/desk/register", &form).await;
        assert_eq!(warned.status(), 200);
        let html = warned.text().await.unwrap();
        assert!(
            html.contains(&format!("name=\"seen_duplicate\" value=\"{patient}\"")),
            "{html}"
        );
        assert!(html.contains(&patient_page), "{html}");
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM patient").await, 1);
        // Found by the desk's search.
        let (status, html) = server.get_html("/desk?q=oeuvray", "fr").await;
        assert_eq!(status, 200);
        assert!(html.contains(&patient_page), "{html}");

        // Checked in from the patient's page: a reason is needed, then the visit begins.
        let (status, html) = server.get_html(&patient_page, "fr").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Enregistrer l’arrivée") && html.contains("Pénicilline"),
            "{html}"
        );
        let refused = server
            .post_page(
                &patient_page,
                &[
                    ("submission", &key(6)),
                    ("form", "check_in"),
                    ("reason", " "),
                    ("attending_id", &doctor),
                ],
            )
            .await;
        assert_eq!(refused.status(), 400);
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM visit").await, 0);
        let checked_in = server
            .post_page(
                &patient_page,
                &[
                    ("submission", &key(7)),
                    ("form", "check_in"),
                    ("reason", "Plaie de la main"),
                    ("attending_id", &doctor),
                    ("care_team", &doctor),
                ],
            )
            .await;
        assert_eq!(checked_in.status(), 303);
        assert_eq!(common::location(&checked_in), patient_page);
        let (_, html) = server.get_html(&patient_page, "fr").await;
        assert!(
            html.contains("Plaie de la main") && html.contains("Terminer la venue"),
            "{html}"
        );

        // The physician calls the patient in from the waiting room's plain form.
        common::signed_in(&server, "doctor").await;
        let (status, html) = server.get_html("/waiting-room", "fr").await;
        assert_eq!(status, 200);
        assert!(html.contains("Œuvray") && html.contains("Examen 1"), "{html}");
        let visit = common::visit_of(&db.store, "Œuvray").await.to_string();
        let called = server
            .with_cookie(server.client().post(server.url("/api/call_patient")))
            .header("origin", server.origin())
            .header("accept", "text/html")
            .header("referer", server.url("/waiting-room"))
            .form(&[
                ("submission", key(8).as_str()),
                ("visit_id", &visit),
                ("room_id", &room),
            ])
            .send()
            .await
            .unwrap();
        assert!(called.status().is_redirection(), "{}", called.status());
        assert_eq!(
            plateau_app::fetch_scalar!(db.store.read(), String, "SELECT state FROM visit").unwrap(),
            "in_exam"
        );

        // The desk sends the patient home: nothing pending, the visit ends.
        common::signed_in(&server, "desk").await;
        let ended = server
            .post_page(
                &patient_page,
                &[
                    ("submission", &key(9)),
                    ("form", "end_visit"),
                    ("visit_id", &visit),
                ],
            )
            .await;
        assert_eq!(ended.status(), 303);
        assert_eq!(
            plateau_app::fetch_scalar!(db.store.read(), String, "SELECT state FROM visit").unwrap(),
            "done"
        );
        let (_, html) = server.get_html(&patient_page, "fr").await;
        assert!(html.contains("Pas de venue en cours"), "{html}");
    }
);

on_both_databases!(
    a_server_page_form_acts_once_and_refuses_what_is_not_its_own,
    |db| {
        common::add_account(&db.store, "desk", &["front_desk"]).await;
        common::add_account(&db.store, "nurse", &["nurse"]).await;
        let server = common::TestServer::start(db.store.clone()).await;
        let mut form: Vec<(&str, &str)> = IDENTITY.to_vec();
        let k = key(20);
        form.push(("submission", k.as_str()));

        // Nobody signed in: sent to sign in, nothing stored.
        let anonymous = server.post_page("/desk/register", &form).await;
        assert!(anonymous.status().is_redirection());
        assert!(common::location(&anonymous).starts_with("/sign-in"));
        // A nurse may not register patients: the page refuses, and so does its form.
        common::signed_in(&server, "nurse").await;
        assert_eq!(server.get("/desk").await.status(), 403);
        let refused = server.post_page("/desk/register", &form).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM patient").await, 0);

        common::signed_in(&server, "desk").await;
        // From another site: refused before anything is read.
        let cross = server
            .with_cookie(server.client().post(server.url("/desk/register")))
            .header("origin", "https://elsewhere.example")
            .header("accept", "text/html")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403);
        // Not a form: refused as malformed.
        let json = server
            .with_cookie(server.client().post(server.url("/desk/register")))
            .header("origin", server.origin())
            .header("content-type", "application/json")
            .body("{\"family_name\":\"X\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(json.status(), 400);
        // A form of garbage: every field refused with its reason, nothing stored.
        let garbage = server
            .post_page(
                "/desk/register",
                &[
                    ("family_name", "\u{0}\u{7}"),
                    ("birth_date", "2999-01-01"),
                    ("sex", "dragon"),
                    ("weight_kg", "-3"),
                ],
            )
            .await;
        assert_eq!(garbage.status(), 400);
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM patient").await, 0);
        let registered = server.post_page("/desk/register", &form).await;
        assert_eq!(registered.status(), 303);
        // Sent again with the same key (a double tap): the same answer, one patient.
        let again = server.post_page("/desk/register", &form).await;
        assert_eq!(again.status(), 303);
        assert_eq!(common::location(&again), common::location(&registered));
        assert_eq!(common::count(&db.store, "SELECT COUNT(*) FROM patient").await, 1);
        // An unknown form of the patient's page is malformed, not a crash.
        let page = common::location(&registered);
        let odd = server
            .post_page(&page, &[("submission", &key(21)), ("form", "launch")])
            .await;
        assert_eq!(odd.status(), 400);
        assert!(odd.text().await.unwrap().contains("role=\"alert\""));
        // A page of no patient is the 404 page.
        assert_eq!(server.get("/patients/999999").await.status(), 404);
    }
);

on_both_databases!(
    an_identity_edit_on_a_stale_record_is_refused_and_keeps_what_was_typed,
    |db| {
        common::add_account(&db.store, "desk", &["front_desk"]).await;
        let server = common::TestServer::start(db.store.clone()).await;
        common::signed_in(&server, "desk").await;
        let mut form: Vec<(&str, &str)> = IDENTITY.to_vec();
        let k = key(30);
        form.push(("submission", k.as_str()));
        let registered = server.post_page("/desk/register", &form).await;
        assert_eq!(registered.status(), 303, "{}", registered.text().await.unwrap());
        let page = common::location(&registered);
        let edit_page = format!("{page}/edit");
        let (status, html) = server.get_html(&edit_page, "fr").await;
        assert_eq!(status, 200);
        assert!(html.contains("name=\"version\""), "{html}");
        let mut edit: Vec<(&str, &str)> = IDENTITY.to_vec();
        edit.retain(|(field, _)| *field != "family_name");
        let k31 = key(31);
        // Another desk saved the record meanwhile: this form names a version it no longer has.
        edit.extend([
            ("family_name", "Œuvray-Martin"),
            ("version", "41"),
            ("submission", k31.as_str()),
        ]);
        let stale = server.post_page(&edit_page, &edit).await;
        assert_eq!(stale.status(), 409);
        let html = stale.text().await.unwrap();
        assert!(html.contains("value=\"Œuvray-Martin\""), "{html}");
        let version = plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT version FROM patient")
            .unwrap()
            .to_string();
        let k32 = key(32);
        let mut edit: Vec<(&str, &str)> = IDENTITY.to_vec();
        edit.retain(|(field, _)| *field != "family_name");
        edit.extend([
            ("family_name", "Œuvray-Martin"),
            ("version", &version),
            ("submission", k32.as_str()),
        ]);
        let saved = server.post_page(&edit_page, &edit).await;
        assert_eq!(saved.status(), 303);
        assert_eq!(common::location(&saved), page);
        assert_eq!(
            plateau_app::fetch_scalar!(db.store.read(), String, "SELECT family_name FROM patient").unwrap(),
            "Œuvray-Martin"
        );
    }
);

/// The token a page shows once, in its `<code class="token">`.
fn shown_token(html: &str) -> String {
    let start = html.find("<code class=\"token\">").unwrap() + "<code class=\"token\">".len();
    html[start..][..html[start..].find('<').unwrap()].to_owned()
}

async fn hl7_status(server: &common::TestServer, token: &str) -> u16 {
    server
        .client
        .post(server.url("/hl7/oru"))
        .bearer_auth(token)
        .body("not HL7 at all")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

on_both_databases!(an_administrator_sets_the_clinic_up_from_server_pages, |db| {
    common::add_account(&db.store, "admin", &["administrator"]).await;
    common::add_account(&db.store, "desk", &["front_desk"]).await;
    let server = common::TestServer::start(db.store.clone()).await;
    common::signed_in(&server, "admin").await;

    // The clinic: a time zone that is none and a FINESS number too short come back
    // with what was typed; nothing changes.
    let (status, html) = server.get_html("/setup/facility", "fr").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Numéro FINESS") && !html.contains(".wasm"),
        "{html}"
    );
    let refused = server
        .post_page(
            "/setup/facility",
            &[
                ("submission", &key(101)),
                ("name", "Clinique des Tilleuls"),
                ("timezone", "Mars/Olympus"),
                ("national_id", "12345"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("value=\"Mars/Olympus\"") && html.contains("value=\"12345\""),
        "{html}"
    );
    assert_eq!(html.matches("aria-invalid=\"true\"").count(), 2, "{html}");
    assert_eq!(
        common::count(&db.store, "SELECT COUNT(*) FROM facility WHERE national_id <> ''").await,
        0
    );
    let saved = server
        .post_page(
            "/setup/facility",
            &[
                ("submission", &key(102)),
                ("name", "Clinique des Tilleuls"),
                ("timezone", "America/Martinique"),
                ("national_id", "2a0000011"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(common::location(&saved), "/setup/facility?saved");
    assert_eq!(
            common::count(
                &db.store,
                "SELECT COUNT(*) FROM facility WHERE national_id = '2A0000011' AND timezone = 'America/Martinique'"
            )
            .await,
            1
        );
    assert_eq!(
        common::count(
            &db.store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'facility.update'"
        )
        .await,
        1
    );

    // Equipment, kept in a room.
    let room = server
        .post_page(
            "/setup/rooms",
            &[
                ("submission", &key(103)),
                ("code", "PROC1"),
                ("name", "Soins 1"),
                ("kind", "procedure"),
            ],
        )
        .await;
    assert_eq!(room.status(), 303);
    let room = common::id_of(&db.store, "SELECT id FROM room WHERE code = $1", "PROC1")
        .await
        .to_string();
    let item = |n: u32, code: &'static str, kind: &'static str, room: String| {
        vec![
            ("submission", key(n)),
            ("code", code.to_owned()),
            ("name", "Échographe portable".to_owned()),
            ("kind", kind.to_owned()),
            ("room_id", room),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.post_page("/setup/equipment", &form).await
        }
    };
    let added = post(item(104, "echo-1", "ultrasound", room.clone())).await;
    assert_eq!(added.status(), 303);
    assert_eq!(common::location(&added), "/setup/equipment");
    for (n, code, kind, room) in [
        (105, "ECHO-1", "ultrasound", room.clone()), // the code is taken
        (106, "ECHO-2", "teleporter", room.clone()), // no such kind
        (107, "ECHO 3", "ultrasound", room.clone()), // not a code
        (108, "ECHO-4", "ultrasound", "999999".to_owned()), // no such room
        (109, "ECHO-5", "ultrasound", "salle".to_owned()), // not an id
    ] {
        let refused = post(item(n, code, kind, room)).await;
        assert_eq!(refused.status(), 400, "{code} {kind}");
        let html = refused.text().await.unwrap();
        assert!(html.contains(&format!("value=\"{code}\"")), "{html}");
    }
    assert_eq!(
        common::count(&db.store, "SELECT COUNT(*) FROM equipment").await,
        1
    );
    let echo = common::id_of(&db.store, "SELECT id FROM equipment WHERE code = $1", "ECHO-1")
        .await
        .to_string();
    let (_, html) = server.get_html("/setup/equipment", "en").await;
    assert!(
        html.contains("value=\"ECHO-1\"") && html.contains("selected"),
        "{html}"
    );
    let retired = server.call("retire_equipment", &[("equipment_id", &echo)]).await;
    assert_eq!(retired.status(), 200);
    let (_, html) = server.get_html("/setup/equipment", "en").await;
    assert!(
        !html.contains("value=\"ECHO-1\""),
        "a retired item is in no list: {html}"
    );
    assert_eq!(
        common::count(
            &db.store,
            "SELECT COUNT(*) FROM equipment WHERE retired_at IS NOT NULL"
        )
        .await,
        1
    );
    // Retired, its code still names it: a new item takes another.
    assert_eq!(
        post(item(110, "ECHO-1", "ultrasound", String::new()))
            .await
            .status(),
        400
    );

    // A reference lab: its token shown on that answer only, only its hash kept.
    let lab = |n: u32, code: &str, peers: &str| {
        vec![
            ("submission", key(n)),
            ("code", code.to_owned()),
            ("name", "Biologie de référence".to_owned()),
            ("sending_facility", "BIOREF".to_owned()),
            ("mllp_peers", peers.to_owned()),
            ("new_token", "on".to_owned()),
        ]
    };
    let post_lab = |form: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.post_page("/setup/interfaces", &form).await
        }
    };
    for (n, code, peers) in [(111, "b", ""), (112, "BIO-REF", "10.0.0.5 lab.example")] {
        let refused = post_lab(lab(n, code, peers)).await;
        assert_eq!(refused.status(), 400, "{code} {peers}");
    }
    assert_eq!(
        common::count(&db.store, "SELECT COUNT(*) FROM reference_lab").await,
        0
    );
    let issued = post_lab(lab(113, "BIO-REF", "10.0.0.5, 10.0.0.6")).await;
    assert_eq!(issued.status(), 200);
    let html = issued.text().await.unwrap();
    let token = shown_token(&html);
    assert!(token.len() >= 40, "{html}");
    assert_eq!(
        common::id_of(
            &db.store,
            "SELECT COUNT(*) FROM reference_lab WHERE interface_token_sha256 = $1",
            &plateau_app::lab::import::token_digest(&token)
        )
        .await,
        1
    );
    assert_eq!(
        common::count(&db.store, "SELECT COUNT(*) FROM reference_lab_peer").await,
        2
    );
    // The same form sent again acts once and does not show the token again.
    let repeated = post_lab(lab(113, "BIO-REF", "10.0.0.5, 10.0.0.6")).await;
    assert_ne!(repeated.status(), 200);
    assert!(!repeated.text().await.unwrap().contains(&token));
    assert_eq!(hl7_status(&server, &token).await, 200, "the token opens HTTP");
    let (_, html) = server.get_html("/setup/interfaces", "fr").await;
    assert!(!html.contains(&token) && html.contains("jeton actif"), "{html}");
    // Rotated: the old token no longer opens anything.
    let rotated = post_lab(lab(114, "BIO-REF", "10.0.0.5")).await;
    assert_eq!(rotated.status(), 200);
    let new_token = shown_token(&rotated.text().await.unwrap());
    assert_eq!(hl7_status(&server, &token).await, 401);
    assert_eq!(hl7_status(&server, &new_token).await, 200);
    // Revoked: nothing does, and no address reaches MLLP.
    let lab_id = common::id_of(
        &db.store,
        "SELECT id FROM reference_lab WHERE code = $1",
        "BIO-REF",
    )
    .await
    .to_string();
    assert_eq!(
        server
            .call("revoke_interface", &[("interface_id", &lab_id)])
            .await
            .status(),
        200
    );
    assert_eq!(hl7_status(&server, &new_token).await, 401);
    assert_eq!(
        common::count(&db.store, "SELECT COUNT(*) FROM reference_lab_peer").await,
        0
    );
    assert_eq!(
        server
            .call("revoke_interface", &[("interface_id", "999999")])
            .await
            .status(),
        400
    );

    // Nobody else sets the clinic up, page or form.
    common::signed_in(&server, "desk").await;
    for page in ["/setup/facility", "/setup/equipment", "/setup/interfaces"] {
        let (status, _) = server.get_html(page, "fr").await;
        assert_eq!(status, 403, "{page}");
        let posted = server
            .post_page(page, &[("submission", &key(120)), ("name", "x")])
            .await;
        assert_eq!(posted.status(), 403, "{page}");
    }
});
