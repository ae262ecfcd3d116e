//! Send-outs on screen: specimens waiting for a reference lab, packing them with a
//! printable manifest, and following each box until its results are back.

use super::{AdvanceShipment, PackShipment, SendOuts, Shipment};
use crate::facility::FacilityClock;
use crate::i18n::use_i18n;
use crate::patients::PatientSummary;
use crate::shell::{loaded, PageForm, PageFormNote, PageForms, Refused};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A server page: packing and each box's next step post to the page; a refused packing
/// comes back with its specimens and lab still chosen.
#[component]
pub fn SendOutsPage() -> impl IntoView {
    let i18n = use_i18n();
    let render = move |refused: Option<Refused>| {
        let send_outs = Resource::new(|| (), |_| super::load_send_outs());
        view! { {loaded(send_outs, move |send_outs| view! { <SendOutsView send_outs refused=refused.clone()/> })} }
    };
    view! {
        <section class="page send-outs-page" aria-labelledby="page-title">
            <p class="screen-only"><a class="button secondary" href="/lab">{move || i18n.t().lab.back_to_worklist}</a></p>
            <h1 id="page-title">{move || i18n.t().lab.send_outs_title}</h1>
            {PageForms::new().accept::<PackShipment>().accept::<AdvanceShipment>().back_to("/lab/send-outs", render)}
        </section>
    }
}

#[component]
fn SendOutsView(send_outs: SendOuts, refused: Option<Refused>) -> impl IntoView {
    let i18n = use_i18n();
    let SendOuts {
        clock,
        labs,
        waiting,
        shipments,
        patients,
    } = send_outs;
    let today = clock.today();
    let count = waiting.len();
    let pack = Refused::of(&refused, PackShipment::PATH, None);
    let chosen = |accession: &str| {
        pack.as_ref().is_some_and(|r| {
            r.sent
                .0
                .iter()
                .any(|(field, value)| field.starts_with("accessions[") && value == accession)
        })
    };
    let chosen_lab = pack
        .as_ref()
        .map(|r| r.sent.text("reference_lab_id"))
        .unwrap_or_default();
    let choices = waiting
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let specimen = item.order.specimen.clone()?;
            let id = format!("pack-{}", specimen.accession);
            let for_id = id.clone();
            let test = item.order.test.clone();
            Some(view! {
                <label class="choice" for=for_id>
                    <input type="checkbox" id=id name=format!("accessions[{i}]") value=specimen.accession.clone() checked=chosen(&specimen.accession)/>
                    <strong class="accession">{specimen.accession.clone()}</strong> " · "
                    {move || test.name(i18n.locale()).to_owned()} " · "
                    <crate::patients::PatientLabel patient=item.patient.clone() today short=false/>
                </label>
            })
        })
        .collect_view();
    let lab_options = labs
        .into_iter()
        .map(|(id, _, name)| view! { <option value=id selected=chosen_lab == id.to_string()>{name}</option> })
        .collect_view();
    let boxes = shipments
        .into_iter()
        .map(|shipment| {
            let refused = Refused::of(
                &refused,
                AdvanceShipment::PATH,
                Some(("shipment_id", &shipment.id.to_string())),
            );
            view! { <Manifest shipment patients=patients.clone() clock=clock.clone() refused/> }
        })
        .collect_view();
    let nothing_chosen = pack.is_none();
    view! {
        <PageForm action=PackShipment::PATH class="stacked-form screen-only pack-form">
            <h2>{move || i18n.t().lab.awaiting_send_out}</h2>
            {(count == 0).then(|| view! { <p class="empty">{move || i18n.t().lab.nothing_to_send}</p> })}
            <fieldset class="choices">
                <legend>{move || i18n.t().lab.specimens}</legend>
                {choices}
            </fieldset>
            <label for="reference-lab">{move || i18n.t().lab.reference_lab}</label>
            <select id="reference-lab" name="reference_lab_id" required><option value="" selected=nothing_chosen disabled=true>{move || i18n.t().choose_one}</option>{lab_options}</select>
            <button type="submit" class="button">{move || i18n.t().lab.pack}</button>
            <PageFormNote action=PackShipment::PATH refused=pack done=|t| t.lab.packed/>
        </PageForm>
        <h2 class="screen-only">{move || i18n.t().lab.shipments}</h2>
        {boxes}
    }
}

/// One shipment: its manifest (printable) and its next step.
#[component]
fn Manifest(
    shipment: Shipment,
    patients: Vec<(i64, PatientSummary)>,
    clock: FacilityClock,
    refused: Option<Refused>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = shipment.id;
    let state = shipment.state.clone();
    let packed = clock.date_time(shipment.packed_at);
    let next = super::next_shipment_state(&state).map(|to| {
        view! {
            <PageForm action=AdvanceShipment::PATH class="screen-only">
                <input type="hidden" name="shipment_id" value=id/>
                <input type="hidden" name="state" value=to/>
                <button type="submit" class="button">{move || (i18n.t().lab.shipment_step)(to)}</button>
                <PageFormNote action=AdvanceShipment::PATH refused/>
            </PageForm>
        }
    });
    let rows = shipment
        .orders
        .into_iter()
        .map(|order| {
            let specimen = order.specimen.clone();
            let patient = patients
                .iter()
                .find(|(v, _)| *v == order.visit_id)
                .map(|(_, p)| p.clone());
            let test = order.test.clone();
            view! {
                <tr>
                    <td class="accession">{specimen.as_ref().map(|s| s.accession.clone())}</td>
                    <td>{patient.as_ref().map(|p| p.display_name())}</td>
                    <td>{patient.map(|p| p.birth_date.format("%d/%m/%Y").to_string())}</td>
                    <td>{move || test.name(i18n.locale()).to_owned()} " (" {order.test.loinc.clone()} ")"</td>
                    <td>{order.placer_number.clone()}</td>
                    <td>{specimen.map(|s| clock.date_time(s.collected_at))}</td>
                </tr>
            }
        })
        .collect_view();
    let state_for_label = state.clone();
    view! {
        <article class="manifest" data-state=state.clone() data-shipment=id>
            <h3>{move || i18n.t().lab.manifest} " n° " {id} " · " {shipment.lab_name.clone()}</h3>
            <p>
                {move || (i18n.t().lab.shipment_state)(&state_for_label)} " · "
                {move || (i18n.t().lab.packed_by)(&shipment.packed_by, &packed)}
            </p>
            <table class="data-table">
                <thead>
                    <tr>
                        <th>{move || i18n.t().lab.accession}</th>
                        <th>{move || i18n.t().person}</th>
                        <th>{move || i18n.t().lab.birth_date}</th>
                        <th>{move || i18n.t().lab.test}</th>
                        <th>{move || i18n.t().lab.order_number}</th>
                        <th>{move || i18n.t().lab.collected}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="button-row">
                <span class="screen-only"><crate::shell::PrintButton label=|t| t.lab.print_manifest secondary=true/></span>
                {next}
            </div>
        </article>
    }
}
