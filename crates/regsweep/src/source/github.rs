//! The GitHub source: the Packages API for versions and deletion, GHCR's registry
//! surface (read only) for the manifest graph.
//!
//! It finds out what the token may do from GitHub's answers (never from its prefix)
//! and stops before deleting anything when the token cannot do what the inputs need.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use futures::{stream, StreamExt};
use regsweep_core::plan::Decision;
use regsweep_core::planner::{PlanOptions, PullInfo, PullRequests};
use regsweep_core::{Inventory, ManifestGraph, Package, Secret};
use regsweep_github::{
    check_package_name, pace_file, BadPackageEntry, ClientConfig, DeleteError, GithubClient,
    GithubError, LearntPace, ListingProblem, Owner, PackageError, PackageSummary, PullState,
    TokenInfo, VersionState, NAME_RULES,
};
use regsweep_oci::{Auth, OciOptions, RegistryClient};
use url::Url;

use super::inventory;
use super::{
    DeleteOutcome, ListRequest, Listing, ListingStats, PackageSelection, ReadRequest, RequestStats,
    UnreadableKind, UnreadablePackage,
};
use crate::error::CliError;
use crate::hints;
use crate::outcome::{FailCode, SkipCode, Why};
use crate::progress::Progress;
use crate::settings::{Backend, Settings};

/// A connected GitHub source.
pub struct GithubSource {
    client: GithubClient,
    /// GHCR's registry surface, for the manifests (read only; no request until one
    /// is asked for).
    registry: RegistryClient,
    owner: Owner,
    /// The namespace in the registry (`acme`, or the token owner's login).
    namespace: String,
    registry_url: Url,
    token: Secret,
    /// What `GET /user` told about the token (scopes, whether a user is behind it).
    info: TokenInfo,
    /// GHCR's registry surface, for moving tags (untag, restore); made on first use.
    tags: std::sync::OnceLock<RegistryClient>,
    /// The inventory cache, when `--cache-dir` is given and it is not turned off.
    inventory: Option<inventory::Store>,
    /// The ids of each package's versions whose data came from the inventory cache,
    /// not from this run's pages.
    from_cache: Mutex<HashMap<String, HashSet<u64>>>,
    /// Versions deleted (or found gone) this run, by package: taken out of the
    /// cached listing at the end of the run.
    gone: Mutex<HashMap<String, HashSet<u64>>>,
}

mod untag;

const USER_AGENT: &str = concat!("regsweep/", env!("CARGO_PKG_VERSION"));

fn has_scope(scopes: &[String], want: &str) -> bool {
    scopes.iter().any(|s| {
        s == want
            || (want == "read:packages" && s == "write:packages")
            || (want == "read:packages" && s == "delete:packages")
    })
}

