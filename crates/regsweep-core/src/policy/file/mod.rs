//! The YAML policy file: parsing with precise errors (line and column), validation of
//! impossible rules, and rendering a [`Policy`] back into the same format.
//!
//! Every value is checked *while* it is deserialised (patterns, durations, digests,
//! rule consistency), so each error carries the line and column of the value or rule
//! it is about. The format is documented in `docs/policy.md`; [`render`] writes it, so
//! `--print-policy` output is itself a valid policy file (`parse(render(p)) == p`).

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::matcher::{Matcher, PatternList};
use crate::model::{Digest, TimestampField};

use super::{
    Broken, GroupBy, KeepNewest, LabelCondition, PackageRule, Policy, PullRequestCondition,
    PullRequestState, Rule, RuleAction, SemverLevel, SemverLines, TagState,
};

/// The only format version so far.
pub const FORMAT_VERSION: u32 = 1;

mod error;
mod limits;
mod packages;
mod render;
#[cfg(test)]
mod tests;

use error::{convert_error, problem, HELP};
pub use error::{Location, PolicyFileError};
pub use limits::{MAX_NESTING, MAX_POLICY_BYTES};
pub use render::{format_duration, render};

/// Parses a policy file, naming it `policy.yaml` in errors.
pub fn parse(text: &str) -> Result<Policy, PolicyFileError> {
    parse_named("policy.yaml", text)
}

/// Parses a policy file; `name` is shown in errors (a path, or `policy input`).
pub fn parse_named(name: &str, text: &str) -> Result<Policy, PolicyFileError> {
    let has_content = text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#') && l != "---"
    });
    if !has_content {
        return Err(PolicyFileError {
            file: name.to_string(),
            location: Some(Location { line: 1, column: 1 }),
            message: "the policy is empty".to_string(),
            help: Some(
                "write `version: 1` and a `rules:` list; see docs/policy.md and examples/"
                    .to_string(),
            ),
        });
    }
    limits::check(name, text)?;
    serde_norway::from_str::<RawPolicy>(text)
        .map(|raw| {
            let mut policy = Policy::default();
            for rule in raw.rules {
                match rule {
                    AnyRule::Version(r) => policy.rules.push(*r),
                    AnyRule::Package(r) => policy.package_rules.push(r),
                }
            }
            policy
        })
        .map_err(|e| convert_error(name, &e))
}

// ---------------------------------------------------------------------------------
// Raw structures: what the file says, with every value already parsed.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default, rename = "version", deserialize_with = "de_version")]
    _version: u32,
    #[serde(deserialize_with = "de_rules")]
    rules: Vec<AnyRule>,
}

/// A rule of the `rules:` list: about versions, or about whole packages.
enum AnyRule {
    Version(Box<Rule>),
    Package(PackageRule),
}

impl AnyRule {
    fn name(&self) -> &str {
        match self {
            AnyRule::Version(r) => &r.name,
            AnyRule::Package(r) => &r.name,
        }
    }
}

