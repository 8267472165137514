//! The table-driven bed for the peers' test cases (issue 11, item 7): one [`Case`]
//! is a world of organisation `acme` (its packages as scenario YAML), the inputs
//! translated to regsweep's (snok-style flags or a policy), and the decision
//! expected for every version. [`run`] starts the emulator over the real registry,
//! deletes what the peer's case removed behind the tool's back, plans through the
//! binary and checks every version's decision, then applies and checks that exactly
//! the versions planned for deletion are gone. A case with untags (`untag`) runs
//! with a token that has `write:packages`, checks each untag's tags in the plan, and
//! after apply checks in the registry that the removed tags no longer resolve while
//! the image's other tags still point at it; every kept version's tags still
//! resolve to it.

#![allow(dead_code)]

use std::collections::BTreeMap;

use regsweep_sim::{Sim, SimOptions};

use crate::common::{acme, actions, args, decisions, regsweep, sim, ACME_ADMIN};

/// A peer's test case translated to regsweep.
#[derive(Default)]
pub struct Case<'a> {
    /// Scenario YAML of `acme`'s packages (list items indented six spaces).
    pub packages: &'a str,
    /// Selection flags (snok-style inputs), after `plan`/`apply` and the admin token.
    pub flags: &'a [&'a str],
    /// A policy (YAML), given inline; `None` for the snok-style flags.
    pub policy: Option<&'a str>,
    /// Manifests removed before the run, as (package, image handle, role prefix):
    /// `("app", "v1", "platform linux/arm64")`.
    pub removed: &'a [(&'a str, &'a str, &'a str)],
    /// The expected decision as (package, image handle, role prefix, action): every
    /// manifest of the image whose role starts with the prefix (`""`: all of them).
    /// Later entries override earlier ones. Every version must be covered.
    pub expect: &'a [(&'a str, &'a str, &'a str, &'a str)],
    /// The untags expected as (package, image handle, tags removed from its root):
    /// the root's decision is `untag` (overriding `expect`), with exactly these tags.
    pub untag: &'a [(&'a str, &'a str, &'a [&'a str])],
    /// Apply with `--dry-run`: nothing may be deleted, whatever the plan says.
    pub dry_run: bool,
}

/// Runs `case`: plan (every decision checked), then apply (the emulator checked).
/// Returns the emulator and the plan for further checks.
pub async fn run(case: &Case<'_>) -> (Sim, serde_json::Value) {
    let s = start(case).await;
    let doc = check_plan(&s, case).await;
    check_apply(&s, case).await;
    (s, doc)
}

/// The emulator for `case`'s world, with `case.removed` already removed. Several
/// cases over one world share it: [`check_plan`] each, then [`check_apply`] one.
pub async fn start(case: &Case<'_>) -> Sim {
    // The standard header's token list continues with the writer.
    let world = acme(case.packages).replacen("accounts:", &format!("{WRITER}accounts:"), 1);
    let s = sim(&world, SimOptions::default()).await;
    remove(&s, case.removed).await;
    s
}

/// A token that may push (untag on GHCR needs `write:packages`).
const WRITER: &str = "  - {token: ghp_writer, kind: classic, user: octocat, scopes: [read:packages, write:packages, delete:packages]}\n";

/// The token arguments of `case`: the writer when it untags, else the admin.
fn token(case: &Case<'_>) -> &'static [&'static str] {
    match case.untag.is_empty() {
        true => &ACME_ADMIN,
        false => &["--account", "acme", "--token", "ghp_writer"],
    }
}

/// The selection arguments of `case`.
fn selection<'a>(case: &Case<'a>) -> Vec<&'a str> {
    let mut selection: Vec<&str> = case.flags.to_vec();
    if let Some(policy) = case.policy {
        selection.extend(["--policy-inline", policy]);
    }
    selection
}

