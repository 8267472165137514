//! actions/delete-package-versions' container cases (its `__tests__/delete.test.ts`,
//! `__tests__/version/*.test.ts`), translated to regsweep policies and run through
//! the binary against the emulator fronting the real registry (issue 11, item 7).
//!
//! Translation of its inputs (each a policy rule):
//! - `min-versions-to-keep: N` → `{delete, keep_newest: N}`;
//! - `delete-only-untagged-versions: true` with it → `{delete, state: untagged,
//!   keep_newest: N}` (without it, N = 0: `{delete, state: untagged}`);
//! - `num-old-versions-to-delete: N` (delete the N oldest) → `{delete, keep_newest:
//!   <versions in the package> − N}`: regsweep has no count of deletions;
//! - `package-version-ids` → `{delete, digests: [...]}`, the digests of those
//!   versions: regsweep selects manifests by digest.
//!
//! Where regsweep decides differently on purpose, the test checks regsweep's
//! decision and docs/policy.md ("Differences from peers") says why.

mod common;
#[path = "support/peer.rs"]
mod peer;

use common::{acme, args, generated, regsweep, sim, ACME_ADMIN};
use peer::{check_apply, check_plan, run, start, Case};
use regsweep_sim::{FailNext, FaultConfig, SimOptions};

async fn check(case: Case<'_>) {
    let (s, _) = run(&case).await;
    s.shutdown().await;
}

/// Tagged and untagged single-arch versions, interleaved in age (oldest first).
const MIXED: &str = "      - name: app
        images:
          - {handle: t1, tags: [latest1], age: 80d}
          - {handle: u1, age: 70d}
          - {handle: u2, age: 60d}
          - {handle: t2, tags: [latest2], age: 50d}
          - {handle: u3, age: 40d}
          - {handle: u4, age: 30d}
          - {handle: t3, tags: [latest3], age: 20d}
          - {handle: u5, age: 10d}
";

