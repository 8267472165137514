//! An untag interrupted on GHCR (the run killed between the placeholder's push and
//! its version's delete) leaves the tag on the placeholder, a version of its own,
//! and a journal intent without an outcome. The next run finishes that untag by
//! deleting the placeholder's version (not by pushing another placeholder, which
//! left the first one behind, untagged); `restore` recognises the placeholder by its
//! content and puts the tag back on the digest it was taken from; and a restore
//! brings deleted versions back before their removed tags, so one run restores a
//! tag whose image a later run deleted.

mod common;

use common::{acme, args, regsweep, sim};
use regsweep_core::Digest;
use regsweep_oci::{placeholder, Auth, OciOptions, RegistryClient, PLACEHOLDER_MEDIA_TYPE};
use regsweep_sim::{Sim, SimOptions};

const WRITER: &str =
    "  - {token: ghp_writer, kind: classic, user: octocat, scopes: [read:packages, write:packages, delete:packages]}\n";

const TOKEN: [&str; 4] = ["--account", "acme", "--token", "ghp_writer"];

fn scenario(images: &str) -> String {
    let packages =
        format!("      - name: app\n        visibility: private\n        images:\n{images}");
    acme(&packages).replacen("accounts:", &format!("{WRITER}accounts:"), 1)
}

const PR_AND_RELEASE: &str = "          - {handle: pr, tags: [pr-12, v1.2.0], age: 3d, platforms: [linux/amd64, linux/arm64]}\n          - {handle: v2, tags: [v2], age: 1d}\n";

/// What `tag` of `acme/app` points at, as the emulator's versions say.
fn owner(s: &Sim, tag: &str) -> Option<Digest> {
    s.versions("acme", "app")
        .into_iter()
        .find(|v| v.tags.iter().any(|t| t == tag))
        .map(|v| v.digest)
}

fn ids(s: &Sim) -> Vec<u64> {
    let mut i: Vec<u64> = s.versions("acme", "app").iter().map(|v| v.id.0).collect();
    i.sort();
    i
}

/// Does what a run killed after the placeholder's push leaves: the placeholder
/// under `tag` (a version of its own on GHCR), and in `journal` the untag intent
/// without an outcome.
async fn interrupted_untag(s: &Sim, tag: &str, from: &Digest, journal: &std::path::Path) -> Digest {
    let client = RegistryClient::new(
        s.registry_url(),
        Auth::Basic {
            username: "octocat".into(),
            password: regsweep_core::Secret::new("ghp_writer"),
        },
        OciOptions::default(),
    )
    .expect("client");
    let body = placeholder(tag, from, "2026-11-24T12:00:00.000000001Z");
    let pushed = client
        .put_manifest("acme/app", tag, PLACEHOLDER_MEDIA_TYPE, body)
        .await
        .expect("placeholder pushed");
    let id = s
        .versions("acme", "app")
        .into_iter()
        .find(|v| &v.digest == from)
        .expect("the image is a version")
        .id
        .0;
    std::fs::write(
        journal,
        format!(
            "{{\"kind\":\"run\",\"v\":2,\"run\":\"r\",\"started_at\":\"2026-11-24T12:00:00Z\"}}\n{{\"kind\":\"untag_intent\",\"v\":2,\"run\":\"r\",\"package\":\"app\",\"id\":{id},\"digest\":\"{from}\",\"tag\":\"{tag}\",\"at\":\"2026-11-24T12:00:00Z\"}}\n"
        ),
    )
    .unwrap();
    assert_eq!(
        owner(s, tag),
        Some(pushed.clone()),
        "the tag is on the placeholder"
    );
    pushed
}

