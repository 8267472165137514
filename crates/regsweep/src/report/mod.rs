//! Reports: the plan and the result rendered for people (table, Markdown) and
//! machines (JSON), and the GitHub Actions outputs.
//!
//! Rendering is pure: functions take the plan and the execution and return text.
//! Writing to stdout or to `$GITHUB_OUTPUT` happens in `commands`.

pub mod actions;
pub mod json;
pub mod markdown;
pub mod table;

use regsweep_core::plan::{Action, Decision, Plan};
use regsweep_core::reason::Reason;

use crate::executor::{Execution, Outcome};

/// Everything a report shows.
pub struct Report<'a> {
    pub account: &'a str,
    pub plan: &'a Plan,
    /// Present after `apply`.
    pub execution: Option<&'a Execution>,
    pub now: jiff::Timestamp,
    pub dry_run: bool,
    pub show_kept: bool,
    pub stats: crate::source::ListingStats,
    pub timings: Timings,
    /// The policy that made the plan, and where it came from.
    pub policy: &'a regsweep_core::policy::Policy,
    pub policy_source: String,
    /// Selected packages that could not be read: not planned, nothing deleted.
    pub unreadable: &'a [crate::source::UnreadablePackage],
}

/// Timings of the phases, for reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub listing_ms: u128,
    pub planning_ms: u128,
    pub deleting_ms: u128,
}

/// Totals shown in every format.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, PartialEq, Eq)]
pub struct Totals {
    pub versions: usize,
    pub keep: usize,
    pub delete: usize,
    pub skip: usize,
    /// Kept versions a delete rule would have deleted but for tags no delete rule
    /// selects (a partial tag match); absent from JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub partial_tag_matches: usize,
    /// Versions untag rules remove tags from (they stay); absent when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub untag: usize,
    /// Tags the plan removes from those versions; absent when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub untag_tags: usize,
    /// After apply, when the plan removes tags: tags removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untagged: Option<usize>,
    /// After apply, when the plan removes tags: untags that failed or were left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untag_failed: Option<usize>,
    /// After apply:
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_at_runtime: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<usize>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Totals {
    /// The partial-match line reports add under the counts, when there are any.
    pub fn partial_line(&self) -> Option<String> {
        (self.partial_tag_matches > 0).then(|| {
            format!(
                "{} kept because delete rules select only some of their tags (deleting would remove the others; --show-kept lists them)",
                count(self.partial_tag_matches, "version")
            )
        })
    }

    /// The untag line reports add under the counts, when the plan removes tags.
    pub fn untag_line(&self) -> Option<String> {
        (self.untag_tags > 0).then(|| {
            let mut l = format!(
                "{} to remove from {} that stay",
                count(self.untag_tags, "tag"),
                count(self.untag, "version")
            );
            if let (Some(done), Some(failed)) = (self.untagged, self.untag_failed) {
                l.push_str(&format!(": untagged {done}, failed or left {failed}"));
            }
            l
        })
    }

    /// The apply-only counts with their labels, in the order reports show them
    /// (zero before apply).
    pub fn applied(&self) -> [(&'static str, usize); 4] {
        [
            ("deleted", self.deleted.unwrap_or(0)),
            ("failed", self.failed.unwrap_or(0)),
            ("skipped by GitHub", self.skipped_at_runtime.unwrap_or(0)),
            ("left for the next run", self.left.unwrap_or(0)),
        ]
    }
}

impl Report<'_> {
    /// The totals.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            versions: self.plan.packages.iter().map(|p| p.decisions.len()).sum(),
            keep: self.plan.count(Action::Keep),
            delete: self.plan.count(Action::Delete),
            skip: self.plan.count(Action::Skip),
            partial_tag_matches: self
                .plan
                .packages
                .iter()
                .flat_map(|p| &p.decisions)
                .filter(|d| matches!(d.reasons.first(), Some(Reason::PartialTagMatch { .. })))
                .count(),
            ..Totals::default()
        };
        t.untag = self.plan.count(Action::Untag);
        t.untag_tags = self.plan.untag_count();
        if let (Some(e), true) = (self.execution, t.untag_tags > 0) {
            use crate::executor::untag::UntagStatus;
            t.untagged = Some(
                e.untags
                    .iter()
                    .filter(|u| u.status == UntagStatus::Untagged)
                    .count(),
            );
            t.untag_failed = Some(
                e.untags
                    .iter()
                    .filter(|u| matches!(u.status, UntagStatus::Failed | UntagStatus::Left))
                    .count(),
            );
        }
        if let Some(e) = self.execution {
            // A whole package's outcome is each of its versions' outcome.
            let whole = |f: &dyn Fn(&Outcome) -> bool| -> usize {
                e.packages
                    .iter()
                    .filter(|p| f(&p.outcome))
                    .map(|p| self.plan.packages[p.package].decisions.len())
                    .sum()
            };
            let deleted = |o: &Outcome| matches!(o, Outcome::Deleted | Outcome::AlreadyGone);
            let failed = |o: &Outcome| matches!(o, Outcome::Failed(_));
            let skipped = |o: &Outcome| matches!(o, Outcome::Skipped(_));
            let left = |o: &Outcome| matches!(o, Outcome::Left(_));
            t.deleted = Some(e.count(deleted) + whole(&deleted));
            t.failed = Some(e.count(failed) + whole(&failed));
            t.skipped_at_runtime = Some(e.count(skipped) + whole(&skipped));
            t.left = Some(e.count(left) + whole(&left));
        }
        t
    }

    /// The outcome of deleting package `pi` as a whole, after apply.
    pub fn package_outcome(&self, pi: usize) -> Option<&Outcome> {
        self.execution?
            .packages
            .iter()
            .find(|p| p.package == pi)
            .map(|p| &p.outcome)
    }

    /// Precomputed map from (package, decision) to the outcome, for large plans.
    pub fn outcome_map(&self) -> std::collections::HashMap<(usize, usize), &Outcome> {
        let mut m = std::collections::HashMap::new();
        if let Some(e) = self.execution {
            for (k, r) in self.plan.order.iter().enumerate() {
                if let Some(o) = e.outcomes.get(k) {
                    m.insert((r.package, r.decision), o);
                }
            }
            for p in &e.packages {
                for di in 0..self.plan.packages[p.package].decisions.len() {
                    m.insert((p.package, di), &p.outcome);
                }
            }
        }
        m
    }
}

