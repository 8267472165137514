//! JSON output (`--output json`): a documented schema with a `schema_version`;
//! changes are additive. See docs/json-output.md.
//!
//! The document is streamed to the writer as it is serialized: no intermediate
//! `serde_json::Value` tree, so a plan of 100,000 versions costs no more memory
//! to print than it took to compute.

use std::collections::HashMap;
use std::io::Write;

use regsweep_core::plan::{Action, Finding, PackagePlan};
use regsweep_core::reason::Reason;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::{Report, Timings, Totals};
use crate::executor::Outcome;
use crate::source::{ListingStats, UnreadablePackage};

/// Version of the JSON schema; bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

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

/// The policy: where it came from and its rules in order.
#[derive(Serialize)]
struct PolicyOut<'a> {
    source: &'a str,
    rules: Vec<RuleOut<'a>>,
}

#[derive(Serialize)]
struct RuleOut<'a> {
    name: &'a str,
    /// `keep`, `delete`, or `delete_package` (package rules, after the others).
    action: &'static str,
    summary: String,
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
    reason: Shown<super::ReasonOf<'a>>,
    reasons: &'a [Reason],
    /// For `untag`: the tags removed.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    untag: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a Outcome>,
}

/// A package's decision as a whole (present when a package rule names it).
#[derive(Serialize)]
struct PackageDecisionOut<'a> {
    action: regsweep_core::package_decision::PackageAction,
    /// The deciding reason, rendered.
    reason: String,
    reasons: &'a [regsweep_core::package_decision::PackageReason],
    versions: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a Outcome>,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    text: String,
    detail: &'a Finding,
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
                reason: Shown(super::ReasonOf(d)),
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
                &PackageDecisionOut {
                    action: d.action,
                    reason: d
                        .reasons
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    reasons: &d.reasons,
                    versions: d.versions,
                    outcome: self.package_outcome,
                },
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

/// Writes the JSON document (pretty-printed, newline-terminated) to `w`.
pub fn write(r: &Report<'_>, w: &mut dyn Write) -> std::io::Result<()> {
    let doc = Doc {
        schema_version: SCHEMA_VERSION,
        account: r.account,
        policy: PolicyOut {
            source: &r.policy_source,
            rules: r
                .policy
                .rules
                .iter()
                .map(|rule| RuleOut {
                    name: &rule.name,
                    action: match rule.action {
                        regsweep_core::policy::RuleAction::Keep => "keep",
                        regsweep_core::policy::RuleAction::Delete => "delete",
                        regsweep_core::policy::RuleAction::Untag => "untag",
                    },
                    summary: rule.summary(),
                })
                .chain(r.policy.package_rules.iter().map(|rule| RuleOut {
                    name: &rule.name,
                    action: "delete_package",
                    summary: rule.summary(),
                }))
                .collect(),
        },
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

/// serde_json's pretty layout (two spaces a level), byte for byte, with each line
/// break and its indentation written in one piece: `PrettyFormatter` writes the
/// indentation one level at a time, five or six writes a line in the decisions.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

/// A comma, a line break and the indentation of the 32 levels written at once;
/// deeper levels take more than one write.
const LINE: &[u8] = b",\n                                                                ";

impl Pretty {
    /// `,` when `comma`, then a line break and the current indentation.
    fn line<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        let start = if comma { 0 } else { 1 };
        let room = LINE.len() - 2;
        let spaces = self.level * 2;
        w.write_all(&LINE[start..2 + spaces.min(room)])?;
        let mut rest = spaces.saturating_sub(room);
        while rest > 0 {
            let n = rest.min(room);
            w.write_all(&LINE[2..2 + n])?;
            rest -= n;
        }
        Ok(())
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, open: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(open)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, close: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, false)?;
        }
        w.write_all(close)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Pretty` writes what serde_json's `PrettyFormatter` writes, deep levels too.
    #[test]
    fn pretty_matches_serde_json_layout() {
        let mut deep = serde_json::json!({"leaf": [1, "x\n\"y"], "empty": [], "none": {}});
        for i in 0..40 {
            deep = serde_json::json!({"level": i, "inner": [deep, {}], "list": [[], [true]]});
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
        deep.serialize(&mut ser).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap()
        );
    }
}
