//! Errors of the policy file: locations, messages with help, and the conversion of
//! serde errors (with suggestions for misspelt keys and YAML pitfalls).

use std::fmt;

use serde::de;

/// Separates what is wrong from how to fix it inside serde error messages.
pub(super) const HELP: &str = "\n  help: ";

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

pub(super) fn convert_error(name: &str, e: &serde_norway::Error) -> PolicyFileError {
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

pub(super) fn problem<E: de::Error>(what: impl fmt::Display, help: impl fmt::Display) -> E {
    E::custom(format!("{what}{HELP}{help}"))
}
