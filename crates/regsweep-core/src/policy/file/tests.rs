//! Unit tests of the policy file: every key, defaults, and a table of errors with
//! their line, column and help.

use super::*;

fn err(text: &str) -> PolicyFileError {
    match parse(text) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(e) => e,
    }
}

fn at(e: &PolicyFileError) -> (usize, usize) {
    let l = e.location.expect("a location");
    (l.line, l.column)
}

const HEAD: &str = "version: 1\nrules:\n";

#[test]
fn errors_point_at_line_and_column_with_help() {
    // (rule body after `  - `, expected line:column, text in message, text in help)
    let cases: &[(&str, (usize, usize), &str, &str)] = &[
            ("action: delete\n    tagz: [a]\n", (4, 5), "unknown field `tagz`", "did you mean `tags`?"),
            ("action: delete\n    tags: [a, \"re:(\"]\n", (4, 15), "rule 1, tags[1]: `re:(`", "re:"),
            ("action: delete\n    tags: \"semver:>>1\"\n", (4, 11), "semver range", "semver:"),
            ("action: delete\n    tags: ['!']\n", (4, 12), "empty after `!`", "!latest"),
            ("action: delete\n    older_than: 30\n", (4, 17), "`30` is not a duration", "unit"),
            ("action: delete\n    older_than: 30d\n    newer_than: 1d\n", (3, 5), "can select nothing", "smaller"),
            ("action: delete\n    keep_newest: 0\n", (4, 18), "count of 0", "at least 1"),
            ("action: delete\n    keep_newest: -2\n", (4, 18), "negative", "at least 1"),
            ("action: delete\n    keep_newest: {count: 2, per: \"re:pr-.*\"}\n", (4, 34), "no capture group", "parentheses"),
            ("action: delete\n    keep_newest: {count: 2, per: branch}\n", (4, 34), "not a way to group", "label:KEY"),
            ("action: delete\n    state: untagged\n    tags: [v*]\n", (3, 5), "untagged", "labels"),
            ("action: delete\n    state: untagged\n    semver_lines: {count: 2}\n", (3, 5), "`semver_lines`", "state"),
            ("action: delete\n    state: untaged\n", (4, 12), "not a tag state", "untagged"),
            ("action: delete\n    broken: some\n", (4, 13), "not a kind of broken image", "broken: ghost"),
            ("action: remove\n", (3, 13), "`remove` is not an action", "action: delete"),
            ("tags: [a]\n", (3, 5), "missing field `action`", "action: keep"),
            ("action: delete\n    digests: [\"sha256:abc\"]\n", (4, 15), "not a digest", "64 hex"),
            ("action: delete\n    timestamp: modified\n", (4, 16), "not a timestamp", "created_at"),
            ("action: delete\n    labels: {\"\": x}\n", (4, 13), "label key is empty", "org.opencontainers"),
            ("action: delete\n    pull_request: {repository: acme, state: closed}\n", (4, 32), "not a repository", "owner/name"),
            ("action: delete\n    pull_request: {repository: a/b, state: closed, number_from: \"re:pr-\\\\d+\"}\n", (4, 65), "`number_from`", "parentheses"),
            ("action: delete\n    pull_request: {repository: a/b, state: closed, number_from: \"pr-(\\\\d+)\"}\n", (4, 65), "not a regular expression", "re:"),
            ("action: delete\n    pull_request: {repository: a/b, state: open, closed_for: 1d}\n", (4, 19), "open pull requests", "state: closed"),
            ("action: delete\n    pull_request: {repository: a/b, state: gone}\n", (4, 44), "pull-request state", "merged"),
            ("action: delete\n    semver_lines: {count: 2, level: patch}\n", (4, 37), "semver level", "minor"),
            ("action: delete\n    tags: [!pr-*]\n", (4, 17), "scanning a tag", "'!pr-*'"),
            ("action: delete\n    tags: *\n", (4, 12), "scanning an alias", "quote"),
            ("action: delete\n    name: ''\n", (3, 5), "empty name", "name"),
        ];
    for (body, pos, msg, help) in cases {
        let text = format!("{HEAD}  - {body}");
        let e = err(&text);
        let shown = e.to_string();
        assert_eq!(at(&e), *pos, "{text}\n{shown}");
        assert!(e.message.contains(msg), "{text}\n{shown}");
        assert!(
            e.help.as_deref().unwrap_or_default().contains(help),
            "{text}\n{shown}"
        );
        assert!(
            shown.starts_with(&format!("policy.yaml:{}:{}: ", pos.0, pos.1)),
            "{shown}"
        );
    }
}

