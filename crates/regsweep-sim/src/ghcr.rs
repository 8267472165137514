//! GHCR's registry surface: the `/token` endpoint (Basic auth with any user name and
//! a token that may read the package; anonymous for public packages), bearer checks
//! with GHCR's `WWW-Authenticate` challenge, reads forwarded to the backing registry,
//! `DELETE` refused with 405 `UNSUPPORTED` and no referrers API (404), as on GHCR.
//! Manifest `PUT` (with the token's write scope) lives in [`crate::ghcr_push`].

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use rand::Rng;
use serde_json::json;

use crate::auth::{self, has_scope, package_access, Access, Caller};
use crate::scenario::{TokenKind, TokenSpec};
use crate::server::{Grant, Shared};
use crate::stats::{LoggedRequest, Outcome};
use crate::world::World;

pub(crate) fn oci_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"code": code, "message": message}]});
    let mut resp = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// Whether `token` (or anyone, when `None`) may pull `repository`; `None` when no
/// package has that name.
pub(crate) fn readable(world: &World, token: Option<&TokenSpec>, repository: &str) -> Option<bool> {
    let (account, package) = repository.split_once('/')?;
    let acc = world.account(account)?;
    let pkg = acc.packages.get(&package.to_ascii_lowercase())?;
    if pkg.deleted_at.is_some() {
        return None;
    }
    if pkg.visibility == regsweep_core::Visibility::Public {
        return Some(true);
    }
    let Some(t) = token else {
        return Some(false);
    };
    if t.kind == TokenKind::Classic && !has_scope(t, "read:packages") {
        return Some(false);
    }
    Some(package_access(t, acc, pkg) != Access::Hidden)
}

/// Splits `/v2/<name>/<kind>/<ref>` into (name, template kind).
pub(crate) fn split_v2(rest: &str) -> Option<(String, &'static str)> {
    for (marker, kind) in [
        ("/manifests/", "manifests/{reference}"),
        ("/blobs/", "blobs/{digest}"),
        ("/referrers/", "referrers/{digest}"),
    ] {
        if let Some(i) = rest.rfind(marker) {
            return Some((rest[..i].to_string(), kind));
        }
    }
    rest.strip_suffix("/tags/list")
        .map(|name| (name.to_string(), "tags/list"))
}

pub(crate) async fn handle(
    s: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let logged = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let (resp, route, kind) = if path == "/token" {
        let (r, k) = token(s, query, headers);
        (r, format!("{method} /token"), k)
    } else {
        let rest = path.trim_start_matches("/v2").trim_start_matches('/');
        let route = match split_v2(rest) {
            Some((_, kind)) => format!("{method} /v2/{{name}}/{kind}"),
            None => format!("{method} /v2/"),
        };
        let (r, k) = v2(s, method, rest, query, headers, body).await;
        (r, route, k)
    };
    s.recorder.record(
        LoggedRequest {
            method: method.to_string(),
            path: logged,
            route,
            status: Some(resp.status().as_u16()),
            token_kind: kind.to_string(),
        },
        Outcome::Normal,
    );
    resp
}

/// An injected registry fault (`registry_fail_next`): a registry error answer; a 401
/// carries `challenge`, else GHCR's Bearer challenge for the repository.
pub(crate) fn injected(
    s: &Shared,
    method: &Method,
    path: &str,
    status: u16,
    challenge_value: Option<&str>,
) -> Response {
    let rest = path.trim_start_matches("/v2").trim_start_matches('/');
    let repository = split_v2(rest).map(|(n, _)| n.to_ascii_lowercase());
    let resp = match (status, challenge_value) {
        (401, None) => challenge(s, repository.as_deref()),
        (401, Some(c)) => {
            let mut r = oci_error(401, "UNAUTHORIZED", "authentication required");
            if let Ok(v) = HeaderValue::from_str(c) {
                r.headers_mut().insert("www-authenticate", v);
            }
            r
        }
        (429, _) => {
            // As a rate-limiting registry answers: the Distribution code and a wait.
            let mut r = oci_error(429, "TOOMANYREQUESTS", "too many requests");
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            r
        }
        (status, _) => oci_error(status, "UNKNOWN", "injected fault"),
    };
    s.recorder.record(
        LoggedRequest {
            method: method.to_string(),
            path: path.to_string(),
            route: format!("{method} (injected registry fault)"),
            status: Some(status),
            token_kind: "registry".to_string(),
        },
        Outcome::Fault,
    );
    resp
}

