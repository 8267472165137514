//! End to end through the real binary with `--backend oci` against a real
//! Distribution registry (CNCF Distribution 2.8.2 on 127.0.0.1): the rules that keep
//! images whole hold on a plain OCI registry too (issue 5).
//!
//! What "untagged" means there: a plain registry lists only tags, so regsweep's
//! versions are the manifests reachable from a tag (index children, nested indexes,
//! buildx attestations, cosign `sha256-<hex>.sig` tags, referrers found through a
//! referrers index tagged `sha256-<hex>`). An untagged version is one of those
//! children; a manifest nothing tagged reaches is invisible and never touched.
//! Distribution deletes a manifest by digest together with every tag pointing to it
//! (a tag alone cannot be removed), and 2.8.2 has no referrers API (404).

mod common;

use std::collections::BTreeSet;

use common::{args, decisions, Run};
use regsweep_core::graph::OCI_INDEX;
use regsweep_core::Digest;
use regsweep_oci::{Auth, OciOptions, RegistryClient};
use regsweep_sim::LocalRegistry;
use regsweep_testimage::{push_image, ImageSpec, PushedImage, PushedManifest, Pusher, Role};

const APP: &str = "acme/app";

/// The registry and what was pushed into it.
struct World {
    reg: LocalRegistry,
    /// v0: linux/amd64 + linux/arm64, cosign signature, an OCI 1.1 referrer.
    v0: PushedImage,
    /// The referrers index tagged `sha256-<v0 hex>` listing v0's referrer (what an
    /// OCI 1.1 client pushes on a registry without the referrers API).
    v0_referrers: Digest,
    /// v1: two platforms with buildx attestation manifests, cosign signature.
    v1: PushedImage,
    /// v1-nested: an index inside an index.
    nested: PushedImage,
    /// An image pushed by digest only, with no tag.
    untagged_root: PushedImage,
    /// acme/worker:w1 (also tagged `stable`).
    worker: PushedImage,
    /// tools/lint:l1.
    lint: PushedImage,
}

fn client(reg: &LocalRegistry) -> RegistryClient {
    RegistryClient::new(reg.url().clone(), Auth::Anonymous, OciOptions::default())
        .expect("client for the local registry")
}

fn spec(platforms: &[&str], seed: u64) -> ImageSpec {
    ImageSpec {
        seed,
        ..ImageSpec::with_platforms(platforms)
    }
}

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

/// Pushes the referrers-tag fallback index for `image`'s referrer.
async fn push_referrers_index(c: &Pusher, image: &PushedImage) -> Digest {
    let r = image
        .find(|r| *r == Role::Referrer)
        .expect("image has a referrer");
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": r.media_type,
            "digest": r.digest.as_str(),
            "size": r.size,
            "artifactType": "application/spdx+json",
        }],
    });
    c.push_manifest(
        APP,
        &format!("sha256-{}", image.root.digest.hex()),
        OCI_INDEX,
        serde_json::to_vec(&body).expect("json").into(),
    )
    .await
    .expect("referrers index pushed")
}

async fn world() -> World {
    let reg = LocalRegistry::start().expect("registry starts (apt-get install docker-registry)");
    let c = Pusher::new(reg.url().clone());
    let two = ["linux/amd64", "linux/arm64"];
    let v0 = push(
        &c,
        APP,
        &["v0"],
        &ImageSpec {
            signature: true,
            referrer: true,
            ..spec(&two, 1)
        },
        "v0",
    )
    .await;
    let v0_referrers = push_referrers_index(&c, &v0).await;
    let v1 = push(
        &c,
        APP,
        &["v1"],
        &ImageSpec {
            buildx_attestations: true,
            signature: true,
            ..spec(&two, 2)
        },
        "v1",
    )
    .await;
    let nested = push(
        &c,
        APP,
        &["v1-nested"],
        &ImageSpec {
            nested: true,
            ..spec(&two, 3)
        },
        "v1-nested",
    )
    .await;
    let untagged_root = push(&c, APP, &[], &spec(&[], 4), "untagged image").await;
    let worker = push(
        &c,
        "acme/worker",
        &["w1", "stable"],
        &spec(&[], 5),
        "worker",
    )
    .await;
    let lint = push(&c, "tools/lint", &["l1"], &spec(&[], 6), "lint").await;
    World {
        reg,
        v0,
        v0_referrers,
        v1,
        nested,
        untagged_root,
        worker,
        lint,
    }
}

