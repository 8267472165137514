//! Injected faults: latency, dropped connections, 502/503 answers at a rate, and the
//! deterministic `fail_next` answers tests ask for (API and registry surface), and the
//! echo of presented credentials in answers. Seeded, so runs repeat. Also hands out
//! the hostile-listing settings (entry rewrites, forbidden packages) that `api.rs`
//! applies to its answers.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use base64::Engine;

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

    /// The entry rewrites and forbidden packages configured now.
    pub fn hostile(&self) -> (Vec<crate::options::CorruptEntry>, Vec<String>) {
        match self.inner.lock() {
            Ok(g) => (g.0.corrupt_entries.clone(), g.0.forbidden_packages.clone()),
            Err(_) => Default::default(),
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

    /// The status to answer a registry request with, if `registry_fail_next` matches,
    /// and the challenge of a 401.
    pub fn decide_registry(&self, method: &str, path: &str) -> Option<(u16, Option<String>)> {
        let mut g = self.inner.lock().ok()?;
        let config = &mut g.0;
        let status = take(&mut config.registry_fail_next, method, path)?;
        Some((status, config.registry_challenge.clone()))
    }

    /// Whether answers echo the presented credentials.
    pub fn echo_credentials(&self) -> bool {
        self.inner
            .lock()
            .map(|g| g.0.echo_credentials)
            .unwrap_or(false)
    }
}

/// What a request presented, for [`echo`]: the `Authorization` value and the
/// credential in it (a bearer or `token` value, or Basic's decoded `user:password`).
fn presented(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .trim()
        .to_string();
    let (scheme, rest) = value.split_once(' ')?;
    let credential = if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        String::from_utf8_lossy(&raw).into_owned()
    } else {
        rest.trim().to_string()
    };
    Some((value, credential))
}

/// With `echo_credentials`: `resp` carrying the credentials `headers` presented (see
/// [`FaultConfig::echo_credentials`]).
pub(crate) async fn echo(resp: Response, headers: &HeaderMap) -> Response {
    let Some((value, credential)) = presented(headers) else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    if let Ok(v) = HeaderValue::from_str(&value) {
        parts.headers.insert("x-sim-echoed-authorization", v);
    }
    if parts.status.as_u16() < 400 {
        return Response::from_parts(parts, body);
    }
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let echoed = format!(" (you presented `Authorization: {value}`, credential `{credential}`)");
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut doc) => {
            append_to_messages(&mut doc, &echoed);
            serde_json::to_vec(&doc).unwrap_or_default()
        }
        Err(_) => [&bytes[..], echoed.as_bytes()].concat(),
    };
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(body))
}

/// Appends `text` to GitHub's `message` and to each registry `errors[].message`
/// (adding `message` when there is none).
fn append_to_messages(doc: &mut serde_json::Value, text: &str) {
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    if let Some(errors) = obj.get_mut("errors").and_then(|e| e.as_array_mut()) {
        for e in errors.iter_mut().filter_map(|e| e.as_object_mut()) {
            let m = e
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("")
                .to_string();
            e.insert("message".into(), format!("{m}{text}").into());
        }
        return;
    }
    let m = obj
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string();
    obj.insert("message".into(), format!("{m}{text}").into());
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
    fn registry_fail_next_is_separate_from_the_api() {
        let f = Faults::new(FaultConfig {
            registry_fail_next: Some(FailNext {
                count: 1,
                status: 401,
                method: None,
                path_contains: Some("/manifests/".into()),
            }),
            registry_challenge: Some("Basic realm=\"x\"".into()),
            ..FaultConfig::default()
        });
        assert_eq!(f.decide("GET", "/v2/a/b/manifests/v1").1, Fault::None);
        assert_eq!(f.decide_registry("GET", "/v2/a/b/blobs/x"), None);
        assert_eq!(
            f.decide_registry("GET", "/v2/a/b/manifests/v1"),
            Some((401, Some("Basic realm=\"x\"".into())))
        );
        assert_eq!(f.decide_registry("GET", "/v2/a/b/manifests/v1"), None);
    }

    #[test]
    fn presented_credentials_are_read_from_authorization() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer abc123"));
        assert_eq!(
            presented(&h),
            Some(("Bearer abc123".into(), "abc123".into()))
        );
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("me:pw1234")
        );
        h.insert("authorization", HeaderValue::from_str(&basic).unwrap());
        assert_eq!(presented(&h), Some((basic, "me:pw1234".into())));
    }

    #[test]
    fn echo_is_appended_to_messages() {
        let mut doc = serde_json::json!({"errors": [{"code": "X", "message": "m"}]});
        append_to_messages(&mut doc, " +e");
        assert_eq!(doc["errors"][0]["message"], "m +e");
        let mut doc = serde_json::json!({"message": "Not Found"});
        append_to_messages(&mut doc, " +e");
        assert_eq!(doc["message"], "Not Found +e");
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
