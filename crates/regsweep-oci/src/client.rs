//! The registry client handle, its options and counters, and the one request path
//! every operation goes through: adaptive concurrency, retries with backoff, and a
//! single re-authentication on a 401 challenge (see `auth`).
//!
//! The edge rules are `regsweep-transport`'s: redirects stay within the origin of the
//! request, credentials are attached only to the registry's origin or an accepted
//! token realm (https unless loopback), and bodies are read up to the call's cap
//! (4 MiB manifests, 16 MiB otherwise, 64 KiB of an error answer).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use regsweep_core::{Digest, ManifestNode, Redactor};
use regsweep_transport::defaults::{MAX_PAGE_BODY, REGISTRY_BACKOFF};
use regsweep_transport::{
    cross_origin_error, read_capped, AdaptiveConcurrency, BodyError, CredentialPolicy, RealmError,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::OnceCell;
use url::Url;

use crate::auth::{Auth, Authorization, Scope, TokenState};
use crate::disk_cache::DiskCache;
use crate::error::{registry_detail, Access, OciError};
use crate::paths::{label, normalise_base};
use crate::retry;

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct OciOptions {
    /// `User-Agent` sent with every request.
    pub user_agent: String,
    /// Most requests in flight at once, across all calls on this client (default 8).
    pub concurrency: usize,
    /// Retries of a 5xx, 429 or connection error (default 4).
    pub max_retries: u32,
    /// Directory of the content-addressed manifest cache (none by default).
    pub cache_dir: Option<PathBuf>,
    /// Timeout of one request (default 30 s).
    pub timeout: Duration,
    /// Told the client's credentials and every bearer token it learns, so that no
    /// output shows them (default: a redactor no writer uses).
    pub redactor: Redactor,
}

impl Default for OciOptions {
    fn default() -> Self {
        OciOptions {
            user_agent: regsweep_transport::USER_AGENT.to_string(),
            concurrency: 8,
            max_retries: 4,
            cache_dir: None,
            timeout: Duration::from_secs(30),
            redactor: Redactor::new(),
        }
    }
}

/// Request counters, for tests, benchmarks and the final report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OciStats {
    /// HTTP requests sent (every attempt, token requests included).
    pub requests: u64,
    /// Manifest GETs sent to the registry.
    pub manifest_fetches: u64,
    /// Manifests and config blobs served from the memory or disk cache.
    pub cache_hits: u64,
    /// Token requests sent to a token endpoint.
    pub token_fetches: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub manifest_fetches: AtomicU64,
    pub cache_hits: AtomicU64,
    pub token_fetches: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A cell per digest: filled once, awaited by every concurrent caller.
pub(crate) type Cells<T> = Mutex<HashMap<Digest, Arc<OnceCell<T>>>>;

pub(crate) fn cell<T>(cells: &Cells<T>, digest: &Digest) -> Arc<OnceCell<T>> {
    let mut map = cells.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(digest.clone()).or_default().clone()
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    /// For content-addressed blob downloads, which may be redirected to storage
    /// elsewhere (without credentials); see `regsweep_transport::origin`.
    pub content_http: reqwest::Client,
    pub base: Url,
    pub auth: Auth,
    pub options: OciOptions,
    pub limiter: AdaptiveConcurrency,
    /// Where credentials may go; an error for an http base off loopback (then only
    /// anonymous requests are sent).
    pub credentials: Result<CredentialPolicy, RealmError>,
    pub counters: Counters,
    pub tokens: TokenState,
    pub disk: Option<DiskCache>,
    pub nodes: Cells<ManifestNode>,
    pub labels: Cells<BTreeMap<String, String>>,
}

/// A client of one OCI Distribution registry. Cheap to clone (shared state inside);
/// safe to use from many tasks at once.
#[derive(Clone)]
pub struct RegistryClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .finish()
    }
}

/// A request as the operations describe it; `execute` adds auth, retries and limits.
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub scope: Scope,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub read: Read,
}

/// How an answer is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Read {
    /// Largest successful body read.
    pub cap: usize,
    /// What the body is, for the error past the cap.
    pub what: &'static str,
    /// A content-addressed download (verified by digest): may follow a redirect to
    /// storage on another origin, without credentials.
    pub content: bool,
}

