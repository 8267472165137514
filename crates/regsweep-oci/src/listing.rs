//! Paginated lists: tags of a repository (`/v2/NAME/tags/list`) and the registry
//! catalog (`/v2/_catalog`), following `Link: <…>; rel="next"` headers (parsed by
//! `regsweep-transport`), relative or absolute, never leaving the registry's origin,
//! within `regsweep-transport`'s page budget. A listing that loops or runs past the
//! budget is an error, never a partial list.

use reqwest::header::{ACCEPT, LINK};
use reqwest::{Method, StatusCode};
use url::Url;

use regsweep_transport::{Origin, PageBudget};

use crate::auth::Scope;
use crate::client::{Answer, Call, RegistryClient};
use crate::error::{Access, OciError};
use crate::paths::{v2, validate_repository};

/// Page size asked for.
pub const PAGE_SIZE: u32 = 1000;

/// The `rel="next"` target of the `Link` headers of an answer, resolved against
/// `current`. `Ok(None)` when there is no next page.
pub fn next_link(current: &Url, link_values: &[&str]) -> Result<Option<Url>, String> {
    regsweep_transport::next_link(link_values, current).map_err(|e| e.to_string())
}

fn same_origin(a: &Url, b: &Url) -> bool {
    Origin::of(a).is_some_and(|o| o.contains(b))
}

impl RegistryClient {
    /// Every tag of `repo` (a registry answering `tags: null` gives none). A repository
    /// the registry does not know is [`OciError::NotFound`].
    pub async fn list_tags(&self, repo: &str) -> Result<Vec<String>, OciError> {
        validate_repository(repo)?;
        let mut url = v2(&self.inner.base, &format!("{repo}/tags/list"));
        url.query_pairs_mut()
            .append_pair("n", &PAGE_SIZE.to_string());
        self.paginate(url, Scope::pull(repo), Access::Read, "tags")
            .await
    }

    /// Every repository name in the registry's catalog.
    pub async fn catalog(&self) -> Result<Vec<String>, OciError> {
        let mut url = v2(&self.inner.base, "_catalog");
        url.query_pairs_mut()
            .append_pair("n", &PAGE_SIZE.to_string());
        self.paginate(url, Scope::Catalog, Access::Catalog, "repositories")
            .await
    }

    async fn paginate(
        &self,
        first: Url,
        scope: Scope,
        access: Access,
        field: &str,
    ) -> Result<Vec<String>, OciError> {
        let mut out = Vec::new();
        let mut visited = std::collections::HashSet::new();
        let budget = PageBudget::new(None, 1);
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let edge = |detail: String| OciError::Edge {
                request: crate::paths::label(&Method::GET, &url),
                detail,
            };
            budget
                .admit(visited.len() as u64 + 1)
                .map_err(|e| edge(e.to_string()))?;
            if !visited.insert(url.to_string()) {
                return Err(edge("the next-page link points at a page already read; the listing would never end\n  help: this is a registry defect; report it".to_string()));
            }
            let call =
                Call::new(Method::GET, url, scope.clone()).header(ACCEPT, "application/json");
            let answer = self.execute(&call).await?;
            if answer.status != StatusCode::OK {
                return Err(self.status_error(&call, &answer, access, "200 with a JSON list"));
            }
            out.extend(list_field(&call, &answer, field)?);
            next = self.follow(&call, &answer)?;
        }
        Ok(out)
    }

    /// The next page of an answer, if any, checked to stay on the registry.
    pub(crate) fn follow(&self, call: &Call, answer: &Answer) -> Result<Option<Url>, OciError> {
        let values: Vec<&str> = answer
            .headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let bad = |detail: String| OciError::BadResponse {
            request: call.label(),
            detail,
        };
        let next = next_link(&call.url, &values).map_err(bad)?;
        match next {
            Some(n) if !same_origin(&n, &self.inner.base) => Err(bad(format!(
                "the next-page link leaves the registry ({})",
                n.origin().ascii_serialization()
            ))),
            other => Ok(other),
        }
    }
}

fn list_field(call: &Call, answer: &Answer, field: &str) -> Result<Vec<String>, OciError> {
    let value: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| OciError::BadResponse {
            request: call.label(),
            detail: format!("the body is not JSON: {e}"),
        })?;
    match value.get(field) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| OciError::BadResponse {
            request: call.label(),
            detail: format!("`{field}` is not a list of strings: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links() {
        let cur = Url::parse("http://127.0.0.1:5000/v2/acme/app/tags/list?n=2").unwrap();
        let cases: &[(&[&str], Option<&str>)] = &[
            (&[], None),
            (
                &[r#"</v2/acme/app/tags/list?last=b&n=2>; rel="next""#],
                Some("http://127.0.0.1:5000/v2/acme/app/tags/list?last=b&n=2"),
            ),
            (
                &[r#"<https://reg.example/v2/x/tags/list?n=2&last=rel%3Dnext>; rel="next""#],
                Some("https://reg.example/v2/x/tags/list?n=2&last=rel%3Dnext"),
            ),
            (
                &[r#"</p?page=1>; rel="prev", </p?page=3>; rel="next""#],
                Some("http://127.0.0.1:5000/p?page=3"),
            ),
            (&[r#"</p?page=1>; rel="prev""#], None),
            (
                &[r#"</a?x=1>; rel="prev""#, r#"</b?y=2>; rel="next""#],
                Some("http://127.0.0.1:5000/b?y=2"),
            ),
        ];
        for (values, want) in cases {
            let got = next_link(&cur, values).unwrap();
            assert_eq!(got.as_ref().map(Url::as_str), *want, "{values:?}");
        }
        assert!(next_link(&cur, &["</x>; norel"]).is_err());
    }

    #[test]
    fn origins() {
        let a = Url::parse("http://127.0.0.1:5000/v2/").unwrap();
        assert!(same_origin(
            &a,
            &Url::parse("http://127.0.0.1:5000/x").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("http://127.0.0.1:5001/x").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://127.0.0.1:5000/x").unwrap()
        ));
        let g = Url::parse("https://ghcr.io").unwrap();
        assert!(same_origin(
            &g,
            &Url::parse("https://ghcr.io:443/v2/").unwrap()
        ));
    }
}
