//! Compact wire formats for times and dates.
//!
//! chrono's own serde formats are RFC 3339 text, and parsing them pulls chrono's whole
//! parser into the WebAssembly client. Snapshots carry many times, so they travel as plain
//! integers instead: instants as milliseconds since the Unix epoch, dates as days since
//! 1 January of year 1.

/// `#[serde(with = "crate::time::millis")]` for `DateTime<Utc>`.
pub mod millis {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(at.timestamp_millis())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let millis = i64::deserialize(deserializer)?;
        DateTime::from_timestamp_millis(millis).ok_or_else(|| D::Error::custom("instant out of range"))
    }
}

/// `#[serde(with = "crate::time::millis_opt")]` for `Option<DateTime<Utc>>`.
pub mod millis_opt {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_some(&at.timestamp_millis()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<i64>::deserialize(deserializer)?
            .map(|millis| {
                DateTime::from_timestamp_millis(millis)
                    .ok_or_else(|| D::Error::custom("instant out of range"))
            })
            .transpose()
    }
}

/// `#[serde(with = "crate::time::days")]` for `NaiveDate`.
pub mod days {
    use chrono::{Datelike, NaiveDate};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(date.num_days_from_ce())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let days = i32::deserialize(deserializer)?;
        NaiveDate::from_num_days_from_ce_opt(days).ok_or_else(|| D::Error::custom("date out of range"))
    }
}

/// "2026-11-25 14:05:03 UTC", formatted by hand to keep chrono's formatter out of the
/// WebAssembly client.
pub fn utc_stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "super::millis")]
        at: DateTime<Utc>,
        #[serde(with = "super::days")]
        born: NaiveDate,
    }

    #[test]
    fn stamps_are_plain_utc() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 5, 8, 3, 9)
            .single()
            .unwrap_or_default();
        assert_eq!(super::utc_stamp(at), "2026-01-05 08:03:09 UTC");
    }

    #[test]
    fn round_trips_and_refuses_nonsense() {
        let sample = Sample {
            at: Utc
                .with_ymd_and_hms(2026, 11, 25, 8, 30, 15)
                .single()
                .unwrap_or_default(),
            born: NaiveDate::from_ymd_opt(1958, 3, 14).unwrap_or_default(),
        };
        let json = serde_json::to_string(&sample).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Sample>(&json).ok(), Some(sample));
        assert!(serde_json::from_str::<Sample>(r#"{"at":9223372036854775807,"born":1}"#).is_err());
        assert!(serde_json::from_str::<Sample>(r#"{"at":0,"born":2147483647}"#).is_err());
    }
}
