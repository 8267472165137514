//! Counters and the request log: what clients asked, how it was answered, which limits
//! and faults fired, and the highest concurrency seen.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// Counters since the emulator started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// Every request, API and registry surface (not `/_sim/…`).
    pub requests: u64,
    /// Per `METHOD /route/{template}`.
    pub by_route: BTreeMap<String, u64>,
    /// Per status code answered (dropped connections are not here).
    pub by_status: BTreeMap<u16, u64>,
    /// 403 answers for the primary rate limit.
    pub primary_limited: u64,
    /// 403 answers for a secondary rate limit (points or concurrency), and the 429
    /// answers of the undisclosed DELETE limit.
    pub secondary_limited: u64,
    /// Of `secondary_limited`, the 429 answers of the undisclosed DELETE limit
    /// (`SimOptions::undisclosed_deletes_per_minute`).
    pub undisclosed_limited: u64,
    /// Answers that were injected faults (fail_next, error_rate).
    pub faults_injected: u64,
    /// Connections closed without an answer (drop_rate).
    pub dropped: u64,
    /// Highest number of API requests in flight at once.
    pub max_concurrent: u32,
}

/// One request as the emulator saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query, as received.
    pub path: String,
    /// The route template, e.g. `DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}`.
    pub route: String,
    /// `None` when the connection was dropped.
    pub status: Option<u16>,
    /// `classic`, `actions`, `registry`, `anonymous` or `invalid`.
    pub token_kind: String,
}

/// What the stats say a request ended as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Normal,
    Primary,
    Secondary,
    /// The undisclosed DELETE limit (counted as secondary too).
    Undisclosed,
    Fault,
    Dropped,
}

#[derive(Default)]
struct Inner {
    stats: SimStats,
    log: Vec<LoggedRequest>,
}

/// Shared recorder.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    inner: Arc<Mutex<Inner>>,
    in_flight: Arc<AtomicU32>,
}

/// Decrements the in-flight count when dropped.
pub(crate) struct InFlight {
    counter: Arc<AtomicU32>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Recorder {
    /// Counts one more API request in flight.
    pub fn enter(&self) -> InFlight {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut g) = self.inner.lock() {
            g.stats.max_concurrent = g.stats.max_concurrent.max(now);
        }
        InFlight {
            counter: self.in_flight.clone(),
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub fn record(&self, req: LoggedRequest, outcome: Outcome) {
        let Ok(mut g) = self.inner.lock() else {
            return;
        };
        let s = &mut g.stats;
        s.requests += 1;
        *s.by_route.entry(req.route.clone()).or_default() += 1;
        if let Some(status) = req.status {
            *s.by_status.entry(status).or_default() += 1;
        }
        match outcome {
            Outcome::Normal => {}
            Outcome::Primary => s.primary_limited += 1,
            Outcome::Secondary => s.secondary_limited += 1,
            Outcome::Undisclosed => {
                s.secondary_limited += 1;
                s.undisclosed_limited += 1;
            }
            Outcome::Fault => s.faults_injected += 1,
            Outcome::Dropped => s.dropped += 1,
        }
        g.log.push(req);
    }

    pub fn stats(&self) -> SimStats {
        self.inner
            .lock()
            .map(|g| g.stats.clone())
            .unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.inner.lock().map(|g| g.log.clone()).unwrap_or_default()
    }
}
