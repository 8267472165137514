//! `regsweep demo`: the README's first command. Starts the built-in GitHub API
//! emulator over a local registry holding the bundled sample images, then runs
//! `plan` (and, with `--apply`, `apply` and `validate`) against it.

use regsweep_sim::{Scenario, Sim, SimOptions};
use tokio_util::sync::CancellationToken;

use crate::cli::{OutputFormat, RunArgs};
use crate::error::CliError;
use crate::exit::Exit;
use crate::progress::Progress;
use crate::settings::{self, Env};

/// The token the bundled scenario grants (a classic PAT with delete:packages).
pub const DEMO_TOKEN: &str = "ghp_demo_admin";

/// The demo's inputs, snok-style, on the sample world's frozen clock `now` so the
/// demo shows the same plan any day.
pub fn demo_args(sim: &Sim, output: OutputFormat, now: Option<jiff::Timestamp>) -> RunArgs {
    RunArgs {
        account: Some("acme".into()),
        token: Some(DEMO_TOKEN.into()),
        api_url: Some(sim.api_url().to_string()),
        registry_url: Some(sim.registry_url().to_string()),
        image_names: Some("*".into()),
        image_tags: Some("!latest".into()),
        cut_off: Some("2w".into()),
        keep_n_most_recent: Some(2),
        output: Some(output),
        now: now.map(|t| t.to_string()),
        ..RunArgs::default()
    }
}

/// Runs the demo.
pub async fn run(
    apply: bool,
    output: OutputFormat,
    cancel: CancellationToken,
) -> Result<Exit, CliError> {
    if !regsweep_sim::LocalRegistry::is_installed() {
        return Err(CliError::NoRegistryServer);
    }
    eprintln!("starting the GitHub API emulator and a local registry with sample images…");
    let scenario = Scenario::demo();
    let now = scenario.now;
    let sim = Sim::start(scenario, SimOptions::default())
        .await
        .map_err(|e| CliError::Emulator(format!("cannot start the emulator: {e:#}")))?;
    eprintln!(
        "emulator at {} · registry at {} · account `acme`\nrunning: regsweep {} --account acme --image-names '*' --image-tags '!latest' --cut-off 2w --keep-n-most-recent 2\n",
        sim.api_url(),
        sim.registry_url(),
        if apply { "apply" } else { "plan" }
    );
    let args = demo_args(&sim, output, now);
    let settings = settings::resolve(&args, &Env::default(), true)?;
    let exit = crate::commands::run_resolved(&settings, apply, cancel, &Progress::detect()).await?;
    if apply {
        eprintln!("\nvalidating what is left…");
        let (v, text) = crate::commands::validation(&args).await?;
        // stdout stays one document in JSON mode.
        if output == OutputFormat::Json {
            eprint!("{text}");
        } else {
            crate::output::print(&text)?;
        }
        if v != Exit::Success {
            return Ok(v);
        }
    }
    sim.shutdown().await;
    Ok(exit)
}
