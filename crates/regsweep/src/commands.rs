//! The commands: each one reads settings, talks to a source, plans, executes and
//! reports. With `explain` and `demo`, the only modules that write to stdout.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Instant;

use regsweep_core::plan::{Action, Plan};
use regsweep_core::planner::{self, reads, PlanInput};
use regsweep_core::policy::file as policy_file;
use tokio_util::sync::CancellationToken;

use crate::cli::{GraphMode, OutputFormat, RunArgs};
use crate::error::CliError;
use crate::executor::{self, Execution, Limits};
use crate::exit::Exit;
use crate::journal::{self, Journal};
use crate::output;
use crate::progress::Progress;
use crate::report::{self, Report, Timings};
use crate::settings::{self, Backend as SettingsBackend, Env, Settings};
use crate::source::{
    Backend, ListRequest, Listing, ListingStats, PackageSelection, ReadRequest, RequestStats,
    Source,
};

/// A computed plan with what it was computed from.
pub struct Planned {
    pub listing: Listing,
    pub plan: Plan,
    pub timings: Timings,
}

fn account_label(s: &Settings) -> String {
    match &s.backend {
        SettingsBackend::Github { account, .. } => account.clone(),
        SettingsBackend::Oci { registry_url, .. } => registry_url.to_string(),
    }
}

/// What the settings ask to list.
fn list_request(settings: &Settings) -> ListRequest {
    ListRequest {
        packages: match settings.exact_package_names() {
            Some(names) => PackageSelection::Exact(names),
            None => PackageSelection::Matching(settings.packages.clone()),
        },
        pull_request_repositories: settings.policy.pull_request_repositories(),
        concurrency: settings.concurrency,
    }
}

/// What the planner reads, from the settings and what was listed and read so far.
fn plan_input<'a>(settings: &'a Settings, listing: &'a Listing) -> PlanInput<'a> {
    PlanInput {
        inventory: &listing.inventory,
        graph: &listing.graph,
        policy: &settings.policy,
        now: settings.now,
        options: listing.options,
        pulls: &listing.pulls,
    }
}

