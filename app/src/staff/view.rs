//! Each person's presence buttons: on their own account page, and on the supervisors'
//! rows for others.

use super::{SetPresence, StaffPresence};
use crate::i18n::use_i18n;
use crate::live::{use_live, Topic};
use crate::shell::{action_url, loaded, submit_with, ActionFeedback, SubmissionField};
use leptos::prelude::*;

/// Buttons to start a shift, take a break, or end the shift: in the first person on one's
/// own (`own`), in the third on a supervisor's row for someone else. The action belongs
/// to the page: the row it is on is redrawn when the change comes back over the live link,
/// possibly before the server's answer.
#[component]
pub fn PresenceButtons(
    staff_member_id: i64,
    current: StaffPresence,
    action: ServerAction<SetPresence>,
    own: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let buttons = StaffPresence::ALL
        .iter()
        .filter(|p| **p != current)
        .map(|presence| {
            let presence = *presence;
            let submit = submit_with(action, move |_| SetPresence {
                staff_member_id,
                presence: presence.code().to_owned(),
            });
            view! {
                <form method="post" action={action_url::<SetPresence>()} on:submit=submit>
                    <SubmissionField/>
                    <input type="hidden" name="staff_member_id" value=staff_member_id/>
                    <input type="hidden" name="presence" value=presence.code()/>
                    <button type="submit" class="button secondary" data-presence=presence.code()>
                        {move || {
                            let t = i18n.t();
                            if own { (t.back_office.presence_change)(presence) } else { (t.back_office.presence_set)(presence) }
                        }}
                    </button>
                </form>
            }
        })
        .collect_view();
    view! { <div class="button-row">{buttons}</div> }
}

/// One's own presence, on one's account page: start or resume the shift, take a break,
/// end it.
#[component]
pub fn MyPresence() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let action = ServerAction::<SetPresence>::new();
    let mine = Resource::new(
        move || (live.changes(Topic::Rooms), action.version().get()),
        |_| super::my_presence(),
    );
    view! {
        <section aria-labelledby="my-presence-title">
            <h2 id="my-presence-title">{move || i18n.t().back_office.my_presence_title}</h2>
            <ActionFeedback action/>
            {loaded(mine, move |mine| mine.map(|(staff_member_id, current)| view! {
                <p class="my-presence" data-presence=current.code()>{move || (i18n.t().back_office.presence)(current)}</p>
                <PresenceButtons staff_member_id current action own=true/>
            }))}
        </section>
    }
}
