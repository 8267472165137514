//! The warm-cache weekly row of `regsweep bench`: one package of `--weekly`
//! versions in the emulator. A first run (`apply`, not measured) lists it into an
//! inventory cache and deletes the oldest tagged versions; then the account changes
//! as a week of CI would (a few hundred versions pushed, some of them deleted
//! again); then the same policy is planned again with the warm cache: that run is
//! measured. The minimum it needs is the token check, the package listing page and
//! the pages holding the new versions (up to the first one already cached).

use std::process::Command;
use std::time::{Duration, Instant};

use regsweep_sim::{Scenario, Sim, SimOptions};

use super::{beside, goals, mb, run_measured, secs, PER_PAGE, POINTS_PER_MINUTE};
use crate::cli::BenchArgs;

/// Versions pushed during the week, and how many of them are deleted again.
const PUSHED: usize = 300;
const DELETED_AGAIN: usize = 50;

/// The policy of both runs: tagged versions older than 363 days go, except the
/// newest 5 (a few hundred in the first run of a year of generated history).
const POLICY: [&str; 8] = [
    "--cut-off",
    "363d",
    "--tag-selection",
    "tagged",
    "--keep-n-most-recent",
    "5",
    "--graph",
    "skip",
];

fn command(exe: &std::path::Path, sim: &Sim, sub: &str, cache: &std::path::Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg(sub)
        .args(super::ACCOUNT)
        .args(POLICY)
        .args(["--output", "json", "--cache-dir"])
        .arg(cache)
        .args(["--api-url", sim.api_url().as_str()])
        .args(["--registry-url", sim.registry_url().as_str()])
        .env("REGSWEEP_LOG", "warn");
    cmd
}

/// Runs the row and prints it; `Ok(false)` when a run of regsweep failed (said on
/// stderr).
pub(super) async fn row(args: &BenchArgs, exe: &std::path::Path) -> anyhow::Result<bool> {
    let versions = args.weekly;
    if versions == 0 {
        return Ok(true);
    }
    // The first run deletes at any pace: only the second is measured.
    let options = SimOptions {
        secondary_points_per_minute: 1_000_000,
        registry_latency: args.registry_latency.unwrap_or_default(),
        ..SimOptions::default()
    };
    let sim = Sim::start(Scenario::generated("acme", 1, versions, 42), options).await?;
    let result = measure(&sim, versions, exe).await;
    sim.shutdown().await;
    result
}

async fn measure(sim: &Sim, versions: usize, exe: &std::path::Path) -> anyhow::Result<bool> {
    let cache = std::env::temp_dir().join(format!("regsweep-bench-weekly-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let mut first = command(exe, sim, "apply", &cache);
    first.arg("--delete-points-per-minute").arg("1000000");
    let (_, stderr, usage) = run_measured(first)?;
    if usage.status != 0 {
        eprintln!(
            "bench: the first weekly run exited {}: {}",
            usage.status,
            String::from_utf8_lossy(&stderr)
        );
        return Ok(false);
    }
    let first_deleted = sim.deleted("acme", "service-000").len();
    // A week of CI: pushes (a third untagged, the rest with a commit tag), then some
    // of them deleted again by someone else.
    let tags: Vec<Vec<String>> = (0..PUSHED)
        .map(|i| match i % 3 {
            0 => Vec::new(),
            _ => vec![format!("sha-w{i:05}")],
        })
        .collect();
    let pushed = sim.push_versions("acme", "service-000", tags);
    for id in pushed
        .iter()
        .rev()
        .step_by(PUSHED / DELETED_AGAIN)
        .take(DELETED_AGAIN)
    {
        sim.delete_version("acme", "service-000", *id);
    }
    let new_active = PUSHED - DELETED_AGAIN;
    let before = sim.stats();
    let t = Instant::now();
    let (stdout, stderr, usage) = run_measured(command(exe, sim, "plan", &cache))?;
    let wall = t.elapsed();
    let _ = std::fs::remove_dir_all(&cache);
    let doc: serde_json::Value = serde_json::from_slice(&stdout).unwrap_or_default();
    if doc.is_null() || usage.status != 0 {
        eprintln!(
            "bench: the weekly run exited {}: {}",
            usage.status,
            String::from_utf8_lossy(&stderr)
        );
        return Ok(false);
    }
    let after = sim.stats();
    let api_requests = after.requests - before.requests;
    // The token check, the package listing, and the pages up to the first cached
    // version (one past the new ones).
    let pages = 1 + (new_active + 1).div_ceil(PER_PAGE) as u64;
    let minimum = 1 + pages;
    let bound = Duration::from_secs_f64(pages as f64 / POINTS_PER_MINUTE * 60.0);
    let (cpu_goal, rss_goal) = goals(versions);
    println!(
        "{:<12} {:>15} {:>15} {:>17} {:>16} {:>17} {:>8} {:>8}",
        format!("{versions} weekly"),
        format!("{api_requests} / {minimum}"),
        "skipped",
        format!("{} / {}", secs(wall), secs(bound)),
        beside(secs(usage.cpu), cpu_goal.map(secs)),
        beside(mb(usage.peak_rss), rss_goal.map(mb)),
        doc["totals"]["deleted"].as_u64().unwrap_or(0),
        (after.primary_limited + after.secondary_limited)
            - (before.primary_limited + before.secondary_limited)
    );
    eprintln!(
        "bench: weekly row: the first run deleted {first_deleted}; then {PUSHED} versions pushed and {DELETED_AGAIN} of them deleted"
    );
    Ok(true)
}
