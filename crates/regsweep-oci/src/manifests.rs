//! Reading manifests and config labels: GET and HEAD by tag or digest with digest
//! verification, and `read_node` / `read_labels`, cached by digest in memory (coalesced:
//! concurrent readers of one digest share one request) and on disk.
//!
//! The caches hold content, which a digest fixes for ever; they do not prove that a
//! repository still holds the manifest (the inventory does that).

use std::collections::BTreeMap;

use bytes::Bytes;
use regsweep_core::graph::{parse_config_labels, parse_manifest, ACCEPT_MANIFESTS};
use regsweep_core::{Digest, ManifestNode};
use regsweep_transport::defaults::MAX_MANIFEST_BODY;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};

use crate::auth::Scope;
use crate::client::{cell, Answer, Call, Counters, RegistryClient};
use crate::digest::{sha256_digest, verify_digest};
use crate::error::{Access, OciError};
use crate::paths::{blob_url, manifest_url, validate_repository, Reference};

/// sha256 of `{}`: the OCI empty descriptor, which has no labels to read.
pub const EMPTY_JSON_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// A manifest as the registry served it, its digest verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedManifest {
    pub digest: Digest,
    /// `Content-Type` without parameters, or the body's `mediaType` when the registry
    /// sent a generic type; empty when neither says.
    pub media_type: String,
    pub body: Bytes,
}

enum Fail {
    Missing,
    Error(OciError),
}

