//! regsweep: apply retention policies to container registries, safely.
//!
//! The binary is thin: `cli` parses, `settings` resolves inputs once, `source`
//! lists and deletes, the pure planner in `regsweep-core` decides, `executor`
//! deletes in plan order within limits, and `report` renders. Errors are rendered
//! here, at the edge: every command returns `error::CliError`, whose exit code
//! `exit::code` decides. Everything written to stdout,
//! stderr and the logs passes through `redact`, which hides the configured secrets.

// First: its `print!`/`eprintln!` macros shadow std's in every module below.
#[macro_use]
mod redact;
#[cfg(feature = "emulator")]
mod bench;
mod bounded;
mod cli;
mod commands;
#[cfg(feature = "emulator")]
mod demo;
mod error;
mod escape;
mod executor;
mod exit;
mod explain;
mod hints;
mod journal;
mod manual;
mod outcome;
mod output;
mod packages;
mod progress;
mod report;
mod settings;
mod source;
mod terminal;

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, PolicyCommand, RunArgs};
use crate::exit::Exit;

/// How a log event's fields are written: the message and every other field with
/// their control characters escaped, since messages carry tags, names and error
/// bodies from servers.
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let text = format!("{value:?}");
        if field.name() == "message" {
            write!(w, "{}", escape::control(&text))
        } else {
            write!(w, "{}={}", field.name(), escape::control(&text))
        }
    })
    .delimited(" ")
}

/// Logs on stderr: coloured only on a terminal and never with `NO_COLOR`, fields
/// escaped ([`escaped_fields`]).
fn init_logging(filter: Option<&str>) {
    let filter = filter
        .map(String::from)
        .or_else(|| {
            std::env::var("RUST_LOG")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| "regsweep=info,warn".to_string());
    let env = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("regsweep=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env)
        .fmt_fields(escaped_fields())
        .with_writer(redact::LogWriter)
        .with_ansi(terminal::stderr_colour())
        .with_target(false)
        .without_time()
        .try_init();
}

/// Panics are rendered through the redaction too: a panic message may quote data
/// from a server.
fn init_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("regsweep {info}\n  this is a bug: please report it");
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{trace}");
        }
    }));
}

fn run_args(cmd: &Command) -> Option<&RunArgs> {
    match cmd {
        Command::Plan(a) | Command::Apply(a) | Command::Validate(a) => Some(a),
        Command::Explain { run, .. } | Command::Restore { run, .. } => Some(run),
        _ => None,
    }
}

/// Ctrl-C, watched on a thread of its own (with its own small runtime), so that it
/// is seen even while the main thread is busy or blocked (planning a million
/// versions, a stdout whose reader stopped reading): the first cancels `cancel`
/// (requests in flight finish, no new deletion starts), the second exits with 130.
fn watch_interrupts(cancel: CancellationToken) {
    let spawned = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .and_then(|rt| {
            std::thread::Builder::new()
                .name("interrupts".into())
                .spawn(move || rt.block_on(interrupts(cancel)))
        });
    // Nothing was registered: SIGINT keeps its default action.
    if let Err(e) = spawned {
        tracing::warn!("cannot watch for Ctrl-C ({e}): an interrupt stops regsweep at once");
    }
}

/// The first Ctrl-C cancels `cancel`; the second exits with 130.
async fn interrupts(cancel: CancellationToken) {
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("interrupted: finishing requests in flight, starting no new deletions (Ctrl-C again to abort)");
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    }
}

/// The runtime a command runs on. One thread runs every request of a run:
/// regsweep's work is waiting on the network and its pacing, and the CPU parts
/// (parsing pages, planning, reports) are one stream of work. A multi-threaded
/// runtime would hand each answer from a worker to this thread: about 9 context
/// switches a request, a quarter of the CPU time of a 100,000-version listing.
/// `demo` and `bench` serve the emulator from this process while they wait on a
/// child or the terminal, so they keep worker threads.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        #[cfg(feature = "emulator")]
        Command::Demo { .. } | Command::Bench(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    }
}

fn main() -> ExitCode {
    cli::forget_empty_env();
    init_panic_hook();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    redact::register_command_line(&argv);
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| settings::exit_on_clap_error(e));
    init_logging(run_args(&cli.command).and_then(|a| a.log.as_deref()));
    let runtime = match runtime_for(&cli.command).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Usage.into();
        }
    };
    let cancel = CancellationToken::new();
    watch_interrupts(cancel.clone());
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Plan(a) => commands::plan_or_apply(a, false, cancel.clone()).await,
            Command::Apply(a) => commands::plan_or_apply(a, true, cancel.clone()).await,
            Command::Validate(a) => commands::validate(a).await,
            Command::Explain { target, run } => explain::explain(target, run).await,
            Command::Policy(PolicyCommand::Check { file }) => commands::policy_check(file),
            Command::Completions { shell } => manual::completions(*shell),
            Command::Man { dir } => manual::man(dir.as_deref()),
            Command::Restore { run } => commands::restore(run).await,
            #[cfg(feature = "emulator")]
            Command::Demo { apply, output } => demo::run(*apply, *output, cancel.clone()).await,
            #[cfg(feature = "emulator")]
            Command::Bench(args) => bench::run(args)
                .await
                .map_err(|e| error::CliError::Emulator(format!("{e:#}"))),
        }
    });
    match result {
        Ok(exit) => exit.into(),
        // stdout was closed by its reader (`regsweep plan | head`): a normal end,
        // with nothing to say.
        Err(e) if e.is_broken_pipe() => exit::code(&e).into(),
        // Rendered once, here, through the redaction (`eprintln!` is `redact`'s).
        Err(e) => {
            eprintln!("{}", escape::control_lines(&e.render()));
            exit::code(&e).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// A log line's writer that keeps what was written.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn control_characters_in_log_messages_are_escaped() {
        let out = Captured::default();
        let w = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(super::escaped_fields())
            .with_writer(move || w.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let tag = "v1\x1b[2J\0\nforged";
            tracing::warn!(
                package = "a\u{202e}b",
                "cannot read the manifest of tag {tag}"
            );
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(!text.contains('\u{1b}') && !text.contains('\0'), "{text:?}");
        assert!(text.contains("tag v1\\x1b[2J\\0\\nforged"), "{text:?}");
        assert!(text.contains("package=\"a\\u{202e}b\""), "{text:?}");
    }
}
