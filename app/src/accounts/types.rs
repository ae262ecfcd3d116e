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
    /// Roles asked for this account that wait for a second person.
    pub waiting_roles: Vec<StaffRole>,
    /// Today in the facility, to tell expired certifications apart.
    #[serde(with = "crate::time::days")]
    pub today: NaiveDate,
}

/// Whether an administrator's giving `role` waits for a second person: the roles that
/// open patients, and the administrator's own (a second administrator made alone could
/// confirm the first one's requests).
pub fn needs_second_person(role: StaffRole) -> bool {
    use crate::auth::Capability::*;
    role == StaffRole::Administrator
        || [OpenPatient, OpenAnyPatient, UseLab, ReviewBreakGlass]
            .into_iter()
            .any(|capability| crate::auth::allows(role, capability))
}

/// A role an administrator asked for an account, waiting for a second person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub id: i64,
    pub account_id: i64,
    /// The person it is for.
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    pub requested_by: String,
    #[serde(with = "crate::time::millis")]
    pub requested_at: chrono::DateTime<chrono::Utc>,
    /// The person looking may confirm it (not their own request, not their own account).
    pub mine_to_decide: bool,
}
