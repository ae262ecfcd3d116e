use crate::accounts::{Certification, CertificationKind};
use crate::coded_enum;
use crate::equipment::EquipmentKind;
use crate::error::Refusal;
use crate::patients::PatientVisit;
use crate::positioning::BodyPosition;
use crate::staff::{StaffPresence, StaffRole};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// How soon an order must be done.
    pub enum Priority {
        Routine = "routine",
        Urgent = "urgent",
        /// At once.
        Stat = "stat",
    }
}

impl Priority {
    /// Queue order: stat first, then urgent, then routine.
    pub fn rank(self) -> u8 {
        match self {
            Priority::Stat => 0,
            Priority::Urgent => 1,
            Priority::Routine => 2,
        }
    }
}

coded_enum! {
    /// Where a procedure stands, from the physician's order to its end.
    pub enum ProcedureState {
        Ordered = "ordered",
        /// The patient is in the procedure's room.
        Roomed = "roomed",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

coded_enum! {
    /// What staff do to a procedure.
    pub enum ProcedureStep {
        Room = "room",
        Start = "start",
        Complete = "complete",
        Cancel = "cancel",
    }
}

impl ProcedureState {
    pub fn is_open(self) -> bool {
        !matches!(self, ProcedureState::Done | ProcedureState::Cancelled)
    }

    /// The state `step` leads to from this one, or why it may not be taken.
    pub fn after(self, step: ProcedureStep) -> Result<ProcedureState, Refusal> {
        use ProcedureState::*;
        use ProcedureStep::*;
        match (self, step) {
            (Done | Cancelled, _) => Err(Refusal::AlreadyEnded),
            (Ordered, Room) => Ok(Roomed),
            (Roomed, Start) => Ok(InProgress),
            (InProgress, Complete) => Ok(Done),
            (Ordered | Roomed | InProgress, Cancel) => Ok(Cancelled),
            (Ordered, Start) => Err(Refusal::NotRoomed),
            (Ordered | Roomed, Complete) => Err(Refusal::NotStarted),
            (Roomed | InProgress, Room) => Err(Refusal::AlreadyRoomed),
            (InProgress, Start) => Err(Refusal::AlreadyStarted),
        }
    }
}

coded_enum! {
    /// What a person does on a procedure.
    pub enum StaffingRole {
        Performer = "performer",
        Helper = "helper",
        Supervisor = "supervisor",
    }
}

/// A catalog code: 2 to 40 lower-case letters, digits and underscores ("ear_irrigation").
pub fn is_catalog_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An entry of the facility's procedure catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureKind {
    pub id: i64,
    pub code: String,
    pub name_fr: String,
    pub name_en: String,
    /// The certification a performer must hold; `None`: any clinician.
    pub qualification: Option<CertificationKind>,
    /// Staff without the qualification may perform it under a supervisor who is present.
    pub supervised: bool,
    pub equipment: Vec<EquipmentKind>,
    pub default_position: BodyPosition,
    pub typical_minutes: i64,
    pub active: bool,
}

impl ProcedureKind {
    pub fn name(&self, locale: crate::i18n::Locale) -> &str {
        match locale {
            crate::i18n::Locale::Fr => &self.name_fr,
            crate::i18n::Locale::En => &self.name_en,
        }
    }
}

/// What the assignment rules need to know of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub staff_member_id: i64,
    pub roles: Vec<StaffRole>,
    pub certifications: Vec<Certification>,
    pub presence: StaffPresence,
}

/// How a performer may work on a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Supervision {
    /// Qualified: alone.
    Independent,
    /// Not qualified, but allowed under a supervisor who is present.
    Required,
}

