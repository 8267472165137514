//! Finding one version by digest, for untagging: the placeholder regsweep pushes
//! under a tag becomes a new version whose id is needed to delete it.

use regsweep_core::{Digest, VersionId};
use reqwest::Method;

use super::GithubClient;
use crate::error::GithubError;
use crate::names::check_package_name;
use crate::owner::Owner;
use crate::urls::VersionState;
use crate::wire;

impl GithubClient {
    /// The id of the active version of `package` whose digest is `digest`, `None`
    /// when there is none. GitHub lists newest first, so a version just pushed is on
    /// the first page, read alone; otherwise the whole listing is read.
    pub async fn find_version(
        &self,
        owner: &Owner,
        package: &str,
        digest: &Digest,
    ) -> Result<Option<VersionId>, GithubError> {
        check_package_name(package)?;
        let route = self
            .inner
            .urls
            .list_versions(owner, package, VersionState::Active);
        let answer = self.inner.send(&Method::GET, &route, &route.url).await?;
        if !answer.status.is_success() {
            return Err(self
                .inner
                .error_for(&Method::GET, &route, &answer, "read:packages"));
        }
        let first: Vec<serde_json::Value> = self.inner.decode(&route, &answer)?;
        let found = first
            .iter()
            .filter_map(|v| wire::version(v).ok())
            .find(|v| &v.digest == digest);
        if let Some(v) = found {
            return Ok(Some(v.id));
        }
        let all = self
            .list_versions(owner, package, VersionState::Active, &|_| {})
            .await?;
        Ok(all.into_iter().find(|v| &v.digest == digest).map(|v| v.id))
    }
}
