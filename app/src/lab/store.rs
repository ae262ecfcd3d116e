//! The lab in the database: the test catalog, orders, specimens, results, critical
//! alerts, HL7 messages and the quarantine.

use super::{
    AlertOutcome, ClinicRules, CriticalAlert, EarlierValue, Flag, IdentityCheck, LabOrder, LabOrderState,
    LabResult, LabTest, Performed, ReferenceRange, RejectionReason, ReplacedResult, ResultStatus, Specimen,
    SpecimenState, SpecimenType, ValueKind,
};
use crate::patients::{PatientSummary, Sex};
use crate::procedures::Priority;
use crate::store::{Exec, Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};

fn codes(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(sqlx::FromRow)]
struct TestRow {
    id: i64,
    loinc: String,
    name_fr: String,
    name_en: String,
    #[sqlx(try_from = "String")]
    specimen_type: SpecimenType,
    #[sqlx(try_from = "String")]
    value_kind: ValueKind,
    unit: String,
    decimals: i64,
    plausible_low: Option<f64>,
    plausible_high: Option<f64>,
    critical_low: Option<f64>,
    critical_high: Option<f64>,
    allowed_codes: String,
    normal_codes: String,
    #[sqlx(try_from = "String")]
    performed: Performed,
    turnaround_minutes: i64,
    second_verifier: bool,
    active: bool,
}

#[derive(sqlx::FromRow)]
struct RangeRow {
    lab_test_id: i64,
    sex: String,
    min_age: i64,
    max_age: i64,
    low: Option<f64>,
    high: Option<f64>,
}

const TEST_SELECT: &str = "SELECT id, loinc, name_fr, name_en, specimen_type, value_kind, unit, decimals, \
     plausible_low, plausible_high, critical_low, critical_high, allowed_codes, normal_codes, performed, \
     turnaround_minutes, second_verifier, active FROM lab_test WHERE facility_id = $1 AND id >= $2 AND id <= $3 \
     ORDER BY name_fr";

const RANGE_SELECT: &str = "SELECT r.lab_test_id, r.sex, r.min_age, r.max_age, r.low, r.high \
     FROM lab_reference_range r JOIN lab_test t ON t.id = r.lab_test_id \
     WHERE t.facility_id = $1 AND t.id >= $2 AND t.id <= $3 ORDER BY r.id";

fn assemble(rows: Vec<TestRow>, ranges: &[RangeRow]) -> Vec<LabTest> {
    rows.into_iter()
        .map(|row| LabTest {
            ranges: ranges
                .iter()
                .filter(|r| r.lab_test_id == row.id)
                .map(|r| ReferenceRange {
                    sex: Sex::from_code(&r.sex),
                    min_age: r.min_age,
                    max_age: r.max_age,
                    low: r.low,
                    high: r.high,
                })
                .collect(),
            id: row.id,
            loinc: row.loinc,
            name_fr: row.name_fr,
            name_en: row.name_en,
            specimen_type: row.specimen_type,
            value_kind: row.value_kind,
            unit: row.unit,
            decimals: row.decimals,
            plausible_low: row.plausible_low,
            plausible_high: row.plausible_high,
            critical_low: row.critical_low,
            critical_high: row.critical_high,
            allowed_codes: codes(&row.allowed_codes),
            normal_codes: codes(&row.normal_codes),
            performed: row.performed,
            turnaround_minutes: row.turnaround_minutes,
            second_verifier: row.second_verifier,
            active: row.active,
        })
        .collect()
}

/// The facility's test catalog, retired tests included, with their reference ranges.
pub async fn tests(store: &Store, facility_id: i64) -> Result<Vec<LabTest>, StoreError> {
    let (rows, ranges) = tokio::try_join!(
        async { crate::fetch_all!(store.read(), TestRow, TEST_SELECT, facility_id, 0_i64, i64::MAX) },
        async { crate::fetch_all!(store.read(), RangeRow, RANGE_SELECT, facility_id, 0_i64, i64::MAX) },
    )?;
    Ok(assemble(rows, &ranges))
}

/// One test of the catalog, as a write transaction sees it.
pub async fn test_in(tx: &mut Tx, facility_id: i64, id: i64) -> Result<LabTest, StoreError> {
    let rows = crate::fetch_all!(tx.exec(), TestRow, TEST_SELECT, facility_id, id, id)?;
    let ranges = crate::fetch_all!(tx.exec(), RangeRow, RANGE_SELECT, facility_id, id, id)?;
    assemble(rows, &ranges).pop().ok_or(StoreError::NotFound)
}

/// Adds a test to the catalog, with its ranges: a row holding its code, then every field
/// as an update writes it.
pub async fn add_test(tx: &mut Tx, facility_id: i64, test: &LabTest) -> Result<i64, StoreError> {
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO lab_test (facility_id, loinc, name_fr, name_en, specimen_type, value_kind, unit, decimals, \
         allowed_codes, normal_codes, performed, turnaround_minutes, second_verifier) \
         VALUES ($1, $2, '', '', $3, $4, '', 0, '', '', $5, 1, $6) RETURNING id",
        facility_id,
        &test.loinc,
        test.specimen_type.code(),
        test.value_kind.code(),
        test.performed.code(),
        test.second_verifier
    )?;
    let saved = LabTest { id, ..test.clone() };
    if update_test(tx, facility_id, &saved).await? {
        Ok(id)
    } else {
        Err(StoreError::NotFound)
    }
}

async fn insert_ranges(tx: &mut Tx, test_id: i64, ranges: &[ReferenceRange]) -> Result<(), StoreError> {
    for range in ranges {
        crate::execute!(
            tx.exec(),
            "INSERT INTO lab_reference_range (lab_test_id, sex, min_age, max_age, low, high) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            test_id,
            range.sex.map_or("any", Sex::code),
            range.min_age,
            range.max_age,
            range.low,
            range.high
        )?;
    }
    Ok(())
}

/// A reference lab the facility sends to.
pub async fn add_reference_lab(
    tx: &mut Tx,
    facility_id: i64,
    code: &str,
    name: &str,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO reference_lab (facility_id, code, name) VALUES ($1, $2, $3) RETURNING id",
        facility_id,
        code,
        name
    )
}

/// Every reference lab as it identifies itself to Plateau.
pub async fn senders(store: &Store) -> Result<Vec<super::import::Sender>, StoreError> {
    senders_where(store, "code <> $1", "").await
}

/// The reference lab whose interface presents this token (compared by its SHA-256).
pub async fn sender_by_token(
    store: &Store,
    token_sha256: &str,
) -> Result<Option<super::import::Sender>, StoreError> {
    Ok(senders_where(store, "interface_token_sha256 = $1", token_sha256)
        .await?
        .pop())
}

/// The reference labs whose interface engines connect from this address over MLLP.
pub async fn senders_at(store: &Store, address: &str) -> Result<Vec<super::import::Sender>, StoreError> {
    senders_where(
        store,
        "id IN (SELECT reference_lab_id FROM reference_lab_peer WHERE address = $1)",
        address,
    )
    .await
}

