//! Selection: whether one rule selects one version, and if not, why (the first
//! condition that fails, in the documented order), with the helpers it needs
//! (labels, semver lines, pull requests, `keep_newest` groups).

use std::collections::BTreeMap;
use std::time::Duration;

use super::PackagePlanner;
use crate::graph::parse_artifact_tag;
use crate::matcher::{parse_semver_tag, TagMatch};
use crate::model::{age, Version};
use crate::policy::{
    GroupBy, PullRequestState, Rule, RuleAction, SemverLevel, SemverLines, TagState,
};
use crate::reason::Miss;

impl PackagePlanner<'_> {
    pub(super) fn labels(&self, i: usize) -> Option<&BTreeMap<String, String>> {
        self.pg.get(&self.vs[i].digest).map(|n| &n.annotations)
    }

    /// The newest `count` semver lines among tags the rule's selector matches.
    pub(super) fn top_lines(&self, rule: &Rule, lines: SemverLines) -> Vec<(u64, u64)> {
        let mut all: Vec<(u64, u64)> = self
            .vs
            .iter()
            .flat_map(|v| v.tags.iter())
            .filter(|t| rule.tags.matches(t))
            .filter_map(|t| parse_semver_tag(t))
            .filter(|s| s.pre.is_empty())
            .map(|s| line_of(&s, lines.level))
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.dedup();
        all.truncate(lines.count);
        all
    }

    /// Checks a rule's selection and conditions; Err is the first one that fails.
    pub(super) fn check(
        &self,
        rule: &Rule,
        i: usize,
        top: Option<&[(u64, u64)]>,
    ) -> Result<Duration, Miss> {
        let v = self.vs[i];
        match (rule.tag_state, v.is_tagged()) {
            (TagState::Tagged, false) | (TagState::Untagged, true) => {
                return Err(Miss::TagState {
                    wanted: rule.tag_state,
                })
            }
            _ => {}
        }
        if !rule.digests.is_empty() && !rule.digests.contains(&v.digest) {
            return Err(Miss::DigestNotListed);
        }
        // A delete rule must select every tag (deleting removes them all); a keep
        // rule keeps a version one of whose tags it selects. A partial match is
        // reported only when every other condition holds.
        let mut partial = None;
        if v.is_tagged() && !rule.tags.is_empty() {
            let outcome = match rule.action {
                RuleAction::Delete => rule.tags.match_every_tag(&v.tags),
                RuleAction::Keep => rule.tags.match_tags(&v.tags),
                RuleAction::Untag => match untag_tags(rule, v).first() {
                    Some(t) => TagMatch::Matched(Some(t)),
                    None => TagMatch::NoMatch,
                },
            };
            match outcome {
                TagMatch::Matched(_) => {}
                TagMatch::NoMatch => {
                    return Err(Miss::TagsNotMatched {
                        patterns: rule.tags.to_string(),
                    })
                }
                TagMatch::Excluded { tag, pattern } => {
                    return Err(Miss::TagExcluded {
                        tag: tag.clone(),
                        pattern,
                    })
                }
                TagMatch::Partial { unselected } => {
                    partial = Some(Miss::TagsPartlySelected {
                        unselected: unselected.into_iter().cloned().collect(),
                    })
                }
            }
        }
        if rule.orphans_only && !self.graph_blind && !self.is_orphan(i) {
            return Err(Miss::NotOrphan);
        }
        if let (Some(wanted), false) = (rule.broken, self.graph_blind) {
            let selected = self
                .broken
                .get(&i)
                .is_some_and(|(listed, missing)| wanted.selects(missing.len(), *listed));
            if !selected {
                return Err(Miss::NotBroken { wanted });
            }
        }
        for cond in rule.labels.iter().filter(|_| !self.graph_blind) {
            let found = self.labels(i).and_then(|l| l.get(&cond.key));
            let ok = found.is_some_and(|val| cond.value.as_ref().is_none_or(|p| p.matches(val)));
            if !ok {
                return Err(Miss::Label {
                    key: cond.key.clone(),
                    found: found.cloned(),
                });
            }
        }
        if let Some(pr) = &rule.pull_request {
            self.check_pull_request(pr, v)?;
        }
        if let (Some(lines), Some(top)) = (rule.semver_lines, top) {
            let mine: Vec<(u64, u64)> = v
                .tags
                .iter()
                .filter(|t| rule.tags.matches(t))
                .filter_map(|t| parse_semver_tag(t))
                .map(|s| line_of(&s, lines.level))
                .collect();
            if !mine.iter().any(|l| top.contains(l)) {
                let line = mine.first().map(|&(a, b)| match lines.level {
                    SemverLevel::Major => format!("{a}.x"),
                    SemverLevel::Minor => format!("{a}.{b}.x"),
                });
                return Err(Miss::OlderLine {
                    line,
                    count: lines.count,
                });
            }
        }
        let a = age(self.input.now, v.timestamp(rule.timestamp));
        if let Some(limit) = rule.older_than {
            if a < limit {
                return Err(Miss::TooNew { age: a, limit });
            }
        }
        if let Some(limit) = rule.newer_than {
            if a >= limit {
                return Err(Miss::TooOld { age: a, limit });
            }
        }
        match partial {
            Some(miss) => Err(miss),
            None => Ok(a),
        }
    }

    pub(super) fn check_pull_request(
        &self,
        pr: &crate::policy::PullRequestCondition,
        v: &Version,
    ) -> Result<(), Miss> {
        let miss = |detail: String| Miss::PullRequest { detail };
        let number = v
            .tags
            .iter()
            .find_map(|t| pr.number_from.captures(t))
            .and_then(|c| c.split('/').next().and_then(|n| n.parse::<u64>().ok()))
            .ok_or_else(|| miss("no tag names a pull request".to_string()))?;
        let info = self
            .input
            .pulls
            .get(&pr.repository)
            .and_then(|m| m.get(&number))
            .ok_or_else(|| {
                miss(format!(
                    "pull request #{number} of {} is unknown",
                    pr.repository
                ))
            })?;
        let closed = info.merged_at.or(info.closed_at);
        let ok = match pr.state {
            PullRequestState::Open => info.open,
            PullRequestState::Closed => !info.open,
            PullRequestState::Merged => info.merged_at.is_some(),
        };
        if !ok {
            let state = if info.open {
                "open"
            } else if info.merged_at.is_some() {
                "merged"
            } else {
                "closed"
            };
            return Err(miss(format!("pull request #{number} is {state}")));
        }
        if let (Some(limit), false) = (pr.closed_for, info.open) {
            let since = closed.map(|c| age(self.input.now, c)).unwrap_or_default();
            if since < limit {
                return Err(miss(format!(
                    "pull request #{number} closed only {} ago",
                    crate::reason::human(since)
                )));
            }
        }
        Ok(())
    }

    pub(super) fn group_key(&self, group: &GroupBy, i: usize) -> Option<String> {
        let v = self.vs[i];
        match group {
            GroupBy::Package => None,
            GroupBy::TagCapture(m) => v.tags.iter().find_map(|t| m.captures(t)),
            GroupBy::SemverMajor => v
                .tags
                .iter()
                .find_map(|t| parse_semver_tag(t))
                .map(|s| format!("{}", s.major)),
            GroupBy::SemverMinor => v
                .tags
                .iter()
                .find_map(|t| parse_semver_tag(t))
                .map(|s| format!("{}.{}", s.major, s.minor)),
            GroupBy::Label(k) => self.labels(i).and_then(|l| l.get(k)).cloned(),
        }
    }
}

/// The tags of `v` an untag rule removes: each tag its `tags` selects (an excluded
/// tag is not selected, the others still are), never a cosign / referrers tag
/// (those link an artifact to its subject).
pub(super) fn untag_tags<'v>(rule: &Rule, v: &'v Version) -> Vec<&'v String> {
    v.tags
        .iter()
        .filter(|t| rule.tags.matches(t) && parse_artifact_tag(t).is_none())
        .collect()
}

fn line_of(s: &semver::Version, level: SemverLevel) -> (u64, u64) {
    match level {
        SemverLevel::Major => (s.major, 0),
        SemverLevel::Minor => (s.major, s.minor),
    }
}
