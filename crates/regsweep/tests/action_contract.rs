//! The GitHub Action's contract, checked against the real binary: `action.yml`
//! accepts every snok v3 input, passes each to an environment variable the binary
//! reads, and a run configured exactly as the Action runner would configure it
//! (every input present, unset ones empty or at their default) works and writes
//! exactly the outputs `action.yml` declares.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{acme, command, decisions, read, sim, NOW};
use regsweep_sim::SimOptions;
use serde_norway::Value;

const SNOK_V3_INPUTS: [&str; 11] = [
    "account",
    "token",
    "image-names",
    "image-tags",
    "skip-shas",
    "tag-selection",
    "keep-n-most-recent",
    "timestamp-to-use",
    "cut-off",
    "dry-run",
    "rust-log",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn action() -> Value {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).expect("action.yml");
    serde_norway::from_str(&text).expect("action.yml is YAML")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_mapping()
        .expect("a mapping")
        .keys()
        .map(|k| k.as_str().expect("string keys").to_string())
        .collect()
}

/// The environment the runner gives the container for the `with:` values `given`:
/// each `runs.env` entry with `${{ inputs.X }}` replaced by the given value, else the
/// input's default, else the empty string.
fn runner_env(
    action: &Value,
    given: &BTreeMap<&str, String>,
    api_url: &str,
) -> Vec<(String, String)> {
    let inputs = &action["inputs"];
    let mut out = Vec::new();
    for (k, v) in action["runs"]["env"].as_mapping().expect("runs.env") {
        let name = k.as_str().unwrap().to_string();
        let template = v.as_str().expect("env values are strings").trim();
        let input = template
            .strip_prefix("${{ inputs.")
            .and_then(|s| s.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("{name}: `{template}` is not an input reference"));
        let value = match given.get(input) {
            Some(v) => v.clone(),
            None => match inputs[input]["default"].as_str() {
                Some("${{ github.api_url }}") => api_url.to_string(),
                Some(d) => d.to_string(),
                None => String::new(),
            },
        };
        out.push((name, value));
    }
    out
}

#[test]
fn action_yml_accepts_every_snok_input_and_the_binary_reads_every_variable() {
    let a = action();
    let inputs = keys(&a["inputs"]);
    for name in SNOK_V3_INPUTS {
        assert!(
            inputs.contains(name),
            "action.yml lacks snok's input `{name}`"
        );
    }
    // Every input reaches the binary, through exactly one variable.
    let mut referenced = BTreeSet::new();
    for v in a["runs"]["env"].as_mapping().unwrap().values() {
        let t = v.as_str().unwrap();
        let input = t
            .trim()
            .trim_start_matches("${{ inputs.")
            .trim_end_matches(" }}");
        assert!(
            inputs.contains(input),
            "runs.env references unknown input `{input}`"
        );
        assert!(
            referenced.insert(input.to_string()),
            "`{input}` passed twice"
        );
    }
    assert_eq!(referenced, inputs, "inputs never passed to the binary");
    // The binary documents each variable (clap's `[env: NAME=]` in --help).
    let help = Command::new(env!("CARGO_BIN_EXE_regsweep"))
        .args(["apply", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for name in keys(&a["runs"]["env"]) {
        // `[env: NAME=…]`, or `[env: NAME]` where the value is hidden (the token).
        let shown =
            help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]"));
        assert!(shown, "`regsweep apply` does not read {name}");
    }
    assert_eq!(a["runs"]["using"], "docker");
    assert_eq!(a["runs"]["args"][0], "apply");
}

#[test]
fn dockerfile_copies_only_what_exists() {
    let root = repo_root();
    let a = action();
    let image = a["runs"]["image"].as_str().unwrap();
    let text = std::fs::read_to_string(root.join(image)).expect("the Action's Dockerfile");
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("COPY ") {
            if rest.starts_with("--from=") {
                continue;
            }
            let parts: Vec<&str> = rest.split_whitespace().collect();
            for src in &parts[..parts.len() - 1] {
                assert!(root.join(src).exists(), "Dockerfile copies missing `{src}`");
            }
        }
    }
    assert!(text.contains("USER nonroot"), "the image runs as non-root");
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        "build context excludes target/"
    );
}

/// The packages of `acme` (see [`common::acme`]).
const PACKAGES: &str = r#"      - name: foo
        visibility: private
        images:
          - {handle: v1, tags: [v1], age: 60d}
          - {handle: prod, tags: [prod], age: 90d}
          - {handle: v2, tags: [v2], age: 40d}
          - {handle: loose, tags: [], age: 50d}
          - {handle: v3, tags: [v3], age: 1d}
      - name: bar
        visibility: private
        images:
          - {handle: b1, tags: [b1], age: 70d}
          - {handle: b2, tags: [b2], age: 2d}
      - name: qux
        visibility: private
        images:
          - {handle: q1, tags: [q1], age: 70d}
          - {handle: q2, tags: [q2], age: 70d}
"#;

/// snok's organisation example as an Action step: the runner passes every input
/// (unset ones empty or at their default); the run plans, deletes and writes the
/// outputs action.yml declares, no more and no fewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_configured_like_the_runner_runs_and_writes_the_declared_outputs() {
    let s = sim(&acme(PACKAGES), SimOptions::default()).await;
    let a = action();
    let given: BTreeMap<&str, String> = [
        ("account", "acme"),
        ("token", "ghp_admin"),
        ("image-names", "foo bar"),
        ("image-tags", "!prod !qa"),
        ("cut-off", "4w"),
        ("registry-url", s.registry_url().as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    let env = runner_env(&a, &given, s.api_url().as_str());
    assert!(
        env.iter()
            .any(|(k, v)| k == "REGSWEEP_SKIP_SHAS" && v.is_empty()),
        "unset inputs arrive as empty variables"
    );
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let summary = dir.path().join("summary");
    let run = |args: &[&str], extra: &[(&str, &str)]| {
        let mut cmd = command(args);
        cmd.env("REGSWEEP_NOW", NOW)
            .env("GITHUB_ACTIONS", "true")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied());
        cmd.output().expect("regsweep runs")
    };
    // The plan first (as `dry-run: true` would), as JSON for checking.
    let plan = run(&["plan"], &[("REGSWEEP_OUTPUT", "json")]);
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("JSON plan");
    let to_delete: BTreeSet<String> = decisions(&doc)
        .into_iter()
        .filter(|(_, d)| d["action"] == "delete")
        .map(|(p, d)| format!("{}:{}", p["name"].as_str().unwrap(), d["id"]))
        .collect();
    // foo: v1, v2 and the untagged one (older than 4w, not prod); bar: b1. qux is not named.
    assert_eq!(to_delete.len(), 4, "{to_delete:?}");

    let out = run(
        &a["runs"]["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>(),
        &[
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: BTreeMap<String, String> = read(&output)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let declared = keys(&a["outputs"]);
    assert_eq!(
        written.keys().cloned().collect::<BTreeSet<_>>(),
        declared,
        "outputs written vs declared in action.yml"
    );
    let deleted: BTreeSet<String> = written["deleted"].split(',').map(String::from).collect();
    assert_eq!(deleted, to_delete);
    assert_eq!(written["deleted-count"], "4");
    assert_eq!(written["failed"], "");
    assert_eq!(written["left-count"], "0");
    assert!(
        read(&summary).contains("foo"),
        "the step summary names the packages"
    );
    assert_eq!(s.versions("acme", "qux").len(), 2, "qux untouched");
    s.shutdown().await;
}