impl Candidate {
    fn is_clinician(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                StaffRole::MedicalAssistant
                    | StaffRole::Nurse
                    | StaffRole::Phlebotomist
                    | StaffRole::Physician
                    | StaffRole::Supervisor
            )
        })
    }

    fn at_work(&self) -> Result<(), Refusal> {
        match self.presence {
            StaffPresence::OnShift => Ok(()),
            StaffPresence::Break => Err(Refusal::OnBreak),
            StaffPresence::Off => Err(Refusal::OffShift),
        }
    }

    /// Whether this person holds `kind`, valid on `today` (the facility's day).
    fn holds(&self, kind: CertificationKind, today: NaiveDate) -> Result<(), Refusal> {
        match self.certifications.iter().find(|c| c.kind == kind) {
            None => Err(Refusal::NotQualified),
            Some(c) if c.expires_on < today => Err(Refusal::CertificationExpired),
            Some(_) => Ok(()),
        }
    }

    /// May this person perform `kind` today, and how?
    pub fn may_perform(&self, kind: &ProcedureKind, today: NaiveDate) -> Result<Supervision, Refusal> {
        if !self.is_clinician() {
            return Err(Refusal::NotAClinician);
        }
        self.at_work()?;
        let Some(qualification) = kind.qualification else {
            return Ok(Supervision::Independent);
        };
        match self.holds(qualification, today) {
            Ok(()) => Ok(Supervision::Independent),
            Err(_) if kind.supervised => Ok(Supervision::Required),
            Err(refusal) => Err(if refusal == Refusal::NotQualified {
                Refusal::NotQualified
            } else {
                refusal
            }),
        }
    }

    /// May this person help on a procedure (any clinician at work)?
    pub fn may_help(&self) -> Result<(), Refusal> {
        if !self.is_clinician() {
            return Err(Refusal::NotAClinician);
        }
        self.at_work()
    }

    /// May this person supervise others on a procedure? Supervisors at work.
    pub fn may_supervise(&self) -> Result<(), Refusal> {
        if !self.roles.contains(&StaffRole::Supervisor) {
            return Err(Refusal::NotASupervisor);
        }
        self.at_work()
    }

    /// Checks this person for `role` on a procedure of `kind`.
    pub fn may_take(
        &self,
        role: StaffingRole,
        kind: &ProcedureKind,
        today: NaiveDate,
    ) -> Result<(), Refusal> {
        match role {
            StaffingRole::Performer => self.may_perform(kind, today).map(|_| ()),
            StaffingRole::Helper => self.may_help(),
            StaffingRole::Supervisor => self.may_supervise(),
        }
    }
}

/// Whether a procedure may start with this team: a performer, and if they need one, a
/// supervisor who has attested being present.
pub fn may_start(performer: Option<Supervision>, supervisor: Option<bool>) -> Result<(), Refusal> {
    match (performer, supervisor) {
        (None, _) => Err(Refusal::PerformerRequired),
        (Some(Supervision::Independent), _) => Ok(()),
        (Some(Supervision::Required), None) => Err(Refusal::SupervisorRequired),
        (Some(Supervision::Required), Some(false)) => Err(Refusal::SupervisorNotPresent),
        (Some(Supervision::Required), Some(true)) => Ok(()),
    }
}

/// Whether a person may co-sign a procedure: its supervisor, once the work is done.
pub fn may_cosign(state: ProcedureState, is_its_supervisor: bool) -> Result<(), Refusal> {
    match state {
        ProcedureState::Done if is_its_supervisor => Ok(()),
        ProcedureState::Done => Err(Refusal::NotTheSupervisor),
        ProcedureState::Cancelled => Err(Refusal::NothingToCosign),
        ProcedureState::Ordered | ProcedureState::Roomed | ProcedureState::InProgress => {
            Err(Refusal::NotEnded)
        }
    }
}

/// A person working on a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureStaff {
    pub staff_member_id: i64,
    pub name: String,
    pub role: StaffingRole,
    /// A supervisor's attestation of being present.
    #[serde(with = "crate::time::millis_opt")]
    pub present_at: Option<DateTime<Utc>>,
    /// A supervisor's co-signature of the work, once done, and their remark.
    #[serde(with = "crate::time::millis_opt")]
    pub cosigned_at: Option<DateTime<Utc>>,
    pub cosign_note: Option<String>,
}

/// One procedure as the queue, the board and the procedure page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    pub id: i64,
    pub kind: ProcedureKind,
    pub priority: Priority,
    pub note: String,
    pub state: ProcedureState,
    pub version: i64,
    pub ordered_by: String,
    #[serde(with = "crate::time::millis")]
    pub ordered_at: DateTime<Utc>,
    pub room_id: Option<i64>,
    #[serde(with = "crate::time::millis_opt")]
    pub roomed_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::millis_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::millis_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub staff: Vec<ProcedureStaff>,
    pub visit: PatientVisit,
}

