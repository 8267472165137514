//! Table-style cases for the planner's safety rules (issue: never break a kept image).

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use regsweep_core::graph::{ChildRef, ManifestKind, ManifestNode, Platform};
use regsweep_core::matcher::PatternList;
use regsweep_core::plan::{Action, Finding, Plan, PlanRef};
use regsweep_core::planner::{plan, PlanInput, PlanOptions, RefusalRules};
use regsweep_core::policy::snok::{SnokInputs, TagSelection};
use regsweep_core::policy::{Policy, Rule, RuleAction};
use regsweep_core::reason::{Reason, Relation};
use regsweep_core::{
    Digest, Inventory, ManifestGraph, Package, TimestampField, Version, VersionId,
};

#[path = "support/refusals.rs"]
mod refusals;
use refusals::GITHUB_LIKE;

const DAY: i64 = 86_400;

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn dg(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).unwrap()
}

struct World {
    versions: Vec<Version>,
    graph: ManifestGraph,
}

impl World {
    fn new() -> Self {
        World {
            versions: Vec::new(),
            graph: ManifestGraph::default(),
        }
    }

    fn manifest(&mut self, n: u64, tags: &[&str], age_days: i64) -> u64 {
        self.push(n, tags, age_days, ManifestKind::Manifest, vec![], None);
        n
    }

    fn index(&mut self, n: u64, tags: &[&str], age_days: i64, children: &[(u64, &str)]) -> u64 {
        let kids = children
            .iter()
            .map(|&(c, plat)| {
                let (os, arch) = plat.split_once('/').unwrap_or(("", ""));
                ChildRef {
                    digest: dg(c),
                    media_type: None,
                    platform: (!plat.is_empty()).then(|| Platform {
                        os: os.into(),
                        architecture: arch.into(),
                        variant: None,
                    }),
                    attests: None,
                }
            })
            .collect();
        self.push(n, tags, age_days, ManifestKind::Index, kids, None);
        n
    }

    fn referrer(&mut self, n: u64, subject: u64, age_days: i64) -> u64 {
        self.push(
            n,
            &[],
            age_days,
            ManifestKind::Manifest,
            vec![],
            Some(dg(subject)),
        );
        n
    }

    fn signature(&mut self, n: u64, subject: u64, age_days: i64) -> u64 {
        let tag = format!("sha256-{}.sig", dg(subject).hex());
        self.manifest(n, &[tag.as_str()], age_days)
    }

    fn push(
        &mut self,
        n: u64,
        tags: &[&str],
        age_days: i64,
        kind: ManifestKind,
        children: Vec<ChildRef>,
        subject: Option<Digest>,
    ) {
        let ts = Timestamp::from_second(now().as_second() - age_days * DAY).unwrap();
        self.versions.push(Version {
            id: VersionId(n),
            digest: dg(n),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            created_at: ts,
            updated_at: ts,
            downloads: None,
        });
        self.graph.package_mut("app").insert(ManifestNode {
            digest: dg(n),
            media_type: String::new(),
            kind,
            children,
            subject,
            artifact_type: None,
            config: None,
            annotations: Default::default(),
        });
    }

    fn plan(&self, policy: &Policy) -> Plan {
        let inv = Inventory {
            packages: vec![Package {
                name: "app".into(),
                visibility: None,
                versions: self.versions.clone(),
            }],
        };
        plan(PlanInput {
            inventory: &inv,
            graph: &self.graph,
            policy,
            now: now(),
            options: PlanOptions {
                refusals: GITHUB_LIKE,
            },
            pulls: &HashMap::new(),
        })
    }
}

fn snok(sel: TagSelection, tags: &str, keep: usize, cut_off_days: u64) -> Policy {
    SnokInputs {
        image_names: PatternList::parse("*").unwrap(),
        image_tags: PatternList::parse(tags).unwrap(),
        skip_shas: vec![],
        tag_selection: sel,
        keep_n_most_recent: keep,
        timestamp: TimestampField::UpdatedAt,
        cut_off: Duration::from_secs(cut_off_days * DAY as u64),
    }
    .to_policy()
}

fn action(p: &Plan, id: u64) -> Action {
    decision(p, id).action
}

fn decision(p: &Plan, id: u64) -> &regsweep_core::plan::Decision {
    p.packages[0]
        .decisions
        .iter()
        .find(|d| d.id == VersionId(id))
        .expect("decision")
}

fn position(p: &Plan, id: u64) -> usize {
    p.order
        .iter()
        .position(|r| p.decision(*r).id == VersionId(id))
        .expect("in order")
}

