//! GitHub Actions outputs: `$GITHUB_OUTPUT` (`deleted`, `failed` as snok documents
//! them — comma-separated `image-name:version-id` — plus `left` for planned deletions
//! a stopped run did not attempt, `deleted-packages` for packages deleted as a whole,
//! and counts) and the step summary.
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
    let mut deleted_packages = Vec::new();
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
        // A package deleted as a whole: each of its versions shares its outcome.
        for p in &e.packages {
            let pp = &r.plan.packages[p.package];
            if matches!(p.outcome, Outcome::Deleted | Outcome::AlreadyGone) {
                deleted_packages.push(pp.name.clone());
            }
            for d in &pp.decisions {
                let item = format!("{}:{}", pp.name, d.id);
                match &p.outcome {
                    Outcome::Deleted | Outcome::AlreadyGone => deleted.push(item),
                    Outcome::Failed(_) => failed.push(item),
                    Outcome::Left(_) => left.push(item),
                    Outcome::Skipped(_) => skipped += 1,
                }
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
        (
            "untagged-count",
            r.execution
                .map(|e| {
                    e.untags
                        .iter()
                        .filter(|u| u.status == crate::executor::untag::UntagStatus::Untagged)
                        .count()
                })
                .unwrap_or(0)
                .to_string(),
        ),
        ("deleted-packages", deleted_packages.join(",")),
    ]
}

/// Appends to a file named by an Actions environment variable.
pub fn append(path: &Path, text: &str) -> Result<(), crate::error::CliError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| crate::error::CliError::Output {
            what: format!("cannot write the Actions file {}", path.display()),
            source,
        })
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

    /// Issue 12: a package whose name holds a newline and a fake `name=value` line
    /// (server data) cannot add an output: the runner's parser sees the nine
    /// declared outputs, the name inside `deleted`.
    #[test]
    fn newline_in_a_package_name_cannot_inject_an_output() {
        use regsweep_core::planner::{self, PlanInput};
        let now: jiff::Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let inventory: regsweep_core::model::Inventory =
            serde_json::from_value(serde_json::json!({
                "packages": [{"name": "app\nfailed-count=99\nleft<<X", "versions": [{
                    "id": 7, "digest": format!("sha256:{}", "a".repeat(64)), "tags": ["v1"],
                    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
                }, {
                    "id": 8, "digest": format!("sha256:{}", "b".repeat(64)), "tags": ["v2"],
                    "created_at": "2026-11-24T00:00:00Z", "updated_at": "2026-11-24T00:00:00Z"
                }]}]
            }))
            .unwrap();
        let policy = regsweep_core::policy::file::parse_named(
            "p",
            "rules: [{action: delete, older_than: 30d}]",
        )
        .unwrap();
        let plan = planner::plan(PlanInput {
            inventory: &inventory,
            graph: &Default::default(),
            policy: &policy,
            now,
            options: Default::default(),
            pulls: &Default::default(),
        });
        assert_eq!(plan.order.len(), 1, "one deletion planned");
        let execution = crate::executor::Execution {
            outcomes: vec![Outcome::Deleted],
            ..Default::default()
        };
        let r = Report {
            account: "acme",
            plan: &plan,
            execution: Some(&execution),
            now,
            dry_run: false,
            show_kept: false,
            stats: Default::default(),
            timings: Default::default(),
            policy: &policy,
            policy_source: "p".into(),
            unreadable: &[],
        };
        let text = output_lines(&r);
        // Parse as the runner does: `name<<D`, lines up to `D`.
        let mut outputs = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let (name, d) = line.split_once("<<").expect("heredoc form");
            let value: Vec<&str> = lines.by_ref().take_while(|l| l != &d).collect();
            outputs.push((name.to_string(), value.join("\n")));
        }
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "deleted",
                "failed",
                "left",
                "deleted-count",
                "failed-count",
                "left-count",
                "skipped-count",
                "planned-count",
                "untagged-count",
                "deleted-packages"
            ]
        );
        assert_eq!(outputs[0].1, "app\nfailed-count=99\nleft<<X:7");
        assert_eq!(outputs[4].1, "0");
    }

    #[test]
    fn delimiters_differ_between_outputs() {
        assert_ne!(heredoc("a", ""), heredoc("a", ""));
    }
}
