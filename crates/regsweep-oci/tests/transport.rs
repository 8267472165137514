//! Retries and error reporting when the registry cannot be reached.

use regsweep_core::Digest;
use regsweep_oci::{Auth, OciError, OciOptions, RegistryClient};

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    // A port nobody listens on: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let c = RegistryClient::new(
        url,
        Auth::Anonymous,
        OciOptions {
            max_retries: 2,
            ..OciOptions::default()
        },
    )
    .unwrap();
    let d = Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
    let err = c.read_node("acme/app", &d).await.unwrap_err();
    match &err {
        OciError::Transport {
            request, attempts, ..
        } => {
            assert_eq!(*attempts, 3);
            assert!(
                request.starts_with("GET /v2/acme/app/manifests/sha256:"),
                "{request}"
            );
        }
        other => panic!("expected a transport error, got {other}"),
    }
    assert_eq!(c.stats().requests, 3);
    assert!(err.to_string().contains("help:"));
}
