//! Secrets never leave: with the emulator echoing the presented credentials in error
//! answers (and in a header of every answer), no output channel of the real binary —
//! stdout in every format, stderr at trace level, `$GITHUB_OUTPUT`,
//! `$GITHUB_STEP_SUMMARY`, the journal, the cache directory — shows the token, a
//! registry bearer token or any encoded form of them; the redaction marker shows where
//! the echo was, so these tests cannot pass by the echo going missing.

mod common;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{acme_accounts, args, regsweep, sim, APP_GRAPH};
use regsweep_sim::{FailNext, FaultConfig, Sim, SimOptions};

/// The token under test (the emulator knows it as octocat's classic PAT).
const TOKEN: &str = "ghp_EchoedS3cretT0ken4Redaction99";
const MARKER: &str = "[redacted]";

fn scenario(packages: &str) -> String {
    common::scenario(&format!(
        "  - {{token: {TOKEN}, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}}\n{}",
        acme_accounts(packages)
    ))
}

/// The token and every encoded form of it a server or a library could print: base64
/// (standard and URL-safe, padded or not) of the token and of Basic `user:token`, and
/// percent-encoded.
fn forbidden_forms() -> Vec<String> {
    let mut forms = vec![TOKEN.to_string()];
    let engines = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD];
    for e in &engines {
        forms.push(e.encode(TOKEN));
        for user in ["octocat", "regsweep", "x-access-token", "user"] {
            forms.push(e.encode(format!("{user}:{TOKEN}")));
        }
    }
    forms.push(TOKEN.replace('_', "%5F"));
    forms
}

/// Echo on, and `faults`.
fn echoing(faults: FaultConfig) -> FaultConfig {
    FaultConfig {
        echo_credentials: true,
        ..faults
    }
}

fn next(count: u32, status: u16, method: Option<&str>, path: Option<&str>) -> Option<FailNext> {
    Some(FailNext {
        count,
        status,
        method: method.map(String::from),
        path_contains: path.map(String::from),
    })
}

/// One run's output channels, by name.
struct Channels {
    all: Vec<(String, String)>,
}

impl Channels {
    fn get(&self, name: &str) -> &str {
        self.all
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no channel {name}"))
    }

    /// No channel holds the token or any of its forms, nor an unredacted credential
    /// after `Bearer `/`Basic `.
    fn assert_clean(&self) {
        for (name, text) in &self.all {
            for form in forbidden_forms() {
                assert!(
                    !text.contains(&form),
                    "{name} shows the secret form {form}:\n{}",
                    excerpt(text, &form)
                );
            }
            let lower = text.to_ascii_lowercase();
            for scheme in ["bearer ", "basic "] {
                for (i, _) in lower.match_indices(scheme) {
                    let after = &text[i + scheme.len()..];
                    let ok = after.starts_with(MARKER)
                        || after.starts_with("realm=")
                        || after.starts_with("challenge")
                        || !after.starts_with(|c: char| c.is_ascii_alphanumeric());
                    assert!(ok, "{name} shows a credential: {}", excerpt(text, after));
                }
            }
        }
    }
}

fn excerpt(text: &str, at: &str) -> String {
    let i = text.find(at).unwrap_or(0);
    let start = text[..i]
        .char_indices()
        .rev()
        .nth(200)
        .map(|(k, _)| k)
        .unwrap_or(0);
    text[start..].chars().take(400).collect()
}

/// Every file under `dir`, as (path, text).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            let bytes = std::fs::read(&p).unwrap_or_default();
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

