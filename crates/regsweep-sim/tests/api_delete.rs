//! Deleting and restoring versions: GitHub's refusals, the backing registry mirrored,
//! the 30-day restore window, package deletion.

mod common;

use common::*;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Status of `GET /v2/<repo>/manifests/<reference>` on the backing registry.
async fn registry_status(sim: &regsweep_sim::Sim, repo: &str, reference: &str) -> u16 {
    let reg = sim.backing_registry().expect("registry-backed scenario");
    let url = format!("{}v2/{repo}/manifests/{reference}", reg.url());
    http()
        .get(url)
        .header("accept", ACCEPT)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Tags of `repo` on the backing registry.
async fn registry_tags(sim: &regsweep_sim::Sim, repo: &str) -> Vec<String> {
    let reg = sim.backing_registry().unwrap();
    let url = format!("{}v2/{repo}/tags/list", reg.url());
    let body = body_json(http().get(url)).await;
    body["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes the root version of image `handle` in `acme/<package>` with the admin token
/// and checks GitHub's refusal: 400 with `message`.
async fn assert_delete_refused(
    sim: &regsweep_sim::Sim,
    package: &str,
    handle: &str,
    message: &str,
) {
    let image = sim
        .image("acme", package, handle)
        .unwrap_or_else(|| panic!("image {handle} in acme/{package}"));
    let (status, body) = delete_json(sim, ADMIN, &version_path(package, image.root.0)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["message"], message);
}

#[tokio::test]
async fn every_pushed_manifest_is_a_version() {
    let sim = start().await;
    let multi = sim.image("acme", "app", "multi").unwrap();
    let roles: Vec<&str> = multi.manifests.iter().map(|m| m.role.as_str()).collect();
    assert!(
        roles.contains(&"index") && roles.contains(&"signature") && roles.contains(&"referrer"),
        "{roles:?}"
    );
    assert_eq!(
        roles.iter().filter(|r| r.starts_with("platform")).count(),
        2
    );
    let versions = sim.versions("acme", "app");
    for m in &multi.manifests {
        let v = versions
            .iter()
            .find(|v| v.id == m.id)
            .expect("each manifest is a version");
        assert_eq!(v.digest, m.digest);
        assert_eq!(
            registry_status(&sim, "acme/app", m.digest.as_str()).await,
            200
        );
    }
    let root = versions.iter().find(|v| v.id == multi.root.0).unwrap();
    assert_eq!(root.tags, vec!["v2", "latest"]);
    let sig = multi
        .manifests
        .iter()
        .find(|m| m.role == "signature")
        .unwrap();
    assert_eq!(
        sig.tag.as_deref(),
        Some(format!("sha256-{}.sig", multi.root.1.hex()).as_str())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_removes_the_manifest_from_the_backing_registry() {
    let sim = start().await;
    let old = sim.image("acme", "app", "old").unwrap();
    assert!(registry_tags(&sim, "acme/app")
        .await
        .contains(&"v1".to_string()));
    let resp = delete(&sim, ADMIN, &version_path("app", old.root.0)).await;
    assert_eq!(resp.status(), 204);
    assert!(resp.headers().contains_key("x-ratelimit-remaining"));
    assert_eq!(
        registry_status(&sim, "acme/app", old.root.1.as_str()).await,
        404
    );
    assert!(!registry_tags(&sim, "acme/app")
        .await
        .contains(&"v1".to_string()));
    assert!(sim
        .versions("acme", "app")
        .iter()
        .all(|v| v.id != old.root.0));
    assert!(sim
        .deleted("acme", "app")
        .iter()
        .any(|v| v.id == old.root.0));
    // Deleting again: gone.
    let resp = delete(&sim, ADMIN, &version_path("app", old.root.0)).await;
    assert_eq!(resp.status(), 404);
    // The API answers 404 for it, and lists it under state=deleted.
    let (_, deleted) = get_json(
        &sim,
        ADMIN,
        "/orgs/acme/packages/container/app/versions?state=deleted",
    )
    .await;
    assert!(deleted
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == old.root.0 .0));

    // Restore pushes the same bytes back, with the tag.
    let resp = post(&sim, ADMIN, &restore_path("app", old.root.0)).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        registry_status(&sim, "acme/app", old.root.1.as_str()).await,
        200
    );
    assert_eq!(registry_status(&sim, "acme/app", "v1").await, 200);
    let v = sim
        .versions("acme", "app")
        .into_iter()
        .find(|v| v.id == old.root.0)
        .unwrap();
    assert_eq!(v.tags, vec!["v1"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn restore_window_is_thirty_days() {
    let sim = start().await;
    let gone = sim.image("acme", "app", "gone").unwrap();
    let recent = sim.image("acme", "app", "recent-gone").unwrap();
    assert_eq!(
        registry_status(&sim, "acme/app", gone.root.1.as_str()).await,
        404
    );
    let resp = post(&sim, ADMIN, &restore_path("app", gone.root.0)).await;
    assert_eq!(resp.status(), 404, "deleted 40 days ago");
    let resp = post(&sim, ADMIN, &restore_path("app", recent.root.0)).await;
    assert_eq!(resp.status(), 204, "deleted 2 days ago");
    assert_eq!(registry_status(&sim, "acme/app", "v0.5").await, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn last_tagged_version_is_refused() {
    let sim = start().await;
    assert_delete_refused(
        &sim,
        "solo",
        "only",
        "You cannot delete the last tagged version of a package. You must delete the package instead.",
    )
    .await;
    assert_eq!(
        registry_status(&sim, "acme/solo", "v1").await,
        200,
        "nothing deleted"
    );
    // The package itself can be deleted, and restored.
    assert_eq!(
        delete_status(&sim, ADMIN, "/orgs/acme/packages/container/solo").await,
        204
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/container/solo").await,
        404
    );
    assert_eq!(registry_status(&sim, "acme/solo", "v1").await, 404);
    assert_eq!(
        post_status(&sim, ADMIN, "/orgs/acme/packages/container/solo/restore").await,
        204
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/container/solo").await,
        200
    );
    assert_eq!(registry_status(&sim, "acme/solo", "v1").await, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn popular_public_versions_are_refused() {
    let sim = start().await;
    assert_delete_refused(
        &sim,
        "popular",
        "hit",
        "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.",
    )
    .await;
    let quiet = sim.image("acme", "popular", "quiet").unwrap();
    assert_eq!(
        delete_status(&sim, ADMIN, &version_path("popular", quiet.root.0)).await,
        204
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn children_of_a_deleted_index_stay_until_deleted() {
    let sim = start().await;
    let multi = sim.image("acme", "app", "multi").unwrap();
    let path = version_path("app", multi.root.0);
    assert_eq!(delete_status(&sim, ADMIN, &path).await, 204);
    for m in multi
        .manifests
        .iter()
        .filter(|m| m.role.starts_with("platform"))
    {
        assert_eq!(
            registry_status(&sim, "acme/app", m.digest.as_str()).await,
            200
        );
        let p = version_path("app", m.id);
        assert_eq!(delete_status(&sim, ADMIN, &p).await, 204);
        assert_eq!(
            registry_status(&sim, "acme/app", m.digest.as_str()).await,
            404
        );
    }
    // Restore children first, then the index: all back.
    for m in multi
        .manifests
        .iter()
        .filter(|m| m.role.starts_with("platform"))
    {
        let p = restore_path("app", m.id);
        assert_eq!(post_status(&sim, ADMIN, &p).await, 204);
    }
    assert_eq!(
        post_status(&sim, ADMIN, &restore_path("app", multi.root.0)).await,
        204
    );
    assert_eq!(registry_status(&sim, "acme/app", "latest").await, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn package_delete_refuses_tokens_that_are_not_an_admins_pat() {
    let sim = start().await;
    // The Actions GITHUB_TOKEN, even with the Admin role on `app` (it may delete its
    // versions), cannot delete the package: GitHub's integration refusal.
    for token in [ACTIONS, APP_WRITE] {
        let (status, body) = delete_json(&sim, token, "/orgs/acme/packages/container/app").await;
        assert_eq!(status, 403, "{token}: {body}");
        assert_eq!(body["message"], "Resource not accessible by integration");
    }
    // A classic PAT without delete:packages: GitHub's scope message.
    let (status, body) = delete_json(&sim, READONLY, "/orgs/acme/packages/container/app").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"],
        "You need at least delete:packages scope to delete packages."
    );
    assert_eq!(
        get_status(&sim, ADMIN, "/orgs/acme/packages/container/app").await,
        200,
        "nothing deleted"
    );
    // Deleted by an admin's PAT, it cannot be restored by the Actions token either.
    assert_eq!(
        delete_status(&sim, ADMIN, "/orgs/acme/packages/container/app").await,
        204
    );
    let (status, body) =
        json(post(&sim, ACTIONS, "/orgs/acme/packages/container/app/restore").await).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Resource not accessible by integration"))
    );
    assert_eq!(
        post_status(&sim, ADMIN, "/orgs/acme/packages/container/app/restore").await,
        204
    );
    sim.shutdown().await;
}