/// Lists, reads the manifests the plan needs, and plans.
pub async fn compute_plan(
    settings: &Settings,
    backend: &impl Backend,
    progress: &Progress,
) -> Result<Planned, CliError> {
    tracing::info!(
        "policy: {} rule(s) from {}",
        settings.policy.rules.len(),
        settings.policy_source
    );
    let t0 = Instant::now();
    let mut planning_ms = 0;
    // Versions taken from the inventory cache are re-read before the plan is used
    // (`source::confirm`); a package whose cache proves stale is listed again in
    // full and everything planned again. Twice at most: the account would have to
    // change under every listing.
    let mut round = 0;
    let (listing, plan) = loop {
        round += 1;
        let mut listing = backend.list(&list_request(settings), progress).await?;
        if settings.graph == GraphMode::Read {
            read_manifests(settings, backend, &mut listing, progress).await?;
        }
        listing.stats = request_stats(backend.stats(), &listing);
        let t1 = Instant::now();
        let plan = planner::plan(plan_input(settings, &listing));
        planning_ms += t1.elapsed().as_millis();
        let stale = backend.confirm(&plan).await?;
        if stale.is_empty() {
            break (listing, plan);
        }
        if round >= 3 {
            return Err(CliError::CacheKeptChanging {
                packages: stale.join(", "),
            });
        }
    };
    let listing_ms = t0.elapsed().as_millis().saturating_sub(planning_ms);
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

/// Reads manifests in rounds until the plan is decided (`planner::reads`: roots
/// first, then what may be an index, then what the plan would not keep), or every
/// manifest with `read_every_manifest`. The planner is called here, between rounds,
/// never from inside the backend.
async fn read_manifests(
    settings: &Settings,
    backend: &impl Backend,
    listing: &mut Listing,
    progress: &Progress,
) -> Result<(), CliError> {
    // Packages whose manifests could not be read at all: no graph, so the planner
    // keeps their untagged versions; they are not asked for again.
    let mut given_up: BTreeSet<String> = BTreeSet::new();
    for round in 1.. {
        let mut reads = if settings.read_every_manifest {
            reads::every_manifest(&listing.inventory, &listing.graph)
        } else {
            reads::next_reads(plan_input(settings, listing))
        };
        reads.retain(|name, _| !given_up.contains(name));
        if reads.is_empty() {
            break;
        }
        tracing::debug!(
            "manifest reads, round {round}: {} in {}",
            reads.values().map(Vec::len).sum::<usize>(),
            report::count(reads.len(), "package")
        );
        let request = ReadRequest {
            reads,
            with_labels: settings.policy.needs_labels(),
            follow_children: settings.read_every_manifest,
            concurrency: settings.concurrency,
        };
        let mut got = backend.read_manifests(&request, progress).await?;
        for (name, asked) in request.reads {
            let Some(pg) = got.packages.remove(&name) else {
                given_up.insert(name.clone());
                listing.graph.packages.remove(&name);
                continue;
            };
            let graph = listing.graph.package_mut(&name);
            graph.merge(pg);
            // A digest asked for and not answered counts as failed, so it is never
            // asked for again and the planner treats it as unread.
            for d in asked {
                if !graph.attempted(&d) {
                    graph.failed.insert(d);
                }
            }
        }
    }
    reads::settle(&listing.inventory, &mut listing.graph);
    let unread: Vec<&str> = listing
        .inventory
        .packages
        .iter()
        .filter(|p| listing.graph.package(&p.name).is_none() && !given_up.contains(&p.name))
        .map(|p| p.name.as_str())
        .collect();
    if !unread.is_empty() {
        tracing::info!(
            "manifests of {} not read: no rule can delete anything in them ({})",
            report::count(unread.len(), "package"),
            unread.join(", ")
        );
    }
    Ok(())
}

/// The request counts for the report, with the manifest roots and what was not read.
fn request_stats(s: RequestStats, listing: &Listing) -> ListingStats {
    let read: Vec<_> = listing
        .inventory
        .packages
        .iter()
        .filter_map(|p| listing.graph.package(&p.name).map(|g| (p, g)))
        .collect();
    ListingStats {
        api_requests: s.api_requests.max(listing.stats.api_requests),
        manifest_requests: s.manifest_requests.max(listing.stats.manifest_requests),
        manifest_cache_hits: s.manifest_cache_hits.max(listing.stats.manifest_cache_hits),
        manifest_roots: read.iter().map(|(p, _)| p.tagged_count() as u64).sum(),
        manifests_not_read: read.iter().map(|(_, g)| g.skipped.len() as u64).sum(),
    }
}

/// Writes the report in the chosen format to stdout (JSON is streamed). On a
/// terminal the table fits its width (`crate::terminal`).
pub fn write_report(format: OutputFormat, r: &Report<'_>) -> std::io::Result<()> {
    let width = crate::terminal::stdout_width();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(crate::redact::Redacting::new(stdout.lock()));
    match format {
        OutputFormat::Table => report::table::write_fitted(r, width, &mut w)?,
        OutputFormat::Json => report::json::write(r, &mut w)?,
        OutputFormat::Markdown => writeln!(w, "{}", report::markdown::render(r).trim_end())?,
    }
    w.flush()
}

/// Writes the Actions outputs when running in Actions.
fn write_actions_outputs(settings: &Settings, r: &Report<'_>) -> Result<(), CliError> {
    if let Some(p) = &settings.github_output {
        let text = report::actions::output_lines(r);
        report::actions::append(p, &crate::redact::global().redact(&text))?;
    }
    if let Some(p) = &settings.step_summary {
        let text = report::markdown::render(r);
        report::actions::append(p, &crate::redact::global().redact(&text))?;
    }
    Ok(())
}

/// `plan` and `apply`.
pub async fn plan_or_apply(
    args: &RunArgs,
    apply: bool,
    cancel: CancellationToken,
) -> Result<Exit, CliError> {
    if args.print_policy {
        // Printing the policy makes no request: it needs no account and no token,
        // so placeholders stand in for missing ones (nothing connects with them).
        let offline = RunArgs {
            account: args.account.clone().or_else(|| Some("-".into())),
            token: args.token.clone().or_else(|| Some("-".into())),
            ..args.clone()
        };
        let settings = settings::resolve(&offline, &Env::default(), true)?;
        output::print(&policy_file::render(&settings.policy))?;
        return Ok(Exit::Success);
    }
    let mut settings = settings::resolve(args, &Env::read(), true)?;
    settings.read_every_manifest |= args.read_every_manifest;
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
) -> Result<Exit, CliError> {
    // The journal is opened before any request: a path that cannot be written is a
    // configuration error found before anything is listed or deleted.
    let journal = match (&settings.journal, apply) {
        (Some(p), true) => Some(Journal::open(p)?),
        _ => None,
    };
    let source = Source::connect(settings, apply).await?;
    let mut planned = compute_plan(settings, &source, progress).await?;
    if let (true, Source::Github(gh)) = (apply, &source) {
        crate::packages::check_token(gh.token_info(), &planned.plan)?;
    }
    let mut execution: Option<Execution> = None;
    if apply && !(planned.plan.order.is_empty() && planned.plan.untags.is_empty()) {
        let t = Instant::now();
        let e = executor::execute(
            &planned.plan,
            &source,
            Limits {
                concurrency: settings.concurrency,
                reserve_requests: settings.reserve_requests,
            },
            cancel.clone(),
            journal.as_ref(),
            progress,
        )
        .await;
        let e = revisit_refusals(
            settings,
            &mut planned,
            e,
            &source,
            &cancel,
            journal.as_ref(),
            progress,
        )
        .await?;
        let mut e = e;
        if e.journal_error.is_none() {
            e.untags = executor::untag::execute(
                &planned.plan,
                &source,
                &cancel,
                journal.as_ref(),
                progress,
                settings.reserve_requests,
            )
            .await;
        }
        planned.timings.deleting_ms = t.elapsed().as_millis();
        execution = Some(e);
    } else if apply {
        execution = Some(Execution::default());
    }
    if let (Some(e), Source::Github(gh)) = (execution.as_mut(), &source) {
        let (done, journal_error) = crate::packages::delete(
            &planned.plan,
            gh,
            settings.reserve_requests,
            &cancel,
            journal.as_ref(),
        )
        .await;
        e.packages = done;
        e.journal_error = e.journal_error.take().or(journal_error);
    }
    let stats = request_stats(source.stats(), &planned.listing);
    if apply {
        source.save_pace(settings.cache_dir.as_deref());
        source.save_inventory();
    }
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
    // A reader that closed stdout early (`| head`) does not change what was done:
    // the Actions outputs are still written and the exit code stays the run's.
    match write_report(settings.output, &r) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(source) => {
            return Err(CliError::Output {
                what: "could not write the report to stdout".to_string(),
                source,
            })
        }
        Ok(()) => {}
    }
    write_actions_outputs(settings, &r)?;
    if let Some(msg) = execution.as_ref().and_then(|e| e.journal_error.as_deref()) {
        eprintln!(
            "error: {msg}\n  deletions stopped at the first failed journal write, so every deletion made is recorded\n  help: free space or fix the journal's file system, then run again"
        );
    }
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
                "error: {} deletion(s) failed and {} were left for the next run{}; see the report above",
                t.failed.unwrap_or(0),
                t.left.unwrap_or(0),
                match t.untag_failed {
                    Some(n) if n > 0 => format!("; {n} untag(s) failed or were left"),
                    _ => String::new(),
                }
            );
            Exit::Partial
        }
        _ if unreadable => Exit::Partial,
        _ => Exit::Success,
    };
    // The listing and the plan are plain data the process's exit frees at once;
    // freeing 100,000 versions and decisions one by one was 5% of a large run's CPU.
    // (A run ends the process, the demo's two runs included.)
    std::mem::forget(planned);
    Ok(exit)
}

