//! Every URL this client requests is built here, and nowhere else.
//!
//! The base may be `https://api.github.com`, a GitHub Enterprise Server
//! `https://HOST/api/v3` (with or without a trailing slash) or a local emulator
//! `http://127.0.0.1:PORT`. Path segments are pushed one by one, so a package name
//! containing `/` (`team/app`) becomes one percent-encoded segment (`team%2Fapp`).

use std::fmt;

use regsweep_core::VersionId;
use url::Url;

use crate::owner::Owner;

/// The page size requested from every list endpoint (GitHub's maximum).
pub const PER_PAGE: usize = 100;

/// Which REST endpoint a request goes to: the unit of GitHub's per-endpoint
/// secondary limit, of our pacing and of the request statistics.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Endpoint {
    User,
    ListPackages,
    GetPackage,
    ListVersions,
    GetVersion,
    DeleteVersion,
    RestoreVersion,
    DeletePackage,
    RestorePackage,
    GetPull,
    ListPulls,
}

impl Endpoint {
    /// A stable snake_case name, used in statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::User => "user",
            Endpoint::ListPackages => "list_packages",
            Endpoint::GetPackage => "get_package",
            Endpoint::ListVersions => "list_versions",
            Endpoint::GetVersion => "get_version",
            Endpoint::DeleteVersion => "delete_version",
            Endpoint::RestoreVersion => "restore_version",
            Endpoint::DeletePackage => "delete_package",
            Endpoint::RestorePackage => "restore_package",
            Endpoint::GetPull => "get_pull",
            Endpoint::ListPulls => "list_pulls",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `state` filter of the versions list.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum VersionState {
    #[default]
    Active,
    Deleted,
}

impl VersionState {
    fn as_str(self) -> &'static str {
        match self {
            VersionState::Active => "active",
            VersionState::Deleted => "deleted",
        }
    }
}

/// The `state` filter of the pulls list.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum PullState {
    #[default]
    Open,
    Closed,
    All,
}

impl PullState {
    fn as_str(self) -> &'static str {
        match self {
            PullState::Open => "open",
            PullState::Closed => "closed",
            PullState::All => "all",
        }
    }
}

/// A URL to request, with the endpoint it belongs to and a short path for messages
/// (`/orgs/acme/packages`: relative to the base, without query).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Route {
    pub url: Url,
    pub endpoint: Endpoint,
    pub path: String,
}

/// Why a base URL or a repository name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the API URL `{0}` cannot have paths appended\n  help: use an http(s) URL such as https://api.github.com or https://HOST/api/v3")]
    NotABase(String),
    #[error("the API URL `{0}` is not http or https\n  help: use an http(s) URL such as https://api.github.com or https://HOST/api/v3")]
    Scheme(String),
    #[error("`{0}` is not a repository: expected `owner/name`\n  help: pass the repository as it appears in its URL, e.g. acme/app")]
    Repo(String),
}

/// Builds the URLs of the GitHub REST API under one base.
#[derive(Clone, Debug)]
pub struct Urls {
    base: Url,
}

