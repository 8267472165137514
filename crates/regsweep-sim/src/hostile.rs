//! Hostile test servers on loopback, for the tests of the transport policy: serving an
//! axum router on an address, a server that records what it is sent (the foreign
//! host a token must never reach), and servers that redirect every request.
//!
//! Test support only: every server binds an ephemeral port on the address it is given
//! (127.0.0.1, or 127.0.0.2 to stand for another host) and runs until the test's
//! runtime ends. Nothing here is an emulator of GitHub or of a registry.

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use url::Url;

/// Serves `app` on `ip`, on a free port; returns its base URL (`http://ip:port`).
///
/// # Panics
/// When the address cannot be bound (a test's set-up failing).
pub async fn serve(ip: &str, app: Router) -> Url {
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0"))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    Url::parse(&format!("http://{addr}")).expect("a loopback URL")
}

/// One request a [`recorder`] saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// The `Authorization` header, when one was sent.
    pub authorization: Option<String>,
    /// Every header, as `{:?}` renders them (to look for a secret anywhere).
    pub headers: String,
}

/// What a [`recorder`] saw, in order.
pub type SeenLog = Arc<Mutex<Vec<Seen>>>;

/// A server on `ip` that records every request and answers each with `answer()`.
pub async fn recorder<R>(ip: &str, answer: fn() -> R) -> (Url, SeenLog)
where
    R: IntoResponse + 'static,
{
    let seen: SeenLog = Arc::default();
    let log = seen.clone();
    let app = Router::new().fallback(move |req: Request| {
        let log = log.clone();
        async move {
            let authorization = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            log.lock().expect("the log").push(Seen {
                method: req.method().to_string(),
                path: req
                    .uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                authorization,
                headers: format!("{:?}", req.headers()),
            });
            answer().into_response()
        }
    });
    (serve(ip, app).await, seen)
}

/// A server on 127.0.0.1 answering every request with a 307 to `to` itself.
pub async fn redirecting_to(to: Url) -> Url {
    let to = to.to_string();
    let app = Router::new().fallback(move || {
        let to = to.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response() }
    });
    serve("127.0.0.1", app).await
}

/// A server on 127.0.0.1 answering every request with a 307 to the same path and
/// query on `to`.
pub async fn redirecting_paths_to(to: Url) -> Url {
    let app = Router::new().fallback(move |req: Request| {
        let to = to.clone();
        async move {
            let path = req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            let target = to.join(&path).expect("a path on the target");
            (
                StatusCode::TEMPORARY_REDIRECT,
                [("location", target.to_string())],
            )
                .into_response()
        }
    });
    serve("127.0.0.1", app).await
}
