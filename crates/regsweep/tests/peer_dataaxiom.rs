//! dataaxiom/ghcr-cleanup-action's test cases (its integration cases in `tests/<case>/`
//! with the inputs of `.github/workflows/ci.yml`, and selection cases of its unit
//! tests in `src/__tests__/`), translated to regsweep policies and run through the
//! binary against the emulator fronting the real registry (issue 11, item 7).
//!
//! Translation of dataaxiom's inputs (each a policy rule):
//! - no deletion input: `delete-untagged` (its default) → `{delete, state: untagged}`;
//! - `delete-tags: X` → `{delete, tags: [X]}` (a `sha256:` item → `digests:`;
//!   `use-regex` items → `re:`);
//! - `keep-n-tagged: N` → `keep_newest: N` on the tagged delete rule (`{delete,
//!   state: tagged}` when `delete-tags` is not given); `keep-n-untagged: N` →
//!   `{delete, state: untagged, keep_newest: N}`; a count of 0 → no `keep_newest`;
//! - `exclude-tags: X` → `!X` in the tagged delete rules' `tags`, so an excluded
//!   image takes no `keep_newest` slot, as in dataaxiom (which drops excluded images
//!   before counting); a digest → `{keep, digests: [X]}` (see docs/policy.md,
//!   "Differences from peers");
//! - `older-than: D` → `older_than: D` on every rule;
//! - `delete-ghost-images` / `delete-partial-images` / `delete-orphaned-images` →
//!   `broken: ghost` / `broken: partial` / `orphans: true`.
//!
//! The peer's images are busybox builds of seven platforms; two platforms stand in
//! for them here. Every case also has the peer's `dummy` image, pushed first (oldest).
//! In the untagging cases (7a–7e) `delete-tags: X` also adds `{untag, tags: [X]}`:
//! dataaxiom strips the matched tags from an image that has others (the earlier
//! cases have no such image). There `keep-n-tagged: N` becomes a keep rule
//! `{keep, tags: [X], keep_newest: N}`: dataaxiom's keep set counts every image with a
//! matching tag, multi-tagged ones included, and its tags stay (keep beats untag),
//! whereas a delete rule's `keep_newest` does not count a partial match (see
//! docs/policy.md, "Differences from peers").

mod common;
#[path = "support/peer.rs"]
mod peer;

use peer::{run, Case};

/// The peer's `dummy` image, older than every image of a case.
const DUMMY: &str = "          - {handle: dummy, tags: [dummy], age: 60d}\n";

/// `package app` with `images` (YAML list items) after the dummy image.
fn app(images: &str) -> String {
    format!("      - name: app\n        images:\n{DUMMY}{images}")
}

/// The dummy image's digest (the peer excludes it by digest in some cases).
fn dummy_digest(s: &regsweep_sim::Sim) -> String {
    s.image("acme", "app", "dummy")
        .expect("pushed")
        .root
        .1
        .to_string()
}

const DELETE_UNTAGGED: &str =
    "rules:\n  - {name: delete-untagged, action: delete, state: untagged}\n";

/// Runs a case whose policy names the dummy image's digest: `policy` with `{dummy}`
/// replaced (digests are known once pushed, so the world is pushed twice: once to
/// learn the digest, which is deterministic, once for the case).
async fn run_with_dummy_digest(case: Case<'_>, policy: &str) {
    let probe = common::sim(&common::acme(case.packages), Default::default()).await;
    let digest = dummy_digest(&probe);
    probe.shutdown().await;
    let policy = policy.replace("{dummy}", &digest);
    let (s, _) = run(&Case {
        policy: Some(&policy),
        ..case
    })
    .await;
    s.shutdown().await;
}

async fn check(case: Case<'_>) {
    let (s, _) = run(&case).await;
    s.shutdown().await;
}

