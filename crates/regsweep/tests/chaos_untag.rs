//! Chaos for `action: untag` on GHCR: signed multi-arch images lose their `pr-*`
//! tags (keep beats untag for `v*`, cosign tags are never removed) and images left
//! untagged are deleted on a later run, under random 5xx, a 502 on the placeholder
//! push, "deleted then 502" on the placeholder's version delete, and two `kill -9`:
//! the first between a placeholder's push and its version's delete, the second at a
//! random untag. Then the run is repeated until it completes: every removed tag is
//! in the journal, no kept version lost a tag, no placeholder version is left in the
//! package (the next run finishes an interrupted untag by deleting the placeholder
//! it finds under the tag), and `restore` puts every tag back on its original digest
//! with `validate` passing.
//!
//! The seed comes from `REGSWEEP_CHAOS_SEED` (default 1), as for `chaos.rs`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::{acme, against, args, regsweep, sim, validate};
use regsweep_sim::{FailNext, FaultConfig, Sim, SimOptions};
use serde_json::Value;

const WRITER: &str =
    "  - {token: ghp_writer, kind: classic, user: octocat, scopes: [read:packages, write:packages, delete:packages]}\n";

const TOKEN: [&str; 4] = ["--account", "acme", "--token", "ghp_writer"];

/// Drops `pr-*` tags; `v*` tags are kept (the untag rule names them too: keep wins
/// tag by tag), cosign tags are named and never removed; untagged images go.
const POLICY: &str = r#"version: 1
rules:
  - {name: releases, action: keep, tags: ["v*"]}
  - {name: drop-pr-tags, action: untag, tags: ["pr-*", "v*", "sha256-*"]}
  - {name: untagged, action: delete, state: untagged}
"#;

/// `n` signed two-platform images tagged `v{i}` and `pr-{i}`, and `n / 2` tagged
/// `pr-only-{i}` alone (untagged once their tag is removed, deleted the run after).
fn scenario(n: usize) -> String {
    let mut s = String::from("      - name: app\n        visibility: private\n        images:\n");
    for i in 0..n {
        s.push_str(&format!(
            "          - {{handle: r{i}, tags: [v{i}, pr-{i}], age: {}d, platforms: [linux/amd64, linux/arm64], signature: true}}\n",
            10 + i
        ));
    }
    for i in 0..n / 2 {
        s.push_str(&format!(
            "          - {{handle: p{i}, tags: [pr-only-{i}], age: {}d, platforms: [linux/amd64, linux/arm64]}}\n",
            40 + i
        ));
    }
    acme(&s).replacen("accounts:", &format!("{WRITER}accounts:"), 1)
}

