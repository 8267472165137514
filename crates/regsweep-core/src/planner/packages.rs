//! Package rules: whether a whole package is deleted (`action: delete_package`).
//!
//! Decided after the package's versions are planned, from that plan:
//! - a rule *holds* when each of its conditions does: `every_version_deleted` (the
//!   version rules delete every version, GitHub's refusals aside: a package whose
//!   last tagged version GitHub would refuse is exactly one to delete whole) and
//!   `older_than` (the newest version is at least that old);
//! - safety then has the last word: a package is never deleted when a keep rule keeps
//!   any version of it, a manifest of it could not be read, a keep rule needs labels
//!   that were not read or a pull request that is unknown, or GitHub would refuse
//!   (public, more than 5,000 downloads). Each becomes a reason in the plan.
//!
//! A deleted package's decisions all become `Delete` (reason `DeletedWithPackage`
//! first, then what the version rules alone said) and its version deletions leave the
//! delete order: one request deletes the package. Unreadable packages never get here:
//! they are not in the inventory, so nothing in them is planned.

use crate::graph::{parse_artifact_tag, PackageGraph};
use crate::model::{age, Package, Visibility};
use crate::package_decision::{PackageAction, PackageDecision, PackageReason};
use crate::plan::{Action, Decision, Finding, PackagePlan};
use crate::policy::{GroupBy, PackageRule, Policy, RuleAction};
use crate::reason::{Miss, Reason, VersionRef};

use super::{PackagePlanner, PlanInput};

/// Whether any package rule of `policy` names the package `name`.
pub(super) fn names(policy: &Policy, name: &str) -> bool {
    policy
        .package_rules
        .iter()
        .any(|r| r.packages.matches(name))
}

/// Decides `pkg` as a whole and records it in `pp.package`; true when the package
/// is deleted (its decisions are then rewritten, and its runs must not be executed).
pub(super) fn decide(
    pkg: &Package,
    pg: &PackageGraph,
    input: PlanInput<'_>,
    pp: &mut PackagePlan,
) -> bool {
    let rules: Vec<&PackageRule> = input
        .policy
        .package_rules
        .iter()
        .filter(|r| r.packages.matches(&pkg.name))
        .collect();
    if rules.is_empty() {
        return false;
    }
    let mut held: Option<Vec<PackageReason>> = None;
    let mut misses = Vec::new();
    let mut staying: Option<Vec<VersionRef>> = None;
    for rule in rules {
        match conditions(rule, pkg, pg, input, pp, &mut staying) {
            Ok(c) => {
                held.get_or_insert(c);
            }
            Err(m) => misses.push(m),
        }
    }
    let versions = pp.decisions.len();
    let Some(held) = held else {
        pp.package = Some(PackageDecision {
            action: PackageAction::Keep,
            reasons: misses,
            versions,
        });
        return false;
    };
    let blockers = safety(pkg, pg, input, pp);
    if !blockers.is_empty() {
        let mut reasons = blockers;
        reasons.extend(held);
        pp.package = Some(PackageDecision {
            action: PackageAction::Keep,
            reasons,
            versions,
        });
        return false;
    }
    let rule = match &held[0] {
        PackageReason::EveryVersionDeleted { rule, .. }
        | PackageReason::NoRecentVersion { rule, .. } => rule.clone(),
        _ => String::new(),
    };
    for d in &mut pp.decisions {
        d.action = Action::Delete;
        d.reasons
            .insert(0, Reason::DeletedWithPackage { rule: rule.clone() });
    }
    pp.package = Some(PackageDecision {
        action: PackageAction::Delete,
        reasons: held,
        versions,
    });
    true
}

/// The rule's conditions as reasons when all hold, else the first that does not.
#[allow(clippy::result_large_err)] // one per package rule and package, never stored in bulk
fn conditions(
    rule: &PackageRule,
    pkg: &Package,
    pg: &PackageGraph,
    input: PlanInput<'_>,
    pp: &PackagePlan,
    staying: &mut Option<Vec<VersionRef>>,
) -> Result<Vec<PackageReason>, PackageReason> {
    let mut held = Vec::new();
    if rule.every_version_deleted {
        let staying = staying.get_or_insert_with(|| versions_staying(pkg, pg, input, pp));
        match staying.first() {
            None => held.push(PackageReason::EveryVersionDeleted {
                rule: rule.name.clone(),
                versions: pp.decisions.len(),
            }),
            Some(first) => {
                return Err(PackageReason::VersionsStay {
                    rule: rule.name.clone(),
                    staying: staying.len(),
                    first: first.clone(),
                })
            }
        }
    }
    if let Some(older_than) = rule.older_than {
        let newest = pkg
            .versions
            .iter()
            .max_by_key(|v| (v.timestamp(rule.timestamp), v.is_tagged(), v.id));
        let a = newest
            .map(|v| age(input.now, v.timestamp(rule.timestamp)))
            .unwrap_or_default();
        let newest_ref = newest.map(|v| vref(&pkg.name, v.id, &v.digest, &v.tags));
        match newest_ref {
            Some(newest) if a < older_than => {
                return Err(PackageReason::RecentVersion {
                    rule: rule.name.clone(),
                    newest,
                    age: a,
                    older_than,
                })
            }
            newest => held.push(PackageReason::NoRecentVersion {
                rule: rule.name.clone(),
                newest,
                age: a,
                older_than,
            }),
        }
    }
    Ok(held)
}