/// What the `action:` key says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Version(RuleAction),
    DeletePackage,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    name: Option<String>,
    #[serde(deserialize_with = "de_action")]
    action: Action,
    #[serde(default, deserialize_with = "de_patterns")]
    packages: PatternList,
    #[serde(default, deserialize_with = "de_patterns")]
    tags: PatternList,
    #[serde(default, deserialize_with = "de_state")]
    state: Option<TagState>,
    #[serde(default, deserialize_with = "de_digests")]
    digests: Vec<Digest>,
    #[serde(default, deserialize_with = "de_labels")]
    labels: Vec<LabelCondition>,
    #[serde(default)]
    orphans: bool,
    #[serde(default, deserialize_with = "de_broken")]
    broken: Option<Broken>,
    #[serde(default, deserialize_with = "de_opt_duration")]
    older_than: Option<Duration>,
    #[serde(default, deserialize_with = "de_opt_duration")]
    newer_than: Option<Duration>,
    #[serde(default, deserialize_with = "de_timestamp")]
    timestamp: TimestampField,
    #[serde(default, deserialize_with = "de_keep_newest")]
    keep_newest: Option<KeepNewest>,
    #[serde(default, deserialize_with = "de_semver_lines")]
    semver_lines: Option<SemverLines>,
    #[serde(default, deserialize_with = "de_pull_request")]
    pull_request: Option<PullRequestCondition>,
    #[serde(default)]
    every_version_deleted: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeepNewest {
    #[serde(deserialize_with = "de_count")]
    count: usize,
    #[serde(default, deserialize_with = "de_group_by")]
    per: GroupBy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSemverLines {
    #[serde(deserialize_with = "de_count")]
    count: usize,
    #[serde(default = "default_level", deserialize_with = "de_level")]
    level: SemverLevel,
}

fn default_level() -> SemverLevel {
    SemverLevel::Minor
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPullRequest {
    #[serde(deserialize_with = "de_repository")]
    repository: String,
    #[serde(default = "default_number_from", deserialize_with = "de_number_from")]
    number_from: Matcher,
    #[serde(deserialize_with = "de_pr_state")]
    state: PullRequestState,
    #[serde(default, deserialize_with = "de_opt_duration")]
    closed_for: Option<Duration>,
}

/// The default `number_from`: tags such as `pr-123`.
pub const DEFAULT_NUMBER_FROM: &str = r"re:pr-(\d+)(?:[-_.].*)?";

fn default_number_from() -> Matcher {
    // The constant is a valid regex; fall back to an exact match that never names a
    // number rather than panic.
    Matcher::parse(DEFAULT_NUMBER_FROM).unwrap_or_else(|_| Matcher::Exact(String::new()))
}

// ---------------------------------------------------------------------------------
// Generic helpers.

/// Deserialises `R` from a mapping and checks it inside the mapping's visitor, so an
/// error from `check` points at the mapping.
struct CheckedMap<R, F> {
    expecting: &'static str,
    check: F,
    _raw: std::marker::PhantomData<R>,
}

impl<'de, R, T, F> Visitor<'de> for CheckedMap<R, F>
where
    R: Deserialize<'de>,
    F: FnOnce(R) -> Result<T, String>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let raw = R::deserialize(de::value::MapAccessDeserializer::new(map))?;
        (self.check)(raw).map_err(de::Error::custom)
    }
}

fn checked_map<'de, D, R, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    R: Deserialize<'de>,
    F: FnOnce(R) -> Result<T, String>,
{
    d.deserialize_map(CheckedMap {
        expecting,
        check,
        _raw: std::marker::PhantomData,
    })
}

/// A string parsed by `parse` inside the scalar's own visitor.
struct ParsedStr<F> {
    expecting: &'static str,
    parse: F,
}

impl<'de, T, F> Visitor<'de> for ParsedStr<F>
where
    F: FnOnce(&str) -> Result<T, String>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
}

fn parsed_str<'de, D, T, F>(d: D, expecting: &'static str, parse: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    d.deserialize_str(ParsedStr { expecting, parse })
}

fn with_help(what: impl fmt::Display, help: impl fmt::Display) -> String {
    format!("{what}{HELP}{help}")
}

// ---------------------------------------------------------------------------------
// Field deserialisers.

fn de_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    parsed_str(d, "a format version", |s| {
        if s.trim() == FORMAT_VERSION.to_string() {
            Ok(FORMAT_VERSION)
        } else {
            Err(with_help(
                format!("policy format version `{s}` is not supported"),
                format!("write `version: {FORMAT_VERSION}` (the only version so far)"),
            ))
        }
    })
}

fn de_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<AnyRule>, D::Error> {
    struct Rules;
    impl<'de> Visitor<'de> for Rules {
        type Value = Vec<AnyRule>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of rules")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<AnyRule>, A::Error> {
            let mut rules: Vec<AnyRule> = Vec::new();
            let mut names = HashSet::new();
            while let Some(rule) = seq.next_element_seed(RuleSeed {
                index: rules.len() + 1,
                names: &names,
            })? {
                names.insert(rule.name().to_string());
                rules.push(rule);
            }
            if rules.is_empty() {
                return Err(problem(
                    "the policy has no rules",
                    "add at least one rule with `action: keep` or `action: delete`",
                ));
            }
            Ok(rules)
        }
    }
    d.deserialize_seq(Rules)
}

