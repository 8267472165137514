//! regsweep: apply retention policies to container registries, safely.
//!
//! The binary is thin: `cli` parses, `settings` resolves inputs once, `source`
//! lists and deletes, the pure planner in `regsweep-core` decides, `executor`
//! deletes in plan order within limits, and `report` renders. Errors are rendered
//! here, at the edge, with the exit codes of `exit`.

#[cfg(feature = "emulator")]
mod bench;
mod cli;
mod commands;
#[cfg(feature = "emulator")]
mod demo;
mod executor;
mod exit;
mod explain;
mod progress;
mod report;
mod settings;
mod source;

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, PolicyCommand, RunArgs};
use crate::exit::{Exit, UsageError};

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
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}

fn run_args(cmd: &Command) -> Option<&RunArgs> {
    match cmd {
        Command::Plan(a) | Command::Apply(a) | Command::Validate(a) => Some(a),
        Command::Explain { run, .. } | Command::Restore { run, .. } => Some(run),
        _ => None,
    }
}

fn main() -> ExitCode {
    cli::forget_empty_env();
    let cli = Cli::try_parse().unwrap_or_else(|e| settings::exit_on_clap_error(e));
    init_logging(run_args(&cli.command).and_then(|a| a.log.as_deref()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Usage.into();
        }
    };
    let cancel = CancellationToken::new();
    let result = runtime.block_on(async {
        let c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: finishing requests in flight, starting no new deletions (Ctrl-C again to abort)");
                c.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        match &cli.command {
            Command::Plan(a) => commands::plan_or_apply(a, false, cancel.clone()).await,
            Command::Apply(a) => commands::plan_or_apply(a, true, cancel.clone()).await,
            Command::Validate(a) => commands::validate(a).await,
            Command::Explain { target, run } => explain::explain(target, run).await,
            Command::Policy(PolicyCommand::Check { file }) => commands::policy_check(file),
            Command::Restore { run } => commands::restore(run).await,
            #[cfg(feature = "emulator")]
            Command::Demo { apply, output } => demo::run(*apply, *output, cancel.clone()).await,
            #[cfg(feature = "emulator")]
            Command::Bench { sizes, apply } => bench::run(sizes, *apply).await,
        }
    });
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            if let Some(u) = e.downcast_ref::<UsageError>() {
                eprintln!("{u}");
                Exit::Usage.into()
            } else {
                eprintln!("error: {e:#}");
                Exit::Partial.into()
            }
        }
    }
}
