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
//! 5. when a manifest of a package could not be read, its untagged versions are kept;
//! 6. the delete order puts oldest images first and, within one image, artifacts
//!    before their subject and an index before its children.
//!
//! Steps 2–5 repeat until nothing changes, since a skip or a forced keep protects
//! more of the graph.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

use crate::graph::{parse_artifact_tag, ArtifactTag, ManifestGraph, PackageGraph};
use crate::model::{age, Digest, Inventory, Package, Version, Visibility};
use crate::plan::{Action, Decision, Finding, PackagePlan, Plan, PlanRef};
use crate::policy::{Policy, RuleAction};
use crate::reason::{Miss, Reason, Refusal, Relation, RuleMiss, Selected, VersionRef};

mod order;
mod revisit;
mod select;

pub use revisit::revisit;

/// Knobs of the planner that depend on the backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanOptions {
    /// Predict GitHub's refusals (last tagged version, popular public versions).
    pub github_refusals: bool,
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
        let (pp, pkg_runs) = PackagePlanner::new(pkg, pg, input).run();
        packages.push(pp);
        runs.extend(pkg_runs.into_iter().map(|(ts, r)| (ts, pi, r)));
    }
    runs.sort_by_key(|r| (r.0, r.1));
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
    }
}

/// Whether any delete rule of the policy could select a version of `pkg`, whatever
/// its manifests say (orphan and label conditions are taken as holding; `keep_newest`
/// and keep rules are ignored). When none can, nothing in the package can be deleted
/// and a plan need not read its manifests: the graph only ever keeps more.
pub fn may_delete(pkg: &Package, input: PlanInput<'_>) -> bool {
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
            // A partial tag match may be completed by another delete rule.
            (0..planner.vs.len()).any(|i| {
                matches!(
                    planner.check(rule, i, top.as_deref()),
                    Ok(_) | Err(Miss::TagsPartlySelected { .. })
                )
            })
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
    broken: Vec<Option<(usize, Vec<Digest>)>>,
    findings: Vec<Finding>,
    /// Whether the package's manifests were read at all (`--graph skip` reads none).
    graph_read: bool,
    /// Deciding before the manifests are read: conditions that need them (orphans,
    /// labels) are taken as holding.
    graph_blind: bool,
    /// Versions GitHub refused to delete during the run (`revisit`): they stay.
    known_kept: Vec<bool>,
}

/// Whether every tag of `v` is a cosign / referrers tag (an artifact, not an image).
fn is_artifact(v: &Version) -> bool {
    v.is_tagged() && v.tags.iter().all(|t| parse_artifact_tag(t).is_some())
}

