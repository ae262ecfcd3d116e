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
    // A year no patient was born in is refused as such, like every other date field.
    for impossible in ["-262143-01-01", "+262142-01-01", "0001-01-01"] {
        let refused = collect(impossible, "true").await;
        assert_eq!(refused.status(), 400, "{impossible}");
        assert_eq!(field(&refused.json().await.unwrap()), "stated_birth_date");
    }
    let unconfirmed = collect("1958-03-14", "false").await;
    assert_eq!(unconfirmed.status(), 400);
    assert_eq!(common::count(store, "SELECT COUNT(*) FROM specimen WHERE shipment_id IS NULL AND visit_id IN (SELECT id FROM visit WHERE reason LIKE 'Bouchon%')").await, 0);
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
        common::count(
            store,
            "SELECT COUNT(*) FROM event WHERE kind = 'lab.critical' AND code = 'raised'"
        )
        .await,
        3,
        "the lab, the rooms and the visit are told"
    );

    // The room's assistant sees it at once and must read it back right. Their locked
    // tablet says only how many wait, naming nobody.
    server.sign_in_demo("a.diallo").await;
    ok(server.call("lock", &[]).await).await;
    assert_eq!(server.call("critical_alerts", &[]).await.status(), 423);
    let waiting = server.call("critical_values_waiting", &[]).await;
    assert_eq!(waiting.status(), 200);
    let waiting = waiting.text().await.unwrap();
    assert!(waiting.parse::<u32>().unwrap() >= 1, "{waiting}");
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
        common::count(
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

/// The fixture as the demo reference lab sends it: naming itself in MSH-4, and its second
/// group reporting the test ordered (the fixture names a differential).
static FIXTURE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    include_str!("../../app/src/lab/fixtures/LAB-ORU-1.hl7")
        .replacen("|SomeSystem||", "|SomeSystem|REFLAB|", 1)
        .replace("|26464-8^", "|57021-8^")
});
const STRESS: &str = include_str!("../../app/src/lab/fixtures/ORU-R01-01.hl7");
const TOKEN: &str = plateau_app::demo::DEMO_INTERFACE_TOKEN;

