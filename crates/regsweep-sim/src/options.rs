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
    /// An undisclosed lower limit on DELETEs per token, over any sliding minute, as
    /// GitHub applies to container deletions: past it a DELETE is answered 429 with
    /// `retry-after` (until enough of the minute's deletions have left the window),
    /// and no `x-ratelimit-*` header tells it. `None` (the default): only the
    /// documented limits.
    pub undisclosed_deletes_per_minute: Option<u32>,
    /// Faults injected into API requests.
    pub faults: FaultConfig,
    /// Leave out `Link` headers on list responses (GitHub sometimes does).
    pub omit_link_headers: bool,
    /// A frozen "now" for ages and deletion times; overrides the scenario's `now`.
    /// Default: the scenario's `now`, else the real clock.
    pub now: Option<jiff::Timestamp>,
    /// Port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// Delay before every answer of the registry surface (`/token`, `/v2/…`), as a
    /// round trip to GHCR costs (tens of milliseconds), so that reading many
    /// manifests is measured at a realistic pace. Not scaled by `time_scale`.
    pub registry_latency: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            time_scale: 1.0,
            primary_limit_classic: 5000,
            primary_limit_actions: 1000,
            secondary_points_per_minute: 900,
            max_concurrent: 100,
            undisclosed_deletes_per_minute: None,
            faults: FaultConfig::default(),
            omit_link_headers: false,
            now: None,
            port: None,
            registry_latency: Duration::ZERO,
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
    /// Deterministic faults of the registry surface (`/token`, `/v2/…`): the next
    /// `count` matching requests get `status`; a 401 carries `registry_challenge`.
    pub registry_fail_next: Option<FailNext>,
    /// `WWW-Authenticate` of an injected registry 401 (default: GHCR's Bearer
    /// challenge for the repository).
    pub registry_challenge: Option<String>,
    /// Echo the credentials a request presented, as a careless server does: every
    /// answer to a request with `Authorization` carries its value in the header
    /// `x-sim-echoed-authorization`, and error answers (4xx, 5xx) append it to their
    /// `message` with the token (or Basic `user:password`) it holds. For tests that
    /// no output shows a secret.
    pub echo_credentials: bool,
    /// Listed entries rewritten into shapes GitHub never sends (hostile listings).
    pub corrupt_entries: Vec<CorruptEntry>,
    /// Packages (names, case-insensitive) whose `GET` and versions listing answer a
    /// plain permission 403 (no rate-limit headers), as for a token without access.
    pub forbidden_packages: Vec<String>,
}

/// Rewrites one field of one listed entry: a version entry in the versions listing
/// of `package`, or with no `version_id` the package's own entry (in the package
/// listing and `GET` of the package).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorruptEntry {
    /// The package, by name (case-insensitive).
    pub package: String,
    /// The version whose entry to rewrite; `None`: the package entry.
    #[serde(default)]
    pub version_id: Option<u64>,
    /// A JSON pointer into the entry, e.g. `/metadata/container/tags`.
    pub pointer: String,
    /// The value to put there (`null` included), unless `remove`.
    #[serde(default)]
    pub value: serde_json::Value,
    /// Remove the field instead of setting it.
    #[serde(default)]
    pub remove: bool,
}

impl CorruptEntry {
    /// Whether this rewrite applies to the entry of `package` (and `version_id`).
    pub(crate) fn targets(&self, package: &str, version_id: Option<u64>) -> bool {
        self.package.eq_ignore_ascii_case(package) && self.version_id == version_id
    }

    /// Applies the rewrite to `entry`; a pointer whose parent is not an object or
    /// array leaves the entry as it is.
    pub(crate) fn apply(&self, entry: &mut serde_json::Value) {
        let (parent, key) = match self.pointer.rsplit_once('/') {
            Some(split) => split,
            None => return,
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        match entry.pointer_mut(parent) {
            Some(serde_json::Value::Object(map)) => {
                if self.remove {
                    map.remove(&key);
                } else {
                    map.insert(key, self.value.clone());
                }
            }
            Some(serde_json::Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if self.remove && i < items.len() {
                        items.remove(i);
                    } else if let Some(slot) = items.get_mut(i) {
                        *slot = self.value.clone();
                    }
                }
            }
            _ => {}
        }
    }
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
    fn corrupt_entries_set_null_or_remove() {
        let mut entry = serde_json::json!({"id": 1, "metadata": {"container": {"tags": ["a"]}}});
        let set = |pointer: &str, value, remove| CorruptEntry {
            package: "app".into(),
            version_id: Some(1),
            pointer: pointer.into(),
            value,
            remove,
        };
        set("/metadata/container/tags", serde_json::json!("a"), false).apply(&mut entry);
        assert_eq!(entry["metadata"]["container"]["tags"], "a");
        set("/metadata/container", serde_json::Value::Null, false).apply(&mut entry);
        assert!(entry["metadata"]["container"].is_null());
        set("/metadata", serde_json::Value::Null, true).apply(&mut entry);
        assert_eq!(entry, serde_json::json!({"id": 1}));
        assert!(set("/x", serde_json::Value::Null, false).targets("APP", Some(1)));
        assert!(!set("/x", serde_json::Value::Null, false).targets("app", None));
        let parsed: CorruptEntry =
            serde_json::from_str(r#"{"package":"app","version_id":1,"pointer":"/id","value":"1"}"#)
                .unwrap();
        assert_eq!(parsed.value, "1");
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
