//! Refusals met during a run update the plan: when GitHub refuses to delete a
//! tagged version, it stays, so the version the plan skipped as "the last tagged
//! version" of that package no longer is and may be deleted in the same run.
//!
//! Pure, like the rest of the planner: the package is planned again with the
//! refused versions known to stay and the versions the first plan deletes gone,
//! and only what that plan deletes and the first did not is added, in the
//! planner's own safe order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;

use super::{PackagePlanner, PlanInput};
use crate::graph::PackageGraph;
use crate::model::{Package, VersionId};
use crate::plan::{Action, Plan, PlanRef};
use crate::reason::{Reason, Refusal};

/// Revisits `plan` (computed from `input`) after GitHub refused the deletions at
/// `refused` (positions in `plan.order`'s terms: package and decision). Each package
/// concerned is planned again with those versions staying; a version the plan
/// skipped only as the last tagged version, and what goes with it, turns to
/// `Delete` (the former with [`Reason::NoLongerLastTagged`] first). Their runs are
/// appended to `plan.order` and `plan.runs`, oldest image first, each in the
/// planner's safe order. Returns how many deletions were added.
pub fn revisit(input: PlanInput<'_>, plan: &mut Plan, refused: &[PlanRef]) -> usize {
    let mut by_package: BTreeMap<usize, BTreeSet<VersionId>> = BTreeMap::new();
    for r in refused {
        if let Some(d) = plan
            .packages
            .get(r.package)
            .and_then(|p| p.decisions.get(r.decision))
        {
            by_package.entry(r.package).or_default().insert(d.id);
        }
    }
    let empty = PackageGraph::default();
    let mut runs: Vec<(Timestamp, usize, Vec<usize>)> = Vec::new();
    let mut added = 0;
    for (pi, kept) in by_package {
        let name = plan.packages[pi].name.clone();
        let Some(pkg) = input.inventory.packages.iter().find(|p| p.name == name) else {
            continue;
        };
        let pg = input.graph.package(&pkg.name).unwrap_or(&empty);
        let before = &mut plan.packages[pi].decisions;
        let at: HashMap<VersionId, usize> =
            before.iter().enumerate().map(|(k, d)| (d.id, k)).collect();
        // What the plan deletes and GitHub did not refuse is gone (or going): planned
        // again it would count as staying where a refused version protects it (a
        // refused image keeps its signature), and a tagged one would free the last
        // tagged version although it is deleted itself.
        let pkg = &Package {
            versions: pkg
                .versions
                .iter()
                .filter(|v| {
                    kept.contains(&v.id)
                        || at
                            .get(&v.id)
                            .is_none_or(|&k| before[k].action != Action::Delete)
                })
                .cloned()
                .collect(),
            ..pkg.clone()
        };
        // A version not read by choice was left unread because it stayed: if it
        // would now go, whether something kept refers to it is unknown, so it stays.
        let mut kept = kept;
        let (named, again, again_runs) = loop {
            let mut planner = PackagePlanner::new(pkg, pg, input);
            for (i, v) in planner.vs.iter().enumerate() {
                planner.known_kept[i] = kept.contains(&v.id);
            }
            // The refused tagged version the freed one is named after: the newest.
            let named = (0..planner.vs.len())
                .find(|&i| planner.known_kept[i] && planner.vs[i].is_tagged())
                .map(|i| planner.vref(i));
            let (again, again_runs) = planner.run();
            let unsure: Vec<VersionId> = again
                .decisions
                .iter()
                .filter(|d| d.action == Action::Delete && pg.skipped.contains(&d.digest))
                .filter(|d| {
                    at.get(&d.id)
                        .is_some_and(|&k| before[k].action != Action::Delete)
                })
                .map(|d| d.id)
                .collect();
            if unsure.is_empty() {
                break (named, again, again_runs);
            }
            kept.extend(unsure);
        };
        // Index in the new plan -> index in the old one, for versions newly deleted.
        let mut freed: HashMap<usize, usize> = HashMap::new();
        for (i, d) in again.decisions.iter().enumerate() {
            let Some(&k) = at.get(&d.id) else { continue };
            if d.action != Action::Delete || before[k].action == Action::Delete {
                continue;
            }
            let was_last_tagged = matches!(
                before[k].reasons.first(),
                Some(Reason::Refused {
                    refusal: Refusal::LastTaggedVersion
                })
            );
            let mut reasons = Vec::with_capacity(d.reasons.len() + 1);
            if was_last_tagged {
                if let Some(kept) = &named {
                    reasons.push(Reason::NoLongerLastTagged {
                        kept: Box::new(kept.clone()),
                    });
                }
            }
            reasons.extend(d.reasons.iter().cloned());
            before[k].action = Action::Delete;
            before[k].reasons = reasons;
            freed.insert(i, k);
        }
        for (ts, run) in again_runs {
            let run: Vec<usize> = run.iter().filter_map(|i| freed.get(i).copied()).collect();
            if !run.is_empty() {
                added += run.len();
                runs.push((ts, pi, run));
            }
        }
    }
    runs.sort_by_key(|r| (r.0, r.1));
    // A version planned for untagging and now deleted is not untagged.
    let decisions = &plan.packages;
    plan.untags
        .retain(|r| decisions[r.package].decisions[r.decision].action == Action::Untag);
    for (_, package, run) in runs {
        plan.runs.push(run.len());
        plan.order.extend(
            run.into_iter()
                .map(|decision| PlanRef { package, decision }),
        );
    }
    added
}
