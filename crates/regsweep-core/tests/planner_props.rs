//! Property tests of the planner over random inventories, manifest graphs and
//! policies: one decision per version, graph safety, independence from listing
//! order and rule order, keep always wins, and a safe delete order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use regsweep_core::graph::{
    parse_artifact_tag, ChildRef, ManifestKind, ManifestNode, Platform, OCI_INDEX, OCI_MANIFEST,
};
use regsweep_core::matcher::{Matcher, PatternList};
use regsweep_core::plan::{Action, Plan};
use regsweep_core::planner::{plan, PlanInput, PlanOptions, PullRequests, RefusalRules};
use regsweep_core::policy::{GroupBy, KeepNewest, Policy, Rule, RuleAction, TagState};
use regsweep_core::reason::Reason;
use regsweep_core::{Digest, Inventory, ManifestGraph, Package, Version, VersionId};

#[path = "support/refusals.rs"]
mod refusals;
use refusals::GITHUB_LIKE;

const PACKAGES: [&str; 3] = ["app", "team/api", "worker"];
const TAGS: [&str; 9] = [
    "latest", "v1.2.3", "v1.3.0", "v2.0.1", "pr-7", "pr-8", "3f9a2c1", "abc1234", "main",
];

fn now() -> Timestamp {
    "2025-06-01T00:00:00Z".parse().expect("a timestamp")
}

fn digest(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).expect("a digest")
}

/// What one generated version is.
#[derive(Clone, Debug)]
struct VSpec {
    tag_mask: u16,
    age_hours: u16,
    /// 0–3 plain image, 4 index, 5 referrer, 6 cosign signature, 7 unread.
    kind: u8,
    target: u8,
    downloads: u16,
}

fn vspec() -> impl Strategy<Value = VSpec> {
    (any::<u16>(), 0u16..3000, 0u8..8, any::<u8>(), any::<u16>()).prop_map(
        |(tag_mask, age_hours, kind, target, downloads)| VSpec {
            tag_mask,
            age_hours,
            kind,
            target,
            downloads,
        },
    )
}

/// Builds an inventory and graph from specs: deterministic, acyclic (an index only
/// contains later untagged plain versions; a referrer's subject and a signature's
/// image are earlier versions).
fn build(specs: &[Vec<VSpec>], public: bool) -> (Inventory, ManifestGraph) {
    let mut inventory = Inventory::default();
    let mut graph = ManifestGraph::default();
    let mut next_id = 1u64;
    for (p, vs) in specs.iter().enumerate() {
        let name = PACKAGES[p];
        let n = vs.len();
        let ids: Vec<u64> = (0..n as u64).map(|k| next_id + k).collect();
        next_id += n as u64;
        let mut used = HashSet::new();
        let mut versions = Vec::new();
        let mut child_of = vec![false; n];
        for (i, s) in vs.iter().enumerate() {
            let mut tags: Vec<String> = Vec::new();
            if s.kind == 6 {
                // An earlier version (artifacts point back, so the graph has no cycle
                // content addressing could not build), or a digest that is not listed.
                let t = s.target as usize % (i + 1);
                let subject = if t < i {
                    digest(ids[t])
                } else {
                    digest(9_000 + ids[i])
                };
                tags.push(format!("sha256-{}.sig", subject.hex()));
            } else if s.kind != 5 {
                for (b, t) in TAGS.iter().enumerate() {
                    if s.tag_mask & (1 << b) != 0 && s.tag_mask & 0x8000 == 0 && used.insert(*t) {
                        tags.push(t.to_string());
                    }
                }
            }
            let ts = now() - SignedDuration::from_hours(i64::from(s.age_hours));
            versions.push(Version {
                id: VersionId(ids[i]),
                digest: digest(ids[i]),
                tags,
                created_at: ts,
                updated_at: ts,
                downloads: public.then_some(u64::from(s.downloads)),
            });
        }
        let pg = graph.package_mut(name);
        for (i, s) in vs.iter().enumerate() {
            if s.kind == 7 {
                continue; // unread manifest
            }
            let mut node = ManifestNode {
                digest: versions[i].digest.clone(),
                media_type: OCI_MANIFEST.to_string(),
                kind: ManifestKind::Manifest,
                children: Vec::new(),
                subject: None,
                artifact_type: None,
                config: None,
                annotations: BTreeMap::new(),
            };
            if s.kind == 4 {
                node.media_type = OCI_INDEX.to_string();
                node.kind = ManifestKind::Index;
                let want = 1 + s.target as usize % 3;
                for j in (i + 1)..n {
                    if node.children.len() == want {
                        break;
                    }
                    if !versions[j].is_tagged() && !child_of[j] && vs[j].kind < 4 {
                        child_of[j] = true;
                        node.children.push(ChildRef {
                            digest: versions[j].digest.clone(),
                            media_type: Some(OCI_MANIFEST.to_string()),
                            platform: Some(Platform {
                                os: "linux".into(),
                                architecture: format!("arch{j}"),
                                variant: None,
                            }),
                            attests: None,
                        });
                    }
                }
                // Sometimes an index lists a manifest that is gone.
                if s.target % 5 == 0 {
                    node.children.push(ChildRef {
                        digest: digest(8_000 + ids[i]),
                        media_type: None,
                        platform: None,
                        attests: None,
                    });
                }
            }
            if s.kind == 5 && i > 0 {
                node.subject = Some(versions[s.target as usize % i].digest.clone());
            }
            pg.insert(node);
        }
        inventory.packages.push(Package {
            name: name.to_string(),
            visibility: Some(if public {
                regsweep_core::Visibility::Public
            } else {
                regsweep_core::Visibility::Private
            }),
            versions,
        });
    }
    (inventory, graph)
}

