//! The demo clinic: a small French clinic's back office on a busy morning. Every name is
//! invented and every record number starts with DEMO, so nobody mistakes it for real data.

mod lab;

pub use lab::{DEMO_INTERFACE_TOKEN, DEMO_SENDING_FACILITY, DEMO_SHIPPED_PLACER};

use crate::accounts::store::NewAccount;
use crate::accounts::{Certification, CertificationKind};
use crate::equipment::EquipmentKind;
use crate::patients::store::{create_patient, create_visit, NewVisit};
use crate::patients::{NewPatient, Sex, VisitState};
use crate::positioning::BodyPosition;
use crate::procedures::{Priority, ProcedureKind, ProcedureState};
use crate::rooms::store::NewRoom;
use crate::rooms::{RoomKind, RoomStatus};
use crate::staff::StaffPresence;
use crate::staff::{NewStaffMember, StaffRole};
use crate::store::{Backend, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Seeded,
    /// The database already holds a clinic; nothing was written.
    AlreadyPresent,
}

const ROOMS: &[(&str, &str, RoomKind)] = &[
    ("E1", "Consultation 1", RoomKind::Exam),
    ("E2", "Consultation 2", RoomKind::Exam),
    ("E3", "Consultation 3", RoomKind::Exam),
    ("E4", "Consultation 4", RoomKind::Exam),
    ("S1", "Soins 1", RoomKind::Procedure),
    ("S2", "Soins 2", RoomKind::Procedure),
    ("S3", "Petite chirurgie", RoomKind::Procedure),
    ("LAB", "Laboratoire", RoomKind::Lab),
    ("IMG", "Échographie", RoomKind::Imaging),
];

/// The demo clinic's staff: family name, given name, username, roles. Everyone has an
/// account with the password [`DEMO_PASSWORD`] and the PIN [`DEMO_PIN`].
const STAFF: &[(&str, &str, &str, &[StaffRole])] = &[
    ("Lefèvre", "Camille", "c.lefevre", &[StaffRole::Physician]),
    (
        "Nguyen",
        "Thomas",
        "t.nguyen",
        &[StaffRole::Physician, StaffRole::Supervisor],
    ),
    ("Benali", "Yasmine", "y.benali", &[StaffRole::Physician]),
    (
        "Morel",
        "Julie",
        "j.morel",
        &[StaffRole::Nurse, StaffRole::Supervisor],
    ),
    ("Girard", "Antoine", "a.girard", &[StaffRole::Nurse]),
    ("Diallo", "Aminata", "a.diallo", &[StaffRole::MedicalAssistant]),
    ("Roux", "Lucas", "l.roux", &[StaffRole::MedicalAssistant]),
    (
        "Fontaine",
        "Chloé",
        "c.fontaine",
        &[StaffRole::MedicalAssistant, StaffRole::Phlebotomist],
    ),
    ("Mercier", "Hugo", "h.mercier", &[StaffRole::Phlebotomist]),
    ("Chevalier", "Inès", "i.chevalier", &[StaffRole::LabTechnician]),
    (
        "Perrin",
        "Marc",
        "m.perrin",
        &[StaffRole::LabTechnician, StaffRole::Supervisor],
    ),
    ("Lambert", "Sophie", "s.lambert", &[StaffRole::FrontDesk]),
    ("Faure", "Nicolas", "n.faure", &[StaffRole::Administrator]),
];

/// The demo accounts' password and PIN, printed in the README. Demo data only.
pub const DEMO_PASSWORD: &str = "tilleuls-demo";
pub const DEMO_PIN: &str = "2468";

/// One demo account per role, as the README lists them.
pub const DEMO_ACCOUNT_PER_ROLE: &[(StaffRole, &str)] = &[
    (StaffRole::Physician, "c.lefevre"),
    (StaffRole::Nurse, "a.girard"),
    (StaffRole::MedicalAssistant, "a.diallo"),
    (StaffRole::Phlebotomist, "h.mercier"),
    (StaffRole::LabTechnician, "i.chevalier"),
    (StaffRole::Supervisor, "j.morel"),
    (StaffRole::FrontDesk, "s.lambert"),
    (StaffRole::Administrator, "n.faure"),
];

