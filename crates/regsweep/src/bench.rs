//! `regsweep bench`: runs the real binary against generated accounts in the
//! emulator and prints, per size, requests made vs the minimum needed, wall time,
//! CPU time, peak memory and rate-limit answers. Not part of the test suite.

use std::process::Command;
use std::time::Instant;

use regsweep_sim::{Scenario, Sim, SimOptions};

use crate::exit::Exit;

/// The token generated scenarios grant (a classic PAT with delete:packages).
/// Packages per generated account.
const PACKAGES: usize = 10;

fn children_usage() -> (f64, u64) {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let cpu = ru.ru_utime.tv_sec as f64
        + ru.ru_utime.tv_usec as f64 / 1e6
        + ru.ru_stime.tv_sec as f64
        + ru.ru_stime.tv_usec as f64 / 1e6;
    (cpu, ru.ru_maxrss as u64 * 1024)
}

/// Runs the benchmark.
pub async fn run(sizes: &[usize], apply: bool) -> anyhow::Result<Exit> {
    let exe = std::env::current_exe()?;
    println!(
        "{:>8} {:>9} {:>9} {:>10} {:>9} {:>11} {:>11} {:>9} {:>8}",
        "versions",
        "requests",
        "minimum",
        "wall",
        "cpu",
        "plan cpu",
        "peak mem",
        "deleted",
        "limited"
    );
    for &size in sizes {
        let per = size.div_ceil(PACKAGES);
        let sim = Sim::start(
            Scenario::generated("acme", PACKAGES, per, 42),
            SimOptions::default(),
        )
        .await?;
        let (cpu0, _) = children_usage();
        let t = Instant::now();
        let out = Command::new(&exe)
            .arg(if apply { "apply" } else { "plan" })
            .args([
                "--account",
                "acme",
                "--token",
                "ghp_admin",
                "--image-names",
                "*",
                "--cut-off",
                "30d",
            ])
            .args([
                "--tag-selection",
                "tagged",
                "--keep-n-most-recent",
                "5",
                "--graph",
                "skip",
                "--output",
                "json",
            ])
            .args([
                "--api-url",
                sim.api_url().as_str(),
                "--registry-url",
                sim.registry_url().as_str(),
            ])
            .env("REGSWEEP_LOG", "warn")
            .output()?;
        let wall = t.elapsed();
        let (cpu1, peak) = children_usage();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if doc.is_null() {
            eprintln!(
                "bench: regsweep failed at size {size}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            sim.shutdown().await;
            return Ok(Exit::Partial);
        }
        let stats = sim.stats();
        // Minimum: one probe, one package listing page, one request per 100 versions
        // per package, one DELETE per deletion.
        let deleted = doc["totals"]["deleted"].as_u64().unwrap_or(0);
        let minimum =
            1 + PACKAGES.div_ceil(100) as u64 + (PACKAGES * per.div_ceil(100)) as u64 + deleted;
        println!(
            "{:>8} {:>9} {:>9} {:>9.2}s {:>8.2}s {:>9}ms {:>8.1} MB {:>9} {:>8}",
            doc["totals"]["versions"].as_u64().unwrap_or(0),
            stats.requests,
            minimum,
            wall.as_secs_f64(),
            cpu1 - cpu0,
            doc["timings"]["planning_ms"].as_u64().unwrap_or(0),
            peak as f64 / 1e6,
            deleted,
            stats.primary_limited + stats.secondary_limited
        );
        sim.shutdown().await;
    }
    println!("\npeak mem is the largest resident set of any regsweep child so far (getrusage RUSAGE_CHILDREN).");
    Ok(Exit::Success)
}
