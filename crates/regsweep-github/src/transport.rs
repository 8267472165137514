//! Sending one request to the GitHub REST API and reading its answer: headers (the
//! token is exposed only in [`Inner::attempt`], and only to the configured API
//! origin), the retry loop around every request, rate-limit waits, pagination of
//! list endpoints within the page budget, and turning unsuccessful answers into
//! errors. [`crate::client::GithubClient`] builds on it.
//!
//! The edge rules are `regsweep-transport`'s: redirects stay within the API's origin
//! (a cross-origin one fails the request, never a success), bodies are read up to
//! [`MAX_PAGE_BODY`], a listing stops with an error past its page budget.

use std::collections::HashSet;
use std::sync::Mutex;

use jiff::Timestamp;
use reqwest::header::{HeaderMap, LINK};
use reqwest::{Method, StatusCode};
use url::Url;

use regsweep_transport::defaults::MAX_PAGE_BODY;
use regsweep_transport::{
    cross_origin_error, read_capped, BodyError, CredentialPolicy, PageBudget,
};

use crate::config::ClientConfig;
use crate::error::{classify_delete, github_message, status_help, DeleteError, GithubError};
use crate::pacing::Limiter;
use crate::pagination::{next_page, page_of, NextPage, SERVER_DEFAULT_PER_PAGE};
use crate::ratelimit::{classify, human_duration, human_time, retry_after, server_now, Limited};
use crate::retry::{is_transient_status, jittered};
use crate::stats::Recorder;
use crate::urls::{Route, Urls, PER_PAGE};

/// Rate-limit waits accepted for one request, whatever `max_retries` says.
const MIN_LIMIT_WAITS: u32 = 3;

/// The request [`Inner::send`] is sending, for statistics and messages.
#[derive(Clone, Copy)]
struct Req<'a> {
    method: &'a Method,
    route: &'a Route,
}

impl Req<'_> {
    fn name(&self) -> String {
        request_name(self.method, self.route)
    }
}

/// What one request has spent so far.
#[derive(Default)]
struct Tries {
    /// Retries after transport failures and transient statuses.
    retries: u32,
    /// Rate-limit waits.
    limit_waits: u32,
}

/// What [`Inner::send`] does after an attempt.
enum Step {
    /// Send again.
    Retry,
    /// Return this.
    Done(Result<Answer, GithubError>),
}

/// The state shared by a client and its clones.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) urls: Urls,
    pub(crate) config: ClientConfig,
    pub(crate) limiter: Limiter,
    pub(crate) credentials: CredentialPolicy,
    pub(crate) stats: Recorder,
    pub(crate) scopes: Mutex<Option<Vec<String>>>,
}

/// One answer, body read.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
}

impl Answer {
    pub(crate) fn message(&self) -> String {
        github_message(&self.body)
    }
}

