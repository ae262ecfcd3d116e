use crate::auth::SessionSummary;
use crate::coded_enum;
use crate::staff::StaffRole;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

coded_enum! {
    /// A certification a person may hold, each valid until a date.
    pub enum CertificationKind {
        /// Basic Life Support.
        Bls = "bls",
        /// Advanced Cardiovascular Life Support.
        Acls = "acls",
        Phlebotomy = "phlebotomy",
        MedicalAssistant = "medical_assistant",
        WoundCare = "wound_care",
        Ultrasound = "ultrasound",
        Ecg = "ecg",
        IvTherapy = "iv_therapy",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certification {
    pub kind: CertificationKind,
    /// Valid through the end of this facility day.
    #[serde(with = "crate::time::days")]
    pub expires_on: NaiveDate,
}

impl Certification {
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        day <= self.expires_on
    }
}

/// One account in the administrators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub account_id: i64,
    pub username: String,
    pub family_name: String,
    pub given_name: String,
    pub roles: Vec<StaffRole>,
    pub active: bool,
    pub open_sessions: i64,
}

impl AccountSummary {
    pub fn display_name(&self) -> String {
        crate::staff::display_name(&self.given_name, &self.family_name)
    }
}

/// One account in full, for its edit page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub summary: AccountSummary,
    pub has_pin: bool,
    pub certifications: Vec<Certification>,
    pub sessions: Vec<SessionSummary>,
    /// Today in the facility, to tell expired certifications apart.
    #[serde(with = "crate::time::days")]
    pub today: NaiveDate,
}
