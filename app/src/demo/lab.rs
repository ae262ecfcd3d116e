//! The demo clinic's lab: its test catalog (LOINC codes from the product brief or checked
//! against loinc.org; limits are sensible demo values that the facility configures), a
//! reference lab, and the morning's specimens.

use crate::lab::store::{self as lab, AsReported, NewLabOrder, NewResult, NewSpecimen};
use crate::lab::{
    IdentityCheck, LabOrderState, LabTest, Performed, ReferenceRange, ResultStatus, SpecimenType, ValueKind,
};
use crate::patients::store::{create_visit, NewVisit};
use crate::patients::{Sex, VisitState};
use crate::procedures::Priority;
use crate::store::{StoreError, Tx};
use chrono::{DateTime, Duration, Utc};

/// The demo reference lab's interface token, printed in the README. Demo data only.
pub const DEMO_INTERFACE_TOKEN: &str = "demo-reflab-token";

/// How the demo reference lab names itself in MSH-4, and where its MLLP engine connects from.
pub const DEMO_SENDING_FACILITY: &str = "REFLAB";
const DEMO_MLLP_PEERS: &[&str] = &["127.0.0.1", "::1"];

/// The order number of Élise Durand's hemogram, shipped to the demo reference lab: the
/// README's example message (`app/src/demo/reference-lab-result.hl7`) answers it.
pub const DEMO_SHIPPED_PLACER: &str = "PL-DEMO-0001";

/// (sex, min age, max age, low, high)
type Band = (Option<Sex>, i64, i64, Option<f64>, Option<f64>);

const ADULT: i64 = 18;
const ALWAYS: i64 = 150;

#[allow(clippy::too_many_arguments)]
fn numeric(
    loinc: &str,
    name_fr: &str,
    name_en: &str,
    specimen_type: SpecimenType,
    unit: &str,
    decimals: i64,
    plausible: (f64, f64),
    critical: (Option<f64>, Option<f64>),
    bands: &[Band],
    turnaround_minutes: i64,
) -> LabTest {
    LabTest {
        id: 0,
        loinc: loinc.to_owned(),
        name_fr: name_fr.to_owned(),
        name_en: name_en.to_owned(),
        specimen_type,
        value_kind: ValueKind::Numeric,
        unit: unit.to_owned(),
        decimals,
        plausible_low: Some(plausible.0),
        plausible_high: Some(plausible.1),
        critical_low: critical.0,
        critical_high: critical.1,
        allowed_codes: Vec::new(),
        normal_codes: Vec::new(),
        performed: Performed::InHouse,
        turnaround_minutes,
        second_verifier: false,
        active: true,
        ranges: bands
            .iter()
            .map(|(sex, min_age, max_age, low, high)| ReferenceRange {
                sex: *sex,
                min_age: *min_age,
                max_age: *max_age,
                low: *low,
                high: *high,
            })
            .collect(),
    }
}

fn coded(loinc: &str, name_fr: &str, name_en: &str, allowed: &[&str]) -> LabTest {
    LabTest {
        value_kind: ValueKind::Coded,
        unit: String::new(),
        decimals: 0,
        plausible_low: None,
        plausible_high: None,
        allowed_codes: allowed.iter().map(|c| (*c).to_owned()).collect(),
        normal_codes: vec!["neg".to_owned()],
        ranges: Vec::new(),
        ..numeric(
            loinc,
            name_fr,
            name_en,
            SpecimenType::Urine,
            "",
            0,
            (0.0, 0.0),
            (None, None),
            &[],
            15,
        )
    }
}

fn send_out(loinc: &str, name_fr: &str, name_en: &str) -> LabTest {
    LabTest {
        value_kind: ValueKind::Panel,
        unit: String::new(),
        plausible_low: None,
        plausible_high: None,
        performed: Performed::SendOut,
        ..numeric(
            loinc,
            name_fr,
            name_en,
            SpecimenType::Blood,
            "",
            0,
            (0.0, 0.0),
            (None, None),
            &[],
            24 * 60,
        )
    }
}

