//! End to end: `regsweep explain TARGET` on the GitHub path, against the emulator
//! over real images: the decision, the deciding rule or graph relation, what the
//! version contains, and its path up to the tagged image; unknown and ambiguous
//! targets are usage errors (exit 2).

mod common;

use common::{acme, args, regsweep, sim, Run, ACME_ADMIN, APP_GRAPH};
use regsweep_sim::{Sim, SimOptions};

/// A second package beside [`APP_GRAPH`], sharing its tag `v1`.
const WORKER: &str = r#"      - name: worker
        visibility: private
        images:
          - {handle: w1, tags: [v1], age: 40d, platforms: [linux/amd64, linux/arm64]}
          - {handle: w0, tags: [w0], age: 50d}
          - {handle: w2, tags: [w2], age: 50d, signature: true}
"#;

/// The emulator with `app` and `worker` in `acme`.
async fn start() -> Sim {
    sim(
        &acme(&format!("{APP_GRAPH}{WORKER}")),
        SimOptions::default(),
    )
    .await
}

/// `regsweep explain TARGET` over both packages, with `extra` policy flags.
async fn explain(s: &Sim, target: &str, extra: &[&str]) -> Run {
    regsweep(
        s,
        &args(
            "explain",
            &[
                &[target],
                &ACME_ADMIN,
                &["--image-names", "app,worker", "--cut-off", "1w"],
                extra,
            ],
        ),
        &[],
    )
    .await
}

const UNTAGGED: &[&str] = &["--tag-selection", "untagged"];
const ONLY_V0: &[&str] = &["--tag-selection", "tagged", "--image-tags", "v0"];

fn digest_of(s: &Sim, package: &str, handle: &str, role: &str) -> String {
    s.image("acme", package, handle)
        .expect("image pushed")
        .manifests
        .iter()
        .find(|m| m.role == role)
        .unwrap_or_else(|| panic!("{handle} has no {role}"))
        .digest
        .to_string()
}

fn short(d: &str) -> &str {
    &d[..19]
}

