//! `action: untag` through the real binary: against the emulator fronting the real
//! registry (GHCR's placeholder technique) and against the plain registry
//! (`--backend oci`). The image and its other tags stay; the placeholder is gone
//! afterwards; `restore` puts the tag back; a token without write access is told
//! which scope it needs and nothing changes; a dry run shows the untag only.

mod common;

use common::{acme, args, regsweep, sim};
use regsweep_core::Digest;
use regsweep_oci::{Auth, OciOptions, RegistryClient};
use regsweep_sim::{LocalRegistry, SimOptions};
use regsweep_testimage::{push_image, ImageSpec, Pusher};

/// `app`: an image tagged `pr-12` and `v1.2.0` (two platforms), and a newer `v2`.
const PACKAGES: &str = r#"      - name: app
        visibility: private
        images:
          - {handle: pr, tags: [pr-12, v1.2.0], age: 3d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v2, tags: [v2], age: 1d}
"#;

const WRITER: &str =
    "  - {token: ghp_writer, kind: classic, user: octocat, scopes: [read:packages, write:packages, delete:packages]}\n";

const POLICY: &str =
    "version: 1\nrules:\n  - {name: drop-pr-tags, action: untag, tags: [\"pr-*\"]}\n";

fn scenario() -> String {
    // The standard header's token list continues with the writer.
    acme(PACKAGES).replacen("accounts:", &format!("{WRITER}accounts:"), 1)
}

fn anonymous(url: &url::Url) -> RegistryClient {
    RegistryClient::new(url.clone(), Auth::Anonymous, OciOptions::default()).expect("client")
}

/// What `tag` of `repo` points at in the registry at `url`.
async fn points_at(url: &url::Url, repo: &str, tag: &str) -> Option<Digest> {
    anonymous(url)
        .head_manifest(repo, tag)
        .await
        .expect("HEAD answered")
        .map(|(d, _)| d)
}

