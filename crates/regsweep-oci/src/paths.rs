//! Building `/v2/` URLs, and validating the repository names and references put in them.
//!
//! The one place URLs are assembled: names are checked against the Distribution
//! grammar first, so nothing from input can add path segments, queries or fragments.

use regsweep_core::Digest;
use url::Url;

use crate::error::OciError;

/// A manifest reference: a tag or a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(Digest),
}

impl Reference {
    /// Parses a tag or a digest (anything with a `:` must be a digest).
    pub fn parse(s: &str) -> Result<Self, OciError> {
        let bad = || OciError::InvalidReference {
            reference: s.to_string(),
        };
        if s.contains(':') {
            return Digest::parse(s).map(Reference::Digest).map_err(|_| bad());
        }
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if first_ok && rest_ok && s.len() <= 128 {
            Ok(Reference::Tag(s.to_string()))
        } else {
            Err(bad())
        }
    }

    /// The text as it goes in a URL path.
    pub fn as_str(&self) -> &str {
        match self {
            Reference::Tag(t) => t,
            Reference::Digest(d) => d.as_str(),
        }
    }
}

/// Checks a repository name against the Distribution grammar:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
pub fn validate_repository(name: &str) -> Result<(), OciError> {
    let ok = !name.is_empty() && name.len() <= 255 && name.split('/').all(component_ok);
    if ok {
        Ok(())
    } else {
        Err(OciError::InvalidRepository {
            name: name.to_string(),
        })
    }
}

fn component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or one or more `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let valid = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !valid {
            return false;
        }
    }
    true
}

/// The registry's base URL, normalised (no trailing slash, no query).
pub fn normalise_base(mut base: Url) -> Result<Url, OciError> {
    let bad = |reason: &str| OciError::InvalidBase {
        url: base.to_string(),
        reason: reason.to_string(),
    };
    if base.scheme() != "http" && base.scheme() != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if base.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(bad(
            "credentials in the URL are not accepted; pass them as Auth::Basic",
        ));
    }
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/').to_string();
    base.set_path(&path);
    Ok(base)
}

/// `{base}/v2/{rest}` where `rest` was built from validated parts.
pub fn v2(base: &Url, rest: &str) -> Url {
    let mut url = base.clone();
    let path = format!("{}/v2/{}", base.path().trim_end_matches('/'), rest);
    url.set_path(&path);
    url
}

/// `/v2/{repo}/manifests/{reference}`.
pub fn manifest_url(base: &Url, repo: &str, reference: &Reference) -> Url {
    v2(base, &format!("{repo}/manifests/{}", reference.as_str()))
}

/// `/v2/{repo}/blobs/{digest}`.
pub fn blob_url(base: &Url, repo: &str, digest: &Digest) -> Url {
    v2(base, &format!("{repo}/blobs/{digest}"))
}

/// A short label for errors and logs: `GET /v2/app/manifests/v1` (no host, no query).
pub fn label(method: &reqwest::Method, url: &Url) -> String {
    format!("{method} {}", url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in ["app", "acme/app", "acme/team/app", "a.b_c__d---e/x9", "0"] {
            assert!(validate_repository(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "App",
            "acme//app",
            "/app",
            "app/",
            "a..b",
            "a___b",
            "-a",
            "a-",
            "../etc",
            "a?x",
            "a#x",
            "a b",
            "a%2fb",
        ] {
            assert!(validate_repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references() {
        assert!(matches!(Reference::parse("v1.2.3"), Ok(Reference::Tag(_))));
        assert!(matches!(Reference::parse("_x"), Ok(Reference::Tag(_))));
        let d = format!("sha256:{}", "a".repeat(64));
        assert!(matches!(Reference::parse(&d), Ok(Reference::Digest(_))));
        for bad in ["", ".x", "-x", "a/b", "a?b", "sha256:zz", &"a".repeat(129)] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        let base = normalise_base(Url::parse("http://127.0.0.1:5000/").unwrap()).unwrap();
        let r = Reference::parse("v1").unwrap();
        assert_eq!(
            manifest_url(&base, "acme/app", &r).as_str(),
            "http://127.0.0.1:5000/v2/acme/app/manifests/v1"
        );
        let prefixed =
            normalise_base(Url::parse("https://h.example/mirror/?x=1").unwrap()).unwrap();
        assert_eq!(v2(&prefixed, "").as_str(), "https://h.example/mirror/v2/");
        assert!(normalise_base(Url::parse("ftp://h").unwrap()).is_err());
        assert!(normalise_base(Url::parse("https://u:p@h").unwrap()).is_err());
        assert_eq!(
            label(&reqwest::Method::GET, &manifest_url(&base, "a", &r)),
            "GET /v2/a/manifests/v1"
        );
    }
}
