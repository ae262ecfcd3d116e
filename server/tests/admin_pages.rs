//! Administration and lists as server pages (issue 18): accounts, catalogs, audit, the
//! emergency-access review, supervision and the lab's send-outs load no WebAssembly; their
//! forms post to the page and act through their server function, a refused one comes back
//! as typed, a done one says so; a page runs only the functions it offers, and only for
//! those allowed to call them.
#![allow(clippy::unwrap_used)]

mod common;

fn key(n: u32) -> String {
    format!("admin-page-test-key-{n:08}")
}

const PAGES: [(&str, &str); 9] = [
    ("admin", "/admin/accounts"),
    ("admin", "/admin/accounts/new"),
    ("admin", "/admin/audit"),
    ("admin", "/admin/catalog"),
    ("admin", "/admin/lab-tests"),
    ("supervisor", "/break-glass"),
    ("supervisor", "/supervision"),
    ("tech", "/lab/send-outs"),
    ("tech", "/lab/turnaround"),
];

on_both_databases!(an_empty_clinic_administers_itself_from_server_pages, |db| {
    let admin = common::add_account(&db.store, "admin", &["administrator"]).await;
    common::add_account(&db.store, "supervisor", &["supervisor"]).await;
    common::add_account(&db.store, "tech", &["lab_technician"]).await;
    common::add_account(&db.store, "doctor", &["physician"]).await;
    let server = common::TestServer::start(db.store.clone()).await;

    // Every one of these pages is drawn by the server, with no client.
    for (user, path) in PAGES {
        common::signed_in(&server, user).await;
        let (status, html) = server.get_html(path, "fr").await;
        assert_eq!(status, 200, "{path}: {html}");
        assert!(
            !html.contains(".wasm") && !html.contains("modulepreload"),
            "{path}: {html}"
        );
    }

    // A new account whose username is taken comes back as typed, password aside.
    common::signed_in(&server, "admin").await;
    let accounts = "SELECT COUNT(*) FROM account";
    let before = common::count(&db.store, accounts).await;
    let taken = [
        ("form", "/api/create_account"),
        ("given_name", "Léon"),
        ("family_name", "Petitjean"),
        ("username", "doctor"),
        ("roles[2]", "medical_assistant"),
        ("password", "un mot de passe long"),
    ];
    let k1 = key(1);
    let mut form = taken.to_vec();
    form.push(("submission", &k1));
    let refused = server.post_page("/admin/accounts/new", &form).await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("value=\"Léon\"") && html.contains("value=\"Petitjean\""),
        "{html}"
    );
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(
        !html.contains("un mot de passe long"),
        "a password is never sent back"
    );
    assert!(
        html.contains("value=\"medical_assistant\" checked"),
        "the role ticked stays ticked: {html}"
    );
    assert_eq!(common::count(&db.store, accounts).await, before);

    // Made, it opens the new account's page.
    let k2 = key(2);
    let mut form: Vec<(&str, &str)> = taken.to_vec();
    form.retain(|(field, _)| *field != "username");
    form.extend([("username", "l.petitjean"), ("submission", &k2)]);
    let made = server.post_page("/admin/accounts/new", &form).await;
    assert_eq!(made.status(), 303, "{}", made.text().await.unwrap());
    let account = common::id_of(
        &db.store,
        "SELECT id FROM account WHERE username = $1",
        "l.petitjean",
    )
    .await;
    assert_eq!(common::location(&made), format!("/admin/accounts/{account}"));
    // Sent twice (a double tap), it makes one account.
    let again = server.post_page("/admin/accounts/new", &form).await;
    assert!(
        again.status().is_redirection() || again.status() == 200,
        "{}",
        again.status()
    );
    assert_eq!(common::count(&db.store, accounts).await, before + 1);

    // The account's page: a refused change keeps what was typed; a done one says so.
    let page = format!("/admin/accounts/{account}");
    let id = account.to_string();
    let k3 = key(3);
    let refused = server
        .post_page(
            &page,
            &[
                ("form", "/api/update_account"),
                ("submission", &k3),
                ("account_id", &id),
                ("given_name", "Léonard"),
                ("family_name", ""),
                ("roles[0]", "medical_assistant"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains("value=\"Léonard\""), "{html}");
    let k4 = key(4);
    let done = server
        .post_page(
            &page,
            &[
                ("form", "/api/update_account"),
                ("submission", &k4),
                ("account_id", &id),
                ("given_name", "Léonard"),
                ("family_name", "Petitjean"),
                ("roles[0]", "medical_assistant"),
            ],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(common::location(&done), format!("{page}?done=update_account"));
    let (_, html) = server.get_html(&common::location(&done), "fr").await;
    assert!(
        html.contains("Enregistré.") && html.contains("value=\"Léonard\""),
        "{html}"
    );
    // A certification with a date that is none comes back with its kind chosen.
    let k5 = key(5);
    let refused = server
        .post_page(
            &page,
            &[
                ("form", "/api/set_certification"),
                ("submission", &k5),
                ("account_id", &id),
                ("kind", "bls"),
                ("expires_on", "31/02/2030"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains("value=\"bls\" selected"), "{html}");

    // A procedure added to the catalog; a duplicate comes back as typed.
    let kind = |code: &'static str, name: &'static str, k: &'static str| {
        vec![
            ("form", "/api/save_procedure_kind"),
            ("submission", k),
            ("id", "0"),
            ("code", code),
            ("name_fr", name),
            ("name_en", "Holter fitting"),
            ("default_position", "33586001"),
            ("typical_minutes", "20"),
            ("active", "true"),
        ]
    };
    let added = server
        .post_page(
            "/admin/catalog",
            &kind("holter", "Pose de holter", "admin-page-test-key-k6"),
        )
        .await;
    assert_eq!(added.status(), 303, "{}", added.text().await.unwrap());
    assert_eq!(
        common::location(&added),
        "/admin/catalog?done=save_procedure_kind"
    );
    let kinds = "SELECT COUNT(*) FROM procedure_kind WHERE code = 'holter'";
    assert_eq!(common::count(&db.store, kinds).await, 1);
    let refused = server
        .post_page(
            "/admin/catalog",
            &kind("holter", "Autre holter", "admin-page-test-key-k7"),
        )
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let html = refused.text().await.unwrap();
    assert!(html.contains("value=\"Autre holter\""), "{html}");
    assert_eq!(common::count(&db.store, kinds).await, 1);

    // A lab test whose LOINC check digit is wrong comes back as typed, its field named.
    let test = |loinc: &'static str, k: &'static str| {
        vec![
            ("form", "/api/save_lab_test"),
            ("submission", k),
            ("id", "0"),
            ("loinc", loinc),
            ("name_fr", "Calcium"),
            ("name_en", "Calcium"),
            ("specimen_type", "SER"),
            ("value_kind", "numeric"),
            ("unit", "mmol/L"),
            ("decimals", "2"),
            ("performed", "in_house"),
            ("turnaround_minutes", "60"),
            ("active", "true"),
        ]
    };
    let refused = server
        .post_page("/admin/lab-tests", &test("17861-5", "admin-page-test-key-k8"))
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("value=\"17861-5\"") && html.contains("field-problem"),
        "{html}"
    );
    let saved = server
        .post_page("/admin/lab-tests", &test("17861-6", "admin-page-test-key-k9"))
        .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    assert_eq!(
        common::count(&db.store, "SELECT COUNT(*) FROM lab_test WHERE loinc = '17861-6'").await,
        1
    );

    // A page runs only the functions it offers: another page's, or none, is refused.
    for named in ["/api/create_account", "/api/no_such_thing", ""] {
        let refused = server
            .post_page(
                "/admin/catalog",
                &[
                    ("form", named),
                    ("username", "intruder"),
                    ("given_name", "X"),
                    ("family_name", "Y"),
                    ("password", "un mot de passe long"),
                ],
            )
            .await;
        assert_eq!(refused.status(), 400, "{named}");
    }
    assert_eq!(common::count(&db.store, accounts).await, before + 1);

    // Nobody reaches a page's forms without its role: a physician, a lab technician.
    common::signed_in(&server, "doctor").await;
    let refused = server
        .post_page("/admin/catalog", &kind("ecg", "ECG", "admin-page-test-key-k10"))
        .await;
    assert_eq!(refused.status(), 403);
    common::signed_in(&server, "tech").await;
    let refused = server
        .post_page(
            "/admin/accounts/new",
            &[
                ("form", "/api/create_account"),
                ("username", "intruder"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("password", "un mot de passe long"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(common::count(&db.store, accounts).await, before + 1);
    let _ = admin;
});

on_both_databases!(
    the_print_buttons_script_is_served_to_anyone_and_kept_a_day,
    |db| {
        let server = common::TestServer::start(db.store.clone()).await;
        let answer = server.get(plateau_app::shell::PRINT_SCRIPT_PATH).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["cache-control"], "public, max-age=86400");
        assert!(answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        assert!(answer.text().await.unwrap().contains("window.print()"));
    }
);
