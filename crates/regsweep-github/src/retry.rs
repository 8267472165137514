//! Back-off between retries of transient failures (5xx, connection errors,
//! timeouts): exponential, bounded, jittered. Rate limits are not handled here
//! (see `ratelimit.rs`); 4xx answers are never retried.

use std::time::Duration;

/// The longest back-off between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The delay before retry number `retry` (1 for the first retry): `base × 2^(retry-1)`
/// bounded by [`MAX_BACKOFF`], of which a random half is kept ("equal jitter"):
/// `jitter` in `[0, 1]` picks where in `[d/2, d]` the delay lands.
pub fn backoff(base: Duration, retry: u32, jitter: f64) -> Duration {
    let exp = retry.saturating_sub(1).min(20);
    let full = base.saturating_mul(1u32 << exp).min(MAX_BACKOFF);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    full / 2 + full.mul_f64(jitter / 2.0)
}

/// [`backoff`] with a random jitter.
pub fn jittered(base: Duration, retry: u32) -> Duration {
    backoff(base, retry, rand::random::<f64>())
}

/// Whether an HTTP status is worth retrying as transient.
pub fn is_transient_status(status: u16) -> bool {
    (500..=599).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_table() {
        let ms = Duration::from_millis;
        let base = ms(500);
        let cases = [
            (1, 0.0, ms(250)),
            (1, 1.0, ms(500)),
            (2, 0.0, ms(500)),
            (3, 1.0, ms(2000)),
            (4, 0.5, ms(3000)),
            (10, 1.0, MAX_BACKOFF),
            (10, 0.0, MAX_BACKOFF / 2),
            (u32::MAX, 1.0, MAX_BACKOFF),
            (1, f64::NAN, ms(250)),
            (1, 7.0, ms(500)),
        ];
        for (retry, jitter, want) in cases {
            assert_eq!(
                backoff(base, retry, jitter),
                want,
                "retry {retry} jitter {jitter}"
            );
        }
    }

    #[test]
    fn jittered_stays_in_bounds() {
        for retry in 1..8 {
            let d = jittered(Duration::from_millis(100), retry);
            let full = Duration::from_millis(100)
                .saturating_mul(1 << (retry - 1))
                .min(MAX_BACKOFF);
            assert!(d >= full / 2 && d <= full, "{d:?}");
        }
    }

    #[test]
    fn transient_statuses() {
        for s in [500, 502, 503, 504] {
            assert!(is_transient_status(s));
        }
        for s in [400, 401, 403, 404, 422, 429] {
            assert!(!is_transient_status(s));
        }
    }
}
