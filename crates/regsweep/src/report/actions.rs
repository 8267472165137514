//! GitHub Actions outputs: `$GITHUB_OUTPUT` (`deleted`, `failed` as snok documents
//! them — comma-separated `image-name:version-id` — plus `left` for planned deletions
//! a stopped run did not attempt, and counts) and the step summary.
//!
//! Every value is written in the `name<<DELIMITER` form with a random delimiter
//! that does not occur in the value: server data (package names, tags) holding a
//! newline cannot inject an output line.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::Path;

use super::Report;
use crate::executor::Outcome;

/// The `$GITHUB_OUTPUT` text for every output, each in the heredoc form.
pub fn output_lines(r: &Report<'_>) -> String {
    output_values(r)
        .iter()
        .map(|(name, value)| heredoc(name, value))
        .collect()
}

/// One output as `name<<DELIMITER`, the value, `DELIMITER`, where the delimiter is
/// random and occurs nowhere in the value.
pub fn heredoc(name: &str, value: &str) -> String {
    loop {
        let delimiter = format!("ghadelimiter_{:016x}", random_u64());
        if !value.contains(&delimiter) && !name.contains(&delimiter) {
            return format!("{name}<<{delimiter}\n{value}\n{delimiter}\n");
        }
    }
}

/// A random number from the standard library's randomly keyed hasher (each
/// `RandomState` gets fresh keys), enough for an unguessable delimiter.
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default(),
    );
    h.finish()
}

/// Every output declared in action.yml with its value, in a stable order.
pub fn output_values(r: &Report<'_>) -> Vec<(&'static str, String)> {
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    let mut left = Vec::new();
    let mut skipped = r.plan.count(regsweep_core::plan::Action::Skip);
    if let Some(e) = r.execution {
        for (k, o) in e.outcomes.iter().enumerate() {
            let pr = r.plan.order[k];
            let item = format!(
                "{}:{}",
                r.plan.packages[pr.package].name,
                r.plan.decision(pr).id
            );
            match o {
                Outcome::Deleted | Outcome::AlreadyGone => deleted.push(item),
                Outcome::Failed(_) => failed.push(item),
                Outcome::Left(_) => left.push(item),
                Outcome::Skipped(_) => skipped += 1,
            }
        }
    }
    vec![
        ("deleted", deleted.join(",")),
        ("failed", failed.join(",")),
        ("left", left.join(",")),
        ("deleted-count", deleted.len().to_string()),
        ("failed-count", failed.len().to_string()),
        ("left-count", left.len().to_string()),
        ("skipped-count", skipped.to_string()),
        (
            "planned-count",
            r.plan
                .count(regsweep_core::plan::Action::Delete)
                .to_string(),
        ),
    ]
}

/// Appends to a file named by an Actions environment variable.
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write the Actions file {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12: a value holding newlines and `name=value` lines stays one value.
    #[test]
    fn newline_in_a_value_cannot_inject_an_output() {
        let text = heredoc("deleted", "app\nfailed-count=0\nx<<EOF");
        let mut lines = text.lines();
        let (name, delimiter) = lines.next().unwrap().split_once("<<").unwrap();
        assert_eq!(name, "deleted");
        assert!(delimiter.len() > 20, "{delimiter}");
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        assert_eq!(body.join("\n"), "app\nfailed-count=0\nx<<EOF");
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn delimiters_differ_between_outputs() {
        assert_ne!(heredoc("a", ""), heredoc("a", ""));
    }
}
