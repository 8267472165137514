//! Terminal manners, through the binary: shell completions and manual pages; a
//! reader closing stdout early ends the run quietly with exit 0; `NO_COLOR`; tables
//! fitted to a terminal's width but full in a pipe; `--print-policy` offline; and
//! control characters from the server escaped in every human output.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{acme, against, command, finish, generated, sim, NOW};
use regsweep_sim::SimOptions;

const SUBCOMMANDS: [&str; 8] = [
    "plan",
    "apply",
    "validate",
    "explain",
    "policy",
    "restore",
    "completions",
    "man",
];

fn stdout_of(args: &[&str]) -> String {
    let out = command(args).output().expect("regsweep runs");
    assert!(
        out.status.success(),
        "regsweep {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_names_every_subcommand_and_parses() {
    let script = stdout_of(&["completions", "bash"]);
    for sub in SUBCOMMANDS {
        assert!(script.contains(sub), "no {sub} in the bash completion");
    }
    assert!(script.contains("--image-names"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regsweep.bash");
    std::fs::write(&file, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        assert!(stdout_of(&["completions", shell]).contains("regsweep"));
    }
}

/// The long options `regsweep SUB --help` lists.
fn long_options(sub: &[&str]) -> Vec<String> {
    let mut args = sub.to_vec();
    args.push("--help");
    let help = stdout_of(&args);
    // Visible aliases (`[alias: --shas-to-skip]`) are not listed by clap_mangen.
    let help: String = help
        .lines()
        .map(|l| l.split("[alias").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut opts: Vec<String> = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(String::from)
        .collect();
    opts.sort();
    opts.dedup();
    opts
}

#[test]
fn man_pages_cover_every_command_and_option_and_render() {
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&["man", "--dir", dir.path().to_str().unwrap()]);
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("no page {name}.1: {e}"))
    };
    let main = page("regsweep");
    assert_eq!(main, stdout_of(&["man"]), "`man` prints the main page");
    for sub in SUBCOMMANDS {
        assert!(main.contains(sub), "the main page does not name {sub}");
        let page = page(&format!("regsweep-{sub}"));
        let sub_args: Vec<&str> = if sub == "policy" {
            vec!["policy", "check"]
        } else {
            vec![sub]
        };
        let text = if sub == "policy" {
            page_text(&dir.path().join("regsweep-policy-check.1"))
        } else {
            page.clone()
        };
        for opt in long_options(&sub_args) {
            // roff writes `-` as `\-`.
            let roff = opt.replace('-', "\\-");
            assert!(
                text.contains(&roff) || text.contains(&opt),
                "the page of {sub} does not document {opt}"
            );
        }
    }
    // It renders as a manual page where man(1) is installed.
    if Command::new("man").arg("--version").output().is_ok() {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("regsweep-plan.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("--image-names") && text.contains("SYNOPSIS"),
            "{text}"
        );
    }
}

fn page_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn print_policy_needs_no_account_no_token_and_no_network() {
    let out = command(&[
        "plan",
        "--print-policy",
        "--image-names",
        "app",
        "--cut-off",
        "2w",
        "--keep-n-most-recent",
        "3",
    ])
    .env("GITHUB_API_URL", "http://127.0.0.1:9")
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("rules:"), "{stdout}");
    assert!(stdout.contains("14d") || stdout.contains("2w"), "{stdout}");
}

