//! Property tests of untag rules (docs/policy.md, "Untagging"), over random
//! inventories (multi-tag versions, indexes and their platform manifests, cosign
//! and referrers-fallback tags, referrers, unread manifests) and random policies
//! mixing keep, delete and untag rules:
//! - untags are well formed: only versions that stay lose tags, only tags they
//!   carry, never all of them when a rule keeps the version;
//! - keep beats untag tag by tag: a tag a keep rule's `tags` selects stays;
//! - cosign and referrers tags (`sha256-<hex>.sig|.att|.sbom`, `sha256-<hex>`) are
//!   never removed;
//! - untag rules never change what is deleted (nor the delete order): a version
//!   untagged this run is not deleted in the same run;
//! - with GitHub's refusals, a package that has a tagged version keeps one;
//! - the plan does not depend on listing order, nor its actions on rule order;
//! - the re-plan after refusals met at delete time (`planner::revisit`) adds no
//!   untag, keeps every remaining untag an untag, and leaves a tagged package a tag
//!   (a missed cleanup at most, documented in docs/policy.md, never a lost tag).
//!
//! Cases: `PROPTEST_CASES` (default 256), as for the other properties.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use regsweep_core::graph::{
    ChildRef, ManifestKind, ManifestNode, Platform, OCI_INDEX, OCI_MANIFEST,
};
use regsweep_core::matcher::PatternList;
use regsweep_core::plan::{Action, Plan};
use regsweep_core::planner::{plan, revisit, PlanInput, PlanOptions, PullRequests, RefusalRules};
use regsweep_core::policy::{GroupBy, KeepNewest, Policy, Rule, RuleAction, TagState};
use regsweep_core::{Digest, Inventory, ManifestGraph, Package, Version, VersionId};

#[path = "support/refusals.rs"]
mod refusals;
use refusals::GITHUB_LIKE;

const PACKAGES: [&str; 2] = ["app", "worker"];
const TAGS: [&str; 8] = [
    "latest", "v1.2.3", "v1.3.0", "pr-7", "pr-8", "main", "sha-abc", "dev",
];

fn now() -> Timestamp {
    "2025-06-01T00:00:00Z".parse().expect("a timestamp")
}

fn digest(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).expect("a digest")
}

/// One generated version.
#[derive(Clone, Debug)]
struct VSpec {
    /// 0–2 image, 3 index (of later untagged images), 4 cosign artifact of an
    /// earlier version (with a plain tag too when `tag_mask` bit 14 is set), 5
    /// referrers-fallback tag, 6 referrer (subject), 7 unread.
    kind: u8,
    /// Which of [`TAGS`] it carries; bit 15: none.
    tag_mask: u16,
    age_hours: u16,
    target: u8,
}

fn vspec() -> impl Strategy<Value = VSpec> {
    (0u8..8, any::<u16>(), 0u16..3000, any::<u8>()).prop_map(
        |(kind, tag_mask, age_hours, target)| VSpec {
            kind,
            tag_mask,
            age_hours,
            target,
        },
    )
}

