//! Which failures of the GitHub API are retried as transient (5xx, connection
//! errors, timeouts), and the back-off between them: `regsweep-transport`'s
//! jittered exponential back-off from the configured first delay up to
//! [`MAX_BACKOFF`]. Rate limits are not handled here (see `ratelimit.rs`); 4xx
//! answers are never retried.

use std::time::Duration;

use regsweep_transport::defaults::GITHUB_BACKOFF;
use regsweep_transport::Backoff;

/// The longest back-off between two attempts.
pub const MAX_BACKOFF: Duration = GITHUB_BACKOFF.max;

/// The jittered delay before retry number `retry` (1 for the first), starting at `base`.
pub fn jittered(base: Duration, retry: u32) -> Duration {
    Backoff {
        base,
        max: MAX_BACKOFF,
    }
    .jittered(retry)
}

/// Whether an HTTP status is worth retrying as transient.
pub fn is_transient_status(status: u16) -> bool {
    (500..=599).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

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
