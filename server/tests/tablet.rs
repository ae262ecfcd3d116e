//! Safe and quick on the tablet (issue 16): a form acts once however often it is sent,
//! nothing chosen orders nothing, each list shows the minimum its viewer needs, a queued
//! procedure opens for whoever may take it, and everyone sets their own shift.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ok, visit_of};
use plateau_app::fetch_scalar;
use plateau_app::store::Store;
use serde_json::Value;

async fn count(store: &Store, sql: &str) -> i64 {
    fetch_scalar!(store.read(), i64, sql).unwrap()
}

/// An order for Durand (in the physician's care) sent with submission `key`.
async fn order_sent_with(
    server: &common::TestServer,
    key: &str,
    durand: &str,
    note: &str,
) -> reqwest::Response {
    server
        .with_cookie(server.client.post(server.url("/api/order_procedure")))
        .header("origin", server.origin())
        .header("accept", "application/json")
        .header("plateau-submission", key)
        .form(&[
            ("visit_id", durand),
            ("kind_id", "1"),
            ("priority", "routine"),
            ("note", note),
        ])
        .send()
        .await
        .unwrap()
}

on_both_databases!(a_form_sent_twice_acts_once, |db| {
    let server = common::demo_server(&db).await;
    let store = &db.store;
    server.sign_in_demo("c.lefevre").await;
    let durand = visit_of(store, "Durand").await.to_string();
    let orders = "SELECT COUNT(*) FROM procedure_order";
    let before = count(store, orders).await;

    // A retry after a Wi-Fi drop: the same answer, one order.
    let first = order_sent_with(&server, "0b6f0c1e-4a4e-4c1a-9d1e-2f5b8f7d9a10", &durand, "").await;
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    let again = order_sent_with(&server, "0b6f0c1e-4a4e-4c1a-9d1e-2f5b8f7d9a10", &durand, "").await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.text().await.unwrap(),
        first,
        "the repeat gets the first answer"
    );
    assert_eq!(count(store, orders).await, before + 1);

    // A double tap: both at once, one order, both told the same.
    let key = "double-tap-0000000000000001";
    let (a, b) = tokio::join!(
        order_sent_with(&server, key, &durand, "twice"),
        order_sent_with(&server, key, &durand, "twice")
    );
    let (a_status, b_status) = (a.status(), b.status());
    let (a, b) = (a.text().await.unwrap(), b.text().await.unwrap());
    assert_eq!((a_status.as_u16(), b_status.as_u16()), (200, 200), "{a} {b}");
    assert_eq!(a, b);
    assert_eq!(count(store, orders).await, before + 2);

    // The same key with something else: refused, nothing stored.
    let reused = order_sent_with(&server, key, &durand, "another order").await;
    assert_eq!(reused.status(), 422);
    assert_eq!(count(store, orders).await, before + 2);
    // A key that is no key.
    for bad in ["short", "has spaces in it, sixteen+", &"k".repeat(65)] {
        assert_eq!(
            order_sent_with(&server, bad, &durand, "").await.status(),
            400,
            "{bad}"
        );
    }
    assert_eq!(count(store, orders).await, before + 2);

    // Without JavaScript the key is the form's `submission` field: posted twice, one order.
    for _ in 0..2 {
        let response = server
            .with_cookie(server.client.post(server.url("/api/order_procedure")))
            .header("origin", server.origin())
            .header("accept", "text/html")
            .header("referer", server.url("/rooms/1"))
            .form(&[
                ("submission", "plain-form-key-000000001"),
                ("visit_id", durand.as_str()),
                ("kind_id", "1"),
                ("priority", "routine"),
                ("note", ""),
            ])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
    }
    assert_eq!(count(store, orders).await, before + 3);
});

