//! What the terminal allows: colour (only on a terminal, never with `NO_COLOR`) and
//! the width tables are fitted to (only when stdout is a terminal; `COLUMNS` wins
//! over the size the terminal reports; a pipe or a file gets every column in full).
//!
//! Read once, where the output is written; the renderers receive plain values.

use std::io::IsTerminal;

/// Whether to colour a stream that is (or is not) a terminal: never when
/// `NO_COLOR` is set to a non-empty value (<https://no-color.org>) or `TERM=dumb`.
pub fn colour(is_terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    is_terminal && !no_color && !dumb
}

/// Whether stderr gets colour (the logs).
pub fn stderr_colour() -> bool {
    colour(std::io::stderr().is_terminal())
}

/// The width to fit stdout's tables to, when stdout is a terminal; `None` (no
/// limit) in a pipe or a file.
pub fn stdout_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    columns
        .or_else(|| terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0)))
        .filter(|&c| c > 0)
}
