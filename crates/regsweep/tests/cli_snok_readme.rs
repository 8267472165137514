//! End to end: the workflows snok/container-retention-policy's README (v3) shows, run
//! through the real binary against the emulator, with scenarios built so each promise
//! could fail. Every version's decision (action and reason kind) is checked, then the
//! plan is applied and the emulator's deleted set must equal the plan's delete set.
//! Each workflow also runs through the environment-variable form (README's table).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{acme_accounts, actions, decisions, regsweep, scenario, sim, validate, Run};
use regsweep_sim::{Sim, SimOptions};
use serde_json::Value;

/// The emulator over `accounts` (after the standard header and admin token).
async fn start(accounts: &str) -> Sim {
    sim(&scenario(accounts), SimOptions::default()).await
}

/// The snok inputs `account: acme`, `token: ghp_admin`, then `rest`.
fn acme_inputs<'a>(rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    [("account", "acme"), ("token", "ghp_admin")]
        .into_iter()
        .chain(rest.iter().copied())
        .collect()
}

/// (package, version id) → (action, reason kind).
type Verdicts = BTreeMap<(String, u64), (String, String)>;

/// The deciding reason of a decision as `kind:detail`: the rule and how it selected,
/// the kinds of the misses, the graph relation, or the refusal.
fn kind_of(reason: &Value) -> String {
    let kind = reason["kind"].as_str().unwrap_or("?");
    let detail = match kind {
        "kept_by_rule" | "deleted_by_rule" => format!(
            "{}/{}",
            reason["rule"].as_str().unwrap_or("?"),
            reason["how"]["kind"].as_str().unwrap_or("?")
        ),
        "not_selected" => reason["misses"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|x| x["kind"].as_str().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        "protected" | "deleted_with" => reason["relation"]["kind"].as_str().unwrap_or("?").into(),
        "refused" => reason["refusal"]["kind"].as_str().unwrap_or("?").into(),
        _ => return kind.to_string(),
    };
    format!("{kind}:{detail}")
}

/// Every version of a JSON plan with its action and deciding reason kind.
fn verdicts(doc: &Value) -> Verdicts {
    decisions(doc)
        .into_iter()
        .map(|(p, d)| {
            (
                (
                    p["name"].as_str().expect("name").to_string(),
                    d["id"].as_u64().expect("id"),
                ),
                (
                    d["action"].as_str().expect("action").to_string(),
                    kind_of(&d["reasons"][0]),
                ),
            )
        })
        .collect()
}

/// The expected verdicts: rows of (package, `handle` or `handle#role`, action, kind),
/// resolved to version ids through the emulator.
fn want(s: &Sim, account: &str, rows: &[(&str, &str, &str, &str)]) -> Verdicts {
    rows.iter()
        .map(|(pkg, what, action, kind)| {
            let (handle, role) = what.split_once('#').unwrap_or((what, ""));
            let image = s
                .image(account, pkg, handle)
                .unwrap_or_else(|| panic!("image {pkg}/{handle} pushed"));
            let id = if role.is_empty() {
                image.root.0 .0
            } else {
                image
                    .manifests
                    .iter()
                    .find(|m| m.role == role)
                    .unwrap_or_else(|| panic!("{pkg}/{handle} has a manifest `{role}`"))
                    .id
                    .0
            };
            (
                (pkg.to_string(), id),
                (action.to_string(), kind.to_string()),
            )
        })
        .collect()
}

/// The (package, id) pairs a plan deletes.
fn delete_set(doc: &Value) -> BTreeSet<(String, u64)> {
    verdicts(doc)
        .into_iter()
        .filter(|(_, (action, _))| action == "delete")
        .map(|(k, _)| k)
        .collect()
}

/// The (package, id) pairs the emulator holds as deleted.
fn sim_deleted(s: &Sim, account: &str, packages: &[&str]) -> BTreeSet<(String, u64)> {
    packages
        .iter()
        .flat_map(|p| {
            s.deleted(account, p)
                .into_iter()
                .map(move |v| (p.to_string(), v.id.0))
        })
        .collect()
}

/// The environment variable README's table gives for an option.
fn env_name(flag: &str) -> String {
    match flag {
        "token" => "GITHUB_TOKEN".to_string(),
        other => format!("REGSWEEP_{}", other.to_uppercase().replace('-', "_")),
    }
}

/// Runs `sub` with the inputs as flags (`--name value`) and JSON output.
async fn with_flags(s: &Sim, sub: &str, inputs: &[(&str, &str)], env: &[(&str, &str)]) -> Run {
    let flags: Vec<String> = inputs
        .iter()
        .flat_map(|(k, v)| [format!("--{k}"), v.to_string()])
        .collect();
    let mut argv: Vec<&str> = vec![sub, "--output", "json"];
    argv.extend(flags.iter().map(String::as_str));
    regsweep(s, &argv, env).await
}

/// Runs `sub` with the inputs (and JSON output) as environment variables only.
async fn with_env(s: &Sim, sub: &str, inputs: &[(&str, &str)], extra: &[(&str, &str)]) -> Run {
    let names: Vec<(String, String)> = inputs
        .iter()
        .map(|(k, v)| (env_name(k), v.to_string()))
        .chain([("REGSWEEP_OUTPUT".to_string(), "json".to_string())])
        .collect();
    let mut env: Vec<(&str, &str)> = names
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.extend_from_slice(extra);
    regsweep(s, &[sub], &env).await
}

/// Plans with flags and with environment variables; both must decide alike and
/// delete nothing. Returns the plan.
async fn plan_both_forms(s: &Sim, inputs: &[(&str, &str)]) -> Value {
    let flags = with_flags(s, "plan", inputs, &[]).await;
    assert_eq!(flags.code, 0, "plan with flags: {}", flags.stderr);
    let env = with_env(s, "plan", inputs, &[]).await;
    assert_eq!(env.code, 0, "plan with environment: {}", env.stderr);
    let (a, b) = (flags.json(), env.json());
    assert_eq!(
        verdicts(&a),
        verdicts(&b),
        "flags and environment variables decide alike"
    );
    assert_eq!(a["dry_run"], true);
    a
}

/// Applies with flags and checks: exit 0, same decisions as `planned`, every planned
/// deletion reported deleted, and the emulator's deleted set equal to the plan's.
async fn apply_and_check(
    s: &Sim,
    account: &str,
    packages: &[&str],
    inputs: &[(&str, &str)],
    planned: &Value,
    env: &[(&str, &str)],
) -> Value {
    assert!(
        sim_deleted(s, account, packages).is_empty(),
        "nothing deleted before apply"
    );
    let r = with_flags(s, "apply", inputs, env).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let applied = r.json();
    assert_eq!(actions(planned), actions(&applied), "plan and apply agree");
    let planned_deletes = delete_set(planned);
    assert_eq!(
        applied["totals"]["deleted"].as_u64(),
        Some(planned_deletes.len() as u64),
        "{}",
        applied["totals"]
    );
    assert_eq!(
        sim_deleted(s, account, packages),
        planned_deletes,
        "the emulator deleted exactly the plan's delete set"
    );
    applied
}

fn by_key(want: &Verdicts, got: &Verdicts) {
    for (k, w) in want {
        assert_eq!(got.get(k), Some(w), "version {k:?}");
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "every listed version is accounted for"
    );
}

// --- Usage ------------------------------------------------------------------------

const USAGE: &str = r#"      - name: container-retention-policy
        images:
          - {handle: test-old, tags: [test-1], age: 30d}
          - {handle: dev-old, tags: [dev-1], age: 18d}
          - {handle: dev-x, tags: [dev-x], age: 16d 23h}
          - {handle: mixed, tags: [test-2, stable], age: 20d}
          - {handle: prod, tags: [prod], age: 60d}
          - {handle: u-old, tags: [], age: 30d}
          - {handle: u-edge, tags: [], age: 17d 1h}
          - {handle: u-new, tags: [], age: 5d}
      - name: other
        images:
          - {handle: test-old, tags: [test-1], age: 60d}
          - {handle: u-old, tags: [], age: 60d}
"#;

/// snok README "Usage": `image-tags: test* dev*`, `cut-off: 2w 3d`, `dry-run: true`.
/// A dry run deletes nothing and lists what would go; `dev-x`, one hour younger than
/// the cut-off, is kept as too new; `prod` is kept, and so is `mixed`, tagged `test-2`
/// and `stable` (not every tag matches); untagged versions are not narrowed by
/// image-tags. Then the same inputs without dry-run delete exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_usage_dry_run_lists_test_and_dev_tags_past_the_cut_off() {
    let s = start(&acme_accounts(USAGE)).await;
    let crp = "container-retention-policy";
    let inputs = acme_inputs(&[
        ("image-names", crp),
        ("image-tags", "test* dev*"),
        ("cut-off", "2w 3d"),
    ]);
    let dry: Vec<(&str, &str)> = inputs
        .iter()
        .copied()
        .chain([("dry-run", "true")])
        .collect();
    let expected = want(
        &s,
        "acme",
        &[
            (crp, "test-old", "delete", "deleted_by_rule:tagged/matched"),
            (crp, "dev-old", "delete", "deleted_by_rule:tagged/matched"),
            (crp, "dev-x", "keep", "not_selected:too_new"),
            // `stable` matches neither pattern: deleting the version would remove it,
            // so it is kept, as snok keeps a partial match.
            (crp, "mixed", "keep", "partial_tag_match"),
            (crp, "prod", "keep", "not_selected:tags_not_matched"),
            (crp, "u-old", "delete", "deleted_by_rule:untagged/matched"),
            (crp, "u-edge", "delete", "deleted_by_rule:untagged/matched"),
            (crp, "u-new", "keep", "not_selected:too_new"),
        ],
    );

    // dry-run through apply, as flags and as environment variables.
    let flags = with_flags(&s, "apply", &dry, &[]).await;
    assert_eq!(flags.code, 0, "{}", flags.stderr);
    let env = with_env(&s, "apply", &dry, &[]).await;
    assert_eq!(env.code, 0, "{}", env.stderr);
    let planned = flags.json();
    assert_eq!(planned["dry_run"], true);
    by_key(&expected, &verdicts(&planned));
    assert_eq!(verdicts(&planned), verdicts(&env.json()));
    assert_eq!(planned["totals"]["delete"], 4);
    assert!(
        !s.stats().by_route.keys().any(|r| r.starts_with("DELETE")),
        "a dry run sends no DELETE: {:?}",
        s.stats().by_route
    );
    assert!(sim_deleted(&s, "acme", &[crp, "other"]).is_empty());

    apply_and_check(&s, "acme", &[crp], &inputs, &planned, &[]).await;
    assert!(
        sim_deleted(&s, "acme", &["other"]).is_empty(),
        "a package not named is never touched"
    );
    s.shutdown().await;
}

