//! The one access policy: which role may do what, which capability every endpoint and
//! page needs. The server enforces it on every request (router layer and each server
//! function); the interface uses the same table to show only what a person may do.

use crate::coded_enum;
use crate::staff::StaffRole;

coded_enum! {
    /// Something a person may be allowed to do.
    pub enum Capability {
        /// The rooms screen and a room's status.
        ViewRooms = "view_rooms",
        /// Close a room, report it contaminated, make it available again.
        ChangeRoomStatus = "change_room_status",
        /// The board of rooms, waiting patients and staff.
        ViewBoard = "view_board",
        /// A patient's details, when on the visit's care team (or through break-glass).
        OpenPatient = "open_patient",
        /// Any patient's details without being on the care team.
        OpenAnyPatient = "open_any_patient",
        /// Emergency access to a patient outside one's assignments, with a reason.
        BreakGlass = "break_glass",
        /// The list of emergency accesses, to review them (it names patients, so it is the
        /// supervisors', not the administrators').
        ReviewBreakGlass = "review_break_glass",
        /// The lab workstation.
        UseLab = "use_lab",
        /// Order procedures for a visit (the examining physician).
        OrderProcedures = "order_procedures",
        /// Room patients, staff procedures, position patients, start and end procedures.
        PerformProcedures = "perform_procedures",
        /// Who is where, each person's load, what awaits co-signature; anyone's presence.
        SuperviseStaff = "supervise_staff",
        /// The procedure catalog and the facility's back-office settings.
        EditCatalog = "edit_catalog",
        /// Create, edit and deactivate accounts, roles and certifications; end anyone's sessions.
        ManageAccounts = "manage_accounts",
        /// Read and export the audit trail.
        ReadAudit = "read_audit",
        /// Turn the screen one is signed in on into a wall board (its own sign-in, which
        /// reaches the board alone).
        SetUpWallBoard = "set_up_wall_board",
        /// Find, register and check in patients (the front desk's work).
        RegisterPatients = "register_patients",
        /// Merge two records of one person (a duplicate) into one.
        MergePatients = "merge_patients",
        /// End a visit (the patient has gone home), naming what is still pending.
        EndVisits = "end_visits",
        /// Call a waiting patient into an exam room.
        CallPatients = "call_patients",
        /// Set the clinic up: rooms, equipment, reference labs.
        SetUpFacility = "set_up_facility",
    }
}

/// Whether `role` grants `capability`. Every rule of the clinic in one match: the
/// administrator runs accounts and the audit but opens no patient; patients never enter
/// the lab, so the lab is for those who work in it.
pub fn allows(role: StaffRole, capability: Capability) -> bool {
    use Capability::*;
    use StaffRole::*;
    match capability {
        ViewRooms | ViewBoard => matches!(
            role,
            MedicalAssistant | Nurse | Phlebotomist | Physician | Supervisor | FrontDesk
        ),
        OpenPatient => matches!(
            role,
            MedicalAssistant | Nurse | Phlebotomist | Physician | Supervisor
        ),
        ChangeRoomStatus => matches!(role, MedicalAssistant | Nurse | Physician | Supervisor),
        OpenAnyPatient => matches!(role, Supervisor),
        BreakGlass => matches!(role, MedicalAssistant | Nurse | Phlebotomist | Physician),
        ReviewBreakGlass => matches!(role, Supervisor),
        UseLab => matches!(role, LabTechnician | Phlebotomist | Supervisor),
        OrderProcedures => matches!(role, Physician),
        PerformProcedures => matches!(
            role,
            MedicalAssistant | Nurse | Phlebotomist | Physician | Supervisor
        ),
        SuperviseStaff => matches!(role, Supervisor),
        ManageAccounts | ReadAudit | EditCatalog => matches!(role, Administrator),
        SetUpWallBoard => matches!(role, Supervisor | Administrator),
        RegisterPatients => matches!(role, FrontDesk | Supervisor),
        MergePatients => matches!(role, Supervisor | Administrator),
        EndVisits => matches!(
            role,
            FrontDesk | Supervisor | Physician | Nurse | MedicalAssistant
        ),
        CallPatients => matches!(role, Physician | Nurse | MedicalAssistant | Supervisor),
        SetUpFacility => matches!(role, Administrator),
    }
}

