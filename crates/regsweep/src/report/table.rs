//! The human table for stdout: the policy's rules in order and how they combine;
//! per package, the versions to delete and skip (and kept ones with `--show-kept`),
//! each with its deciding reason; then findings and totals.
//!
//! Text from the server (tags, names, error messages) is shown escaped
//! (`crate::escape`). Given a width (stdout is a terminal), every line fits it: a
//! row's reason is shortened with an ellipsis, keeping its outcome; other long lines
//! are cut. Without one (a pipe, a file) every cell is shown in full.
//!
//! The table is written as it is produced, line by line: a plan of 100,000 versions
//! is never held as text.

use std::fmt::Write;
use std::io;

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

/// Where the table goes: each line, cut to `width` columns when there is one,
/// written to `w` as soon as it ends. The first write error is kept for the caller
/// (`fmt::Write` cannot carry it).
struct Lines<'w> {
    w: &'w mut dyn io::Write,
    width: Option<usize>,
    /// The unfinished line, when lines are cut.
    line: String,
    error: Option<io::Error>,
}

impl Lines<'_> {
    fn emit(&mut self, bytes: &[u8]) -> std::fmt::Result {
        self.w.write_all(bytes).map_err(|e| {
            self.error.get_or_insert(e);
            std::fmt::Error
        })
    }
}

impl Write for Lines<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let Some(width) = self.width else {
            return self.emit(s.as_bytes());
        };
        let mut rest = s;
        while let Some(end) = rest.find('\n') {
            self.line.push_str(&rest[..end]);
            let mut cut = truncate(&self.line, width);
            cut.push('\n');
            self.line.clear();
            self.emit(cut.as_bytes())?;
            rest = &rest[end + 1..];
        }
        self.line.push_str(rest);
        Ok(())
    }
}

/// Writes the table to `w`; with `width`, every line fits in that many columns
/// (`None`: every cell in full).
pub fn write_fitted(r: &Report<'_>, width: Option<usize>, w: &mut dyn io::Write) -> io::Result<()> {
    let mut out = Lines {
        w,
        width,
        line: String::new(),
        error: None,
    };
    let written = render_into(r, width, &mut out);
    match (out.error, written) {
        (Some(e), _) => Err(e),
        (None, Err(_)) => Err(io::Error::other("cannot render the table")),
        (None, Ok(())) => Ok(()),
    }
}

/// The table, line by line, into `out` (which cuts lines to `width`).
fn render_into(r: &Report<'_>, width: Option<usize>, out: &mut Lines<'_>) -> std::fmt::Result {
    writeln!(
        out,
        "policy from {} (rules in order):",
        esc(&r.policy_source)
    )?;
    for line in super::policy_lines(r) {
        writeln!(out, "  {}", esc(&line))?;
    }
    writeln!(out, "  then: {}\n", super::EVALUATION)?;
    let outcomes = r.outcome_map();
    for (pi, p) in r.plan.packages.iter().enumerate() {
        writeln!(
            out,
            "{}  ({} versions: {} delete, {} keep, {} skip)",
            esc(&p.name),
            p.decisions.len(),
            p.count(Action::Delete),
            p.count(Action::Keep),
            p.count(Action::Skip)
        )?;
        if let Some(line) = super::package_line(r, pi) {
            writeln!(out, "  {}", esc(&line))?;
        }
        let rows = super::shown_rows(p, r.show_kept);
        if rows.is_empty() {
            writeln!(out, "  nothing to delete")?;
        } else {
            let max_tag_w = width.map_or(MAX_TAG_WIDTH, |w| (w / 5).clamp(4, MAX_TAG_WIDTH));
            let tag_w = rows
                .iter()
                .map(|(_, d)| esc(&tags_of(d)).width())
                .max()
                .unwrap_or(4)
                .clamp(4, max_tag_w);
            writeln!(
                out,
                "  {:<7} {:<12} {:<19} {:<tag_w$} {:>5}  REASON",
                "ACTION", "VERSION", "DIGEST", "TAGS", "AGE"
            )?;
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
                writeln!(out, "{prefix}{reason}{suffix}")?;
            }
        }
        if !r.show_kept {
            if let Some(line) = super::kept_summary(p) {
                writeln!(out, "  {line} (--show-kept lists them)")?;
            }
        }
        for f in super::finding_lines(&p.findings) {
            writeln!(out, "  note: {}", esc(&f))?;
        }
        out.write_char('\n')?;
    }
    if !r.unreadable.is_empty() {
        writeln!(
            out,
            "UNREADABLE: {} not planned, nothing in them deleted:",
            super::count(r.unreadable.len(), "package")
        )?;
        for line in super::unreadable_lines(r) {
            writeln!(out, "  {line}")?;
        }
        out.write_char('\n')?;
    }
    let t = r.totals();
    write!(
        out,
        "{} in {}: {} to delete, {} kept, {} skipped",
        super::count(t.versions, "version"),
        super::count(r.plan.packages.len(), "package"),
        t.delete,
        t.keep,
        t.skip
    )?;
    match (r.execution, r.dry_run) {
        (Some(_), _) => {
            let counts: Vec<String> = t
                .applied()
                .iter()
                .map(|(label, n)| format!("{label} {n}"))
                .collect();
            write!(out, "\n{}", counts.join(", "))?;
        }
        (None, _) => out.write_str(" (dry run: nothing deleted)")?,
    }
    if let Some(line) = t.partial_line() {
        write!(out, "\n{line}")?;
    }
    if let Some(line) = t.untag_line() {
        write!(out, "\n{line}")?;
    }
    out.write_char('\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_columns_and_marks_the_cut() {
        assert_eq!(truncate("v1.2.3", 10), "v1.2.3");
        assert_eq!(truncate("v1.2.3-rc.1", 6), "v1.2.…");
        assert_eq!(truncate("日本語のタグ", 7), "日本語…");
        let mut bytes = Vec::new();
        let mut lines = Lines {
            w: &mut bytes,
            width: Some(4),
            line: String::new(),
            error: None,
        };
        lines.write_str("abc").unwrap();
        lines.write_str("def\nxy\n").unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "abc…\nxy\n");
    }
}
