//! Hostile listings (issue 12, "strict parsing"): a package whose listing cannot be
//! read is left untouched, named in every report, and the run exits 1; the other
//! packages are handled. Package names are checked before they become URL segments;
//! a 403 on a package is a token problem (exit 2).

mod common;

use common::{acme, args, read, regsweep, sim, validate, Run, ACME_ADMIN, APP_GRAPH};
use regsweep_sim::{CorruptEntry, FaultConfig, Sim, SimOptions};
use serde_json::{json, Value};

/// `app` (real images) and `lib`: a tagged image and an old untagged orphan.
fn two_packages() -> String {
    format!(
        "{APP_GRAPH}      - name: lib
        visibility: private
        images:
          - {{handle: l1, tags: [l1], age: 40d}}
          - {{handle: lo, tags: [], age: 40d}}
"
    )
}

/// Rewrites `pointer` of the entry of version `id` of `package` (the package entry
/// itself when `id` is `None`); `value` `None` removes the field.
fn corrupt(package: &str, id: Option<u64>, pointer: &str, value: Option<Value>) -> CorruptEntry {
    CorruptEntry {
        package: package.into(),
        version_id: id,
        pointer: pointer.into(),
        remove: value.is_none(),
        value: value.unwrap_or(Value::Null),
    }
}

fn hostile(entries: Vec<CorruptEntry>) -> FaultConfig {
    FaultConfig {
        corrupt_entries: entries,
        ..FaultConfig::default()
    }
}

/// The version id of the image `handle` of `app` (its index, for a multi-arch one).
fn root_id(s: &Sim, handle: &str) -> u64 {
    s.image("acme", "app", handle)
        .expect("image pushed")
        .root
        .0
         .0
}

/// `apply` of untagged versions older than a week in `names`, JSON output.
async fn apply_untagged(s: &Sim, names: &str, env: &[(&str, &str)]) -> Run {
    regsweep(
        s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &["--image-names", names, "--tag-selection", "untagged"],
                &["--cut-off", "1w", "--output", "json"],
            ],
        ),
        env,
    )
    .await
}

/// Requests the emulator saw with `method`.
fn requests_with(s: &Sim, method: &str) -> Vec<String> {
    s.requests()
        .into_iter()
        .filter(|r| r.method == method)
        .map(|r| r.path)
        .collect()
}

