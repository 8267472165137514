//! Retention policies: a list of rules, each selecting versions and saying keep or
//! delete.
//!
//! This module owns the policy model and its semantics (documented in
//! `docs/policy.md`); [`snok`] translates snok-style inputs into a policy and
//! [`file`] reads the YAML policy file. Evaluation lives in the planner.
//!
//! Semantics, in short: every rule is evaluated against every version of the packages
//! it selects. A version is kept when any keep rule selects it (keep beats delete),
//! deleted when a delete rule selects it and no keep rule does, and kept when no rule
//! selects it; a tagged version only when delete rules select every one of its tags.
//! `keep_newest: N` spares the N newest images (per group) among those the rule
//! selects; spared versions are kept. An untag rule removes the tags it selects
//! from a version that stays (see the planner for its safety rules). Rule order in the file does not change
//! any decision; it only orders the reasons shown.

pub mod file;
pub mod snok;
mod summary;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::matcher::{Matcher, PatternList};
use crate::model::{Digest, TimestampField};

/// What a rule does with the versions it selects.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    Keep,
    Delete,
    /// Remove the tags the rule selects from versions that stay; the image and its
    /// other tags stay (docs/policy.md, "Untagging").
    Untag,
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleAction::Keep => "keep",
            RuleAction::Delete => "delete",
            RuleAction::Untag => "untag",
        })
    }
}

/// Which versions a rule considers by their tags.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TagState {
    Tagged,
    Untagged,
    #[default]
    Any,
}

impl fmt::Display for TagState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TagState::Tagged => "tagged",
            TagState::Untagged => "untagged",
            TagState::Any => "any",
        })
    }
}

/// How `keep_newest` groups versions before counting.
#[derive(Clone, Debug, PartialEq, Default, Serialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "value")]
pub enum GroupBy {
    /// One group per package.
    #[default]
    Package,
    /// By the capture groups of a regex over tags (`pr-(\d+)-.*`); versions with no
    /// matching tag form one group.
    TagCapture(#[serde(serialize_with = "ser_matcher")] Matcher),
    /// By the semver major line of the first semver tag.
    SemverMajor,
    /// By the semver major.minor line of the first semver tag.
    SemverMinor,
    /// By the value of an OCI label or annotation.
    Label(String),
}

fn ser_matcher<S: serde::Serializer>(m: &Matcher, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.source())
}

/// `keep_newest`: spare the newest `count` versions per group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeepNewest {
    pub count: usize,
    pub group_by: GroupBy,
}

/// A condition on an OCI label or annotation (`org.opencontainers.image.revision`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelCondition {
    pub key: String,
    /// None: the label must be present (any value).
    pub value: Option<PatternList>,
}

/// The state a pull request must be in for a rule to apply to a version whose tag
/// names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PullRequestCondition {
    /// The repository (`owner/name`) the pull requests live in.
    pub repository: String,
    /// A regex with one capture group extracting the PR number from a tag or label.
    #[serde(serialize_with = "ser_matcher")]
    pub number_from: Matcher,
    pub state: PullRequestState,
    /// Only when the PR was closed or merged at least this long ago.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_duration")]
    pub closed_for: Option<Duration>,
}

/// Pull-request states a rule can require.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PullRequestState {
    Open,
    /// Merged or closed.
    Closed,
    Merged,
}

/// Semver lines (`1.x`, or `1.4.x`) a rule can count.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SemverLevel {
    Major,
    Minor,
}

/// Only versions whose semver tag belongs to one of the newest `count` lines of the
/// package (lines are read from the tags the rule's `tags` selector matches).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct SemverLines {
    pub level: SemverLevel,
    pub count: usize,
}

/// Broken images a rule can select (`broken:`): indexes whose listed manifests are
/// gone from the package.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Broken {
    /// None of the index's manifests exist.
    Ghost,
    /// Some of them are missing, not all.
    Partial,
    /// Ghost or partial.
    Any,
}

