//! `plateau import patients FILE.csv`: a clinic's first day, its patients from a
//! spreadsheet. UTF-8 with or without a byte-order mark, comma or semicolon (as French
//! spreadsheets write them), one header row naming the columns in any order. Every line
//! goes through the desk's own checks; a file with any bad line imports nothing, and
//! every rejected line is reported with its reason.

use plateau_app::error::AppError;
use plateau_app::patients::identity::{Identity, IdentityForm};
use plateau_app::store::Store;
use std::collections::HashSet;
use std::io::Write;

/// The columns a patients file may have; the first three are required.
pub const PATIENT_COLUMNS: &[&str] = &[
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "record_number",
    "assigning_authority",
    "birth_name",
    "preferred_language",
    "interpreter_needed",
    "trusted_person",
    "emergency_contact",
    "weight_kg",
    "weighed_on",
    "allergy_status",
];

/// The most lines one file takes: a clinic's patients, not a country's.
pub const MAX_LINES: usize = 500_000;

/// A line that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub reason: String,
}

/// What reading a file found: the identities to import, with their lines, and the lines
/// rejected.
#[derive(Debug, Default)]
pub struct Reading {
    pub patients: Vec<(usize, Identity)>,
    pub rejected: Vec<Rejected>,
}

/// The delimiter of a file: the one of `;` and `,` its header holds more of.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// "14/03/1958" (as French spreadsheets write dates) or "1958-03-14", as the form takes it.
fn iso_date(typed: &str) -> String {
    let typed = typed.trim();
    match chrono::NaiveDate::parse_from_str(typed, "%d/%m/%Y") {
        Ok(date) => date.format("%Y-%m-%d").to_string(),
        Err(_) => typed.to_owned(),
    }
}

/// "F", "M", "femme", "homme" or a FHIR code, as the form takes it.
fn sex_code(typed: &str) -> String {
    match typed.trim().to_lowercase().as_str() {
        "f" | "femme" | "féminin" | "feminin" => "female".to_owned(),
        "m" | "h" | "homme" | "masculin" => "male".to_owned(),
        "o" | "autre" => "other".to_owned(),
        "u" | "inconnu" | "" => "unknown".to_owned(),
        other => other.to_owned(),
    }
}

fn yes(typed: &str) -> Option<bool> {
    match typed.trim().to_lowercase().as_str() {
        "" | "non" | "no" | "n" | "0" | "false" => Some(false),
        "oui" | "yes" | "o" | "y" | "1" | "true" => Some(true),
        _ => None,
    }
}

fn describe(error: &AppError) -> String {
    match error {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {:?}", f.field, f.problem))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Reads a patients file as of `today`: every line checked, none stored.
pub fn read_patients(bytes: &[u8], today: chrono::NaiveDate) -> Result<Reading, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("the file is not UTF-8 ({e}): export it as CSV UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("line 1: {e}"))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !PATIENT_COLUMNS.contains(&h.as_str())) {
        return Err(format!(
            "line 1: unknown column {unknown:?}; the columns are: {}",
            PATIENT_COLUMNS.join(", ")
        ));
    }
    for required in &PATIENT_COLUMNS[..3] {
        if !header.iter().any(|h| h == required) {
            return Err(format!("line 1: the column {required:?} is required"));
        }
    }
    let mut reading = Reading::default();
    let mut numbers = HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        if index >= MAX_LINES {
            return Err(format!("more than {MAX_LINES} lines: split the file"));
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                reading.rejected.push(Rejected {
                    line,
                    reason: error.to_string(),
                });
                continue;
            }
        };
        let cell = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|at| record.get(at))
                .unwrap_or_default()
                .to_owned()
        };
        let Some(interpreter_needed) = yes(&cell("interpreter_needed")) else {
            reading.rejected.push(Rejected {
                line,
                reason: "interpreter_needed: oui or non".to_owned(),
            });
            continue;
        };
        let form = IdentityForm {
            record_number: cell("record_number"),
            assigning_authority: cell("assigning_authority"),
            family_name: cell("family_name"),
            given_name: cell("given_name"),
            birth_name: cell("birth_name"),
            birth_date: iso_date(&cell("birth_date")),
            sex: sex_code(&cell("sex")),
            preferred_language: match cell("preferred_language").trim() {
                "" => "fr".to_owned(),
                language => language.to_lowercase(),
            },
            interpreter_needed,
            trusted_person: cell("trusted_person"),
            emergency_contact: cell("emergency_contact"),
            weight_kg: cell("weight_kg"),
            weighed_on: iso_date(&cell("weighed_on")),
            allergy_status: cell("allergy_status"),
            allergies: Vec::new(),
        };
        match form.check(today) {
            Err(error) => reading.rejected.push(Rejected {
                line,
                reason: describe(&error),
            }),
            Ok(identity) => {
                if let Some(number) = &identity.record_number {
                    if !numbers.insert(number.clone()) {
                        reading.rejected.push(Rejected {
                            line,
                            reason: format!("record_number: {number} is on an earlier line"),
                        });
                        continue;
                    }
                }
                reading.patients.push((line, identity));
            }
        }
    }
    Ok(reading)
}

