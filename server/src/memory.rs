//! Handing freed memory back to the system once live subscriptions stop coming and going,
//! and once password checks stop coming.
//!
//! An idle subscription holds a few KiB, but opening one passes through hyper's connection
//! buffers and the request's work (4-16 KiB each, freed once the WebSocket is upgraded).
//! glibc keeps what is freed between long-lived allocations inside its heap, so after a
//! reconnection storm (a server restart: every tablet at once) the server stayed 10-20 KiB
//! resident per subscriber instead of about 5. Once the storm has settled, `malloc_trim`
//! returns the free pages. Lowering glibc's mmap threshold would do it without a call, but
//! costs every allocation of that size a system call (measured: the HL7 importers lost a
//! third of their throughput), while a trim runs only after churn.
//!
//! Each password check (argon2id) allocates and frees 19 MiB; glibc then raises its mmap
//! threshold and keeps such blocks in the heap of whichever thread ran it, so a sign-in
//! burst left hundreds of MiB resident. The hashes finished count as churn too.

use plateau_app::live::EventBus;
use std::time::{Duration, Instant};

/// How often the churn is looked at: memory is returned 2-4 s after it stops moving.
const SETTLE: Duration = Duration::from_secs(2);
/// At most one trim in this long, so that a trickle of reconnecting tablets does not lock
/// glibc's arenas every few seconds.
const MIN_GAP: Duration = Duration::from_secs(10);

/// Decides, from one reading of the churn counter to the next, when to return memory:
/// after subscriptions came or went, at the first interval in which none did, and not
/// sooner than [`MIN_GAP`] after the last time.
#[derive(Debug, Default)]
struct ChurnWatch {
    seen: u64,
    moved: bool,
    last_trim: Option<Instant>,
}

impl ChurnWatch {
    /// `true` when the memory should be returned now.
    fn observe(&mut self, churn: u64, now: Instant) -> bool {
        if churn != self.seen {
            self.seen = churn;
            self.moved = true;
            return false;
        }
        let rested = self.last_trim.is_none_or(|at| now.duration_since(at) >= MIN_GAP);
        if !(self.moved && rested) {
            return false;
        }
        self.moved = false;
        self.last_trim = Some(now);
        true
    }
}

/// Subscriptions opened and closed, and password hashes finished, since start-up.
fn churn(bus: &EventBus) -> u64 {
    bus.churn() + plateau_app::auth::password::hashes_done()
}

/// Runs until the server shuts down: returns freed memory after start-up and after each
/// burst of churn.
pub async fn return_memory_after_churn(bus: EventBus) {
    // Start-up (migrations, the demo clinic, the password hasher's warm-up) freed a lot
    // too: the first look (at once, before the first request) returns it.
    let mut watch = ChurnWatch {
        seen: churn(&bus),
        moved: true,
        last_trim: None,
    };
    let mut closing = bus.closing();
    let mut every = tokio::time::interval(SETTLE);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = closing.changed() => return,
        }
        if watch.observe(churn(&bus), Instant::now()) {
            // It walks the heap with each arena locked in turn (about 9 ms for 48 MiB of
            // holes, less when little was freed): off the async workers, once per burst.
            let started = std::time::Instant::now();
            let _ = tokio::task::spawn_blocking(release_free_memory).await;
            tracing::debug!(took = ?started.elapsed(), "returned freed memory to the system");
        }
    }
}

/// Returns the whole free pages of the heap to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    // SAFETY: malloc_trim takes no pointers and touches only glibc's own free lists, under
    // its arena locks: it is thread-safe (not for a signal handler, where it is not called).
    // It returns nothing if another global allocator is ever installed.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory by themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_returned_once_the_churn_has_settled() {
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        let mut watch = ChurnWatch::default();
        assert!(!watch.observe(0, at(0)), "nothing happened yet");
        assert!(!watch.observe(500, at(2)), "subscriptions are still arriving");
        assert!(!watch.observe(900, at(4)), "still arriving");
        assert!(watch.observe(900, at(6)), "settled: return the memory");
        assert!(!watch.observe(900, at(8)), "once per burst");
        assert!(!watch.observe(901, at(10)), "one tablet left");
        assert!(
            !watch.observe(901, at(12)),
            "settled, but the last trim was 6 s ago"
        );
        assert!(watch.observe(901, at(16)), "10 s after the last trim");
        assert!(!watch.observe(901, at(40)), "nothing new since");
    }

    fn resident_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_default()
    }

    /// The situation after a reconnection storm: large short-lived buffers freed between
    /// small long-lived allocations. Trimming gives most of it back.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_buffers_between_live_allocations_are_returned() {
        let mut kept = Vec::new();
        let mut buffers = Vec::new();
        for i in 0..4000u32 {
            buffers.push(vec![i as u8; 12 * 1024]);
            kept.push(vec![i as u8; 64]);
        }
        drop(buffers);
        let before = resident_kib();
        release_free_memory();
        let after = resident_kib();
        assert!(
            before.saturating_sub(after) > 20 * 1024,
            "resident {before} KiB before the trim, {after} KiB after"
        );
        assert_eq!(kept.len(), 4000);
    }
}
