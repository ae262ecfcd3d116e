//! Every string a person reads goes through here.
//!
//! Each locale is one `Messages` value; the struct literal must name every field, so a
//! string missing in one language fails to compile rather than showing up blank. Enum
//! labels are matched exhaustively for the same reason.

mod api;
mod en;
mod fr;

pub use api::*;

use crate::accounts::CertificationKind;
use crate::audit::Outcome;
use crate::equipment::{EquipmentKind, EquipmentState};
use crate::error::Refusal;
use crate::error::{AppError, Problem};
use crate::lab::{
    AlertOutcome, Flag, LabOrderState, Performed, RejectionReason, SpecimenState, SpecimenType, ValueKind,
};
use crate::live::LinkState;
use crate::patients::VisitState;
use crate::positioning::{BodyPosition, PressurePoint, Support};
use crate::procedures::{Priority, ProcedureState, ProcedureStep, StaffingRole};
use crate::rooms::CleaningItem;
use crate::rooms::{RoomKind, RoomStatus};
use crate::staff::StaffPresence;
use crate::staff::StaffRole;
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A language the staff interface is available in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    /// The seed is French, and so is the default.
    #[default]
    Fr,
    En,
}

/// The cookie that remembers a person's language choice.
pub const LANGUAGE_COOKIE: &str = "plateau_lang";

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Fr, Locale::En];

    /// BCP 47 tag, as in `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Locale::Fr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// A number as this language writes it: `6.8` is `6,8` in French, as it is typed.
    /// Anything that is not a plain decimal number (`>10`, `positive`) is left as it is.
    pub fn decimal(self, text: &str) -> String {
        let plain = {
            let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
            !digits.is_empty()
                && digits.bytes().filter(|b| *b == b'.').count() <= 1
                && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        };
        match self {
            Locale::Fr if plain => text.replace('.', ","),
            _ => text.to_owned(),
        }
    }

    /// The language's own name, as a person looking for it would recognise it.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::Fr => "Français",
            Locale::En => "English",
        }
    }

    /// Picks the best supported language from an `Accept-Language` header, honouring
    /// quality values; `None` when none is supported.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (position, part) in accept_language.split(',').enumerate() {
            let mut pieces = part.split(';');
            let Some(locale) = pieces.next().and_then(Locale::from_tag) else {
                continue;
            };
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality <= 0.0 {
                continue;
            }
            // Higher quality wins; on a tie, the earlier entry does.
            let better = match best {
                None => true,
                Some((q, _, _)) => quality > q,
            };
            if better {
                best = Some((quality, position, locale));
            }
        }
        best.map(|(_, _, locale)| locale)
    }

    pub fn messages(self) -> &'static Messages {
        match self {
            Locale::Fr => &fr::MESSAGES,
            Locale::En => &en::MESSAGES,
        }
    }
}

/// The interface's words in one language.
pub struct Messages {
    pub app_name: &'static str,
    pub tagline: &'static str,
    pub skip_to_content: &'static str,
    pub main_navigation: &'static str,
    pub nav_desk: &'static str,
    pub nav_waiting_room: &'static str,
    pub nav_follow_ups: &'static str,
    pub nav_setup: &'static str,
    pub nav_rooms: &'static str,
    pub nav_board: &'static str,
    pub nav_lab: &'static str,
    pub nav_escort: &'static str,
    pub language: &'static str,
    pub loading: &'static str,

    pub rooms_title: &'static str,
    pub rooms_empty: &'static str,
    pub room_free: &'static str,
    pub room_open: &'static str,
    pub back_to_rooms: &'static str,
    pub status_since: fn(&str) -> String,
    pub for_duration: fn(i64) -> String,
    pub record_number: &'static str,
    pub born_on: fn(&str, u32) -> String,
    pub visit_reason: &'static str,
    pub arrived_at: fn(&str) -> String,
    pub visit_state_label: &'static str,

