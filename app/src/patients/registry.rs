//! Patient records in the database: registered, read, edited, merged. Every write names
//! the facility, so one clinic's desk never touches another's patients.

use super::identity::{Allergy, AllergyStatus, Identity, PatientRecord, Severity, Weight};
use super::matching::{probably_same, Names};
use super::{PatientSummary, Sex};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};

/// Plateau's own record numbers: "P" and six digits, in order of registration.
fn own_record_number(n: i64) -> String {
    format!("P{n:06}")
}

/// The next of Plateau's own record numbers in this facility, skipping any a front
/// office already uses. Taken in the registering transaction, so two desks never get
/// the same one.
pub async fn next_record_number(tx: &mut Tx, facility_id: i64) -> Result<String, StoreError> {
    loop {
        let n = crate::fetch_scalar!(
            tx.exec(),
            i64,
            "UPDATE facility SET next_record_number = next_record_number + 1 WHERE id = $1 \
             RETURNING next_record_number - 1",
            facility_id
        )?;
        let number = own_record_number(n);
        let taken = crate::fetch_scalar!(
            tx.exec(),
            i64,
            "SELECT COUNT(*) FROM patient WHERE facility_id = $1 AND record_number = $2",
            facility_id,
            &number
        )?;
        if taken == 0 {
            return Ok(number);
        }
    }
}

/// Stores a new patient with `record_number`, their allergies and the words their
/// names are found by.
pub async fn insert(
    tx: &mut Tx,
    facility_id: i64,
    record_number: &str,
    identity: &Identity,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO patient (facility_id, record_number, assigning_authority, family_name, given_name, \
         birth_name, birth_date, sex, preferred_language, interpreter_needed, trusted_person, \
         emergency_contact, weight_grams, weighed_on, allergies) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        facility_id,
        record_number,
        &identity.assigning_authority,
        &identity.family_name,
        &identity.given_name,
        &identity.birth_name,
        identity.birth_date,
        identity.sex.code(),
        &identity.preferred_language,
        identity.interpreter_needed,
        &identity.trusted_person,
        &identity.emergency_contact,
        identity.weight.map(|w| w.grams),
        identity.weight.map(|w| w.on),
        identity.allergy_status.code()
    )?;
    write_allergies(tx, id, &identity.allergies, now).await?;
    super::store::index_names(
        tx,
        id,
        &[&identity.family_name, &identity.given_name, &identity.birth_name],
    )
    .await?;
    Ok(id)
}

async fn write_allergies(
    tx: &mut Tx,
    patient_id: i64,
    allergies: &[Allergy],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(tx.exec(), "DELETE FROM allergy WHERE patient_id = $1", patient_id)?;
    for allergy in allergies {
        crate::execute!(
            tx.exec(),
            "INSERT INTO allergy (patient_id, substance, reaction, severity, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            patient_id,
            &allergy.substance,
            &allergy.reaction,
            allergy.severity.code(),
            now
        )?;
    }
    Ok(())
}

/// Replaces a patient's identity if the record is still at `version`; returns whether
/// it was (another desk's edit came first otherwise).
pub async fn update(
    tx: &mut Tx,
    facility_id: i64,
    patient_id: i64,
    version: i64,
    record_number: &str,
    identity: &Identity,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE patient SET record_number = $1, assigning_authority = $2, family_name = $3, given_name = $4, \
         birth_name = $5, birth_date = $6, sex = $7, preferred_language = $8, interpreter_needed = $9, \
         trusted_person = $10, emergency_contact = $11, weight_grams = $12, weighed_on = $13, allergies = $14, \
         version = version + 1 \
         WHERE id = $15 AND facility_id = $16 AND version = $17 AND merged_into IS NULL",
        record_number,
        &identity.assigning_authority,
        &identity.family_name,
        &identity.given_name,
        &identity.birth_name,
        identity.birth_date,
        identity.sex.code(),
        &identity.preferred_language,
        identity.interpreter_needed,
        &identity.trusted_person,
        &identity.emergency_contact,
        identity.weight.map(|w| w.grams),
        identity.weight.map(|w| w.on),
        identity.allergy_status.code(),
        patient_id,
        facility_id,
        version
    )?;
    if changed != 1 {
        return Ok(false);
    }
    write_allergies(tx, patient_id, &identity.allergies, now).await?;
    super::store::index_names(
        tx,
        patient_id,
        &[&identity.family_name, &identity.given_name, &identity.birth_name],
    )
    .await?;
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    version: i64,
    record_number: String,
    assigning_authority: String,
    family_name: String,
    given_name: String,
    birth_name: String,
    birth_date: NaiveDate,
    #[sqlx(try_from = "String")]
    sex: Sex,
    preferred_language: String,
    interpreter_needed: bool,
    trusted_person: String,
    emergency_contact: String,
    weight_grams: Option<i64>,
    weighed_on: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    allergies: AllergyStatus,
    merged_into: Option<i64>,
}

const RECORD_SELECT: &str =
    "SELECT id, version, record_number, assigning_authority, family_name, given_name, \
     birth_name, birth_date, sex, preferred_language, interpreter_needed, trusted_person, emergency_contact, \
     weight_grams, weighed_on, allergies, merged_into FROM patient";

