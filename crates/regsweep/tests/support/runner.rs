//! A Docker action's step run the way the GitHub Actions runner runs it (see
//! /work/shared/reference/actions-runner.md): from `action.yml` and a step's `with:`,
//! every `INPUT_<NAME>` (the input's name upper-cased, spaces to `_`, hyphens kept)
//! from `with:` or the input's default, `${{ … }}` expressions evaluated against a
//! small context (github, secrets, steps, inputs), `runs.env` and `runs.args`
//! evaluated, the runner's own variables (`GITHUB_ACTIONS`, `GITHUB_WORKSPACE`,
//! `RUNNER_TEMP`, `HOME`, the file commands), the working directory the workspace,
//! `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY` created by the runner's user (uid 1001,
//! mode 0644), and the image's ENTRYPOINT (the Dockerfile's `action` target) run as
//! the image's USER with `runs.args`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

/// The runner's user on GitHub-hosted runners: it owns every mounted file.
pub const RUNNER_UID: u32 = 1001;

/// Where the binary lives in the image; the test runs the built binary instead.
const IMAGE_BINARY: &str = "/usr/local/bin/regsweep";

/// The expression contexts a step sees.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `github.*` (api_url, repository_owner, token, …).
    pub github: BTreeMap<String, String>,
    /// `secrets.*`.
    pub secrets: BTreeMap<String, String>,
    /// `steps.<id>.outputs.<name>`.
    pub steps: BTreeMap<String, BTreeMap<String, String>>,
    /// `runner.*`.
    pub runner: BTreeMap<String, String>,
}

/// Evaluates every `${{ expr }}` in `template`; `expr` must be a context path
/// (`inputs.x`, `github.api_url`, `secrets.X`, `steps.id.outputs.x`). Anything else
/// panics, so a snippet the harness cannot evaluate is noticed, not guessed.
pub fn eval(template: &str, ctx: &Context, inputs: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed expression in `{template}`"))
            + start;
        let expr = rest[start + 3..end].trim();
        out.push_str(&lookup(expr, ctx, inputs));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn lookup(expr: &str, ctx: &Context, inputs: &BTreeMap<String, String>) -> String {
    let parts: Vec<&str> = expr.split('.').collect();
    let found = match parts.as_slice() {
        ["inputs", name] => inputs.get(*name).cloned(),
        ["github", name] => ctx.github.get(*name).cloned(),
        ["secrets", name] => ctx.secrets.get(*name).cloned(),
        ["runner", name] => ctx.runner.get(*name).cloned(),
        ["steps", id, "outputs", name] => ctx.steps.get(*id).and_then(|o| o.get(*name)).cloned(),
        _ => panic!("the harness cannot evaluate `${{{{ {expr} }}}}`"),
    };
    // The runner evaluates an unknown property to the empty string; for secrets and
    // step outputs that would hide a test mistake.
    match (found, parts[0]) {
        (Some(v), _) => v,
        (None, "inputs" | "github" | "runner") => String::new(),
        (None, _) => panic!("`{expr}` has no value in the test context"),
    }
}

/// The Dockerfile stage the Action's image is built from: its ENTRYPOINT and USER.
pub struct Image {
    pub entrypoint: Vec<String>,
    /// uid and gid the container runs as.
    pub user: (u32, u32),
}

/// Reads the `action` stage of the Dockerfile.
pub fn action_image(dockerfile: &Path) -> Image {
    let text = std::fs::read_to_string(dockerfile).expect("Dockerfile");
    let mut in_action = false;
    let mut entrypoint = None;
    let mut user = None;
    for line in text.lines().map(str::trim) {
        if let Some(from) = line.strip_prefix("FROM ") {
            in_action = from.ends_with(" AS action");
            continue;
        }
        if !in_action {
            continue;
        }
        if let Some(e) = line.strip_prefix("ENTRYPOINT ") {
            entrypoint =
                Some(serde_json::from_str::<Vec<String>>(e).expect("exec-form ENTRYPOINT"));
        }
        if let Some(u) = line.strip_prefix("USER ") {
            user = Some(u.trim().to_string());
        }
    }
    let id = |s: &str| match s {
        "root" => 0,
        "nonroot" => 65532,
        n => n.parse().unwrap_or_else(|_| panic!("USER `{n}`")),
    };
    let user = user.map_or((0, 0), |u| match u.split_once(':') {
        Some((a, b)) => (id(a), id(b)),
        None => (id(&u), id(&u)),
    });
    Image {
        entrypoint: entrypoint.expect("the action stage has an ENTRYPOINT"),
        user,
    }
}

/// The runner's directories for one job: what it mounts into the container.
pub struct Job {
    pub root: tempfile::TempDir,
}

impl Job {
    /// Creates the workspace, home, temp and file-command directories, owned by
    /// the runner's user as on a hosted runner.
    pub fn new() -> Job {
        let root = tempfile::tempdir().unwrap();
        let job = Job { root };
        for d in ["workspace", "home", "temp", "file_commands"] {
            let p = job.root.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            own(&p, 0o755);
        }
        job
    }

    pub fn workspace(&self) -> PathBuf {
        self.root.path().join("workspace")
    }

    fn file_command(&self, name: &str) -> PathBuf {
        let p = self.root.path().join("file_commands").join(name);
        std::fs::write(&p, "").unwrap();
        own(&p, 0o644);
        p
    }
}

/// Whether the tests run as root (they do in CI): only root can give files to uid
/// 1001 and start the binary as the image's user.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn own(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(p, Some(RUNNER_UID), Some(RUNNER_UID)).unwrap();
    }
}