    pub board_title: &'static str,
    pub waiting_title: &'static str,
    pub waiting_empty: &'static str,
    pub staff_title: &'static str,
    pub staff_empty: &'static str,
    /// What each audit code means, in words (the page shows the code alone for one
    /// this version does not know); see [`Messages::audit_action`].
    pub audit_actions: &'static [(&'static str, &'static str)],
    /// The board's set-up for a wall screen, for those who may turn a screen into one.
    pub wall_board_title: &'static str,
    pub wall_board_explained: &'static str,
    pub wall_board_start: &'static str,
    /// On a wall board: what this screen is, and who set it up.
    pub wall_board_badge: fn(&str) -> String,
    pub wall_board_leave: &'static str,

    pub lab_title: &'static str,
    pub escort_title: &'static str,
    pub not_yet_available: &'static str,

    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub go_to_rooms: &'static str,

    pub error_title: &'static str,
    pub retry: &'static str,
    pub error_malformed: &'static str,
    pub error_not_found: &'static str,
    /// The empty first choice of a list: nothing is chosen for the person.
    pub choose_one: &'static str,
    /// The top bar's menu: account, language, sign-out.
    pub menu: &'static str,
    pub error_conflict: &'static str,
    pub error_already_sent: &'static str,
    pub error_submission_reused: &'static str,
    pub error_unavailable: &'static str,
    pub error_busy: &'static str,
    pub error_internal: &'static str,
    pub error_network: &'static str,
    pub problem_required: &'static str,
    pub problem_too_long: &'static str,
    pub problem_not_allowed: &'static str,
    pub problem_malformed: &'static str,
    pub problem_already_taken: &'static str,
    pub problem_implausible: &'static str,
    pub problem_wrong_unit: &'static str,
    pub problem_too_precise: &'static str,
    pub problem_mismatch: &'static str,
    pub problem_change_required: &'static str,
    pub new_password_required_intro: &'static str,

    pub nav_break_glass: &'static str,
    pub nav_accounts: &'static str,
    pub nav_audit: &'static str,
    pub forbidden_title: &'static str,
    pub working: &'static str,
    pub sign_in_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub my_account: &'static str,
    pub lock_screen: &'static str,
    pub sign_out: &'static str,
    pub pin: &'static str,
    pub locked_title: &'static str,
    pub locked_for: fn(&str) -> String,
    pub unlock: &'static str,
    pub switch_user: &'static str,
    pub sessions_title: &'static str,
    pub pin_title: &'static str,
    pub pin_hint: &'static str,
    pub new_pin: &'static str,
    pub current_password: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub password_title: &'static str,
    pub new_password: &'static str,
    pub this_device: &'static str,
    pub locked_badge: &'static str,
    pub end_session: &'static str,
    pub accounts_title: &'static str,
    pub new_account: &'static str,
    pub person: &'static str,
    pub roles: &'static str,
    pub account_state: &'static str,
    pub active: &'static str,
    pub deactivated: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub initial_password: &'static str,
    pub create: &'static str,
    pub identity_and_roles: &'static str,
    pub certifications: &'static str,
    pub certification: fn(CertificationKind) -> &'static str,
    pub valid_until: fn(&str) -> String,
    pub role_grants_title: &'static str,
    pub role_grants_none: &'static str,
    pub role_grant_asked: fn(&str, &str) -> String,
    pub role_grant_confirm: &'static str,
    pub role_grant_decline: &'static str,
    pub role_grant_theirs: &'static str,
    pub roles_waiting: &'static str,
    pub expired: &'static str,
    pub remove: &'static str,
    pub certification_label: &'static str,
    pub expires_on: &'static str,
    pub add: &'static str,
    pub reset_password: &'static str,
    pub open_sessions: fn(usize) -> String,
    pub end_all_sessions: &'static str,
    pub deactivate: &'static str,
    pub reactivate: &'static str,
    pub audit_title: &'static str,
    pub patient_record_number: &'static str,
    pub from_day: &'static str,
    pub to_day: &'static str,
    pub filter: &'static str,
    pub export_csv: &'static str,
    pub when: &'static str,
    pub action: &'static str,
    pub outcome: &'static str,
    pub record: &'static str,
    pub device: &'static str,
    pub outcome_label: fn(Outcome) -> &'static str,
    pub older: &'static str,
    pub patient_not_assigned: &'static str,
    pub break_glass_reason: &'static str,
    pub break_glass_hint: &'static str,
    pub break_glass: &'static str,
    pub break_glass_active: &'static str,
    pub break_glass_log_title: &'static str,
    pub break_glass_none: &'static str,
    pub review: &'static str,
    pub reviewed_by: fn(&str) -> String,
    pub mark_reviewed: &'static str,
    pub patient_present: &'static str,
    pub problem_too_short: &'static str,
    pub problem_incorrect: &'static str,
    pub error_unauthenticated: &'static str,
    pub error_locked: &'static str,
    pub error_forbidden: &'static str,
    pub error_sign_in_refused: &'static str,
    pub error_too_many_attempts: fn(u32) -> String,
    pub error_not_assigned: &'static str,
    pub error_cross_site: &'static str,
    /// The label of a form field the server named; `None` for a name no form has.
    pub field_label: fn(&str) -> Option<&'static str>,
    /// What a field the screen does not know is called: never the name as sent.
    pub unknown_field: &'static str,

