//! Settings: every input resolved once, at start, into one struct.
//!
//! Precedence: flags > environment (clap reads both) > policy file > defaults.
//! Nothing after this module reads the environment. Validation errors are
//! `CliError` variants (missing, malformed, out of range, in conflict, or the
//! policy), exit 2, written to the house style.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use regsweep_core::matcher::PatternList;
use regsweep_core::policy::snok::{parse_skip_shas, SnokInputs, TagSelection};
use regsweep_core::policy::{file as policy_file, Broken, Policy, Rule, RuleAction};
use regsweep_core::{Secret, TimestampField};
use url::Url;

use crate::cli::{BackendKind, GraphMode, OutputFormat, RunArgs};
use crate::error::CliError;
use crate::exit::Exit;

/// Where the policy came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// Translated from snok-style inputs.
    Flags,
    /// Read from a file.
    File(PathBuf),
    /// Given inline.
    Inline,
}

impl std::fmt::Display for PolicySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicySource::Flags => f.write_str("the snok-style inputs"),
            PolicySource::File(p) => write!(f, "{}", p.display()),
            PolicySource::Inline => f.write_str("the inline policy"),
        }
    }
}

/// The registry backend, with what it needs.
#[derive(Clone, Debug)]
pub enum Backend {
    Github {
        account: String,
        token: Secret,
        api_url: Url,
        registry_url: Url,
    },
    Oci {
        registry_url: Url,
        username: Option<String>,
        password: Option<Secret>,
    },
}

impl Settings {
    /// The package names to look up one by one, when every selector is exact (no
    /// wildcard, regex or exclusion): sorted, without repeats. None means the
    /// packages must be listed and filtered.
    pub fn exact_package_names(&self) -> Option<Vec<String>> {
        let mut names: Vec<String> = self
            .packages
            .iter()
            .map(PatternList::exact_names)
            .collect::<Option<Vec<Vec<String>>>>()?
            .concat();
        names.sort();
        names.dedup();
        Some(names)
    }
}

/// Everything a run needs, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub backend: Backend,
    pub policy: Policy,
    pub policy_source: PolicySource,
    /// Which packages to list: the union of the rules' package selectors.
    pub packages: Vec<PatternList>,
    pub dry_run: bool,
    pub output: OutputFormat,
    pub show_kept: bool,
    pub concurrency: usize,
    /// Registry requests in flight at once (manifest reads; the OCI backend's
    /// deletions too), lowered on a 429 and restored slowly; default: `concurrency`.
    pub registry_concurrency: usize,
    pub delete_points_per_minute: u32,
    /// The DELETE pacing window (60 s; shorter only against a time-scaled emulator).
    pub pace_window: Duration,
    pub max_wait: Duration,
    pub max_retries: u32,
    pub reserve_requests: u32,
    pub graph: GraphMode,
    /// Read the manifests of every listed package (`validate`), not only of those
    /// where the policy could delete something.
    pub read_every_manifest: bool,
    pub cache_dir: Option<PathBuf>,
    /// Keep each package's listing in `cache_dir` and list only what is new
    /// (`source::inventory`); off with `--no-inventory-cache`.
    pub inventory_cache: bool,
    pub journal: Option<PathBuf>,
    pub now: Timestamp,
    /// `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`, when running in Actions.
    pub github_output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
}

