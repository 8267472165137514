//! Settings of one emulator run: rate limits, time scale and injected faults.
//!
//! Plain data, serialisable so the admin endpoint `PUT /_sim/faults` and the binary can
//! read them. No behaviour beyond defaults and small conversions.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the emulator behaves, apart from what the scenario holds.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// 1.0 = real time; 0.001 makes an hour pass in 3.6 s. Scales the rate-limit
    /// windows, reset times and `retry-after`.
    pub time_scale: f64,
    /// Primary limit per hour for classic tokens (GitHub: 5,000).
    pub primary_limit_classic: u32,
    /// Primary limit per hour for the Actions token (GitHub: 1,000).
    pub primary_limit_actions: u32,
    /// Secondary limit: points per minute per endpoint (GitHub: 900; GET = 1, DELETE/POST = 5).
    pub secondary_points_per_minute: u32,
    /// Secondary limit: concurrent requests (GitHub: 100).
    pub max_concurrent: u32,
    /// Faults injected into API requests.
    pub faults: FaultConfig,
    /// Leave out `Link` headers on list responses (GitHub sometimes does).
    pub omit_link_headers: bool,
    /// A frozen "now" for ages and deletion times; overrides the scenario's `now`.
    /// Default: the scenario's `now`, else the real clock.
    pub now: Option<jiff::Timestamp>,
    /// Port to listen on; `None` picks a free one.
    pub port: Option<u16>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            time_scale: 1.0,
            primary_limit_classic: 5000,
            primary_limit_actions: 1000,
            secondary_points_per_minute: 900,
            max_concurrent: 100,
            faults: FaultConfig::default(),
            omit_link_headers: false,
            now: None,
            port: None,
        }
    }
}

impl SimOptions {
    /// `real` scaled by `time_scale` (never below one millisecond).
    pub(crate) fn scaled(&self, real: Duration) -> Duration {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        };
        real.mul_f64(scale).max(Duration::from_millis(1))
    }
}

/// Faults injected into GitHub API requests (not into the registry surface).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of requests (0.0–1.0) answered 502 or 503.
    pub error_rate: f64,
    /// Delay added before every answer.
    #[serde(with = "duration_ms", rename = "latency_ms")]
    pub latency: Duration,
    /// Share of requests (0.0–1.0) whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Deterministic faults: the next `count` matching requests get `status`.
    pub fail_next: Option<FailNext>,
    /// Lost answers: the next `count` matching requests take effect (a DELETE
    /// deletes), then are answered `status` as if a proxy had failed after the fact.
    pub fail_after_next: Option<FailNext>,
    /// The next `count` matching requests have their connection closed without an
    /// answer (`status` is ignored); nothing takes effect.
    pub drop_next: Option<FailNext>,
    /// Seed of the random faults, so a run can be repeated.
    pub seed: u64,
}

/// The next `count` requests matching `method` and `path_contains` are answered `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailNext {
    pub count: u32,
    pub status: u16,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path_contains: Option<String>,
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_round_trip_as_json() {
        let f = FaultConfig {
            error_rate: 0.5,
            latency: Duration::from_millis(20),
            fail_next: Some(FailNext {
                count: 2,
                status: 502,
                method: Some("DELETE".into()),
                path_contains: None,
            }),
            ..FaultConfig::default()
        };
        let text = serde_json::to_string(&f).unwrap();
        assert!(text.contains("\"latency_ms\":20"));
        let back: FaultConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, f);
        let partial: FaultConfig = serde_json::from_str(r#"{"error_rate":1.0}"#).unwrap();
        assert_eq!(partial.error_rate, 1.0);
    }

    #[test]
    fn scaling_never_reaches_zero() {
        let o = SimOptions {
            time_scale: 0.000001,
            ..SimOptions::default()
        };
        assert!(o.scaled(Duration::from_secs(1)) >= Duration::from_millis(1));
    }
}
