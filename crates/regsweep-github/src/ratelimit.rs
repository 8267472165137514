//! GitHub's rate limits as its answers state them: reading them and deciding how
//! long to wait. Pacing requests so the limits are rarely hit is `pacing`.
//!
//! - Every response's `x-ratelimit-*` headers are read into a [`RateLimitSnapshot`].
//! - [`classify`] decides whether a 403/429 is the primary limit (remaining 0: wait
//!   until reset), a secondary limit (`retry-after`, or a body naming a secondary
//!   limit, or a bare 429: wait, doubling on consecutive hits), or a plain refusal
//!   that must not be retried; [`wait_for`] says how long.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderMap;

/// The shortest wait after a secondary limit without `retry-after` (GitHub: "at
/// least one minute").
pub const SECONDARY_MIN_WAIT: Duration = Duration::from_secs(60);
/// The longest wait doubling reaches on consecutive secondary limits (a larger
/// `retry-after` is still honoured).
pub const SECONDARY_MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Added to the primary reset time, so the retry lands after the window turned.
pub const RESET_MARGIN: Duration = Duration::from_secs(1);

/// The primary rate-limit headers of one response.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RateLimitSnapshot {
    pub limit: u64,
    pub remaining: u64,
    pub used: u64,
    /// When the window resets (`x-ratelimit-reset`, epoch seconds).
    pub reset: Timestamp,
    /// `core`, `search`, … (`core` when the header is absent).
    pub resource: String,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    header_str(headers, name).and_then(|v| v.parse().ok())
}

impl RateLimitSnapshot {
    /// Reads `x-ratelimit-limit/remaining/used/reset/resource`; `None` unless at
    /// least limit, remaining and reset are present and numeric.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let limit = header_u64(headers, "x-ratelimit-limit")?;
        let remaining = header_u64(headers, "x-ratelimit-remaining")?;
        let reset = header_u64(headers, "x-ratelimit-reset")?;
        let reset = Timestamp::from_second(i64::try_from(reset).ok()?).ok()?;
        let used = header_u64(headers, "x-ratelimit-used")
            .unwrap_or_else(|| limit.saturating_sub(remaining));
        let resource = header_str(headers, "x-ratelimit-resource")
            .unwrap_or("core")
            .to_string();
        Some(RateLimitSnapshot {
            limit,
            remaining,
            used,
            reset,
            resource,
        })
    }
}

impl RateLimitSnapshot {
    /// Whether this snapshot is later news than `old`: another resource or limit, a
    /// later window (GitHub's reset is fixed per window; a second of slack absorbs
    /// rounding), or the same window with at least as many requests used. Answers to
    /// concurrent requests arrive in any order; a late one must not raise `remaining`
    /// again, or budget checks would spend requests that are already gone.
    pub fn supersedes(&self, old: &RateLimitSnapshot) -> bool {
        self.resource != old.resource
            || self.limit != old.limit
            || self.reset.as_second() > old.reset.as_second() + 1
            || self.used >= old.used
    }
}

pub use regsweep_transport::{retry_after, server_now};

/// What a response says about rate limits.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Limited {
    /// Not rate limited (which includes a plain permission 403: never retried).
    No,
    /// The primary (hourly) budget is spent; it comes back at `reset`.
    Primary { reset: Option<Timestamp> },
    /// A secondary limit; GitHub asked for `retry_after` if it said so.
    Secondary { retry_after: Option<Duration> },
}

/// Classifies a response from its status, headers and body text.
///
/// Only 403 and 429 can be rate limits. In GitHub's order: `retry-after` present →
/// secondary; `x-ratelimit-remaining: 0` → primary; a body naming a secondary limit
/// (or abuse detection) → secondary; a bare 429 → secondary; anything else → not a
/// rate limit.
pub fn classify(status: u16, headers: &HeaderMap, body: &str, now: Timestamp) -> Limited {
    if status != 403 && status != 429 {
        return Limited::No;
    }
    if let Some(wait) = retry_after(headers, now) {
        return Limited::Secondary {
            retry_after: Some(wait),
        };
    }
    if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
        let reset = header_u64(headers, "x-ratelimit-reset")
            .and_then(|s| i64::try_from(s).ok())
            .and_then(|s| Timestamp::from_second(s).ok());
        return Limited::Primary { reset };
    }
    let body = body.to_ascii_lowercase();
    if body.contains("secondary rate limit") || body.contains("abuse detection") {
        return Limited::Secondary { retry_after: None };
    }
    if status == 429 {
        return Limited::Secondary { retry_after: None };
    }
    Limited::No
}

