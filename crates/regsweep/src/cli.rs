//! Command-line arguments: what the user may say, parsed by clap. Pure: no I/O.
//!
//! Every option of the run commands can also be set by an environment variable
//! (named in `--help` and in README.md); flags win over the environment, which wins
//! over the policy file, which wins over defaults. Resolution happens once, in
//! `settings`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Apply retention policies to container registries (GHCR first, any OCI registry
/// second), explaining every decision and never breaking a kept image.
#[derive(Parser, Debug)]
#[command(name = "regsweep", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compute and print the plan (a dry run: never deletes).
    Plan(RunArgs),
    /// Compute the plan and execute it (deletes). `--dry-run` behaves as `plan`.
    Apply(RunArgs),
    /// Check that every tagged image in the selection is complete; exit 3 if not.
    Validate(RunArgs),
    /// Explain why one version (a digest, a tag, or PACKAGE:TAG) is kept or deleted.
    Explain {
        /// A digest (`sha256:…`), a tag (`v1.2`), or `package:tag`.
        target: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print a shell completion script to stdout (e.g. `regsweep completions bash >
    /// ~/.local/share/bash-completion/completions/regsweep`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout (`regsweep man | man -l -`), or write
    /// one page per command into a directory.
    Man {
        /// Write regsweep.1, regsweep-plan.1, … (every command and its options) here.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Restore versions deleted by an earlier run, from its journal (GitHub keeps
    /// deleted versions restorable for 30 days).
    /// The journal is the file given with `--journal` (written by `apply --journal FILE`).
    Restore {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Run `plan` against the built-in GitHub API emulator and a local registry
    /// holding sample images: no account and no network needed.
    #[cfg(feature = "emulator")]
    Demo {
        /// Also apply the plan inside the emulator, then validate the result.
        #[arg(long)]
        apply: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
    /// Measure regsweep against generated accounts in the emulator and print, per
    /// row, each figure beside its limit: requests against the minimum, wall time
    /// against the time GitHub's 900 points a minute allow, CPU and peak memory
    /// against the goals (0.5 s and 100 MB at 100,000 versions, 1 GB at 1,000,000).
    #[cfg(feature = "emulator")]
    Bench(BenchArgs),
}

/// The rows `regsweep bench` measures and how.
#[cfg(feature = "emulator")]
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Rows of one package with this many versions each.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub sizes: Vec<usize>,
    /// Rows of many packages, as PACKAGESxVERSIONS (e.g. `50x200`); `none` for none.
    #[arg(long, value_delimiter = ',', default_value = "50x200")]
    pub packages: Vec<String>,
    /// Also delete (in the emulator) the versions the plan selects, paced.
    #[arg(long)]
    pub apply: bool,
    /// Read the manifest graph too (default: `--graph skip`). Generated versions have
    /// no manifests, so every read answers 404: the count of reads is what it shows.
    #[arg(long)]
    pub graph: bool,
    /// The warm-cache weekly row: a package of this many versions listed once into
    /// an inventory cache, then changed as a week would, then planned again (the
    /// measured run); 0 to leave it out.
    #[arg(long, default_value_t = 100_000, value_name = "VERSIONS")]
    pub weekly: usize,
    /// Delay every answer of the emulator's registry surface by this much (e.g.
    /// `50ms`, a round trip to GHCR); matters with `--graph`.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub registry_latency: Option<std::time::Duration>,
    /// Run the pacing rows instead: `--pace-deletions` deletions at real time under
    /// GitHub's documented limit, then under an undisclosed lower limit (about 3
    /// and 9 minutes at the defaults).
    #[arg(long)]
    pub pace: bool,
    /// Deletions of each pacing row.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub pace_deletions: usize,
    /// The undisclosed DELETE limit of the second pacing row, per minute.
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub undisclosed_deletes_per_minute: u32,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a policy file without network access.
    Check {
        /// The policy file (YAML).
        file: PathBuf,
    },
}

/// Where versions live.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// GitHub Container Registry, through the GitHub Packages API.
    #[default]
    Github,
    /// Any OCI Distribution registry (deletes by digest).
    Oci,
}

/// Output formats for stdout.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    Markdown,
}

/// Whether to read the manifest graph.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GraphMode {
    /// Read the manifests that can change a decision (cached by digest) and protect
    /// kept images.
    #[default]
    Read,
    /// Read no manifests: untagged versions are then all kept (safe, deletes less).
    Skip,
}

