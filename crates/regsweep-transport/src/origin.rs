//! Origins (scheme, host, port) and the two rules built on them: redirects stay
//! within the origin a request started from, and credentials go only where the
//! configuration says.
//!
//! - [`client_builder`] makes every `reqwest` client of regsweep with the redirect
//!   policy and the user agent; a cross-origin redirect fails the request with
//!   [`CrossOriginRedirect`] (find it with [`cross_origin_error`]).
//! - [`content_client_builder`] is the one exception, for content-addressed blobs
//!   (verified by digest after reading): registries redirect blob downloads to
//!   storage elsewhere (GHCR to `pkg-containers.githubusercontent.com`), so such a
//!   client follows a cross-origin redirect to https (or loopback), and `reqwest`
//!   drops the `Authorization` header on the way (it does on any change of host).
//! - [`CredentialPolicy`] says whether credentials may be attached to a URL: the
//!   configured origin, or a token realm on the same host or on the allow-list
//!   ([`crate::defaults::ALLOWED_REALMS`]); https is required except to loopback
//!   (127.0.0.0/8, ::1, `localhost`).

use std::fmt;
use std::time::Duration;

use url::{Host, Url};

use crate::defaults::{ALLOWED_REALMS, MAX_REDIRECTS};
use crate::USER_AGENT;

/// Scheme, host and port (the known default when the URL names none).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// The origin of `url`; `None` for URLs without a host (`file:`, `data:`).
    pub fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }

    /// Whether `url` is on this origin.
    pub fn contains(&self, url: &Url) -> bool {
        Origin::of(url).as_ref() == Some(self)
    }

    /// The host, lowercased.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(p) = self.port {
            let default = match self.scheme.as_str() {
                "http" => Some(80),
                "https" => Some(443),
                _ => None,
            };
            if default != Some(p) {
                write!(f, ":{p}")?;
            }
        }
        Ok(())
    }
}

/// The origin of `url` for messages (`scheme://host[:port]`, or the URL itself).
fn shown(url: &Url) -> String {
    Origin::of(url)
        .map(|o| o.to_string())
        .unwrap_or_else(|| url.as_str().to_string())
}

/// Whether `url`'s host is the local machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

/// A redirect that would have left the origin of the request; never followed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("the server redirected from {from} to {to}, another origin; the redirect was not followed (credentials and results stay with {from})")]
pub struct CrossOriginRedirect {
    pub from: String,
    pub to: String,
}

/// Too many redirects within one origin.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("more than {MAX_REDIRECTS} redirects; stopped following them")]
struct TooManyRedirects;

/// The redirect rule: follow only within the origin of the first request.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first().cloned() else {
            return attempt.follow();
        };
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(TooManyRedirects);
        }
        let same = Origin::of(&first).is_some_and(|o| o.contains(attempt.url()));
        if same {
            attempt.follow()
        } else {
            let to = shown(attempt.url());
            attempt.error(CrossOriginRedirect {
                from: shown(&first),
                to,
            })
        }
    })
}

/// The redirect rule of content-addressed downloads: within the origin, or to
/// https (loopback: any scheme) elsewhere, without credentials.
pub fn content_redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(TooManyRedirects);
        }
        let next = attempt.url();
        if next.scheme() == "https" || is_loopback(next) {
            attempt.follow()
        } else {
            let from = attempt.previous().first().map(shown).unwrap_or_default();
            let to = shown(next);
            attempt.error(CrossOriginRedirect { from, to })
        }
    })
}

/// [`client_builder`] for content-addressed downloads ([`content_redirect_policy`]).
pub fn content_client_builder(
    timeout: Duration,
    connect_timeout: Duration,
) -> reqwest::ClientBuilder {
    client_builder(timeout, connect_timeout).redirect(content_redirect_policy())
}

/// A `reqwest` client builder with regsweep's user agent, redirect rule and
/// timeouts (`timeout` per request; connecting at most `connect_timeout`).
pub fn client_builder(timeout: Duration, connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(redirect_policy())
        .timeout(timeout)
        .connect_timeout(connect_timeout.min(timeout))
}

/// [`client_builder`], built.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    client_builder(timeout, Duration::from_secs(10)).build()
}