/// How long to wait after a limit. `consecutive` counts the secondary limits hit
/// just before this one without a success in between (0 for the first).
pub fn wait_for(limited: &Limited, now: Timestamp, consecutive: u32) -> Duration {
    match limited {
        Limited::No => Duration::ZERO,
        Limited::Primary { reset: Some(reset) } => {
            Duration::try_from(reset.duration_since(now)).unwrap_or(Duration::ZERO) + RESET_MARGIN
        }
        // remaining 0 without a reset time: behave like a secondary limit.
        Limited::Primary { reset: None } => secondary_wait(None, consecutive),
        Limited::Secondary { retry_after } => secondary_wait(*retry_after, consecutive),
    }
}

fn secondary_wait(retry_after: Option<Duration>, consecutive: u32) -> Duration {
    let base = retry_after
        .unwrap_or(SECONDARY_MIN_WAIT)
        .max(Duration::from_secs(1));
    let factor = 1u32.checked_shl(consecutive.min(16)).unwrap_or(u32::MAX);
    let doubled = base.saturating_mul(factor).min(SECONDARY_MAX_WAIT);
    doubled.max(base)
}

/// A duration for humans: `12m3s`, `1h0m5s`, `45s`, `0.3s`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{:.1}s", d.as_secs_f64());
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `20:15:03 UTC`.
pub fn human_time(t: Timestamp) -> String {
    format!("{} UTC", t.strftime("%H:%M:%S"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    pub(crate) fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    pub(crate) const NOW: i64 = 1_700_000_000;

    #[test]
    fn snapshot_from_headers() {
        let h = headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4990"),
            ("x-ratelimit-used", "10"),
            ("x-ratelimit-reset", "1700003600"),
            ("x-ratelimit-resource", "core"),
        ]);
        assert_eq!(
            RateLimitSnapshot::from_headers(&h),
            Some(RateLimitSnapshot {
                limit: 5000,
                remaining: 4990,
                used: 10,
                reset: ts(1_700_003_600),
                resource: "core".into(),
            })
        );
        // `used` and `resource` are optional.
        let h = headers(&[
            ("x-ratelimit-limit", "1000"),
            ("x-ratelimit-remaining", "400"),
            ("x-ratelimit-reset", "1700003600"),
        ]);
        let s = RateLimitSnapshot::from_headers(&h).unwrap();
        assert_eq!((s.used, s.resource.as_str()), (600, "core"));
        // Missing or malformed required headers: no snapshot.
        for bad in [
            headers(&[]),
            headers(&[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "1"),
            ]),
            headers(&[
                ("x-ratelimit-limit", "lots"),
                ("x-ratelimit-remaining", "1"),
                ("x-ratelimit-reset", "1700003600"),
            ]),
        ] {
            assert_eq!(RateLimitSnapshot::from_headers(&bad), None);
        }
    }

    #[test]
    fn classify_table() {
        let exhausted = [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000723"),
        ];
        let healthy = [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4000"),
            ("x-ratelimit-reset", "1700000723"),
        ];
        let secondary_body = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#;
        let primary_body = r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#;
        let permission_body = r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/packages/packages"}"#;
        let cases: Vec<(u16, HeaderMap, &str, Limited)> = vec![
            (
                403,
                headers(&exhausted),
                primary_body,
                Limited::Primary {
                    reset: Some(ts(1_700_000_723)),
                },
            ),
            (
                429,
                headers(&exhausted),
                primary_body,
                Limited::Primary {
                    reset: Some(ts(1_700_000_723)),
                },
            ),
            (
                403,
                headers(&[("x-ratelimit-remaining", "0")]),
                "",
                Limited::Primary { reset: None },
            ),
            (
                403,
                headers(&[("retry-after", "30")]),
                "",
                Limited::Secondary {
                    retry_after: Some(Duration::from_secs(30)),
                },
            ),
            // retry-after wins over remaining 0 (GitHub's order).
            (
                429,
                headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "0")]),
                "",
                Limited::Secondary {
                    retry_after: Some(Duration::from_secs(7)),
                },
            ),
            (
                403,
                headers(&healthy),
                secondary_body,
                Limited::Secondary { retry_after: None },
            ),
            (
                403,
                headers(&[]),
                r#"{"message":"You have triggered an abuse detection mechanism."}"#,
                Limited::Secondary { retry_after: None },
            ),
            (
                429,
                headers(&[]),
                "",
                Limited::Secondary { retry_after: None },
            ),
            // A plain permission 403: never a rate limit.
            (403, headers(&healthy), permission_body, Limited::No),
            (403, headers(&[]), permission_body, Limited::No),
            // Other statuses are never rate limits, whatever the headers.
            (200, headers(&exhausted), "", Limited::No),
            (400, headers(&[("retry-after", "3")]), "", Limited::No),
            (
                502,
                headers(&[("retry-after", "3")]),
                secondary_body,
                Limited::No,
            ),
        ];
        for (status, h, body, want) in cases {
            assert_eq!(
                classify(status, &h, body, ts(NOW)),
                want,
                "status {status} headers {h:?} body {body}"
            );
        }
    }

    #[test]
    fn server_clock_from_date_header() {
        let h = headers(&[("date", "Tue, 14 Nov 2023 22:13:20 GMT")]);
        assert_eq!(server_now(&h), Some(ts(NOW)));
        assert_eq!(server_now(&headers(&[("date", "yesterday")])), None);
        assert_eq!(server_now(&headers(&[])), None);
    }

    #[test]
    fn retry_after_http_date() {
        let h = headers(&[("retry-after", "Tue, 14 Nov 2023 22:15:00 GMT")]);
        assert_eq!(retry_after(&h, ts(NOW)), Some(Duration::from_secs(100)));
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(retry_after(&h, ts(NOW)), None);
    }

    #[test]
    fn wait_table() {
        let s = Duration::from_secs;
        let cases: Vec<(Limited, u32, Duration)> = vec![
            // Primary: until reset, plus a second.
            (
                Limited::Primary {
                    reset: Some(ts(NOW + 723)),
                },
                0,
                s(724),
            ),
            // Reset already passed: just the margin.
            (
                Limited::Primary {
                    reset: Some(ts(NOW - 5)),
                },
                3,
                s(1),
            ),
            (Limited::Primary { reset: None }, 0, s(60)),
            // Secondary with retry-after: as asked, doubling on consecutive hits.
            (
                Limited::Secondary {
                    retry_after: Some(s(30)),
                },
                0,
                s(30),
            ),
            (
                Limited::Secondary {
                    retry_after: Some(s(30)),
                },
                1,
                s(60),
            ),
            (
                Limited::Secondary {
                    retry_after: Some(s(30)),
                },
                2,
                s(120),
            ),
            // Without retry-after: at least a minute, doubling, bounded.
            (Limited::Secondary { retry_after: None }, 0, s(60)),
            (Limited::Secondary { retry_after: None }, 1, s(120)),
            (Limited::Secondary { retry_after: None }, 3, s(480)),
            (Limited::Secondary { retry_after: None }, 4, s(900)),
            (Limited::Secondary { retry_after: None }, 40, s(900)),
            // A retry-after above the bound is still honoured.
            (
                Limited::Secondary {
                    retry_after: Some(s(3600)),
                },
                2,
                s(3600),
            ),
            // retry-after: 0 still waits a second.
            (
                Limited::Secondary {
                    retry_after: Some(s(0)),
                },
                0,
                s(1),
            ),
            (Limited::No, 5, Duration::ZERO),
        ];
        for (limited, consecutive, want) in cases {
            assert_eq!(
                wait_for(&limited, ts(NOW), consecutive),
                want,
                "{limited:?} consecutive {consecutive}"
            );
        }
    }

    #[test]
    fn human_formats() {
        assert_eq!(human_duration(Duration::from_secs(723)), "12m3s");
        assert_eq!(human_duration(Duration::from_secs(3605)), "1h0m5s");
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_millis(300)), "0.3s");
        assert_eq!(human_time(ts(1_700_000_103)), "22:15:03 UTC");
    }
}