/// Whether any of a person's roles grants `capability`.
pub fn any_allows(roles: &[StaffRole], capability: Capability) -> bool {
    roles.iter().any(|role| allows(*role, capability))
}

/// Whether a session grants `capability`: a wall board grants the board and nothing
/// else, whoever set it up; any other session, what its person's roles grant.
pub fn session_allows(roles: &[StaffRole], wall_board: bool, capability: Capability) -> bool {
    if wall_board {
        capability == Capability::ViewBoard
    } else {
        any_allows(roles, capability)
    }
}

/// The endpoints a wall board reaches besides the public ones: the board, its live
/// link, and signing out (which ends wall board mode). Anything else is refused, even
/// what any signed-in person may call, so a screen on a wall can change nothing.
pub const WALL_BOARD_REACHES: &[&str] = &["/api/board", "/api/sign_out", crate::live::SUBSCRIBE_PATH];

/// Whether a wall board may call the endpoint at `path` that needs `access`.
pub fn wall_board_reaches(path: &str, access: Access) -> bool {
    access == Access::Public || WALL_BOARD_REACHES.contains(&path)
}

/// Who may call an endpoint or open a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself, the language, the patient help page).
    Public,
    /// Anyone signed in, even on a locked screen (unlock, sign out, own session state).
    SignedInEvenLocked,
    /// Anyone signed in with an unlocked screen (own account, own sessions).
    SignedIn,
    /// Signed in, unlocked, and holding the capability.
    Needs(Capability),
}

