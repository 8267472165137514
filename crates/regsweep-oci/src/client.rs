//! The registry client handle, its options and counters, and the one request path
//! every operation goes through: bounded concurrency, retries with backoff, and a
//! single re-authentication on a 401 challenge (see `auth`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use regsweep_core::{Digest, ManifestNode, Redactor};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use crate::auth::{Auth, Authorization, Scope, TokenState};
use crate::disk_cache::DiskCache;
use crate::error::{registry_detail, Access, OciError};
use crate::paths::{label, normalise_base};
use crate::retry;

/// Largest response body read (manifests are at most 4 MiB by the spec).
const MAX_BODY: usize = 32 * 1024 * 1024;

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
            user_agent: format!("regsweep/{}", env!("CARGO_PKG_VERSION")),
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

/// Blobs known to be in a repository (or being uploaded), keyed by (repository, digest).
pub(crate) type BlobCells = Mutex<HashMap<(String, Digest), Arc<OnceCell<()>>>>;

pub(crate) fn cell<T>(cells: &Cells<T>, digest: &Digest) -> Arc<OnceCell<T>> {
    let mut map = cells.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(digest.clone()).or_default().clone()
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub base: Url,
    pub auth: Auth,
    pub options: OciOptions,
    pub limiter: Semaphore,
    pub counters: Counters,
    pub tokens: TokenState,
    pub disk: Option<DiskCache>,
    pub nodes: Cells<ManifestNode>,
    pub labels: Cells<BTreeMap<String, String>>,
    pub known_blobs: BlobCells,
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
}

impl Call {
    pub fn new(method: Method, url: Url, scope: Scope) -> Self {
        Call {
            method,
            url,
            scope,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    pub fn body(mut self, body: Bytes) -> Self {
        self.body = Some(body);
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
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(OciError::Client)?;
        let disk = options.cache_dir.as_ref().map(DiskCache::new);
        let permits = options.concurrency.max(1);
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                limiter: Semaphore::new(permits),
                options,
                counters: Counters::default(),
                tokens: TokenState::default(),
                disk,
                nodes: Mutex::default(),
                labels: Mutex::default(),
                known_blobs: Mutex::default(),
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
        )
        .await
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
    ) -> Result<Answer, OciError> {
        let max = self.inner.options.max_retries;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let result = {
                let _permit = self.inner.limiter.acquire().await;
                Counters::bump(&self.inner.counters.requests);
                let mut req = self
                    .inner
                    .http
                    .request(method.clone(), url.clone())
                    .headers(headers.clone());
                if let Some(a) = authorization {
                    req = a.apply(req);
                }
                if let Some(b) = body {
                    req = req.body(b.clone());
                }
                match req.send().await {
                    Ok(resp) => read_answer(resp).await,
                    Err(e) => Err(e),
                }
            };
            let retries_left = attempt <= max;
            match result {
                Ok(answer) if retry::retryable_status(answer.status) && retries_left => {
                    let wait = retry::retry_after(&answer.headers)
                        .unwrap_or_else(|| retry::jittered(attempt));
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
                    let wait = retry::jittered(attempt);
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

async fn read_answer(mut resp: reqwest::Response) -> Result<Answer, reqwest::Error> {
    let status = resp.status();
    let headers = std::mem::take(resp.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            // Keep what fits; the caller's digest check or parser rejects it.
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        body: Bytes::from(body),
    })
}
