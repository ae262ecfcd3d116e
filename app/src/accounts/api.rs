//! Server functions of account administration. Each one: authorise (administrators
//! only), validate, write with its audit row in one transaction, map the error.

use super::{AccountDetail, AccountSummary};
use crate::error::AppError;
use leptos::prelude::*;

/// Usernames: 3 to 32 of a-z, 0-9, dot, dash, underscore (stored in lower case).
pub fn username_problem(username: &str) -> Option<crate::error::Problem> {
    use crate::error::Problem;
    let length = username.chars().count();
    if username.is_empty() {
        Some(Problem::Required)
    } else if length < 3 {
        Some(Problem::TooShort)
    } else if length > 32 {
        Some(Problem::TooLong)
    } else if !username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
    {
        Some(Problem::Malformed)
    } else {
        None
    }
}

/// An account's details as a form sends them, checked field by field.
#[cfg(feature = "ssr")]
pub struct CheckedPerson {
    pub family_name: String,
    pub given_name: String,
    pub roles: Vec<crate::staff::StaffRole>,
}

#[cfg(feature = "ssr")]
pub fn check_person(
    checks: &mut crate::error::validate::Checks,
    family_name: &str,
    given_name: &str,
    roles: &[String],
) -> CheckedPerson {
    use crate::error::Problem;
    use crate::staff::StaffRole;
    let family_name = checks.text("family_name", family_name, 80);
    let given_name = checks.text("given_name", given_name, 80);
    let mut parsed = Vec::new();
    for code in roles {
        match StaffRole::from_code(code.trim()) {
            Some(role) if !parsed.contains(&role) => parsed.push(role),
            Some(_) => {}
            None => {
                checks.fail("roles", Problem::NotAllowed);
                break;
            }
        }
    }
    if roles.is_empty() {
        checks.fail("roles", Problem::Required);
    }
    parsed.sort();
    CheckedPerson {
        family_name,
        given_name,
        roles: parsed,
    }
}

/// Checks everything a new account needs and hashes its password.
#[cfg(feature = "ssr")]
pub async fn checked_new_account(
    username: &str,
    family_name: &str,
    given_name: &str,
    roles: &[String],
    password: String,
) -> Result<super::store::NewAccount, AppError> {
    use crate::error::validate::Checks;
    let mut checks = Checks::new();
    let username = username.trim().to_lowercase();
    if let Some(problem) = username_problem(&username) {
        checks.fail("username", problem);
    }
    let person = check_person(&mut checks, family_name, given_name, roles);
    if let Some(problem) = crate::auth::password::password_problem(&password) {
        checks.fail("password", problem);
    }
    checks.finish()?;
    Ok(super::store::NewAccount {
        username,
        family_name: person.family_name,
        given_name: person.given_name,
        roles: person.roles,
        password_hash: crate::auth::password::hash(password).await?,
        pin_hash: None,
        must_change_password: false,
    })
}

/// Who acts, the store, their facility and its clock.
#[cfg(feature = "ssr")]
type Workplace = (
    crate::auth::Principal,
    crate::store::Store,
    i64,
    crate::facility::FacilityClock,
);

/// The administrator, the store and the facility every function below works in.
#[cfg(feature = "ssr")]
async fn administration() -> Result<Workplace, AppError> {
    let principal = crate::auth::require(crate::auth::Capability::ManageAccounts).await?;
    in_facility(principal).await
}

/// The store, facility and clock for `principal`'s work.
#[cfg(feature = "ssr")]
async fn in_facility(principal: crate::auth::Principal) -> Result<Workplace, AppError> {
    let store = crate::store::from_context()?;
    let (facility_id, clock) = crate::facility::current_clock(&store).await?;
    let facility_id = facility_id.ok_or_else(AppError::not_found)?;
    Ok((principal, store, facility_id, clock))
}

#[cfg(feature = "ssr")]
fn audit_entry(principal: &crate::auth::Principal, action: &str, account_id: i64) -> crate::audit::Entry {
    crate::audit::Entry::by(principal, action, crate::audit::Outcome::Allowed)
        .record(format!("account/{account_id}"))
}