impl Urls {
    /// Accepts a base URL; a trailing slash is ignored.
    pub fn new(base: Url) -> Result<Self, UrlError> {
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(UrlError::Scheme(base.to_string()));
        }
        if base.cannot_be_a_base() {
            return Err(UrlError::NotABase(base.to_string()));
        }
        let mut base = base;
        base.set_query(None);
        base.set_fragment(None);
        if let Ok(mut segments) = base.path_segments_mut() {
            segments.pop_if_empty();
        }
        Ok(Urls { base })
    }

    /// The base, normalised (no trailing slash).
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn route<'a>(&self, endpoint: Endpoint, segments: impl IntoIterator<Item = &'a str>) -> Route {
        let mut url = self.base.clone();
        // `new` checked the URL can be a base, so this cannot fail.
        if let Ok(mut pusher) = url.path_segments_mut() {
            pusher.pop_if_empty();
            pusher.extend(segments);
        }
        let base_path = self.base.path().trim_end_matches('/');
        let path = url
            .path()
            .strip_prefix(base_path)
            .unwrap_or(url.path())
            .to_string();
        Route {
            url,
            endpoint,
            path,
        }
    }

    fn owner_segments(owner: &Owner) -> Vec<&str> {
        match owner {
            Owner::Org(org) => vec!["orgs", org.as_str()],
            Owner::AuthenticatedUser => vec!["user"],
            Owner::User(user) => vec!["users", user.as_str()],
        }
    }

    /// `GET /user`.
    pub fn user(&self) -> Route {
        self.route(Endpoint::User, ["user"])
    }

    /// `GET {owner}/packages?package_type=container&per_page=100&page=1`.
    pub fn list_packages(&self, owner: &Owner) -> Route {
        let mut segments = Self::owner_segments(owner);
        segments.push("packages");
        let mut route = self.route(Endpoint::ListPackages, segments);
        route
            .url
            .query_pairs_mut()
            .append_pair("package_type", "container")
            .append_pair("per_page", &PER_PAGE.to_string())
            .append_pair("page", "1");
        route
    }

    fn package_segments<'a>(owner: &'a Owner, package: &'a str) -> Vec<&'a str> {
        let mut segments = Self::owner_segments(owner);
        segments.extend(["packages", "container", package]);
        segments
    }

    /// `GET {owner}/packages/container/{package}`.
    pub fn get_package(&self, owner: &Owner, package: &str) -> Route {
        self.route(Endpoint::GetPackage, Self::package_segments(owner, package))
    }

    /// `GET {owner}/packages/container/{package}/versions?state=…&per_page=100&page=1`.
    pub fn list_versions(&self, owner: &Owner, package: &str, state: VersionState) -> Route {
        let mut segments = Self::package_segments(owner, package);
        segments.push("versions");
        let mut route = self.route(Endpoint::ListVersions, segments);
        route
            .url
            .query_pairs_mut()
            .append_pair("state", state.as_str())
            .append_pair("per_page", &PER_PAGE.to_string())
            .append_pair("page", "1");
        route
    }

    /// `GET {owner}/packages/container/{package}/versions/{id}`.
    pub fn get_version(&self, owner: &Owner, package: &str, id: VersionId) -> Route {
        let id = id.to_string();
        let mut segments = Self::package_segments(owner, package);
        segments.extend(["versions", id.as_str()]);
        self.route(Endpoint::GetVersion, segments)
    }

    /// `DELETE {owner}/packages/container/{package}/versions/{id}`.
    pub fn delete_version(&self, owner: &Owner, package: &str, id: VersionId) -> Route {
        let id = id.to_string();
        let mut segments = Self::package_segments(owner, package);
        segments.extend(["versions", id.as_str()]);
        self.route(Endpoint::DeleteVersion, segments)
    }

    /// `POST {owner}/packages/container/{package}/versions/{id}/restore`.
    pub fn restore_version(&self, owner: &Owner, package: &str, id: VersionId) -> Route {
        let id = id.to_string();
        let mut segments = Self::package_segments(owner, package);
        segments.extend(["versions", id.as_str(), "restore"]);
        self.route(Endpoint::RestoreVersion, segments)
    }

    /// `DELETE {owner}/packages/container/{package}`: the whole package.
    pub fn delete_package(&self, owner: &Owner, package: &str) -> Route {
        self.route(
            Endpoint::DeletePackage,
            Self::package_segments(owner, package),
        )
    }

    /// `POST {owner}/packages/container/{package}/restore`.
    pub fn restore_package(&self, owner: &Owner, package: &str) -> Route {
        let mut segments = Self::package_segments(owner, package);
        segments.push("restore");
        self.route(Endpoint::RestorePackage, segments)
    }

    /// `GET /repos/{owner}/{name}/pulls/{number}`.
    pub fn get_pull(&self, repo: &str, number: u64) -> Result<Route, UrlError> {
        let (owner, name) = split_repo(repo)?;
        let number = number.to_string();
        Ok(self.route(
            Endpoint::GetPull,
            ["repos", owner, name, "pulls", number.as_str()],
        ))
    }

    /// `GET /repos/{owner}/{name}/pulls?state=…&per_page=100&page=1`.
    pub fn list_pulls(&self, repo: &str, state: PullState) -> Result<Route, UrlError> {
        let (owner, name) = split_repo(repo)?;
        let mut route = self.route(Endpoint::ListPulls, ["repos", owner, name, "pulls"]);
        route
            .url
            .query_pairs_mut()
            .append_pair("state", state.as_str())
            .append_pair("per_page", &PER_PAGE.to_string())
            .append_pair("page", "1");
        Ok(route)
    }

    /// Whether `url` (from a `Link` header) points into this API: same scheme, host
    /// and port, under the base path. The token is only ever sent there.
    pub fn is_within(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url
                .path()
                .starts_with(self.base.path().trim_end_matches('/'))
    }
}

/// The request page number `n` of a list route (page numbers start at 1).
pub fn with_page(url: &Url, page: usize) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut url = url.clone();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        query.append_pair("page", &page.to_string());
    }
    url
}