/// Every server function, by path, with the access it needs. The router refuses a path
/// that is not listed here, and a test checks that this table and the registered server
/// functions agree, so a new endpoint cannot go out without a decision.
pub const ENDPOINTS: &[(&str, Access)] = &[
    ("/api/language", Access::Public),
    ("/api/sign_in", Access::Public),
    ("/api/session", Access::Public),
    ("/api/activity", Access::Public),
    ("/api/sign_out", Access::SignedInEvenLocked),
    ("/api/lock", Access::SignedInEvenLocked),
    ("/api/wall_board", Access::Needs(Capability::SetUpWallBoard)),
    ("/api/unlock", Access::SignedInEvenLocked),
    ("/api/my_sessions", Access::SignedIn),
    ("/api/my_presence", Access::SignedIn),
    ("/api/end_my_session", Access::SignedIn),
    ("/api/set_pin", Access::SignedIn),
    ("/api/change_password", Access::SignedIn),
    // A supervisor or an administrator; checked in the functions, which name both.
    ("/api/role_grants", Access::SignedIn),
    ("/api/decide_role_grant", Access::SignedIn),
    ("/api/rooms", Access::Needs(Capability::ViewRooms)),
    ("/api/room", Access::Needs(Capability::ViewRooms)),
    ("/api/room_status", Access::Needs(Capability::ChangeRoomStatus)),
    ("/api/live_position", Access::SignedIn),
    ("/api/board", Access::Needs(Capability::ViewBoard)),
    ("/api/patients", Access::Needs(Capability::RegisterPatients)),
    (
        "/api/register_patient",
        Access::Needs(Capability::RegisterPatients),
    ),
    ("/api/patient_record", Access::Needs(Capability::RegisterPatients)),
    ("/api/update_patient", Access::Needs(Capability::RegisterPatients)),
    ("/api/merge_patients", Access::Needs(Capability::MergePatients)),
    ("/api/check_in", Access::Needs(Capability::RegisterPatients)),
    ("/api/visit_desk", Access::Needs(Capability::RegisterPatients)),
    (
        "/api/held_admissions",
        Access::Needs(Capability::RegisterPatients),
    ),
    (
        "/api/resolve_held_admission",
        Access::Needs(Capability::RegisterPatients),
    ),
    ("/api/save_room", Access::Needs(Capability::SetUpFacility)),
    ("/api/retire_room", Access::Needs(Capability::SetUpFacility)),
    ("/api/rooms_to_set_up", Access::Needs(Capability::SetUpFacility)),
    (
        "/api/facility_to_set_up",
        Access::Needs(Capability::SetUpFacility),
    ),
    ("/api/save_facility", Access::Needs(Capability::SetUpFacility)),
    (
        "/api/equipment_to_set_up",
        Access::Needs(Capability::SetUpFacility),
    ),
    ("/api/save_equipment", Access::Needs(Capability::SetUpFacility)),
    ("/api/retire_equipment", Access::Needs(Capability::SetUpFacility)),
    (
        "/api/interfaces_to_set_up",
        Access::Needs(Capability::SetUpFacility),
    ),
    ("/api/save_interface", Access::Needs(Capability::SetUpFacility)),
    ("/api/revoke_interface", Access::Needs(Capability::SetUpFacility)),
    ("/api/call_patient", Access::Needs(Capability::CallPatients)),
    ("/api/end_visit", Access::Needs(Capability::EndVisits)),
    (
        "/api/discharge_follow_ups",
        Access::Needs(Capability::SuperviseStaff),
    ),
    ("/api/follow_up", Access::Needs(Capability::SuperviseStaff)),
    ("/api/break_glass", Access::Needs(Capability::BreakGlass)),
    (
        "/api/break_glass_log",
        Access::Needs(Capability::ReviewBreakGlass),
    ),
    (
        "/api/review_break_glass",
        Access::Needs(Capability::ReviewBreakGlass),
    ),
    ("/api/accounts", Access::Needs(Capability::ManageAccounts)),
    ("/api/account", Access::Needs(Capability::ManageAccounts)),
    ("/api/create_account", Access::Needs(Capability::ManageAccounts)),
    ("/api/update_account", Access::Needs(Capability::ManageAccounts)),
    (
        "/api/set_account_active",
        Access::Needs(Capability::ManageAccounts),
    ),
    ("/api/reset_password", Access::Needs(Capability::ManageAccounts)),
    (
        "/api/set_certification",
        Access::Needs(Capability::ManageAccounts),
    ),
    (
        "/api/remove_certification",
        Access::Needs(Capability::ManageAccounts),
    ),
    (
        "/api/end_account_sessions",
        Access::Needs(Capability::ManageAccounts),
    ),
    ("/api/audit", Access::Needs(Capability::ReadAudit)),
    (
        "/api/procedure_catalog",
        Access::Needs(Capability::OrderProcedures),
    ),
    ("/api/order_procedure", Access::Needs(Capability::OrderProcedures)),
    ("/api/procedure_queue", Access::Needs(Capability::ViewRooms)),
    ("/api/procedure", Access::Needs(Capability::ViewRooms)),
    ("/api/room_patient", Access::Needs(Capability::PerformProcedures)),
    (
        "/api/take_procedure_step",
        Access::Needs(Capability::PerformProcedures),
    ),
    ("/api/assign_staff", Access::Needs(Capability::PerformProcedures)),
    (
        "/api/unassign_staff",
        Access::Needs(Capability::PerformProcedures),
    ),
    (
        "/api/attest_supervision",
        Access::Needs(Capability::PerformProcedures),
    ),
    ("/api/cosign_procedure", Access::Needs(Capability::SuperviseStaff)),
    (
        "/api/position_patient",
        Access::Needs(Capability::PerformProcedures),
    ),
    (
        "/api/reserve_equipment",
        Access::Needs(Capability::PerformProcedures),
    ),
    (
        "/api/attest_cleaning",
        Access::Needs(Capability::ChangeRoomStatus),
    ),
    (
        "/api/equipment_state",
        Access::Needs(Capability::PerformProcedures),
    ),
    ("/api/staff_overview", Access::Needs(Capability::SuperviseStaff)),
    ("/api/catalog", Access::Needs(Capability::EditCatalog)),
    ("/api/save_procedure_kind", Access::Needs(Capability::EditCatalog)),
    ("/api/facility_settings", Access::Needs(Capability::EditCatalog)),
    ("/api/set_presence", Access::SignedIn),
    ("/api/visit_lab", Access::Needs(Capability::ViewRooms)),
    ("/api/order_lab_test", Access::Needs(Capability::OrderProcedures)),
    (
        "/api/collect_specimen",
        Access::Needs(Capability::PerformProcedures),
    ),
    ("/api/specimen_label", Access::SignedIn),
    ("/api/lab_worklist", Access::Needs(Capability::UseLab)),
    ("/api/specimen_desk", Access::Needs(Capability::UseLab)),
    ("/api/receive_specimen", Access::Needs(Capability::UseLab)),
    ("/api/reject_specimen", Access::Needs(Capability::UseLab)),
    ("/api/enter_result", Access::Needs(Capability::UseLab)),
    ("/api/verify_result", Access::Needs(Capability::UseLab)),
    ("/api/critical_alerts", Access::SignedIn),
    ("/api/critical_values_waiting", Access::SignedInEvenLocked),
    ("/api/acknowledge_critical", Access::SignedIn),
    ("/api/resolve_quarantine", Access::Needs(Capability::UseLab)),
    ("/api/compare_held", Access::Needs(Capability::UseLab)),
    ("/api/review_reused_control_id", Access::Needs(Capability::UseLab)),
    ("/api/send_outs", Access::Needs(Capability::UseLab)),
    ("/api/pack_shipment", Access::Needs(Capability::UseLab)),
    ("/api/advance_shipment", Access::Needs(Capability::UseLab)),
    ("/api/turnaround", Access::Needs(Capability::UseLab)),
    ("/api/lab_tests", Access::Needs(Capability::EditCatalog)),
    ("/api/save_lab_test", Access::Needs(Capability::EditCatalog)),
];

