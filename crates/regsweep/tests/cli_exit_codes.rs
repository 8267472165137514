//! Exit codes the README documents that no other suite pins down: a network failure
//! before anything was deleted (exit 2), and one during deletions (exit 1); a
//! registry refusing the credentials while listing (2); an unexpected answer while
//! listing (1). Each error is rendered once, `error: ` first, never with the secret.

mod common;

use common::{args, finish, pinned, ACME_ADMIN};

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_failure_before_deleting_exits_2() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let cmd = pinned(&args(
        "apply",
        &[
            &ACME_ADMIN,
            &[
                "--image-names",
                "app",
                "--cut-off",
                "30d",
                "--max-retries",
                "0",
            ],
            &["--api-url", &url, "--registry-url", &url],
        ],
    ));
    let run = finish(cmd).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("could not be reached"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("ghp_admin"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_failure_during_deletions_is_a_failed_outcome_and_exits_1() {
    use common::{acme, regsweep, sim};
    use regsweep_sim::{FailNext, FaultConfig, SimOptions};
    let s = sim(
        &acme("      - name: app\n        visibility: private\n        images:\n          - {handle: old, tags: [old], age: 60d}\n          - {handle: new, tags: [new], age: 2d}\n"),
        SimOptions::default(),
    )
    .await;
    // Every DELETE loses its connection: nothing is deleted, nothing answers.
    s.set_faults(FaultConfig {
        drop_next: Some(FailNext {
            count: 100,
            status: 0,
            method: Some("DELETE".into()),
            path_contains: None,
        }),
        ..FaultConfig::default()
    });
    let run = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &["--image-names", "app", "--tag-selection", "tagged"],
                &["--cut-off", "30d", "--max-retries", "0", "--output", "json"],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let outcomes: Vec<_> = common::decisions(&doc)
        .into_iter()
        .filter(|(_, d)| d["action"] == "delete")
        .map(|(_, d)| d["outcome"].clone())
        .collect();
    assert_eq!(outcomes.len(), 1, "{doc}");
    assert_eq!(outcomes[0]["status"], "failed", "{doc}");
    assert_eq!(outcomes[0]["code"], "network", "{doc}");
    s.shutdown().await;
}

/// Regression: a registry's 401 while listing exited 1 ("anything else"), though
/// README promises 2 for a token that cannot do what the inputs need.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_refusing_the_credentials_while_listing_exits_2() {
    use axum::http::StatusCode;
    let app = axum::Router::new().fallback(|| async {
        (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", r#"Basic realm="registry""#)],
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        )
    });
    let url = regsweep_sim::hostile::serve("127.0.0.1", app).await;
    let mut cmd = pinned(&args(
        "plan",
        &[&[
            "--image-names",
            "app",
            "--cut-off",
            "30d",
            "--max-retries",
            "0",
        ]],
    ));
    cmd.args([
        "--backend",
        "oci",
        "--registry-url",
        url.as_str(),
        "--registry-username",
        "me",
        "--registry-password",
        "regpassword123",
    ]);
    let run = finish(cmd).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(!run.stderr.contains("error: error"), "{}", run.stderr);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(!run.stderr.contains("regpassword123"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unexpected_answer_while_listing_exits_1() {
    use common::{acme, fail_next, regsweep, sim};
    let s = sim(
        &acme("      - name: app\n        visibility: private\n        images:\n          - {handle: old, tags: [old], age: 60d}\n"),
        regsweep_sim::SimOptions::default(),
    )
    .await;
    s.set_faults(fail_next(100, 500, Some("GET")));
    let run = regsweep(
        &s,
        &args(
            "apply",
            &[
                &ACME_ADMIN,
                &[
                    "--image-names",
                    "app",
                    "--cut-off",
                    "30d",
                    "--max-retries",
                    "0",
                ],
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("500"), "{}", run.stderr);
    assert!(!run.stderr.contains("ghp_admin"), "{}", run.stderr);
    assert!(s.deleted("acme", "app").is_empty());
    s.shutdown().await;
}