/// Plans `case` through the binary and checks every version's decision. Returns
/// the plan.
pub async fn check_plan(s: &Sim, case: &Case<'_>) -> serde_json::Value {
    let expected = expected(s, case);
    let selection = selection(case);
    let r = regsweep(
        s,
        &args("plan", &[token(case), &["--output", "json"], &selection]),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "plan {selection:?} failed:\n{}", r.stderr);
    let doc = r.json();
    let planned: BTreeMap<(String, u64), String> = actions(&doc)
        .into_iter()
        .map(|(p, id, a)| ((p, id), a))
        .collect();
    let named = |(p, id): &(String, u64)| describe(s, case, p, *id);
    // A package the policy does not reach is not in the plan: all of it is kept.
    let reached: std::collections::BTreeSet<&String> = planned.keys().map(|(p, _)| p).collect();
    let wrong: Vec<String> = expected
        .iter()
        .filter(|((p, _), a)| reached.contains(p) || *a != "keep")
        .filter(|(k, a)| planned.get(*k) != Some(a))
        .map(|(k, a)| format!("{}: expected {a}, planned {:?}", named(k), planned.get(k)))
        .chain(
            planned
                .keys()
                .filter(|k| !expected.contains_key(*k))
                .map(|k| format!("{}: planned but not expected", named(k))),
        )
        .collect();
    assert!(
        wrong.is_empty(),
        "{selection:?}: decisions differ:\n  {}\nplan:\n{doc:#}",
        wrong.join("\n  ")
    );
    for (package, handle, tags) in case.untag {
        let root = root(s, package, handle);
        let d = decisions(&doc)
            .into_iter()
            .find(|(p, d)| p["name"] == *package && d["id"] == root)
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("{package}:{handle} not planned"));
        assert_eq!(
            d["untag"],
            serde_json::json!(tags),
            "{package}:{handle}: tags to remove\nplan:\n{doc:#}"
        );
    }
    doc
}

/// The version id of the root of `package`'s image `handle`.
fn root(s: &Sim, package: &str, handle: &str) -> u64 {
    s.image("acme", package, handle)
        .unwrap_or_else(|| panic!("no image {package}:{handle} in the scenario"))
        .root
        .0
         .0
}

/// Applies `case` through the binary and checks that exactly the versions expected
/// to be deleted are gone (none with `dry_run`).
pub async fn check_apply(s: &Sim, case: &Case<'_>) {
    let expected = expected(s, case);
    let selection = selection(case);
    let mut apply = vec!["--output", "json"];
    if case.dry_run {
        apply.push("--dry-run");
    }
    let before = |package: &str, handle: &str| {
        let id = root(s, package, handle);
        let v = s
            .versions("acme", package)
            .into_iter()
            .find(|v| v.id.0 == id);
        v.unwrap_or_else(|| panic!("{package}:{handle} is there before apply"))
    };
    let untagged: Vec<_> = case
        .untag
        .iter()
        .map(|(p, h, tags)| (*p, *h, *tags, before(p, h)))
        .collect();
    // The tags that resolve to each version in the registry before apply (a test may
    // give a version listing-only tags, which the registry never had).
    let mut tags_before: BTreeMap<(String, u64), (Vec<String>, regsweep_core::Digest)> =
        BTreeMap::new();
    for (p, id) in expected.keys() {
        let Some(v) = s.versions("acme", p).into_iter().find(|v| v.id.0 == *id) else {
            continue;
        };
        let mut resolving = Vec::new();
        for tag in v.tags {
            if points_at(s, &format!("acme/{p}"), &tag).await.as_ref() == Some(&v.digest) {
                resolving.push(tag);
            }
        }
        tags_before.insert((p.clone(), *id), (resolving, v.digest));
    }
    let r = regsweep(s, &args("apply", &[token(case), &apply, &selection]), &[]).await;
    assert_eq!(r.code, 0, "apply {selection:?} failed:\n{}", r.stderr);
    // A kept version keeps every tag that resolved to it, each still resolving to it.
    for ((package, id), (tags, digest)) in &tags_before {
        if expected[&(package.clone(), *id)] != "keep" {
            continue;
        }
        for tag in tags {
            assert_eq!(
                points_at(s, &format!("acme/{package}"), tag).await.as_ref(),
                Some(digest),
                "{} tag {tag} after apply",
                describe(s, case, package, *id)
            );
        }
    }
    for (package, handle, removed, v) in untagged {
        let repo = format!("acme/{package}");
        let stay: Vec<String> = v
            .tags
            .iter()
            .filter(|t| case.dry_run || !removed.contains(&t.as_str()))
            .cloned()
            .collect();
        for tag in &v.tags {
            let expect = stay.contains(tag).then(|| v.digest.clone());
            assert_eq!(
                points_at(s, &repo, tag).await,
                expect,
                "{package}:{handle} tag {tag} after apply"
            );
        }
        let after = s
            .versions("acme", package)
            .into_iter()
            .find(|a| a.id == v.id);
        let after = after.unwrap_or_else(|| panic!("{package}:{handle} stays after an untag"));
        assert_eq!(after.tags, stay, "{package}:{handle} tags after apply");
    }
    for ((package, id), action) in &expected {
        let alive = s.versions("acme", package).iter().any(|v| v.id.0 == *id);
        let gone = action == "delete" && !case.dry_run;
        assert_eq!(
            alive,
            !gone,
            "{} after apply: alive {alive}, planned {action}",
            describe(s, case, package, *id)
        );
    }
}

