//! snok/container-retention-policy's unit and integration tests (tag matchers,
//! tag selection, keep-n, cut-off and timestamps, multi-arch children, input
//! parsing), translated to regsweep's snok-style flags, which take snok's inputs
//! under the same names, and run through the binary against the emulator fronting
//! the real registry (issue 11, item 7). Each snok unit test is one world here; its
//! variants are plans over that world, and one of them is applied.
//!
//! Where regsweep decides differently on purpose, the test checks regsweep's
//! decision and docs/policy.md ("Differences from peers") says why.

mod common;
#[path = "support/peer.rs"]
mod peer;

use common::{args, regsweep, ACME_ADMIN};
use peer::{check_apply, check_plan, start, Case};

/// A variant of one world: `flags` and the expected decision of every image.
type Variant<'a> = (&'a [&'a str], &'a [(&'a str, &'a str, &'a str, &'a str)]);

/// The case of one variant over `packages`.
fn case<'a>(packages: &'a str, (flags, expect): &Variant<'a>) -> Case<'a> {
    Case {
        packages,
        flags,
        expect,
        ..Case::default()
    }
}

/// Plans every variant over one emulator of `packages`, then applies the last one.
async fn variants<'a>(packages: &'a str, variants: &[Variant<'a>]) {
    let s = start(&case(packages, &variants[0])).await;
    for v in variants {
        check_plan(&s, &case(packages, v)).await;
    }
    check_apply(&s, &case(packages, variants.last().expect("a variant"))).await;
    s.shutdown().await;
}

/// `--image-names app --cut-off 1w` and `rest`.
macro_rules! app {
    ($($rest:expr),* $(,)?) => {
        &["--image-names", "app", "--cut-off", "1w", $($rest),*]
    };
}

/// src/core/select_package_versions.rs `test_filter_by_tag_selection`: a tagged
/// version is a candidate for `tagged` and `both`, an untagged one for `untagged`
/// and `both`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_filter_by_tag_selection() {
    variants(
        "      - name: app
        images:
          - {handle: tagged, tags: [foo], age: 20d}
          - {handle: untagged, age: 20d}
          - {handle: fresh, tags: [foo-new], age: 1d}
",
        &[
            (
                app!("--image-tags", "foo", "--tag-selection", "untagged"),
                &[
                    ("app", "tagged", "", "keep"),
                    ("app", "untagged", "", "delete"),
                    ("app", "fresh", "", "keep"),
                ],
            ),
            (
                app!("--image-tags", "foo", "--tag-selection", "tagged"),
                &[
                    ("app", "tagged", "", "delete"),
                    ("app", "untagged", "", "keep"),
                    ("app", "fresh", "", "keep"),
                ],
            ),
            (
                app!("--image-tags", "foo", "--tag-selection", "both"),
                &[
                    ("app", "tagged", "", "delete"),
                    ("app", "untagged", "", "delete"),
                    ("app", "fresh", "", "keep"),
                ],
            ),
        ],
    )
    .await;
}

/// The world of snok's `filter_by_matchers` tests: one version tagged `foo` and
/// `bar`, and a recent one that is never a candidate.
const FOO_BAR: &str = "      - name: app
        images:
          - {handle: foobar, tags: [foo, bar], age: 20d}
          - {handle: fresh, tags: [latest], age: 1d}
";

/// src/core/select_package_versions.rs `test_filter_by_matchers_early_return`: no
/// `image-tags` selects every tagged version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_filter_by_matchers_early_return() {
    variants(
        FOO_BAR,
        &[(
            app!("--tag-selection", "tagged"),
            &[
                ("app", "foobar", "", "delete"),
                ("app", "fresh", "", "keep"),
            ],
        )],
    )
    .await;
}