/// Runs `sub` (`plan`, `apply`) at trace level (`--log trace` and `RUST_LOG=trace`),
/// as in Actions, with a journal and a cache directory, and collects every channel.
async fn run_everywhere(sim: &Sim, sub: &str, output: &str, extra: &[&str]) -> (i32, Channels) {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| -> PathBuf { dir.path().join(n) };
    let (gh_output, summary, journal, cache) = (
        path("github_output"),
        path("step_summary"),
        path("journal.jsonl"),
        path("cache"),
    );
    std::fs::write(&gh_output, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let (journal_s, cache_s) = (journal.display().to_string(), cache.display().to_string());
    let mut a = args(
        sub,
        &[
            &[
                "--account",
                "acme",
                "--token",
                TOKEN,
                "--image-names",
                "app",
            ],
            &["--cut-off", "1d", "--tag-selection", "both"],
            &["--output", output, "--log", "trace"],
            &["--journal", &journal_s, "--cache-dir", &cache_s],
        ],
    );
    a.extend_from_slice(extra);
    let run = regsweep(
        sim,
        &a,
        &[
            ("RUST_LOG", "trace"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", gh_output.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    )
    .await;
    let mut all = vec![
        ("stdout".to_string(), run.stdout),
        ("stderr".to_string(), run.stderr),
        ("GITHUB_OUTPUT".to_string(), common::read(&gh_output)),
        ("GITHUB_STEP_SUMMARY".to_string(), common::read(&summary)),
        (
            "journal".to_string(),
            std::fs::read_to_string(&journal).unwrap_or_default(),
        ),
    ];
    all.extend(files_under(&cache));
    (run.code, Channels { all })
}

/// A failing DELETE whose body echoes the token: the failure reason is shown in every
/// format (table, JSON `reason`, Markdown, the step summary) and logged, redacted.
#[tokio::test]
async fn echoed_token_in_delete_error_is_redacted() {
    for output in ["table", "json", "markdown"] {
        let sim = sim(
            &scenario(&common::generated("app", 6, 3)),
            SimOptions {
                faults: echoing(FaultConfig {
                    fail_next: next(1, 422, Some("DELETE"), None),
                    ..FaultConfig::default()
                }),
                ..SimOptions::default()
            },
        )
        .await;
        let (code, ch) = run_everywhere(&sim, "apply", output, &["--graph", "skip"]).await;
        assert_eq!(code, 1, "one deletion failed ({output})");
        ch.assert_clean();
        for name in ["stdout", "stderr", "GITHUB_STEP_SUMMARY"] {
            assert!(
                ch.get(name).contains(MARKER),
                "{name} ({output}) lacks the marker where the echo was:\n{}",
                ch.get(name)
            );
        }
        assert!(
            ch.get("journal").lines().count() > 0,
            "the other deletions are journaled"
        );
        sim.shutdown().await;
    }
}

/// A 4xx answer to the listing whose body echoes the token: the error rendered at the
/// edge (main.rs) is redacted.
#[tokio::test]
async fn echoed_token_in_listing_error_is_redacted() {
    let sim = sim(
        &scenario(&common::generated("app", 6, 3)),
        SimOptions {
            faults: echoing(FaultConfig {
                fail_next: next(1, 422, Some("GET"), Some("/versions")),
                ..FaultConfig::default()
            }),
            ..SimOptions::default()
        },
    )
    .await;
    let (code, ch) = run_everywhere(&sim, "plan", "json", &["--graph", "skip"]).await;
    assert_ne!(code, 0, "the listing failed:\n{}", ch.get("stderr"));
    ch.assert_clean();
    let stderr = ch.get("stderr");
    assert!(
        stderr.contains(&format!("credential `{MARKER}`")),
        "the echoed token shows redacted in the error:\n{stderr}"
    );
    sim.shutdown().await;
}

/// A registry 401 answering a request that carried the bearer token the registry's
/// token endpoint minted at run time (never configured): redacted too.
#[tokio::test]
async fn echoed_bearer_in_registry_401_is_redacted() {
    let sim = sim(
        &scenario(APP_GRAPH),
        SimOptions {
            faults: echoing(FaultConfig {
                registry_fail_next: next(2, 401, Some("GET"), Some("/manifests/")),
                ..FaultConfig::default()
            }),
            ..SimOptions::default()
        },
    )
    .await;
    let (_, ch) = run_everywhere(&sim, "plan", "json", &[]).await;
    ch.assert_clean();
    let stderr = ch.get("stderr");
    assert!(
        stderr.contains(&format!(
            "Authorization: Bearer {MARKER}`, credential `{MARKER}`"
        )),
        "the echoed bearer token shows redacted:\n{stderr}"
    );
    sim.shutdown().await;
}

/// A registry that asks for Basic and echoes `Authorization: Basic base64(user:token)`
/// and the decoded `user:token`: both redacted.
#[tokio::test]
async fn basic_credentials_base64_redacted() {
    let sim = sim(
        &scenario(APP_GRAPH),
        SimOptions {
            faults: echoing(FaultConfig {
                registry_fail_next: next(2, 401, Some("GET"), Some("/manifests/")),
                registry_challenge: Some("Basic realm=\"regsweep-sim\"".into()),
                ..FaultConfig::default()
            }),
            ..SimOptions::default()
        },
    )
    .await;
    let (_, ch) = run_everywhere(&sim, "plan", "json", &[]).await;
    ch.assert_clean();
    let stderr = ch.get("stderr");
    assert!(
        stderr.contains(&format!("Authorization: Basic {MARKER}`")),
        "the echoed Basic credentials show redacted:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!(":{MARKER}`")),
        "the decoded user:token shows redacted:\n{stderr}"
    );
    sim.shutdown().await;
}

/// A whole apply with manifests read, at trace level, while every answer echoes the
/// presented `Authorization` in a header: the logs are full (HTTP client traces
/// included) and never show a credential.
#[tokio::test]
async fn trace_logs_never_show_authorization() {
    let sim = sim(
        &scenario(APP_GRAPH),
        SimOptions {
            faults: echoing(FaultConfig::default()),
            ..SimOptions::default()
        },
    )
    .await;
    for output in ["table", "json", "markdown"] {
        let (code, ch) = run_everywhere(&sim, "plan", output, &[]).await;
        assert_eq!(code, 0, "{}", ch.get("stderr"));
        ch.assert_clean();
        let stderr = ch.get("stderr");
        assert!(
            stderr.contains("TRACE") && stderr.lines().count() > 50,
            "trace logs are on:\n{stderr}"
        );
    }
    let (code, ch) = run_everywhere(&sim, "apply", "json", &[]).await;
    assert_eq!(code, 0, "{}", ch.get("stderr"));
    ch.assert_clean();
    sim.shutdown().await;
}

/// The command line's own errors (clap's), for `args` with `env`: exit 2, and neither
/// stream shows the token.
fn assert_parse_error_redacted(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = common::command(args);
    cmd.envs(env.iter().copied());
    let run = common::Run::from(cmd.output().expect("regsweep runs"));
    assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    let ch = Channels {
        all: vec![
            ("stdout".to_string(), run.stdout.clone()),
            ("stderr".to_string(), run.stderr.clone()),
        ],
    };
    ch.assert_clean();
    assert!(
        run.stderr.contains(MARKER),
        "{args:?}: the marker shows where the token was:\n{}",
        run.stderr
    );
    run.stderr
}

/// Bug: a clap parse error quoting a value that holds the `--token` given on the same
/// command line (here a pasted `--concurrency`) printed the token.
#[test]
fn clap_error_quoting_the_token_is_redacted() {
    let bad = format!("x{TOKEN}");
    let joined = format!("--token={TOKEN}");
    for token_arg in [vec!["--token", TOKEN], vec![joined.as_str()]] {
        let mut a = vec!["plan"];
        a.extend(token_arg);
        a.extend(["--concurrency", bad.as_str()]);
        let stderr = assert_parse_error_redacted(&a, &[]);
        assert!(stderr.contains("--concurrency"), "{stderr}");
    }
    // The token from the environment, quoted back by a misplaced value.
    for var in ["REGSWEEP_TOKEN", "GITHUB_TOKEN"] {
        assert_parse_error_redacted(&["plan", "--dry-run", TOKEN], &[(var, TOKEN)]);
    }
    // The OCI registry password likewise.
    assert_parse_error_redacted(
        &["plan", "--registry-password", TOKEN, "--concurrency", &bad],
        &[],
    );
}

/// Bug: a token pasted where no flag names it (a missing `--token`, a stray
/// argument) was printed by clap's "unexpected argument" error.
#[test]
fn clap_error_with_a_stray_token_is_redacted() {
    assert_parse_error_redacted(&["plan", TOKEN], &[]);
    assert_parse_error_redacted(&["plan", "--account", "acme", TOKEN], &[]);
    let fine_grained = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    let mut cmd = common::command(&["apply", fine_grained]);
    let run = common::Run::from(cmd.output().expect("regsweep runs"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains(fine_grained), "{}", run.stderr);
}