/// Environment values read once (outside clap) for the settings.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub github_token: Option<String>,
    pub github_output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_ACTIONS=true`: errors name the Action's inputs, not the flags.
    pub actions: bool,
}

impl Env {
    /// Reads the few variables clap does not handle.
    pub fn read() -> Env {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Env {
            github_token: get("GITHUB_TOKEN"),
            github_output: get("GITHUB_OUTPUT").map(PathBuf::from),
            step_summary: get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            actions: get("GITHUB_ACTIONS").is_some_and(|v| v.trim() == "true"),
        }
    }

    /// How errors name inputs in this environment.
    pub fn names(&self) -> Names {
        Names {
            actions: self.actions,
        }
    }
}

/// How an error names an input: in GitHub Actions the workflow author wrote the
/// Action's `with:` keys (`tag-selection`), so errors name those; elsewhere the flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct Names {
    pub actions: bool,
}

impl Names {
    /// The input for `flag` (`--tag-selection`), as the user wrote it:
    /// `` `tag-selection` `` in Actions, `--tag-selection` elsewhere.
    pub fn of(self, flag: &str) -> String {
        if !self.actions {
            return flag.to_string();
        }
        let input = match flag {
            "--policy-inline" => "policy",
            "--log" => "rust-log",
            other => other.trim_start_matches("--"),
        };
        format!("`{input}`")
    }

    /// Several inputs, joined for a sentence (`a`, `b` and `c`).
    pub fn list(self, flags: &[&str]) -> String {
        let names: Vec<String> = flags.iter().map(|f| self.of(f)).collect();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// Ends the process for a command line clap rejected. In GitHub Actions a rejected
/// value came from an input (`dry-run: yes` arrives as `REGSWEEP_DRY_RUN`), so the
/// error names that input as the workflow author wrote it, and exits 2 before any
/// request; everything else is clap's own message.
pub fn exit_on_clap_error(e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let actions = Env::read().actions;
    if actions
        && matches!(
            e.kind(),
            ErrorKind::InvalidValue | ErrorKind::ValueValidation
        )
    {
        if let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) {
            let flag = arg.split_whitespace().next().unwrap_or(arg);
            let input = Names { actions }.of(flag);
            let rendered = e.render().to_string();
            let message = rendered
                .replacen(
                    &format!("for '{arg}'"),
                    &format!("for the input {input}"),
                    1,
                )
                .replace("\nFor more information, try '--help'.\n", "");
            eprintln!(
                "{}\n  help: correct {input} in the step's `with:` (see the Action's inputs in README.md)",
                message.trim_end()
            );
            std::process::exit(Exit::Usage as i32);
        }
    }
    print_clap_error(&e)
}

/// Prints clap's message (usage errors on stderr, `--help` and `--version` on
/// stdout, coloured only on a terminal) through the redaction, and exits with clap's
/// code (2 for errors, 0 for help). `clap::Error::exit` would write past the redaction.
fn print_clap_error(e: &clap::Error) -> ! {
    use std::io::IsTerminal;
    let on_terminal = if e.use_stderr() {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let rendered = e.render();
    let text = if crate::terminal::colour(on_terminal) {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    if e.use_stderr() {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    std::process::exit(e.exit_code())
}

/// Parses a humantime duration with a message in the house style.
pub fn parse_duration(what: &str, s: &str) -> Result<Duration, CliError> {
    humantime::parse_duration(s.trim()).map_err(|e| CliError::NotADuration {
        input: what.to_string(),
        value: s.to_string(),
        reason: e.to_string(),
    })
}

/// Checks a URL: https anywhere, plain http only for loopback addresses.
pub fn parse_url(what: &str, s: &str) -> Result<Url, CliError> {
    let url = Url::parse(s.trim()).map_err(|e| CliError::NotAUrl {
        input: what.to_string(),
        value: s.to_string(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(a)) => IpAddr::V4(a).is_loopback(),
                Some(url::Host::Ipv6(a)) => IpAddr::V6(a).is_loopback(),
                None => false,
            };
            if loopback {
                Ok(url)
            } else {
                Err(CliError::PlainHttp {
                    input: what.to_string(),
                    value: s.to_string(),
                })
            }
        }
        other => Err(CliError::UrlScheme {
            input: what.to_string(),
            value: s.to_string(),
            scheme: other.to_string(),
        }),
    }
}

/// Parses a pattern-list flag (`--image-names`, `--image-tags`) with the flag named in errors.
/// A snok-style list, read as snok reads it (its lone `!` included).
fn parse_snok_patterns(flag: &str, list: &str) -> Result<PatternList, CliError> {
    regsweep_core::policy::snok::parse_list(list).map_err(|e| invalid(flag, e))
}

fn parse_patterns(flag: &str, list: &str) -> Result<PatternList, CliError> {
    PatternList::parse(list).map_err(|e| invalid(flag, e))
}

/// Input `input` did not parse, for `reason`.
fn invalid(input: &str, reason: impl std::fmt::Display) -> CliError {
    CliError::Invalid {
        input: input.to_string(),
        reason: reason.to_string(),
    }
}

/// Resolves run arguments into settings. `needs_policy` is false for commands that
/// need no selection (restore).
pub fn resolve(args: &RunArgs, env: &Env, needs_policy: bool) -> Result<Settings, CliError> {
    let names = env.names();
    let backend = resolve_backend(args, env)?;
    // From here on no output shows these secrets (nor their encoded forms).
    crate::redact::register(&backend);
    let (policy, policy_source) = resolve_policy(args, names, needs_policy)?;
    if let (Backend::Oci { .. }, Some(rule)) = (&backend, policy.package_rules.first()) {
        return Err(CliError::Conflict(format!(
            "rule `{}` deletes whole packages, which --backend oci cannot do\n  the Distribution API deletes manifests, not repositories, and a deletion there cannot be undone\n  help: remove the rule; to delete every manifest of a repository, write a version rule `action: delete` with `packages:` naming it (the plan then lists each manifest)",
            rule.name
        )));
    }
    let packages = package_selection(args, names, &policy, &policy_source)?;
    let now = match args.now.as_deref() {
        Some(s) => s.parse::<Timestamp>().map_err(|e| CliError::NotAnInstant {
            value: s.to_string(),
            reason: e.to_string(),
        })?,
        None => Timestamp::now(),
    };
    let max_wait = match args.max_wait.as_deref() {
        Some(s) => parse_duration(&names.of("--max-wait"), s)?,
        None => Duration::from_secs(15 * 60),
    };
    let concurrency = args.concurrency.unwrap_or(8);
    if concurrency == 0 || concurrency > 64 {
        return Err(CliError::OutOfRange {
            input: names.of("--concurrency"),
            value: concurrency.to_string(),
            expected: "1 to 64 (GitHub allows 100 concurrent requests across all clients)",
            help: "the default, 8, suits most accounts".into(),
        });
    }
    let registry_concurrency = args.registry_concurrency.unwrap_or(concurrency);
    if registry_concurrency == 0 || registry_concurrency > 64 {
        return Err(CliError::OutOfRange {
            input: names.of("--registry-concurrency"),
            value: registry_concurrency.to_string(),
            expected: "1 to 64",
            help: format!(
                "leave it unset to use {}; lower it if the registry answers 429",
                names.of("--concurrency")
            ),
        });
    }
    let delete_points_per_minute = args.delete_points_per_minute.unwrap_or(900);
    if delete_points_per_minute < 5 {
        return Err(CliError::OutOfRange {
            input: names.of("--delete-points-per-minute"),
            value: delete_points_per_minute.to_string(),
            expected: "at least 5 (one DELETE)",
            help: "the default, 900, is GitHub's documented limit".into(),
        });
    }
    let pace_window =
        match args.pace_window {
            None => Duration::from_secs(60),
            Some(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Duration::from_secs_f64(s),
            Some(s) => return Err(CliError::OutOfRange {
                input: names.of("--pace-window"),
                value: s.to_string(),
                expected: "seconds above 0, at most 3600",
                help:
                    "leave it unset (60 s, GitHub's minute); it is only for time-scaled emulators"
                        .into(),
            }),
        };
    Ok(Settings {
        backend,
        policy,
        policy_source,
        packages,
        dry_run: args.dry_run.unwrap_or(false),
        output: args.output.unwrap_or_default(),
        show_kept: args.show_kept,
        concurrency,
        registry_concurrency,
        delete_points_per_minute,
        pace_window,
        max_wait,
        max_retries: args.max_retries.unwrap_or(5).min(20),
        reserve_requests: args.reserve_requests.unwrap_or(50),
        graph: args.graph.unwrap_or_default(),
        read_every_manifest: false,
        cache_dir: args.cache_dir.clone(),
        inventory_cache: !args.no_inventory_cache,
        journal: args.journal.clone(),
        now,
        github_output: env.github_output.clone(),
        step_summary: env.step_summary.clone(),
    })
}

/// The backend and its credentials: GitHub (account, token, API and registry URLs)
/// or a plain OCI registry.
fn resolve_backend(args: &RunArgs, env: &Env) -> Result<Backend, CliError> {
    let names = env.names();
    let backend_kind = args.backend.unwrap_or_default();
    Ok(match backend_kind {
        BackendKind::Github => {
            let account = match args.account.as_deref().map(str::trim) {
                Some(a) if !a.is_empty() => a.to_string(),
                _ => {
                    return Err(CliError::Missing(if names.actions {
                        "no account given\n  regsweep needs the organisation (or `user`) whose packages to clean\n  help: add `account: ORG` (or `account: user`) to the step's `with:`"
                    } else {
                        "no account given\n  regsweep needs the organisation (or `user`) whose packages to clean\n  help: pass --account ORG (or --account user), or set REGSWEEP_ACCOUNT"
                    }.into()))
                }
            };
            let token = args
                .token
                .clone()
                .filter(|t| !t.trim().is_empty())
                .or_else(|| env.github_token.clone())
                .map(|t| Secret::new(t.trim()));
            let Some(token) = token else {
                return Err(CliError::Missing(if names.actions {
                    "no token given\n  the GitHub Packages API needs a token to list and delete versions\n  help: add `token: ${{ secrets.GITHUB_TOKEN }}` (or a classic PAT with read:packages and delete:packages from a secret) to the step's `with:`"
                } else {
                    "no token given\n  the GitHub Packages API needs a token to list and delete versions\n  help: pass --token, or set GITHUB_TOKEN (a classic PAT with read:packages and delete:packages, or the Actions GITHUB_TOKEN)"
                }.into()));
            };
            let api_url = parse_url(
                &names.of("--api-url"),
                args.api_url.as_deref().unwrap_or("https://api.github.com"),
            )?;
            let registry_url = parse_url(
                &names.of("--registry-url"),
                args.registry_url.as_deref().unwrap_or("https://ghcr.io"),
            )?;
            Backend::Github {
                account,
                token,
                api_url,
                registry_url,
            }
        }
        BackendKind::Oci => {
            let Some(reg) = args.registry_url.as_deref() else {
                return Err(CliError::Missing(
                    "--backend oci needs --registry-url\n  help: pass the registry's base URL, e.g. --registry-url https://registry.example.com"
                        .into(),
                ));
            };
            Backend::Oci {
                registry_url: parse_url(&names.of("--registry-url"), reg)?,
                username: args.registry_username.clone(),
                password: args.registry_password.clone().map(Secret::new),
            }
        }
    })
}

/// The policy and where it came from: a policy file, an inline policy, or the
/// snok-style flags; plus the rules the `--delete-*` flags add.
fn resolve_policy(
    args: &RunArgs,
    names: Names,
    needs_policy: bool,
) -> Result<(Policy, PolicySource), CliError> {
    let (mut policy, policy_source) = if let Some(path) = &args.policy {
        let text =
            crate::bounded::read_to_string(path, policy_file::MAX_POLICY_BYTES).map_err(|e| {
                CliError::Policy(format!(
                    "cannot read the policy file {}: {e}\n  help: check the path given to --policy",
                    path.display()
                ))
            })?;
        let p = policy_file::parse_named(&path.display().to_string(), &text)
            .map_err(|e| CliError::Policy(e.to_string()))?;
        (p, PolicySource::File(path.clone()))
    } else if let Some(text) = args
        .policy_inline
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let p = policy_file::parse_named("policy", text)
            .map_err(|e| CliError::Policy(e.to_string()))?;
        (p, PolicySource::Inline)
    } else if needs_policy {
        (snok_policy(args, names)?, PolicySource::Flags)
    } else {
        (Policy::default(), PolicySource::Flags)
    };
    if policy_source != PolicySource::Flags {
        policy_conflicts(args, &policy_source, names)?;
    }
    for (flag, name, broken) in [
        (
            args.delete_ghost_images,
            "delete-ghost-images",
            Broken::Ghost,
        ),
        (
            args.delete_partial_images,
            "delete-partial-images",
            Broken::Partial,
        ),
    ] {
        if flag {
            let mut r = Rule::new(name, RuleAction::Delete);
            r.broken = Some(broken);
            if let Some(names) = &args.image_names {
                r.packages = parse_patterns("--image-names", names)?;
            }
            policy.rules.push(r);
        }
    }
    if args.delete_orphans {
        let mut r = Rule::new("delete-orphans", RuleAction::Delete);
        r.orphans_only = true;
        if let Some(list) = &args.image_names {
            r.packages = parse_patterns(&names.of("--image-names"), list)?;
        }
        policy.rules.push(r);
    }

    Ok((policy, policy_source))
}

/// Which packages to list: those the rules name, narrowed (policy file) or named
/// (no rules: validate, restore) by `--image-names`.
fn package_selection(
    args: &RunArgs,
    names: Names,
    policy: &Policy,
    policy_source: &PolicySource,
) -> Result<Vec<PatternList>, CliError> {
    let mut packages: Vec<PatternList> = policy.package_selectors().into_iter().cloned().collect();
    if *policy_source != PolicySource::Flags || policy.rules.is_empty() {
        // With a policy file, --image-names narrows which packages are listed; with no
        // rules at all (validate, restore) it names them, all packages by default.
        if let Some(list) = &args.image_names {
            packages = vec![parse_patterns(&names.of("--image-names"), list)?];
        } else if policy.rules.is_empty() && policy.package_rules.is_empty() {
            packages = vec![PatternList::any()];
        }
    }
    Ok(packages)
}

/// With a policy, the snok-style selection inputs would be ignored: every one given is
/// named in one error (exit 2, before any request), with how to fix it.
fn policy_conflicts(args: &RunArgs, source: &PolicySource, names: Names) -> Result<(), CliError> {
    let given: Vec<&str> = [
        ("--image-tags", args.image_tags.is_some()),
        ("--skip-shas", args.skip_shas.is_some()),
        ("--tag-selection", args.tag_selection.is_some()),
        ("--keep-n-most-recent", args.keep_n_most_recent.is_some()),
        ("--timestamp-to-use", args.timestamp_to_use.is_some()),
        ("--cut-off", args.cut_off.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    if given.is_empty() {
        return Ok(());
    }
    let list = names.list(&given);
    let them = if given.len() == 1 { "it" } else { "them" };
    let policy = match (names.actions, source) {
        (true, PolicySource::File(_)) => "a policy file".to_string(),
        (true, _) => names.of("--policy-inline"),
        (false, PolicySource::File(_)) => "a policy file (--policy)".to_string(),
        (false, _) => "an inline policy (--policy-inline, REGSWEEP_POLICY)".to_string(),
    };
    let help = if names.actions {
        format!("remove {list} from the step's `with:` and express {them} as rules of the policy (see docs/policy.md), or drop `policy` and keep the snok-style inputs")
    } else {
        format!("move {them} into a rule of the policy (see docs/policy.md), or drop the policy")
    };
    Err(CliError::Conflict(format!(
        "{list} cannot be combined with {policy}\n  the policy decides what is kept and deleted; the snok-style selection inputs would be ignored\n  help: {help}"
    )))
}

/// The policy equivalent to the snok-style flags.
pub fn snok_policy(args: &RunArgs, names: Names) -> Result<Policy, CliError> {
    let image_names = args.image_names.as_deref().unwrap_or("").trim();
    if image_names.is_empty() {
        return Err(CliError::Missing(format!(
            "no image names given\n  regsweep needs to know which packages to clean\n  help: give {} (e.g. `app, worker`, `team/*`, `*, !keep-me`) or {}",
            names.of("--image-names"),
            if names.actions { "a `policy`" } else { "a --policy file" }
        )));
    }
    let image_names = parse_snok_patterns(&names.of("--image-names"), image_names)?;
    let image_tags = parse_snok_patterns(
        &names.of("--image-tags"),
        args.image_tags.as_deref().unwrap_or(""),
    )?;
    let skip_shas = parse_skip_shas(args.skip_shas.as_deref().unwrap_or("")).map_err(|e| {
        invalid(
            &names.of("--skip-shas"),
            format!("{e}\n  help: separate digests with commas or spaces"),
        )
    })?;
    let tag_selection: TagSelection = args
        .tag_selection
        .as_deref()
        .unwrap_or("both")
        .parse()
        .map_err(|e: String| invalid(&names.of("--tag-selection"), e))?;
    let timestamp: TimestampField = args
        .timestamp_to_use
        .as_deref()
        .unwrap_or("updated_at")
        .parse()
        .map_err(|e: String| invalid(&names.of("--timestamp-to-use"), e))?;
    let Some(cut_off) = args.cut_off.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Err(CliError::Missing(format!(
            "no cut-off given\n  versions newer than the cut-off are never deleted, so regsweep needs one\n  help: give {} (e.g. `1w`, `2w 3d`), or use {}",
            names.of("--cut-off"),
            if names.actions { "a `policy`" } else { "a --policy file" }
        )));
    };
    let cut_off = parse_duration(&names.of("--cut-off"), cut_off)?;
    if !image_tags.is_empty() && tag_selection == TagSelection::Untagged {
        tracing::warn!(
            "{} has no effect with {} untagged",
            names.of("--image-tags"),
            names.of("--tag-selection")
        );
    }
    Ok(SnokInputs {
        image_names,
        image_tags,
        skip_shas,
        tag_selection,
        keep_n_most_recent: args.keep_n_most_recent.unwrap_or(0),
        timestamp,
        cut_off,
    }
    .to_policy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> RunArgs {
        RunArgs {
            account: Some("acme".into()),
            token: Some("t0ken".into()),
            image_names: Some("app".into()),
            cut_off: Some("1w".into()),
            ..RunArgs::default()
        }
    }

    #[test]
    fn registry_concurrency_defaults_to_concurrency_and_is_bounded() {
        let env = Env::default();
        let s = resolve(&args(), &env, true).unwrap();
        assert_eq!((s.concurrency, s.registry_concurrency), (8, 8));
        let a = RunArgs {
            concurrency: Some(12),
            ..args()
        };
        assert_eq!(resolve(&a, &env, true).unwrap().registry_concurrency, 12);
        let a = RunArgs {
            registry_concurrency: Some(3),
            ..args()
        };
        assert_eq!(resolve(&a, &env, true).unwrap().registry_concurrency, 3);
        for bad in [0, 65] {
            let a = RunArgs {
                registry_concurrency: Some(bad),
                ..args()
            };
            let e = resolve(&a, &env, true).unwrap_err().to_string();
            assert!(
                e.contains("--registry-concurrency") && e.contains("1 to 64"),
                "{e}"
            );
        }
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(parse_url("--api-url", "http://127.0.0.1:8080").is_ok());
        assert!(parse_url("--api-url", "http://[::1]:8080").is_ok());
        assert!(parse_url("--api-url", "http://localhost:1").is_ok());
        assert!(parse_url("--api-url", "https://ghe.example.com/api/v3").is_ok());
        let e = parse_url("--api-url", "http://ghe.example.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback"), "{e}");
        assert!(parse_url("--api-url", "ftp://x").is_err());
        assert!(parse_url("--api-url", "not a url").is_err());
    }

    #[test]
    fn missing_inputs_are_usage_errors() {
        let mut a = args();
        a.account = None;
        assert!(resolve(&a, &Env::default(), true)
            .unwrap_err()
            .to_string()
            .contains("no account"));
        let mut a = args();
        a.token = None;
        assert!(resolve(&a, &Env::default(), true)
            .unwrap_err()
            .to_string()
            .contains("no token"));
        let env = Env {
            github_token: Some("from-env".into()),
            ..Env::default()
        };
        assert!(resolve(&a, &env, true).is_ok());
        let mut a = args();
        a.cut_off = Some("soon".into());
        assert!(resolve(&a, &Env::default(), true)
            .unwrap_err()
            .to_string()
            .contains("not a duration"));
        let mut a = args();
        a.tag_selection = Some("some".into());
        assert!(resolve(&a, &Env::default(), true).is_err());
        let mut a = args();
        a.skip_shas = Some("sha256:nope".into());
        assert!(resolve(&a, &Env::default(), true).is_err());
    }

    /// Issue 10: under Actions, a conflict names every input involved as the workflow
    /// author wrote it, and says how to fix it; outside Actions, the flags.
    #[test]
    fn policy_conflicts_name_every_input_as_written() {
        let a = RunArgs {
            policy_inline: Some("rules: [{action: delete, older_than: 30d}]".into()),
            tag_selection: Some("both".into()),
            timestamp_to_use: Some("created_at".into()),
            ..args()
        };
        let actions = Env {
            actions: true,
            ..Env::default()
        };
        let e = resolve(&a, &actions, true).unwrap_err().to_string();
        assert!(
            e.starts_with("`tag-selection`, `timestamp-to-use` and `cut-off` cannot be combined with `policy`"),
            "{e}"
        );
        assert!(e.contains("help: remove"), "{e}");
        assert!(!e.contains("--"), "no flags named under Actions: {e}");
        let e = resolve(&a, &Env::default(), true).unwrap_err().to_string();
        assert!(
            e.starts_with("--tag-selection, --timestamp-to-use and --cut-off cannot be combined with an inline policy"),
            "{e}"
        );
        let ok = RunArgs {
            policy_inline: a.policy_inline.clone(),
            image_names: Some("app".into()),
            ..RunArgs::default()
        };
        let ok = RunArgs {
            account: Some("acme".into()),
            token: Some("t".into()),
            ..ok
        };
        assert!(
            resolve(&ok, &actions, true).is_ok(),
            "image-names narrows a policy"
        );
    }

    #[test]
    fn missing_inputs_under_actions_name_the_inputs() {
        let actions = Env {
            actions: true,
            ..Env::default()
        };
        let mut a = args();
        a.cut_off = None;
        let e = resolve(&a, &actions, true).unwrap_err().to_string();
        assert!(
            e.contains("give `cut-off`") && e.contains("a `policy`"),
            "{e}"
        );
        a.account = None;
        let e = resolve(&a, &actions, true).unwrap_err().to_string();
        assert!(e.contains("`account: ORG`"), "{e}");
    }

    #[test]
    fn token_never_in_debug() {
        let s = resolve(&args(), &Env::default(), true).unwrap();
        assert!(!format!("{s:?}").contains("t0ken"));
    }

    #[test]
    fn delete_orphans_adds_a_rule() {
        let mut a = args();
        a.delete_orphans = true;
        let s = resolve(&a, &Env::default(), true).unwrap();
        assert!(s
            .policy
            .rules
            .iter()
            .any(|r| r.orphans_only && r.action == RuleAction::Delete));
    }

    proptest::proptest! {
        /// No panic on any input: whatever text the inputs hold (flags, variables,
        /// an inline policy), settings resolve or fail with a usage error.
        #[test]
        fn any_input_resolves_or_is_a_usage_error(
            account in proptest::option::of(".{0,12}"),
            names in proptest::option::of("[a-z*!/ ,.\\-\\[\\](){}^$+?|]{0,16}"),
            tags in proptest::option::of("[a-z0-9*!/ ,.:<>=~^-]{0,16}|semver:.{0,8}|re:.{0,8}"),
            shas in proptest::option::of("(sha256:[0-9a-f]{0,64}[ ,]?){0,2}|.{0,10}"),
            selection in proptest::option::of("tagged|untagged|both|.{0,6}"),
            stamp in proptest::option::of("updated_at|created_at|.{0,6}"),
            cut_off in proptest::option::of("[0-9]{0,3} ?(s|m|h|d|w|months|y|x)?( [0-9]{1,2}d)?|.{0,6}"),
            keep in proptest::option::of(0usize..1000),
            inline in proptest::option::of(".{0,40}|rules:\n  - \\{action: (keep|delete|x), tags: .{0,8}\\}"),
            api in proptest::option::of("(https?|ftp)://[a-z0-9.:\\[\\]]{0,15}/?.{0,5}"),
        ) {
            let a = RunArgs {
                account,
                token: Some("t0ken".into()),
                image_names: names,
                image_tags: tags,
                skip_shas: shas,
                tag_selection: selection,
                timestamp_to_use: stamp,
                cut_off,
                keep_n_most_recent: keep,
                policy_inline: inline,
                api_url: api,
                ..RunArgs::default()
            };
            // Ok, or an error whose message says what is wrong; never a panic.
            if let Err(e) = resolve(&a, &Env::default(), true) {
                proptest::prop_assert!(!e.to_string().trim().is_empty());
            }
        }
    }
}
