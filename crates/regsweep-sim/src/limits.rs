//! GitHub's rate limits: the primary limit per token per hour (a fixed window), the
//! secondary limits (points per minute per endpoint over any sliding minute, as
//! GitHub words it, and concurrent requests), and optionally an undisclosed lower
//! limit on DELETEs per token over any sliding minute (answered 429, as GitHub
//! answers container deletions), with windows scaled by the emulator's time scale.
//! Produces the `x-ratelimit-*` values for every answer; the undisclosed limit shows
//! in none of them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `x-ratelimit-*` values of one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    pub used: u32,
    /// Epoch seconds (real clock) when the window resets.
    pub reset: u64,
}

/// The verdict for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed(RateHeaders),
    Primary(RateHeaders),
    /// Secondary limit hit; wait this many whole seconds.
    Secondary(RateHeaders, u64),
    /// The undisclosed DELETE limit hit (429); wait this many whole seconds.
    Undisclosed(RateHeaders, u64),
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    used: u32,
}

impl Window {
    fn current(slot: &mut Option<Window>, len: Duration, now: Instant) -> &mut Window {
        let expired = slot.is_none_or(|w| now.duration_since(w.start) >= len);
        if expired {
            *slot = Some(Window {
                start: now,
                used: 0,
            });
        }
        slot.get_or_insert(Window {
            start: now,
            used: 0,
        })
    }
}

/// Limits for all tokens.
pub(crate) struct Limits {
    hour: Duration,
    minute: Duration,
    points_per_minute: u32,
    max_concurrent: u32,
    /// DELETEs per token over any sliding minute, undisclosed.
    undisclosed_deletes: Option<u32>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    primary: HashMap<String, Option<Window>>,
    /// Send times and points of the last minute, per token and endpoint.
    secondary: HashMap<(String, String), VecDeque<(Instant, u32)>>,
    /// Times of the DELETEs answered in the last minute, per token.
    deletes: HashMap<String, VecDeque<(Instant, u32)>>,
}

/// Drops the sends older than `minute` from `log`; if `cost` more would exceed
/// `limit` points, the wait until enough have left. Records nothing.
fn fits(
    log: &mut VecDeque<(Instant, u32)>,
    minute: Duration,
    limit: u32,
    cost: u32,
    now: Instant,
) -> Result<(), Duration> {
    while log
        .front()
        .is_some_and(|(at, _)| now.duration_since(*at) >= minute)
    {
        log.pop_front();
    }
    let used: u32 = log.iter().map(|(_, c)| c).sum();
    if used + cost > limit {
        let mut left = used;
        let mut wait = minute;
        for (at, c) in log.iter() {
            left -= c;
            if left + cost <= limit {
                wait = minute.saturating_sub(now.duration_since(*at));
                break;
            }
        }
        return Err(wait);
    }
    Ok(())
}

fn epoch_after(d: Duration) -> u64 {
    let at = SystemTime::now() + d;
    let secs = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    secs.as_secs() + u64::from(secs.subsec_nanos() > 0)
}

fn whole_secs_at_least_one(d: Duration) -> u64 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.max(1)
}

