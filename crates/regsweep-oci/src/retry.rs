//! When to retry a registry request, and the registry's `Retry-After`.
//!
//! Retried: 5xx, 429, connection errors and timeouts. Never retried: other 4xx (a
//! refusal does not change by asking again). The wait is `regsweep-transport`'s:
//! jittered back-off (`REGISTRY_BACKOFF`: 100 ms doubling to 10 s), or a
//! `Retry-After` (seconds or an HTTP date) honoured up to [`MAX_RETRY_AFTER`].

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// Longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = regsweep_transport::defaults::REGISTRY_MAX_RETRY_AFTER;

/// Whether an answer with this status is worth retrying.
pub fn retryable_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Whether a transport error is worth retrying (connection, timeout, broken body).
pub fn retryable_error(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()
}

/// The `Retry-After` header (seconds or an HTTP date), capped at [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    regsweep_transport::retry_after(headers, jiff::Timestamp::now()).map(|d| d.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

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
    fn retry_after_header() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        // A date in the past: retry now.
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
