use super::{Room, RoomKind, RoomOverview, RoomStatus};
use crate::store::{Exec, Store, StoreError, Tx};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct RoomRow {
    id: i64,
    code: String,
    name: String,
    #[sqlx(try_from = "String")]
    kind: RoomKind,
    #[sqlx(try_from = "String")]
    status: RoomStatus,
    status_since: DateTime<Utc>,
}

impl From<RoomRow> for Room {
    fn from(r: RoomRow) -> Self {
        Room {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            status: r.status,
            status_since: r.status_since,
        }
    }
}

const ROOM_SELECT: &str = "SELECT id, code, name, kind, status, status_since FROM room";

pub async fn list(store: &Store, facility_id: i64) -> Result<Vec<Room>, StoreError> {
    let sql =
        format!("{ROOM_SELECT} WHERE facility_id = $1 AND retired_at IS NULL ORDER BY sort_order, code");
    let rows = crate::fetch_all!(store.read(), RoomRow, &sql, facility_id)?;
    Ok(rows.into_iter().map(Room::from).collect())
}

/// Each room's place in the lists, by room.
pub async fn sort_orders(store: &Store, facility_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    crate::fetch_all!(
        store.read(),
        (i64, i64),
        "SELECT id, sort_order FROM room WHERE facility_id = $1 AND retired_at IS NULL",
        facility_id
    )
}

pub async fn get(store: &Store, facility_id: i64, room_id: i64) -> Result<Room, StoreError> {
    fetch_room(store.read(), facility_id, room_id).await
}

/// The room as a write transaction sees it.
pub async fn get_in(tx: &mut Tx, facility_id: i64, room_id: i64) -> Result<Room, StoreError> {
    fetch_room(tx.exec(), facility_id, room_id).await
}

async fn fetch_room(exec: Exec<'_>, facility_id: i64, room_id: i64) -> Result<Room, StoreError> {
    let sql = format!("{ROOM_SELECT} WHERE facility_id = $1 AND id = $2");
    crate::fetch_optional!(exec, RoomRow, &sql, facility_id, room_id)?
        .map(Room::from)
        .ok_or(StoreError::NotFound)
}

/// Every room with the patient in it, in the facility's display order.
pub async fn overview(store: &Store, facility_id: i64) -> Result<Vec<RoomOverview>, StoreError> {
    let rooms = list(store, facility_id).await?;
    let mut occupants = crate::patients::store::occupants(store, facility_id).await?;
    Ok(rooms
        .into_iter()
        .map(|room| {
            let occupant = occupants
                .iter()
                .position(|(room_id, _)| *room_id == room.id)
                .map(|at| occupants.swap_remove(at).1);
            RoomOverview { room, occupant }
        })
        .collect())
}

/// One room with the patient in it.
pub async fn overview_of(store: &Store, facility_id: i64, room_id: i64) -> Result<RoomOverview, StoreError> {
    let room = get(store, facility_id, room_id).await?;
    let occupant = crate::patients::store::occupant(store, room.id).await?;
    Ok(RoomOverview { room, occupant })
}

/// A room to create, as the store receives it.
pub struct NewRoom<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: RoomKind,
    pub status: RoomStatus,
    pub sort_order: i64,
}

pub async fn create(
    tx: &mut Tx,
    facility_id: i64,
    room: &NewRoom<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO room (facility_id, code, name, kind, status, status_since, sort_order) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        facility_id,
        room.code,
        room.name,
        room.kind.code(),
        room.status.code(),
        now,
        room.sort_order
    )
}

/// Sets a room's status, if it is still `from`; returns whether it was. The caller
/// checks that the change is one staff may make.
pub async fn change_status(
    tx: &mut Tx,
    facility_id: i64,
    room_id: i64,
    from: RoomStatus,
    to: RoomStatus,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE room SET status = $1, status_since = $2 WHERE facility_id = $3 AND id = $4 AND status = $5",
        to.code(),
        now,
        facility_id,
        room_id,
        from.code()
    )?;
    Ok(changed == 1)
}

/// Changes a room still in use; returns whether there was one.
pub async fn update(
    tx: &mut Tx,
    facility_id: i64,
    room_id: i64,
    code: &str,
    name: &str,
    kind: RoomKind,
    sort_order: i64,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE room SET code = $1, name = $2, kind = $3, sort_order = $4 \
         WHERE facility_id = $5 AND id = $6 AND retired_at IS NULL",
        code,
        name,
        kind.code(),
        sort_order,
        facility_id,
        room_id
    )?;
    Ok(changed == 1)
}

/// Retires a room still in `status` (closed, so nothing can enter it), and leaves its
/// equipment without a room; returns whether it was.
pub async fn retire(
    tx: &mut Tx,
    facility_id: i64,
    room_id: i64,
    status: RoomStatus,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE room SET retired_at = $1, status = $2, status_since = $1 \
         WHERE facility_id = $3 AND id = $4 AND status = $5 AND retired_at IS NULL",
        now,
        RoomStatus::Closed.code(),
        facility_id,
        room_id,
        status.code()
    )?;
    if changed != 1 {
        return Ok(false);
    }
    crate::execute!(
        tx.exec(),
        "UPDATE equipment SET room_id = NULL WHERE room_id = $1",
        room_id
    )?;
    Ok(true)
}

/// Records who cleaned the room, when, from which status, and the checklist ticked.
pub async fn attest_cleaning(
    tx: &mut Tx,
    room_id: i64,
    from: RoomStatus,
    cleaned_by: i64,
    checklist: &[super::CleaningItem],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let items = checklist.iter().map(|i| i.code()).collect::<Vec<_>>().join(",");
    crate::execute!(
        tx.exec(),
        "INSERT INTO cleaning_attestation (room_id, from_status, cleaned_by, attested_at, checklist) \
         VALUES ($1, $2, $3, $4, $5)",
        room_id,
        from.code(),
        cleaned_by,
        now,
        items
    )?;
    Ok(())
}

/// The room's last cleaning attestation: who and when.
pub async fn last_cleaning(store: &Store, room_id: i64) -> Result<Option<super::Cleaning>, StoreError> {
    let row = crate::fetch_optional!(
        store.read(),
        (String, String, DateTime<Utc>),
        "SELECT s.given_name, s.family_name, c.attested_at FROM cleaning_attestation c \
         JOIN staff_member s ON s.id = c.cleaned_by WHERE c.room_id = $1 \
         ORDER BY c.attested_at DESC, c.id DESC LIMIT 1",
        room_id
    )?;
    Ok(row.map(|(given, family, at)| super::Cleaning {
        cleaned_by: crate::staff::display_name(&given, &family),
        attested_at: at,
    }))
}

/// Tells every screen following the rooms that `room_id` is now `status`. Written in the
/// transaction that changed it, last before its commit.
pub async fn announce_status(
    tx: &mut Tx,
    room_id: i64,
    status: RoomStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use crate::live::{EventKind, NewEvent, Topic};
    let event = NewEvent {
        topic: Topic::Rooms,
        kind: EventKind::RoomStatus,
        subject: Some(room_id),
        code: Some(status.code().to_owned()),
        visit: None,
    };
    crate::live::store::record(tx, &event, now).await?;
    Ok(())
}