/// The staff member behind an account of this facility; 404 for any other account.
#[cfg(feature = "ssr")]
async fn staff_of(store: &crate::store::Store, facility_id: i64, account_id: i64) -> Result<i64, AppError> {
    super::store::staff_member_of(store, facility_id, account_id)
        .await
        .map_err(|_| AppError::not_found())
}

#[cfg(feature = "ssr")]
fn positive(field: &str, id: i64) -> Result<i64, AppError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(AppError::invalid(field, crate::error::Problem::Malformed))
    }
}

#[server(prefix = "/api", endpoint = "accounts", client = crate::shell::SubmissionClient)]
pub async fn list_accounts() -> Result<Vec<AccountSummary>, AppError> {
    let (_, store, facility_id, _) = administration().await?;
    Ok(super::store::list(&store, facility_id, chrono::Utc::now()).await?)
}

#[server(prefix = "/api", endpoint = "account", client = crate::shell::SubmissionClient)]
pub async fn load_account(account_id: i64) -> Result<AccountDetail, AppError> {
    let account_id = positive("account_id", account_id)?;
    let (_, store, facility_id, clock) = administration().await?;
    staff_of(&store, facility_id, account_id).await?;
    let idle = crate::auth::guard::settings().idle_lock;
    Ok(super::store::detail(&store, account_id, clock.now, clock.today(), idle).await?)
}

/// Creates an account with a password its owner changes at the first sign-in. The roles
/// that open patients (and the administrator's) wait for a second person.
#[server(prefix = "/api", endpoint = "create_account", client = crate::shell::SubmissionClient)]
pub async fn create_account(
    username: String,
    family_name: String,
    given_name: String,
    #[server(default)] roles: Vec<String>,
    password: String,
) -> Result<i64, AppError> {
    let (principal, store, facility_id, clock) = administration().await?;
    let mut account = checked_new_account(&username, &family_name, &given_name, &roles, password).await?;
    account.must_change_password = true;
    let (now_roles, waiting): (Vec<_>, Vec<_>) = account
        .roles
        .iter()
        .partition(|role| !super::needs_second_person(**role));
    let asked = crate::staff::role_codes(&account.roles);
    account.roles = now_roles;
    let mut tx = store.begin().await?;
    let account_id = super::store::create(&mut tx, facility_id, &account, clock.now).await?;
    super::store::request_roles(&mut tx, account_id, &waiting, principal.account_id, clock.now).await?;
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, "account.create", account_id).detail(format!(
            "{} [{asked}], waiting for a second person: [{}]",
            account.username,
            crate::staff::role_codes(&waiting)
        )),
    )
    .await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/admin/accounts/{account_id}"));
    Ok(account_id)
}

