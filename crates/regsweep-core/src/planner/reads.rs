//! Which manifests to read: the fewest that decide the plan.
//!
//! The command layer reads in rounds: it asks [`next_reads`] what to read, reads it,
//! and asks again until the answer is empty, then calls [`settle`]. Per package:
//! 1. nothing when no delete rule could select any of its versions (the graph only
//!    ever keeps more);
//! 2. the tagged versions (the roots of the images);
//! 3. the untagged versions that may be indexes: every one that no index read so far
//!    names as an image manifest (an index kept with children it names would keep
//!    them, whatever the rules say);
//! 4. the image manifests (named by an index read) that the plan so far would not
//!    keep (delete, or skip as a refusal), each read to learn whether it is a referrer
//!    of something kept, and those a rule with `labels` could select.
//!
//! What is never read is an image manifest, named as such by an index, that the plan
//! keeps: it has no children, and its own subject could only keep it, which it is
//! already. So the decisions equal those made with every manifest read (a property
//! test checks it). A manifest that could not be read counts as unread, as ever: the
//! planner then keeps what it might protect.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::graph::{PackageGraph, DOCKER_MANIFEST, OCI_MANIFEST};
use crate::model::{Digest, Inventory, Package};
use crate::plan::Action;

use super::{PackagePlanner, PlanInput};

/// Digests to read, by package name; empty when the plan is decided.
pub type Reads = BTreeMap<String, Vec<Digest>>;

/// The manifests to read next, given what `input.graph` holds so far (read, missing
/// or failed). A package absent from the answer needs nothing more.
pub fn next_reads(input: PlanInput<'_>) -> Reads {
    let empty = PackageGraph::default();
    let mut out = Reads::new();
    for pkg in &input.inventory.packages {
        let pg = input.graph.package(&pkg.name).unwrap_or(&empty);
        let want = package_reads(pkg, pg, input);
        if !want.is_empty() {
            out.insert(pkg.name.clone(), want);
        }
    }
    out
}

/// Every manifest not asked for yet (`explain`, `validate`, `--read-every-manifest`).
pub fn every_manifest(inventory: &Inventory, graph: &crate::ManifestGraph) -> Reads {
    let empty = PackageGraph::default();
    inventory
        .packages
        .iter()
        .filter_map(|p| {
            let pg = graph.package(&p.name).unwrap_or(&empty);
            let want: Vec<Digest> = p
                .versions
                .iter()
                .filter(|v| !pg.attempted(&v.digest))
                .map(|v| v.digest.clone())
                .collect();
            (!want.is_empty()).then(|| (p.name.clone(), want))
        })
        .collect()
}

/// After the last round: marks the versions of every package read that were never
/// asked for as skipped by choice, so the planner does not take them as unread.
pub fn settle(inventory: &Inventory, graph: &mut crate::ManifestGraph) {
    for p in &inventory.packages {
        let Some(pg) = graph.packages.get_mut(&p.name) else {
            continue;
        };
        let skipped: Vec<Digest> = p
            .versions
            .iter()
            .filter(|v| !pg.attempted(&v.digest))
            .map(|v| v.digest.clone())
            .collect();
        pg.skipped.extend(skipped);
    }
}

fn package_reads(pkg: &Package, pg: &PackageGraph, input: PlanInput<'_>) -> Vec<Digest> {
    if !super::may_delete(pkg, input) {
        return Vec::new();
    }
    let fresh = |d: &Digest| !pg.attempted(d) && !pg.skipped.contains(d);
    let roots: Vec<Digest> = pkg
        .versions
        .iter()
        .filter(|v| v.is_tagged() && fresh(&v.digest))
        .map(|v| v.digest.clone())
        .collect();
    if !roots.is_empty() {
        return roots;
    }
    let manifests = named_manifests(pg);
    let may_be_index: Vec<Digest> = pkg
        .versions
        .iter()
        .filter(|v| fresh(&v.digest) && !manifests.get(&v.digest).copied().unwrap_or(false))
        .map(|v| v.digest.clone())
        .collect();
    if !may_be_index.is_empty() {
        return may_be_index;
    }
    if !pkg.versions.iter().any(|v| fresh(&v.digest)) {
        return Vec::new();
    }
    // Every version not read is an image manifest: plan as if none of them had edges
    // of its own, and read those whose decision that could change.
    let planner = PackagePlanner::with(pkg, pg, input, true);
    let labelled = label_readers(pkg, pg, input);
    let (plan, _) = planner.run();
    plan.decisions
        .into_iter()
        .filter(|d| fresh(&d.digest))
        .filter(|d| d.action != Action::Keep || labelled.contains(&d.digest))
        .map(|d| d.digest)
        .collect()
}