/// src/core/select_package_versions.rs `test_filter_by_matchers_permutations`: a
/// negative match keeps the version, also when a positive item matches too; every
/// tag matching deletes it; none matching, or only some (a partial match), keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_filter_by_matchers_permutations() {
    let kept: &[(&str, &str, &str, &str)] =
        &[("app", "foobar", "", "keep"), ("app", "fresh", "", "keep")];
    let s = start(&Case {
        packages: FOO_BAR,
        ..Case::default()
    })
    .await;
    for tags in ["!foo", "*, !*", "random", "foo"] {
        check_plan(
            &s,
            &Case {
                packages: FOO_BAR,
                flags: app!("--tag-selection", "tagged", "--image-tags", tags),
                expect: kept,
                ..Case::default()
            },
        )
        .await;
    }
    // The partial match says which tag was not selected.
    let doc = check_plan(
        &s,
        &Case {
            packages: FOO_BAR,
            flags: app!("--tag-selection", "tagged", "--image-tags", "foo"),
            expect: kept,
            ..Case::default()
        },
    )
    .await;
    let id = s.image("acme", "app", "foobar").expect("pushed").root.0 .0;
    let d = common::decisions(&doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["id"].as_u64() == Some(id))
        .expect("decided");
    assert_eq!(d["reasons"][0]["kind"], "partial_tag_match", "{d}");
    assert_eq!(d["reasons"][0]["unselected"], serde_json::json!(["bar"]));
    let all = Case {
        packages: FOO_BAR,
        flags: app!("--tag-selection", "tagged", "--image-tags", "foo, bar"),
        expect: &[
            ("app", "foobar", "", "delete"),
            ("app", "fresh", "", "keep"),
        ],
        ..Case::default()
    };
    check_plan(&s, &all).await;
    check_apply(&s, &all).await;
    s.shutdown().await;
}

/// Three tagged versions whose `created_at` and `updated_at` orders differ
/// (newest created: `a`; newest updated: `c`).
const KEEP_N: &str = "      - name: app
        images:
          - {handle: a, tags: [a], age: 20d}
          - {handle: b, tags: [b], age: 30d, updated_age: 10d}
          - {handle: c, tags: [c], age: 40d, updated_age: 8d}
";

/// src/core/select_package_versions.rs `test_handle_keep_n_most_recent`: more
/// candidates than `keep-n-most-recent` deletes the oldest; as many or fewer deletes
/// none. By `created_at` as in snok's test, and by `updated_at`, the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_handle_keep_n_most_recent() {
    let created = [
        "--tag-selection",
        "tagged",
        "--timestamp-to-use",
        "created_at",
    ];
    let flags = |n: &'static str| -> Vec<&'static str> {
        [&app!("--keep-n-most-recent", n)[..], &created[..]].concat()
    };
    let (two, six, ten) = (flags("2"), flags("6"), flags("10"));
    let updated = app!("--tag-selection", "tagged", "--keep-n-most-recent", "2");
    let none: &[(&str, &str, &str, &str)] = &[
        ("app", "a", "", "keep"),
        ("app", "b", "", "keep"),
        ("app", "c", "", "keep"),
    ];
    variants(
        KEEP_N,
        &[
            (&six, none),
            (&ten, none),
            (
                updated,
                &[
                    ("app", "a", "", "delete"),
                    ("app", "b", "", "keep"),
                    ("app", "c", "", "keep"),
                ],
            ),
            (
                &two,
                &[
                    ("app", "a", "", "keep"),
                    ("app", "b", "", "keep"),
                    ("app", "c", "", "delete"),
                ],
            ),
        ],
    )
    .await;
}

/// src/core/select_package_versions.rs `test_handle_keep_n_most_recent_ordering`:
/// the newest is kept whatever order the versions come in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_handle_keep_n_most_recent_ordering() {
    variants(
        "      - name: app
        images:
          - {handle: mid, tags: [mid], age: 15m}
          - {handle: newest, tags: [newest], age: 10m}
          - {handle: oldest, tags: [oldest], age: 20m}
",
        &[(
            &[
                "--image-names",
                "app",
                "--cut-off",
                "5m",
                "--tag-selection",
                "tagged",
                "--keep-n-most-recent",
                "1",
                "--timestamp-to-use",
                "created_at",
            ],
            &[
                ("app", "newest", "", "keep"),
                ("app", "mid", "", "delete"),
                ("app", "oldest", "", "delete"),
            ],
        )],
    )
    .await;
}

