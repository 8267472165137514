//! Registry authentication: the credentials a client holds, the bearer-token dance a
//! 401 challenge starts, and the tokens cached per scope.
//!
//! A 401 with `WWW-Authenticate: Bearer realm,service,scope` makes the client GET the
//! realm for that service and scope (with Basic credentials when it has them), cache the
//! token per scope and retry once; once the realm is known, tokens for new scopes are
//! fetched before the first request. A `Basic` challenge makes it send Basic
//! credentials. Token fetches are single-flight. Secrets never reach a log.
//!
//! Credentials follow `regsweep-transport`'s rule: a challenge naming a realm on
//! another host (not allow-listed) or over plain http off loopback is an error, and
//! the credentials are not sent; without credentials any http(s) realm is used (an
//! anonymous token request carries nothing to leak).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use regsweep_core::Secret;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use url::Url;

use regsweep_transport::defaults::MAX_TOKEN_BODY;
use regsweep_transport::RealmError;

use crate::challenge::parse_challenges;
use crate::client::{Answer, Call, Counters, Read, RegistryClient};
use crate::error::OciError;

/// The credentials of a client.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// No credentials: public images only.
    #[default]
    Anonymous,
    /// A user name and password or token, sent to the token endpoint (or the registry,
    /// when it asks for Basic). For GHCR: any user name and a PAT or the Actions token.
    Basic { username: String, password: Secret },
    /// A registry bearer token, sent as is with every request.
    Bearer(Secret),
}

/// What a token must allow: the `scope` parameter of a token request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// `repository:NAME:ACTIONS` (`pull`, `pull,push`, `delete`).
    Repository { repo: String, actions: &'static str },
    /// `registry:catalog:*`.
    Catalog,
}

impl Scope {
    pub fn pull(repo: &str) -> Self {
        Scope::Repository {
            repo: repo.to_string(),
            actions: "pull",
        }
    }

    pub fn push(repo: &str) -> Self {
        Scope::Repository {
            repo: repo.to_string(),
            actions: "pull,push",
        }
    }

    pub fn delete(repo: &str) -> Self {
        Scope::Repository {
            repo: repo.to_string(),
            actions: "delete",
        }
    }

    /// The scope string, also the token cache key.
    pub fn key(&self) -> String {
        match self {
            Scope::Repository { repo, actions } => format!("repository:{repo}:{actions}"),
            Scope::Catalog => "registry:catalog:*".to_string(),
        }
    }
}

/// An `Authorization` header to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Authorization {
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

impl Authorization {
    pub fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Authorization::Bearer(t) => req.bearer_auth(t.expose()),
            Authorization::Basic { username, password } => {
                req.basic_auth(username, Some(password.expose()))
            }
        }
    }
}

/// Where tokens come from, learned from a Bearer challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TokenEndpoint {
    realm: String,
    service: Option<String>,
}

/// Tokens and what the registry asked for, shared by the clones of a client.
#[derive(Default)]
pub(crate) struct TokenState {
    tokens: Mutex<HashMap<String, Secret>>,
    endpoint: Mutex<Option<TokenEndpoint>>,
    wants_basic: AtomicBool,
    fetching: tokio::sync::Mutex<()>,
    /// Set once the registry has answered a request: from then on how it
    /// authenticates is known and requests need not wait for one another.
    learned: AtomicBool,
    /// Held by the one request in flight while nothing is learned yet.
    first: tokio::sync::Mutex<()>,
}

