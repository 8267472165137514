//! The commands: each one reads settings, talks to a source, plans, executes and
//! reports. With `explain` and `demo`, the only modules that write to stdout.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;

use regsweep_core::plan::{Action, Plan};
use regsweep_core::planner::{self, PlanInput};
use regsweep_core::policy::file as policy_file;
use tokio_util::sync::CancellationToken;

use crate::cli::{OutputFormat, RunArgs};
use crate::executor::{self, Execution, Limits};
use crate::exit::{Exit, UsageError};
use crate::progress::Progress;
use crate::report::{self, Report, Timings};
use crate::settings::{self, Backend, Env, Settings};
use crate::source::{Listing, Source};

/// A computed plan with what it was computed from.
pub struct Planned {
    pub listing: Listing,
    pub plan: Plan,
    pub timings: Timings,
}

fn account_label(s: &Settings) -> String {
    match &s.backend {
        Backend::Github { account, .. } => account.clone(),
        Backend::Oci { registry_url, .. } => registry_url.to_string(),
    }
}

/// Lists and plans.
pub async fn compute_plan(
    settings: &Settings,
    source: &Source,
    progress: &Progress,
) -> anyhow::Result<Planned> {
    tracing::info!(
        "policy: {} rule(s) from {}",
        settings.policy.rules.len(),
        settings.policy_source
    );
    let t0 = Instant::now();
    let listing = source.list(settings, progress).await?;
    let listing_ms = t0.elapsed().as_millis();
    let t1 = Instant::now();
    let plan = planner::plan(PlanInput {
        inventory: &listing.inventory,
        graph: &listing.graph,
        policy: &settings.policy,
        now: settings.now,
        options: listing.options,
        pulls: &listing.pulls,
    });
    let planning_ms = t1.elapsed().as_millis();
    tracing::info!(
        "planned {} versions in {} ms: {} to delete, {} kept, {} skipped",
        listing.inventory.version_count(),
        planning_ms,
        plan.count(Action::Delete),
        plan.count(Action::Keep),
        plan.count(Action::Skip)
    );
    Ok(Planned {
        listing,
        plan,
        timings: Timings {
            listing_ms,
            planning_ms,
            deleting_ms: 0,
        },
    })
}

/// Writes the report in the chosen format to stdout (JSON is streamed).
pub fn write_report(format: OutputFormat, r: &Report<'_>) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match format {
        OutputFormat::Table => writeln!(w, "{}", report::table::render(r).trim_end())?,
        OutputFormat::Json => report::json::write(r, &mut w)?,
        OutputFormat::Markdown => writeln!(w, "{}", report::markdown::render(r).trim_end())?,
    }
    w.flush()
}

/// Writes the Actions outputs when running in Actions.
fn write_actions_outputs(settings: &Settings, r: &Report<'_>) -> anyhow::Result<()> {
    if let Some(p) = &settings.github_output {
        report::actions::append(p, &report::actions::output_lines(r))?;
    }
    if let Some(p) = &settings.step_summary {
        report::actions::append(p, &report::markdown::render(r))?;
    }
    Ok(())
}

/// `plan` and `apply`.
pub async fn plan_or_apply(
    args: &RunArgs,
    apply: bool,
    cancel: CancellationToken,
) -> anyhow::Result<Exit> {
    let settings = settings::resolve(args, &Env::read(), true)?;
    if settings.print_policy {
        print!("{}", policy_file::render(&settings.policy));
        return Ok(Exit::Success);
    }
    run_resolved(
        &settings,
        apply && !settings.dry_run,
        cancel,
        &Progress::detect(),
    )
    .await
}

/// Runs a resolved plan/apply and writes every output; returns the exit code.
pub async fn run_resolved(
    settings: &Settings,
    apply: bool,
    cancel: CancellationToken,
    progress: &Progress,
) -> anyhow::Result<Exit> {
    let source = Source::connect(settings, apply).await?;
    let mut planned = compute_plan(settings, &source, progress).await?;
    let mut execution: Option<Execution> = None;
    if apply && !planned.plan.order.is_empty() {
        let t = Instant::now();
        let e = executor::execute(
            &planned.plan,
            &source,
            Limits {
                concurrency: settings.concurrency,
                reserve_requests: settings.reserve_requests,
            },
            cancel.clone(),
            settings.journal.as_deref(),
            progress,
        )
        .await?;
        planned.timings.deleting_ms = t.elapsed().as_millis();
        execution = Some(e);
    } else if apply {
        execution = Some(Execution::default());
    }
    let mut stats = planned.listing.stats;
    stats.api_requests = source.request_count().max(stats.api_requests);
    let account = account_label(settings);
    let r = Report {
        account: &account,
        plan: &planned.plan,
        execution: execution.as_ref(),
        now: settings.now,
        dry_run: !apply,
        show_kept: settings.show_kept,
        stats,
        timings: planned.timings,
        policy: &settings.policy,
        policy_source: settings.policy_source.to_string(),
        unreadable: &planned.listing.unreadable,
    };
    write_report(settings.output, &r).context("could not write the report to stdout")?;
    write_actions_outputs(settings, &r)?;
    let unreadable = report_unreadable(&planned.listing);
    let exit = match &execution {
        Some(e) if e.interrupted => {
            eprintln!(
                "interrupted: {} deleted; {} planned deletions left for the next run",
                r.totals().deleted.unwrap_or(0),
                r.totals().left.unwrap_or(0)
            );
            Exit::Partial
        }
        Some(e) if e.incomplete() => {
            let t = r.totals();
            eprintln!(
                "error: {} deletion(s) failed and {} were left for the next run; see the report above",
                t.failed.unwrap_or(0),
                t.left.unwrap_or(0)
            );
            Exit::Partial
        }
        _ if unreadable => Exit::Partial,
        _ => Exit::Success,
    };
    Ok(exit)
}

