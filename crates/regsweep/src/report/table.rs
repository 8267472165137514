//! The human table for stdout: the policy's rules in order and how they combine;
//! per package, the versions to delete and skip (and kept ones with `--show-kept`),
//! each with its deciding reason; then findings and totals.

use std::fmt::Write;

use regsweep_core::plan::Action;

use super::{age_of, outcome_label, reason_of, tags_of, Report};

/// Renders the table.
pub fn render(r: &Report<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "policy from {} (rules in order):", r.policy_source);
    for line in super::policy_lines(r) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "  then: {}\n", super::EVALUATION);
    let outcomes = r.outcome_map();
    for (pi, p) in r.plan.packages.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}  ({} versions: {} delete, {} keep, {} skip)",
            p.name,
            p.decisions.len(),
            p.count(Action::Delete),
            p.count(Action::Keep),
            p.count(Action::Skip)
        );
        let rows = super::shown_rows(p, r.show_kept);
        if rows.is_empty() {
            let _ = writeln!(out, "  nothing to delete");
        } else {
            let tag_w = rows
                .iter()
                .map(|(_, d)| tags_of(d).len())
                .max()
                .unwrap_or(4)
                .clamp(4, 40);
            let _ = writeln!(
                out,
                "  {:<7} {:<12} {:<19} {:<tag_w$} {:>5}  REASON",
                "ACTION", "VERSION", "DIGEST", "TAGS", "AGE"
            );
            for (di, d) in rows {
                let mut tags = tags_of(d);
                if tags.len() > tag_w {
                    tags.truncate(tag_w - 1);
                    tags.push('…');
                }
                let _ = write!(
                    out,
                    "  {:<7} {:<12} {:<19} {:<tag_w$} {:>5}  {}",
                    d.action.to_string(),
                    d.id.to_string(),
                    d.digest.short(),
                    tags,
                    age_of(d, r.now),
                    reason_of(d)
                );
                if let Some(o) = outcomes.get(&(pi, di)) {
                    let _ = write!(out, "  [{}]", outcome_label(o));
                }
                out.push('\n');
            }
        }
        if !r.show_kept {
            if let Some(line) = super::kept_summary(p) {
                let _ = writeln!(out, "  {line} (--show-kept lists them)");
            }
        }
        for f in super::finding_lines(&p.findings) {
            let _ = writeln!(out, "  note: {f}");
        }
        out.push('\n');
    }
    if !r.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "UNREADABLE: {} not planned, nothing in them deleted:",
            super::count(r.unreadable.len(), "package")
        );
        for line in super::unreadable_lines(r) {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    let t = r.totals();
    let _ = write!(
        out,
        "{} in {}: {} to delete, {} kept, {} skipped",
        super::count(t.versions, "version"),
        super::count(r.plan.packages.len(), "package"),
        t.delete,
        t.keep,
        t.skip
    );
    match (r.execution, r.dry_run) {
        (Some(_), _) => {
            let counts: Vec<String> = t
                .applied()
                .iter()
                .map(|(label, n)| format!("{label} {n}"))
                .collect();
            let _ = write!(out, "\n{}", counts.join(", "));
        }
        (None, _) => out.push_str(" (dry run: nothing deleted)"),
    }
    out.push('\n');
    out
}
