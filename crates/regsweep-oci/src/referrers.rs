//! The OCI 1.1 referrers API (`GET /v2/NAME/referrers/DIGEST`): the manifests whose
//! `subject` is a digest. Registries without the API (GHCR, Distribution 2.x) answer
//! 404 or 405, reported as `None` so callers fall back to `subject` fields and the
//! `sha256-<hex>` tag schema.

use std::collections::BTreeMap;

use regsweep_core::graph::OCI_INDEX;
use regsweep_core::Digest;
use regsweep_transport::defaults::MAX_MANIFEST_BODY;
use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::auth::Scope;
use crate::client::{Call, RegistryClient};
use crate::error::{Access, OciError};
use crate::paths::{v2, validate_repository};

/// One descriptor of a referrers list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Referrer {
    pub digest: Digest,
    #[serde(default)]
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ReferrersIndex {
    #[serde(default)]
    manifests: Option<Vec<Referrer>>,
}

impl RegistryClient {
    /// The referrers of `digest`, or `None` when the registry has no referrers API.
    pub async fn referrers(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> Result<Option<Vec<Referrer>>, OciError> {
        validate_repository(repo)?;
        let mut out = Vec::new();
        let mut visited = std::collections::HashSet::new();
        let mut next = Some(v2(&self.inner.base, &format!("{repo}/referrers/{digest}")));
        while let Some(url) = next.take() {
            if !visited.insert(url.to_string()) {
                break;
            }
            let call = Call::new(Method::GET, url, Scope::pull(repo))
                .header(ACCEPT, OCI_INDEX)
                .cap(MAX_MANIFEST_BODY, "a referrers index");
            let answer = self.execute(&call).await?;
            match answer.status {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED if out.is_empty() => {
                    return Ok(None)
                }
                _ => {
                    return Err(self.status_error(
                        &call,
                        &answer,
                        Access::Read,
                        "200 with an image index",
                    ))
                }
            }
            let index: ReferrersIndex =
                serde_json::from_slice(&answer.body).map_err(|e| OciError::BadResponse {
                    request: call.label(),
                    detail: format!("the referrers list is not an image index: {e}"),
                })?;
            out.extend(index.manifests.unwrap_or_default());
            next = self.follow(&call, &answer)?;
        }
        Ok(Some(out))
    }
}