pub(crate) fn request_name(method: &Method, route: &Route) -> String {
    format!("{method} {}", route.path)
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
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

pub(crate) fn parse_scopes(headers: &HeaderMap) -> Option<Vec<String>> {
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

/// Why one attempt got no answer.
pub(crate) enum Failure {
    /// Worth another attempt (connection, timeout), unless a builder error.
    Http(reqwest::Error),
    /// Never retried: the edge refused (cross-origin redirect, oversized body,
    /// credentials for another origin).
    Edge(String),
}

/// What a paged listing does after a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageStep {
    /// Read the next page, if there is one.
    Next,
    /// Stop: the caller has what it needs.
    Stop,
}

/// A list request that did not succeed: an unclassified answer, or an error.
pub(crate) enum PageError {
    Answer(Answer),
    Github(GithubError),
}

impl From<GithubError> for PageError {
    fn from(e: GithubError) -> Self {
        PageError::Github(e)
    }
}

impl Inner {
    pub(crate) fn scopes(&self) -> Option<Vec<String>> {
        self.scopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One attempt: the only place the token is read, attached only to a URL on the
    /// configured API origin.
    pub(crate) async fn attempt(&self, method: &Method, url: &Url) -> Result<Answer, Failure> {
        self.credentials
            .check_target(url)
            .map_err(|e| Failure::Edge(e.to_string()))?;
        let response = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(self.config.token.expose())
            .send()
            .await
            .map_err(|e| match cross_origin_error(&e) {
                Some(redirect) => Failure::Edge(format!(
                    "{redirect}\n  expected an answer from the API at {}\n  help: check the API URL; a proxy or a hostile server is redirecting requests",
                    self.credentials.origin()
                )),
                None => Failure::Http(e),
            })?;
        let answer = read_capped(response, MAX_PAGE_BODY, "a GitHub API answer")
            .await
            .map_err(|e| match e {
                BodyError::Read(e) => Failure::Http(e),
                e @ BodyError::TooLarge { .. } => Failure::Edge(e.to_string()),
            })?;
        Ok(Answer {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }

    /// Sends a request until it gets an answer worth returning: paced, waiting out
    /// rate limits, retrying transient failures. Returns the final answer whatever its
    /// status; errors only for transport failures and waits longer than allowed.
    pub(crate) async fn send(
        &self,
        method: &Method,
        route: &Route,
        url: &Url,
    ) -> Result<Answer, GithubError> {
        let req = Req { method, route };
        let mut tries = Tries::default();
        loop {
            let (permit, sent) = self.limiter.admit(route.endpoint, method).await;
            let result = self.attempt(method, url).await;
            drop(permit);
            let step = match result {
                Err(failure) => self.after_failure(req, failure, &mut tries).await,
                Ok(answer) => {
                    let now = self.note_answer(req, &answer);
                    let status = answer.status.as_u16();
                    // Only a 403 or 429 can be a limit: a listing page is not
                    // copied into text to learn that it is not one.
                    let body_text = match status {
                        403 | 429 => String::from_utf8_lossy(&answer.body),
                        _ => std::borrow::Cow::Borrowed(""),
                    };
                    match classify(status, &answer.headers, &body_text, now) {
                        Limited::No => self.after_answer(req, answer, now, &mut tries).await,
                        limited => self.after_limit(req, &limited, (status, sent), now, &mut tries),
                    }
                }
            };
            if let Step::Done(result) = step {
                return result;
            }
            // `admit` waits out any shared pause before the next attempt.
        }
    }

    /// After a request that got no answer: retry a transport failure with back-off
    /// while retries remain; an edge refusal (a cross-origin redirect, a body too
    /// large) is never retried.
    async fn after_failure(&self, req: Req<'_>, failure: Failure, tries: &mut Tries) -> Step {
        self.stats
            .request(req.method.as_str(), req.route.endpoint, None);
        let max_retries = self.config.max_retries;
        match failure {
            Failure::Edge(detail) => Step::Done(Err(GithubError::Edge {
                request: req.name(),
                detail,
            })),
            Failure::Http(e) if tries.retries < max_retries && !e.is_builder() => {
                tries.retries += 1;
                self.stats.retry();
                let delay = jittered(self.config.retry_base_delay, tries.retries);
                tracing::debug!(
                    "{} failed ({}); retry {}/{max_retries} in {}",
                    req.name(),
                    error_chain(&e.without_url()),
                    tries.retries,
                    human_duration(delay)
                );
                tokio::time::sleep(delay).await;
                Step::Retry
            }
            Failure::Http(e) => Step::Done(Err(GithubError::Transport {
                request: req.name(),
                detail: error_chain(&e.without_url()),
                attempts: tries.retries + 1,
            })),
        }
    }

    /// Records what every answer tells: statistics, the pacing headers and the
    /// token's scopes. Returns GitHub's clock, when it says (reset times are on it).
    fn note_answer(&self, req: Req<'_>, answer: &Answer) -> Timestamp {
        self.stats.request(
            req.method.as_str(),
            req.route.endpoint,
            Some(answer.status.as_u16()),
        );
        self.limiter.observe(&answer.headers);
        if let Some(scopes) = parse_scopes(&answer.headers) {
            *self.scopes.lock().unwrap_or_else(|p| p.into_inner()) = Some(scopes);
        }
        server_now(&answer.headers).unwrap_or_else(Timestamp::now)
    }

    /// After an answer that is not a rate limit: retry a transient status while
    /// retries remain (honouring a 503's Retry-After within `max_wait`); otherwise
    /// pause if the primary budget is spent, and return the answer (a transient
    /// status out of retries as an error with the attempt count).
    async fn after_answer(
        &self,
        req: Req<'_>,
        answer: Answer,
        now: Timestamp,
        tries: &mut Tries,
    ) -> Step {
        let status = answer.status.as_u16();
        let max_retries = self.config.max_retries;
        if is_transient_status(status) && tries.retries < max_retries {
            tries.retries += 1;
            self.stats.retry();
            let asked = retry_after(&answer.headers, now)
                .unwrap_or_default()
                .min(self.config.max_wait);
            let delay = jittered(self.config.retry_base_delay, tries.retries).max(asked);
            tracing::debug!(
                "{} answered {status}; retry {}/{max_retries} in {}",
                req.name(),
                tries.retries,
                human_duration(delay)
            );
            tokio::time::sleep(delay).await;
            return Step::Retry;
        }
        self.limiter.on_success();
        if let Some(wait) = self.limiter.pause_if_exhausted(now, self.config.max_wait) {
            self.announce_primary(wait, now);
            self.stats.waited(wait);
        }
        if is_transient_status(status) {
            return Step::Done(Err(GithubError::Status {
                request: req.name(),
                status,
                message: answer.message(),
                attempts: tries.retries + 1,
                help: status_help(status),
            }));
        }
        Step::Done(Ok(answer))
    }

    /// After a rate-limited answer: set the shared pause and retry, unless the wait
    /// is longer than allowed or the request has waited too often.
    fn after_limit(
        &self,
        req: Req<'_>,
        limited: &Limited,
        (status, sent): (u16, std::time::Instant),
        now: Timestamp,
        tries: &mut Tries,
    ) -> Step {
        let max_limit_waits = self.config.max_retries.max(MIN_LIMIT_WAITS);
        let primary = matches!(limited, Limited::Primary { reset: Some(_) });
        self.stats
            .limit_hit(matches!(limited, Limited::Primary { .. }));
        let pause = self.limiter.on_limited(
            limited,
            (req.route.endpoint, req.method, sent),
            now,
            self.config.max_wait,
        );
        let reset_at = match limited {
            Limited::Primary { reset } => *reset,
            _ => None,
        };
        if pause.wait > self.config.max_wait || tries.limit_waits >= max_limit_waits {
            return Step::Done(Err(GithubError::RateLimited {
                request: req.name(),
                reset_at,
                wait: pause.wait,
                max_wait: self.config.max_wait,
                waits: tries.limit_waits,
            }));
        }
        tries.limit_waits += 1;
        if pause.announce {
            if primary {
                self.announce_primary(pause.wait, now);
            } else {
                tracing::warn!(
                    "secondary rate limit hit ({} answered {status}); waiting {} before retrying",
                    req.name(),
                    human_duration(pause.wait)
                );
            }
        }
        self.stats.waited(pause.wait);
        Step::Retry
    }

    pub(crate) fn announce_primary(&self, wait: std::time::Duration, now: Timestamp) {
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

    pub(crate) fn decode<T: serde::de::DeserializeOwned>(
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
    pub(crate) async fn for_each_page(
        &self,
        route: &Route,
        expected: Option<u64>,
        mut f: impl FnMut(Vec<serde_json::Value>),
    ) -> Result<(), PageError> {
        self.for_each_page_body(route, expected, |body| {
            let values: Vec<serde_json::Value> =
                serde_json::from_slice(body).map_err(|e| e.to_string())?;
            let count = values.len();
            f(values);
            Ok(count)
        })
        .await
    }

    /// Reads every page of a list endpoint, handing each page's body to `f`, which
    /// decodes it and returns how many entries it held, or why it cannot be decoded.
    pub(crate) async fn for_each_page_body(
        &self,
        route: &Route,
        expected: Option<u64>,
        mut f: impl FnMut(&[u8]) -> Result<usize, String>,
    ) -> Result<(), PageError> {
        self.for_each_page_body_while(route, expected, |body| f(body).map(|n| (n, PageStep::Next)))
            .await
    }

    /// [`Self::for_each_page_body`], where `f` may also stop the listing after a
    /// page ([`PageStep::Stop`]: the pages the caller needs have been read). The page
    /// `route.url` names is the first one read (`page=1` unless the caller set it).
    pub(crate) async fn for_each_page_body_while(
        &self,
        route: &Route,
        expected: Option<u64>,
        mut f: impl FnMut(&[u8]) -> Result<(usize, PageStep), String>,
    ) -> Result<(), PageError> {
        let mut url = route.url.clone();
        let mut page = page_of(&url).unwrap_or(1);
        let mut seen = HashSet::new();
        let mut total: u64 = 0;
        // Bounded by the announced size at the smallest page size GitHub may use.
        let budget = PageBudget::new(expected, SERVER_DEFAULT_PER_PAGE as u64);
        let mut pages: u64 = 0;
        loop {
            pages += 1;
            if let Err(e) = budget.admit(pages) {
                return Err(GithubError::Edge {
                    request: request_name(&Method::GET, route),
                    detail: e.to_string(),
                }
                .into());
            }
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
            let (count, step) = f(&answer.body).map_err(|detail| GithubError::Decode {
                request: request_name(&Method::GET, route),
                detail,
            })?;
            if step == PageStep::Stop {
                return Ok(());
            }
            total += count as u64;
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
    pub(crate) async fn change(&self, method: Method, route: &Route) -> Result<(), DeleteError> {
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
    pub(crate) fn error_for(
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
