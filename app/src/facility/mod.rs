//! The clinic site: its name and its time zone, which every time on screen is shown in
//! (the core every area uses; its set-up page is `clinic`'s).

#[cfg(feature = "ssr")]
mod api;
#[cfg(feature = "ssr")]
pub mod store;

mod view;

#[cfg(feature = "ssr")]
pub use api::{current_clock, existing_clock};
pub use view::Stamp;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The clinic as its set-up page shows it (`clinic`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FacilityIdentity {
    pub name: String,
    /// IANA time zone, e.g. "Europe/Paris".
    pub timezone: String,
    /// FINESS number, or empty until set.
    pub national_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    pub id: i64,
    pub name: String,
    /// IANA time zone, e.g. "Europe/Paris".
    pub timezone: String,
}

/// The facility's wall clock at the moment a snapshot was read. Views format times with
/// it, so the server's rendering and the browser's hydration print the same text, in the
/// clinic's time zone whatever the device's.
/// How the facility runs its back office: how often a patient in one position is
/// checked and repositioned, and whether wall screens shorten patient identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FacilitySettings {
    pub reposition_reminder_minutes: i64,
    pub board_short_identifiers: bool,
    /// How long a critical lab value may wait for acknowledgement before it escalates.
    pub critical_escalation_minutes: i64,
}

impl Default for FacilitySettings {
    fn default() -> Self {
        FacilitySettings {
            reposition_reminder_minutes: 60,
            board_short_identifiers: false,
            critical_escalation_minutes: 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityClock {
    pub facility_name: String,
    #[serde(with = "crate::time::millis")]
    pub now: DateTime<Utc>,
    pub utc_offset_seconds: i32,
}

impl FacilityClock {
    fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_seconds).unwrap_or(Utc.fix())
    }

    /// "14:05" in the facility's time zone.
    pub fn time_of_day(&self, at: DateTime<Utc>) -> String {
        // Formatted by hand: chrono's strftime engine would add tens of kilobytes to the
        // WebAssembly client for two numbers.
        let local = at.with_timezone(&self.offset());
        format!("{:02}:{:02}", local.hour(), local.minute())
    }

    /// The day `at` falls on in the facility's time zone.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.offset()).date_naive()
    }

    /// "14:05:03" in the facility's time zone, for records to the second (the audit).
    pub fn time_to_the_second(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.offset());
        format!("{:02}:{:02}:{:02}", local.hour(), local.minute(), local.second())
    }

    /// "26/11/2026 14:05" in the facility's time zone.
    pub fn date_time(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.offset());
        format!(
            "{:02}/{:02}/{} {:02}:{:02}",
            local.day(),
            local.month(),
            local.year(),
            local.hour(),
            local.minute()
        )
    }

    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.offset()).date_naive()
    }

    /// Whole minutes from `since` to the snapshot's now (never negative).
    pub fn minutes_since(&self, since: DateTime<Utc>) -> i64 {
        (self.now - since).num_minutes().max(0)
    }
}

#[cfg(feature = "ssr")]
impl FacilityClock {
    /// The clock of `facility` at `now`. An unknown zone name falls back to UTC, logged.
    pub fn at(facility: &Facility, now: DateTime<Utc>) -> Self {
        let utc_offset_seconds = match facility.timezone.parse::<chrono_tz::Tz>() {
            Ok(zone) => now.with_timezone(&zone).offset().fix().local_minus_utc(),
            Err(_) => {
                tracing::warn!(timezone = %facility.timezone, "unknown time zone; showing UTC");
                0
            }
        };
        FacilityClock {
            facility_name: facility.name.clone(),
            now,
            utc_offset_seconds,
        }
    }
}

/// Whether `name` is a time zone the server knows.
#[cfg(feature = "ssr")]
pub fn is_known_timezone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn clock(offset_hours: i32) -> FacilityClock {
        FacilityClock {
            facility_name: "Test".into(),
            now: Utc
                .with_ymd_and_hms(2026, 11, 25, 23, 30, 0)
                .single()
                .unwrap_or_default(),
            utc_offset_seconds: offset_hours * 3600,
        }
    }

    #[test]
    fn formats_in_the_facility_zone() {
        let c = clock(1);
        assert_eq!(c.time_of_day(c.now), "00:30");
        assert_eq!(
            c.time_to_the_second(c.now + chrono::Duration::seconds(7)),
            "00:30:07"
        );
        assert_eq!(
            c.today(),
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default()
        );
        assert_eq!(c.day_of(c.now), c.today());
        assert_eq!(clock(0).day_of(c.now), c.today().pred_opt().unwrap_or_default());
    }

    #[test]
    fn elapsed_minutes_never_negative() {
        let c = clock(0);
        assert_eq!(c.minutes_since(c.now - chrono::Duration::minutes(42)), 42);
        assert_eq!(c.minutes_since(c.now + chrono::Duration::minutes(5)), 0);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn paris_is_one_hour_ahead_in_november() {
        let paris = Facility {
            id: 1,
            name: "x".into(),
            timezone: "Europe/Paris".into(),
        };
        let now = Utc
            .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(FacilityClock::at(&paris, now).utc_offset_seconds, 3600);
        assert!(!is_known_timezone("Mars/Olympus"));
    }
}
