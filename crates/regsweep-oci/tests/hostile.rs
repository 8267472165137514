//! The transport policy against hostile registries on 127.0.0.1 (axum): a challenge
//! naming a foreign or plain-http token realm, a cross-origin redirect, and an
//! endless manifest body. Each test is named after the attack it stops.

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use regsweep_core::Secret;
use regsweep_oci::{Auth, OciError, OciOptions, RegistryClient};
use regsweep_sim::hostile::{self, serve, SeenLog};
use url::Url;

const PASSWORD: &str = "ghp_HostileRegistryPassword0123456789";

/// A foreign token endpoint on `ip` recording everything sent to it.
async fn recorder(ip: &str) -> (Url, SeenLog) {
    hostile::recorder(ip, || axum::Json(serde_json::json!({"token": "stolen"}))).await
}

/// A registry answering every request 401 with `challenge`.
async fn challenging(challenge: String) -> Url {
    let app = Router::new().fallback(move || {
        let challenge = challenge.clone();
        async move { (StatusCode::UNAUTHORIZED, [("www-authenticate", challenge)]).into_response() }
    });
    serve("127.0.0.1", app).await
}

fn client(base: Url) -> RegistryClient {
    RegistryClient::new(
        base,
        Auth::Basic {
            username: "me".into(),
            password: Secret::new(PASSWORD),
        },
        OciOptions {
            max_retries: 0,
            timeout: Duration::from_secs(30),
            ..OciOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn foreign_realm_gets_no_credentials() {
    let (foreign, seen) = recorder("127.0.0.2").await;
    let realms = [
        // Another host (loopback, so only the host differs).
        format!("{foreign}token"),
        // Plain http to a host off loopback.
        "http://registry.example.invalid/token".to_string(),
    ];
    for realm in realms {
        let registry = challenging(format!(
            r#"Bearer realm="{realm}",service="reg",scope="repository:acme/app:pull""#
        ))
        .await;
        let err = client(registry)
            .get_manifest("acme/app", "v1")
            .await
            .expect_err("a foreign realm is an error");
        let text = err.to_string();
        assert!(matches!(err, OciError::Edge { .. }), "{err:?}");
        assert!(
            text.contains("were not sent") && text.contains("help:"),
            "{text}"
        );
        assert!(!text.contains(PASSWORD), "{text}");
    }
    let seen = seen.lock().unwrap();
    assert!(
        seen.is_empty(),
        "nothing (no Authorization header, no password) reached the foreign realm: {seen:?}"
    );
}

#[tokio::test]
async fn cross_origin_redirect_of_manifest_is_an_error() {
    let (foreign, seen) = recorder("127.0.0.2").await;
    let registry = hostile::redirecting_paths_to(foreign.clone()).await;
    let err = client(registry)
        .get_manifest("acme/app", "v1")
        .await
        .expect_err("a cross-origin redirect is an error");
    assert!(matches!(err, OciError::Edge { .. }), "{err:?}");
    assert!(err.to_string().contains("another origin"), "{err}");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn endless_manifest_body_is_capped() {
    let app = Router::new().fallback(|| async {
        let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
        let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        Response::builder()
            .status(200)
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(Body::from_stream(stream))
            .unwrap()
    });
    let registry = serve("127.0.0.1", app).await;
    let err = RegistryClient::new(registry, Auth::Anonymous, OciOptions::default())
        .unwrap()
        .get_manifest("acme/app", "v1")
        .await
        .expect_err("an endless manifest is an error");
    assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
}
