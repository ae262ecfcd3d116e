//! The positioning form: positions chosen from drawn figures, the supports used and the
//! pressure points of the chosen position, and the time the patient has been in it.

use super::{BodyPosition, Positioning, PressurePoint, Support};
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::procedures::PositionPatient;
use crate::shell::{action_url, submit_with, ActionFeedback, SubmissionField};
use leptos::prelude::*;

/// The line drawing of a position: (table or chair, head centre, body polyline). The
/// body runs from the neck through the hips and knees to the feet; 120 x 64 units.
fn drawing(position: BodyPosition) -> (&'static str, (i32, i32), &'static str) {
    use BodyPosition::*;
    match position {
        Seated => (
            "30,40 60,40 60,62 M30,40 30,62 M34,40 34,8",
            (46, 10),
            "46,18 46,38 76,38 76,60 86,60",
        ),
        Supine => ("6,44 114,44", (14, 36), "24,37 64,37 86,37 108,37"),
        Prone => ("6,44 114,44", (14, 36), "24,37 64,37 86,37 108,37 M14,43 14,45"),
        LeftLateral | RightLateral => ("6,44 114,44", (14, 34), "24,36 62,36 78,26 94,38"),
        Fowler => ("6,44 60,44 28,10", (26, 10), "32,18 56,40 86,40 108,40"),
        SemiFowler => ("6,44 60,44 18,24", (20, 22), "28,28 56,40 86,40 108,40"),
        Lithotomy => ("6,44 80,44 M80,44 80,14", (14, 36), "24,37 70,37 80,18 100,18"),
        Trendelenburg => ("6,54 114,30", (14, 44), "24,46 64,38 86,33 108,28"),
        ReverseTrendelenburg => ("6,30 114,54", (14, 20), "24,24 64,32 86,37 108,42"),
    }
}

/// A position, drawn. Left and right lateral carry their side's letter.
#[component]
pub fn PositionFigure(position: BodyPosition) -> impl IntoView {
    let (support, (head_x, head_y), body) = drawing(position);
    let side = match position {
        BodyPosition::LeftLateral => Some("L"),
        BodyPosition::RightLateral => Some("R"),
        _ => None,
    };
    view! {
        <svg class="position-figure" viewBox="0 0 120 64" aria-hidden="true" focusable="false">
            <path class="support" d=format!("M{support}")/>
            <circle class="head" cx=head_x cy=head_y r="7"/>
            <path class="body" d=format!("M{body}")/>
            {side.map(|s| view! { <text x="100" y="14" class="side">{s}</text> })}
        </svg>
    }
}

/// The positions, supports and pressure points to record a placement; the figures are
/// large radio buttons.
#[component]
pub fn PositioningForm(
    procedure_id: i64,
    version: i64,
    /// The catalog's position for this procedure, or the current one.
    current: BodyPosition,
    action: ServerAction<PositionPatient>,
) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = RwSignal::new(current);
    let submit = submit_with(action, move |fields| PositionPatient {
        procedure_id,
        version,
        position: fields.text("position"),
        supports: fields.indexed("supports", Support::ALL.len()),
        points: fields.indexed("points", PressurePoint::ALL.len()),
    });
    let figures = BodyPosition::ALL
        .iter()
        .map(|position| {
            let position = *position;
            view! {
                <label class="position-choice" data-position=position.code()>
                    <input
                        type="radio"
                        name="position"
                        value=position.code()
                        checked=position == current
                        on:change=move |_| chosen.set(position)
                    />
                    <PositionFigure position/>
                    <span>{move || (i18n.t().back_office.position)(position)}</span>
                </label>
            }
        })
        .collect_view();
    let supports = Support::ALL
        .iter()
        .enumerate()
        .map(|(i, support)| {
            let support = *support;
            view! {
                <label class="choice">
                    <input type="checkbox" name=format!("supports[{i}]") value=support.code()/>
                    {move || (i18n.t().back_office.support)(support)}
                </label>
            }
        })
        .collect_view();
    // The pressure points follow the chosen position; without a script, those of the
    // position the page was loaded with.
    let points = move || {
        chosen
            .get()
            .pressure_points()
            .iter()
            .enumerate()
            .map(|(i, point)| {
                let point = *point;
                view! {
                    <label class="choice">
                        <input type="checkbox" name=format!("points[{i}]") value=point.code()/>
                        {move || (i18n.t().back_office.pressure_point)(point)}
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <form class="positioning-form" method="post" action={action_url::<PositionPatient>()} on:submit=submit>
                <SubmissionField/>
            <input type="hidden" name="procedure_id" value=procedure_id/>
            <input type="hidden" name="version" value=version/>
            <fieldset class="position-choices">
                <legend>{move || i18n.t().back_office.position_title}</legend>
                {figures}
            </fieldset>
            <fieldset class="choices">
                <legend>{move || i18n.t().back_office.supports_title}</legend>
                {supports}
            </fieldset>
            <fieldset class="choices">
                <legend>{move || i18n.t().back_office.points_title}</legend>
                {points}
            </fieldset>
            <button type="submit" class="button">{move || i18n.t().back_office.place_patient}</button>
            <ActionFeedback action/>
        </form>
    }
}

/// How long the patient has been in their position, flagged once the facility's
/// repositioning interval has passed; and who placed them, each time.
#[component]
pub fn PositioningHistory(
    history: Vec<Positioning>,
    clock: FacilityClock,
    reminder_minutes: i64,
) -> impl IntoView {
    let i18n = use_i18n();
    let last = history.first().cloned()?;
    // The clock runs on the tablet: one more minute every minute, from the server's count.
    let minutes = RwSignal::new(clock.minutes_since(last.placed_at));
    Effect::new(move |_| {
        let tick = set_interval_with_handle(
            move || minutes.update(|m| *m += 1),
            std::time::Duration::from_secs(60),
        );
        if let Ok(tick) = tick {
            on_cleanup(move || tick.clear());
        }
    });
    let due = move || minutes.get() >= reminder_minutes;
    let position = last.position;
    let entries = history
        .into_iter()
        .map(|p| {
            let at = clock.time_of_day(p.placed_at);
            let position = p.position;
            view! {
                <li>
                    {at} " · " {move || (i18n.t().back_office.position)(position)} " · " {p.placed_by}
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <div class="positioning-now" data-position=position.code()>
            <PositionFigure position/>
            <p class="position-clock">
                <strong>{move || (i18n.t().back_office.position)(position)}</strong> " · "
                {move || (i18n.t().back_office.in_position_for)(minutes.get())}
            </p>
            {move || due().then(|| view! {
                <p class="reposition-due" role="alert">{move || (i18n.t().back_office.reposition_due)(reminder_minutes)}</p>
            })}
            <ol class="positioning-history">{entries}</ol>
        </div>
    })
}