/// Writes every unreadable package's message to stderr; whether there was one
/// (the run then exits 1: those packages were left untouched, not cleaned).
fn report_unreadable(listing: &Listing) -> bool {
    for u in &listing.unreadable {
        eprintln!("{}", u.message);
    }
    if !listing.unreadable.is_empty() {
        eprintln!(
            "error: {} could not be read; the others were handled, nothing in these was deleted",
            report::count(listing.unreadable.len(), "package")
        );
    }
    !listing.unreadable.is_empty()
}

/// `validate`: every tagged image in the selection must be complete.
pub async fn validate(args: &RunArgs) -> anyhow::Result<Exit> {
    let (exit, text) = validation(args).await?;
    print!("{text}");
    Ok(exit)
}

/// What `validate` finds: the exit code and the text to show.
pub async fn validation(args: &RunArgs) -> anyhow::Result<(Exit, String)> {
    let mut settings = settings::resolve(args, &Env::read(), false)?;
    settings.read_every_manifest = true;
    let progress = Progress::detect();
    let source = Source::connect(&settings, false).await?;
    let planned = compute_plan(&settings, &source, &progress).await?;
    let mut broken = 0;
    let mut out = String::new();
    for (pkg, f) in planned.plan.findings() {
        let tagged_broken = match f {
            regsweep_core::plan::Finding::Ghost { index, .. }
            | regsweep_core::plan::Finding::Partial { index, .. } => index.tag.is_some(),
            _ => false,
        };
        if tagged_broken {
            broken += 1;
            out.push_str(&format!("BROKEN  {pkg}: {f}\n"));
        } else {
            out.push_str(&format!("note    {pkg}: {f}\n"));
        }
    }
    let images: usize = planned
        .listing
        .inventory
        .packages
        .iter()
        .map(|p| p.tagged_count())
        .sum();
    for u in &planned.listing.unreadable {
        out.push_str(&format!(
            "UNREADABLE  {}\n",
            u.message.strip_prefix("error: ").unwrap_or(&u.message)
        ));
    }
    let unreadable = planned.listing.unreadable.len();
    let verdict = match (broken, unreadable) {
        (0, 0) => "all complete".to_string(),
        (0, n) => format!(
            "none broken, but {} could not be checked",
            report::count(n, "package")
        ),
        (b, 0) => format!("{b} broken"),
        (b, n) => format!(
            "{b} broken, and {} could not be checked",
            report::count(n, "package")
        ),
    };
    out.push_str(&format!(
        "{} in {} checked: {verdict}\n",
        report::count(images, "tagged version"),
        report::count(planned.listing.inventory.packages.len(), "package"),
    ));
    // Broken beats unknown: 3 says a kept image is broken. A package that could
    // not be read was not checked, which is 1 (the check is incomplete), never 0.
    let exit = if broken > 0 {
        Exit::Broken
    } else if unreadable > 0 {
        Exit::Partial
    } else {
        Exit::Success
    };
    Ok((exit, out))
}

/// `policy check FILE`.
pub fn policy_check(file: &std::path::Path) -> anyhow::Result<Exit> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        UsageError::new(format!(
            "error: cannot read {}: {e}\n  help: check the path",
            file.display()
        ))
    })?;
    match policy_file::parse_named(&file.display().to_string(), &text) {
        Ok(p) => {
            println!("{}: ok, {} rule(s)", file.display(), p.rules.len());
            for r in &p.rules {
                println!("  {} ({})", r.name, r.action);
            }
            Ok(Exit::Success)
        }
        Err(e) => Err(UsageError::new(format!("error: {e}")).into()),
    }
}

/// `restore --journal FILE`.
pub async fn restore(args: &RunArgs) -> anyhow::Result<Exit> {
    let settings = settings::resolve(args, &Env::read(), false)?;
    let Some(journal) = settings.journal.as_deref() else {
        return Err(UsageError::new(
            "error: restore needs the journal of the run to undo\n  help: pass --journal FILE, the file given to `apply --journal FILE`",
        )
        .into());
    };
    let text = std::fs::read_to_string(journal).map_err(|e| {
        UsageError::new(format!("error: cannot read the journal {}: {e}\n  help: pass the file written by `apply --journal`", journal.display()))
    })?;
    let source = Source::connect(&settings, true).await?;
    let Source::Github(gh) = &source else {
        return Err(UsageError::new("error: restore works with the GitHub backend only\n  plain OCI registries delete manifests for good").into());
    };
    let mut entries = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let e: executor::JournalEntry = serde_json::from_str(line).map_err(|e| {
            UsageError::new(format!(
                "error: {}:{}: not a journal entry: {e}",
                journal.display(),
                n + 1
            ))
        })?;
        entries.push(e);
    }
    // The journal is in deletion order (an index before its children, an artifact
    // before its subject); restoring in reverse brings children and subjects back
    // first, so no restored tag ever points at an incomplete image.
    let (mut ok, mut failed) = (0, 0);
    for e in entries.iter().rev() {
        match gh.restore(&e.package, regsweep_core::VersionId(e.id)).await {
            Ok(()) => {
                ok += 1;
                println!("restored {}:{} ({})", e.package, e.id, e.digest);
            }
            Err(err) => {
                failed += 1;
                eprintln!("error: cannot restore {}:{}: {err}", e.package, e.id);
            }
        }
    }
    println!("restored {ok}, failed {failed}");
    Ok(if failed > 0 {
        Exit::Partial
    } else {
        Exit::Success
    })
}
