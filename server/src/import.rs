//! `plateau import patients FILE.csv` and `plateau import staff FILE.csv`: a clinic's
//! first day, its patients and its people from spreadsheets. UTF-8 with or without a
//! byte-order mark, comma or semicolon (as French spreadsheets write them), one header
//! row naming the columns in any order. Every line goes through the checks of the screen
//! that would otherwise take it (the desk's, the accounts page's); a file with any bad
//! line imports nothing, and every rejected line is reported with its reason.

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

/// A spreadsheet's lines, under a header checked against the columns a file may have.
struct Sheet {
    header: Vec<String>,
    /// The lines read, with their numbers in the file.
    records: Vec<(usize, csv::StringRecord)>,
    /// The lines that are no CSV line (a quote left open, a cell too many).
    unreadable: Vec<Rejected>,
}

impl Sheet {
    /// Reads `bytes` as a CSV file whose columns are among `columns`, the first
    /// `required` of which it must have.
    fn read(bytes: &[u8], columns: &[&str], required: usize) -> Result<Sheet, String> {
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
        if let Some(unknown) = header.iter().find(|h| !columns.contains(&h.as_str())) {
            return Err(format!(
                "line 1: unknown column {unknown:?}; the columns are: {}",
                columns.join(", ")
            ));
        }
        for needed in &columns[..required] {
            if !header.iter().any(|h| h == needed) {
                return Err(format!("line 1: the column {needed:?} is required"));
            }
        }
        let mut records = Vec::new();
        let mut unreadable = Vec::new();
        for (index, record) in reader.records().enumerate() {
            if index >= MAX_LINES {
                return Err(format!("more than {MAX_LINES} lines: split the file"));
            }
            let line = index + 2;
            match record {
                Ok(record) => records.push((line, record)),
                Err(error) => unreadable.push(Rejected {
                    line,
                    reason: error.to_string(),
                }),
            }
        }
        Ok(Sheet {
            header,
            records,
            unreadable,
        })
    }

    /// The cell of `record` in the column `name`, empty when the file has no such column.
    fn cell(&self, record: &csv::StringRecord, name: &str) -> String {
        self.header
            .iter()
            .position(|h| h == name)
            .and_then(|at| record.get(at))
            .unwrap_or_default()
            .to_owned()
    }
}

