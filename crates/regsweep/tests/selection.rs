//! End to end: what a rule selects (issue 11), through the real binary against the
//! emulator fronting the real registry. A delete rule, and snok's `image-tags`,
//! deletes a tagged version only when every one of its tags is selected; a partial
//! match is kept, named in the reason and counted in the totals. A keep rule keeps a
//! version one of whose tags it selects. snok's lone `!` is refused where snok's
//! reading is dangerous.

mod common;

use common::{acme, args, decisions, regsweep, sim, Run, ACME_ADMIN};
use regsweep_sim::{Sim, SimOptions};
use serde_json::Value;

/// Package `app`: a release image that was also a PR build, a PR-only image, a
/// release, and an untagged leftover; all old.
const APP: &str = "      - name: app
        visibility: private
        images:
          - {handle: release-pr, tags: [pr-12, v1.2.0], age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: pr-only, tags: [pr-13], age: 40d}
          - {handle: pr-two, tags: [pr-14, pr-14-rebuilt], age: 40d}
          - {handle: release, tags: [v1.1.0], age: 50d}
";

async fn start() -> Sim {
    sim(&acme(APP), SimOptions::default()).await
}

/// The decision of the version `handle` (the image's root manifest) in a plan.
fn decision<'a>(s: &Sim, doc: &'a Value, handle: &str) -> &'a Value {
    let id = s.image("acme", "app", handle).expect("pushed").root.0 .0;
    decisions(doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["id"].as_u64() == Some(id))
        .unwrap_or_else(|| panic!("no decision for {handle}"))
}