/// What one step wrote and returned.
pub struct StepResult {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// `$GITHUB_OUTPUT` as written.
    pub output_file: String,
    pub summary: String,
    /// The environment the binary was given.
    pub env: BTreeMap<String, String>,
}

/// Runs the Docker action described by `action` (action.yml) for a step's `with:`
/// and `env:`, in `job`, with the image `image`, as the runner does.
pub fn run_docker_step(
    action: &Value,
    image: &Image,
    with: &BTreeMap<String, String>,
    step_env: &BTreeMap<String, String>,
    ctx: &Context,
    job: &Job,
) -> StepResult {
    assert_eq!(action["runs"]["using"], "docker");
    let declared = action["inputs"].as_mapping().expect("inputs");
    for given in with.keys() {
        assert!(
            declared.contains_key(given.as_str()),
            "`with: {given}` is not an input of action.yml (the runner warns \"Unexpected input\")"
        );
    }
    // The inputs context and INPUT_* variables: given, else the default, else empty.
    let empty = BTreeMap::new();
    let mut inputs = BTreeMap::new();
    for (name, spec) in declared {
        let name = name.as_str().unwrap().to_string();
        let value = match with.get(&name) {
            Some(v) => eval(v, ctx, &empty),
            None => eval(spec["default"].as_str().unwrap_or(""), ctx, &empty),
        };
        inputs.insert(name, value);
    }
    let mut env = BTreeMap::new();
    for (k, v) in &inputs {
        env.insert(
            format!("INPUT_{}", k.replace(' ', "_").to_uppercase()),
            v.clone(),
        );
    }
    let github = |k: &str| ctx.github.get(k).cloned().unwrap_or_default();
    let output = job.file_command("set_output_test");
    let summary = job.file_command("step_summary_test");
    let fixed = [
        ("CI", "true".to_string()),
        ("GITHUB_ACTIONS", "true".to_string()),
        ("HOME", job.root.path().join("home").display().to_string()),
        ("GITHUB_WORKSPACE", job.workspace().display().to_string()),
        (
            "RUNNER_TEMP",
            job.root.path().join("temp").display().to_string(),
        ),
        ("RUNNER_OS", "Linux".to_string()),
        ("RUNNER_ARCH", "X64".to_string()),
        ("GITHUB_API_URL", github("api_url")),
        ("GITHUB_SERVER_URL", github("server_url")),
        ("GITHUB_REPOSITORY", github("repository")),
        ("GITHUB_REPOSITORY_OWNER", github("repository_owner")),
        ("GITHUB_RUN_ID", github("run_id")),
        ("GITHUB_OUTPUT", output.display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        (
            "GITHUB_ENV",
            job.file_command("set_env_test").display().to_string(),
        ),
        (
            "GITHUB_PATH",
            job.file_command("add_path_test").display().to_string(),
        ),
        (
            "GITHUB_STATE",
            job.file_command("save_state_test").display().to_string(),
        ),
    ];
    for (k, v) in fixed {
        env.insert(k.to_string(), v);
    }
    for (k, v) in step_env {
        env.insert(k.clone(), eval(v, ctx, &empty));
    }
    if let Some(m) = action["runs"]["env"].as_mapping() {
        for (k, v) in m {
            env.insert(
                k.as_str().unwrap().to_string(),
                eval(v.as_str().expect("string env values"), ctx, &inputs),
            );
        }
    }
    let args: Vec<String> = action["runs"]["args"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .map(|a| eval(a.as_str().unwrap(), ctx, &inputs))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        action["runs"].get("entrypoint").is_none(),
        "runs.entrypoint overrides the image's: the harness runs the image's"
    );
    assert_eq!(image.entrypoint[0], IMAGE_BINARY, "the image's ENTRYPOINT");

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regsweep"));
    cmd.args(&image.entrypoint[1..])
        .args(&args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .envs(&env)
        .current_dir(job.workspace());
    if is_root() {
        cmd.uid(image.user.0).gid(image.user.1);
    } else {
        eprintln!("warning: not root: the step runs as the current user, files are not given to uid {RUNNER_UID}");
    }
    let out = cmd.output().expect("the binary runs");
    StepResult {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        output_file: std::fs::read_to_string(&output).unwrap(),
        summary: std::fs::read_to_string(&summary).unwrap(),
        env,
    }
}