async fn senders_where(
    store: &Store,
    filter: &str,
    value: &str,
) -> Result<Vec<super::import::Sender>, StoreError> {
    let sql = format!(
        "SELECT id, role, code, name, sending_facility FROM reference_lab WHERE {filter} ORDER BY id"
    );
    let rows = crate::fetch_all!(store.read(), (i64, String, String, String, String), &sql, value)?;
    rows.into_iter()
        .map(|(id, role, code, name, sending_facility)| {
            Ok(super::import::Sender {
                reference_lab_id: id,
                role: super::import::SenderRole::try_from(role).map_err(StoreError::Database)?,
                code,
                name,
                sending_facility,
            })
        })
        .collect()
}

/// How a reference lab names itself in MSH-4, and the addresses it connects from over MLLP.
pub async fn set_interface_identity(
    tx: &mut Tx,
    reference_lab_id: i64,
    sending_facility: &str,
    peers: &[&str],
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE reference_lab SET sending_facility = $1 WHERE id = $2",
        sending_facility,
        reference_lab_id
    )?;
    crate::execute!(
        tx.exec(),
        "DELETE FROM reference_lab_peer WHERE reference_lab_id = $1",
        reference_lab_id
    )?;
    for address in peers {
        crate::execute!(
            tx.exec(),
            "INSERT INTO reference_lab_peer (reference_lab_id, address) VALUES ($1, $2)",
            reference_lab_id,
            *address
        )?;
    }
    Ok(())
}

/// Whether the interface with this id is a reference lab's or the front office's.
pub async fn set_role(
    tx: &mut Tx,
    reference_lab_id: i64,
    role: super::import::SenderRole,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE reference_lab SET role = $1 WHERE id = $2",
        role.code(),
        reference_lab_id
    )?;
    Ok(())
}

/// Creates the reference lab with this code, or renames it; its id.
pub async fn upsert_reference_lab(
    tx: &mut Tx,
    facility_id: i64,
    code: &str,
    name: &str,
) -> Result<i64, StoreError> {
    let existing = crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "SELECT id FROM reference_lab WHERE facility_id = $1 AND code = $2",
        facility_id,
        code
    )?;
    match existing {
        Some((id,)) => {
            crate::execute!(
                tx.exec(),
                "UPDATE reference_lab SET name = $1 WHERE id = $2",
                name,
                id
            )?;
            Ok(id)
        }
        None => add_reference_lab(tx, facility_id, code, name).await,
    }
}

/// An order as the room tablet places it.
pub struct NewLabOrder<'a> {
    pub visit_id: i64,
    pub test_id: i64,
    pub priority: Priority,
    pub note: &'a str,
    pub ordered_by: i64,
}

