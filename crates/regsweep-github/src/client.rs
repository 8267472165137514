//! [`GithubClient`]: the requests regsweep makes to the GitHub REST API, one method
//! per endpoint, and what their answers mean. Sending, retries, waits and
//! pagination are `transport.rs`; URLs come from `urls.rs`, pacing from `pacing.rs`,
//! rate-limit answers from `ratelimit.rs`, error classification from `error.rs`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use regsweep_core::{Digest, Version, VersionId};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::Method;

use regsweep_transport::CredentialPolicy;

use crate::config::ClientConfig;
use crate::error::{has_scope, DeleteError, GithubError, ListingProblem, READ_SCOPES};
use crate::names::check_package_name;
use crate::owner::Owner;
use crate::pacing::{Budgets, Limiter};
use crate::packages::{classify_package, PackageError};
use crate::ratelimit::RateLimitSnapshot;
use crate::stats::{ClientStats, Recorder};
use crate::transport::{error_chain, parse_scopes, request_name, Inner, PageError};
use crate::urls::{PullState, Route, Urls, VersionState};
use crate::wire::{self, BadPackageEntry, PackageSummary, PullRequest};

/// The REST API version this client speaks.
pub const API_VERSION: &str = "2022-11-28";
/// The media type asked for.
pub const ACCEPT_JSON: &str = "application/vnd.github+json";

/// What `GET /user` told about the token.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TokenInfo {
    /// The account the token belongs to; `None` when GitHub would not say (the
    /// Actions `GITHUB_TOKEN` gets 403 on `/user`).
    pub login: Option<String>,
    /// `X-OAuth-Scopes`; `None` when the header was absent: the token kind is
    /// unknown and its capabilities will be learnt from answers.
    pub scopes: Option<Vec<String>>,
    /// Whether `/user/packages` can be expected to work: the token has a user behind
    /// it and, when scopes are known, one of them allows reading packages.
    pub can_list_user: bool,
}

mod find;
mod pages;

/// A client of the GitHub REST API. Cheap to clone (shared state inside); all
/// clones share pacing, rate-limit pauses and statistics.
#[derive(Clone)]
pub struct GithubClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubClient")
            .field("api_url", &self.inner.urls.base().as_str())
            .field("user_agent", &self.inner.config.user_agent)
            .field("token", &self.inner.config.token)
            .finish_non_exhaustive()
    }
}

