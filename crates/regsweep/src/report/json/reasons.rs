//! A decision's `reasons`, written by hand for the kinds nearly every decision has
//! (selected or passed over by age, tag state or tag pattern) and by serde for the
//! others: the same bytes either way (the parent's tests compare the document with
//! serde's rendering, these kinds included).

use std::io::{self, Write};
use std::time::Duration;

use regsweep_core::reason::{Miss, Reason, RuleMiss, Selected};

use super::out::Out;

/// The `reasons` array.
pub(super) fn write<W: Write>(o: &mut Out<W>, reasons: &[Reason]) -> io::Result<()> {
    o.open(b"[")?;
    for r in reasons {
        o.element()?;
        reason(o, r)?;
    }
    o.close(b"]")
}

fn reason<W: Write>(o: &mut Out<W>, r: &Reason) -> io::Result<()> {
    match r {
        Reason::KeptByRule {
            rule,
            how: Selected::Matched { age },
        } => by_rule(o, "kept_by_rule", rule, *age),
        Reason::DeletedByRule {
            rule,
            how: Selected::Matched { age },
        } => by_rule(o, "deleted_by_rule", rule, *age),
        Reason::NotSelected { misses } => {
            o.open(b"{")?;
            kind(o, "not_selected")?;
            o.key("misses")?;
            o.open(b"[")?;
            for m in misses {
                o.element()?;
                miss(o, m)?;
            }
            o.close(b"]")?;
            o.close(b"}")
        }
        other => o.value(other),
    }
}

/// `{"kind": …, "rule": …, "how": {"kind": "matched", "age": …}}`.
fn by_rule<W: Write>(o: &mut Out<W>, k: &str, rule: &str, age: Duration) -> io::Result<()> {
    o.open(b"{")?;
    kind(o, k)?;
    o.key("rule")?;
    o.string(rule)?;
    o.key("how")?;
    o.open(b"{")?;
    kind(o, "matched")?;
    o.entry("age", &age.as_secs())?;
    o.close(b"}")?;
    o.close(b"}")
}

/// A rule that passed the version over: its name, then the miss's own fields
/// (flattened).
fn miss<W: Write>(o: &mut Out<W>, m: &RuleMiss) -> io::Result<()> {
    let (k, age_limit) = match &m.miss {
        Miss::TooNew { age, limit } => ("too_new", Some((age, limit))),
        Miss::TooOld { age, limit } => ("too_old", Some((age, limit))),
        Miss::TagState { .. } => ("tag_state", None),
        Miss::TagsNotMatched { .. } => ("tags_not_matched", None),
        _ => return o.value(m),
    };
    o.open(b"{")?;
    o.key("rule")?;
    o.string(&m.rule)?;
    kind(o, k)?;
    match &m.miss {
        Miss::TagState { wanted } => o.entry("wanted", wanted)?,
        Miss::TagsNotMatched { patterns } => {
            o.key("patterns")?;
            o.string(patterns)?;
        }
        _ => {}
    }
    if let Some((age, limit)) = age_limit {
        o.entry("age", &age.as_secs())?;
        o.entry("limit", &limit.as_secs())?;
    }
    o.close(b"}")
}

fn kind<W: Write>(o: &mut Out<W>, k: &str) -> io::Result<()> {
    o.key("kind")?;
    o.string(k)
}
