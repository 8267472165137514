//! The pacing rows of `regsweep bench --pace`: `N` deletions at real time against
//! the emulator, first under GitHub's documented limit alone (900 points a minute,
//! DELETE = 5), then under an undisclosed lower limit of `M` DELETEs a minute that no
//! header tells (answered 429), twice: a first run that learns the pace, and the
//! next run, which starts from the pace the first one left in `pace.json` (the same
//! `--cache-dir`; package listings are not kept, so only the pace carries over).
//! Each row prints the wall time beside the limit-bound time, the throughput beside
//! the limit's, and the limited answers beside 2% of the requests. Minutes per row;
//! no figure is asserted.

use std::process::Command;
use std::time::{Duration, Instant};

use regsweep_sim::{Scenario, Sim, SimOptions};

use super::{run_measured, secs, PER_PAGE, POINTS_PER_MINUTE};
use crate::cli::BenchArgs;
use crate::exit::Exit;

/// The share of requests that may be limited answers (issue 13).
const LIMITED_SHARE: f64 = 0.02;

/// The policy of the pacing rows: old tagged versions, the newest `keep` spared.
fn policy(keep: usize) -> Vec<String> {
    super::ACCOUNT
        .iter()
        .chain(&[
            "--cut-off",
            "30d",
            "--tag-selection",
            "tagged",
            "--graph",
            "skip",
            "--output",
            "json",
            "--keep-n-most-recent",
        ])
        .map(|s| s.to_string())
        .chain([keep.to_string()])
        .collect()
}

/// Runs `regsweep SUB` against `sim`, with the pace kept in `cache` when given; its
/// JSON document and exit status.
fn regsweep(
    exe: &std::path::Path,
    sub: &str,
    keep: usize,
    sim: &Sim,
    cache: Option<&std::path::Path>,
) -> anyhow::Result<(serde_json::Value, i32, String)> {
    let mut cmd = Command::new(exe);
    cmd.arg(sub).args(policy(keep));
    if let Some(dir) = cache {
        cmd.arg("--cache-dir").arg(dir).arg("--no-inventory-cache");
    }
    cmd.args([
        "--api-url",
        sim.api_url().as_str(),
        "--registry-url",
        sim.registry_url().as_str(),
    ])
    .env("REGSWEEP_LOG", "warn");
    let (stdout, stderr, usage) = run_measured(cmd)?;
    let doc = serde_json::from_slice(&stdout).unwrap_or_default();
    Ok((
        doc,
        usage.status,
        String::from_utf8_lossy(&stderr).into_owned(),
    ))
}

/// The versions of the generated package and the `keep` that leaves exactly
/// `deletions` to delete: a dry run with nothing kept counts the candidates.
async fn package_for(exe: &std::path::Path, deletions: usize) -> anyhow::Result<(usize, usize)> {
    // About two thirds of generated versions are tagged, nearly all older than 30 days.
    let versions = deletions * 2 + 100;
    let sim = Sim::start(
        Scenario::generated("acme", 1, versions, 42),
        SimOptions::default(),
    )
    .await?;
    let planned = regsweep(exe, "plan", 0, &sim, None);
    sim.shutdown().await;
    let (doc, status, stderr) = planned?;
    let candidates = doc["totals"]["delete"].as_u64().unwrap_or(0) as usize;
    anyhow::ensure!(
        candidates >= deletions,
        "bench: the generated package offers {candidates} deletions, fewer than {deletions} (exit {status}): {stderr}"
    );
    Ok((versions, candidates - deletions))
}

/// Runs the three pacing rows.
pub async fn run(args: &BenchArgs) -> anyhow::Result<Exit> {
    let exe = std::env::current_exe()?;
    let deletions = args.pace_deletions.max(1);
    let undisclosed = args.undisclosed_deletes_per_minute.max(1);
    let (versions, keep) = package_for(&exe, deletions).await?;
    println!(
        "{:<38} {:>8} {:>22} {:>26} {:>20}",
        "limit", "deleted", "wall/limit-bound", "throughput/limit", "limited/2% of req"
    );
    // Where the undisclosed rows keep the learnt pace, the second starting from it.
    let dir = std::env::temp_dir().join(format!("regsweep-bench-pace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rows = pace_rows(&exe, versions, keep, undisclosed, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    rows
}

/// The rows, the undisclosed ones keeping their pace in `dir`.
async fn pace_rows(
    exe: &std::path::Path,
    versions: usize,
    keep: usize,
    undisclosed: u32,
    dir: &std::path::Path,
) -> anyhow::Result<Exit> {
    for (limit, cache, run) in [
        (None, None, ""),
        (Some(undisclosed), Some(dir), ", 1st run"),
        (Some(undisclosed), Some(dir), ", next run"),
    ] {
        let options = SimOptions {
            undisclosed_deletes_per_minute: limit,
            ..SimOptions::default()
        };
        let sim = Sim::start(Scenario::generated("acme", 1, versions, 42), options).await?;
        let t = Instant::now();
        let ran = regsweep(exe, "apply", keep, &sim, cache);
        let wall = t.elapsed();
        let stats = sim.stats();
        sim.shutdown().await;
        let (doc, status, stderr) = ran?;
        if doc.is_null() {
            eprintln!("bench: regsweep exited {status}: {stderr}");
            return Ok(Exit::Partial);
        }
        let deleted = doc["totals"]["deleted"].as_u64().unwrap_or(0);
        let pages = (1 + versions.div_ceil(PER_PAGE)) as f64;
        // The documented limit: listing pages (1 point) and deletions (5 points) at
        // 900 points a minute; the undisclosed one: its deletions a minute.
        let documented = (pages + 5.0 * deleted as f64) / POINTS_PER_MINUTE;
        let (label, per_minute, minutes) = match limit {
            None => (
                "documented 900 points/min".to_string(),
                POINTS_PER_MINUTE / 5.0,
                documented,
            ),
            Some(n) => (
                format!("undisclosed {n} DELETEs/min{run}"),
                f64::from(n),
                documented.max(deleted as f64 / f64::from(n)),
            ),
        };
        let bound = Duration::from_secs_f64(minutes * 60.0);
        let achieved = deleted as f64 / wall.as_secs_f64() * 60.0;
        let api_requests = stats.requests
            - stats
                .by_route
                .iter()
                .filter(|(route, _)| route.contains(" /v2/") || route.ends_with(" /token"))
                .map(|(_, n)| n)
                .sum::<u64>();
        let limited = stats.primary_limited + stats.secondary_limited;
        println!(
            "{:<38} {:>8} {:>22} {:>26} {:>20}",
            label,
            deleted,
            format!(
                "{} / {} ({:.2})",
                secs(wall),
                secs(bound),
                wall.as_secs_f64() / bound.as_secs_f64()
            ),
            format!(
                "{achieved:.1} / {per_minute:.0} a min ({:.2})",
                achieved / per_minute
            ),
            format!(
                "{limited} / {:.1} of {api_requests}",
                LIMITED_SHARE * api_requests as f64
            ),
        );
    }
    println!(
        "\nwall: elapsed / the limit-bound time: listing pages and deletions at 900 points a minute, or the deletions at the undisclosed pace.\n\
         throughput: deletions a minute / the limit's (180 at 900 points, DELETE = 5; or the undisclosed limit).\n\
         limited: answers that were rate limits (403/429) / 2% of the API requests.\n\
         next run: the same undisclosed limit, regsweep starting from the pace the 1st run left in pace.json (--cache-dir)."
    );
    Ok(Exit::Success)
}
