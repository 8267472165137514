//! Pushing blobs and manifests (used by the emulator and tests to fill a registry).
//!
//! Blobs: HEAD first (and remembered per repository), else `POST …/blobs/uploads/` then
//! `PUT <Location>?digest=…` with the bytes, the Location resolved whether relative or
//! absolute and whatever query it already has. Manifests: `PUT …/manifests/REF`.

use std::sync::Arc;

use bytes::Bytes;
use regsweep_core::Digest;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use tokio::sync::OnceCell;

use crate::auth::Scope;
use crate::client::{Call, RegistryClient};
use crate::digest::sha256_digest;
use crate::error::{Access, OciError};
use crate::paths::{blob_url, manifest_url, v2, validate_repository, Reference};

impl RegistryClient {
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
    pub async fn push_blob(&self, repo: &str, data: Bytes) -> Result<Digest, OciError> {
        validate_repository(repo)?;
        let digest = sha256_digest(&data);
        self.blob_cell(repo, &digest)
            .get_or_try_init(|| self.upload_blob(repo, &digest, data))
            .await?;
        Ok(digest)
    }

    async fn upload_blob(&self, repo: &str, digest: &Digest, data: Bytes) -> Result<(), OciError> {
        let digest = digest.clone();
        let head = Call::new(
            Method::HEAD,
            blob_url(&self.inner.base, repo, &digest),
            Scope::push(repo),
        );
        let answer = self.execute(&head).await?;
        match answer.status {
            StatusCode::OK => return Ok(()),
            StatusCode::NOT_FOUND => {}
            _ => return Err(self.status_error(&head, &answer, Access::Push, "200 or 404")),
        }

        let start = Call::new(
            Method::POST,
            v2(&self.inner.base, &format!("{repo}/blobs/uploads/")),
            Scope::push(repo),
        );
        let answer = self.execute(&start).await?;
        if answer.status != StatusCode::ACCEPTED {
            return Err(self.status_error(&start, &answer, Access::Push, "202 with a Location"));
        }
        let location = answer
            .header(LOCATION.as_str())
            .ok_or_else(|| OciError::BadResponse {
                request: start.label(),
                detail: "202 without a Location header".to_string(),
            })?;
        let mut upload = start
            .url
            .join(location)
            .map_err(|e| OciError::BadResponse {
                request: start.label(),
                detail: format!("the Location `{location}` is not a URL: {e}"),
            })?;
        upload
            .query_pairs_mut()
            .append_pair("digest", digest.as_str());
        let put = Call::new(Method::PUT, upload, Scope::push(repo))
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(data);
        let answer = self.execute(&put).await?;
        if !answer.status.is_success() {
            return Err(self.status_error(&put, &answer, Access::Push, "201 Created"));
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
    ) -> Result<Digest, OciError> {
        validate_repository(repo)?;
        let r = Reference::parse(reference)?;
        let digest = sha256_digest(&body);
        let url = manifest_url(&self.inner.base, repo, &r);
        if let Reference::Digest(d) = &r {
            if d != &digest {
                return Err(OciError::DigestMismatch {
                    request: crate::paths::label(&Method::PUT, &url),
                    expected: d.clone(),
                    actual: digest.to_string(),
                });
            }
        }
        let put = Call::new(Method::PUT, url, Scope::push(repo))
            .header(CONTENT_TYPE, media_type)
            .body(body);
        let answer = self.execute(&put).await?;
        if !answer.status.is_success() {
            return Err(self.status_error(&put, &answer, Access::Push, "201 Created"));
        }
        if let Some(h) = answer.header("docker-content-digest") {
            if h.trim() != digest.as_str() {
                return Err(OciError::DigestMismatch {
                    request: put.label(),
                    expected: digest,
                    actual: h.trim().to_string(),
                });
            }
        }
        Ok(digest)
    }
}
