//! The planner: a pure function of inventory, manifest graph, policy and `now`.
//!
//! It owns every decision and the safety rules (DESIGN.md, "Planner"):
//! 1. rules select versions (keep beats delete; unselected versions are kept; a
//!    tagged version is deleted only when delete rules select every one of its tags,
//!    and a tagged version no rule selects never goes with a deleted parent);
//! 2. everything reachable in the manifest graph from a version that stays is kept
//!    (platform manifests of kept indexes, signatures, attestations and referrers of
//!    kept manifests), with the path in the reason;
//! 3. versions that only exist for a deleted version (children of a deleted index,
//!    its signatures) and that no rule keeps are deleted with it;
//! 4. deletions GitHub would refuse are turned into skips before any request;
//!    then untag rules remove the tags they select from versions that stay
//!    ([`untag`] says how it stays safe);
//! 5. when a manifest of a package could not be read, its untagged versions are kept;
//! 6. the delete order puts oldest images first and, within one image, artifacts
//!    before their subject and an index before its children.
//!
//! Steps 2–5 repeat until nothing changes, since a skip or a forced keep protects
//! more of the graph.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::graph::{parse_artifact_tag, ArtifactTag, ManifestGraph, PackageGraph};
use crate::model::{Digest, Inventory, Package, Version, Visibility};
use crate::plan::{Action, Decision, Finding, PackagePlan, Plan, PlanRef};
use crate::policy::{Policy, RuleAction};
use crate::reason::{Miss, Reason, Refusal, Relation, Selected, VersionRef};

mod decide;
mod order;
pub mod packages;
pub mod reads;
mod revisit;
mod rules;
mod select;
mod untag;

pub use revisit::revisit;

/// Knobs of the planner that depend on the backend, told by the backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanOptions {
    /// The deletions the backend refuses, predicted as skips.
    pub refusals: RefusalRules,
}

/// Deletions a backend refuses, as data: the planner turns those it can predict into
/// `Skip` decisions (with a [`Refusal`] reason) before any request is made. The
/// backend describes its rules; the core knows no backend. The default refuses
/// nothing (a plain OCI registry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefusalRules {
    /// A public version with more downloads than this is never deleted.
    pub public_downloads_over: Option<u64>,
    /// The last tagged version of a package is never deleted (only the package).
    pub last_tagged_version: bool,
}

/// GitHub's refusal rules as `regsweep_github::REFUSALS` gives them, for the unit
/// tests (the core does not depend on the GitHub crate).
#[cfg(test)]
pub(crate) const GITHUB_LIKE: RefusalRules = RefusalRules {
    public_downloads_over: Some(5000),
    last_tagged_version: true,
};

impl RefusalRules {
    /// Whether any deletion is refused.
    pub fn any(&self) -> bool {
        self.public_downloads_over.is_some() || self.last_tagged_version
    }
}

/// A pull request's state, as the pulls API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullInfo {
    pub open: bool,
    pub merged_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

/// Pull requests by repository (`owner/name`) and number.
pub type PullRequests = HashMap<String, HashMap<u64, PullInfo>>;

/// Everything the planner reads.
#[derive(Clone, Copy)]
pub struct PlanInput<'a> {
    pub inventory: &'a Inventory,
    pub graph: &'a ManifestGraph,
    pub policy: &'a Policy,
    pub now: Timestamp,
    pub options: PlanOptions,
    pub pulls: &'a PullRequests,
}

/// Computes the plan.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let empty = PackageGraph::default();
    let mut packages = Vec::with_capacity(input.inventory.packages.len());
    let mut runs: Vec<(Timestamp, usize, Vec<usize>)> = Vec::new();
    let mut sorted: Vec<&Package> = input.inventory.packages.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for (pi, pkg) in sorted.into_iter().enumerate() {
        let pg = input.graph.package(&pkg.name).unwrap_or(&empty);
        let (mut pp, pkg_runs) = PackagePlanner::new(pkg, pg, input).run();
        // A package deleted as a whole needs none of its version deletions.
        if !packages::decide(pkg, pg, input, &mut pp) {
            runs.extend(pkg_runs.into_iter().map(|(ts, r)| (ts, pi, r)));
        }
        packages.push(pp);
    }
    runs.sort_by_key(|r| (r.0, r.1));
    let untags = untag_order(&packages);
    let run_lengths = runs.iter().map(|r| r.2.len()).collect();
    let order = runs
        .into_iter()
        .flat_map(|(_, package, run)| {
            run.into_iter()
                .map(move |decision| PlanRef { package, decision })
        })
        .collect();
    Plan {
        packages,
        order,
        runs: run_lengths,
        untags,
    }
}

