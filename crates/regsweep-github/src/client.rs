//! [`GithubClient`]: the requests regsweep makes to the GitHub REST API.
//!
//! This module owns sending: headers (the token is exposed only in [`Inner::attempt`]),
//! the retry loop around every request, pagination of list endpoints, and turning
//! answers into results. URLs come from `urls.rs`, pacing and rate-limit waits from
//! `ratelimit.rs`, back-off from `retry.rs`, error classification from `error.rs`.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use regsweep_core::{Version, VersionId};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, LINK};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::config::ClientConfig;
use crate::error::{
    classify_delete, github_message, has_scope, status_help, DeleteError, GithubError, READ_SCOPES,
};
use crate::owner::Owner;
use crate::pacing::{Budgets, Limiter};
use crate::pagination::{next_page, page_of, NextPage};
use crate::ratelimit::{
    classify, human_duration, human_time, retry_after, server_now, Limited, RateLimitSnapshot,
};
use crate::retry::{is_transient_status, jittered};
use crate::stats::{ClientStats, Recorder};
use crate::urls::{PullState, Route, Urls, VersionState, PER_PAGE};
use crate::wire::{self, PackageSummary, PullRequest};

/// The REST API version this client speaks.
pub const API_VERSION: &str = "2022-11-28";
/// The media type asked for.
pub const ACCEPT_JSON: &str = "application/vnd.github+json";
/// Rate-limit waits accepted for one request, whatever `max_retries` says.
const MIN_LIMIT_WAITS: u32 = 3;

/// What `GET /user` told about the token.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TokenInfo {
    /// The account the token belongs to; `None` when GitHub would not say (the
    /// Actions `GITHUB_TOKEN` gets 403 on `/user`).
    pub login: Option<String>,
    /// `X-OAuth-Scopes`; `None` when the header was absent: the token kind is
    /// unknown and its capabilities will be learnt from answers.
    pub scopes: Option<Vec<String>>,
    /// Whether `/user/packages` can be expected to work: the token has a user behind
    /// it and, when scopes are known, one of them allows reading packages.
    pub can_list_user: bool,
}

/// A client of the GitHub REST API. Cheap to clone (shared state inside); all
/// clones share pacing, rate-limit pauses and statistics.
#[derive(Clone)]
pub struct GithubClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    urls: Urls,
    config: ClientConfig,
    limiter: Limiter,
    stats: Recorder,
    scopes: Mutex<Option<Vec<String>>>,
}

impl fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubClient")
            .field("api_url", &self.inner.urls.base().as_str())
            .field("user_agent", &self.inner.config.user_agent)
            .field("token", &self.inner.config.token)
            .finish_non_exhaustive()
    }
}

/// One answer, body read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn message(&self) -> String {
        github_message(&self.body)
    }
}

