//! The audit trail for administrators: filter by person, patient and days; export CSV.

use super::{search_audit, AuditFilter};
use crate::facility::Stamp;
use crate::i18n::use_i18n;
use crate::shell::loaded;
use crate::staff::StaffRole;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The filter form is a plain GET form: a filtered view is an address, and it works
/// without JavaScript.
#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        let field = |name: &str| q.get(name).filter(|v| !v.trim().is_empty());
        (
            AuditFilter {
                username: field("username"),
                patient: field("patient"),
                from: field("from"),
                to: field("to"),
            },
            q.get("before").and_then(|b| b.parse::<i64>().ok()),
        )
    };
    let lines = Resource::new(filter, |(filter, before)| search_audit(filter, before));
    let value = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    view! {
        <section class="page audit" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().audit_title}</h1>
            <form class="inline-form" method="get" action="/admin/audit">
                <label>
                    <span>{move || i18n.t().username}</span>
                    <input type="text" name="username" maxlength="64" value=value("username")/>
                </label>
                <label>
                    <span>{move || i18n.t().patient_record_number}</span>
                    <input type="text" name="patient" maxlength="32" value=value("patient")/>
                </label>
                <label>
                    <span>{move || i18n.t().from_day}</span>
                    <input type="date" name="from" value=value("from")/>
                </label>
                <label>
                    <span>{move || i18n.t().to_day}</span>
                    <input type="date" name="to" value=value("to")/>
                </label>
                <button type="submit" class="button primary">{move || i18n.t().filter}</button>
            </form>
            <p>
                <a class="button secondary" download="audit.csv" href=move || format!("/audit.csv?{}", filter().0.query_string())>
                    {move || i18n.t().export_csv}
                </a>
            </p>
            {loaded(lines, move |page| {
                let filter_query = filter().0.query_string();
                let older = page.next_before.map(|before| {
                    let sep = if filter_query.is_empty() { "" } else { "&" };
                    format!("/admin/audit?{filter_query}{sep}before={before}")
                });
                view! {
                    <table class="data-table audit-lines">
                        <thead>
                            <tr>
                                <th scope="col">{move || i18n.t().when}</th>
                                <th scope="col">{move || i18n.t().username}</th>
                                <th scope="col">{move || i18n.t().action}</th>
                                <th scope="col">{move || i18n.t().outcome}</th>
                                <th scope="col">{move || i18n.t().patient_record_number}</th>
                                <th scope="col">{move || i18n.t().record}</th>
                                <th scope="col">{move || i18n.t().device}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .lines
                                .into_iter()
                                .map(|l| {
                                    let outcome = l.outcome;
                                    let roles: Vec<StaffRole> =
                                        l.roles.split(',').filter_map(StaffRole::from_code).collect();
                                    let (action, words) = (l.action.clone(), l.action.clone());
                                    view! {
                                        <tr data-action=action data-outcome=outcome.code() data-break-glass=l.break_glass.to_string()>
                                            <td><Stamp clock=page.clock.clone() at=l.at/></td>
                                            <td>
                                                {l.username} " "
                                                <small>
                                                    {move || roles.iter().map(|r| (i18n.t().staff_role)(*r)).collect::<Vec<_>>().join(", ")}
                                                </small>
                                            </td>
                                            <td>
                                                {move || i18n.t().audit_action(&words).map(|w| view! { {w} " " })}
                                                <small class="audit-code">{l.action}</small>
                                                {l.break_glass.then(|| view! { <span class="badge warning">{move || i18n.t().nav_break_glass}</span> })}
                                            </td>
                                            <td>{move || (i18n.t().outcome_label)(outcome)}</td>
                                            <td>{l.patient}</td>
                                            <td>{l.record} <small>{l.detail}</small></td>
                                            <td>{l.device} <small>{l.address}</small></td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                    {older.map(|href| view! { <p><a class="button secondary" href=href>{move || i18n.t().older}</a></p> })}
                }
            })}
        </section>
    }
}
