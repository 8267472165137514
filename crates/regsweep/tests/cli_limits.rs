//! End to end: rate limits, the request budget, Ctrl-C and progress, through the real
//! binary against the emulator. Fault and limit tests count answers and outcomes; time
//! only bounds hangs (and, for progress, is a lower bound the emulator's latency makes).

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use common::{
    acme, against, args, decisions, generated_default, regsweep, sim, slow, validate, Run,
    ACME_ADMIN, TAGGED_OLD,
};
use regsweep_sim::{Sim, SimOptions};
use serde_json::Value;

/// One package `app` of `versions` generated (metadata-only) versions.
fn generated(versions: usize) -> String {
    acme(&generated_default("app", versions, 7))
}

/// `regsweep SUB` deleting old tagged versions of `app` ([`TAGGED_OLD`]) with the
/// admin token, then `extra`; `env` added to the environment.
async fn tagged_old(s: &Sim, sub: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    regsweep(s, &args(sub, &[&ACME_ADMIN, &TAGGED_OLD, extra]), env).await
}

/// DELETE requests the emulator answered (whatever the answer).
fn deletes_sent(s: &Sim) -> u64 {
    s.stats()
        .by_route
        .iter()
        .filter(|(k, _)| k.starts_with("DELETE"))
        .map(|(_, n)| *n)
        .sum()
}

/// Requests the classic (admin) token spent.
fn spent(s: &Sim) -> u32 {
    s.requests()
        .iter()
        .filter(|q| q.token_kind == "classic")
        .count() as u32
}

