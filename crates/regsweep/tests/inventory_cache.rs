//! The inventory cache (`--cache-dir`): a run lists only the pages of new versions
//! and takes the rest from the cache, and never decides worse for it. Through the
//! binary, against the emulator, with the account changed between runs.

mod common;

use std::path::Path;

use common::*;
use regsweep_sim::{FailNext, FaultConfig, Sim, SimOptions};
use serde_json::Value;

/// The route of the versions listing, as the emulator names it.
const LIST: &str = "GET /orgs/{org}/packages/{package_type}/{package_name}/versions";
const GET_VERSION: &str =
    "GET /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}";

/// Tagged versions older than `cut` are deleted, except the newest `keep`.
fn policy<'a>(keep: &'a str, cut: &'a str) -> Vec<&'a str> {
    vec![
        "--image-names",
        "app",
        "--cut-off",
        cut,
        "--tag-selection",
        "tagged",
        "--keep-n-most-recent",
        keep,
        "--graph",
        "skip",
        "--output",
        "json",
    ]
}

/// `regsweep SUB` with `policy(keep, "30d")`, with the cache in `cache` when given.
async fn run(sim: &Sim, sub: &str, keep: &str, cache: Option<&Path>, extra: &[&str]) -> Run {
    run_cut(sim, sub, keep, "30d", cache, extra).await
}

/// [`run`] with the cut-off `cut`.
async fn run_cut(
    sim: &Sim,
    sub: &str,
    keep: &str,
    cut: &str,
    cache: Option<&Path>,
    extra: &[&str],
) -> Run {
    let mut a: Vec<&str> = vec![sub];
    a.extend(ACME_ADMIN);
    a.extend(policy(keep, cut));
    let dir;
    if let Some(c) = cache {
        dir = c.display().to_string();
        a.extend(["--cache-dir", dir.as_str()]);
    }
    a.extend(extra);
    regsweep(sim, &a, &[]).await
}

/// Requests of `route` made since `mark` requests had been served.
fn count_since(sim: &Sim, mark: usize, route: &str) -> usize {
    sim.requests()[mark..]
        .iter()
        .filter(|r| r.route == route)
        .count()
}

/// What a plan decided: every package's decisions and the totals (not the request
/// counts or timings, which a cache changes by design).
fn decided(doc: &Value) -> Value {
    serde_json::json!({"packages": doc["packages"], "totals": doc["totals"]})
}

/// The decision of version `id`, if planned.
fn decision(doc: &Value, id: u64) -> Option<Value> {
    decisions(doc)
        .into_iter()
        .find(|(_, d)| d["id"].as_u64() == Some(id))
        .map(|(_, d)| d.clone())
}

/// Ids of the versions kept as one of the newest N.
fn kept_as_newest(doc: &Value) -> Vec<u64> {
    decisions(doc)
        .into_iter()
        .filter(|(_, d)| d["action"] == "keep")
        .filter(|(_, d)| {
            d["reasons"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r["how"]["kind"] == "newest"))
        })
        .map(|(_, d)| d["id"].as_u64().unwrap())
        .collect()
}

/// Active tagged versions of `acme/app`, newest first.
fn tagged(sim: &Sim) -> Vec<u64> {
    sim.versions("acme", "app")
        .into_iter()
        .filter(|v| !v.tags.is_empty())
        .map(|v| v.id.0)
        .collect()
}

/// The package `app` of `versions` generated versions.
async fn app(versions: usize) -> Sim {
    sim(
        &acme(&generated("app", versions, 11)),
        SimOptions::default(),
    )
    .await
}

