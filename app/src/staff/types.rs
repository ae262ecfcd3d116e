use crate::coded_enum;
use serde::{Deserialize, Serialize};

coded_enum! {
    /// What a staff member is employed as; a person may hold several roles.
    pub enum StaffRole {
        MedicalAssistant = "medical_assistant",
        Nurse = "nurse",
        Phlebotomist = "phlebotomist",
        LabTechnician = "lab_technician",
        Physician = "physician",
        Supervisor = "supervisor",
        FrontDesk = "front_desk",
        Administrator = "administrator",
    }
}

coded_enum! {
    /// Whether a person is working now. Being busy in a room follows from the procedures
    /// they are assigned to.
    pub enum StaffPresence {
        Off = "off",
        OnShift = "on_shift",
        Break = "break",
    }
}

/// "nurse,supervisor": roles as the audit trail records them.
pub fn role_codes(roles: &[StaffRole]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: i64,
    pub family_name: String,
    pub given_name: String,
    pub roles: Vec<StaffRole>,
    pub active: bool,
}

/// "Léa Martin": how colleagues name each other, on the board and everywhere else.
pub fn display_name(given_name: &str, family_name: &str) -> String {
    format!("{given_name} {family_name}")
}

impl StaffMember {
    pub fn display_name(&self) -> String {
        display_name(&self.given_name, &self.family_name)
    }
}

/// A staff member to register, as the store receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStaffMember {
    pub family_name: String,
    pub given_name: String,
    pub roles: Vec<StaffRole>,
}
