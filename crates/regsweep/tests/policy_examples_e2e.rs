//! End to end: the four example policies of `examples/`, run through the real
//! `regsweep` binary against the emulator over a real registry (issue 6, "examples
//! shipped in examples/ and tested").
//!
//! For each example, a scenario (`tests/scenarios/<example>.yaml`) exercises every
//! rule with boundary cases; `plan --output json` is checked version by version (the
//! action and the rule or graph relation that decided it, as the JSON report shows
//! it); `apply` must then delete exactly the plan's delete set, and `validate` must
//! find every kept image complete.

#[path = "support/examples_bed.rs"]
mod bed;
mod common;

use bed::*;
use common::regsweep;
use serde_json::Value;

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
            ("master-30d10h", KEEP, NotSelected),
            ("master-30d11h", DELETE, Rule("outdated-master")),
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
            ("plain-30d10h", KEEP, NotSelected),
            ("plain-30d11h", DELETE, Rule("outdated-by-age")),
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
        rules_of(d("master-30d11h"), "deleted_by_rule")[0],
        "outdated-master"
    );
    for name in ["plain-30d11h", "plain-40d", "feature-40d"] {
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
    let m = misses(d("plain-30d10h"));
    for expected in [
        miss("outdated-pr", "label"),
        miss("outdated-master", "label"),
        miss("outdated-by-age", "too_new"),
    ] {
        assert!(m.contains(&expected), "{expected:?} in {m:?}");
    }
    // It says the label is missing (told apart by age alone), not that it differs.
    assert!(text("plain-30d10h").contains(&format!(
        "no label `{VERSION_LABEL}` (rule `outdated-master`)"
    )));
    assert!(misses(d("pr-x-20d")).contains(&miss("outdated-pr", "label")));
    // A near-miss value is shown, so a typo in a label is easy to spot.
    assert!(
        text("pr-x-20d").contains(&format!("label `{VERSION_LABEL}` is `pr-x`")),
        "{}",
        text("pr-x-20d")
    );
    assert!(misses(d("master-30d10h")).contains(&miss("outdated-master", "too_new")));
    assert!(misses(d("pr-12-13d")).contains(&miss("outdated-pr", "too_new")));

    // The weekly Action passes the same text as its `policy:` input (REGSWEEP_POLICY):
    // the same decisions for the same reasons.
    let yaml = std::fs::read_to_string(example(file)).expect("the example exists");
    let inline = regsweep(
        &bed.sim,
        &bed.argv("plan", &["--output", "json"]),
        &[("REGSWEEP_POLICY", yaml.as_str())],
    )
    .await;
    assert_eq!(inline.code, 0, "{}", inline.stderr);
    let inline = inline.json();
    let decided = |doc: &Value| -> Vec<(String, Value, Value)> {
        decisions(doc)
            .iter()
            .map(|d| {
                (
                    bed.name_of(str_of(&d["digest"])),
                    d["action"].clone(),
                    d["reasons"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(decided(&inline), decided(&doc));

    bed.apply_matches(file, &doc).await;
    bed.sim.shutdown().await;
}

/// Where `name` comes in the plan's delete order.
fn position(bed: &Bed, doc: &Value, name: &str) -> usize {
    let id = bed.decision(doc, name)["id"].as_u64();
    doc["delete_order"]
        .as_array()
        .expect("delete_order")
        .iter()
        .position(|o| o["id"].as_u64() == id)
        .unwrap_or_else(|| panic!("{name} is not in the delete order"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_sha_example_end_to_end() {
    let bed = Bed::start(include_str!("scenarios/deploy-sha.yaml"), "acme", "api").await;
    let file = "deploy-sha.yaml";
    let doc = bed.plan(file).await;
    use Why::*;
    bed.check(
        &doc,
        &[
            ("b01", KEEP, Rule("keep-latest")),
            // Younger than a week: `keep-recent` keeps the signature itself.
            ("b01 signature", KEEP, Rule("keep-recent")),
            // `latest` is not a sha: `sha-builds` does not select b01, which does
            // not count among the ten newest sha builds.
            ("b02", KEEP, Newest("sha-builds", 1)),
            ("b03", KEEP, Newest("sha-builds", 2)),
            ("b04", KEEP, Newest("sha-builds", 3)),
            ("b05", KEEP, Newest("sha-builds", 4)),
            ("b06", KEEP, Newest("sha-builds", 5)),
            ("b07", KEEP, Newest("sha-builds", 6)),
            ("b08", KEEP, Newest("sha-builds", 7)),
            ("b09", KEEP, Newest("sha-builds", 8)),
            ("b10", KEEP, Newest("sha-builds", 9)),
            ("b11", KEEP, Newest("sha-builds", 10)),
            ("b11 signature", KEEP, Protected("artifact", "b11")),
            // Also tagged `stable`, which no rule selects: deleting b12 would remove
            // it, so the image stays, with its platform manifests.
            ("b12", KEEP, Partial("sha-builds", "stable")),
            (
                "b12 platform linux/amd64",
                KEEP,
                Protected("platform", "b12"),
            ),
            (
                "b12 platform linux/arm64",
                KEEP,
                Protected("platform", "b12"),
            ),
            ("six-hex", KEEP, NotSelected),
            ("upper-hex", KEEP, NotSelected),
            ("hex-41", KEEP, NotSelected),
            ("sha-prefixed", KEEP, NotSelected),
            ("left-6d", KEEP, Rule("keep-recent")),
            ("left-7d", DELETE, Rule("untagged")),
        ],
    );
    let d = |name: &str| bed.decision(&doc, name);
    let text = |name: &str| str_of(&d(name)["reason"]).to_string();
    // `latest` is kept by its own rule and for being younger than a week; the sha
    // rule, which does not select its `latest` tag, does not count it.
    assert_eq!(
        rules_of(d("b01"), "kept_by_rule"),
        ["keep-latest", "keep-recent"]
    );
    // The 10th newest is spared whatever its age; the plan says "newest 10 of 10".
    assert_eq!(text("b11"), "kept by rule `sha-builds`: newest 10 of 10");
    assert!(text("b10").contains("newest 9 of 10"));
    assert_eq!(
        rules_of(d("b09"), "kept_by_rule"),
        ["sha-builds", "keep-recent"]
    );
    // A week old exactly is no longer recent; older than a week exactly is old enough.
    assert!(!rules_of(d("b10"), "kept_by_rule").contains(&"keep-recent".to_string()));
    // Tags that almost look like shas are passed over by the sha rule for their tags.
    for name in ["six-hex", "upper-hex", "hex-41", "sha-prefixed"] {
        let m = misses(d(name));
        assert!(
            m.contains(&miss("sha-builds", "tags_not_matched")),
            "{name}: {m:?}"
        );
        assert!(m.contains(&miss("keep-recent", "too_old")), "{name}: {m:?}");
    }
    assert_eq!(doc["totals"]["partial_tag_matches"], 1, "{}", doc["totals"]);

    bed.apply_matches(file, &doc).await;
    bed.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_example_end_to_end() {
    let bed = Bed::start(include_str!("scenarios/releases.yaml"), "acme", "server").await;
    let file = "releases.yaml";
    let doc = bed.plan(file).await;
    use Why::*;
    bed.check(
        &doc,
        &[
            ("rc", KEEP, NotSelected),
            ("b150-1", KEEP, Newest("builds", 1)),
            ("r141", KEEP, Rule("keep-latest")),
            // r141 is not deletable (`latest` is selected by no delete rule), so it
            // does not count among the builds of 1.4.1: b141-2 is the newest.
            ("b141-2", KEEP, Newest("builds", 1)),
            ("r140", KEEP, Rule("current-lines")),
            (
                "r140 platform linux/amd64",
                KEEP,
                Protected("platform", "r140"),
            ),
            (
                "r140 platform linux/arm64",
                KEEP,
                Protected("platform", "r140"),
            ),
            ("b140-4", DELETE, Rule("builds")),
            ("b140-4 platform linux/amd64", DELETE, Rule("untagged")),
            ("b140-4 platform linux/arm64", DELETE, Rule("untagged")),
            ("r132", KEEP, Rule("current-lines")),
            ("b132-2", KEEP, Newest("builds", 1)),
            ("r125", KEEP, Newest("builds", 1)),
            ("r124", DELETE, Rule("builds")),
            ("b124-2", KEEP, Newest("builds", 1)),
            ("r123", DELETE, Rule("old-releases")),
            ("untagged-23h", KEEP, NotSelected),
            ("untagged-1d", DELETE, Rule("untagged")),
            ("untagged-2d", DELETE, Rule("untagged")),
        ],
    );
    let d = |name: &str| bed.decision(&doc, name);
    let text = |name: &str| str_of(&d(name)["reason"]).to_string();
    let overrides = |name: &str| -> Vec<String> { rules_of(d(name), "overrides_delete") };
    // The newest two lines are 1.4 and 1.3: the pre-release and the unreleased
    // build's version do not count. A line's release kept by `current-lines` says
    // which delete rule it overrides.
    assert_eq!(overrides("r132"), ["builds", "old-releases"]);
    assert!(text("r132").starts_with("kept by rule `current-lines`"));
    assert_eq!(overrides("r140"), ["old-releases"]);
    // An old line's release that is also the newest build of its release is kept
    // by `builds`, overriding `old-releases`.
    assert_eq!(overrides("r125"), ["old-releases"]);
    assert_eq!(
        text("r125"),
        "kept by rule `builds`: newest 1 of 1 in group `1.2.5`"
    );
    assert!(text("b150-1").ends_with("in group `1.5.0`"));
    assert_eq!(
        rules_of(d("r124"), "deleted_by_rule"),
        ["builds", "old-releases"]
    );
    // The line 1.2 release is passed over by `current-lines` for its line.
    let r123 = d("r123");
    assert_eq!(rules_of(r123, "deleted_by_rule"), ["old-releases"]);
    // The pre-release matches no release or build pattern.
    let m = misses(d("rc"));
    for rule in ["keep-latest", "current-lines", "builds", "old-releases"] {
        assert!(m.contains(&miss(rule, "tags_not_matched")), "{rule}: {m:?}");
    }
    // One day old exactly is old enough; 23 hours is not.
    assert!(misses(d("untagged-23h")).contains(&miss("untagged", "too_new")));
    // The kept release's platform manifests are untagged and old, but protected.
    assert_eq!(overrides("r140 platform linux/arm64"), ["untagged"]);

    bed.apply_matches(file, &doc).await;
    bed.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supply_chain_example_end_to_end() {
    let bed = Bed::start(include_str!("scenarios/supply-chain.yaml"), "acme", "app").await;
    let file = "supply-chain.yaml";
    // Someone deleted the image `gone` (its index) by hand, leaving its signature and
    // platform manifests behind.
    let gone = bed.sim.image("acme", "app", "gone").expect("gone pushed");
    let client = regsweep_github::GithubClient::new(regsweep_github::ClientConfig::new(
        bed.sim.api_url(),
        regsweep_core::Secret::new(TOKEN),
    ))
    .expect("client");
    client
        .delete_version(
            &regsweep_github::Owner::from_account("acme"),
            "app",
            gone.root.0,
        )
        .await
        .expect("the index of `gone` is deleted");

    let doc = bed.plan(file).await;
    use Why::*;
    bed.check(
        &doc,
        &[
            ("v1.0.0", KEEP, Rule("releases")),
            (
                "v1.0.0 platform linux/amd64",
                KEEP,
                Protected("platform", "v1.0.0"),
            ),
            (
                "v1.0.0 platform linux/arm64",
                KEEP,
                Protected("platform", "v1.0.0"),
            ),
            (
                "v1.0.0 attestation of linux/amd64",
                KEEP,
                Protected("buildx_attestation", "v1.0.0"),
            ),
            (
                "v1.0.0 attestation of linux/arm64",
                KEEP,
                Protected("buildx_attestation", "v1.0.0"),
            ),
            ("v1.0.0 signature", KEEP, Protected("artifact", "v1.0.0")),
            (
                "v1.0.0 attestation tag",
                KEEP,
                Protected("artifact", "v1.0.0"),
            ),
            ("v1.0.0 referrer", KEEP, Protected("referrer", "v1.0.0")),
            ("v1.1.0", KEEP, Rule("releases")),
            (
                "v1.1.0 platform linux/amd64",
                KEEP,
                Protected("platform", "v1.1.0"),
            ),
            (
                "v1.1.0 platform linux/arm64",
                KEEP,
                Protected("platform", "v1.1.0"),
            ),
            ("v1.1.0 signature", KEEP, Protected("artifact", "v1.1.0")),
            ("dev-old", DELETE, Rule("dev-builds")),
            (
                "dev-old platform linux/amd64",
                DELETE,
                With("platform", "dev-old"),
            ),
            (
                "dev-old platform linux/arm64",
                DELETE,
                With("platform", "dev-old"),
            ),
            ("dev-old signature", DELETE, With("artifact", "dev-old")),
            ("dev-old referrer", DELETE, With("referrer", "dev-old")),
            ("dev-14d", DELETE, Rule("dev-builds")),
            ("dev-14d signature", DELETE, With("artifact", "dev-14d")),
            ("dev-13d", KEEP, NotSelected),
            (
                "dev-13d platform linux/amd64",
                KEEP,
                Protected("platform", "dev-13d"),
            ),
            (
                "dev-13d platform linux/arm64",
                KEEP,
                Protected("platform", "dev-13d"),
            ),
            ("dev-13d signature", KEEP, Protected("artifact", "dev-13d")),
            ("develop", KEEP, NotSelected),
            ("rc", KEEP, NotSelected),
            ("rc signature", KEEP, Protected("artifact", "rc")),
            ("stray", DELETE, Rule("orphans")),
            // What the deleted image left behind: orphans.
            ("gone signature", DELETE, Rule("orphans")),
            ("gone platform linux/amd64", DELETE, Rule("orphans")),
            ("gone platform linux/arm64", DELETE, Rule("orphans")),
        ],
    );
    let d = |name: &str| bed.decision(&doc, name);
    let text = |name: &str| str_of(&d(name)["reason"]).to_string();
    // The graph paths read well.
    assert_eq!(text("v1.0.0 signature"), "signature of app:v1.0.0");
    assert_eq!(
        text("v1.0.0 platform linux/arm64"),
        "platform linux/arm64 of app:v1.0.0"
    );
    assert!(text("dev-old signature").starts_with("signature of deleted app:dev-3f9a2c1"));
    // Two weeks exactly is old enough for `dev-builds`; 13d 23h is not.
    assert!(misses(d("dev-13d")).contains(&miss("dev-builds", "too_new")));
    // Tags that almost match: passed over by both tag rules.
    for name in ["develop", "rc"] {
        let m = misses(d(name));
        assert!(
            m.contains(&miss("releases", "tags_not_matched")),
            "{name}: {m:?}"
        );
        assert!(
            m.contains(&miss("dev-builds", "tags_not_matched")),
            "{name}: {m:?}"
        );
    }
    // Signatures and referrers go before their image, the index before its platforms.
    let pos = |name: &str| position(&bed, &doc, name);
    assert!(pos("dev-old signature") < pos("dev-old"));
    assert!(pos("dev-old referrer") < pos("dev-old"));
    assert!(pos("dev-old") < pos("dev-old platform linux/amd64"));
    assert!(pos("dev-old") < pos("dev-old platform linux/arm64"));
    assert!(pos("dev-14d signature") < pos("dev-14d"));
    // The findings name the dangling signature and the orphans.
    let findings: Vec<String> = doc["packages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| str_of(&f["text"]).to_string())
        .collect();
    let gone_root = gone.root.1.short();
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("dangling artifact:") && f.contains(&gone_root)),
        "{findings:?}"
    );
    assert_eq!(
        findings.iter().filter(|f| f.starts_with("orphan:")).count(),
        3,
        "{findings:?}"
    );

    bed.apply_matches(file, &doc).await;
    bed.sim.shutdown().await;
}