/// Every untag decision, oldest version first (then by package and id).
fn untag_order(packages: &[PackagePlan]) -> Vec<PlanRef> {
    let mut untags: Vec<(Timestamp, usize, crate::model::VersionId, PlanRef)> = packages
        .iter()
        .enumerate()
        .flat_map(|(package, p)| {
            p.decisions
                .iter()
                .enumerate()
                .filter(|(_, d)| d.action == Action::Untag)
                .map(move |(decision, d)| {
                    (d.updated_at, package, d.id, PlanRef { package, decision })
                })
        })
        .collect();
    untags.sort_by_key(|u| (u.0, u.1, u.2));
    untags.into_iter().map(|u| u.3).collect()
}

/// Whether any delete rule of the policy could select a version of `pkg`, whatever
/// its manifests say (orphan and label conditions are taken as holding; `keep_newest`
/// and keep rules are ignored). When none can, nothing in the package can be deleted
/// and a plan need not read its manifests: the graph only ever keeps more.
pub fn may_delete(pkg: &Package, input: PlanInput<'_>) -> bool {
    // A package rule's safety checks need the manifests (labels, unread ones).
    if packages::names(input.policy, &pkg.name) {
        return true;
    }
    let empty = PackageGraph::default();
    let mut planner = PackagePlanner::new(pkg, &empty, input);
    planner.graph_blind = true;
    input
        .policy
        .rules
        .iter()
        .filter(|r| r.action == RuleAction::Delete && r.packages.matches(&pkg.name))
        .any(|rule| {
            let top = rule.semver_lines.map(|l| planner.top_lines(rule, l));
            (0..planner.vs.len()).any(|i| planner.may_select(rule, i, top.as_deref()))
        })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Initial {
    /// A keep rule selected it.
    Strong,
    /// A delete rule selected it and no keep rule did.
    Delete,
    /// No rule selected it.
    Weak,
}

struct Edge {
    to: usize,
    relation: Relation,
}

/// How the closure reached a version: from `parent` over its edge `edge`, starting
/// at the kept `root` (indexes in 32 bits: one of these per version).
#[derive(Clone, Copy, Debug)]
struct Via {
    parent: u32,
    edge: u32,
    root: u32,
}

impl Via {
    fn new(parent: usize, edge: usize, root: usize) -> Self {
        let small = |x: usize| u32::try_from(x).expect("fewer than 2^32 versions in a package");
        Via {
            parent: small(parent),
            edge: small(edge),
            root: small(root),
        }
    }
}

struct PackagePlanner<'a> {
    pkg: &'a Package,
    pg: &'a PackageGraph,
    input: PlanInput<'a>,
    /// Versions, newest first (by updated_at, then id).
    vs: Vec<&'a Version>,
    /// Protection edges: if `from` stays, `to` stays.
    out: Vec<Vec<Edge>>,
    /// Reverse of `out`: (from, relation index in out[from]).
    inc: Vec<Vec<(usize, usize)>>,
    unread: Vec<usize>,
    /// For an index listing manifests the package does not have: how many it
    /// lists, and the missing digests.
    /// (Sparse: broken indexes are rare, and a slot per version would cost a plan
    /// of 1,000,000 versions 32 MB.)
    broken: HashMap<usize, (usize, Vec<Digest>)>,
    findings: Vec<Finding>,
    /// Whether the package's manifests were read at all (`--graph skip` reads none).
    graph_read: bool,
    /// Deciding before the manifests are read: conditions that need them (orphans,
    /// labels) are taken as holding.
    graph_blind: bool,
    /// Versions GitHub refused to delete during the run (`revisit`): they stay.
    known_kept: Vec<bool>,
    /// Planning between rounds of reads ([`reads`]): a version not asked for yet is
    /// taken as skipped, the hypothesis the next round checks.
    provisional: bool,
}

