//! End to end: the four example policies of `examples/`, run through the real
//! `regsweep` binary against the emulator over a real registry (issue 6, "examples
//! shipped in examples/ and tested").
//!
//! For each example, a scenario (`tests/scenarios/<example>.yaml`) exercises every
//! rule with boundary cases; `plan --output json` is checked version by version (the
//! action and the rule or graph relation that decided it, as the JSON report shows
//! it); `apply` must then delete exactly the plan's delete set, and `validate` must
//! find every kept image complete.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{actions, regsweep, sim, Run, NOW};
use regsweep_sim::{Scenario, Sim, SimOptions};
use serde_json::Value;

/// The admin token of the scenarios (classic, read and delete).
const TOKEN: &str = "ghp_admin";
const KEEP: &str = "keep";
const DELETE: &str = "delete";
const VERSION_LABEL: &str = "org.opencontainers.image.version";

/// What decided a version: the shape of `reasons[0]` in the JSON report.
#[derive(Clone, Copy, Debug)]
enum Why {
    /// Kept or deleted by this rule, all its conditions holding.
    Rule(&'static str),
    /// Spared by this rule's `keep_newest`, with its rank.
    Newest(&'static str, u64),
    /// Kept because a kept version needs it: relation kind, parent's name.
    Protected(&'static str, &'static str),
    /// Deleted with a deleted parent: relation kind, parent's name.
    With(&'static str, &'static str),
    /// No rule selected it.
    NotSelected,
}

/// A scenario with one package, started, with a name for every manifest pushed.
struct Bed {
    sim: Sim,
    account: &'static str,
    package: &'static str,
    /// Digest → name: the scenario handle for an image's root, `"<handle> <role>"`
    /// for its other manifests (`"v1 platform linux/arm64"`, `"v1 signature"`).
    names: BTreeMap<String, String>,
}

fn example(file: &str) -> String {
    format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"))
}

impl Bed {
    async fn start(yaml: &str, account: &'static str, package: &'static str) -> Bed {
        let scenario = Scenario::from_yaml(yaml).expect("scenario parses");
        let handles: Vec<String> = scenario
            .accounts
            .iter()
            .filter(|a| a.name == account)
            .flat_map(|a| a.packages.iter().filter(|p| p.name == package))
            .flat_map(|p| p.images.iter().map(|i| i.handle.clone()))
            .collect();
        let sim = sim(yaml, SimOptions::default()).await;
        let mut names = BTreeMap::new();
        for h in handles {
            let image = sim
                .image(account, package, &h)
                .unwrap_or_else(|| panic!("image {h} was pushed"));
            // Buildx attestations are named after the platform manifest they attest.
            let platform_of: BTreeMap<String, String> = image
                .manifests
                .iter()
                .filter(|m| m.role.starts_with("platform "))
                .map(|m| {
                    (
                        format!("attestation of {}", m.digest.short()),
                        format!("attestation of {}", &m.role["platform ".len()..]),
                    )
                })
                .collect();
            for m in &image.manifests {
                let name = if m.digest == image.root.1 {
                    h.clone()
                } else {
                    let role = platform_of.get(&m.role).unwrap_or(&m.role);
                    format!("{h} {role}")
                };
                names.insert(m.digest.as_str().to_string(), name);
            }
        }
        Bed {
            sim,
            account,
            package,
            names,
        }
    }

    fn name_of(&self, digest: &str) -> String {
        self.names
            .get(digest)
            .cloned()
            .unwrap_or_else(|| format!("<unnamed {digest}>"))
    }

    /// Runs `regsweep SUB --policy examples/FILE --output json` (and `--now`).
    async fn run(&self, sub: &str, file: &str) -> Run {
        let policy = example(file);
        let args = [
            sub,
            "--account",
            self.account,
            "--token",
            TOKEN,
            "--policy",
            policy.as_str(),
            "--output",
            "json",
            "--now",
            NOW,
        ];
        regsweep(&self.sim, &args, &[]).await
    }

    /// `plan`, which must succeed; its JSON document.
    async fn plan(&self, file: &str) -> Value {
        let r = self.run("plan", file).await;
        assert_eq!(r.code, 0, "plan failed:\n{}", r.stderr);
        let doc = r.json();
        assert_eq!(doc["dry_run"], true);
        doc
    }

    /// The decision about the version named `name`.
    fn decision<'a>(&self, doc: &'a Value, name: &str) -> &'a Value {
        decisions(doc)
            .into_iter()
            .find(|d| self.name_of(str_of(&d["digest"])) == name)
            .unwrap_or_else(|| panic!("no decision about {name}"))
    }

