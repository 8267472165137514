//! Counters of what the client did: requests by endpoint and status, retries,
//! rate-limit waits. Read by the binary for reports and benchmarks.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::urls::Endpoint;

/// A copy of the client's counters.
#[derive(Clone, PartialEq, Debug, Default, Serialize)]
pub struct ClientStats {
    /// Requests sent (every attempt, including retries).
    pub requests: u64,
    /// Requests by `"METHOD endpoint"`, e.g. `"GET list_versions"`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Answers by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Attempts that got no answer (connection error, timeout).
    pub transport_errors: u64,
    /// Attempts repeated after a 5xx or a transport error.
    pub retries: u64,
    /// Waits for a rate limit (primary or secondary), and their total length.
    pub rate_limit_waits: u64,
    pub rate_limit_wait_seconds: f64,
    /// Answers that said the primary budget was spent.
    pub primary_limit_hits: u64,
    /// Answers that said a secondary limit was hit.
    pub secondary_limit_hits: u64,
}

impl ClientStats {
    /// Requests sent with `method` to `endpoint`.
    pub fn count(&self, method: &str, endpoint: Endpoint) -> u64 {
        self.by_endpoint
            .get(&format!("{method} {endpoint}"))
            .copied()
            .unwrap_or(0)
    }

    /// Answers with `status`.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// The shared, updatable counters.
#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<ClientStats>);

impl Recorder {
    fn with(&self, f: impl FnOnce(&mut ClientStats)) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    pub fn request(&self, method: &str, endpoint: Endpoint, status: Option<u16>) {
        self.with(|s| {
            s.requests += 1;
            *s.by_endpoint
                .entry(format!("{method} {endpoint}"))
                .or_default() += 1;
            match status {
                Some(code) => *s.by_status.entry(code).or_default() += 1,
                None => s.transport_errors += 1,
            }
        });
    }

    pub fn retry(&self) {
        self.with(|s| s.retries += 1);
    }

    pub fn limit_hit(&self, primary: bool) {
        self.with(|s| {
            if primary {
                s.primary_limit_hits += 1
            } else {
                s.secondary_limit_hits += 1
            }
        });
    }

    pub fn waited(&self, wait: Duration) {
        self.with(|s| {
            s.rate_limit_waits += 1;
            s.rate_limit_wait_seconds += wait.as_secs_f64();
        });
    }

    pub fn snapshot(&self) -> ClientStats {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
