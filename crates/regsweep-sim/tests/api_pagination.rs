//! Pagination: `Link` headers as GitHub sends them, and listing without them.

mod common;

use std::collections::HashSet;

use common::*;
use regsweep_sim::{Sim, SimOptions};

const PAGED: &str = r#"
tokens:
  - {token: ghp_admin, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
accounts:
  - name: acme
    packages:
      - {name: next-last, generate: {versions: 253, seed: 3}}
      - {name: team/last-mile, generate: {versions: 40, seed: 4}}
      - {name: a, generate: {versions: 1, seed: 5}}
      - {name: b, generate: {versions: 1, seed: 6}}
      - {name: c, generate: {versions: 1, seed: 7}}
"#;

/// The emulator on [`PAGED`], without `Link` headers when `omit`.
async fn sim(omit: bool) -> Sim {
    start_scenario(
        PAGED,
        SimOptions {
            omit_link_headers: omit,
            ..SimOptions::default()
        },
    )
    .await
}

/// Follows `rel="next"` from `first`, returning every item and the number of pages.
async fn follow(sim: &Sim, first: &str) -> (Vec<serde_json::Value>, usize) {
    let client = http();
    let mut url = format!("{}{}", api_base(sim), first);
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let (link, body) = admin_page(&client, &url).await;
        items.extend(body);
        pages += 1;
        assert!(pages < 1000, "pagination does not end");
        match link.as_deref().and_then(|l| rel(l, "next")) {
            Some(next) => {
                assert!(next.starts_with("http://127.0.0.1:"), "absolute: {next}");
                url = next;
            }
            None => break,
        }
    }
    (items, pages)
}

/// How many items the admin token gets from `GET path`.
async fn items_at(sim: &Sim, path: &str) -> usize {
    let (_, body) = get_json(sim, ADMIN, path).await;
    body.as_array().expect("a JSON array").len()
}

#[tokio::test]
async fn every_version_seen_once_through_link_headers() {
    let sim = sim(false).await;
    for (name, total) in [("next-last", 253), ("team%2Flast-mile", 40)] {
        let (items, pages) = follow(
            &sim,
            &format!("/orgs/acme/packages/container/{name}/versions?per_page=7"),
        )
        .await;
        assert_eq!(items.len(), total);
        assert_eq!(pages, total.div_ceil(7));
        let ids: HashSet<u64> = items.iter().map(|v| v["id"].as_u64().unwrap()).collect();
        assert_eq!(ids.len(), total, "no duplicates");
        // Newest first.
        let times: Vec<&str> = items
            .iter()
            .map(|v| v["created_at"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
    }
    let (packages, _) = follow(
        &sim,
        "/orgs/acme/packages?package_type=container&per_page=2",
    )
    .await;
    assert_eq!(packages.len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn link_header_has_github_shape() {
    let sim = sim(false).await;
    let resp = get(
        &sim,
        ADMIN,
        "/orgs/acme/packages/container/next-last/versions?per_page=50&page=3",
    )
    .await;
    let link = resp.headers()["link"].to_str().unwrap().to_string();
    let rels: Vec<String> = links(&link).into_iter().map(|(r, _)| r).collect();
    assert_eq!(rels, ["prev", "next", "last", "first"]);
    let last = rel(&link, "last").unwrap();
    assert!(
        last.ends_with("/orgs/acme/packages/container/next-last/versions?per_page=50&page=6"),
        "{last}"
    );
    assert!(link.contains("; rel=\"next\", <"), "{link}");
    // Single page: no Link at all; beyond the end: empty.
    let resp = get(&sim, ADMIN, "/orgs/acme/packages/container/a/versions").await;
    assert!(resp.headers().get("link").is_none());
    let versions = "/orgs/acme/packages/container/next-last/versions";
    assert_eq!(
        items_at(&sim, &format!("{versions}?per_page=100&page=9")).await,
        0
    );
    // per_page is capped at 100 and defaults to 30.
    assert_eq!(
        items_at(&sim, &format!("{versions}?per_page=500")).await,
        100
    );
    assert_eq!(items_at(&sim, versions).await, 30);
    sim.shutdown().await;
}

#[tokio::test]
async fn without_link_headers_short_page_ends_listing() {
    let sim = sim(true).await;
    let mut seen = HashSet::new();
    for page in 1.. {
        let resp = get(
            &sim,
            ADMIN,
            &format!("/orgs/acme/packages/container/next-last/versions?per_page=100&page={page}"),
        )
        .await;
        assert!(resp.headers().get("link").is_none());
        let body: Vec<serde_json::Value> = resp.json().await.unwrap();
        for v in &body {
            assert!(seen.insert(v["id"].as_u64().unwrap()));
        }
        if body.len() < 100 {
            break;
        }
        assert!(page < 10);
    }
    assert_eq!(seen.len(), 253);
    sim.shutdown().await;
}
