//! GitHub's rate limits: reading them, waiting them out, and pacing so they are
//! rarely hit. All rate-limit logic of this crate lives here.
//!
//! - Every response's `x-ratelimit-*` headers are read into a [`RateLimitSnapshot`].
//! - [`classify`] decides whether a 403/429 is the primary limit (remaining 0: wait
//!   until reset), a secondary limit (`retry-after`, or a body naming a secondary
//!   limit, or a bare 429: wait, doubling on consecutive hits), or a plain refusal
//!   that must not be retried.
//! - [`Limiter`] paces requests before they are sent: a token bucket of points per
//!   minute per endpoint (GET/HEAD 1 point, writes 5), a semaphore bounding concurrent
//!   requests, and a shared pause every request honours once any of them hit a limit.
//!
//! Every wait is a `tokio::time::sleep` in the caller's future, and no lock is held
//! across it: dropping the future cancels the wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::header::HeaderMap;
use reqwest::Method;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::urls::Endpoint;

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

/// `retry-after` as a duration: delay-seconds, or an HTTP date relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = header_str(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// The server's clock from the `Date` header (`Tue, 14 Nov 2023 22:13:20 GMT`), so
/// waits until `x-ratelimit-reset` do not depend on the local clock being right.
pub fn server_now(headers: &HeaderMap) -> Option<Timestamp> {
    let value = header_str(headers, "date")?;
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()
}

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

/// Points a request costs against GitHub's per-endpoint secondary limit.
pub fn points(method: &Method) -> u32 {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        1
    } else {
        5
    }
}

/// A token bucket: `per_minute` points refill continuously; up to a quarter minute's
/// worth (at least one write) can be spent at once, so no 60-second window sees more
/// than 1.25 × `per_minute` points (900 at the default 720: GitHub's limit).
#[derive(Clone, Debug)]
pub struct Bucket {
    capacity: f64,
    tokens: f64,
    per_sec: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(per_minute: u32, now: Instant) -> Self {
        let per_minute = f64::from(per_minute.max(1));
        let capacity = (per_minute / 4.0).max(5.0);
        Bucket {
            capacity,
            tokens: capacity,
            per_sec: per_minute / 60.0,
            last: now,
        }
    }

    /// Takes `cost` points, or says how long until they are available.
    pub fn try_take(&mut self, cost: u32, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.last = now;
        let cost = f64::from(cost).min(self.capacity);
        if self.tokens >= cost {
            self.tokens -= cost;
            Ok(())
        } else {
            let missing = cost - self.tokens;
            Err(Duration::from_secs_f64(missing / self.per_sec).max(Duration::from_millis(1)))
        }
    }
}

/// Pacing budgets, from the client configuration.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    pub read_points_per_minute: u32,
    pub write_points_per_minute: u32,
    pub concurrency: usize,
}

/// What [`Limiter::on_limited`] decided.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Pause {
    /// How long this request should wait before retrying.
    pub wait: Duration,
    /// Whether this hit started (or extended) the shared pause: log it once.
    pub announce: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The shared pacing state of one client.
#[derive(Debug)]
pub struct Limiter {
    budgets: Budgets,
    buckets: Mutex<HashMap<Endpoint, Bucket>>,
    paused_until: Mutex<Option<Instant>>,
    consecutive_secondary: AtomicU32,
    snapshot: Mutex<Option<RateLimitSnapshot>>,
    permits: Arc<Semaphore>,
}

impl Limiter {
    pub fn new(budgets: Budgets) -> Self {
        Limiter {
            budgets,
            buckets: Mutex::new(HashMap::new()),
            paused_until: Mutex::new(None),
            consecutive_secondary: AtomicU32::new(0),
            snapshot: Mutex::new(None),
            permits: Arc::new(Semaphore::new(budgets.concurrency.max(1))),
        }
    }

    /// Waits until a request to `endpoint` may be sent: no shared pause, points in
    /// the endpoint's bucket, and a free concurrency slot (held by the returned
    /// permit until the response is read).
    pub async fn admit(&self, endpoint: Endpoint, method: &Method) -> OwnedSemaphorePermit {
        let cost = points(method);
        loop {
            self.wait_out_pause().await;
            loop {
                let wait = {
                    let now = Instant::now();
                    let per_minute = if cost == 1 {
                        self.budgets.read_points_per_minute
                    } else {
                        self.budgets.write_points_per_minute
                    };
                    let mut buckets = lock(&self.buckets);
                    let bucket = buckets
                        .entry(endpoint)
                        .or_insert_with(|| Bucket::new(per_minute, now));
                    bucket.try_take(cost, now)
                };
                match wait {
                    Ok(()) => break,
                    Err(wait) => tokio::time::sleep(wait).await,
                }
            }
            // The semaphore is never closed; if it were, fall through unpaced.
            let permit = match Arc::clone(&self.permits).acquire_owned().await {
                Ok(p) => p,
                Err(_) => continue,
            };
            if self.pause_remaining().is_none() {
                return permit;
            }
            // A limit was hit while we queued: release the slot and wait it out.
        }
    }

