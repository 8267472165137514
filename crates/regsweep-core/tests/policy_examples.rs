//! The policy files shipped in `examples/`, run through the planner against realistic
//! inventories and manifest graphs, with every decision checked version by version:
//! its action and the reason that decided it (`reasons[0]`).

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use regsweep_core::graph::{
    ChildRef, ManifestKind, ManifestNode, Platform, OCI_INDEX, OCI_MANIFEST,
};
use regsweep_core::plan::{Action, Decision, Plan};
use regsweep_core::planner::{plan, PlanInput, PlanOptions, PullInfo, PullRequests};
use regsweep_core::policy::{file, Policy};
use regsweep_core::reason::{Miss, Reason, Relation, Selected};
use regsweep_core::{Digest, Inventory, ManifestGraph, Package, Version, VersionId};

#[path = "support/refusals.rs"]
mod refusals;
use refusals::GITHUB_LIKE;

fn now() -> Timestamp {
    "2025-06-01T00:00:00Z".parse().expect("a timestamp")
}

fn hours_ago(h: i64) -> Timestamp {
    now() - SignedDuration::from_hours(h)
}

fn digest(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).expect("a digest")
}

fn load(name: &str) -> Policy {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let policy = file::parse_named(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    let rendered = file::render(&policy);
    assert_eq!(
        file::parse(&rendered).unwrap_or_else(|e| panic!("{e}\n{rendered}")),
        policy,
        "render(parse({name})) reads back the same policy:\n{rendered}"
    );
    policy
}

/// A package under construction: versions and their manifest nodes.
struct Bed {
    name: String,
    versions: Vec<Version>,
    graph: ManifestGraph,
}

impl Bed {
    fn new(name: &str) -> Bed {
        Bed {
            name: name.to_string(),
            versions: Vec::new(),
            graph: ManifestGraph::default(),
        }
    }

    fn version(&mut self, id: u64, tags: &[&str], age_hours: i64) -> Digest {
        let d = digest(id);
        self.versions.push(Version {
            id: VersionId(id),
            digest: d.clone(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: hours_ago(age_hours),
            updated_at: hours_ago(age_hours),
            downloads: None,
        });
        d
    }

    fn node(&mut self, d: &Digest) -> &mut ManifestNode {
        let name = self.name.clone();
        self.graph
            .package_mut(&name)
            .nodes
            .entry(d.clone())
            .or_insert_with(|| ManifestNode {
                digest: d.clone(),
                media_type: OCI_MANIFEST.to_string(),
                kind: ManifestKind::Manifest,
                children: Vec::new(),
                subject: None,
                artifact_type: None,
                config: None,
                annotations: BTreeMap::new(),
            })
    }

    /// A single-platform image.
    fn image(&mut self, id: u64, tags: &[&str], age_hours: i64, labels: &[(&str, &str)]) -> Digest {
        let d = self.version(id, tags, age_hours);
        let node = self.node(&d);
        for (k, v) in labels {
            node.annotations.insert(k.to_string(), v.to_string());
        }
        d
    }

    /// A multi-arch index (id) over untagged platform manifests (ids id+1, id+2), with
    /// a buildx attestation (id+3) when `attestation` is set.
    fn index(&mut self, id: u64, tags: &[&str], age_hours: i64, attestation: bool) -> Digest {
        let d = self.version(id, tags, age_hours);
        let mut children = Vec::new();
        for (k, arch) in [(1, "amd64"), (2, "arm64")] {
            let c = self.image(id + k, &[], age_hours, &[]);
            children.push(ChildRef {
                digest: c,
                media_type: Some(OCI_MANIFEST.to_string()),
                platform: Some(Platform {
                    os: "linux".into(),
                    architecture: arch.into(),
                    variant: None,
                }),
                attests: None,
            });
        }
        if attestation {
            let a = self.image(id + 3, &[], age_hours, &[]);
            children.push(ChildRef {
                digest: a,
                media_type: Some(OCI_MANIFEST.to_string()),
                platform: Some(Platform {
                    os: "unknown".into(),
                    architecture: "unknown".into(),
                    variant: None,
                }),
                attests: Some(digest(id + 1)),
            });
        }
        let node = self.node(&d);
        node.media_type = OCI_INDEX.to_string();
        node.kind = ManifestKind::Index;
        node.children = children;
        d
    }

    /// A cosign artifact tagged `sha256-<hex>.<suffix>` about `subject`.
    fn cosign(&mut self, id: u64, subject: &Digest, suffix: &str, age_hours: i64) -> Digest {
        let tag = format!("sha256-{}.{suffix}", subject.hex());
        self.image(id, &[&tag], age_hours, &[])
    }

    fn run(self, policy: &Policy, pulls: &PullRequests) -> Plan {
        let inventory = Inventory {
            packages: vec![Package {
                name: self.name.clone(),
                visibility: None,
                versions: self.versions,
            }],
        };
        let p = plan(PlanInput {
            inventory: &inventory,
            graph: &self.graph,
            policy,
            now: now(),
            options: PlanOptions {
                refusals: GITHUB_LIKE,
            },
            pulls,
        });
        assert_eq!(p.packages[0].decisions.len(), inventory.version_count());
        p
    }
}

/// What decided a version (the shape of `reasons[0]`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Why<'a> {
    /// Kept by a keep rule (or spared as one of the newest N), or deleted by a rule.
    Rule(&'a str),
    /// Spared by a rule's `keep_newest`, with its rank.
    Newest(&'a str, usize),
    /// Kept because a kept version needs it (relation kind, parent id).
    Protected(&'a str, u64),
    /// Deleted with a deleted parent (relation kind, parent id).
    With(&'a str, u64),
    /// No rule selected it.
    NotSelected,
    /// A delete rule selected some of its tags, not these.
    Partial(&'a str, &'a [&'a str]),
}

fn relation_kind(r: &Relation) -> &'static str {
    match r {
        Relation::Platform { .. } => "platform",
        Relation::BuildxAttestation { .. } => "buildx-attestation",
        Relation::Child => "child",
        Relation::Referrer { .. } => "referrer",
        Relation::Artifact { .. } => "artifact",
    }
}

fn decision(plan: &Plan, id: u64) -> &Decision {
    plan.packages[0]
        .decisions
        .iter()
        .find(|d| d.id == VersionId(id))
        .unwrap_or_else(|| panic!("no decision for version {id}"))
}

fn check(plan: &Plan, expected: &[(u64, Action, Why<'_>)]) {
    let mut wrong = Vec::new();
    for &(id, action, why) in expected {
        let d = decision(plan, id);
        let first = d.reasons.first();
        let ok_why = match (why, first) {
            (Why::Rule(r), Some(Reason::KeptByRule { rule, .. }))
            | (Why::Rule(r), Some(Reason::DeletedByRule { rule, .. })) => rule == r,
            (
                Why::Newest(r, n),
                Some(Reason::KeptByRule {
                    rule,
                    how: Selected::Newest { rank, .. },
                }),
            ) => rule == r && *rank == n,
            (
                Why::Protected(kind, parent),
                Some(Reason::Protected {
                    relation,
                    parent: p,
                    ..
                }),
            ) => relation_kind(relation) == kind && p.id == VersionId(parent),
            (
                Why::With(kind, parent),
                Some(Reason::DeletedWith {
                    relation,
                    parent: p,
                }),
            ) => relation_kind(relation) == kind && p.id == VersionId(parent),
            (Why::NotSelected, Some(Reason::NotSelected { .. })) => true,
            (Why::Partial(r, tags), Some(Reason::PartialTagMatch { rule, unselected })) => {
                rule == r
                    && unselected
                        .iter()
                        .map(String::as_str)
                        .eq(tags.iter().copied())
            }
            _ => false,
        };
        if d.action != action || !ok_why {
            let reasons: Vec<String> = d.reasons.iter().map(|r| r.to_string()).collect();
            wrong.push(format!(
                "version {id} {:?}: expected {action} / {why:?}, got {} / {reasons:?}",
                d.tags, d.action
            ));
        }
    }
    let checked: Vec<u64> = expected.iter().map(|e| e.0).collect();
    for d in &plan.packages[0].decisions {
        if !checked.contains(&d.id.0) {
            wrong.push(format!("version {} is not checked by the test", d.id));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The delete order holds every deletion once.
    let mut ordered: Vec<u64> = plan.order.iter().map(|r| plan.decision(*r).id.0).collect();
    ordered.sort_unstable();
    let mut deleted: Vec<u64> = expected
        .iter()
        .filter(|e| e.1 == Action::Delete)
        .map(|e| e.0)
        .collect();
    deleted.sort_unstable();
    assert_eq!(ordered, deleted);
}

fn misses(plan: &Plan, id: u64) -> Vec<(String, Miss)> {
    match decision(plan, id).reasons.first() {
        Some(Reason::NotSelected { misses }) => misses
            .iter()
            .map(|m| (m.rule.to_string(), m.miss.clone()))
            .collect(),
        other => panic!("version {id} was selected: {other:?}"),
    }
}

fn position(plan: &Plan, id: u64) -> usize {
    plan.order
        .iter()
        .position(|r| plan.decision(*r).id == VersionId(id))
        .unwrap_or_else(|| panic!("version {id} is not in the delete order"))
}

const VERSION_LABEL: &str = "org.opencontainers.image.version";
const DAY: i64 = 24;

#[test]
fn research_group() {
    let policy = load("research-group.yaml");
    let repo = "research-group/simulator";
    let mut b = Bed::new("simulator");
    let master = [(VERSION_LABEL, "master")];
    let pr = |n: &'static str| [(VERSION_LABEL, n)];
    b.image(1, &["master"], DAY, &master);
    b.image(2, &[], 10 * DAY, &master); // outdated master, 10 days: kept
    b.image(3, &[], 40 * DAY, &master); // outdated master, 40 days: deleted
    b.image(4, &["pr-12"], 3 * DAY, &pr("pr-12")); // open PR
    b.image(5, &[], 20 * DAY, &pr("pr-12")); // outdated PR image, 20 days: deleted
    b.image(6, &[], 5 * DAY, &pr("pr-12")); // outdated PR image, 5 days: kept
    b.image(7, &["pr-15"], 10 * DAY, &pr("pr-15")); // merged yesterday: deleted
    b.image(8, &["pr-9"], 70 * DAY, &pr("pr-9")); // open but two months old: deleted
    b.image(9, &[], 40 * DAY, &[]); // no labels, 40 days: deleted by age alone
    b.image(10, &[], 20 * DAY, &[]); // no labels, 20 days: kept (could be master)
    b.image(11, &["pr-20"], 6 * DAY, &pr("pr-20")); // closed unmerged: deleted
    b.image(12, &["pr-21"], 5 * DAY, &pr("pr-21")); // PR unknown: kept
    b.image(13, &[], 35 * DAY, &pr("pr-20")); // outdated, closed PR: deleted (label rule)
    let mut prs = HashMap::new();
    let open = PullInfo {
        open: true,
        merged_at: None,
        closed_at: None,
    };
    prs.insert(12, open.clone());
    prs.insert(9, open);
    prs.insert(
        15,
        PullInfo {
            open: false,
            merged_at: Some(hours_ago(DAY)),
            closed_at: Some(hours_ago(DAY)),
        },
    );
    prs.insert(
        20,
        PullInfo {
            open: false,
            merged_at: None,
            closed_at: Some(hours_ago(2 * DAY)),
        },
    );
    let pulls: PullRequests = HashMap::from([(repo.to_string(), prs)]);
    let plan = b.run(&policy, &pulls);
    use Action::*;
    check(
        &plan,
        &[
            (1, Keep, Why::NotSelected),
            (2, Keep, Why::NotSelected),
            (3, Delete, Why::Rule("outdated-master")),
            (4, Keep, Why::NotSelected),
            (5, Delete, Why::Rule("outdated-pr")),
            (6, Keep, Why::NotSelected),
            (7, Delete, Why::Rule("closed-pr")),
            (8, Delete, Why::Rule("stale-pr")),
            (9, Delete, Why::Rule("outdated-by-age")),
            (10, Keep, Why::NotSelected),
            (11, Delete, Why::Rule("closed-pr")),
            (12, Keep, Why::NotSelected),
            (13, Delete, Why::Rule("outdated-pr")),
        ],
    );
    // The plan says how unlabelled images were judged: by age alone.
    let m = misses(&plan, 10);
    assert!(m.contains(&(
        "outdated-pr".to_string(),
        Miss::Label {
            key: VERSION_LABEL.to_string(),
            found: None,
        }
    )));
    assert!(m
        .iter()
        .any(|(r, miss)| r == "outdated-by-age" && matches!(miss, Miss::TooNew { .. })));
    // ... and why open or unknown PRs stay.
    assert!(misses(&plan, 4)
        .iter()
        .any(|(r, m)| r == "closed-pr" && m.to_string() == "pull request #12 is open"));
    assert!(misses(&plan, 12).iter().any(|(r, m)| r == "closed-pr"
        && m.to_string()
            .contains("#21 of research-group/simulator is unknown")));
    // The outdated master image older than a month is selected by both label and age
    // rules; the label rule, first in the file, is the one shown first.
    let d = decision(&plan, 3);
    assert!(d
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::DeletedByRule { rule, .. } if rule == "outdated-by-age")));
}

/// The sha tag of image `id`: seven hex digits.
fn sha_tag(id: u64) -> String {
    format!("{:07x}", 0xabc0000 + id)
}

#[test]
fn deploy_sha() {
    let policy = load("deploy-sha.yaml");
    let mut b = Bed::new("api");
    // Twelve builds this week, two a day; the newest is deployed.
    for k in 0..12u64 {
        let tag = sha_tag(k + 1);
        let mut tags = vec![tag.as_str()];
        if k == 0 {
            tags.push("latest");
        }
        b.image(k + 1, &tags, 6 + 12 * k as i64, &[]);
    }
    // Older builds, one of them multi-arch and also tagged `stable`.
    let t = sha_tag(20);
    b.image(20, &[&t], 8 * DAY, &[]);
    let t = sha_tag(21);
    b.image(21, &[&t], 9 * DAY, &[]);
    let t = sha_tag(30);
    b.image(30, &[&t], 30 * DAY, &[]);
    let t = sha_tag(40);
    b.index(40, &[&t, "stable"], 20 * DAY, false);
    // Untagged leftovers.
    b.image(50, &[], 10 * DAY, &[]);
    b.image(51, &[], 2 * DAY, &[]);
    let plan = b.run(&policy, &PullRequests::new());
    use Action::*;
    let mut expected = vec![(1, Keep, Why::Rule("keep-latest"))];
    // `sha-builds` does not select the `latest` image (it selects its sha tag, not
    // `latest`), so the ten newest it spares are the next ten.
    for k in 1..11u64 {
        expected.push((k + 1, Keep, Why::Newest("sha-builds", k as usize)));
    }
    expected.extend([
        (12, Keep, Why::Rule("keep-recent")),
        (20, Delete, Why::Rule("sha-builds")),
        (21, Delete, Why::Rule("sha-builds")),
        (30, Delete, Why::Rule("sha-builds")),
        // Tagged `stable` too, which no rule selects: deleting the image would
        // remove `stable`, so it stays, and its platform manifests with it.
        (40, Keep, Why::Partial("sha-builds", &["stable"])),
        (41, Keep, Why::Protected("platform", 40)),
        (42, Keep, Why::Protected("platform", 40)),
        // Untagged and older than a week: the `untagged` rule selects it.
        (50, Delete, Why::Rule("untagged")),
        (51, Keep, Why::Rule("keep-recent")),
    ]);
    check(&plan, &expected);
    // The latest image is kept by its own rule only.
    assert!(!decision(&plan, 1).reasons.iter().any(|r| matches!(
        r,
        Reason::KeptByRule { rule, how: Selected::Newest { .. } } if rule == "sha-builds"
    )));
}

#[test]
fn deploy_sha_keeps_rolled_back_latest_and_its_platforms() {
    let policy = load("deploy-sha.yaml");
    let mut b = Bed::new("api");
    for k in 0..11u64 {
        let tag = sha_tag(k + 1);
        b.image(k + 1, &[&tag], 6 + 12 * k as i64, &[]);
    }
    // `latest` points at an old multi-arch build (a rollback).
    let t = sha_tag(40);
    b.index(40, &[&t, "latest"], 20 * DAY, false);
    let plan = b.run(&policy, &PullRequests::new());
    use Action::*;
    let mut expected = Vec::new();
    for k in 0..10u64 {
        expected.push((k + 1, Keep, Why::Newest("sha-builds", k as usize + 1)));
    }
    expected.extend([
        (11, Keep, Why::Rule("keep-recent")),
        (40, Keep, Why::Rule("keep-latest")),
        (41, Keep, Why::Protected("platform", 40)),
        (42, Keep, Why::Protected("platform", 40)),
    ]);
    check(&plan, &expected);
    // `sha-builds` does not select it at all: `latest` is not a sha, and a delete
    // rule selects a version only when it selects every one of its tags.
    assert!(!decision(&plan, 40)
        .reasons
        .contains(&Reason::OverridesDelete {
            rule: "sha-builds".to_string()
        }));
}

#[test]
fn releases() {
    let policy = load("releases.yaml");
    let mut b = Bed::new("server");
    b.image(1, &["v1.4.1", "v1.4.1_3", "latest"], 2 * DAY, &[]);
    b.image(2, &["v1.4.1_2"], 3 * DAY, &[]);
    b.image(3, &["v1.4.0", "v1.4.0_5"], 10 * DAY, &[]);
    b.image(4, &["v1.4.0_4"], 11 * DAY, &[]);
    b.image(5, &["v1.3.2", "v1.3.2_1"], 30 * DAY, &[]);
    b.image(6, &["v1.3.2_2"], 25 * DAY, &[]); // rebuilt after the release
    b.image(7, &["v1.2.5", "v1.2.5_7"], 60 * DAY, &[]);
    b.image(8, &["v1.2.4", "v1.2.4_1"], 80 * DAY, &[]);
    b.image(9, &["v1.2.4_2"], 79 * DAY, &[]);
    b.image(10, &["v1.2.3"], 90 * DAY, &[]);
    b.image(11, &[], 2 * DAY, &[]);
    b.image(12, &[], 12, &[]);
    let plan = b.run(&policy, &PullRequests::new());
    use Action::*;
    check(
        &plan,
        &[
            (1, Keep, Why::Rule("keep-latest")),
            // Version 1 is not deletable (`latest` is selected by no delete rule), so
            // it does not count among the builds of 1.4.1: the newest that does is 2.
            (2, Keep, Why::Newest("builds", 1)),
            (3, Keep, Why::Rule("current-lines")),
            (4, Delete, Why::Rule("builds")),
            (5, Keep, Why::Rule("current-lines")),
            (6, Keep, Why::Newest("builds", 1)),
            (7, Keep, Why::Newest("builds", 1)),
            (8, Delete, Why::Rule("builds")),
            (9, Keep, Why::Newest("builds", 1)),
            (10, Delete, Why::Rule("old-releases")),
            (11, Delete, Why::Rule("untagged")),
            (12, Keep, Why::NotSelected),
        ],
    );
    // An old line's release kept as the newest build of its release says what it
    // overrides.
    assert!(decision(&plan, 7)
        .reasons
        .contains(&Reason::OverridesDelete {
            rule: "old-releases".to_string()
        }));
    assert!(misses(&plan, 12)
        .iter()
        .any(|(r, m)| r == "untagged" && matches!(m, Miss::TooNew { .. })));
    let d8 = decision(&plan, 8);
    assert!(d8
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::DeletedByRule { rule, .. } if rule == "old-releases")));
}

#[test]
fn supply_chain() {
    let policy = load("supply-chain.yaml");
    let mut b = Bed::new("app");
    // A release: multi-arch index with buildx attestation, cosign signature and
    // attestation, and an SBOM referrer.
    let rel = b.index(10, &["v1.0.0"], 60 * DAY, true);
    b.cosign(20, &rel, "sig", 60 * DAY);
    b.cosign(21, &rel, "att", 60 * DAY);
    let sbom = b.image(22, &[], 59 * DAY, &[]);
    {
        let n = b.node(&sbom);
        n.subject = Some(rel.clone());
        n.artifact_type = Some("application/spdx+json".to_string());
    }
    // The current release, tagged latest.
    let cur = b.index(30, &["latest", "v1.1.0"], 5 * DAY, false);
    b.cosign(35, &cur, "sig", 5 * DAY);
    // An old development build, signed: deleted with everything that is about it.
    let dev = b.index(40, &["dev-3f9a2c1"], 30 * DAY, false);
    b.cosign(45, &dev, "sig", 30 * DAY);
    let dev_sbom = b.image(46, &[], 30 * DAY, &[]);
    b.node(&dev_sbom).subject = Some(dev.clone());
    // A recent development build: too new.
    b.index(50, &["dev-77aa01b"], 3 * DAY, false);
    // An orphan: untagged, nothing references it.
    b.image(60, &[], 10 * DAY, &[]);
    // A dangling signature: its image is gone.
    b.cosign(70, &digest(9999), "sig", 40 * DAY);
    let plan = b.run(&policy, &PullRequests::new());
    use Action::*;
    check(
        &plan,
        &[
            (10, Keep, Why::Rule("releases")),
            (11, Keep, Why::Protected("platform", 10)),
            (12, Keep, Why::Protected("platform", 10)),
            (13, Keep, Why::Protected("buildx-attestation", 10)),
            (20, Keep, Why::Protected("artifact", 10)),
            (21, Keep, Why::Protected("artifact", 10)),
            (22, Keep, Why::Protected("referrer", 10)),
            (30, Keep, Why::Rule("releases")),
            (31, Keep, Why::Protected("platform", 30)),
            (32, Keep, Why::Protected("platform", 30)),
            (35, Keep, Why::Protected("artifact", 30)),
            (40, Delete, Why::Rule("dev-builds")),
            (41, Delete, Why::With("platform", 40)),
            (42, Delete, Why::With("platform", 40)),
            (45, Delete, Why::With("artifact", 40)),
            (46, Delete, Why::With("referrer", 40)),
            (50, Keep, Why::NotSelected),
            (51, Keep, Why::Protected("platform", 50)),
            (52, Keep, Why::Protected("platform", 50)),
            (60, Delete, Why::Rule("orphans")),
            (70, Delete, Why::Rule("orphans")),
        ],
    );
    // Signatures and referrers go before their image, the index before its platforms.
    assert!(position(&plan, 45) < position(&plan, 40));
    assert!(position(&plan, 46) < position(&plan, 40));
    assert!(position(&plan, 40) < position(&plan, 41));
    assert!(position(&plan, 40) < position(&plan, 42));
    // The graph findings name the orphan and the dangling signature.
    let findings: Vec<String> = plan.findings().map(|(_, f)| f.to_string()).collect();
    assert!(
        findings.iter().any(|f| f.starts_with("orphan:")),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.starts_with("dangling artifact:")),
        "{findings:?}"
    );
}

#[test]
fn every_example_is_listed_in_the_readme() {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).expect("examples/README.md");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in names {
        assert!(readme.contains(&n), "examples/README.md does not list {n}");
        load(&n);
    }
}
