//! The client against the GitHub Packages API emulator (`regsweep-sim`) on 127.0.0.1:
//! pagination with and without `Link` headers, retries of 5xx bursts, secondary and
//! primary rate limits, GitHub's refusals, token probing. Assertions use the
//! emulator's and the client's counters, never the clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use regsweep_core::{Secret, VersionId};
use regsweep_github::{
    ClientConfig, DeleteError, Endpoint, GithubClient, GithubError, Owner, PullState, VersionState,
};
use regsweep_sim::{FailNext, FaultConfig, Scenario, Sim, SimOptions};

const ADMIN: &str = "ghp_adminTOKENvalue1234";
const READONLY: &str = "ghp_readonlyTOKENvalue1234";
const ACTIONS: &str = "ghs_actionsTOKENvalue1234";

/// Metadata-only packages: no registry needed.
const LISTING: &str = r#"
tokens:
  - {token: ghp_adminTOKENvalue1234, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
  - {token: ghp_readonlyTOKENvalue1234, kind: classic, user: octocat, scopes: [read:packages]}
  - {token: ghs_actionsTOKENvalue1234, kind: actions, grants: [acme/next-last-prev-first]}
accounts:
  - name: acme
    packages:
      - name: next-last-prev-first
        generate: {versions: 250, seed: 1}
      - name: exactly-two-pages
        generate: {versions: 200, seed: 2}
      - name: team/last
        generate: {versions: 130, seed: 3}
  - name: octocat
    kind: user
    packages:
      - name: mine
        generate: {versions: 3, seed: 4}
pulls:
  - {repo: acme/app, number: 12, state: closed, head_ref: feature-x, merged_at: 2026-11-01T00:00:00Z, closed_at: 2026-11-01T00:00:00Z}
  - {repo: acme/app, number: 13, state: open, head_ref: feature-y}
"#;

/// Registry-backed images, for GitHub's refusals.
const REFUSALS: &str = r#"
tokens:
  - {token: ghp_adminTOKENvalue1234, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
  - {token: ghp_readonlyTOKENvalue1234, kind: classic, user: octocat, scopes: [read:packages]}
accounts:
  - name: acme
    packages:
      - name: solo
        images:
          - {handle: only, tags: [v1], age: 5d}
      - name: popular
        visibility: public
        images:
          - {handle: hit, tags: [v1], age: 5d, downloads: 6000}
          - {handle: quiet, tags: [v2], age: 4d, downloads: 10}
      - name: app
        images:
          - {handle: a, tags: [v1], age: 5d}
          - {handle: b, tags: [v2], age: 4d}
"#;

async fn sim(scenario: &str, options: SimOptions) -> Sim {
    let scenario = Scenario::from_yaml(scenario).expect("scenario parses");
    Sim::start(scenario, options)
        .await
        .expect("emulator starts")
}

/// Emulator options that answer the next `count` requests with `status`, limited to
/// `method` and to paths containing `path_contains` when those are given.
fn failing_next(
    count: u32,
    status: u16,
    method: Option<&str>,
    path_contains: Option<&str>,
) -> SimOptions {
    SimOptions {
        faults: FaultConfig {
            fail_next: Some(FailNext {
                count,
                status,
                method: method.map(String::from),
                path_contains: path_contains.map(String::from),
            }),
            ..FaultConfig::default()
        },
        ..SimOptions::default()
    }
}

/// A client for `token` against `sim`, with short retry delays and a request timeout,
/// after `tweak` has adjusted that configuration.
fn client_with(sim: &Sim, token: &str, tweak: impl FnOnce(&mut ClientConfig)) -> GithubClient {
    let mut cfg = ClientConfig::new(sim.api_url(), Secret::new(token));
    cfg.retry_base_delay = Duration::from_millis(5);
    cfg.request_timeout = Duration::from_secs(20);
    tweak(&mut cfg);
    GithubClient::new(cfg).expect("client builds")
}

/// A client for `token` against `sim` with the test configuration of [`client_with`].
fn client(sim: &Sim, token: &str) -> GithubClient {
    client_with(sim, token, |_| {})
}

fn acme() -> Owner {
    Owner::Org("acme".into())
}

fn ids(versions: &[regsweep_core::Version]) -> Vec<VersionId> {
    versions.iter().map(|v| v.id).collect()
}

fn sim_ids(sim: &Sim, account: &str, package: &str) -> Vec<VersionId> {
    sim.versions(account, package)
        .iter()
        .map(|v| v.id)
        .collect()
}

/// Upper bound against hangs only; never a timing assertion.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), f)
        .await
        .expect("test did not hang")
}

/// Every active version of `package` under `owner`, listed by `c` without a page
/// callback; fails the test if the listing fails or hangs.
async fn active(c: &GithubClient, owner: &Owner, package: &str) -> Vec<regsweep_core::Version> {
    bounded(c.list_versions(owner, package, VersionState::Active, &|_| {}))
        .await
        .unwrap_or_else(|e| panic!("listing {package}: {e:?}"))
}

/// The version id of the root manifest of image `handle` in `acme/<package>`.
fn root(sim: &Sim, package: &str, handle: &str) -> VersionId {
    sim.image("acme", package, handle)
        .unwrap_or_else(|| panic!("image {handle} in acme/{package}"))
        .root
        .0
}

/// Deletes version `id` of `acme/<package>` with `c`, expecting a refusal, and returns it.
async fn delete_refused(c: &GithubClient, package: &str, id: VersionId) -> DeleteError {
    match bounded(c.delete_version(&acme(), package, id)).await {
        Err(e) => e,
        Ok(()) => panic!("deleting {id:?} from acme/{package} was expected to be refused"),
    }
}

#[tokio::test]
async fn pagination_with_next_and_last_in_package_name() {
    let sim = sim(LISTING, SimOptions::default()).await;
    let c = client(&sim, ADMIN);
    let pages = AtomicUsize::new(0);
    let seen = std::sync::Mutex::new(Vec::new());
    let on_page = |n: usize| {
        pages.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push(n);
    };
    let versions = bounded(c.list_versions(
        &acme(),
        "next-last-prev-first",
        VersionState::Active,
        &on_page,
    ))
    .await
    .unwrap();
    assert_eq!(versions.len(), 250);
    assert_eq!(
        ids(&versions),
        sim_ids(&sim, "acme", "next-last-prev-first")
    );
    assert_eq!(*seen.lock().unwrap(), vec![100, 200, 250]);
    assert_eq!(c.stats().count("GET", Endpoint::ListVersions), 3);
    // The Link header was there and was followed.
    let requests = sim.requests();
    assert!(requests.iter().all(|r| r.status == Some(200)));
    assert_eq!(requests.len(), 3);

    // A name with `/` and `last` in it: one encoded segment, read completely.
    let team = active(&c, &acme(), "team/last").await;
    assert_eq!(ids(&team), sim_ids(&sim, "acme", "team/last"));
    assert_eq!(team.len(), 130);
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.path.contains("/packages/container/team%2Flast/versions")));
    sim.shutdown().await;
}

