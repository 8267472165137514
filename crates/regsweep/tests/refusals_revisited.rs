//! Refusals met at delete time update the plan during the run (issue 11, item 5):
//! when GitHub refuses to delete a popular public tagged version, it stays, so the
//! version the plan skipped as the last tagged version is deleted in the same run.
//! The real binary against the emulator and the real registry.

mod common;

use common::{args, decisions, regsweep, sim, ACME_ADMIN};
use regsweep_sim::SimOptions;

/// A public package with two old tagged images: `v1` (older, 6,000 downloads: GitHub
/// refuses to delete it) and `v2` (newer, multi-arch: the planner skips the newest
/// old tagged image as the last tagged version).
const WORLD: &str = "      - name: app
        visibility: public
        images:
          - {handle: v1, tags: [v1], age: 60d, downloads: 6000}
          - {handle: v2, tags: [v2], age: 40d, platforms: [linux/amd64, linux/arm64]}
";

const OLD_TAGGED: [&str; 8] = [
    "--image-names",
    "app",
    "--tag-selection",
    "tagged",
    "--cut-off",
    "30d",
    "--output",
    "json",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_popular_version_frees_the_last_tagged_one() {
    let s = sim(&common::acme(WORLD), SimOptions::default()).await;
    let v1 = s.image("acme", "app", "v1").expect("v1").root.0;
    let v2 = s.image("acme", "app", "v2").expect("v2");

    // The plan: v1 deleted, v2 skipped as the last tagged version.
    let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, &OLD_TAGGED]), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let action = |doc: &serde_json::Value, id: u64| {
        decisions(doc)
            .into_iter()
            .find(|(_, d)| d["id"] == id)
            .map(|(_, d)| d.clone())
            .expect("decision")
    };
    assert_eq!(action(&doc, v1.0)["action"], "delete");
    assert_eq!(action(&doc, v2.root.0 .0)["action"], "skip");

    let r = regsweep(&s, &args("apply", &[&ACME_ADMIN, &OLD_TAGGED]), &[]).await;
    assert_eq!(
        r.code, 0,
        "a refusal is a skip, not a failure: {}",
        r.stderr
    );
    let doc = r.json();

    // v1 was refused with GitHub's reason, and stays.
    let d1 = action(&doc, v1.0);
    assert_eq!(d1["outcome"]["status"], "skipped", "{d1}");
    assert_eq!(d1["outcome"]["code"], "too_many_downloads", "{d1}");
    assert!(
        d1["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("more than 5000 downloads"),
        "{d1}"
    );
    // v2 is no longer the last tagged version: deleted in the same run, with why.
    let d2 = action(&doc, v2.root.0 .0);
    assert_eq!(d2["action"], "delete", "{d2}");
    assert_eq!(d2["outcome"]["status"], "deleted", "{d2}");
    assert_eq!(d2["reasons"][0]["kind"], "no_longer_last_tagged", "{d2}");
    assert_eq!(d2["reasons"][0]["kept"]["id"], v1.0, "{d2}");
    assert_eq!(
        d2["reason"],
        format!(
            "no longer the last tagged version: app:v1 (id {}) stays, GitHub refused to delete it",
            v1.0
        )
    );
    // Its platform manifests go with it, after it (an index before its children).
    let order: Vec<u64> = doc["delete_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    let at = |id: u64| {
        order
            .iter()
            .position(|&x| x == id)
            .expect("in delete_order")
    };
    let children: Vec<u64> = v2
        .manifests
        .iter()
        .map(|m| m.id.0)
        .filter(|&id| id != v2.root.0 .0)
        .collect();
    assert_eq!(children.len(), 2, "{:?}", v2.manifests);
    for &c in &children {
        assert!(at(v2.root.0 .0) < at(c), "index before child: {order:?}");
        assert_eq!(action(&doc, c)["outcome"]["status"], "deleted");
    }
    assert!(at(v1.0) < at(v2.root.0 .0), "{order:?}");
    assert_eq!(doc["totals"]["failed"], 0, "{}", doc["totals"]);
    assert_eq!(doc["totals"]["left"], 0, "{}", doc["totals"]);

    // The emulator: only the popular v1 is left.
    let active: Vec<u64> = s.versions("acme", "app").iter().map(|v| v.id.0).collect();
    assert_eq!(active, [v1.0], "only the refused version stays");
    s.shutdown().await;
}

/// Bug (issue 11): GitHub refusing to delete a multi-arch index (6,000 downloads)
/// left its platform manifests `left` / `earlier_failure`, so every run exited 1.
/// The index stays, so its children stay with it: `skipped` / `index_remains`, and
/// the run exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_multi_arch_index_keeps_its_children_and_exits_0() {
    let world = "      - name: app
        visibility: public
        images:
          - {handle: hot, tags: [hot], age: 60d, downloads: 6000, platforms: [linux/amd64, linux/arm64]}
          - {handle: new, tags: [new], age: 5d}
";
    let s = sim(&common::acme(world), SimOptions::default()).await;
    let hot = s.image("acme", "app", "hot").expect("hot");
    let before = s.versions("acme", "app").len();
    for run in 0..2 {
        let r = regsweep(&s, &args("apply", &[&ACME_ADMIN, &OLD_TAGGED]), &[]).await;
        assert_eq!(
            r.code, 0,
            "run {run}: a refused index is no failure: {}",
            r.stderr
        );
        let doc = r.json();
        let outcome = |id: u64| {
            decisions(&doc)
                .into_iter()
                .find(|(_, d)| d["id"] == id)
                .map(|(_, d)| d["outcome"].clone())
                .expect("decision")
        };
        let root = outcome(hot.root.0 .0);
        assert_eq!(root["status"], "skipped", "{root}");
        assert_eq!(root["code"], "too_many_downloads", "{root}");
        let children: Vec<u64> = hot
            .manifests
            .iter()
            .map(|m| m.id.0)
            .filter(|&id| id != hot.root.0 .0)
            .collect();
        assert_eq!(children.len(), 2, "{:?}", hot.manifests);
        for c in children {
            let o = outcome(c);
            assert_eq!(o["status"], "skipped", "{o}");
            assert_eq!(o["code"], "index_remains", "{o}");
            assert!(
                o["reason"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("version {} (its index) stays", hot.root.0 .0)),
                "{o}"
            );
        }
        assert_eq!(doc["totals"]["failed"], 0, "{}", doc["totals"]);
        assert_eq!(doc["totals"]["left"], 0, "{}", doc["totals"]);
        // Nothing was deleted: the image is whole.
        assert_eq!(s.versions("acme", "app").len(), before);
    }
    let v = common::validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}", v.stderr);
    s.shutdown().await;
}