    /// Checks every decision of the plan: each named version has the action and
    /// deciding reason expected, and no decision is left unchecked.
    fn check(&self, doc: &Value, expected: &[(&str, &str, Why)]) {
        let mut wrong = Vec::new();
        let all = decisions(doc);
        for &(name, action, why) in expected {
            let Some(d) = all
                .iter()
                .find(|d| self.name_of(str_of(&d["digest"])) == name)
            else {
                wrong.push(format!("{name}: not in the plan"));
                continue;
            };
            let first = &d["reasons"][0];
            if d["action"] != action || !self.decided_by(first, why) {
                wrong.push(format!(
                    "{name} {}: expected {action} / {why:?}, got {} / {}\n    reasons: {}",
                    d["tags"], d["action"], d["reason"], d["reasons"]
                ));
            }
        }
        for d in &all {
            let name = self.name_of(str_of(&d["digest"]));
            if !expected.iter().any(|e| e.0 == name) {
                wrong.push(format!(
                    "{name} {}: not checked by the test ({} / {})",
                    d["tags"], d["action"], d["reason"]
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert_eq!(
            doc["totals"]["versions"].as_u64(),
            Some(expected.len() as u64)
        );
        // The delete order holds every deletion exactly once.
        let mut ordered: Vec<u64> = doc["delete_order"]
            .as_array()
            .expect("delete_order")
            .iter()
            .filter_map(|o| o["id"].as_u64())
            .collect();
        ordered.sort_unstable();
        let mut deleted: Vec<u64> = all
            .iter()
            .filter(|d| d["action"] == DELETE)
            .filter_map(|d| d["id"].as_u64())
            .collect();
        deleted.sort_unstable();
        assert_eq!(ordered, deleted, "delete_order vs the delete decisions");
    }

    fn decided_by(&self, reason: &Value, why: Why) -> bool {
        let kind = str_of(&reason["kind"]);
        match why {
            Why::Rule(rule) => {
                matches!(kind, "kept_by_rule" | "deleted_by_rule")
                    && reason["rule"] == rule
                    && reason["how"]["kind"] == "matched"
            }
            Why::Newest(rule, rank) => {
                kind == "kept_by_rule"
                    && reason["rule"] == rule
                    && reason["how"]["kind"] == "newest"
                    && reason["how"]["rank"].as_u64() == Some(rank)
            }
            Why::Protected(relation, parent) => {
                kind == "protected"
                    && reason["relation"]["kind"] == relation
                    && self.name_of(str_of(&reason["parent"]["digest"])) == parent
            }
            Why::With(relation, parent) => {
                kind == "deleted_with"
                    && reason["relation"]["kind"] == relation
                    && self.name_of(str_of(&reason["parent"]["digest"])) == parent
            }
            Why::NotSelected => kind == "not_selected",
        }
    }

    /// `apply` with the same arguments: it decides what the plan decided, deletes
    /// exactly the plan's delete set in the emulator, and `validate` then finds every
    /// kept image complete.
    async fn apply_matches(&self, file: &str, planned: &Value) {
        let gone_before = digests(&self.sim.deleted(self.account, self.package));
        let r = self.run("apply", file).await;
        assert_eq!(r.code, 0, "apply failed:\n{}\n{}", r.stdout, r.stderr);
        let applied = r.json();
        assert_eq!(applied["dry_run"], false);
        assert_eq!(
            actions(planned),
            actions(&applied),
            "plan and apply decide the same"
        );
        let plan_deletes: BTreeSet<String> = decisions(planned)
            .iter()
            .filter(|d| d["action"] == DELETE)
            .map(|d| str_of(&d["digest"]).to_string())
            .collect();
        let plan_stays: BTreeSet<String> = decisions(planned)
            .iter()
            .filter(|d| d["action"] != DELETE)
            .map(|d| str_of(&d["digest"]).to_string())
            .collect();
        assert_eq!(
            applied["totals"]["deleted"].as_u64(),
            Some(plan_deletes.len() as u64),
            "{}",
            applied["totals"]
        );
        assert_eq!(applied["totals"]["failed"].as_u64(), Some(0));
        let deleted: BTreeSet<String> = digests(&self.sim.deleted(self.account, self.package))
            .difference(&gone_before)
            .cloned()
            .collect();
        let named =
            |s: &BTreeSet<String>| -> Vec<String> { s.iter().map(|d| self.name_of(d)).collect() };
        assert_eq!(
            named(&deleted),
            named(&plan_deletes),
            "the emulator deleted exactly the plan's delete set"
        );
        let left = digests(&self.sim.versions(self.account, self.package));
        assert_eq!(named(&left), named(&plan_stays), "what is left");

        let v = regsweep(
            &self.sim,
            &[
                "validate",
                "--account",
                self.account,
                "--token",
                TOKEN,
                "--image-names",
                self.package,
                "--now",
                NOW,
            ],
            &[],
        )
        .await;
        assert_eq!(v.code, 0, "validate:\n{}{}", v.stdout, v.stderr);
        assert!(v.stdout.contains("all complete"), "{}", v.stdout);
        assert!(!v.stdout.contains("BROKEN"), "{}", v.stdout);
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn decisions(doc: &Value) -> Vec<&Value> {
    doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .flat_map(|p| p["decisions"].as_array().expect("decisions").iter())
        .collect()
}

fn digests(vs: &[regsweep_sim::SimVersion]) -> BTreeSet<String> {
    vs.iter().map(|v| v.digest.as_str().to_string()).collect()
}

/// The rules named in a decision's reasons of `kind` (e.g. `deleted_by_rule`).
fn rules_of(d: &Value, kind: &str) -> Vec<String> {
    d["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["kind"] == kind)
        .map(|r| str_of(&r["rule"]).to_string())
        .collect()
}

/// The misses of a not-selected decision, as (rule, kind) pairs.
fn misses(d: &Value) -> Vec<(String, String)> {
    assert_eq!(d["reasons"][0]["kind"], "not_selected", "{}", d["reasons"]);
    d["reasons"][0]["misses"]
        .as_array()
        .expect("misses")
        .iter()
        .map(|m| {
            (
                str_of(&m["rule"]).to_string(),
                str_of(&m["kind"]).to_string(),
            )
        })
        .collect()
}

fn miss(rule: &str, kind: &str) -> (String, String) {
    (rule.to_string(), kind.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn research_group_example_end_to_end() {
    let bed = Bed::start(
        include_str!("scenarios/research-group.yaml"),
        "research-group",
        "simulator",
    )
    .await;
    let file = "research-group.yaml";
    let doc = bed.plan(file).await;
    use Why::*;
    bed.check(
        &doc,
        &[
            ("master", KEEP, NotSelected),
            ("master-29d", KEEP, NotSelected),
            ("master-30d", DELETE, Rule("outdated-master")),
            ("master-45d", DELETE, Rule("outdated-master")),
            ("pr-12", KEEP, NotSelected),
            (
                "pr-12 platform linux/amd64",
                KEEP,
                Protected("platform", "pr-12"),
            ),
            (
                "pr-12 platform linux/arm64",
                KEEP,
                Protected("platform", "pr-12"),
            ),
            ("pr-12-14d", DELETE, Rule("outdated-pr")),
            ("pr-12-13d", KEEP, NotSelected),
            ("pr-15", DELETE, Rule("closed-pr")),
            ("pr-15-5d", KEEP, NotSelected),
            ("pr-9", DELETE, Rule("closed-pr")),
            ("pr-20", DELETE, Rule("closed-pr")),
            ("pr-20-35d", DELETE, Rule("outdated-pr")),
            ("pr-30", DELETE, Rule("stale-pr")),
            ("pr-31", KEEP, NotSelected),
            ("pr-21", KEEP, NotSelected),
            ("pr-12-debug", KEEP, NotSelected),
            ("plain-29d", KEEP, NotSelected),
            ("plain-30d", DELETE, Rule("outdated-by-age")),
            ("plain-40d", DELETE, Rule("outdated-by-age")),
            ("feature-40d", DELETE, Rule("outdated-by-age")),
            ("pr-x-20d", KEEP, NotSelected),
        ],
    );

    // The pull requests' state came from the emulator's pulls endpoint.
    assert!(
        bed.sim
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/repos/research-group/simulator/pulls")),
        "the pulls of research-group/simulator were read"
    );
    let d = |name: &str| bed.decision(&doc, name);
    let text = |name: &str| str_of(&d(name)["reason"]).to_string();

    // Why tips stay: the PR is open (12, 31 also too young for `stale-pr`), or unknown.
    assert!(text("pr-12").contains("pull request #12 is open (rule `closed-pr`)"));
    assert!(misses(d("pr-31")).contains(&miss("stale-pr", "too_new")));
    assert!(
        text("pr-21").contains("pull request #21 of research-group/simulator is unknown"),
        "{}",
        text("pr-21")
    );
    assert!(misses(d("pr-12-debug")).contains(&miss("closed-pr", "tags_not_matched")));
    // A merged PR's tip is selected for its state; one merged long ago and two months
    // old is also selected by `stale-pr`.
    assert_eq!(
        rules_of(d("pr-9"), "deleted_by_rule"),
        ["closed-pr", "stale-pr"]
    );
    assert_eq!(rules_of(d("pr-15"), "deleted_by_rule"), ["closed-pr"]);
    // The tip's platform manifests look like outdated PR images by their label, but
    // belong to the kept tip: the plan says which rule the graph overrides.
    let plat = d("pr-12 platform linux/arm64");
    assert!(plat["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r["kind"] == "overrides_delete" && r["rule"] == "outdated-pr"));

    // Images judged by their label name the label rule first; images without a
    // master or PR label were told apart by age alone: no label rule selected them,
    // only `outdated-by-age`, and the plan says that rule decided.
    assert_eq!(
        rules_of(d("master-45d"), "deleted_by_rule"),
        ["outdated-master", "outdated-by-age"]
    );
    assert_eq!(
        rules_of(d("pr-20-35d"), "deleted_by_rule"),
        ["outdated-pr", "outdated-by-age"]
    );
    assert_eq!(
        rules_of(d("master-30d"), "deleted_by_rule")[0],
        "outdated-master"
    );
    for name in ["plain-30d", "plain-40d", "feature-40d"] {
        assert_eq!(
            rules_of(d(name), "deleted_by_rule"),
            ["outdated-by-age"],
            "{name}"
        );
        assert!(
            text(name).starts_with("deleted by rule `outdated-by-age`"),
            "{name}: {}",
            text(name)
        );
    }
    // Unlabelled and too young: the plan shows both label rules passing it over for
    // its label, and the age rule for its age.
    let m = misses(d("plain-29d"));
    for expected in [
        miss("outdated-pr", "label"),
        miss("outdated-master", "label"),
        miss("outdated-by-age", "too_new"),
    ] {
        assert!(m.contains(&expected), "{expected:?} in {m:?}");
    }
    assert!(text("plain-29d").contains(&format!(
        "label `{VERSION_LABEL}` does not match (rule `outdated-master`)"
    )));
    assert!(misses(d("pr-x-20d")).contains(&miss("outdated-pr", "label")));
    assert!(misses(d("master-29d")).contains(&miss("outdated-master", "too_new")));
    assert!(misses(d("pr-12-13d")).contains(&miss("outdated-pr", "too_new")));

    bed.apply_matches(file, &doc).await;
    bed.sim.shutdown().await;
}