/// Options shared by plan, apply, validate, explain and restore.
#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Organisation name, or `user` for the token owner's personal packages.
    #[arg(long, env = "REGSWEEP_ACCOUNT", help_heading = "Target")]
    pub account: Option<String>,
    /// GitHub token (classic PAT, the Actions GITHUB_TOKEN, …). Also read from GITHUB_TOKEN.
    #[arg(
        long,
        env = "REGSWEEP_TOKEN",
        hide_env_values = true,
        help_heading = "Target"
    )]
    pub token: Option<String>,
    /// GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL", help_heading = "Target")]
    pub api_url: Option<String>,
    /// Registry URL for reading manifests (GHCR: https://ghcr.io).
    #[arg(long, env = "REGSWEEP_REGISTRY_URL", help_heading = "Target")]
    pub registry_url: Option<String>,
    /// `github` (GHCR through the Packages API) or `oci` (any Distribution registry).
    #[arg(long, value_enum, env = "REGSWEEP_BACKEND", help_heading = "Target")]
    pub backend: Option<BackendKind>,
    /// User name for `--backend oci` registries that need credentials.
    #[arg(long, env = "REGSWEEP_REGISTRY_USERNAME", help_heading = "Target")]
    pub registry_username: Option<String>,
    /// Password or token for `--backend oci` registries.
    #[arg(
        long,
        env = "REGSWEEP_REGISTRY_PASSWORD",
        hide_env_values = true,
        help_heading = "Target"
    )]
    pub registry_password: Option<String>,

    /// Package names: comma/space separated, `*` wildcard, `!name` excludes, `team/app` exact.
    #[arg(
        long,
        env = "REGSWEEP_IMAGE_NAMES",
        help_heading = "Selection (snok inputs)"
    )]
    pub image_names: Option<String>,
    /// Tag patterns narrowing tagged versions (same syntax; untagged versions are not affected).
    #[arg(
        long,
        env = "REGSWEEP_IMAGE_TAGS",
        help_heading = "Selection (snok inputs)"
    )]
    pub image_tags: Option<String>,
    /// Digests never to delete (comma/space separated `sha256:…`).
    #[arg(
        long,
        visible_alias = "shas-to-skip",
        env = "REGSWEEP_SKIP_SHAS",
        help_heading = "Selection (snok inputs)"
    )]
    pub skip_shas: Option<String>,
    /// `tagged`, `untagged` or `both` (default both).
    #[arg(
        long,
        env = "REGSWEEP_TAG_SELECTION",
        help_heading = "Selection (snok inputs)"
    )]
    pub tag_selection: Option<String>,
    /// Per package, spare the N most recent tagged candidates (default 0).
    #[arg(
        long,
        env = "REGSWEEP_KEEP_N_MOST_RECENT",
        help_heading = "Selection (snok inputs)"
    )]
    pub keep_n_most_recent: Option<usize>,
    /// `updated_at` (default) or `created_at`, for the cut-off and keep-n ordering.
    #[arg(
        long,
        env = "REGSWEEP_TIMESTAMP_TO_USE",
        help_heading = "Selection (snok inputs)"
    )]
    pub timestamp_to_use: Option<String>,
    /// Versions newer than this are never deleted (humantime: `1w`, `2w 3d`, `5h 2s`).
    #[arg(
        long,
        env = "REGSWEEP_CUT_OFF",
        help_heading = "Selection (snok inputs)"
    )]
    pub cut_off: Option<String>,
    /// A policy file (YAML) instead of the snok-style inputs.
    #[arg(
        long,
        env = "REGSWEEP_POLICY_FILE",
        help_heading = "Selection (policy)"
    )]
    pub policy: Option<PathBuf>,
    /// A policy given inline as YAML text (the Action's `policy:` input).
    #[arg(
        long,
        env = "REGSWEEP_POLICY",
        help_heading = "Selection (policy)",
        conflicts_with = "policy"
    )]
    pub policy_inline: Option<String>,
    /// Print the effective policy (snok inputs translated) as YAML and exit.
    #[arg(long, help_heading = "Selection (policy)")]
    pub print_policy: bool,
    /// Also delete orphans: untagged manifests nothing references, and artifacts of gone images.
    #[arg(
        long,
        env = "REGSWEEP_DELETE_ORPHANS",
        help_heading = "Selection (policy)"
    )]
    pub delete_orphans: bool,
    /// Also delete ghost images: indexes none of whose platform manifests exist.
    #[arg(
        long,
        env = "REGSWEEP_DELETE_GHOST_IMAGES",
        help_heading = "Selection (policy)"
    )]
    pub delete_ghost_images: bool,
    /// Also delete partial images: indexes some of whose platform manifests are gone.
    #[arg(
        long,
        env = "REGSWEEP_DELETE_PARTIAL_IMAGES",
        help_heading = "Selection (policy)"
    )]
    pub delete_partial_images: bool,

    /// Compute and print the plan, delete nothing.
    #[arg(long, env = "REGSWEEP_DRY_RUN", help_heading = "Execution", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub dry_run: Option<bool>,
    /// Concurrent requests (listing, manifests, deletions).
    #[arg(long, env = "REGSWEEP_CONCURRENCY", help_heading = "Execution")]
    pub concurrency: Option<usize>,
    /// Registry requests at once (manifest reads; deletions with `--backend oci`),
    /// lowered when the registry answers 429 (default: --concurrency).
    #[arg(
        long,
        env = "REGSWEEP_REGISTRY_CONCURRENCY",
        help_heading = "Execution"
    )]
    pub registry_concurrency: Option<usize>,
    /// Points per minute spent on deletions per endpoint (GitHub allows 900; DELETE costs 5).
    #[arg(
        long,
        env = "REGSWEEP_DELETE_POINTS_PER_MINUTE",
        help_heading = "Execution"
    )]
    pub delete_points_per_minute: Option<u32>,
    /// Seconds in a pacing "minute" (60): shorter only against a time-scaled emulator.
    #[arg(
        long,
        env = "REGSWEEP_PACE_WINDOW",
        help_heading = "Execution",
        hide = true
    )]
    pub pace_window: Option<f64>,
    /// Retries of a request after a 5xx or connection error (jittered, bounded backoff).
    #[arg(long, env = "REGSWEEP_MAX_RETRIES", help_heading = "Execution")]
    pub max_retries: Option<u32>,
    /// Longest rate-limit wait accepted before stopping and leaving work for the next run.
    #[arg(long, env = "REGSWEEP_MAX_WAIT", help_heading = "Execution")]
    pub max_wait: Option<String>,
    /// Primary-limit requests to leave unspent (deletions stop at this reserve).
    #[arg(long, env = "REGSWEEP_RESERVE_REQUESTS", help_heading = "Execution")]
    pub reserve_requests: Option<u32>,
    /// Read manifests (`read`, default) or not (`skip`: untagged versions are then kept).
    #[arg(long, value_enum, env = "REGSWEEP_GRAPH", help_heading = "Execution")]
    pub graph: Option<GraphMode>,
    /// Read every version's manifest, not only those that can change a decision
    /// (the decisions are the same; for checking, and what `explain` and `validate` do).
    #[arg(long, env = "REGSWEEP_READ_EVERY_MANIFEST", help_heading = "Execution")]
    pub read_every_manifest: bool,
    /// Directory caching manifests by digest between runs (e.g. with actions/cache).
    #[arg(long, env = "REGSWEEP_CACHE_DIR", help_heading = "Execution")]
    pub cache_dir: Option<PathBuf>,
    /// Do not keep package listings in `--cache-dir` (every run lists every page);
    /// the manifest cache and the learnt pace stay.
    #[arg(long, env = "REGSWEEP_NO_INVENTORY_CACHE", help_heading = "Execution")]
    pub no_inventory_cache: bool,
    /// Write-ahead journal (JSON lines), for `regsweep restore`: each deletion is
    /// recorded (fsynced) before it is sent. The directory must exist.
    #[arg(long, env = "REGSWEEP_JOURNAL_FILE", help_heading = "Execution")]
    pub journal: Option<PathBuf>,

    /// `table`, `json` or `markdown` on stdout.
    #[arg(long, value_enum, env = "REGSWEEP_OUTPUT", help_heading = "Output")]
    pub output: Option<OutputFormat>,
    /// Show kept versions in the table too (default: only deletions and skips).
    #[arg(long, env = "REGSWEEP_SHOW_KEPT", help_heading = "Output")]
    pub show_kept: bool,
    /// Log filter (`info`, `regsweep=debug`); also RUST_LOG.
    #[arg(long, env = "REGSWEEP_LOG", help_heading = "Output")]
    pub log: Option<String>,
    /// Evaluate ages against this instant instead of the clock (RFC 3339), for reproducible plans.
    #[arg(long, env = "REGSWEEP_NOW", help_heading = "Output", hide = true)]
    pub now: Option<String>,
}