// --- Organisation -----------------------------------------------------------------

const ORGANISATION: &str = r#"      - name: foo
        images:
          - {handle: old, tags: [v1], age: 40d}
          - {handle: old-prod, tags: [v0, prod], age: 50d}
          - {handle: old-qa, tags: [qa], age: 45d}
          - {handle: new, tags: [v2], age: 10d}
          - {handle: u-old, tags: [], age: 40d}
          - {handle: u-new, tags: [], age: 5d}
      - name: bar
        images:
          - {handle: old, tags: [v1], age: 60d}
          - {handle: old-qa, tags: [v0, qa], age: 70d}
          - {handle: latest, tags: [latest], age: 1d}
      - name: baz
        images:
          - {handle: old, tags: [v1], age: 35d}
          - {handle: old-prod, tags: [prod-candidate, prod], age: 35d}
      - name: qux
        images:
          - {handle: old, tags: [v1], age: 60d}
          - {handle: u-old, tags: [], age: 60d}
"#;

/// snok README "organisation": `image-names: foo bar baz`, `image-tags: !prod !qa`,
/// `tag-selection: both`, `cut-off: 4w`. `qux` is not selected; versions tagged prod
/// or qa survive even with other tags. `$GITHUB_OUTPUT` gets the snok outputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_organisation_spares_prod_and_qa_and_unnamed_packages() {
    let s = start(&acme_accounts(ORGANISATION)).await;
    let inputs = acme_inputs(&[
        ("image-names", "foo bar baz"),
        ("image-tags", "!prod !qa"),
        ("tag-selection", "both"),
        ("cut-off", "4w"),
    ]);
    let planned = plan_both_forms(&s, &inputs).await;
    let tagged = "deleted_by_rule:tagged/matched";
    let expected = want(
        &s,
        "acme",
        &[
            ("foo", "old", "delete", tagged),
            ("foo", "old-prod", "keep", "not_selected:tag_excluded"),
            ("foo", "old-qa", "keep", "not_selected:tag_excluded"),
            ("foo", "new", "keep", "not_selected:too_new"),
            ("foo", "u-old", "delete", "deleted_by_rule:untagged/matched"),
            ("foo", "u-new", "keep", "not_selected:too_new"),
            ("bar", "old", "delete", tagged),
            ("bar", "old-qa", "keep", "not_selected:tag_excluded"),
            ("bar", "latest", "keep", "not_selected:too_new"),
            ("baz", "old", "delete", tagged),
            ("baz", "old-prod", "keep", "not_selected:tag_excluded"),
        ],
    );
    by_key(&expected, &verdicts(&planned));
    assert!(
        planned["packages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "qux"),
        "qux is not selected"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let out_s = out.to_str().unwrap();
    let applied = apply_and_check(
        &s,
        "acme",
        &["foo", "bar", "baz", "qux"],
        &inputs,
        &planned,
        &[("GITHUB_OUTPUT", out_s)],
    )
    .await;
    assert_eq!(applied["totals"]["failed"], 0);

    // The outputs: snok's documented format, comma-separated image-name:version-id.
    let outputs = common::github_outputs(&out);
    let line = |key: &str| -> String {
        outputs
            .get(key)
            .unwrap_or_else(|| panic!("no `{key}` output in {outputs:?}"))
            .clone()
    };
    let deleted: BTreeSet<(String, u64)> = line("deleted")
        .split(',')
        .map(|item| {
            let (pkg, id) = item.rsplit_once(':').expect("image-name:version-id");
            (pkg.to_string(), id.parse().expect("a version id"))
        })
        .collect();
    assert_eq!(deleted, delete_set(&planned), "{outputs:?}");
    assert_eq!(line("failed"), "");
    assert_eq!(line("deleted-count"), "4");
    assert_eq!(line("failed-count"), "0");
    assert_eq!(line("skipped-count"), "0");
    s.shutdown().await;
}

// --- Personal account -------------------------------------------------------------

const PERSONAL: &str = r#"accounts:
  - name: octocat
    kind: user
    packages:
      - name: web
        images:
          - {handle: u-2h, tags: [], age: 2h}
          - {handle: u-30m, tags: [], age: 30m}
          - {handle: v1, tags: [v1], age: 10d}
      - name: cli
        images:
          - {handle: u-1d, tags: [], age: 1d}
          - {handle: latest, tags: [latest], age: 1d}
          - {handle: ma, tags: [multi-arch], age: 3d, platforms: [linux/amd64, linux/arm64]}
  - name: acme
    kind: org
    packages:
      - name: web
        images:
          - {handle: u-old, tags: [], age: 60d}
          - {handle: v1, tags: [v1], age: 60d}
"#;

/// snok README "personal account": `account: user`, `image-names: *`,
/// `tag-selection: untagged`, `cut-off: 1h`. `user` is the token owner's packages,
/// listed through /user/packages; the organisation's package of the same name is
/// never touched; platform manifests of a tagged index are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_personal_account_cleans_the_token_owners_untagged_versions() {
    let s = start(PERSONAL).await;
    let inputs = [
        ("account", "user"),
        ("token", "ghp_admin"),
        ("image-names", "*"),
        ("tag-selection", "untagged"),
        ("cut-off", "1h"),
    ];
    let planned = plan_both_forms(&s, &inputs).await;
    let expected = want(
        &s,
        "octocat",
        &[
            ("web", "u-2h", "delete", "deleted_by_rule:untagged/matched"),
            ("web", "u-30m", "keep", "not_selected:too_new"),
            ("web", "v1", "keep", "not_selected:tag_state"),
            ("cli", "u-1d", "delete", "deleted_by_rule:untagged/matched"),
            ("cli", "latest", "keep", "not_selected:tag_state"),
            ("cli", "ma", "keep", "not_selected:tag_state"),
            (
                "cli",
                "ma#platform linux/amd64",
                "keep",
                "protected:platform",
            ),
            (
                "cli",
                "ma#platform linux/arm64",
                "keep",
                "protected:platform",
            ),
        ],
    );
    by_key(&expected, &verdicts(&planned));
    let routes: BTreeSet<String> = s.requests().into_iter().map(|r| r.route).collect();
    assert!(routes.contains("GET /user/packages"), "{routes:?}");
    assert!(
        !routes
            .iter()
            .any(|r| r.contains("/orgs/") || r.contains("/users/")),
        "`user` never means an organisation or a named user: {routes:?}"
    );

    apply_and_check(&s, "octocat", &["web", "cli"], &inputs, &planned, &[]).await;
    assert!(sim_deleted(&s, "acme", &["web"]).is_empty());
    s.shutdown().await;
}

