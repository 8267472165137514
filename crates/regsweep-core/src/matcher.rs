//! Name and tag matching: the one place patterns are parsed and evaluated.
//!
//! A pattern list is what users write in `--image-names`, `--image-tags` and the tag
//! and package selectors of a policy file: items separated by commas or whitespace,
//! each one of
//! - a glob with `*` (any run of characters, `/` included) and `?` (one character);
//!   an item without wildcards matches exactly;
//! - `re:<regex>`: a regular expression, anchored at both ends;
//! - `semver:<range>` (tags only): a semver range such as `>=1.2, <2`; tags parse with
//!   an optional leading `v` and `MAJ.MIN` or `MAJ` are completed with zeros;
//! - any of the above prefixed with `!`: an exclusion.
//!
//! A name matches a list when it matches at least one positive item (a list with only
//! exclusions has an implicit `*`) and no exclusion. A version's tags are matched two
//! ways: [`PatternList::match_tags`] (a keep rule's) asks that *some* tag matches a
//! positive item, [`PatternList::match_every_tag`] (a delete rule's and snok's
//! `image-tags`) that *every* tag does; in both, no tag may match an exclusion.

use std::fmt;

use regex::Regex;
use serde::{Serialize, Serializer};
use wildmatch::WildMatch;

/// Why a pattern could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("`{pattern}` is not a valid regular expression: {detail}\n  help: write `re:` followed by a Rust regex, e.g. `re:^pr-[0-9]+$`")]
    Regex { pattern: String, detail: String },
    #[error(
        "`{pattern}` is not a valid semver range: {detail}\n  help: write e.g. `semver:>=1.2, <2`"
    )]
    Semver { pattern: String, detail: String },
    #[error("`{pattern}` is empty after `!`\n  help: write the pattern to exclude right after `!`, e.g. `!latest`")]
    EmptyNegation { pattern: String },
}

/// One matcher.
#[derive(Clone)]
pub enum Matcher {
    /// An exact name (no wildcard).
    Exact(String),
    /// A `*`/`?` glob.
    Glob(String, WildMatch),
    /// An anchored regular expression.
    Regex(String, Regex),
    /// A semver range over tags such as `v1.2.3`.
    Semver(String, semver::VersionReq),
}

impl Matcher {
    /// Parses one item (without the `!`).
    pub fn parse(item: &str) -> Result<Matcher, PatternError> {
        if let Some(re) = item.strip_prefix("re:") {
            let anchored = format!("^(?:{re})$");
            return Regex::new(&anchored)
                .map(|r| Matcher::Regex(re.to_string(), r))
                .map_err(|e| PatternError::Regex {
                    pattern: item.to_string(),
                    detail: e.to_string(),
                });
        }
        if let Some(range) = item.strip_prefix("semver:") {
            return semver::VersionReq::parse(range)
                .map(|r| Matcher::Semver(range.to_string(), r))
                .map_err(|e| PatternError::Semver {
                    pattern: item.to_string(),
                    detail: e.to_string(),
                });
        }
        if item.contains('*') || item.contains('?') {
            Ok(Matcher::Glob(item.to_string(), WildMatch::new(item)))
        } else {
            Ok(Matcher::Exact(item.to_string()))
        }
    }

    /// Whether `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(e) => e == s,
            Matcher::Glob(_, g) => g.matches(s),
            Matcher::Regex(_, r) => r.is_match(s),
            Matcher::Semver(_, req) => parse_semver_tag(s).is_some_and(|v| req.matches(&v)),
        }
    }

    /// Capture groups of a regex matcher for `s`, joined with `/` (None if no match
    /// or not a regex with groups).
    pub fn captures(&self, s: &str) -> Option<String> {
        match self {
            Matcher::Regex(_, r) if r.captures_len() > 1 => r.captures(s).map(|c| {
                c.iter()
                    .skip(1)
                    .map(|m| m.map(|m| m.as_str()).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("/")
            }),
            _ => None,
        }
    }

    /// Whether this matcher has wildcards (needs listing packages to expand).
    pub fn is_wildcard(&self) -> bool {
        !matches!(self, Matcher::Exact(_))
    }

    /// The source text as written.
    pub fn source(&self) -> String {
        match self {
            Matcher::Exact(s) | Matcher::Glob(s, _) => s.clone(),
            Matcher::Regex(s, _) => format!("re:{s}"),
            Matcher::Semver(s, _) => format!("semver:{s}"),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matcher({})", self.source())
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.source() == other.source()
    }
}

/// Parses a tag as semver: an optional `v`, then `MAJ[.MIN[.PATCH]][-pre][+build]`.
pub fn parse_semver_tag(tag: &str) -> Option<semver::Version> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    // Complete `1` and `1.2` with zeros (no pre-release or build metadata then).
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() < 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let mut nums = parts.iter().map(|p| p.parse::<u64>().ok());
        let major = nums.next()??;
        let minor = nums.next().flatten().unwrap_or(0);
        return Some(semver::Version::new(major, minor, 0));
    }
    None
}

