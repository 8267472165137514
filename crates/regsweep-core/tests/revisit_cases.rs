//! The re-plan after refusals met at delete time (`planner::revisit`) with untag
//! rules and artifacts: what it adds (no untag: a documented missed cleanup) and a
//! case the untag properties (`untag_props`) found.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use regsweep_core::graph::{ManifestKind, ManifestNode, OCI_MANIFEST};
use regsweep_core::plan::{Action, Plan, PlanRef};
use regsweep_core::planner::{plan, revisit, PlanInput, PlanOptions};
use regsweep_core::policy::{Policy, Rule, RuleAction, TagState};
use regsweep_core::reason::{Reason, Refusal};
use regsweep_core::{Digest, Inventory, ManifestGraph, Package, Version, VersionId};

#[path = "support/refusals.rs"]
mod refusals;
use refusals::GITHUB_LIKE;

fn now() -> Timestamp {
    "2025-06-01T00:00:00Z".parse().expect("a timestamp")
}

fn digest(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).expect("a digest")
}

fn decision(p: &Plan, id: u64) -> &regsweep_core::plan::Decision {
    p.packages[0]
        .decisions
        .iter()
        .find(|d| d.id == VersionId(id))
        .expect("decided")
}

fn at(p: &Plan, id: u64) -> PlanRef {
    PlanRef {
        package: 0,
        decision: p.packages[0]
            .decisions
            .iter()
            .position(|d| d.id == VersionId(id))
            .expect("decided"),
    }
}

/// An image (1, untagged), its cosign signature (2, tagged `sha256-<1>.sig`) and a
/// newer image tagged `latest` (3), all selected by one delete rule. GitHub's
/// last-tagged refusal is predicted on 3. When the delete of image 1 is refused
/// (after its signature was deleted: artifacts go before their subject), the
/// re-plan saw the signature as staying (a refused image protects its signature)
/// and so tagged, freed 3 as "no longer the last tagged version", and asked GitHub
/// to delete the package's last tag. The signature is gone, so 3 stays skipped.
/// `app:pr-1` (60 days old) goes by a delete rule, `app:pr-2` (new) would lose its
/// tag by an untag rule but keeps it: it would be the package's last tag. GitHub
/// refuses the delete of `pr-1` at delete time: it stays, tagged, so the untag of
/// `pr-2` could now be done, but the re-plan adds deletions only. A missed cleanup
/// (docs/policy.md, "Untagging"), never a lost tag.
#[test]
fn revisit_plans_no_new_untag_after_a_refusal() {
    let version = |id: u64, tag: &str, age: i64| {
        let ts = now() - SignedDuration::from_hours(age * 24);
        Version {
            id: VersionId(id),
            digest: digest(id),
            tags: vec![tag.to_string()],
            created_at: ts,
            updated_at: ts,
            downloads: None,
        }
    };
    let inv = Inventory {
        packages: vec![Package {
            name: "app".into(),
            visibility: None,
            versions: vec![version(1, "pr-1", 60), version(2, "pr-2", 1)],
        }],
    };
    let mut graph = ManifestGraph::default();
    for id in 1..=2 {
        graph.package_mut("app").insert(ManifestNode {
            digest: digest(id),
            media_type: OCI_MANIFEST.to_string(),
            kind: ManifestKind::Manifest,
            children: Vec::new(),
            subject: None,
            artifact_type: None,
            config: None,
            annotations: BTreeMap::new(),
        });
    }
    let policy = regsweep_core::policy::file::parse(
        "rules:\n  - {action: delete, tags: [\"pr-*\"], older_than: 30d}\n  - {action: untag, tags: [\"pr-*\"]}\n",
    )
    .expect("policy parses");
    let pulls = HashMap::new();
    let input = PlanInput {
        inventory: &inv,
        graph: &graph,
        policy: &policy,
        now: now(),
        options: PlanOptions {
            refusals: GITHUB_LIKE,
        },
        pulls: &pulls,
    };
    let mut p = plan(input);
    assert_eq!(decision(&p, 1).action, Action::Delete);
    assert_eq!(decision(&p, 2).action, Action::Skip);
    assert!(matches!(
        decision(&p, 2).reasons[0],
        Reason::Refused {
            refusal: Refusal::LastTagOfPackage
        }
    ));
    let refused = at(&p, 1);
    assert_eq!(revisit(input, &mut p, &[refused]), 0);
    assert_eq!(decision(&p, 2).action, Action::Skip);
    assert!(p.untags.is_empty());
}

#[test]
fn a_refused_image_does_not_free_the_last_tagged_version_through_its_deleted_signature() {
    let version = |id: u64, tags: &[String], age: i64| {
        let ts = now() - SignedDuration::from_hours(age);
        Version {
            id: VersionId(id),
            digest: digest(id),
            tags: tags.to_vec(),
            created_at: ts,
            updated_at: ts,
            downloads: None,
        }
    };
    let sig = format!("sha256-{}.sig", digest(1).hex());
    let inv = Inventory {
        packages: vec![Package {
            name: "app".into(),
            visibility: None,
            versions: vec![
                version(1, &[], 100),
                version(2, &[sig], 90),
                version(3, &["latest".into()], 1),
            ],
        }],
    };
    let mut graph = ManifestGraph::default();
    let pg = graph.package_mut("app");
    for id in 1..=3 {
        pg.insert(ManifestNode {
            digest: digest(id),
            media_type: OCI_MANIFEST.to_string(),
            kind: ManifestKind::Manifest,
            children: Vec::new(),
            subject: None,
            artifact_type: None,
            config: None,
            annotations: BTreeMap::new(),
        });
    }
    let mut everything = Rule::new("everything", RuleAction::Delete);
    everything.tag_state = TagState::Any;
    let policy = Policy {
        rules: vec![everything],
        ..Policy::default()
    };
    let pulls = HashMap::new();
    let input = PlanInput {
        inventory: &inv,
        graph: &graph,
        policy: &policy,
        now: now(),
        options: PlanOptions {
            refusals: GITHUB_LIKE,
        },
        pulls: &pulls,
    };
    let mut p = plan(input);
    assert_eq!(decision(&p, 1).action, Action::Delete);
    assert_eq!(decision(&p, 2).action, Action::Delete);
    assert_eq!(decision(&p, 3).action, Action::Skip);
    let refused = at(&p, 1);
    assert_eq!(revisit(input, &mut p, &[refused]), 0);
    let d = decision(&p, 3);
    assert_eq!(d.action, Action::Skip, "{:?}", d.reasons);
    assert!(matches!(
        d.reasons[0],
        Reason::Refused {
            refusal: Refusal::LastTaggedVersion
        }
    ));
}
