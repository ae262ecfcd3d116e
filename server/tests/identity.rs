//! Identity, access and audit through the real router, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{ok, TestServer, TEST_PASSWORD};
use plateau_app::auth::{Access, AuthSettings, SessionState, SessionSummary, ENDPOINTS, PAGES, ROUTES};
use plateau_app::demo::{self, DEMO_ACCOUNT_PER_ROLE, DEMO_PASSWORD, DEMO_PIN};
use plateau_app::rooms::RoomSnapshot;
use plateau_app::staff::StaffRole;
use std::time::{Duration, Instant};

async fn demo_server(db: &common::TestDb) -> TestServer {
    demo::seed(&db.store, Utc::now()).await.unwrap();
    TestServer::start(db.store.clone()).await
}

async fn count(db: &common::TestDb, sql: &str) -> i64 {
    plateau_app::fetch_scalar!(db.store.read(), i64, sql).unwrap()
}

async fn audit_rows(db: &common::TestDb, action: &str, outcome: &str) -> i64 {
    plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action = $1 AND outcome = $2",
        action,
        outcome
    )
    .unwrap()
}

/// The emergency accesses a supervisor reviews.
async fn emergency_accesses(server: &TestServer) -> Vec<plateau_app::care::BreakGlassEntry> {
    let log: plateau_app::care::EmergencyAccesses =
        server.call("break_glass_log", &[]).await.json().await.unwrap();
    log.entries
}

async fn session_state(server: &TestServer) -> SessionState {
    server.call("session", &[]).await.json().await.unwrap()
}

/// The E1 room id (its patient's care team is c.lefevre and a.diallo).
async fn room_id(db: &common::TestDb, code: &str) -> String {
    plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT id FROM room WHERE code = $1", code)
        .unwrap()
        .to_string()
}

on_both_databases!(signing_in_sets_a_safe_cookie_and_a_stored_session, |db| {
    let server = demo_server(&db).await;
    let response = server.sign_in("C.Lefevre", DEMO_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");
    assert_eq!(response.json::<String>().await.unwrap(), "/");
    let token = server.token().unwrap();
    assert_eq!(token.len(), 43, "256 random bits");
    // Only the token's hash is stored.
    let stored =
        plateau_app::fetch_scalar!(db.store.read(), String, "SELECT token_hash FROM session").unwrap();
    assert_ne!(stored, token);
    let state = session_state(&server).await;
    let user = state.user.unwrap();
    assert_eq!(user.username, "c.lefevre");
    assert_eq!(user.roles, [StaffRole::Physician]);
    assert!(!user.locked && user.has_pin);
    assert_eq!(user.idle_lock_seconds, 300);
    assert_eq!(audit_rows(&db, "sign_in", "allowed").await, 1);
    // Signing out ends the session on the server and removes the cookie.
    let out = server.call("sign_out", &[]).await;
    assert_eq!(out.status(), 200);
    assert!(common::clears_session(&out));
    assert_eq!(server.call("rooms", &[]).await.status(), 401);
    assert_eq!(audit_rows(&db, "sign_out", "allowed").await, 1);
});

on_both_databases!(behind_tls_cookies_are_secure_and_hsts_is_sent, |db| {
    demo::seed(&db.store, Utc::now()).await.unwrap();
    let settings = AuthSettings {
        behind_tls: true,
        ..Default::default()
    };
    let server = TestServer::start_with(db.store.clone(), settings).await;
    let response = server.sign_in("c.lefevre", DEMO_PASSWORD).await;
    assert!(response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("; Secure"));
    let hsts = response
        .headers()
        .get("strict-transport-security")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age="));
});

on_both_databases!(unknown_users_and_wrong_passwords_get_the_same_answer, |db| {
    let server = demo_server(&db).await;
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let response = server.sign_in("c.lefevre", "not the password").await;
        wrong.push(start.elapsed());
        assert_eq!(response.status(), 401);
        bodies.push(response.text().await.unwrap());
        let start = Instant::now();
        let response = server.sign_in("nobody.here", "not the password").await;
        unknown.push(start.elapsed());
        assert_eq!(response.status(), 401);
        bodies.push(response.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| b == r#""SignInRefused""#), "{bodies:?}");
    // An unknown username still costs a full password check.
    wrong.sort();
    unknown.sort();
    assert!(
        unknown[1] * 4 > wrong[1],
        "unknown {unknown:?} vs wrong {wrong:?}"
    );
    assert_eq!(audit_rows(&db, "sign_in", "refused").await, 6);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM session").await, 0);
});

on_both_databases!(
    repeated_failures_pause_sign_in_whether_or_not_the_account_exists,
    |db| {
        let server = demo_server(&db).await;
        for username in ["a.girard", "ghost.user"] {
            for attempt in 1..=4 {
                assert_eq!(
                    server.sign_in(username, "wrong password").await.status(),
                    401,
                    "{username} #{attempt}"
                );
            }
            let fifth = server.sign_in(username, "wrong password").await;
            assert_eq!(fifth.status(), 429, "{username}");
            assert_eq!(
                fifth.text().await.unwrap(),
                r#"{"TooManyAttempts":{"minutes":1}}"#
            );
        }
        // Even the right password waits for the pause to end.
        let paused = server.sign_in("a.girard", DEMO_PASSWORD).await;
        assert_eq!(paused.status(), 429);
        let mut tx = db.store.begin().await.unwrap();
        plateau_app::execute!(
            tx.exec(),
            "UPDATE sign_in_limit SET locked_until = $1",
            Utc::now() - chrono::Duration::seconds(1)
        )
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(server.sign_in("a.girard", DEMO_PASSWORD).await.status(), 200);
        // Success forgets the failures; the ghost's stay.
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM sign_in_limit WHERE scope = 'username'").await,
            1
        );
    }
);

on_both_databases!(idle_screens_lock_and_unlock_with_the_pin, |db| {
    demo::seed(&db.store, Utc::now()).await.unwrap();
    let settings = AuthSettings {
        idle_lock: Duration::from_secs(1),
        ..Default::default()
    };
    let server = TestServer::start_with(db.store.clone(), settings).await;
    server.sign_in_demo("c.lefevre").await;
    assert_eq!(server.call("rooms", &[]).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // Idle: data is refused, the page shows the lock screen and no patient.
    let locked = server.call("rooms", &[]).await;
    assert_eq!(locked.status(), 423);
    assert_eq!(locked.text().await.unwrap(), r#""Locked""#);
    assert!(session_state(&server).await.user.unwrap().locked);
    let (status, page) = server.get_html("/", "en").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Screen locked") && page.contains("Camille Lefèvre"),
        "{page}"
    );
    assert!(!page.contains("DURAND") && !page.contains("DEMO-0001"));
    // A wrong PIN is refused and recorded; the right one unlocks.
    let wrong = server.call("unlock", &[("secret", "1111")]).await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("Incorrect"));
    assert_eq!(audit_rows(&db, "screen.unlock", "refused").await, 1);
    assert_eq!(server.call("unlock", &[("secret", DEMO_PIN)]).await.status(), 200);
    assert_eq!(audit_rows(&db, "screen.unlock", "allowed").await, 1);
    assert_eq!(server.call("rooms", &[]).await.status(), 200);
});

/// Sends `request` every 200 ms for three seconds (one and a half idle times of two
/// seconds), then says whether the session is still unlocked.
async fn unlocked_after<F, Fut>(server: &TestServer, mut request: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let status = request().await;
        assert!(status < 500, "{status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.call("rooms", &[]).await.status() == 200
}

on_both_databases!(only_what_a_person_does_postpones_the_lock, |db| {
    demo::seed(&db.store, Utc::now()).await.unwrap();
    let settings = AuthSettings {
        idle_lock: Duration::from_secs(2),
        ..Default::default()
    };
    let server = TestServer::start_with(db.store.clone(), settings).await;
    // A screen left alone keeps reloading its data (live changes), checking its session
    // and where the log ends: the tablet locks all the same.
    server.sign_in_demo("c.lefevre").await;
    let background = || async {
        let mut worst = 0;
        for endpoint in ["rooms", "session", "live_position"] {
            worst = worst.max(server.call(endpoint, &[]).await.status().as_u16());
        }
        worst
    };
    assert!(!unlocked_after(&server, background).await);
    // Someone working: the browser reports touches and keys...
    server.sign_in_demo("c.lefevre").await;
    let reports = || async { server.call("activity", &[]).await.status().as_u16() };
    assert!(unlocked_after(&server, reports).await);
    // ...pages they open count, and forms they post without JavaScript.
    server.sign_in_demo("c.lefevre").await;
    let pages = || async { server.get("/").await.status().as_u16() };
    assert!(unlocked_after(&server, pages).await);
    server.sign_in_demo("c.lefevre").await;
    let plain_forms = || async {
        server
            .with_cookie(server.client.post(server.url("/api/language")))
            .header("origin", server.origin())
            .header("accept", "text/html")
            .form(&[("lang", "en")])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert!(unlocked_after(&server, plain_forms).await);
});

on_both_databases!(five_wrong_pins_end_the_session, |db| {
    let server = demo_server(&db).await;
    server.sign_in_demo("a.diallo").await;
    assert_eq!(server.call("lock", &[]).await.status(), 200);
    assert_eq!(server.call("rooms", &[]).await.status(), 423);
    for _ in 0..4 {
        assert_eq!(server.call("unlock", &[("secret", "0000")]).await.status(), 400);
    }
    let last = server.call("unlock", &[("secret", "0000")]).await;
    assert_eq!(last.status(), 401);
    // Even the right PIN is too late now.
    assert_eq!(server.call("unlock", &[("secret", DEMO_PIN)]).await.status(), 401);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM session WHERE ended_reason = 'pin_failures'"
        )
        .await,
        1
    );
});

on_both_databases!(someone_else_signing_in_on_a_locked_tablet_switches_user, |db| {
    let server = demo_server(&db).await;
    server.sign_in_demo("c.lefevre").await;
    assert_eq!(server.call("lock", &[]).await.status(), 200);
    // The next person signs in fully, with the same browser (and its cookie).
    let response = server
        .sign_in_over_cookie(&[("username", "a.girard"), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM session WHERE ended_reason = 'switched_user'"
        )
        .await,
        1
    );
    server.set_token(common::session_token_in(&response));
    assert_eq!(session_state(&server).await.user.unwrap().username, "a.girard");
});

on_both_databases!(expired_and_revoked_sessions_are_refused, |db| {
    let server = demo_server(&db).await;
    server.sign_in_demo("c.lefevre").await;
    let first = server.token().unwrap();
    server.sign_in_demo("c.lefevre").await;
    let second = server.token().unwrap();
    // The person sees both and ends the other one.
    let sessions: Vec<SessionSummary> = server.call("my_sessions", &[]).await.json().await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert_eq!(sessions[0].device, "Chrome · Android");
    let other = sessions.iter().find(|s| !s.current).unwrap().id.to_string();
    assert_eq!(
        server
            .call("end_my_session", &[("session_id", &other)])
            .await
            .status(),
        200
    );
    server.set_token(Some(first));
    assert_eq!(server.call("rooms", &[]).await.status(), 401);
    // Nobody ends someone else's session through their own list.
    server.sign_in_demo("a.girard").await;
    let lefevre_session = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT s.id FROM session s JOIN account a ON a.id = s.account_id WHERE a.username = 'c.lefevre' AND s.ended_at IS NULL"
    )
    .unwrap()
    .to_string();
    assert_eq!(
        server
            .call("end_my_session", &[("session_id", &lefevre_session)])
            .await
            .status(),
        404
    );
    // Twelve hours after sign-in a session ends whatever happens.
    server.set_token(Some(second));
    assert_eq!(server.call("rooms", &[]).await.status(), 200);
    let mut tx = db.store.begin().await.unwrap();
    plateau_app::execute!(
        tx.exec(),
        "UPDATE session SET expires_at = $1",
        Utc::now() - chrono::Duration::seconds(1)
    )
    .unwrap();
    tx.commit().await.unwrap();
    let expired = server.call("rooms", &[]).await;
    assert_eq!(expired.status(), 401);
    // The dead cookie is removed, and pages send the browser to sign in.
    assert!(common::clears_session(&expired));
    let page = server.get("/board").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers().get("location").unwrap(), "/sign-in?next=/board");
});

