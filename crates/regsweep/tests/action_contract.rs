//! The GitHub Action's contract, checked statically: `action.yml` accepts every snok
//! v3 input and passes each to an environment variable the binary reads; its
//! defaults never conflict; it runs the published image; the Dockerfile's `action`
//! target runs as root and its `kubernetes` target as non-root. Running the step as
//! the runner does is `action_runner.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

const SNOK_V3_INPUTS: [&str; 11] = [
    "account",
    "token",
    "image-names",
    "image-tags",
    "skip-shas",
    "tag-selection",
    "keep-n-most-recent",
    "timestamp-to-use",
    "cut-off",
    "dry-run",
    "rust-log",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn action() -> Value {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).expect("action.yml");
    serde_norway::from_str(&text).expect("action.yml is YAML")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_mapping()
        .expect("a mapping")
        .keys()
        .map(|k| k.as_str().expect("string keys").to_string())
        .collect()
}

#[test]
fn action_yml_accepts_every_snok_input_and_the_binary_reads_every_variable() {
    let a = action();
    let inputs = keys(&a["inputs"]);
    for name in SNOK_V3_INPUTS {
        assert!(
            inputs.contains(name),
            "action.yml lacks snok's input `{name}`"
        );
    }
    // Every input reaches the binary, through exactly one variable.
    let mut referenced = BTreeSet::new();
    for v in a["runs"]["env"].as_mapping().unwrap().values() {
        let t = v.as_str().unwrap();
        let input = t
            .trim()
            .trim_start_matches("${{ inputs.")
            .trim_end_matches(" }}");
        assert!(
            inputs.contains(input),
            "runs.env references unknown input `{input}`"
        );
        assert!(
            referenced.insert(input.to_string()),
            "`{input}` passed twice"
        );
    }
    assert_eq!(referenced, inputs, "inputs never passed to the binary");
    // The binary documents each variable (clap's `[env: NAME=]` in --help).
    let help = Command::new(env!("CARGO_BIN_EXE_regsweep"))
        .args(["apply", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for name in keys(&a["runs"]["env"]) {
        // `[env: NAME=…]`, or `[env: NAME]` where the value is hidden (the token).
        let shown =
            help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]"));
        assert!(shown, "`regsweep apply` does not read {name}");
    }
    assert_eq!(a["runs"]["using"], "docker");
    assert_eq!(a["runs"]["args"][0], "apply");
}

/// The stages of the Dockerfile: name (`FROM … AS name`) → its instructions.
fn dockerfile_stages(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut stages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(from) = line.strip_prefix("FROM ") {
            let name = from
                .split_once(" AS ")
                .map(|(_, n)| n.trim().to_string())
                .expect("every stage is named");
            stages.insert(name.clone(), Vec::new());
            current = Some(name);
            continue;
        }
        let stage = current.as_ref().expect("instruction before FROM");
        stages.get_mut(stage).unwrap().push(line.to_string());
    }
    stages
}

/// The user a stage runs as (`USER` value, root when none).
fn stage_user(stage: &[String]) -> String {
    stage
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .map_or_else(|| "root".to_string(), |u| u.trim().to_string())
}

#[test]
fn dockerfile_copies_only_what_exists() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("COPY ") {
            if rest.starts_with("--from=") {
                continue;
            }
            let parts: Vec<&str> = rest.split_whitespace().collect();
            for src in &parts[..parts.len() - 1] {
                assert!(root.join(src).exists(), "Dockerfile copies missing `{src}`");
            }
        }
    }
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        "build context excludes target/"
    );
}

/// Issue 10: GitHub runs a Docker action as the image's user with no `--user`, and
/// the runner's files belong to uid 1001 with mode 0644, so the Action's image must
/// run as root; the Kubernetes image runs as a numeric non-root user (so
/// `runAsNonRoot` can verify it) and the same binary.
#[test]
fn action_image_runs_as_root_and_kubernetes_image_as_non_root() {
    let text = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    let stages = dockerfile_stages(&text);
    let action = &stages["action"];
    let kubernetes = &stages["kubernetes"];
    let user = stage_user(action);
    assert!(
        user == "root" || user.starts_with("0"),
        "the action stage runs as `{user}`: it cannot append to $GITHUB_OUTPUT"
    );
    let k8s_user = stage_user(kubernetes);
    let uid: u32 = k8s_user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("kubernetes USER `{k8s_user}` is not numeric"));
    assert_ne!(uid, 0, "the kubernetes image runs non-root");
    for stage in [action, kubernetes] {
        assert!(
            stage.contains(&r#"ENTRYPOINT ["/usr/local/bin/regsweep"]"#.to_string()),
            "{stage:?}"
        );
        assert!(stage
            .iter()
            .any(|l| l.starts_with("COPY --from=build /src/target/release/regsweep ")));
    }
    // A plain `docker build .` gives the Action's image.
    let last = text
        .lines()
        .rfind(|l| l.starts_with("FROM "))
        .expect("a stage");
    assert!(last.ends_with(" AS action"), "{last}");
}

/// Issue 10: the Action pulls a published, versioned image (never a build on the
/// runner), of the version in Cargo.toml, which the release workflow builds from the
/// `action` target.
#[test]
fn action_runs_the_published_image_of_this_version() {
    let a = action();
    let image = a["runs"]["image"].as_str().unwrap();
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("workspace version");
    assert_eq!(
        image,
        format!("docker://ghcr.io/regsweep/regsweep:v{version}")
    );
    let release =
        std::fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    assert!(
        release.contains("target: action"),
        "release builds the action target"
    );
    assert!(release.contains("target: kubernetes"));
}

/// Issue 10: an optional input left at its default means "not given", so no default
/// can conflict with another input; only `api-url` has one (the workflow's own API).
#[test]
fn optional_inputs_default_to_not_given() {
    let a = action();
    for (name, input) in a["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        if input["required"].as_bool() == Some(true) {
            continue;
        }
        let default = input["default"].as_str().unwrap_or("");
        match name {
            "api-url" => assert_eq!(default, "${{ github.api_url }}"),
            _ => assert_eq!(default, "", "input `{name}` has default `{default}`"),
        }
    }
}
