//! The pace of writes (DELETEs): a sliding-window log of send times that never admits
//! more than the pace's points in any window (GitHub: "900 points per minute", over
//! any 60 seconds), and the pace itself, found by feedback: cut multiplicatively on
//! a secondary-limit answer, raised additively after a quiet window, never above the
//! configured maximum nor below a floor.
//!
//! Everything here is pure: the caller passes the instant, so tests need no clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// GitHub's documented secondary limit: points per minute per endpoint.
pub const DOCUMENTED_POINTS_PER_MINUTE: u32 = 900;
/// The lowest pace a cut reaches (points per window).
pub const FLOOR_POINTS_PER_MINUTE: u32 = 60;
/// A cut keeps this share of the pace.
pub const CUT: f64 = 0.7;
/// Each quiet window raises the pace by this share of the documented limit.
pub const RAISE: f64 = 0.05;

/// Send times and costs of the last window.
#[derive(Clone, Debug)]
pub struct SlidingWindow {
    window: Duration,
    sent: VecDeque<(Instant, u32)>,
    used: u32,
}

impl SlidingWindow {
    pub fn new(window: Duration) -> Self {
        SlidingWindow {
            window: window.max(Duration::from_millis(1)),
            sent: VecDeque::new(),
            used: 0,
        }
    }

    fn evict(&mut self, now: Instant) {
        while let Some(&(at, cost)) = self.sent.front() {
            if at + self.window <= now {
                self.sent.pop_front();
                self.used -= cost;
            } else {
                break;
            }
        }
    }

    /// Takes `cost` points if the window ending at `now` then holds at most `limit`,
    /// or says how long until it would. A cost above `limit` is taken alone in an
    /// empty window (one request is always possible).
    pub fn try_take(&mut self, cost: u32, limit: u32, now: Instant) -> Result<(), Duration> {
        self.evict(now);
        let cost = cost.min(limit.max(1));
        if self.used + cost <= limit.max(1) {
            self.sent.push_back((now, cost));
            self.used += cost;
            return Ok(());
        }
        // The send whose expiry frees enough points.
        let mut left = self.used;
        for &(at, c) in &self.sent {
            left -= c;
            if left + cost <= limit.max(1) {
                let wait = (at + self.window).saturating_duration_since(now);
                return Err(wait.max(Duration::from_millis(1)));
            }
        }
        Err(self.window)
    }
}

/// The write pace in points per window, learnt from the answers.
#[derive(Clone, Debug)]
pub struct AdaptivePace {
    window: Duration,
    max: f64,
    current: f64,
    /// Since when nothing was limited (or the last raise).
    calm_since: Instant,
}

impl AdaptivePace {
    /// Starts at `start` (e.g. the pace remembered from the last run), never above
    /// `max` nor below the floor.
    pub fn new(max: u32, start: u32, window: Duration, now: Instant) -> Self {
        let max = f64::from(max.max(1));
        AdaptivePace {
            window: window.max(Duration::from_millis(1)),
            max,
            current: f64::from(start).clamp(Self::floor(max), max),
            calm_since: now,
        }
    }

    fn floor(max: f64) -> f64 {
        f64::from(FLOOR_POINTS_PER_MINUTE).min(max)
    }

    /// The pace now, after the raises of the quiet windows since the last change.
    pub fn current(&mut self, now: Instant) -> u32 {
        let quiet = now.saturating_duration_since(self.calm_since);
        let windows = (quiet.as_secs_f64() / self.window.as_secs_f64()).floor();
        if windows >= 1.0 && self.current < self.max {
            let step = f64::from(DOCUMENTED_POINTS_PER_MINUTE) * RAISE;
            self.current = (self.current + windows * step).min(self.max);
            self.calm_since += self.window.mul_f64(windows);
        } else if windows >= 1.0 {
            self.calm_since = now;
        }
        self.current.round() as u32
    }