impl Call {
    pub fn new(method: Method, url: Url, scope: Scope) -> Self {
        Call {
            method,
            url,
            scope,
            headers: HeaderMap::new(),
            body: None,
            read: Read {
                cap: MAX_PAGE_BODY,
                what: "a registry answer",
                content: false,
            },
        }
    }

    pub fn content_addressed(mut self) -> Self {
        self.read.content = true;
        self
    }

    pub fn cap(mut self, cap: usize, what: &'static str) -> Self {
        self.read.cap = cap;
        self.read.what = what;
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    pub fn label(&self) -> String {
        label(&self.method, &self.url)
    }
}

/// A response, fully read.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl RegistryClient {
    /// A client of the registry at `base` (e.g. `https://ghcr.io`).
    pub fn new(base: Url, auth: Auth, options: OciOptions) -> Result<Self, OciError> {
        let base = normalise_base(base)?;
        match &auth {
            Auth::Basic { username, password } => options.redactor.add_basic(username, password),
            Auth::Bearer(token) => options.redactor.add_secret(token),
            Auth::Anonymous => {}
        }
        let http = regsweep_transport::client_builder(options.timeout, Duration::from_secs(10))
            .user_agent(options.user_agent.clone())
            .build()
            .map_err(OciError::Client)?;
        let content_http =
            regsweep_transport::content_client_builder(options.timeout, Duration::from_secs(10))
                .user_agent(options.user_agent.clone())
                .build()
                .map_err(OciError::Client)?;
        let credentials = CredentialPolicy::new(&base);
        let disk = options.cache_dir.as_ref().map(DiskCache::new);
        let permits = options.concurrency.max(1);
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                http,
                content_http,
                base,
                auth,
                limiter: AdaptiveConcurrency::new(permits),
                credentials,
                options,
                counters: Counters::default(),
                tokens: TokenState::default(),
                disk,
                nodes: Mutex::default(),
                labels: Mutex::default(),
            }),
        })
    }

    /// The registry's base URL.
    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// The request counters so far.
    pub fn stats(&self) -> OciStats {
        let c = &self.inner.counters;
        OciStats {
            requests: c.requests.load(Ordering::Relaxed),
            manifest_fetches: c.manifest_fetches.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            token_fetches: c.token_fetches.load(Ordering::Relaxed),
        }
    }

    /// Sends `call` with authorization, retrying transient failures, and answering one
    /// 401 challenge. Returns whatever status the registry finally answered.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Answer, OciError> {
        let learner = self.inner.tokens.first_answer().await;
        let result = self.execute_authenticated(call).await;
        if result.is_ok() {
            self.inner.tokens.answered();
        }
        drop(learner);
        result
    }

    /// `execute` without the first-answer gate.
    async fn execute_authenticated(&self, call: &Call) -> Result<Answer, OciError> {
        let sent = self.authorization_for(&call.scope).await?;
        let answer = self
            .transport(
                &call.method,
                &call.url,
                &call.headers,
                call.body.as_ref(),
                sent.as_ref(),
                call.read,
            )
            .await?;
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        if !self.answer_challenge(call, &answer, sent.as_ref()).await? {
            return Ok(answer);
        }
        let again = self.authorization_for(&call.scope).await?;
        self.transport(
            &call.method,
            &call.url,
            &call.headers,
            call.body.as_ref(),
            again.as_ref(),
            call.read,
        )
        .await
    }

    /// Whether credentials may be attached to a request to `url`: the registry's
    /// origin, or a token realm the policy accepts; never over http off loopback.
    pub(crate) fn credentials_allowed(&self, url: &Url) -> Result<(), OciError> {
        let edge = |e: RealmError| OciError::Edge {
            request: label(&Method::GET, url),
            detail: e.to_string(),
        };
        let policy = self
            .inner
            .credentials
            .as_ref()
            .map_err(|e| edge(e.clone()))?;
        if policy.check_target(url).is_ok() {
            return Ok(());
        }
        let mut realm = url.clone();
        realm.set_query(None);
        policy.check_realm(realm.as_str()).map(|_| ()).map_err(edge)
    }

    /// One request, retried on connection errors, 5xx and 429. Each attempt holds a
    /// concurrency permit only while it is on the wire.
    pub(crate) async fn transport(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        authorization: Option<&Authorization>,
        read: Read,
    ) -> Result<Answer, OciError> {
        if authorization.is_some() {
            self.credentials_allowed(url)?;
        }
        let max = self.inner.options.max_retries;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let result = {
                let _permit = self.inner.limiter.acquire().await;
                Counters::bump(&self.inner.counters.requests);
                let http = if read.content {
                    &self.inner.content_http
                } else {
                    &self.inner.http
                };
                let mut req = http
                    .request(method.clone(), url.clone())
                    .headers(headers.clone());
                if let Some(a) = authorization {
                    req = a.apply(req);
                }
                if let Some(b) = body {
                    req = req.body(b.clone());
                }
                match req.send().await {
                    Ok(resp) => read_capped(resp, read.cap, read.what).await,
                    Err(e) => Err(BodyError::Read(e)),
                }
            };
            let result = match result {
                Ok(a) => Ok(Answer {
                    status: a.status,
                    headers: a.headers,
                    body: a.body,
                }),
                Err(BodyError::Read(e)) => match cross_origin_error(&e) {
                    Some(redirect) => {
                        return Err(OciError::Edge {
                            request: label(method, url),
                            detail: format!("{redirect}\n  expected an answer from the registry at {}\n  help: check the registry URL; a proxy or a hostile server is redirecting requests", self.inner.base.origin().ascii_serialization()),
                        })
                    }
                    None => Err(e),
                },
                Err(e @ BodyError::TooLarge { .. }) => {
                    return Err(OciError::Edge {
                        request: label(method, url),
                        detail: e.to_string(),
                    })
                }
            };
            if let Ok(answer) = &result {
                if answer.status == StatusCode::TOO_MANY_REQUESTS {
                    if let Some((old, new)) = self.inner.limiter.lower() {
                        tracing::warn!(request = %label(method, url), "the registry answered 429: lowering concurrency from {old} to {new}");
                    }
                } else {
                    self.inner.limiter.on_success();
                }
            }
            let retries_left = attempt <= max;
            match result {
                Ok(answer) if retry::retryable_status(answer.status) && retries_left => {
                    let wait = retry::retry_after(&answer.headers)
                        .unwrap_or_else(|| REGISTRY_BACKOFF.jittered(attempt));
                    tracing::debug!(request = %label(method, url), status = answer.status.as_u16(), ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Ok(answer) if retry::retryable_status(answer.status) => {
                    return Err(OciError::Exhausted {
                        request: label(method, url),
                        status: answer.status.as_u16(),
                        attempts: attempt,
                        detail: registry_detail(&answer.body),
                    })
                }
                Ok(answer) => return Ok(answer),
                Err(e) if retry::retryable_error(&e) && retries_left => {
                    let wait = REGISTRY_BACKOFF.jittered(attempt);
                    tracing::debug!(request = %label(method, url), error = %e, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    return Err(OciError::Transport {
                        request: label(method, url),
                        attempts: attempt,
                        source: e.without_url(),
                    })
                }
            }
        }
    }

    /// The error for an answer an operation did not expect.
    pub(crate) fn status_error(
        &self,
        call: &Call,
        answer: &Answer,
        access: Access,
        expected: &'static str,
    ) -> OciError {
        let request = call.label();
        let detail = registry_detail(&answer.body);
        match answer.status {
            StatusCode::UNAUTHORIZED => OciError::Unauthorized {
                request,
                detail,
                help: self.unauthorized_help(),
            },
            StatusCode::FORBIDDEN => OciError::Forbidden {
                request,
                detail,
                access,
            },
            StatusCode::NOT_FOUND => OciError::NotFound { request },
            StatusCode::METHOD_NOT_ALLOWED => OciError::Unsupported {
                request,
                status: 405,
                detail: detail.trim_start_matches(": ").to_string(),
                help: match access {
                    Access::Delete => "GHCR refuses OCI deletes: delete through the GitHub Packages API; a Distribution registry needs storage.delete.enabled: true",
                    _ => "use a registry that supports this operation",
                },
            },
            status => OciError::Status {
                request,
                status: status.as_u16(),
                detail,
                expected,
            },
        }
    }
}