/// Runs `cmd`, reads one line of its stdout, closes it, and returns the exit code
/// and stderr.
fn close_after_one_line(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("regsweep starts");
    let mut first = String::new();
    {
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        // Dropped here: the pipe's read end is closed, as `| head -1` does.
    }
    assert!(!first.is_empty(), "no line before the pipe was closed");
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_quietly_with_exit_0() {
    // Enough versions for every report to outgrow the pipe's buffer.
    let s = sim(&acme(&generated("app", 3000, 5)), SimOptions::default()).await;
    for output in ["json", "table", "markdown"] {
        let cmd = against(
            &s,
            &[
                "plan",
                "--account",
                "acme",
                "--token",
                "ghp_admin",
                "--image-names",
                "app",
                "--cut-off",
                "1d",
                "--graph",
                "skip",
                "--show-kept",
                "--output",
                output,
            ],
        );
        let (code, stderr) = tokio::task::spawn_blocking(move || close_after_one_line(cmd))
            .await
            .unwrap();
        assert_eq!(code, Some(0), "--output {output}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.to_lowercase().contains("broken pipe"),
            "--output {output}: {stderr}"
        );
        assert!(!stderr.contains("error"), "--output {output}: {stderr}");
    }
    s.shutdown().await;
}

#[test]
fn closing_stdout_of_generated_output_is_quiet_too() {
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let (code, stderr) = close_after_one_line(command(args));
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// Runs `line` (a shell command) with stdout and stderr on a pseudo-terminal, and
/// returns what the terminal showed.
fn on_a_terminal(line: String, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"]).env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    text
}

/// Whether `text` holds an SGR (colour) sequence `ESC [ digits;… m`.
fn has_sgr(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == 0x1b && b.get(i + 1) == Some(&b'[') && {
            let rest = &b[i + 2..];
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b';')
                .count();
            rest.get(n) == Some(&b'm')
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_tables_fit_columns_and_no_color_is_honoured() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("the `script` utility (util-linux) is needed to give the binary a terminal");
    }
    let s = sim(&acme(&generated("app", 60, 7)), SimOptions::default()).await;
    let base = format!(
        "REGSWEEP_NOW={NOW} REGSWEEP_LOG=info '{}' plan --account acme --token ghp_admin \
         --image-names app --cut-off 30d --graph skip --show-kept --api-url '{}' --registry-url '{}'",
        env!("CARGO_BIN_EXE_regsweep"),
        s.api_url(),
        s.registry_url(),
    );
    let (narrow, plain, coloured, piped) = tokio::task::spawn_blocking(move || {
        (
            // The report alone on the terminal (the logs go elsewhere).
            on_a_terminal(format!("{base} 2>/dev/null"), &[("COLUMNS", "72")]),
            on_a_terminal(base.clone(), &[("NO_COLOR", "1")]),
            on_a_terminal(base.clone(), &[("COLUMNS", "72")]),
            Command::new("sh")
                .args(["-c", &base])
                .env("COLUMNS", "72")
                .output()
                .unwrap(),
        )
    })
    .await
    .unwrap();
    // Colour on a terminal, none with NO_COLOR.
    assert!(has_sgr(&coloured), "{coloured:?}");
    assert!(!has_sgr(&plain), "{plain:?}");
    // COLUMNS=72: every line of the report fits, long reasons end in an ellipsis.
    let lines: Vec<&str> = narrow.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert!(lines.iter().any(|l| l.contains("REASON")), "{narrow}");
    for l in &lines {
        assert!(
            l.chars().count() <= 72,
            "{} columns: {l:?}",
            l.chars().count()
        );
    }
    assert!(lines.iter().any(|l| l.ends_with('…')), "{narrow}");
    // In a pipe, COLUMNS does not matter: every reason in full, no ellipsis added.
    let piped = String::from_utf8(piped.stdout).unwrap();
    assert!(piped.lines().any(|l| l.chars().count() > 72), "{piped}");
    assert!(!has_sgr(&piped));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_tags_are_escaped() {
    let s = sim(&acme(&generated("app", 30, 3)), SimOptions::default()).await;
    let evil = "evil\u{1b}[31mred\0nul\nforged line\u{202e}";
    let cutoff = NOW
        .parse::<jiff::Timestamp>()
        .unwrap()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 60))
        .unwrap();
    let old = s
        .versions("acme", "app")
        .into_iter()
        .find(|v| !v.tags.is_empty() && v.updated_at < cutoff)
        .expect("an old tagged version");
    assert!(s.set_listed_tags("acme", "app", old.id.0, vec![evil.to_string()]));
    let plan = |output: &'static str| {
        against(
            &s,
            &[
                "plan",
                "--account",
                "acme",
                "--token",
                "ghp_admin",
                "--image-names",
                "app",
                "--cut-off",
                "30d",
                "--graph",
                "skip",
                "--show-kept",
                "--output",
                output,
            ],
        )
    };
    for output in ["table", "markdown"] {
        let run = finish(plan(output)).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        for raw in ['\u{1b}', '\0', '\u{202e}'] {
            assert!(
                !run.stdout.contains(raw),
                "{output}: raw {raw:?} in {:?}",
                run.stdout
            );
        }
        assert!(
            run.stdout.contains("evil\\x1b[31mred\\0nul\\nforged"),
            "{output}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.lines().any(|l| l.starts_with("forged line")),
            "{output}: a tag forged a line"
        );
    }
    // `explain` shows the tag escaped too.
    let mut explain = against(
        &s,
        &[
            "explain",
            &old.digest.to_string(),
            "--account",
            "acme",
            "--token",
            "ghp_admin",
            "--image-names",
            "app",
            "--cut-off",
            "30d",
            "--graph",
            "skip",
        ],
    );
    explain.env("REGSWEEP_LOG", "warn");
    let run = finish(explain).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\0'),
        "{:?}",
        run.stdout
    );
    assert!(run.stdout.contains("evil\\x1b[31m"), "{}", run.stdout);
    // JSON carries the tag exactly (JSON escapes it itself).
    let run = finish(plan("json")).await;
    assert!(run.stdout.contains("\\u001b[31m"), "{}", run.stdout);
    assert!(run.json().to_string().contains("evil"), "{}", run.stdout);
    s.shutdown().await;
}
