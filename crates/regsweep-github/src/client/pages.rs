//! Listing a package's versions page by page, for callers that keep what they
//! listed between runs (regsweep's inventory cache): the listing may start at any
//! page, the caller sees every page's versions as they come and may stop after any
//! page, and reading one version by id checks a cached entry against GitHub.
//!
//! The rules are [`GithubClient::list_versions_expecting`]'s: an entry that cannot
//! be read, or an id or digest listed twice, makes the listing unreadable; each page
//! is retried alone on a transient answer (`transport.rs`), never the whole listing.

use std::ops::ControlFlow;

use regsweep_core::{Version, VersionId};
use reqwest::Method;

use super::{GithubClient, UniqueVersions};
use crate::error::{GithubError, ListingProblem};
use crate::names::check_package_name;
use crate::owner::Owner;
use crate::transport::{request_name, PageError, PageStep};
use crate::urls::{with_page, Route, VersionState};
use crate::wire;

impl GithubClient {
    /// The active versions of `package`, from page `first_page` (1-based, 100 a page)
    /// on, handed to `on_page` one whole page at a time in GitHub's listing order;
    /// `on_page` answers [`ControlFlow::Break`] to stop after that page. `expected`
    /// (the package's `version_count`, for a listing from page 1 only) bounds the
    /// pages read and saves the request for an empty last page.
    ///
    /// Returns whether the listing reached its end (`false`: `on_page` stopped it).
    /// The pages handed over before an error stay the caller's (an interrupted
    /// listing can resume from them).
    pub async fn list_version_pages(
        &self,
        owner: &Owner,
        package: &str,
        first_page: usize,
        expected: Option<u64>,
        on_page: &mut (dyn FnMut(Vec<Version>) -> ControlFlow<()> + Send),
    ) -> Result<bool, GithubError> {
        check_package_name(package)?;
        let mut route = self
            .inner
            .urls
            .list_versions(owner, package, VersionState::Active);
        if first_page > 1 {
            route.url = with_page(&route.url, first_page);
        }
        self.version_pages(package, &route, expected, on_page).await
    }

    /// The one listing loop (of [`Self::list_version_pages`] and
    /// [`Self::list_versions_expecting`]): pages of `route` read straight from their
    /// bytes (no JSON value of a page is built), each entry checked
    /// ([`UniqueVersions`]); the first entry that cannot be read, or an id or digest
    /// listed twice, stops the listing and makes it [`GithubError::Unreadable`].
    pub(super) async fn version_pages(
        &self,
        package: &str,
        route: &Route,
        expected: Option<u64>,
        on_page: &mut (dyn FnMut(Vec<Version>) -> ControlFlow<()> + Send),
    ) -> Result<bool, GithubError> {
        let mut checker = UniqueVersions::expecting(expected);
        let mut problem: Option<ListingProblem> = None;
        let mut stopped = false;
        let result = self
            .inner
            .for_each_page_body_while(route, expected, |body| {
                let entries = wire::versions_page(body).map_err(|e| e.to_string())?;
                let count = entries.len();
                let mut page = Vec::with_capacity(count);
                for entry in entries {
                    match entry.map_err(ListingProblem::Entry).and_then(|v| {
                        checker.check(&v)?;
                        Ok(v)
                    }) {
                        Ok(v) => page.push(v),
                        Err(p) => {
                            problem = Some(p);
                            return Ok((count, PageStep::Stop));
                        }
                    }
                }
                if on_page(page).is_break() {
                    stopped = true;
                    return Ok((count, PageStep::Stop));
                }
                Ok((count, PageStep::Next))
            })
            .await;
        let unreadable = |problem| GithubError::Unreadable {
            package: package.to_string(),
            request: request_name(&Method::GET, route),
            problem,
        };
        match result {
            Ok(()) => match problem {
                None => Ok(!stopped),
                Some(p) => Err(unreadable(p)),
            },
            Err(PageError::Answer(answer)) => {
                Err(self
                    .inner
                    .error_for(&Method::GET, route, &answer, "read:packages"))
            }
            Err(PageError::Github(GithubError::Decode { detail, .. })) => {
                Err(unreadable(ListingProblem::Body(detail)))
            }
            Err(PageError::Github(e)) => Err(e),
        }
    }

    /// One active version of `package` as GitHub holds it now (`GET
    /// …/versions/{id}`, one point), `None` when GitHub answers 404 or the version
    /// carries a `deleted_at` (GitHub may still answer for a deleted version).
    pub async fn get_version(
        &self,
        owner: &Owner,
        package: &str,
        id: VersionId,
    ) -> Result<Option<Version>, GithubError> {
        check_package_name(package)?;
        let route = self.inner.urls.get_version(owner, package, id);
        self.get_one(package, &route, |value| {
            if value.get("deleted_at").is_some_and(|d| !d.is_null()) {
                return Ok(None);
            }
            wire::version(value).map(Some)
        })
        .await
    }
}
