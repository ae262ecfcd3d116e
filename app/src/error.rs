//! The one error type every server function returns.
//!
//! It carries only what a user may see: internals (SQL, paths, driver messages) are logged
//! on the server where they happen and never cross the wire. Views turn each variant into
//! a translated sentence through [`crate::i18n::Messages::error`].

use crate::coded_enum;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// Why the server refused an action by the clinic's rules (on a procedure, a room, a
    /// specimen, a visit or a person): shown to staff in their language, so they know what
    /// to do instead. In the core, so that every area refuses in the same words without
    /// depending on another area; each area's rules decide when.
    pub enum Refusal {
        AlreadyEnded = "already_ended",
        NotRoomed = "not_roomed",
        NotStarted = "not_started",
        AlreadyRoomed = "already_roomed",
        AlreadyStarted = "already_started",
        RoomNotAvailable = "room_not_available",
        /// Procedures happen in procedure and imaging rooms; patients never enter the lab.
        RoomNotForPatients = "room_not_for_patients",
        NotAClinician = "not_a_clinician",
        NotQualified = "not_qualified",
        CertificationExpired = "certification_expired",
        OffShift = "off_shift",
        OnBreak = "on_break",
        /// The performer lacks the qualification and the procedure allows no supervision.
        SupervisionNotAllowed = "supervision_not_allowed",
        SupervisorRequired = "supervisor_required",
        SupervisorNotPresent = "supervisor_not_present",
        NotASupervisor = "not_a_supervisor",
        /// Only the supervisor themself attests being present.
        NotTheSupervisor = "not_the_supervisor",
        PerformerRequired = "performer_required",
        EquipmentNotReserved = "equipment_not_reserved",
        AlreadyAssigned = "already_assigned",
        EquipmentUnavailable = "equipment_unavailable",
        EquipmentNotNeeded = "equipment_not_needed",
        ChecklistIncomplete = "checklist_incomplete",
        RoomNotAwaitingCleaning = "room_not_awaiting_cleaning",
        VisitEnded = "visit_ended",
        PatientInAnotherRoom = "patient_in_another_room",
        /// Co-signing waits until the work is done.
        NotEnded = "not_ended",
        /// A cancelled procedure has no work to co-sign.
        NothingToCosign = "nothing_to_cosign",
        AlreadyCosigned = "already_cosigned",
        /// The lab: the test is already on a specimen.
        AlreadyCollected = "already_collected",
        /// The lab: the specimen is not (or no longer) waiting to be received.
        SpecimenNotAwaited = "specimen_not_awaited",
        /// The lab: results are entered only for a received specimen.
        SpecimenNotReceived = "specimen_not_received",
        AlreadyVerified = "already_verified",
        NothingToVerify = "nothing_to_verify",
        /// The test needs a second technician to verify what the first entered.
        SecondVerifierRequired = "second_verifier_required",
        AlreadyAcknowledged = "already_acknowledged",
        /// Attaching results to another patient's order needs another person's confirmation.
        SecondPersonRequired = "second_person_required",
        /// One specimen holds tests of one specimen type.
        MixedSpecimenTypes = "mixed_specimen_types",
        /// A record merged into another: work on the record it was merged into.
        RecordMerged = "record_merged",
        /// The patient's visit is under way: one visit at a time.
        AlreadyCheckedIn = "already_checked_in",
        /// A waiting patient is called into an exam room, not any room.
        RoomNotForExams = "room_not_for_exams",
        /// Ending a visit with something pending needs the reason.
        DischargeHold = "discharge_hold",
    }
}

/// Why a field of a request was refused, in terms a view can translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Problem {
    Required,
    TooLong,
    TooShort,
    /// A PIN or password that does not match.
    Incorrect,
    NotAllowed,
    Malformed,
    AlreadyTaken,
    /// A value outside anything a patient could have: an entry error.
    Implausible,
    /// A unit other than the test's.
    WrongUnit,
    /// More decimals than the test reports.
    TooPrecise,
    /// Does not match the record (an identifier, a value read back).
    Mismatch,
    /// Someone else set this password: choose a new one to go on.
    ChangeRequired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request named fields that failed validation; nothing was changed.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The request could not be read at all (wrong shape or encoding); nothing was changed.
    #[error("malformed request")]
    Malformed,
    #[error("not found")]
    NotFound,
    /// The change no longer applies because someone else changed the same thing first.
    #[error("conflict")]
    Conflict,
    /// A rule of the clinic forbids it (an unqualified performer, an occupied room...);
    /// nothing was changed, and the reason says what to do instead.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// Nobody is signed in (or the session ended); sign in and try again.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the screen is locked: unlock first.
    #[error("screen locked")]
    Locked,
    /// Signed in, but this person's roles do not allow it.
    #[error("forbidden")]
    Forbidden,
    /// Wrong username or password: one message for both, so nobody learns which.
    #[error("sign-in refused")]
    SignInRefused,
    /// Too many failed tries for this username; closed for this many more minutes.
    #[error("too many attempts")]
    TooManyAttempts { minutes: u32 },
    /// The patient is not in this person's care; they may open it by breaking the glass.
    #[error("patient not assigned")]
    NotAssigned,
    /// The request came from another site; nothing was done.
    #[error("cross-site request refused")]
    CrossSite,
    /// This form was already sent and is still being acted on (a double tap, a retry):
    /// it acts once; its answer comes to the first sending.
    #[error("already sent")]
    AlreadySent,
    /// This form's submission key came with another request: nothing was done.
    #[error("submission key reused")]
    SubmissionReused,
    /// The database is not answering; the request may be retried.
    #[error("service unavailable")]
    Unavailable,
    /// Too many sign-ins (password checks) at once: retry in a few seconds.
    #[error("busy")]
    Busy,
    /// Anything else; details are in the server log only.
    #[error("internal error")]
    Internal,
    /// The server could not be reached or its answer could not be read (client side).
    #[error("network: {0}")]
    Network(String),
}

