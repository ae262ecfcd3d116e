//! The back office through the real router on port 0, on SQLite and PostgreSQL: orders,
//! rooming, staffing by qualification, positioning, equipment, the procedure's life, and
//! cleaning; with the refusals and races that come with them.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo_server, id_of, ok, refusal, staff, visit_of, TestServer};
use plateau_app::store::Store;
use serde_json::Value;

async fn room(store: &Store, code: &str) -> i64 {
    id_of(store, "SELECT id FROM room WHERE code = $1", code).await
}

async fn room_status(store: &Store, code: &str) -> String {
    plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT status FROM room WHERE code = $1",
        code
    )
    .unwrap()
}

async fn kind(store: &Store, code: &str) -> i64 {
    id_of(store, "SELECT id FROM procedure_kind WHERE code = $1", code).await
}

async fn equipment(store: &Store, code: &str) -> i64 {
    id_of(store, "SELECT id FROM equipment WHERE code = $1", code).await
}

/// The procedure as its page loads it.
async fn procedure(server: &TestServer, id: i64) -> Value {
    let response = server
        .call("procedure", &[("procedure_id", &id.to_string())])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn version(server: &TestServer, id: i64) -> String {
    procedure(server, id).await["procedure"]["version"].to_string()
}

/// Calls `endpoint` on procedure `id` at its current version with `fields`.
async fn act(server: &TestServer, endpoint: &str, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let id = id.to_string();
    let version = version(server, id.parse().unwrap()).await;
    let mut form = vec![("procedure_id", id.as_str()), ("version", version.as_str())];
    form.extend_from_slice(fields);
    server.call(endpoint, &form).await
}

/// Puts staff member `who` on procedure `id` as `role`.
async fn assign(server: &TestServer, id: i64, who: &str, role: &str) -> reqwest::Response {
    act(
        server,
        "assign_staff",
        id,
        &[("staff_member_id", who), ("role", role)],
    )
    .await
}

async fn clean(server: &TestServer, room_id: i64, from: &str, items: &[&str]) -> reqwest::Response {
    let room_id = room_id.to_string();
    let names: Vec<String> = (0..items.len()).map(|i| format!("items[{i}]")).collect();
    let mut form = vec![("room_id", room_id.as_str()), ("from", from)];
    form.extend(names.iter().map(String::as_str).zip(items.iter().copied()));
    server.call("attest_cleaning", &form).await
}

on_both_databases!(ear_irrigation_from_order_to_a_clean_room, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let durand = visit_of(store, "Durand").await;
    let ear = kind(store, "ear_irrigation").await;

    // The physician orders from the exam room.
    server.sign_in_demo("c.lefevre").await;
    let catalog: Value = server.call("procedure_catalog", &[]).await.json().await.unwrap();
    assert!(catalog
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["code"] == "ear_irrigation"));
    let ordered = server
        .call(
            "order_procedure",
            &[
                ("visit_id", &durand.to_string()),
                ("kind_id", &ear.to_string()),
                ("priority", "urgent"),
                ("note", "Bouchon droit"),
            ],
        )
        .await;
    assert_eq!(ordered.status(), 200);
    let id: i64 = ordered.json().await.unwrap();
    // Urgent: after the stat capillary sample, before every routine one.
    let queue: Value = server.call("procedure_queue", &[]).await.json().await.unwrap();
    let codes: Vec<&str> = queue["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes[0], "capillary_sample");
    let position = codes.iter().position(|c| *c == "ear_irrigation").unwrap();
    assert!(codes[position + 1..].iter().all(|c| *c != "ecg"), "{codes:?}");

    // The assistant rooms the patient: every procedure room is taken or dirty.
    server.sign_in_demo("a.diallo").await;
    let s2 = room(store, "S2").await;
    let into_s2 = act(&server, "room_patient", id, &[("room_id", &s2.to_string())]).await;
    assert_eq!(refusal(into_s2).await, "room_not_available");
    let lab = room(store, "LAB").await;
    let into_lab = act(&server, "room_patient", id, &[("room_id", &lab.to_string())]).await;
    assert_eq!(refusal(into_lab).await, "room_not_for_patients");
    // S2 was contaminated: a cleaning attestation with its whole checklist frees it.
    let partial = clean(&server, s2, "K", &["surfaces", "linen"]).await;
    assert_eq!(refusal(partial).await, "checklist_incomplete");
    let cleaned = clean(
        &server,
        s2,
        "K",
        &["surfaces", "sterile_field", "sharps", "linen"],
    )
    .await;
    ok(cleaned).await;
    assert_eq!(room_status(store, "S2").await, "U");
    ok(act(&server, "room_patient", id, &[("room_id", &s2.to_string())]).await).await;
    assert_eq!(room_status(store, "S2").await, "O");
    assert_eq!(
        room_status(store, "E1").await,
        "H",
        "the exam room goes to housekeeping"
    );

    // Staffing: a nurse without the assistant's certification is refused, with the reason;
    // a person on a break too; the certified assistant is accepted.
    let girard = staff(store, "a.girard").await.to_string();
    let refused = assign(&server, id, &girard, "performer").await;
    assert_eq!(refusal(refused).await, "not_qualified");
    let roux = staff(store, "l.roux").await.to_string();
    let resting = assign(&server, id, &roux, "performer").await;
    assert_eq!(refusal(resting).await, "on_break");
    let diallo = staff(store, "a.diallo").await.to_string();
    ok(assign(&server, id, &diallo, "performer").await).await;
    let twice = assign(&server, id, &girard, "performer").await;
    assert_eq!(refusal(twice).await, "already_assigned");
    ok(assign(&server, id, &girard, "helper").await).await;

    // Completing what never started is refused; starting needs the irrigator reserved.
    let early = act(&server, "take_procedure_step", id, &[("step", "complete")]).await;
    assert_eq!(refusal(early).await, "not_started");
    let unequipped = act(&server, "take_procedure_step", id, &[("step", "start")]).await;
    assert_eq!(refusal(unequipped).await, "equipment_not_reserved");
    let ultrasound = equipment(store, "ECHO-1").await.to_string();
    let wrong_kind = act(&server, "reserve_equipment", id, &[("equipment_id", &ultrasound)]).await;
    assert_eq!(refusal(wrong_kind).await, "equipment_not_needed");
    let irrigator = equipment(store, "IRR-2").await.to_string();
    ok(act(&server, "reserve_equipment", id, &[("equipment_id", &irrigator)]).await).await;

    // Seated, with a pillow; a pressure point of another position is refused.
    let not_seated = act(
        &server,
        "position_patient",
        id,
        &[("position", "33586001"), ("points[0]", "occiput")],
    )
    .await;
    assert_eq!(not_seated.status(), 400);
    let seated = act(
        &server,
        "position_patient",
        id,
        &[
            ("position", "33586001"),
            ("supports[0]", "pillow"),
            ("points[0]", "scapulae"),
            ("points[1]", "heels"),
        ],
    )
    .await;
    ok(seated).await;

    ok(act(&server, "take_procedure_step", id, &[("step", "start")]).await).await;
    let page = procedure(&server, id).await;
    assert_eq!(page["procedure"]["state"], "in_progress");
    assert_eq!(page["positioning"][0]["position"], "33586001");
    assert_eq!(page["positioning"][0]["placed_by"], "Aminata Diallo");
    let item = page["equipment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "IRR-2")
        .cloned()
        .unwrap();
    assert_eq!(item["state"], "in_use");
    assert_eq!(item["held_by"], id);
    ok(act(&server, "take_procedure_step", id, &[("step", "complete")]).await).await;

    // The patient leaves the room, which waits for cleaning, the irrigator for
    // sterilisation; back in the waiting room, the patient goes home when the visit ends.
    assert_eq!(room_status(store, "S2").await, "H");
    let visit_state = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT state FROM visit WHERE id = $1",
        durand
    )
    .unwrap();
    assert_eq!(visit_state, "waiting");
    let sterilising = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT state FROM equipment WHERE code = $1",
        "IRR-2"
    )
    .unwrap();
    assert_eq!(sterilising, "sterilising");
    // Sterilised, it is ready again; nobody frees an item in use by hand, and a stale
    // state is told it changed.
    let equipment_state = |from: &'static str, to: &'static str| {
        let irrigator = irrigator.clone();
        let server = &server;
        async move {
            server
                .call(
                    "equipment_state",
                    &[("equipment_id", irrigator.as_str()), ("from", from), ("to", to)],
                )
                .await
        }
    };
    assert_eq!(equipment_state("sterilising", "in_use").await.status(), 400);
    assert_eq!(equipment_state("sterilising", "teleported").await.status(), 400);
    assert_eq!(equipment_state("available", "out_of_service").await.status(), 409);
    ok(equipment_state("sterilising", "available").await).await;
    let ready = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT state FROM equipment WHERE code = $1",
        "IRR-2"
    )
    .unwrap();
    assert_eq!(ready, "available");
    ok(clean(
        &server,
        s2,
        "H",
        &["surfaces", "sterile_field", "sharps", "linen"],
    )
    .await)
    .await;
    assert_eq!(room_status(store, "S2").await, "U");
    let again = clean(
        &server,
        s2,
        "H",
        &["surfaces", "sterile_field", "sharps", "linen"],
    )
    .await;
    assert_eq!(refusal(again).await, "room_not_awaiting_cleaning");

    // Every step is in the audit trail and in the live log.
    let audited = plateau_app::fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE record = $1 AND outcome = 'allowed' AND action LIKE 'procedure.%'",
        format!("procedure/{id}")
    )
    .unwrap();
    assert_eq!(
        audited, 8,
        "order, room, two assignments, equipment, position, start, complete"
    );
    let events = plateau_app::fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM event WHERE kind = 'procedure' AND subject_id = $1",
        id
    )
    .unwrap();
    assert_eq!(events, 16, "each change on the rooms topic and the visit's");
});