/// After the planned deletions: GitHub refused some (they stay), so a version the
/// plan skipped as the last tagged version of such a package may no longer be.
/// The pure planner revisits those packages; what it now deletes is deleted in this
/// run, after the package's other deletions, its outcomes appended to `e`.
async fn revisit_refusals(
    settings: &Settings,
    planned: &mut Planned,
    mut e: Execution,
    source: &impl Backend,
    cancel: &CancellationToken,
    journal: Option<&Journal>,
    progress: &Progress,
) -> Result<Execution, CliError> {
    if e.interrupted || e.journal_error.is_some() {
        return Ok(e);
    }
    let refused: Vec<_> = planned
        .plan
        .order
        .iter()
        .zip(&e.outcomes)
        .filter(|(_, o)| matches!(o, executor::Outcome::Skipped(w) if w.code.is_refusal()))
        .map(|(r, _)| *r)
        .collect();
    if refused.is_empty() {
        return Ok(e);
    }
    let (order_before, runs_before) = (planned.plan.order.len(), planned.plan.runs.len());
    read_skipped(settings, source, planned, &refused, progress).await?;
    let input = plan_input(settings, &planned.listing);
    let added = planner::revisit(input, &mut planned.plan, &refused);
    if added == 0 {
        return Ok(e);
    }
    tracing::info!(
        "GitHub refused {}; {} no longer needed as the last tagged version, deleting now",
        report::count(refused.len(), "deletion"),
        report::count(added, "version")
    );
    let extra = Plan {
        packages: planned.plan.packages.clone(),
        order: planned.plan.order[order_before..].to_vec(),
        runs: planned.plan.runs[runs_before..].to_vec(),
        untags: Vec::new(),
    };
    let more = executor::execute(
        &extra,
        source,
        Limits {
            concurrency: settings.concurrency,
            reserve_requests: settings.reserve_requests,
        },
        cancel.clone(),
        journal,
        progress,
    )
    .await;
    e.outcomes.extend(more.outcomes);
    e.interrupted |= more.interrupted;
    e.journal_error = e.journal_error.or(more.journal_error);
    Ok(e)
}

