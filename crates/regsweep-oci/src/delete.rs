//! Deleting manifests by digest (`DELETE /v2/NAME/manifests/DIGEST`). Deleting by tag
//! is refused before any request: it would delete the manifest and every tag on it.

use regsweep_core::Digest;
use reqwest::{Method, StatusCode};

use crate::auth::Scope;
use crate::client::{Call, RegistryClient};
use crate::error::{Access, OciError};
use crate::paths::{manifest_url, validate_repository, Reference};

impl RegistryClient {
    /// Deletes manifest `digest` (and so every tag pointing at it). 404 is
    /// [`OciError::NotFound`]; 405 is [`OciError::Unsupported`] (GHCR, or a Distribution
    /// registry without `storage.delete.enabled`).
    pub async fn delete_manifest(&self, repo: &str, digest: &Digest) -> Result<(), OciError> {
        validate_repository(repo)?;
        let call = Call::new(
            Method::DELETE,
            manifest_url(&self.inner.base, repo, &Reference::Digest(digest.clone())),
            Scope::delete(repo),
        );
        let answer = self.execute(&call).await?;
        match answer.status {
            StatusCode::ACCEPTED | StatusCode::OK | StatusCode::NO_CONTENT => {
                self.forget_node(digest);
                Ok(())
            }
            _ => Err(self.status_error(&call, &answer, Access::Delete, "202 Accepted")),
        }
    }

    /// Deletes by a reference given as text: a digest is deleted, a tag is refused with
    /// [`OciError::DeleteByTag`] without contacting the registry.
    pub async fn delete_reference(&self, repo: &str, reference: &str) -> Result<(), OciError> {
        validate_repository(repo)?;
        match Reference::parse(reference)? {
            Reference::Digest(d) => self.delete_manifest(repo, &d).await,
            Reference::Tag(tag) => Err(OciError::DeleteByTag {
                repo: repo.to_string(),
                tag,
            }),
        }
    }
}
