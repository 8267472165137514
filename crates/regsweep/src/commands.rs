//! The commands: each one reads settings, talks to a source, plans, executes and
//! reports. This is the only module that writes to stdout.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::time::Instant;

use anyhow::Context;

use regsweep_core::graph::{parse_artifact_tag, ArtifactTag, ChildRef, PackageGraph};
use regsweep_core::plan::{Action, Decision, PackagePlan, Plan};
use regsweep_core::planner::{self, PlanInput};
use regsweep_core::policy::file as policy_file;
use regsweep_core::Digest;
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
    };
    write_report(settings.output, &r).context("could not write the report to stdout")?;
    write_actions_outputs(settings, &r)?;
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
        _ => Exit::Success,
    };
    Ok(exit)
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
    out.push_str(&format!(
        "{images} tagged versions in {} packages checked: {}\n",
        planned.listing.inventory.packages.len(),
        if broken == 0 {
            "all complete".to_string()
        } else {
            format!("{broken} broken")
        }
    ));
    let exit = if broken > 0 {
        Exit::Broken
    } else {
        Exit::Success
    };
    Ok((exit, out))
}

/// `explain TARGET`: the one version TARGET names, its decision with every reason,
/// what it contains, and its path up to the tagged image(s) that reach it.
pub async fn explain(target: &str, args: &RunArgs) -> anyhow::Result<Exit> {
    let mut settings = settings::resolve(args, &Env::read(), true)?;
    // The explanation follows the graph, even where nothing can be deleted.
    settings.read_every_manifest = true;
    let source = Source::connect(&settings, false).await?;
    let planned = compute_plan(&settings, &source, &Progress::detect()).await?;
    let (pkg_filter, needle) = match target.split_once(':') {
        Some((p, t)) if !target.starts_with("sha256:") => (Some(p), t),
        _ => (None, target),
    };
    let prefix = needle.strip_prefix("sha256:").unwrap_or(needle);
    let hex_prefix = !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_hexdigit());
    let packages = || {
        planned
            .plan
            .packages
            .iter()
            .filter(move |p| pkg_filter.is_none_or(|f| f == p.name))
    };
    let hits: Vec<(&PackagePlan, &Decision)> = packages()
        .flat_map(|p| p.decisions.iter().map(move |d| (p, d)))
        .filter(|(_, d)| {
            d.digest.as_str() == needle
                || d.tags.iter().any(|t| t == needle)
                || (hex_prefix && prefix.len() >= 12 && d.digest.hex().starts_with(prefix))
        })
        .collect();
    let candidates = |hits: &[(&PackagePlan, &Decision)]| {
        hits.iter()
            .take(10)
            .map(|(p, d)| format!("\n    {}", version_label(p, d)))
            .collect::<String>()
    };
    match hits.as_slice() {
        [] if hex_prefix && prefix.len() < 12 && needle.len() > prefix.len() => {
            let near: Vec<_> = packages()
                .flat_map(|p| p.decisions.iter().map(move |d| (p, d)))
                .filter(|(_, d)| d.digest.hex().starts_with(prefix))
                .collect();
            Err(UsageError::new(format!(
                "error: `{target}` is too short to name one version: {} digest(s) start with it{}\n  expected a digest prefix of at least 12 hex digits\n  help: give more of the digest, e.g. `sha256:{}`",
                near.len(),
                candidates(&near),
                near.first().map(|(_, d)| &d.digest.hex()[..12]).unwrap_or("0123456789ab")
            ))
            .into())
        }
        [] => Err(UsageError::new(format!(
            "error: no version matches `{target}`\n  expected a digest (sha256:…, at least 12 hex digits), a tag, or PACKAGE:TAG among the listed packages\n  help: run `regsweep plan --show-kept` to see every version"
        ))
        .into()),
        [(p, d)] => {
            print!("{}", explain_one(&planned, p, d));
            Ok(Exit::Success)
        }
        many => Err(UsageError::new(format!(
            "error: `{target}` is ambiguous: it matches {} versions{}\n  expected a target naming one version\n  help: name the package (PACKAGE:TAG or PACKAGE:sha256:…) or give more of the digest",
            many.len(),
            candidates(many)
        ))
        .into()),
    }
}

/// `package@digest (tags …)` for lists of candidates.
fn version_label(p: &PackagePlan, d: &Decision) -> String {
    if d.tags.is_empty() {
        format!("{}@{} (untagged)", p.name, d.digest)
    } else {
        format!("{}@{} (tags: {})", p.name, d.digest, d.tags.join(", "))
    }
}

