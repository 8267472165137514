//! The errors of this crate, and the classification of GitHub's answers into them.
//!
//! Every message names the request (`GET /orgs/acme/packages`), the status and
//! GitHub's own `message`, and ends with a `help:` line. Tokens never appear: they
//! are not part of any request name, URL or body we keep.

use std::time::Duration;

use jiff::Timestamp;
use regsweep_core::planner::RefusalRules;

use crate::names::{NameError, NAME_RULES};
use crate::pagination::LinkError;
use crate::ratelimit::{human_duration, human_time};
use crate::urls::UrlError;
use crate::wire::EntryError;

/// Scope a classic PAT needs to delete or restore package versions.
pub const DELETE_SCOPE: &str = "delete:packages";
/// Scopes that allow reading packages (`write:packages` includes read).
pub const READ_SCOPES: [&str; 2] = ["read:packages", "write:packages"];

/// A request to the GitHub API that failed.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("{request} answered 401 \"{message}\"\n  help: the token was rejected; check it has not expired or been revoked, and that the whole token was passed")]
    BadCredentials { request: String, message: String },

    #[error(
        "cannot list the packages of {owner}\n  {request} answered {status} \"{message}\"{}",
        cannot_list_why(message)
    )]
    CannotList {
        owner: String,
        request: String,
        status: u16,
        message: String,
    },

    #[error(
        "{request} answered 403 \"{message}\": the token is not allowed to do this\n  help: {help}"
    )]
    Forbidden {
        request: String,
        message: String,
        help: String,
    },

    #[error("{request} answered 404 \"{message}\": it does not exist or this token cannot see it\n  help: check the owner and package name, and that the token has read:packages and access to the package")]
    NotFound { request: String, message: String },

    #[error("{request} is rate limited by GitHub{}; {}", reset_at.map(|t| format!(" until {}", human_time(t))).unwrap_or_default(), rate_limited_detail(*wait, *max_wait, *waits))]
    RateLimited {
        request: String,
        reset_at: Option<Timestamp>,
        /// The wait the last answer asked for.
        wait: Duration,
        max_wait: Duration,
        /// Waits already done for this request.
        waits: u32,
    },

    #[error("{request} answered {status} \"{message}\"{}\n  help: {help}", retried_note(*attempts))]
    Status {
        request: String,
        status: u16,
        message: String,
        attempts: u32,
        help: String,
    },

    #[error("{request} failed: {detail}{}\n  help: check the API URL and the network; GitHub may be unreachable", retried_note(*attempts))]
    Transport {
        request: String,
        detail: String,
        attempts: u32,
    },

    #[error("{request} answered with a body that is not what GitHub sends: {detail}\n  help: check the API URL points at the GitHub REST API (https://api.github.com or https://HOST/api/v3)")]
    Decode { request: String, detail: String },

    #[error("{request}: the next page link `{url}` leaves the API at the configured URL, so it was not followed (the token would be sent there)\n  help: check the API URL; a proxy may be rewriting links")]
    ForeignLink { request: String, url: String },

    #[error("{request}: the next page link `{url}` points at a page already read; the listing would never end\n  help: this is a server defect; report it")]
    PaginationLoop { request: String, url: String },

    #[error("{request}: {source}")]
    Link {
        request: String,
        #[source]
        source: LinkError,
    },

    /// The transport policy refused: a cross-origin redirect, a body past its cap, a
    /// listing past its page budget, credentials for another origin. `detail` says
    /// what, what was expected and how to fix it.
    #[error("{request}: {detail}")]
    Edge { request: String, detail: String },

    #[error("package `{package}` cannot be read: {request} answered {problem}\n  nothing in this package is planned or deleted: its inventory is unknown\n  help: GitHub does not send such answers; check that nothing between regsweep and the API (a proxy, a mirror) rewrites them, and run again")]
    Unreadable {
        package: String,
        request: String,
        problem: ListingProblem,
    },

    #[error("{0}\n  help: {NAME_RULES}")]
    PackageName(#[from] NameError),

    #[error(transparent)]
    Url(#[from] UrlError),

    #[error("invalid client configuration: {detail}\n  help: {help}")]
    Config { detail: String, help: String },
}

/// Why a package's listing cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingProblem {
    /// One entry does not have the fields GitHub always sends.
    #[error("an entry that cannot be read: {0}")]
    Entry(EntryError),
    /// The same version id twice (the listing changed while it was read, or the
    /// server is wrong): which entry is meant cannot be told.
    #[error("two entries with `id` {id}")]
    DuplicateId { id: u64 },
    /// Two versions with the same digest: the manifest graph cannot tell them apart.
    #[error("versions {first} and {second} with the same `name` (digest) {digest}")]
    DuplicateDigest {
        digest: String,
        first: u64,
        second: u64,
    },
    /// The body is not a list of entries.
    #[error("a body that is not a list of entries: {0}")]
    Body(String),
}

