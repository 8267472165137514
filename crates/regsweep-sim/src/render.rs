//! JSON bodies exactly as GitHub shapes them: packages, package versions, owners, pull
//! requests and error messages. URLs are built from the base the request came in on.
//!
//! Pure rendering; no state changes.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use regsweep_core::Visibility;
use serde_json::{json, Value};

use crate::scenario::{AccountKind, PullSpec, PullState};
use crate::world::{Account, Package, VersionRec};

/// Characters kept as-is in a path segment (everything else is percent-encoded, so
/// `team/app` becomes `team%2Fapp`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(crate) const DOCS: &str = "https://docs.github.com/rest";

/// Encodes one path segment.
pub(crate) fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The path prefix of an account in API URLs (`orgs/acme` or `users/octocat`).
fn owner_path(a: &Account) -> String {
    match a.kind {
        AccountKind::Org => format!("orgs/{}", a.name),
        AccountKind::User => format!("users/{}", a.name),
    }
}

fn visibility(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Private => "private",
        Visibility::Internal => "internal",
    }
}

/// A "Simple User" for an account.
pub(crate) fn owner(api: &str, a: &Account) -> Value {
    let login = &a.name;
    let node = match a.kind {
        AccountKind::Org => "MDEyOk9yZ2FuaXphdGlvbg==",
        AccountKind::User => "MDQ6VXNlcg==",
    };
    json!({
        "login": login,
        "id": a.id,
        "node_id": node,
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", a.id),
        "gravatar_id": "",
        "url": format!("{api}/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": match a.kind { AccountKind::Org => "Organization", AccountKind::User => "User" },
        "user_view_type": "public",
        "site_admin": false,
    })
}

fn package_html_url(a: &Account, p: &Package) -> String {
    format!(
        "https://github.com/{}/packages/container/package/{}",
        owner_path(a),
        segment(&p.name)
    )
}

/// A package body.
pub(crate) fn package(api: &str, a: &Account, p: &Package) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "package_type": "container",
        "owner": owner(api, a),
        "version_count": p.active_count,
        "visibility": visibility(p.visibility),
        "url": format!("{api}/{}/packages/container/{}", owner_path(a), segment(&p.name)),
        "created_at": p.created_at.to_string(),
        "updated_at": p.updated_at.to_string(),
        "html_url": package_html_url(a, p),
    })
}

/// The `license` of every version: GHCR fills it from the image's
/// `org.opencontainers.image.licenses` label.
const LICENSE: &str = "Apache-2.0 OR MIT";

/// The `description` of a version: GHCR fills it from the image's
/// `org.opencontainers.image.description` label; one realistic sentence, so listing
/// is measured on the bytes GitHub sends.
fn description(a: &Account, p: &Package) -> String {
    format!(
        "Container image of {}/{}, built and pushed by the CI workflow of its repository; see the repository's README for usage.",
        a.name, p.name
    )
}

/// A package version body, with every field of GitHub's schema filled
/// (`deleted_at` only for a deleted version).
pub(crate) fn version(api: &str, a: &Account, p: &Package, v: &VersionRec) -> Value {
    let name = segment(&p.name);
    let mut body = json!({
        "id": v.id,
        "name": v.digest.as_str(),
        "url": format!("{api}/{}/packages/container/{name}/versions/{}", owner_path(a), v.id),
        "package_html_url": package_html_url(a, p),
        "created_at": v.created_at.to_string(),
        "updated_at": v.updated_at.to_string(),
        "html_url": format!("https://github.com/{}/packages/container/{name}/{}", owner_path(a), v.id),
        "license": LICENSE,
        "description": description(a, p),
        "metadata": {"package_type": "container", "container": {"tags": v.tags}},
    });
    if let (Some(d), Some(obj)) = (v.deleted_at, body.as_object_mut()) {
        obj.insert("deleted_at".into(), Value::String(d.to_string()));
    }
    body
}

/// A pull request body (the fields policies use).
pub(crate) fn pull(api: &str, p: &PullSpec) -> Value {
    let (owner, repo) = p.repo.split_once('/').unwrap_or((&p.repo, ""));
    json!({
        "url": format!("{api}/repos/{owner}/{repo}/pulls/{}", p.number),
        "id": 1_000_000 + p.number,
        "html_url": format!("https://github.com/{owner}/{repo}/pull/{}", p.number),
        "number": p.number,
        "state": match p.state { PullState::Open => "open", PullState::Closed => "closed" },
        "title": p.title.clone().unwrap_or_else(|| format!("Pull request #{}", p.number)),
        "merged_at": p.merged_at.map(|t| t.to_string()),
        "closed_at": p.closed_at.map(|t| t.to_string()),
        "head": {"ref": p.head_ref.clone().unwrap_or_else(|| format!("pr-{}", p.number)), "label": format!("{owner}:{}", p.head_ref.clone().unwrap_or_default())},
        "base": {"ref": "main"},
    })
}

/// GitHub's error body.
pub(crate) fn error(status: u16, message: &str) -> Value {
    json!({"message": message, "documentation_url": DOCS, "status": status.to_string()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_encode_slashes() {
        assert_eq!(segment("team/app"), "team%2Fapp");
        assert_eq!(segment("my-app_1.0"), "my-app_1.0");
    }
}