on_both_databases!(
    a_supervised_performer_starts_only_with_a_present_supervisor,
    |db| {
        let server = demo_server(&db).await;
        let store = &db.store;
        let s1 = room(store, "S1").await;
        let _ = s1;
        // Free a room: S2 is contaminated; clean it.
        server.sign_in_demo("j.morel").await;
        let s2 = room(store, "S2").await;
        ok(clean(
            &server,
            s2,
            "K",
            &["surfaces", "sterile_field", "sharps", "linen"],
        )
        .await)
        .await;
        let blanc = visit_of(store, "Blanc").await;
        let id = plateau_app::fetch_scalar!(
            store.read(),
            i64,
            "SELECT id FROM procedure_order WHERE visit_id = $1",
            blanc
        )
        .unwrap();
        // The supervisor may open any patient; the assistant is put on the visit by staffing.
        ok(act(&server, "room_patient", id, &[("room_id", &s2.to_string())]).await).await;
        let diallo = staff(store, "a.diallo").await.to_string();
        // No phlebotomy certification, but venipuncture may be done under supervision.
        ok(assign(&server, id, &diallo, "performer").await).await;
        let alone = act(&server, "take_procedure_step", id, &[("step", "start")]).await;
        assert_eq!(refusal(alone).await, "supervisor_required");
        let girard = staff(store, "a.girard").await.to_string();
        let not_supervisor = assign(&server, id, &girard, "supervisor").await;
        assert_eq!(refusal(not_supervisor).await, "not_a_supervisor");
        let morel = staff(store, "j.morel").await.to_string();
        ok(assign(&server, id, &morel, "supervisor").await).await;
        let absent = act(&server, "take_procedure_step", id, &[("step", "start")]).await;
        assert_eq!(refusal(absent).await, "supervisor_not_present");
        // Only the supervisor attests their own presence.
        server.sign_in_demo("a.diallo").await;
        let by_proxy = act(&server, "attest_supervision", id, &[]).await;
        assert_eq!(refusal(by_proxy).await, "not_the_supervisor");
        server.sign_in_demo("j.morel").await;
        let overview: Value = server.call("staff_overview", &[]).await.json().await.unwrap();
        assert_eq!(overview["awaiting_me"], serde_json::json!([id]));
        ok(act(&server, "attest_supervision", id, &[]).await).await;
        server.sign_in_demo("a.diallo").await;
        ok(act(&server, "take_procedure_step", id, &[("step", "start")]).await).await;
        // The team is set once started; cancelling needs a reason.
        let late = act(&server, "unassign_staff", id, &[("staff_member_id", &morel)]).await;
        assert_eq!(refusal(late).await, "already_started");
        let no_reason = act(&server, "take_procedure_step", id, &[("step", "cancel")]).await;
        assert_eq!(no_reason.status(), 400);
        // The supervisor co-signs the work once done, not before; nobody else does.
        server.sign_in_demo("j.morel").await;
        let early = act(&server, "cosign_procedure", id, &[]).await;
        assert_eq!(refusal(early).await, "not_ended");
        server.sign_in_demo("a.diallo").await;
        ok(act(&server, "take_procedure_step", id, &[("step", "complete")]).await).await;
        let after = act(&server, "take_procedure_step", id, &[("step", "start")]).await;
        assert_eq!(refusal(after).await, "already_ended");
        assert_eq!(room_status(store, "S2").await, "H");
        assert_eq!(act(&server, "cosign_procedure", id, &[]).await.status(), 403);
        server.sign_in_demo("t.nguyen").await;
        let other_supervisor = act(&server, "cosign_procedure", id, &[]).await;
        assert_eq!(refusal(other_supervisor).await, "not_the_supervisor");
        server.sign_in_demo("j.morel").await;
        let overview: Value = server.call("staff_overview", &[]).await.json().await.unwrap();
        assert_eq!(overview["to_cosign"][0]["id"], id);
        let long = "x".repeat(501);
        let too_long = act(&server, "cosign_procedure", id, &[("note", &long)]).await;
        assert_eq!(too_long.status(), 400);
        let stale = server
            .call(
                "cosign_procedure",
                &[("procedure_id", &id.to_string()), ("version", "1")],
            )
            .await;
        assert_eq!(stale.status(), 409);
        ok(act(
            &server,
            "cosign_procedure",
            id,
            &[("note", "Geste sûr, bon repérage")],
        )
        .await)
        .await;
        let cosigned = procedure(&server, id).await;
        let supervisor = &cosigned["procedure"]["staff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["role"] == "supervisor")
            .cloned()
            .unwrap();
        assert!(supervisor["cosigned_at"].is_i64());
        assert_eq!(supervisor["cosign_note"], "Geste sûr, bon repérage");
        let again = act(&server, "cosign_procedure", id, &[]).await;
        assert_eq!(refusal(again).await, "already_cosigned");
        let overview: Value = server.call("staff_overview", &[]).await.json().await.unwrap();
        assert_eq!(overview["to_cosign"], serde_json::json!([]));
        let audited = plateau_app::fetch_scalar!(
            store.read(),
            i64,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'procedure.cosign' AND outcome = 'allowed'"
        )
        .unwrap();
        assert_eq!(audited, 1);

        // Cancelling needs a reason, and leaves nothing to co-sign.
        let waiting = plateau_app::fetch_scalar!(
            store.read(),
            i64,
            "SELECT MIN(id) FROM procedure_order WHERE state = 'ordered'"
        )
        .unwrap();
        ok(act(
            &server,
            "take_procedure_step",
            waiting,
            &[("step", "cancel"), ("reason", "Malaise vagal")],
        )
        .await)
        .await;
        let cancelled = act(&server, "cosign_procedure", waiting, &[]).await;
        assert_eq!(refusal(cancelled).await, "nothing_to_cosign");

        // Presence: one's own break; someone else's only for a supervisor.
        let presence = |who: &str| {
            let sql = "SELECT p.state FROM staff_presence p JOIN account a ON a.staff_member_id = p.staff_member_id WHERE a.username = $1";
            let who = who.to_owned();
            async move { plateau_app::fetch_scalar!(store.read(), String, sql, who).unwrap() }
        };
        let set = |who: String, to: &'static str| {
            let server = &server;
            async move {
                server
                    .call(
                        "set_presence",
                        &[("staff_member_id", who.as_str()), ("presence", to)],
                    )
                    .await
            }
        };
        server.sign_in_demo("a.diallo").await;
        ok(set(diallo.clone(), "break").await).await;
        assert_eq!(presence("a.diallo").await, "break");
        assert_eq!(set(morel.clone(), "off").await.status(), 403);
        assert_eq!(presence("j.morel").await, "on_shift");
        server.sign_in_demo("j.morel").await;
        ok(set(diallo.clone(), "on_shift").await).await;
        assert_eq!(presence("a.diallo").await, "on_shift");
    }
);