impl ListingProblem {
    /// The version id concerned, where known.
    pub fn version(&self) -> Option<u64> {
        match self {
            ListingProblem::Entry(e) => e.id,
            ListingProblem::DuplicateId { id } => Some(*id),
            ListingProblem::DuplicateDigest { second, .. } => Some(*second),
            ListingProblem::Body(_) => None,
        }
    }

    /// The field concerned, where one is: `id`, `name`, `metadata.container.tags`…
    pub fn field(&self) -> Option<&str> {
        match self {
            ListingProblem::Entry(e) => Some(&e.field),
            ListingProblem::DuplicateId { .. } => Some("id"),
            ListingProblem::DuplicateDigest { .. } => Some("name"),
            ListingProblem::Body(_) => None,
        }
    }
}

fn rate_limited_detail(wait: Duration, max_wait: Duration, waits: u32) -> String {
    if wait > max_wait {
        format!(
            "waiting {} would exceed the longest wait allowed ({})",
            human_duration(wait),
            human_duration(max_wait)
        )
    } else {
        format!("still limited after waiting {waits} times; giving up on this request")
    }
}

fn retried_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl GithubError {
    /// The help text of a plain 403 on a request that needs `needs` (a scope name).
    pub fn forbidden_help(needs: &str, scopes: Option<&[String]>) -> String {
        let mut help = format!(
            "use a classic PAT with {needs} that can access the package; for the Actions GITHUB_TOKEN, give the workflow's repository access in the package settings (Admin role to delete)"
        );
        if let Some(scopes) = scopes {
            if !has_scope(scopes, needs) {
                help.push_str(&format!(
                    "; this token's scopes ({}) lack {needs}",
                    show_scopes(scopes)
                ));
            }
        }
        help
    }
}

fn show_scopes(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "none".to_string()
    } else {
        scopes.join(", ")
    }
}

/// Whether `scopes` grants `needed` (`write:packages` implies `read:packages`).
pub fn has_scope(scopes: &[String], needed: &str) -> bool {
    scopes
        .iter()
        .any(|s| s == needed || (needed == READ_SCOPES[0] && s == READ_SCOPES[1]))
}

/// What the user can do about an error whose help names a setting of the caller
/// (a flag, an input). The library returns this as data and never names the caller's
/// settings; the binary renders the `help:` line (the errors' `Display` ends before
/// it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Name the packages exactly instead of listing them, or use a token that may list.
    NamePackages,
    /// Run again after the rate-limit reset, or allow a longer wait.
    AllowLongerWait,
    /// Leave the version out of the policy (GitHub will not delete it).
    ExcludeVersion,
}

impl GithubError {
    /// The caller-specific help for this error, if it has one.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            GithubError::CannotList { .. } => Some(Hint::NamePackages),
            GithubError::RateLimited { .. } => Some(Hint::AllowLongerWait),
            _ => None,
        }
    }
}

impl DeleteError {
    /// The caller-specific help for this error, if it has one.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            DeleteError::TooManyDownloads { .. } => Some(Hint::ExcludeVersion),
            DeleteError::RateLimited { .. } => Some(Hint::AllowLongerWait),
            DeleteError::Other(e) => e.hint(),
            _ => None,
        }
    }
}

/// The deletions GitHub refuses, told to the planner so it predicts them as skips
/// ([`DeleteError::TooManyDownloads`], [`DeleteError::LastTaggedVersion`]).
pub const REFUSALS: RefusalRules = RefusalRules {
    public_downloads_over: Some(5000),
    last_tagged_version: true,
};

