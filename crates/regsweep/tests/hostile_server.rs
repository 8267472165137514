//! End to end: the real binary behind a hostile proxy on 127.0.0.1 (axum) in front of
//! the emulator, which redirects DELETEs to a foreign server or streams an endless
//! listing; and a primary-limit reset a few seconds away. Each test is named after
//! the attack or bug it stops.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use common::{
    acme, args, decisions, finish, generated_default, pinned, sim, ACME_ADMIN, TAGGED_OLD,
};
use regsweep_sim::hostile::{self, serve, SeenLog};
use regsweep_sim::{Sim, SimOptions};
use url::Url;

/// A foreign server answering every request 200 and recording it.
async fn foreign() -> (Url, SeenLog) {
    hostile::recorder("127.0.0.2", || StatusCode::OK).await
}

type Intercept = fn(&Request, &Url) -> Option<Response>;

/// A proxy forwarding to `upstream`, except what `intercept` answers itself (given
/// the foreign server's URL).
async fn proxy(upstream: Url, foreign: Url, intercept: Intercept) -> Url {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let app = Router::new().fallback(move |req: Request| {
        let (http, upstream, foreign) = (http.clone(), upstream.clone(), foreign.clone());
        async move {
            if let Some(answer) = intercept(&req, &foreign) {
                return answer;
            }
            let url = upstream
                .join(&req.uri().path_and_query().unwrap().to_string())
                .unwrap();
            let mut out = http.request(req.method().clone(), url);
            for (k, v) in req.headers() {
                if k != "host" {
                    out = out.header(k, v);
                }
            }
            let body = axum::body::to_bytes(req.into_body(), usize::MAX)
                .await
                .unwrap();
            let answer = out.body(body).send().await.unwrap();
            let mut response = Response::builder().status(answer.status());
            for (k, v) in answer.headers() {
                response = response.header(k, v);
            }
            response
                .body(Body::from(answer.bytes().await.unwrap()))
                .unwrap()
        }
    });
    serve("127.0.0.1", app).await
}

/// `regsweep apply` of acme's old tagged versions of `app` against `api`.
async fn apply(s: &Sim, api: &Url, extra: &[&str]) -> (common::Run, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let mut cmd = pinned(&args("apply", &[&ACME_ADMIN, &TAGGED_OLD, extra]));
    cmd.args([
        "--api-url",
        api.as_str(),
        "--registry-url",
        s.registry_url().as_str(),
    ])
    .env("GITHUB_OUTPUT", &out);
    let r = finish(cmd).await;
    let outputs = common::read(&out);
    (r, outputs)
}

/// (status → count) of the planned deletions' outcomes.
fn statuses(doc: &serde_json::Value) -> Vec<String> {
    decisions(doc)
        .into_iter()
        .filter(|(_, d)| d["action"] == "delete")
        .map(|(_, d)| d["outcome"]["status"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_redirect_of_delete_is_not_success() {
    let s = sim(
        &acme(&generated_default("app", 30, 7)),
        SimOptions::default(),
    )
    .await;
    let (elsewhere, seen) = foreign().await;
    let api = proxy(s.api_url(), elsewhere, |req, foreign| {
        (req.method() == "DELETE").then(|| {
            let to = foreign.join(req.uri().path()).unwrap().to_string();
            (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response()
        })
    })
    .await;
    let (r, outputs) = apply(&s, &api, &[]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let all = statuses(&doc);
    assert!(!all.is_empty());
    assert!(all.iter().all(|st| st == "failed"), "{all:?}");
    let parsed = common::parse_github_outputs(&outputs);
    assert_eq!(parsed["deleted-count"], "0", "{outputs}");
    assert_eq!(parsed["failed-count"], all.len().to_string(), "{outputs}");
    assert!(
        r.stdout.contains("another origin"),
        "the reason names it: {}",
        r.stdout
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the foreign server"
    );
    assert!(s.deleted("acme", "app").is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_body_is_capped() {
    let s = sim(
        &acme(&generated_default("app", 30, 7)),
        SimOptions::default(),
    )
    .await;
    let (elsewhere, _) = foreign().await;
    let api = proxy(s.api_url(), elsewhere, |req, _| {
        req.uri().path().ends_with("/versions").then(|| {
            let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
            let stream =
                futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap()
        })
    })
    .await;
    let (r, _) = apply(&s, &api, &[]).await;
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("larger than 16 MiB"), "{}", r.stderr);
    assert!(s.deleted("acme", "app").is_empty());
    s.shutdown().await;
}

/// Regression: a primary-limit reset a few seconds away was waited out ("waiting
/// 11s"), but the budget check read the spent window's `remaining: 0` and left
/// everything for the next run. The emulator's "hour" is 10 s here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_reset_ten_seconds_away_is_waited_out() {
    let s = sim(
        &acme(&generated_default("app", 60, 7)),
        SimOptions {
            time_scale: 10.0 / 3600.0,
            primary_limit_classic: 30,
            ..SimOptions::default()
        },
    )
    .await;
    let (r, _) = apply(&s, &s.api_url(), &["--reserve-requests", "0"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    let doc = r.json();
    let all = statuses(&doc);
    assert!(
        all.len() > 30,
        "more deletions than one window: {}",
        all.len()
    );
    assert!(all.iter().all(|st| st == "deleted"), "{all:?}");
    let deleted: BTreeSet<u64> = s.deleted("acme", "app").iter().map(|v| v.id.0).collect();
    assert_eq!(deleted.len(), all.len());
    assert!(
        r.stderr.contains("primary rate limit exhausted; waiting"),
        "{}",
        r.stderr
    );
    s.shutdown().await;
}