/// A list of positive and excluding matchers.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PatternList {
    pub include: Vec<Matcher>,
    pub exclude: Vec<Matcher>,
}

impl PatternList {
    /// Parses a comma- or whitespace-separated list (`app, !app-old, team/*`).
    pub fn parse(list: &str) -> Result<PatternList, PatternError> {
        Self::from_items(
            list.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty()),
        )
    }

    /// Builds a list from items already split (a YAML list, say).
    pub fn from_items<'a>(
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<PatternList, PatternError> {
        let mut out = PatternList::default();
        for raw in items {
            let item = raw.trim();
            if item.is_empty() {
                continue;
            }
            if let Some(neg) = item.strip_prefix('!') {
                if neg.is_empty() {
                    return Err(PatternError::EmptyNegation {
                        pattern: item.to_string(),
                    });
                }
                out.exclude.push(Matcher::parse(neg)?);
            } else {
                out.include.push(Matcher::parse(item)?);
            }
        }
        Ok(out)
    }

    /// A list matching everything.
    pub fn any() -> PatternList {
        PatternList::default()
    }

    /// Whether the list has no items at all.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether `name` matches (see the module docs).
    pub fn matches(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|m| m.is_match(name)))
            && !self.exclude.iter().any(|m| m.is_match(name))
    }

    /// The outcome of matching a version's tags.
    pub fn match_tags<'t>(&self, tags: &'t [String]) -> TagMatch<'t> {
        if let Some((tag, m)) = tags
            .iter()
            .find_map(|t| self.exclude.iter().find(|m| m.is_match(t)).map(|m| (t, m)))
        {
            return TagMatch::Excluded {
                tag,
                pattern: format!("!{}", m.source()),
            };
        }
        if self.include.is_empty() {
            return TagMatch::Matched(tags.first());
        }
        match tags
            .iter()
            .find(|t| self.include.iter().any(|m| m.is_match(t)))
        {
            Some(t) => TagMatch::Matched(Some(t)),
            None => TagMatch::NoMatch,
        }
    }

    /// The outcome of matching a version's tags when each of them must be selected:
    /// every tag matches a positive item (or the list has none) and no tag matches an
    /// exclusion. Some tags matching and others not is [`TagMatch::Partial`].
    pub fn match_every_tag<'t>(&self, tags: &'t [String]) -> TagMatch<'t> {
        match self.match_tags(tags) {
            TagMatch::Matched(first) if !self.include.is_empty() => {
                let unselected: Vec<&String> = tags
                    .iter()
                    .filter(|t| !self.include.iter().any(|m| m.is_match(t)))
                    .collect();
                if unselected.is_empty() {
                    TagMatch::Matched(first)
                } else {
                    TagMatch::Partial { unselected }
                }
            }
            other => other,
        }
    }

    /// Whether any item has wildcards or is a regex (names then need listing).
    pub fn has_wildcards(&self) -> bool {
        self.include.is_empty() || self.include.iter().any(Matcher::is_wildcard)
    }

    /// The exact names in the list, when it has no wildcards and no exclusions.
    pub fn exact_names(&self) -> Option<Vec<String>> {
        if self.has_wildcards() {
            return None;
        }
        Some(self.include.iter().map(Matcher::source).collect())
    }

    /// The items as written, exclusions with `!`.
    pub fn items(&self) -> Vec<String> {
        self.include
            .iter()
            .map(Matcher::source)
            .chain(self.exclude.iter().map(|m| format!("!{}", m.source())))
            .collect()
    }
}

impl fmt::Display for PatternList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("*");
        }
        f.write_str(&self.items().join(", "))
    }
}

impl Serialize for PatternList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.items().serialize(s)
    }
}