#[test]
fn untagged_run_keeps_platforms_of_a_kept_multi_arch_index() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.manifest(2, &[], 40);
    w.index(3, &["v1"], 40, &[(1, "linux/amd64"), (2, "linux/arm64")]);
    w.manifest(4, &[], 40); // a true orphan
    let p = w.plan(&snok(TagSelection::Untagged, "", 0, 7));
    assert_eq!(action(&p, 3), Action::Keep);
    assert_eq!(action(&p, 1), Action::Keep);
    assert_eq!(action(&p, 2), Action::Keep);
    assert_eq!(action(&p, 4), Action::Delete);
    assert_eq!(
        decision(&p, 2).reasons[0].to_string(),
        "platform linux/arm64 of app:v1"
    );
    assert!(matches!(
        decision(&p, 1).reasons[1],
        Reason::OverridesDelete { .. }
    ));
}

#[test]
fn deleting_an_old_index_takes_its_children_and_signature_in_safe_order() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.manifest(2, &[], 40);
    w.index(3, &["v1"], 40, &[(1, "linux/amd64"), (2, "linux/arm64")]);
    w.signature(4, 3, 40);
    w.referrer(5, 3, 40);
    w.index(6, &["v2"], 1, &[]);
    // Only tagged versions matching v1 are selected: the children, signature and
    // referrer go with the index because nothing kept needs them.
    let p = w.plan(&snok(TagSelection::Tagged, "v1", 0, 7));
    for id in [1, 2, 3, 4, 5] {
        assert_eq!(action(&p, id), Action::Delete, "version {id}");
    }
    assert_eq!(action(&p, 6), Action::Keep);
    assert!(matches!(
        &decision(&p, 1).reasons[0],
        Reason::DeletedWith { relation, .. } if matches!(**relation, Relation::Platform { .. })
    ));
    assert_eq!(
        decision(&p, 4).reasons[0].to_string(),
        "signature of deleted app:v1"
    );
    // Artifacts before their subject, index before its children.
    assert!(position(&p, 4) < position(&p, 3));
    assert!(position(&p, 5) < position(&p, 3));
    assert!(position(&p, 3) < position(&p, 1));
    assert!(position(&p, 3) < position(&p, 2));
    assert_eq!(p.runs, vec![5]);
}

#[test]
fn signature_of_a_kept_image_is_kept_even_when_selected() {
    let mut w = World::new();
    w.index(3, &["v1"], 1, &[]);
    w.signature(4, 3, 40);
    let p = w.plan(&snok(TagSelection::Both, "", 0, 7));
    assert_eq!(action(&p, 3), Action::Keep);
    assert_eq!(action(&p, 4), Action::Keep);
    assert!(decision(&p, 4).reasons[0]
        .to_string()
        .starts_with("signature of app:v1"));
}

#[test]
fn last_tagged_version_is_skipped_and_protects_its_children() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.index(3, &["v1"], 40, &[(1, "linux/amd64")]);
    w.index(5, &["v0"], 50, &[]);
    let p = w.plan(&snok(TagSelection::Both, "", 0, 7));
    // Both tags are old: GitHub refuses to delete the last tagged one (the newest, v1).
    assert_eq!(action(&p, 3), Action::Skip);
    assert_eq!(action(&p, 5), Action::Delete);
    assert_eq!(
        action(&p, 1),
        Action::Keep,
        "children of a skipped index stay"
    );
    assert!(decision(&p, 3).reasons[0]
        .to_string()
        .contains("last tagged version"));
}

#[test]
fn unread_manifest_keeps_untagged_versions() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.index(3, &["v1"], 1, &[]);
    w.graph.package_mut("app").nodes.remove(&dg(3));
    let p = w.plan(&snok(TagSelection::Untagged, "", 0, 7));
    assert_eq!(action(&p, 1), Action::Keep);
    assert!(matches!(
        decision(&p, 1).reasons[0],
        Reason::GraphUnknown { .. }
    ));
    assert!(p.packages[0]
        .findings
        .iter()
        .any(|f| matches!(f, Finding::Unread { .. })));
}

#[test]
fn nested_index_and_buildx_attestation_are_protected() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.manifest(2, &[], 40);
    w.index(3, &[], 40, &[(1, "linux/amd64"), (2, "unknown/unknown")]);
    w.index(4, &["v1"], 40, &[(3, "")]);
    let p = w.plan(&snok(TagSelection::Untagged, "", 0, 7));
    for id in [1, 2, 3, 4] {
        assert_eq!(action(&p, id), Action::Keep, "version {id}");
    }
    assert_eq!(
        decision(&p, 2).reasons[0].to_string(),
        "build attestation of app@sha256:000000000000 (kept image app:v1)"
    );
}

