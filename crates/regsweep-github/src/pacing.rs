//! Pacing requests so GitHub's limits are rarely hit: for reads a token bucket of
//! points per minute per endpoint (GET/HEAD 1 point); for writes (5 points) a
//! sliding-window log per endpoint, spread evenly, at a pace learnt from the answers
//! (`window.rs`: a limited write teaches the ceiling and the pace holds just below
//! it, raised after quiet windows and probed slowly); `regsweep-transport`'s adaptive
//! concurrency (halved when a secondary limit starts a pause, GitHub's signal of too
//! many concurrent requests, and restored slowly after), and a shared pause every
//! request honours once any of them hit a limit.
//!
//! When the primary window resets within the longest accepted wait (or its reset is
//! being waited out), [`Limiter::snapshot`] counts the next window's budget too:
//! requests beyond this window's are sent after the reset, so a budget check must
//! not read a nearly spent window as "nothing left".
//!
//! Every wait is a `tokio::time::sleep` in the caller's future, and no lock is held
//! across it: dropping the future cancels the wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use regsweep_transport::{AdaptiveConcurrency, Permit};
use reqwest::header::HeaderMap;
use reqwest::Method;

use crate::ratelimit::{wait_for, Limited, RateLimitSnapshot, RESET_MARGIN};
use crate::urls::Endpoint;
use crate::window::WritePacer;

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
///
/// A request that has to wait waits for [`READ_BATCH`] points, not only its own, so
/// a paced listing sends its pages a few at a time, at the same pace on average: the
/// process wakes once a batch instead of once a page (on this project's virtual
/// machine each wake from idle cost about 1 ms of CPU, 20 times the page's parsing;
/// a 100,000-version `plan` run on its own went from about 1.0 s to 0.6 to 0.9 s).
#[derive(Clone, Debug)]
pub struct Bucket {
    capacity: f64,
    tokens: f64,
    per_sec: f64,
    last: Instant,
}

/// The points a waiting request waits for (see [`Bucket`]): 16, 1.33 s at the
/// default 720 points a minute. A listing whose answers come slower than the pace
/// (GitHub's, over a real network) never waits, so never batches.
pub const READ_BATCH: f64 = 16.0;

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
        // A millionth of a point of slack: a wait turned into a `Duration` and back
        // may fall just short of the points it waited for.
        if self.tokens + 1e-6 >= cost {
            self.tokens -= cost;
            Ok(())
        } else {
            let missing = cost.max(READ_BATCH).min(self.capacity) - self.tokens;
            Err(Duration::from_secs_f64(missing / self.per_sec).max(Duration::from_millis(1)))
        }
    }
}

/// Pacing budgets, from the client configuration.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    pub read_points_per_minute: u32,
    /// The highest write pace (points per window).
    pub write_points_per_minute: u32,
    /// The write pace to start at (e.g. remembered from the last run); capped at
    /// `write_points_per_minute`.
    pub start_write_points_per_minute: u32,
    /// The ceiling remembered from the last run: the points a window held when a
    /// write was limited.
    pub write_ceiling: Option<u32>,
    /// The write pacing window: GitHub's minute (shorter against a time-scaled
    /// emulator).
    pub pace_window: Duration,
    pub concurrency: usize,
    /// The longest primary-limit wait the client accepts (`ClientConfig::max_wait`).
    pub max_wait: Duration,
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
    writes: Mutex<WritePacer<Endpoint>>,
    wrote: AtomicBool,
    paused_until: Mutex<Option<Instant>>,
    consecutive_secondary: AtomicU32,
    snapshot: Mutex<Option<RateLimitSnapshot>>,
    /// The reset of the primary window being waited out, if any.
    waiting_for_reset: Mutex<Option<Timestamp>>,
    permits: AdaptiveConcurrency,
}

impl Limiter {
    pub fn new(budgets: Budgets) -> Self {
        Limiter {
            budgets,
            buckets: Mutex::new(HashMap::new()),
            writes: Mutex::new(WritePacer::new(
                budgets.write_points_per_minute,
                budgets.start_write_points_per_minute,
                budgets.write_ceiling,
                budgets.pace_window,
                Instant::now(),
            )),
            wrote: AtomicBool::new(false),
            paused_until: Mutex::new(None),
            consecutive_secondary: AtomicU32::new(0),
            snapshot: Mutex::new(None),
            waiting_for_reset: Mutex::new(None),
            permits: AdaptiveConcurrency::new(budgets.concurrency),
        }
    }

