//! The lab through the real router on port 0, on SQLite and PostgreSQL: an order from the
//! room, collection with identity confirmed, the bench, verification, the critical-value
//! loop with its escalation, and results from a reference lab over HTTP and MLLP; with
//! the bad input and refusals that come with them.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo_server, id_of, ok, refusal, visit_of, TestServer};
use plateau_app::store::Store;
use serde_json::Value;

async fn test_id(store: &Store, loinc: &str) -> String {
    id_of(store, "SELECT id FROM lab_test WHERE loinc = $1", loinc)
        .await
        .to_string()
}

async fn count(store: &Store, sql: &str) -> i64 {
    plateau_app::fetch_scalar!(store.read(), i64, sql).unwrap()
}

/// The visit's lab work, as the room tablet loads it.
async fn visit_lab(server: &TestServer, visit: i64) -> Value {
    let response = server
        .call("visit_lab", &[("visit_id", &visit.to_string())])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The order of `loinc` in a visit's lab work.
fn order_of(lab: &Value, loinc: &str) -> Value {
    lab["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["test"]["loinc"] == loinc)
        .cloned()
        .unwrap()
}

/// Calls a bench action on an order at its current version.
async fn bench(
    server: &TestServer,
    endpoint: &str,
    order: &Value,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let id = order["id"].to_string();
    let version = order["version"].to_string();
    let mut form = vec![("order_id", id.as_str()), ("version", version.as_str())];
    form.extend_from_slice(fields);
    server.call(endpoint, &form).await
}

/// The order as the lab sees it now, through its specimen.
async fn at_bench(server: &TestServer, accession: &str, loinc: &str) -> Value {
    let response = server.call("specimen_desk", &[("accession", accession)]).await;
    assert_eq!(response.status(), 200);
    let desk: Value = response.json().await.unwrap();
    order_of(&desk, loinc)
}

fn field(response_body: &Value) -> String {
    response_body["Invalid"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

on_both_databases!(a_critical_potassium_from_order_to_read_back, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let durand = visit_of(store, "Durand").await.to_string();
    let potassium = test_id(store, "2823-3").await;

    // The physician orders from the exam room.
    server.sign_in_demo("c.lefevre").await;
    let unknown = server
        .call(
            "order_lab_test",
            &[
                ("visit_id", &durand),
                ("test_id", "999999"),
                ("priority", "stat"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(unknown.status(), 400);
    let bad_priority = server
        .call(
            "order_lab_test",
            &[
                ("visit_id", &durand),
                ("test_id", &potassium),
                ("priority", "now"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(bad_priority.status(), 400);
    ok(server
        .call(
            "order_lab_test",
            &[
                ("visit_id", &durand),
                ("test_id", &potassium),
                ("priority", "stat"),
                ("note", "Sous IEC"),
            ],
        )
        .await)
    .await;
    let lab = visit_lab(&server, durand.parse().unwrap()).await;
    let order = order_of(&lab, "2823-3");
    assert_eq!(order["state"], "ordered");
    assert!(order["placer_number"].as_str().unwrap().starts_with("PL"));

    // The assistant collects: a wrong date of birth labels nothing.
    server.sign_in_demo("a.diallo").await;
    let order_id = order["id"].to_string();
    let collect = |birth: &'static str, confirmed: &'static str| {
        let server = &server;
        let durand = durand.clone();
        let order_id = order_id.clone();
        async move {
            server
                .call(
                    "collect_specimen",
                    &[
                        ("visit_id", durand.as_str()),
                        ("order_ids[0]", order_id.as_str()),
                        ("identity_check", "name_birth_date"),
                        ("name_confirmed", confirmed),
                        ("stated_birth_date", birth),
                    ],
                )
                .await
        }
    };
    let wrong = collect("1958-03-15", "true").await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(field(&wrong.json().await.unwrap()), "stated_birth_date");
    let unconfirmed = collect("1958-03-14", "false").await;
    assert_eq!(unconfirmed.status(), 400);
    assert_eq!(count(store, "SELECT COUNT(*) FROM specimen WHERE visit_id IN (SELECT id FROM visit WHERE reason LIKE 'Bouchon%')").await, 0);
    let labelled = collect("1958-03-14", "true").await;
    assert_eq!(labelled.status(), 200);
    let accession: String = labelled.json().await.unwrap();
    assert!(plateau_app::lab::is_accession(&accession), "{accession}");
    let again = collect("1958-03-14", "true").await;
    assert_eq!(refusal(again).await, "already_collected");
    let label: Value = server
        .call("specimen_label", &[("accession", &accession)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(label["patient"]["family_name"], "Durand");
    assert_eq!(label["specimen"]["specimen_type"], "PLAS");

    // The lab receives it and enters results: checked against the test.
    server.sign_in_demo("i.chevalier").await;
    assert_eq!(
        server
            .call("specimen_desk", &[("accession", "L26")])
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .call("specimen_desk", &[("accession", "L0000000000")])
            .await
            .status(),
        404
    );
    let early = bench(
        &server,
        "enter_result",
        &at_bench(&server, &accession, "2823-3").await,
        &[("value", "4.1"), ("unit", "mmol/L")],
    )
    .await;
    assert_eq!(refusal(early).await, "specimen_not_received");
    ok(server
        .call("receive_specimen", &[("accession", &accession)])
        .await)
    .await;
    let twice = server
        .call("receive_specimen", &[("accession", &accession)])
        .await;
    assert_eq!(refusal(twice).await, "specimen_not_awaited");
    for (value, unit, wrong_field) in [
        ("abc", "mmol/L", "value"),
        ("42", "mmol/L", "value"),
        ("6.85", "mmol/L", "value"),
        ("6.8", "mg/dL", "unit"),
    ] {
        let order = at_bench(&server, &accession, "2823-3").await;
        let refused = bench(
            &server,
            "enter_result",
            &order,
            &[("value", value), ("unit", unit)],
        )
        .await;
        assert_eq!(refused.status(), 400, "{value} {unit}");
        assert_eq!(field(&refused.json().await.unwrap()), wrong_field);
    }
    let order = at_bench(&server, &accession, "2823-3").await;
    ok(bench(
        &server,
        "enter_result",
        &order,
        &[("value", "6,8"), ("unit", "mmol/L")],
    )
    .await)
    .await;
    let stale = bench(&server, "verify_result", &order, &[]).await;
    assert_eq!(stale.status(), 409);
    let order = at_bench(&server, &accession, "2823-3").await;
    assert_eq!(order["results"][0]["flag"], "HH");
    assert_eq!(order["results"][0]["value"], "6.8");
    ok(bench(&server, "verify_result", &order, &[]).await).await;
    let order = at_bench(&server, &accession, "2823-3").await;
    assert_eq!(
        refusal(bench(&server, "verify_result", &order, &[]).await).await,
        "already_verified"
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM event WHERE kind = 'lab.critical' AND code = 'raised'"
        )
        .await,
        3,
        "the lab, the rooms and the visit are told"
    );

    // The room's assistant sees it at once and must read it back right.
    server.sign_in_demo("a.diallo").await;
    let alerts: Value = server.call("critical_alerts", &[]).await.json().await.unwrap();
    let alert = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["value"] == "6.8")
        .cloned()
        .unwrap();
    let alert_id = alert["id"].to_string();
    let misheard = server
        .call(
            "acknowledge_critical",
            &[
                ("alert_id", &alert_id),
                ("outcome", "read_back"),
                ("read_back_value", "6.3"),
            ],
        )
        .await;
    assert_eq!(field(&misheard.json().await.unwrap()), "read_back_value");
    let unable = server
        .call(
            "acknowledge_critical",
            &[("alert_id", &alert_id), ("outcome", "unable_to_reach")],
        )
        .await;
    assert_eq!(unable.status(), 403, "only the lab records that nobody answered");
    ok(server
        .call(
            "acknowledge_critical",
            &[
                ("alert_id", &alert_id),
                ("outcome", "read_back"),
                ("read_back_value", "6,8"),
            ],
        )
        .await)
    .await;
    let twice = server
        .call(
            "acknowledge_critical",
            &[("alert_id", &alert_id), ("outcome", "no_read_back")],
        )
        .await;
    assert_eq!(refusal(twice).await, "already_acknowledged");
    let lab = visit_lab(&server, durand.parse().unwrap()).await;
    assert_eq!(order_of(&lab, "2823-3")["results"][0]["flag"], "HH");

    // The lab sees it confirmed, with who and the value read back.
    server.sign_in_demo("i.chevalier").await;
    let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
    let seen = worklist["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == alert["id"])
        .cloned()
        .unwrap();
    assert_eq!(seen["outcome"], "read_back");
    assert_eq!(seen["read_back_value"], "6,8");
    assert_eq!(seen["acknowledged_by"], "Aminata Diallo");
    // The turnaround dashboard counts it against the test's target.
    let board: Value = server.call("turnaround", &[]).await.json().await.unwrap();
    let line = board["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["test"]["loinc"] == "2823-3")
        .cloned()
        .unwrap();
    assert_eq!(line["count"], 1);
    assert_eq!(line["within_target_percent"], 100);
    // Nobody else may act on the lab bench.
    server.sign_in_demo("s.lambert").await;
    assert_eq!(server.call("lab_worklist", &[]).await.status(), 403);
});

on_both_databases!(an_unacknowledged_critical_value_escalates_on_time, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    // Paul Garnier's potassium is on the bench in the demo clinic.
    server.sign_in_demo("i.chevalier").await;
    let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
    let item = worklist["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["order"]["test"]["loinc"] == "2823-3")
        .cloned()
        .unwrap();
    let accession = item["order"]["specimen"]["accession"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = at_bench(&server, &accession, "2823-3").await;
    ok(bench(
        &server,
        "enter_result",
        &order,
        &[("value", "2.1"), ("unit", "mmol/L")],
    )
    .await)
    .await;
    let order = at_bench(&server, &accession, "2823-3").await;
    ok(bench(&server, "verify_result", &order, &[]).await).await;

    // The clock runs: not yet due at 14 minutes, escalated at 16.
    let now = chrono::Utc::now();
    let escalate =
        |minutes| plateau_app::lab::act::escalate_overdue(store, now + chrono::Duration::minutes(minutes));
    assert_eq!(escalate(14).await.unwrap(), 0);
    server.sign_in_demo("j.morel").await;
    let supervisor: Value = server.call("critical_alerts", &[]).await.json().await.unwrap();
    assert!(supervisor["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["value"] != "2.1" || a["escalated_at"].is_null()));
    assert_eq!(escalate(16).await.unwrap(), 1);
    assert_eq!(escalate(17).await.unwrap(), 0, "escalated once");
    let supervisor: Value = server.call("critical_alerts", &[]).await.json().await.unwrap();
    let alert = supervisor["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["value"] == "2.1")
        .cloned()
        .unwrap();
    assert!(alert["escalated_at"].is_i64());
    assert_eq!(alert["flag"], "LL");
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.critical.escalate'"
        )
        .await,
        1
    );
});

on_both_databases!(a_second_technician_verifies_when_the_test_says_so, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let blanc = visit_of(store, "Blanc").await.to_string();
    let crp = test_id(store, "1988-5").await;
    server.sign_in_demo("j.morel").await;
    let ordered = server
        .call(
            "order_lab_test",
            &[
                ("visit_id", &blanc),
                ("test_id", &crp),
                ("priority", "routine"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(ordered.status(), 403, "supervisors do not order tests");
    server.sign_in_demo("c.lefevre").await;
    // Odile Blanc is not in this physician's care until she takes her on.
    let id = server
        .call(
            "order_lab_test",
            &[
                ("visit_id", &blanc),
                ("test_id", &crp),
                ("priority", "routine"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(id.status(), 403);
    server.sign_in_demo("j.morel").await;
    let lab = visit_lab(&server, blanc.parse().unwrap()).await;
    // The demo's glucose awaits verification: the technician who entered it may verify
    // (glucose needs no second technician).
    let glucose = order_of(&lab, "2345-7");
    assert_eq!(glucose["state"], "resulted");
    let accession = glucose["specimen"]["accession"].as_str().unwrap().to_owned();
    server.sign_in_demo("i.chevalier").await;
    let order = at_bench(&server, &accession, "2345-7").await;
    ok(bench(&server, "verify_result", &order, &[]).await).await;

    // A CRP on a second specimen: entered and verified by two people.
    let mut tx = store.begin().await.unwrap();
    let crp_order = plateau_app::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO lab_order (visit_id, lab_test_id, placer_number, priority, note, ordered_by, ordered_at, state) \
         SELECT v.id, t.id, 'PL-TEST-CRP', 'routine', '', s.staff_member_id, $2, 'ordered' \
         FROM visit v, lab_test t, account s WHERE v.id = $1 AND t.loinc = '1988-5' AND s.username = 'c.lefevre' \
         RETURNING id",
        blanc.parse::<i64>().unwrap(),
        chrono::Utc::now()
    )
    .unwrap();
    tx.commit().await.unwrap();
    // The supervisor collects (she may open any patient).
    server.sign_in_demo("j.morel").await;
    let labelled = server
        .call(
            "collect_specimen",
            &[
                ("visit_id", blanc.as_str()),
                ("order_ids[0]", crp_order.to_string().as_str()),
                ("identity_check", "name_record_number"),
                ("name_confirmed", "true"),
                ("stated_record_number", "DEMO-0007"),
            ],
        )
        .await;
    let status = labelled.status();
    let text = labelled.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    let accession: String = serde_json::from_str(&text).unwrap();
    server.sign_in_demo("i.chevalier").await;
    ok(server
        .call("receive_specimen", &[("accession", &accession)])
        .await)
    .await;
    let order = at_bench(&server, &accession, "1988-5").await;
    ok(bench(
        &server,
        "enter_result",
        &order,
        &[("value", "12.5"), ("unit", "mg/L")],
    )
    .await)
    .await;
    let order = at_bench(&server, &accession, "1988-5").await;
    assert_eq!(order["results"][0]["flag"], "H");
    assert_eq!(
        refusal(bench(&server, "verify_result", &order, &[]).await).await,
        "second_verifier_required"
    );
    server.sign_in_demo("m.perrin").await;
    ok(bench(&server, "verify_result", &order, &[]).await).await;
    let order = at_bench(&server, &accession, "1988-5").await;
    assert_eq!(order["results"][0]["verified_by"], "Marc Perrin");

    // A specimen refused keeps its reason; its tests wait for another.
    let reject = server
        .call(
            "reject_specimen",
            &[("accession", &accession), ("reason", "lost")],
        )
        .await;
    assert_eq!(reject.status(), 400);
});

/// A person resolves held results.
async fn resolve(server: &TestServer, id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("quarantine_id", id)];
    form.extend_from_slice(fields);
    server.call("resolve_quarantine", &form).await
}

/// A reference lab's HTTP interface: one message, with its token.
async fn post_hl7(server: &TestServer, token: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = server.client.post(server.url("/hl7/oru")).body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn msa(ack: &str) -> (String, String) {
    let line = ack
        .split('\r')
        .find(|s| s.starts_with("MSA|"))
        .unwrap_or_default();
    let fields: Vec<&str> = line.split('|').collect();
    (
        fields.get(1).copied().unwrap_or_default().to_owned(),
        fields.get(2).copied().unwrap_or_default().to_owned(),
    )
}

const FIXTURE: &str = include_str!("../../app/src/lab/fixtures/LAB-ORU-1.hl7");
const STRESS: &str = include_str!("../../app/src/lab/fixtures/ORU-R01-01.hl7");
const TOKEN: &str = plateau_app::demo::DEMO_INTERFACE_TOKEN;

on_both_databases!(reference_lab_results_are_filed_or_held_never_misfiled, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    // Donald Duck of the fixture is a patient here, with both send-outs ordered.
    let mut tx = store.begin().await.unwrap();
    let facility = plateau_app::facility::store::first_id(&mut tx)
        .await
        .unwrap()
        .unwrap();
    let patient = plateau_app::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO patient (facility_id, record_number, family_name, given_name, birth_date, sex, preferred_language) \
         VALUES ($1, '10006579', 'Duck', 'Donald', $2, 'male', 'en') RETURNING id",
        facility,
        chrono::NaiveDate::from_ymd_opt(1924, 10, 10).unwrap()
    )
    .unwrap();
    let visit = plateau_app::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO visit (patient_id, reason, arrived_at, state) VALUES ($1, 'Bilan', $2, 'queued') RETURNING id",
        patient,
        chrono::Utc::now()
    )
    .unwrap();
    for (placer, loinc) in [("88502218", "24317-0"), ("855238581", "57021-8")] {
        plateau_app::execute!(
            tx.exec(),
            "INSERT INTO lab_order (visit_id, lab_test_id, placer_number, priority, note, ordered_by, ordered_at, state) \
             SELECT $1, t.id, $2, 'routine', '', a.staff_member_id, $3, 'collected' FROM lab_test t, account a \
             WHERE t.loinc = $4 AND a.username = 'c.lefevre'",
            visit,
            placer,
            chrono::Utc::now(),
            loinc
        )
        .unwrap();
    }
    tx.commit().await.unwrap();

    // Without the lab's token, nothing is read.
    assert_eq!(post_hl7(&server, None, FIXTURE).await.status(), 401);
    assert_eq!(post_hl7(&server, Some("guess"), FIXTURE).await.status(), 401);

    let response = post_hl7(&server, Some(TOKEN), FIXTURE).await;
    assert_eq!(response.status(), 200);
    let ack = response.text().await.unwrap();
    assert_eq!(msa(&ack), ("AA".to_owned(), "182".to_owned()), "{ack}");
    let filed = "SELECT COUNT(*) FROM lab_result WHERE hl7_message_id IS NOT NULL";
    // Eight of the ten OBX carry a value; the two incomplete ones (status I) are empty.
    assert_eq!(count(store, filed).await, 8);
    let hematocrit = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT value || ' ' || unit || ' ' || status FROM lab_result WHERE loinc = '20570-8'"
    )
    .unwrap();
    assert_eq!(hematocrit, "40.1 % preliminary");
    // A resend is acknowledged, not stored twice.
    let again = post_hl7(&server, Some(TOKEN), FIXTURE)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&again).0, "AA");
    assert_eq!(count(store, filed).await, 8);
    assert_eq!(count(store, "SELECT COUNT(*) FROM hl7_message").await, 1);

    // The same results claimed for someone else go to quarantine, not to Donald Duck.
    let impostor = FIXTURE
        .replace("DUCK^DONALD^D||19241010", "DUCK^DAISY^||19300101")
        .replace("|182|", "|183|");
    let impostor = impostor.replace("10006579^^^1^MR^1", "999^^^1^MR^1");
    let held = post_hl7(&server, Some(TOKEN), &impostor)
        .await
        .text()
        .await
        .unwrap();
    let (code, _) = msa(&held);
    assert_eq!(code, "AE", "{held}");
    assert!(held.contains("patient_mismatch"), "{held}");
    assert_eq!(count(store, filed).await, 8);
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM lab_quarantine WHERE reason = 'patient_mismatch'"
        )
        .await,
        2
    );

    // A person resolves them: one discarded with a reason, one attached to the order they
    // name once they checked the patient; nothing twice.
    server.sign_in_demo("i.chevalier").await;
    let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
    let held: Vec<String> = worklist["quarantine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].to_string())
        .collect();
    assert_eq!(held.len(), 2);
    assert_eq!(
        resolve(&server, &held[0], &[("resolution", "discard")])
            .await
            .status(),
        400
    );
    ok(resolve(
        &server,
        &held[0],
        &[("resolution", "discard"), ("reason", "Patiente inconnue ici")],
    )
    .await)
    .await;
    assert_eq!(
        resolve(
            &server,
            &held[0],
            &[("resolution", "discard"), ("reason", "encore")]
        )
        .await
        .status(),
        409
    );
    let unchecked = resolve(
        &server,
        &held[1],
        &[("resolution", "attach"), ("placer_number", "88502218")],
    )
    .await;
    assert_eq!(unchecked.status(), 400);
    let nowhere = resolve(
        &server,
        &held[1],
        &[
            ("resolution", "attach"),
            ("placer_number", "nope"),
            ("identity_checked", "true"),
        ],
    )
    .await;
    assert_eq!(nowhere.status(), 400);
    ok(resolve(
        &server,
        &held[1],
        &[
            ("resolution", "attach"),
            ("placer_number", "855238581"),
            ("identity_checked", "true"),
        ],
    )
    .await)
    .await;
    assert_eq!(
        count(store, filed).await,
        13,
        "the differential's five results, attached by a person"
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM lab_quarantine WHERE resolved_at IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.hl7.resolve'"
        )
        .await,
        2
    );

    // Orders nobody placed here: held, with every observation kept.
    let unknown = post_hl7(&server, Some(TOKEN), STRESS).await.text().await.unwrap();
    assert_eq!(msa(&unknown).0, "AE", "{unknown}");
    assert!(
        count(
            store,
            "SELECT COUNT(*) FROM lab_quarantine WHERE reason = 'unknown_order'"
        )
        .await
            >= 1
    );

    // Garbage and truncated messages are refused, and nothing of them is stored.
    let messages = count(store, "SELECT COUNT(*) FROM hl7_message").await;
    let garbage = post_hl7(&server, Some(TOKEN), "hello")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&garbage).0, "AR");
    let truncated = &FIXTURE[..40];
    let cut = post_hl7(&server, Some(TOKEN), truncated)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&cut).0, "AR");
    let adt = FIXTURE.replace("ORU^R01", "ADT^A01").replace("|182|", "|184|");
    assert_eq!(
        msa(&post_hl7(&server, Some(TOKEN), &adt).await.text().await.unwrap()).0,
        "AR"
    );
    assert_eq!(count(store, "SELECT COUNT(*) FROM hl7_message").await, messages);

    // Over MLLP: the same importer, framed, with the ACK framed back.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(plateau_server::interfaces::serve_mllp(listener, store.clone()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let crlf = FIXTURE.replace('\n', "\r\n").replace("|182|", "|185|");
    let framed = plateau_app::lab::hl7::frame(&crlf);
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Sent in three pieces, as a slow network would deliver it.
    for piece in framed.chunks(framed.len() / 3 + 1) {
        stream.write_all(piece).await.unwrap();
        stream.flush().await.unwrap();
    }
    let mut decoder = plateau_app::lab::hl7::MllpDecoder::new(1 << 20);
    let mut buffer = vec![0_u8; 4096];
    let reply = loop {
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert!(read > 0, "connection closed before the ACK");
        if let Some(frame) = decoder.push(&buffer[..read]).pop() {
            break frame.unwrap();
        }
    };
    // Already filed under control id 182's results: the orders are verified or resulted,
    // so these come as new results on the same orders.
    assert_eq!(msa(&reply), ("AA".to_owned(), "185".to_owned()), "{reply}");
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM hl7_message WHERE transport = 'mllp'").await,
        1
    );
});

on_both_databases!(send_outs_travel_with_their_manifest, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    server.sign_in_demo("i.chevalier").await;
    let send_outs: Value = server.call("send_outs", &[]).await.json().await.unwrap();
    // Samir Haddad's blood count waits for the reference lab.
    let waiting = send_outs["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["order"]["test"]["loinc"], "57021-8");
    let accession = waiting[0]["order"]["specimen"]["accession"]
        .as_str()
        .unwrap()
        .to_owned();
    let lab = send_outs["labs"][0][0].to_string();
    let pack = |lab: &str, accession: &str| {
        let (lab, accession, server) = (lab.to_owned(), accession.to_owned(), &server);
        async move {
            server
                .call(
                    "pack_shipment",
                    &[
                        ("reference_lab_id", lab.as_str()),
                        ("accessions[0]", accession.as_str()),
                    ],
                )
                .await
        }
    };
    assert_eq!(pack("999", &accession).await.status(), 400);
    assert_eq!(pack(&lab, "L0000000000").await.status(), 400);
    assert_eq!(pack(&lab, "not an accession").await.status(), 400);
    let shipment: i64 = pack(&lab, &accession).await.json().await.unwrap();
    assert_eq!(pack(&lab, &accession).await.status(), 400, "already packed");
    let step = |to: &'static str| {
        let server = &server;
        async move {
            server
                .call(
                    "advance_shipment",
                    &[("shipment_id", shipment.to_string().as_str()), ("state", to)],
                )
                .await
        }
    };
    assert_eq!(step("received").await.status(), 409, "shipped first");
    assert_eq!(step("lost").await.status(), 400);
    ok(step("shipped").await).await;
    let state = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT state FROM specimen WHERE accession = $1",
        accession.clone()
    )
    .unwrap();
    assert_eq!(state, "shipped");
    ok(step("received").await).await;
    ok(step("resulted").await).await;
    let send_outs: Value = server.call("send_outs", &[]).await.json().await.unwrap();
    let manifest = &send_outs["shipments"][0];
    assert_eq!(manifest["state"], "resulted");
    assert_eq!(manifest["orders"][0]["specimen"]["accession"], accession.as_str());
    assert!(manifest["resulted_at"].is_i64());
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action LIKE 'lab.sendout.%'"
        )
        .await,
        4
    );
});

