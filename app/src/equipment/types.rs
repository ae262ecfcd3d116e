use crate::coded_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// Kinds of equipment a procedure may need.
    pub enum EquipmentKind {
        Ultrasound = "ultrasound",
        EcgMachine = "ecg_machine",
        EarIrrigator = "ear_irrigator",
        SutureKit = "suture_kit",
        MinorSurgeryKit = "minor_surgery_kit",
    }
}

coded_enum! {
    /// An item's state: only an available one may be reserved.
    pub enum EquipmentState {
        Available = "available",
        InUse = "in_use",
        Sterilising = "sterilising",
        OutOfService = "out_of_service",
    }
}

impl EquipmentKind {
    /// Instruments go to sterilisation after use; machines are wiped and ready again.
    pub fn needs_sterilising(self) -> bool {
        matches!(
            self,
            EquipmentKind::EarIrrigator | EquipmentKind::SutureKit | EquipmentKind::MinorSurgeryKit
        )
    }
}

/// An item of equipment, where it is and whether it is free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquipmentItem {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: EquipmentKind,
    pub room_id: Option<i64>,
    pub state: EquipmentState,
    #[serde(with = "crate::time::millis")]
    pub state_since: DateTime<Utc>,
    /// The procedure holding it, if any.
    pub held_by: Option<i64>,
}

impl EquipmentState {
    /// The states staff set by hand from this one: an item in use is freed by its
    /// procedure's end.
    pub fn manual_changes(self) -> &'static [EquipmentState] {
        use EquipmentState::*;
        match self {
            Available => &[OutOfService, Sterilising],
            Sterilising | OutOfService => &[Available],
            InUse => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruments_are_sterilised_machines_are_not() {
        assert!(EquipmentKind::SutureKit.needs_sterilising());
        assert!(!EquipmentKind::Ultrasound.needs_sterilising());
    }

    #[test]
    fn nobody_frees_an_item_in_use_by_hand() {
        assert!(EquipmentState::InUse.manual_changes().is_empty());
        for state in EquipmentState::ALL {
            assert!(!state.manual_changes().contains(&EquipmentState::InUse));
        }
    }
}