async fn plan(s: &Sim, extra: &[&str]) -> (Run, Value) {
    let r = regsweep(
        s,
        &args("plan", &[&ACME_ADMIN, &["--output", "json"], extra]),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    (r, doc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_tag_match_keeps_release_tag() {
    let s = start().await;
    let snok = [
        "--image-names",
        "app",
        "--image-tags",
        "pr-*",
        "--cut-off",
        "1w",
        "--tag-selection",
        "tagged",
    ];
    let (_, doc) = plan(&s, &snok).await;
    let d = decision(&s, &doc, "release-pr");
    assert_eq!(d["action"], "keep", "{d}");
    assert_eq!(d["reasons"][0]["kind"], "partial_tag_match", "{d}");
    assert_eq!(d["reasons"][0]["rule"], "tagged");
    assert_eq!(d["reasons"][0]["unselected"], serde_json::json!(["v1.2.0"]));
    assert!(
        d["reason"].as_str().unwrap_or("").contains("`v1.2.0`"),
        "{}",
        d["reason"]
    );
    // Every tag selected: deleted.
    assert_eq!(decision(&s, &doc, "pr-only")["action"], "delete");
    assert_eq!(decision(&s, &doc, "pr-two")["action"], "delete");
    assert_eq!(decision(&s, &doc, "release")["action"], "keep");
    assert_eq!(doc["totals"]["partial_tag_matches"], 1, "{}", doc["totals"]);
    assert_eq!(doc["totals"]["delete"], 2, "{}", doc["totals"]);

    // The table says how many partial matches were kept.
    let table = regsweep(&s, &args("plan", &[&ACME_ADMIN, &snok]), &[]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("1 version kept because delete rules select only some of their tags"),
        "{}",
        table.stdout
    );

    // Applied: the release image and its platforms are all still there.
    let r = regsweep(
        &s,
        &args("apply", &[&ACME_ADMIN, &["--output", "json"], &snok]),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let alive: Vec<u64> = s.versions("acme", "app").iter().map(|v| v.id.0).collect();
    let image = s.image("acme", "app", "release-pr").expect("pushed");
    for m in &image.manifests {
        assert!(alive.contains(&m.id.0), "{} was deleted", m.role);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_delete_rule_partial_match_kept() {
    let s = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        "version: 1\nrules:\n  - name: prs\n    action: delete\n    tags: [\"pr-*\"]\n    older_than: 7d\n",
    )
    .expect("written");
    let (_, doc) = plan(&s, &["--policy", path.to_str().expect("utf-8")]).await;
    let d = decision(&s, &doc, "release-pr");
    assert_eq!(d["action"], "keep", "{d}");
    assert_eq!(d["reasons"][0]["kind"], "partial_tag_match", "{d}");
    assert_eq!(d["reasons"][0]["rule"], "prs");
    assert_eq!(decision(&s, &doc, "pr-only")["action"], "delete");

    // A second delete rule selecting the release tag completes the match.
    std::fs::write(
        &path,
        "version: 1\nrules:\n  - name: prs\n    action: delete\n    tags: [\"pr-*\"]\n    older_than: 7d\n  - name: old-releases\n    action: delete\n    tags: [\"v1.*\"]\n    older_than: 7d\n",
    )
    .expect("written");
    let (_, doc) = plan(&s, &["--policy", path.to_str().expect("utf-8")]).await;
    assert_eq!(decision(&s, &doc, "release-pr")["action"], "delete");
    assert!(doc["totals"].get("partial_tag_matches").is_none());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_rule_any_tag_matches() {
    let s = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        "version: 1\nrules:\n  - name: releases\n    action: keep\n    tags: [\"v*\"]\n  - name: old\n    action: delete\n    older_than: 7d\n",
    )
    .expect("written");
    let (_, doc) = plan(&s, &["--policy", path.to_str().expect("utf-8")]).await;
    let d = decision(&s, &doc, "release-pr");
    assert_eq!(d["action"], "keep", "{d}");
    assert_eq!(d["reasons"][0]["kind"], "kept_by_rule", "{d}");
    assert_eq!(d["reasons"][0]["rule"], "releases");
    assert_eq!(decision(&s, &doc, "pr-only")["action"], "delete");
    s.shutdown().await;
}

/// snok reads a lone `!` as an exclusion that excludes nothing. Alone, or next to a
/// positive item (`! latest` for `!latest`), that reading deletes what the user
/// meant to keep: refused, exit 2, nothing listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_lone_bang_refused_where_snok_would_widen_the_selection() {
    let s = start().await;
    for (flag, value, says) in [
        ("--image-tags", "!", "`!` alone excludes nothing"),
        ("--image-tags", "! v1.2.0", "write `!v1.2.0`"),
        ("--image-names", "!", "`!` alone excludes nothing"),
    ] {
        let mut a = vec!["--cut-off", "1w", flag, value];
        if flag == "--image-tags" {
            a.extend(["--image-names", "app"]);
        }
        let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, &a]), &[]).await;
        assert_eq!(r.code, 2, "{flag} {value:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{flag} {value:?}: {}", r.stderr);
        assert!(r.stderr.contains("help:"), "{}", r.stderr);
    }
    assert!(
        !s.stats().by_route.keys().any(|k| k.contains("/versions")),
        "a refused input lists nothing: {:?}",
        s.stats().by_route
    );
    s.shutdown().await;
}

/// Among exclusions, a lone `!` changes nothing in snok; regsweep drops it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_lone_bang_among_exclusions_is_ignored_as_snok_does() {
    let s = start().await;
    let base = ["--image-names", "app", "--cut-off", "1w"];
    let (_, with) = plan(&s, &[&base[..], &["--image-tags", "!v1.1.0, !"]].concat()).await;
    let (_, without) = plan(&s, &[&base[..], &["--image-tags", "!v1.1.0"]].concat()).await;
    assert_eq!(common::actions(&with), common::actions(&without));
    assert_eq!(decision(&s, &with, "release")["action"], "keep");
    s.shutdown().await;
}