fn the_cache_files(dir: &Path) -> Vec<std::path::PathBuf> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("inventory"), &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_cache_lists_only_the_pages_of_new_versions() {
    let s = app(950).await;
    let cache = tempfile::tempdir().unwrap();
    // Few deletions: each one comes from the cache and is re-read.
    let first = run_cut(&s, "plan", "5", "330d", Some(cache.path()), &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        count_since(&s, 0, LIST),
        10,
        "a cold cache lists every page"
    );
    assert_eq!(the_cache_files(cache.path()).len(), 1);
    s.push_versions(
        "acme",
        "app",
        (0..120).map(|i| vec![format!("new-{i}")]).collect(),
    );
    let mark = s.requests().len();
    let warm = run_cut(&s, "plan", "5", "330d", Some(cache.path()), &[]).await;
    assert_eq!(warm.code, 0, "{}", warm.stderr);
    // 120 new versions: pages 1 and 2 hold them and reach the cache.
    assert_eq!(count_since(&s, mark, LIST), 2, "{}", warm.stderr);
    let cold = run_cut(&s, "plan", "5", "330d", None, &[]).await;
    assert_eq!(decided(&warm.json()), decided(&cold.json()));
    s.shutdown().await;
}

/// Case (a): a version deleted since the cache while another was pushed. The
/// joined count is one more than GitHub's, so the package is listed in full: the
/// ghost never takes one of the newest N places.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ghost_deleted_while_one_pushed_never_keeps_fewer_than_n() {
    let s = app(350).await;
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        run(&s, "plan", "150", Some(cache.path()), &[]).await.code,
        0
    );
    // One of the 150 newest tagged, deep in the cached pages, is deleted.
    let ghost = tagged(&s)[120];
    assert!(s.delete_version("acme", "app", ghost));
    s.push_versions("acme", "app", vec![vec![]]);
    let warm = run(&s, "plan", "150", Some(cache.path()), &[]).await;
    assert_eq!(warm.code, 0, "{}", warm.stderr);
    let doc = warm.json();
    assert!(decision(&doc, ghost).is_none(), "the ghost is not planned");
    assert_eq!(kept_as_newest(&doc).len(), 150);
    let cold = run(&s, "plan", "150", None, &[]).await;
    assert_eq!(decided(&doc), decided(&cold.json()));
    s.shutdown().await;
}

/// Case (a), the count fooled: a cached version deleted while an older deleted one
/// was restored. The pages join and the count agrees, so the cache holds a ghost
/// among the newest N; re-reading the versions counted finds it gone, and the
/// package is listed in full before anything is decided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ghost_with_a_restore_is_found_by_rereading_the_newest_n() {
    let s = app(350).await;
    let before = tagged(&s);
    let restored = before[200];
    assert!(s.delete_version("acme", "app", restored));
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        run(&s, "plan", "150", Some(cache.path()), &[]).await.code,
        0
    );
    let ghost = tagged(&s)[120];
    assert!(s.delete_version("acme", "app", ghost));
    assert!(s.restore_version("acme", "app", restored));
    let mark = s.requests().len();
    let warm = run(&s, "plan", "150", Some(cache.path()), &[]).await;
    assert_eq!(warm.code, 0, "{}", warm.stderr);
    assert!(
        count_since(&s, mark, GET_VERSION) > 0,
        "cached versions re-read"
    );
    let doc = warm.json();
    assert!(
        decision(&doc, ghost).is_none(),
        "the ghost is not planned: {:?}\n{}",
        decision(&doc, ghost),
        warm.stderr
    );
    assert!(
        decision(&doc, restored).is_some(),
        "the restored version is planned"
    );
    assert_eq!(kept_as_newest(&doc).len(), 150);
    let cold = run(&s, "plan", "150", None, &[]).await;
    assert_eq!(decided(&doc), decided(&cold.json()));
    s.shutdown().await;
}