/// Who cares for the patients in rooms: (room code, usernames). Everyone else opens
/// those patients only by breaking the glass.
const CARE_TEAMS: &[(&str, &[&str])] = &[
    ("E1", &["c.lefevre", "a.diallo"]),
    ("E2", &["c.lefevre", "l.roux"]),
    ("E4", &["y.benali", "c.fontaine"]),
    ("S1", &["c.lefevre", "a.girard", "a.diallo"]),
    ("S3", &["y.benali", "a.girard"]),
    ("IMG", &["t.nguyen", "h.mercier"]),
];

/// Certifications of the demo staff: (username, kind, days from today until expiry).
/// One has lapsed, so the screens have an expired certification to show.
const CERTIFICATIONS: &[(&str, CertificationKind, i64)] = &[
    ("a.diallo", CertificationKind::MedicalAssistant, 400),
    ("a.diallo", CertificationKind::Bls, 200),
    ("l.roux", CertificationKind::MedicalAssistant, 300),
    ("l.roux", CertificationKind::Bls, -10),
    ("c.fontaine", CertificationKind::Phlebotomy, 500),
    ("c.fontaine", CertificationKind::MedicalAssistant, 120),
    ("h.mercier", CertificationKind::Phlebotomy, 250),
    ("a.girard", CertificationKind::Bls, 180),
    ("a.girard", CertificationKind::WoundCare, 365),
    ("j.morel", CertificationKind::Acls, 90),
    ("t.nguyen", CertificationKind::Ultrasound, 700),
    ("y.benali", CertificationKind::WoundCare, 600),
    ("c.lefevre", CertificationKind::WoundCare, 450),
    ("j.morel", CertificationKind::Ecg, 300),
    ("a.girard", CertificationKind::Ecg, 30),
];

/// The demo catalog: (code, French name, English name, required certification, whether
/// it may be done under supervision without it, equipment, default position, minutes).
type DemoKind = (
    &'static str,
    &'static str,
    &'static str,
    Option<CertificationKind>,
    bool,
    &'static [EquipmentKind],
    BodyPosition,
    i64,
);
const CATALOG: &[DemoKind] = &[
    (
        "ear_irrigation",
        "Lavage d'oreille",
        "Ear irrigation",
        Some(CertificationKind::MedicalAssistant),
        false,
        &[EquipmentKind::EarIrrigator],
        BodyPosition::Seated,
        15,
    ),
    (
        "venipuncture",
        "Prise de sang veineuse",
        "Venipuncture",
        Some(CertificationKind::Phlebotomy),
        true,
        &[],
        BodyPosition::Seated,
        10,
    ),
    (
        "capillary_sample",
        "Prélèvement capillaire",
        "Capillary sample",
        None,
        false,
        &[],
        BodyPosition::Seated,
        5,
    ),
    (
        "wound_check",
        "Contrôle de plaie",
        "Wound check",
        Some(CertificationKind::WoundCare),
        true,
        &[],
        BodyPosition::Supine,
        15,
    ),
    (
        "laceration_repair",
        "Suture de plaie",
        "Laceration repair",
        Some(CertificationKind::WoundCare),
        false,
        &[EquipmentKind::SutureKit],
        BodyPosition::Supine,
        30,
    ),
    (
        "suture_removal",
        "Ablation des fils",
        "Suture removal",
        Some(CertificationKind::WoundCare),
        true,
        &[],
        BodyPosition::Seated,
        10,
    ),
    (
        "us_fna",
        "Cytoponction échoguidée",
        "Ultrasound-guided fine-needle aspiration",
        Some(CertificationKind::Ultrasound),
        false,
        &[EquipmentKind::Ultrasound],
        BodyPosition::Supine,
        30,
    ),
    (
        "minor_excision",
        "Exérèse cutanée",
        "Minor excision",
        Some(CertificationKind::WoundCare),
        false,
        &[EquipmentKind::MinorSurgeryKit],
        BodyPosition::Supine,
        45,
    ),
    (
        "injection",
        "Injection",
        "Injection",
        Some(CertificationKind::MedicalAssistant),
        true,
        &[],
        BodyPosition::Seated,
        5,
    ),
    (
        "ecg",
        "Électrocardiogramme",
        "Electrocardiogram",
        Some(CertificationKind::Ecg),
        true,
        &[EquipmentKind::EcgMachine],
        BodyPosition::Supine,
        15,
    ),
    (
        "dressing",
        "Pansement",
        "Dressing",
        None,
        false,
        &[],
        BodyPosition::Supine,
        15,
    ),
];

