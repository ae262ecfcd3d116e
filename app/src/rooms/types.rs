use crate::coded_enum;
use crate::patients::PatientVisit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// What a room is for.
    pub enum RoomKind {
        Exam = "exam",
        Procedure = "procedure",
        Lab = "lab",
        Imaging = "imaging",
    }
}

coded_enum! {
    /// Room status, HL7 v2 table 0116 (bed status).
    pub enum RoomStatus {
        Closed = "C",
        Housekeeping = "H",
        Isolated = "I",
        Contaminated = "K",
        Occupied = "O",
        Unoccupied = "U",
    }
}

impl RoomStatus {
    /// Whether a patient may be brought into the room now.
    pub fn is_available(self) -> bool {
        self == RoomStatus::Unoccupied
    }

    /// Whether the room needs cleaning before its next patient.
    pub fn needs_cleaning(self) -> bool {
        matches!(self, RoomStatus::Housekeeping | RoomStatus::Contaminated)
    }

    /// The statuses staff may set by hand from this one. A room becomes occupied only
    /// when a patient is brought in, and stops being so when they leave; a room waiting
    /// for cleaning becomes available only through a cleaning attestation.
    pub fn manual_changes(self) -> &'static [RoomStatus] {
        use RoomStatus::*;
        match self {
            Unoccupied => &[Closed, Contaminated],
            Closed | Isolated => &[Unoccupied],
            Housekeeping => &[Contaminated],
            Contaminated | Occupied => &[],
        }
    }
}

coded_enum! {
    /// What a cleaning attestation ticks off.
    pub enum CleaningItem {
        /// Work surfaces, table or chair, door handles wiped with disinfectant.
        Surfaces = "surfaces",
        /// A new sterile field and instruments laid out.
        SterileField = "sterile_field",
        /// Sharps container checked and closed or replaced.
        Sharps = "sharps",
        /// Linen and paper sheet changed.
        Linen = "linen",
        /// Equipment in the room (probe, cables) disinfected.
        Equipment = "equipment",
    }
}

impl RoomKind {
    /// What cleaning this kind of room takes before its next patient.
    pub fn cleaning_checklist(self) -> &'static [CleaningItem] {
        use CleaningItem::*;
        match self {
            RoomKind::Exam => &[Surfaces, Linen],
            RoomKind::Procedure => &[Surfaces, SterileField, Sharps, Linen],
            RoomKind::Imaging => &[Surfaces, Equipment, Linen],
            RoomKind::Lab => &[Surfaces, Sharps],
        }
    }

    /// Whether patients are brought here for procedures. Patients never enter the lab,
    /// and exam rooms belong to the consultations.
    pub fn takes_procedures(self) -> bool {
        matches!(self, RoomKind::Procedure | RoomKind::Imaging)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: RoomKind,
    pub status: RoomStatus,
    #[serde(with = "crate::time::millis")]
    pub status_since: DateTime<Utc>,
}

/// The last time a room was made ready: who attested it, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleaning {
    pub cleaned_by: String,
    #[serde(with = "crate::time::millis")]
    pub attested_at: DateTime<Utc>,
}

/// A room as the rooms screen and the board show it: with the patient in it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomOverview {
    pub room: Room,
    pub occupant: Option<PatientVisit>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_hl7_table_0116() {
        let codes: Vec<&str> = RoomStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, ["C", "H", "I", "K", "O", "U"]);
    }

    #[test]
    fn only_an_unoccupied_room_takes_a_patient() {
        for status in RoomStatus::ALL {
            assert_eq!(status.is_available(), *status == RoomStatus::Unoccupied);
        }
        assert!(RoomStatus::Housekeeping.needs_cleaning());
        assert!(RoomStatus::Contaminated.needs_cleaning());
        assert!(!RoomStatus::Occupied.needs_cleaning());
    }

    #[test]
    fn nobody_occupies_or_frees_a_room_by_hand() {
        for status in RoomStatus::ALL {
            let changes = status.manual_changes();
            assert!(!changes.contains(&RoomStatus::Occupied), "{status}");
            assert!(!changes.contains(status), "{status} to itself");
        }
        assert!(RoomStatus::Occupied.manual_changes().is_empty());
        for dirty in [RoomStatus::Housekeeping, RoomStatus::Contaminated] {
            assert!(
                !dirty.manual_changes().contains(&RoomStatus::Unoccupied),
                "{dirty}"
            );
        }
        assert_eq!(RoomStatus::Closed.manual_changes(), &[RoomStatus::Unoccupied]);
    }

    #[test]
    fn every_room_kind_has_a_cleaning_checklist_with_surfaces() {
        for kind in RoomKind::ALL {
            assert!(
                kind.cleaning_checklist().contains(&CleaningItem::Surfaces),
                "{kind}"
            );
        }
        assert!(RoomKind::Procedure
            .cleaning_checklist()
            .contains(&CleaningItem::SterileField));
        assert!(!RoomKind::Lab.takes_procedures());
        assert!(!RoomKind::Exam.takes_procedures());
    }
}