// --- Rollbacks --------------------------------------------------------------------

/// `foo`: t1…t7 created 31d…37d ago (t1 newest) but updated 16d…10d ago (t7 newest),
/// so keep-5 by created_at and by updated_at spare different versions.
const ROLLBACKS: &str = r#"      - name: foo
        images:
          - {handle: t1, tags: [t1], age: 31d, updated_age: 16d}
          - {handle: t2, tags: [t2], age: 32d, updated_age: 15d}
          - {handle: t3, tags: [t3], age: 33d, updated_age: 14d}
          - {handle: t4, tags: [t4], age: 34d, updated_age: 13d}
          - {handle: t5, tags: [t5], age: 35d, updated_age: 12d}
          - {handle: t6, tags: [t6], age: 36d, updated_age: 11d}
          - {handle: t7, tags: [t7], age: 37d, updated_age: 10d}
          - {handle: new, tags: [latest], age: 2d}
          - {handle: u-old, tags: [], age: 20d}
          - {handle: u-new, tags: [], age: 3d}
      - name: bar
        images:
          - {handle: b1, tags: [b1], age: 9d}
          - {handle: b2, tags: [b2], age: 10d}
          - {handle: b3, tags: [b3], age: 11d}
          - {handle: b4, tags: [b4], age: 12d}
          - {handle: b5, tags: [b5], age: 13d}
          - {handle: b6, tags: [b6], age: 14d}
          - {handle: u-old, tags: [], age: 30d}
      - name: baz
        images:
          - {handle: z1, tags: [z1], age: 20d}
          - {handle: z2, tags: [z2], age: 21d}
          - {handle: z3, tags: [z3], age: 22d}
          - {handle: u-old, tags: [], age: 8d}
