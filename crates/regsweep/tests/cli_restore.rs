//! `restore --journal`: what an `apply --journal` deleted comes back (GitHub keeps
//! deleted versions 30 days), children and subjects before the images that need
//! them, so no restored tag points at an incomplete image.

mod common;

use common::{acme, args, regsweep, sim, validate, ACME_ADMIN};
use regsweep_sim::SimOptions;

/// The packages of `acme`: an old signed multi-arch image and a recent one.
const PACKAGES: &str = r#"      - name: app
        visibility: private
        images:
          - {handle: v0, tags: [v0], age: 60d, platforms: [linux/amd64, linux/arm64], signature: true}
          - {handle: v1, tags: [v1], age: 2d, platforms: [linux/amd64, linux/arm64]}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_back_what_apply_deleted_children_first() {
    let s = sim(&acme(PACKAGES), SimOptions::default()).await;
    let before: Vec<_> = s.versions("acme", "app");
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let journal_arg = journal.to_str().unwrap();
    let applied = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &["--image-names", "app", "--tag-selection", "tagged"],
                &["--cut-off", "30d", "--journal", journal_arg],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let v0 = s.image("acme", "app", "v0").expect("v0 pushed");
    let after_apply = s.versions("acme", "app");
    for m in &v0.manifests {
        assert!(
            !after_apply.iter().any(|v| v.digest == m.digest),
            "{} of v0 deleted",
            m.role
        );
    }
    let journal_lines = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""kind":"intent""#))
        .count();
    assert_eq!(journal_lines, v0.manifests.len());

    let restored = regsweep(
        &s,
        &args("restore", &[&ACME_ADMIN, &["--journal", journal_arg]]),
        &[],
    )
    .await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert!(
        restored.stdout.contains(&format!(
            "restored {journal_lines}, already restored 0, failed 0"
        )),
        "{}",
        restored.stdout
    );
    // Everything is back, as it was.
    let mut now: Vec<_> = s
        .versions("acme", "app")
        .into_iter()
        .map(|v| v.digest)
        .collect();
    let mut was: Vec<_> = before.into_iter().map(|v| v.digest).collect();
    now.sort();
    was.sort();
    assert_eq!(now, was);
    // Children and the signature's subject came back before the index that needs them.
    let order: Vec<String> = s
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/restore"))
        .map(|r| r.path)
        .collect();
    assert_eq!(order.len(), journal_lines);
    let position = |id: regsweep_core::VersionId| {
        order
            .iter()
            .position(|p| p.contains(&format!("/versions/{id}/restore")))
            .expect("restored by regsweep")
    };
    let index = position(v0.root.0);
    let needed: Vec<_> = v0
        .manifests
        .iter()
        .filter(|m| m.role.starts_with("platform"))
        .collect();
    assert_eq!(needed.len(), 2);
    for m in needed {
        assert!(
            position(m.id) < index,
            "{} restored after its index",
            m.role
        );
    }
    let signature = v0
        .manifests
        .iter()
        .find(|m| m.role == "signature")
        .expect("signed");
    assert!(
        index < position(signature.id),
        "the signature comes back after its image"
    );
    // And the image is whole again.
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    s.shutdown().await;
}
