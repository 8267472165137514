//! Retries, Basic challenges and Link pagination against a scripted HTTP server on
//! 127.0.0.1 (the real registry cannot be made to fail or paginate on demand).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use regsweep_core::{Digest, Secret};
use regsweep_oci::{sha256_digest, Auth, OciError, OciOptions, RegistryClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A canned answer: status, extra headers, body.
struct Reply(u16, Vec<(&'static str, String)>, String);

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// Serves the replies `make` builds (given the server's base URL) in order, one per
/// connection, recording every request.
async fn serve(make: impl FnOnce(&str) -> Vec<Reply>) -> (url::Url, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let replies = make(&base);
    let url = url::Url::parse(&base).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for Reply(status, headers, body) in replies {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let mut lines = head.lines();
            let mut first = lines.next().unwrap_or("").split(' ');
            let method = first.next().unwrap_or("").to_string();
            let path = first.next().unwrap_or("").to_string();
            let authorization = lines
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.trim().to_string());
            log.lock().unwrap().push(Seen {
                method,
                path,
                authorization,
            });
            let mut out = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = sock.write_all(out.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (url, seen)
}

fn client(url: url::Url, auth: Auth, max_retries: u32) -> RegistryClient {
    RegistryClient::new(
        url,
        auth,
        OciOptions {
            max_retries,
            timeout: Duration::from_secs(30),
            ..OciOptions::default()
        },
    )
    .unwrap()
}

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

fn ok_manifest() -> Reply {
    Reply(
        200,
        vec![(
            "content-type",
            "application/vnd.oci.image.manifest.v1+json".into(),
        )],
        MANIFEST.to_string(),
    )
}

fn digest() -> Digest {
    sha256_digest(MANIFEST.as_bytes())
}

#[tokio::test]
async fn server_errors_and_429_are_retried() {
    let (url, seen) = serve(|_| {
        vec![
            Reply(503, vec![], String::new()),
            Reply(429, vec![("retry-after", "0".into())], String::new()),
            Reply(502, vec![], String::new()),
            ok_manifest(),
        ]
    })
    .await;
    let c = client(url, Auth::Anonymous, 4);
    let node = c.read_node("acme/app", &digest()).await.unwrap().unwrap();
    assert_eq!(node.digest, digest());
    assert_eq!(c.stats().requests, 4);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|s| s.method == "GET"));
}

#[tokio::test]
async fn retries_are_bounded() {
    let (url, _) = serve(|_| (0..3).map(|_| Reply(500, vec![], String::new())).collect()).await;
    let c = client(url, Auth::Anonymous, 2);
    let err = c.read_node("acme/app", &digest()).await.unwrap_err();
    assert!(
        matches!(
            err,
            OciError::Exhausted {
                status: 500,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(c.stats().requests, 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let body =
        r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
    let (url, _) = serve(|_| vec![Reply(403, vec![], body.into()), ok_manifest()]).await;
    let c = client(url, Auth::Anonymous, 4);
    let err = c.read_node("acme/app", &digest()).await.unwrap_err();
    assert!(matches!(err, OciError::Forbidden { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("GET /v2/acme/app/manifests/sha256:"),
        "{text}"
    );
    assert!(text.contains("DENIED"), "{text}");
    assert!(text.contains("read access"), "{text}");
    assert_eq!(c.stats().requests, 1);
}

#[tokio::test]
async fn wrong_bytes_are_rejected() {
    let (url, _) = serve(|_| vec![ok_manifest()]).await;
    let c = client(url, Auth::Anonymous, 0);
    let other = sha256_digest(b"something else");
    let err = c
        .get_manifest("acme/app", other.as_str())
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn basic_challenge_sends_basic_credentials() {
    let (url, seen) = serve(|_| {
        vec![
            Reply(
                401,
                vec![("www-authenticate", r#"Basic realm="Registry Realm""#.into())],
                String::new(),
            ),
            ok_manifest(),
            ok_manifest(),
        ]
    })
    .await;
    let auth = Auth::Basic {
        username: "me".into(),
        password: Secret::new("pw"),
    };
    let c = client(url, auth, 0);
    c.get_manifest("acme/app", "v1").await.unwrap().unwrap();
    c.get_manifest("acme/app", "v2").await.unwrap().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].authorization, None);
    // base64("me:pw")
    assert_eq!(seen[1].authorization.as_deref(), Some("Basic bWU6cHc="));
    // Remembered: sent up front afterwards.
    assert_eq!(seen[2].authorization.as_deref(), Some("Basic bWU6cHc="));
    assert_eq!(c.stats().token_fetches, 0);
}

#[tokio::test]
async fn bearer_challenge_uses_realm_service_and_scope() {
    let (base, seen) = serve(|base| {
        let challenge = format!(
            r#"Bearer realm="{base}/token",service="reg.example",scope="repository:acme/app:pull,push""#
        );
        vec![
            Reply(401, vec![("www-authenticate", challenge)], String::new()),
            Reply(
                200,
                vec![("content-type", "application/json".into())],
                r#"{"access_token":"tok123"}"#.into(),
            ),
            ok_manifest(),
        ]
    })
    .await;
    let auth = Auth::Basic {
        username: "me".into(),
        password: Secret::new("pw"),
    };
    let c = client(base, auth, 0);
    c.get_manifest("acme/app", "v1").await.unwrap().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(seen[1].path.starts_with("/token?"), "{}", seen[1].path);
    assert!(
        seen[1].path.contains("service=reg.example"),
        "{}",
        seen[1].path
    );
    assert!(
        seen[1]
            .path
            .contains("scope=repository%3Aacme%2Fapp%3Apull%2Cpush"),
        "{}",
        seen[1].path
    );
    assert_eq!(seen[1].authorization.as_deref(), Some("Basic bWU6cHc="));
    assert_eq!(seen[2].authorization.as_deref(), Some("Bearer tok123"));
    assert_eq!(c.stats().token_fetches, 1);
}

#[tokio::test]
async fn tags_follow_relative_and_absolute_next_links() {
    let (base, seen) = serve(|base| {
        vec![
            Reply(
                200,
                vec![(
                    "link",
                    r#"</v2/acme/app/tags/list?n=2&last=b>; rel="next""#.into(),
                )],
                r#"{"name":"acme/app","tags":["a","b"]}"#.into(),
            ),
            Reply(
                200,
                vec![(
                    "link",
                    format!(r#"<{base}/v2/acme/app/tags/list?last=d&n=2>; rel="next""#),
                )],
                r#"{"name":"acme/app","tags":["c","d"]}"#.into(),
            ),
            Reply(200, vec![], r#"{"name":"acme/app","tags":null}"#.into()),
        ]
    })
    .await;
    let c = client(base, Auth::Anonymous, 0);
    assert_eq!(c.list_tags("acme/app").await.unwrap(), ["a", "b", "c", "d"]);
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/v2/acme/app/tags/list?n=1000",
            "/v2/acme/app/tags/list?n=2&last=b",
            "/v2/acme/app/tags/list?last=d&n=2",
        ]
    );
}

#[tokio::test]
async fn next_links_never_leave_the_registry() {
    let (base, _) = serve(|_| {
        vec![Reply(
            200,
            vec![(
                "link",
                r#"<http://elsewhere.example/v2/x?last=b>; rel="next""#.into(),
            )],
            r#"{"tags":["a"]}"#.into(),
        )]
    })
    .await;
    let c = client(base, Auth::Anonymous, 0);
    let err = c.list_tags("acme/app").await.unwrap_err();
    assert!(matches!(err, OciError::BadResponse { .. }), "{err}");
}