fn build(specs: &[Vec<VSpec>]) -> (Inventory, ManifestGraph) {
    let mut inventory = Inventory::default();
    let mut graph = ManifestGraph::default();
    let mut next = 1u64;
    for (p, vs) in specs.iter().enumerate() {
        let n = vs.len();
        let ids: Vec<u64> = (0..n as u64).map(|k| next + k).collect();
        next += n as u64;
        let mut used = HashSet::new();
        let mut plain = |mask: u16, tags: &mut Vec<String>| {
            for (b, t) in TAGS.iter().enumerate() {
                if mask & (1 << b) != 0 && mask & 0x8000 == 0 && used.insert(*t) {
                    tags.push(t.to_string());
                }
            }
        };
        let mut versions = Vec::new();
        for (i, s) in vs.iter().enumerate() {
            let mut tags = Vec::new();
            // An earlier version, or a digest that is not listed.
            let subject = || {
                let t = s.target as usize % (i + 1);
                if t < i {
                    digest(ids[t])
                } else {
                    digest(9_000 + ids[i])
                }
            };
            match s.kind {
                4 => {
                    let kind = ["sig", "att", "sbom"][s.target as usize % 3];
                    tags.push(format!("sha256-{}.{kind}", subject().hex()));
                    if s.tag_mask & 0x4000 != 0 {
                        plain(s.tag_mask, &mut tags);
                    }
                }
                5 => tags.push(format!("sha256-{}", subject().hex())),
                6 => {}
                _ => plain(s.tag_mask, &mut tags),
            }
            let ts = now() - SignedDuration::from_hours(i64::from(s.age_hours));
            versions.push(Version {
                id: VersionId(ids[i]),
                digest: digest(ids[i]),
                tags,
                created_at: ts,
                updated_at: ts,
                downloads: None,
            });
        }
        let pg = graph.package_mut(PACKAGES[p]);
        let mut child_of = vec![false; n];
        for (i, s) in vs.iter().enumerate() {
            if s.kind == 7 {
                continue;
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
            if s.kind == 3 {
                node.media_type = OCI_INDEX.to_string();
                node.kind = ManifestKind::Index;
                let want = 1 + s.target as usize % 3;
                for j in (i + 1)..n {
                    if node.children.len() == want {
                        break;
                    }
                    if !versions[j].is_tagged() && !child_of[j] && vs[j].kind < 3 {
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
            }
            if s.kind == 6 && i > 0 {
                node.subject = Some(versions[s.target as usize % i].digest.clone());
            }
            pg.insert(node);
        }
        inventory.packages.push(Package {
            name: PACKAGES[p].to_string(),
            visibility: Some(regsweep_core::Visibility::Private),
            versions,
        });
    }
    (inventory, graph)
}

/// Tag patterns of keep and delete rules (index 0: no `tags`).
const SELECT: [&str; 7] = [
    "",
    "latest",
    "v*",
    "re:v\\d+\\.\\d+\\.\\d+",
    "!latest",
    "pr-*",
    "main, dev",
];
/// Tag patterns of untag rules: every one names tags, some tempt with cosign tags.
const UNTAG: [&str; 7] = ["pr-*", "*", "sha256-*", "v*", "*, !latest", "re:.*", "main"];

#[derive(Clone, Debug)]
struct RSpec {
    /// 0 keep, 1 delete, 2–3 untag.
    action: u8,
    tags: u8,
    older: Option<u16>,
    keep_newest: Option<u8>,
    packages: u8,
}

fn rspec() -> impl Strategy<Value = RSpec> {
    (
        0u8..4,
        0u8..7,
        proptest::option::weighted(0.3, 0u16..2000),
        proptest::option::weighted(0.2, 1u8..3),
        0u8..3,
    )
        .prop_map(|(action, tags, older, keep_newest, packages)| RSpec {
            action,
            tags,
            older,
            keep_newest,
            packages,
        })
}

fn rule(i: usize, s: &RSpec) -> Rule {
    let (action, tags) = match s.action {
        0 => (RuleAction::Keep, SELECT[s.tags as usize]),
        1 => (RuleAction::Delete, SELECT[s.tags as usize]),
        _ => (RuleAction::Untag, UNTAG[s.tags as usize]),
    };
    let mut r = Rule::new(format!("rule {}", i + 1), action);
    r.tags = PatternList::parse(tags).expect("a pattern list");
    // As the policy file defaults it: `tagged` when `tags` is given.
    r.tag_state = if tags.is_empty() {
        TagState::Any
    } else {
        TagState::Tagged
    };
    r.older_than = s.older.map(|h| Duration::from_secs(u64::from(h) * 3600));
    r.keep_newest = s.keep_newest.map(|count| KeepNewest {
        count: count as usize,
        group_by: GroupBy::Package,
    });
    r.packages = PatternList::parse(["", "app", "!app"][s.packages as usize]).expect("a list");
    r
}

/// A keep rule that selects every version one of its tags matches, with nothing
/// else to it: the tags it matches must stay wherever it applies.
fn plain_keep(s: &RSpec) -> Option<(&'static str, &'static str)> {
    let tags = SELECT[s.tags as usize];
    (s.action == 0
        && !tags.is_empty()
        && !tags.contains('!')
        && s.older.is_none()
        && s.keep_newest.is_none())
    .then(|| (tags, ["", "app", "!app"][s.packages as usize]))
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

type Key = (String, u64);

/// (package, id) → (action, tags removed, sorted).
fn outcome(p: &Plan) -> BTreeMap<Key, (Action, Vec<String>)> {
    p.packages
        .iter()
        .flat_map(|pp| {
            pp.decisions.iter().map(move |d| {
                let mut u = d.untag.clone();
                u.sort();
                ((pp.name.clone(), d.id.0), (d.action, u))
            })
        })
        .collect()
}

fn deletions(p: &Plan) -> Vec<Key> {
    p.order
        .iter()
        .map(|r| (p.packages[r.package].name.clone(), p.decision(*r).id.0))
        .collect()
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

fn world() -> impl Strategy<Value = (Vec<Vec<VSpec>>, Vec<RSpec>, bool, u64)> {
    (
        proptest::collection::vec(proptest::collection::vec(vspec(), 1..14), 1..=2),
        proptest::collection::vec(rspec(), 1..=5),
        any::<bool>(),
        any::<u64>(),
    )
}

proptest! {
    // Cases from PROPTEST_CASES (256 by default).
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn untags_are_safe_and_never_change_deletions((specs, rules, github, seed) in world()) {
        let (inv, graph) = build(&specs);
        let policy = Policy {
            rules: rules.iter().enumerate().map(|(i, r)| rule(i, r)).collect(),
            ..Policy::default()
        };
        let p = run(&inv, &graph, &policy, github);

        // Well formed: only versions that stay lose tags, tags they carry, each once;
        // the plan's untag list names exactly the untag decisions.
        let mut untag_refs = 0;
        for pp in &p.packages {
            for d in &pp.decisions {
                let listed: HashSet<&String> = d.tags.iter().collect();
                let removed: HashSet<&String> = d.untag.iter().collect();
                prop_assert_eq!(removed.len(), d.untag.len(), "a tag removed twice: {:?}", d);
                prop_assert!(removed.is_subset(&listed), "removes a tag it lacks: {:?}", d);
                if d.action == Action::Untag {
                    untag_refs += 1;
                    prop_assert!(!d.untag.is_empty(), "{:?}", d);
                } else {
                    prop_assert!(d.untag.is_empty(), "{} with tags removed: {:?}", d.action, d);
                }
                // Cosign and referrers tags are never removed (every generated tag
                // starting `sha256-` is one; the plain tags never do).
                for t in &d.untag {
                    prop_assert!(!t.starts_with("sha256-"), "{}: artifact tag {} removed", pp.name, t);
                }
            }
        }
        prop_assert_eq!(p.untags.len(), untag_refs);
        for r in &p.untags {
            prop_assert_eq!(p.decision(*r).action, Action::Untag);
        }

        // Keep beats untag, tag by tag.
        for pp in &p.packages {
            for s in rules.iter().filter_map(plain_keep) {
                let (tags, packages) = s;
                let tags = PatternList::parse(tags).unwrap();
                let packages = PatternList::parse(packages).unwrap();
                if !packages.is_empty() && !packages.matches(&pp.name) {
                    continue;
                }
                for d in &pp.decisions {
                    for t in &d.untag {
                        prop_assert!(!tags.matches(t), "{}: {} removed though a keep rule selects it: {:?}", pp.name, t, d);
                    }
                }
            }
        }

        // Untag rules change nothing else: without them the same versions are deleted,
        // in the same order, and every version untagged (or skipped to keep the
        // package's last tag) would simply stay.
        let without = Policy {
            rules: policy.rules.iter().filter(|r| r.action != RuleAction::Untag).cloned().collect(),
            ..Policy::default()
        };
        let q = run(&inv, &graph, &without, github);
        prop_assert_eq!(deletions(&p), deletions(&q));
        let (a, b) = (outcome(&p), outcome(&q));
        for (k, (act, _)) in &a {
            let before = b[k].0;
            if *act != before {
                prop_assert_eq!(before, Action::Keep, "{:?}: {} without untag rules", k, before);
                prop_assert!(matches!(act, Action::Untag | Action::Skip), "{:?}: {}", k, act);
            }
        }

        // On GitHub a package with a tagged version keeps one (the placeholder that
        // took the last tag could not be deleted).
        if github {
            for (pkg, pp) in inv.packages.iter().zip(&p.packages) {
                prop_assert_eq!(&pkg.name, &pp.name);
                if pkg.versions.iter().any(|v| v.is_tagged()) {
                    let keeps = pp.decisions.iter().any(|d| match d.action {
                        Action::Delete => false,
                        _ => d.untag.len() < d.tags.len(),
                    });
                    prop_assert!(keeps, "{}: no tag left: {:?}", pp.name, pp.decisions);
                }
            }
        }

        // Listing order does not matter; rule order does not change what is done.
        let mut shuffled = inv.clone();
        shuffle(&mut shuffled.packages, seed);
        for (k, pkg) in shuffled.packages.iter_mut().enumerate() {
            shuffle(&mut pkg.versions, seed.wrapping_add(k as u64 + 1));
        }
        prop_assert_eq!(&p, &run(&shuffled, &graph, &policy, github));
        let mut reordered = policy.clone();
        shuffle(&mut reordered.rules, seed ^ 0x5eed);
        prop_assert_eq!(&a, &outcome(&run(&inv, &graph, &reordered, github)));
    }

    /// A version a rule keeps never loses its last tag: pinning a tagged version by
    /// digest (front or back of the policy) leaves it a tag, whatever untag rules say.
    #[test]
    fn a_kept_version_never_loses_its_last_tag((specs, rules, github, seed) in world()) {
        let (inv, graph) = build(&specs);
        let mut policy = Policy {
            rules: rules.iter().enumerate().map(|(i, r)| rule(i, r)).collect(),
            ..Policy::default()
        };
        let tagged: Vec<(&str, &Version)> = inv
            .packages
            .iter()
            .flat_map(|p| p.versions.iter().filter(|v| v.is_tagged()).map(move |v| (p.name.as_str(), v)))
            .collect();
        prop_assume!(!tagged.is_empty());
        let (pkg, v) = tagged[(seed % tagged.len() as u64) as usize];
        let mut pin = Rule::new("pin", RuleAction::Keep);
        pin.digests = vec![v.digest.clone()];
        if seed % 2 == 0 {
            policy.rules.push(pin);
        } else {
            policy.rules.insert(0, pin);
        }
        let p = run(&inv, &graph, &policy, github);
        let pp = p.packages.iter().find(|pp| pp.name == pkg).expect("planned");
        let d = pp.decisions.iter().find(|d| d.id == v.id).expect("decided");
        prop_assert!(matches!(d.action, Action::Keep | Action::Untag), "{:?}", d);
        prop_assert!(d.untag.len() < d.tags.len(), "the pinned version lost every tag: {:?}", d);
        // And so for every version kept by a keep rule with tags (it keeps those).
        let kept_by: BTreeSet<u64> = pp
            .decisions
            .iter()
            .filter(|d| d.reasons.iter().any(|r| matches!(r, regsweep_core::reason::Reason::KeptByRule { .. })))
            .map(|d| d.id.0)
            .collect();
        for d in pp.decisions.iter().filter(|d| kept_by.contains(&d.id.0)) {
            prop_assert!(d.tags.is_empty() || d.untag.len() < d.tags.len(), "kept by a rule, lost every tag: {:?}", d);
        }
    }

    /// After GitHub refuses some deletions at delete time (the refused versions stay
    /// with all their tags), the revisited plan deletes more but untags nothing new,
    /// and every package that had a tagged version still keeps one.
    #[test]
    fn revisit_after_refusals_adds_no_untag_and_keeps_a_tag((specs, rules, _github, seed) in world()) {
        let (inv, graph) = build(&specs);
        let policy = Policy {
            rules: rules.iter().enumerate().map(|(i, r)| rule(i, r)).collect(),
            ..Policy::default()
        };
        let pulls = PullRequests::new();
        let input = || PlanInput {
            inventory: &inv,
            graph: &graph,
            policy: &policy,
            now: now(),
            options: PlanOptions { refusals: GITHUB_LIKE },
            pulls: &pulls,
        };
        let before = plan(input());
        if before.order.is_empty() {
            return Ok(());
        }
        // Refused: the deletions the seed's bits name (at least one).
        let refused: Vec<_> = before
            .order
            .iter()
            .enumerate()
            .filter(|(k, _)| seed >> (k % 64) & 1 == 1 || *k == (seed % before.order.len() as u64) as usize)
            .map(|(_, r)| *r)
            .collect();
        let mut after = before.clone();
        revisit(input(), &mut after, &refused);
        let untags = |p: &Plan| -> BTreeSet<(usize, usize)> {
            p.untags.iter().map(|r| (r.package, r.decision)).collect()
        };
        prop_assert!(untags(&after).is_subset(&untags(&before)), "revisit added untags");
        for r in &after.untags {
            prop_assert_eq!(after.decision(*r).action, Action::Untag);
        }
        let refused: HashSet<(usize, usize)> = refused.iter().map(|r| (r.package, r.decision)).collect();
        for (pi, (pkg, pp)) in inv.packages.iter().zip(&after.packages).enumerate() {
            if !pkg.versions.iter().any(|v| v.is_tagged()) {
                continue;
            }
            let keeps = pp.decisions.iter().enumerate().any(|(di, d)| {
                if refused.contains(&(pi, di)) {
                    return !d.tags.is_empty();
                }
                match d.action {
                    Action::Delete => false,
                    _ => d.untag.len() < d.tags.len(),
                }
            });
            prop_assert!(keeps, "{}: no tag left after the revisit: {:?}", pp.name, pp.decisions);
        }
    }
}
