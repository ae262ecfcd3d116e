use super::{NewPatient, PatientSummary, PatientVisit, VisitState};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};

/// A visit with its patient: the columns every visit list shares.
#[derive(sqlx::FromRow)]
struct VisitRow {
    visit_id: i64,
    room_id: Option<i64>,
    reason: String,
    #[sqlx(try_from = "String")]
    state: VisitState,
    arrived_at: DateTime<Utc>,
    patient_id: i64,
    record_number: String,
    family_name: String,
    given_name: String,
    birth_date: NaiveDate,
}

const VISIT_SELECT: &str = "SELECT v.id AS visit_id, v.room_id, v.reason, v.state, v.arrived_at, \
     p.id AS patient_id, p.record_number, p.family_name, p.given_name, p.birth_date \
     FROM visit v JOIN patient p ON p.id = v.patient_id";

impl From<VisitRow> for PatientVisit {
    fn from(row: VisitRow) -> Self {
        PatientVisit {
            patient: PatientSummary {
                id: row.patient_id,
                record_number: row.record_number,
                family_name: row.family_name,
                given_name: row.given_name,
                birth_date: row.birth_date,
                shortened: false,
            },
            visit_id: row.visit_id,
            reason: row.reason,
            state: row.state,
            arrived_at: row.arrived_at,
        }
    }
}

/// The patients now in a room, keyed by room.
pub async fn occupants(store: &Store, facility_id: i64) -> Result<Vec<(i64, PatientVisit)>, StoreError> {
    let sql = format!("{VISIT_SELECT} WHERE p.facility_id = $1 AND v.room_id IS NOT NULL");
    let rows = crate::fetch_all!(store.read(), VisitRow, &sql, facility_id)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.room_id?, PatientVisit::from(row))))
        .collect())
}

/// The patient now in one room, if any.
pub async fn occupant(store: &Store, room_id: i64) -> Result<Option<PatientVisit>, StoreError> {
    let sql = format!("{VISIT_SELECT} WHERE v.room_id = $1");
    let row = crate::fetch_optional!(store.read(), VisitRow, &sql, room_id)?;
    Ok(row.map(PatientVisit::from))
}

/// Every visit not yet ended, with its patient.
pub async fn active_visits(store: &Store, facility_id: i64) -> Result<Vec<PatientVisit>, StoreError> {
    let sql = format!("{VISIT_SELECT} WHERE p.facility_id = $1 AND v.state <> $2");
    let rows = crate::fetch_all!(store.read(), VisitRow, &sql, facility_id, VisitState::Done.code())?;
    Ok(rows.into_iter().map(PatientVisit::from).collect())
}

/// The visits matching `condition` (SQL on `v` and `p`, binding `$1` to the facility and
/// `$2` to `value`), with their patients.
pub async fn visits_where(
    store: &Store,
    condition: &str,
    facility_id: i64,
    value: i64,
) -> Result<Vec<PatientVisit>, StoreError> {
    let sql = format!("{VISIT_SELECT} WHERE p.facility_id = $1 AND {condition}");
    let rows = crate::fetch_all!(store.read(), VisitRow, &sql, facility_id, value)?;
    Ok(rows.into_iter().map(PatientVisit::from).collect())
}

/// Where a visit is, as a write transaction sees it: its room and state.
pub async fn whereabouts(
    tx: &mut Tx,
    facility_id: i64,
    visit_id: i64,
) -> Result<(Option<i64>, VisitState), StoreError> {
    let row = crate::fetch_optional!(
        tx.exec(),
        (Option<i64>, String),
        "SELECT v.room_id, v.state FROM visit v JOIN patient p ON p.id = v.patient_id \
         WHERE v.id = $1 AND p.facility_id = $2",
        visit_id,
        facility_id
    )?
    .ok_or(StoreError::NotFound)?;
    let state = VisitState::try_from(row.1).map_err(StoreError::Database)?;
    Ok((row.0, state))
}