/// The versions the version rules keep, with GitHub's refusals left out (the last
/// tagged version GitHub refuses to delete goes with the package).
fn versions_staying(
    pkg: &Package,
    pg: &PackageGraph,
    input: PlanInput<'_>,
    pp: &PackagePlan,
) -> Vec<VersionRef> {
    let without_refusals;
    let decisions: &[Decision] = if input.options.refusals.any() {
        let mut i = input;
        i.options.refusals = Default::default();
        without_refusals = PackagePlanner::new(pkg, pg, i).run().0.decisions;
        &without_refusals
    } else {
        &pp.decisions
    };
    decisions
        .iter()
        .filter(|d| d.action != Action::Delete)
        .map(|d| decision_ref(&pkg.name, d))
        .collect()
}

/// Why the package must stay although a rule's conditions hold (empty: nothing).
fn safety(
    pkg: &Package,
    pg: &PackageGraph,
    input: PlanInput<'_>,
    pp: &PackagePlan,
) -> Vec<PackageReason> {
    let mut out = Vec::new();
    let kept = pp.decisions.iter().find_map(|d| {
        d.reasons.iter().find_map(|r| match r {
            Reason::KeptByRule { rule, .. } => Some((rule.to_string(), decision_ref(&pkg.name, d))),
            _ => None,
        })
    });
    if let Some((keep_rule, version)) = kept {
        out.push(PackageReason::KeptVersion { keep_rule, version });
    }
    if let Some(unread) = pp.findings.iter().find_map(|f| match f {
        Finding::Unread { version } => Some(version.clone()),
        _ => None,
    }) {
        out.push(PackageReason::GraphUnknown { unread });
    }
    let keep_rules = input
        .policy
        .rules
        .iter()
        .filter(|r| r.action == RuleAction::Keep && r.packages.matches(&pkg.name));
    let graph_read = input.graph.package(&pkg.name).is_some();
    let planner = PackagePlanner::new(pkg, pg, input);
    for rule in keep_rules {
        let needs_labels = !rule.labels.is_empty()
            || matches!(
                rule.keep_newest.as_ref().map(|k| &k.group_by),
                Some(GroupBy::Label(_))
            );
        if needs_labels && !graph_read {
            out.push(PackageReason::LabelsUnknown {
                keep_rule: rule.name.clone(),
            });
        }
        if rule.pull_request.is_some() {
            let top = rule.semver_lines.map(|l| planner.top_lines(rule, l));
            let unknown = (0..planner.vs.len()).find(|&i| {
                matches!(
                    planner.check(rule, i, top.as_deref()),
                    Err(Miss::PullRequest { detail }) if detail.ends_with("is unknown")
                )
            });
            if let Some(i) = unknown {
                let v = planner.vs[i];
                out.push(PackageReason::PullRequestUnknown {
                    keep_rule: rule.name.clone(),
                    version: vref(&pkg.name, v.id, &v.digest, &v.tags),
                });
            }
        }
    }
    let limit = input.options.refusals.public_downloads_over;
    if let (Some(limit), Some(Visibility::Public)) = (limit, pkg.visibility) {
        let downloads: u64 = pkg.versions.iter().filter_map(|v| v.downloads).sum();
        if downloads > limit {
            out.push(PackageReason::TooManyDownloads { downloads });
        }
    }
    out
}

fn decision_ref(package: &str, d: &Decision) -> VersionRef {
    vref(package, d.id, &d.digest, &d.tags)
}

fn vref(
    package: &str,
    id: crate::model::VersionId,
    digest: &crate::model::Digest,
    tags: &[String],
) -> VersionRef {
    VersionRef {
        package: package.to_string(),
        id,
        digest: digest.clone(),
        tag: tags
            .iter()
            .find(|t| parse_artifact_tag(t).is_none())
            .or(tags.first())
            .cloned(),
    }
}