    /// A secondary-limit answer at `now`, waited out until `resume`: the pace is cut,
    /// and the quiet period starts when sending resumes. Returns the old and new pace.
    pub fn cut(&mut self, now: Instant, resume: Instant) -> (u32, u32) {
        let old = self.current(now);
        self.current = (self.current * CUT).max(Self::floor(self.max));
        self.calm_since = resume.max(now);
        (old, self.current.round() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn admits_the_limit_then_waits_for_the_oldest_to_leave() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(MIN);
        for i in 0..180 {
            assert!(w.try_take(5, 900, t0 + Duration::from_millis(i)).is_ok());
        }
        let wait = w.try_take(5, 900, t0 + Duration::from_secs(1)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(59));
        assert!(w.try_take(5, 900, t0 + MIN).is_ok());
        assert!(w.try_take(5, 900, t0 + MIN).is_err());
    }

    #[test]
    fn a_cost_above_the_limit_goes_alone() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(MIN);
        assert!(w.try_take(5, 1, t0).is_ok());
        assert!(w.try_take(5, 1, t0).is_err());
    }

    proptest! {
        /// Over a long random schedule of attempts, no 60-second window ever holds
        /// more than the limit's points, and every attempt told to wait is admitted
        /// once it has waited.
        #[test]
        fn no_window_ever_exceeds_the_limit(
            limit in 5u32..2000,
            steps in proptest::collection::vec((0u64..5_000, 1u32..=5), 1..2000),
        ) {
            let t0 = Instant::now();
            let mut w = SlidingWindow::new(MIN);
            let mut t = t0;
            let mut admitted: Vec<(Instant, u32)> = Vec::new();
            for (gap_ms, cost) in steps {
                t += Duration::from_millis(gap_ms);
                match w.try_take(cost, limit, t) {
                    Ok(()) => admitted.push((t, cost)),
                    Err(wait) => {
                        t += wait;
                        prop_assert!(w.try_take(cost, limit, t).is_ok());
                        admitted.push((t, cost));
                    }
                }
            }
            // Every window starting at a send holds at most `limit` points.
            for (i, &(start, _)) in admitted.iter().enumerate() {
                let sum: u32 = admitted[i..]
                    .iter()
                    .take_while(|(at, _)| *at < start + MIN)
                    .map(|(_, c)| c)
                    .sum();
                prop_assert!(sum <= limit, "{sum} points in the window from send {i}");
            }
        }
    }

    #[test]
    fn cut_is_multiplicative_and_stops_at_the_floor() {
        let t0 = Instant::now();
        let mut p = AdaptivePace::new(900, 900, MIN, t0);
        assert_eq!(p.cut(t0, t0), (900, 630));
        assert_eq!(p.cut(t0, t0), (630, 441));
        for _ in 0..20 {
            p.cut(t0, t0);
        }
        assert_eq!(p.current(t0), FLOOR_POINTS_PER_MINUTE);
    }

    #[test]
    fn raise_is_additive_after_quiet_windows_and_capped() {
        let t0 = Instant::now();
        let mut p = AdaptivePace::new(900, 900, MIN, t0);
        p.cut(t0, t0);
        p.cut(t0, t0);
        assert_eq!(p.current(t0 + Duration::from_secs(59)), 441);
        // One quiet window: +5% of 900.
        assert_eq!(p.current(t0 + MIN), 486);
        // Two more quiet windows: +90.
        assert_eq!(p.current(t0 + MIN * 3), 576);
        // A cut restarts the quiet period.
        let cut_at = t0 + MIN * 3 + Duration::from_secs(10);
        // The quiet period starts when the wait told ends.
        let resume = cut_at + Duration::from_secs(30);
        assert_eq!(p.cut(cut_at, resume), (576, 403));
        assert_eq!(p.current(resume + Duration::from_secs(59)), 403);
        assert_eq!(p.current(resume + MIN), 448);
        // Long quiet: back to the maximum, not beyond.
        assert_eq!(p.current(cut_at + MIN * 100), 900);
        assert_eq!(p.current(cut_at + MIN * 200), 900);
    }

    #[test]
    fn start_is_clamped_to_the_maximum_and_floor() {
        let t0 = Instant::now();
        assert_eq!(AdaptivePace::new(720, 900, MIN, t0).current(t0), 720);
        assert_eq!(AdaptivePace::new(900, 10, MIN, t0).current(t0), 60);
        assert_eq!(AdaptivePace::new(30, 10, MIN, t0).current(t0), 30);
    }
}