impl GithubSource {
    /// Connects: checks the token with one request and learns what it may do.
    pub async fn connect(settings: &Settings, for_delete: bool) -> Result<GithubSource, CliError> {
        let Backend::Github {
            account,
            token,
            api_url,
            registry_url,
        } = &settings.backend
        else {
            unreachable!("GithubSource::connect on a GitHub backend only");
        };
        if let Some(names) = settings.exact_package_names() {
            for name in &names {
                if let Err(source) = check_package_name(name) {
                    return Err(CliError::InvalidPackageName {
                        input: "--image-names".to_string(),
                        source,
                    });
                }
            }
        }
        let learnt = settings
            .cache_dir
            .as_deref()
            .and_then(|dir| pace_file::load(dir, jiff::Timestamp::now()));
        if let Some(p) = learnt {
            let start = p.points_per_minute.min(settings.delete_points_per_minute);
            tracing::info!(
                "deleting at {start} points a minute, the pace learnt at {} (at most {})",
                p.learnt_at,
                settings.delete_points_per_minute
            );
        }
        let client = GithubClient::new(ClientConfig {
            api_url: api_url.clone(),
            token: token.clone(),
            user_agent: USER_AGENT.to_string(),
            concurrency: settings.concurrency,
            delete_points_per_minute: settings.delete_points_per_minute,
            start_delete_points_per_minute: learnt.map(|p| p.points_per_minute),
            delete_ceiling_points_per_minute: learnt.and_then(|p| p.ceiling_points_per_minute),
            pace_window: settings.pace_window,
            max_wait: settings.max_wait,
            max_retries: settings.max_retries,
            ..ClientConfig::new(api_url.clone(), token.clone())
        })?;
        // A refused token, like the API out of reach, is `CliError::Github` (exit 2).
        let info = client.probe().await?;
        let owner = Owner::from_account(account);
        if let Some(scopes) = &info.scopes {
            if !has_scope(scopes, "read:packages") {
                return Err(CliError::TokenCannotRead {
                    scopes: scopes.join(", "),
                });
            }
            if for_delete && !has_scope(scopes, "delete:packages") {
                return Err(CliError::TokenCannotDelete {
                    scopes: scopes.join(", "),
                    package_rule: settings
                        .policy
                        .package_rules
                        .first()
                        .map(|r| r.name.clone()),
                });
            }
        }
        let namespace = match &owner {
            Owner::Org(o) | Owner::User(o) => o.to_lowercase(),
            Owner::AuthenticatedUser => match &info.login {
                Some(l) => l.to_lowercase(),
                None => return Err(CliError::UnknownUser),
            },
        };
        let registry = RegistryClient::new(
            registry_url.clone(),
            Auth::Basic {
                username: info.login.clone().unwrap_or_else(|| "regsweep".to_string()),
                password: token.clone(),
            },
            OciOptions {
                user_agent: USER_AGENT.to_string(),
                concurrency: settings.registry_concurrency,
                cache_dir: settings.cache_dir.clone(),
                redactor: crate::redact::global().clone(),
                ..OciOptions::default()
            },
        )?;
        let store = match (&settings.cache_dir, settings.inventory_cache) {
            (Some(dir), true) => Some(inventory::Store::new(dir, api_url, &namespace)),
            _ => None,
        };
        Ok(GithubSource {
            client,
            registry,
            owner,
            namespace,
            registry_url: registry_url.clone(),
            token: token.clone(),
            info,
            tags: std::sync::OnceLock::new(),
            inventory: store,
            from_cache: Mutex::new(HashMap::new()),
            gone: Mutex::new(HashMap::new()),
        })
    }

    /// The selected packages, and the selected ones that cannot be read.
    async fn package_names(
        &self,
        selection: &PackageSelection,
        progress: &Progress,
    ) -> Result<(Vec<PackageSummary>, Vec<UnreadablePackage>), CliError> {
        let mut unreadable = Vec::new();
        if let PackageSelection::Exact(names) = selection {
            let mut out = Vec::new();
            for name in names {
                match self.client.get_package(&self.owner, name).await {
                    Ok(Some(p)) => out.push(p),
                    Ok(None) => {
                        return Err(CliError::PackageNotFound {
                            package: name.clone(),
                            owner: self.owner.describe(),
                            path: self.client.package_path(&self.owner, name),
                        })
                    }
                    Err(e) => unreadable.push(self.package_error(name, e)?),
                }
            }
            return Ok((out, unreadable));
        }
        progress.note("listing packages");
        // A token that may not list (exit 2, with the help naming `--image-names`)
        // is `CliError::Github` too.
        let all = self.client.list_packages(&self.owner).await?;
        let mut out = Vec::new();
        for entry in all {
            match entry {
                Ok(p) if selection.selects(&p.name) => out.push(p),
                Ok(_) => {}
                // A name that is not selected is not ours to report.
                Err(BadPackageEntry { name: Some(n), .. }) if !selection.selects(&n) => {}
                Err(BadPackageEntry { name, error }) => {
                    let request = format!("GET {}", self.client.packages_path(&self.owner));
                    let (package, problem) = match &name {
                        Some(n) if error.field == "name" => {
                            (n.escape_debug().to_string(), UnreadableKind::InvalidName)
                        }
                        Some(n) => (n.escape_debug().to_string(), UnreadableKind::MalformedEntry),
                        None => (
                            "(a package entry without a name)".to_string(),
                            UnreadableKind::MalformedEntry,
                        ),
                    };
                    unreadable.push(UnreadablePackage {
                        message: format!(
                            "error: package `{package}` of {} cannot be read: {request} listed it with {error}\n  it is not planned and nothing in it is deleted\n  help: {}",
                            self.owner.describe(),
                            if problem == UnreadableKind::InvalidName { NAME_RULES } else { "GitHub does not send such entries; check that nothing between regsweep and the API rewrites answers, and run again" }
                        ),
                        package,
                        problem,
                        version: None,
                        field: Some(error.field),
                    });
                }
            }
        }
        Ok((out, unreadable))
    }

