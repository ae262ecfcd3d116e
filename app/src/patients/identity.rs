//! A patient's identity as the front desk records it, and the checks it passes before
//! it is stored: shared by the registration form, the edit form, the CSV import and
//! the front office's ADT messages, so every way in refuses the same mistakes.

use super::{PatientSummary, Sex};
use crate::coded_enum;
use crate::error::validate::Checks;
use crate::error::{AppError, Problem};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The oldest a living patient is taken to be: an older birth date is a typing error.
pub const OLDEST_AGE_YEARS: i32 = 130;
/// The longest name a form takes (HL7 v2 XPN components are shorter still).
pub const NAME_MAX: usize = 80;
/// The most allergies one record lists.
pub const ALLERGIES_MAX: usize = 30;

coded_enum! {
    /// How bad a reaction to a substance is (FHIR AllergyIntolerance criticality, with
    /// "unknown" when the patient cannot say).
    pub enum Severity {
        Mild = "mild",
        Moderate = "moderate",
        Severe = "severe",
        Unknown = "unknown",
    }
}

coded_enum! {
    /// Whether allergies were asked, and the answer: "no known allergies" is an answer,
    /// never the same as a blank.
    pub enum AllergyStatus {
        Unasked = "unasked",
        NoneKnown = "none_known",
        Recorded = "recorded",
    }
}

/// One allergy as a form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergyForm {
    pub substance: String,
    #[serde(default)]
    pub reaction: String,
    pub severity: String,
}

/// A patient's identity as a form sends it: every field as typed, checked by
/// [`IdentityForm::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityForm {
    /// Empty: Plateau assigns the next of its own numbers.
    #[serde(default)]
    pub record_number: String,
    /// Who assigned `record_number` (HL7 PID-3.4): required with a number typed in.
    #[serde(default)]
    pub assigning_authority: String,
    pub family_name: String,
    pub given_name: String,
    #[serde(default)]
    pub birth_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub sex: String,
    pub preferred_language: String,
    #[serde(default)]
    pub interpreter_needed: bool,
    #[serde(default)]
    pub trusted_person: String,
    #[serde(default)]
    pub emergency_contact: String,
    /// Kilograms, with a point or a comma ("72,5"); empty when not weighed.
    #[serde(default)]
    pub weight_kg: String,
    #[serde(default)]
    pub weighed_on: String,
    /// An [`AllergyStatus`] code; empty reads as unasked.
    #[serde(default)]
    pub allergy_status: String,
    #[serde(default)]
    pub allergies: Vec<AllergyForm>,
}

/// A weight and the day it was taken (doses are computed from it, so its age matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weight {
    pub grams: i64,
    #[serde(with = "crate::time::days")]
    pub on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allergy {
    pub substance: String,
    pub reaction: String,
    pub severity: Severity,
}

/// A checked identity, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `None` until Plateau assigns one.
    pub record_number: Option<String>,
    pub assigning_authority: String,
    pub family_name: String,
    pub given_name: String,
    pub birth_name: String,
    #[serde(with = "crate::time::days")]
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub preferred_language: String,
    pub interpreter_needed: bool,
    pub trusted_person: String,
    pub emergency_contact: String,
    pub weight: Option<Weight>,
    pub allergy_status: AllergyStatus,
    pub allergies: Vec<Allergy>,
}

/// A patient's record as the front desk and the care team read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    pub id: i64,
    /// Sent back with an edit, so that a record changed meanwhile is not overwritten.
    pub version: i64,
    pub identity: Identity,
    /// The record this one was merged into, if it was a duplicate.
    pub merged_into: Option<i64>,
}

/// What registering a patient did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Registration {
    Registered {
        patient_id: i64,
        record_number: String,
    },
    /// Nothing was stored: these records probably are the same person. Register again
    /// naming them as seen to create the record anyway.
    ProbableDuplicates(Vec<PatientSummary>),
}

/// A record number as clinics write them: letters, digits, `-`, `.` and `/`.
pub fn is_record_number(text: &str) -> bool {
    (1..=20).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'/'))
}

