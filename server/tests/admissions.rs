//! Patients and visits from the front office's system (issue 17): HL7 v2 ADT messages
//! over HTTP and MLLP, applied once, with the desk's checks, held or refused with a
//! reason in the ACK.
#![allow(clippy::unwrap_used)]

mod common;

use plateau_app::lab::act::{ReferenceLabSetup, Who};
use plateau_app::lab::import::SenderRole;

fn fixture(name: &str) -> String {
    let path = format!("{}/../../shared/fixtures/hl7/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sets an interface up on an empty clinic: its token.
async fn interface(
    store: &plateau_app::store::Store,
    code: &str,
    msh4: &str,
    role: SenderRole,
    peers: &[&str],
) -> String {
    let facility_id = plateau_app::fetch_scalar!(store.read(), i64, "SELECT MIN(id) FROM facility").unwrap();
    let peers: Vec<String> = peers.iter().map(|p| (*p).to_owned()).collect();
    let setup = ReferenceLabSetup::checked(code, code, msh4, &peers).unwrap();
    let (_, token) = plateau_app::lab::act::set_up_reference_lab(
        store,
        facility_id,
        &setup,
        role,
        true,
        Who::Interface("test"),
    )
    .await
    .unwrap();
    token.unwrap()
}

async fn post(server: &common::TestServer, path: &str, token: &str, body: &str) -> (String, String, String) {
    let answer = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let ack = answer.text().await.unwrap();
    let msa: Vec<String> = ack
        .split('\r')
        .find(|s| s.starts_with("MSA|"))
        .unwrap_or_default()
        .split('|')
        .map(str::to_owned)
        .collect();
    (
        msa.get(1).cloned().unwrap_or_default(),
        msa.get(3).cloned().unwrap_or_default(),
        ack,
    )
}

const A04: &str = "MSH|^~\\&|FO|ACCUEIL|PLATEAU|CLINIQUE|20261203101500||ADT^A04^ADT_A01|{ID}|P|2.5\r\
    EVN|A04|20261203101500\r\
    PID|1||880012^^^CHU-NANTES^MR||Œuvray^Hélène^^^^^L~Martin^^^^^^M||19710602|F|||||||fra\r\
    NK1|1|Œuvray^Paul|EMC|||||\r\
    PV1|1|O|||||||||||||||||V2026-77^^^CHU-NANTES^VN\r\
    PV2|||^Plaie de la main\r\
    ZXY|segments Plateau does not use are ignored\r";

fn message(template: &str, control_id: &str) -> String {
    template.replace("{ID}", control_id)
}

on_both_databases!(
    the_front_office_registers_updates_discharges_and_merges_patients_over_http,
    |db| {
        common::add_account(&db.store, "admin", &["administrator"]).await;
        let store = &db.store;
        let token = interface(store, "ACCUEIL", "ACCUEIL", SenderRole::FrontOffice, &[]).await;
        let lab_token = interface(store, "BIOLAB", "BIOLAB", SenderRole::Lab, &[]).await;
        let server = common::TestServer::start(store.clone()).await;

        // An arrival: the patient, with the front office's number, waits.
        let (code, _, ack) = post(&server, "/hl7/adt", &token, &message(A04, "M1")).await;
        assert_eq!(code, "AA", "{ack}");
        assert!(ack.contains("ACK^A04^ACK"), "{ack}");
        let patient = common::count(
            store,
            "SELECT id FROM patient WHERE record_number = '880012' AND assigning_authority = 'CHU-NANTES'",
        )
        .await;
        let (family, birth_name, language) = plateau_app::fetch_optional!(
            store.read(),
            (String, String, String),
            "SELECT family_name, birth_name, preferred_language FROM patient WHERE id = $1",
            patient
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (family.as_str(), birth_name.as_str(), language.as_str()),
            ("Œuvray", "Martin", "fra")
        );
        let (state, number, reason) = plateau_app::fetch_optional!(
            store.read(),
            (String, String, String),
            "SELECT state, visit_number, reason FROM visit WHERE patient_id = $1",
            patient
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (state.as_str(), number.as_str(), reason.as_str()),
            ("waiting", "V2026-77", "Plaie de la main")
        );

        // The same message again: acknowledged, stored and applied once.
        let (code, text, _) = post(&server, "/hl7/adt", &token, &message(A04, "M1")).await;
        assert_eq!(
            (code.as_str(), text.as_str()),
            ("AA", "already received: not applied again")
        );
        assert_eq!(common::count(store, "SELECT COUNT(*) FROM visit").await, 1);
        assert_eq!(common::count(store, "SELECT COUNT(*) FROM adt_message").await, 1);
        // The same control id with other content: told, not applied.
        let other = message(A04, "M1").replace("Plaie de la main", "Autre chose");
        assert_eq!(post(&server, "/hl7/adt", &token, &other).await.0, "AE");

        // An update: the new emergency contact is taken; a changed birth date is held.
        let a08 = message(A04, "M2")
            .replace("ADT^A04", "ADT^A08")
            .replace("EMC|||", "EMC||0612345678|");
        assert_eq!(post(&server, "/hl7/adt", &token, &a08).await.0, "AA");
        let contact = plateau_app::fetch_scalar!(
            store.read(),
            String,
            "SELECT emergency_contact FROM patient WHERE id = $1",
            patient
        )
        .unwrap();
        assert_eq!(contact, "Paul Œuvray, 0612345678");
        let contradicting = message(A04, "M3")
            .replace("ADT^A04", "ADT^A08")
            .replace("19710602", "19720602");
        let (code, text, _) = post(&server, "/hl7/adt", &token, &contradicting).await;
        assert_eq!(code, "AE");
        assert!(
            text.contains("held for a person") && text.contains("1971-06-02"),
            "{text}"
        );
        let born = plateau_app::fetch_scalar!(
            store.read(),
            String,
            "SELECT CAST(birth_date AS TEXT) FROM patient WHERE id = $1",
            patient
        )
        .unwrap();
        assert_eq!(born, "1971-06-02", "held: the record is unchanged");
        assert_eq!(
            common::count(store, "SELECT COUNT(*) FROM adt_message WHERE outcome = 'held'").await,
            1
        );

        // Bad input: an unknown patient, an impossible birth date, an event Plateau does
        // not act on, a result sent here, the lab's token: nothing stored.
        let patients = common::count(store, "SELECT COUNT(*) FROM patient").await;
        let unknown = message(A04, "M4")
            .replace("ADT^A04", "ADT^A08")
            .replace("880012", "999999");
        let (code, text, _) = post(&server, "/hl7/adt", &token, &unknown).await;
        assert_eq!(code, "AE");
        assert!(text.contains("no patient 999999"), "{text}");
        let future = message(A04, "M5")
            .replace("880012", "880013")
            .replace("19710602", "20990101");
        let (code, text, _) = post(&server, "/hl7/adt", &token, &future).await;
        assert_eq!(code, "AE");
        assert!(text.contains("birth_date"), "{text}");
        let transfer = message(A04, "M6").replace("ADT^A04", "ADT^A02");
        assert_eq!(post(&server, "/hl7/adt", &token, &transfer).await.0, "AR");
        assert_eq!(post(&server, "/hl7/adt", &token, "not HL7 at all").await.0, "AR");
        assert_eq!(
            post(&server, "/hl7/adt", &lab_token, &message(A04, "M7")).await.0,
            "AR"
        );
        assert_eq!(
            post(&server, "/hl7/oru", &token, &message(A04, "M8")).await.0,
            "AR"
        );
        let anonymous = server
            .client
            .post(server.url("/hl7/adt"))
            .body(message(A04, "M9"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            common::count(store, "SELECT COUNT(*) FROM patient").await,
            patients
        );

        // The patient leaves: the front office's A03 ends the visit by its number.
        let a03 = message(A04, "M10").replace("ADT^A04", "ADT^A03");
        assert_eq!(post(&server, "/hl7/adt", &token, &a03).await.0, "AA");
        assert_eq!(
            common::count(
                store,
                "SELECT COUNT(*) FROM visit WHERE state = 'done' AND ended_at IS NOT NULL"
            )
            .await,
            1
        );

        // An arrival entered in error is cancelled.
        let again = message(A04, "M11").replace("V2026-77", "V2026-78");
        assert_eq!(post(&server, "/hl7/adt", &token, &again).await.0, "AA");
        let a11 = message(A04, "M12")
            .replace("ADT^A04", "ADT^A11")
            .replace("V2026-77", "V2026-78");
        assert_eq!(post(&server, "/hl7/adt", &token, &a11).await.0, "AA");
        assert_eq!(
            common::count(
                store,
                "SELECT COUNT(*) FROM visit WHERE visit_number = 'V2026-78' AND cancelled AND state = 'done'"
            )
            .await,
            1
        );

        // A duplicate registered under another number is merged into the record by A40.
        let duplicate = message(A04, "M13")
            .replace("880012", "770001")
            .replace("V2026-77", "V2026-79");
        assert_eq!(post(&server, "/hl7/adt", &token, &duplicate).await.0, "AA");
        let a40 = format!(
            "{}MRG|770001^^^CHU-NANTES^MR\r",
            message(A04, "M14").replace("ADT^A04", "ADT^A40")
        );
        let (code, _, ack) = post(&server, "/hl7/adt", &token, &a40).await;
        assert_eq!(code, "AA", "{ack}");
        assert_eq!(common::count(store, "SELECT COUNT(*) FROM visit WHERE patient_id <> (SELECT id FROM patient WHERE record_number = '880012')").await, 0);
        assert_eq!(
            common::count(
                store,
                "SELECT COUNT(*) FROM patient WHERE record_number = '770001' AND merged_into IS NOT NULL"
            )
            .await,
            1
        );
        // A message for the merged number reaches the record it was merged into.
        let a08 = message(A04, "M15")
            .replace("ADT^A04", "ADT^A08")
            .replace("880012", "770001");
        assert_eq!(post(&server, "/hl7/adt", &token, &a08).await.0, "AA");
        // What the front office did is in the audit trail, by its interface.
        assert!(common::count(store, "SELECT COUNT(*) FROM audit_event WHERE username = 'hl7:ACCUEIL' AND action = 'visit.check_in'").await >= 3);
    }
);

on_both_databases!(the_real_registration_and_discharge_import_over_mllp, |db| {
    common::add_account(&db.store, "admin", &["administrator"]).await;
    let store = &db.store;
    interface(
        store,
        "GHH",
        "GHHSFacility",
        SenderRole::FrontOffice,
        &["127.0.0.1"],
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(plateau_server::interfaces::serve_mllp(listener, store.clone()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::AsyncWriteExt;
    let a03 = fixture("ADT-A03-01.hl7").replace("MSG00001", "MSG00002");
    for (raw, wanted) in [(fixture("ADT-A04-01.hl7"), "AA"), (a03, "AA")] {
        stream
            .write_all(&plateau_app::lab::hl7::frame(&raw))
            .await
            .unwrap();
        let reply = common::mllp_reply(&mut stream).await.expect("an ACK");
        assert!(reply.contains(&format!("MSA|{wanted}|")), "{reply}");
    }
    let (family, given, sex) = plateau_app::fetch_optional!(
            store.read(),
            (String, String, String),
            "SELECT family_name, given_name, sex FROM patient WHERE record_number = 'PATID1234' AND assigning_authority = 'test1'"
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (family.as_str(), given.as_str(), sex.as_str()),
        ("EVERYMAN", "ADAM", "male")
    );
    assert_eq!(common::count(store, "SELECT COUNT(*) FROM allergy").await, 1);
    assert_eq!(
        common::count(
            store,
            "SELECT COUNT(*) FROM visit WHERE state = 'done' AND visit_number = '40007716'"
        )
        .await,
        1
    );
    assert_eq!(
        common::count(
            store,
            "SELECT COUNT(*) FROM adt_message WHERE transport = 'mllp' AND outcome = 'applied'"
        )
        .await,
        2
    );
});

on_both_databases!(
    an_update_held_for_a_person_is_applied_or_dismissed_by_the_front_desk,
    |db| {
        common::add_account(&db.store, "desk", &["front_desk"]).await;
        common::add_account(&db.store, "doctor", &["physician"]).await;
        let store = &db.store;
        let token = interface(store, "ACCUEIL", "ACCUEIL", SenderRole::FrontOffice, &[]).await;
        let server = common::TestServer::start(store.clone()).await;
        assert_eq!(
            post(&server, "/hl7/adt", &token, &message(A04, "H1")).await.0,
            "AA"
        );
        let held = |id: &str, family: &str, born: &str| {
            message(A04, id)
                .replace("ADT^A04", "ADT^A08")
                .replace("Œuvray^Hélène", &format!("{family}^Hélène"))
                .replace("19710602", born)
        };
        assert_eq!(
            post(&server, "/hl7/adt", &token, &held("H2", "Œuvray", "19720602"))
                .await
                .0,
            "AE"
        );
        assert_eq!(
            post(&server, "/hl7/adt", &token, &held("H3", "Oeuvray", "19710603"))
                .await
                .0,
            "AE"
        );
        let answer = server.sign_in("desk", common::TEST_PASSWORD).await;
        assert_eq!(answer.status(), 200);
        let list: Vec<serde_json::Value> = server.call("held_admissions", &[]).await.json().await.unwrap();
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(
            list[0]["detail"].as_str().unwrap().contains("1972-06-02"),
            "{list:?}"
        );
        let (first, second) = (list[0]["id"].to_string(), list[1]["id"].to_string());
        // The desk's page lists them, each with its two buttons.
        let (status, html) = server.get_html("/desk", "fr").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("1972-06-02") && html.contains("action=\"/api/resolve_held_admission\""),
            "{html}"
        );
        assert!(html.contains(&format!("name=\"id\" value=\"{first}\"")), "{html}");
        // The desk checked with the patient: the first was right. Applied from the page's
        // plain form, which comes back to the page.
        let applied = server
            .with_cookie(server.client().post(server.url("/api/resolve_held_admission")))
            .header("origin", server.origin())
            .header("accept", "text/html")
            .header("referer", server.url("/desk"))
            .form(&[
                ("submission", "held-update-page-key-0001"),
                ("id", first.as_str()),
                ("apply", "true"),
            ])
            .send()
            .await
            .unwrap();
        assert!(applied.status().is_redirection(), "{}", applied.status());
        let born = plateau_app::fetch_scalar!(
            store.read(),
            String,
            "SELECT CAST(birth_date AS TEXT) FROM patient WHERE record_number = '880012'"
        )
        .unwrap();
        assert_eq!(born, "1972-06-02");
        // The second is dismissed: the record stays as it is.
        common::ok(server.call("resolve_held_admission", &[("id", &second)]).await).await;
        let family = plateau_app::fetch_scalar!(
            store.read(),
            String,
            "SELECT family_name FROM patient WHERE record_number = '880012'"
        )
        .unwrap();
        assert_eq!(family, "Œuvray");
        // Decided once; a clinician does not decide.
        assert_eq!(
            server
                .call("resolve_held_admission", &[("id", &first)])
                .await
                .status(),
            404
        );
        let list: Vec<serde_json::Value> = server.call("held_admissions", &[]).await.json().await.unwrap();
        assert!(list.is_empty());
        assert_eq!(
            server
                .call("resolve_held_admission", &[("id", "abc")])
                .await
                .status(),
            400
        );
        server.sign_in("doctor", common::TEST_PASSWORD).await;
        assert_eq!(server.call("held_admissions", &[]).await.status(), 403);
        assert_eq!(
            server
                .call("resolve_held_admission", &[("id", &second)])
                .await
                .status(),
            403
        );
    }
);
