//! Accounts, roles, credentials and certifications in the database.

use super::{AccountDetail, AccountSummary, Certification, CertificationKind};
use crate::staff::StaffRole;
use crate::store::{Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};

/// What sign-in needs to know about a username.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub account_id: i64,
    pub staff_member_id: i64,
    pub password_hash: String,
    pub pin_hash: Option<String>,
    pub active: bool,
    /// Someone else set this password: its owner chooses a new one to sign in.
    pub must_change_password: bool,
}

pub async fn credentials(store: &Store, username: &str) -> Result<Option<Credentials>, StoreError> {
    crate::fetch_optional!(
        store.read(),
        Credentials,
        "SELECT a.id AS account_id, a.staff_member_id, a.password_hash, a.pin_hash, m.active, \
                a.must_change_password \
         FROM account a JOIN staff_member m ON m.id = a.staff_member_id WHERE a.username = $1",
        username.trim().to_lowercase()
    )
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    staff_member_id: i64,
    #[sqlx(try_from = "String")]
    role: StaffRole,
}

pub async fn roles(store: &Store, staff_member_id: i64) -> Result<Vec<StaffRole>, StoreError> {
    let mut roles: Vec<StaffRole> = crate::fetch_all!(
        store.read(),
        RoleRow,
        "SELECT staff_member_id, role FROM staff_role WHERE staff_member_id = $1",
        staff_member_id
    )?
    .into_iter()
    .map(|r| r.role)
    .collect();
    roles.sort();
    Ok(roles)
}

/// A person to give an account to, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub family_name: String,
    pub given_name: String,
    pub roles: Vec<StaffRole>,
    pub password_hash: String,
    pub pin_hash: Option<String>,
    /// The password was chosen by someone else (an administrator): its owner changes it
    /// at the first sign-in.
    pub must_change_password: bool,
}

/// Creates the staff member and their account; a taken username is `Unique { "username" }`.
pub async fn create(
    tx: &mut Tx,
    facility_id: i64,
    account: &NewAccount,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let member = crate::staff::NewStaffMember {
        family_name: account.family_name.clone(),
        given_name: account.given_name.clone(),
        roles: account.roles.clone(),
    };
    let staff_member_id = crate::staff::store::create(tx, facility_id, &member).await?;
    attach(tx, staff_member_id, account, now).await
}

/// Gives an existing staff member an account.
pub async fn attach(
    tx: &mut Tx,
    staff_member_id: i64,
    account: &NewAccount,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO account (staff_member_id, username, password_hash, pin_hash, created_at, password_changed_at, \
                              must_change_password) \
         VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
        staff_member_id,
        account.username.to_lowercase(),
        &account.password_hash,
        account.pin_hash.as_deref(),
        now,
        account.must_change_password
    )
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    account_id: i64,
    staff_member_id: i64,
    username: String,
    family_name: String,
    given_name: String,
    active: bool,
    open_sessions: i64,
}

const SUMMARY_SELECT: &str = "SELECT a.id AS account_id, a.staff_member_id, a.username, m.family_name, m.given_name, m.active, \
       (SELECT COUNT(*) FROM session s WHERE s.account_id = a.id AND s.ended_at IS NULL AND s.expires_at > $1) AS open_sessions \
     FROM account a JOIN staff_member m ON m.id = a.staff_member_id";

