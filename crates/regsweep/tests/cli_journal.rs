//! The write-ahead journal (`apply --journal FILE`, `restore --journal FILE`): every
//! version the emulator deleted is named in the journal, whatever happened to the
//! answer or the process; torn lines and bad paths are handled; restore is
//! idempotent and brings children back before their index.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{
    acme, against, app_deleted, app_digests, args, fail_next, generated, journal_intents, regsweep,
    sim, slow, validate, ACME_ADMIN, TAGGED_OLD,
};
use regsweep_sim::{FailNext, FaultConfig, Sim, SimOptions};
use serde_json::Value;

/// Old signed multi-arch images (deleted by `--cut-off 30d`) and a recent one (kept).
fn images(old: usize) -> String {
    let mut s = String::from("      - name: app\n        visibility: private\n        images:\n");
    for i in 0..old {
        s.push_str(&format!(
            "          - {{handle: old{i}, tags: [old{i}], age: 60d, platforms: [linux/amd64, linux/arm64], signature: true}}\n"
        ));
    }
    s.push_str(
        "          - {handle: new, tags: [new], age: 2d, platforms: [linux/amd64, linux/arm64]}\n",
    );
    s
}

const DELETE_OLD: [&str; 6] = [
    "--image-names",
    "app",
    "--tag-selection",
    "tagged",
    "--cut-off",
    "30d",
];

/// The journal's lines parsed (the torn ones left out).
fn lines(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

async fn apply(s: &Sim, journal: &Path, extra: &[&str]) -> common::Run {
    regsweep(
        s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &DELETE_OLD,
                &["--journal", journal.to_str().unwrap()],
                extra,
            ],
        ),
        &[],
    )
    .await
}