fn assert_has(r: &Run, lines: &[String]) {
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for l in lines {
        assert!(
            r.stdout.contains(l.as_str()),
            "missing {l:?} in:\n{}",
            r.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_a_tag_names_the_rule_its_platforms_and_itself_as_root() {
    let s = start().await;
    let v1 = digest_of(&s, "app", "v1", "index");
    let arm = digest_of(&s, "app", "v1", "platform linux/arm64");
    let r = explain(&s, "app:v1", ONLY_V0).await;
    assert_has(
        &r,
        &[
            format!("app@{v1} (version "),
            "  tags: v1\n".into(),
            "  decision: keep\n".into(),
            "  because not selected: no tag matches v0 (rule `tagged`)".into(),
            format!("  contains platform linux/arm64: {} (keep)", short(&arm)),
            format!("  path: app:v1 {}\n", short(&v1)),
        ],
    );
    // The two attestation manifests are named as such, not as unknown/unknown.
    assert_eq!(r.stdout.matches("contains attestation: ").count(), 2);

    let v0 = digest_of(&s, "app", "v0", "index");
    let amd0 = digest_of(&s, "app", "v0", "platform linux/amd64");
    let r = explain(&s, "app:v0", ONLY_V0).await;
    assert_has(
        &r,
        &[
            format!("app@{v0} (version "),
            "  decision: delete\n".into(),
            "  because deleted by rule `tagged` (60d old)".into(),
            format!("  contains platform linux/amd64: {} (delete)", short(&amd0)),
        ],
    );
    // What is about it is listed too, with its fate: the cosign signature and the
    // OCI referrer go with v0; v1's signature stays with v1.
    let sig0 = digest_of(&s, "app", "v0", "signature");
    let ref0 = digest_of(&s, "app", "v0", "referrer");
    assert_has(
        &r,
        &[
            format!("  has signature: {} (delete)", short(&sig0)),
            format!("  has referrer: {} (delete)", short(&ref0)),
        ],
    );
    let sig1 = digest_of(&s, "app", "v1", "signature");
    let r = explain(&s, "app:v1", ONLY_V0).await;
    assert_has(&r, &[format!("  has signature: {} (keep)", short(&sig1))]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_a_platform_manifest_by_digest_or_prefix_follows_the_graph_to_its_tag() {
    let s = start().await;
    let v1 = digest_of(&s, "app", "v1", "index");
    let arm = digest_of(&s, "app", "v1", "platform linux/arm64");
    let expected = [
        format!("app@{arm} (version "),
        "  tags: none\n".into(),
        "  decision: keep\n".into(),
        "  because platform linux/arm64 of app:v1\n".into(),
        "     also overrides rule `untagged`, which would delete it".into(),
        format!(
            "  path: app:v1 {} → platform linux/arm64 {}\n",
            short(&v1),
            short(&arm)
        ),
    ];
    let full = explain(&s, &arm, UNTAGGED).await;
    assert_has(&full, &expected);
    // 12 hex digits, with or without `sha256:`, and PACKAGE:DIGEST name it too.
    for target in [
        arm[..19].to_string(),
        arm[7..19].to_string(),
        format!("app:{}", &arm[..30]),
    ] {
        let r = explain(&s, &target, UNTAGGED).await;
        assert_eq!(r.code, 0, "{target}: {}", r.stderr);
        assert_eq!(r.stdout, full.stdout, "{target}");
    }

    // Inside a nested index: the path goes through the inner index.
    let outer = digest_of(&s, "app", "nested", "index");
    let inner = digest_of(&s, "app", "nested", "nested index");
    let narm = digest_of(&s, "app", "nested", "platform linux/arm64");
    let r = explain(&s, &narm, UNTAGGED).await;
    assert_has(
        &r,
        &[
            "  decision: keep\n".into(),
            format!(
                "  because platform linux/arm64 of app@{} (kept image app:v1-nested)",
                short(&inner)
            ),
            format!(
                "  path: app:v1-nested {} → child {} → platform linux/arm64 {}\n",
                short(&outer),
                short(&inner),
                short(&narm)
            ),
        ],
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_artifacts_and_an_orphan() {
    let s = start().await;
    let v1 = digest_of(&s, "app", "v1", "index");
    let sig = digest_of(&s, "app", "v1", "signature");
    let r = explain(&s, &sig, UNTAGGED).await;
    assert_has(
        &r,
        &[
            format!("  tags: sha256-{}.sig\n", &v1[7..]),
            "  decision: keep\n".into(),
            "  because signature of app:v1\n".into(),
            format!(
                "  path: app:v1 {} → signature {}\n",
                short(&v1),
                short(&sig)
            ),
        ],
    );

    // v0's referrer goes with v0 when a rule deletes v0; the path says whose it is.
    let v0 = digest_of(&s, "app", "v0", "index");
    let referrer = digest_of(&s, "app", "v0", "referrer");
    let r = explain(&s, &referrer, ONLY_V0).await;
    assert_has(
        &r,
        &[
            "  decision: delete\n".into(),
            "  because referrer (application/spdx+json) of deleted app:v0\n".into(),
            format!("  is about: {} (delete)\n", short(&v0)),
            format!(
                "  path: app:v0 {} → referrer (application/spdx+json) {}\n",
                short(&v0),
                short(&referrer)
            ),
        ],
    );

    let orphan = s
        .image("acme", "app", "orphan")
        .expect("orphan pushed")
        .root
        .1
        .to_string();
    let r = explain(&s, &orphan, UNTAGGED).await;
    assert_has(
        &r,
        &[
            "  decision: delete\n".into(),
            "  because deleted by rule `untagged` (40d old)\n".into(),
            "  path: no tagged image reaches it\n".into(),
        ],
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_an_unknown_target_is_a_usage_error() {
    let s = start().await;
    let absent = format!("sha256:{}", "0".repeat(64));
    for target in [
        "nope",
        "app:nope",
        "ghost:v1",
        &absent,
        "sha256:000000000000",
    ] {
        let r = explain(&s, target, UNTAGGED).await;
        assert_eq!(r.code, 2, "{target}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{target}: {}", r.stdout);
        assert!(
            r.stderr
                .contains(&format!("error: no version matches `{target}`")),
            "{target}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("help: "), "{}", r.stderr);
    }
    s.shutdown().await;
}

/// Regression: an ambiguous target used to explain every version it matched and
/// exit 0, and a short digest prefix said "no version matches". Both now name the
/// candidates and exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_with_an_ambiguous_target_fails_instead_of_explaining_several() {
    let s = start().await;
    // `v1` is a tag in both packages.
    let r = explain(&s, "v1", UNTAGGED).await;
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let app_v1 = digest_of(&s, "app", "v1", "index");
    let worker_v1 = digest_of(&s, "worker", "w1", "index");
    for want in [
        "error: `v1` is ambiguous: it matches 2 versions".to_string(),
        format!("app@{app_v1} (tags: v1)"),
        format!("worker@{worker_v1} (tags: v1)"),
        "PACKAGE:TAG".into(),
    ] {
        assert!(r.stderr.contains(&want), "missing {want:?}:\n{}", r.stderr);
    }
    let r = explain(&s, "worker:v1", UNTAGGED).await;
    assert_has(&r, &[format!("worker@{worker_v1} (version ")]);

    // A digest prefix shorter than 12 hex digits shared by two versions (22
    // versions over 16 first hex digits: some two share one).
    let mut digests: Vec<String> = ["app", "worker"]
        .iter()
        .flat_map(|p| s.versions("acme", p))
        .map(|v| v.digest.to_string())
        .collect();
    digests.sort();
    let (a, b) = digests
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .max_by_key(|(a, b)| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count())
        .expect("two versions");
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    assert!((8..19).contains(&common), "{a} {b}");
    let prefix = &a[..common];
    let r = explain(&s, prefix, UNTAGGED).await;
    assert_eq!(r.code, 2, "{prefix}: {}{}", r.stdout, r.stderr);
    for want in [
        format!("error: `{prefix}` is too short to name one version"),
        "at least 12 hex digits".into(),
        a.clone(),
        b.clone(),
    ] {
        assert!(r.stderr.contains(&want), "missing {want:?}:\n{}", r.stderr);
    }
    s.shutdown().await;
}
