use super::{NewStaffMember, StaffMember, StaffPresence, StaffRole};
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: i64,
    family_name: String,
    given_name: String,
    active: bool,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    staff_member_id: i64,
    #[sqlx(try_from = "String")]
    role: StaffRole,
}

/// The facility's active staff with their roles, by family then given name. Sorted here
/// rather than in SQL: PostgreSQL collates by locale, SQLite by bytes.
pub async fn list(store: &Store, facility_id: i64) -> Result<Vec<StaffMember>, StoreError> {
    let members = crate::fetch_all!(
        store.read(),
        MemberRow,
        "SELECT id, family_name, given_name, active FROM staff_member WHERE facility_id = $1 AND active = $2",
        facility_id,
        true
    )?;
    let roles = crate::fetch_all!(
        store.read(),
        RoleRow,
        "SELECT r.staff_member_id, r.role FROM staff_role r \
         JOIN staff_member s ON s.id = r.staff_member_id WHERE s.facility_id = $1",
        facility_id
    )?;
    let mut staff: Vec<StaffMember> = members
        .into_iter()
        .map(|m| {
            let mut member_roles: Vec<StaffRole> = roles
                .iter()
                .filter(|r| r.staff_member_id == m.id)
                .map(|r| r.role)
                .collect();
            member_roles.sort();
            StaffMember {
                id: m.id,
                family_name: m.family_name,
                given_name: m.given_name,
                roles: member_roles,
                active: m.active,
            }
        })
        .collect();
    staff.sort_by(|a, b| (&a.family_name, &a.given_name, a.id).cmp(&(&b.family_name, &b.given_name, b.id)));
    Ok(staff)
}

pub async fn create(tx: &mut Tx, facility_id: i64, member: &NewStaffMember) -> Result<i64, StoreError> {
    let id = crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO staff_member (facility_id, family_name, given_name, active) VALUES ($1, $2, $3, TRUE) RETURNING id",
        facility_id,
        &member.family_name,
        &member.given_name
    )?;
    for role in &member.roles {
        crate::execute!(
            tx.exec(),
            "INSERT INTO staff_role (staff_member_id, role) VALUES ($1, $2)",
            id,
            role.code()
        )?;
    }
    Ok(id)
}

/// The roles of a person of this facility who still works here: none once their account
/// is deactivated; `NotFound` for anyone else.
pub async fn working_roles(
    tx: &mut Tx,
    facility_id: i64,
    staff_member_id: i64,
) -> Result<Vec<StaffRole>, StoreError> {
    let (active,) = crate::fetch_optional!(
        tx.exec(),
        (bool,),
        "SELECT active FROM staff_member WHERE id = $1 AND facility_id = $2",
        staff_member_id,
        facility_id
    )?
    .ok_or(StoreError::NotFound)?;
    if !active {
        return Ok(Vec::new());
    }
    crate::fetch_all!(
        tx.exec(),
        (String,),
        "SELECT role FROM staff_role WHERE staff_member_id = $1",
        staff_member_id
    )?
    .into_iter()
    .map(|(role,)| StaffRole::try_from(role).map_err(StoreError::Database))
    .collect()
}

/// Whether a person is working now; nobody is on shift until they say so.
pub async fn presence_in(tx: &mut Tx, staff_member_id: i64) -> Result<StaffPresence, StoreError> {
    let state = crate::fetch_optional!(
        tx.exec(),
        (String,),
        "SELECT state FROM staff_presence WHERE staff_member_id = $1",
        staff_member_id
    )?;
    match state {
        Some((code,)) => StaffPresence::try_from(code).map_err(StoreError::Database),
        None => Ok(StaffPresence::Off),
    }
}

pub async fn set_presence(
    tx: &mut Tx,
    staff_member_id: i64,
    presence: StaffPresence,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO staff_presence (staff_member_id, state, since) VALUES ($1, $2, $3) \
         ON CONFLICT (staff_member_id) DO UPDATE SET state = excluded.state, since = excluded.since",
        staff_member_id,
        presence.code(),
        now
    )?;
    Ok(())
}

/// Everyone's presence in the facility, with since when.
pub async fn presences(
    store: &Store,
    facility_id: i64,
) -> Result<Vec<(i64, StaffPresence, DateTime<Utc>)>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        (i64, String, DateTime<Utc>),
        "SELECT p.staff_member_id, p.state, p.since FROM staff_presence p \
         JOIN staff_member s ON s.id = p.staff_member_id WHERE s.facility_id = $1",
        facility_id
    )?;
    rows.into_iter()
        .map(|(id, state, since)| {
            Ok((
                id,
                StaffPresence::try_from(state).map_err(StoreError::Database)?,
                since,
            ))
        })
        .collect()
}