/// The outcome of [`PatternList::match_tags`].
#[derive(Debug, PartialEq, Eq)]
pub enum TagMatch<'t> {
    /// A tag matched (the first matching one, or the first tag for a list with no
    /// positive items; None for an untagged version with such a list).
    Matched(Option<&'t String>),
    /// No tag matched a positive item.
    NoMatch,
    /// A tag matched an exclusion.
    Excluded { tag: &'t String, pattern: String },
    /// ([`PatternList::match_every_tag`] only) some tags matched, these did not.
    Partial { unselected: Vec<&'t String> },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn name_lists_like_snok() {
        let cases: &[(&str, &str, bool)] = &[
            ("app", "app", true),
            ("app", "app2", false),
            ("app*", "app2", true),
            ("*", "team/app", true),
            ("app, worker", "worker", true),
            ("app worker", "worker", true),
            ("*, !worker", "worker", false),
            ("!worker", "app", true),
            ("!worker", "worker", false),
            ("team/*", "team/app", true),
            ("team/*", "app", false),
            ("re:team/(app|api)", "team/api", true),
            ("re:team/(app|api)", "team/api2", false),
            ("a?p", "app", true),
            ("", "anything", true),
        ];
        for (list, name, want) in cases {
            assert_eq!(
                PatternList::parse(list).unwrap().matches(name),
                *want,
                "{list:?} vs {name:?}"
            );
        }
    }

    #[test]
    fn tag_lists_follow_snok_rule() {
        let l = PatternList::parse("v*, !latest").unwrap();
        assert_eq!(
            l.match_tags(&tags(&["v1"])),
            TagMatch::Matched(Some(&"v1".to_string()))
        );
        assert!(matches!(
            l.match_tags(&tags(&["v1", "latest"])),
            TagMatch::Excluded { .. }
        ));
        assert_eq!(l.match_tags(&tags(&["main"])), TagMatch::NoMatch);
        assert_eq!(
            l.match_every_tag(&tags(&["v1", "main"])),
            TagMatch::Partial {
                unselected: vec![&"main".to_string()]
            }
        );
        assert_eq!(
            l.match_every_tag(&tags(&["v1", "v2"])),
            TagMatch::Matched(Some(&"v1".to_string()))
        );
        assert_eq!(l.match_every_tag(&tags(&["main"])), TagMatch::NoMatch);
        assert!(matches!(
            l.match_every_tag(&tags(&["v1", "latest"])),
            TagMatch::Excluded { .. }
        ));
        let only_neg = PatternList::parse("!latest").unwrap();
        assert!(matches!(
            only_neg.match_every_tag(&tags(&["sha-1", "main"])),
            TagMatch::Matched(_)
        ));
        assert!(matches!(
            only_neg.match_tags(&tags(&["sha-1"])),
            TagMatch::Matched(_)
        ));
    }

    #[test]
    fn semver_and_regex_captures() {
        let l = PatternList::parse("semver:>=1.2").unwrap();
        assert!(l.matches("v1.2.0"));
        assert!(l.matches("1.3"));
        assert!(!l.matches("v1.1.9"));
        assert!(!l.matches("latest"));
        let m = Matcher::parse(r"re:pr-(\d+)-.*").unwrap();
        assert_eq!(m.captures("pr-12-abc"), Some("12".to_string()));
        assert_eq!(m.captures("main-abc"), None);
        assert_eq!(parse_semver_tag("v2"), Some(semver::Version::new(2, 0, 0)));
        assert_eq!(
            parse_semver_tag("v1.2.3-rc.1").map(|v| v.pre.to_string()),
            Some("rc.1".into())
        );
        assert_eq!(parse_semver_tag("1.2.3.4"), None);
    }

    #[test]
    fn bad_patterns_are_explained() {
        assert!(matches!(
            PatternList::parse("re:(").unwrap_err(),
            PatternError::Regex { .. }
        ));
        assert!(matches!(
            PatternList::parse("semver:>>1").unwrap_err(),
            PatternError::Semver { .. }
        ));
        assert!(matches!(
            PatternList::parse("app, !").unwrap_err(),
            PatternError::EmptyNegation { .. }
        ));
        let msg = PatternList::parse("re:(").unwrap_err().to_string();
        assert!(msg.contains("help:"), "{msg}");
    }

    #[test]
    fn exact_names_only_without_wildcards() {
        assert_eq!(
            PatternList::parse("app, team/api").unwrap().exact_names(),
            Some(vec!["app".into(), "team/api".into()])
        );
        assert_eq!(PatternList::parse("app*").unwrap().exact_names(), None);
        assert_eq!(PatternList::parse("").unwrap().exact_names(), None);
    }
}
