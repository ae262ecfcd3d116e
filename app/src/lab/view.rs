//! The lab on screen: the visit's lab panel on the room tablet (orders, collection,
//! results with their flags and earlier values, critical values to acknowledge), the
//! critical-value banner on every screen, the lab workstation's worklist and specimen
//! desk driven by the scanner, and the printable specimen label.

use super::{
    AcknowledgeCritical, AlertOutcome, CollectSpecimen, CriticalAlert, EarlierValue, EnterResult, Flag,
    HeldComparison, IdentityCheck, LabOrder, LabOrderState, LabResult, OrderLabTest, QuarantineItem,
    ReceiveSpecimen, RejectSpecimen, RejectionReason, ResolveQuarantine, ReviewReusedControlId, SpecimenDesk,
    SpecimenLabel, VerifyResult, VisitLab, Worklist,
};
use crate::auth::Capability;
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::patients::PatientIdentity;
use crate::procedures::Priority;
use crate::shell::{
    action_url, loaded, submit_with, use_session, ActionFeedback, NotFound, PrintButton, SubmissionField,
};
use chrono::{DateTime, Utc};
use leptos::either::Either;
use leptos::prelude::*;

/// The lab actions of a page, made by the page so their answers survive reloads.
#[derive(Clone, Copy)]
pub struct LabActions {
    order: ServerAction<OrderLabTest>,
    collect: ServerAction<CollectSpecimen>,
}

impl LabActions {
    pub fn new() -> Self {
        LabActions {
            order: ServerAction::new(),
            collect: ServerAction::new(),
        }
    }

    fn version(&self) -> usize {
        self.order.version().get() + self.collect.version().get()
    }
}

impl Default for LabActions {
    fn default() -> Self {
        Self::new()
    }
}

/// A visit's lab work on the room tablet: live, since results appear the moment they are
/// verified.
#[component]
pub fn VisitLabPanel(visit_id: i64, actions: LabActions) -> impl IntoView {
    let live = use_live();
    // Only this visit's changes reload it, not every room's.
    let lab = Resource::new(
        move || (live.visit_changes(visit_id), actions.version()),
        move |_| super::load_visit_lab(visit_id),
    );
    view! {
        {loaded(lab, move |lab| view! { <VisitLabDetail lab actions/> })}
        <LabelLink action=actions.collect/>
    }
}

/// After a collection, the label to print: shown by the panel, since the collection form
/// goes once nothing waits to be collected.
#[component]
fn LabelLink(action: ServerAction<CollectSpecimen>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        action.value().get().and_then(Result::ok).map(|accession| {
            let href = format!("/lab/labels/{accession}");
            view! {
                <p class="form-status label-link" role="status">
                    {move || i18n.t().lab.labelled} " " <strong class="accession">{accession.clone()}</strong> " · "
                    <a class="button" href=href rel="external">{move || i18n.t().lab.print_label}</a>
                </p>
            }
        })
    }
}

#[component]
fn VisitLabDetail(lab: VisitLab, actions: LabActions) -> impl IntoView {
    let i18n = use_i18n();
    let may_collect = use_session()
        .user_now()
        .is_some_and(|user| user.can(Capability::PerformProcedures));
    let VisitLab {
        clock,
        visit_id,
        patient,
        orders,
        history,
        catalog,
    } = lab;
    let waiting: Vec<LabOrder> = orders
        .iter()
        .filter(|o| o.state == LabOrderState::Ordered)
        .cloned()
        .collect();
    let collect = (may_collect && !waiting.is_empty()).then(|| {
        view! { <CollectionForm visit_id patient=patient.clone() waiting action=actions.collect/> }
    });
    let order_form =
        (!catalog.is_empty()).then(|| view! { <LabOrderForm visit_id catalog action=actions.order/> });
    let rows = if orders.is_empty() {
        Either::Left(view! { <p class="empty">{move || i18n.t().lab.no_orders}</p> })
    } else {
        Either::Right(view! { <LabOrderList orders history clock=clock.clone()/> })
    };
    view! {
        <section class="lab-panel" aria-labelledby="lab-panel-title">
            <h2 id="lab-panel-title">{move || i18n.t().lab.panel_title}</h2>
            {rows}
            {collect}
            {order_form}
        </section>
    }
}