#[test]
fn orphans_are_reported_and_deleted_only_by_an_orphan_rule() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.index(3, &["v1"], 40, &[]);
    w.signature(7, 99, 40); // signature of a digest that is gone
    let p = w.plan(&Policy {
        rules: vec![],
        ..Policy::default()
    });
    assert_eq!(action(&p, 1), Action::Keep);
    assert!(p.packages[0]
        .findings
        .iter()
        .any(|f| matches!(f, Finding::Orphan { .. })));
    assert!(p.packages[0]
        .findings
        .iter()
        .any(|f| matches!(f, Finding::DanglingArtifact { .. })));
    let mut r = Rule::new("delete-orphans", RuleAction::Delete);
    r.orphans_only = true;
    let p = w.plan(&Policy {
        rules: vec![r],
        ..Policy::default()
    });
    assert_eq!(action(&p, 1), Action::Delete);
    assert_eq!(action(&p, 7), Action::Delete);
    assert_eq!(action(&p, 3), Action::Keep);
}

#[test]
fn keep_n_most_recent_counts_images_not_signatures() {
    let mut w = World::new();
    w.index(1, &["sha-a"], 30, &[]);
    w.index(2, &["sha-b"], 20, &[]);
    w.index(3, &["sha-c"], 10, &[]);
    w.signature(4, 3, 9);
    let p = w.plan(&snok(TagSelection::Tagged, "", 2, 7));
    assert_eq!(action(&p, 3), Action::Keep);
    assert_eq!(action(&p, 2), Action::Keep);
    assert_eq!(action(&p, 1), Action::Delete);
    assert_eq!(action(&p, 4), Action::Keep, "signature of a kept image");
}

#[test]
fn too_new_versions_say_so() {
    let mut w = World::new();
    w.manifest(1, &[], 2);
    w.index(3, &["v1"], 1, &[]);
    let p = w.plan(&snok(TagSelection::Both, "", 0, 7));
    assert_eq!(action(&p, 1), Action::Keep);
    assert_eq!(
        decision(&p, 1).reasons[0].to_string(),
        "not selected: too new (2d old, younger than 7d) (rule `untagged`)"
    );
}

#[test]
fn keep_rule_with_keep_newest_keeps_only_the_newest_n_it_selects() {
    let policy = regsweep_core::policy::file::parse(
        "rules:\n  - name: recent-releases\n    action: keep\n    tags: ['v*']\n    keep_newest: 2\n  - name: old\n    action: delete\n    older_than: 1d\n",
    )
    .expect("a keep rule may carry keep_newest");
    let mut w = World::new();
    for (n, age) in [(1, 50), (2, 40), (3, 30), (4, 20), (5, 10)] {
        w.manifest(n, &[&format!("v{n}")], age);
    }
    w.manifest(6, &["latest"], 60);
    w.manifest(7, &["v7"], 60);
    let p = w.plan(&policy);
    // v5 and v4 are the two newest `v*` releases: kept by the keep rule.
    for id in [5, 4] {
        assert_eq!(action(&p, id), Action::Keep, "v{id}");
        let shown = decision(&p, id).reasons[0].to_string();
        assert!(shown.contains("recent-releases"), "v{id}: {shown}");
        assert!(shown.contains("newest"), "v{id}: {shown}");
    }
    // The older releases are left to the other rules: `old` deletes them.
    for id in [1, 2, 3, 6, 7] {
        assert_eq!(action(&p, id), Action::Delete, "version {id}");
    }
}

#[test]
fn may_delete_says_whether_a_package_needs_its_manifests_read() {
    let mut w = World::new();
    w.manifest(1, &["v1"], 3);
    w.manifest(2, &[], 3);
    let inv = Inventory {
        packages: vec![Package {
            name: "app".into(),
            visibility: None,
            versions: w.versions.clone(),
        }],
    };
    let empty = ManifestGraph::default();
    let pulls = HashMap::new();
    let may = |policy: &Policy| {
        regsweep_core::planner::may_delete(
            &inv.packages[0],
            PlanInput {
                inventory: &inv,
                graph: &empty,
                policy,
                now: now(),
                options: PlanOptions {
                    refusals: GITHUB_LIKE,
                },
                pulls: &pulls,
            },
        )
    };
    // Everything is 3 days old: a one-week cut-off can delete nothing.
    assert!(!may(&snok(TagSelection::Both, "", 0, 7)));
    assert!(may(&snok(TagSelection::Both, "", 0, 1)));
    // Graph-dependent conditions are taken as holding: an orphan rule or a label
    // rule may delete until the manifests say otherwise.
    let file = |yaml: &str| regsweep_core::policy::file::parse(yaml).expect("policy parses");
    assert!(may(&file(
        "rules:\n  - action: delete\n    orphans: true\n"
    )));
    assert!(may(&file(
        "rules:\n  - action: delete\n    labels: {org.opencontainers.image.version: pr-1}\n"
    )));
    // Keep rules alone never delete; other packages' rules do not count.
    assert!(!may(&file("rules:\n  - action: keep\n    tags: ['*']\n")));
    assert!(!may(&file(
        "rules:\n  - action: delete\n    packages: [other]\n"
    )));
}