/// The demo equipment: (code, name, kind, room).
const EQUIPMENT: &[(&str, &str, EquipmentKind, &str)] = &[
    ("ECHO-1", "Échographe portable", EquipmentKind::Ultrasound, "IMG"),
    ("ECG-1", "Électrocardiographe", EquipmentKind::EcgMachine, "S2"),
    (
        "IRR-1",
        "Irrigateur auriculaire 1",
        EquipmentKind::EarIrrigator,
        "S1",
    ),
    (
        "IRR-2",
        "Irrigateur auriculaire 2",
        EquipmentKind::EarIrrigator,
        "S2",
    ),
    ("SUT-1", "Boîte de suture 1", EquipmentKind::SutureKit, "S1"),
    ("SUT-2", "Boîte de suture 2", EquipmentKind::SutureKit, "S3"),
    (
        "CHIR-1",
        "Boîte de petite chirurgie",
        EquipmentKind::MinorSurgeryKit,
        "S3",
    ),
];

/// Who is not simply on shift this morning.
const PRESENCE: &[(&str, StaffPresence)] =
    &[("l.roux", StaffPresence::Break), ("m.perrin", StaffPresence::Off)];

/// The procedures of the morning, by the patient's family name: (patient, procedure,
/// priority, state, performer, helper, equipment held).
type DemoProcedure = (
    &'static str,
    &'static str,
    Priority,
    ProcedureState,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);
const PROCEDURES: &[DemoProcedure] = &[
    (
        "Garnier",
        "laceration_repair",
        Priority::Urgent,
        ProcedureState::InProgress,
        Some("a.girard"),
        Some("a.diallo"),
        Some("SUT-1"),
    ),
    (
        "Rousseau",
        "minor_excision",
        Priority::Routine,
        ProcedureState::Roomed,
        Some("y.benali"),
        None,
        None,
    ),
    (
        "Haddad",
        "us_fna",
        Priority::Routine,
        ProcedureState::InProgress,
        Some("t.nguyen"),
        Some("h.mercier"),
        Some("ECHO-1"),
    ),
    (
        "Blanc",
        "venipuncture",
        Priority::Routine,
        ProcedureState::Ordered,
        None,
        None,
        None,
    ),
    (
        "Martinez",
        "suture_removal",
        Priority::Routine,
        ProcedureState::Ordered,
        None,
        None,
        None,
    ),
    (
        "Lemoine",
        "ecg",
        Priority::Urgent,
        ProcedureState::Ordered,
        None,
        None,
        None,
    ),
    (
        "Kowalski",
        "injection",
        Priority::Routine,
        ProcedureState::Ordered,
        None,
        None,
        None,
    ),
    (
        "Bertrand",
        "capillary_sample",
        Priority::Stat,
        ProcedureState::Ordered,
        None,
        None,
        None,
    ),
];

/// A demo patient and their visit: where they are and how long ago they arrived.
struct DemoVisit {
    family_name: &'static str,
    given_name: &'static str,
    birth: (i32, u32, u32),
    sex: Sex,
    language: &'static str,
    reason: &'static str,
    state: VisitState,
    room: Option<&'static str>,
    arrived_minutes_ago: i64,
}

#[allow(clippy::too_many_arguments)] // one row of the demo table, read positionally
const fn visit(
    family_name: &'static str,
    given_name: &'static str,
    birth: (i32, u32, u32),
    sex: Sex,
    language: &'static str,
    reason: &'static str,
    state: VisitState,
    room: Option<&'static str>,
    arrived_minutes_ago: i64,
) -> DemoVisit {
    DemoVisit {
        family_name,
        given_name,
        birth,
        sex,
        language,
        reason,
        state,
        room,
        arrived_minutes_ago,
    }
}

