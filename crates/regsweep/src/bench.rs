//! `regsweep bench`: runs the real binary against generated accounts in the
//! emulator and prints, per row, each figure beside its limit: requests made against
//! the minimum needed, manifest reads against the tagged roots (with `--graph`), wall
//! time against the time GitHub's documented 900 points a minute allow, CPU time and
//! peak memory against the goals. Not part of the test suite; no figure is asserted.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regsweep_sim::{Scenario, Sim, SimOptions};

use crate::cli::BenchArgs;
use crate::exit::Exit;

mod pace;
mod weekly;

/// Whose packages every bench run reads: the generated account, its admin token,
/// every package.
const ACCOUNT: [&str; 6] = [
    "--account",
    "acme",
    "--token",
    "ghp_admin",
    "--image-names",
    "*",
];

/// GitHub's documented secondary limit: points a minute per endpoint (GET 1, DELETE 5).
const POINTS_PER_MINUTE: f64 = 900.0;
/// Versions per listing page regsweep asks for (GitHub's maximum).
const PER_PAGE: usize = 100;

/// One row: `packages` packages of `versions` versions each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    packages: usize,
    versions: usize,
}

impl Row {
    fn total(&self) -> usize {
        self.packages * self.versions
    }

    fn label(&self) -> String {
        if self.packages == 1 {
            format!("{} in 1", self.versions)
        } else {
            format!("{}x{}", self.packages, self.versions)
        }
    }
}

/// The rows of `args`, one-package sizes first.
fn rows(args: &BenchArgs) -> anyhow::Result<Vec<Row>> {
    let mut out: Vec<Row> = args
        .sizes
        .iter()
        .map(|&versions| Row {
            packages: 1,
            versions,
        })
        .collect();
    for spec in &args.packages {
        let spec = spec.trim();
        if spec.is_empty() || spec == "none" {
            continue;
        }
        let parsed = spec
            .split_once('x')
            .and_then(|(p, v)| Some((p.parse().ok()?, v.parse().ok()?)));
        match parsed {
            Some((packages, versions)) if packages > 0 => out.push(Row { packages, versions }),
            _ => anyhow::bail!(
                "--packages `{spec}` is not PACKAGESxVERSIONS\n  expected e.g. `50x200` (50 packages of 200 versions), or `none`"
            ),
        }
    }
    Ok(out)
}

/// CPU time (user + system) and peak resident set of one finished child.
struct Usage {
    cpu: Duration,
    peak_rss: u64,
    status: i32,
}

/// Runs `cmd` to its end, returning its stdout, stderr and its own resource usage
/// (`wait4`: this child's figures, not the largest of every child so far).
fn run_measured(mut cmd: Command) -> anyhow::Result<(Vec<u8>, Vec<u8>, Usage)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    // The peak resident set of the child's own memory (VmHWM), read while it runs:
    // `ru_maxrss` would also count this process's memory (the emulator's) at the
    // moment of the spawn.
    let hwm = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let kb = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            match kb {
                Some(kb) => peak = peak.max(kb * 1024),
                None => break,
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let mut stdout = Vec::new();
    out.read_to_end(&mut stdout)?;
    let stderr = err_reader.join().unwrap_or_default();
    let pid = pid as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 writes into the zeroed rusage and the status we pass; `child` is
    // not waited for again (std's `Child` does not wait on drop).
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if got != pid {
        anyhow::bail!(
            "cannot read the resource usage of regsweep (pid {pid}): {}",
            std::io::Error::last_os_error()
        );
    }
    let peak_rss = hwm.join().unwrap_or(0);
    let secs = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok((
        stdout,
        stderr,
        Usage {
            cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
            // A zombie has no VmHWM left; `ru_maxrss` bounds it from above.
            peak_rss: if peak_rss > 0 {
                peak_rss
            } else {
                ru.ru_maxrss as u64 * 1024
            },
            status: if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            },
        },
    ))
}

/// The goals of issue 13 for `versions` versions: CPU and peak RSS for listing and
/// planning. None below 100,000 versions (start-up dominates there).
fn goals(versions: usize) -> (Option<Duration>, Option<u64>) {
    match versions {
        v if v >= 1_000_000 => (None, Some(1_000_000_000)),
        v if v >= 100_000 => (Some(Duration::from_millis(500)), Some(100_000_000)),
        _ => (None, None),
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn secs(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.0} s", d.as_secs_f64())
    }
}

/// `figure / limit`, or the figure alone when there is no limit.
fn beside(figure: String, limit: Option<String>) -> String {
    match limit {
        Some(l) => format!("{figure} / {l}"),
        None => format!("{figure} / —"),
    }
}