impl AppError {
    /// One refused field, with the server's answer set to 400.
    pub fn invalid(field: &str, problem: Problem) -> Self {
        let error = AppError::Invalid(vec![FieldError {
            field: field.to_owned(),
            problem,
        }]);
        set_response_status(&error);
        error
    }

    /// `Unauthenticated`, with the server's answer set to 401.
    pub fn unauthenticated() -> Self {
        let error = AppError::Unauthenticated;
        set_response_status(&error);
        error
    }

    /// `Conflict`, with the server's answer set to 409: someone changed it first.
    pub fn conflict() -> Self {
        let error = AppError::Conflict;
        set_response_status(&error);
        error
    }

    /// A rule refused it, with the server's answer set to 422.
    pub fn refused(refusal: Refusal) -> Self {
        let error = AppError::Refused(refusal);
        set_response_status(&error);
        error
    }

    /// `Busy`, with the server's answer set to 503 and `Retry-After`.
    pub fn busy() -> Self {
        let error = AppError::Busy;
        set_response_status(&error);
        error
    }

    /// `NotFound`, with the server's answer set to 404.
    pub fn not_found() -> Self {
        let error = AppError::NotFound;
        set_response_status(&error);
        error
    }

    /// The HTTP status that goes with this error when it is answered by the server.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Invalid(_) | AppError::Malformed => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated | AppError::SignInRefused => StatusCode::UNAUTHORIZED,
            AppError::Locked => StatusCode::LOCKED,
            AppError::Forbidden | AppError::NotAssigned | AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Conflict | AppError::AlreadySent => StatusCode::CONFLICT,
            AppError::SubmissionReused => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::Network(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// When to try again, in seconds, for the answers that say "later" (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Busy => Some(2),
            AppError::TooManyAttempts { minutes } => Some(u64::from(*minutes) * 60),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                let error = AppError::Malformed;
                set_response_status(&error);
                error
            }
            // On the server these mean the request body could not be read: the caller's
            // fault, answered 400 without the decoder's words. In the browser they mean the
            // server could not be reached or answered something unreadable.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Request(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Serialization(message)
            | ServerFnErrorErr::UnsupportedRequestMethod(message) => {
                tracing::info!(%message, "unreadable server function request");
                let error = AppError::Malformed;
                set_response_status(&error);
                error
            }
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Request(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Serialization(message)
            | ServerFnErrorErr::UnsupportedRequestMethod(message) => AppError::Network(message),
            ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Response(_) => AppError::Internal,
        }
    }
}

/// Gives the server function's HTTP answer the status that matches `error`, so that
/// callers other than our own client (scripts, tests, proxies) see a 4xx for bad input.
pub fn set_response_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
        if let Some(seconds) = error.retry_after() {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        let mapped = match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict => AppError::Conflict,
            StoreError::AlreadySubmitted => AppError::AlreadySent,
            StoreError::Unique { field } => AppError::invalid(field, Problem::AlreadyTaken),
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                AppError::Unavailable
            }
            StoreError::Database(detail) => {
                tracing::error!(%detail, "database error");
                AppError::Internal
            }
        };
        set_response_status(&mapped);
        mapped
    }
}

/// Validation helpers shared by every domain's server functions.
pub mod validate {
    use super::{AppError, FieldError, Problem};

    /// The years a date typed into a form may fall in: anything else is a typing error.
    pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

    /// Spaces, and the characters that show as nothing: zero-width spaces and joiners,
    /// direction marks and isolates, the word joiner, the byte-order mark, soft hyphens,
    /// Hangul fillers.
    pub fn invisible(c: char) -> bool {
        c.is_whitespace()
            || matches!(
                c,
                '\u{00AD}'
                    | '\u{034F}'
                    | '\u{115F}'
                    | '\u{1160}'
                    | '\u{180E}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{3164}'
                    | '\u{FEFF}'
                    | '\u{FFA0}'
            )
    }

    /// Collects field errors so that a form shows every problem at once, not one per try.
    #[derive(Default)]
    pub struct Checks(Vec<FieldError>);

    impl Checks {
        pub fn new() -> Self {
            Self::default()
        }