on_both_databases!(bad_input_and_races_change_nothing, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let lemoine = visit_of(store, "Lemoine").await;
    let id = plateau_app::fetch_scalar!(
        store.read(),
        i64,
        "SELECT id FROM procedure_order WHERE visit_id = $1",
        lemoine
    )
    .unwrap();
    server.sign_in_demo("j.morel").await;
    let before = plateau_app::fetch_scalar!(store.read(), i64, "SELECT last_id FROM event_counter").unwrap();
    let id_text = id.to_string();
    for (endpoint, form, status) in [
        (
            "take_procedure_step",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "1"),
                ("step", "explode"),
            ],
            400,
        ),
        (
            "take_procedure_step",
            vec![("procedure_id", "-1"), ("version", "1"), ("step", "start")],
            400,
        ),
        (
            "take_procedure_step",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "0"),
                ("step", "start"),
            ],
            400,
        ),
        (
            "take_procedure_step",
            // Refused like someone else's patient's: an id tells nothing of what exists.
            vec![("procedure_id", "999999"), ("version", "1"), ("step", "start")],
            403,
        ),
        (
            "room_patient",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "1"),
                ("room_id", "999999"),
            ],
            400,
        ),
        (
            "assign_staff",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "1"),
                ("staff_member_id", "1"),
                ("role", "boss"),
            ],
            400,
        ),
        (
            "assign_staff",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "1"),
                ("staff_member_id", "999999"),
                ("role", "helper"),
            ],
            400,
        ),
        (
            "position_patient",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "1"),
                ("position", "12345"),
            ],
            400,
        ),
        (
            "position_patient",
            vec![
                ("procedure_id", id_text.as_str()),
                ("version", "1"),
                ("position", "40199007"),
                ("supports[0]", "sofa"),
            ],
            400,
        ),
        ("attest_cleaning", vec![("room_id", "1"), ("from", "U")], 400),
        (
            "set_presence",
            vec![("staff_member_id", "1"), ("presence", "asleep")],
            400,
        ),
    ] {
        let response = server.call(endpoint, &form).await;
        let got = response.status();
        assert_eq!(
            got,
            status,
            "{endpoint} {form:?}: {}",
            response.text().await.unwrap()
        );
    }
    // Orders are the physician's, and must name a visit, a catalog entry, a priority.
    assert_eq!(
        server
            .call(
                "order_procedure",
                &[
                    ("visit_id", "1"),
                    ("kind_id", "1"),
                    ("priority", "routine"),
                    ("note", "")
                ]
            )
            .await
            .status(),
        403
    );
    server.sign_in_demo("c.lefevre").await;
    let durand = visit_of(store, "Durand").await.to_string();
    for form in [
        [
            ("visit_id", "x"),
            ("kind_id", "1"),
            ("priority", "routine"),
            ("note", ""),
        ],
        [
            ("visit_id", durand.as_str()),
            ("kind_id", "999999"),
            ("priority", "routine"),
            ("note", ""),
        ],
        [
            ("visit_id", durand.as_str()),
            ("kind_id", "1"),
            ("priority", "whenever"),
            ("note", ""),
        ],
    ] {
        assert_eq!(
            server.call("order_procedure", &form).await.status(),
            400,
            "{form:?}"
        );
    }
    let long_note = "x".repeat(501);
    let too_long = [
        ("visit_id", durand.as_str()),
        ("kind_id", "1"),
        ("priority", "routine"),
        ("note", long_note.as_str()),
    ];
    assert_eq!(server.call("order_procedure", &too_long).await.status(), 400);
    // Someone else's patient: not in this physician's care.
    let haddad = visit_of(store, "Haddad").await.to_string();
    let elsewhere = [
        ("visit_id", haddad.as_str()),
        ("kind_id", "1"),
        ("priority", "routine"),
        ("note", ""),
    ];
    assert_eq!(server.call("order_procedure", &elsewhere).await.status(), 403);
    server.sign_in_demo("j.morel").await;
    // Positioning a patient who is not in a room yet.
    let unroomed = server
        .call(
            "position_patient",
            &[
                ("procedure_id", &id_text),
                ("version", "1"),
                ("position", "40199007"),
            ],
        )
        .await;
    assert_eq!(refusal(unroomed).await, "not_roomed");
    // A stale version: someone else changed the procedure first.
    let girard = staff(store, "a.girard").await.to_string();
    ok(server
        .call(
            "assign_staff",
            &[
                ("procedure_id", &id_text),
                ("version", "1"),
                ("staff_member_id", &girard),
                ("role", "performer"),
            ],
        )
        .await)
    .await;
    let stale = server
        .call(
            "assign_staff",
            &[
                ("procedure_id", &id_text),
                ("version", "1"),
                ("staff_member_id", &girard),
                ("role", "helper"),
            ],
        )
        .await;
    assert_eq!(stale.status(), 409);
    // Two tablets room two patients into the one free room at once: one wins.
    let s2 = room(store, "S2").await;
    ok(clean(
        &server,
        s2,
        "K",
        &["surfaces", "sterile_field", "sharps", "linen"],
    )
    .await)
    .await;
    let martinez = visit_of(store, "Martinez").await;
    let other = plateau_app::fetch_scalar!(
        store.read(),
        i64,
        "SELECT id FROM procedure_order WHERE visit_id = $1",
        martinez
    )
    .unwrap();
    let s2_text = s2.to_string();
    let (v1, v2) = (version(&server, id).await, version(&server, other).await);
    let other_text = other.to_string();
    let first = [
        ("procedure_id", id_text.as_str()),
        ("version", v1.as_str()),
        ("room_id", s2_text.as_str()),
    ];
    let second = [
        ("procedure_id", other_text.as_str()),
        ("version", v2.as_str()),
        ("room_id", s2_text.as_str()),
    ];
    let (a, b) = tokio::join!(
        server.call("room_patient", &first),
        server.call("room_patient", &second)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    // One wins. The other is told: the room changed under it (PostgreSQL, where both
    // read it free), or it is no longer available (SQLite, where writers take turns).
    assert!(statuses == [200, 409] || statuses == [200, 422], "{statuses:?}");
    let in_s2 = plateau_app::fetch_scalar!(
        store.read(),
        i64,
        "SELECT COUNT(*) FROM visit WHERE room_id = $1",
        s2
    )
    .unwrap();
    assert_eq!(in_s2, 1);
    // The front desk sees the queue but acts on nothing.
    server.sign_in_demo("s.lambert").await;
    assert_eq!(server.call("procedure_queue", &[]).await.status(), 200);
    let desk = server
        .call(
            "take_procedure_step",
            &[("procedure_id", &id_text), ("version", "1"), ("step", "start")],
        )
        .await;
    assert_eq!(desk.status(), 403);
    let events = plateau_app::fetch_scalar!(store.read(), i64, "SELECT last_id FROM event_counter").unwrap();
    assert!(events > before);
});

