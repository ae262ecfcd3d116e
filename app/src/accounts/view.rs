//! Account administration: the list, a new account, and one account's page.

use super::{
    list_accounts, list_role_grants, load_account, AccountDetail, CertificationKind, CreateAccount,
    DecideRoleGrant, EndAccountSessions, RemoveCertification, ResetPassword, SetAccountActive,
    SetCertification, UpdateAccount,
};
use crate::i18n::use_i18n;
use crate::shell::{action_url, loaded, submit_with, ActionFeedback, FormFields, NotFound, SubmissionField};
use crate::staff::StaffRole;
use leptos::either::Either;
use leptos::prelude::*;
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
    let decide = ServerAction::<DecideRoleGrant>::new();
    let grants = Resource::new(move || decide.version().get(), |_| list_role_grants());
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
                                                <form class="inline-form" method="post" action={action_url::<DecideRoleGrant>()}
                                                    on:submit={submit_with(decide, move |_| DecideRoleGrant { grant_id: id, confirm })}>
                                                    <input type="hidden" name="grant_id" value=id.to_string()/>
                                                    <input type="hidden" name="confirm" value=confirm.to_string()/>
                                                    <button type="submit" class=if confirm { "button primary" } else { "button secondary" }>
                                                        {move || if confirm { i18n.t().role_grant_confirm } else { i18n.t().role_grant_decline }}
                                                    </button>
                                                </form>
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
            <ActionFeedback action=decide/>
        </section>
    }
}

/// Role checkboxes named `roles[i]` so a plain form post decodes them as a list.
#[component]
fn RoleChoices(#[prop(optional)] checked: Vec<StaffRole>) -> impl IntoView {
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

fn checked_roles(fields: &FormFields) -> Vec<String> {
    fields.indexed("roles", StaffRole::ALL.len())
}

#[component]
pub fn NewAccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<CreateAccount>::new();
    let on_submit = submit_with(action, |f| CreateAccount {
        username: f.text("username"),
        family_name: f.text("family_name"),
        given_name: f.text("given_name"),
        roles: checked_roles(f),
        password: f.text("password"),
    });
    view! {
        <section class="page new-account" aria-labelledby="page-title">
            <p><a class="button secondary" href="/admin/accounts">{move || i18n.t().accounts_title}</a></p>
            <h1 id="page-title">{move || i18n.t().new_account}</h1>
            <form class="stacked-form" method="post" action={action_url::<CreateAccount>()} on:submit=on_submit>
                <SubmissionField/>
                <label>
                    <span>{move || i18n.t().given_name}</span>
                    <input type="text" name="given_name" required maxlength="80"/>
                </label>
                <label>
                    <span>{move || i18n.t().family_name}</span>
                    <input type="text" name="family_name" required maxlength="80"/>
                </label>
                <label>
                    <span>{move || i18n.t().username}</span>
                    <input type="text" name="username" required maxlength="32" autocapitalize="none" spellcheck="false" pattern="[a-z0-9._\\-]{3,32}"/>
                </label>
                <RoleChoices/>
                <label>
                    <span>{move || i18n.t().initial_password}</span>
                    <input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="128"/>
                </label>
                <button type="submit" class="button primary">{move || i18n.t().create}</button>
                <ActionFeedback action/>
            </form>
        </section>
    }
}

#[component]
pub fn AccountEditPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let account_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
    };
    let update = ServerAction::<UpdateAccount>::new();
    let active = ServerAction::<SetAccountActive>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let certify = ServerAction::<SetCertification>::new();
    let uncertify = ServerAction::<RemoveCertification>::new();
    let end = ServerAction::<EndAccountSessions>::new();
    let versions = move || {
        (
            update.version().get(),
            active.version().get(),
            reset.version().get(),
            certify.version().get(),
            uncertify.version().get(),
            end.version().get(),
        )
    };
    let account = Resource::new(
        move || (account_id(), versions()),
        |(id, _)| async move {
            match id {
                Some(id) => match load_account(id).await {
                    Ok(detail) => Ok(Some(detail)),
                    Err(crate::error::AppError::NotFound) => Ok(None),
                    Err(error) => Err(error),
                },
                None => Ok(None),
            }
        },
    );
    let actions = AccountActions {
        update,
        active,
        reset,
        certify,
        uncertify,
        end,
    };
    view! {
        <section class="page account-edit">
            <p><a class="button secondary" href="/admin/accounts">{move || i18n.t().accounts_title}</a></p>
            {loaded(account, move |detail| match detail {
                Some(detail) => Either::Left(view! { <AccountForms detail actions/> }),
                None => Either::Right(view! { <NotFound/> }),
            })}
        </section>
    }
}

#[derive(Clone, Copy)]
struct AccountActions {
    update: ServerAction<UpdateAccount>,
    active: ServerAction<SetAccountActive>,
    reset: ServerAction<ResetPassword>,
    certify: ServerAction<SetCertification>,
    uncertify: ServerAction<RemoveCertification>,
    end: ServerAction<EndAccountSessions>,
}