/// Places an order; its placer number ("PL00000042", HL7 OBR-2) follows from its id.
pub async fn order(tx: &mut Tx, order: &NewLabOrder<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let pending = format!(
        "pending-{}-{}",
        order.visit_id,
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO lab_order (visit_id, lab_test_id, placer_number, priority, note, ordered_by, ordered_at, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        order.visit_id,
        order.test_id,
        pending,
        order.priority.code(),
        order.note,
        order.ordered_by,
        now,
        LabOrderState::Ordered.code()
    )?;
    crate::execute!(
        tx.exec(),
        "UPDATE lab_order SET placer_number = $1 WHERE id = $2",
        format!("PL{id:08}"),
        id
    )?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    visit_id: i64,
    lab_test_id: i64,
    placer_number: String,
    #[sqlx(try_from = "String")]
    priority: Priority,
    note: String,
    ordered_by_given: String,
    ordered_by_family: String,
    ordered_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    state: LabOrderState,
    version: i64,
    specimen_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct SpecimenRow {
    id: i64,
    accession: String,
    #[sqlx(try_from = "String")]
    specimen_type: SpecimenType,
    body_site: String,
    collector_given: String,
    collector_family: String,
    collected_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    state: SpecimenState,
    rejected_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ResultRow {
    id: i64,
    lab_order_id: i64,
    loinc: String,
    name: String,
    value: String,
    numeric_value: Option<f64>,
    unit: String,
    reference_range: String,
    flag: String,
    #[sqlx(try_from = "String")]
    status: ResultStatus,
    entered_given: Option<String>,
    entered_family: Option<String>,
    entered_at: DateTime<Utc>,
    verified_given: Option<String>,
    verified_family: Option<String>,
    verified_at: Option<DateTime<Utc>>,
    observation_code: String,
    observation_system: String,
    value_code: String,
    value_system: String,
    value_text: String,
    sender_flag: String,
    sender_range: String,
    status_as_sent: String,
    #[sqlx(try_from = "String")]
    clinic_rules: ClinicRules,
    observed_at: Option<DateTime<Utc>>,
    collected_at: Option<DateTime<Utc>>,
    reported_by_lab: Option<String>,
    replaces_result_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    lab_order_id: i64,
    lab_result_id: Option<i64>,
    text: String,
}

fn name_of(given: Option<String>, family: Option<String>) -> Option<String> {
    Some(crate::staff::display_name(&given?, &family?))
}

const ORDER_FROM: &str = "FROM lab_order o JOIN lab_test t ON t.id = o.lab_test_id";

/// Orders matching `filter` (SQL on `o`, binding `$1` to the facility and `$2` to
/// `value`), with their test, specimen and results.
async fn orders_where(
    store: &Store,
    facility_id: i64,
    filter: &str,
    value: i64,
) -> Result<Vec<LabOrder>, StoreError> {
    let scope = format!("{ORDER_FROM} WHERE t.facility_id = $1 AND {filter}");
    let sql = format!(
        "SELECT o.id, o.visit_id, o.lab_test_id, o.placer_number, o.priority, o.note, \
         s.given_name AS ordered_by_given, s.family_name AS ordered_by_family, o.ordered_at, o.state, \
         o.version, o.specimen_id {ORDER_FROM} JOIN staff_member s ON s.id = o.ordered_by \
         WHERE t.facility_id = $1 AND {filter} ORDER BY o.ordered_at, o.id"
    );
    let rows = crate::fetch_all!(store.read(), OrderRow, &sql, facility_id, value)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let specimen_sql = format!(
        "SELECT sp.id, sp.accession, sp.specimen_type, sp.body_site, c.given_name AS collector_given, \
         c.family_name AS collector_family, sp.collected_at, sp.state, sp.rejected_reason \
         FROM specimen sp JOIN staff_member c ON c.id = sp.collected_by \
         WHERE sp.id IN (SELECT o.specimen_id {scope})"
    );
    let result_sql = format!(
        "SELECT r.id, r.lab_order_id, r.loinc, r.name, r.value, r.numeric_value, r.unit, r.reference_range, \
         r.flag, r.status, e.given_name AS entered_given, e.family_name AS entered_family, r.entered_at, \
         v.given_name AS verified_given, v.family_name AS verified_family, r.verified_at, \
         r.observation_code, r.observation_system, r.value_code, r.value_system, r.value_text, r.sender_flag, \
         r.sender_range, r.status_as_sent, r.clinic_rules, r.observed_at, r.collected_at, \
         rl.name AS reported_by_lab, r.replaces_result_id \
         FROM lab_result r LEFT JOIN staff_member e ON e.id = r.entered_by \
         LEFT JOIN staff_member v ON v.id = r.verified_by \
         LEFT JOIN hl7_message m ON m.id = r.hl7_message_id LEFT JOIN reference_lab rl ON rl.id = m.reference_lab_id \
         WHERE r.lab_order_id IN (SELECT o.id {scope}) ORDER BY r.id"
    );
    let note_sql = format!(
        "SELECT n.lab_order_id, n.lab_result_id, n.text FROM lab_note n \
         WHERE n.lab_order_id IN (SELECT o.id {scope}) ORDER BY n.id"
    );
    let (catalog, specimens, results, notes) = tokio::try_join!(
        tests(store, facility_id),
        async { crate::fetch_all!(store.read(), SpecimenRow, &specimen_sql, facility_id, value) },
        async { crate::fetch_all!(store.read(), ResultRow, &result_sql, facility_id, value) },
        async { crate::fetch_all!(store.read(), NoteRow, &note_sql, facility_id, value) },
    )?;
    rows.into_iter()
        .map(|row| {
            let test = catalog
                .iter()
                .find(|t| t.id == row.lab_test_id)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            let specimen = row
                .specimen_id
                .and_then(|id| specimens.iter().find(|s| s.id == id))
                .map(|s| Specimen {
                    id: s.id,
                    accession: s.accession.clone(),
                    specimen_type: s.specimen_type,
                    body_site: s.body_site.clone(),
                    collected_by: crate::staff::display_name(&s.collector_given, &s.collector_family),
                    collected_at: s.collected_at,
                    state: s.state,
                    rejected_reason: s.rejected_reason.as_deref().and_then(RejectionReason::from_code),
                });
            // A result another one replaced shows only as what the newer one replaces.
            let replaced = |id: i64| results.iter().any(|n| n.replaces_result_id == Some(id));
            let results = results
                .iter()
                .filter(|r| r.lab_order_id == row.id && !replaced(r.id))
                .map(|r| LabResult {
                    id: r.id,
                    loinc: r.loinc.clone(),
                    name: r.name.clone(),
                    value: r.value.clone(),
                    numeric_value: r.numeric_value,
                    unit: r.unit.clone(),
                    reference_range: r.reference_range.clone(),
                    flag: Flag::from_code(&r.flag),
                    status: r.status,
                    entered_by: name_of(r.entered_given.clone(), r.entered_family.clone()),
                    entered_at: r.entered_at,
                    verified_by: name_of(r.verified_given.clone(), r.verified_family.clone()),
                    verified_at: r.verified_at,
                    observation_code: r.observation_code.clone(),
                    observation_system: r.observation_system.clone(),
                    value_code: r.value_code.clone(),
                    value_system: r.value_system.clone(),
                    value_text: r.value_text.clone(),
                    sender_flag: r.sender_flag.clone(),
                    sender_range: r.sender_range.clone(),
                    status_as_sent: r.status_as_sent.clone(),
                    clinic_rules: r.clinic_rules,
                    observed_at: r.observed_at,
                    collected_at: r.collected_at,
                    reported_by_lab: r.reported_by_lab.clone(),
                    replaces: r
                        .replaces_result_id
                        .and_then(|id| results.iter().find(|old| old.id == id))
                        .map(|old| ReplacedResult {
                            value: old.value.clone(),
                            unit: old.unit.clone(),
                            status: old.status,
                            entered_at: old.entered_at,
                        }),
                    notes: notes
                        .iter()
                        .filter(|n| n.lab_result_id == Some(r.id))
                        .map(|n| n.text.clone())
                        .collect(),
                })
                .collect();
            let order_notes = notes
                .iter()
                .filter(|n| n.lab_order_id == row.id && n.lab_result_id.is_none())
                .map(|n| n.text.clone())
                .fold(Vec::new(), |mut unique, text| {
                    // A report's comment is filed with each of its orders once.
                    if !unique.contains(&text) {
                        unique.push(text);
                    }
                    unique
                });
            Ok(LabOrder {
                id: row.id,
                visit_id: row.visit_id,
                test,
                placer_number: row.placer_number,
                priority: row.priority,
                note: row.note,
                ordered_by: crate::staff::display_name(&row.ordered_by_given, &row.ordered_by_family),
                ordered_at: row.ordered_at,
                state: row.state,
                version: row.version,
                specimen,
                results,
                notes: order_notes,
            })
        })
        .collect()
}

/// Every order of a visit.
pub async fn orders_of_visit(
    store: &Store,
    facility_id: i64,
    visit_id: i64,
) -> Result<Vec<LabOrder>, StoreError> {
    orders_where(store, facility_id, "o.visit_id = $2", visit_id).await
}

/// One order.
pub async fn get(store: &Store, facility_id: i64, id: i64) -> Result<LabOrder, StoreError> {
    orders_where(store, facility_id, "o.id = $2", id)
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// The orders of one specimen.
pub async fn orders_of_specimen(
    store: &Store,
    facility_id: i64,
    specimen_id: i64,
) -> Result<Vec<LabOrder>, StoreError> {
    orders_where(store, facility_id, "o.specimen_id = $2", specimen_id).await
}

/// The lab's worklist: specimens on their way or on the bench, results awaiting
/// verification, and what was verified since `since`.
pub async fn worklist(
    store: &Store,
    facility_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<LabOrder>, StoreError> {
    let filter = "(o.state IN ('collected', 'received', 'resulted') OR (o.state IN ('verified', 'rejected') \
                  AND o.id IN (SELECT lab_order_id FROM lab_result WHERE verified_at >= $2 \
                  UNION SELECT o2.id FROM lab_order o2 JOIN specimen sp ON sp.id = o2.specimen_id \
                  WHERE sp.received_at >= $2 OR sp.collected_at >= $2)))";
    orders_since(store, facility_id, filter, since).await
}

/// As `orders_where`, with `$2` an instant.
async fn orders_since(
    store: &Store,
    facility_id: i64,
    filter: &str,
    since: DateTime<Utc>,
) -> Result<Vec<LabOrder>, StoreError> {
    let ids_sql = format!("SELECT o.id {ORDER_FROM} WHERE t.facility_id = $1 AND {filter}");
    let ids = crate::fetch_all!(store.read(), (i64,), &ids_sql, facility_id, since)?;
    let Some(first) = ids.iter().map(|(id,)| *id).min() else {
        return Ok(Vec::new());
    };
    let mut orders = orders_where(store, facility_id, "o.id >= $2", first).await?;
    orders.retain(|o| ids.iter().any(|(id,)| *id == o.id));
    Ok(orders)
}

/// Who the patient of a visit is, for identity checks and reference ranges.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PatientOfVisit {
    pub patient_id: i64,
    pub record_number: String,
    pub family_name: String,
    pub given_name: String,
    pub birth_date: NaiveDate,
    #[sqlx(try_from = "String")]
    pub sex: Sex,
}

impl PatientOfVisit {
    pub fn summary(&self) -> PatientSummary {
        PatientSummary {
            id: self.patient_id,
            record_number: self.record_number.clone(),
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            birth_date: self.birth_date,
            shortened: false,
        }
    }
}

pub async fn patient_of_visit(
    exec: Exec<'_>,
    facility_id: i64,
    visit_id: i64,
) -> Result<PatientOfVisit, StoreError> {
    crate::fetch_optional!(
        exec,
        PatientOfVisit,
        "SELECT p.id AS patient_id, p.record_number, p.family_name, p.given_name, p.birth_date, p.sex \
         FROM visit v JOIN patient p ON p.id = v.patient_id WHERE v.id = $1 AND p.facility_id = $2",
        visit_id,
        facility_id
    )?
    .ok_or(StoreError::NotFound)
}

/// An order as a write transaction sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderState {
    pub id: i64,
    pub visit_id: i64,
    pub lab_test_id: i64,
    #[sqlx(try_from = "String")]
    pub state: LabOrderState,
    pub version: i64,
    pub specimen_id: Option<i64>,
    pub ordered_by: i64,
}

pub async fn order_state(tx: &mut Tx, facility_id: i64, id: i64) -> Result<OrderState, StoreError> {
    let sql = format!(
        "SELECT o.id, o.visit_id, o.lab_test_id, o.state, o.version, o.specimen_id, o.ordered_by \
         {ORDER_FROM} WHERE o.id = $1 AND t.facility_id = $2"
    );
    crate::fetch_optional!(tx.exec(), OrderState, &sql, id, facility_id)?.ok_or(StoreError::NotFound)
}

/// Moves an order on, if still at `version`; false when someone changed it first.
pub async fn set_order_state(
    tx: &mut Tx,
    id: i64,
    version: i64,
    state: LabOrderState,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE lab_order SET state = $1, version = version + 1 WHERE id = $2 AND version = $3",
        state.code(),
        id,
        version
    )?;
    Ok(changed == 1)
}

/// A specimen as collected at the bedside.
pub struct NewSpecimen<'a> {
    pub visit_id: i64,
    pub specimen_type: SpecimenType,
    pub body_site: &'a str,
    pub identity_check: IdentityCheck,
    pub collected_by: i64,
}

/// Records the specimen and gives it its accession number: the collection date and a
/// number from its id, so two collectors at once never get the same one.
pub async fn collect(
    tx: &mut Tx,
    specimen: &NewSpecimen<'_>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(i64, String), StoreError> {
    let pending = format!(
        "pending-{}-{}",
        specimen.visit_id,
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO specimen (accession, visit_id, specimen_type, body_site, identity_checks, collected_by, \
         collected_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        pending,
        specimen.visit_id,
        specimen.specimen_type.code(),
        specimen.body_site,
        specimen.identity_check.code(),
        specimen.collected_by,
        now,
        SpecimenState::Collected.code()
    )?;
    let accession = super::accession_number(today, id % 10_000);
    crate::execute!(
        tx.exec(),
        "UPDATE specimen SET accession = $1 WHERE id = $2",
        &accession,
        id
    )?;
    Ok((id, accession))
}

/// Puts an ordered test on a specimen.
pub async fn attach_to_specimen(
    tx: &mut Tx,
    order_id: i64,
    version: i64,
    specimen_id: i64,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE lab_order SET specimen_id = $1, state = $2, version = version + 1 \
         WHERE id = $3 AND version = $4 AND state = $5",
        specimen_id,
        LabOrderState::Collected.code(),
        order_id,
        version,
        LabOrderState::Ordered.code()
    )?;
    Ok(changed == 1)
}

/// A specimen as a write transaction sees it, found by its accession number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SpecimenRef {
    pub id: i64,
    pub visit_id: i64,
    #[sqlx(try_from = "String")]
    pub state: SpecimenState,
}

