//! Token kinds by capability: classic with and without scopes, the Actions token, bad
//! and missing credentials, with GitHub's messages.

mod common;

use common::*;

#[tokio::test]
async fn classic_token_reports_scopes_and_user() {
    let sim = start().await;
    let resp = get(&sim, ADMIN, "/user").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-oauth-scopes"],
        "read:packages, delete:packages"
    );
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-used",
        "x-ratelimit-reset",
        "x-ratelimit-resource",
    ] {
        assert!(resp.headers().contains_key(h), "{h}");
    }
    assert_eq!(resp.headers()["x-ratelimit-limit"], "5000");
    let (_, body) = json(resp).await;
    assert_eq!(body["login"], "octocat");
    let resp = get(&sim, READONLY, ACME_PACKAGES).await;
    assert_eq!(resp.headers()["x-oauth-scopes"], "read:packages");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_and_missing_credentials() {
    let sim = start().await;
    let (status, body) = get_json(&sim, "ghp_nope", ACME_PACKAGES).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        serde_json::json!({"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"})
    );
    let (status, body) = get_json(&sim, "", ACME_PACKAGES).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Requires authentication");
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_scopes_are_named() {
    let sim = start().await;
    let (status, body) = get_json(&sim, "ghp_noscope", ACME_PACKAGES).await;
    assert_eq!(status, 403);
    assert!(body["message"].as_str().unwrap().contains("read:packages"));
    let v = sim.versions("acme", "app");
    let untagged = v.iter().find(|v| v.tags.is_empty()).unwrap();
    let (status, body) = delete_json(&sim, READONLY, &version_path("app", untagged.id)).await;
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("delete:packages"),
        "{body}"
    );
    assert_eq!(
        sim.versions("acme", "app").len(),
        v.len(),
        "nothing deleted"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn actions_token_reaches_granted_packages_only() {
    let sim = start().await;
    for path in [
        "/user",
        ACME_PACKAGES,
        "/user/packages?package_type=container",
    ] {
        let (status, body) = get_json(&sim, ACTIONS, path).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["message"], "Resource not accessible by integration");
    }
    let resp = get(&sim, ACTIONS, "/orgs/acme/packages/container/app/versions").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-ratelimit-limit"], "1000");
    assert!(resp.headers().get("x-oauth-scopes").is_none());
    // Private and not granted: invisible.
    let (status, body) = get_json(&sim, ACTIONS, "/orgs/acme/packages/container/solo").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Package not found.");
    // Public and not granted: readable, not deletable.
    assert_eq!(
        get_status(
            &sim,
            ACTIONS,
            "/orgs/acme/packages/container/popular/versions"
        )
        .await,
        200
    );
    let quiet = sim.image("acme", "popular", "quiet").unwrap().root.0;
    let (status, body) = delete_json(&sim, ACTIONS, &version_path("popular", quiet)).await;
    assert_eq!(status, 403);
    assert_eq!(body["message"], "Resource not accessible by integration");
    // Granted: deletable.
    let orphan = sim.image("acme", "app", "orphan").unwrap().root.0;
    assert_eq!(
        delete_status(&sim, ACTIONS, &version_path("app", orphan)).await,
        204
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_owner_and_package() {
    let sim = start().await;
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/nobody/packages?package_type=container").await,
        404
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/octocat/packages?package_type=container").await,
        404,
        "a user is not an org"
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/container/nope/versions").await,
        404
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/npm/app").await,
        404
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages").await,
        400,
        "package_type is required"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn pull_requests_from_the_scenario() {
    let sim = start().await;
    let (status, body) = get_json(&sim, ADMIN, "/repos/acme/app/pulls/12").await;
    assert_eq!(status, 200);
    assert_eq!(body["state"], "closed");
    assert_eq!(body["head"]["ref"], "feature-x");
    assert_eq!(body["merged_at"], "2026-11-01T00:00:00Z");
    let (_, open) = get_json(&sim, ADMIN, "/repos/acme/app/pulls").await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (_, all) = get_json(&sim, ADMIN, "/repos/acme/app/pulls?state=all").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(
        get_status(&sim, ADMIN, "/repos/acme/app/pulls/99").await,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn app_token_has_no_scopes_header_and_acts_by_its_permission() {
    let sim = start().await;
    // No X-OAuth-Scopes, and no /user: an installation token is not a user.
    let resp = get(&sim, APP_WRITE, ACME_PACKAGES).await;
    assert_eq!(resp.status(), 200);
    assert!(!resp.headers().contains_key("x-oauth-scopes"));
    let (status, body) = get_json(&sim, APP_WRITE, "/user").await;
    assert_eq!(status, 403);
    assert_eq!(body["message"], "Resource not accessible by integration");
    assert_eq!(
        get_status(&sim, APP_WRITE, "/user/packages?package_type=container").await,
        403
    );
    // Both permissions list the installation's packages, private ones too: what a
    // classic admin token sees.
    let (status, listed) = get_json(&sim, APP_READ, ACME_PACKAGES).await;
    assert_eq!(status, 200);
    let (_, all) = get_json(&sim, ADMIN, ACME_PACKAGES).await;
    assert_eq!(listed, all);
    // Only `write` deletes.
    let v = sim.versions("acme", "app");
    let orphan = v
        .iter()
        .find(|v| v.tags.is_empty())
        .expect("an untagged version");
    let (status, body) = delete_json(&sim, APP_READ, &version_path("app", orphan.id)).await;
    assert_eq!(status, 403);
    assert_eq!(body["message"], "Resource not accessible by integration");
    assert_eq!(
        delete_status(&sim, APP_WRITE, &version_path("app", orphan.id)).await,
        204
    );
    sim.shutdown().await;
}
