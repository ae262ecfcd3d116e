//! The lab's turnaround dashboard: per test, collection-to-verification times over the
//! last month against the test's target, as a table and a bar chart.

use super::{Turnaround, TurnaroundBoard};
use crate::i18n::use_i18n;
use crate::shell::loaded;
use leptos::prelude::*;

/// A server page: the figures as they stand when it is opened (they move by the day).
#[component]
pub fn TurnaroundPage() -> impl IntoView {
    let i18n = use_i18n();
    let board = Resource::new(|| (), |_| super::load_turnaround());
    view! {
        <section class="page turnaround-page" aria-labelledby="page-title">
            <p><a class="button secondary" href="/lab">{move || i18n.t().lab.back_to_worklist}</a></p>
            <h1 id="page-title">{move || i18n.t().lab.turnaround_title}</h1>
            {loaded(board, |board| view! { <TurnaroundView board/> })}
        </section>
    }
}

#[component]
fn TurnaroundView(board: TurnaroundBoard) -> impl IntoView {
    let i18n = use_i18n();
    let days = board.days;
    if board.lines.is_empty() {
        return view! { <p class="empty">{move || i18n.t().lab.turnaround_empty}</p> }.into_any();
    }
    let rows = board
        .lines
        .iter()
        .map(|line| {
            let test = line.test.clone();
            let late = line.within_target_percent < 90;
            view! {
                <tr data-loinc=line.test.loinc.clone() data-late=late.to_string()>
                    <td>{move || test.name(i18n.locale()).to_owned()}</td>
                    <td>{line.count}</td>
                    <td>{line.median_minutes}</td>
                    <td>{line.p90_minutes}</td>
                    <td>{line.test.turnaround_minutes}</td>
                    <td>{line.within_target_percent} " %"</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="hint">{move || (i18n.t().lab.turnaround_period)(days)}</p>
        <TurnaroundChart lines=board.lines/>
        <table class="data-table turnaround-table">
            <thead>
                <tr>
                    <th>{move || i18n.t().lab.test}</th>
                    <th>{move || i18n.t().lab.count}</th>
                    <th>{move || i18n.t().lab.median}</th>
                    <th>{move || i18n.t().lab.p90}</th>
                    <th>{move || i18n.t().lab.target}</th>
                    <th>{move || i18n.t().lab.within_target}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// One bar per test: the median, a thinner bar to the 90th percentile, and a mark at the
/// target, each test on its own scale (a glucose and a blood count differ a hundredfold).
#[component]
fn TurnaroundChart(lines: Vec<Turnaround>) -> impl IntoView {
    let i18n = use_i18n();
    let row = 34.0;
    let width = 520.0;
    let label = 200.0;
    let height = row * lines.len() as f64 + 8.0;
    let bars = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let y = 4.0 + row * i as f64;
            let scale = (line.p90_minutes.max(line.test.turnaround_minutes) as f64 * 1.1).max(1.0);
            let x = |minutes: i64| label + (width - label - 8.0) * minutes as f64 / scale;
            let test = line.test.clone();
            let late = line.median_minutes > line.test.turnaround_minutes;
            view! {
                <g class=if late { "bar late" } else { "bar" }>
                    <text x="0" y=y + 20.0>{move || test.name(i18n.locale()).chars().take(26).collect::<String>()}</text>
                    <rect class="p90" x=label y=y + 12.0 width=x(line.p90_minutes) - label height="6"/>
                    <rect class="median" x=label y=y + 6.0 width=x(line.median_minutes) - label height="18"/>
                    <line class="target" x1=x(line.test.turnaround_minutes) x2=x(line.test.turnaround_minutes) y1=y + 2.0 y2=y + 28.0/>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="turnaround-chart" viewBox=format!("0 0 {width} {height}") role="img" aria-labelledby="turnaround-chart-title">
            <title id="turnaround-chart-title">{move || i18n.t().lab.turnaround_chart}</title>
            {bars}
        </svg>
    }
}
