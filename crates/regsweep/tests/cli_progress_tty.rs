//! Progress on a terminal: with stderr on a pseudo-terminal (`script` allocates
//! one), listing and deleting draw indicatif bars, and stdout stays the report.

mod common;

use std::process::Command;

use common::{acme, generated, sim, slow, NOW};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_gets_progress_bars_and_stdout_stays_the_report() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("the `script` utility (util-linux) is needed to give the binary a terminal");
    }
    let s = sim(&acme(&generated("app", 40, 7)), slow(150)).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let line = format!(
        "REGSWEEP_NOW={NOW} REGSWEEP_LOG=warn '{}' apply --account acme --token ghp_admin \
         --image-names app --cut-off 30d --tag-selection tagged --graph skip --concurrency 1 \
         --output json --api-url '{}' --registry-url '{}' > '{}'",
        env!("CARGO_BIN_EXE_regsweep"),
        s.api_url(),
        s.registry_url(),
        report.display()
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("script")
            .args(["-qefc", &line, "/dev/null"])
            .env("TERM", "xterm")
            .output()
            .expect("script runs")
    })
    .await
    .unwrap();
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{terminal}");
    // What the terminal saw: bars redrawn in place, for listing and for deleting.
    // (A pty turns every "\n" into "\r\n", so look for indicatif's clear-line
    // sequence and a drawn bar, not for a bare carriage return.)
    assert!(terminal.contains("\r\u{1b}[2K"), "{terminal:?}");
    assert!(terminal.contains("listing versions"), "{terminal:?}");
    assert!(terminal.contains("deleting [=>"), "{terminal:?}");
    // The report went to stdout, untouched by progress.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).expect("stdout is JSON");
    assert!(doc["totals"]["deleted"].as_u64().unwrap() > 0, "{doc}");
    s.shutdown().await;
}