/// Runs `regsweep ARGS --backend oci --registry-url URL` with a clean environment.
async fn oci(reg: &LocalRegistry, args: &[&str]) -> Run {
    let mut cmd = common::pinned(args);
    cmd.args(["--backend", "oci", "--registry-url", reg.url().as_str()]);
    common::finish(cmd).await
}

/// Whether the registry still serves `digest` in `repo`, asked with a fresh client
/// (no cache): HEAD and GET must agree.
async fn served(reg: &LocalRegistry, repo: &str, digest: &Digest) -> bool {
    let c = client(reg);
    let head = c
        .head_manifest(repo, digest.as_str())
        .await
        .expect("HEAD answered");
    let get = c
        .get_manifest(repo, digest.as_str())
        .await
        .expect("GET answered");
    assert_eq!(
        head.is_some(),
        get.is_some(),
        "HEAD and GET disagree on {digest}"
    );
    get.is_some()
}

async fn tag_list(reg: &LocalRegistry, repo: &str) -> BTreeSet<String> {
    client(reg)
        .list_tags(repo)
        .await
        .expect("tags listed")
        .into_iter()
        .collect()
}

/// The decision for `digest` in a JSON report.
fn decision<'a>(doc: &'a serde_json::Value, digest: &Digest) -> &'a serde_json::Value {
    decisions(doc)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["digest"] == digest.as_str())
        .unwrap_or_else(|| panic!("{digest} not in the plan"))
}

/// Digests planned for deletion, as a set.
fn deleted_digests(doc: &serde_json::Value) -> BTreeSet<String> {
    decisions(doc)
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d["action"] == "delete")
        .map(|d| d["digest"].as_str().expect("digest").to_string())
        .collect()
}

/// Asserts that each of `digests` is still served in `acme/app` (`want`) or gone
/// (not `want`); a failure names the digest, then `what`.
async fn assert_served<'a>(
    reg: &LocalRegistry,
    digests: impl IntoIterator<Item = &'a String>,
    want: bool,
    what: &str,
) {
    for d in digests {
        let d = Digest::parse(d).expect("digest");
        assert_eq!(served(reg, APP, &d).await, want, "{d} {what}");
    }
}

/// Pushes an image into `repo` with `tags`; `what` names it if that fails.
async fn push(c: &Pusher, repo: &str, t: &[&str], spec: &ImageSpec, what: &str) -> PushedImage {
    push_image(c, repo, &tags(t), spec)
        .await
        .unwrap_or_else(|e| panic!("{what} pushed: {e:?}"))
}

fn package_names(doc: &serde_json::Value) -> Vec<String> {
    doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect()
}

fn digests_of(images: &[&PushedImage]) -> BTreeSet<String> {
    images
        .iter()
        .flat_map(|i| i.manifests.iter().map(|m| m.digest.to_string()))
        .collect()
}

fn by_role(image: &PushedImage, pred: impl Fn(&Role) -> bool) -> Vec<&PushedManifest> {
    image.manifests.iter().filter(|m| pred(&m.role)).collect()
}

/// One deletion at a time, journalled to `file` (so the journal holds their order).
fn journalled(file: &std::path::Path) -> [&str; 4] {
    [
        "--concurrency",
        "1",
        "--journal",
        file.to_str().expect("a UTF-8 path"),
    ]
}

/// `acme/app`'s versions of tag state `selection` older than a week, as JSON.
fn app_older_than_a_week(selection: &str) -> [&str; 8] {
    [
        "--image-names",
        "acme/app",
        "--tag-selection",
        selection,
        "--cut-off",
        "1w",
        "--output",
        "json",
    ]
}