on_both_databases!(cross_site_requests_are_refused_and_change_nothing, |db| {
    let server = demo_server(&db).await;
    let form = [("username", "c.lefevre"), ("password", DEMO_PASSWORD)];
    let forged = [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "https://sub.clinic.example"),
        ],
        vec![],
    ];
    for headers in forged {
        let mut request = server.client.post(server.url("/api/sign_in")).form(&form);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{headers:?}");
        assert_eq!(response.text().await.unwrap(), r#""CrossSite""#);
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM session").await, 0);
    // A browser's own request passes.
    let same = server
        .client
        .post(server.url("/api/sign_in"))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
});

on_both_databases!(pages_and_answers_carry_the_security_headers, |db| {
    let server = demo_server(&db).await;
    let page = server.get("/sign-in").await;
    assert_eq!(page.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let csp = header(&page, "content-security-policy");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "same-origin");
    assert!(
        header(&page, "strict-transport-security").is_empty(),
        "no HSTS over plain HTTP"
    );
    for directive in [
        "frame-ancestors 'none'",
        "object-src 'none'",
        "'wasm-unsafe-eval'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    // Leptos's scripts carry the nonce the policy names, and only that one.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    let again = server.get("/sign-in").await;
    assert!(
        !header(&again, "content-security-policy").contains(&nonce),
        "a new nonce per response"
    );
    // Answers that are not pages allow no script at all.
    let api = server.call("session", &[]).await;
    let api_csp = header(&api, "content-security-policy");
    assert!(api_csp.contains("script-src 'self' 'wasm-unsafe-eval'") && !api_csp.contains("nonce"));
    assert_eq!(header(&api, "cache-control"), "no-store");
    // No other site keeps a handle on our windows or embeds what we serve.
    for response in [&again, &api] {
        assert_eq!(header(response, "cross-origin-opener-policy"), "same-origin");
        assert_eq!(header(response, "cross-origin-resource-policy"), "same-origin");
    }
});

/// The access a page or endpoint test needs: a demo account whose roles lack `capability`.
fn account_without(capability: plateau_app::auth::Capability) -> &'static str {
    DEMO_ACCOUNT_PER_ROLE
        .iter()
        .find(|(role, _)| !plateau_app::auth::allows(*role, capability))
        .map(|(_, username)| *username)
        .unwrap()
}

/// Calls a server function (a form post with no fields) or GETs a plain route.
async fn status_of(server: &TestServer, path: &str) -> u16 {
    match path.strip_prefix("/api/") {
        Some(endpoint) => server.call(endpoint, &[]).await.status().as_u16(),
        None => server.get(path).await.status().as_u16(),
    }
}

on_both_databases!(
    every_endpoint_and_page_refuses_anonymous_and_unauthorised_callers,
    |db| {
        let server = demo_server(&db).await;
        // Every server function is in the policy, and the policy names nothing else.
        let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.to_owned())
            .collect();
        registered.sort();
        let mut listed: Vec<String> = ENDPOINTS.iter().map(|(path, _)| (*path).to_owned()).collect();
        listed.sort();
        assert_eq!(
            registered, listed,
            "a server function without an entry in auth::ENDPOINTS (or the reverse)"
        );

        for (path, access) in ENDPOINTS.iter().chain(ROUTES) {
            if *access == Access::Public {
                continue;
            }
            server.set_token(None);
            assert_eq!(
                status_of(&server, path).await,
                401,
                "{path} answered an anonymous caller"
            );
            if let Access::Needs(capability) = access {
                server.sign_in_demo(account_without(*capability)).await;
                assert_eq!(
                    status_of(&server, path).await,
                    403,
                    "{path} answered a role without {capability}"
                );
            }
        }
        // Paths outside the policy do not exist, even for an administrator.
        server.sign_in_demo("n.faure").await;
        assert_eq!(server.call("drop_everything", &[]).await.status(), 404);

        // Every page is in the policy; anonymous visitors are sent to sign in; a role without
        // the capability gets a 403 refusal page.
        let routes = leptos_axum::generate_route_list(plateau_app::App);
        for route in &routes {
            // The router spells parameters `{id}`; the policy, like Leptos, `:id`.
            let path = route.path().replace('{', ":").replace('}', "");
            assert!(
                PAGES.iter().any(|(p, _)| *p == path),
                "page {path} is not in auth::PAGES"
            );
        }
        for (pattern, access) in PAGES {
            let path = pattern.replace(":id", "1");
            server.set_token(None);
            let anonymous = server.get(&path).await;
            match access {
                Access::Public => assert_eq!(anonymous.status(), 200, "{path}"),
                _ => {
                    assert_eq!(anonymous.status(), 303, "{path}");
                    assert!(anonymous
                        .headers()
                        .get("location")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .starts_with("/sign-in?next="));
                }
            }
            if let Access::Needs(capability) = access {
                server.sign_in_demo(account_without(*capability)).await;
                let (status, body) = server.get_html(&path, "en").await;
                assert_eq!(status, 403, "{path} opened for a role without {capability}");
                assert!(body.contains("Not allowed"), "{path}");
            }
        }
        // Refusals of signed-in people are in the audit trail.
        assert!(audit_rows(&db, "access", "refused").await > 0);
    }
);