fn policy(dir: &tempfile::TempDir, yaml: &str) -> String {
    let p = dir.path().join("policy.yaml");
    std::fs::write(&p, yaml).unwrap();
    p.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_after_a_kill_between_placeholder_push_and_delete_deletes_the_placeholder() {
    let s = sim(&scenario(PR_AND_RELEASE), SimOptions::default()).await;
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let before = ids(&s);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let j = journal.to_str().unwrap();
    let placeholder = interrupted_untag(&s, "pr-12", &root, &journal).await;
    let policy = policy(
        &dir,
        "version: 1\nrules:\n  - {action: untag, tags: [\"pr-*\"]}\n",
    );
    let applied = regsweep(
        &s,
        &args(
            "apply",
            &[
                &TOKEN,
                &["--policy", &policy, "--journal", j, "--output", "json"],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let doc = applied.json();
    assert_eq!(doc["untags"][0]["status"], "untagged", "{doc:#}");
    assert!(
        doc["untags"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("placeholder")),
        "{doc:#}"
    );
    // The placeholder's version is gone, and no other placeholder was left.
    assert_eq!(ids(&s), before);
    assert_eq!(owner(&s, "pr-12"), None);
    assert!(s
        .deleted("acme", "app")
        .iter()
        .any(|v| v.digest == placeholder));
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(&format!(r#""from":"{root}""#)), "{text}");

    let restored = regsweep(&s, &args("restore", &[&TOKEN, &["--journal", j]]), &[]).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(owner(&s, "pr-12"), Some(root));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_after_a_kill_between_placeholder_push_and_delete_puts_the_tag_back() {
    let s = sim(&scenario(PR_AND_RELEASE), SimOptions::default()).await;
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    interrupted_untag(&s, "pr-12", &root, &journal).await;
    let restored = regsweep(
        &s,
        &args(
            "restore",
            &[&TOKEN, &["--journal", journal.to_str().unwrap()]],
        ),
        &[],
    )
    .await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert!(
        restored.stdout.contains("restored tag app:pr-12"),
        "{}",
        restored.stdout
    );
    assert_eq!(owner(&s, "pr-12"), Some(root));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_back_a_tag_whose_image_a_later_run_deleted() {
    let s = sim(
        &scenario(
            "          - {handle: pr, tags: [pr-1], age: 3d, platforms: [linux/amd64, linux/arm64]}\n          - {handle: v2, tags: [v2], age: 1d}\n",
        ),
        SimOptions::default(),
    )
    .await;
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let before = ids(&s);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let j = journal.to_str().unwrap();
    let policy = policy(
        &dir,
        "version: 1\nrules:\n  - {action: untag, tags: [\"pr-*\"]}\n  - {action: delete, state: untagged}\n",
    );
    let apply = args("apply", &[&TOKEN, &["--policy", &policy, "--journal", j]]);
    // The first run untags the image, the second deletes it (and its platforms).
    for _ in 0..2 {
        let run = regsweep(&s, &apply, &[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert!(s.versions("acme", "app").iter().all(|v| v.digest != root));
    let restored = regsweep(&s, &args("restore", &[&TOKEN, &["--journal", j]]), &[]).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(owner(&s, "pr-1"), Some(root));
    assert_eq!(ids(&s), before);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_on_a_plain_registry_after_a_kill_between_placeholder_push_and_delete_deletes_the_placeholder(
) {
    use regsweep_sim::LocalRegistry;
    use regsweep_testimage::{push_image, ImageSpec, Pusher};
    let reg = LocalRegistry::start().expect("registry starts (apt-get install docker-registry)");
    let image = push_image(
        &Pusher::new(reg.url().clone()),
        "acme/app",
        &["pr-12".to_string(), "v1.2.0".to_string()],
        &ImageSpec::with_platforms(&["linux/amd64", "linux/arm64"]),
    )
    .await
    .expect("image pushed");
    let root = image.root.digest.clone();
    let client =
        RegistryClient::new(reg.url().clone(), Auth::Anonymous, OciOptions::default()).unwrap();
    let body = placeholder("pr-12", &root, "2026-11-24T12:00:00.000000001Z");
    let pushed = client
        .put_manifest("acme/app", "pr-12", PLACEHOLDER_MEDIA_TYPE, body)
        .await
        .expect("placeholder pushed");
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(
        &dir,
        "version: 1\nrules:\n  - {action: untag, tags: [\"pr-*\"]}\n",
    );
    let mut cmd = common::pinned(&["apply", "--policy", &policy]);
    cmd.args(["--backend", "oci", "--registry-url", reg.url().as_str()]);
    let applied = common::finish(cmd).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let head = |d: String| {
        let client = &client;
        async move { client.head_manifest("acme/app", &d).await.expect("HEAD") }
    };
    assert_eq!(head("pr-12".into()).await, None, "the tag is gone");
    assert_eq!(
        head(pushed.to_string()).await,
        None,
        "the placeholder is gone"
    );
    assert_eq!(
        head("v1.2.0".into()).await.map(|(d, _)| d),
        Some(root.clone()),
        "the image keeps its other tag"
    );
    assert!(head(root.to_string()).await.is_some());
}