/// Digests in the order the journal recorded their deletion (its intent lines,
/// docs/journal.md).
fn journal_order(path: &std::path::Path) -> Vec<String> {
    common::read(path)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("journal line is JSON"))
        .filter(|v| v["kind"] == "intent")
        .map(|v| v["digest"].as_str().expect("digest").to_string())
        .collect()
}

fn pos(order: &[String], d: &Digest) -> usize {
    order
        .iter()
        .position(|x| x == d.as_str())
        .unwrap_or_else(|| panic!("{d} not deleted: {order:?}"))
}

async fn validate(reg: &LocalRegistry, names: &str) -> Run {
    oci(reg, &["validate", "--image-names", names]).await
}

/// Issue 5 on a plain registry: an untagged run over images whose children are all
/// "old" (a registry has no upload times; they count from the epoch) deletes
/// nothing, because every untagged version is a platform manifest, nested index,
/// buildx attestation or referrer of a tagged image; the plan says whose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_run_keeps_every_manifest_a_tag_reaches() {
    let w = world().await;
    let plan_args = [
        "--image-names",
        "acme/*",
        "--tag-selection",
        "untagged",
        "--cut-off",
        "1w",
        "--output",
        "json",
    ];
    let plan = oci(&w.reg, &args("plan", &[&plan_args])).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let doc = plan.json();
    assert_eq!(doc["totals"]["delete"], 0, "{}", plan.stdout);

    // Every manifest of every tagged image is a listed version, untagged children
    // kept with the relation that keeps them.
    let everything = digests_of(&[&w.v0, &w.v1, &w.nested]);
    for d in &everything {
        let d = Digest::parse(d).expect("digest");
        assert_eq!(decision(&doc, &d)["action"], "keep");
    }
    assert!(w.v0.manifests.iter().any(|m| m.tag.is_none()));
    for m in w.v1.platforms() {
        let Role::Platform(p) = &m.role else {
            unreachable!()
        };
        assert_eq!(
            decision(&doc, &m.digest)["reason"],
            format!("platform {p} of acme/app:v1")
        );
    }
    for m in by_role(&w.v1, |r| matches!(r, Role::BuildxAttestation { .. })) {
        assert_eq!(
            decision(&doc, &m.digest)["reason"],
            "build attestation of acme/app:v1"
        );
    }
    let sig = w.v1.with_role(&Role::Signature)[0];
    assert_eq!(
        decision(&doc, &sig.digest)["reason"],
        "signature of acme/app:v1"
    );
    let referrer = w.v0.with_role(&Role::Referrer)[0];
    assert_eq!(
        decision(&doc, &referrer.digest)["reason"],
        "referrer (application/spdx+json) of acme/app:v0"
    );
    assert_eq!(
        decision(&doc, &w.v0_referrers)["reason"],
        "referrers index of acme/app:v0"
    );
    let inner = w.nested.with_role(&Role::NestedIndex)[0];
    assert_eq!(
        decision(&doc, &inner.digest)["reason"],
        "child manifest of acme/app:v1-nested"
    );
    for m in w.nested.platforms() {
        let reason = decision(&doc, &m.digest)["reason"].as_str().unwrap_or("");
        assert!(
            reason.ends_with("(kept image acme/app:v1-nested)"),
            "{reason}"
        );
    }
    // A manifest no tag reaches is not a version on a plain registry: not listed.
    let listed: usize = doc["packages"][0]["decisions"].as_array().unwrap().len();
    assert_eq!(
        listed,
        everything.len() + 1,
        "v0..v1-nested + referrers index"
    );
    assert!(!plan.stdout.contains(w.untagged_root.root.digest.as_str()));

    // apply decides the same and deletes nothing; everything is still served.
    let apply = oci(&w.reg, &args("apply", &[&plan_args])).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert_eq!(common::actions(&doc), common::actions(&apply.json()));
    let extra = [
        w.v0_referrers.to_string(),
        w.untagged_root.root.digest.to_string(),
    ];
    assert_served(
        &w.reg,
        everything.iter().chain(&extra),
        true,
        "must survive",
    )
    .await;
    let v = validate(&w.reg, "acme/*").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("all complete"), "{}", v.stdout);
}