/// Case (b): `stable` retagged onto an old version (a rollback). GitHub keeps it at
/// its place, so the new pages do not show it and the cache says it is an old
/// tagged version to delete; it is re-read before deleting, found changed, and the
/// package listed in full: it is kept, and nothing else is deleted that a run
/// without the cache would keep. The deletions are then taken out of the cache:
/// the next run lists one page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_tag_on_an_old_cached_version_is_never_deleted() {
    let s = app(250).await;
    let cache = tempfile::tempdir().unwrap();
    let first = run_cut(&s, "plan", "5", "300d", Some(cache.path()), &[]).await;
    let oldest_tagged = *tagged(&s).last().unwrap();
    assert_eq!(
        decision(&first.json(), oldest_tagged).unwrap()["action"],
        "delete",
        "the cache plans it deleted"
    );
    assert!(s.move_tag("acme", "app", "stable", oldest_tagged));
    let cold = run_cut(&s, "plan", "5", "300d", None, &[]).await;
    let applied = run_cut(&s, "apply", "5", "300d", Some(cache.path()), &[]).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(
        !app_deleted(&s).contains(&oldest_tagged),
        "the retagged version was deleted"
    );
    let doc = applied.json();
    assert_eq!(decision(&doc, oldest_tagged).unwrap()["action"], "keep");
    assert_eq!(actions(&doc), actions(&cold.json()));
    assert!(!app_deleted(&s).is_empty());
    let mark = s.requests().len();
    let after = run_cut(&s, "plan", "5", "300d", Some(cache.path()), &[]).await;
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert_eq!(count_since(&s, mark, LIST), 1, "{}", after.stderr);
    s.shutdown().await;
}

/// Case (c): a tag moved from a cached version onto a new one: the new page's data
/// wins, the cached version loses the tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_moved_from_a_cached_version_to_a_new_one_fresh_data_wins() {
    let s = app(250).await;
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(run(&s, "plan", "5", Some(cache.path()), &[]).await.code, 0);
    let old = s
        .versions("acme", "app")
        .into_iter()
        .skip(150)
        .find(|v| v.tags.len() == 1)
        .unwrap();
    let tag = old.tags[0].clone();
    let new = s.push_versions("acme", "app", vec![vec![tag.clone()]]);
    let warm = run(&s, "plan", "5", Some(cache.path()), &[]).await;
    assert_eq!(warm.code, 0, "{}", warm.stderr);
    let doc = warm.json();
    assert_eq!(
        decision(&doc, new[0]).unwrap()["tags"],
        serde_json::json!([tag])
    );
    assert_eq!(
        decision(&doc, old.id.0).unwrap()["tags"],
        serde_json::json!([])
    );
    let cold = run(&s, "plan", "5", None, &[]).await;
    assert_eq!(decided(&doc), decided(&cold.json()));
    s.shutdown().await;
}

/// Case (d): a torn, foreign or other-version cache file is ignored with a warning,
/// and the package listed in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_corrupt_or_foreign_cache_file_is_ignored_with_a_warning() {
    let s = app(250).await;
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(run(&s, "plan", "5", Some(cache.path()), &[]).await.code, 0);
    let file = the_cache_files(cache.path()).pop().unwrap();
    let good = std::fs::read_to_string(&file).unwrap();
    let cold = run(&s, "plan", "5", None, &[]).await;
    for (what, text) in [
        ("torn", good[..good.len() / 2].to_string()),
        ("corrupt", "\u{0}garbage".to_string()),
        (
            "another format version",
            good.replace("\"format_version\":1", "\"format_version\":99"),
        ),
        (
            "another package",
            good.replace("\"package\":\"app\"", "\"package\":\"other\""),
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let mark = s.requests().len();
        let r = run(&s, "plan", "5", Some(cache.path()), &[]).await;
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains("ignoring the inventory cache"),
            "{what}: {}",
            r.stderr
        );
        assert_eq!(count_since(&s, mark, LIST), 3, "{what}: listed in full");
        assert_eq!(decided(&r.json()), decided(&cold.json()), "{what}");
    }
    s.shutdown().await;
}