    /// What an error reading package `name` means: a package whose listing cannot
    /// be trusted is unreadable (the run goes on without it); a 403 is a token that
    /// cannot do what the inputs need (exit 2); anything else ends the run.
    fn package_error(&self, name: &str, e: GithubError) -> Result<UnreadablePackage, CliError> {
        match e {
            GithubError::Unreadable {
                ref package,
                ref problem,
                ..
            } => Ok(UnreadablePackage {
                package: package.clone(),
                problem: match problem {
                    ListingProblem::Entry(_) => UnreadableKind::MalformedEntry,
                    ListingProblem::DuplicateId { .. } => UnreadableKind::DuplicateId,
                    ListingProblem::DuplicateDigest { .. } => UnreadableKind::DuplicateDigest,
                    ListingProblem::Body(_) => UnreadableKind::MalformedBody,
                },
                version: problem.version(),
                field: problem.field().map(str::to_string),
                message: format!("error: {}", hints::github(&e)),
            }),
            source @ GithubError::Forbidden { .. } => Err(CliError::PackageForbidden {
                package: name.to_string(),
                owner: self.owner.describe(),
                source: Box::new(source),
            }),
            e => Err(e.into()),
        }
    }

    /// Lists packages, versions and pull requests (the manifests are read when the
    /// command layer asks, [`GithubSource::read_manifests`]).
    pub async fn list(
        &self,
        request: &ListRequest,
        progress: &Progress,
    ) -> Result<Listing, CliError> {
        let (names, mut unreadable) = self.package_names(&request.packages, progress).await?;
        let results = self
            .list_versions(names, request.concurrency, progress)
            .await;
        let mut inventory = Inventory::default();
        for (name, r) in results {
            match r {
                Ok(p) => inventory.packages.push(p),
                Err(e) => unreadable.push(self.package_error(&name, e)?),
            }
        }
        inventory.packages.sort_by(|a, b| a.name.cmp(&b.name));
        unreadable.sort_by(|a, b| a.package.cmp(&b.package));
        tracing::info!(
            "listed {} versions in {} packages",
            inventory.version_count(),
            inventory.packages.len()
        );
        let pulls = self
            .pull_requests(&request.pull_request_repositories)
            .await?;
        let s = self.stats();
        Ok(Listing {
            inventory,
            graph: ManifestGraph::default(),
            pulls,
            options: PlanOptions {
                refusals: regsweep_github::REFUSALS,
            },
            stats: ListingStats {
                api_requests: s.api_requests,
                ..ListingStats::default()
            },
            unreadable,
        })
    }

    /// The versions of each package, listed `concurrency` packages at a time, with a
    /// counter of the versions listed so far.
    async fn list_versions(
        &self,
        names: Vec<PackageSummary>,
        concurrency: usize,
        progress: &Progress,
    ) -> Vec<(String, Result<Package, GithubError>)> {
        let listed = AtomicUsize::new(0);
        let bar = progress.counter("listing versions");
        let results = stream::iter(names)
            .map(|summary| self.list_package(summary, &listed, &bar))
            // The client's pacing and adaptive concurrency bound the requests; twice
            // as many packages keep its slots busy between one's pages.
            .buffer_unordered(concurrency.max(1) * 2)
            .collect()
            .await;
        bar.finish();
        results
    }

    /// One package's versions; `listed` counts the versions of every package.
    async fn list_package(
        &self,
        PackageSummary {
            name,
            visibility,
            version_count,
        }: PackageSummary,
        listed: &AtomicUsize,
        bar: &crate::progress::Task,
    ) -> (String, Result<Package, GithubError>) {
        let before = AtomicUsize::new(0);
        let on_page = |n: usize| {
            let prev = before.swap(n, Ordering::Relaxed);
            let total = listed.fetch_add(n - prev, Ordering::Relaxed) + (n - prev);
            bar.set(total as u64);
        };
        let versions = match &self.inventory {
            Some(store) => inventory::list(
                &self.client,
                &self.owner,
                &name,
                version_count,
                store,
                &on_page,
            )
            .await
            .map(|listed| {
                self.remember_cached(&name, listed.from_cache);
                listed.versions
            }),
            None => {
                self.client
                    .list_versions_expecting(
                        &self.owner,
                        &name,
                        VersionState::Active,
                        version_count,
                        &on_page,
                    )
                    .await
            }
        };
        let package = versions.map(|versions| Package {
            name: name.clone(),
            visibility,
            versions,
        });
        (name, package)
    }