/// src/core/select_package_versions.rs `test_older_than_cutoff`: a version 10 s old
/// is a candidate for `cut-off: 1s`, not for `11s`, by `created_at` and by
/// `updated_at` (`b` was created now and updated 10 s ago). At exactly the cut-off
/// (`10s`) regsweep takes it, snok does not (a difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_older_than_cutoff() {
    let flags = |cut: &'static str, ts: &'static str| -> Vec<&'static str> {
        vec![
            "--image-names",
            "app",
            "--tag-selection",
            "untagged",
            "--cut-off",
            cut,
            "--timestamp-to-use",
            ts,
        ]
    };
    let (c1, c11, c10) = (
        flags("1s", "created_at"),
        flags("11s", "created_at"),
        flags("10s", "created_at"),
    );
    let (u1, u11) = (flags("1s", "updated_at"), flags("11s", "updated_at"));
    let none: &[(&str, &str, &str, &str)] = &[("app", "a", "", "keep"), ("app", "b", "", "keep")];
    let only_a: &[(&str, &str, &str, &str)] =
        &[("app", "a", "", "delete"), ("app", "b", "", "keep")];
    variants(
        "      - name: app
        images:
          - {handle: a, age: 10s}
          - {handle: b, age: 0s, updated_age: 10s}
",
        &[
            (&c1, only_a),
            (&c11, none),
            (&c10, only_a),
            (&u11, none),
            (
                &u1,
                &[("app", "a", "", "delete"), ("app", "b", "", "delete")],
            ),
        ],
    )
    .await;
}

/// src/core/select_package_versions.rs `test_contains_shas_to_skip`: only the exact
/// digest is skipped. snok compares strings, so a shortened digest skips nothing;
/// regsweep refuses it (exit 2) before listing anything (a difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_contains_shas_to_skip() {
    let packages = "      - name: app
        images:
          - {handle: a, age: 20d}
          - {handle: b, age: 20d}
";
    let s = start(&Case {
        packages,
        ..Case::default()
    })
    .await;
    let a = s
        .image("acme", "app", "a")
        .expect("pushed")
        .root
        .1
        .to_string();
    let case = Case {
        packages,
        flags: app!("--tag-selection", "untagged", "--skip-shas", &a),
        expect: &[("app", "a", "", "keep"), ("app", "b", "", "delete")],
        ..Case::default()
    };
    check_plan(&s, &case).await;
    for short in [&a[..a.len() - 1], &a["sha256:".len()..], "foo"] {
        let r = regsweep(
            &s,
            &args(
                "plan",
                &[
                    &ACME_ADMIN,
                    app!("--tag-selection", "untagged", "--skip-shas", short),
                ],
            ),
            &[],
        )
        .await;
        assert_eq!(r.code, 2, "{short}: {}", r.stderr);
        assert!(r.stderr.contains("--skip-shas"), "{}", r.stderr);
    }
    check_apply(&s, &case).await;
    s.shutdown().await;
}

/// src/core/filter_out_multi_arch_children.rs `test_remove_protected_untagged_child`:
/// the untagged platform manifests of a kept multi-arch image are not candidates;
/// an unrelated untagged version is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_remove_protected_untagged_child() {
    variants(
        "      - name: app
        images:
          - {handle: parent, tags: [v1.0], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: loose, age: 20d}
",
        &[(
            app!("--tag-selection", "untagged"),
            &[
                ("app", "parent", "", "keep"),
                ("app", "loose", "", "delete"),
            ],
        )],
    )
    .await;
}

/// src/core/filter_out_multi_arch_children.rs `test_remove_protected_tagged_child`:
/// a platform manifest that carries a tag of its own (`v1`) and matches
/// `image-tags` is still not deleted while its index (`latest`) is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_remove_protected_tagged_child() {
    let case = Case {
        packages: "      - name: app
        images:
          - {handle: parent, tags: [latest], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: loose, tags: [v2], age: 20d}
",
        flags: app!("--tag-selection", "tagged", "--image-tags", "v1, v2"),
        expect: &[
            ("app", "parent", "", "keep"),
            ("app", "loose", "", "delete"),
        ],
        ..Case::default()
    };
    let s = start(&case).await;
    let child = peer::manifests(&s, "app", "parent", "platform linux/amd64")[0];
    assert!(s.set_listed_tags("acme", "app", child.0, vec!["v1".into()]));
    let doc = check_plan(&s, &case).await;
    let d = common::decisions(&doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["id"].as_u64() == Some(child.0))
        .expect("decided");
    assert_eq!(d["reasons"][0]["kind"], "protected", "{d}");
    check_apply(&s, &case).await;
    s.shutdown().await;
}

