//! Escaping of text that came from outside (tags, package names, error bodies) before
//! it reaches a terminal, a log line or a Markdown document.
//!
//! A registry or the GitHub API may answer with any bytes. Raw ESC sequences would
//! recolour or rewrite the user's terminal, NUL and newlines would forge lines, and
//! bidirectional controls would make text read differently from what it is. Every
//! human output (tables, Markdown, logs) passes server data through [`control`].
//! Pure functions, so they compose with any other filter of the same text (such as
//! the redaction of secrets).

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as is: C0 controls (NUL, ESC, newline, tab,
/// …), DEL, C1 controls, and the Unicode bidirectional and line-separator controls.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every unsafe character written as a visible escape: `\n`, `\r`, `\t`,
/// `\0`, `\x1b` (other C0, DEL and C1 controls) or `\u{202e}` (the others). Text
/// without such characters is returned as is.
pub fn control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if is_unsafe(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`control`], applied to each line of a message whose own line breaks are meant
/// (an error with its explanation and help on separate lines).
pub fn control_lines(s: &str) -> String {
    s.split('\n').map(control).collect::<Vec<_>>().join("\n")
}

/// Text for a Markdown table cell (GitHub-flavoured): [`control`], then `|` escaped
/// so the cell does not split, and `<` and `>` as entities so no HTML is injected
/// into a step summary.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in control(s).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        let cases = [
            ("v1.2", "v1.2"),
            ("a\x1b[31mred", "a\\x1b[31mred"),
            ("nul\0x", "nul\\0x"),
            ("two\nlines\r", "two\\nlines\\r"),
            ("tab\there", "tab\\there"),
            ("del\x7f", "del\\x7f"),
            ("c1\u{9b}31m", "c1\\x9b31m"),
            ("bidi\u{202e}cba", "bidi\\u{202e}cba"),
            ("isolate\u{2066}x\u{2069}", "isolate\\u{2066}x\\u{2069}"),
            ("café…", "café…"),
        ];
        for (input, want) in cases {
            assert_eq!(control(input), want, "{input:?}");
        }
    }

    #[test]
    fn clean_text_is_not_copied() {
        assert!(matches!(control("sha256-abc.sig"), Cow::Borrowed(_)));
    }

    #[test]
    fn messages_keep_their_own_lines() {
        assert_eq!(
            control_lines("error: x\x1b\n  help: y"),
            "error: x\\x1b\n  help: y"
        );
    }

    #[test]
    fn markdown_cells_cannot_split_or_inject_html() {
        assert_eq!(
            markdown_cell("a|b<img src=x>\n| c"),
            "a\\|b&lt;img src=x&gt;\\n\\| c"
        );
    }
}
