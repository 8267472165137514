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
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::matcher::{Matcher, PatternList};
use crate::model::{Digest, TimestampField};

use super::{
    GroupBy, KeepNewest, LabelCondition, Policy, PullRequestCondition, PullRequestState, Rule,
    RuleAction, SemverLevel, SemverLines, TagState,
};

/// The only format version so far.
pub const FORMAT_VERSION: u32 = 1;

/// Separates what is wrong from how to fix it inside serde error messages.
const HELP: &str = "\n  help: ";

/// Where in the file an error is (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Why a policy file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyFileError {
    /// The file name shown (`policy.yaml`, or `policy input` for inline text).
    pub file: String,
    /// Where the offending value or rule starts, when known.
    pub location: Option<Location>,
    /// What is wrong, with the YAML path when known (`rules[2].tags: …`).
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(Location { line, column }) => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)?
            }
            None => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "{HELP}{help}")?;
        }
        Ok(())
    }
}

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
    serde_norway::from_str::<RawPolicy>(text)
        .map(|raw| Policy { rules: raw.rules })
        .map_err(|e| convert_error(name, &e))
}

fn convert_error(name: &str, e: &serde_norway::Error) -> PolicyFileError {
    let location = e.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    let mut text = e.to_string();
    if let Some(l) = e.location() {
        // serde errors end with the location; YAML syntax errors carry it inside.
        let at = format!(" at line {} column {}", l.line(), l.column());
        if let Some(stripped) = text.strip_suffix(&at) {
            text = stripped.to_string();
        } else {
            text = text.replacen(&at, "", 1);
        }
    }
    let text = rule_path(&text);
    let (message, help) = match text.split_once(HELP) {
        Some((m, h)) => (m.to_string(), Some(h.to_string())),
        None => {
            let help = generic_help(&text);
            (text, Some(help))
        }
    };
    PolicyFileError {
        file: name.to_string(),
        location,
        message,
        help,
    }
}

/// Rewrites serde's `rules[0].tags[1]: …` as `rule 1, tags[1]: …`, numbering rules
/// from 1 as their default names (`rule 1`) do.
fn rule_path(text: &str) -> String {
    let Some(rest) = text.strip_prefix("rules[") else {
        return text.to_string();
    };
    let Some((n, rest)) = rest.split_once(']') else {
        return text.to_string();
    };
    let Ok(n) = n.parse::<usize>() else {
        return text.to_string();
    };
    match rest.strip_prefix('.') {
        Some(field) => format!("rule {}, {field}", n + 1),
        None => format!("rule {}{rest}", n + 1),
    }
}

/// Help for errors serde or the YAML parser raised themselves.
fn generic_help(message: &str) -> String {
    if let Some(rest) = message.split("unknown field `").nth(1) {
        let field = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let suggestion = expected
            .iter()
            .map(|c| (edit_distance(field, c), *c))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, c)| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        return format!(
            "remove `{field}` or correct its spelling{suggestion}; every key is described in docs/policy.md"
        );
    }
    if let Some(rest) = message.split("missing field `").nth(1) {
        let field = rest.split('`').next().unwrap_or_default();
        return match field {
            "action" => "every rule needs `action: keep` or `action: delete`".to_string(),
            "rules" => "a policy needs a `rules:` list with at least one rule".to_string(),
            other => format!("add `{other}:`; see docs/policy.md"),
        };
    }
    if message.contains("while scanning a tag") {
        return "`!` starts a YAML tag: quote patterns that start with `!`, e.g. `'!pr-*'`"
            .to_string();
    }
    if message.contains("while scanning an alias") {
        return "`*` starts a YAML alias: quote patterns that start with `*`, e.g. `'*-dev'`"
            .to_string();
    }
    if message.contains("invalid type") {
        return "write the value in the form shown in docs/policy.md; quote strings YAML could read as something else (`'1.0'`, `'!pr-*'`, `'*'`)".to_string();
    }
    "this is not valid YAML or not a policy: check the indentation, and quote patterns that start with `!`, `*`, `&` or `@` or contain `: `".to_string()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn problem<E: de::Error>(what: impl fmt::Display, help: impl fmt::Display) -> E {
    E::custom(format!("{what}{HELP}{help}"))
}

// ---------------------------------------------------------------------------------
// Raw structures: what the file says, with every value already parsed.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default, rename = "version", deserialize_with = "de_version")]
    _version: u32,
    #[serde(deserialize_with = "de_rules")]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    name: Option<String>,
    #[serde(deserialize_with = "de_action")]
    action: RuleAction,
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

