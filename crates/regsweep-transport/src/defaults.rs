//! Every default of the transport policy, in one place.

use std::time::Duration;

use crate::backoff::Backoff;

/// Largest body of one listing page (a GitHub versions page, a tags page).
pub const MAX_PAGE_BODY: usize = 16 * 1024 * 1024;
/// Largest manifest body: the OCI distribution spec's suggested limit for registries.
pub const MAX_MANIFEST_BODY: usize = 4 * 1024 * 1024;
/// Largest body of an error answer (only its message is kept).
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// Largest body of a token endpoint's answer.
pub const MAX_TOKEN_BODY: usize = 1024 * 1024;

/// Pages read beyond those a listing's announced size needs (items added while
/// listing, a server counting slightly off).
pub const PAGE_SLACK: u64 = 3;
/// Pages no listing may exceed, whatever its announced size.
pub const MAX_PAGES: u64 = 10_000;

/// Most redirects followed for one request (all within its origin).
pub const MAX_REDIRECTS: usize = 10;

/// Back-off of the GitHub API client: 500 ms doubling to 30 s.
pub const GITHUB_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(30),
};
/// Back-off of the registry client: 100 ms doubling to 10 s.
pub const REGISTRY_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(100),
    max: Duration::from_secs(10),
};
/// Longest `Retry-After` a registry's 429/503 is obeyed for.
pub const REGISTRY_MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Successes in a row, at a lowered concurrency, before one more request may be in
/// flight again.
pub const CONCURRENCY_RESTORE_AFTER: u32 = 20;

/// Token realms credentials may be sent to although their host is not the
/// configured registry's (GHCR's own realm is on its host; listed for clarity).
pub const ALLOWED_REALMS: &[&str] = &["https://ghcr.io/token"];
