use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a person may see a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PatientAccess {
    /// They are on the visit's care team.
    CareTeam,
    /// Their role opens every patient (supervisors).
    AnyPatient,
    /// They broke the glass, with a reason; the access is flagged.
    BreakGlass,
}

/// The emergency accesses to review, most recent first, with the clock to show them by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyAccesses {
    pub clock: crate::facility::FacilityClock,
    pub entries: Vec<BreakGlassEntry>,
}

/// One emergency access, as supervisors review it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassEntry {
    pub id: i64,
    pub patient_id: i64,
    #[serde(with = "crate::time::millis")]
    pub opened_at: DateTime<Utc>,
    pub username: String,
    pub staff_name: String,
    pub patient_record_number: String,
    pub patient_name: String,
    pub reason: String,
    pub reviewed_by: Option<String>,
}

/// Reasons must say something: at least this many characters.
pub const REASON_MIN: usize = 10;
pub const REASON_MAX: usize = 500;