/// Draws how far an import is, on standard error.
fn progress(done: usize, total: usize) {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH).min(WIDTH);
    eprint!(
        "\r[{}{}] {done}/{total}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    );
    if done == total {
        eprintln!();
    }
    let _ = std::io::stderr().flush();
}

/// Imports the patients read, all in one transaction: a record number already used
/// rejects its line and the file. Returns how many were imported.
pub async fn import_patients(
    store: &Store,
    facility_id: i64,
    reading: &Reading,
) -> Result<usize, Vec<Rejected>> {
    use plateau_app::patients::registry;
    let failed = |line: usize, error: plateau_app::store::StoreError| {
        vec![Rejected {
            line,
            reason: describe(&AppError::from(error)),
        }]
    };
    let mut tx = store.begin().await.map_err(|e| failed(0, e))?;
    let now = chrono::Utc::now();
    let total = reading.patients.len();
    for (done, (line, identity)) in reading.patients.iter().enumerate() {
        let number = match &identity.record_number {
            Some(number) => number.clone(),
            None => registry::next_record_number(&mut tx, facility_id)
                .await
                .map_err(|e| failed(*line, e))?,
        };
        registry::insert(&mut tx, facility_id, &number, identity, now)
            .await
            .map_err(|e| failed(*line, e))?;
        if done % 500 == 0 {
            progress(done, total);
        }
    }
    let entry = plateau_app::audit::Entry::anonymous(
        "plateau import",
        "patient.import",
        plateau_app::audit::Outcome::Allowed,
    )
    .detail(format!("{total} patients from a CSV file"));
    plateau_app::audit::record_in(&mut tx, entry)
        .await
        .map_err(|e| failed(0, e))?;
    tx.commit().await.map_err(|e| failed(0, e))?;
    progress(total, total);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default()
    }

    #[test]
    fn a_french_spreadsheet_with_a_bom_and_semicolons_reads() {
        let file = "\u{feff}Family_Name;given_name;birth_date;sex;interpreter_needed\r\n\
                    Œuvray;Hélène;02/06/1971;F;oui\r\n\
                    \"Dupont; dit Martin\";Jean;1950-01-31;homme;\r\n";
        let reading = read_patients(file.as_bytes(), today()).expect("readable");
        assert!(reading.rejected.is_empty(), "{:?}", reading.rejected);
        assert_eq!(reading.patients.len(), 2);
        let (line, first) = &reading.patients[0];
        assert_eq!(*line, 2);
        assert_eq!(first.birth_date.to_string(), "1971-06-02");
        assert!(first.interpreter_needed);
        assert_eq!(reading.patients[1].1.family_name, "Dupont; dit Martin");
    }

    #[test]
    fn every_bad_line_is_told_with_its_reason() {
        let file = "family_name,given_name,birth_date,record_number,assigning_authority\n\
                    Martin,Léa,2099-01-01,,\n\
                    ,Paul,1980-05-05,,\n\
                    Durand,Élise,1958-07-14,880012,CHU\n\
                    Durant,Élise,1958-07-14,880012,CHU\n\
                    Petit,Zoé,1990-01-01\n";
        let reading = read_patients(file.as_bytes(), today()).expect("readable");
        let lines: Vec<usize> = reading.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 5, 6], "{:?}", reading.rejected);
        assert!(reading.rejected[0].reason.contains("birth_date"));
        assert!(reading.rejected[1].reason.contains("family_name"));
        assert!(reading.rejected[2].reason.contains("earlier line"));
        assert_eq!(reading.patients.len(), 1);
    }

    #[test]
    fn a_file_that_is_no_patients_file_is_refused_whole() {
        assert!(read_patients(b"name,dob\nA,B\n", today()).is_err());
        assert!(read_patients(b"family_name,given_name\nA,B\n", today()).is_err());
        assert!(read_patients(&[0xff, 0xfe, 0x00], today()).is_err());
    }
}