/// Endpoints outside Leptos (plain axum routes), with the same rules.
pub const ROUTES: &[(&str, Access)] = &[
    ("/healthz", Access::Public),
    ("/audit.csv", Access::Needs(Capability::ReadAudit)),
    // Which topics a person may follow is decided per topic when they subscribe.
    (crate::live::SUBSCRIBE_PATH, Access::SignedIn),
    // Reference labs' interfaces: no session; the handler checks the lab's bearer token.
    ("/hl7/oru", Access::Public),
    ("/hl7/adt", Access::Public),
];

/// Every page, by route pattern, with the access it needs. Anonymous visitors of a
/// non-public page are sent to sign in; a signed-in person without the capability sees
/// a refusal with status 403.
pub const PAGES: &[(&str, Access)] = &[
    ("/sign-in", Access::Public),
    ("/escort", Access::Public),
    ("/", Access::Needs(Capability::ViewRooms)),
    ("/rooms/:id", Access::Needs(Capability::ViewRooms)),
    ("/board", Access::Needs(Capability::ViewBoard)),
    ("/lab", Access::Needs(Capability::UseLab)),
    ("/lab/specimen", Access::Needs(Capability::UseLab)),
    ("/lab/send-outs", Access::Needs(Capability::UseLab)),
    ("/lab/turnaround", Access::Needs(Capability::UseLab)),
    // Printed by the collector at the bedside, or again by the lab; checked per call.
    ("/lab/labels/:accession", Access::SignedIn),
    ("/account", Access::SignedIn),
    ("/admin/accounts", Access::Needs(Capability::ManageAccounts)),
    ("/admin/accounts/new", Access::Needs(Capability::ManageAccounts)),
    ("/admin/accounts/:id", Access::Needs(Capability::ManageAccounts)),
    ("/admin/audit", Access::Needs(Capability::ReadAudit)),
    ("/break-glass", Access::Needs(Capability::ReviewBreakGlass)),
    ("/procedures/:id", Access::Needs(Capability::ViewRooms)),
    ("/supervision", Access::Needs(Capability::SuperviseStaff)),
    ("/admin/catalog", Access::Needs(Capability::EditCatalog)),
    ("/admin/lab-tests", Access::Needs(Capability::EditCatalog)),
    ("/desk", Access::Needs(Capability::RegisterPatients)),
    ("/desk/register", Access::Needs(Capability::RegisterPatients)),
    ("/patients/:id", Access::Needs(Capability::RegisterPatients)),
    ("/patients/:id/edit", Access::Needs(Capability::RegisterPatients)),
    ("/waiting-room", Access::Needs(Capability::CallPatients)),
    ("/follow-ups", Access::Needs(Capability::SuperviseStaff)),
    ("/setup/facility", Access::Needs(Capability::SetUpFacility)),
    ("/setup/rooms", Access::Needs(Capability::SetUpFacility)),
    ("/setup/equipment", Access::Needs(Capability::SetUpFacility)),
    ("/setup/interfaces", Access::Needs(Capability::SetUpFacility)),
];