/// Orders with their specimen and results.
#[component]
fn LabOrderList(
    orders: Vec<LabOrder>,
    history: Vec<(String, Vec<EarlierValue>)>,
    clock: FacilityClock,
) -> impl IntoView {
    let i18n = use_i18n();
    let items = orders
        .into_iter()
        .map(|order| {
            let state = order.state;
            let priority = order.priority;
            let test = order.test.clone();
            let specimen = order.specimen.clone().map(|s| {
                let href = format!("/lab/labels/{}", s.accession);
                let at = clock.time_of_day(s.collected_at);
                view! {
                    <span class="specimen-ref">
                        <a href=href class="accession" rel="external">{s.accession.clone()}</a>
                        " · " {move || (i18n.t().lab.collected_by)(&s.collected_by, &at)}
                    </span>
                }
            });
            let results = order
                .results
                .iter()
                .cloned()
                .map(|result| {
                    let earlier = history
                        .iter()
                        .find(|(code, _)| *code == result.loinc)
                        .map(|(_, values)| values.clone())
                        .unwrap_or_default();
                    view! { <ResultLine result earlier clock=clock.clone()/> }
                })
                .collect_view();
            view! {
                <li class="lab-order" data-state=state.code() data-loinc=order.test.loinc.clone()>
                    <div class="lab-order-head">
                        <strong>{move || test.name(i18n.locale()).to_owned()}</strong>
                        <span class=format!("priority priority-{}", priority.code())>
                            {move || (i18n.t().back_office.priority)(priority)}
                        </span>
                        <span class="lab-state">{move || (i18n.t().lab.order_state)(state)}</span>
                        {specimen}
                    </div>
                    <ul class="plain-list results">{results}</ul>
                    <LabNotes notes=order.notes.clone()/>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="plain-list lab-orders">{items}</ul> }
}

/// Comments a reference lab sent with a result or an order.
#[component]
fn LabNotes(notes: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    (!notes.is_empty()).then(|| {
        let lines = notes
            .into_iter()
            .map(|note| view! { <li class="lab-note"><strong>{move || i18n.t().lab.lab_note} ": "</strong>{note}</li> })
            .collect_view();
        view! { <ul class="plain-list lab-notes">{lines}</ul> }
    })
}

/// One result: value, unit, flag, range, its status, who verified it (or which reference
/// lab reported it) and when it was observed, what the sender said where it differs, the
/// value a correction replaces, the lab's comments, the previous value and a small chart
/// of earlier ones.
#[component]
fn ResultLine(result: LabResult, earlier: Vec<EarlierValue>, clock: FacilityClock) -> impl IntoView {
    let i18n = use_i18n();
    let flag = result.flag;
    let flag_code = flag.map_or("", Flag::code);
    let verified = result.verified_at.map(|at| {
        let at = clock.time_of_day(at);
        match result.reported_by_lab.clone() {
            Some(lab) => {
                view! { <span class="hint">{move || (i18n.t().lab.reported_by_lab)(&lab, &at)}</span> }
                    .into_any()
            }
            None => {
                let by = result.verified_by.clone().unwrap_or_default();
                view! { <span class="hint">{move || (i18n.t().lab.verified_by)(&by, &at)}</span> }.into_any()
            }
        }
    });
    let pending = (result.verified_at.is_none() && result.reported_by_lab.is_none()).then(|| {
        view! { <span class="badge warning">{move || i18n.t().lab.awaiting_verification}</span> }
    });
    let status = match result.status {
        super::ResultStatus::Final => None,
        super::ResultStatus::Preliminary => Some(view! {
            <span class="badge warning result-status" data-status="preliminary">{move || i18n.t().lab.status_preliminary}</span>
        }.into_any()),
        super::ResultStatus::Corrected => Some(view! {
            <span class="badge danger result-status" data-status="corrected">{move || i18n.t().lab.status_corrected}</span>
        }.into_any()),
    };
    let status_not_sent = (result.reported_by_lab.is_some() && result.status_as_sent.is_empty())
        .then(|| view! { <span class="hint status-not-sent">{move || i18n.t().lab.status_not_sent}</span> });
    let replaces = result.replaces.clone().map(|old| {
        let at = clock.time_of_day(old.entered_at);
        view! { <span class="hint replaces">{move || (i18n.t().lab.replaces)(&format!("{} {}", i18n.locale().decimal(&old.value), old.unit), &at)}</span> }
    });
    let sender = match (result.sender_disagrees().map(str::to_owned), result.clinic_rules) {
        (Some(theirs), _) => Some(
            view! { <span class="badge sender-flag">{move || (i18n.t().lab.sender_flag)(&theirs)}</span> }
                .into_any(),
        ),
        (None, super::ClinicRules::NotApplicable) if result.reported_by_lab.is_some() => {
            Some(view! { <span class="hint">{move || i18n.t().lab.flag_as_sent}</span> }.into_any())
        }
        (None, super::ClinicRules::UnitDiffers) => {
            Some(view! { <span class="badge warning">{move || i18n.t().lab.unit_differs}</span> }.into_any())
        }
        _ => None,
    };
    let coded = (!result.value_code.is_empty()).then(|| {
        let text = (i18n.t().lab.coded_as)(&result.value_system, &result.value_code);
        view! { <span class="hint coded-value">{text}</span> }
    });
    let local_code = (result.loinc.is_empty() && !result.observation_code.is_empty()).then(|| {
        let text = (i18n.t().lab.coded_as)(&result.observation_system, &result.observation_code);
        view! { <span class="hint observation-code">{text}</span> }
    });
    let observed = result.observed_at.map(|at| {
        let at = clock.time_of_day(at);
        view! { <span class="hint observed-at">{move || (i18n.t().lab.observed_at)(&at)}</span> }
    });
    let previous = match (earlier.last(), result.numeric_value) {
        (Some(before), Some(now)) => {
            let at = clock.time_of_day(before.at);
            let change = now - before.value;
            let (value, change) = (trim_number(before.value), format!("{change:+.2}"));
            Some(view! { <span class="hint previous">{move || {
                let locale = i18n.locale();
                (i18n.t().lab.previous)(&format!("{} ({})", locale.decimal(&value), locale.decimal(&change)), &at)
            }}</span> })
        }
        _ => None,
    };
    let chart = (!earlier.is_empty()).then(|| {
        let mut values: Vec<f64> = earlier.iter().map(|e| e.value).collect();
        values.extend(result.numeric_value);
        view! { <Sparkline values/> }
    });
    view! {
        <li class="result" data-flag=flag_code data-status=result.status.code() data-rules=result.clinic_rules.code()>
            <span class="result-name">{result.name.clone()}</span>
            {local_code}
            <strong class="result-value">{let value = result.value.clone(); move || i18n.locale().decimal(&value)} " " {result.unit.clone()}</strong>
            {coded}
            {flag.map(|flag| view! { <span class=format!("flag flag-{}", flag.code())>{move || (i18n.t().lab.flag)(flag)}</span> })}
            {sender}
            <span class="result-range">{result.reference_range.clone()}</span>
            {status}
            {status_not_sent}
            {replaces}
            {pending}
            {observed}
            {verified}
            {previous}
            {chart}
            <LabNotes notes=result.notes.clone()/>
        </li>
    }
}

fn trim_number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Earlier values as a line, the latest as a dot: a trend at a glance.
#[component]
fn Sparkline(values: Vec<f64>) -> impl IntoView {
    let (width, height) = (120.0_f64, 32.0_f64);
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if high > low { high - low } else { 1.0 };
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64 * step, height - 4.0 - (v - low) / span * (height - 8.0)))
        .collect();
    let line = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (last_x, last_y) = points.last().copied().unwrap_or_default();
    view! {
        <svg class="sparkline" viewBox=format!("-4 0 {} {height}", width + 8.0) width="128" height="32" role="img" aria-hidden="true">
            <polyline points=line fill="none" stroke="currentColor" stroke-width="2"/>
            <circle cx=format!("{last_x:.1}") cy=format!("{last_y:.1}") r="3.5"/>
        </svg>
    }
}

/// The physician orders a test for the patient in the room.
#[component]
fn LabOrderForm(
    visit_id: i64,
    catalog: Vec<super::LabTest>,
    action: ServerAction<OrderLabTest>,
) -> impl IntoView {
    let i18n = use_i18n();
    let submit = submit_with(action, move |fields| OrderLabTest {
        visit_id,
        test_id: fields.text("test_id").parse().unwrap_or_default(),
        priority: fields.text("priority"),
        note: fields.text("note"),
    });
    let options = catalog
        .into_iter()
        .map(|test| {
            let id = test.id;
            view! { <option value=id>{move || test.name(i18n.locale()).to_owned()}</option> }
        })
        .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|priority| {
            let priority = *priority;
            let id = format!("lab-priority-{}", priority.code());
            let for_id = id.clone();
            view! {
                <label class="choice" for=for_id>
                    <input type="radio" id=id name="priority" value=priority.code() checked=priority == Priority::Routine/>
                    {move || (i18n.t().back_office.priority)(priority)}
                </label>
            }
        })
        .collect_view();
    view! {
        <form class="stacked-form lab-order-form" method="post" action={action_url::<OrderLabTest>()} on:submit=submit data-reset="on-success">
            <h3>{move || i18n.t().lab.order_title}</h3>
            <SubmissionField/>
            <input type="hidden" name="visit_id" value=visit_id/>
            <label for="lab-test">{move || i18n.t().lab.test}</label>
            <select id="lab-test" name="test_id" required>
                <option value="" selected=true disabled=true>{move || i18n.t().choose_one}</option>
                {options}
            </select>
            <fieldset class="choices">
                <legend>{move || i18n.t().back_office.priority_label}</legend>
                {priorities}
            </fieldset>
            <label for="lab-note">{move || i18n.t().back_office.note_label}</label>
            <input id="lab-note" name="note" type="text" maxlength="500"/>
            <button type="submit" class="button">{move || i18n.t().lab.order_submit}</button>
            <ActionFeedback action done=|t| t.lab.ordered/>
        </form>
    }
}