"#;

/// snok README "rollbacks": `image-tags: *`, `tag-selection: both`, `cut-off: 1w`,
/// `keep-n-most-recent: 5`. Per package the 5 newest tagged candidates are kept;
/// untagged versions are not protected by it; `--timestamp-to-use` decides "newest".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_rollbacks_keep_the_five_newest_tagged_per_package_by_timestamp() {
    let s = start(&acme_accounts(ROLLBACKS)).await;
    let base = acme_inputs(&[
        ("image-names", "foo bar baz"),
        ("image-tags", "*"),
        ("tag-selection", "both"),
        ("cut-off", "1w"),
        ("keep-n-most-recent", "5"),
    ]);
    let with_ts = |ts: &'static str| -> Vec<(&'static str, &'static str)> {
        base.iter()
            .copied()
            .chain([("timestamp-to-use", ts)])
            .collect()
    };
    let (keep, del, untagged) = (
        "kept_by_rule:tagged/newest",
        "deleted_by_rule:tagged/matched",
        "deleted_by_rule:untagged/matched",
    );
    // The same in both modes.
    let common_rows = [
        ("foo", "new", "keep", "not_selected:too_new"),
        ("foo", "u-old", "delete", untagged),
        ("foo", "u-new", "keep", "not_selected:too_new"),
        ("bar", "b1", "keep", keep),
        ("bar", "b2", "keep", keep),
        ("bar", "b3", "keep", keep),
        ("bar", "b4", "keep", keep),
        ("bar", "b5", "keep", keep),
        ("bar", "b6", "delete", del),
        ("bar", "u-old", "delete", untagged),
        ("baz", "z1", "keep", keep),
        ("baz", "z2", "keep", keep),
        ("baz", "z3", "keep", keep),
        ("baz", "u-old", "delete", untagged),
    ];
    let by_created = [
        ("foo", "t1", "keep", keep),
        ("foo", "t2", "keep", keep),
        ("foo", "t3", "keep", keep),
        ("foo", "t4", "keep", keep),
        ("foo", "t5", "keep", keep),
        ("foo", "t6", "delete", del),
        ("foo", "t7", "delete", del),
    ];
    let by_updated = [
        ("foo", "t1", "delete", del),
        ("foo", "t2", "delete", del),
        ("foo", "t3", "keep", keep),
        ("foo", "t4", "keep", keep),
        ("foo", "t5", "keep", keep),
        ("foo", "t6", "keep", keep),
        ("foo", "t7", "keep", keep),
    ];
    let created_plan = plan_both_forms(&s, &with_ts("created_at")).await;
    let rows: Vec<_> = common_rows.iter().chain(&by_created).copied().collect();
    by_key(&want(&s, "acme", &rows), &verdicts(&created_plan));

    let updated_plan = plan_both_forms(&s, &with_ts("updated_at")).await;
    let rows: Vec<_> = common_rows.iter().chain(&by_updated).copied().collect();
    by_key(&want(&s, "acme", &rows), &verdicts(&updated_plan));
    // updated_at is the default.
    let default_plan = plan_both_forms(&s, &base).await;
    assert_eq!(verdicts(&default_plan), verdicts(&updated_plan));

    apply_and_check(
        &s,
        "acme",
        &["foo", "bar", "baz"],
        &with_ts("created_at"),
        &created_plan,
        &[],
    )
    .await;
    s.shutdown().await;
}

