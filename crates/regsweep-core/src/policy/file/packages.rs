//! Package rules in the policy file (`action: delete_package`): which keys they take,
//! and the errors for keys that only version rules understand.
//!
//! A package rule names its packages explicitly and gives at least one condition
//! (`every_version_deleted: true`, `older_than`); anything about tags, digests or
//! labels belongs to version rules and is refused with a hint, never ignored.

use super::{format_duration, with_help, RawRule};
use crate::policy::PackageRule;

/// Builds a package rule from the keys of one rule mapping.
pub(super) fn build(raw: RawRule, name: String) -> Result<PackageRule, String> {
    let version_only = [
        ("tags", !raw.tags.is_empty()),
        ("state", raw.state.is_some()),
        ("digests", !raw.digests.is_empty()),
        ("labels", !raw.labels.is_empty()),
        ("orphans", raw.orphans),
        ("broken", raw.broken.is_some()),
        ("newer_than", raw.newer_than.is_some()),
        ("keep_newest", raw.keep_newest.is_some()),
        ("semver_lines", raw.semver_lines.is_some()),
        ("pull_request", raw.pull_request.is_some()),
    ];
    if let Some((key, _)) = version_only.iter().find(|(_, given)| *given) {
        return Err(with_help(
            format!("`{key}` selects versions, but `action: delete_package` deletes whole packages"),
            "a package rule takes `packages`, `every_version_deleted`, `older_than` and `timestamp`; select versions with a rule of its own (`action: delete`), and use `every_version_deleted: true` to delete a package once those rules delete all of it",
        ));
    }
    if raw.packages.is_empty() {
        return Err(with_help(
            "a package rule must name the packages it may delete",
            "add `packages:` with names or patterns, e.g. `packages: [\"test-*\"]` (write `\"*\"` to mean every package, deliberately)",
        ));
    }
    let every_version_deleted = raw.every_version_deleted.unwrap_or(false);
    if !every_version_deleted && raw.older_than.is_none() {
        return Err(with_help(
            "the package rule has no condition, so it would delete every package it names",
            "add `every_version_deleted: true` (delete a package when the version rules delete all of its versions) or `older_than: 90d` (when its newest version is at least that old), or both",
        ));
    }
    if raw.older_than.is_some_and(|d| d.is_zero()) {
        return Err(with_help(
            format!(
                "`older_than: {}` holds for every package",
                format_duration(std::time::Duration::ZERO)
            ),
            "give a duration such as `older_than: 90d`",
        ));
    }
    Ok(PackageRule {
        name,
        packages: raw.packages,
        every_version_deleted,
        older_than: raw.older_than,
        timestamp: raw.timestamp,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::policy::file::{parse, render};
    use crate::TimestampField;

    const HEAD: &str = "version: 1\nrules:\n";

    #[test]
    fn package_rule_parses_next_to_version_rules_and_renders_back() {
        let text = format!(
            "{HEAD}  - name: old-prs\n    action: delete\n    tags: [\"pr-*\"]\n  - name: ci-test-packages\n    action: delete_package\n    packages: [\"test*\"]\n    older_than: 30d\n    timestamp: created_at\n  - name: emptied\n    action: delete-package\n    packages: \"*\"\n    every_version_deleted: true\n"
        );
        let p = parse(&text).unwrap();
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.package_rules.len(), 2);
        let ci = &p.package_rules[0];
        assert_eq!(ci.name, "ci-test-packages");
        assert_eq!(ci.older_than, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(ci.timestamp, TimestampField::CreatedAt);
        assert!(!ci.every_version_deleted);
        assert!(p.package_rules[1].every_version_deleted);
        let shown = render(&p);
        assert!(shown.contains("action: delete_package"), "{shown}");
        assert!(shown.contains("every_version_deleted: true"), "{shown}");
        assert_eq!(parse(&shown).unwrap(), p, "{shown}");
        assert!(ci.summary().contains("older than 30d (by created_at)"));
    }

    #[test]
    fn package_rule_errors_say_what_and_how_to_fix() {
        // (rule body after `  - `, text in message, text in help, line:column)
        let cases: &[(&str, &str, &str, (usize, usize))] = &[
            ("action: delete_package\n    older_than: 30d\n", "must name the packages", "packages:", (3, 5)),
            ("action: delete_package\n    packages: [app]\n", "no condition", "every_version_deleted: true", (3, 5)),
            ("action: delete_package\n    packages: [app]\n    every_version_deleted: false\n", "no condition", "older_than: 90d", (3, 5)),
            ("action: delete_package\n    packages: [app]\n    older_than: 30d\n    tags: [v1]\n", "`tags` selects versions", "action: delete", (3, 5)),
            ("action: delete_package\n    packages: [app]\n    older_than: 30d\n    keep_newest: 2\n", "`keep_newest` selects versions", "every_version_deleted", (3, 5)),
            ("action: delete\n    every_version_deleted: true\n", "condition of package rules", "action: delete_package", (3, 5)),
            ("action: delete_packages\n", "`delete_packages` is not an action", "delete_package", (3, 13)),
            ("action: delete_package\n    packages: [app]\n    every_version_deleted: yes please\n", "invalid type", "docs/policy.md", (5, 28)),
        ];
        for (body, msg, help, pos) in cases {
            let text = format!("{HEAD}  - {body}");
            let e = parse(&text).expect_err(body);
            let shown = e.to_string();
            assert!(e.message.contains(msg), "{text}\n{shown}");
            assert!(
                e.help.as_deref().unwrap_or_default().contains(help),
                "{text}\n{shown}"
            );
            let l = e.location.expect("a location");
            assert_eq!((l.line, l.column), *pos, "{text}\n{shown}");
        }
    }

    #[test]
    fn package_rule_names_share_the_version_rules_namespace() {
        let text = format!(
            "{HEAD}  - name: a\n    action: delete\n  - name: a\n    action: delete_package\n    packages: [x]\n    older_than: 1d\n"
        );
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("already named `a`"), "{e}");
    }
}