/// Whether every tag of `v` is a cosign / referrers tag (an artifact, not an image).
fn is_artifact(v: &Version) -> bool {
    v.is_tagged() && v.tags.iter().all(|t| parse_artifact_tag(t).is_some())
}

impl<'a> PackagePlanner<'a> {
    fn new(pkg: &'a Package, pg: &'a PackageGraph, input: PlanInput<'a>) -> Self {
        Self::with(pkg, pg, input, false)
    }

    fn with(
        pkg: &'a Package,
        pg: &'a PackageGraph,
        input: PlanInput<'a>,
        provisional: bool,
    ) -> Self {
        let mut vs: Vec<&Version> = pkg.versions.iter().collect();
        vs.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        vs.dedup_by(|a, b| a.id == b.id);
        let n = vs.len();
        let mut me = PackagePlanner {
            pkg,
            pg,
            input,
            vs,
            out: (0..n).map(|_| Vec::new()).collect(),
            inc: vec![Vec::new(); n],
            unread: Vec::new(),
            broken: HashMap::new(),
            findings: Vec::new(),
            graph_blind: false,
            graph_read: provisional || input.graph.package(&pkg.name).is_some(),
            known_kept: vec![false; n],
            provisional,
        };
        me.build_edges();
        me
    }

    /// Whether `rule` selects `i`, or would but for tags another delete rule may
    /// select (a partial tag match may be completed by another rule).
    fn may_select(&self, rule: &crate::policy::Rule, i: usize, top: Option<&[(u64, u64)]>) -> bool {
        matches!(
            self.check(rule, i, top),
            Ok(_) | Err(Miss::TagsPartlySelected { .. })
        )
    }

    fn vref(&self, i: usize) -> VersionRef {
        let v = self.vs[i];
        let tag = v
            .tags
            .iter()
            .find(|t| parse_artifact_tag(t).is_none())
            .or(v.tags.first())
            .cloned();
        VersionRef {
            package: self.pkg.name.clone(),
            id: v.id,
            digest: v.digest.clone(),
            tag,
        }
    }

    fn add_edge(&mut self, from: usize, to: usize, relation: Relation) {
        if from == to {
            return;
        }
        self.inc[to].push((from, self.out[from].len()));
        self.out[from].push(Edge { to, relation });
    }

    fn build_edges(&mut self) {
        // foldhash: SipHash over 71-byte digests was a sixth of planning.
        let by_digest: HashMap<&Digest, usize, foldhash::fast::RandomState> = self
            .vs
            .iter()
            .enumerate()
            .map(|(i, v)| (&v.digest, i))
            .collect();
        let mut pending = Vec::new();
        for (i, v) in self.vs.iter().enumerate() {
            match self.pg.get(&v.digest) {
                Some(node) => {
                    let mut missing = Vec::new();
                    for c in &node.children {
                        match by_digest.get(&c.digest) {
                            Some(&j) => {
                                let relation = match (&c.platform, &c.attests) {
                                    (_, Some(of)) => Relation::BuildxAttestation {
                                        of: Some(of.clone()),
                                    },
                                    (Some(p), None) if p.is_unknown() => {
                                        Relation::BuildxAttestation { of: None }
                                    }
                                    (Some(p), None) => Relation::Platform {
                                        platform: p.clone(),
                                    },
                                    (None, None) => Relation::Child,
                                };
                                pending.push((i, j, relation));
                            }
                            None => missing.push(c.digest.clone()),
                        }
                    }
                    if !missing.is_empty() {
                        self.broken
                            .insert(i, (node.children.len(), missing.clone()));
                        let index = self.vref(i);
                        self.findings.push(if missing.len() == node.children.len() {
                            Finding::Ghost { index, missing }
                        } else {
                            Finding::Partial { index, missing }
                        });
                    }
                    if let Some(s) = &node.subject {
                        match by_digest.get(s) {
                            Some(&j) => pending.push((
                                j,
                                i,
                                Relation::Referrer {
                                    artifact_type: node.artifact_type.clone(),
                                },
                            )),
                            None => self.findings.push(Finding::DanglingArtifact {
                                version: self.vref(i),
                                subject: s.clone(),
                            }),
                        }
                    }
                }
                // Not read by choice: an image manifest with no edges of its own.
                None if self.pg.skipped.contains(&v.digest)
                    || (self.provisional && !self.pg.attempted(&v.digest)) => {}
                None => self.unread.push(i),
            }
            for t in &v.tags {
                if let Some((subject, artifact)) = parse_artifact_tag(t) {
                    match by_digest.get(&subject) {
                        Some(&j) => pending.push((j, i, Relation::Artifact { artifact })),
                        None => self.findings.push(Finding::DanglingArtifact {
                            version: self.vref(i),
                            subject,
                        }),
                    }
                }
            }
        }
        for (from, to, rel) in pending {
            self.add_edge(from, to, rel);
        }
        if self.graph_read {
            for &u in &self.unread.clone() {
                self.findings.push(Finding::Unread {
                    version: self.vref(u),
                });
            }
        }
    }

