//! Finding a patient as the front desk types: names (without accents or capitals), a date
//! of birth, a record number, in any order in one field.

use super::PatientSummary;
use crate::error::AppError;
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The most words of a name one search looks for; the longest are kept.
pub const NAME_WORDS: usize = 3;
/// The most patients one search answers with: more means type more.
pub const SEARCH_LIMIT: usize = 25;

/// What a search found, best first, and whether there were more than it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSearch {
    pub patients: Vec<PatientSummary>,
    pub more: bool,
}

/// A search as typed, read into its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientQuery {
    /// Folded words of a name, each the start of a word of the patient's names.
    pub name_words: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    /// A record number, exactly (letters in capitals).
    pub record_number: Option<String>,
}

impl PatientQuery {
    /// Reads "durand 14/03/1958", "DEMO-0001" or "1958-03-14 élise": a word that is a
    /// date (day/month/year or year-month-day) is the date of birth, a word with a digit
    /// the record number, the rest the name. `fold` is the server's name folding.
    pub fn read(typed: &str, fold: fn(&str) -> String) -> PatientQuery {
        let mut query = PatientQuery::default();
        for word in typed.split_whitespace() {
            if let Some(date) = typed_date(word) {
                query.birth_date = Some(date);
            } else if word.chars().any(|c| c.is_ascii_digit()) {
                query.record_number = Some(word.to_uppercase());
            } else {
                for folded in fold(word).split(' ').filter(|w| !w.is_empty()) {
                    if !query.name_words.iter().any(|w| w == folded) {
                        query.name_words.push(folded.to_owned());
                    }
                }
            }
        }
        // The longest words narrow the most.
        query.name_words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        query.name_words.truncate(NAME_WORDS);
        query
    }

    pub fn is_empty(&self) -> bool {
        self.name_words.is_empty() && self.birth_date.is_none() && self.record_number.is_none()
    }
}

/// "14/03/1958", "14.03.1958", "1958-03-14": a date of birth as desks type them.
fn typed_date(word: &str) -> Option<NaiveDate> {
    ["%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(word, format).ok())
}

/// Finds patients of this clinic by what the front desk typed. Every patient answered is
/// named in the audit trail; an empty or over-long search is refused.
#[server(prefix = "/api", endpoint = "patients", client = crate::shell::SubmissionClient)]
pub async fn search_patients(typed: String) -> Result<PatientSearch, AppError> {
    use crate::auth::{require, Capability};
    use crate::error::{validate::Checks, Problem};
    let principal = require(Capability::RegisterPatients).await?;
    let mut checks = Checks::new();
    let typed = checks.text("typed", &typed, 120);
    checks.finish()?;
    let query = PatientQuery::read(&typed, super::matching::fold);
    if query.is_empty() {
        return Err(AppError::invalid("typed", Problem::Malformed));
    }
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::current_clock(&store).await?;
    let Some(facility_id) = facility_id else {
        return Ok(PatientSearch {
            patients: Vec::new(),
            more: false,
        });
    };
    let mut patients = super::store::search(&store, facility_id, &query, SEARCH_LIMIT + 1).await?;
    let more = patients.len() > SEARCH_LIMIT;
    patients.truncate(SEARCH_LIMIT);
    crate::audit::record_patients_listed(
        &store,
        &principal,
        "patient.search",
        patients.iter().map(|p| p.id),
    )
    .await?;
    Ok(PatientSearch { patients, more })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(word: &str) -> String {
        word.to_lowercase()
    }

    #[test]
    fn a_search_reads_names_dates_and_record_numbers_in_any_order() {
        let query = PatientQuery::read("Durand 14/03/1958", lower);
        assert_eq!(query.name_words, vec!["durand"]);
        assert_eq!(query.birth_date, NaiveDate::from_ymd_opt(1958, 3, 14));
        assert_eq!(query.record_number, None);
        let query = PatientQuery::read("demo-0001", lower);
        assert_eq!(query.record_number.as_deref(), Some("DEMO-0001"));
        assert!(query.name_words.is_empty());
        let query = PatientQuery::read("1958-03-14   élise  ", lower);
        assert_eq!(query.name_words, vec!["élise"]);
        assert!(query.birth_date.is_some());
    }

    #[test]
    fn the_longest_name_words_are_kept_once() {
        let query = PatientQuery::read("a bb ccc dddd bb", lower);
        assert_eq!(query.name_words, vec!["dddd", "ccc", "bb"]);
    }

    #[test]
    fn an_impossible_date_is_no_date() {
        let query = PatientQuery::read("31/02/1958", lower);
        assert_eq!(query.birth_date, None);
        assert_eq!(query.record_number.as_deref(), Some("31/02/1958"));
        assert!(PatientQuery::read("   ", lower).is_empty());
    }
}