#[test]
fn a_refused_deletion_frees_the_version_skipped_as_last_tagged() {
    let mut w = World::new();
    w.manifest(1, &[], 40);
    w.index(3, &["v1"], 40, &[(1, "linux/amd64")]);
    w.index(5, &["v0"], 50, &[]);
    let policy = snok(TagSelection::Both, "", 0, 7);
    let inv = Inventory {
        packages: vec![Package {
            name: "app".into(),
            visibility: None,
            versions: w.versions.clone(),
        }],
    };
    let input = PlanInput {
        inventory: &inv,
        graph: &w.graph,
        policy: &policy,
        now: now(),
        options: PlanOptions {
            refusals: GITHUB_LIKE,
        },
        pulls: &HashMap::new(),
    };
    let mut p = plan(input);
    assert_eq!(action(&p, 3), Action::Skip);
    let planned = p.order.len();
    let runs = p.runs.len();
    // GitHub refused to delete v0 (5): v1 is no longer the last tagged version.
    let refused = p.order[position(&p, 5)];
    assert_eq!(
        regsweep_core::planner::revisit(input, &mut p, &[refused]),
        2
    );
    assert_eq!(action(&p, 3), Action::Delete);
    assert_eq!(action(&p, 1), Action::Delete, "its child goes with it");
    assert_eq!(p.order.len(), planned + 2);
    assert_eq!(p.runs.len(), runs + 1, "the freed image is one run");
    assert!(
        position(&p, 3) < position(&p, 1),
        "the index before its child"
    );
    assert!(
        position(&p, 5) < planned,
        "the refused one is not planned again"
    );
    let r = &decision(&p, 3).reasons;
    assert!(
        matches!(&r[0], Reason::NoLongerLastTagged { kept } if kept.id == VersionId(5)),
        "{r:?}"
    );
    assert_eq!(
        r[0].to_string(),
        "no longer the last tagged version: app:v0 (id 5) stays, GitHub refused to delete it"
    );
    assert!(matches!(r[1], Reason::DeletedByRule { .. }), "{r:?}");
    // A refusal of an untagged version frees nothing.
    let mut q = plan(input);
    let untagged = PlanRef {
        package: 0,
        decision: q.packages[0]
            .decisions
            .iter()
            .position(|d| d.id == VersionId(1))
            .unwrap(),
    };
    assert_eq!(
        regsweep_core::planner::revisit(input, &mut q, &[untagged]),
        0
    );
    assert_eq!(action(&q, 3), Action::Skip);
}

/// The refusal rules are the backend's data: the planner applies the download limit
/// it is told (not GitHub's 5,000), and no last-tagged rule when it is off.
#[test]
fn refusal_rules_are_the_backends_data() {
    let mut w = World::new();
    w.manifest(1, &["v1"], 40);
    w.manifest(2, &["v2"], 50);
    w.versions[1].downloads = Some(300);
    let policy = snok(TagSelection::Both, "", 0, 7);
    let inv = Inventory {
        packages: vec![Package {
            name: "app".into(),
            visibility: Some(regsweep_core::Visibility::Public),
            versions: w.versions.clone(),
        }],
    };
    let with = |refusals: RefusalRules| {
        plan(PlanInput {
            inventory: &inv,
            graph: &w.graph,
            policy: &policy,
            now: now(),
            options: PlanOptions { refusals },
            pulls: &HashMap::new(),
        })
    };
    // GitHub's rules: 300 downloads are fine; v1 is kept as the last tagged version.
    let p = with(GITHUB_LIKE);
    assert_eq!(
        (action(&p, 1), action(&p, 2)),
        (Action::Skip, Action::Delete)
    );
    // A backend refusing public versions over 100 downloads: v2 is skipped.
    let p = with(RefusalRules {
        public_downloads_over: Some(100),
        last_tagged_version: false,
    });
    assert_eq!(
        (action(&p, 1), action(&p, 2)),
        (Action::Delete, Action::Skip)
    );
    let d2 = p.packages[0]
        .decisions
        .iter()
        .find(|d| d.id.0 == 2)
        .unwrap();
    assert!(
        matches!(
            d2.reasons.first(),
            Some(regsweep_core::reason::Reason::Refused {
                refusal: regsweep_core::reason::Refusal::TooManyDownloads { downloads: 300 }
            })
        ),
        "{:?}",
        d2.reasons
    );
    // A backend refusing nothing (a plain OCI registry): both deleted.
    let p = with(RefusalRules::default());
    assert_eq!(
        (action(&p, 1), action(&p, 2)),
        (Action::Delete, Action::Delete)
    );
}