/// src/core/filter_out_multi_arch_children.rs `test_unrelated_candidates_remain`:
/// candidates unrelated to a kept image stay candidates. Here the tagged candidate
/// is the package's last tagged version, which GitHub refuses to delete: regsweep
/// skips it with that reason instead of asking (a difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_unrelated_candidates_remain() {
    variants(
        "      - name: app
        images:
          - {handle: aaa, age: 20d}
          - {handle: bbb, age: 20d}
          - {handle: ccc, tags: [latest], age: 20d}
",
        &[(
            app!("--tag-selection", "both"),
            &[
                ("app", "aaa", "", "delete"),
                ("app", "bbb", "", "delete"),
                ("app", "ccc", "", "skip"),
            ],
        )],
    )
    .await;
}

/// src/core/filter_out_multi_arch_children.rs `test_empty_protected_set_is_noop`:
/// with no multi-arch image, every candidate is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_empty_protected_set_is_noop() {
    variants(
        "      - name: app
        images:
          - {handle: aaa, age: 20d}
          - {handle: bbb, tags: [v1], age: 20d}
          - {handle: fresh, tags: [latest], age: 1d}
",
        &[(
            app!("--tag-selection", "both"),
            &[
                ("app", "aaa", "", "delete"),
                ("app", "bbb", "", "delete"),
                ("app", "fresh", "", "keep"),
            ],
        )],
    )
    .await;
}

/// src/matchers.rs `test_filter_matchers`: an item without wildcards matches exactly,
/// `*` any suffix (none included), `?` exactly one character; the same after `!`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_filter_matchers() {
    let tags = |t: &'static str| -> Vec<&'static str> {
        app!("--tag-selection", "tagged", "--image-tags", t).to_vec()
    };
    let expect = |fo: &'static str, foo: &'static str, foos: &'static str| {
        vec![
            ("app", "fo", "", fo),
            ("app", "foo", "", foo),
            ("app", "foos", "", foos),
            ("app", "fresh", "", "keep"),
        ]
    };
    let cases = [
        (tags("foo"), expect("keep", "delete", "keep")),
        (tags("!foo"), expect("delete", "keep", "delete")),
        (tags("foo*"), expect("keep", "delete", "delete")),
        (tags("!foo*"), expect("delete", "keep", "keep")),
        (tags("!foo?"), expect("delete", "delete", "keep")),
        (tags("foo?"), expect("keep", "keep", "delete")),
    ];
    let list: Vec<Variant<'_>> = cases.iter().map(|(f, e)| (&f[..], &e[..])).collect();
    variants(
        "      - name: app
        images:
          - {handle: fo, tags: [fo], age: 20d}
          - {handle: foo, tags: [foo], age: 20d}
          - {handle: foos, tags: [foos], age: 20d}
          - {handle: fresh, tags: [latest], age: 1d}
",
        &list,
    )
    .await;
}

/// Packages `foo` and `zed`, each with one old untagged version.
const FOO_ZED: &str = "      - name: foo
        images:
          - {handle: u, age: 20d}
      - name: zed
        images:
          - {handle: u, age: 20d}
";

/// src/core/select_packages.rs `test_filter_by_matchers`: `image-names` as snok reads
/// it: exclusions only select every other package; `!` alone is refused by regsweep
/// (snok: selects everything; a difference, docs/policy.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_select_packages_filter_by_matchers() {
    let names = |n: &'static str| -> Vec<&'static str> {
        vec![
            "--image-names",
            n,
            "--cut-off",
            "1w",
            "--tag-selection",
            "untagged",
        ]
    };
    let expect =
        |foo: &'static str, zed: &'static str| vec![("foo", "u", "", foo), ("zed", "u", "", zed)];
    let cases = [
        (names("!foo"), expect("keep", "delete")),
        (names("!f*"), expect("keep", "delete")),
        (names("!bar, !baz"), expect("delete", "delete")),
        (names("foo"), expect("delete", "keep")),
        (names("f*"), expect("delete", "keep")),
        (names("*"), expect("delete", "delete")),
    ];
    let s = start(&Case {
        packages: FOO_ZED,
        ..Case::default()
    })
    .await;
    for (flags, expect) in &cases {
        check_plan(
            &s,
            &Case {
                packages: FOO_ZED,
                flags,
                expect,
                ..Case::default()
            },
        )
        .await;
    }
    let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, &names("!")]), &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`!` alone excludes nothing"),
        "{}",
        r.stderr
    );
    // Exact names that match no package: snok selects nothing; regsweep says which
    // package it did not find (exit 2; a difference).
    let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, &names("bar, baz")]), &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("package `bar` of organisation `acme` was not found"),
        "{}",
        r.stderr
    );
    let (flags, expect) = &cases[5];
    check_apply(
        &s,
        &Case {
            packages: FOO_ZED,
            flags,
            expect,
            ..Case::default()
        },
    )
    .await;
    s.shutdown().await;
}

