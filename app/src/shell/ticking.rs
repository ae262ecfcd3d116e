//! The browser's clock, ticking: what live countdowns add to the server's last reading.
//! During server rendering it reads 0 and never ticks.

use chrono::{DateTime, Duration as Span, Utc};
use leptos::prelude::*;
use std::time::Duration;

/// Milliseconds of the browser's clock, updated every `period` while the view lives.
pub fn browser_millis(period: Duration) -> ReadSignal<f64> {
    let (millis, set_millis) = signal(now_millis());
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(move || set_millis.set(now_millis()), period) {
        on_cleanup(move || handle.clear());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_millis, period);
    millis
}

/// The browser's clock now, in milliseconds; 0 during server rendering.
pub fn now_millis() -> f64 {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    let now = 0.0;
    now
}

/// The server's time `server_now`, read when the browser's clock said `read_at`, moved on
/// by what the browser's clock says now.
pub fn moved_on(server_now: DateTime<Utc>, read_at: f64, browser_now: f64) -> DateTime<Utc> {
    let elapsed = (browser_now - read_at).max(0.0);
    // A browser clock that jumps (sleep, a changed time zone) moves the countdown by at
    // most a day: the next reading from the server corrects it.
    let elapsed = elapsed.min(86_400_000.0) as i64;
    server_now + Span::milliseconds(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_time_moves_on_with_the_browsers_clock() {
        let server_now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        assert_eq!(
            moved_on(server_now, 1_000.0, 61_000.0),
            server_now + Span::minutes(1)
        );
        // A clock that went backwards does not count down backwards.
        assert_eq!(moved_on(server_now, 61_000.0, 1_000.0), server_now);
        assert_eq!(moved_on(server_now, 0.0, 1e12), server_now + Span::days(1));
    }
}