/// One patient's record in this facility, with their allergies.
pub async fn read(store: &Store, facility_id: i64, patient_id: i64) -> Result<PatientRecord, StoreError> {
    let sql = format!("{RECORD_SELECT} WHERE id = $1 AND facility_id = $2");
    let row = crate::fetch_optional!(store.read(), RecordRow, &sql, patient_id, facility_id)?
        .ok_or(StoreError::NotFound)?;
    let allergies = crate::fetch_all!(
        store.read(),
        (String, String, String),
        "SELECT substance, reaction, severity FROM allergy WHERE patient_id = $1 ORDER BY id",
        patient_id
    )?
    .into_iter()
    .map(|(substance, reaction, severity)| {
        Ok(Allergy {
            substance,
            reaction,
            severity: Severity::try_from(severity).map_err(StoreError::Database)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(PatientRecord {
        id: row.id,
        version: row.version,
        merged_into: row.merged_into,
        identity: Identity {
            record_number: Some(row.record_number),
            assigning_authority: row.assigning_authority,
            family_name: row.family_name,
            given_name: row.given_name,
            birth_name: row.birth_name,
            birth_date: row.birth_date,
            sex: row.sex,
            preferred_language: row.preferred_language,
            interpreter_needed: row.interpreter_needed,
            trusted_person: row.trusted_person,
            emergency_contact: row.emergency_contact,
            weight: row
                .weight_grams
                .zip(row.weighed_on)
                .map(|(grams, on)| Weight { grams, on }),
            allergy_status: row.allergies,
            allergies,
        },
    })
}

#[derive(sqlx::FromRow)]
struct NamedRow {
    id: i64,
    record_number: String,
    family_name: String,
    given_name: String,
    birth_name: String,
    birth_date: NaiveDate,
}

/// The records of this facility that probably are the person `identity` names (same
/// birth date, a like name: see [`probably_same`]), other than `except`.
pub async fn probable_duplicates(
    store: &Store,
    facility_id: i64,
    identity: &Identity,
    except: Option<i64>,
) -> Result<Vec<PatientSummary>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        NamedRow,
        "SELECT id, record_number, family_name, given_name, birth_name, birth_date FROM patient \
         WHERE facility_id = $1 AND birth_date = $2 AND merged_into IS NULL ORDER BY name_key, id",
        facility_id,
        identity.birth_date
    )?;
    let wanted = Names {
        family: &identity.family_name,
        given: &identity.given_name,
        birth: &identity.birth_name,
        birth_date: identity.birth_date,
    };
    Ok(rows
        .into_iter()
        .filter(|row| Some(row.id) != except)
        .filter(|row| {
            probably_same(
                &wanted,
                &Names {
                    family: &row.family_name,
                    given: &row.given_name,
                    birth: &row.birth_name,
                    birth_date: row.birth_date,
                },
            )
        })
        .map(|row| PatientSummary {
            id: row.id,
            record_number: row.record_number,
            family_name: row.family_name,
            given_name: row.given_name,
            birth_date: row.birth_date,
            shortened: false,
        })
        .collect())
}

/// A patient of this facility's allergy status, and whether the record was merged away.
async fn merge_side(tx: &mut Tx, facility_id: i64, patient_id: i64) -> Result<(String, bool), StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        (String, Option<i64>),
        "SELECT allergies, merged_into FROM patient WHERE id = $1 AND facility_id = $2",
        patient_id,
        facility_id
    )?
    .map(|(allergies, merged)| (allergies, merged.is_some()))
    .ok_or(StoreError::NotFound)
}

/// What a merge moved, for the audit trail.
pub struct Merged {
    pub visits: u64,
    pub allergies: u64,
}

/// Merges the duplicate `merged_id` into `kept_id`: its visits (and with them their
/// orders, specimens, results and care teams), allergies and emergency accesses now
/// belong to the kept record, and the duplicate points to it. The duplicate's identity
/// is kept as it was, for the audit trail; searches no longer find it. `None` when either
/// record was itself merged already (merge into the record it points to instead).
pub async fn merge(
    tx: &mut Tx,
    facility_id: i64,
    kept_id: i64,
    merged_id: i64,
) -> Result<Option<Merged>, StoreError> {
    let (kept_allergies, kept_gone) = merge_side(tx, facility_id, kept_id).await?;
    let (merged_allergies, merged_gone) = merge_side(tx, facility_id, merged_id).await?;
    if kept_gone || merged_gone {
        return Ok(None);
    }
    let visits = crate::execute!(
        tx.exec(),
        "UPDATE visit SET patient_id = $1 WHERE patient_id = $2",
        kept_id,
        merged_id
    )?;
    let allergies = crate::execute!(
        tx.exec(),
        "UPDATE allergy SET patient_id = $1 WHERE patient_id = $2",
        kept_id,
        merged_id
    )?;
    crate::execute!(
        tx.exec(),
        "UPDATE break_glass SET patient_id = $1 WHERE patient_id = $2",
        kept_id,
        merged_id
    )?;
    // What is known of allergies only grows: listed ones, else "none known", else unasked.
    let known = |code: &str| match AllergyStatus::from_code(code) {
        Some(AllergyStatus::Recorded) => 2,
        Some(AllergyStatus::NoneKnown) => 1,
        _ => 0,
    };
    let status = if allergies > 0 || known(&kept_allergies) == 2 {
        AllergyStatus::Recorded
    } else if known(&kept_allergies).max(known(&merged_allergies)) == 1 {
        AllergyStatus::NoneKnown
    } else {
        AllergyStatus::Unasked
    };
    crate::execute!(
        tx.exec(),
        "UPDATE patient SET allergies = $1, version = version + 1 WHERE id = $2",
        status.code(),
        kept_id
    )?;
    crate::execute!(
        tx.exec(),
        "UPDATE patient SET merged_into = $1, version = version + 1 WHERE id = $2",
        kept_id,
        merged_id
    )?;
    Ok(Some(Merged { visits, allergies }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_numbers_sort_as_they_were_given() {
        assert_eq!(super::own_record_number(1), "P000001");
        assert!(super::own_record_number(99) < super::own_record_number(100));
    }
}
