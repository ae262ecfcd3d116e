//! The real-time backbone through the real router on port 0, on SQLite and PostgreSQL:
//! ordering, replay, resync, per-topic authorisation, slow subscribers, several servers.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Sse, TestServer};
use plateau_app::auth::AuthSettings;
use plateau_app::live::{store as log, EventKind, LiveSettings, NewEvent, Topic};
use plateau_app::store::Store;
use std::time::Duration;

async fn demo_server(db: &common::TestDb, live: LiveSettings) -> TestServer {
    plateau_app::demo::seed(&db.store, Utc::now()).await.unwrap();
    TestServer::start_live(db.store.clone(), AuthSettings::default(), live).await
}

async fn room_id(store: &Store, code: &str) -> i64 {
    plateau_app::fetch_scalar!(store.read(), i64, "SELECT id FROM room WHERE code = $1", code).unwrap()
}

/// Writes one event straight into the log, as a domain module does in its transaction.
async fn write_event(store: &Store, topic: Topic, subject: i64) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let event = NewEvent {
        topic,
        kind: EventKind::RoomStatus,
        subject: Some(subject),
        code: Some("C".into()),
        visit: None,
    };
    let id = log::record(&mut tx, &event, Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// The demo clinic, a nurse signed in, and her subscription to the rooms from the end of
/// the log (already past its `ready`), over a WebSocket as her tablet opens it: the
/// server, that position, the subscription.
async fn nurse_following_rooms(db: &common::TestDb) -> (TestServer, i64, Sse) {
    let server = demo_server(db, LiveSettings::default()).await;
    server.sign_in_demo("a.girard").await;
    let start = head(&db.store).await;
    let mut sse = server
        .subscribe_websocket(&format!("topics=rooms&after={start}"))
        .await;
    let ready = sse.next().await;
    assert_eq!(ready.event, "ready");
    assert_eq!(ready.json()["head"], start);
    (server, start, sse)
}

async fn head(store: &Store) -> i64 {
    log::extent(store).await.unwrap().last_id
}

/// The ids of the next `count` change messages.
async fn change_ids(sse: &mut Sse, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    while ids.len() < count {
        let message = sse.next_news().await;
        assert_eq!(message.event, "change", "{message:?}");
        let id = message.id.unwrap();
        assert_eq!(message.json()["id"], id);
        ids.push(id);
    }
    ids
}

async fn change_status(server: &TestServer, room: i64, from: &str, to: &str) -> reqwest::Response {
    let room = room.to_string();
    server
        .call(
            "room_status",
            &[("room_id", room.as_str()), ("from", from), ("to", to)],
        )
        .await
}

on_both_databases!(a_change_about_a_visit_names_it_on_the_rooms_topic, |db| {
    // A room tablet follows the rooms and asks again only for its own patient: a change
    // about a visit says which, a room's status says none.
    let (server, _, mut sse) = nurse_following_rooms(&db).await;
    let visit = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT id FROM visit WHERE ended_at IS NULL ORDER BY id LIMIT 1"
    )
    .unwrap();
    let mut tx = db.store.begin().await.unwrap();
    plateau_app::visits::store::announce(
        &mut tx,
        visit,
        plateau_app::patients::VisitState::InExam,
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let change = sse.next_news().await.json();
    assert_eq!(
        (change["topic"].as_str(), change["kind"].as_str()),
        (Some("rooms"), Some("visit"))
    );
    assert_eq!(change["visit"], visit);
    let lab = room_id(&db.store, "LAB").await;
    assert_eq!(change_status(&server, lab, "U", "C").await.status(), 200);
    let change = sse.next_news().await.json();
    assert_eq!(change["kind"], "room.status");
    assert!(change["visit"].is_null(), "{change}");
});

on_both_databases!(a_room_change_reaches_subscribers_once_with_its_status, |db| {
    let (server, start, mut sse) = nurse_following_rooms(&db).await;
    let lab = room_id(&db.store, "LAB").await;
    let response = change_status(&server, lab, "U", "C").await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let change = sse.next_news().await;
    assert_eq!(change.event, "change");
    let event = change.json();
    assert_eq!(event["topic"], "rooms");
    assert_eq!(event["kind"], "room.status");
    assert_eq!(event["subject"], lab);
    assert_eq!(event["code"], "C");
    assert_eq!(change.id, Some(start + 1));
    // No names, no reasons: identifiers and codes only.
    assert!(!change.data.contains("Laboratoire"));

    // The room page shows the new status, and the change is audited.
    let room: serde_json::Value = server
        .call("room", &[("room_id", lab.to_string().as_str())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(room["room"]["room"]["status"], "C");
    let audited = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action = 'room.status' AND record = $1 AND detail = 'U -> C'",
        format!("room/{lab}")
    )
    .unwrap();
    assert_eq!(audited, 1);
    // Nothing more: the change was sent once.
    assert!(sse.next_within(Duration::from_millis(300)).await.is_none());
});

on_both_databases!(
    illegal_or_stale_room_changes_are_refused_and_write_nothing,
    |db| {
        let server = demo_server(&db, LiveSettings::default()).await;
        server.sign_in_demo("a.girard").await;
        let lab = room_id(&db.store, "LAB").await;
        let before = head(&db.store).await;
        // Not a change anyone makes by hand: a room is occupied by bringing a patient in.
        let occupy = change_status(&server, lab, "U", "O").await;
        assert_eq!(occupy.status(), 400);
        assert!(occupy.text().await.unwrap().contains("NotAllowed"));
        for (room, from, to) in [
            ("0", "U", "C"),
            ("-4", "U", "C"),
            ("x", "U", "C"),
            (lab.to_string().as_str(), "Z", "C"),
            (lab.to_string().as_str(), "U", "closed"),
            (lab.to_string().as_str(), "", ""),
        ] {
            let response = server
                .call("room_status", &[("room_id", room), ("from", from), ("to", to)])
                .await;
            assert_eq!(response.status(), 400, "{room} {from} {to}");
        }
        let missing = change_status(&server, 999_999, "U", "C").await;
        assert_eq!(missing.status(), 404);
        // Two tablets close the room at once: one wins, the other is told it changed.
        let first = change_status(&server, lab, "U", "C").await;
        assert_eq!(first.status(), 200);
        let second = change_status(&server, lab, "U", "C").await;
        assert_eq!(second.status(), 409);
        assert!(second.text().await.unwrap().contains("Conflict"));
        assert_eq!(
            head(&db.store).await,
            before + 1,
            "only the winning change is in the log"
        );
        // The front desk sees the rooms but does not change them.
        server.sign_in_demo("s.lambert").await;
        let refused = change_status(&server, lab, "C", "U").await;
        assert_eq!(refused.status(), 403);
        assert_eq!(head(&db.store).await, before + 1);
    }
);

on_both_databases!(
    concurrent_writers_are_delivered_in_commit_order_without_gaps,
    |db| {
        let (_server, start, mut sse) = nurse_following_rooms(&db).await;
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    for _ in 0..25 {
                        write_event(&store, Topic::Rooms, writer).await;
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let ids = change_ids(&mut sse, 100).await;
        let expected: Vec<i64> = (start + 1..=start + 100).collect();
        assert_eq!(ids, expected);
        assert!(sse.next_within(Duration::from_millis(300)).await.map(|m| m.event) != Some("change".into()));
    }
);

on_both_databases!(
    a_reconnecting_subscriber_gets_what_it_missed_then_live_changes,
    |db| {
        let (server, start, mut sse) = nurse_following_rooms(&db).await;
        for _ in 0..3 {
            write_event(&db.store, Topic::Rooms, 1).await;
        }
        let seen = change_ids(&mut sse, 2).await;
        drop(sse); // the Wi-Fi drops
        for _ in 0..3 {
            write_event(&db.store, Topic::Rooms, 1).await;
        }
        // An `EventSource` reconnects with the last id it received; the address still names
        // the page's starting point, and the header wins.
        let last = seen[1].to_string();
        let mut again = server
            .subscribe(&format!("topics=rooms&after={start}"), Some(&last))
            .await;
        assert_eq!(again.next().await.event, "ready");
        let replayed = change_ids(&mut again, 4).await;
        assert_eq!(replayed, (seen[1] + 1..=seen[1] + 4).collect::<Vec<_>>());
        let live = write_event(&db.store, Topic::Rooms, 1).await;
        assert_eq!(change_ids(&mut again, 1).await, vec![live]);
        // A tablet reopening its WebSocket from the last event it received gets the same.
        let mut page = server
            .subscribe_websocket(&format!("topics=rooms&after={last}"))
            .await;
        assert_eq!(page.next().await.event, "ready");
        assert_eq!(
            change_ids(&mut page, 5).await,
            (seen[1] + 1..=live).collect::<Vec<_>>()
        );
    }
);

on_both_databases!(a_subscriber_too_far_behind_is_told_to_reload, |db| {
    let live = LiveSettings {
        max_replay: 5,
        ..LiveSettings::default()
    };
    let server = demo_server(&db, live).await;
    server.sign_in_demo("a.girard").await;
    let start = head(&db.store).await;
    for _ in 0..8 {
        write_event(&db.store, Topic::Rooms, 1).await;
    }
    // More than the replay limit behind: reload, and continue from the end of the log.
    let mut sse = server
        .subscribe(&format!("topics=rooms&after={start}"), None)
        .await;
    let resync = sse.next().await;
    assert_eq!(resync.event, "resync");
    assert_eq!(resync.json()["head"], start + 8);
    assert_eq!(resync.id, Some(start + 8));
    let next = write_event(&db.store, Topic::Rooms, 1).await;
    assert_eq!(change_ids(&mut sse, 1).await, vec![next]);
    // Within the limit, but pruned from the log: reload too.
    let pruned = log::prune(&db.store, Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(pruned, 9);
    let mut late = server
        .subscribe(&format!("topics=rooms&after={}", start + 6), None)
        .await;
    assert_eq!(late.next().await.event, "resync");
});

on_both_databases!(subscriptions_follow_only_what_the_person_may_see, |db| {
    let server = demo_server(&db, LiveSettings::default()).await;
    // Nobody signed in.
    assert_eq!(server.subscribe_raw("topics=rooms", None).await.status(), 401);
    server.sign_in_demo("i.chevalier").await; // lab technician
    let refused = server.subscribe_raw("topics=rooms", None).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("rooms"));
    let audited = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action = 'live.subscribe' AND outcome = 'refused' AND username = 'i.chevalier'"
    )
    .unwrap();
    assert_eq!(audited, 1);
    // Bad input: a clear refusal each.
    let h = head(&db.store).await;
    for (query, last_event_id, status, says) in [
        ("topics=lab,pharmacy", None, 400, "pharmacy"),
        ("", None, 400, "topics"),
        ("topics=lab&after=-3", None, 400, "malformed"),
        ("topics=lab&after=12abc", None, 400, "malformed"),
        ("topics=lab", Some("not-a-number"), 400, "malformed"),
        ("topics=lab&after=99999999", None, 409, "never sent"),
        ("topics=lab", Some("99999999"), 409, "never sent"),
        ("topics=visit:999999", None, 403, "visit"),
    ] {
        let response = server.subscribe_raw(query, last_event_id).await;
        assert_eq!(response.status(), status, "{query} {last_event_id:?}");
        let text = response.text().await.unwrap();
        assert!(text.to_lowercase().contains(says), "{query}: {text}");
    }
    assert_eq!(head(&db.store).await, h);
    // The lab follows the lab, and hears nothing of the rooms.
    let mut lab = server.subscribe(&format!("topics=lab&after={h}"), None).await;
    assert_eq!(lab.next().await.event, "ready");
    write_event(&db.store, Topic::Rooms, 1).await;
    let lab_event = write_event(&db.store, Topic::Lab, 2).await;
    let message = lab.next_news().await;
    assert_eq!((message.event.as_str(), message.id), ("change", Some(lab_event)));
    assert_eq!(message.json()["topic"], "lab");

    // A visit: the care team follows it; a clinician outside it does not; an unknown one
    // is not found.
    let visit = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT v.id FROM visit v JOIN room r ON r.id = v.room_id WHERE r.code = 'S1'"
    )
    .unwrap();
    server.sign_in_demo("a.girard").await; // on S1's care team
    let _ = server.subscribe(&format!("topics=visit:{visit}"), None).await;
    server.sign_in_demo("l.roux").await; // not on it
    let outside = server.subscribe_raw(&format!("topics=visit:{visit}"), None).await;
    assert_eq!(outside.status(), 403);
    // A visit that does not exist is refused the same way: ids tell nothing.
    assert_eq!(
        server.subscribe_raw("topics=visit:999999", None).await.status(),
        403
    );
    // Following nothing but the link itself is allowed (an administrator's screens).
    server.sign_in_demo("n.faure").await;
    let mut admin = server.subscribe("topics=", None).await;
    assert_eq!(admin.next().await.event, "ready");
    assert_eq!(server.subscribe_raw("topics=rooms", None).await.status(), 403);
});

on_both_databases!(
    a_websocket_opens_only_from_this_site_for_what_the_person_may_see,
    |db| {
        let server = demo_server(&db, LiveSettings::default()).await;
        // Nobody signed in: refused before the upgrade.
        assert_eq!(server.open_websocket("topics=rooms", None).await.err(), Some(401));
        server.sign_in_demo("a.girard").await;
        // Another site's page carrying the nurse's cookie: refused, whatever it asks for.
        let foreign = server
            .open_websocket("topics=rooms", Some("https://evil.example"))
            .await;
        assert_eq!(foreign.err(), Some(403));
        // The same refusals as Server-Sent Events, before anything is upgraded.
        let h = head(&db.store).await;
        for (query, status) in [
            ("topics=rooms,pharmacy", 400),
            ("topics=rooms&after=12abc", 400),
            ("topics=rooms&after=99999999", 409),
            ("topics=lab", 403),
        ] {
            assert_eq!(
                server.open_websocket(query, None).await.err(),
                Some(status),
                "{query}"
            );
        }
        // A request that asks for an upgrade but is no WebSocket handshake is refused, not
        // answered with an event stream.
        let half = server
            .with_cookie(server.client.get(server.url("/api/live?topics=rooms")))
            .header("origin", server.origin())
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .send()
            .await
            .unwrap();
        assert_eq!(half.status(), 400);
        // Accepted: ready, then the changes.
        let mut socket = server
            .subscribe_websocket(&format!("topics=rooms&after={h}"))
            .await;
        assert_eq!(socket.next().await.event, "ready");
        let id = write_event(&db.store, Topic::Rooms, 1).await;
        assert_eq!(change_ids(&mut socket, 1).await, vec![id]);
        assert_eq!(head(&db.store).await, id);
    }
);

on_both_databases!(a_stalled_subscriber_holds_nobody_back_and_misses_nothing, |db| {
    let live = LiveSettings {
        channel_capacity: 8,
        ..LiveSettings::default()
    };
    let server = demo_server(&db, live).await;
    server.sign_in_demo("a.girard").await;
    let start = head(&db.store).await;
    // A tablet that stops reading, with a small receive buffer: the server's socket fills
    // and its writes queue. (Falling behind the broadcast itself is tested beside the
    // subscription code, where the channel can be made to overflow exactly.)
    let mut stalled = stalled_subscriber(&server, &format!("topics=rooms&after={start}")).await;
    let mut reader = server
        .subscribe(&format!("topics=rooms&after={start}"), None)
        .await;
    assert_eq!(reader.next().await.event, "ready");
    const COUNT: i64 = 1500;
    let writer = {
        let store = db.store.clone();
        tokio::spawn(async move {
            for _ in 0..COUNT {
                write_event(&store, Topic::Rooms, 1).await;
            }
        })
    };
    // The reader keeps up while the other one sleeps.
    let ids = change_ids(&mut reader, COUNT as usize).await;
    assert_eq!(ids, (start + 1..=start + COUNT).collect::<Vec<_>>());
    writer.await.unwrap();
    // The sleeper wakes and gets everything, in order, once (read from the log where it
    // fell behind the broadcast).
    let caught_up = read_change_ids(&mut stalled, COUNT as usize).await;
    assert_eq!(caught_up, (start + 1..=start + COUNT).collect::<Vec<_>>());
});

/// A raw connection with a 2 KiB receive buffer that sends the request and reads nothing.
async fn stalled_subscriber(server: &TestServer, query: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    let request = format!(
        "GET /api/live?{query} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr,
        server.cookie().unwrap()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// The ids of the next `count` changes on a raw connection, in the order they came.
async fn read_change_ids(stream: &mut tokio::net::TcpStream, count: usize) -> Vec<i64> {
    use tokio::io::AsyncReadExt;
    let mut text = String::new();
    let mut buffer = vec![0u8; 64 * 1024];
    // A bound on a hang, not a speed check: a 2 KiB window makes this slow on a busy machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        // Each message is one chunk of the response; "id: N\nevent: change" never spans two.
        let ids: Vec<i64> = text
            .split("\n\n")
            .filter(|block| block.contains("event: change"))
            .filter_map(|block| block.split("id: ").nth(1)?.lines().next()?.parse().ok())
            .collect();
        if ids.len() >= count {
            return ids;
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buffer))
            .await
            .expect("every change within a minute")
            .unwrap();
        assert!(n > 0, "the stream ended after {} changes", ids.len());
        text.push_str(std::str::from_utf8(&buffer[..n]).unwrap());
    }
}

on_both_databases!(
    a_subscription_ends_when_its_screen_locks_or_its_session_ends,
    |db| {
        let live = LiveSettings {
            heartbeat: Duration::from_millis(200),
            ..LiveSettings::default()
        };
        let server = demo_server(&db, live).await;
        server.sign_in_demo("a.girard").await;
        let mut sse = server.subscribe("topics=rooms", None).await;
        assert_eq!(sse.next().await.event, "ready");
        assert_eq!(sse.next().await.event, "heartbeat");
        assert_eq!(server.call("lock", &[]).await.status(), 200);
        let end = sse.next().await;
        assert_eq!(
            (end.event.as_str(), end.json()["reason"].as_str()),
            ("end", Some("locked"))
        );
        assert!(
            sse.next_within(Duration::from_secs(1)).await.is_none(),
            "the stream is over"
        );
        // Locked: no new subscription either.
        assert_eq!(server.subscribe_raw("topics=rooms", None).await.status(), 423);

        server.sign_in_demo("a.girard").await;
        let mut sse = server.subscribe("topics=rooms", None).await;
        assert_eq!(sse.next().await.event, "ready");
        assert_eq!(server.call("sign_out", &[]).await.status(), 200);
        let end = sse.next_news().await;
        assert_eq!(end.json()["reason"], "signed_out");
    }
);

/// Two app servers on one PostgreSQL database: a change committed through one reaches
/// the subscribers of the other, also after the other's LISTEN connection was killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_postgres_share_events_even_after_losing_their_listener() {
    let Some(db) = common::TestDb::postgres().await else {
        return;
    };
    plateau_app::demo::seed(&db.store, Utc::now()).await.unwrap();
    let other_store = Store::connect(&db.url).await.unwrap();
    let slow_poll = LiveSettings {
        // Long enough that only a notification (or the listener's recovery) explains a
        // prompt delivery.
        poll: Duration::from_secs(30),
        ..LiveSettings::default()
    };
    let a = TestServer::start_live(db.store.clone(), AuthSettings::default(), slow_poll.clone()).await;
    let b = TestServer::start_live(other_store.clone(), AuthSettings::default(), slow_poll).await;
    a.sign_in_demo("a.girard").await;
    b.sign_in_demo("a.girard").await;
    let lab = room_id(&db.store, "LAB").await;
    // Let both listeners connect.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut on_b = b.subscribe("topics=rooms", None).await;
    assert_eq!(on_b.next().await.event, "ready");
    let started = std::time::Instant::now();
    assert_eq!(change_status(&a, lab, "U", "C").await.status(), 200);
    let message = on_b.next_news().await;
    assert_eq!(message.json()["code"], "C");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Kill every LISTEN connection of this database, then commit again through A.
    let killed = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()) AS k"
    )
    .unwrap();
    assert!(killed >= 2, "both servers listen ({killed} killed)");
    assert_eq!(change_status(&a, lab, "C", "U").await.status(), 200);
    let started = std::time::Instant::now();
    let message = on_b.next_news().await;
    assert_eq!(message.json()["code"], "U");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // And after the listener is back, notifications work again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(change_status(&a, lab, "U", "C").await.status(), 200);
    assert_eq!(on_b.next_news().await.json()["code"], "C");
    drop(on_b);
    drop((a, b));
    other_store.close().await;
    db.cleanup().await;
}