    /// Waits until a request to `endpoint` may be sent: no shared pause, points in
    /// the endpoint's bucket, and a free concurrency slot (held by the returned
    /// permit until the response is read). Returns the permit and the instant the
    /// points were taken (for [`Limiter::on_limited`]).
    pub async fn admit(&self, endpoint: Endpoint, method: &Method) -> (Permit, Instant) {
        let cost = points(method);
        loop {
            self.wait_out_pause().await;
            let taken = loop {
                let now = Instant::now();
                let wait = if cost == 1 {
                    let per_minute = self.budgets.read_points_per_minute;
                    let mut buckets = lock(&self.buckets);
                    let bucket = buckets
                        .entry(endpoint)
                        .or_insert_with(|| Bucket::new(per_minute, now));
                    bucket.try_take(cost, now)
                } else {
                    self.wrote.store(true, Ordering::Relaxed);
                    lock(&self.writes).try_take(endpoint, cost, now)
                };
                match wait {
                    Ok(()) => break now,
                    Err(wait) => tokio::time::sleep(wait).await,
                }
            };
            let permit = self.permits.acquire().await;
            if self.pause_remaining().is_none() {
                return (permit, taken);
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

    /// The last primary rate-limit headers seen. When that window resets within
    /// `max_wait` (or its reset is being waited out), `remaining` also counts the
    /// next window's `limit`: the budget reachable by waiting.
    pub fn snapshot(&self) -> Option<RateLimitSnapshot> {
        let mut snapshot = lock(&self.snapshot).clone()?;
        let waiting = *lock(&self.waiting_for_reset);
        let reset = Limited::Primary {
            reset: Some(snapshot.reset),
        };
        // The reset near enough that requests past this window wait for it.
        let near = wait_for(&reset, Timestamp::now(), 0) <= self.budgets.max_wait;
        let waited = waiting.is_some_and(|r| r.as_second() + 1 >= snapshot.reset.as_second());
        let turned = snapshot.reset <= Timestamp::now();
        if waited && turned {
            // The reset waited for has passed: a fresh budget.
            snapshot.remaining = snapshot.remaining.max(snapshot.limit);
        } else if waited || (near && !turned) {
            snapshot.remaining = snapshot.remaining.saturating_add(snapshot.limit);
        }
        Some(snapshot)
    }

    /// The write pace now (points per window), once a write was paced this run.
    pub fn write_pace(&self) -> Option<u32> {
        if !self.wrote.load(Ordering::Relaxed) {
            return None;
        }
        Some(lock(&self.writes).pace.current(Instant::now()))
    }

    /// The write ceiling learnt (or remembered), once a write was paced this run.
    pub fn write_ceiling(&self) -> Option<u32> {
        if !self.wrote.load(Ordering::Relaxed) {
            return None;
        }
        lock(&self.writes).pace.ceiling()
    }

    /// The concurrency limit now.
    pub fn concurrency(&self) -> usize {
        self.permits.limit()
    }

    /// A response that was not rate limited: the secondary back-off starts over, and
    /// a lowered concurrency creeps back up.
    pub fn on_success(&self) {
        self.consecutive_secondary.store(0, Ordering::Relaxed);
        if let Some(n) = self.permits.on_success() {
            tracing::debug!("concurrency raised back to {n}");
        }
    }

    /// Records that every request waits for the primary window ending at `reset`.
    fn wait_for_reset(&self, reset: Timestamp) {
        let mut slot = lock(&self.waiting_for_reset);
        if slot.is_none_or(|r| r < reset) {
            *slot = Some(reset);
        }
    }

    /// A response to a `method` request to `endpoint`, admitted at `sent`, that was
    /// rate limited: computes the wait and, unless it exceeds `max_wait` (then the
    /// caller gives up and nothing is paused), makes every request of this client
    /// wait with it. A limited write that starts the pause teaches the write pace
    /// (`WritePacer::limited`); any limited write is marked refused.
    pub fn on_limited(
        &self,
        limited: &Limited,
        (endpoint, method, sent): (Endpoint, &Method, Instant),
        now: Timestamp,
        max_wait: Duration,
    ) -> Pause {
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
        let write = points(method) > 1;
        let wait = wait_for(limited, now, consecutive);
        if write && (already.is_some() || !matches!(limited, Limited::Secondary { .. })) {
            lock(&self.writes).refused(&endpoint, sent);
        }
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
        drop(paused);
        match limited {
            Limited::Primary { reset: Some(reset) } => self.wait_for_reset(*reset),
            // A secondary limit starting a pause: GitHub's "too many concurrent
            // requests" (and points per minute) signal. Fewer at once from now on.
            Limited::Secondary { .. } if already.is_none() => {
                if write {
                    let (old, new) = lock(&self.writes).limited(&endpoint, sent, instant, until);
                    if new < old {
                        tracing::warn!(
                            "secondary rate limit: slowing deletions from {old} to {new} points a minute"
                        );
                    }
                }
                if let Some((old, new)) = self.permits.lower() {
                    tracing::warn!(
                        "secondary rate limit: lowering concurrency from {old} to {new} requests at once"
                    );
                }
            }
            _ => {}
        }
        Pause { wait, announce }
    }

    /// After a successful response showing `remaining: 0`, pause everyone until the
    /// reset instead of spending a request on a sure refusal. Returns the pause when
    /// one was started (to be logged), `None` otherwise (including a reset further
    /// away than `max_wait`: the next request will report it).
    pub fn pause_if_exhausted(&self, now: Timestamp, max_wait: Duration) -> Option<Duration> {
        let snapshot = lock(&self.snapshot).clone()?;
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
        drop(paused);
        self.wait_for_reset(snapshot.reset);
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::tests::{headers, ts, NOW};

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
        // For a batch of 16 points, not only the 5 (see `waiting_reads_go_in_batches`).
        assert!(wait > Duration::from_millis(1325) && wait < Duration::from_millis(1340));
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
        // Less at most the batch the minute's end cuts off.
        assert!(spent >= 900 - READ_BATCH as u32, "spent {spent}");
    }

    /// A request that waits is let through with a batch: the next ones of the
    /// batch go at once, and the pace over a minute is unchanged.
    #[test]
    fn waiting_reads_go_in_batches() {
        let start = Instant::now();
        let mut b = Bucket::new(720, start);
        while b.try_take(1, start).is_ok() {}
        let wait = b.try_take(1, start).unwrap_err();
        // 16 points at 12 a second.
        assert!(wait > Duration::from_millis(1325) && wait < Duration::from_millis(1340));
        let t = start + wait;
        for i in 0..READ_BATCH as usize {
            assert!(b.try_take(1, t).is_ok(), "read {i} of the batch waits");
        }
        assert!(b.try_take(1, t).is_err(), "the batch is 16");
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
            start_write_points_per_minute: 720,
            write_ceiling: None,
            pace_window: Duration::from_secs(60),
            concurrency: 2,
            max_wait: Duration::from_secs(900),
        })
    }

    #[test]
    fn limiter_doubles_on_consecutive_secondary_and_resets_on_success() {
        let l = limiter();
        let limited = Limited::Secondary {
            retry_after: Some(Duration::from_millis(1)),
        };
        let max = Duration::from_secs(3600);
        let p1 = l.on_limited(
            &limited,
            (Endpoint::ListVersions, &Method::GET, Instant::now()),
            ts(NOW),
            max,
        );
        assert_eq!(p1.wait, Duration::from_secs(1));
        assert!(p1.announce);
        // Pause has not ended: a concurrent hit shares it without doubling.
        let p2 = l.on_limited(
            &limited,
            (Endpoint::ListVersions, &Method::GET, Instant::now()),
            ts(NOW),
            max,
        );
        assert_eq!(p2.wait, Duration::from_secs(1));
        assert!(!p2.announce);
        // After the pause, another hit doubles.
        *lock(&l.paused_until) = None;
        let p3 = l.on_limited(
            &limited,
            (Endpoint::ListVersions, &Method::GET, Instant::now()),
            ts(NOW),
            max,
        );
        assert_eq!(p3.wait, Duration::from_secs(2));
        *lock(&l.paused_until) = None;
        l.on_success();
        let p4 = l.on_limited(
            &limited,
            (Endpoint::ListVersions, &Method::GET, Instant::now()),
            ts(NOW),
            max,
        );
        assert_eq!(p4.wait, Duration::from_secs(1));
    }

    #[test]
    fn limiter_does_not_pause_beyond_max_wait() {
        let l = limiter();
        let p = l.on_limited(
            &Limited::Primary {
                reset: Some(ts(NOW + 3600)),
            },
            (Endpoint::ListVersions, &Method::GET, Instant::now()),
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
        // Resets beyond the longest wait: the raw headers are shown.
        let far = Timestamp::now().as_second() + 3600;
        let snap = |remaining: &str, reset: i64| {
            headers(&[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", remaining),
                ("x-ratelimit-reset", &reset.to_string()),
            ])
        };
        l.observe(&snap("51", far + 600));
        // An answer to an earlier request, read after the newer one.
        l.observe(&snap("52", far + 600));
        assert_eq!(l.snapshot().unwrap().remaining, 51);
        // Rounding of the same window's reset is not a new window.
        l.observe(&snap("53", far + 601));
        assert_eq!(l.snapshot().unwrap().remaining, 51);
        l.observe(&snap("50", far + 600));
        assert_eq!(l.snapshot().unwrap().remaining, 50);
        // A new window: the budget really comes back.
        l.observe(&snap("4999", far + 4200));
        assert_eq!(l.snapshot().unwrap().remaining, 4999);
    }

    /// Regression: a reset 10 s away was waited out, yet the budget check read the
    /// spent window's `remaining: 0` and left everything for the next run.
    #[test]
    fn spent_window_within_max_wait_shows_the_next_budget() {
        let l = limiter();
        let now = Timestamp::now().as_second();
        let spent = |reset: i64| {
            headers(&[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset.to_string()),
            ])
        };
        l.observe(&spent(now + 10));
        assert_eq!(l.snapshot().unwrap().remaining, 5000);
        // Nearly spent: this window's rest and the next one.
        let l = limiter();
        l.observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", &(now + 10).to_string()),
        ]));
        assert_eq!(l.snapshot().unwrap().remaining, 5003);
        // A reset beyond the longest wait: nothing is coming back this run.
        let l = limiter();
        l.observe(&spent(now + 3600));
        assert_eq!(l.snapshot().unwrap().remaining, 0);
    }
}