        pub fn fail(&mut self, field: &str, problem: Problem) {
            self.0.push(FieldError {
                field: field.to_owned(),
                problem,
            });
        }

        /// A trimmed, non-empty text of at most `max` characters. Invisible characters
        /// (zero-width spaces, joiners, direction marks) are trimmed like spaces, so a
        /// text made only of them is empty; a NUL or another control character other
        /// than a line break or a tab is malformed (PostgreSQL cannot store a NUL).
        pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
            let trimmed = value.trim_matches(invisible);
            if trimmed
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                self.fail(field, Problem::Malformed);
            } else if trimmed.is_empty() {
                self.fail(field, Problem::Required);
            } else if trimmed.chars().count() > max {
                self.fail(field, Problem::TooLong);
            }
            trimmed.to_owned()
        }

        /// A date typed as `YYYY-MM-DD`, within years people and clinics live in.
        pub fn date(&mut self, field: &str, value: &str) -> Option<chrono::NaiveDate> {
            use chrono::Datelike;
            let date = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok();
            match date {
                None => self.fail(field, Problem::Malformed),
                Some(date) if !DATE_YEARS.contains(&date.year()) => self.fail(field, Problem::Implausible),
                Some(date) => return Some(date),
            }
            None
        }

        /// A status set by hand, from `from` to `to` (both codes read with `parse`), where
        /// `to` must be one of the changes `allowed` lists from `from`: both, or `None`
        /// with the fields at fault recorded.
        pub fn manual_change<T: Copy + PartialEq>(
            &mut self,
            (from, to): (&str, &str),
            parse: fn(&str) -> Option<T>,
            allowed: fn(T) -> &'static [T],
        ) -> Option<(T, T)> {
            let (from, to) = (parse(from), parse(to));
            if from.is_none() {
                self.fail("from", Problem::Malformed);
            }
            match (from, to) {
                (_, None) => self.fail("to", Problem::Malformed),
                (Some(from), Some(to)) if !allowed(from).contains(&to) => {
                    self.fail("to", Problem::NotAllowed)
                }
                (Some(from), Some(to)) => return Some((from, to)),
                _ => {}
            }
            None
        }

        /// A trimmed text of at most `max` characters, which may be empty.
        pub fn optional_text(&mut self, field: &str, value: &str, max: usize) -> String {
            if value.trim_matches(invisible).is_empty() {
                return String::new();
            }
            self.text(field, value, max)
        }

        pub fn finish(self) -> Result<(), AppError> {
            if self.0.is_empty() {
                Ok(())
            } else {
                let error = AppError::Invalid(self.0);
                super::set_response_status(&error);
                Err(error)
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn collects_every_problem() {
            let mut checks = Checks::new();
            assert_eq!(checks.text("reason", "  ear pain ", 20), "ear pain");
            checks.text("name", "   ", 20);
            checks.text("note", &"x".repeat(21), 20);
            match checks.finish() {
                Err(AppError::Invalid(errors)) => {
                    assert_eq!(errors.len(), 2);
                    assert_eq!(errors[0].problem, Problem::Required);
                    assert_eq!(errors[1].problem, Problem::TooLong);
                }
                other => panic!("expected invalid, got {other:?}"),
            }
        }

        #[test]
        fn nul_bytes_and_invisible_texts_are_refused() {
            let mut checks = Checks::new();
            checks.text("username", "c.lefevre\0", 20);
            checks.text("reason", "\u{200B}\u{200B} \u{FEFF}\u{2060}\u{00A0}", 20);
            assert_eq!(checks.optional_text("note", "\u{200B}\u{200D}", 20), "");
            assert_eq!(checks.text("note", "\u{200B}ear pain\u{200E}", 20), "ear pain");
            assert_eq!(checks.text("note", "two\nlines", 20), "two\nlines");
            match checks.finish() {
                Err(AppError::Invalid(errors)) => {
                    let problems: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.problem)).collect();
                    assert_eq!(
                        problems,
                        [("username", Problem::Malformed), ("reason", Problem::Required)]
                    );
                }
                other => panic!("expected invalid, got {other:?}"),
            }
        }

        #[test]
        fn dates_outside_plausible_years_are_refused() {
            let mut checks = Checks::new();
            assert!(checks.date("a", "2026-03-01").is_some());
            assert!(checks.date("b", "1900-01-01").is_some());
            assert!(checks.date("c", "+262142-01-01").is_none());
            assert!(checks.date("d", "-262143-01-01").is_none());
            assert!(checks.date("e", "2201-01-01").is_none());
            assert!(checks.date("f", "1 March").is_none());
            match checks.finish() {
                Err(AppError::Invalid(errors)) => {
                    let problems: Vec<_> = errors.iter().map(|e| e.problem).collect();
                    assert_eq!(
                        problems[1..],
                        [Problem::Implausible, Problem::Implausible, Problem::Malformed]
                    );
                }
                other => panic!("expected invalid, got {other:?}"),
            }
        }

        #[test]
        fn passes_good_input() {
            let mut checks = Checks::new();
            checks.text("reason", "ok", 20);
            assert!(checks.finish().is_ok());
        }
    }
}
