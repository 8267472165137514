//! GHCR's registry surface: token endpoint, bearer challenge, reads forwarded to the
//! backing registry, 405 on DELETE, no referrers API.

mod common;

use common::*;

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

#[tokio::test]
async fn bearer_flow_reads_manifests_and_refuses_delete() {
    let sim = start().await;
    let base = sim
        .registry_url()
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let multi = sim.image("acme", "app", "multi").unwrap();
    let manifest = format!("{base}/v2/acme/app/manifests/{}", multi.root.1);

    // Anonymous: challenged with GHCR's header.
    let resp = http()
        .get(&manifest)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
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
    let token_url = format!("{base}/token?service=ghcr.io&scope=repository:acme/app:pull");
    let resp = http()
        .get(&token_url)
        .header("authorization", basic(ADMIN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let bearer = body["token"].as_str().unwrap().to_string();

    let resp = http()
        .get(&manifest)
        .bearer_auth(&bearer)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
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

    let head = http()
        .head(&manifest)
        .bearer_auth(&bearer)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["docker-content-digest"],
        multi.root.1.as_str()
    );

    let tags: serde_json::Value = http()
        .get(format!("{base}/v2/acme/app/tags/list"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "latest"));

    // GHCR refuses OCI deletes and has no referrers API.
    let resp = http()
        .delete(&manifest)
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
    let base = sim
        .registry_url()
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let token = |scope: &str| {
        let url = format!("{base}/token?service=ghcr.io&scope=repository:{scope}:pull");
        async move {
            let body: serde_json::Value =
                http().get(url).send().await.unwrap().json().await.unwrap();
            body["token"].as_str().unwrap().to_string()
        }
    };
    let public = token("acme/popular").await;
    let resp = http()
        .get(format!("{base}/v2/acme/popular/manifests/v1"))
        .bearer_auth(&public)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let private = token("acme/app").await;
    let resp = http()
        .get(format!("{base}/v2/acme/app/manifests/v2"))
        .bearer_auth(&private)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Bad credentials are refused at the token endpoint.
    let resp = http()
        .get(format!(
            "{base}/token?service=ghcr.io&scope=repository:acme/app:pull"
        ))
        .header("authorization", basic("ghp_wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The Actions token reads its granted package; nested names work.
    let url = format!("{base}/token?service=ghcr.io&scope=repository:acme/app:pull");
    let body: serde_json::Value = http()
        .get(url)
        .header("authorization", basic(ACTIONS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b = body["token"].as_str().unwrap();
    let resp = http()
        .get(format!("{base}/v2/acme/app/manifests/v2"))
        .bearer_auth(b)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let url = format!("{base}/token?service=ghcr.io&scope=repository:acme/team/worker:pull");
    let body: serde_json::Value = http()
        .get(url)
        .header("authorization", basic(ADMIN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b = body["token"].as_str().unwrap();
    let resp = http()
        .get(format!("{base}/v2/acme/team/worker/manifests/v1"))
        .bearer_auth(b)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(sim
        .stats()
        .by_route
        .contains_key("GET /v2/{name}/manifests/{reference}"));
    sim.shutdown().await;
}
