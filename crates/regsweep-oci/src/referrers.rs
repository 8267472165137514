//! The OCI 1.1 referrers API (`GET /v2/NAME/referrers/DIGEST`): the manifests whose
//! `subject` is a digest. Registries without the API (GHCR, Distribution 2.x) answer
//! 404 or 405, reported as `None` so callers fall back to `subject` fields and the
//! `sha256-<hex>` tag schema.

use std::collections::BTreeMap;

use regsweep_core::graph::OCI_INDEX;
use regsweep_core::json_object::Object;
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

/// The referrers index; it and its descriptors are read from JSON objects only
/// ([`Object`]: serde's derive would read a descriptor written as an array).
#[derive(Deserialize)]
struct ReferrersIndex {
    #[serde(default)]
    manifests: Option<Vec<Object<Referrer>>>,
}

/// The referrers a referrers-index body lists.
fn parse_index(body: &[u8]) -> Result<Vec<Referrer>, serde_json::Error> {
    let Object(index) = serde_json::from_slice::<Object<ReferrersIndex>>(body)?;
    Ok(index
        .manifests
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.0)
        .collect())
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
            let listed = parse_index(&answer.body).map_err(|e| OciError::BadResponse {
                request: call.label(),
                detail: format!("the referrers list is not an image index: {e}"),
            })?;
            out.extend(listed);
            next = self.follow(&call, &answer)?;
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrers_are_read_from_objects_only() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let listed = parse_index(
            format!(r#"{{"manifests":[{{"digest":"{digest}","artifactType":"x"}}]}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].artifact_type.as_deref(), Some("x"));
        for body in [
            format!(r#"{{"manifests":[["{digest}", "x"]]}}"#),
            format!(r#"[[["{digest}"]]]"#),
        ] {
            assert!(parse_index(body.as_bytes()).is_err(), "{body}");
        }
    }
}