fn split_repo(repo: &str) -> Result<(&str, &str), UrlError> {
    match repo.trim().split_once('/') {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((owner, name))
        }
        _ => Err(UrlError::Repo(repo.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(base: &str) -> Urls {
        Urls::new(Url::parse(base).unwrap()).unwrap()
    }

    #[test]
    fn owner_prefixes_and_encoding() {
        let u = urls("https://api.github.com");
        let org = Owner::Org("acme".into());
        let me = Owner::AuthenticatedUser;
        let them = Owner::User("octocat".into());
        let cases: Vec<(Route, &str, &str)> = vec![
            (
                u.list_packages(&org),
                "https://api.github.com/orgs/acme/packages?package_type=container&per_page=100&page=1",
                "/orgs/acme/packages",
            ),
            (
                u.list_packages(&me),
                "https://api.github.com/user/packages?package_type=container&per_page=100&page=1",
                "/user/packages",
            ),
            (
                u.list_packages(&them),
                "https://api.github.com/users/octocat/packages?package_type=container&per_page=100&page=1",
                "/users/octocat/packages",
            ),
            (
                u.get_package(&org, "team/app"),
                "https://api.github.com/orgs/acme/packages/container/team%2Fapp",
                "/orgs/acme/packages/container/team%2Fapp",
            ),
            (
                u.list_versions(&me, "a/b/c", VersionState::Deleted),
                "https://api.github.com/user/packages/container/a%2Fb%2Fc/versions?state=deleted&per_page=100&page=1",
                "/user/packages/container/a%2Fb%2Fc/versions",
            ),
            (
                u.delete_version(&them, "app", VersionId(42)),
                "https://api.github.com/users/octocat/packages/container/app/versions/42",
                "/users/octocat/packages/container/app/versions/42",
            ),
            (
                u.restore_version(&org, "team/app", VersionId(7)),
                "https://api.github.com/orgs/acme/packages/container/team%2Fapp/versions/7/restore",
                "/orgs/acme/packages/container/team%2Fapp/versions/7/restore",
            ),
            (
                u.get_package(&org, "odd name?#%"),
                "https://api.github.com/orgs/acme/packages/container/odd%20name%3F%23%25",
                "/orgs/acme/packages/container/odd%20name%3F%23%25",
            ),
            (
                u.user(),
                "https://api.github.com/user",
                "/user",
            ),
            (
                u.get_pull("acme/app", 12).unwrap(),
                "https://api.github.com/repos/acme/app/pulls/12",
                "/repos/acme/app/pulls/12",
            ),
            (
                u.list_pulls("acme/app", PullState::All).unwrap(),
                "https://api.github.com/repos/acme/app/pulls?state=all&per_page=100&page=1",
                "/repos/acme/app/pulls",
            ),
        ];
        for (route, url, path) in cases {
            assert_eq!(route.url.as_str(), url);
            assert_eq!(route.path, path);
        }
    }

    #[test]
    fn ghes_base_with_and_without_trailing_slash() {
        for base in [
            "https://ghe.example.com/api/v3",
            "https://ghe.example.com/api/v3/",
        ] {
            let u = urls(base);
            let r = u.get_package(&Owner::Org("acme".into()), "team/app");
            assert_eq!(
                r.url.as_str(),
                "https://ghe.example.com/api/v3/orgs/acme/packages/container/team%2Fapp"
            );
            assert_eq!(r.path, "/orgs/acme/packages/container/team%2Fapp");
            assert_eq!(u.user().url.as_str(), "https://ghe.example.com/api/v3/user");
        }
    }

    #[test]
    fn local_base_with_port() {
        for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let u = urls(base);
            assert_eq!(
                u.list_packages(&Owner::Org("acme".into())).url.as_str(),
                "http://127.0.0.1:8080/orgs/acme/packages?package_type=container&per_page=100&page=1"
            );
        }
    }

    #[test]
    fn bad_bases_rejected() {
        assert!(matches!(
            Urls::new(Url::parse("mailto:a@b.c").unwrap()),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            Urls::new(Url::parse("ftp://x/").unwrap()),
            Err(UrlError::Scheme(_))
        ));
    }

    #[test]
    fn repos_validated() {
        let u = urls("https://api.github.com");
        for bad in ["", "acme", "/app", "acme/", "a/b/c"] {
            assert!(u.get_pull(bad, 1).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn links_within_the_api_only() {
        let u = urls("https://ghe.example.com/api/v3/");
        let ok = Url::parse("https://ghe.example.com/api/v3/orgs/a/packages?page=2").unwrap();
        let other_host = Url::parse("https://evil.example.com/api/v3/orgs/a/packages").unwrap();
        let other_scheme = Url::parse("http://ghe.example.com/api/v3/orgs/a/packages").unwrap();
        let other_path = Url::parse("https://ghe.example.com/elsewhere").unwrap();
        assert!(u.is_within(&ok));
        assert!(!u.is_within(&other_host));
        assert!(!u.is_within(&other_scheme));
        assert!(!u.is_within(&other_path));
    }

    #[test]
    fn with_page_replaces_page() {
        let u = urls("https://api.github.com");
        let r = u.list_versions(&Owner::Org("a".into()), "next-last", VersionState::Active);
        assert_eq!(
            with_page(&r.url, 3).as_str(),
            "https://api.github.com/orgs/a/packages/container/next-last/versions?state=active&per_page=100&page=3"
        );
    }
}
