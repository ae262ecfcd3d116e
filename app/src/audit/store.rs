//! Writing and reading the audit trail.

use super::{AuditLine, Outcome};
use crate::auth::{request_meta, Principal, RequestMeta};
use crate::store::trail::TrailRow;
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

/// One audit row to write; built with [`Entry::by`] or [`Entry::anonymous`].
#[derive(Debug, Clone)]
pub struct Entry {
    account_id: Option<i64>,
    username: String,
    roles: String,
    action: String,
    outcome: Outcome,
    patient_id: Option<i64>,
    record: String,
    meta: RequestMeta,
    detail: String,
    break_glass: bool,
}

impl Entry {
    /// An action by a signed-in person, from the current request's device and address.
    pub fn by(principal: &Principal, action: &str, outcome: Outcome) -> Self {
        Entry {
            account_id: Some(principal.account_id),
            roles: principal.role_codes(),
            ..Entry::anonymous(&principal.username, action, outcome)
        }
    }

    /// An action by nobody signed in; `typed_username` is what they typed, if anything.
    pub fn anonymous(typed_username: &str, action: &str, outcome: Outcome) -> Self {
        Entry {
            account_id: None,
            username: typed_username.chars().take(64).collect(),
            roles: String::new(),
            action: action.to_owned(),
            outcome,
            patient_id: None,
            record: String::new(),
            meta: request_meta(),
            detail: String::new(),
            break_glass: false,
        }
    }

    pub fn account(mut self, account_id: i64) -> Self {
        self.account_id = Some(account_id);
        self
    }

    pub fn patient(mut self, patient_id: i64) -> Self {
        self.patient_id = Some(patient_id);
        self
    }

    /// The record touched, as `kind/id` ("room/3", "account/12").
    pub fn record(mut self, record: impl Into<String>) -> Self {
        self.record = record.into();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn meta(mut self, meta: RequestMeta) -> Self {
        self.meta = meta;
        self
    }

    /// The access went through break-glass.
    pub fn break_glass(mut self, flagged: bool) -> Self {
        self.break_glass = flagged;
        self
    }
}

/// Writes `entry` inside `tx`: the audit row commits or rolls back with the change it
/// describes.
pub async fn record_in(tx: &mut Tx, entry: Entry) -> Result<(), StoreError> {
    tx.audit(entry.into_row(Utc::now()));
    Ok(())
}

/// Writes several entries in one transaction (a list that shows several patients).
pub async fn record_all(store: &Store, entries: Vec<Entry>) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    let at = Utc::now();
    for entry in entries {
        tx.audit(entry.into_row(at));
    }
    tx.commit().await
}

/// A list that shows patients (a worklist, the critical values, the send-outs, the
/// break-glass log) was read: one row per patient it names, in one transaction.
pub async fn record_patients_listed(
    store: &Store,
    principal: &Principal,
    action: &str,
    patients: impl IntoIterator<Item = i64>,
) -> Result<(), StoreError> {
    let mut seen: Vec<i64> = patients.into_iter().collect();
    seen.sort_unstable();
    seen.dedup();
    let entries = if seen.is_empty() {
        vec![Entry::by(principal, action, Outcome::Allowed)]
    } else {
        seen.into_iter()
            .map(|patient| Entry::by(principal, action, Outcome::Allowed).patient(patient))
            .collect()
    };
    record_all(store, entries).await
}

/// Writes `entry` on its own (reads and refusals, which change nothing else).
pub async fn record(store: &Store, entry: Entry) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.audit(entry.into_row(Utc::now()));
    tx.commit().await
}

impl Entry {
    /// The row as stored: long texts cut to their columns' sizes.
    fn into_row(self, at: DateTime<Utc>) -> TrailRow {
        TrailRow {
            at: TrailRow::at_stored(at),
            account_id: self.account_id,
            username: self.username,
            roles: self.roles,
            action: self.action,
            outcome: self.outcome.code().to_owned(),
            patient_id: self.patient_id,
            record: self.record,
            device: truncate(&self.meta.device, 200),
            address: truncate(&self.meta.address, 64),
            detail: truncate(&self.detail, 500),
            break_glass: self.break_glass,
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The trail narrowed to what the administrator asked, already validated.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub username: Option<String>,
    pub patient_record_number: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: i64,
    at: DateTime<Utc>,
    username: String,
    roles: String,
    action: String,
    #[sqlx(try_from = "String")]
    outcome: Outcome,
    record_number: Option<String>,
    record: String,
    device: String,
    address: String,
    detail: String,
    break_glass: bool,
}

/// Newest first, at most `query.limit` lines.
/// The lines `query` asks for, newest first, and the id to continue before when more
/// are left.
pub async fn search(store: &Store, query: &Query) -> Result<(Vec<AuditLine>, Option<i64>), StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        LineRow,
        "SELECT e.id, e.at, e.username, e.roles, e.action, e.outcome, p.record_number, e.record, e.device, \
                e.address, e.detail, e.break_glass \
         FROM audit_event e LEFT JOIN patient p ON p.id = e.patient_id \
         WHERE ($1 IS NULL OR e.username = $1) \
           AND ($2 IS NULL OR p.record_number = $2) \
           AND ($3 IS NULL OR e.at >= $3) \
           AND ($4 IS NULL OR e.at < $4) \
           AND ($5 IS NULL OR e.id < $5) \
         ORDER BY e.id DESC LIMIT $6",
        query.username.as_deref(),
        query.patient_record_number.as_deref(),
        query.from,
        query.until,
        query.before_id,
        query.limit + 1
    )?;
    let more = rows.len() as i64 > query.limit;
    let lines: Vec<AuditLine> = rows
        .into_iter()
        .take(query.limit.max(0) as usize)
        .map(|r| AuditLine {
            id: r.id,
            at: r.at,
            username: r.username,
            roles: r.roles,
            action: r.action,
            outcome: r.outcome,
            patient: r.record_number,
            record: r.record,
            device: r.device,
            address: r.address,
            detail: r.detail,
            break_glass: r.break_glass,
        })
        .collect();
    let next_before = if more { lines.last().map(|l| l.id) } else { None };
    Ok((lines, next_before))
}

/// The lines as CSV (RFC 4180), with cells that a spreadsheet would run as a formula
/// neutralised (OWASP CSV injection).
pub fn to_csv(lines: &[AuditLine]) -> String {
    let mut out = String::from(
        "id,at_utc,username,roles,action,outcome,patient,record,device,address,detail,break_glass\r\n",
    );
    for line in lines {
        let at = line.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let cells = [
            line.id.to_string(),
            at,
            line.username.clone(),
            line.roles.clone(),
            line.action.clone(),
            line.outcome.code().to_owned(),
            line.patient.clone().unwrap_or_default(),
            line.record.clone(),
            line.device.clone(),
            line.address.clone(),
            line.detail.clone(),
            line.break_glass.to_string(),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_neutralises_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }
}