impl Limits {
    pub fn new(
        hour: Duration,
        minute: Duration,
        points_per_minute: u32,
        max_concurrent: u32,
    ) -> Self {
        Limits {
            hour,
            minute,
            points_per_minute,
            max_concurrent,
            undisclosed_deletes: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Adds the undisclosed limit: at most `per_minute` DELETEs per token over any
    /// sliding minute (`None`: no such limit).
    pub fn with_undisclosed_deletes(mut self, per_minute: Option<u32>) -> Self {
        self.undisclosed_deletes = per_minute;
        self
    }

    /// The current headers for `token` without spending anything (for `/rate_limit`).
    pub fn peek(&self, token: &str, limit: u32) -> RateHeaders {
        let now = Instant::now();
        let Ok(mut st) = self.state.lock() else {
            return RateHeaders {
                limit,
                remaining: limit,
                used: 0,
                reset: epoch_after(self.hour),
            };
        };
        let slot = st.primary.entry(token.to_string()).or_default();
        let w = *Window::current(slot, self.hour, now);
        headers(limit, w, self.hour, now)
    }

    /// Spends one request of `token`'s primary budget and `cost` points of its budget
    /// for `endpoint`; `in_flight` is the number of API requests being served now.
    pub fn check(
        &self,
        token: &str,
        limit: u32,
        endpoint: &str,
        cost: u32,
        in_flight: u32,
    ) -> Verdict {
        let now = Instant::now();
        let Ok(mut st) = self.state.lock() else {
            return Verdict::Allowed(RateHeaders {
                limit,
                remaining: limit,
                used: 0,
                reset: 0,
            });
        };
        let slot = st.primary.entry(token.to_string()).or_default();
        let w = Window::current(slot, self.hour, now);
        if w.used >= limit {
            let h = headers(limit, *w, self.hour, now);
            return Verdict::Primary(h);
        }
        w.used += 1;
        let h = headers(limit, *w, self.hour, now);
        if in_flight > self.max_concurrent {
            return Verdict::Secondary(h, whole_secs_at_least_one(self.minute / 60));
        }
        let log = st
            .secondary
            .entry((token.to_string(), endpoint.to_string()))
            .or_default();
        if let Err(wait) = fits(log, self.minute, self.points_per_minute, cost, now) {
            return Verdict::Secondary(h, whole_secs_at_least_one(wait));
        }
        if let (Some(limit), true) = (self.undisclosed_deletes, endpoint.starts_with("DELETE ")) {
            let deletes = st.deletes.entry(token.to_string()).or_default();
            if let Err(wait) = fits(deletes, self.minute, limit.max(1), 1, now) {
                return Verdict::Undisclosed(h, whole_secs_at_least_one(wait));
            }
            deletes.push_back((now, 1));
        }
        st.secondary
            .entry((token.to_string(), endpoint.to_string()))
            .or_default()
            .push_back((now, cost));
        Verdict::Allowed(h)
    }
}

fn headers(limit: u32, w: Window, len: Duration, now: Instant) -> RateHeaders {
    let left = len.saturating_sub(now.duration_since(w.start));
    RateHeaders {
        limit,
        remaining: limit.saturating_sub(w.used),
        used: w.used.min(limit),
        reset: epoch_after(left),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_limit_runs_out() {
        let l = Limits::new(Duration::from_secs(3600), Duration::from_secs(60), 900, 100);
        for i in 0..3 {
            match l.check("t", 3, "GET /x", 1, 1) {
                Verdict::Allowed(h) => assert_eq!(h.remaining, 2 - i),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(l.check("t", 3, "GET /x", 1, 1), Verdict::Primary(h) if h.remaining == 0));
        assert!(matches!(
            l.check("u", 3, "GET /x", 1, 1),
            Verdict::Allowed(_)
        ));
    }

    #[test]
    fn secondary_points_per_endpoint_and_concurrency() {
        let l = Limits::new(Duration::from_secs(3600), Duration::from_secs(60), 10, 2);
        assert!(matches!(
            l.check("t", 100, "DELETE /v", 5, 1),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.check("t", 100, "DELETE /v", 5, 1),
            Verdict::Allowed(_)
        ));
        match l.check("t", 100, "DELETE /v", 5, 1) {
            Verdict::Secondary(_, retry) => assert!((1..=60).contains(&retry)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            l.check("t", 100, "GET /v", 1, 1),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.check("t", 100, "GET /v", 1, 3),
            Verdict::Secondary(_, 1)
        ));
    }

    /// The secondary limit holds over any sliding minute: points spent late in one
    /// minute still count early in the next (a fixed window would admit a double
    /// burst across its boundary).
    #[test]
    fn secondary_limit_is_a_sliding_window() {
        let l = Limits::new(
            Duration::from_secs(3600),
            Duration::from_millis(200),
            10,
            100,
        );
        assert!(matches!(
            l.check("t", 100, "DELETE /v", 5, 1),
            Verdict::Allowed(_)
        ));
        std::thread::sleep(Duration::from_millis(120));
        assert!(matches!(
            l.check("t", 100, "DELETE /v", 5, 1),
            Verdict::Allowed(_)
        ));
        // 200 ms after the first send: it left the window, the second has not.
        std::thread::sleep(Duration::from_millis(100));
        assert!(matches!(
            l.check("t", 100, "DELETE /v", 5, 1),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.check("t", 100, "DELETE /v", 5, 1),
            Verdict::Secondary(..)
        ));
    }

    /// The undisclosed limit counts DELETEs per token across endpoints over a
    /// sliding minute, answers past it with a wait, and leaves reads and the
    /// documented points alone.
    #[test]
    fn undisclosed_delete_limit_per_token() {
        let l = Limits::new(Duration::from_secs(3600), Duration::from_secs(60), 900, 100)
            .with_undisclosed_deletes(Some(2));
        for endpoint in ["DELETE /v", "DELETE /p"] {
            assert!(matches!(
                l.check("t", 100, endpoint, 5, 1),
                Verdict::Allowed(_)
            ));
        }
        match l.check("t", 100, "DELETE /v", 5, 1) {
            Verdict::Undisclosed(h, retry) => {
                assert!((59..=60).contains(&retry), "{retry}");
                // The primary headers say nothing of it.
                assert_eq!(h.remaining, 97);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            l.check("t", 100, "GET /v", 1, 1),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.check("u", 100, "DELETE /v", 5, 1),
            Verdict::Allowed(_)
        ));
    }

    #[test]
    fn windows_reset() {
        let l = Limits::new(
            Duration::from_millis(30),
            Duration::from_millis(30),
            900,
            100,
        );
        assert!(matches!(
            l.check("t", 1, "GET /x", 1, 1),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.check("t", 1, "GET /x", 1, 1),
            Verdict::Primary(_)
        ));
        std::thread::sleep(Duration::from_millis(40));
        assert!(matches!(
            l.check("t", 1, "GET /x", 1, 1),
            Verdict::Allowed(_)
        ));
    }
}
