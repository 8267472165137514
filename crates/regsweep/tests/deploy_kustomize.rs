//! The Kubernetes deployment under `deploy/`: every overlay renders (with `kubectl
//! kustomize`, offline) to one CronJob for its account that cannot run twice at once,
//! runs non-root on a read-only root filesystem with resource requests, reads its
//! policy from a ConfigMap (a policy `regsweep policy check` accepts) and its token
//! from a Secret, and keeps the manifest cache and the journal on volumes.
//!
//! Where kubectl is missing, the same checks run on the base's files as written,
//! and each overlay is checked to build on the base and set its account.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

/// The example organisations: each overlay directory is named after its account.
const OVERLAYS: [&str; 3] = ["acme", "globex", "initech"];
const IMAGE: &str = "ghcr.io/regsweep/regsweep:v0-nonroot";

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Every YAML document of `text`, as JSON values.
fn documents(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn kubectl() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `kubectl kustomize DIR`, offline.
fn render(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    documents(&String::from_utf8(out.stdout).unwrap())
}

/// The base's resources as written (no kustomize), and its generated ConfigMaps
/// built the way kustomize builds them (without the hash suffix).
fn base_as_written() -> Vec<Value> {
    let base = deploy().join("base");
    let k: Value =
        serde_norway::from_str(&std::fs::read_to_string(base.join("kustomization.yaml")).unwrap())
            .unwrap();
    let mut objects = Vec::new();
    for r in k["resources"].as_array().unwrap() {
        let text = std::fs::read_to_string(base.join(r.as_str().unwrap())).unwrap();
        objects.extend(documents(&text));
    }
    for g in k["configMapGenerator"].as_array().unwrap() {
        let mut data = serde_json::Map::new();
        for l in g["literals"].as_array().into_iter().flatten() {
            let (k, v) = l.as_str().unwrap().split_once('=').unwrap();
            data.insert(k.into(), v.into());
        }
        for f in g["files"].as_array().into_iter().flatten() {
            let f = f.as_str().unwrap();
            data.insert(
                f.into(),
                std::fs::read_to_string(base.join(f)).unwrap().into(),
            );
        }
        objects.push(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": g["name"]}, "data": data,
        }));
    }
    objects
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    of_kind(objects, kind)
        .into_iter()
        .find(|o| o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} named {name} among the rendered objects"))
}

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [Value], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("the CronJob passes no {flag}: {args:?}"));
    args[i + 1].as_str().unwrap()
}

/// The volume mounted at the directory holding `path`, and its definition.
fn volume_for<'a>(pod: &'a Value, container: &Value, path: &str) -> &'a Value {
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| path.starts_with(m["mountPath"].as_str().unwrap()))
        .max_by_key(|m| m["mountPath"].as_str().unwrap().len())
        .unwrap_or_else(|| panic!("nothing is mounted where {path} lives"));
    pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap_or_else(|| panic!("the volume {} is not defined", mount["name"]))
}

/// Checks one account's rendered objects; returns the account and its policy text.
fn check(objects: &[Value]) -> (String, String) {
    let cronjobs = of_kind(objects, "CronJob");
    assert_eq!(cronjobs.len(), 1, "one CronJob per account");
    let cj = cronjobs[0];
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Forbid");
    assert!(cj["spec"]["schedule"].is_string());
    let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert!(pod["securityContext"]["runAsUser"].as_u64().unwrap() > 0);
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["image"], IMAGE);
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    for r in ["cpu", "memory"] {
        assert!(
            c["resources"]["requests"][r].is_string(),
            "no {r} request: {}",
            c["resources"]
        );
    }
    let args = c["args"].as_array().unwrap();
    assert_eq!(args[0], "apply");

    // The token comes from a Secret, and is in none of the rendered objects.
    let env = c["env"].as_array().unwrap();
    let var = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in the environment"))
    };
    let token = &var("REGSWEEP_TOKEN")["valueFrom"]["secretKeyRef"];
    assert!(
        token["name"].is_string() && token["key"].is_string(),
        "{token}"
    );
    assert!(
        of_kind(objects, "Secret").is_empty(),
        "no token in the files"
    );
    let account_ref = &var("REGSWEEP_ACCOUNT")["valueFrom"]["configMapKeyRef"];
    let config = named(objects, "ConfigMap", account_ref["name"].as_str().unwrap());
    let account = config["data"][account_ref["key"].as_str().unwrap()]
        .as_str()
        .unwrap()
        .to_string();

    // The policy file is a ConfigMap's key, mounted read-only.
    let policy_path = flag(args, "--policy");
    let policy_volume = volume_for(pod, c, policy_path);
    let policy_map = named(
        objects,
        "ConfigMap",
        policy_volume["configMap"]["name"].as_str().unwrap(),
    );
    let key = Path::new(policy_path)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let policy = policy_map["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("the policy ConfigMap has no key {key}"))
        .to_string();

    // The cache and the journal live on claimed volumes that outlive the run.
    for f in ["--cache-dir", "--journal"] {
        let v = volume_for(pod, c, flag(args, f));
        let claim = v["persistentVolumeClaim"]["claimName"]
            .as_str()
            .unwrap_or_else(|| panic!("{f} is not on a persistent volume: {v}"));
        named(objects, "PersistentVolumeClaim", claim);
    }
    // Anything else the process might write goes to a scratch volume, never the image.
    assert!(volume_for(pod, c, "/tmp/x")["emptyDir"].is_object());
    (account, policy)
}

/// The policy passes `regsweep policy check` (no network).
fn policy_is_valid(policy: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, policy).unwrap();
    let out = common::command(&["policy", "check", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{policy}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_overlay_renders_one_safe_cronjob_per_account() {
    if !kubectl() {
        eprintln!("kubectl is not installed: checking the files as written");
        let (account, policy) = check(&base_as_written());
        assert_eq!(account, "CHANGE-ME");
        policy_is_valid(&policy);
        for account in OVERLAYS {
            let k: Value = serde_norway::from_str(
                &std::fs::read_to_string(
                    deploy()
                        .join("overlays")
                        .join(account)
                        .join("kustomization.yaml"),
                )
                .unwrap(),
            )
            .unwrap();
            assert!(k["resources"]
                .as_array()
                .unwrap()
                .contains(&"../../base".into()));
            assert_eq!(k["namespace"], format!("regsweep-{account}"));
            assert!(k["configMapGenerator"][0]["literals"]
                .as_array()
                .unwrap()
                .contains(&format!("account={account}").into()));
        }
        return;
    }
    let mut namespaces = Vec::new();
    for expected in OVERLAYS {
        let objects = render(&deploy().join("overlays").join(expected));
        let (account, policy) = check(&objects);
        assert_eq!(account, expected);
        policy_is_valid(&policy);
        // Each account has its own namespace: its Secret, volumes and journal.
        let ns = &named(&objects, "Namespace", &format!("regsweep-{expected}"))["metadata"]["name"];
        for o in objects.iter().filter(|o| o["kind"] != "Namespace") {
            assert_eq!(&o["metadata"]["namespace"], ns, "{o}");
        }
        namespaces.push(ns.clone());
    }
    namespaces.dedup();
    assert_eq!(namespaces.len(), OVERLAYS.len());
}

#[test]
fn the_base_as_written_passes_the_same_checks() {
    // What CI without kubectl checks is also checked where kubectl exists.
    let (_, policy) = check(&base_as_written());
    policy_is_valid(&policy);
}
