//! The redirect rules against real servers on 127.0.0.1 and 127.0.0.2 (axum): within
//! an origin a redirect is followed; to another origin it fails the request with
//! [`CrossOriginRedirect`]; a content-addressed download follows it without the
//! `Authorization` header.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use regsweep_sim::hostile::{self, redirecting_to, serve, SeenLog};
use regsweep_transport::{client_builder, content_client_builder, cross_origin_error};
use url::Url;

/// A foreign server on `ip` answering 200 "there", recording what it was sent.
async fn target(ip: &str) -> (Url, SeenLog) {
    hostile::recorder(ip, || "there").await
}

/// The `Authorization` headers `seen` was sent, in order.
fn authorizations(seen: &SeenLog) -> Vec<Option<String>> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|s| s.authorization.clone())
        .collect()
}

#[tokio::test]
async fn redirect_rules() {
    let t = Duration::from_secs(10);
    let api = client_builder(t, t).build().unwrap();
    let content = content_client_builder(t, t).build().unwrap();

    // Another origin: an error naming both, nothing sent there.
    let (foreign, seen) = target("127.0.0.2").await;
    let from = redirecting_to(foreign.join("/blob").unwrap()).await;
    let err = api
        .get(from.clone())
        .bearer_auth("secret")
        .send()
        .await
        .expect_err("not followed");
    let redirect = cross_origin_error(&err).expect("a cross-origin redirect");
    assert_eq!(redirect.from, from.origin().ascii_serialization());
    assert_eq!(redirect.to, foreign.origin().ascii_serialization());
    assert!(seen.lock().unwrap().is_empty());

    // A content-addressed download follows it, without the credentials.
    let body = content
        .get(from)
        .bearer_auth("secret")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "there");
    assert_eq!(authorizations(&seen), vec![None]);

    // The same origin: followed, credentials kept.
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new()
        .route(
            "/start",
            axum::routing::get(|| async {
                (StatusCode::TEMPORARY_REDIRECT, [("location", "/here")]).into_response()
            }),
        )
        .fallback(move |req: Request| {
            let log = log.clone();
            async move {
                let auth = req
                    .headers()
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string());
                log.lock().unwrap().push(auth);
                "here"
            }
        });
    let local = serve("127.0.0.1", app).await;
    let resp = api
        .get(local.join("/start").unwrap())
        .bearer_auth("secret")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "here");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Some("Bearer secret".to_string())]
    );
}