struct RuleSeed<'n> {
    index: usize,
    names: &'n HashSet<String>,
}

impl<'de> DeserializeSeed<'de> for RuleSeed<'_> {
    type Value = AnyRule;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AnyRule, D::Error> {
        checked_map(
            d,
            "a rule: a mapping with at least `action: keep` or `action: delete`",
            |raw: RawRule| build_rule(raw, self.index, self.names),
        )
    }
}

fn build_rule(raw: RawRule, index: usize, names: &HashSet<String>) -> Result<AnyRule, String> {
    if raw.action == Action::Version(RuleAction::Untag) {
        check_untag(&raw)?;
    }
    let name = match raw.name.clone() {
        Some(n) if n.trim().is_empty() => {
            return Err(with_help(
                format!("rule {index} has an empty name"),
                "give it a name such as `keep-releases`, or remove `name:`",
            ))
        }
        Some(n) => n,
        None => format!("rule {index}"),
    };
    if names.contains(&name) {
        return Err(with_help(
            format!("another rule is already named `{name}`"),
            "give every rule its own name; plans name the rule that decided each version",
        ));
    }
    let action = match raw.action {
        Action::DeletePackage => return packages::build(raw, name).map(AnyRule::Package),
        Action::Version(a) => a,
    };
    if raw.every_version_deleted.is_some() {
        return Err(with_help(
            "`every_version_deleted` is a condition of package rules, and this rule is about versions",
            "write `action: delete_package` to delete whole packages whose every version the other rules delete, or remove `every_version_deleted`",
        ));
    }
    let state = raw.state.unwrap_or_else(|| default_state(&raw.tags));
    if state == TagState::Untagged {
        let tagged_only = if !raw.tags.is_empty() {
            Some("`tags`")
        } else if raw.semver_lines.is_some() {
            Some("`semver_lines`")
        } else if raw.pull_request.is_some() {
            Some("`pull_request` (pull requests are read from tags)")
        } else {
            None
        };
        if let Some(what) = tagged_only {
            return Err(with_help(
                format!("the rule selects untagged versions but also gives {what}, which only tagged versions can match"),
                "remove it, or use `state: tagged` or `state: any`; to tell untagged images apart use `labels:`",
            ));
        }
    }
    if let (Some(older), Some(newer)) = (raw.older_than, raw.newer_than) {
        if older >= newer {
            return Err(with_help(
                format!(
                    "the rule can select nothing: `older_than: {}` and `newer_than: {}` leave no age in between",
                    format_duration(older),
                    format_duration(newer)
                ),
                "a rule selects ages from `older_than` up to `newer_than`; make `older_than` the smaller one",
            ));
        }
    }
    Ok(AnyRule::Version(Box::new(Rule {
        name,
        action,
        packages: raw.packages,
        tags: raw.tags,
        tag_state: state,
        digests: raw.digests,
        labels: raw.labels,
        orphans_only: raw.orphans,
        broken: raw.broken,
        older_than: raw.older_than,
        newer_than: raw.newer_than,
        timestamp: raw.timestamp,
        keep_newest: raw.keep_newest,
        pull_request: raw.pull_request,
        semver_lines: raw.semver_lines,
    })))
}

fn de_action<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    parsed_str(d, "`keep`, `delete`, `untag` or `delete_package`", |s| {
        match s {
        "keep" => Ok(Action::Version(RuleAction::Keep)),
        "delete" => Ok(Action::Version(RuleAction::Delete)),
        "untag" => Ok(Action::Version(RuleAction::Untag)),
        "delete_package" | "delete-package" => Ok(Action::DeletePackage),
        other => Err(with_help(
            format!("`{other}` is not an action"),
            "write `action: keep`, `action: delete` or `action: untag` (versions), or `action: delete_package` (whole packages)",
        )),
    }
    })
}