/// Case (e): `--graph read`, `explain` and `validate` decide the same with a warm
/// cache as without one, after the same account changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_explain_and_validate_are_the_same_with_or_without_the_cache() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().display().to_string();
    let graph = [
        "--image-names",
        "app",
        "--cut-off",
        "30d",
        "--tag-selection",
        "untagged",
        "--graph",
        "read",
        "--output",
        "json",
    ];
    let with = ["--cache-dir", dir.as_str()];
    let plan = |cached: bool| {
        let mut a = args("plan", &[&ACME_ADMIN, &graph]);
        if cached {
            a.extend(with);
        }
        a
    };
    assert_eq!(regsweep(&s, &plan(true), &[]).await.code, 0);
    s.push_versions("acme", "app", vec![vec!["v2".into()], vec![]]);
    let warm = regsweep(&s, &plan(true), &[]).await;
    let cold = regsweep(&s, &plan(false), &[]).await;
    assert_eq!(warm.code, cold.code, "{}", warm.stderr);
    assert_eq!(decided(&warm.json()), decided(&cold.json()));
    let explain: &[&str] = &["app:v0", "--cut-off", "30d", "--tag-selection", "untagged"];
    for (sub, extra) in [("explain", explain), ("validate", &[][..])] {
        let mut a = args(sub, &[extra, &ACME_ADMIN, &["--image-names", "app"]]);
        let cold = regsweep(&s, &a, &[]).await;
        a.extend(with);
        let _fill = regsweep(&s, &a, &[]).await;
        let warm = regsweep(&s, &a, &[]).await;
        assert_eq!(warm.code, cold.code, "{sub}: {}", warm.stderr);
        assert_eq!(warm.stdout, cold.stdout, "{sub}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_inventory_cache_lists_every_page_and_keeps_no_listing() {
    let s = app(250).await;
    let cache = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let mark = s.requests().len();
        let r = run(
            &s,
            "plan",
            "5",
            Some(cache.path()),
            &["--no-inventory-cache"],
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(count_since(&s, mark, LIST), 3);
    }
    assert!(the_cache_files(cache.path()).is_empty());
    s.shutdown().await;
}

/// Faults: the next `count` requests whose path holds `path` answer `status`.
fn fail_page(count: u32, status: u16, path: &str) -> FaultConfig {
    FaultConfig {
        fail_next: Some(FailNext {
            count,
            status,
            method: Some("GET".into()),
            path_contains: Some(path.into()),
        }),
        ..FaultConfig::default()
    }
}

/// A 5xx deep in a long listing is retried for that page alone: the pages before
/// it are not read again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_deep_in_the_listing_is_retried_for_that_page_alone() {
    let s = app(2500).await;
    s.set_faults(fail_page(2, 502, "&page=21"));
    let r = run(&s, "plan", "5", None, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(count_since(&s, 0, LIST), 25 + 2);
    assert_eq!(s.stats().faults_injected, 2);
    s.shutdown().await;
}

/// A listing that fails part-way keeps its first pages in the cache; the next run
/// reads the new versions' page, then goes on from the page where it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_listing_resumes_where_it_stopped() {
    let s = app(2500).await;
    let cache = tempfile::tempdir().unwrap();
    s.set_faults(fail_page(50, 502, "&page=13"));
    let failed = run(&s, "plan", "5", Some(cache.path()), &["--max-retries", "1"]).await;
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    s.set_faults(FaultConfig::default());
    s.push_versions("acme", "app", (0..30).map(|_| vec![]).collect());
    let mark = s.requests().len();
    let resumed = run(&s, "plan", "5", Some(cache.path()), &[]).await;
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    // 1,200 versions were kept; 30 are new: page 1 reaches them, then pages 13 to
    // 26 (the page of the last known version, and the rest).
    assert_eq!(count_since(&s, mark, LIST), 1 + 14, "{}", resumed.stderr);
    let cold = run(&s, "plan", "5", None, &[]).await;
    assert_eq!(decided(&resumed.json()), decided(&cold.json()));
    s.shutdown().await;
}
