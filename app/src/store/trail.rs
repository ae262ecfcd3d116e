//! The audit trail's storage: append-only rows, each sealed by a hash chained to the row
//! before it, so that a row changed, removed or slipped in afterwards is found.
//!
//! The triggers refuse UPDATE and DELETE, but whoever owns the database can get past them
//! (SQLite's `INSERT OR REPLACE`, a dropped trigger, PostgreSQL's `DISABLE TRIGGER`). The
//! chain does not prevent that; it makes it visible: [`verify`] recomputes every seal and
//! names the first row that does not match. Someone able to write the file can still
//! rewrite every seal from the row they changed onwards: keep the head [`verify`] prints
//! (in the backup log, on paper) and check later that it is still in the chain.
//!
//! Rows are written when their transaction commits, after every other statement: on
//! PostgreSQL the one-row `audit_chain` is locked to append in turn, and a lock taken last
//! and held only for the commit can neither deadlock with nor slow the rest of the work.

use super::{StoreError, Tx};
use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

/// The hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// One row of the trail, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TrailRow {
    pub at: DateTime<Utc>,
    pub account_id: Option<i64>,
    pub username: String,
    pub roles: String,
    pub action: String,
    pub outcome: String,
    pub patient_id: Option<i64>,
    pub record: String,
    pub device: String,
    pub address: String,
    pub detail: String,
    pub break_glass: bool,
}

impl TrailRow {
    /// Times are kept to the microsecond, what PostgreSQL stores, so that the seal
    /// computed before writing is the one recomputed after reading.
    pub fn at_stored(at: DateTime<Utc>) -> DateTime<Utc> {
        at.trunc_subsecs(6)
    }

    /// The seal of this row after the row sealed `previous` ("" for the first): the
    /// SHA-256 of the previous seal and every field, each prefixed by its length so that
    /// no two rows encode alike.
    pub fn seal(&self, previous: &str) -> String {
        let mut bytes = Vec::with_capacity(256);
        let mut field = |text: &str| {
            bytes.extend_from_slice(text.len().to_string().as_bytes());
            bytes.push(b':');
            bytes.extend_from_slice(text.as_bytes());
            bytes.push(b';');
        };
        let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        field("plateau-audit-1");
        field(previous);
        field(&self.at.timestamp_micros().to_string());
        field(&optional(self.account_id));
        field(&self.username);
        field(&self.roles);
        field(&self.action);
        field(&self.outcome);
        field(&optional(self.patient_id));
        field(&self.record);
        field(&self.device);
        field(&self.address);
        field(&self.detail);
        field(if self.break_glass { "1" } else { "0" });
        sha256_hex(&bytes)
    }
}

const LOCK_HEAD: &str = "UPDATE audit_chain SET sealed = sealed WHERE id = 1 RETURNING last_hash";
const INSERT_ROW: &str =
    "INSERT INTO audit_event (at, account_id, username, roles, action, outcome, patient_id, \
     record, device, address, detail, break_glass, chain_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
const MOVE_HEAD: &str = "UPDATE audit_chain SET last_hash = $1, sealed = sealed + $2 WHERE id = 1";