/// How rules combine, in the order the planner applies them (docs/policy.md,
/// "Evaluation").
pub const EVALUATION: &str = "keep beats delete; whatever a kept version needs (platforms, attestations, signatures, referrers) is kept with it; what a deleted index alone needed is deleted with it; versions GitHub would refuse are skipped";

/// The policy header: one line per rule, in file order (package rules last).
pub fn policy_lines(r: &Report<'_>) -> Vec<String> {
    r.policy
        .rules
        .iter()
        .map(|rule| (rule.name.as_str(), rule.summary()))
        .chain(
            r.policy
                .package_rules
                .iter()
                .map(|rule| (rule.name.as_str(), rule.summary())),
        )
        .enumerate()
        .map(|(i, (name, summary))| format!("{}. `{name}`: {summary}", i + 1))
        .collect()
}

/// The line about package `pi` as a whole, when a package rule names it: "deleted
/// as a whole: …" or "package kept: …", with the outcome after apply.
pub fn package_line(r: &Report<'_>, pi: usize) -> Option<String> {
    use regsweep_core::package_decision::PackageAction;
    let d = r.plan.packages[pi].package.as_ref()?;
    let why = d
        .reasons
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut line = match d.action {
        PackageAction::Delete => format!(
            "whole package deleted ({} with it): {why}",
            count(d.versions, "version")
        ),
        PackageAction::Keep => format!("package not deleted as a whole: {why}"),
    };
    if let Some(o) = r.package_outcome(pi) {
        line.push_str(&format!(" [{}]", outcome_label(o)));
    }
    Some(line)
}

/// The decisions a package's listing shows, with their index: deletions and skips,
/// and kept versions too with `--show-kept`.
pub fn shown_rows(
    p: &regsweep_core::plan::PackagePlan,
    show_kept: bool,
) -> Vec<(usize, &Decision)> {
    p.decisions
        .iter()
        .enumerate()
        .filter(|(_, d)| show_kept || d.action != Action::Keep)
        .collect()
}