    pub date: fn(NaiveDate) -> String,
    pub room_kind: fn(RoomKind) -> &'static str,
    pub room_status: fn(RoomStatus) -> &'static str,
    /// The button that sets a room from one status to another.
    pub room_change: fn(RoomStatus, RoomStatus) -> &'static str,
    pub room_changes_title: &'static str,
    pub link_state: fn(LinkState) -> &'static str,
    pub live_updated_at: fn(&str) -> String,
    pub visit_state: fn(VisitState) -> &'static str,
    pub staff_role: fn(StaffRole) -> &'static str,
    /// Why a rule of the clinic refused an action, and what to do instead.
    pub refusal: fn(Refusal) -> &'static str,
    pub back_office: BackOfficeWords,
    pub lab: LabWords,
}

/// The words of the lab: orders, collection, the workstation, critical values.
pub struct LabWords {
    pub nav_catalog: &'static str,
    pub catalog_title: &'static str,
    pub catalog_new: &'static str,
    pub catalog_entries: &'static str,
    pub catalog_loinc: &'static str,
    pub catalog_specimen: &'static str,
    pub catalog_value_kind: &'static str,
    pub catalog_unit: &'static str,
    pub catalog_decimals: &'static str,
    pub catalog_plausible_low: &'static str,
    pub catalog_plausible_high: &'static str,
    pub catalog_critical_low: &'static str,
    pub catalog_critical_high: &'static str,
    pub catalog_allowed_codes: &'static str,
    pub catalog_normal_codes: &'static str,
    pub catalog_ranges: &'static str,
    pub catalog_performed: &'static str,
    pub catalog_turnaround: &'static str,
    pub catalog_second_verifier: &'static str,
    pub value_kind: fn(ValueKind) -> &'static str,
    pub performed: fn(Performed) -> &'static str,
    pub send_outs_title: &'static str,
    pub packed: &'static str,
    pub awaiting_send_out: &'static str,
    pub nothing_to_send: &'static str,
    pub specimens: &'static str,
    pub reference_lab: &'static str,
    pub pack: &'static str,
    pub shipments: &'static str,
    pub manifest: &'static str,
    pub print_manifest: &'static str,
    pub accession: &'static str,
    pub birth_date: &'static str,
    pub order_number: &'static str,
    pub collected: &'static str,
    pub turnaround_title: &'static str,
    pub turnaround_empty: &'static str,
    pub turnaround_chart: &'static str,
    pub count: &'static str,
    pub median: &'static str,
    pub p90: &'static str,
    pub target: &'static str,
    pub within_target: &'static str,
    pub shipment_step: fn(&str) -> &'static str,
    pub shipment_state: fn(&str) -> &'static str,
    pub packed_by: fn(&str, &str) -> String,
    pub turnaround_period: fn(i64) -> String,
    pub quarantine_title: &'static str,
    pub quarantine_hint: &'static str,
    pub held_reason: fn(crate::lab::HoldReason) -> &'static str,
    pub compare: &'static str,
    pub compare_hint: &'static str,
    pub message_names: &'static str,
    pub order_patient: &'static str,
    pub identities_agree: &'static str,
    pub identities_differ: &'static str,
    pub tests_differ: &'static str,
    pub ask_second_person: &'static str,
    pub second_person_reason: &'static str,
    pub awaiting_second: fn(&str, &str, &str) -> String,
    pub confirm_attach: &'static str,
    pub decline_attach: &'static str,
    pub reused_title: &'static str,
    pub reused_line: fn(&str, &str, &str, i64) -> String,
    pub mark_reviewed: &'static str,
    pub reported_by_lab: fn(&str, &str) -> String,
    pub status_preliminary: &'static str,
    pub status_corrected: &'static str,
    pub status_not_sent: &'static str,
    pub replaces: fn(&str, &str) -> String,
    pub sender_flag: fn(&str) -> String,
    pub flag_as_sent: &'static str,
    pub unit_differs: &'static str,
    pub observed_at: fn(&str) -> String,
    pub coded_as: fn(&str, &str) -> String,
    pub lab_note: &'static str,
    pub attach_to: &'static str,
    pub identity_checked: &'static str,
    pub attach: &'static str,
    pub discard_reason: &'static str,
    pub discard: &'static str,
    pub resolved: &'static str,
    pub panel_title: &'static str,
    pub no_orders: &'static str,
    pub order_title: &'static str,
    pub test: &'static str,
    pub order_submit: &'static str,
    pub ordered: &'static str,
    pub collect_title: &'static str,
    pub tests_on_specimen: &'static str,
    pub identity_title: &'static str,
    pub identity_hint: &'static str,
    pub name_confirmed: fn(&str) -> String,
    pub check_birth_date: &'static str,
    pub stated_birth_date: &'static str,
    pub check_record_number: &'static str,
    pub stated_record_number: &'static str,
    pub body_site: &'static str,
    pub collect_submit: &'static str,
    pub labelled: &'static str,
    pub print_label: &'static str,
    pub collected_by: fn(&str, &str) -> String,
    pub verified_by: fn(&str, &str) -> String,
    pub awaiting_verification: &'static str,
    pub previous: fn(&str, &str) -> String,
    pub critical_value: &'static str,
    pub critical_banner: &'static str,
    pub critical_notifications: &'static str,
    pub raised_at: fn(&str) -> String,
    pub escalated: &'static str,
    pub minutes_left: fn(i64) -> String,
    /// On a locked screen: how many critical values wait, without naming anyone.
    pub critical_waiting: fn(usize) -> String,
    /// The banner could not be brought up to date: what it shows may be older.
    pub alerts_unreachable: &'static str,
    pub acknowledge_title: &'static str,
    pub read_back_value: &'static str,
    pub notified_person: &'static str,
    pub acknowledge: &'static str,
    pub acknowledged: &'static str,
    pub scan: &'static str,
    pub open: &'static str,
    pub back_to_worklist: &'static str,
    pub receive: &'static str,
    pub reject: &'static str,
    pub reject_reason: &'static str,
    pub value: &'static str,
    pub enter: &'static str,
    pub verify: &'static str,
    pub label_title: &'static str,
    pub settings_escalation: &'static str,
    pub order_state: fn(LabOrderState) -> &'static str,
    pub specimen_state: fn(SpecimenState) -> &'static str,
    pub specimen_type: fn(SpecimenType) -> &'static str,
    pub flag: fn(Flag) -> &'static str,
    pub outcome: fn(AlertOutcome) -> &'static str,
    pub rejection: fn(RejectionReason) -> &'static str,
}