    /// Notes which versions of `package` came from the cache (replacing what an
    /// earlier listing of it noted).
    fn remember_cached(&self, package: &str, from_cache: HashSet<u64>) {
        let mut map = self.from_cache.lock().unwrap_or_else(|p| p.into_inner());
        if from_cache.is_empty() {
            map.remove(package);
        } else {
            map.insert(package.to_string(), from_cache);
        }
    }

    /// Checks, before a plan is used, the versions whose data came from the
    /// inventory cache and that the plan depends on (`source::confirm`): re-reads
    /// each (`GET …/versions/{id}`, one point). Returns the packages where one is
    /// gone or differs from the cache; their cached listing is forgotten, so the
    /// next listing reads them in full.
    pub async fn confirm(&self, plan: &regsweep_core::plan::Plan) -> Result<Vec<String>, CliError> {
        let wanted: Vec<(String, regsweep_core::Version)> = {
            let map = self.from_cache.lock().unwrap_or_else(|p| p.into_inner());
            super::confirm::to_check(plan, &map)
        };
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        tracing::info!(
            "re-reading {} version(s) listed from the inventory cache before relying on them",
            wanted.len()
        );
        let results: Vec<(String, bool)> = stream::iter(wanted)
            .map(|(package, cached)| async move {
                let now = self
                    .client
                    .get_version(&self.owner, &package, cached.id)
                    .await;
                (package, now, cached)
            })
            .buffer_unordered(self.client.concurrency().clamp(1, 4))
            .map(|(package, now, cached)| {
                let same = match now {
                    Ok(Some(v)) => super::confirm::same(&v, &cached),
                    Ok(None) => false,
                    Err(e) => {
                        tracing::warn!(
                            "could not re-read version {} of `{package}` ({e}); listing the package in full instead",
                            cached.id
                        );
                        false
                    }
                };
                (package, same)
            })
            .collect()
            .await;
        let mut stale: Vec<String> = results
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(p, _)| p)
            .collect();
        stale.sort();
        stale.dedup();
        for package in &stale {
            tracing::info!(
                "package `{package}`: a version is not what the inventory cache holds; listing the package in full"
            );
            self.forget_cached(package);
        }
        Ok(stale)
    }

    /// Forgets the cached listing of `package` (file and what this run noted).
    fn forget_cached(&self, package: &str) {
        if let Some(store) = &self.inventory {
            store.forget(package);
        }
        self.from_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(package);
    }

    /// Takes the versions deleted this run out of the cached listings, so the next
    /// run's `version_count` agrees with the cache.
    pub fn save_inventory(&self) {
        let Some(store) = &self.inventory else {
            return;
        };
        let gone = std::mem::take(&mut *self.gone.lock().unwrap_or_else(|p| p.into_inner()));
        for (package, ids) in gone {
            let Some(cached) = store.load(&package) else {
                continue;
            };
            let versions: Vec<regsweep_core::Version> = cached
                .versions
                .into_iter()
                .filter(|v| !ids.contains(&v.id.0))
                .collect();
            let count = cached.complete.then_some(versions.len() as u64);
            store.save(&package, count, cached.complete, &versions);
        }
    }

    /// The pull requests of `repositories`, by number.
    async fn pull_requests(&self, repositories: &[String]) -> Result<PullRequests, CliError> {
        let mut pulls: PullRequests = HashMap::new();
        for repo in repositories {
            let list = self.client.list_pulls(repo, PullState::All).await?;
            pulls.insert(
                repo.clone(),
                list.into_iter()
                    .map(|p| {
                        (
                            p.number,
                            PullInfo {
                                open: p.state == "open",
                                merged_at: p.merged_at,
                                closed_at: p.closed_at,
                            },
                        )
                    })
                    .collect(),
            );
        }
        Ok(pulls)
    }

    /// Reads the manifests asked for from GHCR.
    pub async fn read_manifests(
        &self,
        request: &ReadRequest,
        progress: &Progress,
    ) -> Result<ManifestGraph, CliError> {
        let ns = self.namespace.clone();
        let repo_of = move |p: &str| format!("{ns}/{}", p.to_lowercase());
        super::graph::read(&self.registry, request, &repo_of, progress).await
    }

    /// Deletes one version through the Packages API.
    pub async fn delete(&self, package: &str, d: &Decision) -> DeleteOutcome {
        let outcome = self.delete_version(package, d).await;
        if matches!(outcome, DeleteOutcome::Deleted | DeleteOutcome::AlreadyGone) {
            self.gone
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(package.to_string())
                .or_default()
                .insert(d.id.0);
        }
        outcome
    }

    async fn delete_version(&self, package: &str, d: &Decision) -> DeleteOutcome {
        match self.client.delete_version(&self.owner, package, d.id).await {
            Ok(()) => DeleteOutcome::Deleted,
            Err(DeleteError::NotFound) => DeleteOutcome::AlreadyGone,
            Err(e @ DeleteError::LastTaggedVersion { .. }) => {
                DeleteOutcome::Refused(Why::new(SkipCode::LastTaggedVersion, e.to_string()))
            }
            Err(e @ DeleteError::TooManyDownloads { .. }) => {
                DeleteOutcome::Refused(Why::new(SkipCode::TooManyDownloads, hints::delete(&e)))
            }
            Err(e @ DeleteError::RateLimited { .. }) => {
                DeleteOutcome::BudgetExhausted(hints::delete(&e))
            }
            Err(e @ DeleteError::Forbidden { .. }) => DeleteOutcome::Forbidden(e.to_string()),
            Err(e) => {
                let code = match &e {
                    DeleteError::Other(regsweep_github::GithubError::Transport { .. }) => {
                        FailCode::Network
                    }
                    DeleteError::Other(regsweep_github::GithubError::Status { .. }) => {
                        FailCode::HttpStatus
                    }
                    _ => FailCode::Other,
                };
                DeleteOutcome::Failed(Why::new(code, hints::delete(&e)))
            }
        }
    }

    /// Primary-limit requests left, where known.
    pub fn remaining_requests(&self) -> Option<u32> {
        self.client
            .rate_limit()
            .map(|r| r.remaining.min(u32::MAX as u64) as u32)
    }

    /// Remembers the DELETE pace learnt this run in the cache directory (when one
    /// is given and something was deleted), for the next run to start from.
    pub fn save_pace(&self, cache_dir: Option<&std::path::Path>) {
        let (Some(dir), Some(points_per_minute)) = (cache_dir, self.client.delete_pace()) else {
            return;
        };
        let pace = LearntPace {
            points_per_minute,
            ceiling_points_per_minute: self.client.delete_ceiling(),
            learnt_at: jiff::Timestamp::now(),
        };
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| pace_file::save(dir, pace)) {
            tracing::warn!(
                "could not remember the DELETE pace in {}: {e}; the next run starts at the configured pace",
                dir.display()
            );
        }
    }

    /// Requests made so far: API and registry.
    pub fn stats(&self) -> RequestStats {
        let r = self.registry.stats();
        RequestStats {
            api_requests: self.client.stats().requests,
            manifest_requests: r.manifest_fetches,
            manifest_cache_hits: r.cache_hits,
        }
    }

    /// Restores one version (within GitHub's 30-day window).
    pub async fn restore(
        &self,
        package: &str,
        id: regsweep_core::VersionId,
    ) -> Result<(), DeleteError> {
        // A restored version comes back at its old place in the listing.
        self.forget_cached(package);
        self.client.restore_version(&self.owner, package, id).await
    }

    /// What `GET /user` told about the token (its scopes, whether a user is behind it).
    pub fn token_info(&self) -> &TokenInfo {
        &self.info
    }

    /// Deletes a whole package (`crate::packages` checks the token first).
    pub async fn delete_package(&self, package: &str) -> Result<(), PackageError> {
        self.client.delete_package(&self.owner, package).await
    }

    /// Restores a whole package (within GitHub's 30-day window).
    pub async fn restore_package(&self, package: &str) -> Result<(), PackageError> {
        self.forget_cached(package);
        self.client.restore_package(&self.owner, package).await
    }

    /// The ids of the active (not deleted) versions of `package`.
    pub async fn active_ids(
        &self,
        package: &str,
    ) -> Result<std::collections::HashSet<u64>, regsweep_github::GithubError> {
        let versions = self
            .client
            .list_versions(
                &self.owner,
                package,
                regsweep_github::VersionState::Active,
                &|_| {},
            )
            .await?;
        Ok(versions.into_iter().map(|v| v.id.0).collect())
    }
}
