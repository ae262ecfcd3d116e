//! Times on screen, as the interface language writes them.

use super::FacilityClock;
use crate::i18n::use_i18n;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// An instant to the second, for records (the audit trail, emergency accesses): the
/// facility's day in the interface language's way and its time of day, with the UTC
/// instant for machines in `datetime`.
#[component]
pub fn Stamp(clock: FacilityClock, at: DateTime<Utc>) -> impl IntoView {
    let i18n = use_i18n();
    let (day, time) = (clock.day_of(at), clock.time_to_the_second(at));
    view! {
        <time datetime=crate::time::utc_stamp(at)>{move || format!("{} {time}", (i18n.t().date)(day))}</time>
    }
}
