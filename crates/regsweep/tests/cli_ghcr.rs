//! End to end: the real binary against the GitHub Packages API emulator.
//! Each test is named after the behaviour (or snok defect) it pins.

mod common;

use common::{
    acme_accounts, actions, args, fail_next, read, regsweep, regsweep_offline, sim, ACME_ADMIN,
};
use regsweep_sim::{FailNext, FaultConfig, SimOptions};

/// Tokens besides the admin one: read-only, and an Actions token granted `acme/app`.
const MORE_TOKENS: &str = r#"  - {token: ghp_readonly, kind: classic, user: octocat, scopes: [read:packages]}
  - {token: ghs_actions, kind: actions, grants: [acme/app]}
"#;

/// The organisation `acme` holding `packages`, with every token of this file.
fn scenario(packages: &str) -> String {
    common::scenario(&format!("{MORE_TOKENS}{}", acme_accounts(packages)))
}

/// A private package `name` of `versions` generated versions (seed 7).
fn generated(name: &str, versions: usize) -> String {
    common::generated(name, versions, 7)
}

/// Old tagged versions of `app` (older than 30 days).
const OLD_TAGGED_APP: [&str; 6] = [
    "--image-names",
    "app",
    "--cut-off",
    "30d",
    "--tag-selection",
    "tagged",
];

/// `SUB --account acme --token TOKEN --image-names NAMES --cut-off 1d`, then `rest`.
fn as_token<'a>(sub: &'a str, token: &'a str, names: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    args(
        sub,
        &[
            &["--account", "acme", "--token", token],
            &["--image-names", names, "--cut-off", "1d"],
            rest,
        ],
    )
}

/// `plan --account a --token t` (an account and token never used), then `rest`.
fn plan_offline<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    args("plan", &[&["--account", "a", "--token", "t"], rest])
}

const JSON_NO_GRAPH: [&str; 4] = ["--output", "json", "--graph", "skip"];