impl Broken {
    /// Whether an index missing `missing` of its `listed` manifests is selected.
    pub fn selects(self, missing: usize, listed: usize) -> bool {
        let ghost = missing > 0 && missing == listed;
        let partial = missing > 0 && missing < listed;
        match self {
            Broken::Ghost => ghost,
            Broken::Partial => partial,
            Broken::Any => ghost || partial,
        }
    }
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Broken::Ghost => "ghost",
            Broken::Partial => "partial",
            Broken::Any => "any",
        })
    }
}

/// One rule of a policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// A name shown in plans (`release-lines`, or `rule 3` when none was given).
    pub name: String,
    pub action: RuleAction,
    /// Packages the rule applies to (empty = all).
    pub packages: PatternList,
    /// For tagged versions: which tags select them. No tag may match an exclusion;
    /// a keep rule needs one tag matching an item, a delete rule every tag (with the
    /// other delete rules: deleting a version removes all its tags). Untagged
    /// versions are not affected.
    pub tags: PatternList,
    pub tag_state: TagState,
    /// Only these digests (empty = any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<Digest>,
    /// Label / annotation conditions (all must hold).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelCondition>,
    /// Only versions that nothing references and that explain nothing (untagged
    /// manifests no index, subject or cosign tag accounts for).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub orphans_only: bool,
    /// Only broken images: indexes some (`partial`) or all (`ghost`) of whose
    /// manifests are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<Broken>,
    /// Only versions older than this.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_duration")]
    pub older_than: Option<Duration>,
    /// Only versions newer than this.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_duration")]
    pub newer_than: Option<Duration>,
    /// Which timestamp ages and orderings use.
    pub timestamp: TimestampField,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_newest: Option<KeepNewest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestCondition>,
    /// Only versions in the newest N semver lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semver_lines: Option<SemverLines>,
}

impl Rule {
    /// Whether the rule needs labels read from image configs.
    pub fn needs_labels(&self) -> bool {
        !self.labels.is_empty()
            || matches!(
                self.keep_newest.as_ref().map(|k| &k.group_by),
                Some(GroupBy::Label(_))
            )
    }

    /// A rule with the given name and action that selects everything.
    pub fn new(name: impl Into<String>, action: RuleAction) -> Rule {
        Rule {
            name: name.into(),
            action,
            packages: PatternList::any(),
            tags: PatternList::any(),
            tag_state: TagState::Any,
            digests: Vec::new(),
            labels: Vec::new(),
            orphans_only: false,
            broken: None,
            older_than: None,
            newer_than: None,
            timestamp: TimestampField::UpdatedAt,
            keep_newest: None,
            pull_request: None,
            semver_lines: None,
        }
    }
}

/// A package rule (`action: delete_package`): deletes a whole package when its
/// conditions hold and nothing in the package is doubtful or kept
/// (`planner::packages` decides; docs/policy.md, "Whole packages").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PackageRule {
    /// A name shown in plans, unique among all the policy's rules.
    pub name: String,
    /// Packages the rule applies to; always given explicitly in a policy file.
    pub packages: PatternList,
    /// Only when every version of the package would be deleted by the version rules.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub every_version_deleted: bool,
    /// Only when the package's newest version is at least this old.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_duration")]
    pub older_than: Option<Duration>,
    /// Which timestamp `older_than` reads.
    pub timestamp: TimestampField,
}

/// A retention policy.
#[derive(Clone, Debug, PartialEq, Default, Serialize)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// Rules about whole packages (`action: delete_package`), after the version
    /// rules in a policy file's `rules:` list when rendered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub package_rules: Vec<PackageRule>,
}

impl Policy {
    /// Whether any rule needs labels read from image configs.
    pub fn needs_labels(&self) -> bool {
        self.rules.iter().any(Rule::needs_labels)
    }

    /// Repositories whose pull requests the policy needs.
    pub fn pull_request_repositories(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .rules
            .iter()
            .filter_map(|r| r.pull_request.as_ref().map(|p| p.repository.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The union of the rules' package selectors, for deciding which packages to list.
    pub fn package_selectors(&self) -> Vec<&PatternList> {
        self.rules
            .iter()
            .map(|r| &r.packages)
            .chain(self.package_rules.iter().map(|r| &r.packages))
            .collect()
    }
}

/// Labels of a version, as read from its manifest and config.
pub type Labels = BTreeMap<String, String>;

pub(crate) mod opt_duration {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }
}
