//! Account administration: the list, a new account, and one account's page.

//!
//! Server pages: every form posts to its page and acts through its server function; a
//! refused one comes back as it was typed (`shell::PageForms`).

use super::{
    list_accounts, list_role_grants, load_account, AccountDetail, CertificationKind, CreateAccount,
    DecideRoleGrant, EndAccountSessions, RemoveCertification, ResetPassword, SetAccountActive,
    SetCertification, UpdateAccount,
};
use crate::i18n::use_i18n;
use crate::shell::{
    go_to, loaded, shown, ActionButton, NotFound, PageForm, PageFormNote, PageForms, PageOutcome, PostedForm,
    Refused,
};
use crate::staff::StaffRole;
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AccountsPage() -> impl IntoView {
    let i18n = use_i18n();
    let accounts = Resource::new(|| (), |_| list_accounts());
    view! {
        <section class="page accounts" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().accounts_title}</h1>
            <p>
                <a class="button primary" href="/admin/accounts/new">{move || i18n.t().new_account}</a>
            </p>
            {loaded(accounts, move |list| view! {
                <table class="data-table">
                    <thead>
                        <tr>
                            <th scope="col">{move || i18n.t().person}</th>
                            <th scope="col">{move || i18n.t().username}</th>
                            <th scope="col">{move || i18n.t().roles}</th>
                            <th scope="col">{move || i18n.t().account_state}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|a| {
                                let href = format!("/admin/accounts/{}", a.account_id);
                                let roles = a.roles.clone();
                                let active = a.active;
                                let username = a.username.clone();
                                view! {
                                    <tr data-username=username>
                                        <td><a href=href>{a.display_name()}</a></td>
                                        <td>{a.username}</td>
                                        <td>{move || roles.iter().map(|r| (i18n.t().staff_role)(*r)).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{move || if active { i18n.t().active } else { i18n.t().deactivated }}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            })}
            <RoleGrantsToDecide/>
        </section>
    }
}

/// The roles an administrator asked for that wait for a second person (another
/// administrator or a supervisor): each confirmed or declined here.
#[component]
pub fn RoleGrantsToDecide() -> impl IntoView {
    let i18n = use_i18n();
    let grants = Resource::new(|| (), |_| list_role_grants());
    let decide = DecideRoleGrant::PATH;
    view! {
        <section class="role-grants" aria-labelledby="role-grants-title">
            <h2 id="role-grants-title">{move || i18n.t().role_grants_title}</h2>
            {loaded(grants, move |list| {
                if list.is_empty() {
                    return Either::Left(view! { <p class="empty">{move || i18n.t().role_grants_none}</p> });
                }
                Either::Right(view! {
                    <ul class="role-grant-list">
                        {list
                            .into_iter()
                            .map(|grant| {
                                let role = grant.role;
                                let asked_by = grant.requested_by.clone();
                                let asked_at = grant.requested_at.format("%Y-%m-%d %H:%M").to_string();
                                let id = grant.id;
                                let buttons = if grant.mine_to_decide {
                                    Either::Left(view! {
                                        {[true, false]
                                            .into_iter()
                                            .map(|confirm| view! {
                                                <ActionButton action=decide
                                                    label=if confirm { i18n.t().role_grant_confirm } else { i18n.t().role_grant_decline }
                                                    class=if confirm { "button primary" } else { "button secondary" }
                                                    fields=vec![("grant_id", id.to_string()), ("confirm", confirm.to_string())]/>
                                            })
                                            .collect_view()}
                                    })
                                } else {
                                    Either::Right(view! { <span class="hint">{move || i18n.t().role_grant_theirs}</span> })
                                };
                                view! {
                                    <li data-username=grant.username.clone() data-role=role.code()>
                                        <strong>{grant.display_name.clone()}</strong>
                                        " · " {grant.username.clone()} " · "
                                        <span>{move || (i18n.t().staff_role)(role)}</span>
                                        " · "
                                        <span class="asked">{move || (i18n.t().role_grant_asked)(&asked_by, &asked_at)}</span>
                                        {buttons}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                })
            })}
        </section>
    }
}

/// Role checkboxes named `roles[i]` so a plain form post decodes them as a list.
#[component]
fn RoleChoices(checked: Vec<StaffRole>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <fieldset class="choices">
            <legend>{move || i18n.t().roles}</legend>
            {StaffRole::ALL
                .iter()
                .enumerate()
                .map(|(i, role)| {
                    let role = *role;
                    view! {
                        <label class="choice">
                            <input type="checkbox" name=format!("roles[{i}]") value=role.code() checked=checked.contains(&role)/>
                            <span>{move || (i18n.t().staff_role)(role)}</span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// The roles ticked in a form as sent.
fn roles_sent(sent: &PostedForm) -> Vec<StaffRole> {
    sent.0
        .iter()
        .filter(|(field, _)| field.starts_with("roles["))
        .filter_map(|(_, code)| StaffRole::from_code(code))
        .collect()
}

#[component]
pub fn NewAccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let render = move |outcome: PageOutcome| {
        if let PageOutcome::Done(done) = &outcome {
            // On to the new account's page, where its certifications are added.
            match done.answer::<i64>() {
                Some(id) => go_to(&format!("/admin/accounts/{id}")),
                None => go_to("/admin/accounts"),
            }
            return ().into_any();
        }
        let refused = outcome.refused();
        let (given, family, username) = (
            shown(&refused, "given_name", ""),
            shown(&refused, "family_name", ""),
            shown(&refused, "username", ""),
        );
        let roles = refused.as_ref().map(|r| roles_sent(&r.sent)).unwrap_or_default();
        view! {
            <PageForm action=CreateAccount::PATH class="stacked-form">
                <label>
                    <span>{move || i18n.t().given_name}</span>
                    <input type="text" name="given_name" required maxlength="80" value=given/>
                </label>
                <label>
                    <span>{move || i18n.t().family_name}</span>
                    <input type="text" name="family_name" required maxlength="80" value=family/>
                </label>
                <label>
                    <span>{move || i18n.t().username}</span>
                    <input type="text" name="username" required maxlength="32" autocapitalize="none" spellcheck="false" pattern="[a-z0-9._\\-]{3,32}" value=username/>
                </label>
                <RoleChoices checked=roles/>
                <label>
                    <span>{move || i18n.t().initial_password}</span>
                    <input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="128"/>
                </label>
                <button type="submit" class="button primary">{move || i18n.t().create}</button>
                <PageFormNote action=CreateAccount::PATH refused/>
            </PageForm>
        }
        .into_any()
    };
    view! {
        <section class="page new-account" aria-labelledby="page-title">
            <p><a class="button secondary" href="/admin/accounts">{move || i18n.t().accounts_title}</a></p>
            <h1 id="page-title">{move || i18n.t().new_account}</h1>
            {PageForms::new().accept::<CreateAccount>().after_post(render)}
        </section>
    }
}

#[component]
pub fn AccountEditPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let account_id = params
        .read_untracked()
        .get("id")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0);
    let render = move |refused: Option<Refused>| {
        // Loaded after the form acted, so it shows what the form changed.
        let account = Resource::new(
            || (),
            move |_| async move {
                match account_id {
                    Some(id) => match load_account(id).await {
                        Ok(detail) => Ok(Some(detail)),
                        Err(crate::error::AppError::NotFound) => Ok(None),
                        Err(error) => Err(error),
                    },
                    None => Ok(None),
                }
            },
        );
        view! {
            {loaded(account, move |detail| match detail {
                Some(detail) => Either::Left(view! { <AccountForms detail refused=refused.clone()/> }),
                None => Either::Right(view! { <NotFound/> }),
            })}
        }
    };
    let back = account_id.map_or_else(
        || "/admin/accounts".to_owned(),
        |id| format!("/admin/accounts/{id}"),
    );
    view! {
        <section class="page account-edit">
            <p><a class="button secondary" href="/admin/accounts">{move || i18n.t().accounts_title}</a></p>
            {PageForms::new()
                .accept::<UpdateAccount>()
                .accept::<SetAccountActive>()
                .accept::<ResetPassword>()
                .accept::<SetCertification>()
                .accept::<RemoveCertification>()
                .accept::<EndAccountSessions>()
                .back_to(back, render)}
        </section>
    }
}

#[component]
fn AccountForms(detail: AccountDetail, refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    let id = detail.summary.account_id;
    let summary = detail.summary;
    let today = detail.today;
    let is_active = summary.active;
    let open_sessions = detail.sessions.len();
    let update = Refused::of(&refused, UpdateAccount::PATH, None);
    let roles = match &update {
        Some(refused) => roles_sent(&refused.sent),
        None => summary
            .roles
            .iter()
            .chain(&detail.waiting_roles)
            .copied()
            .collect(),
    };
    let certify = Refused::of(&refused, SetCertification::PATH, None);
    let kind_sent = shown(&certify, "kind", "");
    let expires_sent = shown(&certify, "expires_on", "");
    let nothing_chosen = kind_sent.is_empty();
    let uncertify = Refused::of(&refused, RemoveCertification::PATH, None);
    let reset = Refused::of(&refused, ResetPassword::PATH, None);
    let end = Refused::of(&refused, EndAccountSessions::PATH, None);
    let active = Refused::of(&refused, SetAccountActive::PATH, None);
    view! {
        <h1 id="page-title">{summary.display_name()} " · " {summary.username.clone()}</h1>
        <p class="account-state" data-active=is_active.to_string()>
            {move || if is_active { i18n.t().active } else { i18n.t().deactivated }}
        </p>

        <h2>{move || i18n.t().identity_and_roles}</h2>
        <PageForm action=UpdateAccount::PATH class="stacked-form">
            <input type="hidden" name="account_id" value=id/>
            <label>
                <span>{move || i18n.t().given_name}</span>
                <input type="text" name="given_name" required maxlength="80" value=shown(&update, "given_name", summary.given_name.clone())/>
            </label>
            <label>
                <span>{move || i18n.t().family_name}</span>
                <input type="text" name="family_name" required maxlength="80" value=shown(&update, "family_name", summary.family_name.clone())/>
            </label>
            <RoleChoices checked=roles/>
            {(!detail.waiting_roles.is_empty()).then(|| {
                let waiting = detail.waiting_roles.clone();
                view! {
                    <p class="roles-waiting">
                        {move || i18n.t().roles_waiting} " "
                        {move || waiting.iter().map(|r| (i18n.t().staff_role)(*r)).collect::<Vec<_>>().join(", ")}
                    </p>
                }
            })}
            <button type="submit" class="button primary">{move || i18n.t().save}</button>
            <PageFormNote action=UpdateAccount::PATH refused=update done=|t| t.saved/>
        </PageForm>

        <h2>{move || i18n.t().certifications}</h2>
        <ul class="certifications">
            {detail
                .certifications
                .into_iter()
                .map(|c| {
                    let kind = c.kind;
                    let expired = !c.valid_on(today);
                    let until = c.expires_on;
                    view! {
                        <li data-kind=kind.code() data-expired=expired.to_string()>
                            <span>{move || (i18n.t().certification)(kind)}</span>
                            <span>{move || (i18n.t().valid_until)(&(i18n.t().date)(until))}</span>
                            {expired.then(|| view! { <span class="badge warning">{move || i18n.t().expired}</span> })}
                            <PageForm action=RemoveCertification::PATH>
                                <input type="hidden" name="account_id" value=id.to_string()/>
                                <input type="hidden" name="kind" value=kind.code()/>
                                <button type="submit" class="button secondary">{move || i18n.t().remove}</button>
                            </PageForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <PageFormNote action=RemoveCertification::PATH refused=uncertify/>
        <PageForm action=SetCertification::PATH class="inline-form">
            <input type="hidden" name="account_id" value=id/>
            <label>
                <span>{move || i18n.t().certification_label}</span>
                <select name="kind" required>
                    <option value="" selected=nothing_chosen disabled=true>{move || i18n.t().choose_one}</option>
                    {CertificationKind::ALL
                        .iter()
                        .map(|k| {
                            let k = *k;
                            view! { <option value=k.code() selected=kind_sent == k.code()>{move || (i18n.t().certification)(k)}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span>{move || i18n.t().expires_on}</span>
                <input type="date" name="expires_on" required value=expires_sent/>
            </label>
            <button type="submit" class="button primary">{move || i18n.t().add}</button>
        </PageForm>
        <PageFormNote action=SetCertification::PATH refused=certify done=|t| t.saved/>

        <h2>{move || i18n.t().password_title}</h2>
        <PageForm action=ResetPassword::PATH class="stacked-form">
            <input type="hidden" name="account_id" value=id/>
            <label>
                <span>{move || i18n.t().new_password}</span>
                <input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="128"/>
            </label>
            <button type="submit" class="button primary">{move || i18n.t().reset_password}</button>
            <PageFormNote action=ResetPassword::PATH refused=reset done=|t| t.saved/>
        </PageForm>

        <h2>{move || i18n.t().sessions_title}</h2>
        <p class="open-sessions">{move || (i18n.t().open_sessions)(open_sessions)}</p>
        <PageForm action=EndAccountSessions::PATH>
            <input type="hidden" name="account_id" value=id/>
            <button type="submit" class="button secondary">{move || i18n.t().end_all_sessions}</button>
        </PageForm>
        <PageFormNote action=EndAccountSessions::PATH refused=end/>

        <h2>{move || i18n.t().account_state}</h2>
        <PageForm action=SetAccountActive::PATH>
            <input type="hidden" name="account_id" value=id/>
            <input type="hidden" name="active" value=(!is_active).to_string()/>
            <button type="submit" class="button danger">
                {move || if is_active { i18n.t().deactivate } else { i18n.t().reactivate }}
            </button>
        </PageForm>
        <PageFormNote action=SetAccountActive::PATH refused=active/>
    }
}