/// The room a visit's patient is in now, if any.
pub async fn room_of_visit(store: &Store, visit_id: i64) -> Result<Option<i64>, StoreError> {
    let room = crate::fetch_optional!(
        store.read(),
        (Option<i64>,),
        "SELECT room_id FROM visit WHERE id = $1",
        visit_id
    )?;
    Ok(room.and_then(|(room,)| room))
}

/// Moves a visit to `room_id` (or out of any room) in `state`, if it is still in
/// `from_room`; returns whether it was.
pub async fn move_visit(
    tx: &mut Tx,
    visit_id: i64,
    from_room: Option<i64>,
    room_id: Option<i64>,
    state: VisitState,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let ended_at = (state == VisitState::Done).then_some(now);
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE visit SET room_id = $1, state = $2, ended_at = $3 \
         WHERE id = $4 AND room_id IS NOT DISTINCT FROM $5",
        room_id,
        state.code(),
        ended_at,
        visit_id,
        from_room
    )?;
    Ok(changed == 1)
}

/// Visits waiting for a room (to be seen, or for back-office work), longest wait first.
pub async fn waiting(store: &Store, facility_id: i64) -> Result<Vec<PatientVisit>, StoreError> {
    let sql = format!(
        "{VISIT_SELECT} WHERE p.facility_id = $1 AND v.room_id IS NULL AND v.state IN ($2, $3) \
         ORDER BY v.arrived_at, v.id"
    );
    let rows = crate::fetch_all!(
        store.read(),
        VisitRow,
        &sql,
        facility_id,
        VisitState::Waiting.code(),
        VisitState::Queued.code()
    )?;
    Ok(rows.into_iter().map(PatientVisit::from).collect())
}

/// Stores a patient the demo or a test describes, as the desk would register them.
pub async fn create_patient(tx: &mut Tx, facility_id: i64, patient: &NewPatient) -> Result<i64, StoreError> {
    let identity = super::identity::Identity {
        record_number: Some(patient.record_number.clone()),
        assigning_authority: String::new(),
        family_name: patient.family_name.clone(),
        given_name: patient.given_name.clone(),
        birth_name: String::new(),
        birth_date: patient.birth_date,
        sex: patient.sex,
        preferred_language: patient.preferred_language.clone(),
        interpreter_needed: false,
        trusted_person: String::new(),
        emergency_contact: String::new(),
        weight: None,
        allergy_status: super::identity::AllergyStatus::Unasked,
        allergies: Vec::new(),
    };
    super::registry::insert(tx, facility_id, &patient.record_number, &identity, Utc::now()).await
}

/// A visit as the store records it.
pub struct NewVisit<'a> {
    pub patient_id: i64,
    pub reason: &'a str,
    pub arrived_at: DateTime<Utc>,
    pub state: VisitState,
    pub room_id: Option<i64>,
    pub ended_at: Option<DateTime<Utc>>,
}

pub async fn create_visit(tx: &mut Tx, visit: &NewVisit<'_>) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO visit (patient_id, reason, arrived_at, room_id, state, ended_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        visit.patient_id,
        visit.reason,
        visit.arrived_at,
        visit.room_id,
        visit.state.code(),
        visit.ended_at
    )
}

pub async fn count_patients(store: &Store) -> Result<i64, StoreError> {
    crate::fetch_scalar!(store.read(), i64, "SELECT COUNT(*) FROM patient")
}

/// The patient of a visit, if the visit exists.
pub async fn patient_of_visit(store: &Store, visit_id: i64) -> Result<Option<i64>, StoreError> {
    crate::fetch_optional!(
        store.read(),
        (i64,),
        "SELECT patient_id FROM visit WHERE id = $1",
        visit_id
    )
    .map(|row| row.map(|(patient_id,)| patient_id))
}