    fn pause_remaining(&self) -> Option<Duration> {
        let until = (*lock(&self.paused_until))?;
        let now = Instant::now();
        (until > now).then(|| until - now)
    }

    async fn wait_out_pause(&self) {
        while let Some(left) = self.pause_remaining() {
            tokio::time::sleep(left).await;
        }
    }

    /// Records the rate-limit headers of a response, unless an answer to a later
    /// request already said more was used (see [`RateLimitSnapshot::supersedes`]).
    pub fn observe(&self, headers: &HeaderMap) {
        if let Some(snapshot) = RateLimitSnapshot::from_headers(headers) {
            let mut slot = lock(&self.snapshot);
            if slot.as_ref().is_none_or(|old| snapshot.supersedes(old)) {
                *slot = Some(snapshot);
            }
        }
    }

    /// The last primary rate-limit headers seen.
    pub fn snapshot(&self) -> Option<RateLimitSnapshot> {
        lock(&self.snapshot).clone()
    }

    /// A response that was not rate limited: the secondary back-off starts over.
    pub fn on_success(&self) {
        self.consecutive_secondary.store(0, Ordering::Relaxed);
    }

    /// A response that was rate limited: computes the wait and, unless it exceeds
    /// `max_wait` (then the caller gives up and nothing is paused), makes every
    /// request of this client wait with it.
    pub fn on_limited(&self, limited: &Limited, now: Timestamp, max_wait: Duration) -> Pause {
        let mut paused = lock(&self.paused_until);
        let instant = Instant::now();
        let already = paused.filter(|until| *until > instant);
        let consecutive = match (limited, already) {
            // A concurrent request already started this pause: share it, do not
            // double again for the same burst.
            (Limited::Secondary { .. }, Some(_)) => self
                .consecutive_secondary
                .load(Ordering::Relaxed)
                .saturating_sub(1),
            (Limited::Secondary { .. }, None) => {
                self.consecutive_secondary.fetch_add(1, Ordering::Relaxed)
            }
            _ => self.consecutive_secondary.load(Ordering::Relaxed),
        };
        let wait = wait_for(limited, now, consecutive);
        if wait > max_wait {
            return Pause {
                wait,
                announce: false,
            };
        }
        let until = instant + wait;
        let announce = match already {
            Some(existing) => until > existing + Duration::from_secs(1),
            None => true,
        };
        if already.is_none_or(|existing| until > existing) {
            *paused = Some(until);
        }
        Pause { wait, announce }
    }

    /// After a successful response showing `remaining: 0`, pause everyone until the
    /// reset instead of spending a request on a sure refusal. Returns the pause when
    /// one was started (to be logged), `None` otherwise (including a reset further
    /// away than `max_wait`: the next request will report it).
    pub fn pause_if_exhausted(&self, now: Timestamp, max_wait: Duration) -> Option<Duration> {
        let snapshot = self.snapshot()?;
        if snapshot.remaining > 0 {
            return None;
        }
        let wait = wait_for(
            &Limited::Primary {
                reset: Some(snapshot.reset),
            },
            now,
            0,
        );
        if wait > max_wait || wait <= RESET_MARGIN {
            return None;
        }
        let until = Instant::now() + wait;
        let mut paused = lock(&self.paused_until);
        if paused.is_some_and(|existing| existing + Duration::from_secs(1) >= until) {
            return None;
        }
        *paused = Some(until);
        Some(wait)
    }
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
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    const NOW: i64 = 1_700_000_000;

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
    fn points_per_method() {
        assert_eq!(points(&Method::GET), 1);
        assert_eq!(points(&Method::HEAD), 1);
        assert_eq!(points(&Method::DELETE), 5);
        assert_eq!(points(&Method::POST), 5);
        assert_eq!(points(&Method::PUT), 5);
        assert_eq!(points(&Method::PATCH), 5);
    }