/// `{delete, untagged, keep_newest: 2}` on a package whose newest versions are the
/// platform manifests of tagged multi-arch images: the two newest untagged *images*
/// are kept, not two platform manifests (which their index keeps anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_newest_untagged_counts_images_not_platforms() {
    let s = sim(
        &acme(
            "      - name: app
        visibility: private
        images:
          - {handle: v2, tags: [v2], age: 1d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v1, tags: [v1], age: 2d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u1, tags: [], age: 10d}
          - {handle: u2, tags: [], age: 11d}
          - {handle: u3, tags: [], age: 12d}
",
        ),
        SimOptions::default(),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        "version: 1\nrules:\n  - name: untagged\n    action: delete\n    state: untagged\n    keep_newest: 2\n",
    )
    .expect("written");
    let (_, doc) = plan(&s, &["--policy", path.to_str().expect("utf-8")]).await;
    for (handle, action, rank) in [
        ("u1", "keep", Some(1)),
        ("u2", "keep", Some(2)),
        ("u3", "delete", None),
    ] {
        let d = decision(&s, &doc, handle);
        assert_eq!(d["action"], action, "{handle}: {d}");
        if let Some(rank) = rank {
            assert_eq!(d["reasons"][0]["how"]["rank"], rank, "{handle}: {d}");
        }
    }
    // Platform manifests are kept by their index, never counted.
    for handle in ["v1", "v2"] {
        let image = s.image("acme", "app", handle).expect("pushed");
        for m in image
            .manifests
            .iter()
            .filter(|m| m.role.starts_with("platform"))
        {
            let d = decisions(&doc)
                .into_iter()
                .map(|(_, d)| d)
                .find(|d| d["id"].as_u64() == Some(m.id.0))
                .expect("decided");
            assert_eq!(d["action"], "keep", "{d}");
            assert_eq!(d["reasons"][0]["kind"], "protected", "{d}");
        }
    }
    assert_eq!(doc["totals"]["delete"], 1, "{}", doc["totals"]);

    // With the graph skipped, whether an untagged version is an image is unknown:
    // none is counted and none is deleted.
    let (_, blind) = plan(
        &s,
        &["--policy", path.to_str().expect("utf-8"), "--graph", "skip"],
    )
    .await;
    assert_eq!(blind["totals"]["delete"], 0, "{}", blind["totals"]);
    assert_eq!(
        decision(&s, &blind, "u3")["reasons"][0]["kind"],
        "graph_not_read"
    );
    s.shutdown().await;
}

/// Package `broken`: two multi-arch images whose platform manifests are then deleted
/// behind regsweep's back (all of `ghost`'s, one of `partial`'s), and a whole one.
async fn broken_world() -> Sim {
    let s = sim(
        &acme(
            "      - name: broken
        visibility: private
        images:
          - {handle: ghost, tags: [ghost], age: 5d, platforms: [linux/amd64, linux/arm64]}
          - {handle: partial, tags: [partial], age: 5d, platforms: [linux/amd64, linux/arm64]}
          - {handle: whole, tags: [whole], age: 5d, platforms: [linux/amd64, linux/arm64]}
",
        ),
        SimOptions::default(),
    )
    .await;
    let client = regsweep_github::GithubClient::new(regsweep_github::ClientConfig::new(
        s.api_url(),
        regsweep_core::Secret::new("ghp_admin"),
    ))
    .expect("client");
    let owner = regsweep_github::Owner::from_account("acme");
    let platforms = |handle: &str| -> Vec<regsweep_core::VersionId> {
        s.image("acme", "broken", handle)
            .expect("pushed")
            .manifests
            .iter()
            .filter(|m| m.role.starts_with("platform"))
            .map(|m| m.id)
            .collect()
    };
    let mut doomed = platforms("ghost");
    doomed.extend(platforms("partial").into_iter().take(1));
    for id in doomed {
        client
            .delete_version(&owner, "broken", id)
            .await
            .unwrap_or_else(|e| panic!("deleting {id:?}: {e}"));
    }
    s
}

/// The decisions of package `broken` by the root of `handle`.
fn broken_decision<'a>(s: &Sim, doc: &'a Value, handle: &str) -> &'a Value {
    let image = s.image("acme", "broken", handle).expect("pushed");
    decisions(doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["id"].as_u64() == Some(image.root.0 .0))
        .unwrap_or_else(|| panic!("no decision for {handle}"))
}