/// Collection at the bedside: two identifiers confirmed with the patient, then the label.
#[component]
fn CollectionForm(
    visit_id: i64,
    patient: crate::patients::PatientSummary,
    waiting: Vec<LabOrder>,
    action: ServerAction<CollectSpecimen>,
) -> impl IntoView {
    let i18n = use_i18n();
    let count = waiting.len();
    let submit = submit_with(action, move |fields| CollectSpecimen {
        visit_id,
        order_ids: fields
            .indexed("order_ids", count)
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
        identity_check: fields.text("identity_check"),
        name_confirmed: fields.text("name_confirmed") == "true",
        stated_birth_date: fields.text("stated_birth_date"),
        stated_record_number: fields.text("stated_record_number"),
        body_site: fields.text("body_site"),
    });
    let tests = waiting
        .into_iter()
        .enumerate()
        .map(|(i, order)| {
            let id = format!("collect-{}", order.id);
            let for_id = id.clone();
            let test = order.test.clone();
            let specimen_type = test.specimen_type;
            view! {
                <label class="choice" for=for_id>
                    <input type="checkbox" id=id name=format!("order_ids[{i}]") value=order.id/>
                    {move || test.name(i18n.locale()).to_owned()} " · "
                    {move || (i18n.t().lab.specimen_type)(specimen_type)}
                </label>
            }
        })
        .collect_view();
    let name = patient.display_name();
    view! {
        <form class="stacked-form collection-form" method="post" action={action_url::<CollectSpecimen>()} on:submit=submit>
                <SubmissionField/>
            <h3>{move || i18n.t().lab.collect_title}</h3>
            <input type="hidden" name="visit_id" value=visit_id/>
            <fieldset class="choices">
                <legend>{move || i18n.t().lab.tests_on_specimen}</legend>
                {tests}
            </fieldset>
            <fieldset class="choices identity-check">
                <legend>{move || i18n.t().lab.identity_title}</legend>
                <p class="hint">{move || i18n.t().lab.identity_hint}</p>
                <label class="choice" for="name-confirmed">
                    <input type="checkbox" id="name-confirmed" name="name_confirmed" value="true"/>
                    {move || (i18n.t().lab.name_confirmed)(&name)}
                </label>
                <label class="choice" for="check-birth-date">
                    <input type="radio" id="check-birth-date" name="identity_check" value=IdentityCheck::NameAndBirthDate.code() checked=true/>
                    {move || i18n.t().lab.check_birth_date}
                </label>
                <label for="stated-birth-date">{move || i18n.t().lab.stated_birth_date}</label>
                <input id="stated-birth-date" name="stated_birth_date" type="date"/>
                <label class="choice" for="check-record-number">
                    <input type="radio" id="check-record-number" name="identity_check" value=IdentityCheck::NameAndRecordNumber.code()/>
                    {move || i18n.t().lab.check_record_number}
                </label>
                <label for="stated-record-number">{move || i18n.t().lab.stated_record_number}</label>
                <input id="stated-record-number" name="stated_record_number" type="text" maxlength="32" autocomplete="off"/>
            </fieldset>
            <label for="body-site">{move || i18n.t().lab.body_site}</label>
            <input id="body-site" name="body_site" type="text" maxlength="80"/>
            <button type="submit" class="button">{move || i18n.t().lab.collect_submit}</button>
            <ActionFeedback action/>
        </form>
    }
}

/// A critical value to acknowledge: who was told, and the value as they read it back.
/// Its countdown moves on with `now`.
#[component]
fn CriticalAlertCard(
    alert: CriticalAlert,
    clock: FacilityClock,
    action: ServerAction<AcknowledgeCritical>,
    /// The facility's time, moving on; without it the countdown stays at `clock.now`.
    #[prop(optional)]
    now: Option<Memo<Option<DateTime<Utc>>>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let alert_id = alert.id;
    let raised = clock.time_of_day(alert.raised_at);
    let due_at = alert.due_at;
    let countdown = move || {
        let now = now.and_then(|now| now.get()).unwrap_or(clock.now);
        if now >= due_at {
            i18n.t().lab.escalated.to_owned()
        } else {
            (i18n.t().lab.minutes_left)((due_at - now).num_minutes())
        }
    };
    let submit = submit_with(action, move |fields| AcknowledgeCritical {
        alert_id,
        outcome: fields.text("outcome"),
        notified_person: fields.text("notified_person"),
        read_back_value: fields.text("read_back_value"),
    });
    let outcomes = AlertOutcome::ALL
        .iter()
        .map(|outcome| {
            let outcome = *outcome;
            let id = format!("outcome-{alert_id}-{}", outcome.code());
            let for_id = id.clone();
            view! {
                <label class="choice" for=for_id>
                    <input type="radio" id=id name="outcome" value=outcome.code() checked=outcome == AlertOutcome::ReadBack/>
                    {move || (i18n.t().lab.outcome)(outcome)}
                </label>
            }
        })
        .collect_view();
    let heading = {
        let (test, value, unit, flag) = (
            alert.test_name.clone(),
            alert.value.clone(),
            alert.unit.clone(),
            alert.flag.clone(),
        );
        move || format!("{test} {} {unit} ({flag})", i18n.locale().decimal(&value))
    };
    let read_back_id = format!("read-back-{alert_id}");
    let read_back_for = read_back_id.clone();
    let notified_id = format!("notified-{alert_id}");
    let notified_for = notified_id.clone();
    view! {
        <article class="critical-alert" role="alert" data-alert=alert_id data-escalated=alert.escalated_at.is_some().to_string()>
            <h3>{move || i18n.t().lab.critical_value} " · " {heading}</h3>
            <PatientIdentity patient=alert.patient.clone() today=clock.today()/>
            <p class="hint">
                {move || (i18n.t().lab.raised_at)(&raised)} " · " {alert.ordered_by.clone()} " · "
                <span class="countdown">{countdown}</span>
            </p>
            <form class="stacked-form" method="post" action={action_url::<AcknowledgeCritical>()} on:submit=submit>
                <input type="hidden" name="alert_id" value=alert_id/>
                <fieldset class="choices">
                    <legend>{move || i18n.t().lab.acknowledge_title}</legend>
                    {outcomes}
                </fieldset>
                <label for=read_back_for>{move || i18n.t().lab.read_back_value}</label>
                <input id=read_back_id name="read_back_value" type="text" inputmode="decimal" maxlength="40" autocomplete="off"/>
                <label for=notified_for>{move || i18n.t().lab.notified_person}</label>
                <input id=notified_id name="notified_person" type="text" maxlength="120"/>
                <button type="submit" class="button danger">{move || i18n.t().lab.acknowledge}</button>
            </form>
        </article>
    }
}

