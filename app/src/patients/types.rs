use crate::coded_enum;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// FHIR administrative gender.
    pub enum Sex {
        Female = "female",
        Male = "male",
        Other = "other",
        Unknown = "unknown",
    }
}

coded_enum! {
    /// Where a visit stands, from arrival to departure.
    pub enum VisitState {
        /// In the waiting room: arrived, or back from a room, until called in or gone home.
        Waiting = "waiting",
        /// With a clinician in an exam room.
        InExam = "in_exam",
        /// Waiting for back-office work (procedures, samples).
        Queued = "queued",
        /// In a back-office room for a procedure.
        InProcedure = "in_procedure",
        /// Gone home.
        Done = "done",
    }
}

/// The two identifiers every screen shows together: name and date of birth, plus the
/// record number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub id: i64,
    pub record_number: String,
    pub family_name: String,
    pub given_name: String,
    #[serde(with = "crate::time::days")]
    pub birth_date: NaiveDate,
    /// Sent shortened (see [`PatientSummary::shortened`]): the viewer may not see more,
    /// and screens show only the short identity.
    #[serde(default)]
    pub shortened: bool,
}

impl PatientSummary {
    /// What a list may show of a patient outside the viewer's care: initials, the year of
    /// birth and the end of the record number (enough to tell two patients on one
    /// screen apart, not to know who they are). The rest never leaves the server.
    pub fn shortened(&self) -> PatientSummary {
        let initials = |name: &str, letters: usize| name.chars().take(letters).collect::<String>();
        let chars: Vec<char> = self.record_number.chars().collect();
        PatientSummary {
            id: self.id,
            record_number: chars[chars.len().saturating_sub(4)..].iter().collect(),
            family_name: initials(&self.family_name, 2),
            given_name: initials(&self.given_name, 1),
            birth_date: NaiveDate::from_ymd_opt(self.birth_date.year(), 1, 1).unwrap_or(self.birth_date),
            shortened: true,
        }
    }

    /// "DUPONT, Marie": family name first and in capitals, as clinics write it to avoid
    /// mixing up given and family names.
    pub fn display_name(&self) -> String {
        format!("{}, {}", self.family_name.to_uppercase(), self.given_name)
    }

    /// "DU. É. · 1958 · …0001": two shortened identifiers, for wall screens where the
    /// facility chooses not to show names to the waiting room.
    pub fn short_identity(&self) -> String {
        let initials =
            |name: &str, letters: usize| name.chars().take(letters).collect::<String>().to_uppercase();
        let number: String = {
            let chars: Vec<char> = self.record_number.chars().collect();
            chars[chars.len().saturating_sub(4)..].iter().collect()
        };
        format!(
            "{}. {}. · {} · …{number}",
            initials(&self.family_name, 2),
            initials(&self.given_name, 1),
            self.birth_date.year()
        )
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        let born = self.birth_date;
        let had_birthday = (today.month(), today.day()) >= (born.month(), born.day());
        let years = today.year() - born.year() - i32::from(!had_birthday);
        u32::try_from(years).unwrap_or(0)
    }
}

/// A patient's current visit: who, why, where it stands and since when. The same shape
/// serves the patient in a room and the patient in the waiting queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientVisit {
    pub patient: PatientSummary,
    pub visit_id: i64,
    pub reason: String,
    pub state: VisitState,
    #[serde(with = "crate::time::millis")]
    pub arrived_at: DateTime<Utc>,
}

/// A patient to register, as the store receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPatient {
    pub record_number: String,
    pub family_name: String,
    pub given_name: String,
    #[serde(with = "crate::time::days")]
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub preferred_language: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn born(y: i32, m: u32, d: u32) -> PatientSummary {
        PatientSummary {
            id: 1,
            record_number: "P1".into(),
            family_name: "Martin".into(),
            given_name: "Léa".into(),
            birth_date: NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default(),
            shortened: false,
        }
    }

    #[test]
    fn a_shortened_patient_keeps_only_what_tells_two_apart() {
        let patient = PatientSummary {
            record_number: "P2026-0042".into(),
            family_name: "Ébrard".into(),
            ..born(1958, 7, 14)
        };
        let short = patient.shortened();
        assert!(short.shortened);
        assert_eq!(short.family_name, "Éb");
        assert_eq!(short.given_name, "L");
        assert_eq!(short.record_number, "0042");
        assert_eq!(
            short.birth_date,
            NaiveDate::from_ymd_opt(1958, 1, 1).unwrap_or_default()
        );
        // The short identity reads the same from the full and the shortened summary.
        assert_eq!(short.short_identity(), patient.short_identity());
        assert_eq!(short.shortened().short_identity(), patient.short_identity());
    }

    #[test]
    fn age_counts_the_birthday() {
        let p = born(1990, 6, 15);
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
        assert_eq!(p.age_on(day(6, 14)), 35);
        assert_eq!(p.age_on(day(6, 15)), 36);
    }

    #[test]
    fn wall_screens_show_initials_year_and_the_end_of_the_record_number() {
        assert_eq!(born(1990, 1, 1).short_identity(), "MA. L. · 1990 · …P1");
    }

    #[test]
    fn display_name_puts_the_family_name_first() {
        assert_eq!(born(1990, 1, 1).display_name(), "MARTIN, Léa");
    }
}
