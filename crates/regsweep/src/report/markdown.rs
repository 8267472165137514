//! Markdown: the Actions step summary and `--output markdown`.
//!
//! Text from the server is escaped (`crate::escape`): control characters made
//! visible, and in table cells `|`, `<` and `>` so a cell can neither split the
//! table nor inject HTML.

use std::fmt::Write;

use regsweep_core::plan::Action;

use super::{age_of, outcome_label, reason_of, tags_of, Report};

/// Rows shown per package, and in all: GitHub caps a step summary at 1 MiB, and an
/// account with 100,000 versions must still get a readable one.
const MAX_ROWS_PER_PACKAGE: usize = 200;
const MAX_ROWS: usize = 2_000;

use crate::escape::{control as esc, markdown_cell as cell};

/// Renders the Markdown summary.
pub fn render(r: &Report<'_>) -> String {
    let mut out = String::new();
    let t = r.totals();
    let title = if r.execution.is_some() {
        "regsweep: retention applied"
    } else {
        "regsweep: retention plan (dry run)"
    };
    let _ = writeln!(out, "## {title}\n");
    let _ = writeln!(
        out,
        "Account `{}` · {} in {}\n",
        esc(r.account),
        super::count(t.versions, "version"),
        super::count(r.plan.packages.len(), "package")
    );
    if !r.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {} could not be read: not planned, nothing in them deleted.\n>",
            super::count(r.unreadable.len(), "package")
        );
        for line in super::unreadable_lines(r) {
            let _ = writeln!(out, "> - {}", cell(&line));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| | count |\n|---|---:|");
    let _ = writeln!(
        out,
        "| to delete | {} |\n| kept | {} |\n| skipped (GitHub would refuse) | {} |",
        t.delete, t.keep, t.skip
    );
    if t.partial_tag_matches > 0 {
        let _ = writeln!(
            out,
            "| kept: delete rules select only some of their tags | {} |",
            t.partial_tag_matches
        );
    }
    if t.untag_tags > 0 {
        let _ = writeln!(
            out,
            "| tags to remove (untag), from versions that stay | {} |",
            t.untag_tags
        );
    }
    if let Some(n) = t.untagged {
        let _ = writeln!(out, "| tags removed | {n} |");
    }
    if r.execution.is_some() {
        for (label, n) in t.applied() {
            let _ = writeln!(out, "| {label} | {n} |");
        }
    }
    let _ = writeln!(
        out,
        "\n<details><summary>Policy ({} rule(s) from {})</summary>\n",
        r.policy.rules.len() + r.policy.package_rules.len(),
        cell(&r.policy_source)
    );
    for line in super::policy_lines(r) {
        let _ = writeln!(out, "{}", cell(&line));
    }
    let _ = writeln!(out, "\nThen: {}.\n\n</details>", super::EVALUATION);
    let outcomes = r.outcome_map();
    let mut budget = MAX_ROWS;
    for (pi, p) in r.plan.packages.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n### `{}`: {} delete, {} keep, {} skip\n",
            esc(&p.name),
            p.count(Action::Delete),
            p.count(Action::Keep),
            p.count(Action::Skip)
        );
        if let Some(line) = super::package_line(r, pi) {
            let _ = writeln!(out, "**{}**\n", cell(&line));
        }
        let rows = super::shown_rows(p, r.show_kept);
        if rows.is_empty() {
            out.push_str("Nothing to delete.\n");
        } else {
            let applied = r.execution.is_some();
            out.push_str(if applied {
                "| action | version | tags | age | reason | result |\n|---|---|---|---|---|---|\n"
            } else {
                "| action | version | tags | age | reason |\n|---|---|---|---|---|\n"
            });
            let shown = rows.len().min(MAX_ROWS_PER_PACKAGE).min(budget);
            budget -= shown;
            for &(di, d) in &rows[..shown] {
                let tags = if d.tags.is_empty() {
                    "*untagged*".to_string()
                } else {
                    tags_of(d)
                };
                let _ = write!(
                    out,
                    "| {} | `{}` | {} | {} | {} |",
                    d.action,
                    d.id,
                    cell(&tags),
                    age_of(d, r.now),
                    cell(&reason_of(d)),
                );
                if applied {
                    let res = outcomes
                        .get(&(pi, di))
                        .map(|o| outcome_label(o))
                        .unwrap_or_default();
                    let _ = write!(out, " {} |", cell(&res));
                }
                out.push('\n');
            }
            if rows.len() > shown {
                let _ = writeln!(
                    out,
                    "\n… and {} more (the summary shows at most {MAX_ROWS_PER_PACKAGE} per package and {MAX_ROWS} in all; `--output json` lists every version).",
                    rows.len() - shown
                );
            }
            out.push('\n');
        }
        if !r.show_kept {
            if let Some(line) = super::kept_summary(p) {
                let _ = writeln!(out, "{}.\n", cell(&line));
            }
        }
        for f in super::finding_lines(&p.findings) {
            let _ = writeln!(out, "- note: {}", cell(&f));
        }
    }
    out
}
