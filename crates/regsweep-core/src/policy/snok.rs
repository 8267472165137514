//! Translation of snok/container-retention-policy v3 inputs into a [`Policy`].
//!
//! snok's semantics: a version is a candidate when its package matches
//! `image-names`, it is older than `cut-off`, it matches `tag-selection`, and, if
//! tagged, every one of its tags matches `image-tags` and none matches a `!` item (a
//! partial match is kept); then `keep-n-most-recent` spares the newest tagged
//! candidates per package; digests in `skip-shas` are never deleted. The translation
//! is three rules: `skip-shas` (keep), `tagged` (delete) and `untagged` (delete),
//! shown by `--print-policy`. [`parse_list`] reads snok's lone `!`. Where regsweep
//! differs from snok is listed in docs/policy.md ("snok-style inputs").

use std::time::Duration;

use crate::matcher::{PatternError, PatternList};
use crate::model::{Digest, TimestampField};

use super::{GroupBy, KeepNewest, Policy, Rule, RuleAction, TagState};

/// snok's `tag-selection`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum TagSelection {
    Tagged,
    Untagged,
    #[default]
    Both,
}

impl std::str::FromStr for TagSelection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tagged" => Ok(TagSelection::Tagged),
            "untagged" => Ok(TagSelection::Untagged),
            "both" | "" => Ok(TagSelection::Both),
            other => Err(format!(
                "`{other}` is not a tag selection: expected `tagged`, `untagged` or `both`"
            )),
        }
    }
}

/// snok-style inputs, already parsed.
#[derive(Clone, Debug)]
pub struct SnokInputs {
    pub image_names: PatternList,
    pub image_tags: PatternList,
    pub skip_shas: Vec<Digest>,
    pub tag_selection: TagSelection,
    pub keep_n_most_recent: usize,
    pub timestamp: TimestampField,
    pub cut_off: Duration,
}

/// The items of a snok-style list: the value without the quotes around it (snok
/// removes `"` then `'` from both ends, as a Docker action passes `--x="a b"` on), split
/// on commas and whitespace. No tag, package name or digest contains a quote.
fn items(list: &str) -> impl Iterator<Item = &str> {
    list.trim()
        .trim_matches('"')
        .trim_matches('\'')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

/// Parses a `skip-shas` list (comma/space separated digests).
pub fn parse_skip_shas(list: &str) -> Result<Vec<Digest>, crate::model::DigestError> {
    items(list).map(Digest::parse).collect()
}

/// Why a snok-style `image-names` / `image-tags` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnokListError {
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// A lone `!` is the only item. snok reads it as an exclusion that excludes
    /// nothing, so the list selects everything.
    #[error("`!` alone excludes nothing: snok reads this list as selecting everything\n  help: write the pattern to exclude right after `!` (e.g. `!latest`), or leave the input empty (or `*`) to select everything")]
    LoneBangOnly,
    /// A lone `!` in a list with a positive item: most likely `! latest` meant
    /// `!latest`, and snok would select what the user meant to exclude.
    #[error("a lone `!` in a list that selects `{positive}`: snok reads the `!` as excluding nothing and selects `{positive}`; if `!{positive}` was meant, that is the opposite\n  help: write `!{positive}` (no space) to exclude it, or drop the lone `!`")]
    LoneBangWithPositive { positive: String },
}

/// Parses `image-names` / `image-tags` the way snok reads them, refusing where
/// snok's reading is dangerous: a lone `!` item (snok: an exclusion that matches
/// nothing) is dropped when every other item is an exclusion (same meaning as
/// snok's), and refused when it is the only item or stands before a positive item.
pub fn parse_list(list: &str) -> Result<PatternList, SnokListError> {
    let items: Vec<&str> = items(list).collect();
    if items.contains(&"!") {
        if items.iter().all(|i| *i == "!") {
            return Err(SnokListError::LoneBangOnly);
        }
        // The item right after the `!` first: that is the likely typo.
        let after = items.iter().skip_while(|i| **i != "!");
        if let Some(positive) = after.chain(items.iter()).find(|i| !i.starts_with('!')) {
            return Err(SnokListError::LoneBangWithPositive {
                positive: positive.to_string(),
            });
        }
    }
    Ok(PatternList::from_items(
        items.into_iter().filter(|i| *i != "!"),
    )?)
}

