//! Rendering a [`Policy`] back into the policy-file format (`--print-policy`).

use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::matcher::PatternList;
use crate::model::{Digest, TimestampField};
use crate::policy::{
    Broken, GroupBy, LabelCondition, PackageRule, Policy, PullRequestState, RuleAction,
    SemverLines, TagState,
};

use super::{default_state, FORMAT_VERSION};

/// Renders a duration the way users write them: `30d`, `12h`, `90m`, `45s`, or
/// humantime's long form (`2months`) for anything else. Parses back exactly.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_nanos() != 0 || s == 0 {
        return humantime::format_duration(d).to_string();
    }
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s % len == 0 {
            return format!("{}{unit}", s / len);
        }
    }
    if s < 3_600 {
        return format!("{s}s");
    }
    humantime::format_duration(d).to_string()
}

#[derive(Serialize)]
struct OutPolicy<'a> {
    version: u32,
    rules: Vec<OutRule<'a>>,
}

#[derive(Serialize)]
struct OutRule<'a> {
    name: &'a str,
    action: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    packages: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<TagState>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    digests: Vec<&'a str>,
    #[serde(skip_serializing_if = "is_empty_labels")]
    labels: OutLabels<'a>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    orphans: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    broken: Option<Broken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    older_than: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    newer_than: Option<String>,
    #[serde(skip_serializing_if = "is_updated_at")]
    timestamp: TimestampField,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_newest: Option<OutKeepNewest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    semver_lines: Option<SemverLines>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_request: Option<OutPullRequest<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    every_version_deleted: bool,
}

/// A package rule, in the same list and with the same key names as version rules.
fn package_rule(r: &PackageRule) -> OutRule<'_> {
    OutRule {
        name: &r.name,
        action: "delete_package",
        packages: r.packages.items(),
        tags: Vec::new(),
        state: None,
        digests: Vec::new(),
        labels: OutLabels(&[]),
        orphans: false,
        broken: None,
        older_than: r.older_than.map(format_duration),
        newer_than: None,
        timestamp: r.timestamp,
        keep_newest: None,
        semver_lines: None,
        pull_request: None,
        every_version_deleted: r.every_version_deleted,
    }
}

fn is_updated_at(t: &TimestampField) -> bool {
    *t == TimestampField::UpdatedAt
}

fn is_empty_labels(l: &OutLabels<'_>) -> bool {
    l.0.is_empty()
}

/// Labels in rule order (a mapping keeps the order it was written in).
struct OutLabels<'a>(&'a [LabelCondition]);

impl Serialize for OutLabels<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for c in self.0 {
            map.serialize_entry(&c.key, &c.value.as_ref().map(PatternList::items))?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum OutKeepNewest {
    Count(usize),
    Grouped { count: usize, per: String },
}

#[derive(Serialize)]
struct OutPullRequest<'a> {
    repository: &'a str,
    number_from: String,
    state: PullRequestState,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_for: Option<String>,
}

fn group_source(g: &GroupBy) -> String {
    match g {
        GroupBy::Package => "package".to_string(),
        GroupBy::TagCapture(m) => m.source(),
        GroupBy::SemverMajor => "semver-major".to_string(),
        GroupBy::SemverMinor => "semver-minor".to_string(),
        GroupBy::Label(k) => format!("label:{k}"),
    }
}

/// Renders `policy` as a policy file that [`parse`] reads back into an equal policy.
pub fn render(policy: &Policy) -> String {
    let out = OutPolicy {
        version: FORMAT_VERSION,
        rules: policy
            .rules
            .iter()
            .map(|r| OutRule {
                name: &r.name,
                action: match r.action {
                    RuleAction::Keep => "keep",
                    RuleAction::Delete => "delete",
                    RuleAction::Untag => "untag",
                },
                packages: r.packages.items(),
                tags: r.tags.items(),
                state: Some(r.tag_state).filter(|s| *s != default_state(&r.tags)),
                digests: r.digests.iter().map(Digest::as_str).collect(),
                labels: OutLabels(&r.labels),
                orphans: r.orphans_only,
                broken: r.broken,
                older_than: r.older_than.map(format_duration),
                newer_than: r.newer_than.map(format_duration),
                timestamp: r.timestamp,
                keep_newest: r.keep_newest.as_ref().map(|k| match &k.group_by {
                    GroupBy::Package => OutKeepNewest::Count(k.count),
                    g => OutKeepNewest::Grouped {
                        count: k.count,
                        per: group_source(g),
                    },
                }),
                semver_lines: r.semver_lines,
                pull_request: r.pull_request.as_ref().map(|p| OutPullRequest {
                    repository: &p.repository,
                    number_from: p.number_from.source(),
                    state: p.state,
                    closed_for: p.closed_for.map(format_duration),
                }),
                every_version_deleted: false,
            })
            .chain(policy.package_rules.iter().map(package_rule))
            .collect(),
    };
    // Serialising plain structs, strings and numbers cannot fail; an empty string
    // would be rejected by `parse` rather than silently accepted.
    serde_norway::to_string(&out).unwrap_or_default()
}