    /// How `rule` selected `i`, `a` old: with what is missing when the rule is
    /// about broken images.
    fn how(&self, rule: &crate::policy::Rule, i: usize, a: std::time::Duration) -> Selected {
        match (rule.broken, self.broken.get(&i)) {
            (Some(_), Some((listed, missing))) => {
                Selected::Broken(Box::new(crate::reason::BrokenImage {
                    age: a,
                    state: if missing.len() == *listed {
                        crate::policy::Broken::Ghost
                    } else {
                        crate::policy::Broken::Partial
                    },
                    listed: *listed,
                    missing: missing.clone(),
                }))
            }
            _ => Selected::Matched { age: a },
        }
    }

    /// Whether `i` is the root of an image: no other version of the package refers
    /// to it (not a platform manifest, attestation, nested index, referrer or
    /// signature) and it is not a cosign / referrers artifact. `keep_newest` counts
    /// only these.
    fn is_image_root(&self, i: usize) -> bool {
        self.inc[i].is_empty() && !is_artifact(self.vs[i])
    }

    /// Why an untagged version is kept when the package's graph is not fully known.
    fn graph_unknown_reason(&self) -> Reason {
        match self.unread.first() {
            Some(&u) if self.graph_read => Reason::GraphUnknown {
                unread: Box::new(self.vref(u)),
            },
            _ => Reason::GraphNotRead,
        }
    }

    /// Whether `i` carries a tag that is not a cosign / referrers tag. Such a
    /// version is never deleted unless a rule selects it: going with a deleted
    /// parent would remove tags nobody selected.
    fn is_image_tagged(&self, i: usize) -> bool {
        let v = self.vs[i];
        v.is_tagged() && !is_artifact(v)
    }

    /// An untagged version (or an artifact of a missing subject) that nothing
    /// references, in a package whose graph was read completely.
    fn is_orphan(&self, i: usize) -> bool {
        if !self.unread.is_empty() || !self.inc[i].is_empty() {
            return false;
        }
        let v = self.vs[i];
        !v.is_tagged() || is_artifact(v)
    }

    /// Plans the package: the rules' selections, the settled fixpoint, one
    /// decision per version, untags, findings and the delete runs.
    fn run(self) -> (PackagePlan, Vec<(Timestamp, Vec<usize>)>) {
        let mut sel = self.select();
        let initial = sel.initial();
        let settled = self.settle(&initial);
        let mut decisions: Vec<Decision> = (0..self.vs.len())
            .map(|i| self.decide(i, &mut sel, &initial, &settled))
            .collect();
        self.untag(&sel, &initial, &mut decisions);
        let findings = self.findings_with(&decisions);
        let runs = self.delete_runs(&decisions);
        (
            PackagePlan {
                name: self.pkg.name.clone(),
                decisions,
                findings,
                package: None,
            },
            runs,
        )
    }

