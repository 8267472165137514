//! Exit codes the README documents that no other suite pins down: a network failure
//! before anything was deleted.

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