/// Every account of the facility, by family then given name (sorted here: the two
/// databases collate differently).
pub async fn list(
    store: &Store,
    facility_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<AccountSummary>, StoreError> {
    let sql = format!("{SUMMARY_SELECT} WHERE m.facility_id = $2");
    let rows = crate::fetch_all!(store.read(), SummaryRow, &sql, now, facility_id)?;
    let roles = crate::fetch_all!(
        store.read(),
        RoleRow,
        "SELECT r.staff_member_id, r.role FROM staff_role r JOIN staff_member m ON m.id = r.staff_member_id \
         WHERE m.facility_id = $1",
        facility_id
    )?;
    let mut accounts: Vec<AccountSummary> = rows.into_iter().map(|row| summary(row, &roles)).collect();
    accounts.sort_by(|a, b| {
        (&a.family_name, &a.given_name, a.account_id).cmp(&(&b.family_name, &b.given_name, b.account_id))
    });
    Ok(accounts)
}

fn summary(row: SummaryRow, roles: &[RoleRow]) -> AccountSummary {
    let mut member_roles: Vec<StaffRole> = roles
        .iter()
        .filter(|r| r.staff_member_id == row.staff_member_id)
        .map(|r| r.role)
        .collect();
    member_roles.sort();
    AccountSummary {
        account_id: row.account_id,
        username: row.username,
        family_name: row.family_name,
        given_name: row.given_name,
        roles: member_roles,
        active: row.active,
        open_sessions: row.open_sessions,
    }
}

#[derive(sqlx::FromRow)]
struct CertificationRow {
    #[sqlx(try_from = "String")]
    kind: CertificationKind,
    expires_on: NaiveDate,
}

pub async fn certifications(store: &Store, staff_member_id: i64) -> Result<Vec<Certification>, StoreError> {
    let mut list: Vec<Certification> = crate::fetch_all!(
        store.read(),
        CertificationRow,
        "SELECT kind, expires_on FROM certification WHERE staff_member_id = $1",
        staff_member_id
    )?
    .into_iter()
    .map(|r| Certification {
        kind: r.kind,
        expires_on: r.expires_on,
    })
    .collect();
    list.sort_by_key(|c| c.kind);
    Ok(list)
}

/// One account with its certifications and open sessions.
pub async fn detail(
    store: &Store,
    account_id: i64,
    now: DateTime<Utc>,
    today: NaiveDate,
    idle_lock: std::time::Duration,
) -> Result<AccountDetail, StoreError> {
    let sql = format!("{SUMMARY_SELECT} WHERE a.id = $2");
    let row = crate::fetch_optional!(store.read(), SummaryRow, &sql, now, account_id)?
        .ok_or(StoreError::NotFound)?;
    let staff_member_id = row.staff_member_id;
    let roles = crate::fetch_all!(
        store.read(),
        RoleRow,
        "SELECT staff_member_id, role FROM staff_role WHERE staff_member_id = $1",
        staff_member_id
    )?;
    let has_pin = crate::fetch_scalar!(
        store.read(),
        bool,
        "SELECT pin_hash IS NOT NULL FROM account WHERE id = $1",
        account_id
    )?;
    Ok(AccountDetail {
        summary: summary(row, &roles),
        has_pin,
        certifications: certifications(store, staff_member_id).await?,
        sessions: crate::auth::session::list_open(store, account_id, None, now, idle_lock).await?,
        waiting_roles: waiting_roles(store.read(), account_id).await?,
        today,
    })
}

/// The staff member behind an account of `facility_id`.
pub async fn staff_member_of(store: &Store, facility_id: i64, account_id: i64) -> Result<i64, StoreError> {
    crate::fetch_optional!(
        store.read(),
        (i64,),
        "SELECT a.staff_member_id FROM account a JOIN staff_member m ON m.id = a.staff_member_id \
         WHERE a.id = $1 AND m.facility_id = $2",
        account_id,
        facility_id
    )?
    .map(|(id,)| id)
    .ok_or(StoreError::NotFound)
}

/// Renames a person and replaces their roles.
pub async fn update(
    tx: &mut Tx,
    staff_member_id: i64,
    family_name: &str,
    given_name: &str,
    roles: &[StaffRole],
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE staff_member SET family_name = $1, given_name = $2 WHERE id = $3",
        family_name,
        given_name,
        staff_member_id
    )?;
    crate::execute!(
        tx.exec(),
        "DELETE FROM staff_role WHERE staff_member_id = $1",
        staff_member_id
    )?;
    for role in roles {
        crate::execute!(
            tx.exec(),
            "INSERT INTO staff_role (staff_member_id, role) VALUES ($1, $2)",
            staff_member_id,
            role.code()
        )?;
    }
    Ok(())
}

pub async fn set_active(tx: &mut Tx, staff_member_id: i64, active: bool) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE staff_member SET active = $1 WHERE id = $2",
        active,
        staff_member_id
    )?;
    Ok(())
}

/// Who chose a password: its owner, or someone else (an administrator's reset), in which
/// case the owner must choose a new one at the next sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    Owner,
    SomeoneElse,
}

pub async fn set_password(
    tx: &mut Tx,
    account_id: i64,
    hash: &str,
    chosen_by: ChosenBy,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE account SET password_hash = $1, password_changed_at = $2, must_change_password = $3 WHERE id = $4",
        hash,
        now,
        chosen_by == ChosenBy::SomeoneElse,
        account_id
    )?;
    Ok(())
}

/// Asks for `roles` on an account, each waiting for a second person (a role already
/// waiting keeps its request).
pub async fn request_roles(
    tx: &mut Tx,
    account_id: i64,
    roles: &[StaffRole],
    requested_by: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for role in roles {
        crate::execute!(
            tx.exec(),
            "INSERT INTO role_grant (account_id, role, requested_by, requested_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, role) WHERE decision IS NULL DO NOTHING",
            account_id,
            role.code(),
            requested_by,
            now
        )?;
    }
    Ok(())
}