/// Checks `app` was left alone and reported unreadable for `field` (and `version`).
fn assert_app_untouched(s: &Sim, before: usize, r: &Run, field: &str, version: Option<u64>) {
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(s.versions("acme", "app").len(), before, "nothing deleted");
    let in_app: Vec<_> = requests_with(s, "DELETE")
        .into_iter()
        .filter(|p| p.contains("/container/app/"))
        .collect();
    assert!(in_app.is_empty(), "{in_app:?}");
    let doc = r.json();
    let unreadable = doc["unreadable_packages"]
        .as_array()
        .expect("unreadable_packages");
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    let u = &unreadable[0];
    assert_eq!(u["package"], "app", "{u}");
    assert_eq!(u["field"], field, "{u}");
    assert_eq!(u["version"].as_u64(), version, "{u}");
    assert!(
        !doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "app"),
        "app is not planned"
    );
    assert!(
        r.stderr.contains("package `app` cannot be read"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(field), "{}", r.stderr);
    assert!(r.stderr.contains("help:"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_entry_tags_string_keeps_package() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = root_id(&s, "v1");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(v1),
        "/metadata/container/tags",
        Some(json!("v1")),
    )]));
    let before = s.versions("acme", "app").len();
    let r = apply_untagged(&s, "app", &[]).await;
    assert_app_untouched(&s, before, &r, "metadata.container.tags", Some(v1));
    assert_eq!(
        r.json()["unreadable_packages"][0]["problem"],
        "malformed_entry"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_entry_id_string_keeps_package() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = root_id(&s, "v1");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(v1),
        "/id",
        Some(json!(v1.to_string())),
    )]));
    let before = s.versions("acme", "app").len();
    let r = apply_untagged(&s, "app", &[]).await;
    assert_app_untouched(&s, before, &r, "id", None);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_metadata_is_not_untagged() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v0 = root_id(&s, "v0");
    s.set_faults(hostile(vec![corrupt("app", Some(v0), "/metadata", None)]));
    let before = s.versions("acme", "app").len();
    let r = apply_untagged(&s, "app", &[]).await;
    assert_app_untouched(&s, before, &r, "metadata", Some(v0));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_container_metadata_is_not_untagged() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v0 = root_id(&s, "v0");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(v0),
        "/metadata/container",
        Some(Value::Null),
    )]));
    let before = s.versions("acme", "app").len();
    let r = apply_untagged(&s, "app", &[]).await;
    assert_app_untouched(&s, before, &r, "metadata.container", Some(v0));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_version_id_keeps_package() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = root_id(&s, "v1");
    let orphan = root_id(&s, "orphan");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(orphan),
        "/id",
        Some(json!(v1)),
    )]));
    let before = s.versions("acme", "app").len();
    let r = apply_untagged(&s, "app", &[]).await;
    assert_app_untouched(&s, before, &r, "id", Some(v1));
    assert_eq!(
        r.json()["unreadable_packages"][0]["problem"],
        "duplicate_id"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_packages_finish_when_one_is_unknown() {
    let s = sim(&acme(&two_packages()), SimOptions::default()).await;
    let v1 = root_id(&s, "v1");
    let lib_orphan = s.image("acme", "lib", "lo").expect("lo pushed").root.1;
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(v1),
        "/metadata/container/tags",
        Some(json!("v1")),
    )]));
    let before = s.versions("acme", "app").len();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let r = apply_untagged(
        &s,
        "app,lib",
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    )
    .await;
    assert_app_untouched(&s, before, &r, "metadata.container.tags", Some(v1));
    // `lib` was planned and applied: its untagged orphan is gone, its image kept.
    let lib: Vec<_> = s
        .versions("acme", "lib")
        .into_iter()
        .map(|v| v.digest)
        .collect();
    assert!(!lib.contains(&lib_orphan), "lib's orphan is deleted");
    assert_eq!(lib.len(), 1, "lib's tagged image is kept");
    assert_eq!(r.json()["totals"]["deleted"], 1, "{}", r.json()["totals"]);
    // The step summary (Markdown) names the unreadable package.
    let md = read(&summary);
    assert!(md.contains("1 package could not be read"), "{md}");
    assert!(md.contains("package `app` cannot be read"), "{md}");
    // So does the table.
    let table = regsweep(
        &s,
        &args(
            "plan",
            &[
                &ACME_ADMIN,
                &["--image-names", "app,lib", "--cut-off", "1w"],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(table.code, 1, "{}", table.stderr);
    assert!(
        table.stdout.contains("UNREADABLE: 1 package not planned"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("package `app` cannot be read"),
        "{}",
        table.stdout
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_unreadable_package() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = root_id(&s, "v1");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(v1),
        "/metadata/container/tags",
        Some(json!("v1")),
    )]));
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 1, "{}\n{}", v.stdout, v.stderr);
    assert!(!v.stdout.contains("all complete"), "{}", v.stdout);
    assert!(
        v.stdout
            .contains("UNREADABLE  package `app` cannot be read"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("1 package could not be checked"),
        "{}",
        v.stdout
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_named_dotdot_is_refused() {
    // Listed: the entry is reported, no URL is built from it, `app` is handled.
    let s = sim(&acme(&two_packages()), SimOptions::default()).await;
    s.set_faults(hostile(vec![corrupt(
        "lib",
        None,
        "/name",
        Some(json!("..")),
    )]));
    let r = apply_untagged(&s, "*", &[]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let doc = r.json();
    let u = &doc["unreadable_packages"][0];
    assert_eq!(u["package"], "..", "{doc}");
    assert_eq!(u["problem"], "invalid_name", "{u}");
    assert_eq!(u["field"], "name", "{u}");
    assert!(
        r.stderr.contains("not a valid container package name"),
        "{}",
        r.stderr
    );
    for path in s.requests().into_iter().map(|r| r.path) {
        assert!(
            !path.contains("..") && !path.contains("/packages/versions"),
            "{path}"
        );
    }
    assert!(
        doc["totals"]["deleted"].as_u64().unwrap() > 0,
        "app is handled"
    );
    s.shutdown().await;

    // Given by the user: a usage error before any request.
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    for bad in ["..", "app/../x", "a%2Fb", "team//app"] {
        let r = regsweep(
            &s,
            &args(
                "plan",
                &[&ACME_ADMIN, &["--image-names", bad, "--cut-off", "1w"]],
            ),
            &[],
        )
        .await;
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("not a valid container package name"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("help:"), "{}", r.stderr);
    }
    assert_eq!(s.stats().requests, 0, "{:?}", s.requests());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_package_exits_2() {
    let s = sim(&acme(&two_packages()), SimOptions::default()).await;
    s.set_faults(FaultConfig {
        forbidden_packages: vec!["app".into()],
        ..FaultConfig::default()
    });
    // `GET` of a named package answered 403.
    let r = apply_untagged(&s, "app,lib", &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("the token may not read package `app`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("answered 403"), "{}", r.stderr);
    assert!(r.stderr.contains("help:"), "{}", r.stderr);
    // The versions listing of a listed package answered 403.
    let r = apply_untagged(&s, "*", &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("the token may not read package `app`"),
        "{}",
        r.stderr
    );
    assert!(requests_with(&s, "DELETE").is_empty());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_in_unreadable_package_exits_1() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = root_id(&s, "v1");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(v1),
        "/id",
        Some(json!("x")),
    )]));
    let r = regsweep(
        &s,
        &args(
            "explain",
            &[
                &["app:v1"],
                &ACME_ADMIN,
                &["--image-names", "app", "--cut-off", "1w"],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("package `app` cannot be read"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 package could not be read"),
        "{}",
        r.stderr
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_digest_keeps_package() {
    let s = sim(&acme(APP_GRAPH), SimOptions::default()).await;
    let v1 = s.image("acme", "app", "v1").expect("v1 pushed").root.1;
    let orphan = root_id(&s, "orphan");
    s.set_faults(hostile(vec![corrupt(
        "app",
        Some(orphan),
        "/name",
        Some(json!(v1.as_str())),
    )]));
    let v1_id = root_id(&s, "v1");
    let before = s.versions("acme", "app").len();
    let r = apply_untagged(&s, "app", &[]).await;
    // The second of the two entries in listing order is named.
    let named = r.json()["unreadable_packages"][0]["version"].as_u64();
    assert!(named == Some(orphan) || named == Some(v1_id), "{named:?}");
    assert_app_untouched(&s, before, &r, "name", named);
    assert_eq!(
        r.json()["unreadable_packages"][0]["problem"],
        "duplicate_digest"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_entry_without_name_is_reported() {
    let s = sim(&acme(&two_packages()), SimOptions::default()).await;
    s.set_faults(hostile(vec![corrupt("lib", None, "/name", None)]));
    let r = apply_untagged(&s, "*", &[]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let doc = r.json();
    let u = &doc["unreadable_packages"][0];
    assert_eq!(u["package"], "(a package entry without a name)", "{doc}");
    assert_eq!(u["field"], "name", "{u}");
    assert!(r.stderr.contains("`name` is missing"), "{}", r.stderr);
    assert!(
        doc["totals"]["deleted"].as_u64().unwrap() > 0,
        "app is handled"
    );
    s.shutdown().await;
}