/// tests/1a_single-untagged: with no input, untagged images are deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_1a_single_untagged() {
    check(Case {
        packages: &app("          - {handle: u36, age: 30d}
          - {handle: u35, age: 20d}
          - {handle: t34, tags: [1.34-uclibc], age: 10d}
"),
        policy: Some(DELETE_UNTAGGED),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u36", "", "delete"),
            ("app", "u35", "", "delete"),
            ("app", "t34", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/1b_multi-untagged: untagged multi-arch images go with their platforms; the
/// tagged one keeps its platforms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_1b_multi_untagged() {
    check(Case {
        packages: &app(
            "          - {handle: u36, age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u35, age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 10d, platforms: [linux/amd64, linux/arm64]}
",
        ),
        policy: Some(DELETE_UNTAGGED),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u36", "", "delete"),
            ("app", "u35", "", "delete"),
            ("app", "t34", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/2a_single-tagged: `delete-tags: 1.35-uclibc,sha256:<1.36's digest>`: a tag
/// and a digest; the untagged image stays (delete-untagged is off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_2a_single_tagged() {
    let packages = app("          - {handle: t36, tags: [1.36-uclibc], age: 50d}
          - {handle: t35, tags: [1.35-uclibc], age: 40d}
          - {handle: t34, tags: [1.34-uclibc], age: 30d}
          - {handle: t33, tags: [1.33-uclibc], age: 20d}
          - {handle: u32, age: 10d}
");
    let probe = common::sim(&common::acme(&packages), Default::default()).await;
    let t36 = probe.image("acme", "app", "t36").expect("pushed").root.1;
    probe.shutdown().await;
    let policy = format!(
        "rules:\n  - {{name: delete-tags, action: delete, tags: [1.35-uclibc]}}\n  - {{name: delete-tags-digests, action: delete, digests: [\"{t36}\"]}}\n"
    );
    check(Case {
        packages: &packages,
        policy: Some(&policy),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "t36", "", "delete"),
            ("app", "t35", "", "delete"),
            ("app", "t34", "", "keep"),
            ("app", "t33", "", "keep"),
            ("app", "u32", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/2b_multi-tagged: `delete-tags: ^1.3[56]-uclibc$` with `use-regex`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_2b_multi_tagged() {
    check(Case {
        packages: &app("          - {handle: t36, tags: [1.36-uclibc], age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t35, tags: [1.35-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t33, tags: [1.33-uclibc], age: 10d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [\"re:1.3[56]-uclibc\"]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "t36", "", "delete"),
            ("app", "t35", "", "delete"),
            ("app", "t34", "", "keep"),
            ("app", "t33", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/3a_single-keep-n-tagged: `keep-n-tagged: 2`, the dummy excluded by digest;
/// untagged images stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_3a_single_keep_n_tagged() {
    run_with_dummy_digest(
        Case {
            packages: &app("          - {handle: u32, age: 50d}
          - {handle: t33, tags: [1.33-uclibc], age: 40d}
          - {handle: t34, tags: [1.34-uclibc], age: 30d}
          - {handle: t35, tags: [1.35-uclibc], age: 20d}
          - {handle: t36, tags: [1.36-uclibc], age: 10d}
"),
            expect: &[
                ("app", "dummy", "", "keep"),
                ("app", "u32", "", "keep"),
                ("app", "t33", "", "delete"),
                ("app", "t34", "", "delete"),
                ("app", "t35", "", "keep"),
                ("app", "t36", "", "keep"),
            ],
            ..Case::default()
        },
        "rules:\n  - {name: exclude-tags, action: keep, digests: [\"{dummy}\"]}\n  - {name: keep-n-tagged, action: delete, state: tagged, keep_newest: 2}\n",
    )
    .await;
}

/// tests/3b_multi-keep-n-tagged: `keep-n-tagged: 2`, `exclude-tags: dummy`; the
/// untagged multi-arch image stays with its platforms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_3b_multi_keep_n_tagged() {
    check(Case {
        packages: &app("          - {handle: t32, tags: [1.32-uclibc], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u33, age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t35, tags: [1.35-uclibc], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t36, tags: [1.36-uclibc], age: 10d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, tags: [\"!dummy\"], keep_newest: 2}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "t32", "", "delete"),
            ("app", "u33", "", "keep"),
            ("app", "t34", "", "delete"),
            ("app", "t35", "", "keep"),
            ("app", "t36", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/3c_multi-keep-n-tagged: `delete-tags: *-rc*` with `keep-n-tagged: 2`: the
/// two newest rc images are kept, the older rc deleted, others untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_3c_multi_keep_n_tagged_with_tags() {
    check(Case {
        packages: &app("          - {handle: rc32, tags: [uclibc-rc32], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u33, age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: rc35, tags: [uclibc-rc35], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: rc36, tags: [uclibc-rc36], age: 10d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [\"*-rc*\", \"!dummy\"], keep_newest: 2}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "rc32", "", "delete"),
            ("app", "u33", "", "keep"),
            ("app", "t34", "", "keep"),
            ("app", "rc35", "", "keep"),
            ("app", "rc36", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

const KEEP_N_UNTAGGED_2: &str =
    "rules:\n  - {name: keep-n-untagged, action: delete, state: untagged, keep_newest: 2}\n";

/// tests/4a_single-keep-n-untagged: `keep-n-untagged: 2`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_4a_single_keep_n_untagged() {
    check(Case {
        packages: &app("          - {handle: u32, age: 50d}
          - {handle: u33, age: 40d}
          - {handle: u34, age: 30d}
          - {handle: t35, tags: [1.35-uclibc], age: 20d}
          - {handle: t36, tags: [1.36-uclibc], age: 10d}
"),
        policy: Some(KEEP_N_UNTAGGED_2),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u32", "", "delete"),
            ("app", "u33", "", "keep"),
            ("app", "u34", "", "keep"),
            ("app", "t35", "", "keep"),
            ("app", "t36", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/4b_multi-keep-n-untagged: `keep-n-untagged: 2` counts untagged images, not
/// their platform manifests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_4b_multi_keep_n_untagged() {
    check(Case {
        packages: &app(
            "          - {handle: u32, age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u33, age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u34, age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t35, tags: [1.35-uclibc], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t36, tags: [1.36-uclibc], age: 10d, platforms: [linux/amd64, linux/arm64]}
",
        ),
        policy: Some(KEEP_N_UNTAGGED_2),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u32", "", "delete"),
            ("app", "u33", "", "keep"),
            ("app", "u34", "", "keep"),
            ("app", "t35", "", "keep"),
            ("app", "t36", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/5_dry-run: the plan deletes the untagged image; the dry run deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_5_dry_run() {
    check(Case {
        packages: &app("          - {handle: t36, tags: [1.36-uclibc], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t35, tags: [1.35-uclibc], age: 40d}
          - {handle: t34, tags: [1.34-uclibc], age: 30d}
          - {handle: t33, tags: [1.33-uclibc], age: 20d}
          - {handle: u32, age: 10d}
"),
        policy: Some(DELETE_UNTAGGED),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "t36", "", "keep"),
            ("app", "t35", "", "keep"),
            ("app", "t34", "", "keep"),
            ("app", "t33", "", "keep"),
            ("app", "u32", "", "delete"),
        ],
        dry_run: true,
        ..Case::default()
    })
    .await;
}

/// The world of tests/6*: two multi-arch images, some of whose platform manifests
/// are removed before the run.
const BROKEN: &str = "          - {handle: i33, tags: [1.33-uclibc], age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
";

/// tests/6a_missing-digests-tagged: `delete-tags: 1.34-uclibc` on an image missing a
/// platform manifest deletes what is left of it; the untagged partial image stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_6a_missing_digests_tagged() {
    check(Case {
        packages: &app(
            "          - {handle: u33, age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
",
        ),
        removed: &[
            ("app", "u33", "platform linux/arm64"),
            ("app", "t34", "platform linux/arm64"),
        ],
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [1.34-uclibc]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u33", "", "keep"),
            ("app", "t34", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/6b_ghost-images: `delete-ghost-images` deletes the image none of whose
/// platform manifests exist; the partial one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_6b_ghost_images() {
    check(Case {
        packages: &app(BROKEN),
        removed: &[
            ("app", "i33", "platform"),
            ("app", "t34", "platform linux/arm64"),
        ],
        policy: Some("rules:\n  - {name: delete-ghost-images, action: delete, broken: ghost}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "i33", "", "delete"),
            ("app", "t34", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/6c_partial-images: `delete-partial-images` deletes the image missing some
/// platform manifests, with what is left of it; the ghost image stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_6c_partial_images() {
    check(Case {
        packages: &app(BROKEN),
        removed: &[
            ("app", "i33", "platform"),
            ("app", "t34", "platform linux/arm64"),
        ],
        policy: Some(
            "rules:\n  - {name: delete-partial-images, action: delete, broken: partial}\n",
        ),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "i33", "", "keep"),
            ("app", "t34", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/6d_orphaned-images: `delete-orphaned-images` deletes versions tagged
/// `sha256-<hex>` (a referrers fallback tag) and `sha256-<hex>.sig` whose subject is
/// not in the package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_6d_orphaned_images() {
    let gone = "9d30bbb8a8d53ea5ae31ed4c61e496efa7f9e1e2d18fe2822078627c5a1d7b6e";
    let also_gone = "136787c141852fd4b9b1e06e7cfda442fc3903a7b40b8fe9c91e0a97cb68aafe";
    check(Case {
        packages: &app(&format!(
            "          - {{handle: fallback, tags: [sha256-{gone}], age: 20d}}
          - {{handle: sig, tags: [sha256-{also_gone}.sig], age: 10d}}
"
        )),
        policy: Some("rules:\n  - {name: delete-orphaned-images, action: delete, orphans: true}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "fallback", "", "delete"),
            ("app", "sig", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// The world of tests/8*: two untagged and three tagged multi-arch images.
const COMPLEX: &str = "          - {handle: u32, age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u33, age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t35, tags: [1.35-uclibc], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t36, tags: [1.36-uclibc], age: 10d, platforms: [linux/amd64, linux/arm64]}
";

/// tests/8a_multi-complex: `keep-n-tagged: 1`, `delete-untagged`, the dummy
/// excluded by digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_8a_multi_complex() {
    run_with_dummy_digest(
        Case {
            packages: &app(COMPLEX),
            expect: &[
                ("app", "dummy", "", "keep"),
                ("app", "u32", "", "delete"),
                ("app", "u33", "", "delete"),
                ("app", "t34", "", "delete"),
                ("app", "t35", "", "delete"),
                ("app", "t36", "", "keep"),
            ],
            ..Case::default()
        },
        "rules:\n  - {name: exclude-tags, action: keep, digests: [\"{dummy}\"]}\n  - {name: keep-n-tagged, action: delete, state: tagged, keep_newest: 1}\n  - {name: delete-untagged, action: delete, state: untagged}\n",
    )
    .await;
}

/// tests/8b_multi-complex: `keep-n-tagged: 1`, `keep-n-untagged: 1`,
/// `exclude-tags: dummy`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_8b_multi_complex() {
    check(Case {
        packages: &app(COMPLEX),
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, tags: [\"!dummy\"], keep_newest: 1}\n  - {name: keep-n-untagged, action: delete, state: untagged, keep_newest: 1}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u32", "", "delete"),
            ("app", "u33", "", "keep"),
            ("app", "t34", "", "delete"),
            ("app", "t35", "", "delete"),
            ("app", "t36", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/8c_multi-complex: `keep-n-tagged: 0`, `keep-n-untagged: 0`,
/// `exclude-tags: dummy`: everything but the dummy goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_8c_multi_complex() {
    check(Case {
        packages: &app(COMPLEX),
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, tags: [\"!dummy\"]}\n  - {name: keep-n-untagged, action: delete, state: untagged}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u32", "", "delete"),
            ("app", "u33", "", "delete"),
            ("app", "t34", "", "delete"),
            ("app", "t35", "", "delete"),
            ("app", "t36", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/9a_multi-older-than-skip: `older-than: 30 years` selects nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_9a_multi_older_than_skip() {
    check(Case {
        packages: &app("          - {handle: t35, tags: [1.35-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u36, age: 10d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some("rules:\n  - {name: delete-untagged, action: delete, state: untagged, older_than: 30y}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "t35", "", "keep"),
            ("app", "t34", "", "keep"),
            ("app", "u36", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/9b_multi-older-than-process: `older-than: 1 second` deletes the untagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_9b_multi_older_than_process() {
    check(Case {
        packages: &app("          - {handle: u36, age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u35, age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 10d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some("rules:\n  - {name: delete-untagged, action: delete, state: untagged, older_than: 1s}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u36", "", "delete"),
            ("app", "u35", "", "delete"),
            ("app", "t34", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Attestation Tagged" (tests/attestation-tagged): `delete-tags: test` on a
/// multi-arch image with buildx attestations and a provenance referrer: all of it
/// goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_attestation_tagged() {
    check(Case {
        packages: &app("          - {handle: test, tags: [test], age: 10d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, referrer: true}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [test]}\n"),
        expect: &[("app", "dummy", "", "keep"), ("app", "test", "", "delete")],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Attestation UnTagged" (tests/attestation-untagged): `test` pushed twice,
/// each attested; with the defaults the first image (now untagged) goes with its
/// attestations and referrer, the tagged one keeps all of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_attestation_untagged() {
    check(Case {
        packages: &app("          - {handle: image1, tags: [test], age: 20d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, referrer: true}
          - {handle: image2, tags: [test], age: 10d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, referrer: true}
"),
        policy: Some(DELETE_UNTAGGED),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "image1", "", "delete"),
            ("app", "image2", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Bare OCI 1.1 Referrer Test" (tests/bare-oci11-referrer): an untagged
/// referrer whose subject is a kept image survives `delete-untagged`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_bare_oci11_referrer() {
    check(Case {
        packages: &app(
            "          - {handle: bare, tags: [bare-test], age: 10d, referrer: true}
",
        ),
        policy: Some(DELETE_UNTAGGED),
        expect: &[("app", "dummy", "", "keep"), ("app", "bare", "", "keep")],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Cosign OCI 1.1 Referrers Test" (tests/cosign-oci11): a signed image's
/// subject referrer survives `delete-untagged`. (The peer's run also has cosign's
/// `sha256-<hex>` fallback index, which the emulator does not make.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_cosign_oci11() {
    check(Case {
        packages: &app("          - {handle: signed, tags: [cosign-oci11], age: 10d, platforms: [linux/amd64, linux/arm64], referrer: true}
"),
        policy: Some(DELETE_UNTAGGED),
        expect: &[("app", "dummy", "", "keep"), ("app", "signed", "", "keep")],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Cosign Test" (tests/cosign): `delete-tags: cosign` deletes the image and
/// its `sha256-<hex>.sig` signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_cosign() {
    check(Case {
        packages: &app(
            "          - {handle: cosign, tags: [cosign], age: 10d, signature: true}
",
        ),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [cosign]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "cosign", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Shared Images Tagged Test" (tests/shared-images-tagged): `image1` and
/// `image2` share their amd64 and arm64 manifests; `delete-tags: image2` deletes
/// its index and its own 386 manifest, never what `image1` uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_shared_images_tagged() {
    check(Case {
        packages: &app("          - {handle: image1, tags: [image1], age: 20d, platforms: [linux/amd64, linux/arm64], build: busybox}
          - {handle: image2, tags: [image2], age: 10d, platforms: [linux/amd64, linux/arm64, linux/386], build: busybox}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [image2]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "image2", "", "delete"),
            ("app", "image1", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// ci.yml "Shared Images Untagged Test" (tests/shared-images-untagged): `dummy`
/// rebuilt; the old index (now untagged) and its attestations go, the platform
/// manifests it shares with the new index stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_shared_images_untagged() {
    check(Case {
        packages: "      - name: app
        images:
          - {handle: old, tags: [dummy], age: 20d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, build: dummy}
          - {handle: new, tags: [dummy], age: 10d, platforms: [linux/amd64, linux/arm64], build: dummy}
",
        policy: Some(DELETE_UNTAGGED),
        expect: &[("app", "old", "", "delete"), ("app", "new", "", "keep")],
        ..Case::default()
    })
    .await;
}

/// Two packages as the peer's multi-package jobs clean them.
const TWO_PACKAGES: &str = "      - name: app
        images:
          - {handle: t1, tags: [v1], age: 30d}
          - {handle: u, age: 20d}
          - {handle: t2, tags: [v2], age: 10d}
      - name: app-cache
        images:
          - {handle: t1, tags: [cache-1], age: 30d}
          - {handle: u, age: 20d}
          - {handle: t2, tags: [cache-2], age: 10d}
      - name: other
        images:
          - {handle: u, age: 20d}
";

const TWO_PACKAGES_EXPECT: [(&str, &str, &str, &str); 7] = [
    ("app", "t1", "", "delete"),
    ("app", "u", "", "delete"),
    ("app", "t2", "", "keep"),
    ("app-cache", "t1", "", "delete"),
    ("app-cache", "u", "", "delete"),
    ("app-cache", "t2", "", "keep"),
    ("other", "u", "", "keep"),
];

/// ci.yml "Cleanup Multiple Packages": `packages: a,b`, `keep-n-tagged: 1`,
/// `delete-untagged`, per package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_multi_package_cleanup() {
    check(Case {
        packages: TWO_PACKAGES,
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, packages: [app, app-cache], state: tagged, keep_newest: 1}\n  - {name: delete-untagged, action: delete, packages: [app, app-cache], state: untagged}\n"),
        expect: &TWO_PACKAGES_EXPECT,
        ..Case::default()
    })
    .await;
}

/// ci.yml "Cleanup Multiple Packages - Regex": `packages: ghcr-cleanup-action*` with
/// `expand-packages` (a name pattern).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_multi_package_cleanup_regex() {
    check(Case {
        packages: TWO_PACKAGES,
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, packages: [\"re:app.*\"], state: tagged, keep_newest: 1}\n  - {name: delete-untagged, action: delete, packages: [\"re:app.*\"], state: untagged}\n"),
        expect: &TWO_PACKAGES_EXPECT,
        ..Case::default()
    })
    .await;
}

/// src/__tests__/deletion-strategy.test.ts "counts a multi-tagged image as one keep
/// slot, not N": `keep-n-tagged: 1` keeps the newest image whatever its tag count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_multi_tagged_image_is_one_keep_slot() {
    check(Case {
        packages: &app("          - {handle: old, tags: [v1], age: 20d}
          - {handle: new, tags: [v2, latest, beta], age: 10d}
"),
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, tags: [\"!dummy\"], keep_newest: 1}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "old", "", "delete"),
            ("app", "new", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/deletion-strategy.test.ts "should skip excluded tags":
/// `delete-tags: v*` with `exclude-tags: v1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_skip_excluded_tags() {
    check(Case {
        packages: &app("          - {handle: v1, tags: [v1], age: 20d}
          - {handle: v2, tags: [v2], age: 10d}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [\"v*\", \"!v1\"]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "v1", "", "keep"),
            ("app", "v2", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/cleanup-orchestrator.ts applies `exclude-tags` before `keep-n-tagged`
/// counts: with `exclude-tags: latest` and `keep-n-tagged: 1`, the newest image
/// `latest` takes no slot, so the newest other image is kept too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_excluded_tag_takes_no_keep_n_slot() {
    check(Case {
        packages: "      - name: app
        images:
          - {handle: v1, tags: [v1], age: 30d}
          - {handle: v2, tags: [v2], age: 20d}
          - {handle: latest, tags: [latest], age: 10d}
",
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, tags: [\"!latest\"], keep_newest: 1}\n"),
        expect: &[
            ("app", "v1", "", "delete"),
            ("app", "v2", "", "keep"),
            ("app", "latest", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/manifest-analyzer.test.ts "records all parents when three indexes
/// share the same child": deleting two of them keeps the child the third uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_three_indexes_share_a_child() {
    check(Case {
        packages: &app("          - {handle: i1, tags: [a], age: 30d, platforms: [linux/amd64, linux/arm64], build: x}
          - {handle: i2, tags: [b], age: 20d, platforms: [linux/amd64, linux/386], build: x}
          - {handle: i3, tags: [c], age: 10d, platforms: [linux/amd64, linux/arm/v7], build: x}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [a, b]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "i1", "", "delete"),
            ("app", "i2", "", "delete"),
            ("app", "i3", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/manifest-analyzer.test.ts "handles overlapping child sets (one
/// shared child, one dedicated child each)": deleting one index deletes its own
/// child, not the shared one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_overlapping_child_sets() {
    check(Case {
        packages: &app("          - {handle: i1, tags: [a], age: 20d, platforms: [linux/amd64, linux/arm64], build: x}
          - {handle: i2, tags: [b], age: 10d, platforms: [linux/amd64, linux/386], build: x}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [a]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "i1", "", "delete"),
            ("app", "i2", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/image-deleter.test.ts "does not double-delete a referrer reachable
/// via both sha256-* tag and subject": an image with a cosign signature and a
/// subject referrer is deleted with one request per version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_does_not_double_delete_a_referrer() {
    let (s, _) = run(&Case {
        packages: &app("          - {handle: img, tags: [img], age: 10d, platforms: [linux/amd64, linux/arm64], signature: true, referrer: true}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [img]}\n"),
        expect: &[("app", "dummy", "", "keep"), ("app", "img", "", "delete")],
        ..Case::default()
    })
    .await;
    let manifests = s
        .image("acme", "app", "img")
        .expect("pushed")
        .manifests
        .len();
    let deletes = s.requests().iter().filter(|q| q.method == "DELETE").count();
    assert_eq!(deletes, manifests, "one DELETE per version");
    s.shutdown().await;
}

/// src/__tests__/image-validator.test.ts "should skip tags where parent exists": a
/// signature whose image is there is no orphan; one whose image is gone is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_orphans_skip_tags_where_parent_exists() {
    check(Case {
        packages: &app(&format!(
            "          - {{handle: signed, tags: [v1], age: 20d, signature: true}}
          - {{handle: orphan, tags: [sha256-{}.sig], age: 10d}}
",
            "ab".repeat(32)
        )),
        policy: Some("rules:\n  - {name: delete-orphaned-images, action: delete, orphans: true}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "signed", "", "keep"),
            ("app", "orphan", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/image-validator.test.ts "finds OCI 1.1 referrers whose subject is
/// missing from the repo": once the image is gone, its referrer (and its platform
/// manifests, which nothing lists any more) are orphans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_referrer_whose_subject_is_missing() {
    check(Case {
        packages: &app("          - {handle: img, tags: [v1], age: 10d, platforms: [linux/amd64, linux/arm64], referrer: true}
"),
        removed: &[("app", "img", "index")],
        policy: Some("rules:\n  - {name: delete-orphaned-images, action: delete, orphans: true}\n"),
        expect: &[("app", "dummy", "", "keep"), ("app", "img", "", "delete")],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/image-validator.test.ts "does not flag subject-referrers when the
/// subject is still present": the referrer stays; a loose untagged manifest goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_subject_referrer_kept_while_subject_present() {
    check(Case {
        packages: &app(
            "          - {handle: img, tags: [v1], age: 20d, referrer: true}
          - {handle: loose, age: 10d}
",
        ),
        policy: Some("rules:\n  - {name: delete-orphaned-images, action: delete, orphans: true}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "img", "", "keep"),
            ("app", "loose", "", "delete"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/deletion-strategy.test.ts keepNUntagged "should skip tagged
/// images": tagged images are neither counted nor deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_keep_n_untagged_skips_tagged() {
    check(Case {
        packages: &app("          - {handle: u1, age: 30d}
          - {handle: u2, age: 20d}
          - {handle: t1, tags: [v1], age: 10d}
"),
        policy: Some("rules:\n  - {name: keep-n-untagged, action: delete, state: untagged, keep_newest: 1}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "u1", "", "delete"),
            ("app", "u2", "", "keep"),
            ("app", "t1", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/deletion-strategy.test.ts keepNTagged "should not delete when
/// tagged count is less than keepN".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_keep_n_tagged_fewer_than_n() {
    check(Case {
        packages: &app("          - {handle: t1, tags: [v1], age: 20d}
          - {handle: t2, tags: [v2], age: 10d}
"),
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, tags: [\"!dummy\"], keep_newest: 3}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "t1", "", "keep"),
            ("app", "t2", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/image-filter.test.ts applyAgeFilter "should filter images newer
/// than cutoff date": `older-than` spares the recent ones, tagged or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_age_filter() {
    check(Case {
        packages: &app("          - {handle: old, age: 20d}
          - {handle: new, age: 10d}
          - {handle: old-tagged, tags: [pr-1], age: 20d}
          - {handle: new-tagged, tags: [pr-2], age: 10d}
"),
        policy: Some("rules:\n  - {name: delete-untagged, action: delete, state: untagged, older_than: 15d}\n  - {name: delete-tags, action: delete, tags: [\"pr-*\"], older_than: 15d}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "old", "", "delete"),
            ("app", "new", "", "keep"),
            ("app", "old-tagged", "", "delete"),
            ("app", "new-tagged", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// src/__tests__/config.test.ts "should auto-enable expand-packages for wildcard
/// patterns": `packages: app*` is a name pattern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_unit_wildcard_packages() {
    check(Case {
        packages: TWO_PACKAGES,
        policy: Some("rules:\n  - {name: keep-n-tagged, action: delete, packages: [\"app*\"], state: tagged, keep_newest: 1}\n  - {name: delete-untagged, action: delete, packages: [\"app*\"], state: untagged}\n"),
        expect: &TWO_PACKAGES_EXPECT,
        ..Case::default()
    })
    .await;
}

/// tests/7a_single-untagging: `delete-tags: tag1,tag2` on the image tagged `tag1`,
/// `tag2` and `tag3`: the two tags go, the image stays with `tag3`; the untagged
/// image stays (delete-untagged is off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_7a_single_untagging() {
    check(Case {
        packages: &app("          - {handle: multi, tags: [tag1, tag2, tag3], age: 50d}
          - {handle: u32, age: 40d}
          - {handle: t33, tags: [1.33-uclibc], age: 30d}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [tag1, tag2]}\n  - {name: untag, action: untag, tags: [tag1, tag2]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "multi", "", "keep"),
            ("app", "u32", "", "keep"),
            ("app", "t33", "", "keep"),
        ],
        untag: &[("app", "multi", &["tag1", "tag2"])],
        ..Case::default()
    })
    .await;
}

/// tests/7b_single-untagging-all: `delete-tags: *tag*` selects every tag of the image
/// tagged `tag1`, `tag2` and `tag3`: it is deleted (dataaxiom strips the tags, then
/// deletes the image left untagged; the outcome is the same).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_7b_single_untagging_all() {
    check(Case {
        packages: &app("          - {handle: multi, tags: [tag1, tag2, tag3], age: 50d}
          - {handle: t33, tags: [1.33-uclibc], age: 40d}
          - {handle: u32, age: 30d}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [\"*tag*\"]}\n  - {name: untag, action: untag, tags: [\"*tag*\"]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "multi", "", "delete"),
            ("app", "t33", "", "keep"),
            ("app", "u32", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/7c_multi-untagging: `delete-tags: tag2,tag3` on the multi-arch image tagged
/// `tag1`, `tag2` and `tag3`: the index loses the two tags and keeps `tag1` and its
/// platforms; the untagged multi-arch image stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_7c_multi_untagging() {
    check(Case {
        packages: &app("          - {handle: multi, tags: [tag1, tag2, tag3], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: u33, age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: t34, tags: [1.34-uclibc], age: 30d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some("rules:\n  - {name: delete-tags, action: delete, tags: [tag2, tag3]}\n  - {name: untag, action: untag, tags: [tag2, tag3]}\n"),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "multi", "", "keep"),
            ("app", "u33", "", "keep"),
            ("app", "t34", "", "keep"),
        ],
        untag: &[("app", "multi", &["tag2", "tag3"])],
        ..Case::default()
    })
    .await;
}

/// tests/7d_delete-tags-keepn-untag-gate: `delete-tags: ^v1\.\d+$` (regex),
/// `keep-n-tagged: 2`, `older-than: 1 second`. The two newest images with a matching
/// tag are kept, the one tagged `v1.1` and `latest` among them: it keeps `v1.1` (the
/// keep rule names it); the oldest goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_7d_delete_tags_keepn_untag_gate() {
    check(Case {
        packages: &app("          - {handle: v10, tags: [v1.0], age: 40d}
          - {handle: v11, tags: [v1.1, latest], age: 30d}
          - {handle: v12, tags: [v1.2], age: 20d}
"),
        policy: Some(
            r#"rules:
  - {name: keep-n-tagged, action: keep, tags: ['re:v1\.\d+'], keep_newest: 2, older_than: 1s}
  - {name: delete-tags, action: delete, tags: ['re:v1\.\d+'], older_than: 1s}
  - {name: untag, action: untag, tags: ['re:v1\.\d+'], older_than: 1s}
"#,
        ),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "v10", "", "delete"),
            ("app", "v11", "", "keep"),
            ("app", "v12", "", "keep"),
        ],
        ..Case::default()
    })
    .await;
}

/// tests/7e_multi-delete-tags-keepn-gating: `delete-tags: ^(beta|legacy|old)$`
/// (regex), `keep-n-tagged: 1`, multi-arch. The newest image with a matching tag
/// (`v2.0`, `beta`) is kept with both tags; the older one tagged `v1.0` and `legacy`
/// loses `legacy`; the oldest (`old` only) is deleted with its platforms; `v3.0` has
/// no matching tag and is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_7e_multi_delete_tags_keepn_gating() {
    check(Case {
        packages: &app("          - {handle: old, tags: [old], age: 50d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v10, tags: [v1.0, legacy], age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v20, tags: [v2.0, beta], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v30, tags: [v3.0], age: 20d, platforms: [linux/amd64, linux/arm64]}
"),
        policy: Some(r#"rules:
  - {name: keep-n-tagged, action: keep, tags: ['re:(beta|legacy|old)'], keep_newest: 1}
  - {name: delete-tags, action: delete, tags: ['re:(beta|legacy|old)']}
  - {name: untag, action: untag, tags: ['re:(beta|legacy|old)']}
"#),
        expect: &[
            ("app", "dummy", "", "keep"),
            ("app", "old", "", "delete"),
            ("app", "v10", "", "keep"),
            ("app", "v20", "", "keep"),
            ("app", "v30", "", "keep"),
        ],
        untag: &[("app", "v10", &["legacy"])],
        ..Case::default()
    })
    .await;
}