/// The versions a rule with `labels` could select: their labels are read.
fn label_readers<'a>(
    pkg: &'a Package,
    pg: &'a PackageGraph,
    input: PlanInput<'a>,
) -> HashSet<&'a Digest> {
    let rules: Vec<_> = input
        .policy
        .rules
        .iter()
        .filter(|r| r.packages.matches(&pkg.name) && r.needs_labels())
        .collect();
    if rules.is_empty() {
        return HashSet::new();
    }
    let mut blind = PackagePlanner::new(pkg, pg, input);
    blind.graph_blind = true;
    let tops: Vec<_> = rules
        .iter()
        .map(|r| r.semver_lines.map(|l| blind.top_lines(r, l)))
        .collect();
    (0..blind.vs.len())
        .filter(|&i| {
            rules
                .iter()
                .zip(&tops)
                .any(|(r, top)| blind.may_select(r, i, top.as_deref()))
        })
        .map(|i| &blind.vs[i].digest)
        .collect()
}

/// Digests named by the indexes read: true when every index naming it says it is an
/// image manifest (so it has no children), false when one says otherwise or nothing.
fn named_manifests(pg: &PackageGraph) -> HashMap<Digest, bool> {
    let mut out: HashMap<Digest, bool> = HashMap::new();
    for node in pg.nodes.values() {
        for c in &node.children {
            let manifest = matches!(
                c.media_type.as_deref(),
                Some(OCI_MANIFEST | DOCKER_MANIFEST)
            );
            out.entry(c.digest.clone())
                .and_modify(|m| *m &= manifest)
                .or_insert(manifest);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::Timestamp;

    use super::*;
    use crate::graph::{ChildRef, ManifestKind, ManifestNode, OCI_INDEX};
    use crate::plan::Plan;
    use crate::planner::{plan, PlanOptions, PullRequests};
    use crate::policy::{Policy, Rule, RuleAction, TagState};
    use crate::{ManifestGraph, Version, VersionId};

    fn now() -> Timestamp {
        "2025-06-01T00:00:00Z".parse().unwrap()
    }

    fn d(n: u64) -> Digest {
        Digest::parse(&format!("sha256:{n:064x}")).unwrap()
    }

    fn version(n: u64, tags: &[&str]) -> Version {
        Version {
            id: VersionId(n),
            digest: d(n),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: now(),
            updated_at: now(),
            downloads: None,
        }
    }

    fn manifest(n: u64) -> ManifestNode {
        ManifestNode {
            digest: d(n),
            media_type: OCI_MANIFEST.into(),
            kind: ManifestKind::Manifest,
            children: Vec::new(),
            subject: None,
            artifact_type: None,
            config: None,
            annotations: BTreeMap::new(),
        }
    }

    fn index(n: u64, children: &[u64]) -> ManifestNode {
        ManifestNode {
            media_type: OCI_INDEX.into(),
            kind: ManifestKind::Index,
            children: children
                .iter()
                .map(|&c| ChildRef {
                    digest: d(c),
                    media_type: Some(OCI_MANIFEST.into()),
                    platform: None,
                    attests: None,
                })
                .collect(),
            ..manifest(n)
        }
    }

    /// `v1` tagged index of 2 and 3; 4 an untagged index of 5 and 6; 7 a lone
    /// untagged manifest.
    fn world() -> (Inventory, ManifestGraph) {
        let versions = (1..=7)
            .map(|n| version(n, if n == 1 { &["v1"] } else { &[] }))
            .collect();
        let inventory = Inventory {
            packages: vec![Package {
                name: "app".into(),
                visibility: None,
                versions,
            }],
        };
        let mut graph = ManifestGraph::default();
        let pg = graph.package_mut("app");
        pg.insert(index(1, &[2, 3]));
        pg.insert(index(4, &[5, 6]));
        for n in [2, 3, 5, 6, 7] {
            pg.insert(manifest(n));
        }
        (inventory, graph)
    }

    fn untagged_policy() -> Policy {
        let mut r = Rule::new("untagged", RuleAction::Delete);
        r.tag_state = TagState::Untagged;
        Policy {
            rules: vec![r],
            ..Policy::default()
        }
    }

    fn input<'a>(inv: &'a Inventory, g: &'a ManifestGraph, policy: &'a Policy) -> PlanInput<'a> {
        static PULLS: std::sync::OnceLock<PullRequests> = std::sync::OnceLock::new();
        PlanInput {
            inventory: inv,
            graph: g,
            policy,
            now: now(),
            options: PlanOptions::default(),
            pulls: PULLS.get_or_init(PullRequests::new),
        }
    }

    /// The rounds, as the command layer runs them, from a complete graph; the
    /// digests (as numbers) asked for in each round, and the graph read.
    fn rounds(
        inv: &Inventory,
        full: &ManifestGraph,
        policy: &Policy,
        fail: &[u64],
    ) -> (Vec<Vec<u64>>, ManifestGraph) {
        rounds_with(inv, full, policy, fail, PlanOptions::default())
    }

    fn rounds_with(
        inv: &Inventory,
        full: &ManifestGraph,
        policy: &Policy,
        fail: &[u64],
        options: PlanOptions,
    ) -> (Vec<Vec<u64>>, ManifestGraph) {
        let mut g = ManifestGraph::default();
        let mut asked = Vec::new();
        loop {
            let want = next_reads(PlanInput {
                options,
                ..input(inv, &g, policy)
            });
            if want.is_empty() {
                break;
            }
            let mut round = Vec::new();
            for (name, digests) in want {
                let pg = g.package_mut(&name);
                for dg in digests {
                    let n = u64::from_str_radix(dg.hex(), 16).unwrap();
                    round.push(n);
                    match full.package(&name).and_then(|p| p.get(&dg)) {
                        Some(node) if !fail.contains(&n) => pg.insert(node.clone()),
                        _ => {
                            pg.failed.insert(dg);
                        }
                    }
                }
            }
            round.sort_unstable();
            asked.push(round);
        }
        settle(inv, &mut g);
        (asked, g)
    }

    fn deleted(p: &Plan) -> Vec<u64> {
        let mut v: Vec<u64> = p.packages[0]
            .decisions
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.id.0)
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn roots_first_then_what_may_be_an_index_then_what_would_go() {
        let (inv, full) = world();
        let policy = untagged_policy();
        let (asked, g) = rounds(&inv, &full, &policy, &[]);
        // 2 and 3 are named by the kept v1 as image manifests: never read.
        assert_eq!(asked, vec![vec![1], vec![4, 5, 6, 7]]);
        assert_eq!(g.package("app").unwrap().skipped.len(), 2);
        let demand = plan(input(&inv, &g, &policy));
        let every = plan(input(&inv, &full, &policy));
        assert_eq!(deleted(&demand), vec![4, 5, 6, 7]);
        assert_eq!(deleted(&demand), deleted(&every));
    }

    #[test]
    fn children_of_a_deleted_index_are_read_to_learn_their_subject() {
        let (inv, mut full) = world();
        // Deleting v1 too: its children, named as manifests, would go with it, so
        // they are read; 3 turns out to be a referrer of the lone 7, which is kept.
        let mut keep = Rule::new("keep 7", RuleAction::Keep);
        keep.digests = vec![d(7)];
        let policy = Policy {
            rules: vec![Rule::new("all", RuleAction::Delete), keep],
            ..Policy::default()
        };
        full.package_mut("app")
            .nodes
            .get_mut(&d(3))
            .unwrap()
            .subject = Some(d(7));
        let (asked, g) = rounds(&inv, &full, &policy, &[]);
        assert_eq!(asked, vec![vec![1], vec![4, 5, 6, 7], vec![2, 3]]);
        let demand = plan(input(&inv, &g, &policy));
        assert_eq!(deleted(&demand), vec![1, 2, 4, 5, 6]);
        assert_eq!(
            deleted(&demand),
            deleted(&plan(input(&inv, &full, &policy)))
        );
    }

    #[test]
    fn nothing_is_read_where_nothing_can_be_deleted() {
        let (inv, full) = world();
        let mut r = Rule::new("old tags", RuleAction::Delete);
        r.tags = crate::matcher::PatternList::parse("nope-*").unwrap();
        r.tag_state = TagState::Tagged;
        let (asked, g) = rounds(
            &inv,
            &full,
            &Policy {
                rules: vec![r],
                ..Policy::default()
            },
            &[],
        );
        assert!(asked.is_empty());
        assert!(g.package("app").is_none());
    }

    #[test]
    fn a_manifest_that_could_not_be_read_keeps_the_untagged_versions() {
        let (inv, full) = world();
        let policy = untagged_policy();
        // The kept v1 cannot be read: what it names is unknown, so every untagged
        // version stays (as when reading every manifest with the same failure).
        let (asked, g) = rounds(&inv, &full, &policy, &[1]);
        assert_eq!(asked, vec![vec![1], vec![2, 3, 4, 5, 6, 7]]);
        assert!(g.package("app").unwrap().failed.contains(&d(1)));
        assert!(deleted(&plan(input(&inv, &g, &policy))).is_empty());
    }

    #[test]
    fn a_refusal_met_at_delete_time_never_frees_a_manifest_left_unread() {
        // v1 (an index of 2 and 3, newest) is skipped as the last tagged version;
        // v4 is deleted, but GitHub refuses at delete time. Revisiting frees v1, yet
        // its children were never read (a kept index named them): they stay.
        let (mut inv, mut full) = world();
        let pkg = &mut inv.packages[0];
        pkg.versions.retain(|v| v.id.0 <= 4);
        pkg.versions[3].tags = vec!["v2".into()];
        pkg.versions[0].updated_at = now() + jiff::SignedDuration::from_hours(1);
        full.package_mut("app").insert(manifest(4));
        let mut r = Rule::new("tagged", RuleAction::Delete);
        r.tag_state = TagState::Tagged;
        let policy = Policy {
            rules: vec![r],
            ..Policy::default()
        };
        let options = PlanOptions {
            refusals: crate::planner::GITHUB_LIKE,
        };
        let (_, g) = rounds_with(&inv, &full, &policy, &[], options);
        assert_eq!(g.package("app").unwrap().skipped.len(), 2);
        let github = |graph| PlanInput {
            options,
            ..input(&inv, graph, &policy)
        };
        let mut p = plan(github(&g));
        let at = |p: &Plan, id: u64| {
            p.packages[0]
                .decisions
                .iter()
                .position(|d| d.id.0 == id)
                .unwrap()
        };
        assert_eq!(p.packages[0].decisions[at(&p, 1)].action, Action::Skip);
        assert_eq!(deleted(&p), vec![4]);
        let refused = vec![crate::plan::PlanRef {
            package: 0,
            decision: at(&p, 4),
        }];
        assert_eq!(crate::planner::revisit(github(&g), &mut p, &refused), 1);
        assert_eq!(p.packages[0].decisions[at(&p, 1)].action, Action::Delete);
        for id in [2, 3] {
            assert_eq!(p.packages[0].decisions[at(&p, id)].action, Action::Keep);
        }
    }
}