// --- Multi-arch -------------------------------------------------------------------

const MULTI_ARCH: &str = r#"      - name: app
        images:
          - {handle: ma, tags: [multi-arch], age: 30d, platforms: [linux/amd64, linux/arm64], buildx_attestations: true}
          - {handle: v0, tags: [v0], age: 40d}
          - {handle: orphan, tags: [], age: 30d}
"#;

/// snok README "multi-arch": snok needs `skip-shas` for the platform manifests of a
/// tagged index, or `tag-selection: untagged` breaks the image. regsweep keeps them
/// (and the buildx attestations) without any skip-shas, and the image stays complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_multi_arch_keeps_platform_manifests_without_skip_shas() {
    let s = start(&acme_accounts(MULTI_ARCH)).await;
    let inputs = acme_inputs(&[
        ("image-names", "app"),
        ("tag-selection", "untagged"),
        ("cut-off", "1w"),
    ]);
    let planned = plan_both_forms(&s, &inputs).await;
    let ma = s.image("acme", "app", "ma").expect("ma pushed");
    let mut rows = vec![
        ("app", "ma".to_string(), "keep", "not_selected:tag_state"),
        ("app", "v0".to_string(), "keep", "not_selected:tag_state"),
        (
            "app",
            "orphan".to_string(),
            "delete",
            "deleted_by_rule:untagged/matched",
        ),
    ];
    for m in ma.manifests.iter().filter(|m| m.id != ma.root.0) {
        let kind = if m.role.starts_with("platform") {
            "protected:platform"
        } else {
            "protected:buildx_attestation"
        };
        rows.push(("app", format!("ma#{}", m.role), "keep", kind));
    }
    assert_eq!(
        rows.len(),
        7,
        "index, two platforms, two attestations, v0, orphan"
    );
    let rows: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|(p, h, a, k)| (*p, h.as_str(), *a, *k))
        .collect();
    by_key(&want(&s, "acme", &rows), &verdicts(&planned));

    apply_and_check(&s, "acme", &["app"], &inputs, &planned, &[]).await;
    let v = validate(&s, "app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("all complete"), "{}", v.stdout);
    s.shutdown().await;
}
