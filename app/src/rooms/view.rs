use super::{list_rooms, load_room, ChangeRoomStatus, RoomOverview, RoomStatus, RoomsSnapshot};
use crate::auth::Capability;
use crate::care::{BreakGlassForm, PatientAccess};
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::patients::PatientLabel;
use crate::shell::{action_url, submit_with, use_session, ActionFeedback};
use crate::shell::{loaded, NotFound};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

/// The rooms screen: every room, its status and its patient.
#[component]
pub fn RoomsPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    // Reloads whenever another screen changes a room.
    let rooms = Resource::new(move || live.changes(Topic::Rooms), |_| list_rooms());
    view! {
        <section class="page" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().rooms_title}</h1>
            {loaded(rooms, |snapshot| view! { <RoomGrid snapshot/> })}
        </section>
    }
}

#[component]
pub fn RoomGrid(
    snapshot: RoomsSnapshot,
    /// Wall screens: shortened patient identifiers.
    #[prop(optional)]
    short: bool,
    /// What else a room's card shows, by room id: the board adds the procedure under
    /// way, the staff and the equipment (areas above rooms know those; rooms does not).
    #[prop(optional, into)]
    activity: Option<Callback<i64, AnyView>>,
) -> impl IntoView {
    let i18n = use_i18n();
    if snapshot.rooms.is_empty() {
        return Either::Left(view! { <p class="empty">{move || i18n.t().rooms_empty}</p> });
    }
    let clock = snapshot.clock;
    Either::Right(view! {
        <ul class="room-grid">
            {snapshot
                .rooms
                .into_iter()
                .map(|overview| {
                    let activity = activity.map(|activity| activity.run(overview.room.id));
                    view! { <RoomCard overview clock=clock.clone() short activity/> }
                })
                .collect_view()}
        </ul>
    })
}

/// One room as a large touch target that opens the room.
#[component]
pub fn RoomCard(
    overview: RoomOverview,
    clock: FacilityClock,
    #[prop(optional)] short: bool,
    #[prop(optional_no_strip)] activity: Option<AnyView>,
) -> impl IntoView {
    let href = format!("/rooms/{}", overview.room.id);
    let code = overview.room.code.clone();
    let status = overview.room.status.code();
    view! {
        <li class="room-card" data-room=code data-status=status>
            <a class="room-link" href=href>
                <RoomSummary overview clock short/>
                {activity}
            </a>
        </li>
    }
}

/// The room's name, kind, status with its age, and the patient in it.
#[component]
fn RoomSummary(
    overview: RoomOverview,
    clock: FacilityClock,
    /// A patient is there, but not one this person may see.
    #[prop(optional)]
    occupant_hidden: bool,
    /// Wall screens: shortened patient identifiers, and no reason for the visit.
    #[prop(optional)]
    short: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let RoomOverview { room, occupant } = overview;
    let (kind, status) = (room.kind, room.status);
    let since = clock.time_of_day(room.status_since);
    let minutes = clock.minutes_since(room.status_since);
    let today = clock.today();
    view! {
        <div class="room-head">
            <span class="room-code">{room.code}</span>
            <span class="room-name">{room.name}</span>
        </div>
        <p class="room-kind">{move || (i18n.t().room_kind)(kind)}</p>
        <p class=format!("status status-{}", status.code())>
            <span class="status-code" aria-hidden="true">{status.code()}</span>
            <span class="status-label">{move || (i18n.t().room_status)(status)}</span>
            <span class="status-since">
                {move || (i18n.t().status_since)(&since)} " · " {move || (i18n.t().for_duration)(minutes)}
            </span>
        </p>
        {match occupant {
            Some(occupant) => {
                let reason = (!short && !occupant.reason.is_empty())
                    .then(|| view! { <p class="visit-reason">{occupant.reason}</p> });
                EitherOf3::A(view! {
                    <PatientLabel patient=occupant.patient today short/>
                    {reason}
                })
            }
            None if occupant_hidden => {
                EitherOf3::B(view! { <p class="room-occupied">{move || i18n.t().patient_present}</p> })
            }
            None => EitherOf3::C(view! { <p class="room-free">{move || i18n.t().room_free}</p> }),
        }}
    }
}