/// (package, id) of every planned deletion, in plan order.
fn planned(doc: &Value) -> Vec<(String, u64)> {
    doc["delete_order"]
        .as_array()
        .expect("delete_order")
        .iter()
        .map(|o| {
            (
                o["package"].as_str().unwrap().to_string(),
                o["id"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// (package, id) → outcome of every planned deletion of an applied run.
fn outcomes(doc: &Value) -> Vec<((String, u64), Value)> {
    decisions(doc)
        .into_iter()
        .filter(|(_, d)| d["action"] == "delete")
        .map(|(p, d)| {
            (
                (
                    p["name"].as_str().unwrap().to_string(),
                    d["id"].as_u64().unwrap(),
                ),
                d["outcome"].clone(),
            )
        })
        .collect()
}

/// The planned deletions whose outcome has `status`.
fn with_status(doc: &Value, status: &str) -> BTreeSet<(String, u64)> {
    outcomes(doc)
        .into_iter()
        .filter(|(_, o)| o["status"] == status)
        .map(|(k, _)| k)
        .collect()
}

/// What the emulator holds as deleted in `acme/<packages>`.
fn sim_deleted(s: &Sim, packages: &[&str]) -> BTreeSet<(String, u64)> {
    packages
        .iter()
        .flat_map(|p| {
            s.deleted("acme", p)
                .into_iter()
                .map(move |v| (p.to_string(), v.id.0))
        })
        .collect()
}

/// Every planned deletion ended somewhere: deleted + failed + skipped + left = planned,
/// each counted once; the totals agree.
fn nothing_dropped(doc: &Value) {
    let all = outcomes(doc);
    assert_eq!(all.len(), planned(doc).len());
    for (k, o) in &all {
        assert!(
            matches!(
                o["status"].as_str(),
                Some("deleted" | "already_gone" | "failed" | "skipped" | "left")
            ),
            "{k:?} has no outcome: {o}"
        );
    }
    let t = &doc["totals"];
    let sum = ["deleted", "failed", "skipped_at_runtime", "left"]
        .iter()
        .map(|k| t[k].as_u64().unwrap_or_else(|| panic!("totals.{k}: {t}")))
        .sum::<u64>();
    assert_eq!(sum, t["delete"].as_u64().unwrap(), "{t}");
}

/// A secondary limit (points per minute per endpoint) hit while deleting: the run
/// waits as GitHub's `retry-after` says, says so on stderr, and deletes everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_limit_during_deletions_is_waited_out_and_nothing_is_lost() {
    let s = sim(
        &generated(60),
        SimOptions {
            // A "minute" is 0.6 s; 10 DELETEs (50 points) fit in one.
            time_scale: 0.01,
            secondary_points_per_minute: 50,
            ..SimOptions::default()
        },
    )
    .await;
    // The client's pacing minute matches the emulator's.
    let r = tagged_old(&s, "apply", &[], &[("REGSWEEP_PACE_WINDOW", "0.6")]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let plan: BTreeSet<_> = planned(&doc).into_iter().collect();
    assert!(
        plan.len() > 20,
        "enough deletions to hit the limit: {}",
        plan.len()
    );
    assert_eq!(with_status(&doc, "deleted"), plan);
    assert_eq!(sim_deleted(&s, &["app"]), plan);
    nothing_dropped(&doc);
    let stats = s.stats();
    assert!(stats.secondary_limited > 0, "{stats:?}");
    assert!(stats.by_status.get(&403).copied().unwrap_or(0) >= stats.secondary_limited);
    // Every refused DELETE was sent again after its wait, once per refusal.
    let sent = deletes_sent(&s);
    assert_eq!(
        sent,
        plan.len() as u64 + stats.secondary_limited,
        "{stats:?}"
    );
    assert!(
        r.stderr.contains("secondary rate limit") && r.stderr.contains("waiting"),
        "{}",
        r.stderr
    );
    s.shutdown().await;
}

/// Against a secondary limit below the documented 900 points a minute (150 points,
/// 30 DELETEs, per 0.6 s emulator "minute", with the client's pacing window scaled to
/// match), the DELETE pace is cut on the first limit answers and the rest of the run
/// meets few: the pace adapted. The learnt pace is remembered in `pace.json` in the
/// cache directory, below the maximum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_pace_adapts_to_a_lower_secondary_limit_and_is_remembered() {
    let s = sim(
        &generated(300),
        SimOptions {
            time_scale: 0.01,
            secondary_points_per_minute: 150,
            ..SimOptions::default()
        },
    )
    .await;
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let r = tagged_old(
        &s,
        "apply",
        &["--cache-dir", cache_dir],
        &[("REGSWEEP_PACE_WINDOW", "0.6")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let plan: BTreeSet<_> = planned(&doc).into_iter().collect();
    assert!(plan.len() >= 150, "enough deletions: {}", plan.len());
    assert_eq!(sim_deleted(&s, &["app"]), plan);
    nothing_dropped(&doc);
    let stats = s.stats();
    assert!(stats.secondary_limited > 0, "the limit was met: {stats:?}");
    assert!(
        r.stderr.contains("slowing deletions from 900 to "),
        "{}",
        r.stderr
    );
    // How close the adapted pace comes to the limit depends on the machine's timing,
    // so it belongs in `regsweep bench`; here: the pace was cut, nothing was lost,
    // and the learnt pace was remembered below the documented one.
    let pace: Value =
        serde_json::from_str(&std::fs::read_to_string(cache.path().join("pace.json")).unwrap())
            .unwrap();
    let learnt = pace["points_per_minute"].as_u64().unwrap();
    assert!((60..900).contains(&learnt), "{pace}");
    assert!(pace["learnt_at"].is_string(), "{pace}");
    s.shutdown().await;
}

/// An undisclosed limit of 60 DELETEs per emulator minute (3 s at time scale 0.05,
/// the client's pacing window scaled to match), answered 429 and shown in no
/// `x-ratelimit-*` header: the run completes, every deletion is journaled before it
/// is sent, and few answers are limits: the pace found the limit by feedback (the
/// 60 DELETEs the server accepted before refusing) and held below it. The ceiling
/// learnt is remembered in `pace.json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undisclosed_delete_limit_is_found_by_feedback() {
    let s = sim(
        &generated(200),
        SimOptions {
            time_scale: 0.05,
            undisclosed_deletes_per_minute: Some(60),
            ..SimOptions::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let cache_dir = dir.path().join("cache");
    let r = tagged_old(
        &s,
        "apply",
        &[
            "--journal",
            journal.to_str().unwrap(),
            "--cache-dir",
            cache_dir.to_str().unwrap(),
            "--concurrency",
            "4",
        ],
        &[("REGSWEEP_PACE_WINDOW", "3")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let plan: BTreeSet<_> = planned(&doc).into_iter().collect();
    assert!(
        plan.len() >= 40,
        "enough deletions to meet the limit: {}",
        plan.len()
    );
    assert_eq!(sim_deleted(&s, &["app"]), plan);
    nothing_dropped(&doc);
    let ids: BTreeSet<u64> = plan.iter().map(|(_, id)| *id).collect();
    assert_eq!(common::journal_intents(&journal), ids);
    let stats = s.stats();
    assert!(
        stats.undisclosed_limited >= 1,
        "the limit was met: {stats:?}"
    );
    // At this time scale DELETEs are 17 ms apart, so the requests in flight when
    // the limit is first met (at most the concurrency, 4) are refused too; after
    // that the pace holds below the limit. (At real time, one: `regsweep bench
    // --pace`.)
    assert!(
        stats.undisclosed_limited <= 6,
        "few limited answers: {stats:?}\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("slowing deletions from 900 to "),
        "{}",
        r.stderr
    );
    let pace: Value =
        serde_json::from_str(&std::fs::read_to_string(cache_dir.join("pace.json")).unwrap())
            .unwrap();
    let ceiling = pace["ceiling_points_per_minute"].as_u64().unwrap();
    assert!((250..=330).contains(&ceiling), "{pace}");
    s.shutdown().await;
}

/// Injected 429s with `retry-after` on DELETE are waited out too (the other status
/// GitHub uses for secondary limits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_limit_answered_429_is_waited_out() {
    let s = sim(&generated(30), SimOptions::default()).await;
    s.set_faults(common::fail_next(2, 429, Some("DELETE")));
    let r = tagged_old(&s, "apply", &[], &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let plan: BTreeSet<_> = planned(&doc).into_iter().collect();
    assert!(!plan.is_empty());
    assert_eq!(sim_deleted(&s, &["app"]), plan);
    assert_eq!(s.stats().by_status.get(&429).copied(), Some(2));
    assert!(r.stderr.contains("secondary rate limit"), "{}", r.stderr);
    s.shutdown().await;
}

/// The primary budget nearly spent: deletions stop at the reserve, the rest is left
/// for the next run with the documented reason, exit 1, and nothing is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_budget_below_the_reserve_leaves_the_rest_for_the_next_run() {
    const LIMIT: u32 = 70;
    const RESERVE: u32 = 50;
    let s = sim(
        &generated(60),
        SimOptions {
            primary_limit_classic: LIMIT,
            ..SimOptions::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let r = tagged_old(
        &s,
        "apply",
        &["--reserve-requests", "50"],
        &[("GITHUB_OUTPUT", out.to_str().unwrap())],
    )
    .await;
    assert_eq!(
        r.code, 1,
        "work left for the next run exits 1: {}",
        r.stderr
    );
    let doc = r.json();
    let plan = planned(&doc);
    assert!(
        plan.len() > 30,
        "more deletions than the budget: {}",
        plan.len()
    );
    nothing_dropped(&doc);

    let deleted = with_status(&doc, "deleted");
    assert!(!deleted.is_empty(), "the budget above the reserve is spent");
    assert_eq!(sim_deleted(&s, &["app"]), deleted);
    let left: Vec<_> = outcomes(&doc)
        .into_iter()
        .filter(|(_, o)| o["status"] == "left")
        .collect();
    assert_eq!(deleted.len() + left.len(), plan.len());
    for (k, o) in &left {
        let why = o["reason"].as_str().unwrap_or("");
        assert!(
            why.contains("rate-limit budget") && why.contains("run again after the reset"),
            "{k:?}: {o}"
        );
    }
    // Deletions go oldest first: the deleted ones are a prefix of the plan order.
    let order: Vec<_> = plan.iter().take(deleted.len()).cloned().collect();
    assert_eq!(order.into_iter().collect::<BTreeSet<_>>(), deleted);

    // The reserve was kept: the token spent at most LIMIT - RESERVE requests and
    // never met the hard limit.
    let stats = s.stats();
    assert_eq!(stats.primary_limited, 0, "{stats:?}");
    let spent = spent(&s);
    assert!(
        spent <= LIMIT - RESERVE,
        "spent {spent} of {LIMIT}, reserve {RESERVE}"
    );
    assert!(r.stderr.contains("left for the next run"), "{}", r.stderr);
    let outputs = common::github_outputs(&out);
    assert_eq!(
        outputs["deleted-count"],
        deleted.len().to_string(),
        "{outputs:?}"
    );
    // Left is not failed: nothing failed, the rest is named in `left`.
    assert_eq!(outputs["failed-count"], "0", "{outputs:?}");
    assert_eq!(outputs["failed"], "", "{outputs:?}");
    assert_eq!(outputs["left-count"], left.len().to_string(), "{outputs:?}");
    assert_eq!(
        outputs["left"].split(',').count(),
        left.len(),
        "{outputs:?}"
    );
    s.shutdown().await;
}

/// The primary limit exhausted while listing (three pages, a budget of three
/// requests an "hour" of 3.6 s): the run waits for the reset, says so, and plans on
/// the complete listing, never on a partial one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_limit_exhausted_while_listing_waits_for_the_reset() {
    let s = sim(
        &generated(250),
        SimOptions {
            time_scale: 0.001,
            primary_limit_classic: 3,
            ..SimOptions::default()
        },
    )
    .await;
    let r = tagged_old(&s, "plan", &[], &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["totals"]["versions"].as_u64(),
        Some(s.versions("acme", "app").len() as u64)
    );
    assert!(
        r.stderr.contains("primary rate limit exhausted; waiting"),
        "{}",
        r.stderr
    );
    s.shutdown().await;
}

/// The same with a reset further away than `--max-wait`: no plan on a partial
/// listing; the run stops with an error naming the limit, and deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_limit_reset_beyond_max_wait_stops_before_planning() {
    let s = sim(
        &generated(250),
        SimOptions {
            primary_limit_classic: 3,
            ..SimOptions::default()
        },
    )
    .await;
    let r = tagged_old(&s, "apply", &["--max-wait", "2s"], &[]).await;
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.trim().is_empty(), "no plan printed: {}", r.stdout);
    assert!(r.stderr.contains("rate limit"), "{}", r.stderr);
    assert!(s.deleted("acme", "app").is_empty());
    s.shutdown().await;
}

/// Regression: the reserve was checked against the last answer's `remaining` only, so
/// concurrent deletions dispatched before any answer came back spent the reserve.
/// With latency every run is in flight before the first answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deletions_do_not_spend_the_reserve() {
    const LIMIT: u32 = 40;
    const RESERVE: u32 = 30;
    let s = sim(
        &generated(60),
        SimOptions {
            primary_limit_classic: LIMIT,
            ..slow(50)
        },
    )
    .await;
    let r = tagged_old(
        &s,
        "apply",
        &["--reserve-requests", "30", "--concurrency", "16"],
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    nothing_dropped(&doc);
    let deleted = with_status(&doc, "deleted");
    assert!(!deleted.is_empty());
    assert_eq!(sim_deleted(&s, &["app"]), deleted);
    let spent = spent(&s);
    assert!(
        spent <= LIMIT - RESERVE,
        "spent {spent} of {LIMIT}, reserve {RESERVE}"
    );
    s.shutdown().await;
}

/// Many registry-backed images, so `validate` can check nothing was left broken.
fn many_images(count: usize) -> String {
    let mut y = "      - name: app\n        images:\n".to_string();
    y.push_str("          - {handle: keep, tags: [latest], age: 1d, platforms: [linux/amd64, linux/arm64]}\n");
    for i in 0..count {
        y.push_str(&format!(
            "          - {{handle: old{i}, tags: [old-{i}], age: {}d, platforms: [linux/amd64, linux/arm64]}}\n",
            40 + i
        ));
    }
    acme(&y)
}

/// Ctrl-C (SIGINT) during deletions: in-flight requests finish, nothing new starts,
/// the rest is reported as left (interrupted), exit 1, and every kept image is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_and_reports_the_rest_as_interrupted() {
    let s = sim(&many_images(12), slow(150)).await;
    let mut cmd = against(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &[
                    "--image-names",
                    "app",
                    "--cut-off",
                    "1w",
                    "--output",
                    "json",
                    "--concurrency",
                    "2",
                ],
            ],
        ),
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("regsweep starts");
    let pid = child.id();

    // Wait for the first deletion (a generous bound only stops a hang).
    let mut waited = Duration::ZERO;
    while deletes_sent(&s) == 0 {
        assert!(waited < Duration::from_secs(120), "no DELETE seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: sends SIGINT to the child this test started and still owns (not reaped).
    let rc = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(rc, 0, "SIGINT sent");
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || child.wait_with_output().expect("regsweep ends")),
    )
    .await
    .expect("regsweep ends after Ctrl-C")
    .expect("join");
    let r = Run::from(out);
    assert_eq!(r.code, 1, "an interrupted run exits 1: {}", r.stderr);
    assert!(r.stderr.contains("interrupted"), "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["interrupted"], true);
    nothing_dropped(&doc);
    let plan = planned(&doc);
    assert_eq!(plan.len(), 36, "12 old images of 3 manifests each");
    let deleted = with_status(&doc, "deleted");
    assert!(!deleted.is_empty());
    assert_eq!(
        sim_deleted(&s, &["app"]),
        deleted,
        "the report says exactly what was deleted, in-flight requests included"
    );
    let interrupted = outcomes(&doc)
        .into_iter()
        .filter(|(_, o)| {
            o["status"] == "left" && o["reason"].as_str().unwrap_or("").contains("interrupted")
        })
        .count();
    assert!(
        interrupted > 0,
        "the undispatched deletions are reported interrupted"
    );
    assert_eq!(
        deleted.len() + interrupted,
        plan.len(),
        "deleted or interrupted, nothing failed"
    );

    // No kept image was left with a deleted child.
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    s.shutdown().await;
}

/// stderr not a terminal: plain periodic progress lines on stderr, none on stdout,
/// which stays one JSON document. The emulator's latency makes the deletions last
/// longer than the progress interval (a lower bound, not a timed assertion).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_plain_lines_on_stderr_when_not_a_terminal() {
    let s = sim(&generated(60), slow(200)).await;
    let r = tagged_old(&s, "apply", &["--concurrency", "1", "--log", "info"], &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).expect("stdout is one JSON document");
    let n = planned(&doc).len();
    assert!(n * 200 > 6000, "deletions outlast the 5 s interval: {n}");
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("deleting: ") && l.contains(&format!("/{n}")))
        .collect();
    assert!(!lines.is_empty(), "{}", r.stderr);
    assert!(
        r.stderr
            .lines()
            .all(|l| !l.contains('\r') && !l.contains("\u{1b}[")),
        "no terminal control sequences: {:?}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("deleting: ") && !r.stdout.contains("listing versions: "),
        "{}",
        r.stdout
    );
    s.shutdown().await;
}