/// Withdraws the waiting requests for roles no longer asked for.
pub async fn withdraw_roles_except(
    tx: &mut Tx,
    account_id: i64,
    still_asked: &[StaffRole],
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let waiting = waiting_roles(tx.exec(), account_id).await?;
    for role in waiting.into_iter().filter(|r| !still_asked.contains(r)) {
        crate::execute!(
            tx.exec(),
            "UPDATE role_grant SET decision = 'withdrawn', decided_by = $1, decided_at = $2 \
             WHERE account_id = $3 AND role = $4 AND decision IS NULL",
            by,
            now,
            account_id,
            role.code()
        )?;
    }
    Ok(())
}

/// The roles waiting for a second person on an account, read where `exec` says (the
/// page's read, or the transaction changing them).
pub async fn waiting_roles(
    exec: crate::store::Exec<'_>,
    account_id: i64,
) -> Result<Vec<StaffRole>, StoreError> {
    let mut roles: Vec<StaffRole> = crate::fetch_all!(
        exec,
        (String,),
        "SELECT role FROM role_grant WHERE account_id = $1 AND decision IS NULL",
        account_id
    )?
    .into_iter()
    .filter_map(|(code,)| StaffRole::try_from(code).ok())
    .collect();
    roles.sort();
    Ok(roles)
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: i64,
    account_id: i64,
    username: String,
    family_name: String,
    given_name: String,
    #[sqlx(try_from = "String")]
    role: StaffRole,
    requested_by_id: i64,
    requested_by: String,
    requested_at: DateTime<Utc>,
}

/// Every role waiting for a second person in the facility, oldest first, with whether
/// `viewer` may decide it.
pub async fn waiting_grants(
    store: &Store,
    facility_id: i64,
    viewer: i64,
) -> Result<Vec<super::RoleGrant>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        GrantRow,
        "SELECT g.id, g.account_id, a.username, m.family_name, m.given_name, g.role, \
                g.requested_by AS requested_by_id, r.username AS requested_by, g.requested_at \
         FROM role_grant g JOIN account a ON a.id = g.account_id \
              JOIN staff_member m ON m.id = a.staff_member_id \
              JOIN account r ON r.id = g.requested_by \
         WHERE g.decision IS NULL AND m.facility_id = $1 ORDER BY g.id",
        facility_id
    )?;
    Ok(rows
        .into_iter()
        .map(|r| super::RoleGrant {
            id: r.id,
            account_id: r.account_id,
            username: r.username,
            display_name: crate::staff::display_name(&r.given_name, &r.family_name),
            role: r.role,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            mine_to_decide: r.requested_by_id != viewer && r.account_id != viewer,
        })
        .collect())
}

/// A waiting request, read in the deciding transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WaitingGrant {
    pub account_id: i64,
    pub staff_member_id: i64,
    pub facility_id: i64,
    #[sqlx(try_from = "String")]
    pub role: StaffRole,
    pub requested_by: i64,
}

pub async fn waiting_grant(tx: &mut Tx, grant_id: i64) -> Result<WaitingGrant, StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        WaitingGrant,
        "SELECT g.account_id, a.staff_member_id, m.facility_id, g.role, g.requested_by \
         FROM role_grant g JOIN account a ON a.id = g.account_id JOIN staff_member m ON m.id = a.staff_member_id \
         WHERE g.id = $1 AND g.decision IS NULL",
        grant_id
    )?
    .ok_or(StoreError::NotFound)
}

/// Confirms (the role is added) or declines a waiting request.
pub async fn decide_grant(
    tx: &mut Tx,
    grant_id: i64,
    grant: &WaitingGrant,
    confirm: bool,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE role_grant SET decision = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND decision IS NULL",
        if confirm { "confirmed" } else { "declined" },
        by,
        now,
        grant_id
    )?;
    if changed != 1 {
        return Err(StoreError::Conflict);
    }
    if confirm {
        crate::execute!(
            tx.exec(),
            "INSERT INTO staff_role (staff_member_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            grant.staff_member_id,
            grant.role.code()
        )?;
    }
    Ok(())
}

pub async fn set_pin(tx: &mut Tx, account_id: i64, hash: &str) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE account SET pin_hash = $1 WHERE id = $2",
        hash,
        account_id
    )?;
    Ok(())
}

pub async fn set_certification(
    tx: &mut Tx,
    staff_member_id: i64,
    certification: &Certification,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO certification (staff_member_id, kind, expires_on) VALUES ($1, $2, $3) \
         ON CONFLICT (staff_member_id, kind) DO UPDATE SET expires_on = $3",
        staff_member_id,
        certification.kind.code(),
        certification.expires_on
    )?;
    Ok(())
}

pub async fn remove_certification(
    tx: &mut Tx,
    staff_member_id: i64,
    kind: CertificationKind,
) -> Result<bool, StoreError> {
    let removed = crate::execute!(
        tx.exec(),
        "DELETE FROM certification WHERE staff_member_id = $1 AND kind = $2",
        staff_member_id,
        kind.code()
    )?;
    Ok(removed > 0)
}
