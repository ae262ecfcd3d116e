use crate::coded_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// Patient positions, by their SNOMED CT codes (body position findings).
    pub enum BodyPosition {
        Seated = "33586001",
        Supine = "40199007",
        Prone = "1240000",
        LeftLateral = "102536004",
        RightLateral = "102535000",
        Fowler = "30212006",
        SemiFowler = "426408003",
        Lithotomy = "14205002",
        Trendelenburg = "34106002",
        ReverseTrendelenburg = "423413008",
    }
}

coded_enum! {
    /// Places where a position puts weight on the body: padded and checked.
    pub enum PressurePoint {
        Occiput = "occiput",
        Ears = "ears",
        Face = "face",
        Shoulders = "shoulders",
        Scapulae = "scapulae",
        Elbows = "elbows",
        Chest = "chest",
        IliacCrests = "iliac_crests",
        Sacrum = "sacrum",
        IschialTuberosities = "ischial_tuberosities",
        Trochanter = "trochanter",
        Knees = "knees",
        Calves = "calves",
        Malleoli = "malleoli",
        Heels = "heels",
        Toes = "toes",
    }
}

coded_enum! {
    /// Supports and padding used to hold a position.
    pub enum Support {
        Pillow = "pillow",
        GelPad = "gel_pad",
        FoamWedge = "foam_wedge",
        ArmBoard = "arm_board",
        HeelProtector = "heel_protector",
        KneeSupport = "knee_support",
        Stirrups = "stirrups",
        HeadRing = "head_ring",
        SafetyStrap = "safety_strap",
    }
}

impl BodyPosition {
    /// The pressure points to pad and check in this position.
    pub fn pressure_points(self) -> &'static [PressurePoint] {
        use BodyPosition::*;
        use PressurePoint::*;
        match self {
            Supine => &[Occiput, Scapulae, Elbows, Sacrum, Heels],
            Prone => &[Face, Chest, IliacCrests, Knees, Toes],
            LeftLateral | RightLateral => &[Ears, Shoulders, Trochanter, Knees, Malleoli],
            Seated => &[Scapulae, Elbows, IschialTuberosities, Heels],
            Fowler | SemiFowler => &[Occiput, Scapulae, Sacrum, IschialTuberosities, Heels],
            Lithotomy => &[Sacrum, Knees, Calves, Heels],
            Trendelenburg => &[Occiput, Shoulders, Scapulae, Elbows, Sacrum, Heels],
            ReverseTrendelenburg => &[Occiput, Scapulae, Elbows, Sacrum, Heels],
        }
    }
}

/// Reads codes: every one known, none repeated; `None` for anything else. Blank entries
/// (unticked boxes) are skipped.
pub fn parse_code_list<'a, T>(codes: impl IntoIterator<Item = &'a str>) -> Option<Vec<T>>
where
    T: TryFrom<String> + PartialEq + Copy,
{
    let mut list = Vec::new();
    for code in codes.into_iter().map(str::trim).filter(|c| !c.is_empty()) {
        let code = T::try_from(code.to_owned()).ok()?;
        if list.contains(&code) {
            return None;
        }
        list.push(code);
    }
    Some(list)
}

/// Reads "pillow,gel_pad", as stored.
pub fn parse_codes<T: TryFrom<String> + PartialEq + Copy>(text: &str) -> Option<Vec<T>> {
    parse_code_list(text.split(','))
}

/// Codes as stored: "pillow,gel_pad".
pub fn join_codes<T: std::fmt::Display>(codes: &[T]) -> String {
    codes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A placement of the patient: the first for the procedure, or a repositioning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positioning {
    pub position: BodyPosition,
    pub supports: Vec<Support>,
    pub points_checked: Vec<PressurePoint>,
    pub placed_by: String,
    #[serde(with = "crate::time::millis")]
    pub placed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_position_has_its_snomed_code_and_pressure_points() {
        assert_eq!(BodyPosition::Supine.code(), "40199007");
        assert_eq!(BodyPosition::Seated.code(), "33586001");
        assert_eq!(BodyPosition::Lithotomy.code(), "14205002");
        assert_eq!(BodyPosition::ALL.len(), 10);
        for position in BodyPosition::ALL {
            assert!(!position.pressure_points().is_empty(), "{position}");
        }
        assert_eq!(
            BodyPosition::Supine.pressure_points(),
            &[
                PressurePoint::Occiput,
                PressurePoint::Scapulae,
                PressurePoint::Elbows,
                PressurePoint::Sacrum,
                PressurePoint::Heels
            ]
        );
    }

    #[test]
    fn code_lists_read_back_and_refuse_unknown_or_repeated_codes() {
        let supports = parse_codes::<Support>("pillow, gel_pad");
        assert_eq!(supports, Some(vec![Support::Pillow, Support::GelPad]));
        assert_eq!(join_codes(&supports.unwrap_or_default()), "pillow,gel_pad");
        assert_eq!(parse_codes::<Support>(""), Some(vec![]));
        assert_eq!(parse_codes::<Support>("pillow,sofa"), None);
        assert_eq!(parse_codes::<Support>("pillow,pillow"), None);
    }
}
