//! binary/install.sh, the download-and-verify step of the binary (composite) action,
//! run against a release server on 127.0.0.1: a good checksum installs the binary; a
//! bad checksum, a missing SHA256SUMS entry or a missing asset are refused with a
//! clear error and leave nothing installed. And binary/action.yml offers exactly the
//! Docker action's inputs (plus `version`), outputs and variables.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A minimal release server: GET /<version>/<asset> answers the file from `files`,
/// anything else 404. Returns the base URL.
fn serve(files: BTreeMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Read the headers to their end.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = match files.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"Not Found".to_vec()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn sha256_hex(data: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    std::fs::write(&p, data).unwrap();
    let out = Command::new("sha256sum").arg(&p).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

const BINARY: &[u8] = b"#!/bin/sh\necho regsweep\n";
const ASSET: &str = "regsweep-x86_64-unknown-linux-musl";

struct Install {
    code: i32,
    stderr: String,
    dest: tempfile::TempDir,
}

fn install(base: &str, version: &str, os: &str, arch: &str) -> Install {
    let dest = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo_root().join("binary/install.sh"))
        .args([version, dest.path().join("bin").to_str().unwrap()])
        .env("REGSWEEP_DOWNLOAD_BASE", base)
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .output()
        .unwrap();
    Install {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dest,
    }
}

fn release(sums: &str, with_asset: bool) -> String {
    let mut files = BTreeMap::new();
    files.insert("/v9.9.9/SHA256SUMS".to_string(), sums.as_bytes().to_vec());
    if with_asset {
        files.insert(format!("/v9.9.9/{ASSET}"), BINARY.to_vec());
    }
    serve(files)
}

#[test]
fn good_checksum_installs_the_binary() {
    let sums = format!(
        "{}  regsweep-aarch64-apple-darwin\n{}  {ASSET}\n",
        "0".repeat(64),
        sha256_hex(BINARY)
    );
    let r = install(&release(&sums, true), "v9.9.9", "Linux", "X64");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bin = r.dest.path().join("bin/regsweep");
    assert_eq!(std::fs::read(&bin).unwrap(), BINARY);
    let out = Command::new(&bin).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "regsweep\n",
        "executable"
    );
}

#[test]
fn bad_checksum_is_refused_and_nothing_installed() {
    let sums = format!("{}  {ASSET}\n", "ab".repeat(32));
    let r = install(&release(&sums, true), "v9.9.9", "Linux", "X64");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("checksum mismatch"), "{}", r.stderr);
    assert!(r.stderr.contains("refused"), "{}", r.stderr);
    assert!(!r.dest.path().join("bin/regsweep").exists());
}

#[test]
fn asset_missing_from_sha256sums_is_refused() {
    let sums = format!("{}  regsweep-aarch64-apple-darwin\n", sha256_hex(BINARY));
    let r = install(&release(&sums, true), "v9.9.9", "Linux", "X64");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("lists no checksum for"), "{}", r.stderr);
    assert!(!r.dest.path().join("bin/regsweep").exists());
}

#[test]
fn missing_asset_is_a_clear_error() {
    let sums = format!("{}  {ASSET}\n", sha256_hex(BINARY));
    let r = install(&release(&sums, false), "v9.9.9", "Linux", "X64");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains(&format!("the release v9.9.9 has no asset {ASSET}")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("HTTP 404"), "{}", r.stderr);
    assert!(
        r.stderr.contains("help: check the `version` input"),
        "{}",
        r.stderr
    );
}

#[test]
fn each_runner_gets_its_asset_and_others_are_told_what_exists() {
    // The asset name each runner asks for: the missing-asset error names it.
    let base = release("", false);
    for (os, arch, asset) in [
        ("Linux", "ARM64", "regsweep-aarch64-unknown-linux-musl"),
        ("macOS", "X64", "regsweep-x86_64-apple-darwin"),
        ("macOS", "ARM64", "regsweep-aarch64-apple-darwin"),
        ("Windows", "X64", "regsweep-x86_64-pc-windows-msvc.exe"),
    ] {
        let r = install(&base, "v9.9.9", os, arch);
        assert_eq!(r.code, 1, "{os}/{arch}");
        assert!(
            r.stderr.contains(&format!("has no asset {asset} ")),
            "{os}/{arch}: {}",
            r.stderr
        );
    }
    let r = install(&base, "v9.9.9", "Windows", "ARM64");
    assert!(
        r.stderr
            .contains("no regsweep release binary for Windows/ARM64"),
        "{}",
        r.stderr
    );
    let r = install(&base, "v0", "Linux", "X64");
    assert!(r.stderr.contains("is not a release tag"), "{}", r.stderr);
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(repo_root().join(path)).unwrap()).unwrap()
}

/// binary/action.yml offers the Docker action's inputs (same defaults), outputs and
/// variables, so switching between them changes only the `uses:` line.
#[test]
fn binary_action_matches_the_docker_action() {
    let docker = yaml("action.yml");
    let binary = yaml("binary/action.yml");
    let mut inputs = binary["inputs"].as_mapping().unwrap().clone();
    inputs.remove("version");
    assert_eq!(&inputs, docker["inputs"].as_mapping().unwrap());
    let docker_outputs: Vec<_> = docker["outputs"].as_mapping().unwrap().keys().collect();
    let binary_outputs = binary["outputs"].as_mapping().unwrap();
    assert_eq!(binary_outputs.keys().collect::<Vec<_>>(), docker_outputs);
    for (k, v) in binary_outputs {
        assert_eq!(
            v["value"].as_str().unwrap(),
            format!("${{{{ steps.run.outputs.{} }}}}", k.as_str().unwrap())
        );
    }
    assert_eq!(binary["runs"]["using"], "composite");
    let steps = binary["runs"]["steps"].as_sequence().unwrap();
    let run = steps.iter().find(|s| s["id"] == "run").unwrap();
    assert_eq!(&run["env"], &docker["runs"]["env"]);
    assert_eq!(run["run"].as_str().unwrap().trim(), "regsweep apply");
    assert!(steps[0]["run"].as_str().unwrap().contains("install.sh"));
}
