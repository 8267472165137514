//! GHCR's registry surface: token endpoint, bearer challenge, reads forwarded to the
//! backing registry, 405 on DELETE, no referrers API.

mod common;

use common::*;
use reqwest::{Method, RequestBuilder, Response};

const ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

fn basic(token: &str) -> String {
    // base64("x:" + token) without a dependency: tokens here are ASCII.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("x:{token}").into_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                T[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    format!("Basic {out}")
}

/// A request to the GHCR token endpoint for pull access to `repository`, with Basic
/// auth for `token` when one is given (anonymous otherwise).
fn token_request(base: &str, repository: &str, token: Option<&str>) -> RequestBuilder {
    let url = format!("{base}/token?service=ghcr.io&scope=repository:{repository}:pull");
    let req = http().get(url);
    match token {
        Some(t) => req.header("authorization", basic(t)),
        None => req,
    }
}

/// The bearer token the token endpoint grants for pulling `repository` (see
/// [`token_request`]); the endpoint must answer 200.
async fn pull_token(base: &str, repository: &str, token: Option<&str>) -> String {
    let resp = token_request(base, repository, token)
        .send()
        .await
        .expect("token endpoint answers");
    assert_eq!(resp.status(), 200, "token for {repository}");
    let body: serde_json::Value = resp.json().await.expect("token body is JSON");
    body["token"]
        .as_str()
        .expect("token body has a token")
        .to_string()
}

/// `method url` for a manifest, accepting OCI indexes and manifests, with `bearer`
/// when one is given.
async fn manifest(method: Method, url: &str, bearer: Option<&str>) -> Response {
    let mut req = http().request(method, url).header("accept", ACCEPT);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    req.send().await.expect("registry answers")
}

/// Status of `GET <base>/v2/<repository>/manifests/<reference>` with the bearer token
/// granted for `repository` (see [`pull_token`]).
async fn manifest_status(
    base: &str,
    repository: &str,
    reference: &str,
    token: Option<&str>,
) -> u16 {
    let bearer = pull_token(base, repository, token).await;
    let url = format!("{base}/v2/{repository}/manifests/{reference}");
    manifest(Method::GET, &url, Some(&bearer))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn bearer_flow_reads_manifests_and_refuses_delete() {
    let sim = start().await;
    let base = registry_base(&sim);
    let multi = sim.image("acme", "app", "multi").unwrap();
    let url = format!("{base}/v2/acme/app/manifests/{}", multi.root.1);

    // Anonymous: challenged with GHCR's header.
    let resp = manifest(Method::GET, &url, None).await;
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"{base}/token\",service=\"ghcr.io\",scope=\"repository:acme/app:pull\""
        )
    );

    // Token with Basic auth (any user name, a token that may read the package).
    let bearer = pull_token(&base, "acme/app", Some(ADMIN)).await;

    let resp = manifest(Method::GET, &url, Some(&bearer)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["docker-content-digest"],
        multi.root.1.as_str()
    );
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.oci.image.index.v1+json"
    );
    let bytes = resp.bytes().await.unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed["manifests"].as_array().unwrap().len(), 2);

    let head = manifest(Method::HEAD, &url, Some(&bearer)).await;
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["docker-content-digest"],
        multi.root.1.as_str()
    );

    let tags = body_json(
        http()
            .get(format!("{base}/v2/acme/app/tags/list"))
            .bearer_auth(&bearer),
    )
    .await;
    assert!(tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "latest"));

    // GHCR refuses OCI deletes and has no referrers API.
    let resp = http()
        .delete(&url)
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "UNSUPPORTED");
    let resp = http()
        .get(format!("{base}/v2/acme/app/referrers/{}", multi.root.1))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // A token for acme/app is challenged again for another repository it may read.
    let resp = http()
        .get(format!("{base}/v2/acme/solo/tags/list"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("repository:acme/solo:pull"));
    sim.shutdown().await;
}

#[tokio::test]
async fn anonymous_reads_public_packages_only() {
    let sim = start().await;
    let base = registry_base(&sim);
    assert_eq!(
        manifest_status(&base, "acme/popular", "v1", None).await,
        200
    );
    assert_eq!(manifest_status(&base, "acme/app", "v2", None).await, 403);
    // Bad credentials are refused at the token endpoint.
    let resp = token_request(&base, "acme/app", Some("ghp_wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The Actions token reads its granted package; nested names work.
    assert_eq!(
        manifest_status(&base, "acme/app", "v2", Some(ACTIONS)).await,
        200
    );
    assert_eq!(
        manifest_status(&base, "acme/team/worker", "v1", Some(ADMIN)).await,
        200
    );
    assert!(sim
        .stats()
        .by_route
        .contains_key("GET /v2/{name}/manifests/{reference}"));
    sim.shutdown().await;
}
