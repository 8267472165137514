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
//!   std's in every module of the binary (declared after this one in `main.rs`);
//! - [`Terminal`] is the terminal indicatif's progress bars draw on.
//!
//! Before the command line is parsed, [`register_command_line`] learns the secrets it
//! carries, so that clap's own errors (printed through [`write_fmt`]) are redacted too.

use std::ffi::OsString;
use std::io::{self, Write};
use std::sync::LazyLock;

use regsweep_core::redact::Stream;
use regsweep_core::{Redactor, Secret};

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

/// Prefixes of GitHub's token formats (classic and fine-grained PATs, OAuth, app and
/// refresh tokens). A command-line word starting with one is taken for a token.
const GITHUB_TOKEN_PREFIXES: &[&str] = &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"];

/// Registers the secrets on the command line `args` (the program name first) and in
/// the environment, before clap parses them: the values of the secret flags
/// ([`crate::cli::secret_args`], as `--token VALUE` or `--token=VALUE`), their
/// environment variables and `GITHUB_TOKEN`, and any word that looks like a GitHub
/// token (one pasted where no flag names it). A parse error quoting any of them then
/// shows the redaction marker.
pub fn register_command_line(args: &[OsString]) {
    let (flags, vars) = crate::cli::secret_args();
    let mut secrets: Vec<String> = vars
        .iter()
        .map(OsString::as_os_str)
        .chain([std::ffi::OsStr::new("GITHUB_TOKEN")])
        .filter_map(|v| std::env::var(v).ok())
        .collect();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    for (i, arg) in args.iter().enumerate() {
        for flag in &flags {
            if arg == flag {
                secrets.extend(args.get(i + 1).cloned());
            } else if let Some(value) = arg.strip_prefix(&format!("{flag}=")) {
                secrets.push(value.to_string());
            }
        }
        let words = arg.split(|c: char| c == '=' || c == ',' || c.is_whitespace());
        secrets.extend(
            words
                .filter(|w| GITHUB_TOKEN_PREFIXES.iter().any(|p| w.starts_with(p)))
                .map(String::from),
        );
    }
    for s in secrets.iter().filter(|s| !s.trim().is_empty()) {
        global().add_secret(&Secret::new(s.as_str()));
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
        let inner = &mut self.inner;
        self.stream.push_to(buf, |ready| inner.write_all(ready))?;
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

/// The terminal progress bars draw on: indicatif's terminal (stderr by default) with
/// every string it is given redacted first, so a bar's message (a package name, a
/// tag) never shows a secret.
#[derive(Debug)]
pub struct Terminal<T: indicatif::TermLike = console::Term> {
    inner: T,
}

impl Terminal {
    /// Stderr.
    pub fn stderr() -> Self {
        Terminal::new(console::Term::stderr())
    }
}

impl<T: indicatif::TermLike> Terminal<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Terminal { inner }
    }
}

impl<T: indicatif::TermLike> indicatif::TermLike for Terminal<T> {
    fn width(&self) -> u16 {
        self.inner.width()
    }

    fn height(&self) -> u16 {
        self.inner.height()
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.inner.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.inner.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.inner.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.inner.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.inner.write_line(&global().redact(s))
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.inner.write_str(&global().redact(s))
    }

    fn clear_line(&self) -> io::Result<()> {
        self.inner.clear_line()
    }

    fn flush(&self) -> io::Result<()> {
        self.inner.flush()
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

    #[test]
    fn command_line_secrets_are_registered_before_parsing() {
        let argv: Vec<OsString> = [
            "regsweep",
            "plan",
            "--token",
            "cmdline_spaced_secret",
            "--registry-password=cmdline_joined_secret",
            "--image-names",
            "app,ghp_cmdline_pasted",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        register_command_line(&argv);
        let text = "a cmdline_spaced_secret b cmdline_joined_secret c ghp_cmdline_pasted";
        assert_eq!(
            global().redact(text),
            "a [redacted] b [redacted] c [redacted]"
        );
    }

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
