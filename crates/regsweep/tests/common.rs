//! Shared helpers for the end-to-end tests: start the emulator from a scenario and
//! run the real `regsweep` binary against it.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use regsweep_sim::{FailNext, FaultConfig, Scenario, Sim, SimOptions};
use serde_json::Value;

/// The frozen clock of the test scenarios.
pub const NOW: &str = "2026-11-24T12:00:00Z";

/// The account and admin token of the test scenarios.
pub const ACME_ADMIN: [&str; 4] = ["--account", "acme", "--token", "ghp_admin"];

/// Old tagged versions of `app` are deleted; no manifests are read (generated
/// versions have none), so untagged ones are all kept. JSON output.
pub const TAGGED_OLD: [&str; 10] = [
    "--image-names",
    "app",
    "--cut-off",
    "30d",
    "--tag-selection",
    "tagged",
    "--graph",
    "skip",
    "--output",
    "json",
];

/// The package `app` of real images (YAML list item, indented for `packages:`):
/// v0 (two platforms, signature, referrer, 60 days old), v1 (two platforms, buildx
/// attestations, signature, 40 days), v1-nested (an index inside an index) and an
/// untagged orphan.
pub const APP_GRAPH: &str = "      - name: app
        visibility: private
        images:
          - {handle: v0, tags: [v0], age: 60d, platforms: [linux/amd64, linux/arm64], signature: true, referrer: true}
          - {handle: v1, tags: [v1], age: 40d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true, signature: true}
          - {handle: nested, tags: [v1-nested], age: 40d, platforms: [linux/amd64, linux/arm64], nested: true}
          - {handle: orphan, tags: [], age: 40d}
";

/// A scenario: the frozen clock and the admin token `ghp_admin` (classic, read and
/// delete), then `rest` (more `tokens:` entries, then `accounts:` and the rest).
pub fn scenario(rest: &str) -> String {
    format!(
        "now: {NOW}\ntokens:\n  - {{token: ghp_admin, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}}\n{rest}"
    )
}

/// The `accounts:` section of one organisation `acme` holding `packages` (YAML list
/// items indented six spaces).
pub fn acme_accounts(packages: &str) -> String {
    format!("accounts:\n  - name: acme\n    kind: org\n    packages:\n{packages}")
}

/// The usual scenario: the standard header and token, and the organisation `acme`
/// holding `packages`.
pub fn acme(packages: &str) -> String {
    scenario(&acme_accounts(packages))
}

/// A private package `name` of `versions` generated (metadata-only) versions.
pub fn generated(name: &str, versions: usize, seed: u64) -> String {
    format!(
        "      - name: {name}\n        visibility: private\n        generate: {{versions: {versions}, seed: {seed}}}\n"
    )
}

/// A package `name` of `versions` generated (metadata-only) versions, its visibility
/// left to the emulator's default.
pub fn generated_default(name: &str, versions: usize, seed: u64) -> String {
    format!("      - name: {name}\n        generate: {{versions: {versions}, seed: {seed}}}\n")
}

/// Emulator options where every GitHub API answer is delayed by `ms` milliseconds.
pub fn slow(ms: u64) -> SimOptions {
    SimOptions {
        faults: FaultConfig {
            latency: Duration::from_millis(ms),
            ..FaultConfig::default()
        },
        ..SimOptions::default()
    }
}

