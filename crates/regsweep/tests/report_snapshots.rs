//! Snapshots of what people read: the table and the Markdown step summary for the
//! bundled demo account (real images in the real registry, frozen clock). A change
//! to wording, order or layout shows up as a reviewed snapshot diff.

mod common;

use common::{acme, args, generated, regsweep};
use regsweep_sim::{Scenario, Sim, SimOptions};

const DEMO: [&str; 12] = [
    "--account",
    "acme",
    "--token",
    "ghp_demo_admin",
    "--image-names",
    "*",
    "--image-tags",
    "!latest",
    "--cut-off",
    "2w",
    "--keep-n-most-recent",
    "2",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_plan_as_table_and_markdown() {
    let s = Sim::start(Scenario::demo(), SimOptions::default())
        .await
        .expect("the demo world starts");
    for format in ["table", "markdown"] {
        let r = regsweep(&s, &args("plan", &[&DEMO, &["--output", format]]), &[]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        insta::assert_snapshot!(format!("demo_plan_{format}"), r.stdout);
    }
    s.shutdown().await;
}

/// A step summary stays readable (and under GitHub's 1 MiB cap) for large accounts:
/// at most 200 rows per package, the rest counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_summary_is_capped_per_package() {
    let s = common::sim(&acme(&generated("big", 450, 3)), SimOptions::default()).await;
    // Every version older than a day, tagged, without reading manifests.
    let plan = |format| {
        let argv = args(
            "plan",
            &[
                &common::ACME_ADMIN,
                &["--image-names", "big", "--cut-off", "1d", "--graph", "skip"],
                &["--tag-selection", "tagged", "--output", format],
            ],
        );
        let s = &s;
        async move { regsweep(s, &argv, &[]).await }
    };
    let r = plan("markdown").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("| delete |"))
        .count();
    assert_eq!(rows, 200, "{}", r.stdout);
    let json = plan("json").await.json();
    let to_delete = json["totals"]["delete"].as_u64().unwrap() as usize;
    assert!(
        to_delete > 200,
        "the scenario must exceed the cap: {to_delete}"
    );
    assert!(
        r.stdout
            .contains(&format!("… and {} more", to_delete - 200)),
        "{}",
        r.stdout
    );
    s.shutdown().await;
}

/// Error messages people read when a token cannot do what the inputs need: what
/// happened, the request and GitHub's answer, and how to fix it. The emulator's
/// port is filtered out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_errors_say_what_why_and_how_to_fix() {
    let yaml = common::scenario(&format!(
        "  - {{token: ghp_readonly, kind: classic, user: octocat, scopes: [read:packages]}}\n  - {{token: ghs_actions, kind: actions, grants: [acme/app]}}\n{}",
        common::acme_accounts(&generated("app", 10, 7))
    ));
    let s = common::sim(&yaml, SimOptions::default()).await;
    let cases = [
        ("actions_token_with_wildcards", "ghs_actions", "*"),
        ("classic_token_without_delete_scope", "ghp_readonly", "app"),
        ("unknown_token", "ghp_unknown", "app"),
    ];
    for (name, token, names) in cases {
        let argv = args(
            "apply",
            &[
                &["--account", "acme", "--token", token],
                &["--image-names", names, "--cut-off", "1w", "--graph", "skip"],
            ],
        );
        let r = regsweep(&s, &argv, &[]).await;
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "{name}: nothing planned, nothing printed"
        );
        insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]")]}, {
            insta::assert_snapshot!(format!("error_{name}"), r.stderr);
        });
    }
    s.shutdown().await;
}