/// src/cli/args.rs `test_vec_of_string_from_str`: lists split on commas and
/// whitespace, any number of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_vec_of_string_from_str() {
    let packages = "      - name: foo
        images:
          - {handle: u, age: 20d}
      - name: bar
        images:
          - {handle: u, age: 20d}
      - name: baz
        images:
          - {handle: u, age: 20d}
";
    let names = |n: &'static str| -> Vec<&'static str> {
        vec![
            "--image-names",
            n,
            "--cut-off",
            "1w",
            "--tag-selection",
            "untagged",
        ]
    };
    let two = vec![
        ("foo", "u", "", "delete"),
        ("bar", "u", "", "delete"),
        ("baz", "u", "", "keep"),
    ];
    let three = vec![
        ("foo", "u", "", "delete"),
        ("bar", "u", "", "delete"),
        ("baz", "u", "", "delete"),
    ];
    let cases = [
        (names("foo,bar"), &two),
        (names("foo , bar"), &two),
        (names("foo bar"), &two),
        (names("foo , bar,baz"), &three),
        (names("foo  bar baz"), &three),
    ];
    let list: Vec<Variant<'_>> = cases.iter().map(|(f, e)| (&f[..], &e[..])).collect();
    variants(packages, &list).await;
}

/// src/cli/args.rs `test_try_parse_shas_as_list`: digests separated by commas and
/// spaces; a digest without `sha256:`, or not a digest, is refused (exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_try_parse_shas_as_list() {
    let packages = "      - name: app
        images:
          - {handle: a, age: 20d}
          - {handle: b, age: 20d}
          - {handle: c, age: 20d}
          - {handle: d, age: 20d}
";
    let s = start(&Case {
        packages,
        ..Case::default()
    })
    .await;
    let digest = |h: &str| {
        s.image("acme", "app", h)
            .expect("pushed")
            .root
            .1
            .to_string()
    };
    let list = format!("{}, {}  {}", digest("a"), digest("b"), digest("c"));
    let case = Case {
        packages,
        flags: app!("--tag-selection", "untagged", "--skip-shas", &list),
        expect: &[
            ("app", "a", "", "keep"),
            ("app", "b", "", "keep"),
            ("app", "c", "", "keep"),
            ("app", "d", "", "delete"),
        ],
        ..Case::default()
    };
    check_plan(&s, &case).await;
    let bare = digest("a")["sha256:".len()..].to_string();
    for wrong in [bare.as_str(), "foo"] {
        let r = regsweep(
            &s,
            &args(
                "plan",
                &[
                    &ACME_ADMIN,
                    app!("--tag-selection", "untagged", "--skip-shas", wrong),
                ],
            ),
            &[],
        )
        .await;
        assert_eq!(r.code, 2, "{wrong}: {}", r.stderr);
    }
    check_apply(&s, &case).await;
    s.shutdown().await;
}