fn request_name(method: &Method, route: &Route) -> String {
    format!("{method} {}", route.path)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn parse_scopes(headers: &HeaderMap) -> Option<Vec<String>> {
    let value = headers.get("x-oauth-scopes")?.to_str().ok()?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

impl GithubClient {
    /// Builds a client. Fails on an unusable API URL or user agent; sends nothing.
    pub fn new(config: ClientConfig) -> Result<Self, GithubError> {
        let urls = Urls::new(config.api_url.clone())?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_JSON));
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        let user_agent =
            HeaderValue::from_str(&config.user_agent).map_err(|_| GithubError::Config {
                detail: format!(
                    "the user agent `{}` is not a valid header value",
                    config.user_agent
                ),
                help: "use printable ASCII, e.g. regsweep/1.0".to_string(),
            })?;
        if config.token.is_empty() {
            return Err(GithubError::Config {
                detail: "the token is empty".to_string(),
                help: "pass a token (a classic PAT with read:packages and delete:packages, or the Actions GITHUB_TOKEN)".to_string(),
            });
        }
        if HeaderValue::from_str(&format!("Bearer {}", config.token.expose())).is_err() {
            return Err(GithubError::Config {
                detail: "the token contains characters not allowed in an HTTP header (a newline or a control character?)".to_string(),
                help: "pass the token without surrounding whitespace or quotes".to_string(),
            });
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent)
            .timeout(config.request_timeout)
            .connect_timeout(
                config
                    .request_timeout
                    .min(std::time::Duration::from_secs(15)),
            )
            .build()
            .map_err(|e| GithubError::Config {
                detail: format!("the HTTP client could not be built: {}", error_chain(&e)),
                help: "this is a bug in regsweep; please report it".to_string(),
            })?;
        let limiter = Limiter::new(Budgets {
            read_points_per_minute: config.read_points_per_minute,
            write_points_per_minute: config.delete_points_per_minute,
            concurrency: config.concurrency,
        });
        Ok(GithubClient {
            inner: Arc::new(Inner {
                http,
                urls,
                config,
                limiter,
                stats: Recorder::default(),
                scopes: Mutex::new(None),
            }),
        })
    }

    /// `GET /user`: checks the token and records its scopes.
    pub async fn probe(&self) -> Result<TokenInfo, GithubError> {
        let route = self.inner.urls.user();
        let answer = self.inner.send(&Method::GET, &route, &route.url).await?;
        let scopes = parse_scopes(&answer.headers);
        let request = request_name(&Method::GET, &route);
        match answer.status.as_u16() {
            200..=299 => {
                let user: wire::UserWire =
                    serde_json::from_slice(&answer.body).map_err(|e| GithubError::Decode {
                        request,
                        detail: e.to_string(),
                    })?;
                let can_read = scopes
                    .as_deref()
                    .is_none_or(|s| READ_SCOPES.iter().any(|r| has_scope(s, r)));
                Ok(TokenInfo {
                    login: Some(user.login),
                    scopes,
                    can_list_user: can_read,
                })
            }
            // The Actions GITHUB_TOKEN and installation tokens have no user.
            403 | 404 => Ok(TokenInfo {
                login: None,
                scopes,
                can_list_user: false,
            }),
            _ => Err(self
                .inner
                .error_for(&Method::GET, &route, &answer, "read:packages")),
        }
    }

    /// The last `X-OAuth-Scopes` seen (`None` if never sent).
    pub fn scopes(&self) -> Option<Vec<String>> {
        self.inner.scopes()
    }

    /// The path of a package (`/orgs/acme/packages/container/team%2Fapp`), for messages.
    pub fn package_path(&self, owner: &Owner, package: &str) -> String {
        self.inner.urls.get_package(owner, package).path
    }

    /// All container packages of `owner`.
    pub async fn list_packages(&self, owner: &Owner) -> Result<Vec<PackageSummary>, GithubError> {
        let route = self.inner.urls.list_packages(owner);
        let mut packages = Vec::new();
        let result = self
            .inner
            .for_each_page(&route, None, |values| {
                for value in values {
                    match wire::package(value) {
                        Ok(p) => packages.push(p),
                        Err(e) => tracing::warn!(
                            "skipping a package entry of {} that cannot be read: {e}",
                            route.path
                        ),
                    }
                }
            })
            .await;
        match result {
            Ok(()) => Ok(packages),
            Err(PageError::Answer(answer)) => {
                let status = answer.status.as_u16();
                if status == 403 {
                    Err(GithubError::CannotList {
                        owner: owner.describe(),
                        request: request_name(&Method::GET, &route),
                        status,
                        message: answer.message(),
                    })
                } else {
                    Err(self
                        .inner
                        .error_for(&Method::GET, &route, &answer, "read:packages"))
                }
            }
            Err(PageError::Github(e)) => Err(e),
        }
    }

    /// One package, `None` when GitHub answers 404.
    pub async fn get_package(
        &self,
        owner: &Owner,
        name: &str,
    ) -> Result<Option<PackageSummary>, GithubError> {
        let route = self.inner.urls.get_package(owner, name);
        let answer = self.inner.send(&Method::GET, &route, &route.url).await?;
        match answer.status.as_u16() {
            200..=299 => {
                let value: serde_json::Value = self.inner.decode(&route, &answer)?;
                wire::package(value)
                    .map(Some)
                    .map_err(|e| GithubError::Decode {
                        request: request_name(&Method::GET, &route),
                        detail: e.to_string(),
                    })
            }
            404 => Ok(None),
            _ => Err(self
                .inner
                .error_for(&Method::GET, &route, &answer, "read:packages")),
        }
    }

    /// Every version of a package (all pages, no cap). Versions whose name is not a
    /// digest are skipped with a warning. `on_page` gets the number of versions
    /// listed so far after every page.
    pub async fn list_versions(
        &self,
        owner: &Owner,
        package: &str,
        state: VersionState,
        on_page: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<Version>, GithubError> {
        self.list_versions_expecting(owner, package, state, None, on_page)
            .await
    }

    /// [`Self::list_versions`] for a package whose `version_count` is known (from
    /// listing or getting the package). GitHub sends no `Link` header when there is
    /// only one page, so a full page without one is taken as the last page once
    /// `expected` versions have been read, saving a request for an empty page;
    /// without `expected` the next page is read to be sure.
    pub async fn list_versions_expecting(
        &self,
        owner: &Owner,
        package: &str,
        state: VersionState,
        expected: Option<u64>,
        on_page: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<Version>, GithubError> {
        let route = self.inner.urls.list_versions(owner, package, state);
        // Sized once from the package's version_count: 100,000 versions grown by
        // doubling would briefly hold twice their size.
        let mut versions = Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize);
        let result = self
            .inner
            .for_each_page(&route, expected, |values| {
                for value in values {
                    match wire::version(value) {
                        Ok(v) => versions.push(v),
                        Err(e) => tracing::warn!("package `{package}`: skipping {e}"),
                    }
                }
                on_page(versions.len());
            })
            .await;
        match result {
            Ok(()) => Ok(versions),
            Err(PageError::Answer(answer)) => {
                Err(self
                    .inner
                    .error_for(&Method::GET, &route, &answer, "read:packages"))
            }
            Err(PageError::Github(e)) => Err(e),
        }
    }

    /// Deletes one version. GitHub's refusals come back classified.
    pub async fn delete_version(
        &self,
        owner: &Owner,
        package: &str,
        id: VersionId,
    ) -> Result<(), DeleteError> {
        let route = self.inner.urls.delete_version(owner, package, id);
        self.inner.change(Method::DELETE, &route).await
    }

    /// Restores a deleted version (within GitHub's 30 days).
    pub async fn restore_version(
        &self,
        owner: &Owner,
        package: &str,
        id: VersionId,
    ) -> Result<(), DeleteError> {
        let route = self.inner.urls.restore_version(owner, package, id);
        self.inner.change(Method::POST, &route).await
    }

    /// One pull request of `repo` (`owner/name`), `None` when GitHub answers 404.
    pub async fn get_pull(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Option<PullRequest>, GithubError> {
        let route = self.inner.urls.get_pull(repo, number)?;
        let answer = self.inner.send(&Method::GET, &route, &route.url).await?;
        match answer.status.as_u16() {
            200..=299 => {
                let value: serde_json::Value = self.inner.decode(&route, &answer)?;
                wire::pull(value)
                    .map(Some)
                    .map_err(|e| GithubError::Decode {
                        request: request_name(&Method::GET, &route),
                        detail: e.to_string(),
                    })
            }
            404 => Ok(None),
            _ => Err(self.inner.error_for(&Method::GET, &route, &answer, "repo")),
        }
    }

    /// All pull requests of `repo` in `state`.
    pub async fn list_pulls(
        &self,
        repo: &str,
        state: PullState,
    ) -> Result<Vec<PullRequest>, GithubError> {
        let route = self.inner.urls.list_pulls(repo, state)?;
        let mut pulls = Vec::new();
        let result = self
            .inner
            .for_each_page(&route, None, |values| {
                for value in values {
                    match wire::pull(value) {
                        Ok(p) => pulls.push(p),
                        Err(e) => tracing::warn!(
                            "skipping a pull request of {repo} that cannot be read: {e}"
                        ),
                    }
                }
            })
            .await;
        match result {
            Ok(()) => Ok(pulls),
            Err(PageError::Answer(answer)) => {
                Err(self.inner.error_for(&Method::GET, &route, &answer, "repo"))
            }
            Err(PageError::Github(e)) => Err(e),
        }
    }

    /// The last primary rate-limit headers seen.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.inner.limiter.snapshot()
    }

    /// A copy of the request counters.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.snapshot()
    }
}