/// The words of the back office: procedures, staffing, positioning, equipment, cleaning.
pub struct BackOfficeWords {
    pub nav_supervision: &'static str,
    pub nav_catalog: &'static str,
    pub catalog_title: &'static str,
    pub catalog_new: &'static str,
    pub catalog_entries: &'static str,
    pub catalog_code: &'static str,
    pub catalog_name_fr: &'static str,
    pub catalog_name_en: &'static str,
    pub catalog_qualification: &'static str,
    pub catalog_any_clinician: &'static str,
    pub catalog_supervised: &'static str,
    pub catalog_position: &'static str,
    pub catalog_minutes: &'static str,
    pub settings_title: &'static str,
    pub settings_reposition: &'static str,
    pub settings_short_identifiers: &'static str,
    pub queue_title: &'static str,
    pub queue_empty: &'static str,
    pub under_way_title: &'static str,
    pub back_to_board: &'static str,
    pub order_title: &'static str,
    pub procedure_label: &'static str,
    pub priority_label: &'static str,
    pub note_label: &'static str,
    pub order_submit: &'static str,
    pub ordered: &'static str,
    pub ordered_by: fn(&str, &str) -> String,
    pub rooming_title: &'static str,
    pub rooming_hint: &'static str,
    /// Why no room is offered, and what frees one.
    pub no_room_free: &'static str,
    pub see_rooms: &'static str,
    /// Where the patient is: room code and name.
    pub patient_in_room: fn(&str, &str) -> String,
    pub not_in_a_room: &'static str,
    pub bring_to: fn(&str) -> String,
    pub team_title: &'static str,
    pub role_label: &'static str,
    pub assign: &'static str,
    pub load: fn(usize) -> String,
    pub attest_presence: &'static str,
    pub present: &'static str,
    pub awaiting_presence: &'static str,
    pub cosign: &'static str,
    pub cosign_note: &'static str,
    pub cosigned: fn(&str) -> String,
    pub awaiting_cosignature: &'static str,
    pub equipment_title: &'static str,
    pub reserve: &'static str,
    pub held_here: &'static str,
    pub positioning_title: &'static str,
    pub position_title: &'static str,
    pub supports_title: &'static str,
    pub points_title: &'static str,
    pub place_patient: &'static str,
    pub in_position_for: fn(i64) -> String,
    pub reposition_due: fn(i64) -> String,
    pub steps_title: &'static str,
    pub cancel_reason: &'static str,
    pub cleaning_title: &'static str,
    pub cleaning_submit: &'static str,
    pub last_cleaned: fn(&str, &str) -> String,
    pub supervision_title: &'static str,
    pub awaiting_me_title: &'static str,
    pub awaiting_me_empty: &'static str,
    pub to_cosign_title: &'static str,
    pub to_cosign_empty: &'static str,
    pub busy_in: fn(&str) -> String,
    pub presence_title: &'static str,
    pub procedures_in_room: &'static str,
    pub equipment_board_title: &'static str,
    pub step: fn(ProcedureStep) -> &'static str,
    pub procedure_state: fn(ProcedureState) -> &'static str,
    pub priority: fn(Priority) -> &'static str,
    pub staffing_role: fn(StaffingRole) -> &'static str,
    pub presence: fn(StaffPresence) -> &'static str,
    pub presence_change: fn(StaffPresence) -> &'static str,
    /// The same, done by a supervisor for someone else.
    pub presence_set: fn(StaffPresence) -> &'static str,
    pub my_presence_title: &'static str,
    pub position: fn(BodyPosition) -> &'static str,
    pub pressure_point: fn(PressurePoint) -> &'static str,
    pub support: fn(Support) -> &'static str,
    pub equipment_kind: fn(EquipmentKind) -> &'static str,
    pub equipment_state: fn(EquipmentState) -> &'static str,
    /// The button that sets an item to this state by hand.
    pub equipment_change: fn(EquipmentState) -> &'static str,
    pub cleaning_item: fn(CleaningItem) -> &'static str,
}