/// src/cli/args.rs `parse_timestamp` and `parse_tag_selection`: the values snok
/// accepts are accepted (any case), the others refused with exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_parse_timestamp_and_tag_selection() {
    let s = start(&Case {
        packages: "      - name: app
        images:
          - {handle: u, age: 20d}
",
        ..Case::default()
    })
    .await;
    for (flag, value, ok) in [
        ("--timestamp-to-use", "updated_at", true),
        ("--timestamp-to-use", "created_at", true),
        ("--timestamp-to-use", "createdAt", false),
        ("--timestamp-to-use", "updatedAt", false),
        ("--timestamp-to-use", "updated-At", false),
        ("--timestamp-to-use", "Created-At", false),
        ("--tag-selection", "tagged", true),
        ("--tag-selection", "untagged", true),
        ("--tag-selection", "both", true),
        ("--tag-selection", "foo", false),
    ] {
        let r = regsweep(&s, &args("plan", &[&ACME_ADMIN, app!(flag, value)]), &[]).await;
        assert_eq!(
            r.code,
            if ok { 0 } else { 2 },
            "{flag} {value}: {}",
            r.stderr
        );
        if !ok {
            assert!(r.stderr.contains(flag), "{}", r.stderr);
        }
    }
    s.shutdown().await;
}

/// src/cli/args.rs `parse_token_rejects_invalid`: snok refuses a token whose prefix
/// or shape it does not know. regsweep judges a token by what GitHub says it may do,
/// never by its prefix: a token GitHub accepts works whatever it looks like (a
/// difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_parse_token_rejects_invalid() {
    let s = common::sim(
        &common::scenario(
            "  - {token: not-a-token, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
accounts:
  - name: acme
    packages:
      - name: app
        images:
          - {handle: u, age: 20d}
",
        ),
        Default::default(),
    )
    .await;
    let r = regsweep(
        &s,
        &args(
            "plan",
            &[
                &["--account", "acme", "--token", "not-a-token"],
                app!("--tag-selection", "untagged"),
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("not-a-token"), "{}", r.stderr);
    s.shutdown().await;
}

/// tests/integration_tests.rs `parse_input`: snok's input permutations, with the
/// quotes its Docker action leaves in the values (`--image-names="foo bar"`,
/// `--shas-to-skip=''`), plan without error and select what the unquoted lists name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_parse_input() {
    let packages = "      - name: foo
        images:
          - {handle: t, tags: [one], age: 40d}
          - {handle: u, age: 40d}
          - {handle: latest, tags: [latest], age: 1h}
      - name: bar
        images:
          - {handle: t, tags: [two], age: 40d}
          - {handle: u, age: 40d}
          - {handle: latest, tags: [latest], age: 1h}
";
    let untagged_gone = vec![
        ("foo", "t", "", "keep"),
        ("foo", "u", "", "delete"),
        ("foo", "latest", "", "keep"),
        ("bar", "t", "", "keep"),
        ("bar", "u", "", "delete"),
        ("bar", "latest", "", "keep"),
    ];
    let all_old_gone = vec![
        ("foo", "t", "", "delete"),
        ("foo", "u", "", "delete"),
        ("foo", "latest", "", "keep"),
        ("bar", "t", "", "delete"),
        ("bar", "u", "", "delete"),
        ("bar", "latest", "", "keep"),
    ];
    let list: Vec<Variant<'_>> = vec![
        (
            &[
                "--image-names=foo",
                "--image-tags=one",
                "--shas-to-skip=",
                "--keep-n-most-recent=0",
                "--tag-selection=tagged",
                "--timestamp-to-use=updated_at",
                "--cut-off=1w",
                "--dry-run=true",
            ],
            &[
                ("foo", "t", "", "delete"),
                ("foo", "u", "", "keep"),
                ("foo", "latest", "", "keep"),
            ],
        ),
        (
            &[
                "--image-names=\"foo bar\"",
                "--image-tags=\"one two\"",
                "--shas-to-skip=",
                "--keep-n-most-recent=10",
                "--tag-selection=untagged",
                "--timestamp-to-use=created_at",
                "--cut-off=1d",
                "--dry-run=true",
            ],
            &untagged_gone,
        ),
        (
            &[
                "--image-names=\"foo, bar\"",
                "--image-tags=\"one, two\"",
                "--shas-to-skip=''",
                "--keep-n-most-recent=999",
                "--tag-selection=both",
                "--timestamp-to-use=updated_at",
                "--cut-off=1h",
                "--dry-run=true",
            ],
            &[
                ("foo", "t", "", "keep"),
                ("foo", "u", "", "delete"),
                ("foo", "latest", "", "keep"),
                ("bar", "t", "", "keep"),
                ("bar", "u", "", "delete"),
                ("bar", "latest", "", "keep"),
            ],
        ),
        (
            &[
                "--image-names=\"foo, bar\"",
                "--image-tags=\"one, two\"",
                "--shas-to-skip=''",
                "--keep-n-most-recent=0",
                "--tag-selection=both",
                "--timestamp-to-use=updated_at",
                "--cut-off=1d",
            ],
            &all_old_gone,
        ),
    ];
    variants(packages, &list).await;
}

