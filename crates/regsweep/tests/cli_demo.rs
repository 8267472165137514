//! The README's first command: `regsweep demo` (what `./scripts/demo.sh` runs)
//! plans, and with `--apply` deletes and validates, against the bundled sample world.

use std::process::Command;

fn demo(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_regsweep"))
        .arg("demo")
        .args(args)
        .env("REGSWEEP_LOG", "warn")
        .output()
        .expect("regsweep demo runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_plans_the_sample_account() {
    let (code, stdout, stderr) = demo(&[]);
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
    let (code, stdout, stderr) = demo(&["--apply", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(doc["totals"]["deleted"], 22);
    assert_eq!(doc["totals"]["failed"], 0);
    assert!(stderr.contains("all complete"), "{stderr}");
}