/// What `tag` of `repo` points at in the registry behind the emulator.
async fn points_at(s: &Sim, repo: &str, tag: &str) -> Option<regsweep_core::Digest> {
    let url = s
        .backing_registry()
        .expect("a backing registry")
        .url()
        .clone();
    let client = regsweep_oci::RegistryClient::new(
        url,
        regsweep_oci::Auth::Anonymous,
        regsweep_oci::OciOptions::default(),
    )
    .expect("client");
    client
        .head_manifest(repo, tag)
        .await
        .expect("HEAD answered")
        .map(|(d, _)| d)
}

/// Deletes the manifests `removed` through the API, as a peer's case primes a
/// broken world.
async fn remove(s: &Sim, removed: &[(&str, &str, &str)]) {
    if removed.is_empty() {
        return;
    }
    let client = regsweep_github::GithubClient::new(regsweep_github::ClientConfig::new(
        s.api_url(),
        regsweep_core::Secret::new("ghp_admin"),
    ))
    .expect("client");
    let owner = regsweep_github::Owner::from_account("acme");
    for (package, handle, role) in removed {
        for m in manifests(s, package, handle, role) {
            client
                .delete_version(&owner, package, m)
                .await
                .unwrap_or_else(|e| panic!("removing {role} of {package}:{handle}: {e}"));
        }
    }
}

/// Version ids of the manifests of `package`'s image `handle` whose role starts
/// with `role`.
pub fn manifests(
    s: &Sim,
    package: &str,
    handle: &str,
    role: &str,
) -> Vec<regsweep_core::VersionId> {
    let image = s
        .image("acme", package, handle)
        .unwrap_or_else(|| panic!("no image {package}:{handle} in the scenario"));
    let ids: Vec<_> = image
        .manifests
        .iter()
        .filter(|m| m.role.starts_with(role))
        .map(|m| m.id)
        .collect();
    assert!(
        !ids.is_empty(),
        "{package}:{handle} has no manifest `{role}`"
    );
    ids
}

/// The expected action of every version still there, keyed by (package, id).
fn expected(s: &Sim, case: &Case<'_>) -> BTreeMap<(String, u64), String> {
    let mut out = BTreeMap::new();
    for (package, handle, role, action) in case.expect {
        assert!(
            ["keep", "delete", "skip"].contains(action),
            "`{action}` is not keep, delete or skip (untags go in `untag`)"
        );
        let alive: Vec<u64> = s.versions("acme", package).iter().map(|v| v.id.0).collect();
        for id in manifests(s, package, handle, role) {
            if alive.contains(&id.0) {
                out.insert((package.to_string(), id.0), action.to_string());
            }
        }
    }
    for (package, handle, _) in case.untag {
        out.insert(
            (package.to_string(), root(s, package, handle)),
            "untag".into(),
        );
    }
    out
}

/// "app:v1 platform linux/arm64 (version 7)" for assertion messages.
fn describe(s: &Sim, case: &Case<'_>, package: &str, id: u64) -> String {
    let names: std::collections::BTreeSet<String> = case
        .expect
        .iter()
        .filter(|(p, ..)| *p == package)
        .filter_map(|(_, handle, ..)| s.image("acme", package, handle).map(|i| (handle, i)))
        .flat_map(|(handle, image)| {
            image
                .manifests
                .into_iter()
                .filter(|m| m.id.0 == id)
                .map(move |m| format!("{package}:{handle} {}", m.role))
        })
        .collect();
    match names.is_empty() {
        false => format!(
            "{} (version {id})",
            names.into_iter().collect::<Vec<_>>().join(" = ")
        ),
        true => format!("{package} version {id} (no image expected)"),
    }
}