/// Deleting an old tagged index removes its platform manifests, its cosign
/// signature, its referrers index and the referrer, parents before children and
/// artifacts before their subject; the registry then answers 404 for each and the
/// kept images stay complete. plan and apply decide the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_old_tagged_index_removes_children_and_artifacts_in_safe_order() {
    let w = world().await;
    let journal = tempfile::tempdir().expect("tempdir");
    let journal_file = journal.path().join("journal.jsonl");
    let select = [
        &app_older_than_a_week("tagged")[..],
        &["--image-tags", "v0"],
    ]
    .concat();
    let plan = oci(&w.reg, &args("plan", &[&select])).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan_doc = plan.json();
    let mut expected = digests_of(&[&w.v0]);
    expected.insert(w.v0_referrers.to_string());
    assert_eq!(deleted_digests(&plan_doc), expected);

    let apply = oci(
        &w.reg,
        &args("apply", &[&select, &journalled(&journal_file)]),
    )
    .await;
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let apply_doc = apply.json();
    assert_eq!(common::actions(&plan_doc), common::actions(&apply_doc));
    assert_eq!(plan_doc["delete_order"], apply_doc["delete_order"]);
    assert_eq!(apply_doc["totals"]["deleted"], expected.len() as u64);

    // The order deletions really ran in.
    let order = journal_order(&journal_file);
    assert_eq!(order.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let index = &w.v0.root.digest;
    let sig = &w.v0.with_role(&Role::Signature)[0].digest;
    let referrer = &w.v0.with_role(&Role::Referrer)[0].digest;
    for p in w.v0.platforms() {
        assert!(pos(&order, index) < pos(&order, &p.digest), "index first");
    }
    assert!(pos(&order, sig) < pos(&order, index), "signature first");
    assert!(pos(&order, referrer) < pos(&order, index), "referrer first");
    assert!(
        pos(&order, &w.v0_referrers) < pos(&order, referrer),
        "referrers index before the referrer it lists"
    );

    // Gone from the registry, tags included; the rest is whole.
    assert_served(&w.reg, &expected, false, "still served").await;
    let left = tag_list(&w.reg, APP).await;
    let hex = index.hex();
    for t in [
        "v0".to_string(),
        format!("sha256-{hex}.sig"),
        format!("sha256-{hex}"),
    ] {
        assert!(!left.contains(&t), "tag {t} still listed: {left:?}");
    }
    assert!(
        left.contains("v1") && left.contains("v1-nested"),
        "{left:?}"
    );
    assert_served(
        &w.reg,
        &digests_of(&[&w.v1, &w.nested]),
        true,
        "of a kept image gone",
    )
    .await;
    let v = validate(&w.reg, "acme/*").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);

    // Nothing left to do: a second run plans nothing.
    let again = oci(&w.reg, &args("plan", &[&select])).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["totals"]["delete"], 0, "{}", again.stdout);
}

