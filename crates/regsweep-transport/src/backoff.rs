//! Waiting between attempts: exponential, bounded, jittered back-off, and what a
//! server's `Retry-After` (seconds or an HTTP date) and `Date` headers say.
//!
//! Which answers are worth retrying, and how rate limits are classified, is each
//! client's business; how long to wait is decided here.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderMap;

/// Exponential back-off: `base × 2^(retry-1)` bounded by `max`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry), of which a
    /// random half is kept ("equal jitter"): `jitter` in `[0, 1]` picks where in
    /// `[d/2, d]` the delay lands.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        full / 2 + full.mul_f64(jitter / 2.0)
    }

    /// [`Self::delay`] before jitter.
    pub fn full(&self, retry: u32) -> Duration {
        self.delay(retry, 1.0)
    }

    /// [`Self::delay`] with a random jitter.
    pub fn jittered(&self, retry: u32) -> Duration {
        self.delay(retry, rand::random::<f64>())
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
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
/// waits until a server-stated time do not depend on the local clock being right.
pub fn server_now(headers: &HeaderMap) -> Option<Timestamp> {
    let value = header_str(headers, "date")?;
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    const B: Backoff = Backoff {
        base: Duration::from_millis(500),
        max: Duration::from_secs(30),
    };

    #[test]
    fn backoff_table() {
        let ms = Duration::from_millis;
        let cases = [
            (1, 0.0, ms(250)),
            (1, 1.0, ms(500)),
            (2, 0.0, ms(500)),
            (3, 1.0, ms(2000)),
            (4, 0.5, ms(3000)),
            (10, 1.0, B.max),
            (10, 0.0, B.max / 2),
            (u32::MAX, 1.0, B.max),
            (1, f64::NAN, ms(250)),
            (1, 7.0, ms(500)),
        ];
        for (retry, jitter, want) in cases {
            assert_eq!(
                B.delay(retry, jitter),
                want,
                "retry {retry} jitter {jitter}"
            );
        }
        for retry in 1..8 {
            let d = B.jittered(retry);
            assert!(d >= B.full(retry) / 2 && d <= B.full(retry), "{d:?}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Tue, 14 Nov 2023 22:15:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(100)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }
}
