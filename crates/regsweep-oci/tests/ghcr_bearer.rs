//! The bearer-token flow against the emulator's GHCR surface (token endpoint, GHCR's
//! challenge, 405 on DELETE, no referrers API).

use regsweep_core::Secret;
use regsweep_oci::{Auth, OciError, OciOptions, RegistryClient};
use regsweep_sim::{Scenario, Sim, SimOptions};

const SCENARIO: &str = r#"
now: 2026-11-24T12:00:00Z
tokens:
  - {token: ghp_readonly, kind: classic, user: octocat, scopes: [read:packages]}
accounts:
  - name: acme
    kind: org
    packages:
      - name: app
        images:
          - {handle: multi, tags: [v2, latest], age: 10d, platforms: [linux/amd64, linux/arm64], signature: true, referrer: true}
          - {handle: old, tags: [v1], age: 40d}
      - name: solo
        images:
          - {handle: only, tags: [v1], age: 5d}
      - name: popular
        visibility: public
        images:
          - {handle: hit, tags: [v1], age: 5d}
"#;

async fn sim() -> Sim {
    Sim::start(
        Scenario::from_yaml(SCENARIO).expect("scenario parses"),
        SimOptions::default(),
    )
    .await
    .expect("emulator starts")
}

fn client(sim: &Sim, auth: Auth) -> RegistryClient {
    RegistryClient::new(sim.registry_url(), auth, OciOptions::default()).unwrap()
}

fn basic(token: &str) -> Auth {
    Auth::Basic {
        username: "x".to_string(),
        password: Secret::new(token),
    }
}

#[tokio::test]
async fn bearer_tokens_are_fetched_once_per_scope() {
    let sim = sim().await;
    let multi = sim.image("acme", "app", "multi").unwrap();
    let c = client(&sim, basic("ghp_readonly"));

    let g = c
        .read_graph("acme/app", std::slice::from_ref(&multi.root.1), true)
        .await
        .unwrap();
    let root = g.get(&multi.root.1).unwrap();
    assert_eq!(root.children.len(), 2);
    assert!(g.missing.is_empty());
    assert_eq!(g.nodes.len(), 3);
    let s = c.stats();
    assert_eq!(s.token_fetches, 1);

    // Same scope: the cached token is used, no challenge, no new token.
    let tags = c.list_tags("acme/app").await.unwrap();
    assert!(tags.contains(&"v2".to_string()));
    assert_eq!(c.stats().token_fetches, 1);
    assert_eq!(c.stats().requests, s.requests + 1);

    // A new repository: the realm is known, so the token comes before the request.
    let before = c.stats().requests;
    let solo = sim.image("acme", "solo", "only").unwrap();
    assert!(c
        .read_node("acme/solo", &solo.root.1)
        .await
        .unwrap()
        .is_some());
    assert_eq!(c.stats().token_fetches, 2);
    assert_eq!(c.stats().requests, before + 2);

    // GHCR has no referrers API and refuses OCI deletes.
    assert_eq!(c.referrers("acme/app", &multi.root.1).await.unwrap(), None);
    let err = c
        .delete_manifest("acme/app", &multi.root.1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, OciError::Unsupported { status: 405, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Packages API"), "{err}");
    // The secret never shows.
    assert!(!format!("{c:?}").contains("ghp_readonly"));
}

#[tokio::test]
async fn concurrent_first_requests_share_one_token() {
    let sim = sim().await;
    let multi = sim.image("acme", "app", "multi").unwrap();
    let c = client(&sim, basic("ghp_readonly"));
    let reads = multi.manifests.iter().map(|m| {
        let c = c.clone();
        let d = m.digest.clone();
        tokio::spawn(async move { c.read_node("acme/app", &d).await })
    });
    for r in futures::future::join_all(reads).await {
        assert!(r.unwrap().unwrap().is_some());
    }
    assert_eq!(c.stats().token_fetches, 1);
}

#[tokio::test]
async fn anonymous_reads_public_and_is_refused_private() {
    let sim = sim().await;
    let c = client(&sim, Auth::Anonymous);
    let hit = sim.image("acme", "popular", "hit").unwrap();
    assert!(c
        .read_node("acme/popular", &hit.root.1)
        .await
        .unwrap()
        .is_some());

    let multi = sim.image("acme", "app", "multi").unwrap();
    let err = c.read_node("acme/app", &multi.root.1).await.unwrap_err();
    match &err {
        OciError::Forbidden { request, .. } | OciError::Unauthorized { request, .. } => {
            assert!(
                request.starts_with("GET /v2/acme/app/manifests/"),
                "{request}"
            )
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(err.to_string().contains("help:"), "{err}");
}

#[tokio::test]
async fn unknown_credentials_are_reported_with_help() {
    let sim = sim().await;
    let c = client(&sim, basic("ghp_bogus"));
    let multi = sim.image("acme", "app", "multi").unwrap();
    let err = c.read_node("acme/app", &multi.root.1).await.unwrap_err();
    assert!(matches!(err, OciError::Token { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("check the user name and token"), "{text}");
    assert!(!text.contains("ghp_bogus"), "{text}");
}
