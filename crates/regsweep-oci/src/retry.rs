//! When and how long to wait before retrying a request.
//!
//! Retried: 5xx, 429, connection errors and timeouts. Never retried: other 4xx (a
//! refusal does not change by asking again). Waits grow exponentially from
//! [`BASE_DELAY`] up to [`MAX_DELAY`], with jitter so concurrent clients spread out;
//! a `Retry-After` in seconds is honoured up to [`MAX_RETRY_AFTER`].

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// First wait.
pub const BASE_DELAY: Duration = Duration::from_millis(100);
/// Longest computed wait.
pub const MAX_DELAY: Duration = Duration::from_secs(10);
/// Longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Whether an answer with this status is worth retrying.
pub fn retryable_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Whether a transport error is worth retrying (connection, timeout, broken body).
pub fn retryable_error(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()
}

/// The wait before retry number `retry` (1-based), before jitter.
pub fn backoff(retry: u32) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    BASE_DELAY.saturating_mul(factor).min(MAX_DELAY)
}

/// `backoff(retry)` scaled by a random factor in [0.5, 1.0].
pub fn jittered(retry: u32) -> Duration {
    let base = backoff(retry);
    base.mul_f64(rand::random_range(0.5..=1.0))
}

/// The `Retry-After` header in seconds, capped; HTTP dates are ignored.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses() {
        for (code, retry) in [
            (500, true),
            (502, true),
            (503, true),
            (429, true),
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (405, false),
            (200, false),
        ] {
            assert_eq!(
                retryable_status(StatusCode::from_u16(code).unwrap()),
                retry,
                "{code}"
            );
        }
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(30), MAX_DELAY);
        assert_eq!(backoff(u32::MAX), MAX_DELAY);
        for r in 1..10 {
            let j = jittered(r);
            assert!(j <= backoff(r) && j >= backoff(r) / 2, "{r}: {j:?}");
        }
    }

    #[test]
    fn retry_after_header() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