/// Reads a patients file as of `today`: every line checked, none stored.
pub fn read_patients(bytes: &[u8], today: chrono::NaiveDate) -> Result<Reading, String> {
    let sheet = Sheet::read(bytes, PATIENT_COLUMNS, 3)?;
    let mut reading = Reading {
        rejected: sheet.unreadable.clone(),
        ..Reading::default()
    };
    let mut numbers = HashSet::new();
    for (line, record) in &sheet.records {
        let line = *line;
        let cell = |name: &str| sheet.cell(record, name);
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
                reason: crate::describe(&error),
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
    reading.rejected.sort_by_key(|r| r.line);
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

/// What stops an import at `line` (0: the file as a whole), as its report says it.
fn failed(line: usize, error: plateau_app::store::StoreError) -> Vec<Rejected> {
    vec![Rejected {
        line,
        reason: crate::describe(&AppError::from(error)),
    }]
}

/// Imports the patients read, all in one transaction: a record number already used
/// rejects its line and the file. Returns how many were imported.
pub async fn import_patients(
    store: &Store,
    facility_id: i64,
    reading: &Reading,
) -> Result<usize, Vec<Rejected>> {
    use plateau_app::patients::registry;
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

/// The columns a staff file has, all required: the sign-in name, the names colleagues
/// see, and the roles (codes as `plateau user add` takes them, or their French names,
/// separated by spaces, `+`, `|` or `/`).
pub const STAFF_COLUMNS: &[&str] = &["username", "family_name", "given_name", "roles"];

/// A person to give an account, with the password for their first sign-in (they choose
/// their own then).
pub struct NewColleague {
    pub line: usize,
    pub account: plateau_app::accounts::store::NewAccount,
    pub password: String,
}

/// What reading a staff file found.
#[derive(Default)]
pub struct StaffReading {
    pub colleagues: Vec<NewColleague>,
    pub rejected: Vec<Rejected>,
}

/// A role as a French spreadsheet may write it; any other word is taken as a code.
fn role_code(typed: &str) -> String {
    let word = typed.trim().to_lowercase();
    let code = match word.as_str() {
        "administrateur" | "administratrice" => "administrator",
        "médecin" | "medecin" => "physician",
        "infirmier" | "infirmière" | "infirmiere" | "ide" => "nurse",
        "assistant_médical" | "assistante_médicale" | "assistant_medical" | "assistante_medicale" => {
            "medical_assistant"
        }
        "préleveur" | "preleveur" | "préleveuse" | "preleveuse" => "phlebotomist",
        "technicien_labo" | "technicienne_labo" | "technicien_laboratoire" => "lab_technician",
        "superviseur" | "superviseuse" | "cadre" => "supervisor",
        "accueil" => "front_desk",
        other => other,
    };
    code.to_owned()
}

/// The roles of a cell, however separated.
fn roles_listed(typed: &str) -> Vec<String> {
    typed
        .split(|c: char| c.is_whitespace() || "+|/".contains(c))
        .filter(|word| !word.is_empty())
        .map(role_code)
        .collect()
}

/// A password for a person's first sign-in: 16 random letters and digits in groups of
/// four, easy to read out and type once.
pub fn initial_password() -> String {
    let letters: Vec<char> = plateau_app::auth::session::new_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(16)
        .collect();
    letters
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Reads a staff file: every line checked as the accounts page checks it, none stored.
/// Each password is hashed as it is read, which takes a moment a person; the progress
/// bar says how far it is.
pub async fn read_staff(bytes: &[u8]) -> Result<StaffReading, String> {
    let sheet = Sheet::read(bytes, STAFF_COLUMNS, STAFF_COLUMNS.len())?;
    let mut reading = StaffReading {
        rejected: sheet.unreadable.clone(),
        ..StaffReading::default()
    };
    let mut usernames = HashSet::new();
    let total = sheet.records.len();
    for (done, (line, record)) in sheet.records.iter().enumerate() {
        progress(done, total);
        let line = *line;
        let cell = |name: &str| sheet.cell(record, name);
        let password = initial_password();
        let checked = plateau_app::accounts::checked_new_account(
            &cell("username"),
            &cell("family_name"),
            &cell("given_name"),
            &roles_listed(&cell("roles")),
            password.clone(),
        )
        .await;
        match checked {
            Err(error) => reading.rejected.push(Rejected {
                line,
                reason: crate::describe(&error),
            }),
            Ok(mut account) => {
                if !usernames.insert(account.username.clone()) {
                    reading.rejected.push(Rejected {
                        line,
                        reason: format!("username: {} is on an earlier line", account.username),
                    });
                    continue;
                }
                account.must_change_password = true;
                reading.colleagues.push(NewColleague {
                    line,
                    account,
                    password,
                });
            }
        }
    }
    progress(total, total);
    reading.rejected.sort_by_key(|r| r.line);
    Ok(reading)
}

/// Creates the accounts read, all in one transaction: a username already used rejects
/// its line and the file. Returns how many were created.
pub async fn import_staff(
    store: &Store,
    facility_id: i64,
    reading: &StaffReading,
) -> Result<usize, Vec<Rejected>> {
    let mut tx = store.begin().await.map_err(|e| failed(0, e))?;
    let now = chrono::Utc::now();
    let total = reading.colleagues.len();
    for colleague in &reading.colleagues {
        plateau_app::accounts::store::create(&mut tx, facility_id, &colleague.account, now)
            .await
            .map_err(|e| failed(colleague.line, e))?;
    }
    let entry = plateau_app::audit::Entry::anonymous(
        "plateau import",
        "staff.import",
        plateau_app::audit::Outcome::Allowed,
    )
    .detail(format!(
        "{total} accounts from a CSV file: {}",
        reading
            .colleagues
            .iter()
            .map(|c| format!(
                "{} [{}]",
                c.account.username,
                plateau_app::staff::role_codes(&c.account.roles)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    plateau_app::audit::record_in(&mut tx, entry)
        .await
        .map_err(|e| failed(0, e))?;
    tx.commit().await.map_err(|e| failed(0, e))?;
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

    #[tokio::test]
    async fn a_staff_file_gives_each_person_an_account_to_open_once() {
        let file = "\u{feff}username;family_name;given_name;roles\r\n\
                    m.durand;Durand;Marie;médecin\r\n\
                    p.roux;Roux;Paul;infirmier + superviseur\r\n";
        let reading = read_staff(file.as_bytes()).await.expect("readable");
        assert!(reading.rejected.is_empty(), "{:?}", reading.rejected);
        let roles: Vec<String> = reading
            .colleagues
            .iter()
            .map(|c| plateau_app::staff::role_codes(&c.account.roles))
            .collect();
        assert_eq!(roles, ["physician", "nurse,supervisor"]);
        assert!(reading.colleagues.iter().all(|c| c.account.must_change_password));
        let password = &reading.colleagues[0].password;
        assert_eq!(password.len(), 19, "{password}");
        assert_ne!(password, &reading.colleagues[1].password);
    }

    #[tokio::test]
    async fn every_bad_staff_line_is_told_with_its_reason() {
        let file = "username,family_name,given_name,roles\n\
                    M D,Durand,Marie,physician\n\
                    p.roux,Roux,Paul,surgeon\n\
                    a.petit,,Anne,nurse\n\
                    l.moreau,Moreau,Léa,nurse\n\
                    L.MOREAU,Moreau,Luc,nurse\n";
        let reading = read_staff(file.as_bytes()).await.expect("readable");
        let lines: Vec<usize> = reading.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 6], "{:?}", reading.rejected);
        assert!(reading.rejected[0].reason.contains("username"));
        assert!(reading.rejected[1].reason.contains("roles"));
        assert!(reading.rejected[2].reason.contains("family_name"));
        assert!(reading.rejected[3].reason.contains("earlier line"));
        assert!(
            read_staff(b"username,family_name\nx,y\n").await.is_err(),
            "columns missing"
        );
    }
}