on_both_databases!(administrators_edit_the_lab_catalog, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let form = |id: &str, loinc: &str, critical_high: &str| {
        vec![
            ("id", id.to_owned()),
            ("loinc", loinc.to_owned()),
            ("name_fr", "Calcium".to_owned()),
            ("name_en", "Calcium".to_owned()),
            ("specimen_type", "SER".to_owned()),
            ("value_kind", "numeric".to_owned()),
            ("unit", "mmol/L".to_owned()),
            ("decimals", "2".to_owned()),
            ("plausible_low", "0.5".to_owned()),
            ("plausible_high", "5".to_owned()),
            ("critical_low", "1.6".to_owned()),
            ("critical_high", critical_high.to_owned()),
            ("performed", "in_house".to_owned()),
            ("turnaround_minutes", "45".to_owned()),
            ("active", "true".to_owned()),
            ("ranges", "any 18 150 2.2 2.6\nany 0 18 2.2 2.7".to_owned()),
        ]
    };
    let save = |fields: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.call("save_lab_test", &fields).await
        }
    };
    server.sign_in_demo("i.chevalier").await;
    assert_eq!(save(form("0", "17861-6", "3.5")).await.status(), 403);
    server.sign_in_demo("n.faure").await;
    let tests: Value = server.call("lab_tests", &[]).await.json().await.unwrap();
    assert_eq!(tests.as_array().unwrap().len(), 11);
    let bad_check_digit = save(form("0", "17861-5", "3.5")).await;
    assert_eq!(field(&bad_check_digit.json().await.unwrap()), "loinc");
    let taken = save(form("0", "2823-3", "3.5")).await;
    assert_eq!(field(&taken.json().await.unwrap()), "loinc");
    let inverted = save(form("0", "17861-6", "1.0")).await;
    assert_eq!(field(&inverted.json().await.unwrap()), "critical_high");
    let response = save(form("0", "17861-6", "3.5")).await;
    assert_eq!(response.status(), 200);
    let id: i64 = response.json().await.unwrap();
    ok(save(form(&id.to_string(), "17861-6", "3.2")).await).await;
    let critical = plateau_app::fetch_scalar!(
        store.read(),
        f64,
        "SELECT critical_high FROM lab_test WHERE id = $1",
        id
    )
    .unwrap();
    assert!((critical - 3.2).abs() < 1e-9);
    assert_eq!(count(store, "SELECT COUNT(*) FROM lab_reference_range r JOIN lab_test t ON t.id = r.lab_test_id WHERE t.loinc = '17861-6'").await, 2);
    assert_eq!(save(form("999999", "17861-6", "3.2")).await.status(), 404);
    // Physicians can order it now.
    server.sign_in_demo("c.lefevre").await;
    let durand = visit_of(store, "Durand").await.to_string();
    let lab = visit_lab(&server, durand.parse().unwrap()).await;
    assert!(lab["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["loinc"] == "17861-6"));
});