fn de_state<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TagState>, D::Error> {
    parsed_str(d, "`tagged`, `untagged` or `any`", |s| match s {
        "tagged" => Ok(TagState::Tagged),
        "untagged" => Ok(TagState::Untagged),
        "any" => Ok(TagState::Any),
        other => Err(with_help(
            format!("`{other}` is not a tag state"),
            "write `state: tagged`, `state: untagged` or `state: any`",
        )),
    })
    .map(Some)
}

fn de_broken<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Broken>, D::Error> {
    parsed_str(d, "`ghost`, `partial` or `any`", |s| match s {
        "ghost" => Ok(Broken::Ghost),
        "partial" => Ok(Broken::Partial),
        "any" => Ok(Broken::Any),
        other => Err(with_help(
            format!("`{other}` is not a kind of broken image"),
            "write `broken: ghost` (an index none of whose manifests exist), `broken: partial` (some missing) or `broken: any`",
        )),
    })
    .map(Some)
}

/// The state a rule has when the file does not say: `tagged` when it gives `tags`
/// (a rule about tags is about tagged versions; the model's tag patterns pass
/// untagged versions through, as snok's `image-tags` does), `any` otherwise.
/// An untag rule removes tags: it must say which (`tags:`), and it cannot select
/// what has none (untagged versions, orphans) or be about broken images.
fn check_untag(raw: &RawRule) -> Result<(), String> {
    if raw.tags.is_empty() || raw.tags.include.is_empty() {
        return Err(with_help(
            "an untag rule must name the tags it removes".to_string(),
            "add `tags:` with the tags to remove, e.g. `tags: [\"pr-*\"]`",
        ));
    }
    let impossible = if raw.state == Some(TagState::Untagged) {
        Some("`state: untagged`")
    } else if raw.orphans {
        Some("`orphans: true` (orphans are untagged)")
    } else if raw.broken.is_some() {
        Some("`broken:`")
    } else {
        None
    };
    match impossible {
        Some(what) => Err(with_help(
            format!("an untag rule cannot use {what}"),
            "an untag rule removes tags from tagged versions that stay; to delete broken or untagged versions use `action: delete`",
        )),
        None => Ok(()),
    }
}

fn default_state(tags: &PatternList) -> TagState {
    if tags.is_empty() {
        TagState::Any
    } else {
        TagState::Tagged
    }
}

fn de_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<TimestampField, D::Error> {
    parsed_str(d, "`updated_at` or `created_at`", |s| {
        s.parse::<TimestampField>().map_err(|e| {
            with_help(
                e,
                "write `timestamp: updated_at` (the default) or `timestamp: created_at`",
            )
        })
    })
}

fn de_pr_state<'de, D: Deserializer<'de>>(d: D) -> Result<PullRequestState, D::Error> {
    parsed_str(d, "`open`, `closed` or `merged`", |s| match s {
        "open" => Ok(PullRequestState::Open),
        "closed" => Ok(PullRequestState::Closed),
        "merged" => Ok(PullRequestState::Merged),
        other => Err(with_help(
            format!("`{other}` is not a pull-request state"),
            "write `open`, `closed` (closed or merged) or `merged`",
        )),
    })
}

fn de_level<'de, D: Deserializer<'de>>(d: D) -> Result<SemverLevel, D::Error> {
    parsed_str(d, "`major` or `minor`", |s| match s {
        "major" => Ok(SemverLevel::Major),
        "minor" => Ok(SemverLevel::Minor),
        other => Err(with_help(
            format!("`{other}` is not a semver level"),
            "write `level: minor` (lines such as 1.4.x) or `level: major` (1.x)",
        )),
    })
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        with_help(
            format!("`{s}` is not a duration: {e}"),
            "write a number with a unit, e.g. `12h`, `30d`, `2w`, `2months` (units: s, m, h, d, w, months, y)",
        )
    })
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    parsed_str(d, "a duration such as `30d`", parse_duration).map(Some)
}

fn de_count<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    struct Count;
    impl Visitor<'_> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a positive whole number")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<usize, E> {
            if v == 0 {
                return Err(problem(
                    "a count of 0 makes this setting do nothing",
                    "write a count of at least 1, or remove the setting",
                ));
            }
            usize::try_from(v)
                .map_err(|_| problem(format!("{v} is too large"), "write a smaller count"))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<usize, E> {
            match u64::try_from(v) {
                Ok(u) => self.visit_u64(u),
                Err(_) => Err(problem(
                    format!("{v} is negative"),
                    "write a count of at least 1",
                )),
            }
        }
    }
    d.deserialize_any(Count)
}