/// Renames a person and changes their roles: a role removed goes at once, a role that
/// opens patients (or the administrator's) added waits for a second person.
#[server(prefix = "/api", endpoint = "update_account", client = crate::shell::SubmissionClient)]
pub async fn update_account(
    account_id: i64,
    family_name: String,
    given_name: String,
    #[server(default)] roles: Vec<String>,
) -> Result<(), AppError> {
    use crate::error::validate::Checks;
    let account_id = positive("account_id", account_id)?;
    let mut checks = Checks::new();
    let person = check_person(&mut checks, &family_name, &given_name, &roles);
    checks.finish()?;
    let (principal, store, facility_id, clock) = administration().await?;
    // Nobody changes their own roles: an administrator could otherwise lock the clinic
    // out of administration, or give themselves access to patients.
    if account_id == principal.account_id && person.roles != principal.roles {
        return Err(AppError::invalid("roles", crate::error::Problem::NotAllowed));
    }
    let staff_member_id = staff_of(&store, facility_id, account_id).await?;
    let held = super::store::roles(&store, staff_member_id).await?;
    let (now_roles, waiting): (Vec<_>, Vec<_>) = person
        .roles
        .iter()
        .partition(|role| held.contains(role) || !super::needs_second_person(**role));
    let mut tx = store.begin().await?;
    super::store::update(
        &mut tx,
        staff_member_id,
        &person.family_name,
        &person.given_name,
        &now_roles,
    )
    .await?;
    super::store::withdraw_roles_except(&mut tx, account_id, &waiting, principal.account_id, clock.now)
        .await?;
    super::store::request_roles(&mut tx, account_id, &waiting, principal.account_id, clock.now).await?;
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, "account.update", account_id).detail(format!(
            "roles [{}], waiting for a second person: [{}]",
            crate::staff::role_codes(&now_roles),
            crate::staff::role_codes(&waiting)
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Someone who may decide roles waiting for a second person: a supervisor, or an
/// administrator (not for their own requests, checked when deciding).
#[cfg(feature = "ssr")]
async fn second_person() -> Result<Workplace, AppError> {
    use crate::auth::Capability;
    let principal = crate::auth::guard::require_signed_in()?;
    if !crate::auth::any_allows(&principal.roles, Capability::ManageAccounts)
        && !crate::auth::any_allows(&principal.roles, Capability::SuperviseStaff)
    {
        crate::error::set_response_status(&AppError::Forbidden);
        return Err(AppError::Forbidden);
    }
    in_facility(principal).await
}

/// The roles waiting for a second person.
#[server(prefix = "/api", endpoint = "role_grants", client = crate::shell::SubmissionClient)]
pub async fn list_role_grants() -> Result<Vec<super::RoleGrant>, AppError> {
    let (principal, store, facility_id, _) = second_person().await?;
    Ok(super::store::waiting_grants(&store, facility_id, principal.account_id).await?)
}

/// Confirms (the role takes effect) or declines a role an administrator asked for.
/// Neither the person who asked nor the person it is for may decide it.
#[server(prefix = "/api", endpoint = "decide_role_grant", client = crate::shell::SubmissionClient)]
pub async fn decide_role_grant(grant_id: i64, confirm: bool) -> Result<(), AppError> {
    use crate::audit::{Entry, Outcome};
    use crate::error::Refusal;
    let grant_id = positive("grant_id", grant_id)?;
    let (principal, store, facility_id, clock) = second_person().await?;
    let mut tx = store.begin().await?;
    let grant = match super::store::waiting_grant(&mut tx, grant_id).await {
        Ok(grant) if grant.facility_id == facility_id => grant,
        Ok(_) | Err(crate::store::StoreError::NotFound) => return Err(AppError::not_found()),
        Err(other) => return Err(other.into()),
    };
    let action = if confirm {
        "account.roles.confirm"
    } else {
        "account.roles.decline"
    };
    let detail = format!("{} asked by account/{}", grant.role.code(), grant.requested_by);
    if grant.requested_by == principal.account_id || grant.account_id == principal.account_id {
        drop(tx);
        crate::audit::record(
            &store,
            Entry::by(&principal, action, Outcome::Refused)
                .record(format!("account/{}", grant.account_id))
                .detail(detail),
        )
        .await?;
        return Err(AppError::refused(Refusal::SecondPersonRequired));
    }
    super::store::decide_grant(
        &mut tx,
        grant_id,
        &grant,
        confirm,
        principal.account_id,
        clock.now,
    )
    .await?;
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, action, grant.account_id).detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (every session ends at once) or reactivates an account. Administrators
/// cannot deactivate themselves, so a clinic is never left without one by accident.
#[server(prefix = "/api", endpoint = "set_account_active", client = crate::shell::SubmissionClient)]
pub async fn set_account_active(account_id: i64, active: bool) -> Result<(), AppError> {
    use crate::auth::session::{end_all, EndReason};
    let account_id = positive("account_id", account_id)?;
    let (principal, store, facility_id, clock) = administration().await?;
    if !active && account_id == principal.account_id {
        return Err(AppError::invalid("account_id", crate::error::Problem::NotAllowed));
    }
    let staff_member_id = staff_of(&store, facility_id, account_id).await?;
    let mut tx = store.begin().await?;
    super::store::set_active(&mut tx, staff_member_id, active).await?;
    if !active {
        end_all(&mut tx, account_id, EndReason::Deactivated, clock.now).await?;
    }
    let action = if active {
        "account.reactivate"
    } else {
        "account.deactivate"
    };
    crate::audit::record_in(&mut tx, audit_entry(&principal, action, account_id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password for someone who forgot theirs; their sessions end, and they choose
/// a new one at the next sign-in (whoever reset it does not keep a way in).
#[server(prefix = "/api", endpoint = "reset_password", client = crate::shell::SubmissionClient)]
pub async fn reset_password(account_id: i64, password: String) -> Result<(), AppError> {
    use crate::auth::session::{end_all, EndReason};
    use crate::error::validate::Checks;
    let account_id = positive("account_id", account_id)?;
    let mut checks = Checks::new();
    if let Some(problem) = crate::auth::password::password_problem(&password) {
        checks.fail("password", problem);
    }
    checks.finish()?;
    let (principal, store, facility_id, clock) = administration().await?;
    staff_of(&store, facility_id, account_id).await?;
    let hash = crate::auth::password::hash(password).await?;
    let mut tx = store.begin().await?;
    super::store::set_password(
        &mut tx,
        account_id,
        &hash,
        super::store::ChosenBy::SomeoneElse,
        clock.now,
    )
    .await?;
    end_all(&mut tx, account_id, EndReason::Revoked, clock.now).await?;
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, "account.reset_password", account_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a certification, or renews it with a new expiry date.
#[server(prefix = "/api", endpoint = "set_certification", client = crate::shell::SubmissionClient)]
pub async fn set_certification(account_id: i64, kind: String, expires_on: String) -> Result<(), AppError> {
    use crate::error::{validate::Checks, Problem};
    let account_id = positive("account_id", account_id)?;
    let mut checks = Checks::new();
    let kind_parsed = super::CertificationKind::from_code(kind.trim());
    if kind_parsed.is_none() {
        checks.fail("kind", Problem::NotAllowed);
    }
    let date = if expires_on.trim().is_empty() {
        checks.fail("expires_on", Problem::Required);
        None
    } else {
        checks.date("expires_on", &expires_on)
    };
    checks.finish()?;
    let (Some(kind), Some(expires_on)) = (kind_parsed, date) else {
        return Err(AppError::Malformed);
    };
    let (principal, store, facility_id, _) = administration().await?;
    let staff_member_id = staff_of(&store, facility_id, account_id).await?;
    let certification = super::Certification { kind, expires_on };
    let mut tx = store.begin().await?;
    super::store::set_certification(&mut tx, staff_member_id, &certification).await?;
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, "certification.set", account_id).detail(format!("{kind} until {expires_on}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "remove_certification", client = crate::shell::SubmissionClient)]
pub async fn remove_certification(account_id: i64, kind: String) -> Result<(), AppError> {
    use crate::error::Problem;
    let account_id = positive("account_id", account_id)?;
    let kind = super::CertificationKind::from_code(kind.trim())
        .ok_or_else(|| AppError::invalid("kind", Problem::NotAllowed))?;
    let (principal, store, facility_id, _) = administration().await?;
    let staff_member_id = staff_of(&store, facility_id, account_id).await?;
    let mut tx = store.begin().await?;
    if !super::store::remove_certification(&mut tx, staff_member_id, kind).await? {
        return Err(AppError::not_found());
    }
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, "certification.remove", account_id).detail(kind.code()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of an account (a lost tablet, a colleague who left signed in).
#[server(prefix = "/api", endpoint = "end_account_sessions", client = crate::shell::SubmissionClient)]
pub async fn end_account_sessions(account_id: i64) -> Result<u64, AppError> {
    use crate::auth::session::{end_all, EndReason};
    let account_id = positive("account_id", account_id)?;
    let (principal, store, facility_id, clock) = administration().await?;
    staff_of(&store, facility_id, account_id).await?;
    let mut tx = store.begin().await?;
    let ended = end_all(&mut tx, account_id, EndReason::Revoked, clock.now).await?;
    crate::audit::record_in(
        &mut tx,
        audit_entry(&principal, "session.end_all", account_id).detail(format!("{ended} ended")),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;

    #[test]
    fn usernames_are_short_plain_and_lower_case() {
        assert_eq!(username_problem("c.lefevre"), None);
        assert_eq!(username_problem(""), Some(Problem::Required));
        assert_eq!(username_problem("ab"), Some(Problem::TooShort));
        assert_eq!(username_problem(&"a".repeat(33)), Some(Problem::TooLong));
        assert_eq!(username_problem("léa"), Some(Problem::Malformed));
        assert_eq!(username_problem("Lea"), Some(Problem::Malformed));
        assert_eq!(username_problem("a b"), Some(Problem::Malformed));
    }
}