impl GithubClient {
    /// Builds a client. Fails on an unusable API URL or user agent; sends nothing.
    pub fn new(config: ClientConfig) -> Result<Self, GithubError> {
        let urls = Urls::new(config.api_url.clone())?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_JSON));
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        let user_agent =
            HeaderValue::from_str(&config.user_agent).map_err(|_| GithubError::Config {
                detail: format!(
                    "the user agent `{}` is not a valid header value",
                    config.user_agent
                ),
                help: "use printable ASCII, e.g. regsweep/1.0".to_string(),
            })?;
        if config.token.is_empty() {
            return Err(GithubError::Config {
                detail: "the token is empty".to_string(),
                help: "pass a token (a classic PAT with read:packages and delete:packages, or the Actions GITHUB_TOKEN)".to_string(),
            });
        }
        if HeaderValue::from_str(&format!("Bearer {}", config.token.expose())).is_err() {
            return Err(GithubError::Config {
                detail: "the token contains characters not allowed in an HTTP header (a newline or a control character?)".to_string(),
                help: "pass the token without surrounding whitespace or quotes".to_string(),
            });
        }
        let credentials =
            CredentialPolicy::new(&config.api_url).map_err(|e| GithubError::Config {
                detail: e.to_string(),
                help: "use the https:// API URL (http only for an emulator on loopback)"
                    .to_string(),
            })?;
        let http = regsweep_transport::client_builder(
            config.request_timeout,
            std::time::Duration::from_secs(15),
        )
        .default_headers(headers)
        .user_agent(user_agent)
        .build()
        .map_err(|e| GithubError::Config {
            detail: format!("the HTTP client could not be built: {}", error_chain(&e)),
            help: "this is a bug in regsweep; please report it".to_string(),
        })?;
        let limiter = Limiter::new(Budgets {
            read_points_per_minute: config.read_points_per_minute,
            write_points_per_minute: config.delete_points_per_minute,
            start_write_points_per_minute: config
                .start_delete_points_per_minute
                .unwrap_or(config.delete_points_per_minute),
            write_ceiling: config.delete_ceiling_points_per_minute,
            pace_window: config.pace_window,
            concurrency: config.concurrency,
            max_wait: config.max_wait,
        });
        Ok(GithubClient {
            inner: Arc::new(Inner {
                http,
                urls,
                config,
                limiter,
                credentials,
                stats: Recorder::default(),
                scopes: Mutex::new(None),
            }),
        })
    }

    /// `GET /user`: checks the token and records its scopes.
    pub async fn probe(&self) -> Result<TokenInfo, GithubError> {
        let route = self.inner.urls.user();
        let answer = self.inner.send(&Method::GET, &route, &route.url).await?;
        let scopes = parse_scopes(&answer.headers);
        let request = request_name(&Method::GET, &route);
        match answer.status.as_u16() {
            200..=299 => {
                let user: wire::UserWire =
                    serde_json::from_slice(&answer.body).map_err(|e| GithubError::Decode {
                        request,
                        detail: e.to_string(),
                    })?;
                let can_read = scopes
                    .as_deref()
                    .is_none_or(|s| READ_SCOPES.iter().any(|r| has_scope(s, r)));
                Ok(TokenInfo {
                    login: Some(user.login),
                    scopes,
                    can_list_user: can_read,
                })
            }
            // The Actions GITHUB_TOKEN and installation tokens have no user.
            403 | 404 => Ok(TokenInfo {
                login: None,
                scopes,
                can_list_user: false,
            }),
            _ => Err(self
                .inner
                .error_for(&Method::GET, &route, &answer, "read:packages")),
        }
    }

    /// The last `X-OAuth-Scopes` seen (`None` if never sent).
    pub fn scopes(&self) -> Option<Vec<String>> {
        self.inner.scopes()
    }

    /// The path of a package (`/orgs/acme/packages/container/team%2Fapp`), for messages.
    pub fn package_path(&self, owner: &Owner, package: &str) -> String {
        self.inner.urls.get_package(owner, package).path
    }

    /// The path of `owner`'s package listing (`/orgs/acme/packages`), for messages.
    pub fn packages_path(&self, owner: &Owner) -> String {
        self.inner.urls.list_packages(owner).path
    }

    /// All container packages of `owner`. An entry that cannot be read (no name, a
    /// name against GitHub's rules, a field of the wrong type) is returned as a
    /// [`BadPackageEntry`], never dropped: the caller reports it.
    pub async fn list_packages(
        &self,
        owner: &Owner,
    ) -> Result<Vec<Result<PackageSummary, BadPackageEntry>>, GithubError> {
        let route = self.inner.urls.list_packages(owner);
        let mut packages = Vec::new();
        let result = self
            .inner
            .for_each_page(&route, None, |values| {
                for value in values {
                    packages.push(wire::package(&value).map_err(|error| BadPackageEntry {
                        name: wire::package_name(&value).map(str::to_string),
                        error,
                    }));
                }
            })
            .await;
        match result {
            Ok(()) => Ok(packages),
            Err(PageError::Answer(answer)) => {
                let status = answer.status.as_u16();
                if status == 403 {
                    Err(GithubError::CannotList {
                        owner: owner.describe(),
                        request: request_name(&Method::GET, &route),
                        status,
                        message: answer.message(),
                    })
                } else {
                    Err(self
                        .inner
                        .error_for(&Method::GET, &route, &answer, "read:packages"))
                }
            }
            Err(PageError::Github(e)) => Err(e),
        }
    }

    /// One package, `None` when GitHub answers 404.
    pub async fn get_package(
        &self,
        owner: &Owner,
        name: &str,
    ) -> Result<Option<PackageSummary>, GithubError> {
        check_package_name(name)?;
        let route = self.inner.urls.get_package(owner, name);
        self.get_one(name, &route, |value| wire::package(value).map(Some))
            .await
    }

    /// One object GitHub answers a GET of `route` with, read by `read`: `None` on
    /// 404 (or when `read` says so); an object `read` cannot read makes `package`
    /// [`GithubError::Unreadable`] (never guessed at).
    pub(crate) async fn get_one<T>(
        &self,
        package: &str,
        route: &Route,
        read: impl FnOnce(&serde_json::Value) -> Result<Option<T>, wire::EntryError>,
    ) -> Result<Option<T>, GithubError> {
        let answer = self.inner.send(&Method::GET, route, &route.url).await?;
        match answer.status.as_u16() {
            200..=299 => {
                let value: serde_json::Value = self.inner.decode(route, &answer)?;
                read(&value).map_err(|e| GithubError::Unreadable {
                    package: package.to_string(),
                    request: request_name(&Method::GET, route),
                    problem: ListingProblem::Entry(e),
                })
            }
            404 => Ok(None),
            _ => Err(self
                .inner
                .error_for(&Method::GET, route, &answer, "read:packages")),
        }
    }

    /// Every version of a package (all pages, no cap), or none: an entry that cannot
    /// be read, a duplicate id or digest, or a page that is not a list makes the
    /// whole listing [`GithubError::Unreadable`] (planning on the rest could delete
    /// what the unread entry needs). `on_page` gets the number of versions listed so
    /// far after every page.
    pub async fn list_versions(
        &self,
        owner: &Owner,
        package: &str,
        state: VersionState,
        on_page: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<Version>, GithubError> {
        self.list_versions_expecting(owner, package, state, None, on_page)
            .await
    }

    /// [`Self::list_versions`] for a package whose `version_count` is known (from
    /// listing or getting the package). GitHub sends no `Link` header when there is
    /// only one page, so a full page without one is taken as the last page once
    /// `expected` versions have been read, saving a request for an empty page;
    /// without `expected` the next page is read to be sure.
    pub async fn list_versions_expecting(
        &self,
        owner: &Owner,
        package: &str,
        state: VersionState,
        expected: Option<u64>,
        on_page: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<Version>, GithubError> {
        check_package_name(package)?;
        let route = self.inner.urls.list_versions(owner, package, state);
        // Sized once from the package's version_count: 100,000 versions grown by
        // doubling would briefly hold twice their size.
        let mut versions = Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize);
        self.version_pages(package, &route, expected, &mut |page| {
            versions.extend(page);
            on_page(versions.len());
            ControlFlow::Continue(())
        })
        .await?;
        Ok(versions)
    }

    /// Deletes one version. GitHub's refusals come back classified.
    pub async fn delete_version(
        &self,
        owner: &Owner,
        package: &str,
        id: VersionId,
    ) -> Result<(), DeleteError> {
        check_package_name(package).map_err(|e| DeleteError::Other(e.into()))?;
        let route = self.inner.urls.delete_version(owner, package, id);
        self.inner.change(Method::DELETE, &route).await
    }

    /// Restores a deleted version (within GitHub's 30 days).
    pub async fn restore_version(
        &self,
        owner: &Owner,
        package: &str,
        id: VersionId,
    ) -> Result<(), DeleteError> {
        check_package_name(package).map_err(|e| DeleteError::Other(e.into()))?;
        let route = self.inner.urls.restore_version(owner, package, id);
        self.inner.change(Method::POST, &route).await
    }

    /// Deletes a whole package with every version in it (restorable for 30 days).
    pub async fn delete_package(&self, owner: &Owner, package: &str) -> Result<(), PackageError> {
        let route = self.inner.urls.delete_package(owner, package);
        self.package_change(Method::DELETE, package, route).await
    }

    /// Restores a deleted package (within GitHub's 30 days, if its name was not reused).
    pub async fn restore_package(&self, owner: &Owner, package: &str) -> Result<(), PackageError> {
        let route = self.inner.urls.restore_package(owner, package);
        self.package_change(Method::POST, package, route).await
    }

    async fn package_change(
        &self,
        method: Method,
        package: &str,
        route: crate::urls::Route,
    ) -> Result<(), PackageError> {
        check_package_name(package).map_err(|e| PackageError::Other(e.into()))?;
        let answer = self.inner.send(&method, &route, &route.url).await?;
        if answer.status.is_success() {
            return Ok(());
        }
        Err(classify_package(
            &request_name(&method, &route),
            answer.status.as_u16(),
            &answer.body,
            self.inner.scopes().as_deref(),
        ))
    }

    /// One pull request of `repo` (`owner/name`), `None` when GitHub answers 404.
    pub async fn get_pull(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Option<PullRequest>, GithubError> {
        let route = self.inner.urls.get_pull(repo, number)?;
        let answer = self.inner.send(&Method::GET, &route, &route.url).await?;
        match answer.status.as_u16() {
            200..=299 => {
                let value: serde_json::Value = self.inner.decode(&route, &answer)?;
                wire::pull(value)
                    .map(Some)
                    .map_err(|e| GithubError::Decode {
                        request: request_name(&Method::GET, &route),
                        detail: e.to_string(),
                    })
            }
            404 => Ok(None),
            _ => Err(self.inner.error_for(&Method::GET, &route, &answer, "repo")),
        }
    }

    /// All pull requests of `repo` in `state`.
    pub async fn list_pulls(
        &self,
        repo: &str,
        state: PullState,
    ) -> Result<Vec<PullRequest>, GithubError> {
        let route = self.inner.urls.list_pulls(repo, state)?;
        let mut pulls = Vec::new();
        let result = self
            .inner
            .for_each_page(&route, None, |values| {
                for value in values {
                    match wire::pull(value) {
                        Ok(p) => pulls.push(p),
                        Err(e) => tracing::warn!(
                            "skipping a pull request of {repo} that cannot be read: {e}"
                        ),
                    }
                }
            })
            .await;
        match result {
            Ok(()) => Ok(pulls),
            Err(PageError::Answer(answer)) => {
                Err(self.inner.error_for(&Method::GET, &route, &answer, "repo"))
            }
            Err(PageError::Github(e)) => Err(e),
        }
    }

    /// The last primary rate-limit headers seen.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.inner.limiter.snapshot()
    }

    /// The DELETE pace learnt so far (points per minute), once a DELETE was sent:
    /// what the next run should start from.
    pub fn delete_pace(&self) -> Option<u32> {
        self.inner.limiter.write_pace()
    }

    /// The DELETE ceiling learnt so far (the points a minute held when a DELETE was
    /// limited), once a DELETE was sent: where the next run's raises stop.
    pub fn delete_ceiling(&self) -> Option<u32> {
        self.inner.limiter.write_ceiling()
    }

    /// Requests allowed in flight at once now: the configured concurrency, lowered
    /// after secondary rate limits and restored slowly.
    pub fn concurrency(&self) -> usize {
        self.inner.limiter.concurrency()
    }

    /// A copy of the request counters.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.snapshot()
    }
}