/// The cross-origin redirect behind a request error, if that is what failed it.
pub fn cross_origin_error(e: &reqwest::Error) -> Option<CrossOriginRedirect> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(c) = s.downcast_ref::<CrossOriginRedirect>() {
            return Some(c.clone());
        }
        source = s.source();
    }
    None
}

/// Why credentials were not sent to a URL.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum RealmError {
    #[error("credentials would travel over plain http to {url}; they were not sent\n  expected an https URL (plain http is allowed only to loopback: 127.0.0.0/8, ::1, localhost)\n  help: use the https:// URL of the server")]
    Insecure { url: String },
    #[error("the token realm {realm} named by the server at {origin} is on another host; credentials were not sent there\n  expected a realm on {host} or one of {allowed}\n  help: check the registry URL; a proxy or a hostile server may be rewriting the `WWW-Authenticate` challenge")]
    ForeignRealm {
        realm: String,
        origin: String,
        host: String,
        allowed: String,
    },
    #[error("credentials are sent only to {origin}; {url} is elsewhere, so they were not sent\n  help: check the configured URL")]
    ForeignTarget { url: String, origin: String },
    #[error("the token realm `{realm}` is not an http(s) URL\n  expected `https://HOST/PATH` in the `WWW-Authenticate` challenge\n  help: the server sent a malformed challenge; check the registry URL")]
    NotHttp { realm: String },
}

/// Where one client's credentials may go.
#[derive(Clone, Debug)]
pub struct CredentialPolicy {
    origin: Origin,
    allowed_realms: Vec<Url>,
}

impl CredentialPolicy {
    /// The policy of a client configured with `base`; an http `base` off loopback is
    /// refused. The realm allow-list is [`ALLOWED_REALMS`].
    pub fn new(base: &Url) -> Result<CredentialPolicy, RealmError> {
        check_secure(base)?;
        let origin = Origin::of(base).ok_or_else(|| RealmError::NotHttp {
            realm: base.to_string(),
        })?;
        let allowed_realms = ALLOWED_REALMS
            .iter()
            .filter_map(|s| Url::parse(s).ok())
            .collect();
        Ok(CredentialPolicy {
            origin,
            allowed_realms,
        })
    }

    /// The configured origin.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether credentials may be attached to a request to `url`: the configured
    /// origin only.
    pub fn check_target(&self, url: &Url) -> Result<(), RealmError> {
        if self.origin.contains(url) {
            Ok(())
        } else {
            Err(RealmError::ForeignTarget {
                url: shown(url),
                origin: self.origin.to_string(),
            })
        }
    }

    /// Whether credentials may be sent to the token realm `realm` a challenge named:
    /// http(s); https unless loopback; on the configured host or allow-listed.
    pub fn check_realm(&self, realm: &str) -> Result<Url, RealmError> {
        let url = Url::parse(realm)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| RealmError::NotHttp {
                realm: realm.to_string(),
            })?;
        check_secure(&url)?;
        let same_host = url
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(self.origin.host()));
        let listed = self
            .allowed_realms
            .iter()
            .any(|a| Origin::of(a) == Origin::of(&url) && a.path() == url.path());
        if same_host || listed {
            return Ok(url);
        }
        Err(RealmError::ForeignRealm {
            realm: shown(&url),
            origin: self.origin.to_string(),
            host: self.origin.host().to_string(),
            allowed: ALLOWED_REALMS.join(", "),
        })
    }
}