/// tests/integration_tests.rs `url_env_parsing`: the API address comes from
/// `GITHUB_API_URL`, as in an Actions job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_url_env_parsing() {
    let s = start(&Case {
        packages: "      - name: app
        images:
          - {handle: u, age: 20d}
",
        ..Case::default()
    })
    .await;
    let mut cmd = common::pinned(&args(
        "plan",
        &[
            &ACME_ADMIN,
            app!("--tag-selection", "untagged", "--output", "json"),
        ],
    ));
    cmd.env("GITHUB_API_URL", s.api_url().as_str())
        .args(["--registry-url", s.registry_url().as_str()]);
    let r = common::finish(cmd).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["totals"]["delete"], 1, "{}", r.stdout);
    s.shutdown().await;
}

/// src/core/filter_out_multi_arch_children.rs protects only the manifests an index
/// of a kept image lists. An OCI 1.1 referrer of a kept image (a signature, an SBOM)
/// is untagged and listed by no index, so snok deletes it with `tag-selection:
/// untagged`; regsweep keeps it with its image (a difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_referrer_of_kept_image_is_kept() {
    variants(
        "      - name: app
        images:
          - {handle: signed, tags: [v1], age: 20d, platforms: [linux/amd64, linux/arm64], referrer: true, signature: true}
          - {handle: loose, age: 20d}
",
        &[(
            app!("--tag-selection", "untagged"),
            &[("app", "signed", "", "keep"), ("app", "loose", "", "delete")],
        )],
    )
    .await;
}

/// Three tagged multi-arch images, as in snok's `kept_tagged_digests` tests.
const THREE_INDEXES: &str = "      - name: app
        images:
          - {handle: v1, tags: [v1], age: 30d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v2, tags: [v2], age: 20d, platforms: [linux/amd64, linux/arm64]}
          - {handle: v4, tags: [v4], age: 10d, platforms: [linux/amd64, linux/arm64]}
";

/// src/core/select_package_versions.rs `test_kept_tagged_digests_basic`: the
/// platform manifests of the images that stay are protected; those of the deleted
/// image go with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_kept_tagged_digests_basic() {
    variants(
        THREE_INDEXES,
        &[(
            app!("--tag-selection", "both", "--image-tags", "v2"),
            &[
                ("app", "v1", "", "keep"),
                ("app", "v2", "", "delete"),
                ("app", "v4", "", "keep"),
            ],
        )],
    )
    .await;
}

/// src/core/select_package_versions.rs `test_kept_tagged_digests_all_deleted`:
/// every tagged image selected. GitHub refuses to delete a package's last tagged
/// version; regsweep skips the newest candidate with that reason (with its
/// platforms) instead of asking (a difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_kept_tagged_digests_all_deleted() {
    let (s, doc) = peer::run(&Case {
        packages: THREE_INDEXES,
        flags: app!("--tag-selection", "both"),
        expect: &[
            ("app", "v1", "", "delete"),
            ("app", "v2", "", "delete"),
            ("app", "v4", "", "skip"),
            ("app", "v4", "platform", "keep"),
        ],
        ..Case::default()
    })
    .await;
    let id = s.image("acme", "app", "v4").expect("pushed").root.0 .0;
    let d = common::decisions(&doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["id"].as_u64() == Some(id))
        .expect("decided");
    assert!(
        d["reason"].as_str().unwrap_or("").contains("last tagged"),
        "{d}"
    );
    s.shutdown().await;
}

/// src/core/select_package_versions.rs `test_kept_tagged_digests_none_deleted`: no
/// tagged image deleted: every platform manifest is protected from the untagged
/// rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snok_kept_tagged_digests_none_deleted() {
    variants(
        THREE_INDEXES,
        &[(
            app!("--tag-selection", "untagged"),
            &[
                ("app", "v1", "", "keep"),
                ("app", "v2", "", "keep"),
                ("app", "v4", "", "keep"),
            ],
        )],
    )
    .await;
}
