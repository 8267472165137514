//! What goes over the wire, checked with a bare TCP listener on 127.0.0.1 that
//! records the raw request and answers a canned response: the headers every request
//! carries, and that a `Link` leaving the API is never followed.

use std::time::Duration;

use regsweep_core::Secret;
use regsweep_github::{ClientConfig, GithubClient, GithubError, Owner, VersionState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

const TOKEN: &str = "ghp_WireLevelToken0123456789";

/// Serves `responses` to successive connections; returns the base URL and the raw
/// requests received.
async fn serve(responses: Vec<String>) -> (Url, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for response in responses {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            seen.push(String::from_utf8_lossy(&buf).into_owned());
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.ok();
        }
        seen
    });
    (Url::parse(&format!("http://{addr}/api/v3")).unwrap(), task)
}

fn response(status: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

fn client(base: Url) -> GithubClient {
    let mut cfg = ClientConfig::new(base, Secret::new(TOKEN));
    cfg.user_agent = "regsweep-test/1".into();
    cfg.max_retries = 0;
    GithubClient::new(cfg).unwrap()
}

#[tokio::test]
async fn every_request_carries_githubs_headers() {
    let (base, seen) = serve(vec![response(
        "200 OK",
        "x-oauth-scopes: read:packages, delete:packages\r\n",
        r#"{"login":"octocat"}"#,
    )])
    .await;
    let c = client(base);
    let info = tokio::time::timeout(Duration::from_secs(30), c.probe())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.login.as_deref(), Some("octocat"));
    assert_eq!(
        c.scopes(),
        Some(vec![
            "read:packages".to_string(),
            "delete:packages".to_string()
        ])
    );
    let requests = seen.await.unwrap();
    let request = requests[0].to_ascii_lowercase();
    assert!(
        request.starts_with("get /api/v3/user http/1.1\r\n"),
        "{request}"
    );
    for line in [
        "accept: application/vnd.github+json",
        "x-github-api-version: 2022-11-28",
        &format!("authorization: bearer {}", TOKEN.to_ascii_lowercase()),
        "user-agent: regsweep-test/1",
    ] {
        assert!(
            request.contains(&format!("\r\n{line}\r\n")),
            "{line} missing in {request}"
        );
    }
}

#[tokio::test]
async fn link_leaving_the_api_is_not_followed() {
    let (base, seen) = serve(vec![response(
        "200 OK",
        "link: <http://192.0.2.1/orgs/acme/packages/container/app/versions?page=2>; rel=\"next\"\r\n",
        "[]",
    )])
    .await;
    let c = client(base);
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        c.list_versions(
            &Owner::Org("acme".into()),
            "app",
            VersionState::Active,
            &|_| {},
        ),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, GithubError::ForeignLink { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("WireLevelToken"));
    assert_eq!(seen.await.unwrap().len(), 1);
}

#[tokio::test]
async fn plain_permission_403_is_not_retried() {
    let (base, seen) = serve(vec![response(
        "403 Forbidden",
        "x-ratelimit-limit: 5000\r\nx-ratelimit-remaining: 4999\r\nx-ratelimit-reset: 1700000000\r\n",
        r#"{"message":"Resource not accessible by integration"}"#,
    )])
    .await;
    let mut cfg = ClientConfig::new(base, Secret::new(TOKEN));
    cfg.max_retries = 5;
    let c = GithubClient::new(cfg).unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        c.get_package(&Owner::Org("acme".into()), "team/app"),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, GithubError::Forbidden { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("GET /orgs/acme/packages/container/team%2Fapp answered 403 \"Resource not accessible by integration\""),
        "{text}"
    );
    assert_eq!(seen.await.unwrap().len(), 1);
    let stats = c.stats();
    assert_eq!(
        (stats.requests, stats.retries, stats.rate_limit_waits),
        (1, 0, 0)
    );
    assert_eq!(c.rate_limit().map(|r| r.remaining), Some(4999));
}
