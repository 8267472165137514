//! The client's configuration: where the API is, the token, and the pacing budgets.

use std::time::Duration;

use regsweep_core::Secret;
use url::Url;

/// Everything [`crate::GithubClient::new`] needs. `Debug` never shows the token.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.github.com`, `https://HOST/api/v3`, or an emulator's URL.
    pub api_url: Url,
    pub token: Secret,
    pub user_agent: String,
    /// Requests in flight at once (GitHub allows 100 across REST and GraphQL).
    pub concurrency: usize,
    /// The highest pace for write endpoints (5 points a request), in points per
    /// minute over any sliding minute: GitHub's documented 900.
    pub delete_points_per_minute: u32,
    /// The write pace to start at, e.g. learnt by the last run (see `pace_file`);
    /// `None` starts at `delete_points_per_minute`. Never above it.
    pub start_delete_points_per_minute: Option<u32>,
    /// The DELETE ceiling remembered from the last run (see `pace_file`): raises
    /// stop just below it until it is probed. `None`: no ceiling known.
    pub delete_ceiling_points_per_minute: Option<u32>,
    /// The length of the write pacing "minute": 60 s, shorter only against a
    /// time-scaled emulator.
    pub pace_window: Duration,
    /// Points per minute for read endpoints (1 point a request).
    pub read_points_per_minute: u32,
    /// Retries of a transient failure (5xx, connection error, timeout); also the
    /// number of rate-limit waits accepted for one request.
    pub max_retries: u32,
    /// The longest single rate-limit wait accepted; a longer one fails the request
    /// with a `RateLimited` error.
    pub max_wait: Duration,
    /// Timeout of one attempt, connection to last byte.
    pub request_timeout: Duration,
    /// First back-off before retrying a transient failure (doubles each retry).
    pub retry_base_delay: Duration,
}

impl ClientConfig {
    /// The defaults: concurrency 8, 720 points a minute for reads, 900 for writes, 5
    /// retries, waits of up to 15 minutes, 60 s per attempt, 500 ms first back-off.
    pub fn new(api_url: Url, token: Secret) -> Self {
        ClientConfig {
            api_url,
            token,
            user_agent: regsweep_transport::USER_AGENT.to_string(),
            concurrency: 8,
            delete_points_per_minute: 900,
            start_delete_points_per_minute: None,
            delete_ceiling_points_per_minute: None,
            pace_window: Duration::from_secs(60),
            read_points_per_minute: 720,
            max_retries: 5,
            max_wait: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(60),
            retry_base_delay: regsweep_transport::defaults::GITHUB_BACKOFF.base,
        }
    }
}