use Sex::{Female as F, Male as M};
use VisitState::{Done, InExam, InProcedure, Queued, Waiting};

const VISITS: &[DemoVisit] = &[
    visit(
        "Durand",
        "Élise",
        (1958, 3, 14),
        F,
        "fr",
        "Bouchon de cérumen, oreille droite",
        InExam,
        Some("E1"),
        34,
    ),
    visit(
        "Petit",
        "Karim",
        (1991, 11, 2),
        M,
        "fr",
        "Plaie de la main gauche",
        InExam,
        Some("E2"),
        21,
    ),
    visit(
        "Oliveira",
        "Ana",
        (1984, 6, 27),
        F,
        "pt",
        "Bilan diabète",
        InExam,
        Some("E4"),
        12,
    ),
    visit(
        "Garnier",
        "Paul",
        (1972, 1, 9),
        M,
        "fr",
        "Lacération du cuir chevelu",
        InProcedure,
        Some("S1"),
        58,
    ),
    visit(
        "Rousseau",
        "Margaux",
        (2001, 8, 19),
        F,
        "fr",
        "Exérèse d'un naevus",
        InProcedure,
        Some("S3"),
        75,
    ),
    visit(
        "Haddad",
        "Samir",
        (1966, 4, 30),
        M,
        "ar",
        "Nodule thyroïdien, cytoponction",
        InProcedure,
        Some("IMG"),
        49,
    ),
    visit(
        "Blanc",
        "Odile",
        (1949, 12, 3),
        F,
        "fr",
        "Prise de sang à jeun",
        Queued,
        None,
        41,
    ),
    visit(
        "Martinez",
        "Lucía",
        (1995, 2, 11),
        F,
        "es",
        "Ablation des fils, genou",
        Queued,
        None,
        33,
    ),
    visit(
        "Lemoine",
        "Bernard",
        (1953, 7, 22),
        M,
        "fr",
        "ECG de contrôle",
        Queued,
        None,
        27,
    ),
    visit(
        "Kowalski",
        "Piotr",
        (1979, 10, 5),
        M,
        "en",
        "Vaccin antitétanique",
        Queued,
        None,
        19,
    ),
    visit(
        "Bertrand",
        "Nina",
        (2015, 5, 16),
        F,
        "fr",
        "Glycémie capillaire",
        Queued,
        None,
        8,
    ),
    visit(
        "Simon",
        "Gérard",
        (1944, 9, 28),
        M,
        "fr",
        "Contrôle de plaie, jambe",
        Waiting,
        None,
        15,
    ),
    visit(
        "Traoré",
        "Fatoumata",
        (1988, 3, 3),
        F,
        "fr",
        "Douleur d'oreille",
        Waiting,
        None,
        13,
    ),
    visit(
        "Muller",
        "Jonas",
        (1999, 1, 25),
        M,
        "en",
        "Entorse de cheville",
        Waiting,
        None,
        11,
    ),
    visit(
        "Dubois",
        "Hélène",
        (1961, 6, 8),
        F,
        "fr",
        "Renouvellement d'ordonnance",
        Waiting,
        None,
        9,
    ),
    visit(
        "Fournier",
        "Léo",
        (2010, 12, 30),
        M,
        "fr",
        "Morsure de chien, avant-bras",
        Waiting,
        None,
        6,
    ),
    visit(
        "Nakamura",
        "Yui",
        (1993, 4, 12),
        F,
        "en",
        "Certificat de sport",
        Waiting,
        None,
        2,
    ),
    visit(
        "Moreau",
        "Jacqueline",
        (1938, 2, 17),
        F,
        "fr",
        "Pansement d'ulcère",
        Done,
        None,
        140,
    ),
    visit(
        "André",
        "Mathis",
        (2004, 9, 9),
        M,
        "fr",
        "Injection intramusculaire",
        Done,
        None,
        120,
    ),
    visit(
        "Aubert",
        "Claire",
        (1976, 11, 21),
        F,
        "fr",
        "Résultats d'analyse",
        Done,
        None,
        95,
    ),
];