/// The access an endpoint path needs; `None` for a path nobody may call.
pub fn endpoint_access(path: &str) -> Option<Access> {
    ENDPOINTS
        .iter()
        .chain(ROUTES)
        .find(|(p, _)| *p == path)
        .map(|(_, access)| *access)
}

/// The access a page needs, matching `:param` segments; `None` for a path that is no
/// page (the router answers 404 for it).
pub fn page_access(path: &str) -> Option<Access> {
    PAGES
        .iter()
        .find(|(pattern, _)| route_matches(pattern, path))
        .map(|(_, access)| *access)
}

/// Whether `path` is an address of the route `pattern` (`:name` matches one segment).
pub fn route_matches(pattern: &str, path: &str) -> bool {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut pattern_parts = pattern.split('/');
    let mut path_parts = path.split('/');
    loop {
        match (pattern_parts.next(), path_parts.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p.starts_with(':') && !s.is_empty() => {}
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

/// The first page a person lands on after signing in: the first screen their roles open.
pub fn home_for(roles: &[StaffRole]) -> &'static str {
    // The front desk works from the desk; whoever also cares for patients, from the rooms.
    if any_allows(roles, Capability::RegisterPatients) && !any_allows(roles, Capability::OpenPatient) {
        "/desk"
    } else if any_allows(roles, Capability::ViewRooms) {
        "/"
    } else if any_allows(roles, Capability::UseLab) {
        "/lab"
    } else if any_allows(roles, Capability::ManageAccounts) {
        "/admin/accounts"
    } else {
        "/account"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrators_run_accounts_but_open_no_patient() {
        assert!(allows(StaffRole::Administrator, Capability::ManageAccounts));
        assert!(allows(StaffRole::Administrator, Capability::ReadAudit));
        assert!(!allows(StaffRole::Administrator, Capability::OpenPatient));
        assert!(!allows(StaffRole::Administrator, Capability::ViewRooms));
    }

    #[test]
    fn front_desk_sees_the_board_but_not_patient_details_nor_the_lab() {
        assert!(allows(StaffRole::FrontDesk, Capability::ViewBoard));
        assert!(!allows(StaffRole::FrontDesk, Capability::OpenPatient));
        assert!(!allows(StaffRole::FrontDesk, Capability::BreakGlass));
        assert!(!allows(StaffRole::FrontDesk, Capability::UseLab));
    }

    #[test]
    fn only_clinicians_break_the_glass_and_supervisors_review_it() {
        for role in StaffRole::ALL {
            let clinician = matches!(
                role,
                StaffRole::MedicalAssistant
                    | StaffRole::Nurse
                    | StaffRole::Phlebotomist
                    | StaffRole::Physician
            );
            assert_eq!(allows(*role, Capability::BreakGlass), clinician, "{role}");
        }
        assert!(allows(StaffRole::Supervisor, Capability::ReviewBreakGlass));
        assert!(!allows(StaffRole::Administrator, Capability::ReviewBreakGlass));
        assert!(allows(StaffRole::Supervisor, Capability::OpenAnyPatient));
        assert!(!allows(StaffRole::Physician, Capability::OpenAnyPatient));
    }

    #[test]
    fn the_lab_is_for_those_who_work_in_it() {
        assert!(allows(StaffRole::LabTechnician, Capability::UseLab));
        assert!(!allows(StaffRole::LabTechnician, Capability::ViewRooms));
        assert!(!allows(StaffRole::Physician, Capability::UseLab));
    }

    #[test]
    fn every_capability_is_held_by_some_role_and_refused_to_another() {
        for capability in Capability::ALL {
            assert!(
                StaffRole::ALL.iter().any(|r| allows(*r, *capability)),
                "{capability}"
            );
            assert!(
                StaffRole::ALL.iter().any(|r| !allows(*r, *capability)),
                "{capability}"
            );
        }
    }

    #[test]
    fn a_wall_board_sees_the_board_and_nothing_else() {
        let supervisor = [StaffRole::Supervisor];
        for capability in Capability::ALL {
            assert_eq!(
                session_allows(&supervisor, true, *capability),
                *capability == Capability::ViewBoard,
                "{capability}"
            );
            assert_eq!(
                session_allows(&supervisor, false, *capability),
                any_allows(&supervisor, *capability)
            );
        }
        // Even set up by an administrator, who has no board of their own.
        assert!(session_allows(
            &[StaffRole::Administrator],
            true,
            Capability::ViewBoard
        ));
        assert!(wall_board_reaches(
            "/api/board",
            Access::Needs(Capability::ViewBoard)
        ));
        assert!(wall_board_reaches("/api/session", Access::Public));
        assert!(!wall_board_reaches("/api/lock", Access::SignedInEvenLocked));
        assert!(!wall_board_reaches("/api/set_presence", Access::SignedIn));
        assert!(!wall_board_reaches(
            "/api/equipment_state",
            Access::Needs(Capability::PerformProcedures)
        ));
        for path in WALL_BOARD_REACHES {
            assert!(endpoint_access(path).is_some(), "{path}");
        }
    }

    #[test]
    fn whoever_sees_the_rooms_sees_the_board() {
        for role in StaffRole::ALL {
            if allows(*role, Capability::ViewRooms) {
                assert!(allows(*role, Capability::ViewBoard), "{role}");
            }
        }
    }

    #[test]
    fn several_roles_add_up() {
        let roles = [StaffRole::LabTechnician, StaffRole::Administrator];
        assert!(any_allows(&roles, Capability::UseLab));
        assert!(any_allows(&roles, Capability::ManageAccounts));
        assert!(!any_allows(&roles, Capability::ViewRooms));
        assert!(!any_allows(&[], Capability::ViewRooms));
    }

    #[test]
    fn pages_match_their_patterns_and_nothing_else() {
        assert_eq!(
            page_access("/rooms/12"),
            Some(Access::Needs(Capability::ViewRooms))
        );
        assert_eq!(page_access("/rooms/"), None);
        assert_eq!(page_access("/rooms/1/2"), None);
        assert_eq!(page_access("/"), Some(Access::Needs(Capability::ViewRooms)));
        assert_eq!(
            page_access("/admin/accounts/new"),
            Some(Access::Needs(Capability::ManageAccounts))
        );
        assert_eq!(page_access("/nowhere"), None);
    }

    #[test]
    fn unknown_endpoints_have_no_access() {
        assert_eq!(
            endpoint_access("/api/rooms"),
            Some(Access::Needs(Capability::ViewRooms))
        );
        assert_eq!(endpoint_access("/api/drop_tables"), None);
    }

    #[test]
    fn everyone_lands_somewhere_they_may_be() {
        for role in StaffRole::ALL {
            let home = home_for(&[*role]);
            match page_access(home) {
                Some(Access::Needs(capability)) => assert!(allows(*role, capability), "{role} -> {home}"),
                Some(_) => {}
                None => panic!("{home} is no page"),
            }
        }
    }
}