/// A language tag as patients' records carry them: "fr", "en", "pt-BR", "fsl" (BCP 47,
/// a primary language of two or three letters and at most two subtags).
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && rest.len() <= 2
        && rest
            .iter()
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Kilograms as typed ("72,5", "72.5", "72") to grams, at most to the gram.
fn grams_of(typed: &str) -> Option<i64> {
    let typed = typed.trim().replace(',', ".");
    let (whole, fraction) = typed.split_once('.').unwrap_or((&typed, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 4 {
        return None;
    }
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<3}").parse().ok()?;
    Some(whole * 1000 + fraction)
}

/// The lightest and heaviest weights a patient can have: anything else is a typing error.
pub const WEIGHT_GRAMS: std::ops::RangeInclusive<i64> = 200..=500_000;

impl IdentityForm {
    /// The identity, or every field at fault at once. `today` is the facility's day: a
    /// birth date or a weighing after it, or a birth over [`OLDEST_AGE_YEARS`] before, is
    /// a typing error.
    pub fn check(&self, today: NaiveDate) -> Result<Identity, AppError> {
        let mut checks = Checks::new();
        let record_number = checks.optional_text("record_number", &self.record_number, 20);
        let assigning_authority = checks.optional_text("assigning_authority", &self.assigning_authority, 40);
        if !record_number.is_empty() && !is_record_number(&record_number) {
            checks.fail("record_number", Problem::Malformed);
        }
        if !record_number.is_empty() && assigning_authority.is_empty() {
            // A number typed in is the front office's: whose it is decides who it is.
            checks.fail("assigning_authority", Problem::Required);
        }
        if record_number.is_empty() && !assigning_authority.is_empty() {
            checks.fail("record_number", Problem::Required);
        }
        let mut name = |field: &str, value: &str, required: bool| {
            let text = if required {
                checks.text(field, value, NAME_MAX)
            } else {
                checks.optional_text(field, value, NAME_MAX)
            };
            if !text.is_empty() && !text.chars().any(char::is_alphabetic) {
                checks.fail(field, Problem::Malformed);
            }
            text
        };
        let family_name = name("family_name", &self.family_name, true);
        let given_name = name("given_name", &self.given_name, true);
        let birth_name = name("birth_name", &self.birth_name, false);
        // Not `Checks::date`: its years are a form's, and a patient may be born before 1900.
        let birth_date = match NaiveDate::parse_from_str(self.birth_date.trim(), "%Y-%m-%d") {
            Err(_) => {
                checks.fail("birth_date", Problem::Malformed);
                None
            }
            Ok(born) => {
                let oldest = today.with_year(today.year() - OLDEST_AGE_YEARS).unwrap_or(today);
                if born > today || born < oldest {
                    checks.fail("birth_date", Problem::Implausible);
                }
                Some(born)
            }
        };
        let sex = Sex::from_code(self.sex.trim());
        if sex.is_none() {
            checks.fail("sex", Problem::Malformed);
        }
        let preferred_language = self.preferred_language.trim().to_owned();
        if preferred_language.is_empty() {
            checks.fail("preferred_language", Problem::Required);
        } else if !is_language_tag(&preferred_language) {
            checks.fail("preferred_language", Problem::Malformed);
        }
        let trusted_person = checks.optional_text("trusted_person", &self.trusted_person, 200);
        let emergency_contact = checks.optional_text("emergency_contact", &self.emergency_contact, 200);
        let weight = self.checked_weight(&mut checks, today, birth_date);
        let (allergy_status, allergies) = self.checked_allergies(&mut checks);
        checks.finish()?;
        let (Some(birth_date), Some(sex), Some(allergy_status)) = (birth_date, sex, allergy_status) else {
            return Err(AppError::Malformed);
        };
        Ok(Identity {
            record_number: (!record_number.is_empty()).then_some(record_number),
            assigning_authority,
            family_name,
            given_name,
            birth_name,
            birth_date,
            sex,
            preferred_language,
            interpreter_needed: self.interpreter_needed,
            trusted_person,
            emergency_contact,
            weight,
            allergy_status,
            allergies,
        })
    }

    fn checked_weight(
        &self,
        checks: &mut Checks,
        today: NaiveDate,
        born: Option<NaiveDate>,
    ) -> Option<Weight> {
        if self.weight_kg.trim().is_empty() {
            if !self.weighed_on.trim().is_empty() {
                checks.fail("weight_kg", Problem::Required);
            }
            return None;
        }
        let grams = grams_of(&self.weight_kg);
        match grams {
            None => checks.fail("weight_kg", Problem::Malformed),
            Some(grams) if !WEIGHT_GRAMS.contains(&grams) => checks.fail("weight_kg", Problem::Implausible),
            Some(_) => {}
        }
        if self.weighed_on.trim().is_empty() {
            checks.fail("weighed_on", Problem::Required);
            return None;
        }
        let on = checks.date("weighed_on", &self.weighed_on)?;
        if on > today || born.is_some_and(|born| on < born) {
            checks.fail("weighed_on", Problem::Implausible);
            return None;
        }
        Some(Weight {
            grams: grams.filter(|g| WEIGHT_GRAMS.contains(g))?,
            on,
        })
    }

    fn checked_allergies(&self, checks: &mut Checks) -> (Option<AllergyStatus>, Vec<Allergy>) {
        let status = match self.allergy_status.trim() {
            "" => Some(AllergyStatus::Unasked),
            code => AllergyStatus::from_code(code),
        };
        if status.is_none() {
            checks.fail("allergy_status", Problem::Malformed);
        }
        if self.allergies.len() > ALLERGIES_MAX {
            checks.fail("allergies", Problem::TooLong);
            return (status, Vec::new());
        }
        let mut allergies = Vec::with_capacity(self.allergies.len());
        for allergy in &self.allergies {
            let substance = checks.text("allergies", &allergy.substance, 120);
            let reaction = checks.optional_text("allergies", &allergy.reaction, 200);
            let Some(severity) = Severity::from_code(allergy.severity.trim()) else {
                checks.fail("allergies", Problem::Malformed);
                continue;
            };
            allergies.push(Allergy {
                substance,
                reaction,
                severity,
            });
        }
        match status {
            Some(AllergyStatus::Recorded) if self.allergies.is_empty() => {
                checks.fail("allergies", Problem::Required)
            }
            Some(AllergyStatus::Unasked | AllergyStatus::NoneKnown) if !self.allergies.is_empty() => {
                // "No known allergies" beside a listed allergy: one of the two is wrong.
                checks.fail("allergy_status", Problem::Mismatch)
            }
            _ => {}
        }
        (status, allergies)
    }
}

impl Identity {
    /// The identity as the form shows it, to edit it.
    pub fn form(&self) -> IdentityForm {
        IdentityForm {
            record_number: self.record_number.clone().unwrap_or_default(),
            assigning_authority: self.assigning_authority.clone(),
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            birth_name: self.birth_name.clone(),
            birth_date: self.birth_date.format("%Y-%m-%d").to_string(),
            sex: self.sex.code().to_owned(),
            preferred_language: self.preferred_language.clone(),
            interpreter_needed: self.interpreter_needed,
            trusted_person: self.trusted_person.clone(),
            emergency_contact: self.emergency_contact.clone(),
            weight_kg: self
                .weight
                .map(|w| format!("{}.{:03}", w.grams / 1000, w.grams % 1000))
                .unwrap_or_default(),
            weighed_on: self
                .weight
                .map(|w| w.on.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            allergy_status: self.allergy_status.code().to_owned(),
            allergies: self
                .allergies
                .iter()
                .map(|a| AllergyForm {
                    substance: a.substance.clone(),
                    reaction: a.reaction.clone(),
                    severity: a.severity.code().to_owned(),
                })
                .collect(),
        }
    }

    /// What changed from `self` to `after`, one "field: «old» → «new»" a change, for the
    /// audit trail (identity changes are audited with the value they replace).
    pub fn changes_to(&self, after: &Identity) -> Vec<String> {
        let (before, after) = (self.form(), after.form());
        let allergies = |form: &IdentityForm| {
            form.allergies
                .iter()
                .map(|a| format!("{} ({}, {})", a.substance, a.reaction, a.severity))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (allergies_before, allergies_after) = (allergies(&before), allergies(&after));
        let fields: [(&str, String, String); 15] = [
            ("record_number", before.record_number, after.record_number),
            (
                "assigning_authority",
                before.assigning_authority,
                after.assigning_authority,
            ),
            ("family_name", before.family_name, after.family_name),
            ("given_name", before.given_name, after.given_name),
            ("birth_name", before.birth_name, after.birth_name),
            ("birth_date", before.birth_date, after.birth_date),
            ("sex", before.sex, after.sex),
            (
                "preferred_language",
                before.preferred_language,
                after.preferred_language,
            ),
            (
                "interpreter_needed",
                before.interpreter_needed.to_string(),
                after.interpreter_needed.to_string(),
            ),
            ("trusted_person", before.trusted_person, after.trusted_person),
            (
                "emergency_contact",
                before.emergency_contact,
                after.emergency_contact,
            ),
            ("weight_kg", before.weight_kg, after.weight_kg),
            ("weighed_on", before.weighed_on, after.weighed_on),
            ("allergy_status", before.allergy_status, after.allergy_status),
            ("allergies", allergies_before, allergies_after),
        ];
        fields
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .map(|(field, old, new)| format!("{field}: «{old}» → «{new}»"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default()
    }

    fn form() -> IdentityForm {
        IdentityForm {
            family_name: "Œuvray".into(),
            given_name: "Hélène".into(),
            birth_date: "1971-06-02".into(),
            sex: "female".into(),
            preferred_language: "fr".into(),
            ..IdentityForm::default()
        }
    }

    fn problems(form: &IdentityForm) -> Vec<(String, Problem)> {
        match form.check(today()) {
            Err(AppError::Invalid(fields)) => fields.into_iter().map(|f| (f.field, f.problem)).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_identity_passes_and_plateau_assigns_the_number() {
        let identity = form().check(today()).expect("valid");
        assert_eq!(identity.record_number, None);
        assert_eq!(identity.allergy_status, AllergyStatus::Unasked);
        assert_eq!(identity.weight, None);
    }

    #[test]
    fn birth_dates_in_the_future_or_over_130_years_ago_are_typing_errors() {
        for (born, ok) in [
            ("2026-12-03", true),
            ("2026-12-04", false),
            ("1896-12-03", true),
            ("1896-12-02", false),
            ("03/12/1990", false),
        ] {
            let form = IdentityForm {
                birth_date: born.into(),
                ..form()
            };
            assert_eq!(form.check(today()).is_ok(), ok, "{born}");
        }
    }

    #[test]
    fn names_of_spaces_control_characters_or_no_letter_are_refused() {
        for bad in ["   ", "\u{200B}\u{200B}", "Du\u{0}rand", "12345", "--"] {
            let form = IdentityForm {
                family_name: bad.into(),
                ..form()
            };
            let problems = problems(&form);
            assert!(
                problems.iter().any(|(field, _)| field == "family_name"),
                "{bad:?}: {problems:?}"
            );
        }
        let long = IdentityForm {
            given_name: "a".repeat(NAME_MAX + 1),
            ..form()
        };
        assert_eq!(problems(&long), vec![("given_name".into(), Problem::TooLong)]);
    }

    #[test]
    fn a_front_office_number_comes_with_its_authority() {
        let number_only = IdentityForm {
            record_number: "123456".into(),
            ..form()
        };
        assert_eq!(
            problems(&number_only),
            vec![("assigning_authority".into(), Problem::Required)]
        );
        let both = IdentityForm {
            assigning_authority: "CHU-NANTES".into(),
            ..number_only.clone()
        };
        assert_eq!(
            both.check(today()).map(|i| i.record_number),
            Ok(Some("123456".into()))
        );
        let spaces = IdentityForm {
            record_number: "12 34".into(),
            ..both
        };
        assert_eq!(
            problems(&spaces),
            vec![("record_number".into(), Problem::Malformed)]
        );
    }

    #[test]
    fn weights_are_read_in_kilograms_with_a_comma_or_a_point_and_need_their_day() {
        assert_eq!(grams_of("72,5"), Some(72_500));
        assert_eq!(grams_of("72.125"), Some(72_125));
        assert_eq!(grams_of("3"), Some(3_000));
        for bad in ["", "7,2,5", "-3", "1e3", "72.1255", ".5"] {
            assert_eq!(grams_of(bad), None, "{bad}");
        }
        let weighed = IdentityForm {
            weight_kg: "72,5".into(),
            weighed_on: "2026-12-01".into(),
            ..form()
        };
        assert_eq!(
            weighed.check(today()).map(|i| i.weight),
            Ok(Some(Weight {
                grams: 72_500,
                on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
            }))
        );
        let undated = IdentityForm {
            weighed_on: String::new(),
            ..weighed.clone()
        };
        assert_eq!(problems(&undated), vec![("weighed_on".into(), Problem::Required)]);
        let heavy = IdentityForm {
            weight_kg: "750".into(),
            ..weighed.clone()
        };
        assert_eq!(problems(&heavy), vec![("weight_kg".into(), Problem::Implausible)]);
        let before_birth = IdentityForm {
            weighed_on: "1960-01-01".into(),
            ..weighed
        };
        assert_eq!(
            problems(&before_birth),
            vec![("weighed_on".into(), Problem::Implausible)]
        );
    }

    #[test]
    fn no_known_allergies_is_an_answer_that_lists_none() {
        let peanut = AllergyForm {
            substance: "Arachide".into(),
            reaction: "Urticaire".into(),
            severity: "severe".into(),
        };
        let none_known = IdentityForm {
            allergy_status: "none_known".into(),
            ..form()
        };
        assert_eq!(
            none_known.check(today()).map(|i| i.allergy_status),
            Ok(AllergyStatus::NoneKnown)
        );
        let contradicted = IdentityForm {
            allergies: vec![peanut.clone()],
            ..none_known
        };
        assert_eq!(
            problems(&contradicted),
            vec![("allergy_status".into(), Problem::Mismatch)]
        );
        let recorded_without_any = IdentityForm {
            allergy_status: "recorded".into(),
            ..form()
        };
        assert_eq!(
            problems(&recorded_without_any),
            vec![("allergies".into(), Problem::Required)]
        );
        let recorded = IdentityForm {
            allergies: vec![peanut],
            ..recorded_without_any
        };
        assert_eq!(recorded.check(today()).map(|i| i.allergies.len()), Ok(1));
    }

    #[test]
    fn every_problem_is_told_at_once() {
        let bad = IdentityForm {
            family_name: String::new(),
            birth_date: "2030-01-01".into(),
            sex: "f".into(),
            preferred_language: "French".into(),
            ..form()
        };
        let fields: Vec<String> = problems(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["family_name", "birth_date", "sex", "preferred_language"]);
    }

    #[test]
    fn changes_name_the_old_value() {
        let before = form().check(today()).expect("valid");
        let after = IdentityForm {
            family_name: "Oeuvray-Martin".into(),
            ..form()
        }
        .check(today())
        .expect("valid");
        assert_eq!(
            before.changes_to(&after),
            vec!["family_name: «Œuvray» → «Oeuvray-Martin»".to_owned()]
        );
        assert!(before.changes_to(&before).is_empty());
        assert_eq!(before.form().check(today()), Ok(before));
    }

    #[test]
    fn language_tags() {
        for ok in ["fr", "en", "pt-BR", "fsl", "zh-Hant-TW"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "F", "french", "fr_FR", "fr-", "fr-a-b-c"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}