on_both_databases!(patients_open_to_their_care_team_or_through_break_glass, |db| {
    let server = demo_server(&db).await;
    let e1 = room_id(&db, "E1").await;
    // On the care team: the patient is shown, and the read is audited.
    server.sign_in_demo("c.lefevre").await;
    let snapshot: RoomSnapshot = server
        .call("room", &[("room_id", &e1)])
        .await
        .json()
        .await
        .unwrap();
    let patient_id = snapshot.room.occupant.as_ref().unwrap().patient.id;
    assert_eq!(snapshot.access, Some(plateau_app::care::PatientAccess::CareTeam));
    // Not on it: no patient, an offer to break the glass, a refused read in the trail.
    server.sign_in_demo("a.girard").await;
    let snapshot: RoomSnapshot = server
        .call("room", &[("room_id", &e1)])
        .await
        .json()
        .await
        .unwrap();
    assert!(snapshot.room.occupant.is_none());
    let restricted = snapshot.restricted.unwrap();
    assert_eq!(restricted.patient_id, patient_id);
    assert!(restricted.may_break_glass);
    let (_, page) = server.get_html(&format!("/rooms/{e1}"), "en").await;
    assert!(!page.contains("DURAND") && page.contains("Open in an emergency"));
    // Refused twice: the call above, and the page rendered on the server.
    assert_eq!(audit_rows(&db, "patient.read", "refused").await, 2);
    // Break-glass needs a real reason.
    let pid = patient_id.to_string();
    for (reason, problem) in [("", "Required"), ("urgent", "TooShort")] {
        let refused = server
            .call("break_glass", &[("patient_id", &pid), ("reason", reason)])
            .await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains(problem));
    }
    let long = "x".repeat(501);
    assert_eq!(
        server
            .call("break_glass", &[("patient_id", &pid), ("reason", &long)])
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .call(
                "break_glass",
                &[("patient_id", "999999"), ("reason", "Patient fainted, covering")]
            )
            .await
            .status(),
        404
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM break_glass").await, 0);
    let opened = server
        .call(
            "break_glass",
            &[
                ("patient_id", &pid),
                ("reason", "Patient fainted, covering for Dr Lefèvre"),
            ],
        )
        .await;
    assert_eq!(opened.status(), 200);
    let snapshot: RoomSnapshot = server
        .call("room", &[("room_id", &e1)])
        .await
        .json()
        .await
        .unwrap();
    assert!(snapshot.room.occupant.is_some());
    assert_eq!(
        snapshot.access,
        Some(plateau_app::care::PatientAccess::BreakGlass)
    );
    let flagged = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE break_glass = $1 AND patient_id = $2",
        true,
        patient_id
    )
    .unwrap();
    assert_eq!(flagged, 2, "the break-glass itself and the read through it");
    // Front desk may not break the glass at all.
    server.sign_in_demo("s.lambert").await;
    assert_eq!(
        server
            .call(
                "break_glass",
                &[("patient_id", &pid), ("reason", "Just curious about it")]
            )
            .await
            .status(),
        403
    );
    // Supervisors see the access and mark it reviewed.
    server.sign_in_demo("j.morel").await;
    let log = emergency_accesses(&server).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].username, "a.girard");
    assert!(log[0].reviewed_by.is_none());
    let id = log[0].id.to_string();
    assert_eq!(
        server.call("review_break_glass", &[("id", &id)]).await.status(),
        200
    );
    assert_eq!(
        server.call("review_break_glass", &[("id", &id)]).await.status(),
        404,
        "reviewed once"
    );
    let (_, page) = server.get_html("/break-glass", "en").await;
    assert!(page.contains("reviewed by j.morel"), "{page}");
});

on_both_databases!(the_audit_trail_is_append_only, |db| {
    let server = demo_server(&db).await;
    server.sign_in_demo("j.morel").await;
    assert_eq!(
        server
            .call("room", &[("room_id", &room_id(&db, "E1").await)])
            .await
            .status(),
        200
    );
    let reads = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action = 'patient.read' AND patient_id IS NOT NULL AND address = '127.0.0.1' AND username = 'j.morel' AND roles = 'nurse,supervisor'"
    )
    .unwrap();
    assert_eq!(reads, 1);
    let before = count(&db, "SELECT COUNT(*) FROM audit_event").await;
    let mut tx = db.store.begin().await.unwrap();
    let update = plateau_app::execute!(tx.exec(), "UPDATE audit_event SET username = 'someone else'");
    assert!(update.is_err(), "an audit row was updated");
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    assert!(
        plateau_app::execute!(tx.exec(), "DELETE FROM audit_event").is_err(),
        "an audit row was deleted"
    );
    drop(tx);
    if db.store.backend() == plateau_app::store::Backend::Postgres {
        let mut tx = db.store.begin().await.unwrap();
        assert!(plateau_app::execute!(tx.exec(), "TRUNCATE audit_event").is_err());
        drop(tx);
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_event").await, before);
});

/// Runs statements as the database's owner, outside the server: what an intruder with
/// the database's password could do.
async fn as_owner(db: &common::TestDb, statements: &[&str]) {
    let owner = plateau_app::store::Store::connect(&db.url).await.unwrap();
    let mut tx = owner.begin().await.unwrap();
    for statement in statements {
        plateau_app::execute!(tx.exec(), statement).unwrap();
    }
    tx.commit().await.unwrap();
    owner.close().await;
}

async fn verdict(db: &common::TestDb) -> plateau_app::store::trail::Verdict {
    plateau_app::store::trail::verify(&db.store).await.unwrap()
}

on_both_databases!(the_audit_trail_is_sealed_and_a_rewrite_is_found, |db| {
    use plateau_app::store::trail::{Break, Verdict};
    let server = demo_server(&db).await;
    server.sign_in_demo("j.morel").await;
    assert_eq!(server.call("rooms", &[]).await.status(), 200);
    let Verdict::Intact {
        sealed,
        unsealed: 0,
        head: Some((head_id, head_seal)),
    } = verdict(&db).await
    else {
        panic!("a fresh trail should be intact: {:?}", verdict(&db).await)
    };
    assert!(sealed >= 3, "{sealed}");
    let total = count(&db, "SELECT COUNT(*) FROM audit_event").await;
    assert_eq!(total, sealed);
    let victim = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT MIN(id) FROM audit_event WHERE action = 'sign_in'"
    )
    .unwrap();

    // SQLite: REPLACE deletes the old row first, which the append-only trigger refuses.
    if db.store.backend() == plateau_app::store::Backend::Sqlite {
        let mut tx = db.store.begin().await.unwrap();
        let replaced = plateau_app::execute!(
            tx.exec(),
            "INSERT OR REPLACE INTO audit_event (id, at, username, roles, action, outcome, record, device, address, detail) \
             SELECT id, at, 'someone else', roles, action, outcome, record, device, address, detail FROM audit_event WHERE id = $1",
            victim
        );
        assert!(replaced.is_err(), "REPLACE got past the triggers");
        drop(tx);
        assert!(matches!(verdict(&db).await, Verdict::Intact { .. }));
    }

    // The owner gets past the triggers: the chain names the row.
    let (disable, enable) = match db.store.backend() {
        plateau_app::store::Backend::Sqlite => (
            "DROP TRIGGER audit_event_no_update",
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN SELECT RAISE(ABORT, 'x'); END",
        ),
        plateau_app::store::Backend::Postgres => (
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update",
            "ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update",
        ),
    };
    let address = plateau_app::fetch_scalar!(
        db.store.read(),
        String,
        "SELECT address FROM audit_event WHERE id = $1",
        victim
    )
    .unwrap();
    let rewrite = format!("UPDATE audit_event SET address = '10.9.9.9' WHERE id = {victim}");
    as_owner(&db, &[disable, &rewrite, enable]).await;
    assert_eq!(
        verdict(&db).await,
        Verdict::Broken {
            row_id: victim,
            why: Break::SealMismatch
        }
    );
    // Put back as it was, the trail is whole again, and the kept head is still in it.
    let restore = format!("UPDATE audit_event SET address = '{address}' WHERE id = {victim}");
    as_owner(&db, &[disable, &restore, enable]).await;
    assert!(
        matches!(verdict(&db).await, Verdict::Intact { .. }),
        "{:?}",
        verdict(&db).await
    );
    assert_eq!(
        plateau_app::store::trail::seal_of(&db.store, head_id)
            .await
            .unwrap()
            .as_deref(),
        Some(head_seal.as_str())
    );

    // A row written around the server carries no seal.
    as_owner(
        &db,
        &["INSERT INTO audit_event (at, username, roles, action, outcome, record, device, address, detail) \
           VALUES ('2026-12-01T10:00:00Z', 'x', '', 'patient.read', 'allowed', '', '', '', '')"],
    )
    .await;
    let Verdict::Broken {
        why: Break::Unsealed, ..
    } = verdict(&db).await
    else {
        panic!("an unsealed row was not found: {:?}", verdict(&db).await)
    };
    let (disable_delete, enable_delete) = match db.store.backend() {
        plateau_app::store::Backend::Sqlite => (
            "DROP TRIGGER audit_event_no_delete",
            "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN SELECT RAISE(ABORT, 'x'); END",
        ),
        plateau_app::store::Backend::Postgres => (
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update",
            "ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update",
        ),
    };
    as_owner(
        &db,
        &[
            disable_delete,
            "DELETE FROM audit_event WHERE chain_hash IS NULL",
            enable_delete,
        ],
    )
    .await;
    assert!(matches!(verdict(&db).await, Verdict::Intact { .. }));

    // Removing the newest rows is found by the chain's head.
    let remove_newest = format!("DELETE FROM audit_event WHERE id >= {head_id}");
    as_owner(&db, &[disable_delete, &remove_newest, enable_delete]).await;
    let Verdict::Broken {
        why: Break::RowsMissingAtTheEnd,
        ..
    } = verdict(&db).await
    else {
        panic!("removed rows were not found: {:?}", verdict(&db).await)
    };
    // The head only moves forward.
    let mut tx = db.store.begin().await.unwrap();
    assert!(plateau_app::execute!(tx.exec(), "UPDATE audit_chain SET sealed = 0").is_err());
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    assert!(plateau_app::execute!(tx.exec(), "DELETE FROM audit_chain").is_err());
    drop(tx);
});