    /// The graph's findings, and how many untagged versions `--graph skip` kept.
    fn findings_with(&self, decisions: &[Decision]) -> Vec<Finding> {
        let mut findings = self.findings_final();
        let kept_blind = decisions
            .iter()
            .filter(|d| matches!(d.reasons.first(), Some(Reason::GraphNotRead)))
            .count();
        if kept_blind > 0 {
            findings.push(Finding::NotRead { kept: kept_blind });
        }
        findings.sort_by_cached_key(|f| f.to_string());
        findings
    }

    fn findings_final(&self) -> Vec<Finding> {
        let mut f = self.findings.clone();
        for i in 0..self.vs.len() {
            if self.is_orphan(i) && !self.vs[i].is_tagged() {
                f.push(Finding::Orphan {
                    version: self.vref(i),
                });
            }
        }
        f
    }

    /// Reachability from `root` over protection edges, in a deterministic order.
    /// Returns `stays` and, for versions reached but not roots, how.
    fn closure(&self, root: &[bool]) -> (Vec<bool>, Vec<Option<Via>>) {
        let n = self.vs.len();
        let mut stays = root.to_vec();
        let mut protected: Vec<Option<Via>> = vec![None; n];
        let mut origin: Vec<usize> = (0..n).collect();
        let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&i| root[i]).collect();
        while let Some(i) = queue.pop_front() {
            for (e, edge) in self.out[i].iter().enumerate() {
                let j = edge.to;
                if !stays[j] {
                    stays[j] = true;
                    protected[j] = Some(Via::new(i, e, origin[i]));
                    origin[j] = origin[i];
                    queue.push_back(j);
                }
            }
        }
        (stays, protected)
    }

    /// The reason a version goes with a deleted parent, if it has one.
    fn deleted_with(&self, i: usize, stays: &[bool]) -> Option<Reason> {
        self.inc[i]
            .iter()
            .find(|&&(p, _)| !stays[p])
            .map(|&(p, e)| Reason::DeletedWith {
                relation: Box::new(self.out[p][e].relation.clone()),
                parent: Box::new(self.vref(p)),
            })
    }

    /// Marks deletions the backend's [`RefusalRules`] refuse as skips; true when
    /// something changed.
    fn predict_refusals(&self, stays: &[bool], skip: &mut [Option<Refusal>]) -> bool {
        let rules = self.input.options.refusals;
        let mut changed = false;
        if let Some(limit) = rules.public_downloads_over {
            if self.pkg.visibility == Some(Visibility::Public) {
                for (i, v) in self.vs.iter().enumerate() {
                    if let Some(d) = v.downloads.filter(|&d| d > limit) {
                        if !stays[i] && skip[i].is_none() {
                            skip[i] = Some(Refusal::TooManyDownloads { downloads: d });
                            changed = true;
                        }
                    }
                }
            }
        }
        let tagged_staying = (0..self.vs.len()).any(|i| self.vs[i].is_tagged() && stays[i]);
        if rules.last_tagged_version && !tagged_staying {
            // vs is newest first: prefer the newest image over an artifact.
            let doomed = |i: &usize| self.vs[*i].is_tagged() && !stays[*i];
            let pick = (0..self.vs.len())
                .filter(doomed)
                .find(|&i| !is_artifact(self.vs[i]))
                .or_else(|| (0..self.vs.len()).find(doomed));
            if let Some(i) = pick {
                skip[i] = Some(Refusal::LastTaggedVersion);
                changed = true;
            }
        }
        changed
    }
}

/// The kind of artifact a version is, if its tags say so.
pub fn artifact_kind(v: &Version) -> Option<ArtifactTag> {
    v.tags
        .iter()
        .find_map(|t| parse_artifact_tag(t).map(|(_, k)| k))
}

/// Pushes `x`, growing `v` by exactly the room it needs. Most versions get one or
/// two reasons, and a `Vec`'s default first growth (room for four reasons of about
/// 200 bytes each) would cost a plan of 100,000 versions some 80 MB for nothing.
fn push_exact<T>(v: &mut Vec<T>, x: T) {
    v.reserve_exact(1);
    v.push(x);
}