/// Why a version was not deleted (or restored).
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("the version was not found: it is already deleted, or this token cannot see it\n  help: nothing to do if it was deleted earlier; otherwise check the token can access the package")]
    NotFound,

    #[error("GitHub refuses to delete the last tagged version of a package: \"{message}\"\n  help: keep at least one tagged version in the policy, or delete the whole package in GitHub's settings")]
    LastTaggedVersion { message: String },

    #[error(
        "GitHub refuses to delete a public version with more than 5,000 downloads: \"{message}\""
    )]
    TooManyDownloads { message: String },

    #[error("the token may not change this version: \"{message}\"\n  help: use a classic PAT with delete:packages and admin on the package; for the Actions GITHUB_TOKEN, give the workflow's repository the Admin role in the package settings; for a GitHub App, grant it the Packages permission `write`")]
    Forbidden { message: String },

    #[error("GitHub's rate limit would need a wait longer than allowed{}", reset_at.map(|t| format!(" (it resets at {})", human_time(t))).unwrap_or_default())]
    RateLimited { reset_at: Option<Timestamp> },

    #[error(transparent)]
    Other(GithubError),
}

impl From<GithubError> for DeleteError {
    fn from(e: GithubError) -> Self {
        match e {
            GithubError::RateLimited { reset_at, .. } => DeleteError::RateLimited { reset_at },
            other => DeleteError::Other(other),
        }
    }
}

/// Why an integration token cannot list packages, after GitHub's answer.
fn cannot_list_why(message: &str) -> &'static str {
    if message.contains("not accessible by integration") {
        "\n  The Actions GITHUB_TOKEN cannot list packages; it reaches only the packages whose settings give the workflow's repository access."
    } else {
        ""
    }
}