fn check_secure(url: &Url) -> Result<(), RealmError> {
    if url.scheme() == "https" || is_loopback(url) {
        Ok(())
    } else {
        Err(RealmError::Insecure { url: shown(url) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn loopback_table() {
        for (url, want) in [
            ("http://127.0.0.1:5000/", true),
            ("http://127.8.9.10/", true),
            ("http://[::1]:8080/", true),
            ("http://localhost/", true),
            ("http://LOCALHOST./", true),
            ("http://registry.localhost/", true),
            ("http://128.0.0.1/", false),
            ("http://10.0.0.1/", false),
            ("http://[::2]/", false),
            ("http://localhost.evil.example/", false),
            ("https://ghcr.io/", false),
        ] {
            assert_eq!(is_loopback(&u(url)), want, "{url}");
        }
    }

    #[test]
    fn origin_table() {
        let a = Origin::of(&u("http://127.0.0.1:5000/v2/")).unwrap();
        for (url, want) in [
            ("http://127.0.0.1:5000/x", true),
            ("HTTP://127.0.0.1:5000/y?z", true),
            ("http://127.0.0.1:5001/x", false),
            ("https://127.0.0.1:5000/x", false),
            ("http://localhost:5000/x", false),
        ] {
            assert_eq!(a.contains(&u(url)), want, "{url}");
        }
        let g = Origin::of(&u("https://ghcr.io")).unwrap();
        assert!(g.contains(&u("https://ghcr.io:443/v2/")));
        assert_eq!(g.to_string(), "https://ghcr.io");
        assert_eq!(a.to_string(), "http://127.0.0.1:5000");
        assert!(Origin::of(&u("file:///tmp/x")).is_none());
    }

    #[test]
    fn realm_table() {
        let ghcr = CredentialPolicy::new(&u("https://ghcr.io")).unwrap();
        let local = CredentialPolicy::new(&u("http://127.0.0.1:5000")).unwrap();
        let corp = CredentialPolicy::new(&u("https://registry.corp.example")).unwrap();
        #[derive(Debug, PartialEq)]
        enum Want {
            Ok,
            Insecure,
            Foreign,
            NotHttp,
        }
        use Want::*;
        let cases = [
            (&ghcr, "https://ghcr.io/token", Ok),
            (&ghcr, "https://ghcr.io:443/token?x=1", Ok),
            (&ghcr, "http://ghcr.io/token", Insecure),
            (&ghcr, "https://evil.example/token", Foreign),
            (&ghcr, "https://ghcr.io.evil.example/token", Foreign),
            (&ghcr, "http://evil.example/token", Insecure),
            (&ghcr, "ftp://ghcr.io/token", NotHttp),
            (&ghcr, "/token", NotHttp),
            (&ghcr, "Registry Realm", NotHttp),
            // Same host, another port: the registry's own auth server.
            (&local, "http://127.0.0.1:5001/auth", Ok),
            (&local, "http://127.0.0.2:5000/auth", Foreign),
            (&local, "http://localhost:5000/auth", Foreign),
            (&corp, "https://registry.corp.example:8443/token", Ok),
            (&corp, "https://auth.corp.example/token", Foreign),
            // The allow-list: GHCR's realm, exactly (origin and path).
            (&corp, "https://ghcr.io/token", Ok),
            (&corp, "https://ghcr.io/other", Foreign),
            (&corp, "http://ghcr.io/token", Insecure),
        ];
        for (policy, realm, want) in cases {
            let got = match policy.check_realm(realm) {
                Result::Ok(_) => Ok,
                Err(RealmError::Insecure { .. }) => Insecure,
                Err(RealmError::ForeignRealm { .. }) => Foreign,
                Err(RealmError::NotHttp { .. }) => NotHttp,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(got, want, "{} realm {realm}", policy.origin());
        }
    }

    #[test]
    fn targets_and_bases() {
        let p = CredentialPolicy::new(&u("https://api.github.com")).unwrap();
        assert!(p.check_target(&u("https://api.github.com/user")).is_ok());
        assert!(p.check_target(&u("https://api.github.com:443/x")).is_ok());
        for bad in [
            "http://api.github.com/user",
            "https://evil.example/user",
            "https://api.github.com:8443/user",
        ] {
            assert!(p.check_target(&u(bad)).is_err(), "{bad}");
        }
        assert!(CredentialPolicy::new(&u("http://127.0.0.1:1")).is_ok());
        assert!(CredentialPolicy::new(&u("http://[::1]:1")).is_ok());
        let e = CredentialPolicy::new(&u("http://ghe.example.com/api/v3")).unwrap_err();
        assert!(matches!(e, RealmError::Insecure { .. }));
        assert!(e.to_string().contains("help:"), "{e}");
    }

    #[test]
    fn messages_say_what_expected_and_help() {
        let p = CredentialPolicy::new(&u("https://ghcr.io")).unwrap();
        let e = p.check_realm("https://evil.example/token").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("evil.example") && text.contains("not sent"),
            "{text}"
        );
        assert!(text.contains("expected a realm on ghcr.io"), "{text}");
        assert!(text.contains("help:"), "{text}");
    }
}
