//! Markdown: the Actions step summary and `--output markdown`.

use std::fmt::Write;

use regsweep_core::plan::Action;

use super::{age_of, outcome_label, reason_of, Report};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

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
        "Account `{}` · {} versions in {} packages\n",
        r.account,
        t.versions,
        r.plan.packages.len()
    );
    let _ = writeln!(out, "| | count |\n|---|---:|");
    let _ = writeln!(
        out,
        "| to delete | {} |\n| kept | {} |\n| skipped (GitHub would refuse) | {} |",
        t.delete, t.keep, t.skip
    );
    if r.execution.is_some() {
        let _ = writeln!(
            out,
            "| deleted | {} |\n| failed | {} |\n| skipped by GitHub | {} |\n| left for the next run | {} |",
            t.deleted.unwrap_or(0),
            t.failed.unwrap_or(0),
            t.skipped_at_runtime.unwrap_or(0),
            t.left.unwrap_or(0)
        );
    }
    let outcomes = r.outcome_map();
    for (pi, p) in r.plan.packages.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n### `{}`: {} delete, {} keep, {} skip\n",
            p.name,
            p.count(Action::Delete),
            p.count(Action::Keep),
            p.count(Action::Skip)
        );
        let rows: Vec<_> = p
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| r.show_kept || d.action != Action::Keep)
            .collect();
        if rows.is_empty() {
            out.push_str("Nothing to delete.\n");
        } else {
            out.push_str(
                "| action | version | tags | age | reason | result |\n|---|---|---|---|---|---|\n",
            );
            for (di, d) in rows {
                let res = outcomes
                    .get(&(pi, di))
                    .map(|o| outcome_label(o))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} | {} | {} |",
                    d.action,
                    d.id,
                    cell(&if d.tags.is_empty() {
                        "*untagged*".to_string()
                    } else {
                        d.tags.join(", ")
                    }),
                    age_of(d, r.now),
                    cell(&reason_of(d)),
                    cell(&res)
                );
            }
        }
        for f in super::finding_lines(&p.findings) {
            let _ = writeln!(out, "- note: {}", cell(&f));
        }
    }
    out
}