impl<'a> PackagePlanner<'a> {
    fn new(pkg: &'a Package, pg: &'a PackageGraph, input: PlanInput<'a>) -> Self {
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
            broken: vec![None; n],
            findings: Vec::new(),
            graph_blind: false,
            graph_read: input.graph.package(&pkg.name).is_some(),
            known_kept: vec![false; n],
        };
        me.build_edges();
        me
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
        let by_digest: HashMap<&Digest, usize> = self
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
                        self.broken[i] = Some((node.children.len(), missing.clone()));
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
        match (rule.broken, &self.broken[i]) {
            (Some(_), Some((listed, missing))) => Selected::Broken {
                age: a,
                state: if missing.len() == *listed {
                    crate::policy::Broken::Ghost
                } else {
                    crate::policy::Broken::Partial
                },
                listed: *listed,
                missing: missing.clone(),
            },
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
                unread: self.vref(u),
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

    fn run(self) -> (PackagePlan, Vec<(Timestamp, Vec<usize>)>) {
        let n = self.vs.len();
        let mut keeps: Vec<Vec<Reason>> = vec![Vec::new(); n];
        let mut deletes: Vec<Vec<Reason>> = vec![Vec::new(); n];
        let mut misses: Vec<Vec<RuleMiss>> = vec![Vec::new(); n];
        let mut delete_rules: Vec<Vec<String>> = vec![Vec::new(); n];

        let rules: Vec<_> = self
            .input
            .policy
            .rules
            .iter()
            .filter(|r| r.packages.matches(&self.pkg.name))
            .map(|rule| {
                let top = rule.semver_lines.map(|l| self.top_lines(rule, l));
                let checks: Vec<_> = (0..n)
                    .map(|i| self.check(rule, i, top.as_deref()))
                    .collect();
                (rule, checks)
            })
            .collect();
        let uncovered = uncovered_tags(n, &rules);

        for (rule, checks) in rules {
            let mut candidates = Vec::new();
            for (i, (m, checked)) in misses.iter_mut().zip(checks).enumerate() {
                match checked {
                    Ok(a) => candidates.push((i, a)),
                    // Other delete rules select the tags this one does not.
                    Err(Miss::TagsPartlySelected { .. }) if uncovered[i].is_empty() => {
                        let v = self.vs[i];
                        candidates.push((i, age(self.input.now, v.timestamp(rule.timestamp))));
                    }
                    Err(Miss::TagsPartlySelected { .. }) => push_exact(
                        m,
                        RuleMiss {
                            rule: rule.name.clone(),
                            miss: Miss::TagsPartlySelected {
                                unselected: uncovered[i].clone(),
                            },
                        },
                    ),
                    Err(miss) => push_exact(
                        m,
                        RuleMiss {
                            rule: rule.name.clone(),
                            miss,
                        },
                    ),
                }
            }
            let mut spared = vec![None; n];
            // Untagged candidates of a keep_newest rule in a package whose graph is
            // not fully known: whether they are images is unknown, so they are
            // neither counted nor deleted by this rule.
            let mut unsure = vec![false; n];
            if let Some(k) = &rule.keep_newest {
                let mut groups: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
                for &(i, _) in &candidates {
                    if !self.is_image_root(i) {
                        continue;
                    }
                    if !self.unread.is_empty() && !self.vs[i].is_tagged() {
                        unsure[i] = true;
                        continue;
                    }
                    groups
                        .entry(self.group_key(&k.group_by, i))
                        .or_default()
                        .push(i);
                }
                for (key, mut members) in groups {
                    let ts = |i: usize| self.vs[i].timestamp(rule.timestamp);
                    members.sort_by(|&a, &b| {
                        ts(b).cmp(&ts(a)).then(self.vs[b].id.cmp(&self.vs[a].id))
                    });
                    for (rank, &i) in members.iter().take(k.count).enumerate() {
                        spared[i] = Some(Selected::Newest {
                            rank: rank + 1,
                            count: k.count,
                            group: key.clone(),
                        });
                    }
                }
            }
            for (i, a) in candidates {
                if unsure[i] {
                    push_exact(&mut keeps[i], self.graph_unknown_reason());
                    continue;
                }
                match (spared[i].take(), rule.action) {
                    (Some(how), _) => push_exact(
                        &mut keeps[i],
                        Reason::KeptByRule {
                            rule: rule.name.clone(),
                            how,
                        },
                    ),
                    // A keep rule with keep_newest keeps only the newest N.
                    (None, RuleAction::Keep) if rule.keep_newest.is_some() => {}
                    (None, RuleAction::Keep) => push_exact(
                        &mut keeps[i],
                        Reason::KeptByRule {
                            rule: rule.name.clone(),
                            how: self.how(rule, i, a),
                        },
                    ),
                    (None, RuleAction::Delete) => {
                        push_exact(&mut delete_rules[i], rule.name.clone());
                        push_exact(
                            &mut deletes[i],
                            Reason::DeletedByRule {
                                rule: rule.name.clone(),
                                how: self.how(rule, i, a),
                            },
                        )
                    }
                }
            }
        }

        let initial: Vec<Initial> = (0..n)
            .map(|i| {
                if !keeps[i].is_empty() {
                    Initial::Strong
                } else if !deletes[i].is_empty() {
                    Initial::Delete
                } else {
                    Initial::Weak
                }
            })
            .collect();

        // Fixpoint: closure from what stays, cascade, forced keeps and refusals.
        let mut skip: Vec<Option<Refusal>> = vec![None; n];
        // Boxed: a `Reason` is some 200 bytes and most versions are never forced.
        let mut forced: Vec<Option<Box<Reason>>> = vec![None; n];
        let (stays, protected) = loop {
            let root: Vec<bool> = (0..n)
                .map(|i| {
                    initial[i] == Initial::Strong
                        || self.known_kept[i]
                        || skip[i].is_some()
                        || forced[i].is_some()
                        || (initial[i] == Initial::Weak
                            && (self.inc[i].is_empty() || self.is_image_tagged(i)))
                })
                .collect();
            let (stays, protected) = self.closure(&root);
            let mut changed = false;
            // A package with an unread manifest that stays: keep its untagged versions.
            if let Some(&u) = self.unread.iter().find(|&&u| stays[u]) {
                for i in 0..n {
                    if !stays[i] && !self.vs[i].is_tagged() && forced[i].is_none() {
                        forced[i] = Some(Box::new(if self.graph_read {
                            Reason::GraphUnknown {
                                unread: self.vref(u),
                            }
                        } else {
                            Reason::GraphNotRead
                        }));
                        changed = true;
                    }
                }
            }
            if self.input.options.github_refusals && !changed {
                changed |= self.predict_refusals(&stays, &mut skip);
            }
            if !changed {
                break (stays, protected);
            }
        };

        // Decisions.
        let mut decisions = Vec::with_capacity(n);
        for i in 0..n {
            let v = self.vs[i];
            let overridden = || {
                delete_rules[i]
                    .iter()
                    .map(|r| Reason::OverridesDelete { rule: r.clone() })
            };
            let (action, reasons): (Action, Vec<Reason>) = if self.known_kept[i] {
                // Refused at delete time: the caller keeps the refusal's outcome.
                (Action::Skip, std::mem::take(&mut deletes[i]))
            } else if let Some(refusal) = &skip[i] {
                let mut r = vec![Reason::Refused {
                    refusal: refusal.clone(),
                }];
                r.extend(std::mem::take(&mut deletes[i]));
                (Action::Skip, r)
            } else if let Some(f) = forced[i].take() {
                let mut r = vec![*f];
                r.extend(overridden());
                (Action::Keep, r)
            } else if initial[i] == Initial::Strong {
                let mut r = std::mem::take(&mut keeps[i]);
                r.extend(overridden());
                (Action::Keep, r)
            } else if let Some((parent, rel, root)) = protected[i] {
                let relation = self.out[parent][rel].relation.clone();
                let mut r = vec![Reason::Protected {
                    relation,
                    parent: self.vref(parent),
                    root: self.vref(root),
                }];
                r.extend(overridden());
                (Action::Keep, r)
            } else if stays[i] {
                let mut m = std::mem::take(&mut misses[i]);
                if m.iter().any(|x| !matches!(x.miss, Miss::TagState { .. })) {
                    m.retain(|x| !matches!(x.miss, Miss::TagState { .. }));
                }
                // A delete rule that would have deleted it but for tags it does not
                // select: that is the deciding reason.
                let mut r: Vec<Reason> = Vec::new();
                m.retain(|x| match &x.miss {
                    Miss::TagsPartlySelected { unselected } => {
                        push_exact(
                            &mut r,
                            Reason::PartialTagMatch {
                                rule: x.rule.clone(),
                                unselected: unselected.clone(),
                            },
                        );
                        false
                    }
                    _ => true,
                });
                if r.is_empty() || !m.is_empty() {
                    m.shrink_to_fit();
                    push_exact(&mut r, Reason::NotSelected { misses: m });
                }
                (Action::Keep, r)
            } else if initial[i] == Initial::Delete {
                let mut r = std::mem::take(&mut deletes[i]);
                if let Some(w) = self.deleted_with(i, &stays) {
                    push_exact(&mut r, w);
                }
                (Action::Delete, r)
            } else {
                let w = self
                    .deleted_with(i, &stays)
                    .expect("a cascaded version has a deleted parent");
                (Action::Delete, vec![w])
            };
            decisions.push(Decision {
                id: v.id,
                digest: v.digest.clone(),
                tags: v.tags.clone(),
                created_at: v.created_at,
                updated_at: v.updated_at,
                action,
                reasons,
            });
        }

        let mut findings = self.findings_final();
        let kept_blind = decisions
            .iter()
            .filter(|d| matches!(d.reasons.first(), Some(Reason::GraphNotRead)))
            .count();
        if kept_blind > 0 {
            findings.push(Finding::NotRead { kept: kept_blind });
        }
        findings.sort_by_cached_key(|f| f.to_string());
        let runs = self.delete_runs(&decisions);
        (
            PackagePlan {
                name: self.pkg.name.clone(),
                decisions,
                findings,
            },
            runs,
        )
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
    /// Returns `stays` and, for versions reached but not roots, (parent, edge, root).
    #[allow(clippy::type_complexity)]
    fn closure(&self, root: &[bool]) -> (Vec<bool>, Vec<Option<(usize, usize, usize)>>) {
        let n = self.vs.len();
        let mut stays = root.to_vec();
        let mut protected: Vec<Option<(usize, usize, usize)>> = vec![None; n];
        let mut origin: Vec<usize> = (0..n).collect();
        let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&i| root[i]).collect();
        while let Some(i) = queue.pop_front() {
            for (e, edge) in self.out[i].iter().enumerate() {
                let j = edge.to;
                if !stays[j] {
                    stays[j] = true;
                    protected[j] = Some((i, e, origin[i]));
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
                relation: self.out[p][e].relation.clone(),
                parent: self.vref(p),
            })
    }

    /// Marks deletions GitHub would refuse as skips; true when something changed.
    fn predict_refusals(&self, stays: &[bool], skip: &mut [Option<Refusal>]) -> bool {
        let mut changed = false;
        if self.pkg.visibility == Some(Visibility::Public) {
            for (i, v) in self.vs.iter().enumerate() {
                if let Some(d) = v.downloads.filter(|&d| d > 5000) {
                    if !stays[i] && skip[i].is_none() {
                        skip[i] = Some(Refusal::TooManyDownloads { downloads: d });
                        changed = true;
                    }
                }
            }
        }
        let tagged_staying = (0..self.vs.len()).any(|i| self.vs[i].is_tagged() && stays[i]);
        if !tagged_staying {
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

/// For each version, the tags that no delete rule selects while every other
/// condition of that rule holds (empty when delete rules together select every tag,
/// or when no delete rule applies). A delete rule deletes a tagged version only when
/// this is empty: deleting a version removes all of its tags.
fn uncovered_tags(
    n: usize,
    rules: &[(&crate::policy::Rule, Vec<Result<std::time::Duration, Miss>>)],
) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let mut left: Option<Vec<String>> = None;
            for (rule, checks) in rules {
                if rule.action != RuleAction::Delete {
                    continue;
                }
                let unselected = match &checks[i] {
                    Ok(_) => return Vec::new(),
                    Err(Miss::TagsPartlySelected { unselected }) => unselected,
                    Err(_) => continue,
                };
                left = Some(match left {
                    None => unselected.clone(),
                    Some(l) => l.into_iter().filter(|t| unselected.contains(t)).collect(),
                });
            }
            left.unwrap_or_default()
        })
        .collect()
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