/// A nested index goes outer index first, then the inner one, then the platforms;
/// buildx attestation manifests go with the index that lists them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_index_and_buildx_attestations_go_with_their_image() {
    let w = world().await;
    let journal = tempfile::tempdir().expect("tempdir");
    let journal_file = journal.path().join("journal.jsonl");
    let select = [
        &app_older_than_a_week("tagged")[..],
        &["--image-tags", "v1*"],
    ]
    .concat();
    let apply = oci(
        &w.reg,
        &args("apply", &[&select, &journalled(&journal_file)]),
    )
    .await;
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let doc = apply.json();
    let gone = digests_of(&[&w.v1, &w.nested]);
    assert_eq!(deleted_digests(&doc), gone);
    let order = journal_order(&journal_file);
    let outer = &w.nested.root.digest;
    let inner = &w.nested.with_role(&Role::NestedIndex)[0].digest;
    assert!(pos(&order, outer) < pos(&order, inner));
    for p in w.nested.platforms() {
        assert!(pos(&order, inner) < pos(&order, &p.digest));
    }
    for m in by_role(&w.v1, |r| {
        matches!(r, Role::BuildxAttestation { .. } | Role::Platform(_))
    }) {
        assert!(pos(&order, &w.v1.root.digest) < pos(&order, &m.digest));
    }
    assert_served(&w.reg, &gone, false, "still served").await;
    // v0 is whole, with its signature and referrer.
    assert_served(&w.reg, &digests_of(&[&w.v0]), true, "of v0 gone").await;
    let v = validate(&w.reg, "acme/app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// `--image-names` wildcards and exclusions select repositories from the catalog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_names_wildcards_select_repositories_from_the_catalog() {
    let w = world().await;
    let cases: &[(&str, &[&str])] = &[
        ("acme/*", &["acme/app", "acme/worker"]),
        ("acme/*,!acme/worker", &["acme/app"]),
        ("*/lint", &["tools/lint"]),
        ("tools/*, acme/worker", &["acme/worker", "tools/lint"]),
        ("re:^acme/w.*$", &["acme/worker"]),
        ("nothing-*", &[]),
    ];
    for (names, expected) in cases {
        let r = oci(
            &w.reg,
            &[
                "plan",
                "--image-names",
                names,
                "--cut-off",
                "1w",
                "--output",
                "json",
            ],
        )
        .await;
        assert_eq!(r.code, 0, "{names}: {}", r.stderr);
        let mut got = package_names(&r.json());
        got.sort();
        assert_eq!(got, *expected, "--image-names {names}");
    }
    // Selected, planned with the default tag selection: lint's only image goes.
    let r = oci(
        &w.reg,
        &["apply", "--image-names", "*/lint", "--cut-off", "1w"],
    )
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!served(&w.reg, "tools/lint", &w.lint.root.digest).await);
    assert!(served(&w.reg, "acme/worker", &w.worker.root.digest).await);
}

/// Distribution deletes a manifest with every tag pointing to it: a version tagged
/// `w1` and `stable` stays when one of its tags is excluded or not selected (deleting
/// it would remove that tag too), and goes with both tags when both are selected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_goes_with_all_its_tags() {
    let w = world().await;
    let base = ["--image-names", "acme/worker", "--cut-off", "1w"];
    let keep = oci(
        &w.reg,
        &args("apply", &[&base, &["--image-tags", "w1,!stable"]]),
    )
    .await;
    assert_eq!(keep.code, 0, "{}", keep.stderr);
    assert_eq!(
        tag_list(&w.reg, "acme/worker").await,
        ["stable", "w1"].iter().map(|s| s.to_string()).collect()
    );
    let partial = oci(&w.reg, &args("apply", &[&base, &["--image-tags", "w1"]])).await;
    assert_eq!(partial.code, 0, "{}", partial.stderr);
    assert_eq!(
        tag_list(&w.reg, "acme/worker").await,
        ["stable", "w1"].iter().map(|s| s.to_string()).collect()
    );
    let del = oci(
        &w.reg,
        &args("apply", &[&base, &["--image-tags", "w1,stable"]]),
    )
    .await;
    assert_eq!(del.code, 0, "{}", del.stderr);
    assert!(tag_list(&w.reg, "acme/worker").await.is_empty());
    assert!(!served(&w.reg, "acme/worker", &w.worker.root.digest).await);
}