/// The demo catalog.
pub fn catalog() -> Vec<LabTest> {
    let any = |low, high| (None, 0, ALWAYS, Some(low), Some(high));
    vec![
        numeric(
            "2339-0",
            "Glycémie capillaire",
            "Glucose, capillary blood",
            SpecimenType::CapillaryBlood,
            "g/L",
            2,
            (0.1, 15.0),
            (Some(0.5), Some(4.0)),
            &[any(0.7, 1.1)],
            10,
        ),
        numeric(
            "2345-7",
            "Glucose (plasma)",
            "Glucose, serum or plasma",
            SpecimenType::Plasma,
            "g/L",
            2,
            (0.1, 15.0),
            (Some(0.5), Some(4.0)),
            &[any(0.7, 1.1)],
            30,
        ),
        numeric(
            "4548-4",
            "Hémoglobine glyquée (HbA1c)",
            "Haemoglobin A1c",
            SpecimenType::Blood,
            "%",
            1,
            (2.0, 20.0),
            (None, None),
            &[any(4.0, 5.6)],
            30,
        ),
        numeric(
            "718-7",
            "Hémoglobine",
            "Haemoglobin",
            SpecimenType::Blood,
            "g/dL",
            1,
            (1.0, 25.0),
            (Some(7.0), Some(20.0)),
            &[
                (None, 0, ADULT, Some(11.0), Some(15.5)),
                (Some(Sex::Female), ADULT, ALWAYS, Some(12.0), Some(16.0)),
                (Some(Sex::Male), ADULT, ALWAYS, Some(13.0), Some(17.0)),
                (None, ADULT, ALWAYS, Some(12.0), Some(17.0)),
            ],
            20,
        ),
        numeric(
            "2823-3",
            "Potassium",
            "Potassium",
            SpecimenType::Plasma,
            "mmol/L",
            1,
            (1.0, 12.0),
            (Some(2.8), Some(6.2)),
            &[
                (None, 0, ADULT, Some(3.4), Some(4.7)),
                (None, ADULT, ALWAYS, Some(3.5), Some(5.1)),
            ],
            30,
        ),
        numeric(
            "2951-2",
            "Sodium",
            "Sodium",
            SpecimenType::Plasma,
            "mmol/L",
            0,
            (90.0, 200.0),
            (Some(120.0), Some(160.0)),
            &[any(136.0, 145.0)],
            30,
        ),
        LabTest {
            // A second technician verifies: the demo shows the rule.
            second_verifier: true,
            ..numeric(
                "1988-5",
                "Protéine C réactive (CRP)",
                "C-reactive protein",
                SpecimenType::Serum,
                "mg/L",
                1,
                (0.0, 700.0),
                (None, None),
                &[(None, 0, ALWAYS, None, Some(5.0))],
                45,
            )
        },
        coded(
            "5802-4",
            "Nitrites urinaires (bandelette)",
            "Nitrite, urine test strip",
            &["neg", "pos"],
        ),
        coded(
            "5799-2",
            "Leucocytes urinaires (bandelette)",
            "Leukocyte esterase, urine test strip",
            &["neg", "trace", "1+", "2+", "3+"],
        ),
        send_out(
            "57021-8",
            "NFS avec formule (laboratoire de référence)",
            "CBC with automated differential (reference lab)",
        ),
        send_out(
            "24317-0",
            "Hémogramme et plaquettes (laboratoire de référence)",
            "Hemogram and platelet count (reference lab)",
        ),
    ]
}

