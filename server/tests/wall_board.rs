//! A wall screen (issue 16): a supervisor turns the screen they are signed in on into a
//! wall board, whose own session shows the board alone, shortened, never locks itself,
//! and can change nothing; its person ends it from their sessions.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ok, session_token_in, TestServer};
use plateau_app::auth::{
    Access, AuthSettings, SessionState, SessionSummary, ENDPOINTS, ROUTES, WALL_BOARD_REACHES,
};
use serde_json::Value;
use std::time::Duration;

async fn session_state(server: &TestServer) -> SessionState {
    server.call("session", &[]).await.json().await.unwrap()
}

async fn audit_rows(db: &common::TestDb, action: &str) -> i64 {
    plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action = $1",
        action
    )
    .unwrap()
}

/// A supervisor's screen turned into a wall board; the server keeps its token.
async fn wall_board(server: &TestServer) -> String {
    server.sign_in_demo("j.morel").await;
    let person = server.token().unwrap();
    let answer = server.call("wall_board", &[]).await;
    assert_eq!(answer.status(), 200);
    let token = session_token_in(&answer).expect("a wall board gets a session of its own");
    let cookie = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(plateau_app::auth::SESSION_COOKIE))
        .unwrap()
        .to_owned();
    assert!(cookie.contains("Max-Age=2592000"), "kept thirty days: {cookie}");
    assert_eq!(answer.text().await.unwrap(), r#""/board""#);
    // The person's own session ended with it.
    server.set_token(Some(person));
    assert!(session_state(server).await.user.is_none());
    server.set_token(Some(token.clone()));
    token
}

on_both_databases!(a_wall_board_shows_the_board_shortened_and_never_locks, |db| {
    plateau_app::demo::seed(&db.store, chrono::Utc::now())
        .await
        .unwrap();
    let settings = AuthSettings {
        idle_lock: Duration::from_secs(1),
        ..Default::default()
    };
    let server = TestServer::start_with(db.store.clone(), settings).await;
    wall_board(&server).await;
    assert_eq!(audit_rows(&db, "session.wall_board").await, 1);
    let user = session_state(&server).await.user.unwrap();
    assert!(user.wall_board && !user.locked);

    // The supervisor opens any patient; the wall board they set up shortens everyone.
    let board = server.call("board", &[]).await.text().await.unwrap();
    assert!(!board.contains("Durand"), "a full name on the wall: {board}");
    let board: Value = serde_json::from_str(&board).unwrap();
    assert_eq!(board["short_identifiers"], true);
    let occupied: Vec<&Value> = board["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["occupant"].is_null())
        .collect();
    assert!(!occupied.is_empty());
    for room in occupied {
        assert_eq!(room["occupant"]["patient"]["shortened"], true, "{room}");
        assert_eq!(room["occupant"]["reason"], "");
    }
    // Left alone for longer than the idle time, it is still showing the board.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(server.call("board", &[]).await.status(), 200);
    assert!(!session_state(&server).await.user.unwrap().locked);
    let (status, page) = server.get_html("/board", "fr").await;
    assert_eq!(status, 200);
    assert!(page.contains("wall-board") && !page.contains("Écran verrouillé"));
    // It follows the board's live topic, not the lab's its supervisor could.
    assert_eq!(server.subscribe_raw("topics=rooms", None).await.status(), 200);
    assert_eq!(server.subscribe_raw("topics=lab", None).await.status(), 403);
});

on_both_databases!(a_wall_board_can_change_nothing, |db| {
    let server = common::demo_server(&db).await;
    wall_board(&server).await;
    let store = &db.store;
    let states = || async {
        plateau_app::fetch_all!(
            store.read(),
            (String, String),
            "SELECT code, state FROM equipment ORDER BY code"
        )
        .unwrap()
    };
    let before = states().await;
    // Every endpoint but the board, its live link and signing out is refused, even
    // those any signed-in person may call, and every page but the board.
    for (path, access) in ENDPOINTS.iter().chain(ROUTES) {
        if *access == Access::Public || WALL_BOARD_REACHES.contains(path) {
            continue;
        }
        let status = match path.strip_prefix("/api/") {
            Some(endpoint) => server.call(endpoint, &[]).await.status().as_u16(),
            None => server.get(path).await.status().as_u16(),
        };
        assert_eq!(status, 403, "a wall board reached {path}");
    }
    let irrigator = plateau_app::fetch_scalar!(
        store.read(),
        i64,
        "SELECT id FROM equipment WHERE code = $1",
        "IRR-1"
    )
    .unwrap()
    .to_string();
    let change = server
        .call(
            "equipment_state",
            &[
                ("equipment_id", &irrigator),
                ("from", "available"),
                ("to", "out_of_service"),
            ],
        )
        .await;
    assert_eq!(change.status(), 403);
    assert_eq!(states().await, before, "nothing changed");
    for page in ["/", "/account", "/lab", "/supervision", "/rooms/1"] {
        let (status, _) = server.get_html(page, "en").await;
        assert_eq!(status, 403, "a wall board opened {page}");
    }
    // Nor can it make another wall board, or lock itself.
    assert_eq!(server.call("wall_board", &[]).await.status(), 403);
    assert_eq!(server.call("lock", &[]).await.status(), 403);
});

on_both_databases!(whoever_set_up_a_wall_board_can_end_it, |db| {
    let server = common::demo_server(&db).await;
    let board = wall_board(&server).await;
    // Back at a tablet, the supervisor sees the wall board among their sessions.
    server.set_token(None);
    server.sign_in_demo("j.morel").await;
    let sessions: Vec<SessionSummary> = server.call("my_sessions", &[]).await.json().await.unwrap();
    let on_the_wall: Vec<&SessionSummary> = sessions.iter().filter(|s| s.wall_board).collect();
    assert_eq!(on_the_wall.len(), 1, "{sessions:?}");
    assert!(!on_the_wall[0].locked);
    let id = on_the_wall[0].id.to_string();
    ok(server.call("end_my_session", &[("session_id", &id)]).await).await;
    server.set_token(Some(board));
    assert!(session_state(&server).await.user.is_none());
    assert_eq!(server.call("board", &[]).await.status(), 401);
});

on_both_databases!(only_supervisors_and_administrators_set_up_wall_boards, |db| {
    let server = common::demo_server(&db).await;
    for username in ["a.girard", "c.lefevre", "s.lambert", "i.chevalier"] {
        server.sign_in_demo(username).await;
        assert_eq!(server.call("wall_board", &[]).await.status(), 403, "{username}");
        // Their session goes on.
        assert!(session_state(&server).await.user.is_some());
    }
    // An administrator may (from their account page) though they have no board.
    server.sign_in_demo("n.faure").await;
    let answer = server.call("wall_board", &[]).await;
    assert_eq!(answer.status(), 200);
    server.set_token(session_token_in(&answer));
    assert_eq!(server.call("board", &[]).await.status(), 200);
    // A repeated set-up (the same submission key) makes one wall board, not two.
    server.sign_in_demo("j.morel").await;
    let send = || {
        server
            .with_cookie(server.client.post(server.url("/api/wall_board")))
            .header("origin", server.origin())
            .header("accept", "application/json")
            .header("plateau-submission", "wall-board-once-0000000001")
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    let again = send().await.unwrap();
    assert!(
        again.status() == 200 || again.status() == 401,
        "{}",
        again.status()
    );
    let boards = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM session s JOIN account a ON a.id = s.account_id \
         WHERE a.username = $1 AND s.wall_board = $2",
        "j.morel",
        true
    )
    .unwrap();
    assert_eq!(boards, 1);
});
