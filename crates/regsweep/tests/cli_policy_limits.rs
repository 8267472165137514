//! Hostile policy inputs through the binary: huge, endless or deeply nested policy
//! texts are refused at once with exit 2, before any request (issue 12).

mod common;

use common::regsweep_offline;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn nested_yaml_policy_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    // 200 KB of nested flow sequences took the YAML parser 36 s.
    let deep = write(
        &dir,
        "deep.yaml",
        &format!("rules: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    for args in [
        vec!["policy", "check", deep.as_str()],
        vec![
            "plan",
            "--account",
            "acme",
            "--token",
            "x",
            "--policy",
            &deep,
        ],
    ] {
        let run = regsweep_offline(&args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("nested more than 32 levels"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn dev_zero_as_policy_is_refused() {
    for args in [
        vec!["policy", "check", "/dev/zero"],
        vec![
            "plan",
            "--account",
            "acme",
            "--token",
            "x",
            "--policy",
            "/dev/zero",
        ],
    ] {
        let run = regsweep_offline(&args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("more than 1048576 bytes"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn nested_inline_policy_is_refused() {
    // The Action's `policy:` input arrives as REGSWEEP_POLICY.
    let text = format!("rules: {}1{}", "{a: ".repeat(10_000), "}".repeat(10_000));
    let mut cmd = common::command(&["plan", "--account", "acme", "--token", "x"]);
    cmd.env("REGSWEEP_POLICY", text);
    let run = common::Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("nested more than 32 levels"),
        "{}",
        run.stderr
    );
}