/// The manifest's media type: the `Content-Type` unless generic, else the body's own.
fn media_type_of(content_type: Option<&str>, body: &[u8]) -> String {
    let ct = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .filter(|c| !c.is_empty() && c != "application/json" && c != "application/octet-stream");
    if let Some(ct) = ct {
        return ct;
    }
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(default, rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Typed>(body)
        .ok()
        .and_then(|t| t.media_type)
        .unwrap_or_default()
}

impl RegistryClient {
    fn digest_header(call: &Call, answer: &Answer) -> Result<Option<Digest>, OciError> {
        answer
            .header("docker-content-digest")
            .map(|h| {
                Digest::parse(h.trim()).map_err(|e| OciError::BadResponse {
                    request: call.label(),
                    detail: format!("bad Docker-Content-Digest header: {e}"),
                })
            })
            .transpose()
    }

    /// GETs a manifest by tag or digest. `None` when the registry answers 404. The body
    /// is checked against the requested digest and the `Docker-Content-Digest` header.
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<FetchedManifest>, OciError> {
        validate_repository(repo)?;
        let r = Reference::parse(reference)?;
        let call = Call::new(
            Method::GET,
            manifest_url(&self.inner.base, repo, &r),
            Scope::pull(repo),
        )
        .header(ACCEPT, &ACCEPT_MANIFESTS.join(", "))
        .cap(MAX_MANIFEST_BODY, "a manifest");
        Counters::bump(&self.inner.counters.manifest_fetches);
        let answer = self.execute(&call).await?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => {
                return Err(self.status_error(
                    &call,
                    &answer,
                    Access::Read,
                    "200 with the manifest",
                ))
            }
        }
        let header = Self::digest_header(&call, &answer)?;
        let mismatch = |expected: &Digest, actual: String| OciError::DigestMismatch {
            request: call.label(),
            expected: expected.clone(),
            actual,
        };
        let digest = match (&r, header) {
            (Reference::Digest(d), Some(h)) => {
                verify_digest(&h, &answer.body).map_err(|e| mismatch(&h, e.actual))?;
                d.clone()
            }
            (Reference::Digest(d), None) => d.clone(),
            (Reference::Tag(_), Some(h)) => h,
            (Reference::Tag(_), None) => sha256_digest(&answer.body),
        };
        verify_digest(&digest, &answer.body).map_err(|e| mismatch(&digest, e.actual))?;
        Ok(Some(FetchedManifest {
            digest,
            media_type: media_type_of(answer.header("content-type"), &answer.body),
            body: answer.body,
        }))
    }

    /// HEADs a manifest: its digest and media type without the body. `None` on 404.
    /// Falls back to a GET when the registry sends no `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(Digest, String)>, OciError> {
        validate_repository(repo)?;
        let r = Reference::parse(reference)?;
        let call = Call::new(
            Method::HEAD,
            manifest_url(&self.inner.base, repo, &r),
            Scope::pull(repo),
        )
        .header(ACCEPT, &ACCEPT_MANIFESTS.join(", "));
        let answer = self.execute(&call).await?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(self.status_error(&call, &answer, Access::Read, "200")),
        }
        let media_type = media_type_of(answer.header("content-type"), b"");
        match Self::digest_header(&call, &answer)? {
            Some(d) if media_type.is_empty() => {
                // No usable Content-Type: the body says.
                Ok(self
                    .get_manifest(repo, d.as_str())
                    .await?
                    .map(|m| (m.digest, m.media_type)))
            }
            Some(d) => Ok(Some((d, media_type))),
            None => Ok(self
                .get_manifest(repo, reference)
                .await?
                .map(|m| (m.digest, m.media_type))),
        }
    }

    /// The parsed manifest `digest` of `repo`; `None` when the registry has no such
    /// manifest. Each digest is fetched at most once per client (concurrent callers
    /// wait for the one request) and is read from the disk cache when there.
    pub async fn read_node(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> Result<Option<ManifestNode>, OciError> {
        validate_repository(repo)?;
        let cell = cell(&self.inner.nodes, digest);
        let mut ran = false;
        let result = cell
            .get_or_try_init(|| {
                ran = true;
                self.load_node(repo, digest)
            })
            .await;
        match result {
            Ok(node) => {
                if !ran {
                    Counters::bump(&self.inner.counters.cache_hits);
                }
                Ok(Some(node.clone()))
            }
            Err(Fail::Missing) => Ok(None),
            Err(Fail::Error(e)) => Err(e),
        }
    }

    async fn load_node(&self, repo: &str, digest: &Digest) -> Result<ManifestNode, Fail> {
        if let Some(disk) = &self.inner.disk {
            if let Some(entry) = disk.get(digest).await {
                Counters::bump(&self.inner.counters.cache_hits);
                let ct = Some(entry.media_type.as_str()).filter(|m| !m.is_empty());
                return parse_manifest(digest, ct, &entry.body).map_err(|e| Fail::Error(e.into()));
            }
        }
        let fetched = match self.get_manifest(repo, digest.as_str()).await {
            Ok(Some(m)) => m,
            Ok(None) => return Err(Fail::Missing),
            Err(e) => return Err(Fail::Error(e)),
        };
        let ct = Some(fetched.media_type.as_str()).filter(|m| !m.is_empty());
        let node = parse_manifest(digest, ct, &fetched.body).map_err(|e| Fail::Error(e.into()))?;
        if let Some(disk) = &self.inner.disk {
            disk.put(digest, &fetched.media_type, &fetched.body).await;
        }
        Ok(node)
    }

    /// Forgets a digest from the memory cache (after it was deleted).
    pub(crate) fn forget_node(&self, digest: &Digest) {
        let mut map = self.inner.nodes.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(digest);
    }

    /// The labels of a manifest: its config blob's `Labels`, overridden by the
    /// manifest's own annotations. Config blobs are cached by digest.
    pub async fn read_labels(
        &self,
        repo: &str,
        node: &ManifestNode,
    ) -> Result<BTreeMap<String, String>, OciError> {
        validate_repository(repo)?;
        let mut labels = match &node.config {
            Some(c) if c.as_str() != EMPTY_JSON_DIGEST => self.config_labels(repo, c).await?,
            _ => BTreeMap::new(),
        };
        labels.extend(node.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(labels)
    }

    async fn config_labels(
        &self,
        repo: &str,
        config: &Digest,
    ) -> Result<BTreeMap<String, String>, OciError> {
        let cell = cell(&self.inner.labels, config);
        let mut ran = false;
        let labels = cell
            .get_or_try_init(|| {
                ran = true;
                self.load_config_labels(repo, config)
            })
            .await?;
        if !ran {
            Counters::bump(&self.inner.counters.cache_hits);
        }
        Ok(labels.clone())
    }

    async fn load_config_labels(
        &self,
        repo: &str,
        config: &Digest,
    ) -> Result<BTreeMap<String, String>, OciError> {
        if let Some(disk) = &self.inner.disk {
            if let Some(entry) = disk.get(config).await {
                Counters::bump(&self.inner.counters.cache_hits);
                return Ok(parse_config_labels(&entry.body));
            }
        }
        let call = Call::new(
            Method::GET,
            blob_url(&self.inner.base, repo, config),
            Scope::pull(repo),
        )
        .content_addressed();
        let answer = self.execute(&call).await?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                tracing::warn!(repo, config = %config, "config blob missing; reading no labels from it");
                return Ok(BTreeMap::new());
            }
            _ => {
                return Err(self.status_error(
                    &call,
                    &answer,
                    Access::Read,
                    "200 with the config blob",
                ))
            }
        }
        verify_digest(config, &answer.body).map_err(|e| OciError::DigestMismatch {
            request: call.label(),
            expected: config.clone(),
            actual: e.actual,
        })?;
        if let Some(disk) = &self.inner.disk {
            let ct = answer.header(CONTENT_TYPE.as_str()).unwrap_or("");
            disk.put(config, ct, &answer.body).await;
        }
        Ok(parse_config_labels(&answer.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let oci = "application/vnd.oci.image.manifest.v1+json";
        assert_eq!(media_type_of(Some(oci), b"{}"), oci);
        assert_eq!(
            media_type_of(Some(&format!("{oci}; charset=utf-8")), b""),
            oci
        );
        let body = format!(r#"{{"mediaType":"{oci}"}}"#);
        assert_eq!(
            media_type_of(Some("application/json"), body.as_bytes()),
            oci
        );
        assert_eq!(media_type_of(None, body.as_bytes()), oci);
        assert_eq!(media_type_of(None, b"garbage"), "");
    }

    #[test]
    fn empty_json_digest_is_right() {
        assert_eq!(sha256_digest(b"{}").as_str(), EMPTY_JSON_DIGEST);
    }
}