pub async fn specimen_by_accession(
    exec: Exec<'_>,
    facility_id: i64,
    accession: &str,
) -> Result<SpecimenRef, StoreError> {
    crate::fetch_optional!(
        exec,
        SpecimenRef,
        "SELECT sp.id, sp.visit_id, sp.state FROM specimen sp JOIN visit v ON v.id = sp.visit_id \
         JOIN patient p ON p.id = v.patient_id WHERE sp.accession = $1 AND p.facility_id = $2",
        accession,
        facility_id
    )?
    .ok_or(StoreError::NotFound)
}

/// The lab receives a collected specimen; its orders go to the bench.
pub async fn receive(tx: &mut Tx, specimen_id: i64, by: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE specimen SET state = $1, received_by = $2, received_at = $3 WHERE id = $4 AND state = $5",
        SpecimenState::Received.code(),
        by,
        now,
        specimen_id,
        SpecimenState::Collected.code()
    )?;
    if changed == 1 {
        crate::execute!(
            tx.exec(),
            "UPDATE lab_order SET state = $1, version = version + 1 WHERE specimen_id = $2 AND state = $3",
            LabOrderState::Received.code(),
            specimen_id,
            LabOrderState::Collected.code()
        )?;
    }
    Ok(changed == 1)
}

/// The lab refuses a specimen, keeping the reason; its orders wait for a new one.
pub async fn reject(
    tx: &mut Tx,
    specimen_id: i64,
    reason: RejectionReason,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE specimen SET state = $1, rejected_reason = $2, received_by = $3, received_at = $4 \
         WHERE id = $5 AND state IN ($6, $7)",
        SpecimenState::Rejected.code(),
        reason.code(),
        by,
        now,
        specimen_id,
        SpecimenState::Collected.code(),
        SpecimenState::Received.code()
    )?;
    if changed == 1 {
        crate::execute!(
            tx.exec(),
            "UPDATE lab_order SET state = $1, version = version + 1 WHERE specimen_id = $2 AND state IN ($3, $4)",
            LabOrderState::Rejected.code(),
            specimen_id,
            LabOrderState::Collected.code(),
            LabOrderState::Received.code()
        )?;
    }
    Ok(changed == 1)
}

