//! Chaos for whole-package deletion (`action: delete_package`): CI packages deleted
//! under random 5xx, a 503 before and "deleted then 502" after the package DELETE,
//! and a `kill -9` mid-run. Right after the kill, every package the emulator holds
//! as deleted has a `package_intent` in the journal (the intent is fsynced before
//! the DELETE); the run is repeated until it completes (the packages already gone
//! are not listed, so nothing is asked twice), the kept package is intact, and
//! `restore`, within GitHub's 30-day window, brings every package back with all its
//! versions, `validate` passing.
//!
//! The seed comes from `REGSWEEP_CHAOS_SEED` (default 1), as for `chaos.rs`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{acme, against, args, regsweep, sim, validate, ACME_ADMIN};
use regsweep_sim::{FailNext, FaultConfig, Sim, SimOptions};
use serde_json::Value;

const PACKAGES: usize = 6;

/// Old CI test packages go as a whole once all of their versions would.
const POLICY: &str = r#"version: 1
rules:
  - {name: old-test-builds, action: delete, packages: ["test-*"], older_than: 30d}
  - {name: emptied-test-packages, action: delete_package, packages: ["test-*"], every_version_deleted: true}
"#;

/// `test-0` … `test-5` (a two-platform image each, 40 days old) and `app` (kept).
fn scenario() -> String {
    let mut s = String::new();
    for i in 0..PACKAGES {
        s.push_str(&format!(
            "      - name: test-{i}\n        visibility: private\n        images:\n          - {{handle: t, tags: [do_not_use], age: {}d, platforms: [linux/amd64, linux/arm64]}}\n",
            40 + i
        ));
    }
    s.push_str("      - name: app\n        visibility: private\n        images:\n          - {handle: v1, tags: [v1], age: 40d, platforms: [linux/amd64, linux/arm64]}\n");
    acme(&s)
}

fn seed() -> u64 {
    std::env::var("REGSWEEP_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn chaos(seed: u64) -> FaultConfig {
    FaultConfig {
        error_rate: 0.05,
        latency: Duration::from_millis(25),
        fail_next: Some(FailNext {
            count: 1,
            status: 503,
            method: Some("DELETE".into()),
            path_contains: None,
        }),
        fail_after_next: Some(FailNext {
            count: 2,
            status: 502,
            method: Some("DELETE".into()),
            path_contains: None,
        }),
        seed,
        ..FaultConfig::default()
    }
}

/// The test packages the emulator holds as deleted (every version gone with it).
fn deleted(s: &Sim) -> BTreeSet<String> {
    (0..PACKAGES)
        .map(|i| format!("test-{i}"))
        .filter(|p| s.versions("acme", p).is_empty() && !s.deleted("acme", p).is_empty())
        .collect()
}

/// The packages with a `package_intent` line in the journal.
fn package_intents(p: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["kind"] == "package_intent")
        .filter_map(|l| l["package"].as_str().map(String::from))
        .collect()
}

/// Version ids (active) of every package, sorted.
fn everything(s: &Sim) -> Vec<(String, u64, String)> {
    let mut all: Vec<(String, u64, String)> = (0..PACKAGES)
        .map(|i| format!("test-{i}"))
        .chain(["app".to_string()])
        .flat_map(|p| {
            s.versions("acme", &p)
                .into_iter()
                .map(move |v| (p.clone(), v.id.0, v.digest.to_string()))
        })
        .collect();
    all.sort();
    all
}

async fn until_ok(s: &Sim, what: &str, argv: &[String]) {
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    for attempt in 1..=6 {
        let run = regsweep(s, &argv, &[]).await;
        assert_ne!(run.code, 2, "{what}: {}", run.stderr);
        assert_ne!(run.code, 3, "{what}: {}", run.stderr);
        if run.code == 0 {
            return;
        }
        eprintln!(
            "{what}: attempt {attempt} exited {}, again:\n{}",
            run.code, run.stderr
        );
    }
    panic!("{what} did not complete in 6 runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_delete_package_kill_rerun_journal_restore_validate() {
    let seed = seed();
    let s = sim(&scenario(), SimOptions::default()).await;
    let before = everything(&s);
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let journal = dir.path().join("journal.jsonl");
    let argv: Vec<String> = args(
        "apply",
        &[
            &ACME_ADMIN,
            &[
                "--policy",
                policy.to_str().unwrap(),
                "--journal",
                journal.to_str().unwrap(),
            ],
        ],
    )
    .into_iter()
    .map(String::from)
    .collect();
    s.set_faults(chaos(seed));

    // Killed with SIGKILL once a few packages are gone.
    let kill_after = 1 + (seed as usize % 3);
    let mut cmd = against(&s, &argv.iter().map(String::as_str).collect::<Vec<_>>());
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("regsweep starts");
    while deleted(&s).len() < kill_after {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("regsweep ended ({status}) before it could be killed mid-run");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().expect("SIGKILL");
    assert!(child.wait().expect("reaped").code().is_none());
    while s.in_flight() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let gone = deleted(&s);
    let named = package_intents(&journal);
    assert!(
        gone.is_subset(&named),
        "seed {seed}: deleted but not journaled after kill -9: {:?}",
        gone.difference(&named).collect::<Vec<_>>()
    );

    // Re-run (still under faults) until every test package is gone.
    until_ok(&s, "apply", &argv).await;
    let gone = deleted(&s);
    assert_eq!(gone.len(), PACKAGES, "seed {seed}: {gone:?}");
    let named = package_intents(&journal);
    assert!(gone.is_subset(&named), "seed {seed}: {named:?}");
    // Packages go whole: no version of them was deleted one by one.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !text.lines().any(|l| l.contains(r#""kind":"intent""#)),
        "seed {seed}: versions deleted alone:\n{text}"
    );
    // The kept package is intact, and the faults were real.
    assert_eq!(
        everything(&s),
        before
            .iter()
            .filter(|(p, ..)| p == "app")
            .cloned()
            .collect::<Vec<_>>()
    );
    let stats = s.stats();
    for status in [502u16, 503] {
        assert!(
            stats.by_status.get(&status).is_some_and(|&n| n > 0),
            "seed {seed}: no {status}: {stats:?}"
        );
    }
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "seed {seed}: {}{}", v.stdout, v.stderr);

    // Restore within the window (still under faults; idempotent).
    let restore: Vec<String> = args(
        "restore",
        &[&ACME_ADMIN, &["--journal", journal.to_str().unwrap()]],
    )
    .into_iter()
    .map(String::from)
    .collect();
    until_ok(&s, "restore", &restore).await;
    s.set_faults(FaultConfig::default());
    assert_eq!(everything(&s), before, "seed {seed}: every package is back");
    let names: Vec<String> = (0..PACKAGES).map(|i| format!("test-{i}")).collect();
    let v = validate(&s, &names.join(",")).await;
    assert_eq!(v.code, 0, "seed {seed}: {}{}", v.stdout, v.stderr);
    s.shutdown().await;
}