/// Status of each room that is not simply occupied or free: one being cleaned, one
/// contaminated after a procedure, for the board to show every colour it has.
const ROOM_STATUS: &[(&str, RoomStatus)] =
    &[("E3", RoomStatus::Housekeeping), ("S2", RoomStatus::Contaminated)];

/// Loads the demo clinic into an empty database. Running it again changes nothing.
pub async fn seed(store: &Store, now: DateTime<Utc>) -> Result<SeedOutcome, StoreError> {
    let mut tx = store.begin().await?;
    if store.backend() == Backend::Postgres {
        // Two app servers started with --demo must not both load a clinic. (SQLite's
        // BEGIN IMMEDIATE already serialises writers.)
        crate::execute!(tx.exec(), "LOCK TABLE facility IN SHARE ROW EXCLUSIVE MODE")?;
    }
    let facilities = crate::fetch_scalar!(tx.exec(), i64, "SELECT COUNT(*) FROM facility")?;
    if facilities > 0 {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let facility_id =
        crate::facility::store::create(&mut tx, "Clinique des Tilleuls (démo)", "Europe/Paris", now).await?;

    let mut room_ids = Vec::with_capacity(ROOMS.len());
    for (order, (code, name, kind)) in (0_i64..).zip(ROOMS) {
        let occupied = VISITS.iter().any(|v| v.room == Some(*code));
        let status = ROOM_STATUS
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, s)| *s)
            .unwrap_or(if occupied {
                RoomStatus::Occupied
            } else {
                RoomStatus::Unoccupied
            });
        let room = NewRoom {
            code,
            name,
            kind: *kind,
            status,
            sort_order: order,
        };
        let since = now - Duration::minutes(5 + order * 7);
        room_ids.push((
            *code,
            crate::rooms::store::create(&mut tx, facility_id, &room, since).await?,
        ));
    }

    // One hash for every demo account: the password is published anyway, and hashing
    // thirteen times would slow every start with --demo for nothing.
    let password_hash = crate::auth::password::hash(DEMO_PASSWORD.to_owned()).await?;
    let pin_hash = crate::auth::password::hash(DEMO_PIN.to_owned()).await?;
    let mut staff_ids = Vec::with_capacity(STAFF.len());
    for (family_name, given_name, username, roles) in STAFF {
        let account = NewAccount {
            username: (*username).to_owned(),
            family_name: (*family_name).to_owned(),
            given_name: (*given_name).to_owned(),
            roles: roles.to_vec(),
            password_hash: password_hash.clone(),
            pin_hash: Some(pin_hash.clone()),
            must_change_password: false,
        };
        let member = NewStaffMember {
            family_name: account.family_name.clone(),
            given_name: account.given_name.clone(),
            roles: account.roles.clone(),
        };
        let staff_id = crate::staff::store::create(&mut tx, facility_id, &member).await?;
        crate::accounts::store::attach(&mut tx, staff_id, &account, now).await?;
        staff_ids.push((*username, staff_id));
    }
    let staff_id = |username: &str| {
        staff_ids
            .iter()
            .find(|(u, _)| *u == username)
            .map(|(_, id)| *id)
            .ok_or_else(|| StoreError::Database(format!("demo staff {username} missing")))
    };
    let today = now.date_naive();
    for (username, kind, days) in CERTIFICATIONS {
        let certification = Certification {
            kind: *kind,
            expires_on: today + Duration::days(*days),
        };
        crate::accounts::store::set_certification(&mut tx, staff_id(username)?, &certification).await?;
    }

    let mut visit_ids = Vec::with_capacity(VISITS.len());
    for (number, v) in (1..).zip(VISITS) {
        let (year, month, day) = v.birth;
        let patient = NewPatient {
            record_number: format!("DEMO-{number:04}"),
            family_name: v.family_name.to_owned(),
            given_name: v.given_name.to_owned(),
            birth_date: NaiveDate::from_ymd_opt(year, month, day)
                .ok_or_else(|| StoreError::Database(format!("bad demo birth date for {}", v.family_name)))?,
            sex: v.sex,
            preferred_language: v.language.to_owned(),
        };
        let patient_id = create_patient(&mut tx, facility_id, &patient).await?;
        let room_id = v
            .room
            .and_then(|code| room_ids.iter().find(|(c, _)| *c == code).map(|(_, id)| *id));
        let arrived_at = now - Duration::minutes(v.arrived_minutes_ago);
        let ended_at = (v.state == Done).then(|| arrived_at + Duration::minutes(45));
        let new_visit = NewVisit {
            patient_id,
            reason: v.reason,
            arrived_at,
            state: v.state,
            room_id,
            ended_at,
        };
        let visit_id = create_visit(&mut tx, &new_visit).await?;
        let team = CARE_TEAMS
            .iter()
            .find(|(room, _)| Some(*room) == v.room)
            .map(|(_, team)| *team);
        for username in team.unwrap_or_default() {
            crate::care::store::assign(&mut tx, visit_id, staff_id(username)?, arrived_at).await?;
        }
        visit_ids.push((v.family_name, visit_id, room_id, arrived_at));
    }

    for (_, _, username, _) in STAFF {
        let presence = PRESENCE
            .iter()
            .find(|(u, _)| u == username)
            .map_or(StaffPresence::OnShift, |(_, p)| *p);
        crate::staff::store::set_presence(&mut tx, staff_id(username)?, presence, now - Duration::hours(2))
            .await?;
    }
    let mut kind_ids = Vec::with_capacity(CATALOG.len());
    for (code, name_fr, name_en, qualification, supervised, equipment, position, minutes) in CATALOG {
        let kind = ProcedureKind {
            id: 0,
            code: (*code).to_owned(),
            name_fr: (*name_fr).to_owned(),
            name_en: (*name_en).to_owned(),
            qualification: *qualification,
            supervised: *supervised,
            equipment: equipment.to_vec(),
            default_position: *position,
            typical_minutes: *minutes,
            active: true,
        };
        kind_ids.push((
            *code,
            crate::procedures::store::save_kind(&mut tx, facility_id, &kind).await?,
        ));
    }
    let mut equipment_ids = Vec::with_capacity(EQUIPMENT.len());
    for (code, name, kind, room) in EQUIPMENT {
        let room_id = room_ids.iter().find(|(c, _)| c == room).map(|(_, id)| *id);
        let item = crate::equipment::store::NewItem {
            code,
            name,
            kind: *kind,
            room_id,
        };
        equipment_ids.push((
            *code,
            crate::equipment::store::create(&mut tx, facility_id, &item, now).await?,
        ));
    }
    let physician = staff_id("c.lefevre")?;
    for (patient, kind, priority, state, performer, helper, held) in PROCEDURES {
        let missing = |what: &str| StoreError::Database(format!("demo {what} missing for {patient}"));
        let (_, visit_id, room_id, arrived_at) = *visit_ids
            .iter()
            .find(|(name, _, _, _)| name == patient)
            .ok_or_else(|| missing("visit"))?;
        let kind_id = kind_ids
            .iter()
            .find(|(c, _)| c == kind)
            .map(|(_, id)| *id)
            .ok_or_else(|| missing("kind"))?;
        let order = crate::procedures::store::NewOrder {
            visit_id,
            kind_id,
            priority: *priority,
            note: "",
            ordered_by: physician,
        };
        let ordered_at = arrived_at + Duration::minutes(3);
        let id = crate::procedures::store::order(&mut tx, &order, ordered_at).await?;
        let started = ordered_at + Duration::minutes(5);
        if let Some(room_id) = room_id {
            use crate::procedures::store::{advance, Change};
            let roomed = Change::Roomed { room_id };
            advance(&mut tx, id, 1, ProcedureState::Roomed, roomed, started).await?;
            if *state == ProcedureState::InProgress {
                let by = Change::Started { by: physician };
                advance(&mut tx, id, 2, ProcedureState::InProgress, by, started).await?;
            }
        }
        for (username, role) in [
            (performer, crate::procedures::StaffingRole::Performer),
            (helper, crate::procedures::StaffingRole::Helper),
        ] {
            if let Some(username) = username {
                let staff = staff_id(username)?;
                crate::procedures::store::assign(&mut tx, id, staff, role, physician, started).await?;
                crate::care::store::assign(&mut tx, visit_id, staff, started).await?;
            }
        }
        if let Some(code) = held {
            let item = equipment_ids
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, id)| *id)
                .ok_or_else(|| missing("item"))?;
            crate::equipment::store::reserve(&mut tx, item, id, physician, started).await?;
            crate::equipment::store::set_state(
                &mut tx,
                item,
                crate::equipment::EquipmentState::InUse,
                started,
            )
            .await?;
        }
    }
    let visit_of = |name: &str| {
        visit_ids
            .iter()
            .find(|(n, _, _, _)| *n == name)
            .map(|(_, id, _, _)| *id)
            .ok_or_else(|| StoreError::Database(format!("demo visit {name} missing")))
    };
    lab::seed(&mut tx, facility_id, now, &visit_of, &staff_id).await?;
    crate::facility::store::save_settings(
        &mut tx,
        facility_id,
        &crate::facility::FacilitySettings::default(),
    )
    .await?;
    tx.commit().await?;
    Ok(SeedOutcome::Seeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_clinic_is_big_enough_to_show_everything() {
        let count = |kind| ROOMS.iter().filter(|(_, _, k)| *k == kind).count();
        assert!(count(RoomKind::Exam) >= 4);
        assert!(count(RoomKind::Procedure) >= 3);
        assert!(count(RoomKind::Lab) >= 1);
        assert!(count(RoomKind::Imaging) >= 1);
        assert!(STAFF.len() >= 12);
        assert!(VISITS.len() >= 20);
        for state in VisitState::ALL {
            assert!(
                VISITS.iter().any(|v| v.state == *state),
                "no demo visit in state {state}"
            );
        }
    }

    #[test]
    fn patients_in_rooms_are_in_rooms_that_exist_and_never_in_the_lab() {
        for v in VISITS {
            let in_room = matches!(v.state, InExam | InProcedure);
            assert_eq!(v.room.is_some(), in_room, "{}", v.family_name);
            if let Some(code) = v.room {
                let room = ROOMS.iter().find(|(c, _, _)| *c == code);
                assert!(room.is_some_and(|(_, _, kind)| *kind != RoomKind::Lab));
            }
        }
    }

    #[test]
    fn every_role_is_staffed() {
        for role in StaffRole::ALL {
            assert!(
                STAFF.iter().any(|(_, _, _, roles)| roles.contains(role)),
                "{role}"
            );
        }
    }

    #[test]
    fn every_role_has_a_demo_account_that_holds_it() {
        for role in StaffRole::ALL {
            let (_, username) = DEMO_ACCOUNT_PER_ROLE
                .iter()
                .find(|(r, _)| r == role)
                .unwrap_or_else(|| panic!("no demo account for {role}"));
            assert!(STAFF
                .iter()
                .any(|(_, _, u, roles)| u == username && roles.contains(role)));
            assert!(crate::accounts::username_problem(username).is_none());
        }
    }

    #[test]
    fn every_patient_waiting_for_the_back_office_has_an_order() {
        for v in VISITS.iter().filter(|v| matches!(v.state, Queued | InProcedure)) {
            assert!(
                PROCEDURES.iter().any(|(patient, ..)| *patient == v.family_name),
                "{}",
                v.family_name
            );
        }
        for (patient, kind, _, _, _, _, held) in PROCEDURES {
            assert!(VISITS.iter().any(|v| v.family_name == *patient), "{patient}");
            assert!(CATALOG.iter().any(|(code, ..)| code == kind), "{kind}");
            if let Some(held) = held {
                assert!(EQUIPMENT.iter().any(|(code, ..)| code == held), "{held}");
            }
        }
    }

    #[test]
    fn care_teams_name_demo_staff_in_occupied_rooms() {
        for (room, team) in CARE_TEAMS {
            assert!(VISITS.iter().any(|v| v.room == Some(*room)), "{room}");
            for username in *team {
                assert!(STAFF.iter().any(|(_, _, u, _)| u == username), "{username}");
            }
        }
        for (username, _, _) in CERTIFICATIONS {
            assert!(STAFF.iter().any(|(_, _, u, _)| u == username), "{username}");
        }
    }
}