/// A cosign signature whose image was deleted by another tool is reported as a
/// dangling artifact, kept by default, and deleted with `--delete-orphans`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_signature_is_reported_and_deleted_only_with_delete_orphans() {
    let w = world().await;
    let c = client(&w.reg);
    let gone = push(
        &Pusher::new(w.reg.url().clone()),
        APP,
        &["g1"],
        &ImageSpec {
            signature: true,
            ..spec(&[], 7)
        },
        "g1",
    )
    .await;
    c.delete_manifest(APP, &gone.root.digest)
        .await
        .expect("root deleted");
    let sig = &gone.with_role(&Role::Signature)[0].digest;
    let base = app_older_than_a_week("untagged");
    let plain = oci(&w.reg, &args("apply", &[&base])).await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let doc = plain.json();
    assert_eq!(decision(&doc, sig)["action"], "keep");
    let findings = doc["packages"][0]["findings"].to_string();
    assert!(findings.contains("dangling artifact"), "{findings}");
    assert!(served(&w.reg, APP, sig).await);

    let orphans = oci(&w.reg, &args("apply", &[&base, &["--delete-orphans"]])).await;
    assert_eq!(orphans.code, 0, "{}", orphans.stderr);
    assert_eq!(deleted_digests(&orphans.json()), [sig.to_string()].into());
    assert!(!served(&w.reg, APP, sig).await);
    let v = validate(&w.reg, "acme/app").await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// `validate` is not vacuous on a plain registry: a platform manifest deleted behind
/// regsweep's back makes the tagged index partial, exit 3, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_an_index_missing_a_platform() {
    let w = world().await;
    let arm =
        w.v1.find(|r| matches!(r, Role::Platform(p) if p.architecture == "arm64"))
            .expect("arm64 platform");
    client(&w.reg)
        .delete_manifest(APP, &arm.digest)
        .await
        .expect("platform deleted");
    let v = validate(&w.reg, "acme/*").await;
    assert_eq!(v.code, 3, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("BROKEN"), "{}", v.stdout);
    assert!(v.stdout.contains("acme/app"), "{}", v.stdout);
}

/// A plain registry has no version timestamps: an image's age comes from its config's
/// `created`, an index's from its newest platform image (the test images are built at
/// 2024-01-01). Regression: every manifest counted from the epoch, so any cut-off
/// selected brand-new images.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ages_come_from_image_configs_and_indexes_from_their_newest_child() {
    let w = world().await;
    let run = |now: &'static str| {
        let reg = &w.reg;
        async move {
            let r = oci(
                reg,
                &args("plan", &[&app_older_than_a_week("tagged"), &["--now", now]]),
            )
            .await;
            assert_eq!(r.code, 0, "{}", r.stderr);
            r.json()
        }
    };
    // Two days after the build: too new for a one-week cut-off.
    let young = run("2024-01-03T00:00:00Z").await;
    let index = decision(&young, &w.v1.root.digest);
    assert_eq!(index["created_at"], "2024-01-01T00:00:00Z", "{index}");
    assert_eq!(index["action"], "keep", "{index}");
    assert_eq!(index["reasons"][0]["kind"], "not_selected", "{index}");
    assert_eq!(
        index["reasons"][0]["misses"][0]["kind"], "too_new",
        "{index}"
    );
    for m in w.v1.platforms() {
        assert_eq!(
            decision(&young, &m.digest)["created_at"],
            "2024-01-01T00:00:00Z"
        );
    }
    // A month later the same images are old enough.
    let old = run("2024-02-01T00:00:00Z").await;
    assert_eq!(decision(&old, &w.v1.root.digest)["action"], "delete");
}

/// `explain` on a plain registry follows the same graph: a platform manifest of a
/// kept image names its image and the path from the tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_follows_the_graph_on_a_plain_registry() {
    let w = world().await;
    let platform = w.v1.platforms()[0].digest.clone();
    let r = oci(
        &w.reg,
        &args(
            "explain",
            &[
                &[platform.as_str()],
                &["--image-names", "acme/*", "--tag-selection", "untagged"],
                &["--cut-off", "1w"],
            ],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("keep"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("of {APP}:v1")), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("path: {APP}:v1")),
        "{}",
        r.stdout
    );
}