impl TokenState {
    /// Waits, while no answer has arrived yet, for the request that is learning how
    /// the registry authenticates; the guard returned (if any) makes this request
    /// that learner. Without it, concurrent first requests would each collect a 401
    /// and each start the token dance.
    pub(crate) async fn first_answer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if self.learned.load(Ordering::Acquire) {
            return None;
        }
        let guard = self.first.lock().await;
        if self.learned.load(Ordering::Acquire) {
            return None;
        }
        Some(guard)
    }

    /// Records that the registry has answered (whatever the status).
    pub(crate) fn answered(&self) {
        self.learned.store(true, Ordering::Release);
    }

    fn cached(&self, key: &str) -> Option<Secret> {
        lock(&self.tokens).get(key).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl RegistryClient {
    fn basic(&self) -> Option<Authorization> {
        match &self.inner.auth {
            Auth::Basic { username, password } => Some(Authorization::Basic {
                username: username.clone(),
                password: password.clone(),
            }),
            _ => None,
        }
    }

    /// The header to send for `scope` before any challenge: a static bearer, Basic when
    /// the registry asked for it, a cached token, or a token fetched from a known realm.
    pub(crate) async fn authorization_for(
        &self,
        scope: &Scope,
    ) -> Result<Option<Authorization>, OciError> {
        let tokens = &self.inner.tokens;
        if let Auth::Bearer(t) = &self.inner.auth {
            return Ok(Some(Authorization::Bearer(t.clone())));
        }
        if tokens.wants_basic.load(Ordering::Relaxed) {
            if let Some(b) = self.basic() {
                return Ok(Some(b));
            }
        }
        let key = scope.key();
        if let Some(t) = tokens.cached(&key) {
            return Ok(Some(Authorization::Bearer(t)));
        }
        let endpoint = lock(&tokens.endpoint).clone();
        match endpoint {
            Some(ep) => Ok(Some(Authorization::Bearer(
                self.token(&key, &ep, &key, None).await?,
            ))),
            None => Ok(None),
        }
    }

    /// Acts on a 401: returns whether the request is worth sending again.
    pub(crate) async fn answer_challenge(
        &self,
        call: &Call,
        answer: &Answer,
        sent: Option<&Authorization>,
    ) -> Result<bool, OciError> {
        let challenges: Vec<_> = answer
            .headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_challenges)
            .collect();
        if matches!(self.inner.auth, Auth::Bearer(_)) {
            return Ok(false);
        }
        if let Some(bearer) = challenges.iter().find(|c| c.is_bearer()) {
            let Some(realm) = bearer.param("realm") else {
                tracing::warn!(request = %call.label(), "Bearer challenge without a realm");
                return Ok(false);
            };
            self.check_realm(call, realm)?;
            let endpoint = TokenEndpoint {
                realm: realm.to_string(),
                service: bearer.param("service").map(str::to_string),
            };
            *lock(&self.inner.tokens.endpoint) = Some(endpoint.clone());
            let key = call.scope.key();
            let scope = bearer
                .param("scope")
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| key.clone());
            let stale = match sent {
                Some(Authorization::Bearer(t)) => Some(t),
                _ => None,
            };
            self.token(&key, &endpoint, &scope, stale).await?;
            return Ok(true);
        }
        if challenges.iter().any(|c| c.is_basic()) {
            if self.basic().is_some() {
                self.credentials_allowed(&call.url)?;
            }
            let already = matches!(sent, Some(Authorization::Basic { .. }));
            if self.basic().is_some() && !already {
                self.inner.tokens.wants_basic.store(true, Ordering::Relaxed);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A token for cache key `key`, fetched (once, whatever the concurrency) unless a
    /// cached one other than `stale` exists.
    async fn token(
        &self,
        key: &str,
        endpoint: &TokenEndpoint,
        scope: &str,
        stale: Option<&Secret>,
    ) -> Result<Secret, OciError> {
        let tokens = &self.inner.tokens;
        let _flight = tokens.fetching.lock().await;
        if let Some(t) = tokens.cached(key) {
            if Some(&t) != stale {
                return Ok(t);
            }
        }
        let token = self.fetch_token(endpoint, scope).await?;
        self.inner.options.redactor.add_secret(&token);
        lock(&tokens.tokens).insert(key.to_string(), token.clone());
        Ok(token)
    }

    async fn fetch_token(&self, endpoint: &TokenEndpoint, scope: &str) -> Result<Secret, OciError> {
        let err = |detail: String, help: &'static str| OciError::Token {
            realm: endpoint.realm.clone(),
            detail,
            help,
        };
        let mut url = Url::parse(&endpoint.realm).map_err(|e| {
            err(
                format!("the realm is not a URL ({e})"),
                "the registry sent a malformed challenge; check the registry URL",
            )
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(err(
                "the realm is not an http(s) URL".to_string(),
                "the registry sent a malformed challenge; check the registry URL",
            ));
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = &endpoint.service {
                q.append_pair("service", s);
            }
            if !scope.is_empty() {
                q.append_pair("scope", scope);
            }
        }
        Counters::bump(&self.inner.counters.token_fetches);
        let answer = self
            .transport(
                &Method::GET,
                &url,
                &HeaderMap::new(),
                None,
                self.basic().as_ref(),
                Read {
                    cap: MAX_TOKEN_BODY,
                    what: "a token answer",
                    content: false,
                },
            )
            .await?;
        match answer.status {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(err(
                    format!(
                        "the token endpoint answered {} for scope `{scope}`",
                        answer.status.as_u16()
                    ),
                    self.unauthorized_help(),
                ))
            }
            s => {
                return Err(err(
                    format!(
                        "the token endpoint answered {} for scope `{scope}`",
                        s.as_u16()
                    ),
                    "retry later; check the registry's status",
                ))
            }
        }
        let parsed: TokenResponse = serde_json::from_slice(&answer.body).map_err(|e| {
            err(
                format!("the answer is not a token response ({e})"),
                "expected JSON with `token` or `access_token`; check the registry URL",
            )
        })?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                err(
                    "the answer has neither `token` nor `access_token`".to_string(),
                    "check the registry URL",
                )
            })
    }

    /// Whether this client's credentials may go to the token realm a challenge named.
    fn check_realm(&self, call: &Call, realm: &str) -> Result<(), OciError> {
        if self.basic().is_none() {
            return Ok(());
        }
        let edge = |e: &RealmError| OciError::Edge {
            request: call.label(),
            detail: e.to_string(),
        };
        let policy = self.inner.credentials.as_ref().map_err(edge)?;
        policy.check_realm(realm).map(|_| ()).map_err(|e| edge(&e))
    }

    /// How to fix a 401, given the credentials this client holds.
    pub(crate) fn unauthorized_help(&self) -> &'static str {
        match self.inner.auth {
            Auth::Anonymous => "the registry requires credentials: pass a user name and token (for GHCR: any user name and a token with read:packages)",
            Auth::Basic { .. } => "the registry refused the credentials: check the user name and token, and that the token has not expired",
            Auth::Bearer(_) => "the registry refused the bearer token: check that it is a registry token and has not expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(Scope::pull("acme/app").key(), "repository:acme/app:pull");
        assert_eq!(
            Scope::delete("acme/app").key(),
            "repository:acme/app:delete"
        );
        assert_eq!(Scope::Catalog.key(), "registry:catalog:*");
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let a = Auth::Basic {
            username: "me".into(),
            password: Secret::new("ghp_topsecret"),
        };
        assert!(!format!("{a:?}").contains("topsecret"));
        let b = Auth::Bearer(Secret::new("tok_topsecret"));
        assert!(!format!("{b:?}").contains("topsecret"));
    }
}