/// The kept versions of a package counted by what kept them, e.g. "kept 16: 8 by
/// rules, 6 needed by kept images, 2 not selected by any rule".
pub fn kept_summary(p: &regsweep_core::plan::PackagePlan) -> Option<String> {
    use regsweep_core::reason::Reason;
    let mut counts = [0usize; 4];
    for d in p.decisions.iter().filter(|d| d.action == Action::Keep) {
        let slot = match d.reasons.first() {
            Some(Reason::KeptByRule { .. }) => 0,
            Some(Reason::Protected { .. }) => 1,
            Some(Reason::GraphUnknown { .. } | Reason::GraphNotRead) => 3,
            _ => 2,
        };
        counts[slot] += 1;
    }
    let total: usize = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let labels = [
        "by rules",
        "needed by kept images",
        "not selected by any rule",
        "for safety (manifests unknown)",
    ];
    let parts: Vec<String> = counts
        .iter()
        .zip(labels)
        .filter(|(n, _)| **n > 0)
        .map(|(n, l)| format!("{n} {l}"))
        .collect();
    Some(format!("kept {total}: {}", parts.join(", ")))
}

/// One line per unreadable package: its name and the first line of the message
/// (what went wrong), for tables and summaries.
pub fn unreadable_lines(r: &Report<'_>) -> Vec<String> {
    r.unreadable
        .iter()
        .map(|u| {
            let first = u.message.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        })
        .collect()
}

/// `n` and the noun, plural unless `n` is 1: "1 package", "3 packages".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Age of a decision's version for display.
pub fn age_of(d: &Decision, now: jiff::Timestamp) -> String {
    regsweep_core::reason::human(regsweep_core::model::age(now, d.updated_at))
}

/// Tags for display (`-` when untagged), shortened cosign tags.
pub fn tags_of(d: &Decision) -> String {
    if d.tags.is_empty() {
        return "-".to_string();
    }
    d.tags
        .iter()
        .map(|t| match regsweep_core::graph::parse_artifact_tag(t) {
            Some((s, _)) => format!("sha256-{}…{}", &s.hex()[..12], &t[7 + s.hex().len()..]),
            None => t.clone(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The deciding reason, rendered; for a version a rule deletes that also belongs
/// to a deleted image, which image ("…; platform linux/arm64 of deleted app:v1").
pub fn reason_of(d: &Decision) -> String {
    ReasonOf(d).to_string()
}

/// [`reason_of`] as a `Display`, to write it without building the string.
pub struct ReasonOf<'a>(pub &'a Decision);

impl std::fmt::Display for ReasonOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reasons = &self.0.reasons;
        let Some(first) = reasons.first() else {
            return Ok(());
        };
        write!(f, "{first}")?;
        if matches!(first, Reason::DeletedByRule { .. }) {
            if let Some(with) = reasons[1..]
                .iter()
                .find(|r| matches!(r, Reason::DeletedWith { .. }))
            {
                write!(f, "; {with}")?;
            }
        }
        Ok(())
    }
}

/// Findings for display: unread manifests folded into one line per package.
pub fn finding_lines(findings: &[regsweep_core::plan::Finding]) -> Vec<String> {
    use regsweep_core::plan::Finding;
    let unread: Vec<_> = findings
        .iter()
        .filter(|f| matches!(f, Finding::Unread { .. }))
        .collect();
    let mut lines: Vec<String> = findings
        .iter()
        .filter(|f| !matches!(f, Finding::Unread { .. }))
        .map(|f| f.to_string())
        .collect();
    match unread.len() {
        0 => {}
        1 => lines.push(format!("{}; untagged versions of this package are kept for safety", unread[0])),
        n => lines.push(format!(
            "{n} manifests could not be read (first: {}); untagged versions of this package are kept for safety",
            unread[0].to_string().trim_start_matches("unread: the manifest of ").trim_end_matches(" could not be read")
        )),
    }
    lines
}

/// Outcome label for display.
pub fn outcome_label(o: &Outcome) -> String {
    match o {
        Outcome::Deleted => "deleted".into(),
        Outcome::AlreadyGone => "already gone".into(),
        Outcome::Skipped(w) => format!("skipped: {}", w.message),
        Outcome::Failed(w) => format!("FAILED: {}", w.message),
        Outcome::Left(w) => format!("left: {}", w.message),
    }
}