#[tokio::test]
async fn listing_without_link_headers_reads_by_page_number() {
    let sim = sim(
        LISTING,
        SimOptions {
            omit_link_headers: true,
            ..SimOptions::default()
        },
    )
    .await;
    let c = client(&sim, ADMIN);
    let v = active(&c, &acme(), "next-last-prev-first").await;
    assert_eq!(ids(&v), sim_ids(&sim, "acme", "next-last-prev-first"));
    // 100 + 100 + 50: the short page ends it.
    assert_eq!(c.stats().count("GET", Endpoint::ListVersions), 3);

    let v = active(&c, &acme(), "exactly-two-pages").await;
    assert_eq!(ids(&v), sim_ids(&sim, "acme", "exactly-two-pages"));
    // 100 + 100 + an empty page.
    assert_eq!(c.stats().count("GET", Endpoint::ListVersions), 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_error_burst_is_retried() {
    let sim = sim(LISTING, failing_next(3, 502, Some("GET"), Some("page=2"))).await;
    let c = client(&sim, ADMIN);
    let v = active(&c, &acme(), "next-last-prev-first").await;
    assert_eq!(v.len(), 250);
    assert_eq!(sim.stats().faults_injected, 3);
    let stats = c.stats();
    assert_eq!(stats.retries, 3);
    assert_eq!(stats.status(502), 3);
    assert_eq!(stats.count("GET", Endpoint::ListVersions), 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_beyond_max_retries_fail_with_attempts() {
    let sim = sim(LISTING, failing_next(10, 503, None, None)).await;
    let c = client_with(&sim, ADMIN, |cfg| cfg.max_retries = 2);
    let err = bounded(c.get_package(&acme(), "next-last-prev-first"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GithubError::Status {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("GET /orgs/acme/packages/container/next-last-prev-first"));
    assert!(err.to_string().contains("help:"));
    assert_eq!(sim.stats().faults_injected, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_secondary_limit_is_waited_out() {
    let sim = sim(LISTING, failing_next(2, 403, Some("GET"), None)).await;
    let c = client(&sim, ADMIN);
    let p = bounded(c.get_package(&acme(), "team/last")).await.unwrap();
    assert_eq!(p.map(|p| p.name), Some("team/last".to_string()));
    assert_eq!(sim.stats().faults_injected, 2);
    let stats = c.stats();
    assert_eq!(stats.secondary_limit_hits, 2);
    assert_eq!(stats.rate_limit_waits, 2);
    // retry-after 1, then doubled: 1 + 2 seconds of waiting were asked for.
    assert_eq!(stats.rate_limit_wait_seconds, 3.0);
    assert_eq!(stats.retries, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn secondary_points_limit_is_waited_out() {
    // The emulator allows 3 points a (scaled, 3 s) minute per endpoint; the client's own
    // pacing is generous, so the emulator's limit is what gets hit.
    let sim = sim(
        LISTING,
        SimOptions {
            secondary_points_per_minute: 3,
            time_scale: 0.05,
            ..SimOptions::default()
        },
    )
    .await;
    let c = client(&sim, ADMIN);
    let v = active(&c, &acme(), "next-last-prev-first").await;
    let p = active(&c, &acme(), "exactly-two-pages").await;
    assert_eq!(v.len() + p.len(), 450);
    let limited = sim.stats().secondary_limited;
    assert!(limited >= 1, "the emulator's limit was hit");
    let stats = c.stats();
    assert_eq!(stats.secondary_limit_hits, limited);
    assert_eq!(stats.rate_limit_waits, limited);
    sim.shutdown().await;
}

#[tokio::test]
async fn primary_limit_waits_until_reset_or_reports() {
    // 4 requests an hour, an hour lasting 3.6 s.
    let options = || SimOptions {
        primary_limit_classic: 4,
        time_scale: 0.001,
        ..SimOptions::default()
    };
    let sim1 = sim(LISTING, options()).await;
    let c = client(&sim1, ADMIN);
    for _ in 0..6 {
        bounded(c.get_package(&acme(), "team/last")).await.unwrap();
    }
    let stats = c.stats();
    assert!(stats.rate_limit_waits >= 1, "{stats:?}");
    assert_eq!(
        stats.count("GET", Endpoint::GetPackage) - sim1.stats().primary_limited,
        6
    );
    let snapshot = c.rate_limit().expect("headers seen");
    assert_eq!(snapshot.limit, 4);
    sim1.shutdown().await;

    // The same, when waiting is not allowed that long: a RateLimited error.
    let sim2 = sim(LISTING, options()).await;
    let c = client_with(&sim2, ADMIN, |cfg| cfg.max_wait = Duration::ZERO);
    let mut outcome = Ok(());
    for _ in 0..6 {
        match bounded(c.delete_version(&acme(), "team/last", VersionId(1))).await {
            Err(DeleteError::RateLimited { reset_at }) => {
                assert!(reset_at.is_some());
                outcome = Err(());
                break;
            }
            _ => continue,
        }
    }
    assert!(outcome.is_err(), "a RateLimited error was reported");
    sim2.shutdown().await;
}

#[tokio::test]
async fn refusals_are_classified() {
    let sim = sim(REFUSALS, SimOptions::default()).await;
    let admin = client(&sim, ADMIN);
    let readonly = client(&sim, READONLY);
    bounded(admin.probe()).await.unwrap();
    bounded(readonly.probe()).await.unwrap();

    let err = delete_refused(&admin, "solo", root(&sim, "solo", "only")).await;
    assert!(
        matches!(err, DeleteError::LastTaggedVersion { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("last tagged version"));

    let err = delete_refused(&admin, "popular", root(&sim, "popular", "hit")).await;
    assert!(
        matches!(err, DeleteError::TooManyDownloads { .. }),
        "{err:?}"
    );

    let a = root(&sim, "app", "a");
    let err = delete_refused(&readonly, "app", a).await;
    match &err {
        DeleteError::Forbidden { message } => {
            assert!(message.contains("delete:packages"), "{message}")
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains(READONLY));

    bounded(admin.delete_version(&acme(), "app", a))
        .await
        .unwrap();
    let err = delete_refused(&admin, "app", a).await;
    assert!(matches!(err, DeleteError::NotFound), "{err:?}");
    assert!(!sim_ids(&sim, "acme", "app").contains(&a));

    // Restore brings it back.
    let deleted = bounded(admin.list_versions(&acme(), "app", VersionState::Deleted, &|_| {}))
        .await
        .unwrap();
    assert!(ids(&deleted).contains(&a));
    bounded(admin.restore_version(&acme(), "app", a))
        .await
        .unwrap();
    assert!(sim_ids(&sim, "acme", "app").contains(&a));

    // No refusal was retried.
    let stats = admin.stats();
    assert_eq!(stats.retries, 0);
    assert_eq!(stats.count("DELETE", Endpoint::DeleteVersion), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_probed_by_capability() {
    let sim = sim(LISTING, SimOptions::default()).await;

    let info = bounded(client(&sim, ADMIN).probe()).await.unwrap();
    assert_eq!(info.login.as_deref(), Some("octocat"));
    assert!(info.can_list_user);
    let scopes = info.scopes.unwrap();
    assert!(
        scopes.contains(&"delete:packages".to_string()),
        "{scopes:?}"
    );

    let actions = client(&sim, ACTIONS);
    let info = bounded(actions.probe()).await.unwrap();
    assert_eq!(info.login, None);
    assert!(!info.can_list_user);

    let bad = client(&sim, "ghp_notATokenTheSimKnows");
    let err = bounded(bad.probe()).await.unwrap_err();
    assert!(matches!(err, GithubError::BadCredentials { .. }), "{err:?}");
    assert!(err.to_string().contains("the token was rejected"));
    assert!(!format!("{err} {err:?} {bad:?}").contains("notATokenTheSimKnows"));

    // The Actions token cannot list an organisation's packages, but reads a granted one.
    let err = bounded(actions.list_packages(&acme())).await.unwrap_err();
    assert!(matches!(err, GithubError::CannotList { .. }), "{err:?}");
    assert_eq!(err.hint(), Some(regsweep_github::Hint::NamePackages));
    let v = active(&actions, &acme(), "next-last-prev-first").await;
    assert_eq!(v.len(), 250);
    sim.shutdown().await;
}

#[tokio::test]
async fn packages_owners_and_pulls() {
    let sim = sim(LISTING, SimOptions::default()).await;
    let c = client(&sim, ADMIN);
    let mut names: Vec<String> = bounded(c.list_packages(&acme()))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.expect("every listed package entry reads").name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["exactly-two-pages", "next-last-prev-first", "team/last"]
    );

    let p = bounded(c.get_package(&acme(), "team/last"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.version_count, Some(130));
    assert_eq!(
        bounded(c.get_package(&acme(), "absent")).await.unwrap(),
        None
    );

    for owner in [Owner::AuthenticatedUser, Owner::User("octocat".into())] {
        let mine = bounded(c.list_packages(&owner)).await.unwrap();
        assert_eq!(mine.len(), 1, "{owner:?}");
        let v = active(&c, &owner, "mine").await;
        assert_eq!(ids(&v), sim_ids(&sim, "octocat", "mine"));
    }

    let pr = bounded(c.get_pull("acme/app", 12)).await.unwrap().unwrap();
    assert_eq!(pr.head_ref, "feature-x");
    assert!(pr.merged_at.is_some());
    assert_eq!(bounded(c.get_pull("acme/app", 999)).await.unwrap(), None);
    let all = bounded(c.list_pulls("acme/app", PullState::All))
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let open = bounded(c.list_pulls("acme/app", PullState::Open))
        .await
        .unwrap();
    assert_eq!(open.iter().map(|p| p.number).collect::<Vec<_>>(), vec![13]);
    sim.shutdown().await;
}

#[tokio::test]
async fn enterprise_style_base_path() {
    let sim = sim(LISTING, SimOptions::default()).await;
    let base = sim.api_url().join("api/v3/").unwrap();
    let c = client_with(&sim, ADMIN, |cfg| cfg.api_url = base);
    let v = active(&c, &acme(), "next-last-prev-first").await;
    assert_eq!(v.len(), 250);
    assert!(sim
        .requests()
        .iter()
        .all(|r| r.path.starts_with("/api/v3/")));
    sim.shutdown().await;
}

#[tokio::test]
async fn one_hundred_thousand_versions_list_completely() {
    const BIG: &str = r#"
tokens:
  - {token: ghp_adminTOKENvalue1234, kind: classic, user: octocat, scopes: [read:packages, delete:packages]}
accounts:
  - name: acme
    packages:
      - name: big
        generate: {versions: 100000, seed: 7}
"#;
    // Pacing is tested elsewhere; here both sides allow the 1,000 requests at once.
    let sim = sim(
        BIG,
        SimOptions {
            secondary_points_per_minute: 1_000_000,
            ..SimOptions::default()
        },
    )
    .await;
    let c = client_with(&sim, ADMIN, |cfg| cfg.read_points_per_minute = 1_000_000);
    let last = AtomicUsize::new(0);
    // A hang guard, not a timing: 1,000 pages of GitHub's full version objects take
    // a debug build on a loaded 2-core machine more than `bounded`'s two minutes.
    let owner = acme();
    let on_page = |n| last.store(n, Ordering::SeqCst);
    let listing = c.list_versions(&owner, "big", VersionState::Active, &on_page);
    let v = tokio::time::timeout(Duration::from_secs(900), listing)
        .await
        .expect("test did not hang")
        .unwrap();
    assert_eq!(v.len(), 100_000);
    assert_eq!(last.load(Ordering::SeqCst), 100_000);
    assert_eq!(c.stats().count("GET", Endpoint::ListVersions), 1000);
    let mut unique: Vec<VersionId> = ids(&v);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 100_000);
    sim.shutdown().await;
}
