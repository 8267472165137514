//! One-line, plain-English summaries of rules, for the policy header of plans
//! ("delete tagged versions of `app` tagged `pr-*` older than 2w, sparing the newest
//! 3 per package").

use std::fmt::Write;

use super::file::format_duration;
use super::{
    GroupBy, PackageRule, PullRequestState, Rule, RuleAction, SemverLevel, TagState, TimestampField,
};

impl Rule {
    /// What the rule does, in one line (without its name).
    pub fn summary(&self) -> String {
        let mut s = format!("{} ", self.action);
        if self.action == RuleAction::Untag {
            let _ = write!(s, "`{}` from ", self.tags);
        }
        s.push_str(match self.tag_state {
            TagState::Tagged => "tagged versions",
            TagState::Untagged => "untagged versions",
            TagState::Any => "versions",
        });
        if self.orphans_only {
            s.push_str(" that nothing references (orphans)");
        }
        if !self.packages.is_empty() && self.packages.items() != ["*"] {
            let _ = write!(s, " of `{}`", self.packages);
        }
        if !self.tags.is_empty() && self.action != RuleAction::Untag {
            let _ = write!(s, " tagged `{}`", self.tags);
        }
        if !self.digests.is_empty() {
            let _ = write!(s, " among {} listed digest(s)", self.digests.len());
        }
        for l in &self.labels {
            match &l.value {
                Some(v) => {
                    let _ = write!(s, " with label {}=`{v}`", l.key);
                }
                None => {
                    let _ = write!(s, " with label {}", l.key);
                }
            }
        }
        if let Some(pr) = &self.pull_request {
            let state = match pr.state {
                PullRequestState::Open => "open",
                PullRequestState::Closed => "merged or closed",
                PullRequestState::Merged => "merged",
            };
            let _ = write!(s, " whose pull request in {} is {state}", pr.repository);
            if let Some(d) = pr.closed_for {
                let _ = write!(s, " for at least {}", format_duration(d));
            }
        }
        if let Some(lines) = self.semver_lines {
            let level = match lines.level {
                SemverLevel::Major => "major",
                SemverLevel::Minor => "minor",
            };
            let _ = write!(s, " in the newest {} {level} line(s)", lines.count);
        }
        if let Some(d) = self.older_than {
            let _ = write!(s, " older than {}", format_duration(d));
        }
        if let Some(d) = self.newer_than {
            let _ = write!(s, " newer than {}", format_duration(d));
        }
        if self.timestamp == TimestampField::CreatedAt
            && (self.older_than.is_some()
                || self.newer_than.is_some()
                || self.keep_newest.is_some())
        {
            s.push_str(" (by created_at)");
        }
        if let Some(k) = &self.keep_newest {
            let per = match &k.group_by {
                GroupBy::Package => "per package".to_string(),
                GroupBy::TagCapture(m) => format!("per `{}` capture", m.source()),
                GroupBy::SemverMajor => "per semver major line".to_string(),
                GroupBy::SemverMinor => "per semver minor line".to_string(),
                GroupBy::Label(key) => format!("per value of label {key}"),
            };
            match self.action {
                RuleAction::Delete | RuleAction::Untag => {
                    let _ = write!(s, ", sparing the newest {} {per}", k.count);
                }
                RuleAction::Keep => {
                    let _ = write!(s, ", only the newest {} {per}", k.count);
                }
            }
        }
        s
    }
}

impl PackageRule {
    /// What the package rule does, in one line (without its name).
    pub fn summary(&self) -> String {
        let mut s = "delete whole packages".to_string();
        if self.packages.items() != ["*"] {
            let _ = write!(s, " `{}`", self.packages);
        }
        let mut conditions = Vec::new();
        if self.every_version_deleted {
            conditions.push("every version of which the other rules delete".to_string());
        }
        if let Some(d) = self.older_than {
            let by = if self.timestamp == TimestampField::CreatedAt {
                " (by created_at)"
            } else {
                ""
            };
            conditions.push(format!(
                "whose newest version is older than {}{by}",
                format_duration(d)
            ));
        }
        if !conditions.is_empty() {
            let _ = write!(s, " {}", conditions.join(" and "));
        }
        s.push_str(", unless a version is kept or the package is not fully known");
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::file::parse;

    fn summaries(yaml: &str) -> Vec<String> {
        parse(yaml)
            .expect("policy parses")
            .rules
            .iter()
            .map(|r| r.summary())
            .collect()
    }

    #[test]
    fn summaries_say_every_condition() {
        let got = summaries(
            r#"
rules:
  - action: keep
    tags: [latest]
  - action: delete
    packages: ["team/*"]
    tags: ["pr-*"]
    older_than: 2w
    keep_newest: {count: 3, per: "re:pr-(\\d+)"}
  - action: delete
    state: untagged
    orphans: true
    timestamp: created_at
    older_than: 1d
  - action: delete
    tags: ["pr-*"]
    pull_request: {repository: acme/app, state: merged, closed_for: 2d}
  - action: keep
    tags: ["semver:*"]
    semver_lines: {count: 2, level: minor}
    labels: {org.opencontainers.image.version: "v*"}
  - action: untag
    tags: ["pr-*"]
    older_than: 1w
"#,
        );
        assert_eq!(
            got,
            [
                "keep tagged versions tagged `latest`",
                "delete tagged versions of `team/*` tagged `pr-*` older than 14d, sparing the newest 3 per `re:pr-(\\d+)` capture",
                "delete untagged versions that nothing references (orphans) older than 1d (by created_at)",
                "delete tagged versions tagged `pr-*` whose pull request in acme/app is merged for at least 2d",
                "keep tagged versions tagged `semver:*` with label org.opencontainers.image.version=`v*` in the newest 2 minor line(s)",
                "untag `pr-*` from tagged versions older than 7d",
            ]
        );
    }
}
