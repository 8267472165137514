//! The HTTP server: one axum service on 127.0.0.1 that routes GitHub API requests
//! (also under `/api/v3`), GHCR's registry surface (`/token`, `/v2/…`) and the admin
//! endpoints (`/_sim/…`). Applies, in order, faults, authentication and rate limits to
//! API requests, adds GitHub's common headers, and records every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use jiff::Timestamp;
use percent_encoding::percent_decode_str;
use serde_json::json;

use crate::api::{self, Ctx, Reply, Route};
use crate::auth::{self, scopes_header, Caller};
use crate::backing::Backing;
use crate::faults::{Fault, Faults};
use crate::ghcr;
use crate::limits::{Limits, RateHeaders, Verdict};
use crate::options::{FaultConfig, SimOptions};
use crate::scenario::TokenKind;
use crate::stats::{LoggedRequest, Outcome, Recorder};
use crate::world::World;

/// A registry bearer token minted by `/token`.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    /// The API token that asked for it (`None`: anonymous).
    pub identity: Option<String>,
    pub repositories: std::collections::HashSet<String>,
    /// Repositories the token may push to (`pull,push` asked and allowed).
    pub push: std::collections::HashSet<String>,
}

/// State shared by all requests.
pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub options: SimOptions,
    pub now: Option<Timestamp>,
    pub faults: Faults,
    pub limits: Limits,
    pub recorder: Recorder,
    pub backing: Option<Backing>,
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    pub grants: Mutex<HashMap<String, Grant>>,
    seq: AtomicU64,
}

impl Shared {
    pub fn new(
        world: World,
        options: SimOptions,
        now: Option<Timestamp>,
        backing: Option<Backing>,
        origin: String,
    ) -> Self {
        let limits = Limits::new(
            options.scaled(std::time::Duration::from_secs(3600)),
            options.scaled(std::time::Duration::from_secs(60)),
            options.secondary_points_per_minute,
            options.max_concurrent,
        )
        .with_undisclosed_deletes(options.undisclosed_deletes_per_minute);
        Shared {
            world: Mutex::new(world),
            faults: Faults::new(options.faults.clone()),
            limits,
            now,
            recorder: Recorder::default(),
            backing,
            origin,
            grants: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(1),
            options,
        }
    }

    /// The simulated clock: the frozen `now`, else the real one (whole seconds).
    pub fn now(&self) -> Timestamp {
        crate::world::whole_seconds(self.now.unwrap_or_else(Timestamp::now))
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The axum router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/stats", get(admin_stats))
        .route("/_sim/requests", get(admin_requests))
        .route("/_sim/faults", put(admin_faults))
        .fallback(dispatch)
        .with_state(shared)
}

async fn admin_stats(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.recorder.stats()).into_response()
}

async fn admin_requests(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.recorder.requests()).into_response()
}

async fn admin_faults(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(f) => {
            s.faults.set(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"message": format!("body is not a fault configuration: {e}; expected e.g. {{\"error_rate\":0.1,\"latency_ms\":50}}")})),
        )
            .into_response(),
    }
}

async fn dispatch(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let headers = req.headers().clone();
    let resp = if path == "/token" || path == "/v2" || path.starts_with("/v2/") {
        let full = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        // A round trip to GHCR (`SimOptions::registry_latency`).
        if !s.options.registry_latency.is_zero() {
            tokio::time::sleep(s.options.registry_latency).await;
        }
        match s.faults.decide_registry(method.as_str(), &full) {
            Some((status, challenge)) => {
                ghcr::injected(&s, &method, &path, status, challenge.as_deref())
            }
            None => {
                let body = axum::body::to_bytes(req.into_body(), crate::ghcr_push::MAX_MANIFEST)
                    .await
                    .unwrap_or_default();
                ghcr::handle(&s, &method, &path, query.as_deref(), &headers, body).await
            }
        }
    } else {
        let (prefix, rest) = match path.strip_prefix("/api/v3") {
            Some(r) if r.is_empty() || r.starts_with('/') => ("/api/v3", r.to_string()),
            _ => ("", path.clone()),
        };
        api_request(&s, method, prefix, &path, &rest, query.as_deref(), &headers).await
    };
    if s.faults.echo_credentials() {
        return crate::faults::echo(resp, &headers).await;
    }
    resp
}

/// A response that closes the connection without an answer.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    Response::new(Body::from_stream(stream))
}

