//! Whole-package deletion and restoration: what GitHub's answers to
//! `DELETE …/packages/container/{name}` and `POST …/{name}/restore` mean.
//!
//! Deleting a package needs admin on the package and, for a classic PAT, the
//! `delete:packages` scope; the Actions `GITHUB_TOKEN` (an integration token) cannot
//! delete packages at all. Every refusal says which token can.

use jiff::Timestamp;

use crate::error::{github_message, has_scope, status_help, GithubError, DELETE_SCOPE};
use crate::ratelimit::human_time;

/// What can delete or restore a whole package, for help lines.
pub const PACKAGE_DELETE_HELP: &str = "deleting or restoring a whole package needs admin on the package: use a classic PAT with read:packages and delete:packages of an account that is admin of the package (an organisation owner, or the package's admin); the Actions GITHUB_TOKEN cannot delete packages";

/// Why a package was not deleted (or restored).
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{request} answered 404: the package does not exist or this token cannot see it\n  help: nothing to do if it was deleted earlier; to restore, GitHub keeps a deleted package for 30 days and only while its name is not reused")]
    NotFound { request: String },

    #[error("{request} answered 403 \"{message}\": an integration token (the Actions GITHUB_TOKEN or a GitHub App) cannot delete or restore packages\n  help: {PACKAGE_DELETE_HELP}")]
    Integration { request: String, message: String },

    #[error("{request} answered 403 \"{message}\": the token's scopes are {scopes}, without {DELETE_SCOPE}\n  help: {PACKAGE_DELETE_HELP}")]
    MissingScope {
        request: String,
        message: String,
        scopes: String,
    },

    #[error("{request} answered 403 \"{message}\": the token's account is not admin of the package\n  help: {PACKAGE_DELETE_HELP}")]
    NotAdmin { request: String, message: String },

    #[error("{request} answered {status} \"{message}\": GitHub does not delete public packages with more than 5,000 downloads\n  help: only GitHub support can remove it; leave it out of the package rule's `packages`")]
    TooManyDownloads {
        request: String,
        status: u16,
        message: String,
    },

    /// Its help names the caller's setting: [`PackageError::hint`].
    #[error("GitHub's rate limit would need a wait longer than allowed{}", reset_at.map(|t| format!(" (it resets at {})", human_time(t))).unwrap_or_default())]
    RateLimited { reset_at: Option<Timestamp> },

    #[error(transparent)]
    Other(GithubError),
}

impl PackageError {
    /// The caller-specific help for this error, if it has one.
    pub fn hint(&self) -> Option<crate::Hint> {
        match self {
            PackageError::RateLimited { .. } => Some(crate::Hint::AllowLongerWait),
            PackageError::Other(e) => e.hint(),
            _ => None,
        }
    }
}

impl From<GithubError> for PackageError {
    fn from(e: GithubError) -> Self {
        match e {
            GithubError::RateLimited { reset_at, .. } => PackageError::RateLimited { reset_at },
            other => PackageError::Other(other),
        }
    }
}

/// Classifies a non-success answer to a package deletion or restoration.
/// `scopes` is the token's `X-OAuth-Scopes`, when GitHub sent it.
pub fn classify_package(
    request: &str,
    status: u16,
    body: &[u8],
    scopes: Option<&[String]>,
) -> PackageError {
    let message = github_message(body);
    let lower = message.to_ascii_lowercase();
    let request = request.to_string();
    match status {
        404 => PackageError::NotFound { request },
        400 | 422 if lower.contains("download") => PackageError::TooManyDownloads {
            request,
            status,
            message,
        },
        401 => PackageError::Other(GithubError::BadCredentials { request, message }),
        403 if lower.contains("not accessible by integration") => {
            PackageError::Integration { request, message }
        }
        403 => match scopes {
            Some(s) if !has_scope(s, DELETE_SCOPE) => PackageError::MissingScope {
                request,
                message,
                scopes: if s.is_empty() {
                    "none".to_string()
                } else {
                    s.join(", ")
                },
            },
            _ => PackageError::NotAdmin { request, message },
        },
        _ => PackageError::Other(GithubError::Status {
            request,
            status,
            message,
            attempts: 1,
            help: status_help(status),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = "DELETE /orgs/acme/packages/container/test";

    #[test]
    fn package_refusals_say_which_token_can() {
        let integration = classify_package(
            REQ,
            403,
            br#"{"message":"Resource not accessible by integration"}"#,
            None,
        );
        assert!(matches!(integration, PackageError::Integration { .. }));
        let scope = classify_package(
            REQ,
            403,
            br#"{"message":"You need at least delete:packages scope to delete packages."}"#,
            Some(&["read:packages".to_string()]),
        );
        assert!(matches!(scope, PackageError::MissingScope { .. }));
        let admin = classify_package(
            REQ,
            403,
            br#"{"message":"You must have admin permissions on this package to delete or restore it."}"#,
            Some(&["read:packages".to_string(), "delete:packages".to_string()]),
        );
        assert!(matches!(admin, PackageError::NotAdmin { .. }));
        for e in [integration, scope, admin] {
            let text = e.to_string();
            assert!(text.contains(REQ), "{text}");
            assert!(
                text.contains("help: deleting or restoring a whole package needs admin"),
                "{text}"
            );
            assert!(
                text.contains("classic PAT with read:packages and delete:packages"),
                "{text}"
            );
        }
        assert!(matches!(
            classify_package(REQ, 404, b"{}", None),
            PackageError::NotFound { .. }
        ));
        assert!(matches!(
            classify_package(
                REQ,
                400,
                br#"{"message":"Publicly visible packages with more than 5000 downloads cannot be deleted."}"#,
                None
            ),
            PackageError::TooManyDownloads { .. }
        ));
    }
}
