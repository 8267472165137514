//! Whole packages (`action: delete_package`, issue 11 item 6) through the binary,
//! against the emulator fronting the real registry: deleted when every version would
//! be, not when one is kept, the Actions GITHUB_TOKEN and a PAT without
//! delete:packages refused before anything is deleted, restore, dry run, errors.

mod common;

use common::*;
use serde_json::Value;

/// The CI test package `test` (`test:do_not_use`, a two-platform image 40 days old)
/// and a release `app:v1`; an Actions token with the Admin role on `acme/test` and a
/// PAT without delete:packages.
fn world() -> String {
    scenario(
        "  - {token: ghs_actions, kind: actions, grants: [acme/test]}
  - {token: ghp_readonly, kind: classic, user: octocat, scopes: [read:packages]}
accounts:
  - name: acme
    kind: org
    packages:
      - name: test
        visibility: private
        images:
          - {handle: t, tags: [do_not_use], age: 40d, platforms: [linux/amd64, linux/arm64]}
      - name: app
        visibility: private
        images:
          - {handle: v1, tags: [v1], age: 40d}
",
    )
}

/// Old versions of `test` go; a package rule deletes `test` once all of it goes.
const EMPTIED: &str = "rules:
  - name: old-test-builds
    action: delete
    packages: [test]
    older_than: 30d
  - name: ci-test-packages
    action: delete_package
    packages: [test]
    every_version_deleted: true
";

