//! The test bed of `policy_examples_e2e.rs`: a scenario started in the emulator with
//! a name for every manifest it pushed, the binary run against it, and checks of a
//! JSON plan version by version (action and deciding reason), of apply (exactly the
//! plan's deletions) and of the reasons' rules and misses.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{actions, args, regsweep, sim, Run, NOW};
use regsweep_sim::{Scenario, Sim, SimOptions};
use serde_json::Value;

/// The admin token of the scenarios (classic, read and delete).
pub const TOKEN: &str = "ghp_admin";
pub const KEEP: &str = "keep";
pub const DELETE: &str = "delete";
pub const VERSION_LABEL: &str = "org.opencontainers.image.version";

/// What decided a version: the shape of `reasons[0]` in the JSON report.
#[derive(Clone, Copy, Debug)]
pub enum Why {
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
    /// A delete rule selects some of its tags, not this one: kept.
    Partial(&'static str, &'static str),
}

/// A scenario with one package, started, with a name for every manifest pushed.
pub struct Bed {
    pub sim: Sim,
    pub account: &'static str,
    pub package: &'static str,
    /// Digest → name: the scenario handle for an image's root, `"<handle> <role>"`
    /// for its other manifests (`"v1 platform linux/arm64"`, `"v1 signature"`).
    pub names: BTreeMap<String, String>,
}

pub fn example(file: &str) -> String {
    format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"))
}

impl Bed {
    pub async fn start(yaml: &str, account: &'static str, package: &'static str) -> Bed {
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

    pub fn name_of(&self, digest: &str) -> String {
        self.names
            .get(digest)
            .cloned()
            .unwrap_or_else(|| format!("<unnamed {digest}>"))
    }

    /// `SUB --account ACCOUNT --token TOKEN`, then `rest`, then `--now NOW`.
    pub fn argv<'a>(&'a self, sub: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        args(
            sub,
            &[
                &["--account", self.account, "--token", TOKEN],
                rest,
                &["--now", NOW],
            ],
        )
    }

    /// Runs `regsweep SUB --policy examples/FILE --output json` (and `--now`).
    pub async fn run(&self, sub: &str, file: &str) -> Run {
        let policy = example(file);
        let args = self.argv(sub, &["--policy", policy.as_str(), "--output", "json"]);
        regsweep(&self.sim, &args, &[]).await
    }

    /// `plan`, which must succeed; its JSON document.
    pub async fn plan(&self, file: &str) -> Value {
        let r = self.run("plan", file).await;
        assert_eq!(r.code, 0, "plan failed:\n{}", r.stderr);
        let doc = r.json();
        assert_eq!(doc["dry_run"], true);
        doc
    }

    /// The decision about the version named `name`.
    pub fn decision<'a>(&self, doc: &'a Value, name: &str) -> &'a Value {
        decisions(doc)
            .into_iter()
            .find(|d| self.name_of(str_of(&d["digest"])) == name)
            .unwrap_or_else(|| panic!("no decision about {name}"))
    }

    /// Checks every decision of the plan: each named version has the action and
    /// deciding reason expected, and no decision is left unchecked.
    pub fn check(&self, doc: &Value, expected: &[(&str, &str, Why)]) {
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

    pub fn decided_by(&self, reason: &Value, why: Why) -> bool {
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
            Why::Partial(rule, tag) => {
                kind == "partial_tag_match"
                    && reason["rule"] == rule
                    && reason["unselected"] == serde_json::json!([tag])
            }
        }
    }

    /// `apply` with the same arguments: it decides what the plan decided, deletes
    /// exactly the plan's delete set in the emulator, and `validate` then finds every
    /// kept image complete.
    pub async fn apply_matches(&self, file: &str, planned: &Value) {
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
            &self.argv("validate", &["--image-names", self.package]),
            &[],
        )
        .await;
        assert_eq!(v.code, 0, "validate:\n{}{}", v.stdout, v.stderr);
        assert!(v.stdout.contains("all complete"), "{}", v.stdout);
        assert!(!v.stdout.contains("BROKEN"), "{}", v.stdout);
    }
}

pub fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Every decision of a JSON report, in the report's order.
pub fn decisions(doc: &Value) -> Vec<&Value> {
    crate::common::decisions(doc)
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

pub fn digests(vs: &[regsweep_sim::SimVersion]) -> BTreeSet<String> {
    vs.iter().map(|v| v.digest.as_str().to_string()).collect()
}

/// The rules named in a decision's reasons of `kind` (e.g. `deleted_by_rule`).
pub fn rules_of(d: &Value, kind: &str) -> Vec<String> {
    d["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["kind"] == kind)
        .map(|r| str_of(&r["rule"]).to_string())
        .collect()
}

/// The misses of a not-selected decision, as (rule, kind) pairs.
pub fn misses(d: &Value) -> Vec<(String, String)> {
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

pub fn miss(rule: &str, kind: &str) -> (String, String) {
    (rule.to_string(), kind.to_string())
}