/// The arguments that carry secrets, as `(long flags, environment variables)`: those
/// whose environment values `--help` hides (`--token`, `--registry-password`), in
/// every subcommand.
pub fn secret_args() -> (Vec<String>, Vec<std::ffi::OsString>) {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, flags: &mut Vec<String>, vars: &mut Vec<std::ffi::OsString>) {
        for arg in cmd.get_arguments().filter(|a| a.is_hide_env_values_set()) {
            if let Some(long) = arg.get_long() {
                let flag = format!("--{long}");
                if !flags.contains(&flag) {
                    flags.push(flag);
                }
            }
            if let Some(var) = arg.get_env() {
                if !vars.iter().any(|v| v == var) {
                    vars.push(var.to_os_string());
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, flags, vars);
        }
    }
    let (mut flags, mut vars) = (Vec::new(), Vec::new());
    walk(&Cli::command(), &mut flags, &mut vars);
    (flags, vars)
}

/// Unsets the variables the command line reads that are empty or blank. A GitHub
/// Action passes every input, unset ones as empty strings; an empty variable means
/// "not given" (its default applies), never "given as empty". Call before parsing,
/// while the process has one thread.
pub fn forget_empty_env() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, names: &mut std::collections::BTreeSet<std::ffi::OsString>) {
        for arg in cmd.get_arguments() {
            if let Some(name) = arg.get_env() {
                names.insert(name.to_os_string());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, names);
        }
    }
    let mut names = std::collections::BTreeSet::new();
    walk(&Cli::command(), &mut names);
    for name in names {
        if std::env::var_os(&name).is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
            std::env::remove_var(&name);
        }
    }
}
