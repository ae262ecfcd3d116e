use super::{join_codes, parse_codes, BodyPosition, Positioning, PressurePoint, Support};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

pub struct NewPositioning<'a> {
    pub procedure_id: i64,
    pub position: BodyPosition,
    pub supports: &'a [Support],
    pub points: &'a [PressurePoint],
    pub placed_by: i64,
}

pub async fn record(
    tx: &mut Tx,
    placement: &NewPositioning<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO patient_positioning (procedure_order_id, position, supports, points_checked, placed_by, placed_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        placement.procedure_id,
        placement.position.code(),
        join_codes(placement.supports),
        join_codes(placement.points),
        placement.placed_by,
        now
    )?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(try_from = "String")]
    position: BodyPosition,
    supports: String,
    points_checked: String,
    given_name: String,
    family_name: String,
    placed_at: DateTime<Utc>,
}

/// Every placement for a procedure, most recent first.
pub async fn history(store: &Store, procedure_id: i64) -> Result<Vec<Positioning>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        Row,
        "SELECT p.position, p.supports, p.points_checked, s.given_name, s.family_name, p.placed_at \
         FROM patient_positioning p JOIN staff_member s ON s.id = p.placed_by \
         WHERE p.procedure_order_id = $1 ORDER BY p.placed_at DESC, p.id DESC",
        procedure_id
    )?;
    let corrupt = || StoreError::Database("unknown code in patient_positioning".into());
    rows.into_iter()
        .map(|row| {
            Ok(Positioning {
                position: row.position,
                supports: parse_codes(&row.supports).ok_or_else(corrupt)?,
                points_checked: parse_codes(&row.points_checked).ok_or_else(corrupt)?,
                placed_by: crate::staff::display_name(&row.given_name, &row.family_name),
                placed_at: row.placed_at,
            })
        })
        .collect()
}