fn policy_file(dir: &tempfile::TempDir, text: &str) -> String {
    let p = dir.path().join("policy.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The JSON package entry named `name`.
fn package<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in {doc}"))
}

async fn apply(sim: &regsweep_sim::Sim, token: &str, policy: &str, extra: &[&str]) -> Run {
    let mut a = vec![
        "apply",
        "--account",
        "acme",
        "--token",
        token,
        "--policy",
        policy,
        "--output",
        "json",
    ];
    a.extend_from_slice(extra);
    regsweep(sim, &a, &[]).await
}

#[tokio::test]
async fn package_deleted_when_every_version_would_be() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, EMPTIED);
    let journal = dir.path().join("j.jsonl");
    let out = Dir::new(&dir);
    let run = regsweep(
        &s,
        &[
            "apply",
            "--account",
            "acme",
            "--token",
            "ghp_admin",
            "--policy",
            &policy,
            "--output",
            "json",
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[
            ("GITHUB_OUTPUT", out.outputs.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", out.summary.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let test = package(&doc, "test");
    let d = &test["package_decision"];
    assert_eq!(d["action"], "delete", "{d}");
    assert_eq!(d["outcome"]["status"], "deleted", "{d}");
    assert_eq!(d["versions"], 3);
    assert_eq!(d["reasons"][0]["kind"], "every_version_deleted");
    assert_eq!(
        d["reason"],
        "rule `ci-test-packages`: the version rules delete all 3 of its versions"
    );
    for v in test["decisions"].as_array().unwrap() {
        assert_eq!(v["action"], "delete");
        assert_eq!(v["reasons"][0]["kind"], "deleted_with_package");
        assert_eq!(v["outcome"]["status"], "deleted");
    }
    // One request deleted the package: no version of it in the delete order, and
    // nothing left behind (the last tagged version GitHub refuses alone is gone too).
    assert!(doc["delete_order"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["package"] != "test"));
    assert!(s.versions("acme", "test").is_empty());
    assert_eq!(s.deleted("acme", "test").len(), 3);
    assert_eq!(s.versions("acme", "app").len(), 1, "app is not named");
    assert_eq!(doc["totals"]["deleted"], 3);
    // The journal holds the package's intent (with its versions) and outcome.
    let lines: Vec<Value> = read(&journal)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["run", "package_intent", "package_outcome"],
        "{lines:?}"
    );
    assert_eq!(lines[1]["package"], "test");
    assert_eq!(lines[1]["versions"].as_array().unwrap().len(), 3);
    assert_eq!(lines[2]["outcome"], "deleted");
    let outputs = github_outputs(&out.outputs);
    assert_eq!(outputs["deleted-packages"], "test");
    assert_eq!(outputs["deleted-count"], "3");
    let summary = read(&out.summary);
    assert!(
        summary.contains("**whole package deleted (3 versions with it): rule `ci-test-packages`: the version rules delete all 3 of its versions [deleted]**"),
        "{summary}"
    );

    // restore brings the package back, with every version.
    let restored = regsweep(
        &s,
        &[
            "restore",
            "--account",
            "acme",
            "--token",
            "ghp_admin",
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(restored.code, 0, "{}\n{}", restored.stdout, restored.stderr);
    assert!(
        restored
            .stdout
            .contains("restored package test (3 versions)"),
        "{}",
        restored.stdout
    );
    assert_eq!(s.versions("acme", "test").len(), 3);
    // Twice is harmless.
    let again = regsweep(
        &s,
        &[
            "restore",
            "--account",
            "acme",
            "--token",
            "ghp_admin",
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already restored package test"),
        "{}",
        again.stdout
    );
    s.shutdown().await;
}

/// Where the Actions outputs go.
struct Dir {
    outputs: std::path::PathBuf,
    summary: std::path::PathBuf,
}

impl Dir {
    fn new(dir: &tempfile::TempDir) -> Dir {
        Dir {
            outputs: dir.path().join("github_output"),
            summary: dir.path().join("step_summary"),
        }
    }
}

#[tokio::test]
async fn package_not_deleted_when_one_version_is_kept() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{EMPTIED}  - name: keep-do-not-use\n    action: keep\n    packages: [test]\n    tags: [do_not_use]\n"
    );
    let policy = policy_file(&dir, &text);
    let run = apply(&s, "ghp_admin", &policy, &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let d = &package(&doc, "test")["package_decision"];
    assert_eq!(d["action"], "keep", "{d}");
    assert_eq!(d["reasons"][0]["kind"], "versions_stay");
    assert!(d.get("outcome").is_none(), "{d}");
    assert_eq!(s.versions("acme", "test").len(), 3, "nothing deleted");
    s.shutdown().await;
}

#[tokio::test]
async fn package_idle_rule_kept_for_safety_names_the_keep_rule() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(
        &dir,
        "rules:
  - name: keep-do-not-use
    action: keep
    packages: [test]
    tags: [do_not_use]
  - name: idle-test-packages
    action: delete_package
    packages: [test]
    older_than: 30d
",
    );
    let run = apply(&s, "ghp_admin", &policy, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let d = &package(&doc, "test")["package_decision"];
    assert_eq!(d["action"], "keep");
    assert_eq!(
        d["reason"],
        "kept for safety: rule `keep-do-not-use` keeps test:do_not_use, and deleting the package would delete it"
    );
    assert_eq!(s.versions("acme", "test").len(), 3);
    s.shutdown().await;
}

/// The seed case: the CI test package the Actions GITHUB_TOKEN cannot delete (it has
/// the Admin role on the package, which lets it delete versions, not the package).
#[tokio::test]
async fn github_token_cannot_delete_the_ci_test_package() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, EMPTIED);
    let run = apply(&s, "ghs_actions", &policy, &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        "error: the token cannot delete whole packages, and the plan deletes 1 package (`test`, rule `ci-test-packages`)
  GET /user answered without a user and GitHub sent no X-OAuth-Scopes: this is an integration token (the Actions GITHUB_TOKEN or a GitHub App), and GitHub lets only an admin of a package delete it
  nothing was deleted
  help: deleting or restoring a whole package needs admin on the package: use a classic PAT with read:packages and delete:packages of an account that is admin of the package (an organisation owner, or the package's admin); the Actions GITHUB_TOKEN cannot delete packages; pass such a token from a secret, or remove the package rule to delete versions only"
    );
    assert_eq!(s.versions("acme", "test").len(), 3, "nothing deleted");
    assert!(
        s.requests().iter().all(|r| r.method != "DELETE"),
        "no DELETE was sent"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn pat_without_delete_scope_is_told_which_token_can() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, EMPTIED);
    let run = apply(&s, "ghp_readonly", &policy, &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("GitHub reports its scopes as `read:packages`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("rule `ci-test-packages` deletes whole packages, which also needs admin on the package: an admin's classic PAT with delete:packages"),
        "{}",
        run.stderr
    );
    assert_eq!(s.versions("acme", "test").len(), 3);
    s.shutdown().await;
}

#[tokio::test]
async fn dry_run_shows_the_package_deletion() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, EMPTIED);
    let run = regsweep(
        &s,
        &[
            "plan",
            "--account",
            "acme",
            "--token",
            "ghp_admin",
            "--policy",
            &policy,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "  whole package deleted (3 versions with it): rule `ci-test-packages`: the version rules delete all 3 of its versions"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "deleted with its package: rule `ci-test-packages` deletes the whole package"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("`ci-test-packages`: delete whole packages `test` every version of which the other rules delete"),
        "{}",
        run.stdout
    );
    assert_eq!(
        s.versions("acme", "test").len(),
        3,
        "a dry run deletes nothing"
    );
    // The Actions token may plan it (the check is for apply only).
    let planned = regsweep(
        &s,
        &[
            "plan",
            "--account",
            "acme",
            "--token",
            "ghs_actions",
            "--policy",
            &policy,
        ],
        &[],
    )
    .await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    s.shutdown().await;
}

#[tokio::test]
async fn restore_of_a_package_deleted_more_than_30_days_ago_says_so() {
    let s = sim(&world(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("old.jsonl");
    std::fs::write(
        &journal,
        r#"{"kind":"run","v":2,"run":"r","started_at":"2026-09-01T00:00:00Z"}
{"kind":"package_intent","v":2,"run":"r","package":"gone","versions":[1,2],"at":"2026-09-01T00:00:00Z"}
{"kind":"package_outcome","v":2,"run":"r","package":"gone","outcome":"deleted","at":"2026-09-01T00:00:01Z"}
"#,
    )
    .unwrap();
    let run = regsweep(
        &s,
        &[
            "restore",
            "--account",
            "acme",
            "--token",
            "ghp_admin",
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("error: cannot restore package gone: it was deleted at 2026-09-01T00:00:00Z, more than 30 days ago\n  GitHub keeps a deleted package restorable for 30 days only"),
        "{}",
        run.stderr
    );
    s.shutdown().await;
}

#[test]
fn package_rule_parse_errors_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_file(
        &dir,
        "rules:\n  - name: ci\n    action: delete_package\n    packages: [test]\n    tags: [do_not_use]\n",
    );
    let run = regsweep_offline(&["policy", "check", &p]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "policy.yaml:2:5: rule 1: `tags` selects versions, but `action: delete_package` deletes whole packages"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("help: a package rule takes `packages`"),
        "{}",
        run.stderr
    );
    let none = policy_file(
        &dir,
        "rules:\n  - name: ci\n    action: delete_package\n    packages: [test]\n",
    );
    let run = regsweep_offline(&["policy", "check", &none]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no condition"), "{}", run.stderr);
}

#[test]
fn package_rule_refused_on_the_oci_backend() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_file(&dir, EMPTIED);
    let run = regsweep_offline(&[
        "plan",
        "--backend",
        "oci",
        "--registry-url",
        "http://127.0.0.1:9",
        "--policy",
        &p,
    ]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "error: rule `ci-test-packages` deletes whole packages, which --backend oci cannot do"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn print_policy_renders_the_package_rule() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy_file(&dir, EMPTIED);
    let run = regsweep_offline(&["plan", "--print-policy", "--policy", &p]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "- name: ci-test-packages\n  action: delete_package\n  packages:\n  - test\n  every_version_deleted: true"
        ),
        "{}",
        run.stdout
    );
}

/// A PAT with delete:packages whose account is not admin of the package: GitHub's
/// 403 fails that package (exit 1), with what can delete it.
#[tokio::test]
async fn pat_of_an_account_not_admin_of_the_package_fails_it_with_help() {
    let s = sim(
        &scenario(
            "  - {token: ghp_member, kind: classic, user: octocat, scopes: [read:packages, delete:packages], not_admin_of: [acme/test]}
accounts:
  - name: acme
    kind: org
    packages:
      - name: test
        visibility: private
        images:
          - {handle: t, tags: [do_not_use], age: 40d}
",
        ),
        Default::default(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, EMPTIED);
    let run = regsweep(
        &s,
        &[
            "apply",
            "--account",
            "acme",
            "--token",
            "ghp_member",
            "--policy",
            &policy,
            "--output",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let d = &package(&doc, "test")["package_decision"];
    assert_eq!(d["action"], "delete");
    assert_eq!(d["outcome"]["status"], "failed", "{d}");
    assert_eq!(d["outcome"]["code"], "forbidden", "{d}");
    let reason = d["outcome"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("answered 403 \"You must have admin permissions on this package to delete or restore it.\": the token's account is not admin of the package"),
        "{reason}"
    );
    assert!(
        reason.contains("help: deleting or restoring a whole package needs admin"),
        "{reason}"
    );
    assert_eq!(doc["totals"]["failed"], 1);
    assert_eq!(s.versions("acme", "test").len(), 1, "nothing deleted");
    s.shutdown().await;
}