/// __tests__/delete.test.ts "finalIds test - delete only untagged versions with
/// minVersionsToKeep": the oldest untagged versions go, the newest N untagged stay,
/// tagged versions are never touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_delete_only_untagged_versions_with_min_versions_to_keep() {
    check(Case {
        packages: MIXED,
        policy: Some(
            "rules:\n  - {name: delete-only-untagged, action: delete, state: untagged, keep_newest: 2, timestamp: created_at}\n",
        ),
        expect: &[
            ("app", "t1", "", "keep"),
            ("app", "u1", "", "delete"),
            ("app", "u2", "", "delete"),
            ("app", "t2", "", "keep"),
            ("app", "u3", "", "delete"),
            ("app", "u4", "", "keep"),
            ("app", "t3", "", "keep"),
            ("app", "u5", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// __tests__/version/get-version.test.ts "getOldestVersions -- success - container
/// tagged versions": a container version is tagged when it has a tag;
/// `delete-only-untagged-versions` alone deletes every untagged version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_get_oldest_versions_container_tagged_versions() {
    check(Case {
        packages: MIXED,
        policy: Some("rules:\n  - {name: delete-only-untagged, action: delete, state: untagged}\n"),
        expect: &[
            ("app", "t1", "", "keep"),
            ("app", "u1", "", "delete"),
            ("app", "u2", "", "delete"),
            ("app", "t2", "", "keep"),
            ("app", "u3", "", "delete"),
            ("app", "u4", "", "delete"),
            ("app", "t3", "", "keep"),
            ("app", "u5", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// __tests__/delete.test.ts "finalIds test - keep minVersionsToKeep": all but the
/// newest N versions go, tagged or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_keep_min_versions_to_keep() {
    check(Case {
        packages: MIXED,
        policy: Some(
            "rules:\n  - {name: min-versions-to-keep, action: delete, keep_newest: 3, timestamp: created_at}\n",
        ),
        expect: &[
            ("app", "t1", "", "delete"),
            ("app", "u1", "", "delete"),
            ("app", "u2", "", "delete"),
            ("app", "t2", "", "delete"),
            ("app", "u3", "", "delete"),
            ("app", "u4", "", "keep"),
            ("app", "t3", "", "keep"),
            ("app", "u5", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// __tests__/delete.test.ts "finalIds test - do not delete more than
/// numOldVersionsToDelete": the 2 oldest of 8 versions go (`keep_newest: 6`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_do_not_delete_more_than_num_old_versions_to_delete() {
    check(Case {
        packages: MIXED,
        policy: Some(
            "rules:\n  - {name: num-old-versions-to-delete, action: delete, keep_newest: 6, timestamp: created_at}\n",
        ),
        expect: &[
            ("app", "t1", "", "delete"),
            ("app", "u1", "", "delete"),
            ("app", "u2", "", "keep"),
            ("app", "t2", "", "keep"),
            ("app", "u3", "", "keep"),
            ("app", "u4", "", "keep"),
            ("app", "t3", "", "keep"),
            ("app", "u5", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// __tests__/delete.test.ts "finalIds test - supplied package version id": the
/// versions named are deleted. Here one of them is a platform manifest of a kept
/// multi-arch image: deleting it would break that image, so regsweep keeps it (a
/// difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_finalids_supplied_package_version_ids() {
    let packages = "      - name: app
        images:
          - {handle: a, age: 30d}
          - {handle: b, age: 20d}
          - {handle: c, age: 10d}
          - {handle: multi, tags: [v1], age: 10d, platforms: [linux/amd64, linux/arm64]}
";
    let base = Case {
        packages,
        ..Case::default()
    };
    let s = start(&base).await;
    let digest = |h: &str| {
        s.image("acme", "app", h)
            .expect("pushed")
            .root
            .1
            .to_string()
    };
    let amd64 = s
        .image("acme", "app", "multi")
        .expect("pushed")
        .manifests
        .into_iter()
        .find(|m| m.role == "platform linux/amd64")
        .expect("a platform")
        .digest;
    let policy = format!(
        "rules:\n  - name: package-version-ids\n    action: delete\n    digests: [\"{}\", \"{}\", \"{amd64}\"]\n",
        digest("a"),
        digest("b"),
    );
    let case = Case {
        packages,
        policy: Some(&policy),
        expect: &[
            ("app", "a", "", "delete"),
            ("app", "b", "", "delete"),
            ("app", "c", "", "keep"),
            ("app", "multi", "", "keep"),
        ],
        ..Case::default()
    };
    let doc = check_plan(&s, &case).await;
    let d = common::decisions(&doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["digest"].as_str() == Some(amd64.to_string().as_str()))
        .expect("decided");
    assert_eq!(d["reasons"][0]["kind"], "protected", "{d}");
    check_apply(&s, &case).await;
    s.shutdown().await;
}

/// __tests__/delete.test.ts "delete only untagged versions with minVersionsToKeep"
/// with multi-arch images: delete-package-versions calls a container version
/// tagged only when it carries a tag (src/version/get-versions.ts), so the platform
/// manifests of a tagged image are untagged versions to it: deleted, and counted
/// among the N kept. regsweep never deletes what a kept image needs, and counts
/// images (a difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_untagged_platform_manifests_of_tagged_images() {
    check(Case {
        packages: "      - name: app
        images:
          - {handle: u1, age: 40d}
          - {handle: u2, age: 30d}
          - {handle: u3, age: 20d}
          - {handle: v1, tags: [v1], age: 10d, platforms: [linux/amd64, linux/arm64]}
",
        policy: Some(
            "rules:\n  - {name: delete-only-untagged, action: delete, state: untagged, keep_newest: 2}\n",
        ),
        expect: &[
            ("app", "u1", "", "delete"),
            ("app", "u2", "", "keep"),
            ("app", "u3", "", "keep"),
            ("app", "v1", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// __tests__/delete.test.ts "finalIds test - no versions deleted if API error even
/// once": the second page of the listing keeps failing; nothing of the package is
/// deleted and the run fails, naming the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_no_versions_deleted_if_api_error_even_once() {
    let s = sim(
        &acme(&generated("app", 150, 3)),
        SimOptions {
            faults: FaultConfig {
                fail_next: Some(FailNext {
                    count: 100,
                    status: 500,
                    method: Some("GET".into()),
                    path_contains: Some("page=2".into()),
                }),
                ..FaultConfig::default()
            },
            ..SimOptions::default()
        },
    )
    .await;
    let r = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &[
                    "--policy-inline",
                    "rules:\n  - {name: min-versions-to-keep, action: delete, state: tagged, keep_newest: 10}\n",
                    "--max-retries",
                    "1",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("500"), "{}", r.stderr);
    assert!(s.deleted("acme", "app").is_empty(), "{}", r.stderr);
    assert!(
        !s.requests().iter().any(|q| q.method == "DELETE"),
        "nothing is deleted"
    );
    s.shutdown().await;
}

/// __tests__/version/delete-version.test.ts "deletePackageVersions - API error for
/// some versions": a deletion that fails (answered 422) does not stop the others;
/// the run reports it and exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_delete_package_versions_api_error_for_some_versions() {
    let s = sim(
        &acme(
            "      - name: app
        images:
          - {handle: u1, age: 30d}
          - {handle: u2, age: 20d}
          - {handle: u3, age: 10d}
",
        ),
        SimOptions {
            faults: FaultConfig {
                fail_next: Some(FailNext {
                    count: 1,
                    status: 422,
                    method: Some("DELETE".into()),
                    path_contains: None,
                }),
                ..FaultConfig::default()
            },
            ..SimOptions::default()
        },
    )
    .await;
    let r = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &[
                    "--output",
                    "json",
                    "--policy-inline",
                    "rules:\n  - {name: delete-only-untagged, action: delete, state: untagged}\n",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.stdout);
    assert_eq!(s.deleted("acme", "app").len(), 2, "{}", r.stdout);
    assert_eq!(s.versions("acme", "app").len(), 1);
    s.shutdown().await;
}

/// __tests__/delete.test.ts "deleteVersions test - missing token" and "missing
/// packageName": refused before any request, with what to give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_delete_versions_missing_token_or_package_name() {
    let s = sim(&acme(&generated("app", 3, 1)), SimOptions::default()).await;
    let r = regsweep(
        &s,
        &[
            "plan",
            "--account",
            "acme",
            "--image-names",
            "app",
            "--cut-off",
            "1w",
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("token"), "{}", r.stderr);
    let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, &["--cut-off", "1w"]]), &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no image names given"), "{}", r.stderr);
    assert!(s.requests().is_empty(), "{:?}", s.requests());
    s.shutdown().await;
}

/// __tests__/delete.test.ts "finalIDs test - success - sorting accross pages": the
/// oldest versions are the ones deleted, wherever they are in the listing (here 150
/// versions over two pages): `min-versions-to-keep` spares exactly the newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpv_sorting_across_pages() {
    let s = sim(&acme(&generated("app", 150, 5)), SimOptions::default()).await;
    let r = regsweep(
        &s,
        &args(
            "plan",
            &[
                &ACME_ADMIN,
                &[
                    "--output",
                    "json",
                    "--policy-inline",
                    "rules:\n  - {name: min-versions-to-keep, action: delete, state: tagged, keep_newest: 60}\n",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut tagged: Vec<_> = s
        .versions("acme", "app")
        .into_iter()
        .filter(|v| !v.tags.is_empty())
        .collect();
    assert!(tagged.len() > 60, "{} tagged", tagged.len());
    tagged.sort_by_key(|v| std::cmp::Reverse(v.updated_at));
    let oldest: std::collections::BTreeSet<u64> = tagged[60..].iter().map(|v| v.id.0).collect();
    let deleted: std::collections::BTreeSet<u64> = common::actions(&r.json())
        .into_iter()
        .filter(|(_, _, a)| a == "delete")
        .map(|(_, id, _)| id)
        .collect();
    assert_eq!(deleted, oldest);
    assert!(
        s.requests().iter().any(|q| q.path.contains("page=2")),
        "the listing took two pages"
    );
    s.shutdown().await;
}
