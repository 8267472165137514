//! Talks to the backing OCI registry: mirrors API deletions and restorations into it
//! (delete a manifest by digest, push a kept manifest back with its tags) and forwards
//! GHCR-surface reads to it.

use bytes::Bytes;
use regsweep_core::Digest;
use url::Url;

use crate::world::Restored;

/// The registry behind the emulator.
#[derive(Clone, Debug)]
pub(crate) struct Backing {
    pub url: Url,
    http: reqwest::Client,
}

/// A forwarded answer.
pub(crate) struct Forwarded {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Headers passed back from the registry to GHCR-surface clients.
const PASS: &[&str] = &[
    "content-type",
    "content-length",
    "docker-content-digest",
    "docker-distribution-api-version",
    "etag",
    "link",
];

impl Backing {
    pub fn new(url: Url) -> Self {
        Backing {
            url,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(16)
                .build()
                .unwrap_or_default(),
        }
    }

    fn manifest_url(&self, repository: &str, reference: &str) -> String {
        format!(
            "{}v2/{repository}/manifests/{reference}",
            self.url.as_str().trim_end_matches('/').to_string() + "/"
        )
    }

    /// Deletes a manifest by digest; a manifest already gone is fine.
    pub async fn delete(&self, repository: &str, digest: &Digest) {
        let url = self.manifest_url(repository, digest.as_str());
        match self.http.delete(&url).send().await {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 404 => {}
            Ok(r) => {
                tracing::warn!(status = r.status().as_u16(), %url, "backing registry refused a manifest delete")
            }
            Err(e) => tracing::warn!(%url, "backing registry unreachable for a delete: {e}"),
        }
    }

    /// Pushes restored manifests back (children before indexes: a pass retries what the
    /// registry refused because a child was not back yet), then their tags.
    pub async fn restore(&self, repository: &str, restored: &[Restored]) {
        let mut pending: Vec<&Restored> =
            restored.iter().filter(|r| r.manifest.is_some()).collect();
        for _pass in 0..4 {
            let mut failed = Vec::new();
            for r in pending {
                if !self.push_all(repository, r).await {
                    failed.push(r);
                }
            }
            if failed.is_empty() {
                return;
            }
            pending = failed;
        }
        for r in pending {
            tracing::warn!(digest = %r.digest, repository, "could not push a restored manifest back");
        }
    }

    async fn push_all(&self, repository: &str, r: &Restored) -> bool {
        let Some(m) = &r.manifest else {
            return true;
        };
        let refs = std::iter::once(r.digest.as_str().to_string()).chain(r.tags.iter().cloned());
        for reference in refs {
            let url = self.manifest_url(repository, &reference);
            let ok = self
                .http
                .put(&url)
                .header("content-type", &m.media_type)
                .body(m.body.clone())
                .send()
                .await
                .is_ok_and(|resp| resp.status().is_success());
            if !ok {
                return false;
            }
        }
        true
    }

    /// Pushes a manifest under `reference` (a tag or its digest); the registry's
    /// status and the digest it reports.
    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        body: Bytes,
    ) -> Forwarded {
        let url = self.manifest_url(repository, reference);
        match self
            .http
            .put(&url)
            .header("content-type", media_type)
            .body(body)
            .send()
            .await
        {
            Err(e) => Forwarded {
                status: 502,
                headers: Vec::new(),
                body: Bytes::from(format!("backing registry unreachable: {e}")),
            },
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .filter(|(k, _)| PASS.contains(&k.as_str()))
                    .filter_map(|(k, v)| {
                        Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))
                    })
                    .collect();
                let body = resp.bytes().await.unwrap_or_default();
                Forwarded {
                    status,
                    headers,
                    body,
                }
            }
        }
    }

    /// Forwards a GET/HEAD on `/v2/<rest>` to the registry.
    pub async fn forward(
        &self,
        method: &axum::http::Method,
        rest_and_query: &str,
        accept: Option<&str>,
    ) -> Forwarded {
        let url = format!(
            "{}/v2/{rest_and_query}",
            self.url.as_str().trim_end_matches('/')
        );
        let mut req = self.http.request(
            reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET),
            &url,
        );
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        match req.send().await {
            Err(e) => Forwarded {
                status: 502,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::from(format!(
                    "{{\"errors\":[{{\"code\":\"UNKNOWN\",\"message\":\"backing registry unreachable: {}\"}}]}}",
                    e.to_string().replace('"', "'")
                )),
            },
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .filter(|(k, _)| PASS.contains(&k.as_str()))
                    .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                    .collect();
                let body = resp.bytes().await.unwrap_or_default();
                Forwarded { status, headers, body }
            }
        }
    }
}