on_both_databases!(writers_at_once_extend_one_chain, |db| {
    use plateau_app::audit::{Entry, Outcome};
    common::add_account(&db.store, "chain.writer", &["nurse"]).await;
    let mut writers = Vec::new();
    for i in 0..24 {
        let store = db.store.clone();
        writers.push(tokio::spawn(async move {
            for j in 0..5 {
                let entry = Entry::anonymous("chain.writer", "test.write", Outcome::Allowed)
                    .detail(format!("{i}/{j}"));
                if j % 2 == 0 {
                    plateau_app::audit::record(&store, entry).await.unwrap();
                } else {
                    plateau_app::audit::record_all(&store, vec![entry.clone(), entry])
                        .await
                        .unwrap();
                }
            }
        }));
    }
    // Checked while they write, the trail is whole each time (the rows appended
    // meanwhile are not taken for rows missing).
    for _ in 0..5 {
        let during = verdict(&db).await;
        assert!(
            matches!(during, plateau_app::store::trail::Verdict::Intact { .. }),
            "{during:?}"
        );
    }
    for writer in writers {
        writer.await.unwrap();
    }
    // A transaction that rolls back leaves no row and no link.
    let mut tx = db.store.begin().await.unwrap();
    plateau_app::audit::record_in(
        &mut tx,
        Entry::anonymous("x", "test.rolled_back", Outcome::Allowed),
    )
    .await
    .unwrap();
    drop(tx);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'test.rolled_back'"
        )
        .await,
        0
    );
    let plateau_app::store::trail::Verdict::Intact { sealed, .. } = verdict(&db).await else {
        panic!("concurrent writers forked the chain: {:?}", verdict(&db).await)
    };
    assert_eq!(sealed, count(&db, "SELECT COUNT(*) FROM audit_event").await);
    // Each writer: three single rows and two pairs.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'test.write'"
        )
        .await,
        24 * 7
    );
});