const BROKEN_BASE: [&str; 6] = [
    "--image-names",
    "broken",
    "--cut-off",
    "30d",
    "--output",
    "json",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_ghost_image_selectable() {
    let s = broken_world().await;
    let a = [&BROKEN_BASE[..], &["--delete-ghost-images"]].concat();
    let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, &a]), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let g = broken_decision(&s, &doc, "ghost");
    assert_eq!(g["action"], "delete", "{g}");
    assert_eq!(g["reasons"][0]["rule"], "delete-ghost-images");
    assert_eq!(g["reasons"][0]["how"]["kind"], "broken");
    assert_eq!(g["reasons"][0]["how"]["state"], "ghost");
    assert_eq!(
        g["reasons"][0]["how"]["missing"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(
        g["reason"]
            .as_str()
            .unwrap_or("")
            .contains("2 of its 2 manifests missing"),
        "{}",
        g["reason"]
    );
    // The partial image is not a ghost: kept, with why.
    let p = broken_decision(&s, &doc, "partial");
    assert_eq!(p["action"], "keep", "{p}");
    assert!(p["reasons"][0]["misses"]
        .as_array()
        .expect("misses")
        .iter()
        .any(|m| m["kind"] == "not_broken" && m["wanted"] == "ghost"));
    assert_eq!(broken_decision(&s, &doc, "whole")["action"], "keep");
    assert_eq!(doc["totals"]["delete"], 1, "{}", doc["totals"]);

    // Applied: the ghost index is gone; nothing else was touched.
    let a = [&BROKEN_BASE[..], &["--delete-ghost-images"]].concat();
    let r = regsweep(&s, &args("apply", &[&ACME_ADMIN, &a]), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ghost_root = s.image("acme", "broken", "ghost").expect("pushed").root.0;
    let alive: Vec<_> = s.versions("acme", "broken").iter().map(|v| v.id).collect();
    assert!(!alive.contains(&ghost_root));
    assert_eq!(
        alive.len(),
        1 + 1 + 3,
        "partial (index + one platform) and whole"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_partial_image_selectable() {
    let s = broken_world().await;
    // Through the environment variable, as the Action sets it.
    let r = regsweep(
        &s,
        &args("plan", &[&ACME_ADMIN, &BROKEN_BASE]),
        &[("REGSWEEP_DELETE_PARTIAL_IMAGES", "true")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let p = broken_decision(&s, &doc, "partial");
    assert_eq!(p["action"], "delete", "{p}");
    assert_eq!(p["reasons"][0]["how"]["state"], "partial");
    assert_eq!(p["reasons"][0]["how"]["listed"], 2);
    assert_eq!(
        p["reasons"][0]["how"]["missing"].as_array().map(Vec::len),
        Some(1)
    );
    // What only the partial image needed goes with it: its remaining platform.
    let image = s.image("acme", "broken", "partial").expect("pushed");
    let alive: Vec<_> = s.versions("acme", "broken").iter().map(|v| v.id).collect();
    let left: Vec<_> = image
        .manifests
        .iter()
        .filter(|m| m.role.starts_with("platform") && alive.contains(&m.id))
        .collect();
    assert_eq!(left.len(), 1);
    let d = decisions(&doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["id"].as_u64() == Some(left[0].id.0))
        .expect("decided");
    assert_eq!(d["action"], "delete", "{d}");
    assert_eq!(d["reasons"][0]["kind"], "deleted_with", "{d}");
    assert_eq!(broken_decision(&s, &doc, "ghost")["action"], "keep");

    // A policy file says the same with `broken: any`.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        "version: 1\nrules:\n  - name: broken\n    action: delete\n    broken: any\n",
    )
    .expect("written");
    let (_, doc) = plan(
        &s,
        &[
            "--image-names",
            "broken",
            "--policy",
            path.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_eq!(broken_decision(&s, &doc, "ghost")["action"], "delete");
    assert_eq!(broken_decision(&s, &doc, "partial")["action"], "delete");
    assert_eq!(broken_decision(&s, &doc, "whole")["action"], "keep");
    s.shutdown().await;
}