#[derive(Clone, Debug)]
struct RSpec {
    keep: bool,
    tags: u8,
    state: u8,
    older: Option<u16>,
    newer: Option<u16>,
    keep_newest: Option<(u8, u8)>,
    orphans: bool,
    packages: u8,
}

fn rspec() -> impl Strategy<Value = RSpec> {
    (
        any::<bool>(),
        0u8..6,
        0u8..3,
        proptest::option::of(0u16..2000),
        proptest::option::of(0u16..3000),
        proptest::option::of((1u8..4, 0u8..3)),
        proptest::bool::weighted(0.15),
        0u8..4,
    )
        .prop_map(
            |(keep, tags, state, older, newer, keep_newest, orphans, packages)| RSpec {
                keep,
                tags,
                state,
                older,
                newer,
                keep_newest,
                orphans,
                packages,
            },
        )
}

fn rule(i: usize, s: &RSpec) -> Rule {
    let action = if s.keep {
        RuleAction::Keep
    } else {
        RuleAction::Delete
    };
    let mut r = Rule::new(format!("rule {}", i + 1), action);
    r.tags = PatternList::parse(match s.tags {
        0 => "",
        1 => "latest",
        2 => "re:v\\d+\\.\\d+\\.\\d+",
        3 => "!latest",
        4 => "pr-*",
        _ => "semver:>=1.3",
    })
    .expect("a pattern list");
    r.tag_state = [TagState::Any, TagState::Tagged, TagState::Untagged][s.state as usize];
    r.older_than = s.older.map(|h| Duration::from_secs(u64::from(h) * 3600));
    r.newer_than = s.newer.map(|h| Duration::from_secs(u64::from(h) * 3600));
    r.orphans_only = s.orphans;
    r.packages = PatternList::parse(match s.packages {
        0 => "",
        1 => "app",
        2 => "team/*",
        _ => "!worker",
    })
    .expect("a pattern list");
    r.keep_newest = s.keep_newest.map(|(count, per)| KeepNewest {
        count: count as usize,
        group_by: match per {
            0 => GroupBy::Package,
            1 => GroupBy::SemverMinor,
            _ => GroupBy::TagCapture(Matcher::parse(r"re:pr-(\d+)").expect("a regex")),
        },
    });
    r
}

fn run(inv: &Inventory, graph: &ManifestGraph, policy: &Policy, github: bool) -> Plan {
    plan(PlanInput {
        inventory: inv,
        graph,
        policy,
        now: now(),
        options: PlanOptions {
            refusals: if github {
                GITHUB_LIKE
            } else {
                RefusalRules::default()
            },
        },
        pulls: &PullRequests::new(),
    })
}

/// (package, version id) → action.
fn actions(p: &Plan) -> BTreeMap<(String, u64), Action> {
    p.packages
        .iter()
        .flat_map(|pp| {
            pp.decisions
                .iter()
                .map(move |d| ((pp.name.clone(), d.id.0), d.action))
        })
        .collect()
}

/// Protection edges (from → to: if `from` stays, `to` must stay) and containment
/// edges (index → child), by package and version id.
struct Edges {
    protect: Vec<(String, u64, u64)>,
    contains: Vec<(String, u64, u64)>,
}