#[test]
fn policy_level_errors() {
    let e = err("version: 1\nrules: []\n");
    assert_eq!(at(&e), (2, 8));
    assert!(e.message.contains("no rules"), "{e}");
    let e = err("version: 2\nrules:\n  - action: keep\n");
    assert_eq!(at(&e), (1, 10));
    let e = err("version: 1\nrule:\n  - action: keep\n");
    assert!(e.help.unwrap().contains("did you mean `rules`?"));
    let e = err("version: 1\nrules:\n  - action: delete\n  - {name: rule 1, action: keep}\n");
    assert_eq!(at(&e), (4, 5));
    assert!(e.message.contains("already named `rule 1`"), "{e}");
    let e = err("  \n# only a comment\n");
    assert_eq!(at(&e), (1, 1));
    assert!(e.message.contains("empty"));
    let e = parse_named("ci/policy.yml", "rules: 3\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("ci/policy.yml:1:8: rules: invalid type"),
        "{e}"
    );
}

#[test]
fn every_key_parses() {
    let text = r#"
version: 1
rules:
  - name: everything
    action: delete
    packages: "app, team/*, !team/old"
    tags: [latest, "re:^v\\d+", "semver:>=1.2, <2", "!pr-*"]
    state: tagged
    digests: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    labels:
      org.opencontainers.image.version: "re:^pr-\\d+$"
      org.opencontainers.image.revision: null
      org.opencontainers.image.title: [app, worker]
    orphans: true
    older_than: 2w
    newer_than: 2months
    timestamp: created_at
    keep_newest: {count: 3, per: "re:pr-(\\d+)-.*"}
    semver_lines: {count: 2, level: major}
    pull_request: {repository: acme/app, number_from: "re:pr-(\\d+)", state: merged, closed_for: 1d}
  - action: keep
    keep_newest_is_not_here: 1
"#;
    // The second rule has an unknown key; drop it and check the first.
    let e = err(text);
    assert!(e.message.contains("keep_newest_is_not_here"));
    let text = text.replace("    keep_newest_is_not_here: 1\n", "");
    let p = parse(&text).unwrap();
    let r = &p.rules[0];
    assert_eq!(r.name, "everything");
    assert_eq!(p.rules[1].name, "rule 2");
    assert!(r.packages.matches("team/x") && !r.packages.matches("team/old"));
    assert_eq!(r.tags.include.len(), 3);
    assert_eq!(r.tags.exclude.len(), 1);
    assert_eq!(r.tag_state, TagState::Tagged);
    assert_eq!(r.digests.len(), 1);
    assert_eq!(r.labels.len(), 3);
    assert_eq!(r.labels[0].key, "org.opencontainers.image.version");
    assert_eq!(r.labels[1].value, None);
    assert!(r.labels[2].value.as_ref().unwrap().matches("worker"));
    assert!(r.orphans_only);
    assert_eq!(r.older_than, Some(Duration::from_secs(14 * 86400)));
    assert!(r.newer_than.unwrap() > Duration::from_secs(60 * 86400));
    assert_eq!(r.timestamp, TimestampField::CreatedAt);
    let k = r.keep_newest.as_ref().unwrap();
    assert_eq!(k.count, 3);
    assert!(
        matches!(&k.group_by, GroupBy::TagCapture(m) if m.captures("pr-7-abc").as_deref() == Some("7"))
    );
    assert_eq!(r.semver_lines.unwrap().level, SemverLevel::Major);
    let pr = r.pull_request.as_ref().unwrap();
    assert_eq!(pr.state, PullRequestState::Merged);
    assert_eq!(pr.closed_for, Some(Duration::from_secs(86400)));
    assert_eq!(parse(&render(&p)).unwrap(), p, "{}", render(&p));
}

