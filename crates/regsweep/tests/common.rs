//! Shared helpers for the end-to-end tests: start the emulator from a scenario and
//! run the real `regsweep` binary against it.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use regsweep_sim::{FailNext, FaultConfig, Scenario, Sim, SimOptions};

/// The frozen clock of the test scenarios.
pub const NOW: &str = "2026-11-24T12:00:00Z";

/// The account and admin token of the test scenarios.
pub const ACME_ADMIN: [&str; 4] = ["--account", "acme", "--token", "ghp_admin"];

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

/// Starts the emulator with a YAML scenario.
pub async fn sim(yaml: &str, options: SimOptions) -> Sim {
    let scenario = Scenario::from_yaml(yaml).expect("scenario parses");
    Sim::start(scenario, options)
        .await
        .expect("emulator starts")
}

/// Runs `regsweep ARGS` against `sim` with a clean environment.
pub async fn regsweep(sim: &Sim, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regsweep"));
    cmd.args(args)
        .args([
            "--api-url",
            sim.api_url().as_str(),
            "--registry-url",
            sim.registry_url().as_str(),
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REGSWEEP_NOW", NOW)
        .env("REGSWEEP_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("regsweep runs"))
        .await
        .expect("join");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the binary without any emulator.
pub fn regsweep_offline(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_regsweep"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("regsweep runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Reads a file, empty if absent.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// (id, action) pairs of a JSON plan, sorted.
pub fn actions(doc: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut v = Vec::new();
    for p in doc["packages"].as_array().expect("packages") {
        for d in p["decisions"].as_array().expect("decisions") {
            v.push((
                p["name"].as_str().unwrap().to_string(),
                d["id"].as_u64().unwrap(),
                d["action"].as_str().unwrap().to_string(),
            ));
        }
    }
    v.sort();
    v
}
