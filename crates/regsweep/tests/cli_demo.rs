//! The README's first command: `regsweep demo` (what `./scripts/demo.sh` runs)
//! plans, and with `--apply` deletes and validates, against the bundled sample world.

mod common;

use std::process::Command;

use common::Run;

/// `regsweep demo ARGS` in the test's own environment (the demo starts its own
/// emulator), logging warnings only.
fn demo(args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regsweep"));
    cmd.arg("demo").args(args).env("REGSWEEP_LOG", "warn");
    Run::from(cmd.output().expect("regsweep demo runs"))
}

#[test]
fn demo_plans_the_sample_account() {
    let Run {
        code,
        stdout,
        stderr,
    } = demo(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("42 versions in 2 packages: 22 to delete, 20 kept, 0 skipped (dry run: nothing deleted)"),
        "{stdout}"
    );
    assert!(stderr.contains("emulator at http://127.0.0.1:"), "{stderr}");
}

/// Regression: `demo --apply --output json` printed validate's verdict after the
/// JSON document, so stdout was not JSON.
#[test]
fn demo_apply_as_json_keeps_stdout_one_document() {
    let Run {
        code,
        stdout,
        stderr,
    } = demo(&["--apply", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(doc["totals"]["deleted"], 22);
    assert_eq!(doc["totals"]["failed"], 0);
    assert!(stderr.contains("all complete"), "{stderr}");
}

/// `regsweep bench` runs end to end at a tiny size and prints each figure beside its
/// limit (the figures themselves are not asserted: they live in the benchmark).
#[test]
fn bench_runs_at_a_tiny_size() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regsweep"));
    cmd.args([
        "bench",
        "--sizes",
        "150",
        "--packages",
        "3x20",
        "--weekly",
        "300",
    ])
    .env("REGSWEEP_LOG", "warn");
    let Run {
        code,
        stdout,
        stderr,
    } = Run::from(cmd.output().expect("regsweep bench runs"));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].contains("requests/min") && lines[0].contains("peak RSS/goal"),
        "{stdout}"
    );
    let one = lines
        .iter()
        .find(|l| l.starts_with("150 in 1"))
        .expect("the one-package row");
    let many = lines
        .iter()
        .find(|l| l.starts_with("3x20"))
        .expect("the many-package row");
    // 150 versions: a token check, 2 pages, 1 package page -> 4 requests at least.
    assert!(one.contains(" / 4 "), "{one}");
    assert!(many.contains(" / 5 "), "{many}");
    assert!(one.contains("skipped"), "{one}");
    // The warm-cache weekly row (a first run fills the cache, then the account
    // changes): it runs end to end at a tiny size too.
    assert!(
        lines.iter().any(|l| l.starts_with("300 weekly")),
        "{stdout}"
    );
}
