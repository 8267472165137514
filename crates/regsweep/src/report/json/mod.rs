//! JSON output (`--output json`): a documented schema with a `schema_version`;
//! changes are additive. See docs/json-output.md.
//!
//! The document is streamed to the writer as it is made: no intermediate
//! `serde_json::Value` tree, so a plan of 100,000 versions costs no more memory to
//! print than it took to compute. What has one entry per version (the decisions, the
//! delete order) is written by hand ([`out::Out`]); the rest, and the nested parts of
//! a decision (its reasons, its outcome), by serde. Both write serde_json's pretty
//! layout byte for byte: the tests compare the document with serde's own rendering
//! of the same structures ([`reference`]).

mod out;
mod pretty;
mod reasons;
#[cfg(test)]
mod reference;

use std::io::Write;

use regsweep_core::plan::{Action, Decision, PackagePlan};
use serde::Serialize;

use super::Report;
use crate::executor::Outcome;
use out::Out;

/// Version of the JSON schema; bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The policy: where it came from and its rules in order.
#[derive(Serialize)]
struct PolicyOut<'a> {
    source: &'a str,
    rules: Vec<RuleOut<'a>>,
}

#[derive(Serialize)]
struct RuleOut<'a> {
    name: &'a str,
    /// `keep`, `delete`, `untag`, or `delete_package` (package rules, after the others).
    action: &'static str,
    summary: String,
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

impl<'a> PackageDecisionOut<'a> {
    fn of(
        d: &'a regsweep_core::package_decision::PackageDecision,
        outcome: Option<&'a Outcome>,
    ) -> Self {
        PackageDecisionOut {
            action: d.action,
            reason: d
                .reasons
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            reasons: &d.reasons,
            versions: d.versions,
            outcome,
        }
    }
}

#[derive(Serialize)]
struct FindingOut<'a> {
    text: String,
    detail: &'a regsweep_core::plan::Finding,
}

fn policy_out<'a>(r: &'a Report<'_>) -> PolicyOut<'a> {
    PolicyOut {
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
    }
}

/// A decision's action as serde writes it (`rename_all = "lowercase"`).
fn action_literal(a: Action) -> &'static [u8] {
    match a {
        Action::Keep => b"\"keep\"",
        Action::Delete => b"\"delete\"",
        Action::Skip => b"\"skip\"",
        Action::Untag => b"\"untag\"",
    }
}

/// Writes the JSON document (pretty-printed, newline-terminated) to `w`.
pub fn write(r: &Report<'_>, w: &mut dyn Write) -> std::io::Result<()> {
    let mut o = Out::new(w);
    o.open(b"{")?;
    o.entry("schema_version", &SCHEMA_VERSION)?;
    o.key("account")?;
    o.string(r.account)?;
    o.entry("policy", &policy_out(r))?;
    o.key("now")?;
    o.timestamp(r.now)?;
    o.entry("dry_run", &r.execution.is_none())?;
    o.entry("totals", &r.totals())?;
    o.entry("requests", &r.stats)?;
    o.entry("timings", &r.timings)?;
    o.key("packages")?;
    packages(&mut o, r)?;
    o.key("delete_order")?;
    delete_order(&mut o, r)?;
    o.entry(
        "interrupted",
        &r.execution.map(|e| e.interrupted).unwrap_or(false),
    )?;
    o.entry("unreadable_packages", r.unreadable)?;
    // After apply, when the plan removes tags: one entry per tag.
    if let Some(untags) = r.execution.map(|e| &e.untags).filter(|u| !u.is_empty()) {
        o.entry("untags", untags)?;
    }
    o.close(b"}")?;
    o.finish()
}

/// Every package of the plan: its decision as a whole, its decisions and findings.
fn packages<W: Write>(o: &mut Out<W>, r: &Report<'_>) -> std::io::Result<()> {
    let outcomes = r.outcome_map();
    o.open(b"[")?;
    for (index, p) in r.plan.packages.iter().enumerate() {
        o.element()?;
        o.open(b"{")?;
        o.key("name")?;
        o.string(&p.name)?;
        if let Some(d) = &p.package {
            o.entry(
                "package_decision",
                &PackageDecisionOut::of(d, r.package_outcome(index)),
            )?;
        }
        o.key("decisions")?;
        o.open(b"[")?;
        for (di, d) in p.decisions.iter().enumerate() {
            o.element()?;
            decision(o, d, outcomes.get(&(index, di)).copied())?;
            o.pass()?;
        }
        o.close(b"]")?;
        o.key("findings")?;
        findings(o, p)?;
        o.close(b"}")?;
    }
    o.close(b"]")
}

/// One decision: the version, the action, the deciding reason rendered, every
/// reason, and after apply its outcome.
fn decision<W: Write>(
    o: &mut Out<W>,
    d: &Decision,
    outcome: Option<&Outcome>,
) -> std::io::Result<()> {
    o.open(b"{")?;
    o.entry("id", &d.id.0)?;
    o.key("digest")?;
    o.string(d.digest.as_str())?;
    o.key("tags")?;
    o.strings(&d.tags)?;
    o.key("created_at")?;
    o.timestamp(d.created_at)?;
    o.key("updated_at")?;
    o.timestamp(d.updated_at)?;
    o.key("action")?;
    o.raw(action_literal(d.action))?;
    o.key("reason")?;
    o.shown(super::ReasonOf(d))?;
    o.key("reasons")?;
    reasons::write(o, &d.reasons)?;
    // For `untag`: the tags removed.
    if !d.untag.is_empty() {
        o.key("untag")?;
        o.strings(&d.untag)?;
    }
    if let Some(outcome) = outcome {
        o.entry("outcome", outcome)?;
    }
    o.close(b"}")
}

fn findings<W: Write>(o: &mut Out<W>, p: &PackagePlan) -> std::io::Result<()> {
    o.open(b"[")?;
    for f in &p.findings {
        o.element()?;
        o.value(&FindingOut {
            text: f.to_string(),
            detail: f,
        })?;
    }
    o.close(b"]")
}

/// Every deletion in execution order: `{"package": name, "id": id}`.
fn delete_order<W: Write>(o: &mut Out<W>, r: &Report<'_>) -> std::io::Result<()> {
    let plan = r.plan;
    o.open(b"[")?;
    for at in &plan.order {
        o.element()?;
        o.open(b"{")?;
        o.key("package")?;
        o.string(&plan.packages[at.package].name)?;
        o.entry("id", &plan.decision(*at).id.0)?;
        o.close(b"}")?;
        o.pass()?;
    }
    o.close(b"]")
}
