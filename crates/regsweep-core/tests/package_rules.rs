//! Package rules (`action: delete_package`): when a whole package is deleted, when
//! it is not, and why (docs/policy.md, "Whole packages").

use std::collections::HashMap;

use jiff::Timestamp;
use regsweep_core::graph::{ChildRef, ManifestKind, ManifestNode, Platform};
use regsweep_core::package_decision::{PackageAction, PackageReason};
use regsweep_core::plan::{Action, Plan};
use regsweep_core::planner::{plan, PlanInput, PlanOptions};

#[path = "support/refusals.rs"]
mod refusals;
use refusals::GITHUB_LIKE;

use regsweep_core::policy::file::parse;
use regsweep_core::reason::Reason;
use regsweep_core::{Digest, Inventory, ManifestGraph, Package, Version, VersionId, Visibility};

const DAY: i64 = 86_400;

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn dg(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).unwrap()
}

fn version(n: u64, tags: &[&str], age_days: i64) -> Version {
    let ts = Timestamp::from_second(now().as_second() - age_days * DAY).unwrap();
    Version {
        id: VersionId(n),
        digest: dg(n),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        created_at: ts,
        updated_at: ts,
        downloads: None,
    }
}

fn leaf(graph: &mut ManifestGraph, pkg: &str, n: u64) {
    graph.package_mut(pkg).insert(ManifestNode {
        digest: dg(n),
        media_type: String::new(),
        kind: ManifestKind::Manifest,
        children: vec![],
        subject: None,
        artifact_type: None,
        config: None,
        annotations: Default::default(),
    });
}

/// `test:do_not_use` (an index of two platforms, 40 days old) in package `test`,
/// and a release `v1` in `app`; every manifest read.
fn world() -> (Inventory, ManifestGraph) {
    let mut graph = ManifestGraph::default();
    let platform = |c: u64, arch: &str| ChildRef {
        digest: dg(c),
        media_type: None,
        platform: Some(Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: None,
        }),
        attests: None,
    };
    graph.package_mut("test").insert(ManifestNode {
        digest: dg(1),
        media_type: String::new(),
        kind: ManifestKind::Index,
        children: vec![platform(2, "amd64"), platform(3, "arm64")],
        subject: None,
        artifact_type: None,
        config: None,
        annotations: Default::default(),
    });
    leaf(&mut graph, "test", 2);
    leaf(&mut graph, "test", 3);
    leaf(&mut graph, "app", 10);
    let inv = Inventory {
        packages: vec![
            Package {
                name: "test".into(),
                visibility: Some(Visibility::Private),
                versions: vec![
                    version(1, &["do_not_use"], 40),
                    version(2, &[], 40),
                    version(3, &[], 40),
                ],
            },
            Package {
                name: "app".into(),
                visibility: Some(Visibility::Private),
                versions: vec![version(10, &["v1"], 40)],
            },
        ],
    };
    (inv, graph)
}

fn run(inv: &Inventory, graph: &ManifestGraph, yaml: &str) -> Plan {
    let policy = parse(yaml).unwrap();
    plan(PlanInput {
        inventory: inv,
        graph,
        policy: &policy,
        now: now(),
        options: PlanOptions {
            refusals: GITHUB_LIKE,
        },
        pulls: &HashMap::new(),
    })
}

fn package<'p>(p: &'p Plan, name: &str) -> &'p regsweep_core::plan::PackagePlan {
    p.packages.iter().find(|pp| pp.name == name).unwrap()
}

const EMPTIED: &str = "rules:
  - name: old
    action: delete
    older_than: 30d
  - name: emptied
    action: delete_package
    packages: [test]
    every_version_deleted: true
";

#[test]
fn package_deleted_when_every_version_would_be() {
    let (inv, graph) = world();
    let p = run(&inv, &graph, EMPTIED);
    let test = package(&p, "test");
    let d = test.package.as_ref().expect("a package decision");
    assert_eq!(d.action, PackageAction::Delete, "{d:?}");
    assert_eq!(
        d.reasons,
        [PackageReason::EveryVersionDeleted {
            rule: "emptied".into(),
            versions: 3
        }]
    );
    // Without the package rule GitHub would refuse the last tagged version; as a
    // whole package every version goes, in one request, so none is in the order.
    for dec in &test.decisions {
        assert_eq!(dec.action, Action::Delete);
        assert_eq!(
            dec.reasons[0],
            Reason::DeletedWithPackage {
                rule: "emptied".into()
            }
        );
    }
    let pi = p.packages.iter().position(|pp| pp.name == "test").unwrap();
    assert!(p.order.iter().all(|r| r.package != pi), "{:?}", p.order);
    assert_eq!(p.deleted_packages(), vec![pi]);
    // `app` is not named by the package rule: no package decision, versions as usual.
    assert!(package(&p, "app").package.is_none());
}