/// One room in full.
#[component]
pub fn RoomPage() -> impl IntoView {
    let i18n = use_i18n();
    let room_id = crate::shell::id_param();
    let live = use_live();
    // Made here, not in the room's detail: the detail is drawn again at every reload, and
    // an action made there would forget its answer (the confirmation, the refusal).
    let change = ServerAction::<ChangeRoomStatus>::new();
    let clean = ServerAction::<super::AttestCleaning>::new();
    let order = ServerAction::<crate::procedures::OrderProcedure>::new();
    let lab = crate::lab::LabActions::new();
    let actions = RoomActions {
        change,
        clean,
        order,
        lab,
    };
    // A room that does not exist, or an address that names none, is a 404, not an error.
    // It reloads when this room's status changes or something about its patient's visit
    // does, here or on another screen; other rooms' changes do not reload it.
    let shown_visit = RwSignal::new(None::<i64>);
    let source = move || {
        let done = change.version().get() + clean.version().get() + order.version().get();
        let heard = room_id().map_or(0, |id| live.room_changes(id))
            + shown_visit.get().map_or(0, |visit| live.visit_changes(visit));
        (room_id(), heard, done)
    };
    let room = Resource::new(source, |(id, _, _)| crate::shell::unless_missing(id, load_room));
    let reload = Callback::new(move |()| room.refetch());
    view! {
        <section class="page room-page">
            <p>
                <a class="button secondary" href="/">{move || i18n.t().back_to_rooms}</a>
            </p>
            {loaded(room, move |snapshot| match snapshot {
                Some(snapshot) => {
                    // The visit shown is the one whose changes reload the page.
                    let visit = snapshot.room.occupant.as_ref().filter(|_| snapshot.access.is_some()).map(|o| o.visit_id);
                    if shown_visit.get_untracked() != visit {
                        shown_visit.set(visit);
                    }
                    Either::Left(view! { <RoomDetail snapshot reload actions/> })
                }
                None => Either::Right(view! { <NotFound/> }),
            })}
        </section>
    }
}

/// What staff do on a room's page.
#[derive(Clone, Copy)]
struct RoomActions {
    change: ServerAction<ChangeRoomStatus>,
    clean: ServerAction<super::AttestCleaning>,
    order: ServerAction<crate::procedures::OrderProcedure>,
    lab: crate::lab::LabActions,
}

