//! The process's one [`Redactor`] and the writers that apply it, so that no string
//! reaches stdout, stderr, the logs or the Actions files with a secret in it.
//!
//! Settings register the configured secrets (the GitHub token, the registry
//! password); the registry client registers the bearer tokens it learns. The writers
//! redact whatever they are given, so formatting code need not remember to:
//! - [`Redacting`] wraps any `io::Write` (stdout reports, files such as the journal),
//!   holding back an unfinished line so a secret split across writes is still found;
//! - [`LogWriter`] is the `MakeWriter` of the tracing subscriber;
//! - the `print!`, `println!`, `eprint!` and `eprintln!` macros defined here shadow
//!   std's in every module of the binary (declared after this one in `main.rs`).

use std::io::{self, Write};
use std::sync::LazyLock;

use regsweep_core::redact::Stream;
use regsweep_core::Redactor;

use crate::settings::Backend;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::new);

/// The process's redactor (a shared handle: secrets added later reach every writer).
pub fn global() -> &'static Redactor {
    &REDACTOR
}

/// Registers the secrets of a backend.
pub fn register(backend: &Backend) {
    match backend {
        Backend::Github { token, .. } => global().add_secret(token),
        Backend::Oci {
            username, password, ..
        } => {
            if let Some(p) = password {
                match username {
                    Some(u) => global().add_basic(u, p),
                    None => global().add_secret(p),
                }
            }
        }
    }
}

/// An `io::Write` that redacts what passes through it. Whole lines are written
/// through as they complete; `flush` and drop write the rest.
pub struct Redacting<W: Write> {
    inner: W,
    stream: Stream,
}

impl<W: Write> Redacting<W> {
    /// Wraps `inner`, redacting with the process's redactor.
    pub fn new(inner: W) -> Self {
        Redacting {
            inner,
            stream: global().stream(),
        }
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let ready = self.stream.push(buf);
        self.inner.write_all(&ready)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let rest = self.stream.finish();
        self.inner.write_all(&rest)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Redacting<W> {
    fn drop(&mut self) {
        if !self.stream.is_empty() {
            let _ = self.flush();
        }
    }
}

/// The tracing subscriber's writer: stderr, redacted, one event at a time.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Redacting<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Redacting::new(io::stderr())
    }
}

/// Writes formatted text, redacted, to stdout (`to_stderr` false) or stderr. Errors
/// (a closed pipe) are ignored, as there is nowhere left to report them.
pub fn write_fmt(to_stderr: bool, args: std::fmt::Arguments<'_>) {
    let text = std::fmt::format(args);
    let text = global().redact(&text);
    let _ = if to_stderr {
        io::stderr().lock().write_all(text.as_bytes())
    } else {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|_| out.flush())
    };
}

/// `print!`, redacted.
#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::redact::write_fmt(false, format_args!($($arg)*))
    };
}

/// `println!`, redacted.
#[allow(unused_macros)]
macro_rules! println {
    () => {
        $crate::redact::write_fmt(false, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::redact::write_fmt(false, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!`, redacted.
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::redact::write_fmt(true, format_args!($($arg)*))
    };
}

/// `eprintln!`, redacted.
macro_rules! eprintln {
    () => {
        $crate::redact::write_fmt(true, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::redact::write_fmt(true, format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::Secret;

    #[test]
    fn redacting_writer_hides_a_secret_split_across_writes() {
        global().add_secret(&Secret::new("ghp_writer_test_secret"));
        let mut out = Vec::new();
        {
            let mut w = Redacting::new(&mut out);
            w.write_all(b"token ghp_writer_").unwrap();
            w.write_all(b"test_secret here\nand ").unwrap();
            w.write_all(b"ghp_writer_test_secret").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "token [redacted] here\nand [redacted]"
        );
    }
}
