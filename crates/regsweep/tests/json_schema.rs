//! The `--output json` document against its published schema
//! (`docs/json-output.schema.json`), end to end: the real binary, the emulator and
//! real pushed images, on scenarios that produce every reason, miss, relation,
//! finding and outcome kind the schema lists; each `plan` and `apply` document must
//! validate, and every kind in the schema's `oneOf`s must have been seen (except the
//! few documented as unreachable from the binary today).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::{
    acme, args, decisions, generated_default, regsweep, sim, Run, ACME_ADMIN, TAGGED_OLD,
};
use regsweep_core::{Secret, VersionId};
use regsweep_github::{ClientConfig, GithubClient, Owner};
use regsweep_sim::{FailNext, FaultConfig, Sim, SimOptions};
use serde_json::Value;

/// Kinds the schema lists that the binary cannot produce today, per `$defs` entry:
/// GitHub's version listing carries no download counts, so a refusal for too many
/// downloads is only met at delete time (outcome `skipped`), never predicted; and a
/// rule's "newest N" always keeps, so `deleted_by_rule` is always `matched`.
const UNREACHABLE: &[(&str, &str)] = &[("refusal", "too_many_downloads")];

/// Outcome codes (`status/code`) this test does not produce: they need a signal
/// (`interrupted`), a long rate-limit wait, a token refused at delete time, a network
/// failure after listing, an answer no branch expects, or a last tagged version that
/// only became last after planning. Every other code must be seen.
const CODES_NOT_PRODUCED_HERE: &[&str] = &[
    "left/interrupted",
    "left/rate_limit_wait",
    "left/token_forbidden",
    "failed/forbidden",
    "failed/network",
    "failed/other",
    "skipped/last_tagged_version",
];

