//! `explain TARGET`: why one version is kept, deleted or skipped, following the
//! graph: its reasons, what it contains, what is about it (signatures, attestations,
//! referrers), and every path from a tagged image down to it.

use std::collections::{HashMap, HashSet, VecDeque};

use regsweep_core::graph::{parse_artifact_tag, ArtifactTag, ChildRef, PackageGraph};
use regsweep_core::plan::{Decision, PackagePlan};
use regsweep_core::Digest;

use crate::cli::RunArgs;
use crate::commands::{compute_plan, Planned};
use crate::error::CliError;
use crate::exit::Exit;
use crate::progress::Progress;
use crate::settings::{self, Env};
use crate::source::Source;

/// `explain TARGET`: the one version TARGET names, its decision with every reason,
/// what it contains, and its path up to the tagged image(s) that reach it.
pub async fn explain(target: &str, args: &RunArgs) -> Result<Exit, CliError> {
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
            Err(CliError::Target(format!(
                "`{target}` is too short to name one version: {} digest(s) start with it{}\n  expected a digest prefix of at least 12 hex digits\n  help: give more of the digest, e.g. `sha256:{}`",
                near.len(),
                candidates(&near),
                near.first().map(|(_, d)| &d.digest.hex()[..12]).unwrap_or("0123456789ab")
            )))
        }
        // The version may be in a package that could not be read: not a usage error.
        [] if !planned.listing.unreadable.is_empty() => {
            for u in &planned.listing.unreadable {
                eprintln!("{}", u.message);
            }
            Err(CliError::TargetInUnreadable {
                target: target.to_string(),
                unreadable: planned.listing.unreadable.len(),
            })
        }
        [] => Err(CliError::Target(format!(
            "no version matches `{target}`\n  expected a digest (sha256:…, at least 12 hex digits), a tag, or PACKAGE:TAG among the listed packages\n  help: run `regsweep plan --show-kept` to see every version"
        ))),
        [(p, d)] => {
            // Tags and names come from the server: control characters escaped.
            crate::output::print(&crate::escape::control_lines(&explain_one(&planned, p, d)))?;
            Ok(Exit::Success)
        }
        many => Err(CliError::Target(format!(
            "`{target}` is ambiguous: it matches {} versions{}\n  expected a target naming one version\n  help: name the package (PACKAGE:TAG or PACKAGE:sha256:…) or give more of the digest",
            many.len(),
            candidates(many)
        ))),
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