fn split_decode(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn api_request(
    s: &Arc<Shared>,
    method: Method,
    prefix: &str,
    full_path: &str,
    rest: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let _in_flight = s.recorder.enter();
    let logged_path = match query {
        Some(q) => format!("{full_path}?{q}"),
        None => full_path.to_string(),
    };
    let (latency, fault) = s.faults.decide(method.as_str(), &logged_path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let routed = api::route(&method, &split_decode(rest));
    let template = routed
        .as_ref()
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| format!("{method} (unknown route)"));
    let caller = auth::caller(headers, &s.world().tokens);
    let log = |status: Option<u16>| LoggedRequest {
        method: method.to_string(),
        path: logged_path.clone(),
        route: template.clone(),
        status,
        token_kind: caller.kind().to_string(),
    };
    let lost_answer = match fault {
        Fault::FailAfter(status) => Some(status),
        _ => None,
    };
    match fault {
        Fault::None | Fault::FailAfter(_) => {}
        Fault::Drop => {
            s.recorder.record(log(None), Outcome::Dropped);
            return dropped();
        }
        Fault::Fail(status) => {
            s.recorder.record(log(Some(status)), Outcome::Fault);
            return injected(s, status);
        }
    }
    let (mut reply, rate, scopes, outcome, retry_after) = answer(
        s, &method, prefix, full_path, query, routed, &caller, &template,
    )
    .await;
    if let Some(status) = lost_answer {
        // The request took effect; its answer is lost and replaced.
        s.recorder.record(log(Some(status)), Outcome::Fault);
        return injected(s, status);
    }
    if reply.status == 204 {
        reply.body = None;
    }
    let mut resp = finish(s, &reply, rate.as_ref(), scopes.as_deref());
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    s.recorder.record(log(Some(reply.status)), outcome);
    resp
}

type Answer = (
    Reply,
    Option<RateHeaders>,
    Option<String>,
    Outcome,
    Option<u64>,
);

#[allow(clippy::too_many_arguments)]
async fn answer(
    s: &Arc<Shared>,
    method: &Method,
    prefix: &str,
    full_path: &str,
    query: Option<&str>,
    routed: Option<(Route, String)>,
    caller: &Caller,
    template: &str,
) -> Answer {
    let token = match caller {
        Caller::Token(t) => t.clone(),
        Caller::Invalid => {
            return (
                Reply::error(401, "Bad credentials"),
                None,
                None,
                Outcome::Normal,
                None,
            )
        }
        Caller::Anonymous => {
            return (
                Reply::error(401, "Requires authentication"),
                None,
                None,
                Outcome::Normal,
                None,
            )
        }
    };
    let scopes = scopes_header(&token);
    let limit = match token.kind {
        TokenKind::Classic => s.options.primary_limit_classic,
        TokenKind::Actions => s.options.primary_limit_actions,
        TokenKind::App => s.options.primary_limit_classic,
    };
    let Some((route, _)) = routed else {
        let h = s.limits.peek(&token.token, limit);
        return (
            Reply::error(404, "Not Found"),
            Some(h),
            scopes,
            Outcome::Normal,
            None,
        );
    };
    if route == Route::RateLimit {
        let h = s.limits.peek(&token.token, limit);
        let core = json!({"limit": h.limit, "remaining": h.remaining, "reset": h.reset, "used": h.used, "resource": "core"});
        let body = json!({"resources": {"core": core}, "rate": core});
        return (
            Reply::json(200, &body),
            Some(h),
            scopes,
            Outcome::Normal,
            None,
        );
    }
    let cost = if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        1
    } else {
        5
    };
    let h = match s
        .limits
        .check(&token.token, limit, template, cost, s.recorder.in_flight())
    {
        Verdict::Allowed(h) => h,
        Verdict::Primary(h) => {
            let body = json!({
                "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403",
            });
            return (
                Reply::json(403, &body),
                Some(h),
                scopes,
                Outcome::Primary,
                None,
            );
        }
        Verdict::Secondary(h, retry) => {
            return (
                secondary_reply(),
                Some(h),
                scopes,
                Outcome::Secondary,
                Some(retry),
            );
        }
        Verdict::Undisclosed(h, retry) => {
            return (
                Reply::error(429, "Too Many Requests"),
                Some(h),
                scopes,
                Outcome::Undisclosed,
                Some(retry),
            );
        }
    };
    let query_pairs: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let api_base = format!("{}{prefix}", s.origin);
    let self_url = format!("{}{full_path}", s.origin);
    let (corrupt, forbidden) = s.faults.hostile();
    let ctx = Ctx {
        api: &api_base,
        self_url: &self_url,
        query: &query_pairs,
        token: &token,
        now: s.now(),
        omit_link: s.options.omit_link_headers,
        corrupt: &corrupt,
        forbidden: &forbidden,
    };
    let (reply, effects) = {
        let mut world = s.world();
        api::handle(&route, &ctx, &mut world)
    };
    if let Some(b) = &s.backing {
        for d in &effects.delete {
            b.delete(&effects.repository, d).await;
        }
        if !effects.restore.is_empty() {
            b.restore(&effects.repository, &effects.restore).await;
        }
    }
    (reply, Some(h), scopes, Outcome::Normal, None)
}

fn secondary_reply() -> Reply {
    Reply::json(
        403,
        &json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
            "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "403",
        }),
    )
}

/// The answer of an injected fault.
fn injected(s: &Shared, status: u16) -> Response {
    let (reply, retry) = match status {
        403 | 429 => {
            let mut r = secondary_reply();
            r.status = status;
            (r, true)
        }
        502 => (Reply::error(502, "Server Error"), false),
        503 => (Reply::error(503, "Service Unavailable"), false),
        other => (Reply::error(other, "Injected fault"), false),
    };
    let mut resp = finish(s, &reply, None, None);
    if retry {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(1u64));
    }
    resp
}

/// Builds the HTTP response with GitHub's common headers.
fn finish(s: &Shared, reply: &Reply, rate: Option<&RateHeaders>, scopes: Option<&str>) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match &reply.body {
        Some(b) => Response::new(Body::from(b.clone())),
        None => Response::new(Body::empty()),
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if reply.body.is_some() {
        h.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    h.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    h.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    let id = s.seq.fetch_add(1, Ordering::Relaxed);
    if let Ok(v) = HeaderValue::from_str(&format!("SIM0:{id:08X}")) {
        h.insert("x-github-request-id", v);
    }
    if let Some(r) = rate {
        h.insert("x-ratelimit-limit", HeaderValue::from(r.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(r.remaining));
        h.insert("x-ratelimit-used", HeaderValue::from(r.used));
        h.insert("x-ratelimit-reset", HeaderValue::from(r.reset));
        h.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
    }
    if let Some(sc) = scopes.and_then(|s| HeaderValue::from_str(s).ok()) {
        h.insert("x-oauth-scopes", sc);
        h.insert(
            "x-accepted-oauth-scopes",
            HeaderValue::from_static("read:packages"),
        );
    }
    if let Some(link) = reply
        .link
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        h.insert("link", link);
    }
    resp
}