/// Every `status/code` the schema lists for outcomes.
fn schema_outcome_codes(schema: &Value) -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    for b in schema["$defs"]["outcome"]["oneOf"]
        .as_array()
        .expect("outcome oneOf")
    {
        let status = b["properties"]["status"]["const"].as_str().unwrap();
        for c in b["properties"]["code"]["enum"]
            .as_array()
            .into_iter()
            .flatten()
        {
            codes.insert(format!("{status}/{}", c.as_str().unwrap()));
        }
    }
    codes
}

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The published schema.
fn schema() -> Value {
    let p = root().join("docs/json-output.schema.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Validates `doc` against the schema; panics with every error, located.
fn assert_valid(what: &str, doc: &Value) {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the document does not match docs/json-output.schema.json:\n{}",
        errors.join("\n")
    );
}

/// The `kind` (or `status`) constants of the `oneOf` of `$defs/<def>`.
fn schema_kinds(schema: &Value, def: &str, field: &str) -> BTreeSet<String> {
    schema["$defs"][def]["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("$defs/{def} has no oneOf"))
        .iter()
        .map(|s| {
            s["properties"][field]["const"]
                .as_str()
                .unwrap_or_else(|| panic!("$defs/{def}: a branch without a {field} const: {s}"))
                .to_string()
        })
        .collect()
}

/// Kinds seen in documents, per `$defs` entry name.
#[derive(Default)]
struct Seen(BTreeMap<&'static str, BTreeSet<String>>);

impl Seen {
    fn add(&mut self, def: &'static str, kind: &Value) {
        if let Some(k) = kind.as_str() {
            self.0.entry(def).or_default().insert(k.to_string());
        }
    }

    /// Records every kind in a document.
    fn collect(&mut self, doc: &Value) {
        for p in doc["packages"].as_array().into_iter().flatten() {
            for d in p["decisions"].as_array().into_iter().flatten() {
                self.add("action", &d["action"]);
                for r in d["reasons"].as_array().into_iter().flatten() {
                    self.add("reason", &r["kind"]);
                    self.add("selected", &r["how"]["kind"]);
                    self.add("relation", &r["relation"]["kind"]);
                    self.add("refusal", &r["refusal"]["kind"]);
                    for m in r["misses"].as_array().into_iter().flatten() {
                        self.add("miss", &m["kind"]);
                    }
                }
                self.add("outcome", &d["outcome"]["status"]);
                if let (Some(st), Some(code)) = (
                    d["outcome"]["status"].as_str(),
                    d["outcome"]["code"].as_str(),
                ) {
                    self.add("outcome_code", &Value::from(format!("{st}/{code}")));
                }
            }
            for f in p["findings"].as_array().into_iter().flatten() {
                self.add("finding_detail", &f["detail"]["kind"]);
            }
        }
    }
}

/// Every kind the schema lists was seen, except the documented unreachable ones.
fn assert_all_seen(seen: &Seen) {
    let schema = schema();
    let mut unseen = Vec::new();
    for (def, field) in KINDED {
        let got = seen.0.get(def).cloned().unwrap_or_default();
        for k in schema_kinds(&schema, def, field) {
            let unreachable = UNREACHABLE.contains(&(def, k.as_str()));
            if !got.contains(&k) && !unreachable {
                unseen.push(format!("{def}/{k}"));
            }
            assert!(
                !(unreachable && got.contains(&k)),
                "{def}/{k} is listed as unreachable but was produced: update UNREACHABLE and docs/json-output.md"
            );
        }
        for k in &got {
            assert!(
                schema_kinds(&schema, def, field).contains(k),
                "{def}/{k} produced but not in the schema"
            );
        }
    }
    let got = seen.0.get("outcome_code").cloned().unwrap_or_default();
    let listed = schema_outcome_codes(&schema);
    for c in &listed {
        let excused = CODES_NOT_PRODUCED_HERE.contains(&c.as_str());
        if !got.contains(c) && !excused {
            unseen.push(format!("outcome code {c}"));
        }
        assert!(
            !(excused && got.contains(c)),
            "outcome code {c} is listed as not produced but was: update CODES_NOT_PRODUCED_HERE"
        );
    }
    for c in &got {
        assert!(
            listed.contains(c),
            "outcome code {c} produced but not in the schema"
        );
    }
    assert!(
        unseen.is_empty(),
        "kinds in the schema no test run produced: {unseen:?}"
    );
}

fn dump(what: &str, r: &Run) {
    if std::env::var_os("JSON_SCHEMA_DUMP").is_some() {
        eprintln!("===== {what} (exit {})\n{}\n{}", r.code, r.stdout, r.stderr);
    }
}

/// The packages of `acme` and the pull requests of `acme/app`.
const WORLD: &str = r#"      - name: app
        visibility: private
        images:
          - {handle: v09, tags: [v0.9.0], age: 90d, platforms: [linux/amd64, linux/arm64], signature: true, referrer: true}
          - {handle: v08, tags: [v0.8.0], age: 40d}
          - {handle: v10, tags: [v1.0.0], age: 60d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, signature: true}
          - {handle: v11, tags: [v1.1.0, latest], age: 10d, platforms: [linux/amd64, linux/arm64], nested: true}
          - {handle: build-1-a, tags: [build-1-a], age: 30d}
          - {handle: build-1-b, tags: [build-1-b], age: 20d}
          - {handle: build-keep, tags: [build-keep], age: 25d}
          - {handle: build-2-nightly, tags: [build-2-a, nightly], age: 30d}
          - {handle: pr5, tags: [pr-5], age: 20d, labels: {org.opencontainers.image.version: pr-5}}
          - {handle: pr6, tags: [pr-6], age: 20d, labels: {org.opencontainers.image.version: pr-6}}
          - {handle: pr5-old, tags: [], age: 30d, labels: {org.opencontainers.image.version: pr-5}}
          - {handle: orphan, tags: [], age: 40d}
          - {handle: young, tags: [], age: 1d}
          - {handle: recent, tags: [], age: 5d}
          - {handle: fresh, tags: [fresh], age: 1d}
      - name: solo
        visibility: private
        images:
          - {handle: only, tags: [only], age: 100d}
      - name: popular
        visibility: public
        images:
          - {handle: hot, tags: [hot], age: 100d, downloads: 6000}
          - {handle: cool, tags: [cool], age: 1d}
      - name: broken
        visibility: private
        images:
          - {handle: ghost, tags: [ghost], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: partial, tags: [partial], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: signed, tags: [signed], age: 50d, signature: true}
          - {handle: stays, tags: [stays], age: 1d}
      - name: meta
        generate: {versions: 12, seed: 3}
pulls:
  - {repo: acme/app, number: 5, state: closed, head_ref: five, merged_at: 2026-11-01T00:00:00Z, closed_at: 2026-11-01T00:00:00Z}
  - {repo: acme/app, number: 6, state: open, head_ref: six}
"#;

/// A policy exercising every condition, so every miss kind shows up somewhere.
const POLICY: &str = r#"
version: 1
rules:
  - name: keep-latest
    action: keep
    packages: [app]
    tags: [latest]
  - name: keep-pinned
    action: keep
    packages: [app]
    digests: ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]
  - name: keep-fresh
    action: keep
    packages: [app]
    newer_than: 3d
  - name: current-lines
    action: keep
    packages: [app]
    tags: ["re:v\\d+\\.\\d+\\.\\d+"]
    semver_lines: {count: 2, level: minor}
  - name: old-releases
    action: delete
    packages: [app]
    tags: ["re:v\\d+\\.\\d+\\.\\d+"]
    older_than: 50d
  - name: builds
    action: delete
    packages: [app]
    tags: ["build-*", "!build-keep"]
    keep_newest: {count: 1, per: "re:build-(\\d+)-.*"}
  - name: closed-prs
    action: delete
    packages: [app]
    tags: ["re:pr-\\d+"]
    pull_request: {repository: acme/app, state: closed}
  - name: labelled-untagged
    action: delete
    state: untagged
    labels: {org.opencontainers.image.version: "re:pr-\\d+"}
    older_than: 14d
  - name: untagged
    action: delete
    state: untagged
    older_than: 7d
  - name: orphans
    action: delete
    packages: [app]
    orphans: true
    older_than: 30d
  - name: stale
    action: delete
    packages: [solo, popular]
    older_than: 30d
  - name: broken-images
    action: delete
    packages: [broken]
    broken: any
"#;

/// Deletes versions behind the binary's back (through the emulator's API), to leave
/// a ghost image, a partial image and a signature whose image is gone.
async fn break_images(s: &Sim) {
    let client = GithubClient::new(ClientConfig::new(s.api_url(), Secret::new("ghp_admin")))
        .expect("client");
    let owner = Owner::from_account("acme");
    let ghost = s.image("acme", "broken", "ghost").expect("ghost pushed");
    let partial = s
        .image("acme", "broken", "partial")
        .expect("partial pushed");
    let signed = s.image("acme", "broken", "signed").expect("signed pushed");
    let mut doomed: Vec<VersionId> = ghost
        .manifests
        .iter()
        .filter(|m| m.role.starts_with("platform"))
        .map(|m| m.id)
        .collect();
    doomed.extend(
        partial
            .manifests
            .iter()
            .filter(|m| m.role.starts_with("platform"))
            .map(|m| m.id)
            .take(1),
    );
    doomed.push(signed.root.0);
    assert_eq!(doomed.len(), 4, "{ghost:?} {partial:?}");
    for id in doomed {
        client
            .delete_version(&owner, "broken", id)
            .await
            .unwrap_or_else(|e| panic!("deleting {id:?}: {e}"));
    }
}

/// Writes the policy to a file and returns its path (kept alive by the tempdir).
fn policy_file(dir: &tempfile::TempDir) -> String {
    let p = dir.path().join("policy.yaml");
    std::fs::write(&p, POLICY).expect("policy written");
    p.to_str().expect("utf-8 path").to_string()
}

/// A fault for the next DELETE of a version of `app`.
fn fail_next_app_delete(status: u16) -> FaultConfig {
    FaultConfig {
        fail_next: Some(FailNext {
            count: 1,
            status,
            method: Some("DELETE".into()),
            path_contains: Some("/app/versions/".into()),
        }),
        ..FaultConfig::default()
    }
}

/// `apply` with the policy's arguments `json`, the next DELETE of an `app` version
/// answering `status`; checked and recorded as [`checked`] does.
async fn apply_failing_once(
    s: &Sim,
    status: u16,
    what: &str,
    json: &[&str],
    seen: &mut Seen,
) -> (Run, Value) {
    s.set_faults(fail_next_app_delete(status));
    checked(s, what, &args("apply", &[&ACME_ADMIN, json]), seen).await
}

/// Runs the binary, checks the document against the schema and its own counts, and
/// records its kinds.
async fn checked(s: &Sim, what: &str, argv: &[&str], seen: &mut Seen) -> (Run, Value) {
    let r = regsweep(s, argv, &[]).await;
    dump(what, &r);
    let doc = r.json();
    assert_valid(what, &doc);
    consistent(what, &doc);
    seen.collect(&doc);
    (r, doc)
}

/// What the document says agrees with itself: totals count the decisions and
/// outcomes, `delete_order` holds every `delete` decision once, `reason` is set.
fn consistent(what: &str, doc: &Value) {
    let mut n = BTreeMap::<String, u64>::new();
    let mut deletes = BTreeSet::new();
    for (p, d) in decisions(doc) {
        *n.entry(d["action"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
        *n.entry("versions".into()).or_default() += 1;
        if let Some(st) = d["outcome"]["status"].as_str() {
            *n.entry(st.to_string()).or_default() += 1;
        }
        // A package deleted as a whole takes its versions in one request.
        if d["action"] == "delete" && p["package_decision"]["action"] != "delete" {
            deletes.insert((p["name"].to_string(), d["id"].as_u64()));
        }
        assert!(
            !d["reason"].as_str().unwrap_or("").is_empty(),
            "{what}: {d}"
        );
    }
    let t = &doc["totals"];
    let get = |k: &str| n.get(k).copied().unwrap_or(0);
    for k in ["versions", "keep", "delete", "skip"] {
        assert_eq!(t[k].as_u64(), Some(get(k)), "{what}: totals.{k}");
    }
    let partial = decisions(doc)
        .into_iter()
        .filter(|(_, d)| d["reasons"][0]["kind"] == "partial_tag_match")
        .count() as u64;
    assert_eq!(
        t["partial_tag_matches"].as_u64().unwrap_or(0),
        partial,
        "{what}: totals.partial_tag_matches"
    );
    if doc["dry_run"] == false {
        assert_eq!(
            t["deleted"].as_u64(),
            Some(get("deleted") + get("already_gone")),
            "{what}"
        );
        assert_eq!(t["failed"].as_u64(), Some(get("failed")), "{what}");
        assert_eq!(
            t["skipped_at_runtime"].as_u64(),
            Some(get("skipped")),
            "{what}"
        );
        assert_eq!(t["left"].as_u64(), Some(get("left")), "{what}");
    }
    let order: Vec<_> = doc["delete_order"]
        .as_array()
        .expect("delete_order")
        .iter()
        .map(|o| (o["package"].to_string(), o["id"].as_u64()))
        .collect();
    assert_eq!(order.len(), deletes.len(), "{what}: delete_order");
    assert_eq!(
        order.into_iter().collect::<BTreeSet<_>>(),
        deletes,
        "{what}"
    );
}

/// Every kind the schema lists, produced by the real binary: a policy with every
/// condition over multi-arch images with signatures, attestations, referrers and a
/// nested index; an orphan; a ghost, a partial image and a dangling signature; a
/// package whose manifests cannot be read; a refusal predicted (last tagged version)
/// and one met at delete time (public, 6,000 downloads); `--graph skip`; an injected
/// failed DELETE, then one answered 404 (already gone); a run stopped at the
/// rate-limit reserve; and a refusal that frees the last tagged version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_document_matches_the_schema_and_every_kind_is_produced() {
    let mut seen = Seen::default();
    let s = sim(&acme(WORLD), SimOptions::default()).await;
    break_images(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir);
    let json = ["--policy", policy.as_str(), "--output", "json"];

    let (r, _) = checked(&s, "plan", &args("plan", &[&ACME_ADMIN, &json]), &mut seen).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let skip = ["--graph", "skip"];
    let (r, _) = checked(
        &s,
        "plan --graph skip",
        &args("plan", &[&ACME_ADMIN, &json, &skip]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The journal cannot be written: nothing is deleted, everything is left.
    let full = ["--journal", "/dev/full"];
    let (r, doc) = checked(
        &s,
        "apply with a full journal",
        &args("apply", &[&ACME_ADMIN, &json, &full]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(doc["totals"]["deleted"], 0, "{}", doc["totals"]);

    // The first DELETE of an `app` version fails (422, not retried): the rest of
    // its image is left; the public version is refused by GitHub (skipped).
    let (r, doc) = apply_failing_once(&s, 422, "apply", &json, &mut seen).await;
    assert_eq!(r.code, 1, "a failed deletion exits 1: {}", r.stderr);
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["totals"]["failed"], 1, "{}", doc["totals"]);

    // Again: what was left is planned again; the first DELETE answers 404.
    let (r, doc) = apply_failing_once(&s, 404, "apply again", &json, &mut seen).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["totals"]["failed"], 0, "{}", doc["totals"]);
    s.shutdown().await;

    // A run stopped at the rate-limit reserve leaves the rest for the next run.
    let s = sim(
        &acme(&generated_default("app", 60, 7)),
        SimOptions {
            primary_limit_classic: 70,
            ..SimOptions::default()
        },
    )
    .await;
    let reserve = ["--reserve-requests", "50"];
    let (r, doc) = checked(
        &s,
        "apply at the reserve",
        &args("apply", &[&ACME_ADMIN, &TAGGED_OLD, &reserve]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 1, "work left exits 1: {}", r.stderr);
    assert!(
        doc["totals"]["left"].as_u64().unwrap_or(0) > 0,
        "{}",
        doc["totals"]
    );
    s.shutdown().await;

    // One multi-arch image, its first DELETE failing: the rest of it is left.
    let s = sim(
        &acme("      - name: app\n        visibility: private\n        images:\n          - {handle: old, tags: [old], age: 60d, platforms: [linux/amd64, linux/arm64]}\n          - {handle: new, tags: [new], age: 2d}\n"),
        SimOptions::default(),
    )
    .await;
    s.set_faults(fail_next_app_delete(422));
    let old = [
        "--image-names",
        "app",
        "--tag-selection",
        "tagged",
        "--cut-off",
        "30d",
        "--output",
        "json",
    ];
    let (r, doc) = checked(
        &s,
        "apply, the image's first deletion failing",
        &args("apply", &[&ACME_ADMIN, &old]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        doc["totals"]["left"].as_u64().unwrap_or(0) > 0,
        "{}",
        doc["totals"]
    );
    s.shutdown().await;

    // GitHub refuses the popular old multi-arch image (its platform manifests stay
    // with it: index_remains); the one skipped as the last tagged version is then
    // deleted in the same run (no_longer_last_tagged).
    let s = sim(
        &acme("      - name: app\n        visibility: public\n        images:\n          - {handle: hot, tags: [hot], age: 60d, downloads: 6000, platforms: [linux/amd64, linux/arm64]}\n          - {handle: last, tags: [last], age: 40d}\n"),
        SimOptions::default(),
    )
    .await;
    let (r, doc) = checked(
        &s,
        "apply, a refusal freeing the last tagged version",
        &args("apply", &[&ACME_ADMIN, &old]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["totals"]["deleted"], 1, "{}", doc["totals"]);
    s.shutdown().await;

    // A package rule deletes the package `test` as a whole (every version of it
    // goes), and keeps `app`, whose release is kept.
    let s = sim(
        &acme("      - name: test\n        visibility: private\n        images:\n          - {handle: t, tags: [do_not_use], age: 40d, platforms: [linux/amd64, linux/arm64]}\n      - name: app\n        visibility: private\n        images:\n          - {handle: v1, tags: [v1], age: 40d}\n"),
        SimOptions::default(),
    )
    .await;
    let whole = dir.path().join("whole.yaml");
    std::fs::write(
        &whole,
        "rules:\n  - {name: keep-v1, action: keep, packages: [app], tags: [v1]}\n  - {name: old, action: delete, packages: [test, app], older_than: 30d}\n  - {name: emptied, action: delete_package, packages: [test, app], every_version_deleted: true}\n",
    )
    .unwrap();
    let whole = ["--policy", whole.to_str().unwrap(), "--output", "json"];
    let (r, doc) = checked(
        &s,
        "apply, a package deleted as a whole",
        &args("apply", &[&ACME_ADMIN, &whole]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["totals"]["deleted"], 3, "{}", doc["totals"]);
    s.shutdown().await;

    // Untag rules: `pr-1` goes from a release (untagged_by_rule), `v1` stays on
    // the image keep rule `v1` names (tags_kept_by_rule), and the recent image
    // keeps its only tag (last_tag_kept).
    let s = sim(
        // A token that may push (untagging on GHCR pushes a placeholder).
        &acme("      - name: app\n        visibility: private\n        images:\n          - {handle: rel, tags: [pr-1, v1.2.0], age: 40d}\n          - {handle: one, tags: [pr-2, v1], age: 30d}\n          - {handle: new, tags: [pr-3], age: 1d}\n").replacen(
            "accounts:",
            "  - {token: ghp_writer, kind: classic, user: octocat, scopes: [read:packages, write:packages, delete:packages]}\naccounts:",
            1,
        ),
        SimOptions::default(),
    )
    .await;
    let untag = dir.path().join("untag.yaml");
    std::fs::write(
        &untag,
        "rules:\n  - {name: v1, action: keep, tags: [v1]}\n  - {name: recent, action: keep, newer_than: 7d}\n  - {name: prs, action: untag, tags: [\"pr-*\", v1]}\n",
    )
    .unwrap();
    let untag = ["--policy", untag.to_str().unwrap(), "--output", "json"];
    let (r, doc) = checked(
        &s,
        "plan, untag rules",
        &args("plan", &[&ACME_ADMIN, &untag]),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["totals"]["untag_tags"], 2, "{}", doc["totals"]);
    let (r, doc) = checked(
        &s,
        "apply, untag rules",
        &args(
            "apply",
            &[&["--account", "acme", "--token", "ghp_writer"], &untag],
        ),
        &mut seen,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["totals"]["untagged"], 2, "{}", doc["totals"]);
    assert_eq!(
        doc["untags"].as_array().map(Vec::len),
        Some(2),
        "{}",
        doc["untags"]
    );
    s.shutdown().await;

    assert_all_seen(&seen);
}

/// A change to a document.
type Mutation = dyn Fn(&mut Value);

/// The schema itself is valid JSON Schema (draft 2020-12), closed where the output
/// is: a field added to the output without documenting it fails validation.
#[test]
fn the_schema_is_valid_and_closed() {
    let schema = schema();
    jsonschema::meta::validate(&schema)
        .expect("docs/json-output.schema.json is a valid draft 2020-12 schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let vref = serde_json::json!({"package": "app", "id": 1, "digest": format!("sha256:{}", "a".repeat(64))});
    let decision = serde_json::json!({
        "id": 1, "digest": format!("sha256:{}", "a".repeat(64)), "tags": [],
        "created_at": "2026-11-24T12:00:00Z", "updated_at": "2026-11-24T12:00:00Z",
        "action": "delete", "reason": "deleted by rule `old` (40d old)",
        "reasons": [{"kind": "deleted_by_rule", "rule": "old", "how": {"kind": "matched", "age": 3456000}}],
        "outcome": {"status": "deleted"}
    });
    let doc = serde_json::json!({
        "schema_version": 1, "account": "acme", "now": "2026-11-24T12:00:00Z", "dry_run": false,
        "policy": {"source": "policy.yaml", "rules": [{"name": "old", "action": "delete", "summary": "delete versions older than 1d"}]},
        "totals": {"versions": 1, "keep": 0, "delete": 1, "skip": 0, "deleted": 1, "failed": 0, "skipped_at_runtime": 0, "left": 0},
        "requests": {"api_requests": 2, "manifest_requests": 1, "manifest_cache_hits": 0},
        "timings": {"listing_ms": 1, "planning_ms": 0, "deleting_ms": 1},
        "packages": [{"name": "app", "decisions": [decision], "findings": [
            {"text": "orphan: app@sha256:aaaaaaaaaaaa is untagged and nothing references it",
             "detail": {"kind": "orphan", "version": vref}}
        ]}],
        "delete_order": [{"package": "app", "id": 1}],
        "interrupted": false,
        "unreadable_packages": [
            {"package": "lib", "problem": "malformed_entry", "version": 7,
             "field": "metadata.container.tags", "message": "error: …"},
            {"package": "..", "problem": "invalid_name", "field": "name", "message": "error: …"}
        ]
    });
    assert!(
        validator.is_valid(&doc),
        "the hand-written document is valid: {:?}",
        validator
            .iter_errors(&doc)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    // Each of these changes must make the document invalid.
    let mutations: &[(&str, &Mutation)] = &[
        ("a new top-level field", &|d| d["extra"] = 1.into()),
        ("a new totals field", &|d| d["totals"]["extra"] = 1.into()),
        ("a new decision field", &|d| {
            d["packages"][0]["decisions"][0]["extra"] = 1.into()
        }),
        ("a new reason field", &|d| {
            d["packages"][0]["decisions"][0]["reasons"][0]["extra"] = 1.into()
        }),
        ("an unknown reason kind", &|d| {
            d["packages"][0]["decisions"][0]["reasons"][0]["kind"] = "other".into()
        }),
        ("an unknown outcome status", &|d| {
            d["packages"][0]["decisions"][0]["outcome"]["status"] = "other".into()
        }),
        ("an unknown action", &|d| {
            d["packages"][0]["decisions"][0]["action"] = "purge".into()
        }),
        ("a new finding field", &|d| {
            d["packages"][0]["findings"][0]["detail"]["extra"] = 1.into()
        }),
        ("a new version_ref field", &|d| {
            d["packages"][0]["findings"][0]["detail"]["version"]["extra"] = 1.into()
        }),
        ("no reasons", &|d| {
            d["packages"][0]["decisions"][0]["reasons"] = serde_json::json!([])
        }),
        ("a short digest", &|d| {
            d["packages"][0]["decisions"][0]["digest"] = "sha256:abc".into()
        }),
        ("an outcome on a kept version", &|d| {
            d["packages"][0]["decisions"][0]["action"] = "keep".into()
        }),
        (
            "apply totals missing after apply",
            &|d| {
                d["totals"] = serde_json::json!({"versions": 1, "keep": 0, "delete": 1, "skip": 0})
            },
        ),
        ("apply totals in a plan", &|d| d["dry_run"] = true.into()),
        ("schema_version 2", &|d| d["schema_version"] = 2.into()),
        ("a new rule field", &|d| {
            d["policy"]["rules"][0]["extra"] = 1.into()
        }),
        ("an unknown rule action", &|d| {
            d["policy"]["rules"][0]["action"] = "purge".into()
        }),
    ];
    for (what, change) in mutations {
        let mut bad = doc.clone();
        change(&mut bad);
        assert!(!validator.is_valid(&bad), "{what} must not validate");
    }
}

/// The `$defs` entries whose `oneOf` branches are told apart by `kind` or `status`.
const KINDED: [(&str, &str); 7] = [
    ("reason", "kind"),
    ("selected", "kind"),
    ("relation", "kind"),
    ("refusal", "kind"),
    ("miss", "kind"),
    ("finding_detail", "kind"),
    ("outcome", "status"),
];

/// docs/json-output.md names every kind and status the schema lists, and its example
/// document is valid.
#[test]
fn the_documentation_covers_the_schema() {
    let schema = schema();
    let p = root().join("docs/json-output.md");
    let doc = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut undocumented = Vec::new();
    for (def, field) in KINDED {
        for k in schema_kinds(&schema, def, field) {
            if !doc.contains(&format!("`{k}`")) {
                undocumented.push(format!("{def}/{k}"));
            }
        }
    }
    for c in schema_outcome_codes(&schema) {
        let code = c.split('/').nth(1).unwrap_or_default();
        if !doc.contains(&format!("`{code}`")) {
            undocumented.push(format!("outcome code {c}"));
        }
    }
    assert!(
        undocumented.is_empty(),
        "kinds in the schema that docs/json-output.md does not name: {undocumented:?}"
    );
    let example = doc
        .split("## Example")
        .nth(1)
        .and_then(|s| s.split("```json\n").nth(1))
        .and_then(|s| s.split("\n```").next())
        .expect("docs/json-output.md has a ```json block under ## Example");
    let example: Value = serde_json::from_str(example).expect("the example is JSON");
    assert_valid("the example of docs/json-output.md", &example);
}