fn token(s: &Shared, query: Option<&str>, headers: &HeaderMap) -> (Response, &'static str) {
    let pairs: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let world = s.world();
    let caller = auth::caller(headers, &world.tokens);
    let identity = match &caller {
        Caller::Anonymous => None,
        Caller::Invalid => {
            return (
                oci_error(401, "UNAUTHORIZED", "authentication required"),
                "invalid",
            );
        }
        Caller::Token(t) => Some(t.clone()),
    };
    let mut repositories = HashSet::new();
    let mut push = HashSet::new();
    for (_, scope) in pairs.iter().filter(|(k, _)| k == "scope") {
        for one in scope.split(' ') {
            let mut parts = one.splitn(3, ':');
            let (Some("repository"), Some(name), Some(actions)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if actions.split(',').any(|a| a == "pull")
                && readable(&world, identity.as_ref(), name) == Some(true)
            {
                repositories.insert(name.to_ascii_lowercase());
            }
            if actions.split(',').any(|a| a == "push")
                && crate::ghcr_push::writable(&world, identity.as_ref(), name)
            {
                push.insert(name.to_ascii_lowercase());
            }
        }
    }
    drop(world);
    let mut rng = rand::rng();
    let value: String = (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
        .collect();
    let value = format!("djE6{value}");
    if let Ok(mut g) = s.grants.lock() {
        g.insert(
            value.clone(),
            Grant {
                identity: identity.map(|t| t.token),
                repositories,
                push,
            },
        );
    }
    let body = json!({"token": value});
    let mut resp = Response::new(Body::from(body.to_string()));
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    (resp, caller.kind())
}

pub(crate) fn challenge(s: &Shared, repository: Option<&str>) -> Response {
    challenge_for(s, repository, "pull")
}

/// A Bearer challenge asking for `actions` (`pull`, `pull,push`) on `repository`.
pub(crate) fn challenge_for(s: &Shared, repository: Option<&str>, actions: &str) -> Response {
    let mut resp = oci_error(401, "UNAUTHORIZED", "authentication required");
    let mut value = format!("Bearer realm=\"{}/token\",service=\"ghcr.io\"", s.origin);
    if let Some(r) = repository {
        value.push_str(&format!(",scope=\"repository:{r}:{actions}\""));
    }
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert("www-authenticate", v);
    }
    resp
}

/// The registry token a request carries; Err is the caller kind to log (no or an
/// unknown bearer token).
pub(crate) fn grant_of(s: &Shared, headers: &HeaderMap) -> Result<Grant, &'static str> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let grant = bearer.and_then(|b| s.grants.lock().ok()?.get(b).cloned());
    grant.ok_or(if bearer.is_some() {
        "invalid"
    } else {
        "anonymous"
    })
}

async fn v2(
    s: &Arc<Shared>,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: bytes::Bytes,
) -> (Response, &'static str) {
    if *method == Method::PUT {
        return crate::ghcr_push::put(s, rest, headers, body).await;
    }
    if !matches!(*method, Method::GET | Method::HEAD) {
        return (
            oci_error(405, "UNSUPPORTED", "The operation is unsupported."),
            "registry",
        );
    }
    let target = split_v2(rest);
    let repository = target.as_ref().map(|(n, _)| n.to_ascii_lowercase());
    let grant = match grant_of(s, headers) {
        Ok(g) => g,
        Err(kind) => return (challenge(s, repository.as_deref()), kind),
    };
    let Some((_, kind)) = target else {
        let mut resp = Response::new(Body::from("{}"));
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        resp.headers_mut().insert(
            "docker-distribution-api-version",
            HeaderValue::from_static("registry/2.0"),
        );
        return (resp, "registry");
    };
    let repository = repository.unwrap_or_default();
    if !grant.repositories.contains(&repository) {
        let world = s.world();
        let identity = grant.identity.as_ref().and_then(|t| world.tokens.get(t));
        let could = readable(&world, identity, &repository);
        drop(world);
        return match could {
            Some(true) => (challenge(s, Some(&repository)), "registry"),
            Some(false) => (
                oci_error(403, "DENIED", "requested access to the resource is denied"),
                "registry",
            ),
            None => (
                oci_error(404, "NAME_UNKNOWN", "repository name not known to registry"),
                "registry",
            ),
        };
    }
    if kind.starts_with("referrers") {
        return (
            oci_error(404, "NOT_FOUND", "404 page not found"),
            "registry",
        );
    }
    let Some(backing) = &s.backing else {
        return (
            oci_error(404, "NAME_UNKNOWN", "repository name not known to registry"),
            "registry",
        );
    };
    let accept = headers
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let suffix = &rest[repository.len().min(rest.len())..];
    let forward_path = match query {
        Some(q) => format!("{repository}{suffix}?{q}"),
        None => format!("{repository}{suffix}"),
    };
    let f = backing
        .forward(
            method,
            &forward_path,
            (!accept.is_empty()).then_some(accept.as_str()),
        )
        .await;
    let mut resp = Response::new(Body::from(f.body));
    *resp.status_mut() = StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in f.headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    (resp, "registry")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_repository_paths() {
        assert_eq!(
            split_v2("acme/team/app/manifests/v1"),
            Some(("acme/team/app".into(), "manifests/{reference}"))
        );
        assert_eq!(
            split_v2("acme/app/tags/list"),
            Some(("acme/app".into(), "tags/list"))
        );
        assert_eq!(split_v2(""), None);
    }
}
