//! The JSON document as serde renders it from plain structures: the oracle the
//! hand-written document (the parent module) is compared with, byte for byte. It is
//! the writer the report had before the decisions were written by hand.

use std::collections::HashMap;
use std::io::Write;

use regsweep_core::plan::{Action, PackagePlan};
use regsweep_core::reason::Reason;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::pretty::Pretty;
use super::{policy_out, FindingOut, PackageDecisionOut, PolicyOut, SCHEMA_VERSION};
use crate::executor::Outcome;
use crate::report::{Report, Timings, Totals};
use crate::source::{ListingStats, UnreadablePackage};

/// The whole document.
#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    account: &'a str,
    policy: PolicyOut<'a>,
    now: String,
    dry_run: bool,
    totals: Totals,
    requests: ListingStats,
    timings: Timings,
    packages: Packages<'a>,
    delete_order: DeleteOrder<'a>,
    interrupted: bool,
    unreadable_packages: &'a [UnreadablePackage],
    /// After apply, when the plan removes tags: one entry per tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    untags: Option<&'a [crate::executor::untag::UntagDone]>,
}

/// Every package of the plan, serialized lazily.
struct Packages<'a> {
    report: &'a Report<'a>,
    outcomes: HashMap<(usize, usize), &'a Outcome>,
}

/// One package: its decision as a whole, its decisions and findings.
struct PackageOut<'a> {
    index: usize,
    package: &'a PackagePlan,
    outcomes: &'a HashMap<(usize, usize), &'a Outcome>,
    package_outcome: Option<&'a Outcome>,
}

#[derive(Serialize)]
struct DecisionOut<'a> {
    id: u64,
    digest: &'a str,
    tags: &'a [String],
    created_at: Shown<jiff::Timestamp>,
    updated_at: Shown<jiff::Timestamp>,
    action: Action,
    /// The deciding reason, rendered.
    reason: Shown<crate::report::ReasonOf<'a>>,
    reasons: &'a [Reason],
    /// For `untag`: the tags removed.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    untag: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a Outcome>,
}

#[derive(Serialize)]
struct OrderOut<'a> {
    package: &'a str,
    id: u64,
}

/// The delete order, serialized lazily.
struct DeleteOrder<'a>(&'a Report<'a>);

impl Serialize for Packages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.report
                .plan
                .packages
                .iter()
                .enumerate()
                .map(|(index, package)| PackageOut {
                    index,
                    package,
                    outcomes: &self.outcomes,
                    package_outcome: self.report.package_outcome(index),
                }),
        )
    }
}

/// A value serialized as the string its `Display` writes, written straight into
/// the document (no `String` per value: a plan of 100,000 versions has 300,000).
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A sequence serialized from an iterator made on demand.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

impl Serialize for PackageOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.package;
        let decisions = Seq(|| {
            p.decisions.iter().enumerate().map(|(di, d)| DecisionOut {
                id: d.id.0,
                digest: d.digest.as_str(),
                tags: &d.tags,
                created_at: Shown(d.created_at),
                updated_at: Shown(d.updated_at),
                action: d.action,
                reason: Shown(crate::report::ReasonOf(d)),
                reasons: &d.reasons,
                untag: &d.untag,
                outcome: self.outcomes.get(&(self.index, di)).copied(),
            })
        });
        let findings = Seq(|| {
            p.findings.iter().map(|f| FindingOut {
                text: f.to_string(),
                detail: f,
            })
        });
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &p.name)?;
        if let Some(d) = &p.package {
            m.serialize_entry(
                "package_decision",
                &PackageDecisionOut::of(d, self.package_outcome),
            )?;
        }
        m.serialize_entry("decisions", &decisions)?;
        m.serialize_entry("findings", &findings)?;
        m.end()
    }
}

impl Serialize for DeleteOrder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plan = self.0.plan;
        s.collect_seq(plan.order.iter().map(|o| OrderOut {
            package: &plan.packages[o.package].name,
            id: plan.decision(*o).id.0,
        }))
    }
}