/// Open critical values for this person, on every screen, each to acknowledge where it
/// shows, with a sound when one arrives: nobody can miss one. The banner is fixed to the
/// bottom of the screen whatever the scroll; a locked screen shows how many wait.
#[component]
pub fn CriticalBanner() -> impl IntoView {
    let session = use_session();
    let locked = Memo::new(move |_| session.user().map(|user| user.locked));
    move || match locked.get() {
        Some(false) => Some(Either::Left(view! { <OpenCriticalAlerts/> })),
        Some(true) => Some(Either::Right(view! { <CriticalValuesWaiting/> })),
        None => None,
    }
}

/// What the critical banner follows.
const CRITICAL: &[crate::live::EventKind] = &[crate::live::EventKind::CriticalAlert];

/// The banner of an unlocked screen: every open critical value with its form. Cards stay
/// through a failed reading or a failed acknowledgement (with what was typed), and one
/// arriving adds its card without redrawing the others.
#[component]
fn OpenCriticalAlerts() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let session = use_session();
    let acknowledge = ServerAction::<AcknowledgeCritical>::new();
    let watching = move || {
        session
            .user_now()
            .is_some_and(|u| u.can(Capability::PerformProcedures))
    };
    let alerts = Resource::new(
        move || {
            (
                watching(),
                // Critical values raised, acknowledged or escalated: nothing else.
                live.changes_of(Topic::Rooms, CRITICAL) + live.changes_of(Topic::Lab, CRITICAL),
                acknowledge.version().get(),
            )
        },
        |(watching, _, _)| async move {
            if watching {
                super::critical_alerts().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let read = crate::shell::last_read(alerts);
    let unreachable = Memo::new(move |_| matches!(alerts.get(), Some(Err(_))));
    let shown = Memo::new(move |_| {
        read.with(|read| {
            read.as_ref()
                .and_then(|(list, _)| list.as_ref())
                .map(|list| list.alerts.clone())
        })
        .unwrap_or_default()
    });
    let browser_now = crate::shell::browser_millis(std::time::Duration::from_secs(15));
    let now = Memo::new(move |_| {
        read.with(|read| {
            read.as_ref().and_then(|(list, read_at)| {
                let list = list.as_ref()?;
                Some(crate::shell::moved_on(
                    list.clock.now,
                    *read_at,
                    browser_now.get(),
                ))
            })
        })
    });
    let heard = StoredValue::new(Vec::<i64>::new());
    Effect::new(move |_| {
        let ids: Vec<i64> = shown.with(|alerts| alerts.iter().map(|a| a.id).collect());
        let new = ids.iter().any(|id| !heard.get_value().contains(id));
        heard.set_value(ids);
        if new {
            super::sound::alarm();
        }
    });
    let card = move |alert: CriticalAlert| {
        // A card exists only for a list read, which carries the facility's clock.
        let clock = read.with_untracked(|read| {
            read.as_ref()
                .and_then(|(list, _)| list.as_ref())
                .map(|l| l.clock.clone())
        })?;
        Some(view! { <CriticalAlertCard alert clock now action=acknowledge/> })
    };
    view! {
        <Transition fallback=|| ()>
            // Read here so the server waits for the alerts before sending the page.
            {move || alerts.with(|_| ())}
            <div class="critical-banner" aria-labelledby="critical-banner-title" hidden=move || shown.with(Vec::is_empty)>
                <h2 id="critical-banner-title">{move || i18n.t().lab.critical_banner}</h2>
                {move || unreachable.get().then(|| view! { <p class="form-error" role="alert">{move || i18n.t().lab.alerts_unreachable}</p> })}
                <For each=move || shown.get() key=|alert| (alert.id, alert.escalated_at.is_some()) children=card/>
                <ActionFeedback action=acknowledge done=|t| t.lab.acknowledged/>
            </div>
        </Transition>
    }
}

/// The banner of a locked screen: how many critical values wait, asked every 20 seconds
/// (the live link is closed while locked), with the alarm when the number grows.
#[component]
fn CriticalValuesWaiting() -> impl IntoView {
    let i18n = use_i18n();
    let tick = crate::shell::browser_millis(std::time::Duration::from_secs(20));
    let waiting = Resource::new(move || tick.get(), |_| super::critical_values_waiting());
    let read = crate::shell::last_read(waiting);
    let count = Memo::new(move |_| read.with(|read| read.as_ref().map_or(0, |(n, _)| *n)));
    let heard = StoredValue::new(0usize);
    Effect::new(move |_| {
        let n = count.get();
        if n > heard.get_value() {
            super::sound::alarm();
        }
        heard.set_value(n);
    });
    view! {
        <Transition fallback=|| ()>
            {move || waiting.with(|_| ())}
            <div class="critical-banner critical-waiting" role="alert" hidden=move || count.get() == 0>
                <p>{move || (i18n.t().lab.critical_waiting)(count.get())}</p>
            </div>
        </Transition>
    }
}

/// The lab workstation: the scanner field, the worklist, open critical notifications.
#[component]
pub fn LabPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let acknowledge = ServerAction::<AcknowledgeCritical>::new();
    let resolve = ServerAction::<ResolveQuarantine>::new();
    let review = ServerAction::<ReviewReusedControlId>::new();
    let worklist = Resource::new(
        move || {
            (
                live.changes(Topic::Lab),
                acknowledge.version().get(),
                resolve.version().get(),
                review.version().get(),
            )
        },
        |_| super::lab_worklist(),
    );
    // Held results compared with the order a person typed (`?held=ID&order=NUMBER`): both
    // patients side by side before anything is attached.
    let query = leptos_router::hooks::use_query_map();
    let comparison = Resource::new(
        move || {
            let query = query.read();
            let held = query.get("held").and_then(|id| id.parse::<i64>().ok());
            (
                held,
                query.get("order").unwrap_or_default(),
                resolve.version().get(),
            )
        },
        |(held, order, _)| async move {
            match held {
                Some(id) if !order.trim().is_empty() => super::compare_held(id, order).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    let actions = HeldActions { resolve, review };
    view! {
        <section class="page lab-page" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().lab_title}</h1>
            <nav class="button-row" aria-label=move || i18n.t().lab_title>
                <a class="button secondary" href="/lab/send-outs" rel="external">{move || i18n.t().lab.send_outs_title}</a>
                <a class="button secondary" href="/lab/turnaround" rel="external">{move || i18n.t().lab.turnaround_title}</a>
            </nav>
            <ScanForm/>
            <ActionFeedback action=acknowledge done=|t| t.lab.acknowledged/>
            <ActionFeedback action=resolve done=|t| t.lab.resolved/>
            <ActionFeedback action=review done=|t| t.lab.resolved/>
            {loaded(worklist, move |worklist| view! { <WorklistView worklist acknowledge actions comparison/> })}
        </section>
    }
}

/// The scanner types the accession number and Enter: this opens the specimen.
#[component]
fn ScanForm() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form class="scan-form" method="get" action="/lab/specimen">
            <label for="scan">{move || i18n.t().lab.scan}</label>
            <input id="scan" name="accession" type="text" autocomplete="off" autofocus=true inputmode="text" maxlength="20" required/>
            <button type="submit" class="button">{move || i18n.t().lab.open}</button>
        </form>
    }
}

/// The actions on held results and reused control ids.
#[derive(Clone, Copy)]
struct HeldActions {
    resolve: ServerAction<ResolveQuarantine>,
    review: ServerAction<ReviewReusedControlId>,
}

#[component]
fn WorklistView(
    worklist: Worklist,
    acknowledge: ServerAction<AcknowledgeCritical>,
    actions: HeldActions,
    comparison: Resource<Result<Option<HeldComparison>, crate::error::AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let Worklist {
        clock,
        items,
        alerts,
        quarantine,
        reused,
    } = worklist;
    let held_ids: Vec<i64> = quarantine.iter().map(|q| q.id).collect();
    let requests: Vec<(i64, Option<super::AttachRequest>)> = quarantine
        .iter()
        .map(|q| (q.id, q.attach_request.clone()))
        .collect();
    let held = (!quarantine.is_empty()).then(|| {
        let items = quarantine
            .into_iter()
            .map(|item| view! { <HeldResults item clock=clock.clone() action=actions.resolve/> })
            .collect_view();
        let compared = loaded(comparison, move |compared| {
            // Only for results still held: once attached, the comparison has done its work.
            compared
                .filter(|c| held_ids.contains(&c.quarantine_id))
                .map(|compared| {
                    let request = requests
                        .iter()
                        .find(|(id, _)| *id == compared.quarantine_id)
                        .and_then(|(_, request)| request.clone());
                    view! { <HeldComparisonPanel compared request action=actions.resolve/> }
                })
        });
        view! {
            <section class="quarantine" aria-labelledby="quarantine-title">
                <h2 id="quarantine-title">{move || i18n.t().lab.quarantine_title}</h2>
                <p class="hint">{move || i18n.t().lab.quarantine_hint}</p>
                {compared}
                {items}
            </section>
        }
    });
    let reused = (!reused.is_empty()).then(|| {
        let lines = reused
            .into_iter()
            .map(|message| {
                let id = message.hl7_message_id;
                let at = clock.time_of_day(message.received_at);
                let text = (i18n.t().lab.reused_line)(&message.reference_lab, &message.control_id, &at, message.earlier);
                let mark = submit_with(actions.review, move |_| ReviewReusedControlId { hl7_message_id: id });
                view! {
                    <li class="reused-control-id" data-message=id>
                        <span>{text}</span>
                        <form class="inline-form" method="post" action={action_url::<ReviewReusedControlId>()} on:submit=mark>
                            <input type="hidden" name="hl7_message_id" value=id/>
                            <button type="submit" class="button secondary">{move || i18n.t().lab.mark_reviewed}</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="reused" aria-labelledby="reused-title">
                <h2 id="reused-title">{move || i18n.t().lab.reused_title}</h2>
                <ul class="plain-list">{lines}</ul>
            </section>
        }
    });
    let today = clock.today();
    // Open ones to act on (the lab calls and records who it reached), then the last
    // hours' acknowledgements.
    let open_alerts = alerts
        .iter()
        .filter(|alert| alert.is_open())
        .cloned()
        .map(|alert| view! { <CriticalAlertCard alert clock=clock.clone() action=acknowledge/> })
        .collect_view();
    let closed_alerts = alerts
        .into_iter()
        .filter(|alert| !alert.is_open())
        .map(|alert| {
            let outcome = alert.outcome;
            let at = alert.acknowledged_at.map(|at| clock.time_of_day(at)).unwrap_or_default();
            view! {
                <li class="alert-line" data-state="acknowledged" data-alert=alert.id>
                    <strong>{let (test, value, unit) = (alert.test_name.clone(), alert.value.clone(), alert.unit.clone()); move || format!("{test} {} {unit}", i18n.locale().decimal(&value))}</strong>
                    " · " {alert.patient.display_name()} " · " {alert.acknowledged_by.clone().unwrap_or_default()}
                    " · " {at} " · "
                    <span class="outcome">{move || outcome.map(|o| (i18n.t().lab.outcome)(o)).unwrap_or_default()}</span>
                    {alert.read_back_value.clone().map(|v| view! { " · " {v} })}
                </li>
            }
        })
        .collect_view();
    let columns = [
        LabOrderState::Collected,
        LabOrderState::Received,
        LabOrderState::Resulted,
        LabOrderState::Verified,
        LabOrderState::Rejected,
    ]
    .into_iter()
    .map(|state| {
        let rows = items
            .iter()
            .filter(|item| item.order.state == state)
            .map(|item| {
                let test = item.order.test.clone();
                let accession = item.order.specimen.as_ref().map(|s| s.accession.clone()).unwrap_or_default();
                let href = format!("/lab/specimen?accession={accession}");
                let priority = item.order.priority;
                let waited = clock.minutes_since(item.order.ordered_at);
                view! {
                    <li class="work-item" data-priority=priority.code()>
                        <a href=href>
                            <strong>{accession.clone()}</strong> " · " {move || test.name(i18n.locale()).to_owned()}
                        </a>
                        <crate::patients::PatientLabel patient=item.patient.clone() today short=false/>
                        <span class=format!("priority priority-{}", priority.code())>{move || (i18n.t().back_office.priority)(priority)}</span>
                        <span class="queue-wait">{move || (i18n.t().for_duration)(waited)}</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="worklist-column" data-state=state.code()>
                <h2>{move || (i18n.t().lab.order_state)(state)}</h2>
                <ol class="plain-list">{rows}</ol>
            </section>
        }
    })
    .collect_view();
    view! {
        <section class="critical-list" aria-labelledby="critical-title">
            <h2 id="critical-title">{move || i18n.t().lab.critical_notifications}</h2>
            {open_alerts}
            <ul class="plain-list">{closed_alerts}</ul>
        </section>
        {held}
        {reused}
        <div class="worklist">{columns}</div>
    }
}

/// Results a reference lab sent that could not be filed safely: who the message names,
/// what it says, and the ways out: compare with an order (both patients side by side, then
/// attach), answer another person's request to attach, or discard with a reason.
#[component]
fn HeldResults(
    item: QuarantineItem,
    clock: FacilityClock,
    action: ServerAction<ResolveQuarantine>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = item.id;
    let received = clock.time_of_day(item.received_at);
    let reason = item.reason;
    let discard = submit_with(action, move |fields| ResolveQuarantine {
        quarantine_id: id,
        resolution: "discard".to_owned(),
        placer_number: String::new(),
        identity_checked: false,
        reason: fields.text("reason"),
    });
    let (placer_id, reason_id) = (format!("placer-{id}"), format!("discard-{id}"));
    let (placer_for, reason_for) = (placer_id.clone(), reason_id.clone());
    let lines = item
        .observations
        .into_iter()
        .map(|line| view! { <li>{line}</li> })
        .collect_view();
    let request = item.attach_request.map(|request| {
        let at = clock.time_of_day(request.requested_at);
        let text = (i18n.t().lab.awaiting_second)(&request.requested_by, &at, &request.placer_number);
        let href = format!("/lab?held={id}&order={}#comparison", request.placer_number);
        view! {
            <div class="attach-request" data-mine=request.requested_by_me.to_string()>
                <p><strong>{text}</strong></p>
                <p class="hint">{request.reason.clone()}</p>
                {(!request.requested_by_me).then(|| view! {
                    <a class="button" href=href>{move || i18n.t().lab.compare}</a>
                })}
            </div>
        }
    });
    view! {
        <article class="held" data-reason=reason.code() data-held=id id=format!("held-{id}")>
            <h3>{move || (i18n.t().lab.held_reason)(reason)} " · " {item.placer_number.clone()}</h3>
            <p>{item.patient_text.clone()}</p>
            <p class="hint">{item.reference_lab.clone()} " · " {item.sending_facility.clone()} " · " {item.control_id.clone()} " · " {received}</p>
            <ul class="plain-list observations">{lines}</ul>
            {request}
            <form class="inline-form" method="get" action="/lab">
                <input type="hidden" name="held" value=id/>
                <div class="field">
                    <label for=placer_for>{move || i18n.t().lab.attach_to}</label>
                    <input id=placer_id name="order" type="text" maxlength="40" autocomplete="off" required/>
                </div>
                <button type="submit" class="button secondary">{move || i18n.t().lab.compare}</button>
            </form>
            <p class="hint">{move || i18n.t().lab.compare_hint}</p>
            <form class="inline-form" method="post" action={action_url::<ResolveQuarantine>()} on:submit=discard>
                <input type="hidden" name="quarantine_id" value=id/>
                <input type="hidden" name="resolution" value="discard"/>
                <div class="field">
                    <label for=reason_for>{move || i18n.t().lab.discard_reason}</label>
                    <input id=reason_id name="reason" type="text" maxlength="300" required/>
                </div>
                <button type="submit" class="button danger">{move || i18n.t().lab.discard}</button>
            </form>
        </article>
    }
}

/// A sex as HL7 v2 writes it (table 0001), so both sides of a comparison read alike.
fn hl7_sex(sex: crate::patients::Sex) -> &'static str {
    match sex {
        crate::patients::Sex::Female => "F",
        crate::patients::Sex::Male => "M",
        crate::patients::Sex::Other => "O",
        crate::patients::Sex::Unknown => "U",
    }
}

/// The patient a held message names beside the order's, and what may follow: attach when
/// they agree; when they differ, ask a second person with a reason, or (for that second
/// person) confirm or decline.
#[component]
fn HeldComparisonPanel(
    compared: HeldComparison,
    request: Option<super::AttachRequest>,
    action: ServerAction<ResolveQuarantine>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = compared.quarantine_id;
    let placer = compared.placer_number.clone();
    let attach = {
        let placer = placer.clone();
        submit_with(action, move |fields| ResolveQuarantine {
            quarantine_id: id,
            resolution: "attach".to_owned(),
            placer_number: placer.clone(),
            identity_checked: fields.text("identity_checked") == "true",
            reason: fields.text("reason"),
        })
    };
    let answer = |confirm: bool| {
        submit_with(action, move |_| ResolveQuarantine {
            quarantine_id: id,
            resolution: if confirm { "confirm" } else { "decline" }.to_owned(),
            placer_number: String::new(),
            identity_checked: false,
            reason: String::new(),
        })
    };
    let same = compared.same_patient;
    let verdict = if same {
        view! { <p class="badge success" data-same="true">{move || i18n.t().lab.identities_agree}</p> }
            .into_any()
    } else {
        view! { <p class="badge danger" data-same="false">{move || i18n.t().lab.identities_differ}</p> }
            .into_any()
    };
    let tests = (!compared.same_test)
        .then(|| view! { <p class="badge warning">{move || i18n.t().lab.tests_differ}</p> });
    let order = compared.order_patient.clone();
    let (checked_id, reason_id) = (format!("checked-{id}"), format!("attach-reason-{id}"));
    let (checked_for, reason_for) = (checked_id.clone(), reason_id.clone());
    let next = match request {
        Some(request) if !request.requested_by_me => view! {
            <p class="hint">{request.reason.clone()}</p>
            <div class="button-row">
                <form class="inline-form" method="post" action={action_url::<ResolveQuarantine>()} on:submit=answer(true)>
                    <input type="hidden" name="quarantine_id" value=id/>
                    <input type="hidden" name="resolution" value="confirm"/>
                    <button type="submit" class="button">{move || i18n.t().lab.confirm_attach}</button>
                </form>
                <form class="inline-form" method="post" action={action_url::<ResolveQuarantine>()} on:submit=answer(false)>
                    <input type="hidden" name="quarantine_id" value=id/>
                    <input type="hidden" name="resolution" value="decline"/>
                    <button type="submit" class="button secondary">{move || i18n.t().lab.decline_attach}</button>
                </form>
            </div>
        }
        .into_any(),
        Some(_) => ().into_any(),
        None => view! {
            <form class="stacked-form" method="post" action={action_url::<ResolveQuarantine>()} on:submit=attach>
                <input type="hidden" name="quarantine_id" value=id/>
                <input type="hidden" name="resolution" value="attach"/>
                <input type="hidden" name="placer_number" value=placer.clone()/>
                {(!same).then(|| view! {
                    <div class="field">
                        <label for=reason_for>{move || i18n.t().lab.second_person_reason}</label>
                        <textarea id=reason_id name="reason" maxlength="300" required></textarea>
                    </div>
                })}
                <label class="choice" for=checked_for>
                    <input type="checkbox" id=checked_id name="identity_checked" value="true" required/>
                    {move || i18n.t().lab.identity_checked}
                </label>
                <button type="submit" class="button">
                    {move || if same { i18n.t().lab.attach } else { i18n.t().lab.ask_second_person }}
                </button>
            </form>
        }
        .into_any(),
    };
    view! {
        <article class="held-comparison" id="comparison" data-held=id aria-labelledby="comparison-title">
            <h3 id="comparison-title">{move || i18n.t().lab.attach_to} " · " {placer.clone()}</h3>
            <div class="side-by-side">
                <section class="identity message-identity">
                    <h4>{move || i18n.t().lab.message_names}</h4>
                    <p><strong>{format!("{} {}", compared.message_family_name.to_uppercase(), compared.message_given_name)}</strong></p>
                    <p>{compared.message_birth_date.clone()} " · " {compared.message_sex.clone()}</p>
                    <p class="hint">{compared.message_identifiers.join(", ")}</p>
                    <p class="hint">{compared.message_test.clone()}</p>
                </section>
                <section class="identity order-identity">
                    <h4>{move || i18n.t().lab.order_patient}</h4>
                    <p><strong>{format!("{} {}", order.family_name.to_uppercase(), order.given_name)}</strong></p>
                    <p>{order.birth_date.format("%d/%m/%Y").to_string()} " · " {hl7_sex(compared.order_sex)}</p>
                    <p class="hint">{order.record_number.clone()}</p>
                    <p class="hint">{compared.order_test.clone()}</p>
                </section>
            </div>
            {verdict}
            {tests}
            {next}
        </article>
    }
}

/// A specimen opened from the worklist or by the scanner.
#[component]
pub fn SpecimenPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let query = leptos_router::hooks::use_query_map();
    let receive = ServerAction::<ReceiveSpecimen>::new();
    let reject = ServerAction::<RejectSpecimen>::new();
    let enter = ServerAction::<EnterResult>::new();
    let verify = ServerAction::<VerifyResult>::new();
    let actions = DeskActions {
        receive,
        reject,
        enter,
        verify,
    };
    let desk = Resource::new(
        move || {
            let done = receive.version().get()
                + reject.version().get()
                + enter.version().get()
                + verify.version().get();
            (
                query.read().get("accession").unwrap_or_default(),
                live.changes(Topic::Lab),
                done,
            )
        },
        |(accession, _, _)| async move {
            match super::load_specimen_desk(accession).await {
                Ok(desk) => Ok(Some(desk)),
                Err(crate::error::AppError::NotFound) => Ok(None),
                Err(error) => Err(error),
            }
        },
    );
    view! {
        <section class="page specimen-page" aria-labelledby="page-title">
            <p><a class="button secondary" href="/lab">{move || i18n.t().lab.back_to_worklist}</a></p>
            <ScanForm/>
            {loaded(desk, move |desk| match desk {
                Some(desk) => Either::Left(view! { <SpecimenDetail desk actions/> }),
                None => Either::Right(view! { <NotFound/> }),
            })}
        </section>
    }
}

#[derive(Clone, Copy)]
struct DeskActions {
    receive: ServerAction<ReceiveSpecimen>,
    reject: ServerAction<RejectSpecimen>,
    enter: ServerAction<EnterResult>,
    verify: ServerAction<VerifyResult>,
}

#[component]
fn SpecimenDetail(desk: SpecimenDesk, actions: DeskActions) -> impl IntoView {
    let i18n = use_i18n();
    let SpecimenDesk {
        clock,
        specimen,
        patient,
        room_code,
        orders,
        history,
    } = desk;
    let accession = specimen.accession.clone();
    let state = specimen.state;
    let collected = clock.time_of_day(specimen.collected_at);
    let specimen_type = specimen.specimen_type;
    let awaiting = state == super::SpecimenState::Collected;
    let receiving = awaiting.then(|| {
        let accession = accession.clone();
        let submit = submit_with(actions.receive, {
            let accession = accession.clone();
            move |_| ReceiveSpecimen {
                accession: accession.clone(),
            }
        });
        view! {
            <form method="post" action={action_url::<ReceiveSpecimen>()} on:submit=submit>
                <input type="hidden" name="accession" value=accession/>
                <button type="submit" class="button">{move || i18n.t().lab.receive}</button>
            </form>
        }
    });
    let rejecting = matches!(
        state,
        super::SpecimenState::Collected | super::SpecimenState::Received
    )
    .then(|| {
        let accession = accession.clone();
        let submit = submit_with(actions.reject, {
            let accession = accession.clone();
            move |fields| RejectSpecimen {
                accession: accession.clone(),
                reason: fields.text("reason"),
            }
        });
        let reasons = RejectionReason::ALL
            .iter()
            .map(|reason| {
                let reason = *reason;
                view! { <option value=reason.code()>{move || (i18n.t().lab.rejection)(reason)}</option> }
            })
            .collect_view();
        view! {
            <form class="inline-form" method="post" action={action_url::<RejectSpecimen>()} on:submit=submit>
                <input type="hidden" name="accession" value=accession/>
                <div class="field">
                    <label for="reject-reason">{move || i18n.t().lab.reject_reason}</label>
                    <select id="reject-reason" name="reason" required><option value="" selected=true disabled=true>{move || i18n.t().choose_one}</option>{reasons}</select>
                </div>
                <button type="submit" class="button danger">{move || i18n.t().lab.reject}</button>
            </form>
        }
    });
    let rejected = specimen
        .rejected_reason
        .map(|reason| view! { <p class="badge warning">{move || (i18n.t().lab.rejection)(reason)}</p> });
    let benches = orders
        .into_iter()
        .map(|order| {
            let earlier = order
                .results
                .first()
                .and_then(|r| history.iter().find(|(code, _)| *code == r.loinc))
                .map(|(_, values)| values.clone())
                .or_else(|| {
                    history
                        .iter()
                        .find(|(code, _)| *code == order.test.loinc)
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or_default();
            view! { <BenchOrder order earlier clock=clock.clone() actions/> }
        })
        .collect_view();
    view! {
        <h1 id="page-title" class="accession">{accession.clone()}</h1>
        <div class="specimen-head" data-state=state.code()>
            <PatientIdentity patient today=clock.today()/>
            <p>
                {move || (i18n.t().lab.specimen_type)(specimen_type)}
                {(!specimen.body_site.is_empty()).then(|| view! { " · " {specimen.body_site.clone()} })}
                " · " {move || (i18n.t().lab.collected_by)(&specimen.collected_by, &collected)}
                {room_code.map(|room| view! { " · " {room} })}
            </p>
            <p class="lab-state">{move || (i18n.t().lab.specimen_state)(state)}</p>
            {rejected}
        </div>
        <div class="button-row">{receiving}{rejecting}</div>
        <ActionFeedback action=actions.receive/>
        <ActionFeedback action=actions.reject/>
        <ul class="plain-list benches">{benches}</ul>
    }
}

/// One test on the bench: its result entry (with the unit shown and the value checked),
/// the earlier value, and verification.
#[component]
fn BenchOrder(
    order: LabOrder,
    earlier: Vec<EarlierValue>,
    clock: FacilityClock,
    actions: DeskActions,
) -> impl IntoView {
    let i18n = use_i18n();
    let (order_id, version, state) = (order.id, order.version, order.state);
    let test = order.test.clone();
    let unit = test.unit.clone();
    let entry = matches!(state, LabOrderState::Received | LabOrderState::Resulted).then(|| {
        let submit = submit_with(actions.enter, move |fields| EnterResult {
            order_id,
            version,
            value: fields.text("value"),
            unit: fields.text("unit"),
        });
        let value_id = format!("value-{order_id}");
        let value_for = value_id.clone();
        let choices = (!test.allowed_codes.is_empty()).then(|| {
            let list_id = format!("codes-{order_id}");
            let options = test
                .allowed_codes
                .iter()
                .map(|code| view! { <option value=code.clone()></option> })
                .collect_view();
            view! { <datalist id=list_id>{options}</datalist> }
        });
        let list = (!test.allowed_codes.is_empty()).then(|| format!("codes-{order_id}"));
        let unit = unit.clone();
        view! {
            <form class="inline-form result-form" method="post" action={action_url::<EnterResult>()} on:submit=submit>
                <SubmissionField/>
                <input type="hidden" name="order_id" value=order_id/>
                <input type="hidden" name="version" value=version/>
                <input type="hidden" name="unit" value=unit.clone()/>
                <div class="field">
                    <label for=value_for>{move || i18n.t().lab.value} " (" {unit.clone()} ")"</label>
                    <input id=value_id name="value" type="text" inputmode="decimal" autocomplete="off" list=list required/>
                    {choices}
                </div>
                <button type="submit" class="button">{move || i18n.t().lab.enter}</button>
            </form>
        }
    });
    let verify = (state == LabOrderState::Resulted).then(|| {
        let submit = submit_with(actions.verify, move |_| VerifyResult { order_id, version });
        view! {
            <form method="post" action={action_url::<VerifyResult>()} on:submit=submit>
                <input type="hidden" name="order_id" value=order_id/>
                <input type="hidden" name="version" value=version/>
                <button type="submit" class="button">{move || i18n.t().lab.verify}</button>
            </form>
        }
    });
    let results = order
        .results
        .into_iter()
        .map(|result| view! { <ResultLine result earlier=earlier.clone() clock=clock.clone()/> })
        .collect_view();
    let name = test.clone();
    view! {
        <li class="bench-order" data-state=state.code() data-loinc=test.loinc.clone()>
            <h2>{move || name.name(i18n.locale()).to_owned()} " · " <span class="hint">{test.loinc.clone()}</span></h2>
            <p class="lab-state">{move || (i18n.t().lab.order_state)(state)}</p>
            <ul class="plain-list results">{results}</ul>
            {entry}
            {verify}
            <ActionFeedback action=actions.enter/>
            <ActionFeedback action=actions.verify/>
        </li>
    }
}

/// The specimen label, at label size for the label printer: the accession as a Code 128
/// barcode, two patient identifiers, specimen type and site, collection time, collector.
#[component]
pub fn LabelPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = leptos_router::hooks::use_params_map();
    let label = Resource::new(
        move || params.read().get("accession").unwrap_or_default(),
        |accession| async move {
            match super::load_specimen_label(accession).await {
                Ok(label) => Ok(Some(label)),
                Err(crate::error::AppError::NotFound) => Ok(None),
                Err(error) => Err(error),
            }
        },
    );
    view! {
        <section class="page label-page" aria-labelledby="page-title">
            <h1 id="page-title" class="screen-only">{move || i18n.t().lab.label_title}</h1>
            {loaded(label, |label| match label {
                Some(label) => Either::Left(view! { <Label label/> }),
                None => Either::Right(view! { <NotFound/> }),
            })}
        </section>
    }
}

#[component]
fn Label(label: SpecimenLabel) -> impl IntoView {
    let i18n = use_i18n();
    let SpecimenLabel {
        clock,
        specimen,
        patient,
        tests,
    } = label;
    let collected = clock.date_time(specimen.collected_at);
    let specimen_type = specimen.specimen_type;
    view! {
        <div class="specimen-label" data-accession=specimen.accession.clone()>
            <Barcode text=specimen.accession.clone()/>
            <p class="label-accession">{specimen.accession.clone()}</p>
            <p class="label-patient"><strong>{patient.display_name()}</strong> " · " {patient.birth_date.format("%d/%m/%Y").to_string()}</p>
            <p class="label-record">{patient.record_number.clone()}</p>
            <p class="label-specimen">
                {move || (i18n.t().lab.specimen_type)(specimen_type)}
                {(!specimen.body_site.is_empty()).then(|| view! { " · " {specimen.body_site.clone()} })}
                " · " {tests.join(", ")}
            </p>
            <p class="label-collection">{collected} " · " {specimen.collected_by.clone()}</p>
        </div>
        <p class="screen-only"><PrintButton label=|t| t.lab.print_label/></p>
    }
}

/// A Code 128 barcode as bars in an SVG, with the quiet zones around it.
#[component]
pub fn Barcode(text: String) -> impl IntoView {
    let Ok(code) = super::barcode::encode(&text) else {
        return Either::Left(view! { <p class="form-error">{text}</p> });
    };
    let quiet = super::barcode::QUIET_ZONE_MODULES;
    let width = code.width() + 2 * quiet;
    let bars = code
        .bars()
        .into_iter()
        .map(|(start, wide)| view! { <rect x=start + quiet y="0" width=wide height="40"/> })
        .collect_view();
    Either::Right(view! {
        <svg class="barcode" viewBox=format!("0 0 {width} 40") preserveAspectRatio="none" role="img" aria-label=text.clone()>
            <rect x="0" y="0" width=width height="40" fill="#fff"/>
            <g fill="#000">{bars}</g>
        </svg>
    })
}