fn policy_file(dir: &tempfile::TempDir) -> String {
    let p = dir.path().join("policy.yaml");
    std::fs::write(&p, POLICY).unwrap();
    p.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untag_of_a_partial_match_keeps_the_image_and_its_other_tags_and_restore_brings_the_tag_back(
) {
    let s = sim(&scenario(), SimOptions::default()).await;
    let backing = s
        .backing_registry()
        .expect("a backing registry")
        .url()
        .clone();
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let before = s.versions("acme", "app");
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir);
    let journal = dir.path().join("journal.jsonl");
    let journal_arg = journal.to_str().unwrap();
    let token = ["--account", "acme", "--token", "ghp_writer"];
    let applied = regsweep(
        &s,
        &args(
            "apply",
            &[
                &token,
                &[
                    "--policy",
                    &policy,
                    "--journal",
                    journal_arg,
                    "--output",
                    "json",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let doc = applied.json();
    let untags = doc["untags"].as_array().cloned().unwrap_or_default();
    assert_eq!(untags.len(), 1, "{doc:#}");
    assert_eq!(untags[0]["status"], "untagged");
    assert_eq!(untags[0]["tag"], "pr-12");

    // The image and its other tag stay; the other tag's manifest pulls.
    assert_eq!(points_at(&backing, "acme/app", "pr-12").await, None);
    assert_eq!(
        points_at(&backing, "acme/app", "v1.2.0").await,
        Some(root.clone())
    );
    let pulled = anonymous(&backing)
        .get_manifest("acme/app", "v1.2.0")
        .await
        .expect("GET answered")
        .expect("v1.2.0 pulls");
    assert_eq!(pulled.digest, root);
    let after = s.versions("acme", "app");
    let v = after.iter().find(|v| v.digest == root).expect("root kept");
    assert_eq!(v.tags, ["v1.2.0"]);
    // Same versions as before: the placeholder's version is gone again.
    let ids = |vs: &[regsweep_sim::SimVersion]| {
        let mut i: Vec<u64> = vs.iter().map(|v| v.id.0).collect();
        i.sort();
        i
    };
    assert_eq!(ids(&after), ids(&before));
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(r#""kind":"untag_intent""#), "{text}");
    assert!(text.contains(r#""outcome":"untagged""#), "{text}");

    let restored = regsweep(
        &s,
        &args("restore", &[&token, &["--journal", journal_arg]]),
        &[],
    )
    .await;
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert!(
        restored.stdout.contains("restored tag app:pr-12"),
        "{}",
        restored.stdout
    );
    assert_eq!(
        points_at(&backing, "acme/app", "pr-12").await,
        Some(root.clone())
    );
    let v = s
        .versions("acme", "app")
        .into_iter()
        .find(|v| v.digest == root)
        .expect("root kept");
    assert!(v.tags.contains(&"pr-12".to_string()), "{:?}", v.tags);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untag_with_a_token_without_write_scope_says_which_scope_and_changes_nothing() {
    let s = sim(&scenario(), SimOptions::default()).await;
    let backing = s
        .backing_registry()
        .expect("a backing registry")
        .url()
        .clone();
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let before = s.versions("acme", "app");
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir);
    // ghp_admin has read:packages and delete:packages only.
    let applied = regsweep(
        &s,
        &args(
            "apply",
            &[
                &["--account", "acme", "--token", "ghp_admin"],
                &["--policy", &policy],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(applied.code, 1, "{}\n{}", applied.stdout, applied.stderr);
    let all = format!("{}{}", applied.stdout, applied.stderr);
    assert!(all.contains("write:packages"), "{all}");
    assert_eq!(points_at(&backing, "acme/app", "pr-12").await, Some(root));
    assert_eq!(s.versions("acme", "app"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_shows_the_untag_without_doing_it() {
    let s = sim(&scenario(), SimOptions::default()).await;
    let backing = s
        .backing_registry()
        .expect("a backing registry")
        .url()
        .clone();
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir);
    let token = ["--account", "acme", "--token", "ghp_writer"];
    let planned = regsweep(&s, &args("plan", &[&token, &["--policy", &policy]]), &[]).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(planned.stdout.contains("untag"), "{}", planned.stdout);
    assert!(planned.stdout.contains("pr-12"), "{}", planned.stdout);
    assert!(
        planned
            .stdout
            .contains("1 tag to remove from 1 version that stay"),
        "{}",
        planned.stdout
    );
    let json = regsweep(
        &s,
        &args(
            "plan",
            &[&token, &["--policy", &policy, "--output", "json"]],
        ),
        &[],
    )
    .await;
    let doc = json.json();
    let d = common::decisions(&doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["digest"] == root.as_str())
        .expect("root planned")
        .clone();
    assert_eq!(d["action"], "untag");
    assert_eq!(d["untag"], serde_json::json!(["pr-12"]));
    assert_eq!(points_at(&backing, "acme/app", "pr-12").await, Some(root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untag_on_a_plain_registry_keeps_the_image_removes_the_placeholder_and_restores() {
    let reg = LocalRegistry::start().expect("registry starts (apt-get install docker-registry)");
    let pusher = Pusher::new(reg.url().clone());
    let image = push_image(
        &pusher,
        "acme/app",
        &["pr-12".to_string(), "v1.2.0".to_string()],
        &ImageSpec::with_platforms(&["linux/amd64", "linux/arm64"]),
    )
    .await
    .expect("image pushed");
    let root = image.root.digest.clone();
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir);
    let journal = dir.path().join("journal.jsonl");
    let journal_arg = journal.to_str().unwrap();
    let oci = |a: &[&str]| {
        let mut cmd = common::pinned(a);
        cmd.args(["--backend", "oci", "--registry-url", reg.url().as_str()]);
        cmd
    };
    let applied = common::finish(oci(&[
        "apply",
        "--policy",
        &policy,
        "--journal",
        journal_arg,
        "--output",
        "json",
    ]))
    .await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(points_at(reg.url(), "acme/app", "pr-12").await, None);
    assert_eq!(
        points_at(reg.url(), "acme/app", "v1.2.0").await,
        Some(root.clone())
    );
    for m in &image.manifests {
        assert!(
            anonymous(reg.url())
                .head_manifest("acme/app", m.digest.as_str())
                .await
                .expect("HEAD")
                .is_some(),
            "{} of the image is still there",
            m.digest
        );
    }
    let tags = anonymous(reg.url())
        .list_tags("acme/app")
        .await
        .expect("tags");
    assert_eq!(tags, ["v1.2.0"]);
    // The placeholder (Distribution 2.x deletes no tags) is gone.
    let text = std::fs::read_to_string(&journal).unwrap();
    let placeholder = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|l| l["placeholder"].as_str().map(str::to_string));
    let p = placeholder
        .expect("Distribution 2.x answers a tag DELETE with 400: a placeholder was used");
    assert_eq!(
        anonymous(reg.url())
            .head_manifest("acme/app", &p)
            .await
            .expect("HEAD"),
        None,
        "placeholder {p} deleted"
    );
    let restored = common::finish(oci(&["restore", "--journal", journal_arg])).await;
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert_eq!(points_at(reg.url(), "acme/app", "pr-12").await, Some(root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untag_refused_by_the_registry_for_a_read_only_token_names_the_scope_and_changes_nothing() {
    // An app installation token with read permission: its scopes are unknown, so
    // the push is tried, and GHCR (the emulator) refuses it with 403 DENIED.
    let reader =
        "  - {token: v1.installation_read, kind: app, installed_on: [acme], permission: read}\n";
    let yaml = acme(PACKAGES).replacen("accounts:", &format!("{reader}accounts:"), 1);
    let s = sim(&yaml, SimOptions::default()).await;
    let backing = s
        .backing_registry()
        .expect("a backing registry")
        .url()
        .clone();
    let root = s.image("acme", "app", "pr").expect("pushed").root.1;
    let before = s.versions("acme", "app");
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir);
    let applied = regsweep(
        &s,
        &args(
            "apply",
            &[
                &["--account", "acme", "--token", "v1.installation_read"],
                &["--policy", &policy, "--output", "json"],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(applied.code, 1, "{}\n{}", applied.stdout, applied.stderr);
    assert!(
        applied.stderr.contains("write:packages"),
        "{}",
        applied.stderr
    );
    assert!(applied.stderr.contains("403"), "{}", applied.stderr);
    let doc = applied.json();
    assert_eq!(doc["untags"][0]["status"], "failed", "{doc:#}");
    assert_eq!(doc["untags"][0]["code"], "forbidden");
    assert_eq!(points_at(&backing, "acme/app", "pr-12").await, Some(root));
    assert_eq!(s.versions("acme", "app"), before);
    assert!(
        s.requests()
            .iter()
            .any(|r| r.method == "PUT" && r.status == Some(403)),
        "the push reached the registry and was refused"
    );
}