#[component]
fn AccountForms(detail: AccountDetail, actions: AccountActions) -> impl IntoView {
    let i18n = use_i18n();
    let AccountActions {
        update,
        active,
        reset,
        certify,
        uncertify,
        end,
    } = actions;
    let id = detail.summary.account_id;
    let id_text = id.to_string();
    let summary = detail.summary;
    let today = detail.today;
    let is_active = summary.active;
    let open_sessions = detail.sessions.len();
    view! {
        <h1 id="page-title">{summary.display_name()} " · " {summary.username.clone()}</h1>
        <p class="account-state" data-active=is_active.to_string()>
            {move || if is_active { i18n.t().active } else { i18n.t().deactivated }}
        </p>

        <h2>{move || i18n.t().identity_and_roles}</h2>
        <form class="stacked-form" method="post" action={action_url::<UpdateAccount>()}
            on:submit={submit_with(update, move |f| UpdateAccount {
                account_id: id,
                family_name: f.text("family_name"),
                given_name: f.text("given_name"),
                roles: checked_roles(f),
            })}>
            <input type="hidden" name="account_id" value=id_text.clone()/>
            <label>
                <span>{move || i18n.t().given_name}</span>
                <input type="text" name="given_name" required maxlength="80" value=summary.given_name.clone()/>
            </label>
            <label>
                <span>{move || i18n.t().family_name}</span>
                <input type="text" name="family_name" required maxlength="80" value=summary.family_name.clone()/>
            </label>
            <RoleChoices checked=summary.roles.iter().chain(&detail.waiting_roles).copied().collect()/>
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
            <ActionFeedback action=update done=|t| t.saved/>
        </form>

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
                            <form method="post" action={action_url::<RemoveCertification>()}
                                on:submit={submit_with(uncertify, move |_| RemoveCertification { account_id: id, kind: kind.code().to_owned() })}>
                                <input type="hidden" name="account_id" value=id.to_string()/>
                                <input type="hidden" name="kind" value=kind.code()/>
                                <button type="submit" class="button secondary">{move || i18n.t().remove}</button>
                            </form>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <ActionFeedback action=uncertify/>
        <form class="inline-form" method="post" action={action_url::<SetCertification>()}
            on:submit={submit_with(certify, move |f| SetCertification { account_id: id, kind: f.text("kind"), expires_on: f.text("expires_on") })}>
            <input type="hidden" name="account_id" value=id_text.clone()/>
            <label>
                <span>{move || i18n.t().certification_label}</span>
                <select name="kind" required>
                    <option value="" selected=true disabled=true>{move || i18n.t().choose_one}</option>
                    {CertificationKind::ALL
                        .iter()
                        .map(|k| {
                            let k = *k;
                            view! { <option value=k.code()>{move || (i18n.t().certification)(k)}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span>{move || i18n.t().expires_on}</span>
                <input type="date" name="expires_on" required/>
            </label>
            <button type="submit" class="button primary">{move || i18n.t().add}</button>
        </form>
        <ActionFeedback action=certify done=|t| t.saved/>

        <h2>{move || i18n.t().password_title}</h2>
        <form class="stacked-form" method="post" action={action_url::<ResetPassword>()}
            on:submit={submit_with(reset, move |f| ResetPassword { account_id: id, password: f.text("password") })}>
            <input type="hidden" name="account_id" value=id_text.clone()/>
            <label>
                <span>{move || i18n.t().new_password}</span>
                <input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="128"/>
            </label>
            <button type="submit" class="button primary">{move || i18n.t().reset_password}</button>
            <ActionFeedback action=reset done=|t| t.saved/>
        </form>

        <h2>{move || i18n.t().sessions_title}</h2>
        <p class="open-sessions">{move || (i18n.t().open_sessions)(open_sessions)}</p>
        <form method="post" action={action_url::<EndAccountSessions>()}
            on:submit={submit_with(end, move |_| EndAccountSessions { account_id: id })}>
            <input type="hidden" name="account_id" value=id_text.clone()/>
            <button type="submit" class="button secondary">{move || i18n.t().end_all_sessions}</button>
        </form>
        <ActionFeedback action=end/>

        <h2>{move || i18n.t().account_state}</h2>
        <form method="post" action={action_url::<SetAccountActive>()}
            on:submit={submit_with(active, move |_| SetAccountActive { account_id: id, active: !is_active })}>
            <input type="hidden" name="account_id" value=id_text/>
            <input type="hidden" name="active" value=(!is_active).to_string()/>
            <button type="submit" class="button danger">
                {move || if is_active { i18n.t().deactivate } else { i18n.t().reactivate }}
            </button>
        </form>
        <ActionFeedback action=active/>
    }
}