/// Runs the benchmark.
pub async fn run(args: &BenchArgs) -> anyhow::Result<Exit> {
    if args.pace {
        return pace::run(args).await;
    }
    let rows = rows(args)?;
    let exe = std::env::current_exe()?;
    println!(
        "{:<12} {:>15} {:>15} {:>17} {:>16} {:>17} {:>8} {:>8}",
        "versions",
        "requests/min",
        "manifests/roots",
        "wall/limit-bound",
        "cpu/goal",
        "peak RSS/goal",
        "deleted",
        "limited"
    );
    for row in rows {
        let options = SimOptions {
            registry_latency: args.registry_latency.unwrap_or_default(),
            ..SimOptions::default()
        };
        let sim = Sim::start(
            Scenario::generated("acme", row.packages, row.versions, 42),
            options,
        )
        .await?;
        let mut cmd = Command::new(&exe);
        cmd.arg(if args.apply { "apply" } else { "plan" })
            .args(ACCOUNT)
            .args([
                "--cut-off",
                "30d",
                "--tag-selection",
                "tagged",
                "--keep-n-most-recent",
                "5",
                "--graph",
                if args.graph { "read" } else { "skip" },
                "--output",
                "json",
                "--api-url",
                sim.api_url().as_str(),
                "--registry-url",
                sim.registry_url().as_str(),
            ])
            .env("REGSWEEP_LOG", "warn");
        let t = Instant::now();
        let measured = run_measured(cmd);
        let wall = t.elapsed();
        let (stdout, stderr, usage) = match measured {
            Ok(m) => m,
            Err(e) => {
                sim.shutdown().await;
                return Err(e);
            }
        };
        let doc: serde_json::Value = serde_json::from_slice(&stdout).unwrap_or_default();
        if doc.is_null() {
            eprintln!(
                "bench: regsweep exited {} at {}: {}",
                usage.status,
                row.label(),
                String::from_utf8_lossy(&stderr)
            );
            sim.shutdown().await;
            return Ok(Exit::Partial);
        }
        let stats = sim.stats();
        sim.shutdown().await;
        let deleted = doc["totals"]["deleted"].as_u64().unwrap_or(0);
        // Minimum: one request to learn the token, one page of the package listing
        // per 100 packages, one page per 100 versions of each package, one DELETE
        // per deletion.
        let pages = (row.packages.div_ceil(PER_PAGE)
            + row.packages * row.versions.div_ceil(PER_PAGE).max(1)) as u64;
        let minimum = 1 + pages + deleted;
        let manifest_reads: u64 = stats
            .by_route
            .iter()
            .filter(|(route, _)| route.contains("/manifests/"))
            .map(|(_, n)| n)
            .sum();
        let api_requests = stats.requests
            - stats
                .by_route
                .iter()
                .filter(|(route, _)| route.contains(" /v2/") || route.ends_with(" /token"))
                .map(|(_, n)| n)
                .sum::<u64>();
        let roots = doc["packages"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .flat_map(|p| p["decisions"].as_array().into_iter().flatten())
                    .filter(|d| d["tags"].as_array().is_some_and(|t| !t.is_empty()))
                    .count()
            })
            .unwrap_or(0);
        // Limit-bound time: listing pages (1 point) and deletions (5 points) at
        // GitHub's documented 900 points a minute.
        let points = pages as f64 + 5.0 * deleted as f64;
        let bound = Duration::from_secs_f64(points / POINTS_PER_MINUTE * 60.0);
        let (cpu_goal, rss_goal) = goals(row.total());
        let manifests = if args.graph {
            format!("{manifest_reads} / {roots}")
        } else {
            "skipped".to_string()
        };
        println!(
            "{:<12} {:>15} {:>15} {:>17} {:>16} {:>17} {:>8} {:>8}",
            row.label(),
            format!("{api_requests} / {minimum}"),
            manifests,
            format!("{} / {}", secs(wall), secs(bound)),
            beside(secs(usage.cpu), cpu_goal.map(secs)),
            beside(mb(usage.peak_rss), rss_goal.map(mb)),
            deleted,
            stats.primary_limited + stats.secondary_limited
        );
    }
    if !weekly::row(args, &exe).await? {
        return Ok(Exit::Partial);
    }
    println!(
        "\nrequests: API requests made / the minimum (token check, listing pages, deletions).\n\
         manifests: manifest reads / tagged roots (with --graph).\n\
         wall: elapsed / listing pages and deletions at GitHub's documented 900 points a minute.\n\
         cpu, peak RSS: of the regsweep process alone (wait4; VmHWM) / the goals (0.5 s and 100 MB at 100,000 versions, 1 GB at 1,000,000).\n\
         limited: answers that were rate limits (403/429).\n\
         weekly: a second run with a warm inventory cache (--cache-dir) after a week's changes; its minimum is the token check, the package listing and the pages of new versions."
    );
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(sizes: &[usize], packages: &[&str]) -> BenchArgs {
        BenchArgs {
            sizes: sizes.to_vec(),
            packages: packages.iter().map(|s| s.to_string()).collect(),
            apply: false,
            graph: false,
            registry_latency: None,
            weekly: 0,
            pace: false,
            pace_deletions: 500,
            undisclosed_deletes_per_minute: 60,
        }
    }

    #[test]
    fn rows_come_from_sizes_and_package_specs() {
        let r = rows(&args(&[1000], &["50x200", "none"])).unwrap();
        assert_eq!(
            r,
            vec![
                Row {
                    packages: 1,
                    versions: 1000
                },
                Row {
                    packages: 50,
                    versions: 200
                }
            ]
        );
        let e = rows(&args(&[], &["50"])).unwrap_err().to_string();
        assert!(e.contains("PACKAGESxVERSIONS"), "{e}");
    }

    #[test]
    fn goals_apply_from_a_hundred_thousand_versions() {
        assert_eq!(goals(10_000), (None, None));
        assert_eq!(
            goals(100_000),
            (Some(Duration::from_millis(500)), Some(100_000_000))
        );
        assert_eq!(goals(1_000_000).1, Some(1_000_000_000));
    }
}