#[test]
fn package_not_deleted_when_one_version_is_kept() {
    let (inv, graph) = world();
    let yaml =
        format!("{EMPTIED}  - name: keep-do-not-use\n    action: keep\n    tags: [do_not_use]\n");
    let p = run(&inv, &graph, &yaml);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Keep);
    assert!(
        matches!(&d.reasons[0], PackageReason::VersionsStay { rule, staying: 3, .. } if rule == "emptied"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn package_idle_rule_is_stopped_by_a_keep_rule() {
    let (inv, graph) = world();
    let yaml = "rules:
  - name: keep-do-not-use
    action: keep
    tags: [do_not_use]
  - name: ci
    action: delete_package
    packages: [test]
    older_than: 30d
";
    let p = run(&inv, &graph, yaml);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Keep);
    assert!(
        matches!(&d.reasons[0], PackageReason::KeptVersion { keep_rule, version } if keep_rule == "keep-do-not-use" && version.tag.as_deref() == Some("do_not_use")),
        "{:?}",
        d.reasons
    );
    // The condition that held is still shown after the safety reason.
    assert!(matches!(
        d.reasons[1],
        PackageReason::NoRecentVersion { .. }
    ));
    assert!(d.reasons[0].to_string().contains("kept for safety"));
    // Nothing is deleted in it.
    assert_eq!(package(&p, "test").count(Action::Delete), 0);
}

#[test]
fn package_idle_rule_deletes_what_no_version_rule_selects() {
    let (inv, graph) = world();
    let yaml = "rules:
  - name: ci
    action: delete_package
    packages: [\"te*\"]
    older_than: 30d
";
    let p = run(&inv, &graph, yaml);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Delete, "{d:?}");
    assert!(
        d.reasons[0].to_string().contains("40d old, at least 30d"),
        "{}",
        d.reasons[0]
    );
    assert_eq!(package(&p, "test").count(Action::Delete), 3);
}

#[test]
fn package_with_a_recent_version_is_kept_with_its_age() {
    let (inv, graph) = world();
    let yaml = "rules:
  - name: ci
    action: delete_package
    packages: [test]
    older_than: 60d
";
    let p = run(&inv, &graph, yaml);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Keep);
    assert_eq!(
        d.reasons[0].to_string(),
        "rule `ci`: its newest version test:do_not_use is only 40d old, younger than 60d"
    );
}

#[test]
fn package_with_an_unread_manifest_is_kept_for_safety() {
    let (inv, mut graph) = world();
    // The manifest of platform 3 could not be read.
    let mut partial = ManifestGraph::default();
    for n in [1, 2] {
        if let Some(node) = graph.package("test").and_then(|g| g.get(&dg(n))) {
            partial.package_mut("test").insert(node.clone());
        }
    }
    graph = partial;
    let yaml = "rules:
  - name: ci
    action: delete_package
    packages: [test]
    older_than: 30d
";
    let p = run(&inv, &graph, yaml);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Keep, "{d:?}");
    assert!(
        matches!(d.reasons[0], PackageReason::GraphUnknown { .. }),
        "{:?}",
        d.reasons
    );
}

#[test]
fn package_public_and_popular_is_kept_as_github_refuses() {
    let (mut inv, graph) = world();
    inv.packages[0].visibility = Some(Visibility::Public);
    inv.packages[0].versions[0].downloads = Some(6000);
    let p = run(&inv, &graph, EMPTIED);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Keep);
    assert!(d
        .reasons
        .iter()
        .any(|r| matches!(r, PackageReason::TooManyDownloads { downloads: 6000 })));
}

#[test]
fn package_keep_rule_by_label_without_manifests_is_kept_for_safety() {
    let (inv, _) = world();
    let yaml = "rules:
  - name: keep-labelled
    action: keep
    labels: {keep: \"yes\"}
  - name: ci
    action: delete_package
    packages: [test]
    older_than: 30d
";
    let p = run(&inv, &ManifestGraph::default(), yaml);
    let d = package(&p, "test").package.clone().unwrap();
    assert_eq!(d.action, PackageAction::Keep);
    assert!(
        matches!(&d.reasons[0], PackageReason::LabelsUnknown { keep_rule } if keep_rule == "keep-labelled"),
        "{:?}",
        d.reasons
    );
}
