//! Injected faults: deterministic `fail_next`, random 5xx, dropped connections; all
//! visible in the stats and the request log.

mod common;

use common::*;
use regsweep_sim::{FailNext, FaultConfig, SimOptions};

#[tokio::test]
async fn fail_next_is_deterministic_and_counted() {
    let sim = start().await;
    sim.set_faults(FaultConfig {
        fail_next: Some(FailNext {
            count: 2,
            status: 502,
            method: Some("DELETE".into()),
            path_contains: Some("/versions/".into()),
        }),
        ..FaultConfig::default()
    });
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/container/app/versions").await,
        200
    );
    let orphan = sim.image("acme", "app", "orphan").unwrap().root.0;
    let path = version_path("app", orphan);
    assert_eq!(delete_status(&sim, ADMIN, &path).await, 502);
    assert_eq!(delete_status(&sim, ADMIN, &path).await, 502);
    assert_eq!(delete_status(&sim, ADMIN, &path).await, 204);
    let stats = sim.stats();
    assert_eq!(stats.faults_injected, 2);
    assert_eq!(stats.by_status.get(&502), Some(&2));
    let route =
        "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}";
    assert_eq!(stats.by_route.get(route), Some(&3));
    let log = sim.requests();
    assert_eq!(log.iter().filter(|r| r.status == Some(502)).count(), 2);
    assert!(log.iter().all(|r| r.token_kind == "classic"));
    sim.shutdown().await;
}

#[tokio::test]
async fn error_rate_and_drops() {
    let sim = start_with(SimOptions {
        faults: FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::default()
        },
        ..SimOptions::default()
    })
    .await;
    for _ in 0..5 {
        let s = get_status(&sim, ADMIN, "/user").await;
        assert!(s == 502 || s == 503, "{s}");
    }
    assert_eq!(sim.stats().faults_injected, 5);
    sim.set_faults(FaultConfig {
        drop_rate: 1.0,
        ..FaultConfig::default()
    });
    let url = format!("{}user", sim.api_url());
    let outcome = http().get(&url).bearer_auth(ADMIN).send().await;
    let failed = match outcome {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "a dropped connection gives no complete answer");
    assert_eq!(sim.stats().dropped, 1);
    sim.set_faults(FaultConfig::default());
    assert_eq!(get_status(&sim, ADMIN, "/user").await, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_over_http() {
    let sim = start().await;
    let base = sim.api_url();
    let resp = http()
        .put(format!("{base}_sim/faults"))
        .body(r#"{"fail_next":{"count":1,"status":503}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(get_status(&sim, ADMIN, "/user").await, 503);
    let stats = body_json(http().get(format!("{base}_sim/stats"))).await;
    assert_eq!(stats["faults_injected"], 1);
    assert_eq!(stats["by_route"]["GET /user"], 1);
    let log = body_json(http().get(format!("{base}_sim/requests"))).await;
    assert_eq!(log[0]["path"], "/user");
    assert_eq!(log[0]["status"], 503);
    let bad = http()
        .put(format!("{base}_sim/faults"))
        .body("{\"nope\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    sim.shutdown().await;
}
