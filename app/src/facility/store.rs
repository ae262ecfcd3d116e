use super::{Facility, FacilitySettings};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct FacilityRow {
    id: i64,
    name: String,
    timezone: String,
}

/// The facility this installation serves (the first one created).
pub async fn current(store: &Store) -> Result<Option<Facility>, StoreError> {
    let row = crate::fetch_optional!(
        store.read(),
        FacilityRow,
        "SELECT id, name, timezone FROM facility ORDER BY id LIMIT 1"
    )?;
    Ok(row.map(|r| Facility {
        id: r.id,
        name: r.name,
        timezone: r.timezone,
    }))
}

/// The facility's id, read inside a write transaction.
pub async fn first_id(tx: &mut Tx) -> Result<Option<i64>, StoreError> {
    Ok(
        crate::fetch_optional!(tx.exec(), (i64,), "SELECT id FROM facility ORDER BY id LIMIT 1")?
            .map(|(id,)| id),
    )
}

/// Whether `timezone` is an IANA zone name this build knows.
pub fn known_timezone(timezone: &str) -> bool {
    timezone.parse::<chrono_tz::Tz>().is_ok()
}

pub async fn create(tx: &mut Tx, name: &str, timezone: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO facility (name, timezone, created_at) VALUES ($1, $2, $3) RETURNING id",
        name,
        timezone,
        now
    )
}

/// The facility's settings; the defaults until an administrator sets them.
pub async fn settings(store: &Store, facility_id: i64) -> Result<FacilitySettings, StoreError> {
    settings_through(store.read(), facility_id).await
}

/// The settings as a write transaction sees them.
pub async fn settings_in(tx: &mut Tx, facility_id: i64) -> Result<FacilitySettings, StoreError> {
    settings_through(tx.exec(), facility_id).await
}

async fn settings_through(
    exec: crate::store::Exec<'_>,
    facility_id: i64,
) -> Result<FacilitySettings, StoreError> {
    let row = crate::fetch_optional!(
        exec,
        (i64, bool, i64),
        "SELECT reposition_reminder_minutes, board_short_identifiers, critical_escalation_minutes \
         FROM facility_setting WHERE facility_id = $1",
        facility_id
    )?;
    Ok(
        row.map_or_else(FacilitySettings::default, |(minutes, short, escalation)| {
            FacilitySettings {
                reposition_reminder_minutes: minutes,
                board_short_identifiers: short,
                critical_escalation_minutes: escalation,
            }
        }),
    )
}

pub async fn save_settings(
    tx: &mut Tx,
    facility_id: i64,
    settings: &FacilitySettings,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO facility_setting (facility_id, reposition_reminder_minutes, board_short_identifiers, \
         critical_escalation_minutes) VALUES ($1, $2, $3, $4) ON CONFLICT (facility_id) DO UPDATE SET \
         reposition_reminder_minutes = excluded.reposition_reminder_minutes, \
         board_short_identifiers = excluded.board_short_identifiers, \
         critical_escalation_minutes = excluded.critical_escalation_minutes",
        facility_id,
        settings.reposition_reminder_minutes,
        settings.board_short_identifiers,
        settings.critical_escalation_minutes
    )?;
    Ok(())
}

/// The clinic's name, time zone and national identifier.
pub async fn identity(store: &Store, facility_id: i64) -> Result<super::FacilityIdentity, StoreError> {
    let (name, timezone, national_id) = crate::fetch_optional!(
        store.read(),
        (String, String, String),
        "SELECT name, timezone, national_id FROM facility WHERE id = $1",
        facility_id
    )?
    .ok_or(StoreError::NotFound)?;
    Ok(super::FacilityIdentity {
        name,
        timezone,
        national_id,
    })
}

pub async fn save_identity(
    tx: &mut Tx,
    facility_id: i64,
    identity: &super::FacilityIdentity,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE facility SET name = $1, timezone = $2, national_id = $3 WHERE id = $4",
        &identity.name,
        &identity.timezone,
        &identity.national_id,
        facility_id
    )?;
    Ok(())
}