async fn restore(s: &Sim, journal: &Path) -> common::Run {
    regsweep(
        s,
        &args(
            "restore",
            &[&ACME_ADMIN, &["--journal", journal.to_str().unwrap()]],
        ),
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_then_502_is_journaled() {
    let s = sim(&acme(&generated("app", 40, 7)), SimOptions::default()).await;
    // Every DELETE takes effect, and the first three lose their answer to a 502.
    s.set_faults(FaultConfig {
        fail_after_next: Some(FailNext {
            count: 3,
            status: 502,
            method: Some("DELETE".into()),
            path_contains: None,
        }),
        ..FaultConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let run = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &TAGGED_OLD,
                &["--journal", journal.to_str().unwrap()],
            ],
        ),
        &[],
    )
    .await;
    assert_ne!(run.code, 2, "{}", run.stderr);
    let gone = app_deleted(&s);
    assert!(gone.len() > 3, "the policy deletes old tagged versions");
    assert_eq!(
        journal_intents(&journal),
        gone,
        "every deleted version is journaled"
    );
    // Each of them has an outcome that restore treats as deleted.
    let restorable: BTreeSet<u64> = lines(&journal)
        .iter()
        .filter(|l| l["kind"] == "outcome")
        .filter(|l| l["outcome"] == "deleted" || l["outcome"] == "already_gone")
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    assert_eq!(restorable, gone);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_journal_names_every_deleted_version() {
    let s = sim(&acme(&images(6)), slow(150)).await;
    let before = app_digests(&s);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let mut cmd = against(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &DELETE_OLD,
                &["--journal", journal.to_str().unwrap(), "--concurrency", "3"],
            ],
        ),
    );
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("regsweep starts");
    // Wait for some deletions, then kill -9 with requests in flight.
    while app_deleted(&s).len() < 4 {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("regsweep ended ({status}) before it could be killed mid-run");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(status.code().is_none(), "killed by a signal");
    // Let the emulator finish the requests that were in flight when it died.
    while s.in_flight() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let gone = app_deleted(&s);
    let named = journal_intents(&journal);
    assert!(
        gone.is_subset(&named),
        "deleted but not journaled: {:?}",
        gone.difference(&named).collect::<Vec<_>>()
    );
    s.set_faults(FaultConfig::default());
    let restored = restore(&s, &journal).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(app_digests(&s), before, "everything is back");
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_last_line_is_skipped_by_restore() {
    let s = sim(&acme(&images(1)), SimOptions::default()).await;
    let before = app_digests(&s);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let applied = apply(&s, &journal, &[]).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    // A run killed mid-write leaves half a line and no newline.
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str(r#"{"kind":"intent","v":2,"run":"x","package":"ap"#);
    std::fs::write(&journal, text).unwrap();
    let restored = restore(&s, &journal).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert!(restored.stderr.contains("torn"), "{}", restored.stderr);
    assert_eq!(app_digests(&s), before);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_run_never_glues_onto_torn_line() {
    let s = sim(&acme(&images(1)), SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let torn = r#"{"kind":"intent","v":2,"run":"x","package":"ap"#;
    std::fs::write(&journal, torn).unwrap();
    let applied = apply(&s, &journal, &[]).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let text = std::fs::read_to_string(&journal).unwrap();
    let all: Vec<&str> = text.lines().collect();
    assert_eq!(all[0], torn, "the torn line is left alone, on its own line");
    for l in &all[1..] {
        serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    }
    assert_eq!(journal_intents(&journal), app_deleted(&s));
    let restored = restore(&s, &journal).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert!(restored.stderr.contains("torn"), "{}", restored.stderr);
    assert!(app_deleted(&s).is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_write_error_stops_deleting() {
    let s = sim(&acme(&images(2)), SimOptions::default()).await;
    let run = apply(&s, Path::new("/dev/full"), &["--output", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        app_deleted(&s).is_empty(),
        "nothing deleted without its journal line"
    );
    assert!(!s.requests().iter().any(|r| r.method == "DELETE"));
    assert!(run.stderr.contains("/dev/full"), "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["totals"]["deleted"], 0, "{doc}");
    assert!(doc["totals"]["left"].as_u64().unwrap() > 0, "{doc}");
    for (_, d) in common::decisions(&doc) {
        if d["action"] == "delete" {
            assert_eq!(d["outcome"]["status"], "left", "{d}");
            assert_eq!(d["outcome"]["code"], "journal_write_failed", "{d}");
        }
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_in_missing_directory_exits_2_before_listing() {
    let s = sim(&acme(&images(1)), SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("no-such-dir").join("j.jsonl");
    let run = apply(&s, &journal, &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no-such-dir"), "{}", run.stderr);
    assert!(run.stderr.contains("help:"), "{}", run.stderr);
    assert!(s.requests().is_empty(), "{:?}", s.requests());
    assert!(app_deleted(&s).is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_dev_zero_is_refused() {
    let s = sim(&acme(&images(1)), SimOptions::default()).await;
    let run = restore(&s, Path::new("/dev/zero")).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert!(s.requests().is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_twice_is_idempotent() {
    let s = sim(&acme(&images(2)), SimOptions::default()).await;
    let before = app_digests(&s);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let applied = apply(&s, &journal, &[]).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let n = app_deleted(&s).len();
    assert!(n > 0);
    let first = restore(&s, &journal).await;
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(
        first
            .stdout
            .contains(&format!("restored {n}, already restored 0, failed 0")),
        "{}",
        first.stdout
    );
    let posts = |s: &Sim| {
        s.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/restore"))
            .count()
    };
    let after_first = posts(&s);
    let second = restore(&s, &journal).await;
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert!(
        second
            .stdout
            .contains(&format!("restored 0, already restored {n}, failed 0")),
        "{}",
        second.stdout
    );
    assert_eq!(posts(&s), after_first, "nothing restored twice");
    assert_eq!(app_digests(&s), before);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_puts_children_before_index() {
    // Three images deleted concurrently: their journal lines interleave.
    let s = sim(&acme(&images(3)), SimOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let applied = apply(&s, &journal, &["--concurrency", "3"]).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let restored = restore(&s, &journal).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    let order: Vec<String> = s
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/restore"))
        .map(|r| r.path)
        .collect();
    let position = |id: regsweep_core::VersionId| {
        order
            .iter()
            .position(|p| p.contains(&format!("/versions/{id}/restore")))
            .unwrap_or_else(|| panic!("{id} restored: {order:?}"))
    };
    for i in 0..3 {
        let image = s.image("acme", "app", &format!("old{i}")).unwrap();
        let index = position(image.root.0);
        for m in image
            .manifests
            .iter()
            .filter(|m| m.role.starts_with("platform"))
        {
            assert!(
                position(m.id) < index,
                "{} of old{i} after its index",
                m.role
            );
        }
    }
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delete_is_retried_by_restore_as_possibly_deleted() {
    let s = sim(&acme(&images(1)), SimOptions::default()).await;
    let before = app_digests(&s);
    s.set_faults(fail_next(50, 502, Some("DELETE")));
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let applied = apply(&s, &journal, &[]).await;
    assert_eq!(applied.code, 1, "{}", applied.stderr);
    assert!(app_deleted(&s).is_empty());
    s.set_faults(FaultConfig::default());
    let restored = restore(&s, &journal).await;
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert!(
        restored.stdout.contains("already restored 1"),
        "{}",
        restored.stdout
    );
    assert_eq!(app_digests(&s), before);
    s.shutdown().await;
}