/// Loads the catalog, the reference lab and the morning's lab work.
pub async fn seed(
    tx: &mut Tx,
    facility_id: i64,
    now: DateTime<Utc>,
    visit_of: &dyn Fn(&str) -> Result<i64, StoreError>,
    staff_of: &dyn Fn(&str) -> Result<i64, StoreError>,
) -> Result<(), StoreError> {
    let mut tests = Vec::new();
    for test in catalog() {
        let id = lab::add_test(tx, facility_id, &test).await?;
        tests.push((test.loinc.clone(), id));
    }
    let test = |loinc: &str| {
        tests
            .iter()
            .find(|(code, _)| code == loinc)
            .map(|(_, id)| *id)
            .ok_or_else(|| StoreError::Database(format!("demo test {loinc} missing")))
    };
    let reference_lab =
        lab::add_reference_lab(tx, facility_id, "REFLAB", "Laboratoire de référence (démo)").await?;
    let token = crate::lab::import::token_digest(DEMO_INTERFACE_TOKEN);
    lab::set_interface_token(tx, reference_lab, &token).await?;
    lab::set_interface_identity(tx, reference_lab, DEMO_SENDING_FACILITY, DEMO_MLLP_PEERS).await?;
    let physician = staff_of("c.lefevre")?;
    let collector = staff_of("c.fontaine")?;
    let technician = staff_of("i.chevalier")?;
    let today = now.date_naive();

    // Ana Oliveira's HbA1c over the last year, for the chart next to today's.
    let oliveira = visit_of("Oliveira")?;
    let patient_id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT patient_id FROM visit WHERE id = $1",
        oliveira
    )?;
    for (months_ago, value) in [(12_i64, "8.1"), (6, "7.4"), (3, "6.9")] {
        let at = now - Duration::days(30 * months_ago);
        let visit = NewVisit {
            patient_id,
            reason: "Suivi diabète",
            arrived_at: at,
            state: VisitState::Done,
            room_id: None,
            ended_at: Some(at + Duration::hours(1)),
        };
        let earlier = create_visit(tx, &visit).await?;
        let step = Step {
            tx: &mut *tx,
            visit_id: earlier,
            at,
            physician,
            collector,
            technician,
        };
        step.hba1c(test("4548-4")?, value, today).await?;
    }
    let order = |visit_id, test_id, priority| NewLabOrder {
        visit_id,
        test_id,
        priority,
        note: "",
        ordered_by: physician,
    };
    lab::order(
        tx,
        &order(oliveira, test("4548-4")?, Priority::Routine),
        now - Duration::minutes(8),
    )
    .await?;
    lab::order(
        tx,
        &order(oliveira, test("2339-0")?, Priority::Routine),
        now - Duration::minutes(8),
    )
    .await?;

    // Paul Garnier's potassium is on the bench.
    let garnier = visit_of("Garnier")?;
    let at = now - Duration::minutes(30);
    let id = lab::order(tx, &order(garnier, test("2823-3")?, Priority::Stat), at).await?;
    let specimen = collect(
        tx,
        garnier,
        SpecimenType::Plasma,
        collector,
        today,
        at + Duration::minutes(4),
    )
    .await?;
    attach(tx, id, specimen).await?;
    lab::receive(tx, specimen, technician, at + Duration::minutes(9)).await?;

    // Odile Blanc's fasting glucose awaits verification.
    let blanc = visit_of("Blanc")?;
    let at = now - Duration::minutes(38);
    let id = lab::order(tx, &order(blanc, test("2345-7")?, Priority::Routine), at).await?;
    let specimen = collect(
        tx,
        blanc,
        SpecimenType::Plasma,
        collector,
        today,
        at + Duration::minutes(3),
    )
    .await?;
    attach(tx, id, specimen).await?;
    lab::receive(tx, specimen, technician, at + Duration::minutes(10)).await?;
    let result = NewResult {
        order_id: id,
        loinc: "2345-7".to_owned(),
        name: "Glucose (plasma)".to_owned(),
        value: "1.32".to_owned(),
        numeric_value: Some(1.32),
        unit: "g/L".to_owned(),
        reference_range: "0.70–1.10".to_owned(),
        flag: Some(crate::lab::Flag::High),
        status: ResultStatus::Final,
        entered_by: Some(technician),
        hl7_message_id: None,
        reported: AsReported::bench("2345-7", "Glucose (plasma)"),
    };
    lab::add_result(tx, &result, at + Duration::minutes(20)).await?;
    lab::set_order_state(tx, id, 3, LabOrderState::Resulted).await?;

    // Samir Haddad's blood count goes to the reference lab.
    let haddad = visit_of("Haddad")?;
    let at = now - Duration::minutes(25);
    let id = lab::order(tx, &order(haddad, test("57021-8")?, Priority::Routine), at).await?;
    let specimen = collect(
        tx,
        haddad,
        SpecimenType::Blood,
        collector,
        today,
        at + Duration::minutes(5),
    )
    .await?;
    attach(tx, id, specimen).await?;

    // Élise Durand's hemogram left for the reference lab this morning.
    let durand = visit_of("Durand")?;
    let at = now - Duration::minutes(30);
    let id = lab::order(tx, &order(durand, test("24317-0")?, Priority::Routine), at).await?;
    crate::execute!(
        tx.exec(),
        "UPDATE lab_order SET placer_number = $1 WHERE id = $2",
        DEMO_SHIPPED_PLACER,
        id
    )?;
    let specimen = collect(
        tx,
        durand,
        SpecimenType::Blood,
        collector,
        today,
        at + Duration::minutes(4),
    )
    .await?;
    attach(tx, id, specimen).await?;
    let shipment = lab::pack(
        tx,
        reference_lab,
        &[specimen],
        technician,
        at + Duration::minutes(10),
    )
    .await?;
    lab::advance_shipment(tx, shipment, "packed", "shipped", at + Duration::minutes(12)).await?;
    Ok(())
}