/// Writes the folded words of a patient's names (family, given, at birth), replacing any
/// earlier ones, and the key results are listed by: called with every change of a name,
/// in the same transaction.
pub async fn index_names(tx: &mut Tx, patient_id: i64, names: &[&str; 3]) -> Result<(), StoreError> {
    use super::matching::fold;
    let key = format!("{} {}", fold(names[0]), fold(names[1]));
    crate::execute!(
        tx.exec(),
        "UPDATE patient SET name_key = $1 WHERE id = $2",
        key,
        patient_id
    )?;
    crate::execute!(
        tx.exec(),
        "DELETE FROM patient_name_token WHERE patient_id = $1",
        patient_id
    )?;
    let mut words: Vec<String> = names
        .iter()
        .flat_map(|name| super::matching::tokens(name))
        .collect();
    words.sort();
    words.dedup();
    for word in words {
        crate::execute!(
            tx.exec(),
            "INSERT INTO patient_name_token (token, patient_id) VALUES ($1, $2)",
            word,
            patient_id
        )?;
    }
    Ok(())
}

/// Indexes the names of patients that have no words yet (records made before names were
/// indexed, or by a version without it); returns how many. Run at start-up.
pub async fn index_unindexed_names(store: &Store) -> Result<usize, StoreError> {
    let patients = crate::fetch_all!(
        store.read(),
        (i64, String, String, String),
        "SELECT id, family_name, given_name, birth_name FROM patient p \
         WHERE NOT EXISTS (SELECT 1 FROM patient_name_token t WHERE t.patient_id = p.id)"
    )?;
    if patients.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    for (id, family, given, birth) in &patients {
        index_names(&mut tx, *id, &[family, given, birth]).await?;
    }
    tx.commit().await?;
    Ok(patients.len())
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    id: i64,
    record_number: String,
    family_name: String,
    given_name: String,
    birth_date: NaiveDate,
}

/// The end of the range of words that start with `word`: folded words hold only ASCII
/// letters and digits, all below `{`.
fn after_words_starting(word: &str) -> String {
    format!("{word}{{")
}

/// This clinic's patients (never a record merged into another) matching every part of
/// `query`, by folded family then given name, at most `limit`.
pub async fn search(
    store: &Store,
    facility_id: i64,
    query: &super::matching::PatientQuery,
    limit: usize,
) -> Result<Vec<PatientSummary>, StoreError> {
    // Always three ranges, the missing ones empty (''), so one SQL text serves any search.
    let word = |i: usize| query.name_words.get(i).cloned().unwrap_or_default();
    let (w1, w2, w3) = (word(0), word(1), word(2));
    let name_range = |n: usize| {
        format!(
            "(${a} = '' OR p.id IN (SELECT patient_id FROM patient_name_token WHERE token >= ${a} AND token < ${b}))",
            a = n,
            b = n + 1
        )
    };
    let sql = format!(
        "SELECT p.id, p.record_number, p.family_name, p.given_name, p.birth_date FROM patient p \
         WHERE p.facility_id = $1 AND p.merged_into IS NULL AND {} AND {} AND {} \
         AND ($8 = '' OR p.record_number = $8) AND ($9 IS NULL OR p.birth_date = $9) \
         ORDER BY p.name_key, p.id LIMIT $10",
        name_range(2),
        name_range(4),
        name_range(6)
    );
    let birth = query.birth_date;
    let rows = crate::fetch_all!(
        store.read(),
        FoundRow,
        &sql,
        facility_id,
        &w1,
        after_words_starting(&w1),
        &w2,
        after_words_starting(&w2),
        &w3,
        after_words_starting(&w3),
        query.record_number.clone().unwrap_or_default(),
        birth,
        i64::try_from(limit).unwrap_or(i64::MAX)
    )?;
    Ok(rows
        .into_iter()
        .map(|r| PatientSummary {
            id: r.id,
            record_number: r.record_number,
            family_name: r.family_name,
            given_name: r.given_name,
            birth_date: r.birth_date,
            shortened: false,
        })
        .collect())
}