/// The orders on a specimen, as a write transaction sees them.
pub async fn order_ids_of_specimen(tx: &mut Tx, specimen_id: i64) -> Result<Vec<i64>, StoreError> {
    let rows = crate::fetch_all!(
        tx.exec(),
        (i64,),
        "SELECT id FROM lab_order WHERE specimen_id = $1 ORDER BY id",
        specimen_id
    )?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// One observation to store.
pub struct NewResult {
    pub order_id: i64,
    /// The LOINC code, empty when the observation is not coded in LOINC.
    pub loinc: String,
    pub name: String,
    pub value: String,
    pub numeric_value: Option<f64>,
    pub unit: String,
    pub reference_range: String,
    pub flag: Option<Flag>,
    pub status: ResultStatus,
    pub entered_by: Option<i64>,
    pub hl7_message_id: Option<i64>,
    pub reported: AsReported,
}

/// What a reference lab said of a result beside what Plateau makes of it; for the bench,
/// [`AsReported::bench`].
#[derive(Debug, Clone)]
pub struct AsReported {
    pub observation_code: String,
    pub observation_system: String,
    pub observation_text: String,
    pub value_code: String,
    pub value_system: String,
    pub value_text: String,
    pub sender_flag: String,
    pub sender_range: String,
    pub status_as_sent: String,
    pub clinic_rules: ClinicRules,
    pub observed_at: Option<DateTime<Utc>>,
    pub collected_at: Option<DateTime<Utc>>,
    pub replaces_result_id: Option<i64>,
}

impl AsReported {
    /// A result typed at the bench: coded in LOINC, the clinic's rules applied.
    pub fn bench(loinc: &str, name: &str) -> AsReported {
        AsReported {
            observation_code: loinc.to_owned(),
            observation_system: "LN".to_owned(),
            observation_text: name.to_owned(),
            value_code: String::new(),
            value_system: String::new(),
            value_text: String::new(),
            sender_flag: String::new(),
            sender_range: String::new(),
            status_as_sent: String::new(),
            clinic_rules: ClinicRules::Applied,
            observed_at: None,
            collected_at: None,
            replaces_result_id: None,
        }
    }
}

pub async fn add_result(tx: &mut Tx, result: &NewResult, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let r = &result.reported;
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO lab_result (lab_order_id, loinc, name, value, numeric_value, unit, reference_range, flag, \
         status, source, entered_by, entered_at, hl7_message_id, observation_code, observation_system, \
         observation_text, value_code, value_system, value_text, sender_flag, sender_range, status_as_sent, \
         clinic_rules, observed_at, collected_at, replaces_result_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
         $22, $23, $24, $25, $26) RETURNING id",
        result.order_id,
        &result.loinc,
        &result.name,
        &result.value,
        result.numeric_value,
        &result.unit,
        &result.reference_range,
        result.flag.map_or("", Flag::code),
        result.status.code(),
        if result.hl7_message_id.is_some() { "hl7" } else { "bench" },
        result.entered_by,
        now,
        result.hl7_message_id,
        &r.observation_code,
        &r.observation_system,
        &r.observation_text,
        &r.value_code,
        &r.value_system,
        &r.value_text,
        &r.sender_flag,
        &r.sender_range,
        &r.status_as_sent,
        r.clinic_rules.code(),
        r.observed_at,
        r.collected_at,
        r.replaces_result_id
    )
}

/// The latest result of an order for the same observation (its LOINC code, else its code
/// and system as sent) that nothing replaced yet, and whether it raised an alert.
pub struct CurrentResult {
    pub id: i64,
    pub value: String,
    pub alerted: bool,
}

pub async fn current_result_of(
    tx: &mut Tx,
    order_id: i64,
    loinc: &str,
    code: &super::hl7::CodedValue,
) -> Result<Option<CurrentResult>, StoreError> {
    let row = crate::fetch_optional!(
        tx.exec(),
        (i64, String, bool),
        "SELECT r.id, r.value, EXISTS (SELECT 1 FROM critical_alert a WHERE a.lab_result_id = r.id) \
         FROM lab_result r WHERE r.lab_order_id = $1 \
         AND ((r.loinc = $2 AND r.loinc <> '') OR (r.loinc = '' AND r.observation_code = $3 AND r.observation_system = $4)) \
         AND NOT EXISTS (SELECT 1 FROM lab_result n WHERE n.replaces_result_id = r.id) ORDER BY r.id DESC LIMIT 1",
        order_id,
        loinc,
        &code.code,
        &code.system
    )?;
    Ok(row.map(|(id, value, alerted)| CurrentResult { id, value, alerted }))
}

/// Whether an order still has a preliminary result that nothing replaced.
pub async fn has_preliminary(tx: &mut Tx, order_id: i64) -> Result<bool, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        bool,
        "SELECT EXISTS (SELECT 1 FROM lab_result r WHERE r.lab_order_id = $1 AND r.status = 'preliminary' \
         AND NOT EXISTS (SELECT 1 FROM lab_result n WHERE n.replaces_result_id = r.id))",
        order_id
    )
}

/// A result verified where it was measured (a reference lab's final result).
pub async fn verify_result(tx: &mut Tx, result_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE lab_result SET verified_at = $1 WHERE id = $2",
        now,
        result_id
    )?;
    Ok(())
}

/// A comment a reference lab sent, with the order (and result) it is about.
pub async fn add_note(
    tx: &mut Tx,
    message_id: i64,
    order_id: i64,
    result_id: Option<i64>,
    level: &str,
    text: &str,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO lab_note (hl7_message_id, lab_order_id, lab_result_id, level, text) VALUES ($1, $2, $3, $4, $5)",
        message_id,
        order_id,
        result_id,
        level,
        text
    )?;
    Ok(())
}

/// The reference lab an order's specimen was packed for, if any.
pub async fn shipped_to(tx: &mut Tx, order: &OrderState) -> Result<Option<i64>, StoreError> {
    let Some(specimen_id) = order.specimen_id else {
        return Ok(None);
    };
    Ok(crate::fetch_optional!(
        tx.exec(),
        (i64,),
        "SELECT sh.reference_lab_id FROM specimen sp JOIN shipment sh ON sh.id = sp.shipment_id \
         JOIN lab_test t ON t.id = $2 WHERE sp.id = $1 AND t.performed = 'send_out'",
        specimen_id,
        order.lab_test_id
    )?
    .map(|(id,)| id))
}

/// A message as received and the lab that sent it.
pub async fn message_and_sender(
    tx: &mut Tx,
    message_id: i64,
) -> Result<Option<(String, super::import::Sender)>, StoreError> {
    let row = crate::fetch_optional!(
        tx.exec(),
        (String, i64, String, String, String),
        "SELECT m.raw, r.id, r.code, r.name, r.sending_facility FROM hl7_message m \
         JOIN reference_lab r ON r.id = m.reference_lab_id WHERE m.id = $1",
        message_id
    )?;
    Ok(row.map(|(raw, id, code, name, sending_facility)| {
        (
            raw,
            super::import::Sender {
                reference_lab_id: id,
                // Results were stored only from labs.
                role: super::import::SenderRole::Lab,
                code,
                name,
                sending_facility,
            },
        )
    }))
}

/// Removes results entered at the bench and not yet verified: a new entry replaces them.
pub async fn discard_unverified(tx: &mut Tx, order_id: i64) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "DELETE FROM lab_result WHERE lab_order_id = $1 AND verified_at IS NULL AND source = 'bench'",
        order_id
    )?;
    Ok(())
}

/// Who entered the unverified results of an order.
pub async fn unverified_entered_by(
    tx: &mut Tx,
    order_id: i64,
) -> Result<Vec<(i64, Option<i64>, String)>, StoreError> {
    crate::fetch_all!(
        tx.exec(),
        (i64, Option<i64>, String),
        "SELECT id, entered_by, flag FROM lab_result WHERE lab_order_id = $1 AND verified_at IS NULL ORDER BY id",
        order_id
    )
}

/// Verifies the unverified results of an order.
pub async fn verify(
    tx: &mut Tx,
    order_id: i64,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE lab_result SET verified_by = $1, verified_at = $2 WHERE lab_order_id = $3 AND verified_at IS NULL",
        by,
        now,
        order_id
    )
}

/// Earlier verified numeric values of a test for a patient, oldest first.
pub async fn earlier_values(
    store: &Store,
    patient_id: i64,
    loinc: &str,
    before_order: i64,
) -> Result<Vec<EarlierValue>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        (DateTime<Utc>, f64),
        "SELECT r.verified_at, r.numeric_value FROM lab_result r JOIN lab_order o ON o.id = r.lab_order_id \
         JOIN visit v ON v.id = o.visit_id WHERE v.patient_id = $1 AND r.loinc = $2 AND o.id <> $3 \
         AND r.verified_at IS NOT NULL AND r.numeric_value IS NOT NULL ORDER BY r.verified_at DESC LIMIT 12",
        patient_id,
        loinc,
        before_order
    )?;
    let mut values: Vec<EarlierValue> = rows
        .into_iter()
        .map(|(at, value)| EarlierValue { at, value })
        .collect();
    values.reverse();
    Ok(values)
}

