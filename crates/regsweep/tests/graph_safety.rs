//! End to end on real images pushed into the real registry behind the emulator:
//! kept images are never broken (issue: multi-arch, signatures, attestations).

mod common;

use common::{acme, args, regsweep, sim, validate, Run, ACME_ADMIN, APP_GRAPH};
use regsweep_core::Digest;
use regsweep_sim::{Sim, SimOptions};

/// `regsweep apply` over `app` with `select` (the tag selection and its patterns),
/// cut-off one week, JSON output.
async fn apply_app(s: &Sim, select: &[&str]) -> Run {
    regsweep(
        s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &["--image-names", "app"],
                select,
                &["--cut-off", "1w", "--output", "json"],
            ],
        ),
        &[],
    )
    .await
}

/// The digests of `app` the emulator still holds.
fn left(s: &Sim) -> Vec<Digest> {
    s.versions("acme", "app")
        .into_iter()
        .map(|v| v.digest)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_run_keeps_platform_manifests_of_a_tagged_index() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = s.image("acme", "app", "v1").expect("v1 pushed");
    let orphan = s.image("acme", "app", "orphan").expect("orphan pushed");
    let r = apply_app(&s, &["--tag-selection", "untagged"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left = left(&s);
    for m in &v1.manifests {
        assert!(left.contains(&m.digest), "{} of v1 must survive", m.role);
    }
    assert!(!left.contains(&orphan.root.1), "the orphan is deleted");
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("all complete"), "{}", v.stdout);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_old_index_removes_its_children_and_signature() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v0 = s.image("acme", "app", "v0").expect("v0 pushed");
    let v1 = s.image("acme", "app", "v1").expect("v1 pushed");
    let r = apply_app(&s, &["--tag-selection", "tagged", "--image-tags", "v0"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left = left(&s);
    for m in &v0.manifests {
        assert!(
            !left.contains(&m.digest),
            "{} of v0 must go with it",
            m.role
        );
    }
    for m in &v1.manifests {
        assert!(left.contains(&m.digest), "{} of v1 must stay", m.role);
    }
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    s.shutdown().await;
}

/// Manifests of `repo` served (GET answered 200) by the emulator's registry surface.
fn manifest_gets(s: &Sim, repo: &str) -> Vec<String> {
    manifest_answers(s, repo, 200)
}

/// Manifest GETs of `repo` the emulator answered with `status`.
fn manifest_answers(s: &Sim, repo: &str, status: u16) -> Vec<String> {
    let prefix = format!("/v2/{repo}/manifests/");
    s.requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&prefix) && r.status == Some(status))
        .map(|r| r.path[prefix.len()..].to_string())
        .collect()
}

/// `app` (old images) and `fresh` (nothing older than a week), in `acme`.
const TWO_PACKAGES: &str = r#"      - name: app
        visibility: private
        images:
          - {handle: v0, tags: [v0], age: 60d, platforms: [linux/amd64, linux/arm64], signature: true}
          - {handle: v1, tags: [v1], age: 40d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true}
          - {handle: orphan, tags: [], age: 40d}
      - name: fresh
        visibility: private
        images:
          - {handle: f1, tags: [f1], age: 1d, platforms: [linux/amd64, linux/arm64], signature: true}
          - {handle: f0, tags: [], age: 2d}
"#;

/// Issue 5, cost: manifests are read only for packages where the policy can delete
/// something, each digest at most once a run, and not at all from a warm cache;
/// the report counts the reads. `validate` and `explain` read every package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_are_read_once_and_only_where_something_can_be_deleted() {
    let s = sim(&acme(TWO_PACKAGES), SimOptions::default()).await;
    let cache = tempfile::tempdir().unwrap();
    let app_versions = s.versions("acme", "app");
    let cache_dir = cache.path().to_str().unwrap().to_string();
    let plan_args = args(
        "plan",
        &[
            &ACME_ADMIN,
            &["--image-names", "app,fresh", "--tag-selection", "untagged"],
            &["--cut-off", "1w", "--output", "json"],
            &["--cache-dir", &cache_dir],
        ],
    );
    let run = || regsweep(&s, &plan_args, &[]);
    let r = run().await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();

    // `fresh` has nothing older than a week: its manifests are not read at all, and
    // its plan carries no finding about that (nothing depended on them).
    assert!(manifest_gets(&s, "acme/fresh").is_empty());
    let fresh = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fresh")
        .expect("fresh planned");
    assert_eq!(fresh["findings"].as_array().unwrap().len(), 0, "{fresh}");
    for d in fresh["decisions"].as_array().unwrap() {
        assert_eq!(d["action"], "keep", "{d}");
    }

    // `app`: every manifest that decides read exactly once (every tagged root, and
    // the rest but the platform manifests of kept images, issue 13), and the counts
    // reported.
    let gets = manifest_gets(&s, "acme/app");
    let distinct: std::collections::BTreeSet<&String> = gets.iter().collect();
    assert_eq!(distinct.len(), gets.len(), "a digest read twice: {gets:?}");
    for v in app_versions.iter().filter(|v| !v.tags.is_empty()) {
        assert!(
            distinct.contains(&v.digest.to_string()),
            "{} not read",
            v.digest
        );
    }
    let not_read = doc["requests"]["manifests_not_read"].as_u64().unwrap();
    assert!(not_read > 0, "{}", doc["requests"]);
    assert_eq!(gets.len() as u64 + not_read, app_versions.len() as u64);
    assert_eq!(doc["requests"]["manifest_requests"], gets.len() as u64);
    assert_eq!(doc["requests"]["manifest_cache_hits"], 0);
    // Only the first request learns that the registry wants a bearer token; the
    // concurrent rest wait for it instead of each collecting a 401.
    assert_eq!(manifest_answers(&s, "acme/app", 401).len(), 1);

    // The same plan from a warm cache reads nothing from the registry.
    let again = run().await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let doc2 = again.json();
    assert_eq!(manifest_gets(&s, "acme/app").len(), gets.len());
    assert_eq!(doc2["requests"]["manifest_requests"], 0);
    assert_eq!(doc2["requests"]["manifest_cache_hits"], gets.len() as u64);
    assert_eq!(common::actions(&doc), common::actions(&doc2));

    // validate checks every package, so it reads `fresh` too.
    let v = validate(&s, "app,fresh").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    let fresh_versions = s.versions("acme", "fresh");
    let fresh_gets = manifest_gets(&s, "acme/fresh");
    for fv in &fresh_versions {
        assert!(
            fresh_gets.contains(&fv.digest.to_string()),
            "validate read {}",
            fv.digest
        );
    }
    s.shutdown().await;
}