/// Before revisiting refusals: the manifests left unread in the refused packages
/// (kept platform manifests) may now go with a freed index, so they are read first.
/// What still cannot be read stays (the planner keeps a skipped version it would
/// newly delete).
async fn read_skipped(
    settings: &Settings,
    source: &impl Backend,
    planned: &mut Planned,
    refused: &[regsweep_core::plan::PlanRef],
    progress: &Progress,
) -> Result<(), CliError> {
    let names: BTreeSet<&str> = refused
        .iter()
        .map(|r| planned.plan.packages[r.package].name.as_str())
        .collect();
    let reads: reads::Reads = names
        .into_iter()
        .filter_map(|name| {
            let pg = planned.listing.graph.package(name)?;
            (!pg.skipped.is_empty())
                .then(|| (name.to_string(), pg.skipped.iter().cloned().collect()))
        })
        .collect();
    if reads.is_empty() {
        return Ok(());
    }
    let request = ReadRequest {
        reads,
        with_labels: settings.policy.needs_labels(),
        follow_children: false,
        concurrency: settings.concurrency,
    };
    let got = source.read_manifests(&request, progress).await?;
    for (name, pg) in got.packages {
        let graph = planned.listing.graph.package_mut(&name);
        graph.merge(pg);
        let answered: Vec<_> = graph
            .skipped
            .iter()
            .filter(|d| graph.attempted(d))
            .cloned()
            .collect();
        for d in answered {
            graph.skipped.remove(&d);
        }
    }
    Ok(())
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
pub async fn validate(args: &RunArgs) -> Result<Exit, CliError> {
    let (exit, text) = validation(args).await?;
    output::print(&crate::escape::control_lines(&text))?;
    Ok(exit)
}

/// What `validate` finds: the exit code and the text to show.
pub async fn validation(args: &RunArgs) -> Result<(Exit, String), CliError> {
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
pub fn policy_check(file: &std::path::Path) -> Result<Exit, CliError> {
    let text =
        crate::bounded::read_to_string(file, policy_file::MAX_POLICY_BYTES).map_err(|e| {
            CliError::Policy(format!(
                "cannot read {}: {e}\n  help: check the path",
                file.display()
            ))
        })?;
    match policy_file::parse_named(&file.display().to_string(), &text) {
        Ok(p) => {
            let mut text = format!(
                "{}: ok, {} rule(s)\n",
                file.display(),
                p.rules.len() + p.package_rules.len()
            );
            for r in &p.rules {
                text.push_str(&format!("  {} ({})\n", r.name, r.action));
            }
            for r in &p.package_rules {
                text.push_str(&format!("  {} (delete_package)\n", r.name));
            }
            output::print(&text)?;
            Ok(Exit::Success)
        }
        Err(e) => Err(CliError::Policy(e.to_string())),
    }
}

/// `restore --journal FILE`: brings back every version the journal says was or may
/// have been deleted, children before their index (reverse deletion order). A version
/// already present is counted "already restored", so running it twice is harmless.
pub async fn restore(args: &RunArgs) -> Result<Exit, CliError> {
    let settings = settings::resolve(args, &Env::read(), false)?;
    let Some(path) = settings.journal.as_deref() else {
        return Err(CliError::NoJournal);
    };
    let replay = journal::read(path)?;
    for w in &replay.warnings {
        eprintln!("{w}");
    }
    let source = Source::connect(&settings, true).await?;
    // Deleted packages and versions first, then removed tags: a version untagged by
    // one run may be deleted by a later one, and its tag needs it back.
    let (mut ok, mut already, mut failed) = (0, 0, 0);
    let gh = match &source {
        Source::Github(gh) => Some(gh),
        Source::Oci(_) if replay.candidates().next().is_none() && replay.packages.is_empty() => {
            None
        }
        Source::Oci(_) => return Err(CliError::RestoreUnsupported),
    };
    // Whole packages first: a version of a deleted package cannot come back alone.
    let pkgs = match gh {
        Some(gh) => crate::packages::restore(gh, &replay, settings.now).await,
        None => crate::packages::Restored::default(),
    };
    // What is there now, per package: those versions need no restoring.
    let mut present: std::collections::HashMap<&str, Option<std::collections::HashSet<u64>>> =
        std::collections::HashMap::new();
    for e in replay.candidates().filter(|_| gh.is_some()) {
        let Some(gh) = gh else { break };
        if present.contains_key(e.package.as_str()) {
            continue;
        }
        let ids = match gh.active_ids(&e.package).await {
            Ok(ids) => Some(ids),
            Err(err) => {
                tracing::warn!(
                    "cannot list the versions of `{}` to skip those already present: {}",
                    e.package,
                    crate::hints::github(&err)
                );
                None
            }
        };
        present.insert(e.package.as_str(), ids);
    }
    // The journal is in deletion order (an index before its children, an artifact
    // before its subject); restoring in reverse brings children and subjects back
    // first, so no restored tag ever points at an incomplete image.
    for e in replay.candidates().rev() {
        let Some(gh) = gh else { break };
        let is_present =
            |p: &std::collections::HashMap<&str, Option<std::collections::HashSet<u64>>>| {
                p.get(e.package.as_str())
                    .and_then(|s| s.as_ref())
                    .is_some_and(|s| s.contains(&e.id))
            };
        if is_present(&present) {
            already += 1;
            let _ = output::print(&format!(
                "already restored {}:{} ({})\n",
                e.package, e.id, e.digest
            ));
            continue;
        }
        match gh.restore(&e.package, regsweep_core::VersionId(e.id)).await {
            Ok(()) => {
                ok += 1;
                // A closed stdout does not stop an undo half-way: keep restoring.
                output::print(&format!("restored {}:{} ({})\n", e.package, e.id, e.digest))?;
            }
            Err(err) => {
                failed += 1;
                eprintln!(
                    "error: cannot restore {}:{}: {}",
                    crate::escape::control(&e.package),
                    e.id,
                    crate::escape::control_lines(&crate::hints::delete(&err))
                );
            }
        }
    }
    let (tags_ok, tags_already, tags_failed) = executor::untag::restore(&source, &replay).await?;
    (ok, already, failed) = (ok + tags_ok, already + tags_already, failed + tags_failed);
    if pkgs != crate::packages::Restored::default() {
        output::print(&format!(
            "packages: restored {}, already restored {}, failed {}\n",
            pkgs.ok, pkgs.already, pkgs.failed
        ))?;
    }
    failed += pkgs.failed;
    output::print(&format!(
        "restored {ok}, already restored {already}, failed {failed}\n"
    ))?;
    Ok(if failed > 0 {
        Exit::Partial
    } else {
        Exit::Success
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use regsweep_core::graph::{ChildRef, ManifestKind, ManifestNode, OCI_INDEX, OCI_MANIFEST};
    use regsweep_core::{Digest, Inventory, ManifestGraph, Package, Version, VersionId};

    use super::*;
    use crate::source::memory::MemoryBackend;

    fn d(n: u64) -> Digest {
        Digest::parse(&format!("sha256:{n:064x}")).unwrap()
    }

    fn node(n: u64, children: &[u64]) -> ManifestNode {
        ManifestNode {
            digest: d(n),
            media_type: if children.is_empty() {
                OCI_MANIFEST
            } else {
                OCI_INDEX
            }
            .into(),
            kind: if children.is_empty() {
                ManifestKind::Manifest
            } else {
                ManifestKind::Index
            },
            children: children
                .iter()
                .map(|&c| ChildRef {
                    digest: d(c),
                    media_type: Some(OCI_MANIFEST.into()),
                    platform: None,
                    attests: None,
                })
                .collect(),
            subject: None,
            artifact_type: None,
            config: None,
            annotations: BTreeMap::new(),
        }
    }

    /// `app`: three tagged two-platform images (1, 4, 7 with their children), an
    /// untagged two-platform image (10: 11, 12) and two lone untagged manifests.
    fn backend() -> MemoryBackend {
        let old: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut graph = ManifestGraph::default();
        let pg = graph.package_mut("app");
        let mut versions = Vec::new();
        for (root, tag) in [
            (1, Some("v1")),
            (4, Some("v2")),
            (7, Some("v3")),
            (10, None),
        ] {
            pg.insert(node(root, &[root + 1, root + 2]));
            versions.push((root, tag.map(String::from).into_iter().collect()));
            for n in [root + 1, root + 2] {
                pg.insert(node(n, &[]));
                versions.push((n, vec![]));
            }
        }
        for n in [13, 14] {
            pg.insert(node(n, &[]));
            versions.push((n, vec![]));
        }
        let inventory = Inventory {
            packages: vec![Package {
                name: "app".into(),
                visibility: None,
                versions: versions
                    .into_iter()
                    .map(|(n, tags)| Version {
                        id: VersionId(n),
                        digest: d(n),
                        tags,
                        created_at: old,
                        updated_at: old,
                        downloads: None,
                    })
                    .collect(),
            }],
        };
        MemoryBackend::new(inventory, graph)
    }

    fn untagged_only(every: bool) -> Settings {
        let args = RunArgs {
            account: Some("acme".into()),
            token: Some("t0ken".into()),
            image_names: Some("app".into()),
            tag_selection: Some("untagged".into()),
            cut_off: Some("1d".into()),
            ..RunArgs::default()
        };
        let mut s = settings::resolve(&args, &Env::default(), true).unwrap();
        s.read_every_manifest = every;
        s
    }

    fn deleted(p: &Planned) -> Vec<u64> {
        let mut v: Vec<u64> = p.plan.packages[0]
            .decisions
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.id.0)
            .collect();
        v.sort_unstable();
        v
    }

    fn planned(every: bool) -> (Planned, usize) {
        let b = backend();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let p = rt
            .block_on(compute_plan(&untagged_only(every), &b, &Progress::detect()))
            .unwrap();
        let reads = b.reads.lock().unwrap().len();
        (p, reads)
    }

    #[test]
    fn an_untagged_only_policy_reads_the_roots_and_what_may_go() {
        let (demand, reads) = planned(false);
        // The three tagged roots, then the untagged that no index read names: the
        // untagged image and its platforms, and the two lone manifests. The six
        // platform manifests of kept images are never read.
        assert_eq!(reads, 8);
        assert_eq!(demand.listing.stats.manifest_roots, 3);
        assert_eq!(demand.listing.stats.manifests_not_read, 6);
        assert_eq!(demand.listing.stats.manifest_requests, 8);
        let (every, all) = planned(true);
        assert_eq!(all, 14);
        assert_eq!(deleted(&demand), vec![10, 11, 12, 13, 14]);
        assert_eq!(deleted(&demand), deleted(&every));
    }
}
