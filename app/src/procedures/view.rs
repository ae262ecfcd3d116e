//! The back office on the tablet: the queue, the physician's order form, and the
//! procedure page where the patient is roomed, staffed, positioned and cared for.

use super::{
    load_procedure, AssignStaff, AttestSupervision, CosignProcedure, OrderProcedure, Priority, Procedure,
    ProcedureKind, ProcedureSnapshot, ProcedureState, ProcedureStep, ReserveEquipment, RoomPatient,
    StaffingRole, TakeProcedureStep, UnassignStaff,
};
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::patients::{PatientIdentity, PatientLabel};
use crate::positioning::{PositioningForm, PositioningHistory};
use crate::shell::{action_url, loaded, submit_with, ActionFeedback, NotFound, SubmissionField};
use leptos::either::Either;
use leptos::prelude::*;

/// Waiting procedures, most pressing first, each opening its page.
#[component]
pub fn ProcedureQueue(
    queue: Vec<Procedure>,
    clock: FacilityClock,
    /// Wall screens: shortened patient identifiers.
    #[prop(optional)]
    short: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    if queue.is_empty() {
        return Either::Left(view! { <p class="empty">{move || i18n.t().back_office.queue_empty}</p> });
    }
    let today = clock.today();
    Either::Right(view! {
        <ol class="queue procedure-queue">
            {queue
                .into_iter()
                .map(|p| {
                    let waited = clock.minutes_since(p.ordered_at);
                    let priority = p.priority;
                    let kind = p.kind.clone();
                    view! {
                        <li class="queue-item" data-priority=priority.code() data-kind=p.kind.code.clone()>
                            <a class="queue-link" href=format!("/procedures/{}", p.id)>
                                <span class=format!("priority priority-{}", priority.code())>
                                    {move || (i18n.t().back_office.priority)(priority)}
                                </span>
                                <strong class="procedure-name">{move || kind.name(i18n.locale()).to_owned()}</strong>
                                <PatientLabel patient=p.visit.patient today short/>
                                <span class="queue-wait">{move || (i18n.t().for_duration)(waited)}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    })
}

/// The physician's order for the patient in the room: a procedure, its priority, a note.
#[component]
pub fn OrderForm(
    visit_id: i64,
    catalog: Vec<ProcedureKind>,
    action: ServerAction<OrderProcedure>,
) -> impl IntoView {
    let i18n = use_i18n();
    let submit = submit_with(action, move |fields| OrderProcedure {
        visit_id,
        kind_id: fields.text("kind_id").parse().unwrap_or_default(),
        priority: fields.text("priority"),
        note: fields.text("note"),
    });
    let options = catalog
        .into_iter()
        .map(|kind| {
            let id = kind.id;
            view! { <option value=id>{move || kind.name(i18n.locale()).to_owned()}</option> }
        })
        .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|priority| {
            let priority = *priority;
            view! {
                <label class="choice">
                    <input type="radio" name="priority" value=priority.code() checked=priority == Priority::Routine/>
                    {move || (i18n.t().back_office.priority)(priority)}
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="order-form" aria-labelledby="order-title">
            <h2 id="order-title">{move || i18n.t().back_office.order_title}</h2>
            <form class="stacked-form" method="post" action={action_url::<OrderProcedure>()} on:submit=submit data-reset="on-success">
                <SubmissionField/>
                <input type="hidden" name="visit_id" value=visit_id/>
                <label for="order-kind">{move || i18n.t().back_office.procedure_label}</label>
                // Nothing is chosen until someone chooses: one tap orders nothing.
                <select id="order-kind" name="kind_id" required>
                    <option value="" selected=true disabled=true>{move || i18n.t().choose_one}</option>
                    {options}
                </select>
                <fieldset class="choices">
                    <legend>{move || i18n.t().back_office.priority_label}</legend>
                    {priorities}
                </fieldset>
                <label>
                    {move || i18n.t().back_office.note_label}
                    <textarea name="note" maxlength="500" rows="2"></textarea>
                </label>
                <button type="submit" class="button">{move || i18n.t().back_office.order_submit}</button>
                <ActionFeedback action done=|t| t.back_office.ordered/>
            </form>
        </section>
    }
}

/// The changes on the rooms topic a procedure's page shows.
const FOLLOWED: &[crate::live::EventKind] = &[
    crate::live::EventKind::RoomStatus,
    crate::live::EventKind::StaffPresence,
    crate::live::EventKind::Equipment,
    crate::live::EventKind::Procedure,
    crate::live::EventKind::Visit,
];

/// One procedure, everything staff do to it, in the order they do it.
#[component]
pub fn ProcedurePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = crate::shell::id_param();
    let live = use_live();
    let actions = Actions::new();
    // Rooms, staff, equipment and procedures (whose staff are busy) change what it
    // offers; another patient's lab results do not.
    let source = move || (id(), live.changes_of(Topic::Rooms, FOLLOWED), actions.version());
    let page = Resource::new(source, |(id, _, _)| {
        crate::shell::unless_missing(id, load_procedure)
    });
    view! {
        <section class="page procedure-page">
            <p>
                <a class="button secondary" href="/board">{move || i18n.t().back_office.back_to_board}</a>
            </p>
            {loaded(page, move |snapshot| match snapshot {
                Some(snapshot) => Either::Left(view! { <ProcedureDetail snapshot actions/> }),
                None => Either::Right(view! { <NotFound/> }),
            })}
        </section>
    }
}

/// The page's actions: any of them done reloads the page.
#[derive(Clone, Copy)]
struct Actions {
    room: ServerAction<RoomPatient>,
    step: ServerAction<TakeProcedureStep>,
    assign: ServerAction<AssignStaff>,
    unassign: ServerAction<UnassignStaff>,
    attest: ServerAction<AttestSupervision>,
    cosign: ServerAction<CosignProcedure>,
    position: ServerAction<super::PositionPatient>,
    reserve: ServerAction<ReserveEquipment>,
    lab: crate::lab::LabActions,
}

impl Actions {
    fn new() -> Self {
        Actions {
            room: ServerAction::new(),
            step: ServerAction::new(),
            assign: ServerAction::new(),
            unassign: ServerAction::new(),
            attest: ServerAction::new(),
            cosign: ServerAction::new(),
            position: ServerAction::new(),
            reserve: ServerAction::new(),
            lab: crate::lab::LabActions::new(),
        }
    }

    fn version(&self) -> usize {
        self.room.version().get()
            + self.step.version().get()
            + self.assign.version().get()
            + self.unassign.version().get()
            + self.attest.version().get()
            + self.cosign.version().get()
            + self.position.version().get()
            + self.reserve.version().get()
    }
}

#[component]
fn ProcedureDetail(snapshot: ProcedureSnapshot, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let ProcedureSnapshot {
        clock,
        procedure,
        available_rooms,
        patient_room,
        staff,
        positioning,
        reposition_reminder_minutes,
        equipment,
        viewer_staff_member_id,
    } = snapshot;
    let (id, version, state) = (procedure.id, procedure.version, procedure.state);
    let lab_visit = procedure.visit.visit_id;
    let kind = procedure.kind.clone();
    let priority = procedure.priority;
    let today = clock.today();
    let ordered_at = clock.time_of_day(procedure.ordered_at);
    let elapsed = procedure.started_at.map(|at| clock.minutes_since(at));
    let title_kind = kind.clone();
    let patient_room_code = patient_room.as_ref().map(|r| r.code.clone());
    let rooming = (state == ProcedureState::Ordered).then(|| {
        let rooms = available_rooms.clone();
        view! { <RoomingForm id version rooms action=actions.room/> }
    });
    let team = view! {
        <TeamSection procedure=procedure.clone() staff viewer=viewer_staff_member_id clock=clock.clone() actions/>
    };
    let equipment_view = (!kind.equipment.is_empty() && state.is_open()).then(|| {
        view! { <EquipmentSection procedure=procedure.clone() items=equipment action=actions.reserve/> }
    });
    let in_room = matches!(state, ProcedureState::Roomed | ProcedureState::InProgress);
    let current_position = positioning.first().map_or(kind.default_position, |p| p.position);
    let positioning_view = in_room.then(|| {
        view! {
            <section class="positioning" aria-labelledby="positioning-title">
                <h2 id="positioning-title">{move || i18n.t().back_office.positioning_title}</h2>
                <PositioningHistory history=positioning clock=clock.clone() reminder_minutes=reposition_reminder_minutes/>
                <PositioningForm procedure_id=id version current=current_position action=actions.position/>
            </section>
        }
    });
    view! {
        <h1 id="page-title">{move || title_kind.name(i18n.locale()).to_owned()}</h1>
        <div class="procedure-head" data-state=state.code()>
            <PatientIdentity patient=procedure.visit.patient.clone() today/>
            <p>
                <span class=format!("priority priority-{}", priority.code())>
                    {move || (i18n.t().back_office.priority)(priority)}
                </span>
                " "
                <span class="procedure-state">{move || (i18n.t().back_office.procedure_state)(state)}</span>
                {elapsed.map(|m| view! { " · " {move || (i18n.t().for_duration)(m)} })}
            </p>
            <p class="procedure-room" data-room=patient_room_code>
                {match patient_room {
                    Some(room) => Either::Left(view! {
                        {move || (i18n.t().back_office.patient_in_room)(&room.code, &room.name)}
                    }),
                    None => Either::Right(view! { {move || i18n.t().back_office.not_in_a_room} }),
                }}
            </p>
            <p class="hint">
                {move || (i18n.t().back_office.ordered_by)(&procedure.ordered_by, &ordered_at)}
                {(!procedure.note.is_empty()).then(|| view! { " · " <em>{procedure.note.clone()}</em> })}
            </p>
        </div>
        {rooming}
        {team}
        {equipment_view}
        {positioning_view}
        <StepButtons id version state action=actions.step/>
        <crate::lab::VisitLabPanel visit_id=lab_visit actions=actions.lab/>
    }
}

/// Bringing the patient to a room: one large button per available room.
#[component]
fn RoomingForm(
    id: i64,
    version: i64,
    rooms: Vec<crate::rooms::Room>,
    action: ServerAction<RoomPatient>,
) -> impl IntoView {
    let i18n = use_i18n();
    let rooms_count = rooms.len();
    let buttons = rooms
        .into_iter()
        .map(|room| {
            let room_id = room.id;
            let submit = submit_with(action, move |_| RoomPatient {
                procedure_id: id,
                version,
                room_id,
            });
            view! {
                <form method="post" action={action_url::<RoomPatient>()} on:submit=submit>
                    <input type="hidden" name="procedure_id" value=id/>
                    <input type="hidden" name="version" value=version/>
                    <input type="hidden" name="room_id" value=room_id/>
                    <button type="submit" class="button" data-room=room.code.clone()>
                        {let code = room.code.clone(); move || (i18n.t().back_office.bring_to)(&code)} " · " {room.name.clone()}
                    </button>
                </form>
            }
        })
        .collect_view();
    let none_free = rooms_count == 0;
    view! {
        <section class="rooming" aria-labelledby="rooming-title">
            <h2 id="rooming-title">{move || i18n.t().back_office.rooming_title}</h2>
            {none_free.then(|| view! {
                <p class="notice" role="status">
                    {move || i18n.t().back_office.no_room_free} " "
                    <a href="/">{move || i18n.t().back_office.see_rooms}</a>
                </p>
            })}
            <div class="button-row">{buttons}</div>
            <p class="hint">{move || i18n.t().back_office.rooming_hint}</p>
            <ActionFeedback action/>
        </section>
    }
}

/// Who is on the procedure, and the form to add someone.
#[component]
fn TeamSection(
    procedure: Procedure,
    staff: Vec<super::StaffChoice>,
    viewer: i64,
    clock: FacilityClock,
    actions: Actions,
) -> impl IntoView {
    let i18n = use_i18n();
    let (id, version, state) = (procedure.id, procedure.version, procedure.state);
    let started = state == ProcedureState::InProgress;
    let members = procedure
        .staff
        .iter()
        .cloned()
        .map(|member| {
            let role = member.role;
            let staff_member_id = member.staff_member_id;
            let removable = state.is_open() && (!started || role == StaffingRole::Helper);
            let remove = removable.then(|| {
                let submit = submit_with(actions.unassign, move |_| UnassignStaff {
                    procedure_id: id,
                    version,
                    staff_member_id,
                });
                view! {
                    <form method="post" action={action_url::<UnassignStaff>()} on:submit=submit>
                        <input type="hidden" name="procedure_id" value=id/>
                        <input type="hidden" name="version" value=version/>
                        <input type="hidden" name="staff_member_id" value=staff_member_id/>
                        <button type="submit" class="button secondary">{move || i18n.t().remove}</button>
                    </form>
                }
            });
            let attest = (role == StaffingRole::Supervisor && member.present_at.is_none() && staff_member_id == viewer && state.is_open())
                .then(|| {
                    let submit = submit_with(actions.attest, move |_| AttestSupervision { procedure_id: id, version });
                    view! {
                        <form method="post" action={action_url::<AttestSupervision>()} on:submit=submit>
                            <input type="hidden" name="procedure_id" value=id/>
                            <input type="hidden" name="version" value=version/>
                            <button type="submit" class="button">{move || i18n.t().back_office.attest_presence}</button>
                        </form>
                    }
                });
            let presence = (role == StaffingRole::Supervisor).then(|| match member.present_at {
                Some(_) => Either::Left(view! { <span class="badge">{move || i18n.t().back_office.present}</span> }),
                None => Either::Right(view! { <span class="badge warning">{move || i18n.t().back_office.awaiting_presence}</span> }),
            });
            let cosignature = (role == StaffingRole::Supervisor && state == ProcedureState::Done).then(|| {
                view! { <Cosignature member=member.clone() id version mine={staff_member_id == viewer} clock=clock.clone() action=actions.cosign/> }
            });
            view! {
                <li class="team-member" data-role=role.code()>
                    <span class="staff-name">{member.name}</span>
                    <span class="staff-roles">{move || (i18n.t().back_office.staffing_role)(role)}</span>
                    {presence}
                    {attest}
                    {remove}
                    {cosignature}
                </li>
            }
        })
        .collect_view();
    let assign = state.is_open().then(|| {
        let submit = submit_with(actions.assign, move |fields| AssignStaff {
            procedure_id: id,
            version,
            staff_member_id: fields.text("staff_member_id").parse().unwrap_or_default(),
            role: fields.text("role"),
        });
        let people = staff
            .into_iter()
            .map(|person| {
                let presence = person.presence;
                let load = person.load;
                view! {
                    <option value=person.staff_member_id>
                        {person.name} " · " {move || (i18n.t().back_office.presence)(presence)}
                        {move || (i18n.t().back_office.load)(load)}
                    </option>
                }
            })
            .collect_view();
        let roles = StaffingRole::ALL
            .iter()
            .filter(|role| !started || **role == StaffingRole::Helper)
            .map(|role| {
                let role = *role;
                view! { <option value=role.code()>{move || (i18n.t().back_office.staffing_role)(role)}</option> }
            })
            .collect_view();
        view! {
            <form class="inline-form" method="post" action={action_url::<AssignStaff>()} on:submit=submit>
                <input type="hidden" name="procedure_id" value=id/>
                <input type="hidden" name="version" value=version/>
                <div class="field">
                    <label for="assign-person">{move || i18n.t().person}</label>
                    <select id="assign-person" name="staff_member_id" required><option value="" selected=true disabled=true>{move || i18n.t().choose_one}</option>{people}</select>
                </div>
                <div class="field">
                    <label for="assign-role">{move || i18n.t().back_office.role_label}</label>
                    <select id="assign-role" name="role" required><option value="" selected=true disabled=true>{move || i18n.t().choose_one}</option>{roles}</select>
                </div>
                <button type="submit" class="button">{move || i18n.t().back_office.assign}</button>
            </form>
        }
    });
    view! {
        <section class="team" aria-labelledby="team-title">
            <h2 id="team-title">{move || i18n.t().back_office.team_title}</h2>
            <ul class="team-list">{members}</ul>
            {assign}
            <ActionFeedback action=actions.assign/>
            <ActionFeedback action=actions.unassign/>
            <ActionFeedback action=actions.attest/>
            <ActionFeedback action=actions.cosign/>
        </section>
    }
}

/// A supervisor's co-signature of the work once done: when and their remark, or for the
/// supervisor themself the form to co-sign.
#[component]
fn Cosignature(
    member: super::ProcedureStaff,
    id: i64,
    version: i64,
    mine: bool,
    clock: FacilityClock,
    action: ServerAction<CosignProcedure>,
) -> impl IntoView {
    let i18n = use_i18n();
    if let Some(at) = member.cosigned_at {
        let at = clock.time_of_day(at);
        let note = member.cosign_note.map(|note| view! { " · " <em>{note}</em> });
        return Either::Left(view! {
            <span class="cosigned">
                <span class="badge">{move || (i18n.t().back_office.cosigned)(&at)}</span>
                {note}
            </span>
        });
    }
    if !mine {
        return Either::Right(Either::Left(view! {
            <span class="badge warning">{move || i18n.t().back_office.awaiting_cosignature}</span>
        }));
    }
    let submit = submit_with(action, move |fields| CosignProcedure {
        procedure_id: id,
        version,
        note: fields.text("note"),
    });
    Either::Right(Either::Right(view! {
        <form class="inline-form" method="post" action={action_url::<CosignProcedure>()} on:submit=submit>
            <input type="hidden" name="procedure_id" value=id/>
            <input type="hidden" name="version" value=version/>
            <div class="field">
                <label for="cosign-note">{move || i18n.t().back_office.cosign_note}</label>
                <input id="cosign-note" name="note" type="text" maxlength="500"/>
            </div>
            <button type="submit" class="button">{move || i18n.t().back_office.cosign}</button>
        </form>
    }))
}

/// The equipment the procedure needs: where each item is, and the ones free to reserve.
#[component]
fn EquipmentSection(
    procedure: Procedure,
    items: Vec<crate::equipment::EquipmentItem>,
    action: ServerAction<ReserveEquipment>,
) -> impl IntoView {
    let i18n = use_i18n();
    let (id, version) = (procedure.id, procedure.version);
    let rows = items
        .into_iter()
        .filter(|item| procedure.kind.equipment.contains(&item.kind))
        .map(|item| {
            let (state, kind, item_id) = (item.state, item.kind, item.id);
            let mine = item.held_by == Some(id);
            let free = item.held_by.is_none() && state == crate::equipment::EquipmentState::Available;
            let reserve = free.then(|| {
                let submit = submit_with(action, move |_| ReserveEquipment {
                    procedure_id: id,
                    version,
                    equipment_id: item_id,
                });
                view! {
                    <form method="post" action={action_url::<ReserveEquipment>()} on:submit=submit>
                        <input type="hidden" name="procedure_id" value=id/>
                        <input type="hidden" name="version" value=version/>
                        <input type="hidden" name="equipment_id" value=item_id/>
                        <button type="submit" class="button">{move || i18n.t().back_office.reserve}</button>
                    </form>
                }
            });
            let label = format!("{} · {}", item.code, item.name);
            view! {
                <li class="equipment-item" data-code=item.code data-state=state.code()>
                    <span class="staff-name">{label}</span>
                    <span class="staff-roles">
                        {move || (i18n.t().back_office.equipment_kind)(kind)} " · "
                        {move || (i18n.t().back_office.equipment_state)(state)}
                        {mine.then(|| view! { " · " {move || i18n.t().back_office.held_here} })}
                    </span>
                    {reserve}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="equipment" aria-labelledby="equipment-title">
            <h2 id="equipment-title">{move || i18n.t().back_office.equipment_title}</h2>
            <ul class="team-list">{rows}</ul>
            <ActionFeedback action/>
        </section>
    }
}

/// Start, complete, or cancel with a reason: what the procedure's state allows.
#[component]
fn StepButtons(
    id: i64,
    version: i64,
    state: ProcedureState,
    action: ServerAction<TakeProcedureStep>,
) -> impl IntoView {
    let i18n = use_i18n();
    let button = move |step: ProcedureStep| {
        let submit = submit_with(action, move |_| TakeProcedureStep {
            procedure_id: id,
            version,
            step: step.code().to_owned(),
            reason: String::new(),
        });
        view! {
            <form method="post" action={action_url::<TakeProcedureStep>()} on:submit=submit>
                <input type="hidden" name="procedure_id" value=id/>
                <input type="hidden" name="version" value=version/>
                <input type="hidden" name="step" value=step.code()/>
                <button type="submit" class="button" data-step=step.code()>
                    {move || (i18n.t().back_office.step)(step)}
                </button>
            </form>
        }
    };
    let main = match state {
        ProcedureState::Roomed => Some(button(ProcedureStep::Start)),
        ProcedureState::InProgress => Some(button(ProcedureStep::Complete)),
        _ => None,
    };
    let cancel = state.is_open().then(|| {
        let submit = submit_with(action, move |fields| TakeProcedureStep {
            procedure_id: id,
            version,
            step: ProcedureStep::Cancel.code().to_owned(),
            reason: fields.text("reason"),
        });
        view! {
            <form class="inline-form" method="post" action={action_url::<TakeProcedureStep>()} on:submit=submit>
                <input type="hidden" name="procedure_id" value=id/>
                <input type="hidden" name="version" value=version/>
                <input type="hidden" name="step" value="cancel"/>
                <label>{move || i18n.t().back_office.cancel_reason}<input type="text" name="reason" maxlength="300" required/></label>
                <button type="submit" class="button secondary" data-step="cancel">
                    {move || (i18n.t().back_office.step)(ProcedureStep::Cancel)}
                </button>
            </form>
        }
    });
    view! {
        <section class="steps" aria-labelledby="steps-title">
            <h2 id="steps-title">{move || i18n.t().back_office.steps_title}</h2>
            <div class="button-row">{main}</div>
            {cancel}
            <ActionFeedback action/>
        </section>
    }
}