on_both_databases!(nothing_chosen_orders_nothing, |db| {
    let server = common::demo_server(&db).await;
    let store = &db.store;
    server.sign_in_demo("c.lefevre").await;
    let durand = visit_of(store, "Durand").await.to_string();
    let before = count(store, "SELECT COUNT(*) FROM procedure_order").await;
    for (endpoint, field) in [("order_procedure", "kind_id"), ("order_lab_test", "test_id")] {
        let response = server
            .call(
                endpoint,
                &[
                    ("visit_id", durand.as_str()),
                    (field, "0"),
                    ("priority", "routine"),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(response.status(), 400, "{endpoint}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["Invalid"][0]["field"], field, "{error}");
        assert_eq!(error["Invalid"][0]["problem"], "Required", "{error}");
    }
    assert_eq!(count(store, "SELECT COUNT(*) FROM procedure_order").await, before);
});

on_both_databases!(lists_show_patients_outside_ones_care_shortened, |db| {
    let server = common::demo_server(&db).await;
    // The front desk opens no patient: every occupant of the rooms and the board is
    // shortened, and no visit reason leaves the server.
    server.sign_in_demo("s.lambert").await;
    let rooms = server.call("rooms", &[]).await.text().await.unwrap();
    assert!(rooms.contains("\"shortened\":true"), "{rooms}");
    assert!(
        !rooms.contains("Durand"),
        "a full name reached the front desk: {rooms}"
    );
    let board = server.call("board", &[]).await.text().await.unwrap();
    assert!(!board.contains("Durand"), "{board}");
    let board: Value = serde_json::from_str(&board).unwrap();
    for visit in board["waiting"].as_array().unwrap() {
        assert_eq!(visit["reason"], "", "{visit}");
        assert_eq!(visit["patient"]["shortened"], true);
    }
    // The physician sees their own patients in full, others shortened.
    server.sign_in_demo("c.lefevre").await;
    let rooms: Value = server.call("rooms", &[]).await.json().await.unwrap();
    let occupants: Vec<&Value> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["occupant"].as_object().map(|_| &r["occupant"]))
        .collect();
    assert!(occupants
        .iter()
        .any(|o| o["patient"]["family_name"] == "Durand" && o["patient"]["shortened"] == false));
    assert!(occupants.iter().any(|o| o["patient"]["shortened"] == true));
});

on_both_databases!(whoever_may_take_a_queued_procedure_opens_it, |db| {
    let server = common::demo_server(&db).await;
    let store = &db.store;
    // A queued procedure whose patient is in nobody's care of this assistant's.
    let queued = fetch_scalar!(
        store.read(),
        i64,
        "SELECT o.id FROM procedure_order o WHERE o.state = 'ordered' AND NOT EXISTS \
         (SELECT 1 FROM care_assignment c JOIN staff_member s ON s.id = c.staff_member_id \
          JOIN account a ON a.staff_member_id = s.id \
          WHERE c.visit_id = o.visit_id AND a.username = 'h.mercier') ORDER BY o.id LIMIT 1"
    )
    .unwrap();
    let visit = fetch_scalar!(
        store.read(),
        i64,
        "SELECT visit_id FROM procedure_order WHERE id = $1",
        queued
    )
    .unwrap();
    server.sign_in_demo("h.mercier").await;
    let page = server
        .call("procedure", &[("procedure_id", &queued.to_string())])
        .await;
    assert_eq!(page.status(), 200, "{}", page.text().await.unwrap());
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'patient.read.queue' AND username = 'h.mercier'"
        )
        .await,
        1
    );
    // Acting on it (here: cancelling it, which needs no free room) puts them on the care
    // team, and the action's own row is in the trail.
    let snapshot: Value = server
        .call("procedure", &[("procedure_id", &queued.to_string())])
        .await
        .json()
        .await
        .unwrap();
    let version = snapshot["procedure"]["version"].to_string();
    ok(server
        .call(
            "take_procedure_step",
            &[
                ("procedure_id", &queued.to_string()),
                ("version", &version),
                ("step", "cancel"),
                ("reason", "prescrit deux fois"),
            ],
        )
        .await)
    .await;
    let on_team = fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM care_assignment c JOIN account a ON a.staff_member_id = c.staff_member_id \
         WHERE c.visit_id = $1 AND a.username = 'h.mercier'",
        visit
    )
    .unwrap();
    assert_eq!(on_team, 1);
    // The front desk may not open it.
    server.sign_in_demo("s.lambert").await;
    assert_eq!(
        server
            .call("procedure", &[("procedure_id", &queued.to_string())])
            .await
            .status(),
        403
    );
});

on_both_databases!(everyone_sets_their_own_shift, |db| {
    let server = common::demo_server(&db).await;
    server.sign_in_demo("h.mercier").await;
    let mine: Value = server.call("my_presence", &[]).await.json().await.unwrap();
    let me = mine[0].to_string();
    ok(server
        .call("set_presence", &[("staff_member_id", &me), ("presence", "break")])
        .await)
    .await;
    let mine: Value = server.call("my_presence", &[]).await.json().await.unwrap();
    assert_eq!(mine[1], "break");
    // Someone else's shift is a supervisor's to set.
    let other = common::staff(&db.store, "a.diallo").await.to_string();
    assert_eq!(
        server
            .call(
                "set_presence",
                &[("staff_member_id", &other), ("presence", "off")]
            )
            .await
            .status(),
        403
    );
    assert_eq!(
        server
            .call(
                "set_presence",
                &[("staff_member_id", &me), ("presence", "asleep")]
            )
            .await
            .status(),
        400
    );
});
