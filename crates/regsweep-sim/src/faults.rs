//! Injected faults: latency, dropped connections, 502/503 answers at a rate, and the
//! deterministic `fail_next` answers tests ask for. Seeded, so runs repeat.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::options::{FailNext, FaultConfig};

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// Close the connection without an answer.
    Drop,
    /// Answer with this status.
    Fail(u16),
    /// Perform the request, then answer with this status instead of its answer.
    FailAfter(u16),
}

/// Whether `next` matches the request; counts it down (and clears it) when it does.
fn take(slot: &mut Option<FailNext>, method: &str, path: &str) -> Option<u16> {
    let next = slot.as_mut()?;
    let method_ok = next
        .method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case(method));
    let path_ok = next
        .path_contains
        .as_deref()
        .is_none_or(|p| path.contains(p));
    if next.count == 0 || !method_ok || !path_ok {
        return None;
    }
    next.count -= 1;
    let status = next.status;
    if next.count == 0 {
        *slot = None;
    }
    Some(status)
}

pub(crate) struct Faults {
    inner: Mutex<(FaultConfig, StdRng)>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Faults {
            inner: Mutex::new((config, rng)),
        }
    }

    /// Replaces the configuration (and reseeds).
    pub fn set(&self, config: FaultConfig) {
        if let Ok(mut g) = self.inner.lock() {
            let rng = StdRng::seed_from_u64(config.seed);
            *g = (config, rng);
        }
    }

    /// The latency to add and the fault (if any) for a request.
    pub fn decide(&self, method: &str, path: &str) -> (Duration, Fault) {
        let Ok(mut g) = self.inner.lock() else {
            return (Duration::ZERO, Fault::None);
        };
        let (config, rng) = &mut *g;
        let latency = config.latency;
        if let Some(status) = take(&mut config.fail_next, method, path) {
            return (latency, Fault::Fail(status));
        }
        if let Some(status) = take(&mut config.fail_after_next, method, path) {
            return (latency, Fault::FailAfter(status));
        }
        if take(&mut config.drop_next, method, path).is_some() {
            return (latency, Fault::Drop);
        }
        if config.drop_rate > 0.0 && rng.random_bool(config.drop_rate.clamp(0.0, 1.0)) {
            return (latency, Fault::Drop);
        }
        if config.error_rate > 0.0 && rng.random_bool(config.error_rate.clamp(0.0, 1.0)) {
            let status = if rng.random_bool(0.5) { 502 } else { 503 };
            return (latency, Fault::Fail(status));
        }
        (latency, Fault::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_matches_then_runs_out() {
        let f = Faults::new(FaultConfig {
            fail_next: Some(FailNext {
                count: 2,
                status: 502,
                method: Some("DELETE".into()),
                path_contains: Some("/versions/".into()),
            }),
            ..FaultConfig::default()
        });
        assert_eq!(f.decide("GET", "/x/versions/1").1, Fault::None);
        assert_eq!(f.decide("delete", "/x/versions/1").1, Fault::Fail(502));
        assert_eq!(f.decide("DELETE", "/x/versions/2").1, Fault::Fail(502));
        assert_eq!(f.decide("DELETE", "/x/versions/3").1, Fault::None);
    }

    #[test]
    fn fail_after_next_is_its_own_countdown() {
        let f = Faults::new(FaultConfig {
            fail_after_next: Some(FailNext {
                count: 1,
                status: 502,
                method: Some("DELETE".into()),
                path_contains: None,
            }),
            ..FaultConfig::default()
        });
        assert_eq!(f.decide("GET", "/x").1, Fault::None);
        assert_eq!(f.decide("DELETE", "/x").1, Fault::FailAfter(502));
        assert_eq!(f.decide("DELETE", "/x").1, Fault::None);
    }

    #[test]
    fn drop_next_closes_matching_connections() {
        let f = Faults::new(FaultConfig {
            drop_next: Some(FailNext {
                count: 1,
                status: 0,
                method: Some("DELETE".into()),
                path_contains: None,
            }),
            ..FaultConfig::default()
        });
        assert_eq!(f.decide("GET", "/x").1, Fault::None);
        assert_eq!(f.decide("DELETE", "/x").1, Fault::Drop);
        assert_eq!(f.decide("DELETE", "/x").1, Fault::None);
    }

    #[test]
    fn error_rate_one_always_fails() {
        let f = Faults::new(FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::default()
        });
        for _ in 0..20 {
            assert!(matches!(f.decide("GET", "/").1, Fault::Fail(502 | 503)));
        }
    }
}