/// With `--graph skip` nothing is read: untagged versions a rule selects are kept
/// for safety, and the plan says why, once per package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_skip_keeps_selected_untagged_versions_and_says_so() {
    let s = sim(&acme(TWO_PACKAGES), SimOptions::default()).await;
    let r = regsweep(
        &s,
        &args(
            "plan",
            &[
                &ACME_ADMIN,
                &["--image-names", "app", "--tag-selection", "untagged"],
                &["--cut-off", "1w", "--output", "json", "--graph", "skip"],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    assert!(manifest_gets(&s, "acme/app").is_empty());
    assert_eq!(doc["totals"]["delete"], 0, "nothing deleted blind");
    let app = &doc["packages"][0];
    let untagged: Vec<_> = app["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["tags"].as_array().unwrap().is_empty())
        .collect();
    assert!(!untagged.is_empty());
    for d in &untagged {
        assert_eq!(d["reasons"][0]["kind"], "graph_not_read", "{d}");
    }
    let findings = app["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["detail"]["kind"], "not_read");
    assert_eq!(findings[0]["detail"]["kept"], untagged.len() as u64);
    s.shutdown().await;
}

/// Issue 13: tagged multi-arch images, an untagged one whose tag moved, and a lone
/// untagged manifest.
const MULTI_ARCH: &str = r#"      - name: app
        visibility: private
        images:
          - {handle: v1, tags: [v1], age: 60d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true}
          - {handle: v2, tags: [v2], age: 40d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true}
          - {handle: v3, tags: [v3], age: 20d, platforms: [linux/amd64, linux/arm64], signature: true}
          - {handle: moved, tags: [], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: lone, tags: [], age: 30d}
"#;

/// Issue 13 item 1: an untagged-only policy reads the roots and what it could
/// delete, never the platform manifests of the kept images, and decides exactly as
/// reading every manifest does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_only_reads_the_roots_and_what_may_go_and_decides_as_reading_all() {
    let s = sim(&acme(MULTI_ARCH), SimOptions::default()).await;
    let versions = s.versions("acme", "app");
    let tagged = versions.iter().filter(|v| !v.tags.is_empty()).count();
    let select = [
        "--image-names",
        "app",
        "--tag-selection",
        "untagged",
        "--cut-off",
        "1w",
        "--output",
        "json",
    ];
    let demand = regsweep(&s, &args("plan", &[&ACME_ADMIN, &select]), &[]).await;
    assert_eq!(demand.code, 0, "{}", demand.stderr);
    let doc = demand.json();
    let reads = manifest_gets(&s, "acme/app");
    assert!(
        reads.len() < versions.len(),
        "{} manifests read of {} versions",
        reads.len(),
        versions.len()
    );
    // The roots (tagged versions, signatures included), the moved image and its two
    // platforms, the lone manifest; nothing else.
    assert_eq!(reads.len(), tagged + 4, "{reads:?}");
    for v in versions.iter().filter(|v| !v.tags.is_empty()) {
        assert!(
            reads.contains(&v.digest.to_string()),
            "root {} not read",
            v.digest
        );
    }
    let requests = &doc["requests"];
    assert_eq!(requests["manifest_requests"], reads.len() as u64);
    assert_eq!(requests["manifest_roots"], tagged as u64);
    assert_eq!(
        requests["manifests_not_read"],
        (versions.len() - reads.len()) as u64,
        "{requests}"
    );

    let every_args = args("plan", &[&ACME_ADMIN, &select, &["--read-every-manifest"]]);
    let every = regsweep(&s, &every_args, &[]).await;
    assert_eq!(every.code, 0, "{}", every.stderr);
    let all_reads = manifest_gets(&s, "acme/app").len() - reads.len();
    assert_eq!(all_reads, versions.len());
    assert_eq!(every.json()["requests"]["manifests_not_read"], 0);
    assert_eq!(common::actions(&doc), common::actions(&every.json()));
    // The moved image, its platforms and the lone manifest go; nothing else.
    let deleted = common::actions(&doc)
        .into_iter()
        .filter(|(_, _, a)| a == "delete")
        .count();
    assert_eq!(deleted, 4);
    s.shutdown().await;
}
