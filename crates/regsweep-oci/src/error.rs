//! The errors of the registry client. Each says what happened, which request it was
//! (method and path), and how to fix it.

use regsweep_core::graph::ManifestError;
use regsweep_core::Digest;

/// What the caller was trying to do, for the help text of 401/403 answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Push,
    Delete,
    Catalog,
}

impl Access {
    fn forbidden_help(self) -> &'static str {
        match self {
            Access::Read => "the token lacks read access to the package: on GHCR use a token with read:packages, and give the workflow's repository access to the package (package settings → Manage Actions access)",
            Access::Push => "the token lacks write access to the package: on GHCR use a token with write:packages and write access to the package",
            Access::Delete => "the token lacks delete access to the package: on GHCR delete through the Packages API with delete:packages; on other registries grant delete rights",
            Access::Catalog => "the token may not list the registry's catalog: name the repositories explicitly instead",
        }
    }
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("invalid registry URL `{url}`: {reason}\n  help: give the registry's base URL, e.g. https://ghcr.io or http://127.0.0.1:5000")]
    InvalidBase { url: String, reason: String },

    /// The transport policy refused: a cross-origin redirect, a body past its cap, a
    /// listing past its page budget, credentials for another origin or over plain
    /// http, a token realm on another host.
    #[error("{request}: {detail}")]
    Edge { request: String, detail: String },

    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),

    #[error("`{name}` is not a valid repository name: expected lowercase path components such as `owner/app` (letters, digits, `.`, `_`, `-`, separated by `/`)")]
    InvalidRepository { name: String },

    #[error("`{reference}` is not a valid tag or digest: expected a tag such as `v1.2` (letters, digits, `_`, `.`, `-`, at most 128) or a digest `sha256:<64 hex>`")]
    InvalidReference { reference: String },

    #[error("refusing to delete `{repo}:{tag}` by tag: deleting a tag deletes the manifest it points to and every other tag on it\n  help: resolve the tag to its digest (head_manifest) and delete by digest")]
    DeleteByTag { repo: String, tag: String },

    #[error("{request} answered 401 Unauthorized{detail}\n  help: {help}")]
    Unauthorized {
        request: String,
        detail: String,
        help: &'static str,
    },

    #[error("{request} answered 403 Forbidden{detail}\n  help: {}", access.forbidden_help())]
    Forbidden {
        request: String,
        detail: String,
        access: Access,
    },

    #[error("{request} answered 404 Not Found: no such manifest, blob or repository")]
    NotFound { request: String },

    #[error("{request} answered {status} ({detail}): the registry does not support this operation\n  help: {help}")]
    Unsupported {
        request: String,
        status: u16,
        detail: String,
        help: &'static str,
    },

    #[error("{request} still answered {status} after {attempts} attempts{detail}\n  help: the registry is overloaded or rate limiting; retry later or lower the concurrency")]
    Exhausted {
        request: String,
        status: u16,
        attempts: u32,
        detail: String,
    },

    #[error("{request} answered {status}{detail}; expected {expected}")]
    Status {
        request: String,
        status: u16,
        detail: String,
        expected: &'static str,
    },

    #[error("{request} failed after {attempts} attempts: {source}\n  help: check the registry URL and the network; raise the timeout for slow registries")]
    Transport {
        request: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },

    #[error("cannot get a registry token from {realm}: {detail}\n  help: {help}")]
    Token {
        realm: String,
        detail: String,
        help: &'static str,
    },

    #[error("{request}: the registry sent bytes that hash to {actual}, not {expected}\n  help: the registry or a proxy altered the content; retry, and report it if it persists")]
    DigestMismatch {
        request: String,
        expected: Digest,
        actual: String,
    },

    #[error("{request}: unexpected response: {detail}")]
    BadResponse { request: String, detail: String },

    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

impl OciError {
    /// Whether this is a 404 from the registry.
    pub fn is_not_found(&self) -> bool {
        matches!(self, OciError::NotFound { .. })
    }
}

/// Extracts a short detail from a registry error body (`{"errors":[{"code","message"}]}`),
/// formatted `: CODE message`, or an empty string.
pub(crate) fn registry_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<Item>,
    }
    if let Ok(e) = serde_json::from_slice::<Errors>(body) {
        let parts: Vec<String> = e
            .errors
            .iter()
            .map(|i| format!("{} {}", i.code, i.message).trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            return format!(": {}", parts.join("; "));
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        String::new()
    } else {
        let short: String = text.chars().take(200).collect();
        format!(": {short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_from_registry_errors() {
        assert_eq!(
            registry_detail(
                br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#
            ),
            ": UNSUPPORTED The operation is unsupported."
        );
        assert_eq!(registry_detail(b""), "");
        assert_eq!(registry_detail(b"<html>"), "");
        assert_eq!(registry_detail(b"plain words"), ": plain words");
    }

    #[test]
    fn forbidden_says_how_to_fix() {
        let e = OciError::Forbidden {
            request: "GET /v2/acme/app/manifests/v1".into(),
            detail: String::new(),
            access: Access::Read,
        };
        let s = e.to_string();
        assert!(s.contains("GET /v2/acme/app/manifests/v1"));
        assert!(s.contains("read access"));
    }
}
