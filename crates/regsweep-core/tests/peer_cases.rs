//! snok/container-retention-policy's unit-test cases on selection (its
//! `filter_by_matchers`, `filter_by_tag_selection`, keep-n and cut-off tests, read
//! for their expectations only), written as planner table cases: each row is one
//! version's tags, the `image-tags` input and snok's decision, run through the snok
//! translation and the planner. Where regsweep differs on purpose, the row says so.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use regsweep_core::plan::{Action, Plan};
use regsweep_core::planner::{plan, PlanInput, PlanOptions, PullRequests};
use regsweep_core::policy::snok::{parse_list, SnokInputs, TagSelection};
use regsweep_core::reason::Reason;
use regsweep_core::{
    Digest, Inventory, ManifestGraph, Package, TimestampField, Version, VersionId,
};

fn now() -> Timestamp {
    "2026-11-24T12:00:00Z".parse().expect("a timestamp")
}

/// One package `foo` of plain versions: (tags, age in days), ids from 1; no graph
/// (every manifest unread, so untagged versions are kept for safety).
fn inventory(versions: &[(&[&str], i64)]) -> Inventory {
    Inventory {
        packages: vec![Package {
            name: "foo".into(),
            visibility: None,
            versions: versions
                .iter()
                .enumerate()
                .map(|(k, (tags, days))| {
                    let ts = now() - SignedDuration::from_hours(24 * days);
                    Version {
                        id: VersionId(k as u64 + 1),
                        digest: Digest::parse(&format!("sha256:{:064x}", k + 1)).expect("digest"),
                        tags: tags.iter().map(|t| t.to_string()).collect(),
                        created_at: ts,
                        updated_at: ts,
                        downloads: None,
                    }
                })
                .collect(),
        }],
    }
}

fn snok(image_tags: &str, selection: TagSelection, keep_n: usize) -> SnokInputs {
    SnokInputs {
        image_names: parse_list("foo").expect("names"),
        image_tags: parse_list(image_tags).expect("tags"),
        skip_shas: Vec::new(),
        tag_selection: selection,
        keep_n_most_recent: keep_n,
        timestamp: TimestampField::UpdatedAt,
        cut_off: Duration::from_secs(7 * 86_400),
    }
}

fn run(inv: &Inventory, inputs: &SnokInputs) -> Plan {
    let policy = inputs.to_policy();
    plan(PlanInput {
        inventory: inv,
        graph: &ManifestGraph::default(),
        policy: &policy,
        now: now(),
        options: PlanOptions::default(),
        pulls: &PullRequests::new(),
    })
}

fn action(p: &Plan, id: u64) -> Action {
    p.packages[0]
        .decisions
        .iter()
        .find(|d| d.id == VersionId(id))
        .expect("decided")
        .action
}

/// snok's `filter_by_matchers` cases: (image-tags, the version's tags, deleted?).
#[test]
fn snok_tag_matcher_cases() {
    use Action::{Delete, Keep};
    let cases: &[(&str, &[&str], Action)] = &[
        // No filters: every tagged version.
        ("", &["foo"], Delete),
        ("", &["foo", "bar"], Delete),
        // Exact and wildcard positives, every tag matching.
        ("foo", &["foo"], Delete),
        ("foo*", &["foo", "foos"], Delete),
        ("foo?", &["foos"], Delete),
        ("foo?", &["foo"], Keep),
        // No tag matches.
        ("bar", &["foo"], Keep),
        // Partial match: kept (with a warning in snok, a reason here).
        ("foo", &["foo", "bar"], Keep),
        ("foo*", &["foo1", "latest", "foo2"], Keep),
        // A negative match on any tag: kept.
        ("!foo", &["foo"], Keep),
        ("!foo", &["bar", "foo"], Keep),
        // Negative and positive at once: kept.
        ("foo*, !foo2", &["foo1", "foo2"], Keep),
        // Only negatives, none matching: every tag counts as matched.
        ("!bar, !baz", &["foo", "qux"], Delete),
        // A lone `!` among exclusions excludes nothing, as in snok.
        ("!bar, !", &["foo"], Delete),
    ];
    for (k, (filter, tags, want)) in cases.iter().enumerate() {
        let inv = inventory(&[(tags, 30), (&["anchor"], 1)]);
        let p = run(&inv, &snok(filter, TagSelection::Tagged, 0));
        assert_eq!(
            action(&p, 1),
            *want,
            "case {k}: image-tags {filter:?}, tags {tags:?}"
        );
        if tags.len() > 1 && *want == Keep && !filter.contains('!') && !filter.is_empty() {
            let d = &p.packages[0].decisions[1];
            assert!(
                matches!(d.reasons.first(), Some(Reason::PartialTagMatch { .. }))
                    || matches!(d.reasons.first(), Some(Reason::NotSelected { .. })),
                "case {k}: {:?}",
                d.reasons
            );
        }
    }
}

/// snok's `filter_by_tag_selection`: tagged and untagged versions by selection.
/// regsweep differs in one place on purpose: without a graph (nothing read here),
/// untagged versions are kept for safety, where snok deletes them.
#[test]
fn snok_tag_selection_cases() {
    let inv = inventory(&[(&["foo"], 30), (&[], 30), (&["anchor"], 1)]);
    let tagged = run(&inv, &snok("", TagSelection::Tagged, 0));
    assert_eq!(action(&tagged, 1), Action::Delete);
    assert_eq!(action(&tagged, 2), Action::Keep);
    let untagged = run(&inv, &snok("", TagSelection::Untagged, 0));
    assert_eq!(action(&untagged, 1), Action::Keep);
    let both = run(&inv, &snok("", TagSelection::Both, 0));
    assert_eq!(action(&both, 1), Action::Delete);
    // snok: deleted. regsweep: the graph was not read, so it is kept.
    assert_eq!(action(&both, 2), Action::Keep);
    assert!(matches!(
        both.packages[0]
            .decisions
            .iter()
            .find(|d| d.id == VersionId(2))
            .and_then(|d| d.reasons.first()),
        Some(Reason::GraphUnknown { .. }) | Some(Reason::GraphNotRead)
    ));
}

/// snok's keep-n-most-recent: the n newest tagged candidates survive, by the
/// timestamp; candidates younger than the cut-off are not counted; partial matches
/// are not candidates, so they do not count either.
#[test]
fn snok_keep_n_and_cut_off_cases() {
    let inv = inventory(&[
        (&["pr-1"], 10),
        (&["pr-2"], 20),
        (&["pr-3"], 30),
        (&["pr-4", "v1"], 9),
        (&["pr-5"], 2),
    ]);
    let p = run(&inv, &snok("pr-*", TagSelection::Tagged, 1));
    assert_eq!(action(&p, 5), Action::Keep, "younger than the cut-off");
    assert_eq!(action(&p, 4), Action::Keep, "partial match, not counted");
    assert_eq!(action(&p, 1), Action::Keep, "the newest candidate, spared");
    assert_eq!(action(&p, 2), Action::Delete);
    assert_eq!(action(&p, 3), Action::Delete);
    let p = run(&inv, &snok("pr-*", TagSelection::Tagged, 5));
    for id in 1..=5 {
        assert_eq!(action(&p, id), Action::Keep, "version {id}");
    }
}