impl Messages {
    pub fn problem(&self, problem: Problem) -> &'static str {
        match problem {
            Problem::Required => self.problem_required,
            Problem::TooLong => self.problem_too_long,
            Problem::NotAllowed => self.problem_not_allowed,
            Problem::Malformed => self.problem_malformed,
            Problem::AlreadyTaken => self.problem_already_taken,
            Problem::TooShort => self.problem_too_short,
            Problem::Incorrect => self.problem_incorrect,
            Problem::Implausible => self.problem_implausible,
            Problem::WrongUnit => self.problem_wrong_unit,
            Problem::TooPrecise => self.problem_too_precise,
            Problem::Mismatch => self.problem_mismatch,
            Problem::ChangeRequired => self.problem_change_required,
        }
    }

    /// A field's label; a name no form has (a crafted link) is "this field", never echoed.
    /// What the audit code `code` means, in words, if this version knows it.
    pub fn audit_action(&self, code: &str) -> Option<&'static str> {
        self.audit_actions
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, words)| *words)
    }

    pub fn field_name(&self, field: &str) -> &'static str {
        (self.field_label)(field).unwrap_or(self.unknown_field)
    }

    /// One sentence a person can act on; never the internals.
    pub fn error(&self, error: &AppError) -> String {
        match error {
            AppError::Invalid(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", self.field_name(&f.field), self.problem(f.problem)))
                .collect::<Vec<_>>()
                .join(" · "),
            AppError::Malformed => self.error_malformed.to_owned(),
            AppError::NotFound => self.error_not_found.to_owned(),
            AppError::Conflict => self.error_conflict.to_owned(),
            AppError::AlreadySent => self.error_already_sent.to_owned(),
            AppError::SubmissionReused => self.error_submission_reused.to_owned(),
            AppError::Unavailable => self.error_unavailable.to_owned(),
            AppError::Busy => self.error_busy.to_owned(),
            AppError::Internal => self.error_internal.to_owned(),
            AppError::Network(_) => self.error_network.to_owned(),
            AppError::Unauthenticated => self.error_unauthenticated.to_owned(),
            AppError::Locked => self.error_locked.to_owned(),
            AppError::Forbidden => self.error_forbidden.to_owned(),
            AppError::SignInRefused => self.error_sign_in_refused.to_owned(),
            AppError::TooManyAttempts { minutes } => (self.error_too_many_attempts)(*minutes),
            AppError::NotAssigned => self.error_not_assigned.to_owned(),
            AppError::CrossSite => self.error_cross_site.to_owned(),
            AppError::Refused(refusal) => (self.refusal)(*refusal).to_owned(),
        }
    }
}