/// A command line: the subcommand, then each group of arguments in order.
pub fn args<'a>(sub: &'a str, groups: &[&[&'a str]]) -> Vec<&'a str> {
    std::iter::once(sub)
        .chain(groups.iter().flat_map(|g| g.iter().copied()))
        .collect()
}

/// Faults: the next `count` requests (of `method`, when given) answer `status`.
pub fn fail_next(count: u32, status: u16, method: Option<&str>) -> FaultConfig {
    FaultConfig {
        fail_next: Some(FailNext {
            count,
            status,
            method: method.map(String::from),
            path_contains: None,
        }),
        ..FaultConfig::default()
    }
}

/// What a run of the binary returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout parsed as JSON (for `--output json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    /// The exit code (-1 when killed by a signal) and both streams as text.
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Starts the emulator with a YAML scenario.
pub async fn sim(yaml: &str, options: SimOptions) -> Sim {
    let scenario = Scenario::from_yaml(yaml).expect("scenario parses");
    Sim::start(scenario, options)
        .await
        .expect("emulator starts")
}

/// The `regsweep` binary with `args` and a clean environment: only `PATH` is kept.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regsweep"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// [`command`] on the scenarios' frozen clock, logging warnings only.
pub fn pinned(args: &[&str]) -> Command {
    let mut cmd = command(args);
    cmd.env("REGSWEEP_NOW", NOW).env("REGSWEEP_LOG", "warn");
    cmd
}

/// [`pinned`], pointed at the emulator's API and registry.
pub fn against(sim: &Sim, args: &[&str]) -> Command {
    let mut cmd = pinned(args);
    cmd.args([
        "--api-url",
        sim.api_url().as_str(),
        "--registry-url",
        sim.registry_url().as_str(),
    ]);
    cmd
}

/// Runs `cmd` to the end off the async runtime's threads.
pub async fn finish(mut cmd: Command) -> Run {
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("regsweep runs"))
        .await
        .expect("join");
    Run::from(out)
}

/// Runs `regsweep ARGS` against `sim` with a clean environment.
pub async fn regsweep(sim: &Sim, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = against(sim, args);
    cmd.envs(env.iter().copied());
    finish(cmd).await
}

/// `regsweep validate` of the packages `names` of `acme` (admin token) against `sim`.
pub async fn validate(sim: &Sim, names: &str) -> Run {
    regsweep(
        sim,
        &args("validate", &[&ACME_ADMIN, &["--image-names", names]]),
        &[],
    )
    .await
}

/// Runs the binary without any emulator.
pub fn regsweep_offline(args: &[&str]) -> Run {
    let mut cmd = command(args);
    Run::from(cmd.output().expect("regsweep runs"))
}

/// Reads a file, empty if absent.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Every decision of a JSON report with the package entry it belongs to, in the
/// report's order.
pub fn decisions(doc: &Value) -> Vec<(&Value, &Value)> {
    doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .flat_map(|p| {
            p["decisions"]
                .as_array()
                .expect("decisions")
                .iter()
                .map(move |d| (p, d))
        })
        .collect()
}

/// (package, id, action) of every decision of a JSON plan, sorted.
pub fn actions(doc: &Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<_> = decisions(doc)
        .into_iter()
        .map(|(p, d)| {
            (
                p["name"].as_str().unwrap().to_string(),
                d["id"].as_u64().unwrap(),
                d["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The outputs in a `$GITHUB_OUTPUT` file, parsed as the runner parses them: every
/// entry in the `name<<DELIMITER` … `DELIMITER` form (regsweep writes no other).
/// Panics on a line outside that form: that would be an injected or broken output.
pub fn github_outputs(p: &Path) -> std::collections::BTreeMap<String, String> {
    parse_github_outputs(&read(p))
}

/// [`github_outputs`] of a text.
pub fn parse_github_outputs(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line
            .split_once("<<")
            .unwrap_or_else(|| panic!("`{line}` is not in the name<<DELIMITER form:\n{text}"));
        let mut value = Vec::new();
        loop {
            let l = lines
                .next()
                .unwrap_or_else(|| panic!("`{name}`: delimiter `{delimiter}` never closed"));
            if l == delimiter {
                break;
            }
            value.push(l);
        }
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}

/// Ids with an intent line in a write-ahead journal (torn lines left out).
pub fn journal_intents(p: &Path) -> std::collections::BTreeSet<u64> {
    read(p)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["kind"] == "intent")
        .filter_map(|l| l["id"].as_u64())
        .collect()
}

/// Ids of `acme/app` the emulator holds as deleted.
pub fn app_deleted(s: &Sim) -> std::collections::BTreeSet<u64> {
    s.deleted("acme", "app").iter().map(|v| v.id.0).collect()
}

/// The digests of `acme/app`'s active versions, sorted.
pub fn app_digests(s: &Sim) -> Vec<String> {
    let mut v: Vec<String> = s
        .versions("acme", "app")
        .into_iter()
        .map(|v| v.digest.to_string())
        .collect();
    v.sort();
    v
}