fn de_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Rule>, D::Error> {
    struct Rules;
    impl<'de> Visitor<'de> for Rules {
        type Value = Vec<Rule>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of rules")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Rule>, A::Error> {
            let mut rules: Vec<Rule> = Vec::new();
            let mut names = HashSet::new();
            while let Some(rule) = seq.next_element_seed(RuleSeed {
                index: rules.len() + 1,
                names: &names,
            })? {
                names.insert(rule.name.clone());
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
    type Value = Rule;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Rule, D::Error> {
        checked_map(
            d,
            "a rule: a mapping with at least `action: keep` or `action: delete`",
            |raw: RawRule| build_rule(raw, self.index, self.names),
        )
    }
}

fn build_rule(raw: RawRule, index: usize, names: &HashSet<String>) -> Result<Rule, String> {
    let name = match raw.name {
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
    if raw.keep_newest.is_some() && raw.action == RuleAction::Keep {
        return Err(with_help(
            "`keep_newest` on a keep rule would change nothing: a keep rule keeps everything it selects",
            "put `keep_newest` on the delete rule that would delete those versions: it spares the newest N it selects",
        ));
    }
    Ok(Rule {
        name,
        action: raw.action,
        packages: raw.packages,
        tags: raw.tags,
        tag_state: state,
        digests: raw.digests,
        labels: raw.labels,
        orphans_only: raw.orphans,
        older_than: raw.older_than,
        newer_than: raw.newer_than,
        timestamp: raw.timestamp,
        keep_newest: raw.keep_newest,
        pull_request: raw.pull_request,
        semver_lines: raw.semver_lines,
    })
}

fn de_action<'de, D: Deserializer<'de>>(d: D) -> Result<RuleAction, D::Error> {
    parsed_str(d, "`keep` or `delete`", |s| match s {
        "keep" => Ok(RuleAction::Keep),
        "delete" => Ok(RuleAction::Delete),
        other => Err(with_help(
            format!("`{other}` is not an action"),
            "write `action: keep` or `action: delete`",
        )),
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

/// The state a rule has when the file does not say: `tagged` when it gives `tags`
/// (a rule about tags is about tagged versions; the model's tag patterns pass
/// untagged versions through, as snok's `image-tags` does), `any` otherwise.
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

// ---------------------------------------------------------------------------------
// Rendering.

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
    action: RuleAction,
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
                action: r.action,
                packages: r.packages.items(),
                tags: r.tags.items(),
                state: Some(r.tag_state).filter(|s| *s != default_state(&r.tags)),
                digests: r.digests.iter().map(Digest::as_str).collect(),
                labels: OutLabels(&r.labels),
                orphans: r.orphans_only,
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
            })
            .collect(),
    };
    // Serialising plain structs, strings and numbers cannot fail; an empty string
    // would be rejected by `parse` rather than silently accepted.
    serde_norway::to_string(&out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PolicyFileError {
        match parse(text) {
            Ok(p) => panic!("expected an error, got {p:?}"),
            Err(e) => e,
        }
    }

    fn at(e: &PolicyFileError) -> (usize, usize) {
        let l = e.location.expect("a location");
        (l.line, l.column)
    }

    const HEAD: &str = "version: 1\nrules:\n";

    #[test]
    fn errors_point_at_line_and_column_with_help() {
        // (rule body after `  - `, expected line:column, text in message, text in help)
        let cases: &[(&str, (usize, usize), &str, &str)] = &[
            ("action: delete\n    tagz: [a]\n", (4, 5), "unknown field `tagz`", "did you mean `tags`?"),
            ("action: delete\n    tags: [a, \"re:(\"]\n", (4, 15), "rule 1, tags[1]: `re:(`", "re:"),
            ("action: delete\n    tags: \"semver:>>1\"\n", (4, 11), "semver range", "semver:"),
            ("action: delete\n    tags: ['!']\n", (4, 12), "empty after `!`", "!latest"),
            ("action: delete\n    older_than: 30\n", (4, 17), "`30` is not a duration", "unit"),
            ("action: delete\n    older_than: 30d\n    newer_than: 1d\n", (3, 5), "can select nothing", "smaller"),
            ("action: delete\n    keep_newest: 0\n", (4, 18), "count of 0", "at least 1"),
            ("action: delete\n    keep_newest: -2\n", (4, 18), "negative", "at least 1"),
            ("action: delete\n    keep_newest: {count: 2, per: \"re:pr-.*\"}\n", (4, 34), "no capture group", "parentheses"),
            ("action: delete\n    keep_newest: {count: 2, per: branch}\n", (4, 34), "not a way to group", "label:KEY"),
            ("action: keep\n    keep_newest: 3\n", (3, 5), "keep rule", "delete rule"),
            ("action: delete\n    state: untagged\n    tags: [v*]\n", (3, 5), "untagged", "labels"),
            ("action: delete\n    state: untagged\n    semver_lines: {count: 2}\n", (3, 5), "`semver_lines`", "state"),
            ("action: delete\n    state: untaged\n", (4, 12), "not a tag state", "untagged"),
            ("action: remove\n", (3, 13), "`remove` is not an action", "action: delete"),
            ("tags: [a]\n", (3, 5), "missing field `action`", "action: keep"),
            ("action: delete\n    digests: [\"sha256:abc\"]\n", (4, 15), "not a digest", "64 hex"),
            ("action: delete\n    timestamp: modified\n", (4, 16), "not a timestamp", "created_at"),
            ("action: delete\n    labels: {\"\": x}\n", (4, 13), "label key is empty", "org.opencontainers"),
            ("action: delete\n    pull_request: {repository: acme, state: closed}\n", (4, 32), "not a repository", "owner/name"),
            ("action: delete\n    pull_request: {repository: a/b, state: closed, number_from: \"re:pr-\\\\d+\"}\n", (4, 65), "`number_from`", "parentheses"),
            ("action: delete\n    pull_request: {repository: a/b, state: closed, number_from: \"pr-(\\\\d+)\"}\n", (4, 65), "not a regular expression", "re:"),
            ("action: delete\n    pull_request: {repository: a/b, state: open, closed_for: 1d}\n", (4, 19), "open pull requests", "state: closed"),
            ("action: delete\n    pull_request: {repository: a/b, state: gone}\n", (4, 44), "pull-request state", "merged"),
            ("action: delete\n    semver_lines: {count: 2, level: patch}\n", (4, 37), "semver level", "minor"),
            ("action: delete\n    tags: [!pr-*]\n", (4, 17), "scanning a tag", "'!pr-*'"),
            ("action: delete\n    tags: *\n", (4, 12), "scanning an alias", "quote"),
            ("action: delete\n    name: ''\n", (3, 5), "empty name", "name"),
        ];
        for (body, pos, msg, help) in cases {
            let text = format!("{HEAD}  - {body}");
            let e = err(&text);
            let shown = e.to_string();
            assert_eq!(at(&e), *pos, "{text}\n{shown}");
            assert!(e.message.contains(msg), "{text}\n{shown}");
            assert!(
                e.help.as_deref().unwrap_or_default().contains(help),
                "{text}\n{shown}"
            );
            assert!(
                shown.starts_with(&format!("policy.yaml:{}:{}: ", pos.0, pos.1)),
                "{shown}"
            );
        }
    }

    #[test]
    fn policy_level_errors() {
        let e = err("version: 1\nrules: []\n");
        assert_eq!(at(&e), (2, 8));
        assert!(e.message.contains("no rules"), "{e}");
        let e = err("version: 2\nrules:\n  - action: keep\n");
        assert_eq!(at(&e), (1, 10));
        let e = err("version: 1\nrule:\n  - action: keep\n");
        assert!(e.help.unwrap().contains("did you mean `rules`?"));
        let e = err("version: 1\nrules:\n  - action: delete\n  - {name: rule 1, action: keep}\n");
        assert_eq!(at(&e), (4, 5));
        assert!(e.message.contains("already named `rule 1`"), "{e}");
        let e = err("  \n# only a comment\n");
        assert_eq!(at(&e), (1, 1));
        assert!(e.message.contains("empty"));
        let e = parse_named("ci/policy.yml", "rules: 3\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("ci/policy.yml:1:8: rules: invalid type"),
            "{e}"
        );
    }

    #[test]
    fn every_key_parses() {
        let text = r#"
version: 1
rules:
  - name: everything
    action: delete
    packages: "app, team/*, !team/old"
    tags: [latest, "re:^v\\d+", "semver:>=1.2, <2", "!pr-*"]
    state: tagged
    digests: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    labels:
      org.opencontainers.image.version: "re:^pr-\\d+$"
      org.opencontainers.image.revision: null
      org.opencontainers.image.title: [app, worker]
    orphans: true
    older_than: 2w
    newer_than: 2months
    timestamp: created_at
    keep_newest: {count: 3, per: "re:pr-(\\d+)-.*"}
    semver_lines: {count: 2, level: major}
    pull_request: {repository: acme/app, number_from: "re:pr-(\\d+)", state: merged, closed_for: 1d}
  - action: keep
    keep_newest_is_not_here: 1
"#;
        // The second rule has an unknown key; drop it and check the first.
        let e = err(text);
        assert!(e.message.contains("keep_newest_is_not_here"));
        let text = text.replace("    keep_newest_is_not_here: 1\n", "");
        let p = parse(&text).unwrap();
        let r = &p.rules[0];
        assert_eq!(r.name, "everything");
        assert_eq!(p.rules[1].name, "rule 2");
        assert!(r.packages.matches("team/x") && !r.packages.matches("team/old"));
        assert_eq!(r.tags.include.len(), 3);
        assert_eq!(r.tags.exclude.len(), 1);
        assert_eq!(r.tag_state, TagState::Tagged);
        assert_eq!(r.digests.len(), 1);
        assert_eq!(r.labels.len(), 3);
        assert_eq!(r.labels[0].key, "org.opencontainers.image.version");
        assert_eq!(r.labels[1].value, None);
        assert!(r.labels[2].value.as_ref().unwrap().matches("worker"));
        assert!(r.orphans_only);
        assert_eq!(r.older_than, Some(Duration::from_secs(14 * 86400)));
        assert!(r.newer_than.unwrap() > Duration::from_secs(60 * 86400));
        assert_eq!(r.timestamp, TimestampField::CreatedAt);
        let k = r.keep_newest.as_ref().unwrap();
        assert_eq!(k.count, 3);
        assert!(
            matches!(&k.group_by, GroupBy::TagCapture(m) if m.captures("pr-7-abc").as_deref() == Some("7"))
        );
        assert_eq!(r.semver_lines.unwrap().level, SemverLevel::Major);
        let pr = r.pull_request.as_ref().unwrap();
        assert_eq!(pr.state, PullRequestState::Merged);
        assert_eq!(pr.closed_for, Some(Duration::from_secs(86400)));
        assert_eq!(parse(&render(&p)).unwrap(), p, "{}", render(&p));
    }

    #[test]
    fn defaults_and_short_forms() {
        let p = parse("rules:\n  - action: delete\n    keep_newest: 5\n    pull_request: {repository: a/b, state: closed}\n    semver_lines: {count: 1}\n").unwrap();
        let r = &p.rules[0];
        assert_eq!(r.name, "rule 1");
        assert_eq!(r.tag_state, TagState::Any);
        assert_eq!(r.timestamp, TimestampField::UpdatedAt);
        assert_eq!(r.keep_newest.as_ref().unwrap().group_by, GroupBy::Package);
        assert_eq!(r.semver_lines.unwrap().level, SemverLevel::Minor);
        let pr = r.pull_request.as_ref().unwrap();
        assert_eq!(pr.number_from.captures("pr-12").as_deref(), Some("12"));
        assert_eq!(
            pr.number_from.captures("pr-12-abcdef").as_deref(),
            Some("12")
        );
        assert_eq!(pr.number_from.captures("main"), None);
        // A rule about tags is about tagged versions unless it says otherwise.
        let p = parse("rules:\n  - {action: keep, tags: [latest]}\n  - {action: keep, tags: [v*], state: any}\n  - {action: keep, state: tagged}\n").unwrap();
        assert_eq!(p.rules[0].tag_state, TagState::Tagged);
        assert_eq!(p.rules[1].tag_state, TagState::Any);
        assert_eq!(p.rules[2].tag_state, TagState::Tagged);
        assert_eq!(parse(&render(&p)).unwrap(), p, "{}", render(&p));
        assert!(!render(&p).contains("state: tagged\n  - name: rule 2"));
        for per in ["package", "semver-major", "semver-minor", "label:org.x"] {
            let t = format!(
                "rules:\n  - action: delete\n    keep_newest: {{count: 1, per: \"{per}\"}}\n"
            );
            let p = parse(&t).unwrap();
            assert_eq!(parse(&render(&p)).unwrap(), p);
        }
    }

    #[test]
    fn durations_render_compactly_and_exactly() {
        for (text, shown) in [
            ("30d", "30d"),
            ("2w", "14d"),
            ("36h", "36h"),
            ("90m", "90m"),
            ("45s", "45s"),
            ("0s", "0s"),
            ("1month", "1month"),
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(format_duration(d), shown);
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }

    #[test]
    fn snok_translation_round_trips() {
        use crate::policy::snok::{parse_list, parse_skip_shas, SnokInputs, TagSelection};
        let sha = format!("sha256:{}", "c".repeat(64));
        for sel in [
            TagSelection::Both,
            TagSelection::Tagged,
            TagSelection::Untagged,
        ] {
            for keep in [0, 3] {
                let inputs = SnokInputs {
                    image_names: parse_list("app*, !app-legacy").unwrap(),
                    image_tags: parse_list("!latest, v*").unwrap(),
                    skip_shas: parse_skip_shas(&sha).unwrap(),
                    tag_selection: sel,
                    keep_n_most_recent: keep,
                    timestamp: TimestampField::CreatedAt,
                    cut_off: Duration::from_secs(7 * 86400 + 3600),
                };
                let p = inputs.to_policy();
                let text = render(&p);
                assert_eq!(parse(&text).unwrap(), p, "{text}");
            }
        }
    }
}
