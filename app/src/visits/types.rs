use crate::coded_enum;
use crate::patients::PatientSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest reason for a visit the desk types.
pub const VISIT_REASON_MAX: usize = 200;
/// Who may be on a visit's care team.
pub const CLINICIANS: [crate::staff::StaffRole; 4] = [
    crate::staff::StaffRole::Physician,
    crate::staff::StaffRole::Nurse,
    crate::staff::StaffRole::MedicalAssistant,
    crate::staff::StaffRole::Phlebotomist,
];
/// The most people named on a care team at check-in.
pub const CARE_TEAM_MAX: usize = 12;

coded_enum! {
    /// What may still be pending when a patient leaves: each one holds the discharge.
    pub enum PendingKind {
        /// An in-house test ordered with no verified result yet.
        PendingResult = "pending_result",
        /// A critical value nobody has acknowledged.
        UnacknowledgedCritical = "unacknowledged_critical",
        /// A procedure ordered, roomed or under way.
        OpenProcedure = "open_procedure",
        /// A specimen collected and not yet received by the lab.
        SpecimenNotReceived = "specimen_not_received",
    }
}

/// One thing still pending on a visit, named in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    pub kind: PendingKind,
    /// The order, alert, procedure or specimen.
    pub item_id: i64,
    pub name_fr: String,
    pub name_en: String,
}

impl PendingItem {
    pub fn name(&self, locale: crate::i18n::Locale) -> &str {
        match locale {
            crate::i18n::Locale::Fr => &self.name_fr,
            crate::i18n::Locale::En => &self.name_en,
        }
    }
}

/// What ending a visit did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Discharge {
    /// The visit is over; its room, if any, went to housekeeping. The pending items it
    /// was ended with are on the follow-up list.
    Ended { followed_up_later: Vec<PendingItem> },
    /// Nothing changed: these are pending. End it again with a reason to leave anyway.
    Held(Vec<PendingItem>),
}

/// A pending item a visit was ended with, on the list until someone follows it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub id: i64,
    pub visit_id: i64,
    pub patient: PatientSummary,
    pub item: PendingItem,
    pub reason: String,
    /// Who ended the visit; `None`: the front office's system (an A03).
    pub ended_by: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub ended_at: DateTime<Utc>,
}

/// A visit under way, as the front desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenVisit {
    pub visit_id: i64,
    pub state: crate::patients::VisitState,
    pub reason: String,
    #[serde(with = "crate::time::millis")]
    pub arrived_at: DateTime<Utc>,
    /// The room the patient is in, by name.
    pub room: Option<String>,
    pub attending: Option<String>,
}

/// A member of staff the desk may name on a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChoice {
    pub id: i64,
    pub name: String,
}

/// The desk's view of a patient's visit: the one under way, or whom a check-in may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitAtDesk {
    pub clock: crate::facility::FacilityClock,
    pub open: Option<OpenVisit>,
    /// Active physicians, for the attending.
    pub physicians: Vec<StaffChoice>,
    /// Active clinicians, for the care team.
    pub clinicians: Vec<StaffChoice>,
}