#[test]
fn defaults_and_short_forms() {
    let p = parse("rules:\n  - action: delete\n    keep_newest: 5\n    pull_request: {repository: a/b, state: closed}\n    semver_lines: {count: 1}\n").unwrap();
    let r = &p.rules[0];
    assert_eq!(r.name, "rule 1");
    assert_eq!(r.tag_state, TagState::Any);
    assert_eq!(r.timestamp, TimestampField::UpdatedAt);
    assert_eq!(r.keep_newest.as_ref().unwrap().group_by, GroupBy::Package);
    assert_eq!(r.semver_lines.unwrap().level, SemverLevel::Minor);
    let pr = r.pull_request.as_ref().unwrap();
    assert_eq!(pr.number_from.captures("pr-12").as_deref(), Some("12"));
    assert_eq!(
        pr.number_from.captures("pr-12-abcdef").as_deref(),
        Some("12")
    );
    assert_eq!(pr.number_from.captures("main"), None);
    // A rule about tags is about tagged versions unless it says otherwise.
    let p = parse("rules:\n  - {action: keep, tags: [latest]}\n  - {action: keep, tags: [v*], state: any}\n  - {action: keep, state: tagged}\n").unwrap();
    assert_eq!(p.rules[0].tag_state, TagState::Tagged);
    assert_eq!(p.rules[1].tag_state, TagState::Any);
    assert_eq!(p.rules[2].tag_state, TagState::Tagged);
    assert_eq!(parse(&render(&p)).unwrap(), p, "{}", render(&p));
    assert!(!render(&p).contains("state: tagged\n  - name: rule 2"));
    for per in ["package", "semver-major", "semver-minor", "label:org.x"] {
        let t =
            format!("rules:\n  - action: delete\n    keep_newest: {{count: 1, per: \"{per}\"}}\n");
        let p = parse(&t).unwrap();
        assert_eq!(parse(&render(&p)).unwrap(), p);
    }
}

#[test]
fn durations_render_compactly_and_exactly() {
    for (text, shown) in [
        ("30d", "30d"),
        ("2w", "14d"),
        ("36h", "36h"),
        ("90m", "90m"),
        ("45s", "45s"),
        ("0s", "0s"),
        ("1month", "1month"),
    ] {
        let d = parse_duration(text).unwrap();
        assert_eq!(format_duration(d), shown);
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }
}

#[test]
fn snok_translation_round_trips() {
    use crate::policy::snok::{parse_list, parse_skip_shas, SnokInputs, TagSelection};
    let sha = format!("sha256:{}", "c".repeat(64));
    for sel in [
        TagSelection::Both,
        TagSelection::Tagged,
        TagSelection::Untagged,
    ] {
        for keep in [0, 3] {
            let inputs = SnokInputs {
                image_names: parse_list("app*, !app-legacy").unwrap(),
                image_tags: parse_list("!latest, v*").unwrap(),
                skip_shas: parse_skip_shas(&sha).unwrap(),
                tag_selection: sel,
                keep_n_most_recent: keep,
                timestamp: TimestampField::CreatedAt,
                cut_off: Duration::from_secs(7 * 86400 + 3600),
            };
            let p = inputs.to_policy();
            let text = render(&p);
            assert_eq!(parse(&text).unwrap(), p, "{text}");
        }
    }
}

#[test]
fn broken_reads_and_renders_back() {
    for kind in ["ghost", "partial", "any"] {
        let p = parse(&format!("{HEAD}  - action: delete\n    broken: {kind}\n")).unwrap();
        assert_eq!(
            p.rules[0].broken.map(|b| b.to_string()),
            Some(kind.to_string())
        );
        let text = render(&p);
        assert!(text.contains(&format!("broken: {kind}")), "{text}");
        assert_eq!(parse(&text).unwrap(), p);
    }
}

/// `--print-policy` of an untag rule (issue 11 item 2) prints `action: untag` and
/// reads back to the same policy (a missing match arm once made this fail to build).
#[test]
fn untag_rules_render_back() {
    let p = parse(&format!(
        "{HEAD}  - {{name: keep-v1, action: keep, tags: [v1]}}\n  - {{name: prs, action: untag, tags: [\"pr-*\"]}}\n"
    ))
    .unwrap();
    let text = render(&p);
    assert!(text.contains("action: untag"), "{text}");
    assert_eq!(parse(&text).unwrap(), p);
}
