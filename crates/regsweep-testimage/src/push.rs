//! Pushing blobs and manifests into a test registry: the local CNCF Distribution the
//! tests and the emulator start on 127.0.0.1, anonymous (no credentials are ever sent).
//!
//! Blobs: HEAD first (and remembered per repository), else `POST …/blobs/uploads/` then
//! `PUT <Location>?digest=…` with the bytes, the Location resolved whether relative or
//! absolute and whatever query it already has. Manifests: `PUT …/manifests/REF`, checked
//! against a digest reference and the registry's `Docker-Content-Digest`. At most
//! [`CONCURRENCY`] requests are in flight per pusher.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use regsweep_core::Digest;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

/// Requests in flight at most, per pusher (hundreds of concurrent image pushes stay
/// within the open-file limit of the test registry and of the test).
pub const CONCURRENCY: usize = 16;

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// No answer (connection refused, reset, …).
    #[error("{request}: no answer from the test registry ({source}); is it running?")]
    Http {
        request: String,
        #[source]
        source: reqwest::Error,
    },
    /// An answer other than the one expected.
    #[error("{request} answered {status}, expected {expected}: {body}")]
    Status {
        request: String,
        status: StatusCode,
        expected: &'static str,
        body: String,
    },
    /// An answer missing what the protocol requires.
    #[error("{request}: {detail}")]
    BadResponse { request: String, detail: String },
    /// A manifest's bytes do not have the digest named (by the reference, or by the
    /// registry's `Docker-Content-Digest`).
    #[error("{request}: the manifest's digest is {actual}, but {named} was named for it")]
    DigestMismatch {
        request: String,
        named: String,
        actual: Digest,
    },
}

/// The sha256 digest of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> Digest {
    let hex = hex::encode(Sha256::digest(bytes));
    Digest::from_sha256_hex(&hex).unwrap_or_else(|_| unreachable!("sha256 hex is a digest"))
}

/// Blobs known to be in a repository (or being uploaded), keyed by (repository, digest).
type BlobCells = Mutex<HashMap<(String, Digest), Arc<OnceCell<()>>>>;

struct Inner {
    http: reqwest::Client,
    base: Url,
    slots: Semaphore,
    known_blobs: BlobCells,
    requests: AtomicU64,
}

/// Pushes into one registry. Cheap to clone (shared state inside); safe to use from
/// many tasks at once.
#[derive(Clone)]
pub struct Pusher {
    inner: Arc<Inner>,
}

/// An answer: its status, the headers pushing needs, and the body (for errors).
struct Answer {
    status: StatusCode,
    location: Option<String>,
    content_digest: Option<String>,
    body: String,
}

fn label(method: &Method, url: &Url) -> String {
    format!("{method} {}", url.path())
}

impl Pusher {
    /// A pusher into the registry at `base` (e.g. `http://127.0.0.1:5000/`).
    pub fn new(base: Url) -> Self {
        Pusher {
            inner: Arc::new(Inner {
                http: reqwest::Client::new(),
                base,
                slots: Semaphore::new(CONCURRENCY),
                known_blobs: Mutex::default(),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn v2(&self, rest: &str) -> Url {
        let mut url = self.inner.base.clone();
        let path = format!("{}/v2/{rest}", self.inner.base.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        content_type: Option<&str>,
        body: Option<Bytes>,
    ) -> Result<Answer, PushError> {
        let request = label(&method, &url);
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .unwrap_or_else(|_| unreachable!("the semaphore is never closed"));
        let mut req = self.inner.http.request(method, url);
        if let Some(t) = content_type {
            req = req.header(CONTENT_TYPE, t);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let resp = req.send().await.map_err(|source| PushError::Http {
            request: request.clone(),
            source,
        })?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = resp.status();
        let location = header(LOCATION.as_str());
        let content_digest = header("docker-content-digest");
        let body = resp.text().await.unwrap_or_default();
        Ok(Answer {
            status,
            location,
            content_digest,
            body,
        })
    }

    fn status_error(request: String, answer: Answer, expected: &'static str) -> PushError {
        PushError::Status {
            request,
            status: answer.status,
            expected,
            body: answer.body,
        }
    }

    /// The cell of blob `digest` in `repo`: filled once it is known to be there, so
    /// concurrent pushes of one blob make one upload.
    fn blob_cell(&self, repo: &str, digest: &Digest) -> Arc<OnceCell<()>> {
        let mut map = self
            .inner
            .known_blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry((repo.to_string(), digest.clone()))
            .or_default()
            .clone()
    }

    /// Uploads `data` as a blob of `repo` unless it is already there; returns its digest.
    pub async fn push_blob(&self, repo: &str, data: Bytes) -> Result<Digest, PushError> {
        let digest = sha256_digest(&data);
        self.blob_cell(repo, &digest)
            .get_or_try_init(|| self.upload_blob(repo, &digest, data))
            .await?;
        Ok(digest)
    }

    async fn upload_blob(&self, repo: &str, digest: &Digest, data: Bytes) -> Result<(), PushError> {
        let url = self.v2(&format!("{repo}/blobs/{digest}"));
        let request = label(&Method::HEAD, &url);
        let answer = self.send(Method::HEAD, url, None, None).await?;
        match answer.status {
            StatusCode::OK => return Ok(()),
            StatusCode::NOT_FOUND => {}
            _ => return Err(Self::status_error(request, answer, "200 or 404")),
        }

        let start = self.v2(&format!("{repo}/blobs/uploads/"));
        let request = label(&Method::POST, &start);
        let answer = self.send(Method::POST, start.clone(), None, None).await?;
        if answer.status != StatusCode::ACCEPTED {
            return Err(Self::status_error(request, answer, "202 with a Location"));
        }
        let location = answer
            .location
            .as_deref()
            .ok_or_else(|| PushError::BadResponse {
                request: request.clone(),
                detail: "202 without a Location header".to_string(),
            })?;
        let mut upload = start.join(location).map_err(|e| PushError::BadResponse {
            request: request.clone(),
            detail: format!("the Location `{location}` is not a URL: {e}"),
        })?;
        upload
            .query_pairs_mut()
            .append_pair("digest", digest.as_str());
        let request = label(&Method::PUT, &upload);
        let answer = self
            .send(
                Method::PUT,
                upload,
                Some("application/octet-stream"),
                Some(data),
            )
            .await?;
        if !answer.status.is_success() {
            return Err(Self::status_error(request, answer, "201 Created"));
        }
        Ok(())
    }

    /// Uploads a manifest under `reference` (a tag, or its own digest); returns its digest.
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: Bytes,
    ) -> Result<Digest, PushError> {
        let digest = sha256_digest(&body);
        let url = self.v2(&format!("{repo}/manifests/{reference}"));
        let request = label(&Method::PUT, &url);
        if reference.contains(':') && reference != digest.as_str() {
            return Err(PushError::DigestMismatch {
                request,
                named: reference.to_string(),
                actual: digest,
            });
        }
        let answer = self
            .send(Method::PUT, url, Some(media_type), Some(body))
            .await?;
        if !answer.status.is_success() {
            return Err(Self::status_error(request, answer, "201 Created"));
        }
        if let Some(h) = &answer.content_digest {
            if h.trim() != digest.as_str() {
                return Err(PushError::DigestMismatch {
                    request,
                    named: format!("the registry's Docker-Content-Digest {}", h.trim()),
                    actual: digest,
                });
            }
        }
        Ok(digest)
    }
}
