//! The human table for stdout: the policy's rules in order and how they combine;
//! per package, the versions to delete and skip (and kept ones with `--show-kept`),
//! each with its deciding reason; then findings and totals.
//!
//! Text from the server (tags, names, error messages) is shown escaped
//! (`crate::escape`). Given a width (stdout is a terminal), every line fits it: a
//! row's reason is shortened with an ellipsis, keeping its outcome; other long lines
//! are cut. Without one (a pipe, a file) every cell is shown in full.

use std::fmt::Write;

use regsweep_core::plan::Action;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{age_of, outcome_label, reason_of, tags_of, Report};
use crate::escape::control as esc;

/// The widest tag column.
const MAX_TAG_WIDTH: usize = 40;

/// `s` cut to at most `width` columns, ending in `…` when something was cut.
fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` padded with spaces to `width` columns.
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(s.width())))
}

/// Renders the table; with `width`, every line fits in that many columns (`None`:
/// every cell in full).
pub fn render_fitted(r: &Report<'_>, width: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy from {} (rules in order):",
        esc(&r.policy_source)
    );
    for line in super::policy_lines(r) {
        let _ = writeln!(out, "  {}", esc(&line));
    }
    let _ = writeln!(out, "  then: {}\n", super::EVALUATION);
    let outcomes = r.outcome_map();
    for (pi, p) in r.plan.packages.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}  ({} versions: {} delete, {} keep, {} skip)",
            esc(&p.name),
            p.decisions.len(),
            p.count(Action::Delete),
            p.count(Action::Keep),
            p.count(Action::Skip)
        );
        if let Some(line) = super::package_line(r, pi) {
            let _ = writeln!(out, "  {}", esc(&line));
        }
        let rows = super::shown_rows(p, r.show_kept);
        if rows.is_empty() {
            let _ = writeln!(out, "  nothing to delete");
        } else {
            let max_tag_w = width.map_or(MAX_TAG_WIDTH, |w| (w / 5).clamp(4, MAX_TAG_WIDTH));
            let tag_w = rows
                .iter()
                .map(|(_, d)| esc(&tags_of(d)).width())
                .max()
                .unwrap_or(4)
                .clamp(4, max_tag_w);
            let _ = writeln!(
                out,
                "  {:<7} {:<12} {:<19} {:<tag_w$} {:>5}  REASON",
                "ACTION", "VERSION", "DIGEST", "TAGS", "AGE"
            );
            for (di, d) in rows {
                let tags = truncate(&esc(&tags_of(d)), tag_w);
                let prefix = format!(
                    "  {:<7} {:<12} {:<19} {} {:>5}  ",
                    d.action.to_string(),
                    d.id.to_string(),
                    d.digest.short(),
                    pad(&tags, tag_w),
                    age_of(d, r.now),
                );
                let suffix = outcomes
                    .get(&(pi, di))
                    .map(|o| format!("  [{}]", esc(&outcome_label(o))))
                    .unwrap_or_default();
                let mut reason = esc(&reason_of(d)).into_owned();
                if let Some(w) = width {
                    let room = w.saturating_sub(prefix.width() + suffix.width());
                    reason = truncate(&reason, room.max(12));
                }
                let _ = writeln!(out, "{prefix}{reason}{suffix}");
            }
        }
        if !r.show_kept {
            if let Some(line) = super::kept_summary(p) {
                let _ = writeln!(out, "  {line} (--show-kept lists them)");
            }
        }
        for f in super::finding_lines(&p.findings) {
            let _ = writeln!(out, "  note: {}", esc(&f));
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
    if let Some(line) = t.partial_line() {
        let _ = write!(out, "\n{line}");
    }
    if let Some(line) = t.untag_line() {
        let _ = write!(out, "\n{line}");
    }
    out.push('\n');
    match width {
        Some(w) => fit(&out, w),
        None => out,
    }
}

/// Every line of `text` cut to `width` columns.
fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&truncate(line, width));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_columns_and_marks_the_cut() {
        assert_eq!(truncate("v1.2.3", 10), "v1.2.3");
        assert_eq!(truncate("v1.2.3-rc.1", 6), "v1.2.…");
        assert_eq!(truncate("日本語のタグ", 7), "日本語…");
        assert_eq!(fit("abcdef\nxy\n", 4), "abc…\nxy\n");
    }
}