/// The catalog form's fields for an entry; an unticked box sends nothing, as a browser does.
fn entry<'a>(id: &'a str, code: &'a str, minutes: &'a str, active: bool) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("id", id),
        ("code", code),
        ("name_fr", "Pose de holter"),
        ("name_en", "Holter fitting"),
        ("qualification", "ecg"),
        ("supervised", "true"),
        ("equipment[0]", "ecg_machine"),
        ("default_position", "33586001"),
        ("typical_minutes", minutes),
    ];
    if active {
        form.push(("active", "true"));
    }
    form
}

on_both_databases!(administrators_edit_the_catalog_and_the_settings, |db| {
    let server = demo_server(&db).await;
    // Only administrators.
    server.sign_in_demo("j.morel").await;
    assert_eq!(
        server
            .call("save_procedure_kind", &entry("0", "holter", "20", true))
            .await
            .status(),
        403
    );
    assert_eq!(server.call("catalog", &[]).await.status(), 403);
    server.sign_in_demo("n.faure").await;
    let created = server
        .call("save_procedure_kind", &entry("0", "holter", "20", true))
        .await;
    assert_eq!(created.status(), 200);
    let id: i64 = created.json().await.unwrap();
    let catalog: Value = server.call("catalog", &[]).await.json().await.unwrap();
    let holter = catalog["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["code"] == "holter")
        .cloned()
        .unwrap();
    assert_eq!(holter["qualification"], "ecg");
    assert_eq!(holter["supervised"], true);
    assert_eq!(holter["equipment"], serde_json::json!(["ecg_machine"]));
    // Bad input: a clear refusal each, and nothing saved.
    let bad: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (entry("0", "holter", "20", true), "AlreadyTaken"),
        (entry("0", "Holter fitting", "20", true), "Malformed"),
        (entry("0", "holter2", "0", true), "typical_minutes"),
        (entry("0", "holter2", "481", true), "typical_minutes"),
        (entry("-1", "holter2", "20", true), "id"),
    ];
    for (form, says) in bad {
        let response = server.call("save_procedure_kind", &form).await;
        assert_eq!(response.status(), 400, "{form:?}");
        assert!(response.text().await.unwrap().contains(says), "{says}");
    }
    let mut unknown = entry("0", "holter2", "20", true);
    unknown[4] = ("qualification", "astrology");
    assert_eq!(server.call("save_procedure_kind", &unknown).await.status(), 400);
    let mut no_position = entry("0", "holter2", "20", true);
    no_position[7] = ("default_position", "12345");
    assert_eq!(
        server.call("save_procedure_kind", &no_position).await.status(),
        400
    );
    let mut gadget = entry("0", "holter2", "20", true);
    gadget[6] = ("equipment[0]", "time_machine");
    assert_eq!(server.call("save_procedure_kind", &gadget).await.status(), 400);
    let missing = server
        .call("save_procedure_kind", &entry("999999", "holter3", "20", true))
        .await;
    assert_eq!(missing.status(), 404);
    let count = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM procedure_kind WHERE code LIKE 'holter%'"
    )
    .unwrap();
    assert_eq!(count, 1);
    // Physicians order from it; once retired it is no longer offered.
    server.sign_in_demo("c.lefevre").await;
    let offered: Value = server.call("procedure_catalog", &[]).await.json().await.unwrap();
    assert!(offered.as_array().unwrap().iter().any(|k| k["code"] == "holter"));
    server.sign_in_demo("n.faure").await;
    let id_text = id.to_string();
    assert_eq!(
        server
            .call("save_procedure_kind", &entry(&id_text, "holter", "25", false))
            .await
            .status(),
        200
    );
    server.sign_in_demo("c.lefevre").await;
    let offered: Value = server.call("procedure_catalog", &[]).await.json().await.unwrap();
    assert!(!offered.as_array().unwrap().iter().any(|k| k["code"] == "holter"));
    // The settings: a sane interval only.
    server.sign_in_demo("n.faure").await;
    for minutes in ["4", "481", "x"] {
        let response = server
            .call(
                "facility_settings",
                &[
                    ("reposition_reminder_minutes", minutes),
                    ("board_short_identifiers", "true"),
                ],
            )
            .await;
        assert_eq!(response.status(), 400, "{minutes}");
    }
    let saved = server
        .call(
            "facility_settings",
            &[
                ("reposition_reminder_minutes", "30"),
                ("board_short_identifiers", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let catalog: Value = server.call("catalog", &[]).await.json().await.unwrap();
    assert_eq!(catalog["settings"]["reposition_reminder_minutes"], 30);
    // Wall screens now shorten names on the board.
    server.sign_in_demo("s.lambert").await;
    let (_, board) = server.get_html("/board", "en").await;
    assert!(!board.contains("BLANC, Odile"));
    assert!(board.contains("BL. O. · 1949"));
    let audited = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT COUNT(*) FROM audit_event WHERE action IN ('catalog.save', 'facility.settings') AND username = 'n.faure'"
    )
    .unwrap();
    assert_eq!(audited, 3);
});

/// A sign-in as a second browser would post it (this test's own session is left alone).
async fn sign_in_elsewhere(server: &TestServer, username: &str) -> u16 {
    server
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.origin())
        .header("accept", "application/json")
        .form(&[
            ("username", username),
            ("password", plateau_app::demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

on_both_databases!(
    a_refused_action_is_audited_without_holding_up_other_writers,
    |db| {
        let server = std::sync::Arc::new(demo_server(&db).await);
        let store = &db.store;
        let garnier = visit_of(store, "Garnier").await;
        let (id, version) = plateau_app::fetch_optional!(
            store.read(),
            (i64, i64),
            "SELECT id, version FROM procedure_order WHERE visit_id = $1 ORDER BY id LIMIT 1",
            garnier
        )
        .unwrap()
        .unwrap();
        // Yasmine Benali is not on the care team of the patient in S1.
        server.sign_in_demo("y.benali").await;
        let started = std::time::Instant::now();
        let colleagues = ["a.girard", "c.fontaine", "h.mercier", "i.chevalier", "s.lambert"].map(|who| {
            let server = server.clone();
            tokio::spawn(async move { sign_in_elsewhere(&server, who).await })
        });
        let (id, version) = (id.to_string(), version.to_string());
        let attempts: [&[(&str, &str)]; 3] = [
            &[("step", "cancel"), ("reason", "Plus nécessaire")],
            &[("staff_member_id", "1"), ("role", "helper")],
            &[("equipment_id", "1")],
        ];
        for (endpoint, fields) in ["take_procedure_step", "assign_staff", "reserve_equipment"]
            .into_iter()
            .zip(attempts)
        {
            let mut form = vec![("procedure_id", id.as_str()), ("version", version.as_str())];
            form.extend_from_slice(fields);
            let response = server.call(endpoint, &form).await;
            assert_eq!(response.status(), 403, "{endpoint}");
            assert_eq!(response.text().await.unwrap(), r#""NotAssigned""#);
        }
        for colleague in colleagues {
            assert_eq!(colleague.await.unwrap(), 200, "a colleague signs in meanwhile");
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        let refusals = plateau_app::fetch_scalar!(
            store.read(),
            i64,
            "SELECT COUNT(*) FROM audit_event WHERE username = 'y.benali' AND action = 'patient.read' \
         AND outcome = 'refused' AND record = $1",
            format!("visit/{garnier}")
        )
        .unwrap();
        assert_eq!(refusals, 3, "every refusal is in the audit trail");
    }
);