on_both_databases!(
    administrators_manage_accounts_and_bad_input_changes_nothing,
    |db| {
        let server = demo_server(&db).await;
        server.sign_in_demo("n.faure").await;
        let accounts_before = count(&db, "SELECT COUNT(*) FROM account").await;
        let bad = server
            .call(
                "create_account",
                &[
                    ("username", "Not Valid"),
                    ("family_name", ""),
                    ("given_name", &"x".repeat(81)),
                    ("roles[0]", "wizard"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(bad.status(), 400);
        let body = bad.text().await.unwrap();
        for field in ["username", "family_name", "given_name", "roles", "password"] {
            assert!(body.contains(field), "{field} not named in {body}");
        }
        let no_roles = server
            .call(
                "create_account",
                &[
                    ("username", "new.nurse"),
                    ("family_name", "Petit"),
                    ("given_name", "Léon"),
                    ("password", TEST_PASSWORD),
                ],
            )
            .await;
        assert_eq!(no_roles.status(), 400);
        assert!(no_roles.text().await.unwrap().contains("roles"));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM account").await, accounts_before);

        let form = [
            ("username", "new.nurse"),
            ("family_name", "Petit"),
            ("given_name", "Léon"),
            ("roles[1]", "nurse"),
            ("roles[4]", "phlebotomist"),
            ("password", TEST_PASSWORD),
        ];
        let created = server.call("create_account", &form).await;
        assert_eq!(created.status(), 200);
        let account_id = created.json::<i64>().await.unwrap().to_string();
        let taken = server.call("create_account", &form).await;
        assert_eq!(taken.status(), 400);
        assert!(taken.text().await.unwrap().contains("AlreadyTaken"));
        // The new person chooses her own password, and has her roles once a supervisor
        // has confirmed them (they open patients).
        let newcomer = TestServer::start(db.store.clone()).await;
        assert_eq!(newcomer.sign_in("new.nurse", TEST_PASSWORD).await.status(), 400);
        let chosen = [
            ("username", "new.nurse"),
            ("password", TEST_PASSWORD),
            ("new_password", "her very own password"),
        ];
        assert_eq!(newcomer.sign_in_form(&chosen).await.status(), 200);
        let user = session_state(&newcomer).await.user.unwrap();
        assert!(user.roles.is_empty(), "{:?}", user.roles);
        let supervisor = TestServer::start(db.store.clone()).await;
        supervisor.sign_in_demo("j.morel").await;
        let grants: Vec<plateau_app::accounts::RoleGrant> =
            supervisor.call("role_grants", &[]).await.json().await.unwrap();
        assert_eq!(grants.len(), 2);
        for grant in &grants {
            let id = grant.id.to_string();
            ok(supervisor
                .call("decide_role_grant", &[("grant_id", &id), ("confirm", "true")])
                .await)
            .await;
        }
        let user = session_state(&newcomer).await.user.unwrap();
        assert_eq!(user.roles, [StaffRole::Nurse, StaffRole::Phlebotomist]);
        // Certifications with expiry dates; bad ones refused.
        for (kind, date) in [("wizardry", "2030-01-01"), ("bls", "31/12/2030"), ("bls", "")] {
            let refused = server
                .call(
                    "set_certification",
                    &[("account_id", &account_id), ("kind", kind), ("expires_on", date)],
                )
                .await;
            assert_eq!(refused.status(), 400, "{kind} {date}");
        }
        assert_eq!(
            server
                .call(
                    "set_certification",
                    &[
                        ("account_id", &account_id),
                        ("kind", "phlebotomy"),
                        ("expires_on", "2030-06-30")
                    ]
                )
                .await
                .status(),
            200
        );
        let detail: plateau_app::accounts::AccountDetail = server
            .call("account", &[("account_id", &account_id)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(detail.certifications.len(), 1);
        assert_eq!(detail.sessions.len(), 1);
        // Roles change; deactivation ends the sessions and refuses sign-in like a wrong password.
        assert_eq!(
            server
                .call(
                    "update_account",
                    &[
                        ("account_id", &account_id),
                        ("family_name", "Petit"),
                        ("given_name", "Léon"),
                        ("roles[0]", "medical_assistant")
                    ]
                )
                .await
                .status(),
            200
        );
        assert_eq!(
            server
                .call(
                    "set_account_active",
                    &[("account_id", &account_id), ("active", "false")]
                )
                .await
                .status(),
            200
        );
        assert_eq!(
            newcomer
                .call("session", &[])
                .await
                .json::<SessionState>()
                .await
                .unwrap()
                .user,
            None
        );
        let refused = newcomer.sign_in("new.nurse", "her very own password").await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.text().await.unwrap(), r#""SignInRefused""#);
        // An administrator cannot lock themselves out.
        let own = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT id FROM account WHERE username = 'n.faure'"
        )
        .unwrap()
        .to_string();
        assert_eq!(
            server
                .call("set_account_active", &[("account_id", &own), ("active", "false")])
                .await
                .status(),
            400
        );
        assert_eq!(
            server.call("account", &[("account_id", "999999")]).await.status(),
            404
        );
        for action in [
            "account.create",
            "account.update",
            "account.deactivate",
            "certification.set",
        ] {
            assert_eq!(audit_rows(&db, action, "allowed").await, 1, "{action}");
        }
        // The admin pages render the list and the account.
        let (status, page) = server.get_html("/admin/accounts", "en").await;
        assert_eq!(status, 200);
        assert!(page.contains("new.nurse") && page.contains("Deactivated"));
        let (status, page) = server
            .get_html(&format!("/admin/accounts/{account_id}"), "en")
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Phlebotomy") && page.contains("2030-06-30"),
            "{page}"
        );
    }
);

on_both_databases!(an_administrator_alone_opens_no_patient, |db| {
    let admin = demo_server(&db).await;
    admin.sign_in_demo("n.faure").await;
    // A supervisor made by an administrator holds nothing until a second person says so;
    // the front desk role, which opens no patient, is given at once.
    let form = [
        ("username", "m.roux"),
        ("family_name", "Roux"),
        ("given_name", "Mathilde"),
        ("roles[0]", "supervisor"),
        ("roles[1]", "front_desk"),
        ("password", TEST_PASSWORD),
    ];
    let account_id = admin
        .call("create_account", &form)
        .await
        .json::<i64>()
        .await
        .unwrap()
        .to_string();
    let detail: plateau_app::accounts::AccountDetail = admin
        .call("account", &[("account_id", &account_id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.summary.roles, [StaffRole::FrontDesk]);
    assert_eq!(detail.waiting_roles, [StaffRole::Supervisor]);
    let grants: Vec<plateau_app::accounts::RoleGrant> =
        admin.call("role_grants", &[]).await.json().await.unwrap();
    assert_eq!(grants.len(), 1);
    assert!(!grants[0].mine_to_decide, "the administrator asked for it");
    let grant = grants[0].id.to_string();
    let own = admin
        .call("decide_role_grant", &[("grant_id", &grant), ("confirm", "true")])
        .await;
    assert_eq!(own.status(), 422);
    assert!(common::refusal(own).await.contains("second_person_required"));
    assert_eq!(audit_rows(&db, "account.roles.confirm", "refused").await, 1);
    // The person the role is for cannot confirm it either; nor can anyone without the
    // capability; bad ids are refused.
    let newcomer = TestServer::start(db.store.clone()).await;
    assert_eq!(
        newcomer
            .sign_in_form(&[
                ("username", "m.roux"),
                ("password", TEST_PASSWORD),
                ("new_password", "mathilde chooses")
            ])
            .await
            .status(),
        200
    );
    assert_eq!(newcomer.call("role_grants", &[]).await.status(), 403);
    let nurse = TestServer::start(db.store.clone()).await;
    nurse.sign_in_demo("a.diallo").await;
    assert_eq!(
        nurse
            .call("decide_role_grant", &[("grant_id", &grant), ("confirm", "true")])
            .await
            .status(),
        403
    );
    let supervisor = TestServer::start(db.store.clone()).await;
    supervisor.sign_in_demo("j.morel").await;
    for (id, confirm, status) in [
        ("-1", "true", 400),
        ("999999", "true", 404),
        ("x", "true", 400),
        (&grant[..], "maybe", 400),
    ] {
        let response = supervisor
            .call("decide_role_grant", &[("grant_id", id), ("confirm", confirm)])
            .await;
        assert_eq!(response.status(), status, "{id} {confirm}");
    }
    let listed: Vec<plateau_app::accounts::RoleGrant> =
        supervisor.call("role_grants", &[]).await.json().await.unwrap();
    assert!(listed[0].mine_to_decide);
    ok(supervisor
        .call("decide_role_grant", &[("grant_id", &grant), ("confirm", "false")])
        .await)
    .await;
    assert_eq!(
        supervisor
            .call("decide_role_grant", &[("grant_id", &grant), ("confirm", "true")])
            .await
            .status(),
        404,
        "decided once"
    );
    assert_eq!(
        session_state(&newcomer).await.user.unwrap().roles,
        [StaffRole::FrontDesk]
    );
    assert_eq!(audit_rows(&db, "account.roles.decline", "allowed").await, 1);

    // Adding a role that opens patients waits too; removing it from the request withdraws it.
    let with_physician = [
        ("account_id", &account_id[..]),
        ("family_name", "Roux"),
        ("given_name", "Mathilde"),
        ("roles[0]", "front_desk"),
        ("roles[1]", "physician"),
    ];
    ok(admin.call("update_account", &with_physician).await).await;
    assert_eq!(
        session_state(&newcomer).await.user.unwrap().roles,
        [StaffRole::FrontDesk]
    );
    let waiting = |db: &common::TestDb| {
        let store = db.store.clone();
        async move {
            plateau_app::fetch_scalar!(
                store.read(),
                i64,
                "SELECT COUNT(*) FROM role_grant WHERE decision IS NULL"
            )
            .unwrap()
        }
    };
    assert_eq!(waiting(&db).await, 1);
    ok(admin.call("update_account", &with_physician[..4]).await).await;
    assert_eq!(waiting(&db).await, 0);
    // A second administrator would be a way around: that role waits as well.
    let with_admin = [
        ("account_id", &account_id[..]),
        ("family_name", "Roux"),
        ("given_name", "Mathilde"),
        ("roles[0]", "front_desk"),
        ("roles[1]", "administrator"),
    ];
    ok(admin.call("update_account", &with_admin).await).await;
    assert_eq!(
        session_state(&newcomer).await.user.unwrap().roles,
        [StaffRole::FrontDesk]
    );

    // A password an administrator resets opens nothing until its owner chooses another.
    let morel = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT id FROM account WHERE username = 'j.morel'"
    )
    .unwrap()
    .to_string();
    ok(admin
        .call(
            "reset_password",
            &[("account_id", &morel), ("password", "the admin knows this")],
        )
        .await)
    .await;
    assert_eq!(session_state(&supervisor).await.user, None, "her sessions ended");
    let intruder = TestServer::start(db.store.clone()).await;
    let refused = intruder.sign_in("j.morel", "the admin knows this").await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("ChangeRequired"));
    assert_eq!(intruder.token(), None);
    let same = [
        ("username", "j.morel"),
        ("password", "the admin knows this"),
        ("new_password", "the admin knows this"),
    ];
    assert_eq!(intruder.sign_in_form(&same).await.status(), 400);
    assert_eq!(audit_rows(&db, "account.reset_password", "allowed").await, 1);
    let mine = [
        ("username", "j.morel"),
        ("password", "the admin knows this"),
        ("new_password", "only morel knows this"),
    ];
    assert_eq!(supervisor.sign_in_form(&mine).await.status(), 200);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_event WHERE action = 'account.change_password' AND username = 'j.morel'").await,
        1
    );
    // Once chosen, the old one is gone and the new one needs nothing more.
    assert_eq!(
        TestServer::start(db.store.clone())
            .await
            .sign_in("j.morel", "the admin knows this")
            .await
            .status(),
        401
    );
    assert_eq!(
        TestServer::start(db.store.clone())
            .await
            .sign_in("j.morel", "only morel knows this")
            .await
            .status(),
        200
    );
});

on_both_databases!(the_audit_trail_filters_and_exports_as_csv, |db| {
    let server = demo_server(&db).await;
    server.sign_in_demo("c.lefevre").await;
    server
        .call("room", &[("room_id", &room_id(&db, "E1").await)])
        .await;
    server.sign_in_demo("n.faure").await;
    async fn csv(server: &TestServer, query: &str) -> (u16, String) {
        let response = server.get(&format!("/audit.csv{query}")).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }
    let csv_of = |query: &'static str| csv(&server, query);
    let (status, csv) = csv_of("?username=c.lefevre").await;
    assert_eq!(status, 200);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("id,at_utc,username,roles,action"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 2, "{csv}");
    assert!(
        rows.iter().all(|r| r.split(',').nth(2) == Some("c.lefevre")),
        "{csv}"
    );
    assert!(rows
        .iter()
        .any(|r| r.contains("patient.read") && r.contains("DEMO-0001")));
    let (_, by_patient) = csv_of("?patient=DEMO-0001").await;
    assert!(by_patient.lines().skip(1).all(|r| r.contains("DEMO-0001")));
    let (_, future) = csv_of("?from=2199-01-01").await;
    assert_eq!(future.lines().count(), 1, "header only");
    assert_eq!(csv_of("?from=yesterday").await.0, 400);
    assert_eq!(csv_of("?from=2026-02-01&to=2026-01-01").await.0, 400);
    // The page shows the same trail; reading and exporting it are audited too.
    let (status, page) = server.get_html("/admin/audit?username=c.lefevre", "en").await;
    assert_eq!(status, 200);
    assert!(page.contains("patient.read"));
    assert!(audit_rows(&db, "audit.export", "allowed").await >= 3);
    assert!(audit_rows(&db, "audit.read", "allowed").await >= 1);
    // Not for anyone else.
    server.sign_in_demo("j.morel").await;
    assert_eq!(csv_of("").await.0, 403);
});

on_both_databases!(tampered_cookies_and_overlong_fields_get_clear_refusals, |db| {
    let server = demo_server(&db).await;
    for cookie in [
        "garbage",
        "'; DROP TABLE session; --",
        &"A".repeat(43),
        &"é".repeat(30),
    ] {
        server.set_token(Some(cookie.to_owned()));
        let response = server.call("rooms", &[]).await;
        assert_eq!(response.status(), 401, "{cookie}");
        if cookie.is_ascii() {
            assert!(common::clears_session(&response), "{cookie}");
        }
    }
    server.set_token(None);
    let long_name = "a".repeat(65);
    let long_password = "p".repeat(129);
    for (username, password) in [
        ("", "x"),
        ("c.lefevre", ""),
        (long_name.as_str(), "x"),
        ("c.lefevre", long_password.as_str()),
    ] {
        let response = server.sign_in(username, password).await;
        assert_eq!(response.status(), 400, "{username:?}");
        assert!(response.text().await.unwrap().contains("Invalid"));
    }
    assert_eq!(
        server
            .call("sign_in", &[("username", "c.lefevre")])
            .await
            .status(),
        400,
        "missing field"
    );
    // A sign-in may only send the browser to a page of this site.
    let response = server
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.origin())
        .header("accept", "application/json")
        .form(&[
            ("username", "c.lefevre"),
            ("password", DEMO_PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<String>().await.unwrap(), "/");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM sign_in_limit").await,
        0,
        "bad input is not a failed try"
    );
});

on_both_databases!(a_plain_form_sign_in_works_without_javascript, |db| {
    let server = demo_server(&db).await;
    let response = server
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.origin())
        .header("accept", "text/html")
        .form(&[
            ("username", "i.chevalier"),
            ("password", DEMO_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    // A lab technician lands on the lab, their first screen.
    assert_eq!(response.headers().get("location").unwrap(), "/lab");
    server.set_token(common::session_token_in(&response));
    let (status, page) = server.get_html("/lab", "en").await;
    assert_eq!(status, 200);
    assert!(page.contains("Inès Chevalier"));
    // Role-specific navigation: the lab, not the rooms, the board or the accounts.
    assert!(
        page.contains(r#"href="/lab""#)
            && !page.contains(r#"href="/board""#)
            && !page.contains(r#"href="/admin/accounts""#)
    );
});

on_both_databases!(tries_sent_at_the_same_moment_are_all_counted, |db| {
    let server = std::sync::Arc::new(demo_server(&db).await);
    // Ten wrong passwords at once: only the allowance gets a verdict, the rest wait.
    let tries = (0..10).map(|_| {
        let server = server.clone();
        tokio::spawn(async move {
            server
                .sign_in("h.mercier", "a wrong password")
                .await
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 4, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 6, "{statuses:?}");
    // Eight wrong PINs at once on a locked tablet: five are counted, the session ends.
    server.sign_in_demo("a.diallo").await;
    assert_eq!(server.call("lock", &[]).await.status(), 200);
    let pins = (0..8).map(|_| {
        let server = server.clone();
        tokio::spawn(async move {
            server
                .call("unlock", &[("secret", "0000")])
                .await
                .status()
                .as_u16()
        })
    });
    for p in pins {
        assert_ne!(p.await.unwrap(), 200);
    }
    assert_eq!(server.call("unlock", &[("secret", DEMO_PIN)]).await.status(), 401);
    let failures = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT s.pin_failures FROM session s JOIN account a ON a.id = s.account_id WHERE a.username = 'a.diallo'"
    )
    .unwrap();
    assert_eq!(failures, 5);
});

on_both_databases!(
    lists_name_every_patient_but_show_details_only_to_their_carers,
    |db| {
        let server = demo_server(&db).await;
        let reason_in = |snapshot: &plateau_app::rooms::RoomsSnapshot, code: &str| {
            let room = snapshot.rooms.iter().find(|r| r.room.code == code).unwrap();
            room.occupant.as_ref().unwrap().reason.clone()
        };
        server.sign_in_demo("c.lefevre").await;
        let rooms: plateau_app::rooms::RoomsSnapshot = server.call("rooms", &[]).await.json().await.unwrap();
        assert!(!reason_in(&rooms, "E1").is_empty(), "on her care team");
        assert!(reason_in(&rooms, "S3").is_empty(), "not on her care team");
        // Front desk: names to route patients, no clinical detail.
        server.sign_in_demo("s.lambert").await;
        let rooms: plateau_app::rooms::RoomsSnapshot = server.call("rooms", &[]).await.json().await.unwrap();
        assert!(rooms
            .rooms
            .iter()
            .filter_map(|r| r.occupant.as_ref())
            .all(|o| o.reason.is_empty()));
        let board: plateau_app::board::BoardSnapshot = server.call("board", &[]).await.json().await.unwrap();
        assert!(board.waiting.iter().all(|w| w.reason.is_empty()) && !board.waiting.is_empty());
        // One audit row per patient shown.
        let occupants = rooms.rooms.iter().filter(|r| r.occupant.is_some()).count() as i64;
        let rows = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action = 'rooms.read' AND username = 's.lambert' AND patient_id IS NOT NULL"
    )
    .unwrap();
        assert_eq!(rows, occupants);
    }
);

on_both_databases!(
    nobody_changes_their_own_roles_or_reviews_their_own_emergency_access,
    |db| {
        let server = demo_server(&db).await;
        server.sign_in_demo("n.faure").await;
        let own = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT id FROM account WHERE username = 'n.faure'"
        )
        .unwrap()
        .to_string();
        let promote = [
            ("account_id", own.as_str()),
            ("family_name", "Faure"),
            ("given_name", "Nicolas"),
            ("roles[0]", "administrator"),
            ("roles[1]", "supervisor"),
        ];
        assert_eq!(server.call("update_account", &promote).await.status(), 400);
        // Renaming oneself with the same roles is fine.
        let rename = [
            ("account_id", own.as_str()),
            ("family_name", "Faure"),
            ("given_name", "Nico"),
            ("roles[0]", "administrator"),
        ];
        assert_eq!(server.call("update_account", &rename).await.status(), 200);
        // A nurse who is also a supervisor breaks the glass; she cannot review it herself.
        server.sign_in_demo("j.morel").await;
        let pid = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT id FROM patient WHERE record_number = 'DEMO-0002'"
        )
        .unwrap()
        .to_string();
        assert_eq!(
            server
                .call(
                    "break_glass",
                    &[
                        ("patient_id", &pid),
                        ("reason", "Covering the room while the team is away")
                    ]
                )
                .await
                .status(),
            200
        );
        let log = emergency_accesses(&server).await;
        let id = log[0].id.to_string();
        assert_eq!(
            server.call("review_break_glass", &[("id", &id)]).await.status(),
            404
        );
        server.sign_in_demo("t.nguyen").await;
        assert_eq!(
            server.call("review_break_glass", &[("id", &id)]).await.status(),
            200
        );
    }
);

on_both_databases!(signing_in_over_a_dead_cookie_keeps_the_new_session, |db| {
    let server = demo_server(&db).await;
    server.set_token(Some("A".repeat(43)));
    let response = server
        .sign_in_over_cookie(&[("username", "c.lefevre"), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(response.status(), 200);
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|c| c.starts_with(plateau_app::auth::SESSION_COOKIE))
        .collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(!cookies[0].contains("Max-Age=0"));
});

on_both_databases!(a_failed_plain_form_sign_in_comes_back_with_the_reason, |db| {
    let server = demo_server(&db).await;
    let response = server
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.origin())
        .header("accept", "text/html")
        .header("referer", server.url("/sign-in?next=/board"))
        .form(&[
            ("username", "c.lefevre"),
            ("password", "not hers"),
            ("next", "/board"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("__err="), "{location}");
    let path = location.trim_start_matches(&server.origin()).to_owned();
    let (status, page) = server.get_html(&path, "en").await;
    assert_eq!(status, 200);
    assert!(page.contains("Wrong username or password."), "{page}");
    // Nonsense in the parameter is ignored, not shown.
    let (status, page) = server.get_html("/sign-in?__err=%%%not-base64", "en").await;
    assert_eq!(status, 200);
    assert!(!page.contains("role=\"alert\""));
});

/// Signs in as c.lefevre from a client that sends `X-Forwarded-For: forwarded`; the
/// address her sign-in's audit row records.
async fn audited_address_of_sign_in(db: &common::TestDb, server: &TestServer, forwarded: &str) -> String {
    let response = server
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.origin())
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded)
        .form(&[("username", "c.lefevre"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    plateau_app::fetch_scalar!(
        db.store.read(),
        String,
        "SELECT address FROM audit_event WHERE action = 'sign_in' AND outcome = 'allowed' ORDER BY id DESC LIMIT 1"
    )
    .unwrap()
}

on_both_databases!(
    forwarded_addresses_are_believed_only_from_the_trusted_proxy,
    |db| {
        demo::seed(&db.store, Utc::now()).await.unwrap();
        // Nobody trusted: a client cannot choose the address the audit trail records.
        let direct = TestServer::start(db.store.clone()).await;
        assert_eq!(
            audited_address_of_sign_in(&db, &direct, "203.0.113.7").await,
            "127.0.0.1"
        );
        drop(direct);
        // Behind the TLS proxy (here, the test's own address): the client it forwards for,
        // the right-most address, not what the client wrote to its left.
        let settings = AuthSettings {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Default::default()
        };
        let proxied = TestServer::start_with(db.store.clone(), settings).await;
        let address = audited_address_of_sign_in(&db, &proxied, "198.51.100.66, 203.0.113.7").await;
        assert_eq!(address, "203.0.113.7");
        let session_address = plateau_app::fetch_scalar!(
            db.store.read(),
            String,
            "SELECT address FROM session ORDER BY id DESC LIMIT 1"
        )
        .unwrap();
        assert_eq!(session_address, "203.0.113.7");
    }
);

/// Base64 (URL-safe, padded, the padding percent-encoded) as server_fn writes `__err`.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        for _ in chunk.len()..3 {
            out.push_str("%3D");
        }
    }
    out
}

on_both_databases!(a_crafted_error_link_shows_none_of_its_words, |db| {
    let server = demo_server(&db).await;
    let sentence = "Your account is suspended, call 0899 123 456";
    let crafted = [
        format!(r#"{{"Invalid":[{{"field":"{sentence}","problem":"Required"}}]}}"#),
        format!(
            r#"{{"Invalid":[{{"field":"username","problem":"Required"}},{{"field":"{sentence}","problem":"Malformed"}}]}}"#
        ),
        format!(r#"{{"Network":"{sentence}"}}"#),
        r#"{"TooManyAttempts":{"minutes":525600}}"#.to_owned(),
    ];
    for json in &crafted {
        // With and without the form's path (which restores the form's own feedback too).
        for path in ["", "__path=/api/sign_in&"] {
            let address = format!("/sign-in?{path}__err={}", base64_url(json.as_bytes()));
            for language in ["en", "fr"] {
                let (status, page) = server.get_html(&address, language).await;
                assert_eq!(status, 200, "{json} {path}");
                for words in ["suspended", "0899", "525600"] {
                    assert!(!page.contains(words), "{json} shows {words:?}: {page}");
                }
                let generic = if language == "en" {
                    "An unexpected error occurred"
                } else {
                    "Une erreur inattendue"
                };
                assert!(page.contains(generic), "{json}: {page}");
            }
        }
    }
    // The app's own error, about a field its form has, is said as it is.
    let own = base64_url(br#"{"Invalid":[{"field":"username","problem":"Required"}]}"#);
    let (_, page) = server
        .get_html(&format!("/sign-in?__path=/api/sign_in&__err={own}"), "en")
        .await;
    assert!(page.contains("Username: required"), "{page}");
    assert_eq!(page.matches("role=\"alert\"").count(), 1, "{page}");
});

/// Posts the sign-in form from a browser that carries the device cookie `device`, if any.
async fn sign_in_on(
    server: &TestServer,
    device: Option<&str>,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.origin())
        .header("accept", "application/json");
    if let Some(token) = device {
        request = request.header("cookie", format!("{}={token}", plateau_app::auth::DEVICE_COOKIE));
    }
    request
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The device cookie a successful sign-in hands the browser.
fn device_token_in(response: &reqwest::Response) -> String {
    let prefix = format!("{}=", plateau_app::auth::DEVICE_COOKIE);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .expect("a device cookie")
        .to_owned();
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/sign_in",
        "Max-Age=7776000",
    ] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    cookie[prefix.len()..].split(';').next().unwrap().to_owned()
}

on_both_databases!(
    a_sign_in_flood_runs_no_more_hashes_at_once_than_there_are_cores,
    |db| {
        let server = std::sync::Arc::new(demo_server(&db).await);
        let flood = (0..50).map(|i| {
            let server = server.clone();
            tokio::spawn(async move {
                let response = sign_in_on(&server, None, &format!("nobody.{i}"), "a guessed password").await;
                let status = response.status().as_u16();
                if status == 503 {
                    assert!(
                        response.headers().contains_key("retry-after"),
                        "503 says when to retry"
                    );
                }
                status
            })
        });
        let mut statuses = Vec::new();
        for request in flood {
            statuses.push(request.await.unwrap());
        }
        assert!(
            statuses.iter().all(|s| [401, 429, 503].contains(s)),
            "refused, paused or busy, never a failure: {statuses:?}"
        );
        let peak = plateau_app::auth::password::peak_in_flight();
        let slots = plateau_app::auth::password::slot_count();
        assert!(
            peak >= 1 && peak <= slots,
            "{peak} hashes at once for {slots} slots"
        );
        // Past ten failures from one address, the rest are turned away.
        assert!(
            statuses.iter().filter(|s| **s == 401).count() < 10,
            "{statuses:?}"
        );
        // A colleague on a new browser at that address waits for the pause to end.
        assert_eq!(server.sign_in("a.diallo", DEMO_PASSWORD).await.status(), 429);
    }
);

on_both_databases!(one_address_spraying_many_usernames_is_paused, |db| {
    let server = demo_server(&db).await;
    // A clinician signed in on her tablet yesterday.
    let hers = sign_in_on(&server, None, "a.girard", DEMO_PASSWORD).await;
    assert_eq!(hers.status(), 200);
    let tablet = device_token_in(&hers);
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..30 {
        let response = sign_in_on(&server, None, &format!("user.{i}"), "Printemps2024!").await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..9], [401; 9], "{statuses:?}");
    assert!(statuses[9..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "paused tries are not even checked"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_event WHERE detail = 'paused after failures'"
        )
        .await,
        20
    );
    // The right password on a new browser from that address waits too; on her tablet, not.
    assert_eq!(
        sign_in_on(&server, None, "a.girard", DEMO_PASSWORD)
            .await
            .status(),
        429
    );
    let again = sign_in_on(&server, Some(&tablet), "a.girard", DEMO_PASSWORD).await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        device_token_in(&again),
        tablet,
        "the same browser keeps its cookie"
    );
});

on_both_databases!(a_paused_username_still_signs_in_on_a_trusted_browser, |db| {
    let server = demo_server(&db).await;
    let first = sign_in_on(&server, None, "c.lefevre", DEMO_PASSWORD).await;
    assert_eq!(first.status(), 200);
    let tablet = device_token_in(&first);
    // Someone fails on purpose under her username: it is paused for any other browser.
    for _ in 0..5 {
        assert_ne!(
            sign_in_on(&server, None, "c.lefevre", "locking her out")
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        sign_in_on(&server, None, "c.lefevre", DEMO_PASSWORD)
            .await
            .status(),
        429
    );
    // A token never handed out, or garbage, trusts nothing.
    let forged = "A".repeat(43);
    for cookie in [forged.as_str(), "garbage", "'; DROP TABLE trusted_device; --"] {
        assert_eq!(
            sign_in_on(&server, Some(cookie), "c.lefevre", DEMO_PASSWORD)
                .await
                .status(),
            429,
            "{cookie}"
        );
    }
    // Her tablet signs her in, and the audit trail says how.
    assert_eq!(
        sign_in_on(&server, Some(&tablet), "c.lefevre", DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'sign_in' AND detail = 'trusted device'"
        )
        .await,
        1
    );
    // Five failures on the tablet itself pause its trust, and the username's pause applies.
    for attempt in 1..=5 {
        let status = sign_in_on(&server, Some(&tablet), "c.lefevre", "a typo")
            .await
            .status();
        assert_eq!(status, if attempt < 5 { 401 } else { 429 }, "#{attempt}");
    }
    assert_eq!(
        sign_in_on(&server, Some(&tablet), "c.lefevre", DEMO_PASSWORD)
            .await
            .status(),
        429
    );
    // Only the hash of the device token is kept.
    let stored = count(
        &db,
        "SELECT COUNT(*) FROM trusted_device t JOIN account a ON a.id = t.account_id WHERE a.username = 'c.lefevre'",
    )
    .await;
    assert_eq!(stored, 1);
    let hash =
        plateau_app::fetch_scalar!(db.store.read(), String, "SELECT token_hash FROM trusted_device").unwrap();
    assert_ne!(hash, tablet);
});

on_both_databases!(
    nul_bytes_invisible_reasons_and_impossible_years_are_clear_refusals,
    |db| {
        let server = demo_server(&db).await;
        async fn problem(response: reqwest::Response) -> (u16, String) {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
        // Even anonymous sign-in: a NUL is a malformed field, not a database failure.
        let (status, body) = problem(server.sign_in("c.lefevre\0", DEMO_PASSWORD).await).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("Malformed"), "{body}");
        // A reason made of zero-width spaces is no reason.
        server.sign_in_demo("c.lefevre").await;
        let patient = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT id FROM patient WHERE record_number = 'DEMO-0002'"
        )
        .unwrap()
        .to_string();
        let invisible = "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}".repeat(4);
        let (status, body) = problem(
            server
                .call("break_glass", &[("patient_id", &patient), ("reason", &invisible)])
                .await,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("Required"), "{body}");
        let (status, body) = problem(
            server
                .call(
                    "break_glass",
                    &[("patient_id", &patient), ("reason", "Covering\0 the room")],
                )
                .await,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM break_glass").await,
            0,
            "nothing was opened"
        );
        // Years nobody lives in are a field error, not a date stored or a failure.
        server.sign_in_demo("n.faure").await;
        let account = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT id FROM account WHERE username = 'h.mercier'"
        )
        .unwrap()
        .to_string();
        for year in ["+262142-01-01", "-262143-01-01", "1492-10-12"] {
            let (status, body) = problem(
                server
                    .call(
                        "set_certification",
                        &[
                            ("account_id", &account),
                            ("kind", "phlebotomy"),
                            ("expires_on", year),
                        ],
                    )
                    .await,
            )
            .await;
            assert_eq!(status, 400, "{year}: {body}");
            assert!(body.contains("expires_on"), "{body}");
            let query = year.replace('+', "%2B");
            let status = server.get(&format!("/audit.csv?from={query}")).await.status();
            assert_eq!(status, 400, "{year}");
        }
    }
);

/// PostgreSQL: the owner migrates and gives the application's role only SELECT and INSERT
/// on the audit trail; as that role, nothing can get past the triggers, and the
/// application works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_the_application_role_may_only_add_to_the_trail() {
    let Some(db) = common::TestDb::postgres().await else {
        eprintln!("PLATEAU_TEST_POSTGRES_URL not set: PostgreSQL test not run");
        return;
    };
    let role = format!("plateau_app_{}", std::process::id());
    let make_role = format!("CREATE ROLE {role} LOGIN");
    plateau_app::execute!(db.store.read(), &make_role).unwrap();
    let app_url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(app_url, db.url, "the test URL names no user: {}", db.url);
    let args = plateau_server::cli::DatabaseArgs {
        database_url: Some(app_url.clone()),
        owner_url: Some(db.url.clone()),
        data_dir: None,
    };
    let app = plateau_server::open_store(&args).await.unwrap();
    assert_eq!(app.current_role().await.unwrap(), role);
    assert!(!app.may_rewrite_audit().await.unwrap());
    assert!(db.store.may_rewrite_audit().await.unwrap(), "the owner may");

    demo::seed(&app, Utc::now()).await.unwrap();
    let server = TestServer::start(app.clone()).await;
    server.sign_in_demo("j.morel").await;
    assert_eq!(server.call("rooms", &[]).await.status(), 200);
    for attack in [
        "UPDATE audit_event SET username = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update",
        "DROP TRIGGER audit_event_no_update ON audit_event",
        "DELETE FROM audit_chain",
        "DELETE FROM _sqlx_migrations",
    ] {
        let mut tx = app.begin().await.unwrap();
        let done = plateau_app::execute!(tx.exec(), attack);
        assert!(done.is_err(), "the application's role could run {attack}");
        drop(tx);
    }
    assert!(matches!(
        plateau_app::store::trail::verify(&app).await.unwrap(),
        plateau_app::store::trail::Verdict::Intact { .. }
    ));
    // Running again (a second server, an upgrade) grants again and changes nothing else.
    let again = plateau_server::open_store(&args).await.unwrap();
    again.close().await;
    app.close().await;
    db.cleanup().await;
    if let Ok(admin_url) = std::env::var("PLATEAU_TEST_POSTGRES_URL") {
        let admin = plateau_app::store::Store::connect(&admin_url).await.unwrap();
        let _ = plateau_app::execute!(admin.read(), &format!("DROP ROLE IF EXISTS {role}"));
        admin.close().await;
    }
}

/// A demo account whose role holds `capability`.
fn account_with(capability: plateau_app::auth::Capability) -> &'static str {
    DEMO_ACCOUNT_PER_ROLE
        .iter()
        .find(|(role, _)| plateau_app::auth::allows(*role, capability))
        .map(|(_, username)| *username)
        .unwrap()
}

// Every server function, called by someone allowed to, with input no form sends (wrong
// types, negative, huge and NUL values, broken encodings, a truncated JSON body, a long
// text): each answers with a 4xx (or, where nothing was required, a 2xx/3xx), never a
// 5xx or a dropped connection.
on_both_databases!(every_server_function_answers_malformed_input_with_a_4xx, |db| {
    let server = demo_server(&db).await;
    let ids = [
        "id",
        "room_id",
        "patient_id",
        "visit_id",
        "procedure_id",
        "account_id",
        "order_id",
        "grant_id",
        "quarantine_id",
        "staff_member_id",
        "specimen_id",
        "result_id",
        "kind_id",
        "version",
        "before_id",
    ];
    let form_of = |value: &str| {
        ids.iter()
            .map(|k| format!("{k}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let long_text = "x".repeat(200 * 1024);
    let invisible = "\u{200b}".repeat(600);
    let bodies: Vec<(&str, String)> = vec![
        (
            "application/x-www-form-urlencoded",
            "\u{1}garbage%%%zz&&==".to_owned(),
        ),
        ("application/x-www-form-urlencoded", form_of("-1")),
        ("application/x-www-form-urlencoded", form_of("abc")),
        (
            "application/x-www-form-urlencoded",
            form_of("99999999999999999999999"),
        ),
        ("application/x-www-form-urlencoded", form_of("%00")),
        (
            "application/x-www-form-urlencoded",
            format!("{}&confirm=maybe&active=2", form_of("1")),
        ),
        (
            "application/x-www-form-urlencoded",
            "roles[18446744073709551615]=x&roles[]=&topics=visit:-1&next=//evil&accession=%00".to_owned(),
        ),
        ("application/json", r#"{"id": "#.to_owned()),
        (
            "application/x-www-form-urlencoded",
            format!("reason={long_text}&note={long_text}"),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("reason={invisible}&username={invisible}&password={invisible}&value={invisible}"),
        ),
    ];
    let mut signed_in_as = "";
    for (path, access) in ENDPOINTS {
        let endpoint = path.trim_start_matches("/api/");
        let who = match access {
            Access::Needs(capability) => account_with(*capability),
            Access::Public => "",
            _ => "j.morel",
        };
        for (content_type, body) in &bodies {
            let state: SessionState = server.call("session", &[]).await.json().await.unwrap();
            if who != signed_in_as || (!who.is_empty() && state.user.as_ref().is_none_or(|u| u.locked)) {
                if who.is_empty() {
                    server.set_token(None);
                } else {
                    server.sign_in_demo(who).await;
                }
                signed_in_as = who;
            }
            let response = server
                .with_cookie(server.client.post(server.url(path)))
                .header("origin", server.origin())
                .header("accept", "application/json")
                .header("content-type", *content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{endpoint} dropped the connection on {content_type}: {e}"));
            let status = response.status().as_u16();
            assert!(
                status < 500,
                "{endpoint} answered {status} to {content_type} {:?}: {}",
                body.chars().take(80).collect::<String>(),
                response.text().await.unwrap_or_default()
            );
        }
    }
});

on_both_databases!(ids_tell_nothing_of_what_exists, |db| {
    let server = demo_server(&db).await;
    // A procedure of a patient outside l.roux's care, and an id that names nothing: the
    // same answer to both, each audited.
    let (procedure, version, visit) = plateau_app::fetch_optional!(
        db.store.read(),
        (i64, i64, i64),
        "SELECT o.id, o.version, o.visit_id FROM procedure_order o \
         WHERE NOT EXISTS (SELECT 1 FROM care_assignment c JOIN account a ON a.staff_member_id = c.staff_member_id \
                           WHERE c.visit_id = o.visit_id AND a.username = 'l.roux') \
         ORDER BY o.id LIMIT 1"
    )
    .unwrap()
    .expect("the demo has a procedure outside l.roux's care");
    server.sign_in_demo("l.roux").await;
    let before = audit_rows(&db, "patient.read", "refused").await;
    let mut answers = Vec::new();
    for id in [procedure.to_string(), "987654".to_owned()] {
        let step = server
            .call(
                "take_procedure_step",
                &[
                    ("procedure_id", &id),
                    ("version", &version.to_string()),
                    ("step", "start"),
                ],
            )
            .await;
        let read = server.call("procedure", &[("procedure_id", &id)]).await;
        answers.push((
            step.status(),
            step.text().await.unwrap(),
            read.status(),
            read.text().await.unwrap(),
        ));
    }
    assert_eq!(
        answers[0], answers[1],
        "an id that exists answers like one that does not"
    );
    assert_eq!(answers[0].0, 403);
    for visit_id in [visit.to_string(), "987654".to_owned()] {
        let topic = format!("topics=visit:{visit_id}");
        assert_eq!(server.subscribe_raw(&topic, None).await.status(), 403, "{topic}");
    }
    assert!(audit_rows(&db, "patient.read", "refused").await >= before + 4);
});