    #[test]
    fn bucket_paces_to_budget() {
        let start = Instant::now();
        // 720 points a minute = 12 a second; capacity 180.
        let mut b = Bucket::new(720, start);
        for _ in 0..36 {
            assert!(b.try_take(5, start).is_ok());
        }
        let wait = b.try_take(5, start).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait < Duration::from_millis(420));
        // After the wait, the points are there.
        assert!(b.try_take(5, start + wait).is_ok());
        // Over a simulated minute, no more than capacity + budget is spent.
        let mut b = Bucket::new(720, start);
        let mut spent = 0u32;
        let mut t = start;
        while t < start + Duration::from_secs(60) {
            match b.try_take(1, t) {
                Ok(()) => spent += 1,
                Err(w) => t += w,
            }
        }
        assert!(spent <= 900, "spent {spent}");
        assert!(spent >= 890, "spent {spent}");
    }

    #[test]
    fn tiny_budget_still_admits_a_write() {
        let start = Instant::now();
        let mut b = Bucket::new(1, start);
        assert!(b.try_take(5, start).is_ok());
        assert!(b.try_take(5, start).is_err());
    }

    fn limiter() -> Limiter {
        Limiter::new(Budgets {
            read_points_per_minute: 720,
            write_points_per_minute: 720,
            concurrency: 2,
        })
    }

    #[test]
    fn limiter_doubles_on_consecutive_secondary_and_resets_on_success() {
        let l = limiter();
        let limited = Limited::Secondary {
            retry_after: Some(Duration::from_millis(1)),
        };
        let max = Duration::from_secs(3600);
        let p1 = l.on_limited(&limited, ts(NOW), max);
        assert_eq!(p1.wait, Duration::from_secs(1));
        assert!(p1.announce);
        // Pause has not ended: a concurrent hit shares it without doubling.
        let p2 = l.on_limited(&limited, ts(NOW), max);
        assert_eq!(p2.wait, Duration::from_secs(1));
        assert!(!p2.announce);
        // After the pause, another hit doubles.
        *lock(&l.paused_until) = None;
        let p3 = l.on_limited(&limited, ts(NOW), max);
        assert_eq!(p3.wait, Duration::from_secs(2));
        *lock(&l.paused_until) = None;
        l.on_success();
        let p4 = l.on_limited(&limited, ts(NOW), max);
        assert_eq!(p4.wait, Duration::from_secs(1));
    }

    #[test]
    fn limiter_does_not_pause_beyond_max_wait() {
        let l = limiter();
        let p = l.on_limited(
            &Limited::Primary {
                reset: Some(ts(NOW + 3600)),
            },
            ts(NOW),
            Duration::from_secs(900),
        );
        assert_eq!(p.wait, Duration::from_secs(3601));
        assert!(l.pause_remaining().is_none());
    }

    #[test]
    fn pause_if_exhausted_only_when_remaining_zero() {
        let l = limiter();
        let now = Timestamp::now().as_second();
        l.observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", &(now + 30).to_string()),
        ]));
        assert_eq!(
            l.pause_if_exhausted(ts(now), Duration::from_secs(900)),
            None
        );
        l.observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &(now + 30).to_string()),
        ]));
        assert_eq!(
            l.pause_if_exhausted(ts(now), Duration::from_secs(900)),
            Some(Duration::from_secs(31))
        );
        assert!(l.pause_remaining().is_some());
        // Already paused: not announced twice.
        assert_eq!(
            l.pause_if_exhausted(ts(now), Duration::from_secs(900)),
            None
        );
    }

    #[test]
    fn late_answer_does_not_raise_remaining() {
        let l = limiter();
        let snap = |remaining: &str, reset: i64| {
            headers(&[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", remaining),
                ("x-ratelimit-reset", &reset.to_string()),
            ])
        };
        l.observe(&snap("51", NOW + 600));
        // An answer to an earlier request, read after the newer one.
        l.observe(&snap("52", NOW + 600));
        assert_eq!(l.snapshot().unwrap().remaining, 51);
        // Rounding of the same window's reset is not a new window.
        l.observe(&snap("53", NOW + 601));
        assert_eq!(l.snapshot().unwrap().remaining, 51);
        l.observe(&snap("50", NOW + 600));
        assert_eq!(l.snapshot().unwrap().remaining, 50);
        // A new window: the budget really comes back.
        l.observe(&snap("4999", NOW + 4200));
        assert_eq!(l.snapshot().unwrap().remaining, 4999);
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
