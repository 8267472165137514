//! `regsweep-sim serve`: runs the emulator until Ctrl-C. Prints one JSON line with
//! `api_url` and `registry_url` on stdout; logs go to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use regsweep_sim::{Scenario, Sim, SimOptions};

#[derive(Parser)]
#[command(
    name = "regsweep-sim",
    version,
    about = "GitHub Packages API and GHCR emulator over a real OCI registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a scenario on 127.0.0.1 until Ctrl-C.
    Serve {
        /// A scenario file (YAML, see SCENARIOS.md), or `demo` for the bundled sample.
        #[arg(long)]
        scenario: String,
        /// Port to listen on (default: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// 1.0 = real time; 0.001 makes an hour of rate-limit window pass in 3.6 s.
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Leave out `Link` headers on list responses.
        #[arg(long)]
        omit_link_headers: bool,
        /// Delay every answer of the registry surface (`/token`, `/v2/…`) by this
        /// much, e.g. `50ms` (a round trip to GHCR), to measure manifest reads at a
        /// realistic pace. Default: no delay.
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        registry_latency: Option<std::time::Duration>,
        /// An undisclosed lower limit: at most N DELETEs per token over any sliding
        /// minute, answered 429 with `retry-after` past it and shown in no
        /// `x-ratelimit-*` header, as GitHub answers container deletions. Default:
        /// the scenario's `undisclosed_deletes_per_minute`, else none.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        undisclosed_deletes_per_minute: Option<u32>,
    },
}

fn load(scenario: &str) -> Result<Scenario, String> {
    if scenario == "demo" {
        return Ok(Scenario::demo());
    }
    let path = PathBuf::from(scenario);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read scenario `{}`: {e}", path.display()))?;
    Scenario::from_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let Command::Serve {
        scenario,
        port,
        time_scale,
        omit_link_headers,
        registry_latency,
        undisclosed_deletes_per_minute,
    } = cli.command;
    let scenario = match load(&scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !(time_scale.is_finite() && time_scale > 0.0) {
        eprintln!("error: --time-scale must be a positive number, got {time_scale}");
        return ExitCode::from(2);
    }
    let options = SimOptions {
        time_scale,
        omit_link_headers,
        port,
        registry_latency: registry_latency.unwrap_or_default(),
        undisclosed_deletes_per_minute,
        ..SimOptions::default()
    };
    let sim = match Sim::start(scenario, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the emulator: {e:#}");
            return ExitCode::from(1);
        }
    };
    println!(
        "{}",
        serde_json::json!({"api_url": sim.api_url().as_str(), "registry_url": sim.registry_url().as_str()})
    );
    tracing::info!("serving; press Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