/// Checks that no version id or digest is listed twice.
#[derive(Default)]
pub(crate) struct UniqueVersions {
    /// Every id listed so far. Both sets hash with foldhash: the keys are GitHub's,
    /// but a listing is bounded (pages cap it) and a collision costs time, never a
    /// wrong answer.
    ids: HashSet<u64, foldhash::fast::RandomState>,
    /// The id of each digest listed so far (the digests are shared with the
    /// versions: a digest's clone is a reference count).
    digests: HashMap<Digest, u64, foldhash::fast::RandomState>,
}

/// The versions a listing's checker makes room for at once: the package's
/// `version_count` when the listing knows it, up to this (a hostile count must not
/// allocate the machine's memory; past it the sets grow as they fill).
const PRESIZE_LIMIT: u64 = 1 << 20;

impl UniqueVersions {
    /// A checker with room for `expected` versions (capped at [`PRESIZE_LIMIT`]).
    pub(crate) fn expecting(expected: Option<u64>) -> Self {
        let n = expected.unwrap_or(0).min(PRESIZE_LIMIT) as usize;
        UniqueVersions {
            ids: HashSet::with_capacity_and_hasher(n, Default::default()),
            digests: HashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    pub(crate) fn check(&mut self, v: &Version) -> Result<(), ListingProblem> {
        if !self.ids.insert(v.id.0) {
            return Err(ListingProblem::DuplicateId { id: v.id.0 });
        }
        match self.digests.entry(v.digest.clone()) {
            std::collections::hash_map::Entry::Occupied(first) => {
                Err(ListingProblem::DuplicateDigest {
                    digest: v.digest.to_string(),
                    first: *first.get(),
                    second: v.id.0,
                })
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(v.id.0);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::Secret;
    use url::Url;

    const TOKEN: &str = "ghp_VerySecretTokenValue0123456789";

    fn config(token: &str) -> ClientConfig {
        ClientConfig::new(
            Url::parse("https://ghe.example.com/api/v3/").unwrap(),
            Secret::new(token),
        )
    }

    fn version(id: u64, hex: char) -> Version {
        let t: jiff::Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        Version {
            id: VersionId(id),
            digest: regsweep_core::Digest::parse(&format!("sha256:{}", hex.to_string().repeat(64)))
                .unwrap(),
            tags: vec![],
            created_at: t,
            updated_at: t,
            downloads: None,
        }
    }

    #[test]
    fn duplicate_ids_and_digests_are_refused() {
        let mut c = UniqueVersions::default();
        assert_eq!(c.check(&version(1, 'a')), Ok(()));
        assert_eq!(c.check(&version(2, 'b')), Ok(()));
        assert_eq!(
            c.check(&version(1, 'c')),
            Err(ListingProblem::DuplicateId { id: 1 })
        );
        assert!(matches!(
            c.check(&version(3, 'a')),
            Err(ListingProblem::DuplicateDigest {
                first: 1,
                second: 3,
                ..
            })
        ));
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<GithubClient>();
    }

    #[test]
    fn token_never_in_debug_of_config_or_client() {
        let cfg = config(TOKEN);
        assert!(!format!("{cfg:?}").contains("VerySecret"));
        let client = GithubClient::new(cfg).unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("VerySecret"), "{shown}");
        assert!(shown.contains("ghe.example.com"), "{shown}");
    }

    #[test]
    fn bad_tokens_rejected_without_showing_them() {
        for bad in ["", "  ", "ghp_Very\nSecret"] {
            let err = GithubClient::new(config(bad)).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(matches!(err, GithubError::Config { .. }));
            assert!(!text.contains("Very"), "{text}");
            assert!(text.contains("help:"), "{text}");
        }
    }

    #[test]
    fn errors_never_carry_the_token() {
        // Every error is built from request names (method + path), statuses and
        // GitHub's messages; none of those can hold the token. Check each variant's
        // rendering for the token anyway.
        let request = "GET /orgs/acme/packages".to_string();
        let errors = vec![
            GithubError::BadCredentials {
                request: request.clone(),
                message: "Bad credentials".into(),
            },
            GithubError::Forbidden {
                request: request.clone(),
                message: "Resource not accessible by integration".into(),
                help: GithubError::forbidden_help("read:packages", Some(&["repo".to_string()])),
            },
            GithubError::Transport {
                request: request.clone(),
                detail: "connection refused".into(),
                attempts: 6,
            },
        ];
        for e in errors {
            let text = format!("{e} {e:?}");
            assert!(!text.contains("VerySecret"), "{text}");
            assert!(text.contains("GET /orgs/acme/packages"), "{text}");
            assert!(text.contains("help:"), "{text}");
        }
    }

    #[test]
    fn scopes_header_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_scopes(&h), None);
        h.insert("x-oauth-scopes", HeaderValue::from_static(""));
        assert_eq!(parse_scopes(&h), Some(vec![]));
        h.insert(
            "x-oauth-scopes",
            HeaderValue::from_static("delete:packages, read:packages,repo"),
        );
        assert_eq!(
            parse_scopes(&h),
            Some(vec![
                "delete:packages".to_string(),
                "read:packages".to_string(),
                "repo".to_string()
            ])
        );
    }

    #[test]
    fn unusable_base_url_rejected() {
        let cfg = ClientConfig::new(Url::parse("file:///tmp/x").unwrap(), Secret::new(TOKEN));
        assert!(matches!(GithubClient::new(cfg), Err(GithubError::Url(_))));
    }
}
