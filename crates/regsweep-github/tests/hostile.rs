//! The transport policy against hostile servers on 127.0.0.1 (axum): redirects to
//! another origin, endless bodies, `next` links that never end, and secondary limits
//! for too many concurrent requests. Each test is named after the attack it stops.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use regsweep_core::{Secret, VersionId};
use regsweep_github::{ClientConfig, DeleteError, GithubClient, GithubError, Owner, VersionState};
use regsweep_sim::hostile::{self, serve, SeenLog};
use url::Url;

const TOKEN: &str = "ghp_HostileServerToken0123456789";

/// A foreign server on `ip` answering everything 200 `[]`, recording what it saw.
async fn recorder(ip: &str) -> (Url, SeenLog) {
    hostile::recorder(ip, || (StatusCode::OK, "[]")).await
}

fn client(base: &Url, concurrency: usize) -> GithubClient {
    let mut cfg = ClientConfig::new(base.clone(), Secret::new(TOKEN));
    cfg.max_retries = 1;
    cfg.concurrency = concurrency;
    cfg.retry_base_delay = Duration::from_millis(10);
    GithubClient::new(cfg).unwrap()
}

fn version(id: u64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "name": format!("sha256:{id:064x}"),
        "url": "",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "metadata": {"package_type": "container", "container": {"tags": []}}
    })
}

#[tokio::test]
async fn cross_origin_redirect_of_listing_is_an_error() {
    let (foreign, seen) = recorder("127.0.0.2").await;
    let api = hostile::redirecting_paths_to(foreign.clone()).await;
    let c = client(&api, 2);
    let owner = Owner::from_account("acme");
    let err = c
        .list_versions(&owner, "app", VersionState::Active, &|_| {})
        .await
        .expect_err("a redirected listing is an error, never an empty listing");
    let text = err.to_string();
    assert!(matches!(err, GithubError::Edge { .. }), "{err:?}");
    assert!(
        text.contains(&api.origin().ascii_serialization())
            && text.contains(&foreign.origin().ascii_serialization()),
        "names both origins: {text}"
    );
    assert!(text.contains("help:"), "{text}");
    // A DELETE redirected away is not a success either.
    let err = c
        .delete_version(&owner, "app", VersionId(7))
        .await
        .expect_err("a redirected delete is not a deletion");
    assert!(
        matches!(err, DeleteError::Other(GithubError::Edge { .. })),
        "{err:?}"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the foreign server"
    );
}

#[tokio::test]
async fn endless_body_is_capped() {
    let app = Router::new().fallback(|| async {
        let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
        let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from_stream(stream))
            .unwrap()
    });
    let api = serve("127.0.0.1", app).await;
    let err = client(&api, 1)
        .list_versions(
            &Owner::from_account("acme"),
            "app",
            VersionState::Active,
            &|_| {},
        )
        .await
        .expect_err("an endless body is an error");
    let text = err.to_string();
    assert!(matches!(err, GithubError::Edge { .. }), "{err:?}");
    assert!(text.contains("larger than 16 MiB"), "{text}");
}

#[tokio::test]
async fn ever_new_next_links_are_bounded() {
    let pages = Arc::new(AtomicU32::new(0));
    let count = pages.clone();
    let app = Router::new().fallback(move |req: Request| {
        let count = count.clone();
        async move {
            let n = count.fetch_add(1, Ordering::SeqCst) as u64 + 1;
            let base = format!("http://{}", req.headers()["host"].to_str().unwrap());
            let path = req.uri().path().to_string();
            let body: Vec<_> = (0..30).map(|i| version(n * 1000 + i)).collect();
            (
                [(
                    "link",
                    format!("<{base}{path}?per_page=100&page={}>; rel=\"next\"", n + 1),
                )],
                axum::Json(body),
            )
        }
    });
    let api = serve("127.0.0.1", app).await;
    let err = client(&api, 1)
        .list_versions_expecting(
            &Owner::from_account("acme"),
            "app",
            VersionState::Active,
            Some(160),
            &|_| {},
        )
        .await
        .expect_err("a listing past its page budget fails");
    let text = err.to_string();
    assert!(
        text.contains("past 9 pages") && text.contains("160 entries"),
        "{text}"
    );
    // 160 versions need 6 pages of 30; three of slack, then it stops.
    assert_eq!(pages.load(Ordering::SeqCst), 9);
}

#[tokio::test]
async fn too_many_concurrent_requests_lowers_concurrency() {
    #[derive(Default)]
    struct Counts {
        in_flight: AtomicU32,
        refused: AtomicU32,
        served: AtomicU32,
    }
    let counts = Arc::new(Counts::default());
    async fn user(State(c): State<Arc<Counts>>) -> Response {
        let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let answer = if now > 2 {
            c.refused.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::FORBIDDEN,
                [("retry-after", "1")],
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
            )
                .into_response()
        } else {
            tokio::time::sleep(Duration::from_millis(30)).await;
            c.served.fetch_add(1, Ordering::SeqCst);
            axum::Json(serde_json::json!({"login": "octocat"})).into_response()
        };
        c.in_flight.fetch_sub(1, Ordering::SeqCst);
        answer
    }
    let app = Router::new()
        .route("/user", axum::routing::get(user))
        .with_state(counts.clone());
    let api = serve("127.0.0.1", app).await;
    let mut cfg = ClientConfig::new(api, Secret::new(TOKEN));
    cfg.concurrency = 8;
    let c = GithubClient::new(cfg).unwrap();
    let probes = (0..40).map(|_| c.probe());
    for r in futures::future::join_all(probes).await {
        r.expect("every request succeeds after waiting");
    }
    assert_eq!(counts.served.load(Ordering::SeqCst), 40);
    assert!(c.concurrency() <= 2, "lowered: {}", c.concurrency());
    // Without lowering, every round of 8 had 6 refused (over 30 in all).
    let refused = counts.refused.load(Ordering::SeqCst);
    assert!(refused < 20, "{refused} refusals");
}
