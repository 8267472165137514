//! Helpers shared by the emulator's integration tests: a small scenario, an HTTP
//! client that speaks to the emulator like a GitHub client would, and a `Link` parser.
#![allow(dead_code)]

use std::fmt::Display;

use regsweep_sim::{Scenario, Sim, SimOptions};
use reqwest::{Method, RequestBuilder, Response};

pub const ADMIN: &str = "ghp_admin";
pub const READONLY: &str = "ghp_readonly";
pub const ACTIONS: &str = "ghs_actions";
/// A GitHub App installed on `acme` with the Packages permission `write`.
pub const APP_WRITE: &str = "ghs_app_write";
/// The same with `read` (and a prefix no GitHub token has: kinds are never guessed).
pub const APP_READ: &str = "v1.app_read";

/// The API path listing `acme`'s container packages.
pub const ACME_PACKAGES: &str = "/orgs/acme/packages?package_type=container";

/// A world with registry-backed images (`acme/app`, `acme/popular`) and tokens of each kind.
pub const SCENARIO: &str = r#"
now: 2026-11-24T12:00:00Z
tokens:
  - {token: ghp_admin, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
  - {token: ghp_readonly, kind: classic, user: octocat, scopes: [read:packages]}
  - {token: ghp_noscope, kind: classic, user: octocat, scopes: []}
  - {token: ghs_actions, kind: actions, grants: [acme/app]}
  - {token: ghs_app_write, kind: app, installed_on: [acme], permission: write}
  - {token: v1.app_read, kind: app, installed_on: [acme], permission: read}
accounts:
  - name: acme
    kind: org
    packages:
      - name: app
        images:
          - {handle: old, tags: [v1], age: 40d}
          - {handle: multi, tags: [v2, latest], age: 10d, platforms: [linux/amd64, linux/arm64], signature: true, referrer: true}
          - {handle: orphan, tags: [], age: 60d}
          - {handle: gone, tags: [v0], age: 90d, deleted_age: 40d}
          - {handle: recent-gone, tags: [v0.5], age: 80d, deleted_age: 2d}
      - name: popular
        visibility: public
        images:
          - {handle: hit, tags: [v1], age: 5d, downloads: 6000}
          - {handle: quiet, tags: [v2], age: 4d, downloads: 10}
      - name: solo
        images:
          - {handle: only, tags: [v1], age: 5d}
      - name: team/worker
        visibility: private
        images:
          - {handle: w, tags: [v1], age: 1d}
  - name: octocat
    kind: user
    packages:
      - name: mine
        images:
          - {handle: m, tags: [v1], age: 1d}
pulls:
  - {repo: acme/app, number: 12, state: closed, head_ref: feature-x, merged_at: 2026-11-01T00:00:00Z, closed_at: 2026-11-01T00:00:00Z}
  - {repo: acme/app, number: 13, state: open, head_ref: feature-y}
"#;

pub async fn start() -> Sim {
    start_with(SimOptions::default()).await
}

pub async fn start_with(options: SimOptions) -> Sim {
    start_scenario(SCENARIO, options).await
}

/// Starts the emulator on the scenario `yaml` with `options`.
pub async fn start_scenario(yaml: &str, options: SimOptions) -> Sim {
    Sim::start(
        Scenario::from_yaml(yaml).expect("test scenario parses"),
        options,
    )
    .await
    .expect("emulator starts")
}

/// The emulator's API URL without its trailing `/`, ready for a path to be appended.
pub fn api_base(sim: &Sim) -> String {
    sim.api_url().as_str().trim_end_matches('/').to_string()
}

/// The emulator's GHCR registry URL without its trailing `/`.
pub fn registry_base(sim: &Sim) -> String {
    sim.registry_url()
        .as_str()
        .trim_end_matches('/')
        .to_string()
}

/// The API path of version `id` of the container package `acme/<package>`.
pub fn version_path(package: &str, id: impl Display) -> String {
    format!("/orgs/acme/packages/container/{package}/versions/{id}")
}

/// The API path that restores version `id` of `acme/<package>`.
pub fn restore_path(package: &str, id: impl Display) -> String {
    format!("{}/restore", version_path(package, id))
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Sends `method path` with `token` (none when empty) to the emulator's API.
pub async fn call(sim: &Sim, method: Method, token: &str, path: &str) -> Response {
    let url = format!("{}{}", api_base(sim), path);
    let mut req = http()
        .request(method, url)
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .header("user-agent", "regsweep-sim-tests");
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("request answered")
}

pub async fn get(sim: &Sim, token: &str, path: &str) -> Response {
    call(sim, Method::GET, token, path).await
}

pub async fn delete(sim: &Sim, token: &str, path: &str) -> Response {
    call(sim, Method::DELETE, token, path).await
}

pub async fn post(sim: &Sim, token: &str, path: &str) -> Response {
    call(sim, Method::POST, token, path).await
}

/// Status of `GET path` with `token`.
pub async fn get_status(sim: &Sim, token: &str, path: &str) -> u16 {
    get(sim, token, path).await.status().as_u16()
}

/// Status of `DELETE path` with `token`.
pub async fn delete_status(sim: &Sim, token: &str, path: &str) -> u16 {
    delete(sim, token, path).await.status().as_u16()
}

/// Status of `POST path` with `token`.
pub async fn post_status(sim: &Sim, token: &str, path: &str) -> u16 {
    post(sim, token, path).await.status().as_u16()
}

pub async fn json(resp: Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// Status and JSON body (`null` if none) of `GET path` with `token`.
pub async fn get_json(sim: &Sim, token: &str, path: &str) -> (u16, serde_json::Value) {
    json(get(sim, token, path).await).await
}

/// Status and JSON body (`null` if none) of `DELETE path` with `token`.
pub async fn delete_json(sim: &Sim, token: &str, path: &str) -> (u16, serde_json::Value) {
    json(delete(sim, token, path).await).await
}

/// Sends `request` and reads its body as JSON; fails the test if either fails.
pub async fn body_json(request: RequestBuilder) -> serde_json::Value {
    request
        .send()
        .await
        .expect("request answered")
        .json()
        .await
        .expect("JSON body")
}

/// `GET url` with the admin token on `client`, expecting 200: the `Link` header, if
/// any, and the page's items.
pub async fn admin_page(
    client: &reqwest::Client,
    url: &str,
) -> (Option<String>, Vec<serde_json::Value>) {
    let resp = client
        .get(url)
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("request answered");
    assert_eq!(resp.status(), 200, "{url}");
    let link = resp
        .headers()
        .get("link")
        .map(|v| v.to_str().expect("Link header is text").to_string());
    let items = resp.json().await.expect("page is a JSON array");
    (link, items)
}

/// Parses a `Link` header into (rel, url) pairs, as a client should: by structure, not
/// by searching for `next` in the text.
pub fn links(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = header.trim();
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let url = rest[start + 1..start + end].to_string();
        rest = &rest[start + end + 1..];
        let params_end = rest.find(", <").unwrap_or(rest.len());
        let params = &rest[..params_end];
        for p in params.split(';') {
            if let Some(v) = p.trim().strip_prefix("rel=") {
                out.push((v.trim_matches('"').to_string(), url.clone()));
            }
        }
        rest = &rest[params_end..];
    }
    out
}

pub fn rel(header: &str, name: &str) -> Option<String> {
    links(header)
        .into_iter()
        .find(|(r, _)| r == name)
        .map(|(_, u)| u)
}
