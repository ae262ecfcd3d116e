use super::{EquipmentItem, EquipmentKind, EquipmentState};
use crate::store::{Exec, Store, StoreError, Tx};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    code: String,
    name: String,
    #[sqlx(try_from = "String")]
    kind: EquipmentKind,
    room_id: Option<i64>,
    #[sqlx(try_from = "String")]
    state: EquipmentState,
    state_since: DateTime<Utc>,
    held_by: Option<i64>,
}

impl From<Row> for EquipmentItem {
    fn from(r: Row) -> Self {
        EquipmentItem {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            room_id: r.room_id,
            state: r.state,
            state_since: r.state_since,
            held_by: r.held_by,
        }
    }
}

const SELECT: &str = "SELECT e.id, e.code, e.name, e.kind, e.room_id, e.state, e.state_since, \
     r.procedure_order_id AS held_by FROM equipment e \
     LEFT JOIN equipment_reservation r ON r.equipment_id = e.id AND r.released_at IS NULL";

async fn items(
    exec: Exec<'_>,
    condition: &str,
    facility_id: i64,
    value: i64,
) -> Result<Vec<EquipmentItem>, StoreError> {
    // A retired item is in no list and can be reserved by no one.
    let sql = format!(
        "{SELECT} WHERE e.facility_id = $1 AND e.retired_at IS NULL AND {condition} ORDER BY e.kind, e.code"
    );
    let rows = crate::fetch_all!(exec, Row, &sql, facility_id, value)?;
    Ok(rows.into_iter().map(EquipmentItem::from).collect())
}

/// The facility's equipment, by kind.
pub async fn list(store: &Store, facility_id: i64) -> Result<Vec<EquipmentItem>, StoreError> {
    items(store.read(), "e.id > $2", facility_id, 0).await
}

pub async fn get_in(tx: &mut Tx, facility_id: i64, id: i64) -> Result<EquipmentItem, StoreError> {
    items(tx.exec(), "e.id = $2", facility_id, id)
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// The items a procedure holds now.
pub async fn held_by(tx: &mut Tx, procedure_id: i64) -> Result<Vec<EquipmentItem>, StoreError> {
    let sql = format!("{SELECT} WHERE r.procedure_order_id = $1 ORDER BY e.kind, e.code");
    let rows = crate::fetch_all!(tx.exec(), Row, &sql, procedure_id)?;
    Ok(rows.into_iter().map(EquipmentItem::from).collect())
}

pub async fn reserve(
    tx: &mut Tx,
    id: i64,
    procedure_id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO equipment_reservation (equipment_id, procedure_order_id, reserved_at, reserved_by) \
         VALUES ($1, $2, $3, $4)",
        id,
        procedure_id,
        now,
        by
    )?;
    Ok(())
}

/// Ends every reservation the procedure holds.
pub async fn release(tx: &mut Tx, procedure_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE equipment_reservation SET released_at = $1 WHERE procedure_order_id = $2 AND released_at IS NULL",
        now,
        procedure_id
    )?;
    Ok(())
}

pub async fn set_state(
    tx: &mut Tx,
    id: i64,
    state: EquipmentState,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE equipment SET state = $1, state_since = $2 WHERE id = $3",
        state.code(),
        now,
        id
    )?;
    Ok(())
}

/// Sets an item's state by hand if it is still `from`; returns whether it was.
pub async fn change_state(
    tx: &mut Tx,
    facility_id: i64,
    id: i64,
    from: EquipmentState,
    to: EquipmentState,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE equipment SET state = $1, state_since = $2 WHERE id = $3 AND facility_id = $4 AND state = $5",
        to.code(),
        now,
        id,
        facility_id,
        from.code()
    )?;
    Ok(changed == 1)
}

/// An item to register.
pub struct NewItem<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: EquipmentKind,
    pub room_id: Option<i64>,
}

pub async fn create(
    tx: &mut Tx,
    facility_id: i64,
    item: &NewItem<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO equipment (facility_id, code, name, kind, room_id, state, state_since) \
         VALUES ($1, $2, $3, $4, $5, 'available', $6) RETURNING id",
        facility_id,
        item.code,
        item.name,
        item.kind.code(),
        item.room_id,
        now
    )
}

/// Changes an item's code, name, kind and room; false if it is not this facility's or
/// is retired.
pub async fn update(tx: &mut Tx, facility_id: i64, id: i64, item: &NewItem<'_>) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE equipment SET code = $1, name = $2, kind = $3, room_id = $4 \
         WHERE id = $5 AND facility_id = $6 AND retired_at IS NULL",
        item.code,
        item.name,
        item.kind.code(),
        item.room_id,
        id,
        facility_id
    )?;
    Ok(changed == 1)
}

/// Retires an item nobody holds: it leaves every list; what it was used for stays told.
pub async fn retire(tx: &mut Tx, facility_id: i64, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE equipment SET retired_at = $1, room_id = NULL WHERE id = $2 AND facility_id = $3 \
         AND retired_at IS NULL AND NOT EXISTS (SELECT 1 FROM equipment_reservation r \
         WHERE r.equipment_id = equipment.id AND r.released_at IS NULL)",
        now,
        id,
        facility_id
    )?;
    Ok(changed == 1)
}

/// Tells the screens showing rooms that an item changed (the board lists each room's),
/// with its new state when that is what changed.
pub async fn announce(
    tx: &mut Tx,
    equipment_id: i64,
    state: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use crate::live::{EventKind, NewEvent, Topic};
    let event = NewEvent {
        topic: Topic::Rooms,
        kind: EventKind::Equipment,
        subject: Some(equipment_id),
        code: state.map(str::to_owned),
        visit: None,
    };
    crate::live::store::record(tx, &event, now).await.map(|_| ())
}
