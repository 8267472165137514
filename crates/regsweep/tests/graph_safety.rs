//! End to end on real images pushed into the real registry behind the emulator:
//! kept images are never broken (issue: multi-arch, signatures, attestations).

mod common;

use common::{args, regsweep, sim, ACME_ADMIN};
use regsweep_sim::SimOptions;

const WORLD: &str = r#"
now: 2026-11-24T12:00:00Z
tokens:
  - {token: ghp_admin, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
accounts:
  - name: acme
    kind: org
    packages:
      - name: app
        visibility: private
        images:
          - {handle: v0, tags: [v0], age: 60d, platforms: [linux/amd64, linux/arm64], signature: true, referrer: true}
          - {handle: v1, tags: [v1], age: 40d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, signature: true}
          - {handle: nested, tags: [v1-nested], age: 40d, platforms: [linux/amd64, linux/arm64], nested: true}
          - {handle: orphan, tags: [], age: 40d}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_run_keeps_platform_manifests_of_a_tagged_index() {
    let s = sim(WORLD, SimOptions::default()).await;
    let v1 = s.image("acme", "app", "v1").expect("v1 pushed");
    let orphan = s.image("acme", "app", "orphan").expect("orphan pushed");
    let r = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &[
                    "--image-names",
                    "app",
                    "--tag-selection",
                    "untagged",
                    "--cut-off",
                    "1w",
                    "--output",
                    "json",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left: Vec<_> = s
        .versions("acme", "app")
        .into_iter()
        .map(|v| v.digest)
        .collect();
    for m in &v1.manifests {
        assert!(left.contains(&m.digest), "{} of v1 must survive", m.role);
    }
    assert!(!left.contains(&orphan.root.1), "the orphan is deleted");
    let v = regsweep(
        &s,
        &args("validate", &[&ACME_ADMIN, &["--image-names", "app"]]),
        &[],
    )
    .await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("all complete"), "{}", v.stdout);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_old_index_removes_its_children_and_signature() {
    let s = sim(WORLD, SimOptions::default()).await;
    let v0 = s.image("acme", "app", "v0").expect("v0 pushed");
    let v1 = s.image("acme", "app", "v1").expect("v1 pushed");
    let r = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &[
                    "--image-names",
                    "app",
                    "--tag-selection",
                    "tagged",
                    "--image-tags",
                    "v0",
                    "--cut-off",
                    "1w",
                    "--output",
                    "json",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left: Vec<_> = s
        .versions("acme", "app")
        .into_iter()
        .map(|v| v.digest)
        .collect();
    for m in &v0.manifests {
        assert!(
            !left.contains(&m.digest),
            "{} of v0 must go with it",
            m.role
        );
    }
    for m in &v1.manifests {
        assert!(left.contains(&m.digest), "{} of v1 must stay", m.role);
    }
    let v = regsweep(
        &s,
        &args("validate", &[&ACME_ADMIN, &["--image-names", "app"]]),
        &[],
    )
    .await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    s.shutdown().await;
}
