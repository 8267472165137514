//! Manifest `PUT` on GHCR's registry surface, as GHCR does it: the bearer token
//! must have been granted `push` on the repository (a classic token needs
//! `write:packages` and write access to the package; the Actions token a grant; an
//! app write permission), the manifest goes to the backing registry, and the new
//! digest becomes a package version (or the existing one gains the tag) while the
//! tag leaves whichever version held it. A token without write access gets GHCR's
//! 403 `DENIED`; one that could push but did not ask for `push` gets a challenge
//! for `pull,push`. Blob uploads are not emulated (405).

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use regsweep_core::Digest;

use crate::auth::{has_scope, package_access, Access};
use crate::ghcr::{challenge_for, grant_of, oci_error, readable, split_v2};
use crate::scenario::{TokenKind, TokenSpec};
use crate::server::Shared;
use crate::world::{StoredManifest, World};

/// The largest manifest accepted.
pub(crate) const MAX_MANIFEST: usize = 4 << 20;

/// Whether `token` may push to `repository` (an existing package).
pub(crate) fn writable(world: &World, token: Option<&TokenSpec>, repository: &str) -> bool {
    let (Some(t), Some((account, package))) = (token, repository.split_once('/')) else {
        return false;
    };
    let Some(acc) = world.account(account) else {
        return false;
    };
    let Some(pkg) = acc.packages.get(&package.to_ascii_lowercase()) else {
        return false;
    };
    if pkg.deleted_at.is_some() || (t.kind == TokenKind::Classic && !has_scope(t, "write:packages"))
    {
        return false;
    }
    package_access(t, acc, pkg) == Access::Admin
}

/// `PUT /v2/<name>/manifests/<reference>`.
pub(crate) async fn put(
    s: &Arc<Shared>,
    rest: &str,
    headers: &HeaderMap,
    body: bytes::Bytes,
) -> (Response, &'static str) {
    let unsupported = || {
        (
            oci_error(405, "UNSUPPORTED", "The operation is unsupported."),
            "registry",
        )
    };
    let Some((name, "manifests/{reference}")) = split_v2(rest) else {
        return unsupported();
    };
    let repository = name.to_ascii_lowercase();
    let reference = rest[name.len()..]
        .trim_start_matches("/manifests/")
        .to_string();
    let grant = match grant_of(s, headers) {
        Ok(g) => g,
        Err(kind) => return (challenge_for(s, Some(&repository), "pull,push"), kind),
    };
    if !grant.push.contains(&repository) {
        let world = s.world();
        let identity = grant.identity.as_ref().and_then(|t| world.tokens.get(t));
        let could_push = writable(&world, identity, &repository);
        let exists = readable(&world, identity, &repository).is_some();
        drop(world);
        return match (exists, could_push) {
            (false, _) => (
                oci_error(404, "NAME_UNKNOWN", "repository name not known to registry"),
                "registry",
            ),
            (true, true) => (challenge_for(s, Some(&repository), "pull,push"), "registry"),
            (true, false) => (
                oci_error(
                    403,
                    "DENIED",
                    "permission_denied: The token provided does not match expected scopes.",
                ),
                "registry",
            ),
        };
    }
    let Some(backing) = &s.backing else {
        return unsupported();
    };
    let media_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_string();
    let f = backing
        .put_manifest(&repository, &reference, &media_type, body.clone())
        .await;
    let digest = f
        .headers
        .iter()
        .find(|(k, _)| k == "docker-content-digest")
        .and_then(|(_, v)| Digest::parse(v).ok());
    let (true, Some(digest)) = ((200..300).contains(&f.status), digest) else {
        let mut resp = Response::new(axum::body::Body::from(f.body));
        *resp.status_mut() = StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_GATEWAY);
        return (resp, "registry");
    };
    let tags = if reference.starts_with("sha256:") {
        Vec::new()
    } else {
        vec![reference.clone()]
    };
    let now = s.now();
    {
        let mut world = s.world();
        let (account, package) = repository.split_once('/').unwrap_or_default();
        world.push_version(
            account,
            package,
            digest.clone(),
            tags,
            now,
            now,
            0,
            Some(StoredManifest { media_type, body }),
        );
        if let Some(pkg) = world.package_mut(account, package) {
            pkg.finish();
        }
    }
    let mut resp = Response::new(axum::body::Body::empty());
    *resp.status_mut() = StatusCode::CREATED;
    for (k, v) in [
        ("docker-content-digest", digest.as_str().to_string()),
        (
            "location",
            format!("/v2/{repository}/manifests/{}", digest.as_str()),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    (resp, "registry")
}