/// Raises the alert for a critical result, due for acknowledgement at `due_at`.
pub async fn raise_alert(
    tx: &mut Tx,
    result_id: i64,
    visit_id: i64,
    now: DateTime<Utc>,
    due_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO critical_alert (lab_result_id, visit_id, raised_at, due_at) VALUES ($1, $2, $3, $4) RETURNING id",
        result_id,
        visit_id,
        now,
        due_at
    )
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    visit_id: i64,
    patient_id: i64,
    record_number: String,
    family_name: String,
    given_name: String,
    birth_date: NaiveDate,
    room_code: Option<String>,
    test_name: String,
    value: String,
    unit: String,
    flag: String,
    ordered_by_given: String,
    ordered_by_family: String,
    ordered_by_id: i64,
    raised_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    escalated_at: Option<DateTime<Utc>>,
    ack_given: Option<String>,
    ack_family: Option<String>,
    acknowledged_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    notified_person: Option<String>,
    read_back_value: Option<String>,
}

/// Critical alerts matching `filter` (SQL on `a`, `o`, `v`; `$1` the facility, `$2` `value`).
async fn alerts_where(
    store: &Store,
    facility_id: i64,
    filter: &str,
    value: i64,
) -> Result<Vec<CriticalAlert>, StoreError> {
    let sql = format!(
        "SELECT a.id, a.visit_id, p.id AS patient_id, p.record_number, p.family_name, p.given_name, p.birth_date, \
         rm.code AS room_code, r.name AS test_name, r.value, r.unit, r.flag, s.given_name AS ordered_by_given, \
         s.family_name AS ordered_by_family, o.ordered_by AS ordered_by_id, a.raised_at, a.due_at, a.escalated_at, k.given_name AS ack_given, \
         k.family_name AS ack_family, a.acknowledged_at, a.outcome, a.notified_person, a.read_back_value \
         FROM critical_alert a JOIN lab_result r ON r.id = a.lab_result_id JOIN lab_order o ON o.id = r.lab_order_id \
         JOIN staff_member s ON s.id = o.ordered_by JOIN visit v ON v.id = a.visit_id \
         JOIN patient p ON p.id = v.patient_id LEFT JOIN room rm ON rm.id = v.room_id \
         LEFT JOIN staff_member k ON k.id = a.acknowledged_by \
         WHERE p.facility_id = $1 AND {filter} ORDER BY a.raised_at, a.id"
    );
    let rows = crate::fetch_all!(store.read(), AlertRow, &sql, facility_id, value)?;
    Ok(rows
        .into_iter()
        .map(|row| CriticalAlert {
            id: row.id,
            visit_id: row.visit_id,
            patient: PatientSummary {
                id: row.patient_id,
                record_number: row.record_number,
                family_name: row.family_name,
                given_name: row.given_name,
                birth_date: row.birth_date,
                shortened: false,
            },
            room_code: row.room_code,
            test_name: row.test_name,
            value: row.value,
            unit: row.unit,
            flag: row.flag,
            ordered_by: crate::staff::display_name(&row.ordered_by_given, &row.ordered_by_family),
            ordered_by_id: row.ordered_by_id,
            raised_at: row.raised_at,
            due_at: row.due_at,
            escalated_at: row.escalated_at,
            acknowledged_by: name_of(row.ack_given, row.ack_family),
            acknowledged_at: row.acknowledged_at,
            outcome: row.outcome.as_deref().and_then(AlertOutcome::from_code),
            notified_person: row.notified_person,
            read_back_value: row.read_back_value,
        })
        .collect())
}

/// Alerts not yet acknowledged, and those acknowledged in the last 12 hours.
pub async fn recent_alerts(
    store: &Store,
    facility_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<CriticalAlert>, StoreError> {
    let since = (now - chrono::Duration::hours(12)).timestamp();
    let mut alerts = alerts_where(store, facility_id, "a.id > $2", 0).await?;
    alerts.retain(|a| a.acknowledged_at.is_none_or(|at| at.timestamp() >= since));
    Ok(alerts)
}

/// One alert.
pub async fn alert(store: &Store, facility_id: i64, id: i64) -> Result<CriticalAlert, StoreError> {
    alerts_where(store, facility_id, "a.id = $2", id)
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// The alert's visit and who ordered its test, for a write transaction.
pub async fn alert_visit(tx: &mut Tx, facility_id: i64, id: i64) -> Result<(i64, bool), StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        (i64, bool),
        "SELECT a.visit_id, a.acknowledged_at IS NOT NULL FROM critical_alert a JOIN visit v ON v.id = a.visit_id \
         JOIN patient p ON p.id = v.patient_id WHERE a.id = $1 AND p.facility_id = $2",
        id,
        facility_id
    )?
    .ok_or(StoreError::NotFound)
}

/// Someone acknowledges the alert; false when someone already had.
pub struct Acknowledgement<'a> {
    pub by: i64,
    pub outcome: AlertOutcome,
    pub notified_person: &'a str,
    pub read_back_value: Option<&'a str>,
}

pub async fn acknowledge(
    tx: &mut Tx,
    id: i64,
    ack: &Acknowledgement<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE critical_alert SET acknowledged_by = $1, acknowledged_at = $2, outcome = $3, notified_person = $4, \
         read_back_value = $5 WHERE id = $6 AND acknowledged_at IS NULL",
        ack.by,
        now,
        ack.outcome.code(),
        ack.notified_person,
        ack.read_back_value,
        id
    )?;
    Ok(changed == 1)
}

/// Marks as escalated every alert past due and not acknowledged; returns them with
/// their visits.
pub async fn escalate_due(tx: &mut Tx, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>, StoreError> {
    crate::fetch_all!(
        tx.exec(),
        (i64, i64),
        "UPDATE critical_alert SET escalated_at = $1 WHERE acknowledged_at IS NULL AND escalated_at IS NULL \
         AND due_at <= $1 RETURNING id, visit_id",
        now
    )
}

/// Escalates one alert now (nobody could be reached), unless already escalated.
pub async fn escalate_now(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE critical_alert SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL AND acknowledged_at IS NULL",
        now,
        id
    )?;
    Ok(())
}

/// The order with this placer number (HL7 OBR-2), as a write transaction sees it.
pub async fn order_by_placer(
    exec: Exec<'_>,
    facility_id: i64,
    placer: &str,
) -> Result<Option<OrderState>, StoreError> {
    let sql = format!(
        "SELECT o.id, o.visit_id, o.lab_test_id, o.state, o.version, o.specimen_id, o.ordered_by \
         {ORDER_FROM} WHERE o.placer_number = $1 AND t.facility_id = $2"
    );
    crate::fetch_optional!(exec, OrderState, &sql, placer, facility_id)
}