impl SnokInputs {
    /// The equivalent policy.
    pub fn to_policy(&self) -> Policy {
        let mut rules = Vec::new();
        if !self.skip_shas.is_empty() {
            let mut keep = Rule::new("skip-shas", RuleAction::Keep);
            keep.packages = self.image_names.clone();
            keep.digests = self.skip_shas.clone();
            keep.timestamp = self.timestamp;
            rules.push(keep);
        }
        if matches!(
            self.tag_selection,
            TagSelection::Tagged | TagSelection::Both
        ) {
            let mut tagged = Rule::new("tagged", RuleAction::Delete);
            tagged.packages = self.image_names.clone();
            tagged.tags = self.image_tags.clone();
            tagged.tag_state = TagState::Tagged;
            tagged.older_than = Some(self.cut_off);
            tagged.timestamp = self.timestamp;
            if self.keep_n_most_recent > 0 {
                tagged.keep_newest = Some(KeepNewest {
                    count: self.keep_n_most_recent,
                    group_by: GroupBy::Package,
                });
            }
            rules.push(tagged);
        }
        if matches!(
            self.tag_selection,
            TagSelection::Untagged | TagSelection::Both
        ) {
            let mut untagged = Rule::new("untagged", RuleAction::Delete);
            untagged.packages = self.image_names.clone();
            untagged.tag_state = TagState::Untagged;
            untagged.older_than = Some(self.cut_off);
            untagged.timestamp = self.timestamp;
            rules.push(untagged);
        }
        Policy {
            rules,
            ..Policy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(sel: TagSelection, keep: usize, shas: &str) -> SnokInputs {
        SnokInputs {
            image_names: parse_list("app*").unwrap(),
            image_tags: parse_list("!latest").unwrap(),
            skip_shas: parse_skip_shas(shas).unwrap(),
            tag_selection: sel,
            keep_n_most_recent: keep,
            timestamp: TimestampField::CreatedAt,
            cut_off: Duration::from_secs(7 * 86400),
        }
    }

    #[test]
    fn translation_has_one_rule_per_input_concern() {
        let p = inputs(TagSelection::Both, 3, "").to_policy();
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["tagged", "untagged"]);
        assert_eq!(p.rules[0].keep_newest.as_ref().unwrap().count, 3);
        assert_eq!(p.rules[0].tag_state, TagState::Tagged);
        assert_eq!(p.rules[1].tags, PatternList::any());
        assert!(p
            .rules
            .iter()
            .all(|r| r.timestamp == TimestampField::CreatedAt));

        let sha = format!("sha256:{}", "a".repeat(64));
        let p = inputs(TagSelection::Untagged, 0, &sha).to_policy();
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["skip-shas", "untagged"]);
        assert_eq!(p.rules[0].action, RuleAction::Keep);
    }

    #[test]
    fn snok_lone_bang_alone_is_refused() {
        for list in ["!", " ! ", "!, !"] {
            assert_eq!(
                parse_list(list),
                Err(SnokListError::LoneBangOnly),
                "{list:?}"
            );
        }
        let msg = parse_list("!").unwrap_err().to_string();
        assert!(msg.contains("help:"), "{msg}");
    }

    #[test]
    fn snok_lone_bang_before_a_positive_item_is_refused() {
        assert_eq!(
            parse_list("! latest"),
            Err(SnokListError::LoneBangWithPositive {
                positive: "latest".into()
            })
        );
        assert_eq!(
            parse_list("app, ! worker"),
            Err(SnokListError::LoneBangWithPositive {
                positive: "worker".into()
            })
        );
        assert!(parse_list("app, !").is_err());
    }

    #[test]
    fn snok_lone_bang_among_exclusions_is_dropped_as_snok_does() {
        let l = parse_list("!latest, !").unwrap();
        assert_eq!(l, PatternList::parse("!latest").unwrap());
        assert!(l.matches("main"));
        assert!(!l.matches("latest"));
    }

    /// snok's integration test `parse_input` passes `--image-names="foo bar"` and
    /// `--shas-to-skip=''` with the quotes in the value; snok strips them.
    #[test]
    fn snok_quoted_list_values_are_unquoted() {
        assert_eq!(
            parse_list("\"foo bar\"").unwrap(),
            PatternList::parse("foo, bar").unwrap()
        );
        assert_eq!(
            parse_list("'one, two'").unwrap(),
            PatternList::parse("one, two").unwrap()
        );
        assert_eq!(parse_skip_shas("''").unwrap(), Vec::new());
        assert_eq!(parse_skip_shas("\"\"").unwrap(), Vec::new());
        let a = format!("sha256:{}", "a".repeat(64));
        assert_eq!(parse_skip_shas(&format!("\"{a}\"")).unwrap().len(), 1);
    }

    #[test]
    fn tag_selection_and_shas_parse() {
        assert_eq!(
            "Tagged".parse::<TagSelection>().unwrap(),
            TagSelection::Tagged
        );
        assert!("some".parse::<TagSelection>().is_err());
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        assert_eq!(parse_skip_shas(&format!("{a}, {b}")).unwrap().len(), 2);
        assert!(parse_skip_shas("sha256:nothex").is_err());
    }
}