on_both_databases!(reference_lab_results_are_filed_or_held_never_misfiled, |db| {
    let server = demo_server(&db).await;
    let fixture: &str = &FIXTURE;
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
    let _ = visit;
    tx.commit().await.unwrap();
    // Sent out to the demo reference lab, under the fixture's order numbers.
    for (placer, loinc) in [("88502218", "24317-0"), ("855238581", "57021-8")] {
        let ours = shipped(store, "Duck", loinc, "c.lefevre", "REFLAB").await;
        let mut tx = store.begin().await.unwrap();
        plateau_app::execute!(
            tx.exec(),
            "UPDATE lab_order SET placer_number = $1 WHERE placer_number = $2",
            placer,
            ours
        )
        .unwrap();
        tx.commit().await.unwrap();
    }

    // Without the lab's token, nothing is read.
    assert_eq!(post_hl7(&server, None, fixture).await.status(), 401);
    assert_eq!(post_hl7(&server, Some("guess"), fixture).await.status(), 401);

    let response = post_hl7(&server, Some(TOKEN), fixture).await;
    assert_eq!(response.status(), 200);
    let ack = response.text().await.unwrap();
    assert_eq!(msa(&ack), ("AA".to_owned(), "182".to_owned()), "{ack}");
    let filed = "SELECT COUNT(*) FROM lab_result WHERE hl7_message_id IS NOT NULL";
    // Eight of the ten OBX carry a value; the two incomplete ones (status I) are empty.
    assert_eq!(common::count(store, filed).await, 8);
    let hematocrit = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT value || ' ' || unit || ' ' || status FROM lab_result WHERE loinc = '20570-8'"
    )
    .unwrap();
    assert_eq!(hematocrit, "40.1 % preliminary");
    // A resend is acknowledged, not stored twice.
    let again = post_hl7(&server, Some(TOKEN), fixture)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&again).0, "AA");
    assert_eq!(common::count(store, filed).await, 8);
    assert_eq!(common::count(store, "SELECT COUNT(*) FROM hl7_message").await, 1);

    // The same results claimed for someone else go to quarantine, not to Donald Duck.
    let impostor = fixture
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
    assert_eq!(common::count(store, filed).await, 8);
    assert_eq!(
        common::count(
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
    // Daisy's results onto Donald's order: a reason, and a second person.
    let without_reason = resolve(
        &server,
        &held[1],
        &[
            ("resolution", "attach"),
            ("placer_number", "855238581"),
            ("identity_checked", "true"),
        ],
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
    assert_eq!(without_reason.status(), 400);
    ok(resolve(
        &server,
        &held[1],
        &[
            ("resolution", "attach"),
            ("placer_number", "855238581"),
            ("identity_checked", "true"),
            ("reason", "Prénom saisi par erreur au laboratoire"),
        ],
    )
    .await)
    .await;
    server.sign_in_demo("m.perrin").await;
    ok(resolve(&server, &held[1], &[("resolution", "confirm")]).await).await;
    assert_eq!(
        common::count(store, filed).await,
        13,
        "the differential's five results, attached by a person"
    );
    assert_eq!(
        common::count(
            store,
            "SELECT COUNT(*) FROM lab_quarantine WHERE resolved_at IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        common::count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action IN ('lab.hl7.discard', 'lab.hl7.attach.confirm')"
        )
        .await,
        2
    );

    // Orders nobody placed here: held, with every observation kept.
    // Another system's message, sent as the demo reference lab names itself.
    let stress = STRESS.replace(
        "|IA Public Health Lab^2.16.840.1.114222.4.1.10411^ISO|",
        "|REFLAB|",
    );
    let unknown = post_hl7(&server, Some(TOKEN), &stress)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&unknown).0, "AE", "{unknown}");
    assert!(
        common::count(
            store,
            "SELECT COUNT(*) FROM lab_quarantine WHERE reason = 'unknown_order'"
        )
        .await
            >= 1
    );

    // Garbage and truncated messages are refused, and nothing of them is stored.
    let messages = common::count(store, "SELECT COUNT(*) FROM hl7_message").await;
    let garbage = post_hl7(&server, Some(TOKEN), "hello")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&garbage).0, "AR");
    let truncated = &fixture[..40];
    let cut = post_hl7(&server, Some(TOKEN), truncated)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(msa(&cut).0, "AR");
    let adt = fixture.replace("ORU^R01", "ADT^A01").replace("|182|", "|184|");
    assert_eq!(
        msa(&post_hl7(&server, Some(TOKEN), &adt).await.text().await.unwrap()).0,
        "AR"
    );
    assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM hl7_message").await,
        messages
    );

    // Over MLLP: the same importer, framed, with the ACK framed back.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(plateau_server::interfaces::serve_mllp(listener, store.clone()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let crlf = fixture.replace('\n', "\r\n").replace("|182|", "|185|");
    let framed = plateau_app::lab::hl7::frame(&crlf);
    use tokio::io::AsyncWriteExt;
    // Sent in three pieces, as a slow network would deliver it.
    for piece in framed.chunks(framed.len() / 3 + 1) {
        stream.write_all(piece).await.unwrap();
        stream.flush().await.unwrap();
    }
    let reply = common::mllp_reply(&mut stream)
        .await
        .expect("an ACK before the connection closes");
    // Already filed under control id 182's results: the orders are verified or resulted,
    // so these come as new results on the same orders.
    assert_eq!(msa(&reply), ("AA".to_owned(), "185".to_owned()), "{reply}");
    assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM hl7_message WHERE transport = 'mllp'").await,
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
        common::count(
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
    assert_eq!(common::count(store, "SELECT COUNT(*) FROM lab_reference_range r JOIN lab_test t ON t.id = r.lab_test_id WHERE t.loinc = '17861-6'").await, 2);
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

// ---------------------------------------------------------------------------------------------
// Results from reference labs held to the clinic's own rules
// ---------------------------------------------------------------------------------------------

/// The ERR-3 condition codes of an ACK, in order.
fn err_codes(ack: &str) -> Vec<String> {
    ack.split('\r')
        .filter(|s| s.starts_with("ERR|"))
        .map(|line| {
            line.split('|')
                .nth(3)
                .and_then(|f| f.split('^').next())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A send-out test of the catalog that reports potassium among other electrolytes.
async fn electrolytes_send_out(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    plateau_app::execute!(
        tx.exec(),
        "INSERT INTO lab_test (facility_id, loinc, name_fr, name_en, specimen_type, value_kind, unit, decimals, \
         allowed_codes, normal_codes, performed, turnaround_minutes, second_verifier) \
         SELECT id, '24326-1', 'Ionogramme (laboratoire de référence)', 'Electrolytes (reference lab)', 'SER', \
         'panel', '', 0, '', '', 'send_out', 1440, $1 FROM facility",
        false
    )
    .unwrap();
    tx.commit().await.unwrap();
}

/// An order of `loinc` for the patient of `family_name`'s visit, ordered by `physician`,
/// collected and shipped to the reference lab `lab_code`: its placer number.
async fn shipped(store: &Store, family_name: &str, loinc: &str, physician: &str, lab_code: &str) -> String {
    use plateau_app::lab::store as lab;
    let visit = visit_of(store, family_name).await;
    let test = test_id(store, loinc).await.parse::<i64>().unwrap();
    let physician = common::staff(store, physician).await;
    let technician = common::staff(store, "i.chevalier").await;
    let reference_lab = id_of(store, "SELECT id FROM reference_lab WHERE code = $1", lab_code).await;
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.unwrap();
    let order = lab::NewLabOrder {
        visit_id: visit,
        test_id: test,
        priority: plateau_app::procedures::Priority::Routine,
        note: "",
        ordered_by: physician,
    };
    let order_id = lab::order(&mut tx, &order, now).await.unwrap();
    let specimen = lab::NewSpecimen {
        visit_id: visit,
        specimen_type: plateau_app::lab::SpecimenType::Serum,
        body_site: "",
        identity_check: plateau_app::lab::IdentityCheck::NameAndBirthDate,
        collected_by: technician,
    };
    let (specimen_id, _) = lab::collect(&mut tx, &specimen, now.date_naive(), now)
        .await
        .unwrap();
    assert!(lab::attach_to_specimen(&mut tx, order_id, 1, specimen_id)
        .await
        .unwrap());
    let shipment = lab::pack(&mut tx, reference_lab, &[specimen_id], technician, now)
        .await
        .unwrap();
    assert!(lab::advance_shipment(&mut tx, shipment, "packed", "shipped", now)
        .await
        .unwrap());
    let placer = plateau_app::fetch_scalar!(
        tx.exec(),
        String,
        "SELECT placer_number FROM lab_order WHERE id = $1",
        order_id
    )
    .unwrap();
    tx.commit().await.unwrap();
    placer
}

/// Élise Durand as a reference lab names her.
const DURAND: &str = "PID|1||DEMO-0001^^^TILLEULS^MR||DURAND^ELISE||19580314|F";

/// An ORU^R01 from `facility` with one order group.
fn oru(control_id: &str, facility: &str, pid: &str, obr: &str, rest: &[&str]) -> String {
    let mut message = format!(
        "MSH|^~\\&|LIS|{facility}|PLATEAU|TILLEULS|20261202091000+0100||ORU^R01^ORU_R01|{control_id}|P|2.5.1\r{pid}\r{obr}\r"
    );
    for segment in rest {
        message.push_str(segment);
        message.push('\r');
    }
    message
}

async fn post_text(server: &TestServer, token: &str, body: &str) -> String {
    let response = post_hl7(server, Some(token), body).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The one result of `loinc` on the order with this placer number, as the tablet loads it.
fn result_of(lab: &Value, placer: &str, loinc: &str) -> Value {
    lab["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["placer_number"] == placer)
        .and_then(|o| {
            o["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["loinc"] == loinc)
                .cloned()
        })
        .unwrap_or(Value::Null)
}

on_both_databases!(
    critical_values_follow_the_clinics_limits_not_the_senders_flag,
    |db| {
        let server = demo_server(&db).await;
        let store = &db.store;
        electrolytes_send_out(store).await;
        // Dr Benali ordered it; Élise Durand is in Dr Lefèvre's care.
        let placers = [
            shipped(store, "Durand", "24326-1", "y.benali", "REFLAB").await,
            shipped(store, "Durand", "24326-1", "y.benali", "REFLAB").await,
            shipped(store, "Durand", "24326-1", "y.benali", "REFLAB").await,
            shipped(store, "Durand", "24326-1", "y.benali", "REFLAB").await,
        ];
        let obr = |placer: &str| format!("OBR|1|{placer}||24326-1^Electrolytes^LN|||20261202081500+0100");
        let alerts = "SELECT COUNT(*) FROM critical_alert";
        // 6.9 mmol/L with the sender's H: the catalog says critical above 6.2.
        let with_h = oru(
            "K-1",
            "REFLAB",
            DURAND,
            &obr(&placers[0]),
            &["OBX|1|NM|2823-3^Potassium^LN||6.9|mmol/L|3.5-5.0|H|||F"],
        );
        let ack = post_text(&server, TOKEN, &with_h).await;
        assert_eq!(msa(&ack).0, "AA", "{ack}");
        assert_eq!(common::count(store, alerts).await, 1);
        // With no flag at all: the same.
        let no_flag = oru(
            "K-2",
            "REFLAB",
            DURAND,
            &obr(&placers[1]),
            &["OBX|1|NM|2823-3^Potassium^LN||6.9|mmol/L|||||F"],
        );
        assert_eq!(msa(&post_text(&server, TOKEN, &no_flag).await).0, "AA");
        assert_eq!(common::count(store, alerts).await, 2);
        // The same raise as the bench's, audited, from the lab that sent it.
        assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.critical.raise' AND username = 'hl7:REFLAB' AND patient_id IS NOT NULL").await,
        2
    );
        // In another unit than the catalog's, or past what is plausible: held for a person,
        // never filed silently.
        let other_unit = oru(
            "K-3",
            "REFLAB",
            DURAND,
            &obr(&placers[2]),
            &["OBX|1|NM|2823-3^Potassium^LN||6.9|mEq/L||HH|||F"],
        );
        let ack = post_text(&server, TOKEN, &other_unit).await;
        assert_eq!(msa(&ack).0, "AE", "{ack}");
        assert!(ack.contains("unit_mismatch"), "{ack}");
        assert_eq!(err_codes(&ack), ["102"]);
        let implausible = oru(
            "K-4",
            "REFLAB",
            DURAND,
            &obr(&placers[3]),
            &["OBX|1|NM|2823-3^Potassium^LN||69|mmol/L||HH|||F"],
        );
        assert!(post_text(&server, TOKEN, &implausible)
            .await
            .contains("implausible"));
        assert_eq!(common::count(store, alerts).await, 2);
        assert_eq!(
            common::count(
                store,
                "SELECT COUNT(*) FROM lab_quarantine WHERE reason IN ('unit_mismatch', 'implausible')"
            )
            .await,
            2
        );

        // Plateau's flag beside the sender's, the disagreement kept.
        server.sign_in_demo("c.lefevre").await;
        let lab = visit_lab(&server, visit_of(store, "Durand").await).await;
        let potassium = result_of(&lab, &placers[0], "2823-3");
        assert_eq!(potassium["flag"], "HH");
        assert_eq!(potassium["sender_flag"], "H");
        assert_eq!(potassium["clinic_rules"], "applied");
        assert_eq!(potassium["reference_range"], "3.5–5.1", "the clinic's range");
        assert_eq!(potassium["sender_range"], "3.5-5.0");
        assert_eq!(potassium["reported_by_lab"], "Laboratoire de référence (démo)");

        // The ordering physician is told although the patient is not in her care.
        server.sign_in_demo("y.benali").await;
        let mine: Value = server.call("critical_alerts", &[]).await.json().await.unwrap();
        assert_eq!(mine["alerts"].as_array().unwrap().len(), 2, "{mine}");
        // A physician who neither ordered it nor cares for the patient is not.
        server.sign_in_demo("a.girard").await;
        let theirs: Value = server.call("critical_alerts", &[]).await.json().await.unwrap();
        assert_eq!(theirs["alerts"].as_array().unwrap().len(), 0);

        // The escalation timer covers alerts raised from HL7.
        let later = chrono::Utc::now() + chrono::Duration::minutes(16);
        assert_eq!(
            plateau_app::lab::act::escalate_overdue(store, later)
                .await
                .unwrap(),
            2
        );
    }
);

on_both_databases!(
    a_control_id_sent_again_with_other_content_is_kept_and_flagged,
    |db| {
        let server = demo_server(&db).await;
        let store = &db.store;
        let first = shipped(store, "Durand", "24317-0", "c.lefevre", "REFLAB").await;
        let second = shipped(store, "Durand", "24317-0", "c.lefevre", "REFLAB").await;
        let obr = |placer: &str| format!("OBR|1|{placer}||24317-0^Hemogram^LN");
        let a = oru(
            "77",
            "REFLAB",
            DURAND,
            &obr(&first),
            &["OBX|1|NM|718-7^Hemoglobin^LN||13.2|g/dL||N|||F"],
        );
        let b = oru(
            "77",
            "REFLAB",
            DURAND,
            &obr(&second),
            &["OBX|1|NM|718-7^Hemoglobin^LN||9.8|g/dL||L|||F"],
        );
        let filed = "SELECT COUNT(*) FROM lab_result WHERE hl7_message_id IS NOT NULL";
        assert_eq!(msa(&post_text(&server, TOKEN, &a).await).0, "AA");
        // Same lab, same control id, other content (the lab's counter was reset): stored.
        let ack = post_text(&server, TOKEN, &b).await;
        assert_eq!(msa(&ack).0, "AA", "{ack}");
        assert_eq!(err_codes(&ack), ["205"], "with a warning: {ack}");
        assert_eq!(common::count(store, filed).await, 2);
        // The very same message again: acknowledged, not stored twice (CRLF or not).
        let again = post_text(&server, TOKEN, &a.replace('\r', "\r\n")).await;
        assert_eq!(msa(&again).0, "AA");
        assert!(again.contains("already received"), "{again}");
        assert_eq!(common::count(store, filed).await, 2);
        assert_eq!(common::count(store, "SELECT COUNT(*) FROM hl7_message").await, 2);

        // Another lab with its own token: it cannot pass for the demo lab, and its own control
        // ids are its own.
        let mut tx = store.begin().await.unwrap();
        let facility = plateau_app::facility::store::first_id(&mut tx)
            .await
            .unwrap()
            .unwrap();
        let cerba = plateau_app::lab::store::add_reference_lab(&mut tx, facility, "CERBA", "Cerba")
            .await
            .unwrap();
        plateau_app::lab::store::set_interface_token(
            &mut tx,
            cerba,
            &plateau_app::lab::import::token_digest("cerba-token"),
        )
        .await
        .unwrap();
        plateau_app::lab::store::set_interface_identity(&mut tx, cerba, "CERBA", &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let posing = oru(
            "78",
            "REFLAB",
            DURAND,
            &obr(&first),
            &["OBX|1|NM|718-7^Hemoglobin^LN||13.0|g/dL|||||F"],
        );
        let refused = post_text(&server, "cerba-token", &posing).await;
        assert_eq!(msa(&refused).0, "AR", "{refused}");
        assert_eq!(err_codes(&refused), ["204"]);
        let cerba_third = shipped(store, "Durand", "24317-0", "c.lefevre", "CERBA").await;
        let own = oru(
            "78",
            "CERBA",
            DURAND,
            &obr(&cerba_third),
            &["OBX|1|NM|718-7^Hemoglobin^LN||13.0|g/dL|||||F"],
        );
        assert_eq!(msa(&post_text(&server, "cerba-token", &own).await).0, "AA");
        // The demo lab's genuine 78 is not "already received" because Cerba sent a 78.
        let third = shipped(store, "Durand", "24317-0", "c.lefevre", "REFLAB").await;
        let genuine = oru(
            "78",
            "REFLAB",
            DURAND,
            &obr(&third),
            &["OBX|1|NM|718-7^Hemoglobin^LN||12.9|g/dL|||||F"],
        );
        let ack = post_text(&server, TOKEN, &genuine).await;
        assert_eq!(msa(&ack).0, "AA");
        assert!(err_codes(&ack).is_empty(), "{ack}");
        assert_eq!(common::count(store, filed).await, 4);

        // The lab sees the reused id, and a person marks it reviewed, once.
        server.sign_in_demo("i.chevalier").await;
        let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
        let reused = worklist["reused"].as_array().unwrap();
        assert_eq!(reused.len(), 1);
        assert_eq!(reused[0]["control_id"], "77");
        assert_eq!(reused[0]["earlier"], 1);
        let id = reused[0]["hl7_message_id"].to_string();
        assert_eq!(
            server
                .call("review_reused_control_id", &[("hl7_message_id", "0")])
                .await
                .status(),
            400
        );
        assert_eq!(
            server
                .call("review_reused_control_id", &[("hl7_message_id", "x")])
                .await
                .status(),
            400
        );
        ok(server
            .call("review_reused_control_id", &[("hl7_message_id", &id)])
            .await)
        .await;
        assert_eq!(
            server
                .call("review_reused_control_id", &[("hl7_message_id", &id)])
                .await
                .status(),
            409
        );
        let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
        assert_eq!(worklist["reused"].as_array().unwrap().len(), 0);
        assert_eq!(
            common::count(
                store,
                "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.hl7.review'"
            )
            .await,
            1
        );
        server.sign_in_demo("c.lefevre").await;
        assert_eq!(
            server
                .call("review_reused_control_id", &[("hl7_message_id", &id)])
                .await
                .status(),
            403
        );
    }
);

on_both_databases!(a_lab_files_only_on_orders_sent_to_it, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let filed = "SELECT COUNT(*) FROM lab_result WHERE hl7_message_id IS NOT NULL";
    // Paul Garnier's potassium is on the clinic's own bench: no reference lab files on it.
    let garnier = plateau_app::fetch_scalar!(
        store.read(),
        String,
        "SELECT o.placer_number FROM lab_order o JOIN lab_test t ON t.id = o.lab_test_id WHERE t.loinc = '2823-3'"
    )
    .unwrap();
    let pid = "PID|1||DEMO-0004^^^TILLEULS^MR||GARNIER^PAUL||19720109|M";
    let forged = oru(
        "F-1",
        "REFLAB",
        pid,
        &format!("OBR|1|{garnier}||2823-3^Potassium^LN"),
        &["OBX|1|NM|2823-3^Potassium^LN||7.4|mmol/L||HH|||F"],
    );
    let ack = post_text(&server, TOKEN, &forged).await;
    assert_eq!(msa(&ack).0, "AE");
    assert!(ack.contains("not_sent_to_this_lab"), "{ack}");
    assert_eq!(err_codes(&ack), ["204"]);
    assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM critical_alert").await,
        0
    );
    assert_eq!(common::count(store, filed).await, 0);

    // The hemogram sent out this morning: final, then a correction; a plain resend of
    // finals on a verified order is held.
    let placer = plateau_app::demo::DEMO_SHIPPED_PLACER;
    let obr = format!("OBR|1|{placer}||24317-0^Hemogram^LN|||20261202081500+0100");
    let final_ = oru(
        "H-1",
        "REFLAB",
        DURAND,
        &obr,
        &["OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL||N|||F|||20261202090500+0100"],
    );
    assert_eq!(msa(&post_text(&server, TOKEN, &final_).await).0, "AA");
    let resend = oru(
        "H-2",
        "REFLAB",
        DURAND,
        &obr,
        &["OBX|1|NM|718-7^Hemoglobin^LN||13.4|g/dL||N|||F"],
    );
    let held = post_text(&server, TOKEN, &resend).await;
    assert!(held.contains("already_verified"), "{held}");
    assert_eq!(err_codes(&held), ["206"]);
    let correction = oru(
        "H-3",
        "REFLAB",
        DURAND,
        &obr,
        &["OBX|1|NM|718-7^Hemoglobin^LN||11.6|g/dL||L|||C"],
    );
    assert_eq!(msa(&post_text(&server, TOKEN, &correction).await).0, "AA");
    server.sign_in_demo("c.lefevre").await;
    let lab = visit_lab(&server, visit_of(store, "Durand").await).await;
    let hemoglobin = result_of(&lab, placer, "718-7");
    assert_eq!(hemoglobin["status"], "corrected");
    assert_eq!(hemoglobin["value"], "11.6");
    assert_eq!(hemoglobin["flag"], "L", "below the clinic's 12.0 for a woman");
    assert_eq!(hemoglobin["replaces"]["value"], "13.1");
    assert_eq!(hemoglobin["replaces"]["status"], "final");
    // Observation and collection times as the lab said (+01:00), not the receipt's.
    let at = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    };
    let order = lab["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["placer_number"] == placer)
        .unwrap()
        .clone();
    let results = order["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "the corrected value replaces the final one");
    assert_eq!(hemoglobin["collected_at"], at("2026-12-02T08:15:00+01:00"));
    assert_eq!(order["state"], "verified");

    // The test in OBR-4 must be the order's.
    let other = shipped(store, "Durand", "24317-0", "c.lefevre", "REFLAB").await;
    let wrong_test = oru(
        "H-4",
        "REFLAB",
        DURAND,
        &format!("OBR|1|{other}||57021-8^CBC^LN"),
        &["OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL|||||F"],
    );
    assert!(post_text(&server, TOKEN, &wrong_test)
        .await
        .contains("test_mismatch"));
    // An unknown order, said with 204 rather than "internal error".
    let unknown = oru(
        "H-5",
        "REFLAB",
        DURAND,
        "OBR|1|PL99999999||24317-0^Hemogram^LN",
        &["OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL|||||F"],
    );
    let ack = post_text(&server, TOKEN, &unknown).await;
    assert!(ack.contains("unknown_order"));
    assert_eq!(err_codes(&ack), ["204"]);
    // A resend of a held message is not answered AA.
    let again = post_text(&server, TOKEN, &unknown).await;
    assert_eq!(msa(&again).0, "AE", "{again}");
    assert_eq!(err_codes(&again), ["205"]);
    // A NUL byte is refused outright, not "database unavailable, send again" forever.
    let nul = final_.replace("13.1", "13\u{0}1");
    let ack = post_text(&server, TOKEN, &nul).await;
    assert_eq!(msa(&ack).0, "AR", "{ack}");
});

on_both_databases!(what_the_lab_said_is_kept_and_shown, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let placer = shipped(store, "Durand", "24317-0", "c.lefevre", "REFLAB").await;
    let message = oru(
        "N-1",
        "REFLAB",
        &format!("{DURAND}\rNTE|1||Patient à jeun depuis 12 h"),
        &format!("OBR|1|{placer}||24317-0^Hemogram^LN|||20261202081500+0100||||||||||||||||||F"),
        &[
            "NTE|1||Prélèvement reçu à 09:00",
            "OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL||N|||F|||20261202090500+0100",
            "NTE|1||Échantillon hémolysé : interpréter avec prudence",
            "OBX|2|CWE|ZZ-ATYP^Atypical cells^99LAB||260348001^Present^SCT^^^^^^Présence de cellules atypiques||||||F",
            // No status: the order's (OBR-25 F) stands for it.
            "OBX|3|NM|777-3^Platelets^LN||182|10*9/L|150-400|N",
        ],
    );
    let ack = post_text(&server, TOKEN, &message).await;
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    server.sign_in_demo("c.lefevre").await;
    let lab = visit_lab(&server, visit_of(store, "Durand").await).await;
    let order = lab["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["placer_number"] == placer.as_str())
        .unwrap()
        .clone();
    let notes: Vec<&str> = order["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes, ["Patient à jeun depuis 12 h", "Prélèvement reçu à 09:00"]);
    let results = order["results"].as_array().unwrap();
    let hemoglobin = &results[0];
    assert_eq!(
        hemoglobin["notes"][0],
        "Échantillon hémolysé : interpréter avec prudence"
    );
    assert_eq!(
        hemoglobin["observed_at"],
        chrono::DateTime::parse_from_rfc3339("2026-12-02T09:05:00+01:00")
            .unwrap()
            .timestamp_millis()
    );
    // A coded result keeps its code, system and original text; a local code is not LOINC.
    let atypical = &results[1];
    assert_eq!(atypical["loinc"], "");
    assert_eq!(
        (
            atypical["observation_code"].as_str(),
            atypical["observation_system"].as_str()
        ),
        (Some("ZZ-ATYP"), Some("99LAB"))
    );
    assert_eq!(
        (atypical["value_code"].as_str(), atypical["value_system"].as_str()),
        (Some("260348001"), Some("SCT"))
    );
    assert_eq!(atypical["value_text"], "Présence de cellules atypiques");
    assert_eq!(atypical["value"], "Present");
    assert_eq!(atypical["clinic_rules"], "not_applicable");
    let platelets = &results[2];
    assert_eq!(platelets["status"], "final");
    assert_eq!(platelets["status_as_sent"], "");
    assert_eq!(hemoglobin["reported_by_lab"], "Laboratoire de référence (démo)");
    assert_eq!(order["state"], "verified");
    // Reading it is audited as a read of her record.
    assert!(
        common::count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'patient.read' AND record LIKE 'visit/%/lab'"
        )
        .await
            >= 1
    );
});

on_both_databases!(
    held_results_go_to_another_patient_only_with_a_second_person,
    |db| {
        let server = demo_server(&db).await;
        let store = &db.store;
        let placer = plateau_app::demo::DEMO_SHIPPED_PLACER;
        // The message names someone else than Élise Durand.
        let message = oru(
            "Q-1",
            "REFLAB",
            "PID|1||LAB-5512^^^REFLAB^PI||DURAND^ELISA||19580413|F",
            &format!("OBR|1|{placer}||24317-0^Hemogram^LN"),
            &["OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL|||||F"],
        );
        assert!(post_text(&server, TOKEN, &message)
            .await
            .contains("patient_mismatch"));
        server.sign_in_demo("i.chevalier").await;
        let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
        let held = worklist["quarantine"][0]["id"].to_string();
        assert_eq!(worklist["quarantine"][0]["reason"], "patient_mismatch");
        // Both identities side by side.
        let compared = server
            .call(
                "compare_held",
                &[("quarantine_id", &held), ("placer_number", placer)],
            )
            .await;
        assert_eq!(compared.status(), 200);
        let compared: Value = compared.json().await.unwrap();
        assert_eq!(compared["message_given_name"], "ELISA");
        assert_eq!(compared["order_patient"]["given_name"], "Élise");
        assert_eq!(compared["same_patient"], false);
        assert_eq!(compared["same_test"], true);
        assert_eq!(
            server
                .call(
                    "compare_held",
                    &[("quarantine_id", &held), ("placer_number", "nope")]
                )
                .await
                .status(),
            400
        );
        assert_eq!(
            server
                .call(
                    "compare_held",
                    &[("quarantine_id", "-1"), ("placer_number", placer)]
                )
                .await
                .status(),
            400
        );
        assert_eq!(
            server
                .call(
                    "compare_held",
                    &[("quarantine_id", "999999"), ("placer_number", placer)]
                )
                .await
                .status(),
            404
        );
        // A ticked box is not enough: without a reason it is refused, with one it waits for a
        // second person.
        let attach = |reason: &'static str| {
            let held = held.clone();
            let server = &server;
            async move {
                server
                    .call(
                        "resolve_quarantine",
                        &[
                            ("quarantine_id", held.as_str()),
                            ("resolution", "attach"),
                            ("placer_number", placer),
                            ("identity_checked", "true"),
                            ("reason", reason),
                        ],
                    )
                    .await
            }
        };
        let no_reason = attach("").await;
        assert_eq!(no_reason.status(), 400);
        assert_eq!(field(&no_reason.json().await.unwrap()), "reason");
        assert_eq!(attach("   \t ").await.status(), 400, "blank is no reason");
        ok(attach("Prénom mal orthographié par le laboratoire, date de naissance inversée").await).await;
        let filed = "SELECT COUNT(*) FROM lab_result WHERE hl7_message_id IS NOT NULL";
        assert_eq!(common::count(store, filed).await, 0, "nothing attached yet");
        assert_eq!(attach("encore").await.status(), 409, "already asked");
        let answer = |resolution: &'static str| {
            let held = held.clone();
            let server = &server;
            async move {
                server
                    .call(
                        "resolve_quarantine",
                        &[("quarantine_id", held.as_str()), ("resolution", resolution)],
                    )
                    .await
            }
        };
        assert_eq!(refusal(answer("confirm").await).await, "second_person_required");
        // A second technician declines: it stays held, and may be asked again.
        server.sign_in_demo("m.perrin").await;
        ok(answer("decline").await).await;
        server.sign_in_demo("i.chevalier").await;
        ok(attach("Erreur de saisie au laboratoire, confirmée par téléphone").await).await;
        server.sign_in_demo("m.perrin").await;
        let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
        assert_eq!(
            worklist["quarantine"][0]["attach_request"]["requested_by"],
            "Inès Chevalier"
        );
        assert_eq!(
            worklist["quarantine"][0]["attach_request"]["requested_by_me"],
            false
        );
        ok(answer("confirm").await).await;
        assert_eq!(common::count(store, filed).await, 1);
        assert_eq!(answer("confirm").await.status(), 409);
        for action in [
            "lab.hl7.attach.request",
            "lab.hl7.attach.decline",
            "lab.hl7.attach.confirm",
        ] {
            let sql = format!("SELECT COUNT(*) FROM audit_event WHERE action = '{action}'");
            assert!(common::count(store, &sql).await >= 1, "{action}");
        }
        // Bad input.
        assert_eq!(answer("maybe").await.status(), 400);
        // The same patient under another order number: attached at once by one person.
        let second = shipped(store, "Durand", "24317-0", "c.lefevre", "REFLAB").await;
        let unknown = oru(
            "Q-2",
            "REFLAB",
            DURAND,
            "OBR|1|PL-LOST||24317-0^Hemogram^LN",
            &["OBX|1|NM|718-7^Hemoglobin^LN||13.3|g/dL|||||F"],
        );
        assert!(post_text(&server, TOKEN, &unknown)
            .await
            .contains("unknown_order"));
        server.sign_in_demo("i.chevalier").await;
        let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
        let held = worklist["quarantine"][0]["id"].to_string();
        let compared: Value = server
            .call(
                "compare_held",
                &[("quarantine_id", &held), ("placer_number", &second)],
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(compared["same_patient"], true);
        ok(server
            .call(
                "resolve_quarantine",
                &[
                    ("quarantine_id", &held),
                    ("resolution", "attach"),
                    ("placer_number", &second),
                    ("identity_checked", "true"),
                ],
            )
            .await)
        .await;
        assert_eq!(common::count(store, filed).await, 2);
    }
);

on_both_databases!(mllp_takes_only_the_configured_labs_peers, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    let placer = plateau_app::demo::DEMO_SHIPPED_PLACER;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(plateau_server::interfaces::serve_mllp(listener, store.clone()));
    use tokio::io::AsyncWriteExt;
    let exchange = |message: String| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(&plateau_app::lab::hl7::frame(&message)).await;
        common::mllp_reply(&mut stream).await
    };
    let obr = format!("OBR|1|{placer}||24317-0^Hemogram^LN");
    let obx = ["OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL|||||F"];
    // From the demo lab's address, naming another facility: refused.
    let other = exchange(oru("M-1", "ELSEWHERE", DURAND, &obr, &obx))
        .await
        .unwrap();
    assert_eq!(msa(&other).0, "AR", "{other}");
    // Naming the lab: filed as the lab's.
    let ack = exchange(oru("M-2", "REFLAB", DURAND, &obr, &obx)).await.unwrap();
    assert_eq!(msa(&ack).0, "AA", "{ack}");
    assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM hl7_message m JOIN reference_lab r ON r.id = m.reference_lab_id WHERE m.transport = 'mllp' AND r.code = 'REFLAB'").await,
        1
    );
    // An address no lab is configured for: closed before anything is read.
    let mut tx = store.begin().await.unwrap();
    plateau_app::execute!(
        tx.exec(),
        "DELETE FROM reference_lab_peer WHERE address = $1",
        "127.0.0.1"
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(exchange(oru("M-3", "REFLAB", DURAND, &obr, &obx)).await, None);
    assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM hl7_message").await,
        2 - 1
    );
    drop(server);
});

on_both_databases!(the_readmes_example_message_is_filed, |db| {
    let server = demo_server(&db).await;
    let example = include_str!("../../app/src/demo/reference-lab-result.hl7");
    let ack = post_text(&server, TOKEN, example).await;
    assert_eq!(msa(&ack), ("AA".to_owned(), "DEMO-MSG-0001".to_owned()), "{ack}");
    server.sign_in_demo("c.lefevre").await;
    let lab = visit_lab(&server, visit_of(&db.store, "Durand").await).await;
    let hemoglobin = result_of(&lab, plateau_app::demo::DEMO_SHIPPED_PLACER, "718-7");
    assert_eq!(hemoglobin["flag"], "N");
    assert_eq!(
        hemoglobin["notes"][0],
        "Échantillon légèrement hémolysé : hémoglobine à interpréter avec prudence."
    );
});

on_both_databases!(lab_lists_name_their_patients_in_the_audit_trail, |db| {
    let server = demo_server(&db).await;
    let store = &db.store;
    electrolytes_send_out(store).await;
    let placer = shipped(store, "Durand", "24326-1", "c.lefevre", "REFLAB").await;
    let critical = oru(
        "A-1",
        "REFLAB",
        DURAND,
        &format!("OBR|1|{placer}||24326-1^Electrolytes^LN"),
        &["OBX|1|NM|2823-3^Potassium^LN||7.0|mmol/L|||||F"],
    );
    assert_eq!(msa(&post_text(&server, TOKEN, &critical).await).0, "AA");
    // Results for an order nobody placed are held, and shown on the worklist.
    let stray = oru(
        "A-2",
        "REFLAB",
        DURAND,
        "OBR|1|PL-NOBODY-1||24326-1^Electrolytes^LN",
        &["OBX|1|NM|2823-3^Potassium^LN||4.0|mmol/L|||||F"],
    );
    post_text(&server, TOKEN, &stray).await;
    let rows = |action: &'static str, outcome: &'static str| async move {
        let sql = format!(
            "SELECT COUNT(DISTINCT patient_id) FROM audit_event WHERE action = '{action}' AND outcome = '{outcome}'"
        );
        common::count(store, &sql).await
    };
    server.sign_in_demo("i.chevalier").await;
    let worklist: Value = server.call("lab_worklist", &[]).await.json().await.unwrap();
    let mut shown: Vec<i64> = worklist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["patient"]["id"].as_i64().unwrap())
        .chain(
            worklist["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["patient"]["id"].as_i64().unwrap()),
        )
        .collect();
    shown.sort_unstable();
    shown.dedup();
    assert!(shown.len() > 1);
    assert_eq!(
        rows("lab.worklist.read", "allowed").await,
        shown.len() as i64,
        "every patient shown, once"
    );
    let held = worklist["quarantine"].as_array().unwrap();
    assert!(!held.is_empty());
    assert_eq!(
        common::count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.quarantine.read' AND detail <> ''"
        )
        .await,
        held.len() as i64,
        "every held group shown, with the name the message gives"
    );
    ok(server.call("send_outs", &[]).await).await;
    assert!(rows("lab.sendouts.read", "allowed").await >= 1);
    // The critical-value banner names her: read by her physician, in the trail.
    server.sign_in_demo("c.lefevre").await;
    let banner: Value = server.call("critical_alerts", &[]).await.json().await.unwrap();
    let alert = banner["alerts"][0]["id"].to_string();
    assert_eq!(rows("lab.critical.read", "allowed").await, 1);
    // Refusals leave a row too: acknowledging someone else's patient's value, a label read
    // by an administrator.
    server.sign_in_demo("a.girard").await;
    let refused = server
        .call(
            "acknowledge_critical",
            &[("alert_id", &alert), ("outcome", "no_read_back")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        common::count(store, "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.critical.acknowledge' AND outcome = 'refused'").await,
        1
    );
    server.sign_in_demo("n.faure").await;
    let label = server
        .call("specimen_label", &[("accession", "L2612020001")])
        .await;
    assert_eq!(label.status(), 403);
    assert_eq!(
        common::count(
            store,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'lab.label.read' AND outcome = 'refused'"
        )
        .await,
        1
    );
});

on_both_databases!(
    a_message_with_more_critical_values_than_people_can_act_on_is_refused_whole,
    |db| {
        let server = demo_server(&db).await;
        let store = &db.store;
        electrolytes_send_out(store).await;
        let placer = shipped(store, "Durand", "24326-1", "c.lefevre", "REFLAB").await;
        let alerts = || async { common::count(store, "SELECT COUNT(*) FROM critical_alert").await };
        let results = || async {
            common::count(
                store,
                "SELECT COUNT(*) FROM lab_result WHERE hl7_message_id IS NOT NULL",
            )
            .await
        };
        let (alerts_before, results_before) = (alerts().await, results().await);
        // Each value another critical potassium (a new value supersedes the one before and
        // rings again): 21 of them, one more than a message may raise.
        let values: Vec<String> = (0..=plateau_app::lab::import::MAX_CRITICAL_PER_MESSAGE)
            .map(|i| {
                format!(
                    "OBX|{}|NM|2823-3^Potassium^LN||{:.1}|mmol/L|||||F",
                    i + 1,
                    6.6 + 0.1 * i as f64
                )
            })
            .collect();
        let lines: Vec<&str> = values.iter().map(String::as_str).collect();
        let flood = oru(
            "FLOOD-1",
            "REFLAB",
            DURAND,
            &format!("OBR|1|{placer}||24326-1^Electrolytes^LN"),
            &lines,
        );
        let ack = post_text(&server, TOKEN, &flood).await;
        assert_eq!(msa(&ack).0, "AE", "{ack}");
        assert!(ack.contains("21 critical values"), "{ack}");
        assert_eq!(alerts().await, alerts_before, "no alert raised");
        assert_eq!(results().await, results_before, "nothing filed");
        // Twenty is a message like any other.
        let twenty = oru(
            "FLOOD-2",
            "REFLAB",
            DURAND,
            &format!("OBR|1|{placer}||24326-1^Electrolytes^LN"),
            &lines[..plateau_app::lab::import::MAX_CRITICAL_PER_MESSAGE],
        );
        assert_eq!(msa(&post_text(&server, TOKEN, &twenty).await).0, "AA");
        assert_eq!(alerts().await, alerts_before + 20);
    }
);