/// The order on the specimen with this accession number: the one for `loinc` when the
/// specimen holds several, else its only one.
pub async fn order_by_accession(
    tx: &mut Tx,
    facility_id: i64,
    accession: &str,
    loinc: &str,
) -> Result<Option<OrderState>, StoreError> {
    let sql = format!(
        "SELECT o.id, o.visit_id, o.lab_test_id, o.state, o.version, o.specimen_id, o.ordered_by \
         {ORDER_FROM} JOIN specimen sp ON sp.id = o.specimen_id WHERE sp.accession = $1 AND t.facility_id = $2 \
         ORDER BY CASE WHEN t.loinc = $3 THEN 0 ELSE 1 END, o.id"
    );
    let orders = crate::fetch_all!(tx.exec(), OrderState, &sql, accession, facility_id, loinc)?;
    Ok(orders.into_iter().next())
}

/// Sets the token a reference lab's interface presents.
pub async fn set_interface_token(
    tx: &mut Tx,
    reference_lab_id: i64,
    token_sha256: &str,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE reference_lab SET interface_token_sha256 = $1 WHERE id = $2",
        token_sha256,
        reference_lab_id
    )?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct QuarantineRow {
    id: i64,
    hl7_message_id: i64,
    sending_facility: String,
    control_id: String,
    received_at: DateTime<Utc>,
    reference_lab: Option<String>,
    placer_number: String,
    group_index: i64,
    #[sqlx(try_from = "String")]
    reason: super::HoldReason,
    patient_text: String,
    observations: String,
    attach_placer: Option<String>,
    requested_given: Option<String>,
    requested_family: Option<String>,
    attach_requested_by: Option<i64>,
    attach_requested_at: Option<DateTime<Utc>>,
    attach_reason: Option<String>,
}

/// Results held for a person to resolve, oldest first.
pub async fn quarantine(store: &Store) -> Result<Vec<super::QuarantineItem>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        QuarantineRow,
        "SELECT q.id, q.hl7_message_id, m.sending_facility, m.control_id, m.received_at, rl.name AS reference_lab, \
         q.placer_number, q.group_index, q.reason, q.patient_text, q.observations, o.placer_number AS attach_placer, \
         s.given_name AS requested_given, s.family_name AS requested_family, q.attach_requested_by, \
         q.attach_requested_at, q.attach_reason FROM lab_quarantine q \
         JOIN hl7_message m ON m.id = q.hl7_message_id LEFT JOIN reference_lab rl ON rl.id = m.reference_lab_id \
         LEFT JOIN lab_order o ON o.id = q.attach_order_id LEFT JOIN staff_member s ON s.id = q.attach_requested_by \
         WHERE q.resolved_at IS NULL ORDER BY q.id"
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let attach_request = match (
                row.attach_placer,
                row.attach_requested_by,
                row.attach_requested_at,
            ) {
                (Some(placer_number), Some(requested_by_id), Some(requested_at)) => {
                    Some(super::AttachRequest {
                        placer_number,
                        requested_by: name_of(row.requested_given, row.requested_family).unwrap_or_default(),
                        requested_by_id,
                        requested_by_me: false,
                        requested_at,
                        reason: row.attach_reason.unwrap_or_default(),
                    })
                }
                _ => None,
            };
            super::QuarantineItem {
                id: row.id,
                hl7_message_id: row.hl7_message_id,
                sending_facility: row.sending_facility,
                control_id: row.control_id,
                received_at: row.received_at,
                reference_lab: row.reference_lab.unwrap_or_default(),
                placer_number: row.placer_number,
                group_index: row.group_index,
                reason: row.reason,
                patient_text: row.patient_text,
                observations: row.observations.lines().map(str::to_owned).collect(),
                attach_request,
            }
        })
        .collect())
}

/// A held group as a write transaction sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Held {
    pub hl7_message_id: i64,
    pub group_index: i64,
    pub raw: String,
    pub resolved: bool,
    pub attach_order_id: Option<i64>,
    pub attach_requested_by: Option<i64>,
    pub attach_reason: Option<String>,
}

pub async fn held(exec: Exec<'_>, id: i64) -> Result<Option<Held>, StoreError> {
    crate::fetch_optional!(
        exec,
        Held,
        "SELECT q.hl7_message_id, q.group_index, m.raw, q.resolved_at IS NOT NULL AS resolved, q.attach_order_id, \
         q.attach_requested_by, q.attach_reason FROM lab_quarantine q \
         JOIN hl7_message m ON m.id = q.hl7_message_id WHERE q.id = $1",
        id
    )
}

/// Records how a person resolved a held group; false when someone already had.
pub async fn resolve(
    tx: &mut Tx,
    id: i64,
    by: i64,
    resolution: &str,
    order_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE lab_quarantine SET resolved_by = $1, resolved_at = $2, resolution = $3, lab_order_id = $4 \
         WHERE id = $5 AND resolved_at IS NULL",
        by,
        now,
        resolution,
        order_id,
        id
    )?;
    Ok(changed == 1)
}

/// Someone asks a second person to confirm attaching held results to an order of another
/// patient; false when resolved or asked already.
pub async fn request_attach(
    tx: &mut Tx,
    id: i64,
    order_id: i64,
    by: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE lab_quarantine SET attach_order_id = $1, attach_requested_by = $2, attach_requested_at = $3, \
         attach_reason = $4 WHERE id = $5 AND resolved_at IS NULL AND attach_requested_by IS NULL",
        order_id,
        by,
        now,
        reason,
        id
    )?;
    Ok(changed == 1)
}

/// The second person's answer: confirmed (the caller attaches and resolves) or declined
/// (the request is withdrawn and the results stay held).
pub async fn answer_attach(tx: &mut Tx, id: i64, confirmed_by: Option<i64>) -> Result<bool, StoreError> {
    let changed = match confirmed_by {
        Some(by) => crate::execute!(
            tx.exec(),
            "UPDATE lab_quarantine SET confirmed_by = $1 WHERE id = $2 AND resolved_at IS NULL \
             AND attach_requested_by IS NOT NULL AND attach_requested_by <> $1",
            by,
            id
        )?,
        None => crate::execute!(
            tx.exec(),
            "UPDATE lab_quarantine SET attach_order_id = NULL, attach_requested_by = NULL, attach_requested_at = NULL, \
             attach_reason = NULL WHERE id = $1 AND resolved_at IS NULL AND attach_requested_by IS NOT NULL",
            id
        )?,
    };
    Ok(changed == 1)
}

/// Messages whose control id their lab had used for another message, not yet reviewed.
pub async fn reused_control_ids(store: &Store) -> Result<Vec<super::ReusedControlId>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        (i64, String, String, DateTime<Utc>, i64),
        "SELECT m.id, COALESCE(rl.name, m.sending_facility), m.control_id, m.received_at, \
         (SELECT COUNT(*) FROM hl7_message e WHERE e.reference_lab_id = m.reference_lab_id \
          AND e.control_id = m.control_id AND e.id < m.id) \
         FROM hl7_message m LEFT JOIN reference_lab rl ON rl.id = m.reference_lab_id \
         WHERE m.control_id_reused = $1 AND m.reviewed_at IS NULL ORDER BY m.id",
        true
    )?;
    Ok(rows
        .into_iter()
        .map(
            |(id, lab, control_id, received_at, earlier)| super::ReusedControlId {
                hl7_message_id: id,
                reference_lab: lab,
                control_id,
                received_at,
                earlier,
            },
        )
        .collect())
}

