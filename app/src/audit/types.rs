use crate::coded_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// Whether the action was carried out.
    pub enum Outcome {
        Allowed = "allowed",
        Refused = "refused",
    }
}

/// One line of the audit trail, as administrators read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub id: i64,
    #[serde(with = "crate::time::millis")]
    pub at: DateTime<Utc>,
    pub username: String,
    pub roles: String,
    pub action: String,
    pub outcome: Outcome,
    /// The patient's record number, when the action touched a patient.
    pub patient: Option<String>,
    pub record: String,
    pub device: String,
    pub address: String,
    pub detail: String,
    pub break_glass: bool,
}

/// What an administrator narrows the trail to, as typed in the filter form (a GET form,
/// so a filtered view is a link). Dates are facility days, `YYYY-MM-DD`, inclusive; the
/// server checks every field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub username: Option<String>,
    /// A patient's record number.
    pub patient: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl AuditFilter {
    /// The filter as a query string, for the CSV link and for bookmarking.
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(u) = &self.username {
            parts.push(format!("username={}", encode(u)));
        }
        if let Some(p) = &self.patient {
            parts.push(format!("patient={}", encode(p)));
        }
        if let Some(d) = &self.from {
            parts.push(format!("from={}", encode(d)));
        }
        if let Some(d) = &self.to {
            parts.push(format!("to={}", encode(d)));
        }
        parts.join("&")
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page of the trail, newest first; `next_before` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    pub next_before: Option<i64>,
    /// The facility's clock: times are shown in its time zone.
    pub clock: crate::facility::FacilityClock,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_as_query_strings() {
        let filter = AuditFilter {
            username: Some("léa m&n".into()),
            patient: None,
            from: Some("2026-11-02".into()),
            to: None,
        };
        assert_eq!(filter.query_string(), "username=l%C3%A9a%20m%26n&from=2026-11-02");
        assert_eq!(AuditFilter::default().query_string(), "");
    }
}
