//! The bundled demo loads and pushes; generated worlds of 100,000 versions start and
//! page quickly.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use regsweep_sim::{Scenario, Sim, SimOptions};

#[tokio::test]
async fn demo_scenario_loads_and_pushes() {
    let sim = Sim::start(Scenario::demo(), SimOptions::default())
        .await
        .unwrap();
    assert!(sim.backing_registry().is_some());
    let versions = sim.versions("acme", "app");
    let tags: HashSet<String> = versions.iter().flat_map(|v| v.tags.clone()).collect();
    for t in [
        "v1.0.0",
        "v1.1.0",
        "v1.2.0",
        "v1.3.0",
        "latest",
        "pr-12",
        "sha-c0ffee1",
    ] {
        assert!(tags.contains(t), "{t}");
    }
    assert!(tags.iter().any(|t| t.ends_with(".sig")));
    let v13 = sim.image("acme", "app", "v1.3.0").unwrap();
    assert!(v13.manifests.iter().any(|m| m.role == "referrer"));
    assert!(v13
        .manifests
        .iter()
        .any(|m| m.role.starts_with("attestation of")));
    assert!(!sim.versions("acme", "team/worker").is_empty());
    let ages: Vec<_> = versions.iter().map(|v| v.created_at).collect();
    let (min, max) = (ages.iter().min().unwrap(), ages.iter().max().unwrap());
    assert!(max.duration_since(*min) >= jiff::SignedDuration::from_hours(24 * 100));
    let resp = get(&sim, "ghp_demo_admin", ACME_PACKAGES).await;
    assert_eq!(resp.status(), 200);
    let (_, body) = json(resp).await;
    assert_eq!(body.as_array().unwrap().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn hundred_thousand_versions_start_and_page() {
    let started = tokio::time::timeout(
        Duration::from_secs(120),
        Sim::start(
            Scenario::generated("acme", 10, 10_000, 1),
            // 1,000 GETs in a minute on one endpoint exceed GitHub's 900 points.
            SimOptions {
                secondary_points_per_minute: 1_000_000,
                ..SimOptions::default()
            },
        ),
    )
    .await
    .expect("starts without hanging")
    .unwrap();
    let sim = started;
    assert!(sim.backing_registry().is_none(), "metadata only");
    assert_eq!(sim.versions("acme", "service-003").len(), 10_000);
    let client = http();
    let base = api_base(&sim);
    let mut seen = 0usize;
    let pages = async {
        for p in 0..10 {
            for page in 1..=100 {
                let url = format!("{base}/orgs/acme/packages/container/service-{p:03}/versions?per_page=100&page={page}");
                let (_, body) = admin_page(&client, &url).await;
                seen += body.len();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(300), pages)
        .await
        .expect("1,000 pages without hanging");
    assert_eq!(seen, 100_000);
    sim.shutdown().await;
}