async fn collect(
    tx: &mut Tx,
    visit_id: i64,
    specimen_type: SpecimenType,
    collected_by: i64,
    today: chrono::NaiveDate,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let specimen = NewSpecimen {
        visit_id,
        specimen_type,
        body_site: "",
        identity_check: IdentityCheck::NameAndBirthDate,
        collected_by,
    };
    Ok(lab::collect(tx, &specimen, today, at).await?.0)
}

async fn attach(tx: &mut Tx, order_id: i64, specimen_id: i64) -> Result<(), StoreError> {
    if lab::attach_to_specimen(tx, order_id, 1, specimen_id).await? {
        Ok(())
    } else {
        Err(StoreError::Database(format!(
            "demo order {order_id} not attached"
        )))
    }
}

/// An HbA1c done and verified in an earlier visit.
struct Step<'a> {
    tx: &'a mut Tx,
    visit_id: i64,
    at: DateTime<Utc>,
    physician: i64,
    collector: i64,
    technician: i64,
}

impl Step<'_> {
    async fn hba1c(self, test_id: i64, value: &str, today: chrono::NaiveDate) -> Result<(), StoreError> {
        let order = NewLabOrder {
            visit_id: self.visit_id,
            test_id,
            priority: Priority::Routine,
            note: "",
            ordered_by: self.physician,
        };
        let id = lab::order(self.tx, &order, self.at).await?;
        let day = self.at.date_naive().min(today);
        let specimen = collect(
            self.tx,
            self.visit_id,
            SpecimenType::Blood,
            self.collector,
            day,
            self.at,
        )
        .await?;
        attach(self.tx, id, specimen).await?;
        lab::receive(self.tx, specimen, self.technician, self.at).await?;
        let name = "Hémoglobine glyquée (HbA1c)";
        let result = NewResult {
            order_id: id,
            loinc: "4548-4".to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            numeric_value: value.parse().ok(),
            unit: "%".to_owned(),
            reference_range: "4.0–5.6".to_owned(),
            flag: Some(crate::lab::Flag::High),
            status: ResultStatus::Final,
            entered_by: Some(self.technician),
            hl7_message_id: None,
            reported: AsReported::bench("4548-4", name),
        };
        lab::add_result(self.tx, &result, self.at).await?;
        lab::verify(
            self.tx,
            id,
            Some(self.technician),
            self.at + Duration::minutes(20),
        )
        .await?;
        lab::set_order_state(self.tx, id, 3, LabOrderState::Verified).await?;
        Ok(())
    }
}