/// The subcommand (first of `extra`), then the base options, then the rest.
fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let (cmd, rest) = extra.split_first().expect("a subcommand");
    args(cmd, &[&ACME_ADMIN, &JSON_NO_GRAPH, rest])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_with_next_last_prev_first_in_package_name() {
    let yaml = scenario(&generated("next-last-prev-first", 250));
    for omit in [false, true] {
        let s = sim(
            &yaml,
            SimOptions {
                omit_link_headers: omit,
                ..SimOptions::default()
            },
        )
        .await;
        let r = regsweep(
            &s,
            &with(&["plan", "--image-names", "*", "--cut-off", "1w"]),
            &[],
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let doc = r.json();
        let listed = doc["totals"]["versions"].as_u64().unwrap();
        assert_eq!(
            listed as usize,
            s.versions("acme", "next-last-prev-first").len(),
            "omit_link_headers={omit}"
        );
        assert!(listed >= 250);
        s.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_decide_the_same_and_outputs_are_written() {
    let yaml = scenario(&(generated("app", 120) + &generated("team/worker", 30)));
    let s = sim(&yaml, SimOptions::default()).await;
    let args = [
        "--image-names",
        "app, team/*",
        "--cut-off",
        "30d",
        "--tag-selection",
        "tagged",
        "--keep-n-most-recent",
        "3",
    ];
    let plan = regsweep(&s, &with(&[&["plan"], &args[..]].concat()), &[]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let planned = plan.json();
    let to_delete = planned["totals"]["delete"].as_u64().unwrap();
    assert!(to_delete > 0, "the scenario has old tagged versions");
    let before = s.versions("acme", "app").len() + s.versions("acme", "team/worker").len();

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let summary = dir.path().join("summary.md");
    // Pacing is tested in cli_limits; here it would only add 20 s of waiting.
    let fast = ["--delete-points-per-minute", "60000"];
    let apply = regsweep(
        &s,
        &with(&[&["apply"], &args[..], &fast[..]].concat()),
        &[
            ("GITHUB_OUTPUT", out.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let applied = apply.json();
    assert_eq!(
        actions(&planned),
        actions(&applied),
        "plan and apply decide the same"
    );
    assert_eq!(applied["totals"]["deleted"].as_u64().unwrap(), to_delete);
    let after = s.versions("acme", "app").len() + s.versions("acme", "team/worker").len();
    assert_eq!((before - after) as u64, to_delete);

    let outputs = common::github_outputs(&out);
    assert_eq!(
        outputs["deleted-count"],
        to_delete.to_string(),
        "{outputs:?}"
    );
    assert_eq!(outputs["failed-count"], "0", "{outputs:?}");
    let deleted_line = &outputs["deleted"];
    assert_eq!(deleted_line.split(',').count() as u64, to_delete);
    assert!(deleted_line.contains("team/worker:") || deleted_line.contains("app:"));
    assert!(read(&summary).contains("regsweep: retention applied"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deletions_exit_1_and_are_listed() {
    let s = sim(&scenario(&generated("app", 60)), SimOptions::default()).await;
    s.set_faults(fail_next(10_000, 500, Some("DELETE")));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let r = regsweep(
        &s,
        &with(&args("apply", &[&OLD_TAGGED_APP, &["--max-retries", "0"]])),
        &[("GITHUB_OUTPUT", out.to_str().unwrap())],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert!(
        doc["totals"]["failed"].as_u64().unwrap() > 0,
        "{}\n{}",
        doc["totals"],
        r.stderr
    );
    assert_eq!(doc["totals"]["deleted"].as_u64().unwrap(), 0);
    let outputs = common::github_outputs(&out);
    assert_eq!(outputs["deleted-count"], "0");
    assert_ne!(outputs["failed-count"], "0");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_5xx_are_retried() {
    let s = sim(&scenario(&generated("app", 40)), SimOptions::default()).await;
    s.set_faults(fail_next(3, 502, None));
    let r = regsweep(&s, &with(&args("apply", &[&OLD_TAGGED_APP])), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["totals"]["failed"].as_u64().unwrap(), 0);
    assert!(s.stats().faults_injected >= 3);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_token_with_wildcards_stops_before_deleting() {
    let s = sim(&scenario(&generated("app", 10)), SimOptions::default()).await;
    let r = regsweep(&s, &as_token("apply", "ghs_actions", "*", &[]), &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("name packages exactly") || r.stderr.contains("--image-names"),
        "{}",
        r.stderr
    );
    assert!(s.deleted("acme", "app").is_empty());
    // With exact names it works (the token was granted acme/app).
    let ok = regsweep(
        &s,
        &as_token("plan", "ghs_actions", "app", &["--graph", "skip"]),
        &[],
    )
    .await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_without_delete_scope_cannot_apply_but_can_plan() {
    let s = sim(&scenario(&generated("app", 10)), SimOptions::default()).await;
    let skip = ["--graph", "skip"];
    let r = regsweep(&s, &as_token("apply", "ghp_readonly", "app", &skip), &[]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("delete:packages"), "{}", r.stderr);
    let r = regsweep(&s, &as_token("plan", "ghp_readonly", "app", &skip), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bad = regsweep(&s, &as_token("plan", "nope", "app", &[]), &[]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(!bad.stderr.contains("nope"), "the token never prints");
    s.shutdown().await;
}

/// Snok rejected tokens by prefix (`github_pat_`, `gho_`, `ghu_`, …). regsweep learns
/// what a token may do from GitHub's answers: any prefix works, a GitHub App token
/// (no `X-OAuth-Scopes`, no `/user`) lists and deletes by its permission, and a
/// read-only one is found out at its first refused deletion, after which the rest of
/// the package is left instead of sent to fail the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_kind_is_learnt_from_answers_never_from_its_prefix() {
    let tokens = r#"  - {token: github_pat_11ABCDEFG_fine, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
  - {token: gho_oauth_app_token, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
  - {token: ghs_installation_write, kind: app, installed_on: [acme], permission: write}
  - {token: v1.installation_read, kind: app, installed_on: [acme], permission: read}
"#;
    let yaml = common::scenario(&format!("{tokens}{}", acme_accounts(&generated("app", 30))));
    let skip = [
        "--graph",
        "skip",
        "--tag-selection",
        "tagged",
        "--output",
        "json",
    ];
    for token in [
        "github_pat_11ABCDEFG_fine",
        "gho_oauth_app_token",
        "ghs_installation_write",
    ] {
        let s = sim(&yaml, SimOptions::default()).await;
        let plan = regsweep(&s, &as_token("plan", token, "*", &skip), &[]).await;
        assert_eq!(plan.code, 0, "{token}: {}", plan.stderr);
        let planned = plan.json()["totals"]["delete"].as_u64().unwrap();
        assert!(planned > 0);
        let r = regsweep(&s, &as_token("apply", token, "*", &skip), &[]).await;
        assert_eq!(r.code, 0, "{token}: {}", r.stderr);
        assert_eq!(r.json()["totals"]["deleted"], planned, "{token}");
        s.shutdown().await;
    }

    let s = sim(&yaml, SimOptions::default()).await;
    let token = "v1.installation_read";
    let plan = regsweep(&s, &as_token("plan", token, "*", &skip), &[]).await;
    assert_eq!(
        plan.code, 0,
        "a read-only app token can plan: {}",
        plan.stderr
    );
    let r = regsweep(
        &s,
        &as_token(
            "apply",
            token,
            "*",
            &[&skip[..], &["--concurrency", "1"]].concat(),
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let planned = doc["totals"]["delete"].as_u64().unwrap();
    assert_eq!(doc["totals"]["deleted"], 0);
    assert_eq!(doc["totals"]["failed"], 1, "one refusal is enough to know");
    assert_eq!(
        doc["totals"]["left"],
        planned - 1,
        "the rest is left, not sent"
    );
    let deletes = s.requests().iter().filter(|q| q.method == "DELETE").count();
    assert_eq!(deletes, 1);
    assert!(
        r.stdout.contains("GitHub App"),
        "the help names the App permission"
    );
    assert!(
        r.stdout
            .contains("the token may not delete versions of `app`"),
        "{}",
        r.stdout
    );
    s.shutdown().await;
}

#[test]
fn bad_input_exits_2_with_help() {
    for (args, needle) in [
        (
            vec![
                "plan",
                "--token",
                "t",
                "--image-names",
                "a",
                "--cut-off",
                "1w",
            ],
            "no account",
        ),
        (plan_offline(&["--image-names", "a"]), "no cut-off"),
        (
            plan_offline(&["--image-names", "a", "--cut-off", "soon"]),
            "not a duration",
        ),
        (
            plan_offline(&[
                "--image-names",
                "a",
                "--cut-off",
                "1w",
                "--api-url",
                "http://example.com",
            ]),
            "loopback",
        ),
        (
            plan_offline(&["--image-names", "re:(", "--cut-off", "1w"]),
            "regular expression",
        ),
    ] {
        let r = regsweep_offline(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("help:") || r.stderr.contains("expected"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn print_policy_shows_the_snok_translation() {
    let r = regsweep_offline(&plan_offline(&[
        "--image-names",
        "app",
        "--cut-off",
        "1w",
        "--keep-n-most-recent",
        "2",
        "--print-policy",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("tagged") && r.stdout.contains("untagged"),
        "{}",
        r.stdout
    );
}

/// GHCR limits registry reads too: manifest reads answered 429 (with `retry-after`)
/// are waited out and retried, the registry concurrency set by
/// `--registry-concurrency` is halved, and the plan decides exactly as without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_429_on_manifest_reads_lowers_concurrency_and_decides_the_same() {
    let s = sim(&common::acme(common::APP_GRAPH), SimOptions::default()).await;
    let plan = args(
        "plan",
        &[
            &ACME_ADMIN,
            &[
                "--image-names",
                "app",
                "--cut-off",
                "30d",
                "--output",
                "json",
            ],
            &["--registry-concurrency", "4"],
        ],
    );
    let clean = regsweep(&s, &plan, &[]).await;
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    s.set_faults(FaultConfig {
        registry_fail_next: Some(FailNext {
            count: 3,
            status: 429,
            method: Some("GET".into()),
            path_contains: Some("/manifests/".into()),
        }),
        ..FaultConfig::default()
    });
    let limited = regsweep(&s, &plan, &[]).await;
    assert_eq!(limited.code, 0, "{}", limited.stderr);
    assert_eq!(actions(&clean.json()), actions(&limited.json()));
    assert_eq!(s.stats().by_status.get(&429).copied(), Some(3));
    assert!(
        limited
            .stderr
            .contains("the registry answered 429: lowering concurrency from 4 to 2"),
        "{}",
        limited.stderr
    );
    s.shutdown().await;
}