/// The document as serde renders it.
pub(super) fn write(r: &Report<'_>, w: &mut dyn Write) -> std::io::Result<()> {
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        account: r.account,
        policy: policy_out(r),
        now: r.now.to_string(),
        dry_run: r.execution.is_none(),
        totals: r.totals(),
        requests: r.stats,
        timings: r.timings,
        packages: Packages {
            report: r,
            outcomes: r.outcome_map(),
        },
        delete_order: DeleteOrder(r),
        interrupted: r.execution.map(|e| e.interrupted).unwrap_or(false),
        unreadable_packages: r.unreadable,
        untags: r
            .execution
            .map(|e| e.untags.as_slice())
            .filter(|u| !u.is_empty()),
    };
    // A buffer of a known type: serde_json writes the document in small pieces,
    // each a call through `dyn Write` otherwise.
    let mut buf = std::io::BufWriter::with_capacity(1 << 16, w);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Pretty::default());
    doc.serialize(&mut ser).map_err(std::io::Error::from)?;
    writeln!(buf)?;
    buf.flush()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regsweep_core::plan::{Decision, Finding, Plan};
    use regsweep_core::reason::{Reason, VersionRef};
    use regsweep_core::{Digest, VersionId};

    use crate::executor::{Execution, Outcome};
    use crate::report::Report;

    /// Both renderings of `r`.
    fn both(r: &Report<'_>) -> (String, String) {
        let mut mine = Vec::new();
        super::super::write(r, &mut mine).unwrap();
        let mut theirs = Vec::new();
        super::write(r, &mut theirs).unwrap();
        (
            String::from_utf8(mine).unwrap(),
            String::from_utf8(theirs).unwrap(),
        )
    }

    fn digest(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    /// A plan by the planner: two packages (one with a quote and a line break in its
    /// name), deletions, keeps; then an empty package.
    fn planned(policy: &regsweep_core::policy::Policy, now: jiff::Timestamp) -> Plan {
        let inventory: regsweep_core::model::Inventory =
            serde_json::from_value(serde_json::json!({
                "packages": [
                    {"name": "app", "versions": [
                        {"id": 7, "digest": digest('a').as_str(), "tags": ["v1", "sha-1"],
                         "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T03:04:05Z"},
                        {"id": 8, "digest": digest('b').as_str(), "tags": [],
                         "created_at": "2026-11-24T00:00:00.25Z", "updated_at": "2026-11-24T00:00:00Z"},
                        {"id": 9, "digest": digest('c').as_str(), "tags": ["pr-\"1\"\n"],
                         "created_at": "2025-02-28T23:59:59Z", "updated_at": "2025-03-01T00:00:00Z"},
                    ]},
                    {"name": "we\"ird\\name\u{7}", "versions": [
                        {"id": 10, "digest": digest('d').as_str(), "tags": ["é✓"],
                         "created_at": "1999-12-31T23:59:59Z", "updated_at": "2000-01-01T00:00:00Z"},
                    ]},
                    {"name": "empty", "versions": []},
                ]
            }))
            .unwrap();
        regsweep_core::planner::plan(regsweep_core::planner::PlanInput {
            inventory: &inventory,
            graph: &Default::default(),
            policy,
            now,
            options: Default::default(),
            pulls: &Default::default(),
        })
    }

    fn policy() -> regsweep_core::policy::Policy {
        regsweep_core::policy::file::parse_named(
            "p\"olicy",
            "rules: [{name: \"keep \\\"v\\\"\", action: keep, tags: ['v*']}, {action: delete, older_than: 30d}]",
        )
        .unwrap()
    }

    fn report<'a>(
        plan: &'a Plan,
        policy: &'a regsweep_core::policy::Policy,
        execution: Option<&'a Execution>,
        now: jiff::Timestamp,
    ) -> Report<'a> {
        Report {
            account: "ac\"me",
            plan,
            execution,
            now,
            dry_run: execution.is_none(),
            show_kept: false,
            stats: Default::default(),
            timings: Default::default(),
            policy,
            policy_source: "a \\ file".into(),
            unreadable: &[],
        }
    }

    /// Every hand-written part: reasons of several kinds, an untag, findings, a
    /// package decision, outcomes, untags after apply, unreadable packages.
    #[test]
    fn the_document_is_the_one_serde_writes() {
        let now: jiff::Timestamp = "2026-11-24T12:00:00.5Z".parse().unwrap();
        let policy = policy();
        let mut plan = planned(&policy, now);
        assert!(!plan.order.is_empty(), "the policy deletes something");
        let vref = |c| VersionRef {
            package: "app".into(),
            id: VersionId(7),
            digest: digest(c),
            tag: Some("v\"1".into()),
        };
        let extra = Decision {
            id: VersionId(11),
            digest: digest('e'),
            tags: vec!["keep\tme".into(), "drop".into()],
            created_at: "2026-02-03T04:05:06.789Z".parse().unwrap(),
            updated_at: "9999-12-30T22:00:00Z".parse().unwrap(),
            action: regsweep_core::plan::Action::Untag,
            reasons: vec![
                Reason::OverridesDelete {
                    rule: "r\n1".into(),
                },
                Reason::PartialTagMatch {
                    rule: "r".into(),
                    unselected: vec!["a\"b".into()],
                },
                Reason::GraphNotRead,
                Reason::NoLongerLastTagged {
                    kept: Box::new(vref('a')),
                },
            ],
            untag: vec!["drop".into()],
        };
        plan.packages[0].decisions.push(extra);
        plan.packages[0]
            .findings
            .push(Finding::Orphan { version: vref('b') });
        let weird = plan
            .packages
            .iter()
            .position(|p| p.name.starts_with("we"))
            .unwrap();
        plan.packages[weird].package = Some(regsweep_core::package_decision::PackageDecision {
            action: regsweep_core::package_decision::PackageAction::Keep,
            reasons: vec![],
            versions: 1,
        });
        let dry = report(&plan, &policy, None, now);
        let (mine, theirs) = both(&dry);
        assert_eq!(mine, theirs, "the plan's document");
        let execution = Execution {
            outcomes: plan
                .order
                .iter()
                .enumerate()
                .map(|(i, _)| match i % 3 {
                    0 => Outcome::Deleted,
                    1 => Outcome::AlreadyGone,
                    _ => Outcome::Left(crate::outcome::Why::new(
                        crate::outcome::LeftCode::Interrupted,
                        "stopped \"here\"",
                    )),
                })
                .collect(),
            interrupted: true,
            untags: vec![crate::executor::untag::UntagDone {
                package: "app".into(),
                id: 11,
                tag: "drop".into(),
                status: crate::executor::untag::UntagStatus::Untagged,
                code: None,
                reason: Some("x\ny".into()),
            }],
            ..Default::default()
        };
        let unreadable = [crate::source::UnreadablePackage {
            package: "broken\"".into(),
            problem: crate::source::UnreadableKind::MalformedEntry,
            version: Some(3),
            field: Some("metadata.container.tags".into()),
            message: "a \\ detail".into(),
        }];
        let mut applied = report(&plan, &policy, Some(&execution), now);
        applied.unreadable = &unreadable;
        let (mine, theirs) = both(&applied);
        assert_eq!(mine, theirs, "the applied document");
        let doc: serde_json::Value = serde_json::from_str(&mine).unwrap();
        assert_eq!(doc["packages"][0]["decisions"][3]["untag"][0], "drop");
        let names: Vec<&str> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"we\"ird\\name\u{7}"), "{names:?}");
        let empty = names.iter().position(|n| *n == "empty").unwrap();
        assert_eq!(doc["packages"][empty]["decisions"], serde_json::json!([]));
    }

    /// A reason of kind `k` (the kinds written by hand, and some serde writes).
    fn some_reason(k: usize, rule: &str, age: u64) -> Reason {
        use regsweep_core::policy::TagState;
        use regsweep_core::reason::{Miss, RuleMiss, Selected};
        use std::time::Duration;
        let age = Duration::from_secs(age);
        let limit = Duration::from_secs(age.as_secs() / 3);
        let miss = |miss| RuleMiss {
            rule: rule.into(),
            miss,
        };
        match k {
            0 => Reason::KeptByRule {
                rule: rule.into(),
                how: Selected::Matched { age },
            },
            1 => Reason::DeletedByRule {
                rule: rule.into(),
                how: Selected::Matched { age },
            },
            2 => Reason::NotSelected { misses: vec![] },
            3 => Reason::NotSelected {
                misses: vec![
                    miss(Miss::TooNew { age, limit }),
                    miss(Miss::TooOld { age, limit }),
                ],
            },
            4 => Reason::NotSelected {
                misses: vec![
                    miss(Miss::TagState {
                        wanted: TagState::Untagged,
                    }),
                    miss(Miss::TagsNotMatched {
                        patterns: format!("`{rule}`"),
                    }),
                ],
            },
            5 => Reason::NotSelected {
                misses: vec![
                    miss(Miss::DigestNotListed),
                    miss(Miss::TagExcluded {
                        tag: rule.into(),
                        pattern: "*".into(),
                    }),
                    miss(Miss::TagState {
                        wanted: TagState::Tagged,
                    }),
                ],
            },
            6 => Reason::KeptByRule {
                rule: rule.into(),
                how: Selected::Newest {
                    rank: 1,
                    count: 2,
                    group: Some(rule.into()),
                },
            },
            7 => Reason::OverridesDelete { rule: rule.into() },
            _ => Reason::GraphNotRead,
        }
    }

    proptest! {
        /// Random tags, times, rule names and reasons in decisions.
        #[test]
        fn any_decision_is_written_as_serde_writes_it(
            tags in proptest::collection::vec(any::<String>(), 0..3),
            untag in proptest::collection::vec(any::<String>(), 0..2),
            secs in 0i64..300_000_000_000,
            nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000],
            rule in any::<String>(),
            action in 0usize..4,
            kinds in proptest::collection::vec(0usize..9, 0..4),
            age in 0u64..10_000_000_000,
        ) {
            let now: jiff::Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
            let policy = policy();
            let mut plan = planned(&policy, now);
            let t = jiff::Timestamp::new(secs.min(jiff::Timestamp::MAX.as_second()), nanos)
                .unwrap_or(now);
            let d = &mut plan.packages.iter_mut().find(|p| p.name != "empty").unwrap().decisions[0];
            d.tags = tags;
            d.untag = untag;
            d.created_at = t;
            d.action = [
                regsweep_core::plan::Action::Keep,
                regsweep_core::plan::Action::Delete,
                regsweep_core::plan::Action::Skip,
                regsweep_core::plan::Action::Untag,
            ][action];
            d.reasons = kinds.iter().map(|&k| some_reason(k, &rule, age)).collect();
            let (mine, theirs) = both(&report(&plan, &policy, None, now));
            prop_assert_eq!(mine, theirs);
        }
    }
}