/// One pattern item of a list, checked where it is written.
struct PatternItem(String);

impl<'de> Deserialize<'de> for PatternItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_str(d, "a pattern (glob, `re:…`, `semver:…`, `!…`)", |s| {
            PatternList::from_items([s])
                .map(|_| PatternItem(s.to_string()))
                .map_err(|e| e.to_string())
        })
    }
}

/// A pattern list: a YAML list (items kept whole) or one string split like snok's
/// inputs (on commas and whitespace); `split: false` keeps a string whole.
struct Patterns {
    split: bool,
}

impl<'de> Visitor<'de> for Patterns {
    type Value = PatternList;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a pattern or a list of patterns")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<PatternList, E> {
        let parsed = if self.split {
            PatternList::parse(v)
        } else {
            PatternList::from_items([v])
        };
        parsed.map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PatternList, A::Error> {
        let mut items = Vec::new();
        while let Some(PatternItem(s)) = seq.next_element()? {
            items.push(s);
        }
        PatternList::from_items(items.iter().map(String::as_str)).map_err(de::Error::custom)
    }
}

fn de_patterns<'de, D: Deserializer<'de>>(d: D) -> Result<PatternList, D::Error> {
    d.deserialize_any(Patterns { split: true })
}

struct DigestItem(Digest);

impl<'de> Deserialize<'de> for DigestItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_str(d, "a digest", |s| parse_digest(s).map(DigestItem))
    }
}

fn parse_digest(s: &str) -> Result<Digest, String> {
    Digest::parse(s.trim()).map_err(|e| {
        with_help(
            e,
            "copy the digest from the package page or `docker buildx imagetools inspect`, e.g. `sha256:` and 64 hex digits",
        )
    })
}