/// Whether `field` is the name of a field some form has, labelled in every language.
pub fn known_field(field: &str) -> bool {
    Locale::ALL
        .iter()
        .all(|locale| (locale.messages().field_label)(field).is_some())
}

/// The language of the interface, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    locale: RwSignal<Locale>,
}

impl I18n {
    pub fn locale(&self) -> Locale {
        self.locale.get()
    }

    pub fn set(&self, locale: Locale) {
        self.locale.set(locale);
    }

    /// The messages of the current language; reading them inside a closure keeps the text
    /// in step when the language changes.
    pub fn t(&self) -> &'static Messages {
        self.locale.get().messages()
    }
}

pub fn provide_i18n(initial: Locale) -> I18n {
    let i18n = I18n {
        locale: RwSignal::new(initial),
    };
    provide_context(i18n);
    i18n
}

pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| provide_i18n(Locale::default()))
}

/// The language to render a request in: the remembered choice, else the browser's
/// preference, else French.
#[cfg(feature = "ssr")]
pub fn request_locale() -> Locale {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return Locale::default();
    };
    let from_cookie = parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANGUAGE_COOKIE)
        .and_then(|(_, value)| Locale::from_tag(value));
    from_cookie
        .or_else(|| {
            parts
                .headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::negotiate)
        })
        .unwrap_or_default()
}

