//! Moving and removing tags, for untagging and for restoring a removed tag:
//! pushing a manifest under a tag (`PUT /v2/NAME/manifests/TAG`, which moves the
//! tag to it), deleting a tag where the registry supports it (`DELETE
//! /v2/NAME/manifests/TAG`, OCI 1.1 / Distribution v3), and the tiny placeholder
//! manifest pushed to take a tag away from a kept image where it does not.
//!
//! Only manifests are pushed, never blobs: the placeholder is an empty image index,
//! which references nothing, and a restored manifest's blobs and children are still
//! in the registry (its version was kept).

use bytes::Bytes;
use regsweep_core::Digest;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};

use crate::auth::Scope;
use crate::client::{Call, RegistryClient};
use crate::digest::{sha256_digest, verify_digest};
use crate::error::{registry_detail, Access, OciError};
use crate::paths::{manifest_url, validate_repository, Reference};

/// The placeholder's media type: an OCI image index.
pub const PLACEHOLDER_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// The annotation naming the tag a placeholder took away, and the one naming the
/// digest it took it from.
pub const PLACEHOLDER_TAG_ANNOTATION: &str = "dev.regsweep.untag.tag";
pub const PLACEHOLDER_FROM_ANNOTATION: &str = "dev.regsweep.untag.from";

/// A placeholder manifest that takes `tag` away from `from`: an empty OCI image
/// index (no blobs to upload, nothing to pull), annotated with the tag, the digest
/// and `stamp` (a timestamp) so every placeholder has its own digest.
pub fn placeholder(tag: &str, from: &Digest, stamp: &str) -> Bytes {
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": PLACEHOLDER_MEDIA_TYPE,
        "manifests": [],
        "annotations": {
            "org.opencontainers.image.created": stamp,
            PLACEHOLDER_TAG_ANNOTATION: tag,
            PLACEHOLDER_FROM_ANNOTATION: from.as_str(),
        },
    });
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

/// What a tag DELETE did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagDelete {
    /// The registry removed the tag.
    Deleted,
    /// The tag was not there.
    NotFound,
    /// The registry does not delete tags (400 or 405, as Distribution 2.x and GHCR
    /// answer): use a placeholder.
    Unsupported,
}

impl RegistryClient {
    /// Pushes `body` (of `media_type`) under `tag`, which moves the tag to it.
    /// Returns the manifest's digest (checked against `Docker-Content-Digest`).
    /// A 401/403 is an error saying the token lacks write access.
    pub async fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        media_type: &str,
        body: Bytes,
    ) -> Result<Digest, OciError> {
        validate_repository(repo)?;
        let reference = Reference::parse(tag)?;
        let digest = sha256_digest(&body);
        let mut call = Call::new(
            Method::PUT,
            manifest_url(&self.inner.base, repo, &reference),
            Scope::push(repo),
        )
        .header(CONTENT_TYPE, media_type);
        call.body = Some(body);
        let answer = self.execute(&call).await?;
        match answer.status {
            StatusCode::CREATED | StatusCode::OK | StatusCode::ACCEPTED => {}
            _ => return Err(self.status_error(&call, &answer, Access::Push, "201 Created")),
        }
        if let Some(h) = answer.header("docker-content-digest") {
            let reported = Digest::parse(h.trim()).map_err(|e| OciError::BadResponse {
                request: call.label(),
                detail: format!("bad Docker-Content-Digest header: {e}"),
            })?;
            if reported != digest {
                return Err(OciError::DigestMismatch {
                    request: call.label(),
                    expected: digest,
                    actual: reported.as_str().to_string(),
                });
            }
        }
        if let Some(b) = &call.body {
            verify_digest(&digest, b).map_err(|e| OciError::DigestMismatch {
                request: call.label(),
                expected: digest.clone(),
                actual: e.actual,
            })?;
        }
        Ok(digest)
    }

    /// Deletes `tag` alone (the manifest and its other tags stay) where the
    /// registry supports it; [`TagDelete::Unsupported`] where it answers 400 or 405.
    pub async fn delete_tag(&self, repo: &str, tag: &str) -> Result<TagDelete, OciError> {
        validate_repository(repo)?;
        let reference = Reference::parse(tag)?;
        if matches!(reference, Reference::Digest(_)) {
            return Err(OciError::InvalidReference {
                reference: tag.to_string(),
            });
        }
        let call = Call::new(
            Method::DELETE,
            manifest_url(&self.inner.base, repo, &reference),
            Scope::delete(repo),
        );
        let answer = self.execute(&call).await?;
        match answer.status {
            StatusCode::ACCEPTED | StatusCode::OK | StatusCode::NO_CONTENT => {
                Ok(TagDelete::Deleted)
            }
            StatusCode::NOT_FOUND => Ok(TagDelete::NotFound),
            StatusCode::BAD_REQUEST | StatusCode::METHOD_NOT_ALLOWED => {
                tracing::debug!(
                    request = %call.label(),
                    status = answer.status.as_u16(),
                    detail = %registry_detail(&answer.body),
                    "the registry does not delete tags"
                );
                Ok(TagDelete::Unsupported)
            }
            _ => Err(self.status_error(&call, &answer, Access::Delete, "202 Accepted")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_empty_indexes_with_their_own_digest() {
        let from = sha256_digest(b"image");
        let a = placeholder("pr-1", &from, "2026-12-01T00:00:00.000000001Z");
        let b = placeholder("pr-1", &from, "2026-12-01T00:00:00.000000002Z");
        assert_ne!(sha256_digest(&a), sha256_digest(&b));
        let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(v["manifests"], serde_json::json!([]));
        assert_eq!(v["mediaType"], PLACEHOLDER_MEDIA_TYPE);
        assert_eq!(v["annotations"][PLACEHOLDER_TAG_ANNOTATION], "pr-1");
        assert_eq!(v["annotations"][PLACEHOLDER_FROM_ANNOTATION], from.as_str());
    }
}