fn edges(inv: &Inventory, graph: &ManifestGraph) -> Edges {
    let mut e = Edges {
        protect: Vec::new(),
        contains: Vec::new(),
    };
    for p in &inv.packages {
        let by_digest: HashMap<&Digest, u64> =
            p.versions.iter().map(|v| (&v.digest, v.id.0)).collect();
        let pg = graph.package(&p.name);
        for v in &p.versions {
            if let Some(node) = pg.and_then(|g| g.get(&v.digest)) {
                for c in &node.children {
                    if let Some(&to) = by_digest.get(&c.digest) {
                        e.protect.push((p.name.clone(), v.id.0, to));
                        e.contains.push((p.name.clone(), v.id.0, to));
                    }
                }
                if let Some(&from) = node.subject.as_ref().and_then(|s| by_digest.get(s)) {
                    e.protect.push((p.name.clone(), from, v.id.0));
                }
            }
            for t in &v.tags {
                if let Some(&from) = parse_artifact_tag(t)
                    .and_then(|(s, _)| by_digest.get(&s).copied())
                    .as_ref()
                {
                    e.protect.push((p.name.clone(), from, v.id.0));
                }
            }
        }
    }
    e.protect.retain(|(_, a, b)| a != b);
    e
}

fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (seed >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

fn world() -> impl Strategy<Value = (Vec<Vec<VSpec>>, Vec<RSpec>, bool, bool, u64)> {
    (
        proptest::collection::vec(proptest::collection::vec(vspec(), 1..14), 1..=3),
        proptest::collection::vec(rspec(), 1..=4),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn plans_are_complete_safe_and_order_independent(
        (specs, rules, public, github, seed) in world()
    ) {
        let (inv, graph) = build(&specs, public);
        let policy = Policy { rules: rules.iter().enumerate().map(|(i, r)| rule(i, r)).collect(), ..Policy::default() };
        let p = run(&inv, &graph, &policy, github);

        // (a) every version gets exactly one decision.
        prop_assert_eq!(p.packages.len(), inv.packages.len());
        for pkg in &inv.packages {
            let pp = p.packages.iter().find(|pp| pp.name == pkg.name).expect("package planned");
            let mut got: Vec<u64> = pp.decisions.iter().map(|d| d.id.0).collect();
            let mut want: Vec<u64> = pkg.versions.iter().map(|v| v.id.0).collect();
            got.sort_unstable();
            want.sort_unstable();
            prop_assert_eq!(got, want);
            for d in &pp.decisions {
                prop_assert!(!d.reasons.is_empty(), "decision without a reason: {:?}", d);
            }
        }
        if !github {
            prop_assert_eq!(p.count(Action::Skip), 0);
        }

        // (b) nothing reachable from a kept or skipped version is deleted.
        let acts = actions(&p);
        let e = edges(&inv, &graph);
        for (pkg, from, to) in &e.protect {
            let a = acts[&(pkg.clone(), *from)];
            let b = acts[&(pkg.clone(), *to)];
            prop_assert!(
                a == Action::Delete || b != Action::Delete,
                "{pkg}: {from} stays ({a}) but {to}, which it needs, is deleted"
            );
        }
        // (f) no kept index loses a child (no ghost or partial image made by the plan).
        for (pkg, index, child) in &e.contains {
            if acts[&(pkg.clone(), *index)] != Action::Delete {
                prop_assert_ne!(acts[&(pkg.clone(), *child)], Action::Delete);
            }
        }

        // (e) the delete order: every Delete once; parents before children, artifacts
        // before their subject.
        let order: Vec<(String, u64)> = p
            .order
            .iter()
            .map(|r| (p.packages[r.package].name.clone(), p.decision(*r).id.0))
            .collect();
        let unique: HashSet<&(String, u64)> = order.iter().collect();
        prop_assert_eq!(unique.len(), order.len());
        let deleted: HashSet<(String, u64)> = acts
            .iter()
            .filter(|(_, a)| **a == Action::Delete)
            .map(|(k, _)| k.clone())
            .collect();
        prop_assert_eq!(unique.len(), deleted.len());
        for k in &order {
            prop_assert!(deleted.contains(k));
        }
        let pos: HashMap<&(String, u64), usize> = order.iter().enumerate().map(|(i, k)| (k, i)).collect();
        for (pkg, index, child) in &e.contains {
            if let (Some(pi), Some(ci)) = (pos.get(&(pkg.clone(), *index)), pos.get(&(pkg.clone(), *child))) {
                prop_assert!(pi < ci, "{pkg}: child {child} deleted before its index {index}");
            }
        }
        let contains: HashSet<&(String, u64, u64)> = e.contains.iter().collect();
        for edge @ (pkg, subject, artifact) in &e.protect {
            if contains.contains(edge) {
                continue;
            }
            if let (Some(si), Some(ai)) = (pos.get(&(pkg.clone(), *subject)), pos.get(&(pkg.clone(), *artifact))) {
                prop_assert!(ai < si, "{pkg}: subject {subject} deleted before {artifact}, which is about it");
            }
        }

        // (c) listing order of versions and packages does not matter.
        let mut shuffled = inv.clone();
        shuffle(&mut shuffled.packages, seed);
        for (k, pkg) in shuffled.packages.iter_mut().enumerate() {
            shuffle(&mut pkg.versions, seed.wrapping_add(k as u64 + 1));
        }
        let q = run(&shuffled, &graph, &policy, github);
        prop_assert_eq!(&p, &q);

        // (d) rule order never changes actions.
        let mut reordered = policy.clone();
        shuffle(&mut reordered.rules, seed ^ 0x5eed);
        prop_assert_eq!(&acts, &actions(&run(&inv, &graph, &reordered, github)));
        reordered.rules.reverse();
        prop_assert_eq!(&acts, &actions(&run(&inv, &graph, &reordered, github)));
    }

    #[test]
    fn a_keep_rule_always_wins(
        (specs, rules, public, github, seed) in world()
    ) {
        let (inv, graph) = build(&specs, public);
        let mut policy = Policy { rules: rules.iter().enumerate().map(|(i, r)| rule(i, r)).collect(), ..Policy::default() };
        let before_plan = run(&inv, &graph, &policy, github);
        let before = actions(&before_plan);
        // Versions kept only because a version GitHub would refuse to delete needs
        // them (or is an unread manifest whose children are unknown): when pinning
        // makes that refusal go, they go with their image.
        let skipped = &before;
        let under_refusal: HashSet<(String, u64)> = before_plan
            .packages
            .iter()
            .flat_map(|pp| {
                pp.decisions.iter().filter_map(move |d| match d.reasons.first() {
                    Some(Reason::Protected { root, .. })
                        if skipped.get(&(pp.name.clone(), root.id.0)) == Some(&Action::Skip) =>
                    {
                        Some((pp.name.clone(), d.id.0))
                    }
                    // Kept because an unread manifest stays, and it stays only as a
                    // predicted refusal: when the refusal goes, so may they.
                    Some(Reason::GraphUnknown { unread })
                        if skipped.get(&(pp.name.clone(), unread.id.0)) == Some(&Action::Skip) =>
                    {
                        Some((pp.name.clone(), d.id.0))
                    }
                    _ => None,
                })
            })
            .collect();
        // Pin one version (chosen by the seed) with a keep rule by digest, at the front
        // or the back of the policy.
        let all: Vec<(&str, &Version)> = inv
            .packages
            .iter()
            .flat_map(|p| p.versions.iter().map(move |v| (p.name.as_str(), v)))
            .collect();
        let (pkg, v) = all[(seed % all.len() as u64) as usize];
        let mut pin = Rule::new("pin", RuleAction::Keep);
        pin.digests = vec![v.digest.clone()];
        if seed % 2 == 0 {
            policy.rules.push(pin);
        } else {
            policy.rules.insert(0, pin);
        }
        let after = actions(&run(&inv, &graph, &policy, github));
        prop_assert_eq!(after[&(pkg.to_string(), v.id.0)], Action::Keep);
        // A keep rule only ever adds keeps: nothing kept before is deleted now. (A
        // predicted refusal may go: pinning another tagged version means the last
        // tagged one is no longer the last, and what only it protected may go too.)
        for (k, a) in &before {
            if *a == Action::Keep && !under_refusal.contains(k) {
                prop_assert_ne!(after[k], Action::Delete, "{:?} was {} and is deleted after pinning", k, a);
            }
        }
    }
}

/// One image of [`images_world`]: tagged or not, its age, and how many platform
/// manifests it has in each of two variants of the same package (0: a plain
/// manifest in both; otherwise an index with `a` or `b` children, at least one).
#[derive(Clone, Debug)]
struct ImageSpec {
    tagged: bool,
    age_hours: u16,
    index: bool,
    a: u8,
    b: u8,
    /// Children's age offset: platform manifests may be newer than their index.
    child_age: u16,
}

fn image_spec() -> impl Strategy<Value = ImageSpec> {
    (
        any::<bool>(),
        0u16..2000,
        any::<bool>(),
        1u8..4,
        1u8..4,
        0u16..2000,
    )
        .prop_map(|(tagged, age_hours, index, a, b, child_age)| ImageSpec {
            tagged,
            age_hours,
            index,
            a,
            b,
            child_age,
        })
}

/// The package `app` holding `images`, each index with `children(spec)` platform
/// manifests. Roots get ids 1..; children ids from 1000 up, so roots keep their ids
/// whatever the children.
fn images_package(
    images: &[ImageSpec],
    children: impl Fn(&ImageSpec) -> u8,
) -> (Inventory, ManifestGraph) {
    let mut versions = Vec::new();
    let mut graph = ManifestGraph::default();
    let pg = graph.package_mut("app");
    let mut next_child = 1000u64;
    let node = |d: &Digest| ManifestNode {
        digest: d.clone(),
        media_type: OCI_MANIFEST.to_string(),
        kind: ManifestKind::Manifest,
        children: Vec::new(),
        subject: None,
        artifact_type: None,
        config: None,
        annotations: BTreeMap::new(),
    };
    let version = |id: u64, tags: Vec<String>, age: u16| {
        let ts = now() - SignedDuration::from_hours(i64::from(age));
        Version {
            id: VersionId(id),
            digest: digest(id),
            tags,
            created_at: ts,
            updated_at: ts,
            downloads: None,
        }
    };
    for (k, s) in images.iter().enumerate() {
        let id = k as u64 + 1;
        let tags = if s.tagged {
            vec![format!("v{id}")]
        } else {
            Vec::new()
        };
        versions.push(version(id, tags, s.age_hours));
        let mut root = node(&digest(id));
        if s.index {
            root.media_type = OCI_INDEX.to_string();
            root.kind = ManifestKind::Index;
            for c in 0..children(s) {
                let cid = next_child;
                next_child += 1;
                versions.push(version(cid, Vec::new(), s.child_age));
                pg.insert(node(&digest(cid)));
                root.children.push(ChildRef {
                    digest: digest(cid),
                    media_type: Some(OCI_MANIFEST.to_string()),
                    platform: Some(Platform {
                        os: "linux".into(),
                        architecture: format!("arch{c}"),
                        variant: None,
                    }),
                    attests: None,
                });
            }
        }
        pg.insert(root);
    }
    let inventory = Inventory {
        packages: vec![Package {
            name: "app".into(),
            visibility: None,
            versions,
        }],
    };
    (inventory, graph)
}

/// The decision of every image root (ids below 1000).
fn root_actions(p: &Plan) -> BTreeMap<u64, Action> {
    p.packages[0]
        .decisions
        .iter()
        .filter(|d| d.id.0 < 1000)
        .map(|d| (d.id.0, d.action))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `keep_newest` counts images, not versions: adding or removing platform
    /// manifests of an index never changes which images are kept, for a rule on
    /// untagged versions and for one on every version.
    #[test]
    fn keep_newest_is_blind_to_children(
        images in proptest::collection::vec(image_spec(), 1..12),
        count in 1usize..4,
        state in prop_oneof![Just(TagState::Untagged), Just(TagState::Any)],
    ) {
        let mut r = Rule::new("keep-n", RuleAction::Delete);
        r.tag_state = state;
        r.keep_newest = Some(KeepNewest { count, group_by: GroupBy::Package });
        let policy = Policy { rules: vec![r], ..Policy::default() };
        let (inv_a, graph_a) = images_package(&images, |s| s.a);
        let (inv_b, graph_b) = images_package(&images, |s| s.b);
        let (inv_0, graph_0) = images_package(&images, |_| 0);
        let a = root_actions(&run(&inv_a, &graph_a, &policy, false));
        let b = root_actions(&run(&inv_b, &graph_b, &policy, false));
        let none = root_actions(&run(&inv_0, &graph_0, &policy, false));
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &none);
        // Exactly min(count, candidates) images are spared.
        let candidates = images
            .iter()
            .filter(|s| state == TagState::Any || !s.tagged)
            .count();
        let kept = a
            .iter()
            .filter(|(id, act)| {
                let s = &images[**id as usize - 1];
                **act == Action::Keep && (state == TagState::Any || !s.tagged)
            })
            .count();
        prop_assert_eq!(kept, candidates.min(count));
    }
}