/// In the browser, the language the server rendered the page in (`<html lang>`), so that
/// hydration starts from the same text.
#[cfg(feature = "hydrate")]
pub fn document_locale() -> Locale {
    leptos::prelude::document()
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|lang| Locale::from_tag(&lang))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_the_language_does() {
        assert_eq!(Locale::Fr.decimal("6.8"), "6,8");
        assert_eq!(Locale::Fr.decimal("-0.25"), "-0,25");
        assert_eq!(Locale::Fr.decimal("+1.50"), "+1,50");
        assert_eq!(Locale::En.decimal("6.8"), "6.8");
        for kept in [">10", "positive", "1.2.3", "", "3.5-5.1"] {
            assert_eq!(Locale::Fr.decimal(kept), kept);
        }
    }

    #[test]
    fn every_language_says_what_the_same_audit_codes_mean() {
        let codes = |locale: Locale| {
            let mut codes: Vec<&str> = locale.messages().audit_actions.iter().map(|(c, _)| *c).collect();
            codes.sort_unstable();
            codes
        };
        let french = codes(Locale::Fr);
        for code in french.windows(2) {
            assert_ne!(code[0], code[1], "said twice");
        }
        for locale in Locale::ALL {
            assert_eq!(codes(locale), french, "{}", locale.tag());
        }
        assert_eq!(Locale::Fr.messages().audit_action("sign_in"), Some("Connexion"));
        assert_eq!(Locale::En.messages().audit_action("made.up"), None);
    }

    #[test]
    fn negotiates_by_quality_then_order() {
        assert_eq!(Locale::negotiate("en-GB,en;q=0.9,fr;q=0.8"), Some(Locale::En));
        assert_eq!(Locale::negotiate("de-DE,fr-CA;q=0.7,en;q=0.5"), Some(Locale::Fr));
        assert_eq!(Locale::negotiate("en;q=0.4, fr;q=0.6"), Some(Locale::Fr));
        assert_eq!(Locale::negotiate("de, es"), None);
        assert_eq!(Locale::negotiate("fr;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(Locale::negotiate(""), None);
    }

    #[test]
    fn tags_round_trip() {
        for locale in Locale::ALL {
            assert_eq!(Locale::from_tag(locale.tag()), Some(locale));
        }
        assert_eq!(Locale::from_tag("EN_us"), Some(Locale::En));
        assert_eq!(Locale::from_tag("xx"), None);
    }

    #[test]
    fn every_label_is_filled_in_every_language() {
        for locale in Locale::ALL {
            let t = locale.messages();
            for kind in RoomKind::ALL {
                assert!(!(t.room_kind)(*kind).is_empty());
            }
            for status in RoomStatus::ALL {
                assert!(!(t.room_status)(*status).is_empty());
                for to in status.manual_changes() {
                    assert!(!(t.room_change)(*status, *to).is_empty());
                }
            }
            for state in LinkState::ALL {
                assert!(!(t.link_state)(*state).is_empty());
            }
            for state in VisitState::ALL {
                assert!(!(t.visit_state)(*state).is_empty());
            }
            for role in StaffRole::ALL {
                assert!(!(t.staff_role)(*role).is_empty());
            }
            for text in [t.rooms_title, t.not_found_title, t.error_internal, t.nav_board] {
                assert!(!text.is_empty());
            }
        }
    }

    #[test]
    fn languages_differ() {
        let (fr, en) = (Locale::Fr.messages(), Locale::En.messages());
        assert_ne!(fr.rooms_title, en.rooms_title);
        assert_ne!(
            (fr.room_status)(RoomStatus::Housekeeping),
            (en.room_status)(RoomStatus::Housekeeping)
        );
    }

    #[test]
    fn dates_follow_each_language_custom() {
        let date = NaiveDate::from_ymd_opt(1958, 3, 4).unwrap_or_default();
        assert_eq!((Locale::Fr.messages().date)(date), "04/03/1958");
        assert_eq!((Locale::En.messages().date)(date), "1958-03-04");
    }

    #[test]
    fn unknown_field_names_are_never_echoed() {
        let crafted = AppError::Invalid(vec![crate::error::FieldError {
            field: "Your account is suspended, call 0800 000 000".into(),
            problem: crate::error::Problem::Required,
        }]);
        for locale in Locale::ALL {
            let text = locale.messages().error(&crafted);
            assert!(!text.contains("suspended"), "{text}");
            assert!(text.starts_with(locale.messages().unknown_field), "{text}");
        }
        assert_eq!(Locale::En.messages().field_name("username"), "Username");
        assert!(known_field("username") && !known_field("call 0800"));
    }

    #[test]
    fn errors_never_show_internals() {
        let t = Locale::En.messages();
        let text = t.error(&AppError::Network("tcp reset by 10.0.0.1".into()));
        assert!(!text.contains("10.0.0.1"));
    }
}