/// Appends `rows`, in order, at the end of the chain, inside the committing transaction.
pub(super) async fn append(tx: &mut Tx, rows: &[TrailRow]) -> Result<(), StoreError> {
    let mut previous: String = crate::fetch_scalar!(tx.exec(), String, LOCK_HEAD)?;
    for row in rows {
        let seal = row.seal(&previous);
        crate::execute!(
            tx.exec(),
            INSERT_ROW,
            row.at,
            row.account_id,
            &row.username,
            &row.roles,
            &row.action,
            &row.outcome,
            row.patient_id,
            &row.record,
            &row.device,
            &row.address,
            &row.detail,
            row.break_glass,
            &seal
        )?;
        previous = seal;
    }
    crate::execute!(tx.exec(), MOVE_HEAD, &previous, rows.len() as i64)?;
    Ok(())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every sealed row matches; `unsealed` rows were written before the chain began
    /// (migration 0009). `head` is the newest row's id and seal.
    Intact {
        sealed: i64,
        unsealed: i64,
        head: Option<(i64, String)>,
    },
    /// The first row that does not match, and why.
    Broken { row_id: i64, why: Break },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// Its seal is not that of its fields after the previous row: it was changed, or a
    /// row before it was removed, inserted or changed.
    SealMismatch,
    /// A row without a seal after the chain began: written around the server.
    Unsealed,
    /// The chain's head says more rows, or another last seal, than the trail holds:
    /// the newest rows were removed (`row_id` is the last row found, 0 if none).
    RowsMissingAtTheEnd,
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    id: i64,
    #[sqlx(flatten)]
    row: TrailRow,
    chain_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Head {
    last_hash: String,
    sealed: i64,
}

/// Recomputes every seal, oldest first, a page at a time. The head is read first: rows a
/// serving server appends meanwhile come after it and are checked too, and the head is
/// compared where the trail stood when it was read.
pub async fn verify(store: &super::Store) -> Result<Verdict, StoreError> {
    const PAGE: i64 = 5_000;
    let head = crate::fetch_optional!(
        store.read(),
        Head,
        "SELECT last_hash, sealed FROM audit_chain WHERE id = 1"
    )?;
    let mut previous = String::new();
    let mut sealed = 0_i64;
    let mut unsealed = 0_i64;
    let mut last_id = 0_i64;
    // The seal of the row the head counted last, once reached.
    let mut at_head: Option<String> = None;
    loop {
        let page = crate::fetch_all!(
            store.read(),
            StoredRow,
            "SELECT id, at, account_id, username, roles, action, outcome, patient_id, record, device, address, \
                    detail, break_glass, chain_hash \
             FROM audit_event WHERE id > $1 ORDER BY id LIMIT $2",
            last_id,
            PAGE
        )?;
        if page.is_empty() {
            break;
        }
        for stored in &page {
            last_id = stored.id;
            match &stored.chain_hash {
                None if sealed == 0 => unsealed += 1,
                None => {
                    return Ok(Verdict::Broken {
                        row_id: stored.id,
                        why: Break::Unsealed,
                    })
                }
                Some(seal) if *seal == stored.row.seal(&previous) => {
                    sealed += 1;
                    previous = seal.clone();
                    if head.as_ref().is_some_and(|h| h.sealed == sealed) {
                        at_head = Some(previous.clone());
                    }
                }
                Some(_) => {
                    return Ok(Verdict::Broken {
                        row_id: stored.id,
                        why: Break::SealMismatch,
                    })
                }
            }
        }
    }
    let head_found = match (&head, &at_head) {
        (Some(head), _) if head.sealed == 0 => head.last_hash.is_empty(),
        (Some(head), Some(seal)) => head.last_hash == *seal,
        _ => false,
    };
    if !head_found {
        return Ok(Verdict::Broken {
            row_id: last_id,
            why: Break::RowsMissingAtTheEnd,
        });
    }
    Ok(Verdict::Intact {
        sealed,
        unsealed,
        head: (sealed > 0).then_some((last_id, previous)),
    })
}

/// The seal row `id` carries, if the row exists.
pub async fn seal_of(store: &super::Store, id: i64) -> Result<Option<String>, StoreError> {
    crate::fetch_optional!(
        store.read(),
        (Option<String>,),
        "SELECT chain_hash FROM audit_event WHERE id = $1",
        id
    )
    .map(|row| row.and_then(|(seal,)| seal))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(detail: &str) -> TrailRow {
        TrailRow {
            at: TrailRow::at_stored(Utc::now()),
            account_id: Some(3),
            username: "j.morel".into(),
            roles: "nurse".into(),
            action: "patient.read".into(),
            outcome: "allowed".into(),
            patient_id: Some(7),
            record: "visit/2".into(),
            device: "tablet".into(),
            address: "127.0.0.1".into(),
            detail: detail.into(),
            break_glass: false,
        }
    }

    #[test]
    fn a_seal_depends_on_every_field_and_on_the_row_before() {
        let first = row("a");
        let seal = first.seal("");
        assert_eq!(seal.len(), 64);
        assert_eq!(seal, first.clone().seal(""));
        assert_ne!(seal, first.seal("00"));
        assert_ne!(seal, row("b").seal(""));
        let mut moved = first.clone();
        moved.patient_id = Some(8);
        assert_ne!(seal, moved.seal(""));
        let mut glass = first.clone();
        glass.break_glass = true;
        assert_ne!(seal, glass.seal(""));
        // Lengths keep neighbouring fields apart: "ab" + "" is not "a" + "b".
        let mut left = first.clone();
        left.username = "j.morelnurse".into();
        left.roles = String::new();
        assert_ne!(seal, left.seal(""));
    }

    #[test]
    fn times_are_sealed_to_the_microsecond() -> Result<(), chrono::ParseError> {
        let at = DateTime::parse_from_rfc3339("2026-12-02T06:00:00.123456789Z")?.with_timezone(&Utc);
        assert_eq!(TrailRow::at_stored(at).timestamp_subsec_nanos(), 123_456_000);
        Ok(())
    }
}
