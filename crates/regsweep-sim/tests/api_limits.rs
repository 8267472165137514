//! Primary and secondary rate limits, with GitHub's headers and messages.

mod common;

use std::time::Duration;

use common::*;
use regsweep_sim::{FaultConfig, SimOptions};

#[tokio::test]
async fn primary_limit_answers_403_with_remaining_zero() {
    let sim = start_with(SimOptions {
        primary_limit_classic: 3,
        ..SimOptions::default()
    })
    .await;
    for left in [2, 1, 0] {
        let resp = get(&sim, ADMIN, ACME_PACKAGES).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["x-ratelimit-remaining"],
            left.to_string().as_str()
        );
    }
    let resp = get(&sim, ADMIN, ACME_PACKAGES).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
    let reset: u64 = resp.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset >= now && reset <= now + 3601,
        "reset {reset} now {now}"
    );
    let (_, body) = json(resp).await;
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("API rate limit exceeded for user ID 1."));
    // Other tokens have their own budget.
    assert_eq!(get_status(&sim, READONLY, ACME_PACKAGES).await, 200);
    assert_eq!(sim.stats().primary_limited, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn primary_window_resets_on_the_scaled_clock() {
    // An hour lasts 3.6 s.
    let sim = start_with(SimOptions {
        primary_limit_classic: 1,
        time_scale: 0.001,
        ..SimOptions::default()
    })
    .await;
    let mut limited = false;
    let mut recovered = false;
    for _ in 0..600 {
        let status = get_status(&sim, ADMIN, "/user").await;
        if status == 403 {
            limited = true;
        } else if limited && status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        limited && recovered,
        "limited {limited} recovered {recovered}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn secondary_points_limit_deletes_with_retry_after() {
    let sim = start_with(SimOptions {
        secondary_points_per_minute: 10,
        ..SimOptions::default()
    })
    .await;
    let untagged: Vec<_> = sim
        .versions("acme", "app")
        .into_iter()
        .filter(|v| v.tags.is_empty())
        .collect();
    assert!(untagged.len() >= 3);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for v in untagged.iter().take(3) {
        let resp = delete(&sim, ADMIN, &version_path("app", v.id)).await;
        statuses.push(resp.status().as_u16());
        if let Some(r) = resp.headers().get("retry-after") {
            retry_after = Some(r.to_str().unwrap().parse::<u64>().unwrap());
            let (_, body) = json(resp).await;
            assert!(body["message"]
                .as_str()
                .unwrap()
                .starts_with("You have exceeded a secondary rate limit"));
        }
    }
    assert_eq!(statuses, [204, 204, 403]);
    let r = retry_after.expect("retry-after on the secondary limit");
    assert!((1..=60).contains(&r), "{r}");
    // GETs on another endpoint are not affected.
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/container/app/versions").await,
        200
    );
    assert_eq!(sim.stats().secondary_limited, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrency_cap_is_a_secondary_limit() {
    let sim = start_with(SimOptions {
        max_concurrent: 2,
        faults: FaultConfig {
            latency: Duration::from_millis(500),
            ..FaultConfig::default()
        },
        ..SimOptions::default()
    })
    .await;
    let calls = (0..8).map(|_| get(&sim, ADMIN, "/orgs/acme/packages/container/app/versions"));
    let answers = futures::future::join_all(calls).await;
    let limited: Vec<_> = answers.iter().filter(|r| r.status() == 403).collect();
    assert!(
        !limited.is_empty(),
        "some requests over the cap are refused"
    );
    assert!(limited
        .iter()
        .all(|r| r.headers().contains_key("retry-after")));
    let stats = sim.stats();
    assert!(stats.max_concurrent >= 3, "{stats:?}");
    assert_eq!(stats.secondary_limited as usize, limited.len());
    sim.shutdown().await;
}

/// The undisclosed DELETE limit: past it a DELETE is answered 429 with
/// `retry-after`, takes no effect, and no `x-ratelimit-*` header shows it.
#[tokio::test]
async fn undisclosed_delete_limit_answers_429_with_retry_after() {
    let sim = start_with(SimOptions {
        undisclosed_deletes_per_minute: Some(2),
        ..SimOptions::default()
    })
    .await;
    let untagged: Vec<_> = sim
        .versions("acme", "app")
        .into_iter()
        .filter(|v| v.tags.is_empty())
        .collect();
    assert!(untagged.len() >= 3);
    let mut statuses = Vec::new();
    for v in untagged.iter().take(3) {
        let resp = delete(&sim, ADMIN, &version_path("app", v.id)).await;
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            let r: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&r), "{r}");
            let limit = resp.headers()["x-ratelimit-limit"].to_str().unwrap();
            assert_eq!(limit, "5000", "only the primary limit is disclosed");
            assert!(resp
                .headers()
                .keys()
                .all(|k| !k.as_str().starts_with("x-ratelimit") || !k.as_str().contains("delete")));
        }
    }
    assert_eq!(statuses, [204, 204, 429]);
    // The refused deletion took no effect.
    assert!(sim
        .versions("acme", "app")
        .iter()
        .any(|v| v.id == untagged[2].id));
    let stats = sim.stats();
    assert_eq!((stats.undisclosed_limited, stats.secondary_limited), (1, 1));
    sim.shutdown().await;
}