/// The explanation of one version.
fn explain_one(planned: &Planned, p: &PackagePlan, d: &Decision) -> String {
    let mut out = format!("{}@{} (version {})\n", p.name, d.digest, d.id);
    out.push_str(&format!(
        "  tags: {}\n",
        if d.tags.is_empty() {
            "none".to_string()
        } else {
            d.tags.join(", ")
        }
    ));
    out.push_str(&format!("  decision: {}\n", d.action));
    for (i, r) in d.reasons.iter().enumerate() {
        out.push_str(&format!(
            "  {} {r}\n",
            if i == 0 { "because" } else { "   also" }
        ));
    }
    let fate = |digest: &Digest| {
        p.decisions
            .iter()
            .find(|x| &x.digest == digest)
            .map(|x| x.action.to_string())
            .unwrap_or_else(|| "missing".into())
    };
    let graph = planned.listing.graph.package(&p.name);
    if let Some(n) = graph.and_then(|g| g.get(&d.digest)) {
        for c in &n.children {
            out.push_str(&format!(
                "  contains {}: {} ({})\n",
                child_relation(c),
                c.digest.short(),
                fate(&c.digest)
            ));
        }
        if let Some(s) = &n.subject {
            out.push_str(&format!("  is about: {} ({})\n", s.short(), fate(s)));
        }
    }
    // What is about this version: cosign-tagged artifacts and OCI referrers.
    for other in &p.decisions {
        let tagged = other.tags.iter().find_map(|t| {
            parse_artifact_tag(t)
                .filter(|(subject, _)| subject == &d.digest)
                .map(|(_, kind)| kind.to_string())
        });
        let referrer = graph
            .and_then(|g| g.get(&other.digest))
            .filter(|n| n.subject.as_ref() == Some(&d.digest))
            .map(|_| "referrer".to_string());
        if let Some(kind) = tagged.or(referrer) {
            out.push_str(&format!(
                "  has {kind}: {} ({})\n",
                other.digest.short(),
                other.action
            ));
        }
    }
    let paths = graph
        .map(|g| root_paths(g, p, &d.digest))
        .unwrap_or_default();
    if paths.is_empty() {
        out.push_str("  path: no tagged image reaches it\n");
    }
    for path in paths {
        out.push_str(&format!("  path: {path}\n"));
    }
    out
}

/// How an index refers to a child: `platform linux/arm64`, `attestation`, `child`.
fn child_relation(c: &ChildRef) -> String {
    if c.attests.is_some() {
        "attestation".into()
    } else if let Some(p) = &c.platform {
        format!("platform {p}")
    } else {
        "child".into()
    }
}

/// A tag that names an image (not a cosign or referrers-fallback tag).
fn image_tag(d: &Decision) -> Option<&String> {
    d.tags.iter().find(|t| parse_artifact_tag(t).is_none())
}

/// Every path from a tagged image down to `target`, rendered
/// `pkg:tag sha256:… → platform linux/arm64 sha256:…` (at most 5, shortest first).
fn root_paths(g: &PackageGraph, p: &PackagePlan, target: &Digest) -> Vec<String> {
    // Upward edges: from a manifest to what holds it or what it is about.
    let mut up: HashMap<&Digest, Vec<(&Digest, String)>> = HashMap::new();
    for n in g.nodes.values() {
        for c in &n.children {
            up.entry(&c.digest)
                .or_default()
                .push((&n.digest, child_relation(c)));
        }
        if let Some(s) = &n.subject {
            let what = match &n.artifact_type {
                Some(t) => format!("referrer ({t})"),
                None => "referrer".into(),
            };
            up.entry(&n.digest).or_default().push((s, what));
        }
    }
    let mut subjects = Vec::new();
    for d in &p.decisions {
        for t in &d.tags {
            if let Some((s, kind)) = parse_artifact_tag(t) {
                let what = match kind {
                    ArtifactTag::Signature => "signature",
                    ArtifactTag::Attestation => "attestation",
                    ArtifactTag::Sbom => "SBOM",
                    ArtifactTag::ReferrersIndex => "referrers index",
                };
                subjects.push((&d.digest, s, what));
            }
        }
    }
    for (d, s, what) in &subjects {
        up.entry(*d).or_default().push((s, what.to_string()));
    }
    let root_of = |digest: &Digest| {
        p.decisions
            .iter()
            .find(|x| &x.digest == digest)
            .and_then(|x| image_tag(x).map(|t| format!("{}:{t}", p.name)))
    };
    // Breadth first, so the shortest paths come first; each manifest visited once.
    let mut seen: HashSet<&Digest> = HashSet::from([target]);
    let mut queue: VecDeque<(&Digest, Vec<String>)> = VecDeque::from([(target, Vec::new())]);
    let mut paths = Vec::new();
    while let Some((at, below)) = queue.pop_front() {
        if let Some(root) = root_of(at) {
            let mut line = format!("{root} {}", at.short());
            for step in below.iter().rev() {
                line.push_str(" → ");
                line.push_str(step);
            }
            paths.push(line);
            if paths.len() == 5 {
                break;
            }
            continue;
        }
        for (parent, relation) in up.get(at).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(parent) {
                let mut next = below.clone();
                next.push(format!("{relation} {}", at.short()));
                queue.push_back((parent, next));
            }
        }
    }
    paths
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