on_both_databases!(
    a_server_shutting_down_ends_its_subscriptions_for_them_to_resume,
    |db| {
        let (server, start, mut sse) = nurse_following_rooms(&db).await;
        let id = write_event(&db.store, Topic::Rooms, 1).await;
        assert_eq!(change_ids(&mut sse, 1).await, vec![id]);
        // What a graceful shutdown does first: open subscriptions would keep it waiting.
        server.events.close();
        let end = sse.next_news().await;
        assert_eq!(end.event, "end");
        assert_eq!(end.json()["reason"], "unavailable");
        assert!(
            sse.next_within(Duration::from_secs(1)).await.is_none(),
            "the stream is over"
        );
        // The browser resumes from the last event it received, on whichever server answers.
        let other = TestServer::start(db.store.clone()).await;
        other.set_token(server.token());
        let later = write_event(&db.store, Topic::Rooms, 1).await;
        let mut resumed = other
            .subscribe(&format!("topics=rooms&after={start}"), Some(&id.to_string()))
            .await;
        assert_eq!(resumed.next().await.event, "ready");
        assert_eq!(change_ids(&mut resumed, 1).await, vec![later]);
    }
);

on_both_databases!(
    a_subscription_ends_when_its_break_glass_access_expires_and_a_session_holds_few,
    |db| {
        let live = LiveSettings {
            heartbeat: Duration::from_millis(200),
            ..LiveSettings::default()
        };
        let server = demo_server(&db, live).await;
        let (visit, patient) = plateau_app::fetch_optional!(
            db.store.read(),
            (i64, i64),
            "SELECT v.id, v.patient_id FROM visit v JOIN room r ON r.id = v.room_id WHERE r.code = 'S1'"
        )
        .unwrap()
        .unwrap();
        server.sign_in_demo("l.roux").await; // not on S1's care team
        assert_eq!(
            server
                .subscribe_raw(&format!("topics=visit:{visit}"), None)
                .await
                .status(),
            403
        );
        let patient_text = patient.to_string();
        common::ok(
            server
                .call(
                    "break_glass",
                    &[
                        ("patient_id", &patient_text),
                        ("reason", "Covering the room while the team is away"),
                    ],
                )
                .await,
        )
        .await;
        let mut sse = server
            .subscribe(&format!("topics=rooms,visit:{visit}"), None)
            .await;
        assert_eq!(sse.next().await.event, "ready");
        assert_eq!(sse.next().await.event, "heartbeat");
        // Four hours later, as far as the database knows.
        let past = Utc::now() - chrono::Duration::minutes(1);
        let mut tx = db.store.begin().await.unwrap();
        plateau_app::execute!(tx.exec(), "UPDATE break_glass SET expires_at = $1", past).unwrap();
        tx.commit().await.unwrap();
        let end = loop {
            let message = sse.next().await;
            if message.event != "heartbeat" {
                break message;
            }
        };
        assert_eq!(
            (end.event.as_str(), end.json()["reason"].as_str()),
            ("end", Some("access_ended"))
        );

        // One session holds at most eight live links; the ninth is refused, and a link
        // that ends gives its place back.
        let mut links = Vec::new();
        for _ in 0..plateau_app::live::bus::SUBSCRIPTIONS_PER_SESSION {
            let mut link = server.subscribe("topics=rooms", None).await;
            assert_eq!(link.next().await.event, "ready");
            links.push(link);
        }
        assert_eq!(server.subscribe_raw("topics=rooms", None).await.status(), 429);
        drop(links.pop());
        let mut freed = None;
        for _ in 0..50 {
            let response = server.subscribe_raw("topics=rooms", None).await;
            if response.status() == 200 {
                freed = Some(response);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(freed.is_some(), "a closed link did not give its place back");
        // Another session of the same person is not counted with this one.
        let other = TestServer::start(db.store.clone()).await;
        other.sign_in_demo("l.roux").await;
        assert_eq!(other.subscribe_raw("topics=rooms", None).await.status(), 200);
    }
);

on_both_databases!(
    a_care_team_keeps_its_access_only_for_a_while_after_the_visit,
    |db| {
        let server = demo_server(&db, LiveSettings::default()).await;
        let visit = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT v.id FROM visit v JOIN room r ON r.id = v.room_id WHERE r.code = 'S1'"
        )
        .unwrap();
        server.sign_in_demo("a.girard").await; // on S1's care team
        let topic = format!("topics=visit:{visit}");
        assert_eq!(server.subscribe_raw(&topic, None).await.status(), 200);
        let end_visit = |hours_ago: i64| {
            let store = db.store.clone();
            async move {
                let ended = Utc::now() - chrono::Duration::hours(hours_ago);
                let mut tx = store.begin().await.unwrap();
                plateau_app::execute!(
                    tx.exec(),
                    "UPDATE visit SET ended_at = $1 WHERE id = $2",
                    ended,
                    visit
                )
                .unwrap();
                tx.commit().await.unwrap();
            }
        };
        // Ended an hour ago: the team finishes its notes.
        end_visit(1).await;
        assert_eq!(server.subscribe_raw(&topic, None).await.status(), 200);
        // Ended yesterday: the patient is like any other's.
        end_visit(13).await;
        assert_eq!(server.subscribe_raw(&topic, None).await.status(), 403);
    }
);