/// A list request that did not succeed: an unclassified answer, or an error.
enum PageError {
    Answer(Answer),
    Github(GithubError),
}

impl From<GithubError> for PageError {
    fn from(e: GithubError) -> Self {
        PageError::Github(e)
    }
}

impl Inner {
    fn scopes(&self) -> Option<Vec<String>> {
        self.scopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One attempt: the only place the token is read.
    async fn attempt(&self, method: &Method, url: &Url) -> Result<Answer, reqwest::Error> {
        let response = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(self.config.token.expose())
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends a request until it gets an answer worth returning: paced, waiting out
    /// rate limits, retrying transient failures. Returns the final answer whatever its
    /// status; errors only for transport failures and waits longer than allowed.
    async fn send(&self, method: &Method, route: &Route, url: &Url) -> Result<Answer, GithubError> {
        let max_retries = self.config.max_retries;
        let max_limit_waits = max_retries.max(MIN_LIMIT_WAITS);
        let mut retries = 0u32;
        let mut limit_waits = 0u32;
        loop {
            let permit = self.limiter.admit(route.endpoint, method).await;
            let result = self.attempt(method, url).await;
            drop(permit);
            let answer = match result {
                Ok(answer) => answer,
                Err(e) => {
                    self.stats.request(method.as_str(), route.endpoint, None);
                    if retries < max_retries && !e.is_builder() {
                        retries += 1;
                        self.stats.retry();
                        let delay = jittered(self.config.retry_base_delay, retries);
                        tracing::debug!(
                            "{} failed ({}); retry {retries}/{max_retries} in {}",
                            request_name(method, route),
                            error_chain(&e.without_url()),
                            human_duration(delay)
                        );
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(GithubError::Transport {
                        request: request_name(method, route),
                        detail: error_chain(&e.without_url()),
                        attempts: retries + 1,
                    });
                }
            };
            let status = answer.status.as_u16();
            self.stats
                .request(method.as_str(), route.endpoint, Some(status));
            self.limiter.observe(&answer.headers);
            if let Some(scopes) = parse_scopes(&answer.headers) {
                *self.scopes.lock().unwrap_or_else(|p| p.into_inner()) = Some(scopes);
            }
            // GitHub's clock, when it says: reset times are on that clock.
            let now = server_now(&answer.headers).unwrap_or_else(Timestamp::now);
            let body_text = String::from_utf8_lossy(&answer.body);
            let limited = classify(status, &answer.headers, &body_text, now);
            if limited == Limited::No {
                if is_transient_status(status) && retries < max_retries {
                    retries += 1;
                    self.stats.retry();
                    // A 503 may say when to come back; never wait longer than allowed.
                    let asked = retry_after(&answer.headers, now)
                        .unwrap_or_default()
                        .min(self.config.max_wait);
                    let delay = jittered(self.config.retry_base_delay, retries).max(asked);
                    tracing::debug!(
                        "{} answered {status}; retry {retries}/{max_retries} in {}",
                        request_name(method, route),
                        human_duration(delay)
                    );
                    tokio::time::sleep(delay).await;
                    continue;
                }
                self.limiter.on_success();
                if let Some(wait) = self.limiter.pause_if_exhausted(now, self.config.max_wait) {
                    self.announce_primary(wait, now);
                    self.stats.waited(wait);
                }
                if is_transient_status(status) {
                    // Out of retries: report it with the attempt count.
                    return Err(GithubError::Status {
                        request: request_name(method, route),
                        status,
                        message: answer.message(),
                        attempts: retries + 1,
                        help: status_help(status),
                    });
                }
                return Ok(answer);
            }
            let primary = matches!(limited, Limited::Primary { reset: Some(_) });
            self.stats
                .limit_hit(matches!(limited, Limited::Primary { .. }));
            let pause = self.limiter.on_limited(&limited, now, self.config.max_wait);
            let reset_at = match &limited {
                Limited::Primary { reset } => *reset,
                _ => None,
            };
            if pause.wait > self.config.max_wait || limit_waits >= max_limit_waits {
                return Err(GithubError::RateLimited {
                    request: request_name(method, route),
                    reset_at,
                    wait: pause.wait,
                    max_wait: self.config.max_wait,
                    waits: limit_waits,
                });
            }
            limit_waits += 1;
            if pause.announce {
                if primary {
                    self.announce_primary(pause.wait, now);
                } else {
                    tracing::warn!(
                        "secondary rate limit hit ({} answered {status}); waiting {} before retrying",
                        request_name(method, route),
                        human_duration(pause.wait)
                    );
                }
            }
            self.stats.waited(pause.wait);
            // `admit` waits out the shared pause before the next attempt.
        }
    }

    fn announce_primary(&self, wait: std::time::Duration, now: Timestamp) {
        let until = jiff::SignedDuration::try_from(wait)
            .ok()
            .and_then(|d| now.checked_add(d).ok())
            .unwrap_or(now);
        tracing::warn!(
            "primary rate limit exhausted; waiting {} until {}",
            human_duration(wait),
            human_time(until)
        );
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        route: &Route,
        answer: &Answer,
    ) -> Result<T, GithubError> {
        serde_json::from_slice(&answer.body).map_err(|e| GithubError::Decode {
            request: request_name(&Method::GET, route),
            detail: e.to_string(),
        })
    }

    /// Reads every page of a list endpoint, handing each page's entries to `f`.
    async fn for_each_page(
        &self,
        route: &Route,
        expected: Option<u64>,
        mut f: impl FnMut(Vec<serde_json::Value>),
    ) -> Result<(), PageError> {
        let mut url = route.url.clone();
        let mut page = page_of(&url).unwrap_or(1);
        let mut seen = HashSet::new();
        let mut total: u64 = 0;
        loop {
            if !seen.insert(url.to_string()) {
                return Err(GithubError::PaginationLoop {
                    request: request_name(&Method::GET, route),
                    url: url.to_string(),
                }
                .into());
            }
            let answer = self.send(&Method::GET, route, &url).await?;
            if !answer.status.is_success() {
                return Err(PageError::Answer(answer));
            }
            let values: Vec<serde_json::Value> = self.decode(route, &answer)?;
            let count = values.len();
            total += count as u64;
            f(values);
            let link = answer.headers.get(LINK).and_then(|v| v.to_str().ok());
            if link.is_none() && expected.is_some_and(|n| total >= n) {
                return Ok(());
            }
            let (next, problem) = next_page(link, &url, page, count, PER_PAGE);
            if let Some(problem) = problem {
                tracing::warn!(
                    "{}: {problem}; reading on by page number",
                    request_name(&Method::GET, route)
                );
            }
            match next {
                NextPage::Done => return Ok(()),
                NextPage::Fetch(next_url) => {
                    if !self.urls.is_within(&next_url) {
                        return Err(GithubError::ForeignLink {
                            request: request_name(&Method::GET, route),
                            url: next_url.to_string(),
                        }
                        .into());
                    }
                    page = page_of(&next_url).unwrap_or(page + 1);
                    url = next_url;
                }
            }
        }
    }

    /// A delete or restore: success is any 2xx.
    async fn change(&self, method: Method, route: &Route) -> Result<(), DeleteError> {
        let answer = self.send(&method, route, &route.url).await?;
        if answer.status.is_success() {
            return Ok(());
        }
        let scopes = self.scopes();
        Err(classify_delete(
            &request_name(&method, route),
            answer.status.as_u16(),
            &answer.body,
            scopes.as_deref(),
        ))
    }

    /// The error for an unsuccessful answer to a request that needs scope `needs`.
    fn error_for(
        &self,
        method: &Method,
        route: &Route,
        answer: &Answer,
        needs: &str,
    ) -> GithubError {
        let request = request_name(method, route);
        let message = answer.message();
        match answer.status.as_u16() {
            401 => GithubError::BadCredentials { request, message },
            403 => {
                let scopes = self.scopes();
                GithubError::Forbidden {
                    request,
                    message,
                    help: GithubError::forbidden_help(needs, scopes.as_deref()),
                }
            }
            404 => GithubError::NotFound { request, message },
            status => GithubError::Status {
                request,
                status,
                message,
                attempts: 1,
                help: status_help(status),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::Secret;

    const TOKEN: &str = "ghp_VerySecretTokenValue0123456789";

    fn config(token: &str) -> ClientConfig {
        ClientConfig::new(
            Url::parse("https://ghe.example.com/api/v3/").unwrap(),
            Secret::new(token),
        )
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<GithubClient>();
    }

    #[test]
    fn token_never_in_debug_of_config_or_client() {
        let cfg = config(TOKEN);
        assert!(!format!("{cfg:?}").contains("VerySecret"));
        let client = GithubClient::new(cfg).unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("VerySecret"), "{shown}");
        assert!(shown.contains("ghe.example.com"), "{shown}");
    }

    #[test]
    fn bad_tokens_rejected_without_showing_them() {
        for bad in ["", "  ", "ghp_Very\nSecret"] {
            let err = GithubClient::new(config(bad)).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(matches!(err, GithubError::Config { .. }));
            assert!(!text.contains("Very"), "{text}");
            assert!(text.contains("help:"), "{text}");
        }
    }

    #[test]
    fn errors_never_carry_the_token() {
        // Every error is built from request names (method + path), statuses and
        // GitHub's messages; none of those can hold the token. Check each variant's
        // rendering for the token anyway.
        let request = "GET /orgs/acme/packages".to_string();
        let errors = vec![
            GithubError::BadCredentials {
                request: request.clone(),
                message: "Bad credentials".into(),
            },
            GithubError::Forbidden {
                request: request.clone(),
                message: "Resource not accessible by integration".into(),
                help: GithubError::forbidden_help("read:packages", Some(&["repo".to_string()])),
            },
            GithubError::Transport {
                request: request.clone(),
                detail: "connection refused".into(),
                attempts: 6,
            },
        ];
        for e in errors {
            let text = format!("{e} {e:?}");
            assert!(!text.contains("VerySecret"), "{text}");
            assert!(text.contains("GET /orgs/acme/packages"), "{text}");
            assert!(text.contains("help:"), "{text}");
        }
    }

    #[test]
    fn scopes_header_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_scopes(&h), None);
        h.insert("x-oauth-scopes", HeaderValue::from_static(""));
        assert_eq!(parse_scopes(&h), Some(vec![]));
        h.insert(
            "x-oauth-scopes",
            HeaderValue::from_static("delete:packages, read:packages,repo"),
        );
        assert_eq!(
            parse_scopes(&h),
            Some(vec![
                "delete:packages".to_string(),
                "read:packages".to_string(),
                "repo".to_string()
            ])
        );
    }

    #[test]
    fn unusable_base_url_rejected() {
        let cfg = ClientConfig::new(Url::parse("file:///tmp/x").unwrap(), Secret::new(TOKEN));
        assert!(matches!(GithubClient::new(cfg), Err(GithubError::Url(_))));
    }
}