/// GitHub's `message` from an error body, or the body's start when it is not JSON.
pub fn github_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        message: Option<String>,
    }
    if let Ok(Body { message: Some(m) }) = serde_json::from_slice::<Body>(body) {
        return m;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Classifies a non-success answer to `DELETE …/versions/{id}` or `POST …/restore`.
///
/// `scopes` is the token's `X-OAuth-Scopes`, when GitHub sent it: a 403 then names
/// a missing `delete:packages`.
pub fn classify_delete(
    request: &str,
    status: u16,
    body: &[u8],
    scopes: Option<&[String]>,
) -> DeleteError {
    let message = github_message(body);
    let lower = message.to_ascii_lowercase();
    match status {
        404 => DeleteError::NotFound,
        400 | 422 if lower.contains("last tagged version") => {
            DeleteError::LastTaggedVersion { message }
        }
        400 | 422
            if lower.contains("download")
                && (lower.contains("5000") || lower.contains("5,000")) =>
        {
            DeleteError::TooManyDownloads { message }
        }
        401 => DeleteError::Other(GithubError::BadCredentials {
            request: request.to_string(),
            message,
        }),
        403 => {
            let mut message = message;
            if let Some(scopes) = scopes {
                if !has_scope(scopes, DELETE_SCOPE) {
                    message.push_str(&format!(
                        " (the token's scopes are {}: {DELETE_SCOPE} is missing)",
                        show_scopes(scopes)
                    ));
                }
            }
            DeleteError::Forbidden { message }
        }
        _ => DeleteError::Other(GithubError::Status {
            request: request.to_string(),
            status,
            message,
            attempts: 1,
            help: status_help(status),
        }),
    }
}

/// The help line for an unexpected status.
pub fn status_help(status: u16) -> String {
    if status >= 500 {
        "GitHub had a server error and retries did not help; try again later (https://www.githubstatus.com)".to_string()
    } else {
        "GitHub refused the request and it was not retried; check the names and options given"
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = "DELETE /orgs/acme/packages/container/app/versions/1";

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn delete_classification_table() {
        let last = br#"{"message":"You cannot delete the last tagged version of a package. You must delete the package instead.","documentation_url":"https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization","status":"400"}"#;
        let downloads = br#"{"message":"Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.","documentation_url":"https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization"}"#;
        let downloads_comma =
            br#"{"message":"This version has more than 5,000 downloads and cannot be deleted."}"#;
        let forbidden = br#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization","status":"403"}"#;
        let not_found = br#"{"message":"Package not found.","documentation_url":"https://docs.github.com/rest/packages/packages"}"#;
        let bad_creds =
            br#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#;
        let other_400 = br#"{"message":"Invalid request."}"#;

        let has = |e: &DeleteError, want: &str| format!("{e:?}").starts_with(want);
        type Case<'a> = (u16, &'a [u8], Option<Vec<String>>, &'a str);
        let cases: Vec<Case> = vec![
            (400, last, None, "LastTaggedVersion"),
            (400, downloads, None, "TooManyDownloads"),
            (400, downloads_comma, None, "TooManyDownloads"),
            (403, forbidden, None, "Forbidden"),
            (404, not_found, None, "NotFound"),
            (401, bad_creds, None, "Other(BadCredentials"),
            (400, other_400, None, "Other(Status"),
            (500, b"oops", None, "Other(Status"),
            (
                403,
                forbidden,
                Some(scopes(&["read:packages"])),
                "Forbidden",
            ),
        ];
        for (status, body, sc, want) in cases {
            let e = classify_delete(REQ, status, body, sc.as_deref());
            assert!(
                has(&e, want),
                "{status} {:?}: got {e:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn forbidden_names_missing_delete_scope() {
        let body = br#"{"message":"Must have admin rights to Repository."}"#;
        let e = classify_delete(REQ, 403, body, Some(&scopes(&["read:packages", "repo"])));
        let text = e.to_string();
        assert!(
            text.contains("Must have admin rights to Repository."),
            "{text}"
        );
        assert!(text.contains("read:packages, repo"), "{text}");
        assert!(text.contains("delete:packages is missing"), "{text}");
        assert!(text.contains("help:"), "{text}");
        // Scope present: no hint; scopes unknown: no hint.
        for sc in [Some(scopes(&["delete:packages", "read:packages"])), None] {
            let text = classify_delete(REQ, 403, body, sc.as_deref()).to_string();
            assert!(!text.contains("is missing"), "{text}");
        }
    }

    #[test]
    fn messages_quote_github_and_help() {
        let e = classify_delete(
            REQ,
            400,
            br#"{"message":"You cannot delete the last tagged version of a package. You must delete the package instead."}"#,
            None,
        );
        let text = e.to_string();
        assert!(text.contains("You cannot delete the last tagged version"));
        assert!(text.contains("help:"));

        let e = GithubError::CannotList {
            owner: "organisation `acme`".into(),
            request: "GET /orgs/acme/packages".into(),
            status: 403,
            message: "Resource not accessible by integration".into(),
        };
        let text = e.to_string();
        assert!(text.contains(
            "GET /orgs/acme/packages answered 403 \"Resource not accessible by integration\""
        ));
        // The help names the caller's settings: data, rendered by the caller.
        assert!(!text.contains("--"), "{text}");
        assert_eq!(e.hint(), Some(Hint::NamePackages));
        assert!(text.contains("The Actions GITHUB_TOKEN cannot list packages"));
        let e = GithubError::BadCredentials {
            request: "GET /user".into(),
            message: "Bad credentials".into(),
        };
        assert!(e
            .to_string()
            .contains("the token was rejected; check it has not expired"));
    }

    #[test]
    fn github_message_extraction() {
        assert_eq!(github_message(br#"{"message":"Not Found"}"#), "Not Found");
        assert_eq!(
            github_message(b"<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
        assert_eq!(github_message(b""), "(empty body)");
        let long = "x".repeat(500);
        assert_eq!(github_message(long.as_bytes()).chars().count(), 201);
    }

    #[test]
    fn rate_limited_converts() {
        let e: DeleteError = GithubError::RateLimited {
            request: "DELETE /x".into(),
            reset_at: Some(Timestamp::from_second(1_700_000_103).unwrap()),
            wait: Duration::from_secs(3600),
            max_wait: Duration::from_secs(900),
            waits: 0,
        }
        .into();
        assert!(matches!(e, DeleteError::RateLimited { reset_at: Some(_) }));
        assert!(e.to_string().contains("22:15:03 UTC"));
    }

    #[test]
    fn scope_rules() {
        assert!(has_scope(&scopes(&["write:packages"]), "read:packages"));
        assert!(!has_scope(&scopes(&["write:packages"]), "delete:packages"));
        assert!(!has_scope(&scopes(&[]), "read:packages"));
    }
}
