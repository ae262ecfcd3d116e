use super::Messages;
use crate::patients::VisitState;
use crate::rooms::{RoomKind, RoomStatus};
use crate::staff::StaffRole;
use chrono::Datelike;

pub static MESSAGES: Messages = Messages {
    app_name: "Plateau",
    tagline: "Clinic back office",
    skip_to_content: "Skip to content",
    main_navigation: "Main navigation",
    nav_rooms: "Rooms",
    nav_board: "Board",
    nav_lab: "Lab",
    nav_escort: "Escort requests",
    language: "Language",
    loading: "Loading…",

    rooms_title: "Rooms",
    rooms_empty: "No rooms yet. An administrator adds them; `plateau seed-demo` loads a demo clinic.",
    room_free: "No patient",
    room_open: "Open room",
    back_to_rooms: "Back to rooms",
    status_since: |time| format!("since {time}"),
    for_duration: |minutes| {
        if minutes < 60 {
            format!("{minutes} min")
        } else {
            format!("{} h {:02}", minutes / 60, minutes % 60)
        }
    },
    record_number: "MRN",
    born_on: |date, age| format!("born {date} ({age} y)"),
    visit_reason: "Reason for visit",
    arrived_at: |time| format!("arrived {time}"),
    visit_state_label: "Visit",

    board_title: "Board",
    waiting_title: "Waiting",
    waiting_empty: "Nobody is waiting.",
    staff_title: "Staff",
    staff_empty: "No staff recorded.",

    lab_title: "Lab",
    escort_title: "Escort requests",
    not_yet_available: "This part of Plateau is not available in this version yet.",

    not_found_title: "Page not found",
    not_found_body: "There is nothing at this address. Check the link, or go back to the rooms.",
    go_to_rooms: "Go to rooms",

    error_title: "Something went wrong",
    retry: "Try again",
    error_malformed: "The request could not be read. Nothing was changed.",
    error_not_found: "This item does not exist, or no longer exists.",
    error_conflict:
        "Someone changed this at the same time. The screen shows the latest version; check it and try again.",
    error_unavailable: "The database is not answering. Nothing was changed; try again in a moment.",
    error_internal:
        "An unexpected error occurred. Nothing was changed. If it happens again, tell your administrator.",
    error_network: "The server cannot be reached. Check the Wi-Fi; Plateau will try again.",
    problem_required: "required",
    problem_too_long: "too long",
    problem_not_allowed: "not an allowed value",
    problem_malformed: "not in the expected format",
    problem_already_taken: "already in use",

    date: |date| format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
    room_kind: |kind| match kind {
        RoomKind::Exam => "Exam room",
        RoomKind::Procedure => "Procedure room",
        RoomKind::Lab => "Lab",
        RoomKind::Imaging => "Imaging",
    },
    room_status: |status| match status {
        RoomStatus::Closed => "Closed",
        RoomStatus::Housekeeping => "Housekeeping",
        RoomStatus::Isolated => "Isolated",
        RoomStatus::Contaminated => "Contaminated",
        RoomStatus::Occupied => "Occupied",
        RoomStatus::Unoccupied => "Available",
    },
    visit_state: |state| match state {
        VisitState::Waiting => "Waiting to be seen",
        VisitState::InExam => "In exam",
        VisitState::Queued => "Waiting for back office",
        VisitState::InProcedure => "In procedure",
        VisitState::Done => "Left",
    },
    staff_role: |role| match role {
        StaffRole::MedicalAssistant => "Medical assistant",
        StaffRole::Nurse => "Nurse",
        StaffRole::Phlebotomist => "Phlebotomist",
        StaffRole::LabTechnician => "Lab technician",
        StaffRole::Physician => "Physician",
        StaffRole::Supervisor => "Supervisor",
        StaffRole::FrontDesk => "Front desk",
        StaffRole::Administrator => "Administrator",
    },
};