impl Procedure {
    /// "Antoine Girard, Awa Diallo": who is on the procedure, as boards list them.
    pub fn team(&self) -> String {
        self.staff
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn staff_in(&self, role: StaffingRole) -> impl Iterator<Item = &ProcedureStaff> {
        self.staff.iter().filter(move |s| s.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_supervisor_cosigns_and_only_done_work() {
        assert_eq!(may_cosign(ProcedureState::Done, true), Ok(()));
        assert_eq!(
            may_cosign(ProcedureState::Done, false),
            Err(Refusal::NotTheSupervisor)
        );
        assert_eq!(
            may_cosign(ProcedureState::Cancelled, true),
            Err(Refusal::NothingToCosign)
        );
        for open in [
            ProcedureState::Ordered,
            ProcedureState::Roomed,
            ProcedureState::InProgress,
        ] {
            assert_eq!(may_cosign(open, true), Err(Refusal::NotEnded));
        }
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
    }

    fn kind(qualification: Option<CertificationKind>, supervised: bool) -> ProcedureKind {
        ProcedureKind {
            id: 1,
            code: "venipuncture".into(),
            name_fr: "Prise de sang".into(),
            name_en: "Venipuncture".into(),
            qualification,
            supervised,
            equipment: vec![],
            default_position: BodyPosition::Seated,
            typical_minutes: 10,
            active: true,
        }
    }

    fn person(
        roles: &[StaffRole],
        certs: &[(CertificationKind, NaiveDate)],
        presence: StaffPresence,
    ) -> Candidate {
        Candidate {
            staff_member_id: 7,
            roles: roles.to_vec(),
            certifications: certs
                .iter()
                .map(|(kind, expires_on)| Certification {
                    kind: *kind,
                    expires_on: *expires_on,
                })
                .collect(),
            presence,
        }
    }

    const PHLEBOTOMY: CertificationKind = CertificationKind::Phlebotomy;

    #[test]
    fn a_qualified_person_performs_alone_until_the_certification_lapses() {
        let today = day(11, 26);
        let kind = kind(Some(PHLEBOTOMY), false);
        let certified = person(
            &[StaffRole::Phlebotomist],
            &[(PHLEBOTOMY, today)],
            StaffPresence::OnShift,
        );
        // Valid through the end of its last day.
        assert_eq!(certified.may_perform(&kind, today), Ok(Supervision::Independent));
        assert_eq!(
            certified.may_perform(&kind, day(11, 27)),
            Err(Refusal::CertificationExpired)
        );
        let uncertified = person(&[StaffRole::Nurse], &[], StaffPresence::OnShift);
        assert_eq!(uncertified.may_perform(&kind, today), Err(Refusal::NotQualified));
    }

    #[test]
    fn without_the_qualification_only_under_supervision_where_allowed() {
        let today = day(11, 26);
        let supervised = kind(Some(PHLEBOTOMY), true);
        let assistant = person(&[StaffRole::MedicalAssistant], &[], StaffPresence::OnShift);
        assert_eq!(
            assistant.may_perform(&supervised, today),
            Ok(Supervision::Required)
        );
        let lapsed = person(
            &[StaffRole::MedicalAssistant],
            &[(PHLEBOTOMY, day(1, 1))],
            StaffPresence::OnShift,
        );
        assert_eq!(lapsed.may_perform(&supervised, today), Ok(Supervision::Required));
        // No qualification needed: any clinician, alone.
        assert_eq!(
            assistant.may_perform(&kind(None, false), today),
            Ok(Supervision::Independent)
        );
    }

    #[test]
    fn nobody_works_off_shift_on_a_break_or_outside_clinical_roles() {
        let today = day(11, 26);
        let any = kind(None, false);
        let off = person(&[StaffRole::Nurse], &[], StaffPresence::Off);
        assert_eq!(off.may_perform(&any, today), Err(Refusal::OffShift));
        assert_eq!(off.may_help(), Err(Refusal::OffShift));
        let resting = person(
            &[StaffRole::Nurse, StaffRole::Supervisor],
            &[],
            StaffPresence::Break,
        );
        assert_eq!(resting.may_supervise(), Err(Refusal::OnBreak));
        let desk = person(&[StaffRole::FrontDesk], &[], StaffPresence::OnShift);
        assert_eq!(desk.may_perform(&any, today), Err(Refusal::NotAClinician));
        assert_eq!(desk.may_help(), Err(Refusal::NotAClinician));
        let lab = person(&[StaffRole::LabTechnician], &[], StaffPresence::OnShift);
        assert_eq!(
            lab.may_take(StaffingRole::Helper, &any, today),
            Err(Refusal::NotAClinician)
        );
    }

    #[test]
    fn only_supervisors_supervise() {
        let nurse = person(&[StaffRole::Nurse], &[], StaffPresence::OnShift);
        assert_eq!(nurse.may_supervise(), Err(Refusal::NotASupervisor));
        let supervisor = person(
            &[StaffRole::Nurse, StaffRole::Supervisor],
            &[],
            StaffPresence::OnShift,
        );
        assert_eq!(supervisor.may_supervise(), Ok(()));
    }

    #[test]
    fn a_supervised_performer_starts_only_with_a_present_supervisor() {
        assert_eq!(may_start(None, None), Err(Refusal::PerformerRequired));
        assert_eq!(may_start(Some(Supervision::Independent), None), Ok(()));
        assert_eq!(
            may_start(Some(Supervision::Required), None),
            Err(Refusal::SupervisorRequired)
        );
        assert_eq!(
            may_start(Some(Supervision::Required), Some(false)),
            Err(Refusal::SupervisorNotPresent)
        );
        assert_eq!(may_start(Some(Supervision::Required), Some(true)), Ok(()));
    }

    #[test]
    fn procedures_move_only_forward_one_step_at_a_time() {
        use ProcedureState::*;
        use ProcedureStep::*;
        assert_eq!(Ordered.after(Room), Ok(Roomed));
        assert_eq!(Roomed.after(Start), Ok(InProgress));
        assert_eq!(InProgress.after(Complete), Ok(Done));
        for open in [Ordered, Roomed, InProgress] {
            assert_eq!(open.after(Cancel), Ok(Cancelled));
        }
        assert_eq!(Ordered.after(Complete), Err(Refusal::NotStarted));
        assert_eq!(Roomed.after(Complete), Err(Refusal::NotStarted));
        assert_eq!(Ordered.after(Start), Err(Refusal::NotRoomed));
        assert_eq!(InProgress.after(Room), Err(Refusal::AlreadyRoomed));
        assert_eq!(InProgress.after(Start), Err(Refusal::AlreadyStarted));
        // Every step from every state: either the one legal move or a refusal, and an
        // ended procedure never changes again.
        for state in ProcedureState::ALL {
            for step in ProcedureStep::ALL {
                match state.after(*step) {
                    Ok(next) => assert!(state.is_open() && next != *state, "{state} {step}"),
                    Err(_) if !state.is_open() => {}
                    Err(refusal) => assert_ne!(refusal, Refusal::AlreadyEnded, "{state} {step}"),
                }
            }
            if !state.is_open() {
                assert!(ProcedureStep::ALL
                    .iter()
                    .all(|s| state.after(*s) == Err(Refusal::AlreadyEnded)));
            }
        }
    }

    #[test]
    fn catalog_codes_are_short_lower_case_words() {
        assert!(is_catalog_code("ear_irrigation"));
        assert!(is_catalog_code("ecg"));
        for bad in [
            "",
            "x",
            "Ear",
            "ear irrigation",
            "lavage-oreille",
            "é",
            &"a".repeat(41),
        ] {
            assert!(!is_catalog_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn stat_comes_before_urgent_before_routine() {
        let mut all = Priority::ALL.to_vec();
        all.sort_by_key(|p| p.rank());
        assert_eq!(all, [Priority::Stat, Priority::Urgent, Priority::Routine]);
    }
}
