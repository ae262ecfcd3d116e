//! A visit from arrival to departure (issue 17): checked in by the front desk, seen in
//! the waiting room at once, called into an exam room, ended with the discharge hold.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::Value;

async fn sign_in(server: &common::TestServer, username: &str) {
    let answer = server.sign_in(username, common::TEST_PASSWORD).await;
    assert_eq!(answer.status(), 200, "{username}");
}

async fn new_patient(server: &common::TestServer, family: &str) -> i64 {
    let answer: Value = server
        .call(
            "register_patient",
            &[
                ("identity[family_name]", family),
                ("identity[given_name]", "Anne"),
                ("identity[birth_date]", "1985-04-12"),
                ("identity[sex]", "female"),
                ("identity[preferred_language]", "fr"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    answer["Registered"]["patient_id"].as_i64().unwrap()
}

async fn check_in(server: &common::TestServer, form: &[(&str, &str)]) -> reqwest::Response {
    server.call("check_in", form).await
}

async fn end_visit(server: &common::TestServer, visit: i64, reason: &str) -> reqwest::Response {
    server
        .call(
            "end_visit",
            &[("visit_id", &visit.to_string()), ("reason", reason)],
        )
        .await
}

on_both_databases!(
    an_empty_clinic_checks_a_patient_in_and_the_waiting_room_shows_them_at_once,
    |db| {
        common::add_account(&db.store, "admin", &["administrator"]).await;
        common::add_account(&db.store, "desk", &["front_desk"]).await;
        common::add_account(&db.store, "lab", &["lab_technician"]).await;
        common::add_account(&db.store, "doctor", &["physician"]).await;
        let doctor_staff = common::staff(&db.store, "doctor").await;
        let desk_staff = common::staff(&db.store, "desk").await;
        let server = common::TestServer::start(db.store.clone()).await;
        sign_in(&server, "desk").await;
        let patient = new_patient(&server, "Garnier").await.to_string();
        let start =
            plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT COALESCE(MAX(id), 0) FROM event")
                .unwrap();
        let mut board = server
            .subscribe(&format!("topics=rooms&after={start}"), None)
            .await;
        assert_eq!(board.next_news().await.event, "ready");
        let doctor_staff = doctor_staff.to_string();
        let form = [
            ("patient_id", patient.as_str()),
            ("reason", "Plaie de la main"),
            ("attending_id", doctor_staff.as_str()),
        ];
        let visit: i64 = check_in(&server, &form).await.json().await.unwrap();
        // The board hears of it, and lists the patient in the waiting room.
        let change = board.next_news().await;
        assert_eq!(change.json()["kind"], "visit", "{:?}", change);
        assert_eq!(change.json()["subject"], visit);
        assert_eq!(change.json()["code"], "waiting");
        let snapshot: Value = server.call("board", &[]).await.json().await.unwrap();
        assert_eq!(snapshot["waiting"][0]["visit_id"], visit, "{snapshot}");
        // One visit at a time.
        assert_eq!(
            common::refusal(check_in(&server, &form).await).await,
            "already_checked_in"
        );
        // The attending physician is on the care team.
        let team = plateau_app::fetch_scalar!(
            db.store.read(),
            i64,
            "SELECT COUNT(*) FROM care_assignment WHERE visit_id = $1 AND staff_member_id = $2",
            visit,
            doctor_staff.parse::<i64>().unwrap()
        )
        .unwrap();
        assert_eq!(team, 1);
        // Nothing pending: the patient goes home, the visit closes.
        let ended: Value = end_visit(&server, visit, "").await.json().await.unwrap();
        assert_eq!(ended, serde_json::json!({"Ended": {"followed_up_later": []}}));
        assert_eq!(
            common::refusal(end_visit(&server, visit, "").await).await,
            "visit_ended"
        );
        // A new visit may begin now.
        let again = [("patient_id", patient.as_str()), ("reason", "Contrôle")];
        assert_eq!(check_in(&server, &again).await.status(), 200);

        // Bad input, for a patient with no visit under way: nothing checked in.
        let patient = new_patient(&server, "Marchand").await.to_string();
        let visits = || async {
            plateau_app::fetch_scalar!(db.store.read(), i64, "SELECT COUNT(*) FROM visit").unwrap()
        };
        let before = visits().await;
        let long = "x".repeat(201);
        let desk_staff = desk_staff.to_string();
        for (form, field) in [
            (vec![("patient_id", patient.as_str()), ("reason", "  ")], "reason"),
            (
                vec![("patient_id", patient.as_str()), ("reason", long.as_str())],
                "reason",
            ),
            (vec![("patient_id", "999999"), ("reason", "Plaie")], "patient_id"),
            (
                vec![
                    ("patient_id", patient.as_str()),
                    ("reason", "Plaie"),
                    ("attending_id", desk_staff.as_str()),
                ],
                "attending_id",
            ),
            (
                vec![
                    ("patient_id", patient.as_str()),
                    ("reason", "Plaie"),
                    ("care_team[0]", "999999"),
                ],
                "care_team",
            ),
        ] {
            let answer = check_in(&server, &form).await;
            assert_eq!(answer.status(), 400, "{form:?}");
            let body: Value = answer.json().await.unwrap();
            assert_eq!(body["Invalid"][0]["field"], field, "{form:?}: {body}");
        }
        assert_eq!(visits().await, before);
        assert_eq!(
            server.call("check_in", &[("patient_id", "abc")]).await.status(),
            400
        );
        // Who checks patients in: the front desk and supervisors, not the lab.
        sign_in(&server, "lab").await;
        assert_eq!(check_in(&server, &again).await.status(), 403);
    }
);

on_both_databases!(
    a_visit_with_a_pending_result_is_held_until_a_reason_is_given_and_followed_up,
    |db| {
        let server = common::demo_server(&db).await;
        // A demo visit with a test ordered and no verified result.
        let (visit, patient) = plateau_app::fetch_optional!(
            db.store.read(),
            (i64, i64),
            "SELECT v.id, v.patient_id FROM visit v JOIN lab_order o ON o.visit_id = v.id \
             WHERE v.state <> 'done' AND o.state IN ('ordered', 'collected', 'received') ORDER BY v.id LIMIT 1"
        )
        .unwrap()
        .expect("the demo clinic has a visit with a pending test");
        server.sign_in_demo("s.lambert").await;
        let held: Value = end_visit(&server, visit, "").await.json().await.unwrap();
        let items = held["Held"].as_array().cloned().unwrap_or_default();
        assert!(items.iter().any(|i| i["kind"] == "pending_result"), "{held}");
        let state = || async {
            plateau_app::fetch_scalar!(
                db.store.read(),
                String,
                "SELECT state FROM visit WHERE id = $1",
                visit
            )
            .unwrap()
        };
        assert_ne!(state().await, "done", "held: nothing changed");
        // A reason too short is refused; a real one ends the visit with the items listed.
        assert_eq!(end_visit(&server, visit, "parti").await.status(), 400);
        let reason = "Le patient ne peut pas attendre, résultat appelé demain";
        let ended: Value = end_visit(&server, visit, reason).await.json().await.unwrap();
        assert_eq!(
            ended["Ended"]["followed_up_later"].as_array().map(Vec::len),
            Some(items.len()),
            "{ended}"
        );
        assert_eq!(state().await, "done");
        let detail = plateau_app::fetch_scalar!(
            db.store.read(),
            String,
            "SELECT detail FROM audit_event WHERE action = 'visit.end' AND patient_id = $1",
            patient
        )
        .unwrap();
        assert!(
            detail.contains("pending_result") && detail.contains(reason),
            "{detail}"
        );
        // The supervisor's follow-up list names them, until each is followed up.
        assert_eq!(server.call("discharge_follow_ups", &[]).await.status(), 403);
        server.sign_in_demo("j.morel").await;
        let list: Vec<Value> = server
            .call("discharge_follow_ups", &[])
            .await
            .json()
            .await
            .unwrap();
        let ours: Vec<&Value> = list.iter().filter(|f| f["visit_id"] == visit).collect();
        assert_eq!(ours.len(), items.len());
        assert_eq!(ours[0]["reason"], reason);
        let id = ours[0]["id"].as_i64().unwrap().to_string();
        common::ok(server.call("follow_up", &[("id", &id)]).await).await;
        assert_eq!(server.call("follow_up", &[("id", &id)]).await.status(), 404);
        let list: Vec<Value> = server
            .call("discharge_follow_ups", &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            list.iter().filter(|f| f["visit_id"] == visit).count(),
            items.len() - 1
        );
        assert_eq!(end_visit(&server, 999_999, "").await.status(), 400);
    }
);

on_both_databases!(a_physician_calls_a_waiting_patient_into_a_free_exam_room, |db| {
    let server = common::demo_server(&db).await;
    // An exam room of its own, so that nothing of the demo's rooms is in the way.
    server.sign_in_demo("n.faure").await;
    let exam: i64 = server
        .call(
            "save_room",
            &[("code", "EX9"), ("name", "Examen 9"), ("kind", "exam")],
        )
        .await
        .json()
        .await
        .unwrap();
    let procedure_room = plateau_app::fetch_scalar!(
        db.store.read(),
        i64,
        "SELECT MIN(id) FROM room WHERE kind = 'procedure'"
    )
    .unwrap();
    server.sign_in_demo("s.lambert").await;
    // A new patient, so that nothing of the demo's visits is in the way.
    let fresh = new_patient(&server, "Perrin").await.to_string();
    let visit: i64 = check_in(&server, &[("patient_id", &fresh), ("reason", "Suture")])
        .await
        .json()
        .await
        .unwrap();
    let call = |room: i64| {
        let form = [("visit_id", visit.to_string()), ("room_id", room.to_string())];
        let server = &server;
        async move {
            server
                .call(
                    "call_patient",
                    &[("visit_id", &form[0].1), ("room_id", &form[1].1)],
                )
                .await
        }
    };
    // The front desk checks in; clinicians call patients in.
    assert_eq!(call(exam).await.status(), 403);
    server.sign_in_demo("c.lefevre").await;
    assert_eq!(
        common::refusal(call(procedure_room).await).await,
        "room_not_for_exams"
    );
    assert_eq!(call(999_999).await.status(), 400);
    common::ok(call(exam).await).await;
    let (state, room_now) = plateau_app::fetch_optional!(
        db.store.read(),
        (String, Option<i64>),
        "SELECT state, room_id FROM visit WHERE id = $1",
        visit
    )
    .unwrap()
    .unwrap();
    assert_eq!((state.as_str(), room_now), ("in_exam", Some(exam)));
    // The room is taken; ending the visit sends it to housekeeping.
    let status = || async {
        plateau_app::fetch_scalar!(
            db.store.read(),
            String,
            "SELECT status FROM room WHERE id = $1",
            exam
        )
        .unwrap()
    };
    assert_eq!(status().await, "O");
    let ended: Value = end_visit(&server, visit, "").await.json().await.unwrap();
    assert!(ended.get("Ended").is_some(), "{ended}");
    assert_eq!(status().await, "H");
    assert_eq!(common::refusal(call(exam).await).await, "room_not_available");
});

on_both_databases!(
    an_empty_clinic_sets_up_its_rooms_and_sees_its_first_patient_from_arrival_to_departure,
    |db| {
        for (username, role) in [
            ("admin", "administrator"),
            ("desk", "front_desk"),
            ("doctor", "physician"),
        ] {
            common::add_account(&db.store, username, &[role]).await;
        }
        let server = common::TestServer::start(db.store.clone()).await;
        sign_in(&server, "admin").await;
        let save = |form: Vec<(&'static str, String)>| {
            let server = &server;
            async move {
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                server.call("save_room", &pairs).await
            }
        };
        let room = |code: &str, kind: &str| {
            vec![
                ("code", code.to_owned()),
                ("name", format!("Salle {code}")),
                ("kind", kind.to_owned()),
            ]
        };
        let exam: i64 = save(room("ex1", "exam")).await.json().await.unwrap();
        let spare: i64 = save(room("EX2", "exam")).await.json().await.unwrap();
        // Bad input: told by field, nothing added.
        for (form, field) in [
            (room("EX 3", "exam"), "code"),
            (room("EX1", "exam"), "code"),
            (room("EX4", "kitchen"), "room_kind"),
            (
                vec![
                    ("code", "EX5".into()),
                    ("name", "  ".into()),
                    ("kind", "exam".into()),
                ],
                "name",
            ),
        ] {
            let answer = save(form.clone()).await;
            assert_eq!(answer.status(), 400, "{form:?}");
            let body: Value = answer.json().await.unwrap();
            assert_eq!(body["Invalid"][0]["field"], field, "{form:?}: {body}");
        }
        let mut renamed = room("EX2", "exam");
        renamed.push(("room_id", spare.to_string()));
        renamed[1].1 = "Salle de réserve".into();
        assert_eq!(save(renamed).await.status(), 200);
        common::ok(
            server
                .call("retire_room", &[("room_id", &spare.to_string())])
                .await,
        )
        .await;
        let listed: Value = {
            sign_in(&server, "doctor").await;
            server.call("rooms", &[]).await.json().await.unwrap()
        };
        let codes: Vec<&str> = listed["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["room"]["code"].as_str())
            .collect();
        assert_eq!(codes, ["EX1"], "a retired room is listed no more");
        // The front desk registers and checks in; the physician calls the patient in.
        sign_in(&server, "desk").await;
        let patient = new_patient(&server, "Lemoine").await.to_string();
        let visit: i64 = check_in(&server, &[("patient_id", &patient), ("reason", "Plaie du genou")])
            .await
            .json()
            .await
            .unwrap();
        sign_in(&server, "doctor").await;
        let (visit_id, exam_id) = (visit.to_string(), exam.to_string());
        common::ok(
            server
                .call("call_patient", &[("visit_id", &visit_id), ("room_id", &exam_id)])
                .await,
        )
        .await;
        let retired = server
            .call(
                "call_patient",
                &[("visit_id", &visit_id), ("room_id", &spare.to_string())],
            )
            .await;
        assert_eq!(common::refusal(retired).await, "room_not_available");
        // The room is not retired from under a patient.
        sign_in(&server, "admin").await;
        assert_eq!(
            common::refusal(server.call("retire_room", &[("room_id", &exam_id)]).await).await,
            "room_not_available"
        );
        // The patient goes home; the room goes to housekeeping.
        sign_in(&server, "doctor").await;
        let ended: Value = end_visit(&server, visit, "").await.json().await.unwrap();
        assert!(ended.get("Ended").is_some(), "{ended}");
        let status = plateau_app::fetch_scalar!(
            db.store.read(),
            String,
            "SELECT status FROM room WHERE id = $1",
            exam
        )
        .unwrap();
        assert_eq!(status, "H");
        // Only administrators set the clinic up.
        assert_eq!(save(room("EX9", "exam")).await.status(), 403);
    }
);