#[component]
fn RoomDetail(snapshot: super::RoomSnapshot, reload: Callback<()>, actions: RoomActions) -> impl IntoView {
    let change = actions.change;
    let i18n = use_i18n();
    let may_change = use_session()
        .user_now()
        .is_some_and(|user| user.can(Capability::ChangeRoomStatus));
    let room = &snapshot.room.room;
    let changes = may_change.then(|| view! { <StatusChanges room_id=room.id status=room.status change/> });
    let clock = snapshot.clock;
    let occupant_hidden = snapshot.restricted.is_some();
    let restricted = snapshot.restricted.map(|r| {
        view! { <BreakGlassForm patient_id=r.patient_id may_break_glass=r.may_break_glass on_opened=reload/> }
    });
    let break_glass_notice = (snapshot.access == Some(PatientAccess::BreakGlass)).then(
        || view! { <p class="badge warning break-glass-active">{move || i18n.t().break_glass_active}</p> },
    );
    let overview = snapshot.room;
    let title = format!("{} · {}", overview.room.code, overview.room.name);
    let status = overview.room.status.code();
    let visit = overview.occupant.clone().map(|occupant| {
        let arrived = clock.time_of_day(occupant.arrived_at);
        let state = occupant.state;
        view! {
            <dl class="facts">
                <dt>{move || i18n.t().visit_reason}</dt>
                <dd>{occupant.reason}</dd>
                <dt>{move || i18n.t().visit_state_label}</dt>
                <dd>{move || (i18n.t().visit_state)(state)} " · " {move || (i18n.t().arrived_at)(&arrived)}</dd>
            </dl>
        }
    });
    let room_id = overview.room.id;
    let room_status = overview.room.status;
    let room_kind = overview.room.kind;
    let cleaning = (may_change && room_status.needs_cleaning())
        .then(|| view! { <CleaningForm room_id status=room_status kind=room_kind action=actions.clean/> });
    let last_cleaning = snapshot.last_cleaning.map(|c| {
        let at = clock.time_of_day(c.attested_at);
        view! { <p class="hint last-cleaning">{move || (i18n.t().back_office.last_cleaned)(&c.cleaned_by, &at)}</p> }
    });
    let procedures = (!snapshot.procedures.is_empty()).then(|| {
        let list = snapshot
            .procedures
            .into_iter()
            .map(|p| {
                let state = p.state;
                let kind = p.kind.clone();
                view! {
                    <li class="team-member" data-state=state.code()>
                        <a class="button secondary" href=format!("/procedures/{}", p.id)>
                            {move || kind.name(i18n.locale()).to_owned()}
                        </a>
                        <span class="staff-roles">{move || (i18n.t().back_office.procedure_state)(state)}</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section aria-labelledby="room-procedures-title">
                <h2 id="room-procedures-title">{move || i18n.t().back_office.procedures_in_room}</h2>
                <ul class="team-list">{list}</ul>
            </section>
        }
    });
    // Lab work of the patient in the room, when their details are open to this person.
    let lab = overview.occupant.as_ref().filter(|_| !occupant_hidden).map(
        |occupant| view! { <crate::lab::VisitLabPanel visit_id=occupant.visit_id actions=actions.lab/> },
    );
    let order = match (&overview.occupant, snapshot.order_catalog.is_empty()) {
        (Some(occupant), false) => {
            let visit_id = occupant.visit_id;
            let catalog = snapshot.order_catalog.clone();
            Some(view! { <crate::procedures::OrderForm visit_id catalog action=actions.order/> })
        }
        _ => None,
    };
    view! {
        <h1 id="page-title">{title}</h1>
        {break_glass_notice}
        <div class="room-detail" data-status=status>
            <RoomSummary overview clock=clock.clone() occupant_hidden/>
        </div>
        {changes}
        {cleaning}
        {last_cleaning}
        {restricted}
        {visit}
        {procedures}
        {order}
        {lab}
    }
}

/// The cleaning attestation: every item of the room kind's checklist, ticked by the
/// person who cleaned; the room becomes available when it is accepted.
#[component]
fn CleaningForm(
    room_id: i64,
    status: RoomStatus,
    kind: super::RoomKind,
    action: ServerAction<super::AttestCleaning>,
) -> impl IntoView {
    let i18n = use_i18n();
    let checklist = kind.cleaning_checklist();
    let count = checklist.len();
    let submit = submit_with(action, move |fields| super::AttestCleaning {
        room_id,
        from: status.code().to_owned(),
        items: fields.indexed("items", count),
    });
    let items = checklist
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let item = *item;
            view! {
                <label class="choice">
                    <input type="checkbox" name=format!("items[{i}]") value=item.code()/>
                    {move || (i18n.t().back_office.cleaning_item)(item)}
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="cleaning" aria-labelledby="cleaning-title">
            <h2 id="cleaning-title">{move || i18n.t().back_office.cleaning_title}</h2>
            <form class="stacked-form" method="post" action={action_url::<super::AttestCleaning>()} on:submit=submit>
                <input type="hidden" name="room_id" value=room_id/>
                <input type="hidden" name="from" value=status.code()/>
                <fieldset class="choices checklist">{items}</fieldset>
                <button type="submit" class="button">{move || i18n.t().back_office.cleaning_submit}</button>
                <ActionFeedback action/>
            </form>
        </section>
    }
}

/// The status changes staff may make by hand, one large button each. Each button is a
/// form of its own, so it works without JavaScript too.
#[component]
fn StatusChanges(room_id: i64, status: RoomStatus, change: ServerAction<ChangeRoomStatus>) -> impl IntoView {
    let i18n = use_i18n();
    let buttons = status
        .manual_changes()
        .iter()
        .map(|to| {
            let to = *to;
            let submit = submit_with(change, move |_| ChangeRoomStatus {
                room_id,
                from: status.code().to_owned(),
                to: to.code().to_owned(),
            });
            view! {
                <form method="post" action={action_url::<ChangeRoomStatus>()} on:submit=submit>
                    <input type="hidden" name="room_id" value=room_id/>
                    <input type="hidden" name="from" value=status.code()/>
                    <input type="hidden" name="to" value=to.code()/>
                    <button type="submit" class="button" data-to=to.code()>
                        {move || (i18n.t().room_change)(status, to)}
                    </button>
                </form>
            }
        })
        .collect_view();
    view! {
        <section class="room-changes" aria-labelledby="room-changes-title">
            <h2 id="room-changes-title">{move || i18n.t().room_changes_title}</h2>
            <div class="button-row">{buttons}</div>
            <ActionFeedback action=change/>
        </section>
    }
}
