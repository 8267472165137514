//! Writing to stdout, where a closed pipe is not an error: `regsweep plan | head`
//! ends quietly (exit 0), as ripgrep does, instead of panicking in `print!`.
//!
//! Every write to stdout goes through [`print`], or through a writer whose
//! `io::Error` reaches `main`, which treats a broken pipe as a normal end
//! (`crate::error::CliError::is_broken_pipe`).

use std::io::Write;

/// Writes `text` to stdout, redacted (`crate::redact`), and flushes it. A closed
/// stdout is not an error: the reader is gone, the run goes on and its exit code
/// stays what the run decides (`validate` still exits 3 when `| head` has read enough).
pub fn print(text: &str) -> std::io::Result<()> {
    let text = crate::redact::global().redact(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