/// A person has looked at a message whose control id was reused; false when someone had.
pub async fn review_reused(
    tx: &mut Tx,
    message_id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE hl7_message SET reviewed_by = $1, reviewed_at = $2 WHERE id = $3 AND control_id_reused = $4 \
         AND reviewed_at IS NULL",
        by,
        now,
        message_id,
        true
    )?;
    Ok(changed == 1)
}

/// The reference labs of the facility: (id, code, name).
pub async fn reference_labs(
    store: &Store,
    facility_id: i64,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    crate::fetch_all!(
        store.read(),
        (i64, String, String),
        "SELECT id, code, name FROM reference_lab WHERE facility_id = $1 AND role = 'lab' ORDER BY name",
        facility_id
    )
}

/// Send-out tests whose specimen waits to be packed for a reference lab.
pub async fn awaiting_send_out(store: &Store, facility_id: i64) -> Result<Vec<LabOrder>, StoreError> {
    let filter = "t.performed = 'send_out' AND o.state IN ('collected', 'received') AND o.id > $2 \
                  AND o.specimen_id IN (SELECT id FROM specimen WHERE shipment_id IS NULL AND state <> 'rejected')";
    orders_where(store, facility_id, filter, 0).await
}

/// Packs specimens for a reference lab: the shipment and its manifest.
pub async fn pack(
    tx: &mut Tx,
    reference_lab_id: i64,
    specimen_ids: &[i64],
    by: i64,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO shipment (reference_lab_id, state, packed_by, packed_at) VALUES ($1, 'packed', $2, $3) RETURNING id",
        reference_lab_id,
        by,
        now
    )?;
    for specimen in specimen_ids {
        let changed = crate::execute!(
            tx.exec(),
            "UPDATE specimen SET shipment_id = $1 WHERE id = $2 AND shipment_id IS NULL AND state <> 'rejected'",
            id,
            specimen
        )?;
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(id)
}

/// Moves a shipment on, from `from` to `to`; false when it was not at `from`.
pub async fn advance_shipment(
    tx: &mut Tx,
    id: i64,
    from: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let column = match to {
        "shipped" => "shipped_at",
        "received" => "received_at",
        _ => "resulted_at",
    };
    let sql = format!("UPDATE shipment SET state = $1, {column} = $2 WHERE id = $3 AND state = $4");
    let changed = crate::execute!(tx.exec(), &sql, to, now, id, from)?;
    if changed == 1 && to == "shipped" {
        crate::execute!(
            tx.exec(),
            "UPDATE specimen SET state = 'shipped' WHERE shipment_id = $1 AND state IN ('collected', 'received')",
            id
        )?;
    }
    Ok(changed == 1)
}

#[derive(sqlx::FromRow)]
struct ShipmentRow {
    id: i64,
    lab_name: String,
    state: String,
    packer_given: String,
    packer_family: String,
    packed_at: DateTime<Utc>,
    shipped_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    resulted_at: Option<DateTime<Utc>>,
}

/// Shipments still travelling, and those done in the last week, with their manifests.
pub async fn shipments(
    store: &Store,
    facility_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<super::Shipment>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        ShipmentRow,
        "SELECT s.id, r.name AS lab_name, s.state, p.given_name AS packer_given, p.family_name AS packer_family, \
         s.packed_at, s.shipped_at, s.received_at, s.resulted_at FROM shipment s \
         JOIN reference_lab r ON r.id = s.reference_lab_id JOIN staff_member p ON p.id = s.packed_by \
         WHERE r.facility_id = $1 AND (s.state <> 'resulted' OR s.resulted_at >= $2) ORDER BY s.packed_at DESC",
        facility_id,
        since
    )?;
    let Some(oldest) = rows.iter().map(|r| r.id).min() else {
        return Ok(Vec::new());
    };
    let filter = "o.specimen_id IN (SELECT id FROM specimen WHERE shipment_id >= $2)";
    let orders = orders_where(store, facility_id, filter, oldest).await?;
    let shipped = crate::fetch_all!(
        store.read(),
        (i64, i64),
        "SELECT id, shipment_id FROM specimen WHERE shipment_id >= $1",
        oldest
    )?;
    Ok(rows
        .into_iter()
        .map(|row| super::Shipment {
            orders: orders
                .iter()
                .filter(|o| {
                    o.specimen
                        .as_ref()
                        .is_some_and(|s| shipped.iter().any(|(sp, sh)| *sp == s.id && *sh == row.id))
                })
                .cloned()
                .collect(),
            id: row.id,
            lab_name: row.lab_name,
            state: row.state,
            packed_by: crate::staff::display_name(&row.packer_given, &row.packer_family),
            packed_at: row.packed_at,
            shipped_at: row.shipped_at,
            received_at: row.received_at,
            resulted_at: row.resulted_at,
        })
        .collect())
}

/// Collection-to-verification minutes of each order verified since `since`: (test, minutes).
pub async fn turnaround(
    store: &Store,
    facility_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        (i64, DateTime<Utc>, DateTime<Utc>),
        "SELECT o.lab_test_id, sp.collected_at, MAX(r.verified_at) FROM lab_order o \
         JOIN lab_test t ON t.id = o.lab_test_id JOIN specimen sp ON sp.id = o.specimen_id \
         JOIN lab_result r ON r.lab_order_id = o.id WHERE t.facility_id = $1 AND r.verified_at >= $2 \
         GROUP BY o.id, o.lab_test_id, sp.collected_at",
        facility_id,
        since
    )?;
    Ok(rows
        .into_iter()
        .map(|(test, collected, verified)| (test, (verified - collected).num_minutes().max(0)))
        .collect())
}

/// Changes a test of the catalog and replaces its ranges; false when it is not the
/// facility's.
pub async fn update_test(tx: &mut Tx, facility_id: i64, test: &LabTest) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE lab_test SET loinc = $1, name_fr = $2, name_en = $3, specimen_type = $4, value_kind = $5, unit = $6, \
         decimals = $7, plausible_low = $8, plausible_high = $9, critical_low = $10, critical_high = $11, \
         allowed_codes = $12, normal_codes = $13, performed = $14, turnaround_minutes = $15, second_verifier = $16, \
         active = $17 WHERE id = $18 AND facility_id = $19",
        &test.loinc,
        &test.name_fr,
        &test.name_en,
        test.specimen_type.code(),
        test.value_kind.code(),
        &test.unit,
        test.decimals,
        test.plausible_low,
        test.plausible_high,
        test.critical_low,
        test.critical_high,
        test.allowed_codes.join(","),
        test.normal_codes.join(","),
        test.performed.code(),
        test.turnaround_minutes,
        test.second_verifier,
        test.active,
        test.id,
        facility_id
    )?;
    if changed != 1 {
        return Ok(false);
    }
    crate::execute!(
        tx.exec(),
        "DELETE FROM lab_reference_range WHERE lab_test_id = $1",
        test.id
    )?;
    insert_ranges(tx, test.id, &test.ranges).await?;
    Ok(true)
}