fn seed() -> u64 {
    std::env::var("REGSWEEP_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Random 5xx on the API, the first placeholder pushes answered 502 (nothing
/// pushed), deletes answered 502 before and after taking effect, and latency, so a
/// placeholder's version lives long enough to be killed under.
fn chaos(seed: u64) -> FaultConfig {
    FaultConfig {
        error_rate: 0.03,
        latency: Duration::from_millis(25),
        fail_next: Some(FailNext {
            count: 1,
            status: 502,
            method: Some("DELETE".into()),
            path_contains: None,
        }),
        fail_after_next: Some(FailNext {
            count: 2,
            status: 502,
            method: Some("DELETE".into()),
            path_contains: None,
        }),
        registry_fail_next: Some(FailNext {
            count: 2,
            status: 502,
            method: Some("PUT".into()),
            path_contains: Some("/manifests/".into()),
        }),
        seed,
        ..FaultConfig::default()
    }
}

/// Tag → digest of every active version of `acme/app`.
fn tags(s: &Sim) -> BTreeMap<String, String> {
    s.versions("acme", "app")
        .into_iter()
        .flat_map(|v| {
            let d = v.digest.to_string();
            v.tags.into_iter().map(move |t| (t, d.clone()))
        })
        .collect()
}

fn digests(s: &Sim) -> BTreeSet<String> {
    s.versions("acme", "app")
        .into_iter()
        .map(|v| v.digest.to_string())
        .collect()
}

/// The `(tag, digest)` of every `untag_intent` line of the journal.
fn untag_intents(p: &Path) -> BTreeSet<(String, String)> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["kind"] == "untag_intent")
        .map(|l| {
            (
                l["tag"].as_str().unwrap_or_default().to_string(),
                l["digest"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn owned(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(String::from).collect()
}

async fn until_ok(s: &Sim, what: &str, argv: &[String]) {
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    for attempt in 1..=8 {
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
    panic!("{what} did not complete in 8 runs");
}

/// Starts `argv` and kills it with SIGKILL once `now` says so; waits for the
/// requests it left in flight to end.
async fn kill_when(s: &Sim, argv: &[String], mut now: impl FnMut() -> bool) {
    let mut cmd = against(s, &argv.iter().map(String::as_str).collect::<Vec<_>>());
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("regsweep starts");
    while !now() {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_untag_kill_between_placeholder_push_and_delete_rerun_restore() {
    let seed = seed();
    let s = sim(&scenario(4), SimOptions::default()).await;
    let before = tags(&s);
    let before_digests = digests(&s);
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let journal = dir.path().join("journal.jsonl");
    let apply = owned(args(
        "apply",
        &[
            &TOKEN,
            &[
                "--policy",
                policy.to_str().unwrap(),
                "--journal",
                journal.to_str().unwrap(),
            ],
        ],
    ));
    s.set_faults(chaos(seed));

    // Killed while a placeholder (a digest the package did not hold) is a version:
    // after its push, before its version's delete.
    let placeholders = || digests(&s).difference(&before_digests).count();
    let nth = 1 + (seed as usize % 2);
    let mut seen = 0;
    let mut last = 0;
    kill_when(&s, &apply, || {
        let now = placeholders();
        if now > last {
            seen += 1;
        }
        last = now;
        seen >= nth && now > 0
    })
    .await;
    let left: Vec<String> = digests(&s).difference(&before_digests).cloned().collect();
    assert!(
        !left.is_empty(),
        "seed {seed}: the kill came after the placeholder's delete"
    );

    // Killed again at a random untag of the re-run.
    let intents = untag_intents(&journal).len();
    let more = 1 + (seed as usize % 4);
    kill_when(&s, &apply, || {
        untag_intents(&journal).len() >= intents + more
    })
    .await;

    // Re-run (still under faults) until the policy is carried out; twice, as the
    // images left untagged are deleted the run after.
    until_ok(&s, "apply", &apply).await;
    until_ok(&s, "apply", &apply).await;
    let after = tags(&s);

    // No placeholder version is left in the package.
    let new: Vec<String> = digests(&s).difference(&before_digests).cloned().collect();
    assert!(new.is_empty(), "seed {seed}: placeholders left: {new:?}");
    // Every pr tag is gone; every other tag still names its digest.
    for (tag, digest) in &before {
        if tag.starts_with("pr-") {
            assert!(!after.contains_key(tag), "seed {seed}: {tag} still there");
        } else {
            assert_eq!(after.get(tag), Some(digest), "seed {seed}: kept tag {tag}");
        }
    }
    assert!(
        !after.keys().any(|t| t.starts_with("pr-")),
        "seed {seed}: {after:?}"
    );
    // The placeholder left by the first kill was finished by an untag (its version
    // deleted, the tag recorded as taken from the image), not deleted as an
    // untagged version after another placeholder took its tag.
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    let deleted: BTreeSet<String> = s
        .deleted("acme", "app")
        .into_iter()
        .map(|v| v.digest.to_string())
        .collect();
    for p in &left {
        let finished = journal_text.contains(&format!(r#""placeholder":"{p}","from""#));
        let deleted_as_version = journal_text
            .lines()
            .any(|l| l.contains(r#""kind":"intent""#) && l.contains(p.as_str()));
        assert!(
            deleted.contains(p) && (finished || !deleted_as_version),
            "seed {seed}: placeholder {p} not finished:\n{journal_text}"
        );
    }
    // Every removed tag is in the journal with the digest it was removed from.
    let named = untag_intents(&journal);
    for (tag, digest) in before.iter().filter(|(t, _)| !after.contains_key(*t)) {
        assert!(
            named.contains(&(tag.clone(), digest.clone())),
            "seed {seed}: {tag} ({digest}) removed but not journaled: {named:?}"
        );
    }
    // The faults were real.
    let stats = s.stats();
    let fives: u64 = [502u16, 503]
        .iter()
        .filter_map(|c| stats.by_status.get(c))
        .sum();
    assert!(fives > 4, "seed {seed}: {stats:?}");
    let v = validate(&s, "app").await;
    assert_eq!(
        v.code, 0,
        "seed {seed}: kept image broken: {}{}",
        v.stdout, v.stderr
    );

    // Restore (still under faults, idempotent): versions and tags come back.
    let restore = owned(args(
        "restore",
        &[&TOKEN, &["--journal", journal.to_str().unwrap()]],
    ));
    until_ok(&s, "restore", &restore).await;
    s.set_faults(FaultConfig::default());
    assert_eq!(
        tags(&s),
        before,
        "seed {seed}: every tag is back on its digest"
    );
    assert_eq!(
        digests(&s),
        before_digests,
        "seed {seed}: no placeholder left"
    );
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "seed {seed}: {}{}", v.stdout, v.stderr);
    s.shutdown().await;
}
