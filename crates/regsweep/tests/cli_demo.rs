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