fn de_digests<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Digest>, D::Error> {
    struct Digests;
    impl<'de> Visitor<'de> for Digests {
        type Value = Vec<Digest>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a digest or a list of digests")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Digest>, E> {
            v.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| parse_digest(s).map_err(E::custom))
                .collect()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Digest>, A::Error> {
            let mut out = Vec::new();
            while let Some(DigestItem(d)) = seq.next_element()? {
                out.push(d);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Digests)
}

/// A label condition's value: null (present), one pattern, or a list.
struct LabelValue(Option<PatternList>);

impl<'de> Deserialize<'de> for LabelValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LabelValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("null (label present), a pattern, or a list of patterns")
            }
            fn visit_unit<E: de::Error>(self) -> Result<LabelValue, E> {
                Ok(LabelValue(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<LabelValue, E> {
                Ok(LabelValue(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LabelValue, E> {
                Patterns { split: false }
                    .visit_str(v)
                    .map(|p| LabelValue(Some(p)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<LabelValue, A::Error> {
                Patterns { split: false }
                    .visit_seq(seq)
                    .map(|p| LabelValue(Some(p)))
            }
        }
        d.deserialize_any(V)
    }
}

fn de_labels<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LabelCondition>, D::Error> {
    struct Labels;
    impl<'de> Visitor<'de> for Labels {
        type Value = Vec<LabelCondition>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping from label keys to patterns (or null: present)")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out: Vec<LabelCondition> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if key.trim().is_empty() {
                    return Err(problem(
                        "a label key is empty",
                        "write the label's full key, e.g. `org.opencontainers.image.version`",
                    ));
                }
                if out.iter().any(|c| c.key == key) {
                    return Err(problem(
                        format!("label `{key}` is given twice"),
                        "give each label once; a list of patterns matches any of them",
                    ));
                }
                let LabelValue(value) = map.next_value()?;
                out.push(LabelCondition { key, value });
            }
            Ok(out)
        }
    }
    d.deserialize_map(Labels)
}

fn parse_capture_regex(s: &str, what: &str) -> Result<Matcher, String> {
    let example = r"`re:pr-(\d+)`";
    let m = match s.strip_prefix("re:") {
        Some(_) => Matcher::parse(s).map_err(|e| e.to_string())?,
        None => {
            return Err(with_help(
                format!("{what} `{s}` is not a regular expression"),
                format!("write `re:` and a regex with a capture group, e.g. {example}"),
            ))
        }
    };
    match &m {
        Matcher::Regex(_, r) if r.captures_len() > 1 => Ok(m),
        _ => Err(with_help(
            format!("{what} `{s}` has no capture group"),
            format!("put the part that names the group in parentheses, e.g. {example}"),
        )),
    }
}

fn de_group_by<'de, D: Deserializer<'de>>(d: D) -> Result<GroupBy, D::Error> {
    parsed_str(
        d,
        "`package`, `semver-major`, `semver-minor`, `re:…` or `label:KEY`",
        |s| match s {
            "package" => Ok(GroupBy::Package),
            "semver-major" | "semver_major" => Ok(GroupBy::SemverMajor),
            "semver-minor" | "semver_minor" => Ok(GroupBy::SemverMinor),
            s if s.starts_with("re:") => parse_capture_regex(s, "`per`").map(GroupBy::TagCapture),
            s => match s.strip_prefix("label:") {
                Some(k) if !k.trim().is_empty() => Ok(GroupBy::Label(k.trim().to_string())),
                _ => Err(with_help(
                    format!("`{s}` is not a way to group versions"),
                    r"write `package`, `semver-major`, `semver-minor`, a regex with a capture group (`re:pr-(\d+)-.*`) or `label:KEY`",
                )),
            },
        },
    )
}

fn de_keep_newest<'de, D: Deserializer<'de>>(d: D) -> Result<Option<KeepNewest>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = KeepNewest;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a count, or a mapping with `count` and `per`")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeepNewest, E> {
            let count = de_count(de::value::U64Deserializer::<E>::new(v))?;
            Ok(KeepNewest {
                count,
                group_by: GroupBy::Package,
            })
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeepNewest, E> {
            let count = de_count(de::value::I64Deserializer::<E>::new(v))?;
            Ok(KeepNewest {
                count,
                group_by: GroupBy::Package,
            })
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<KeepNewest, A::Error> {
            let raw = RawKeepNewest::deserialize(de::value::MapAccessDeserializer::new(map))?;
            Ok(KeepNewest {
                count: raw.count,
                group_by: raw.per,
            })
        }
    }
    d.deserialize_any(V).map(Some)
}

fn de_semver_lines<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SemverLines>, D::Error> {
    checked_map(
        d,
        "a mapping with `count` and `level`",
        |r: RawSemverLines| {
            Ok(SemverLines {
                level: r.level,
                count: r.count,
            })
        },
    )
    .map(Some)
}

fn de_repository<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parsed_str(d, "a repository `owner/name`", |s| {
        let ok = s
            .split_once('/')
            .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            && !s.contains(char::is_whitespace);
        if ok {
            Ok(s.to_string())
        } else {
            Err(with_help(
                format!("`{s}` is not a repository"),
                "write the repository the pull requests live in as `owner/name`, e.g. `acme/app`",
            ))
        }
    })
}

fn de_number_from<'de, D: Deserializer<'de>>(d: D) -> Result<Matcher, D::Error> {
    parsed_str(d, "a regex with a capture group", |s| {
        parse_capture_regex(s, "`number_from`")
    })
}

fn de_pull_request<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<PullRequestCondition>, D::Error> {
    checked_map(
        d,
        "a mapping with `repository`, `state` and optionally `number_from` and `closed_for`",
        |r: RawPullRequest| {
            if r.closed_for.is_some() && r.state == PullRequestState::Open {
                return Err(with_help(
                    "`closed_for` is given for open pull requests, which are not closed",
                    "remove `closed_for`, or use `state: closed` or `state: merged`",
                ));
            }
            Ok(PullRequestCondition {
                repository: r.repository,
                number_from: r.number_from,
                state: r.state,
                closed_for: r.closed_for,
            })
        },
    )
    .map(Some)
}
