//! The running emulator: builds the world from a scenario (pushing registry-backed
//! images into a fresh `LocalRegistry`), serves it on 127.0.0.1, and lets tests and the
//! binary inspect and steer it.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use regsweep_core::VersionId;
use tokio::sync::oneshot;
use url::Url;

use crate::backing::Backing;
use crate::generate;
use crate::options::{FaultConfig, SimOptions};
use crate::push;
use crate::registry::LocalRegistry;
use crate::scenario::Scenario;
use crate::server::{self, Shared};
use crate::stats::{LoggedRequest, SimStats};
use crate::world::{whole_seconds, SimImage, SimManifest, SimVersion, StoredManifest, World};

/// A running emulator. Stopped by [`Sim::shutdown`] (or when dropped, abruptly).
pub struct Sim {
    shared: Arc<Shared>,
    registry: Option<LocalRegistry>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    url: Url,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("url", &self.url.as_str())
            .finish()
    }
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

fn ago(now: Timestamp, d: Duration) -> Timestamp {
    now.checked_sub(signed(d)).unwrap_or(Timestamp::MIN)
}

impl Sim {
    /// Starts the emulator: a `LocalRegistry` when the scenario has registry-backed
    /// images (they are pushed before this returns), then the server on 127.0.0.1:0.
    pub async fn start(scenario: Scenario, mut options: SimOptions) -> anyhow::Result<Sim> {
        options.undisclosed_deletes_per_minute = options
            .undisclosed_deletes_per_minute
            .or(scenario.undisclosed_deletes_per_minute);
        let frozen = options.now.or(scenario.now).map(whole_seconds);
        let now = frozen.unwrap_or_else(|| whole_seconds(Timestamp::now()));
        let registry = if scenario.has_registry_images() {
            Some(tokio::task::spawn_blocking(LocalRegistry::start).await??)
        } else {
            None
        };
        let backing = registry.as_ref().map(|r| Backing::new(r.url().clone()));
        let world = build_world(&scenario, now, backing.as_ref()).await?;
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", options.port.unwrap_or(0))).await?;
        let addr = listener.local_addr()?;
        let origin = format!("http://{addr}");
        let url = Url::parse(&origin)?;
        let shared = Arc::new(Shared::new(world, options, frozen, backing, origin));
        let app = server::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("emulator server stopped: {e}");
            }
        });
        Ok(Sim {
            shared,
            registry,
            stop: Some(stop),
            task: Some(task),
            url,
        })
    }

    /// The GitHub API base, e.g. `http://127.0.0.1:PORT` (also served under `/api/v3`).
    pub fn api_url(&self) -> Url {
        self.url.clone()
    }

    /// GHCR's registry surface (`/token`, `/v2/…`), on the same server.
    pub fn registry_url(&self) -> Url {
        self.url.clone()
    }

    /// The real registry behind the emulator, when the scenario has images.
    pub fn backing_registry(&self) -> Option<&LocalRegistry> {
        self.registry.as_ref()
    }

    /// What scenario image `handle` of `account/package` became.
    pub fn image(&self, account: &str, package: &str, handle: &str) -> Option<SimImage> {
        self.shared
            .world()
            .package(account, package)?
            .images
            .get(handle)
            .cloned()
    }

    /// Active versions, in GitHub's listing order.
    pub fn versions(&self, account: &str, package: &str) -> Vec<SimVersion> {
        self.listed(account, package, false)
    }

    /// Deleted versions, in GitHub's listing order.
    pub fn deleted(&self, account: &str, package: &str) -> Vec<SimVersion> {
        self.listed(account, package, true)
    }

    fn listed(&self, account: &str, package: &str, deleted: bool) -> Vec<SimVersion> {
        self.shared
            .world()
            .package(account, package)
            .map(|p| p.listed(deleted).map(|v| v.to_sim()).collect())
            .unwrap_or_default()
    }

    /// Makes the API report `tags` for version `id` of `account/package`, whatever
    /// bytes they hold (as a hostile or broken server could); the registry is not
    /// touched. Returns whether the version exists.
    pub fn set_listed_tags(
        &self,
        account: &str,
        package: &str,
        id: u64,
        tags: Vec<String>,
    ) -> bool {
        let mut world = self.shared.world();
        let Some(v) = world
            .package_mut(account, package)
            .and_then(|p| p.versions.iter_mut().find(|v| v.id == id))
        else {
            return false;
        };
        v.tags = tags;
        true
    }

    /// The account changing as a week would, for tests of what a cached listing
    /// misses: pushes one metadata-only version (no manifest in any registry) per
    /// entry of `tags` into `account/package`, created at the emulator's now, newest
    /// last, each taking its tags from whichever version held them. Returns their ids
    /// (empty when the package does not exist).
    pub fn push_versions(&self, account: &str, package: &str, tags: Vec<Vec<String>>) -> Vec<u64> {
        use sha2::{Digest as _, Sha256};
        static PUSHED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = self.shared.now();
        let mut world = self.shared.world();
        let mut ids = Vec::with_capacity(tags.len());
        for t in tags {
            let n = PUSHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let hex = hex::encode(Sha256::digest(
                format!("pushed/{account}/{package}/{n}/{}", now.as_nanosecond()).as_bytes(),
            ));
            let Ok(digest) = regsweep_core::Digest::from_sha256_hex(&hex) else {
                continue;
            };
            match world.push_version(account, package, digest, t, now, now, 0, None) {
                Some(id) => ids.push(id),
                None => return Vec::new(),
            }
        }
        if let Some(p) = world.package_mut(account, package) {
            p.finish();
        }
        ids
    }

    /// Deletes version `id` of `account/package` as someone else would (GitHub's
    /// refusals do not apply; the registry is not touched: for metadata-only
    /// versions). Returns whether an active version was deleted.
    pub fn delete_version(&self, account: &str, package: &str, id: u64) -> bool {
        let now = self.shared.now();
        let mut world = self.shared.world();
        world
            .package_mut(account, package)
            .and_then(|p| p.delete_version(id, now, false))
            .is_some()
    }

    /// Restores deleted version `id` of `account/package` (within the restore
    /// window; the registry is not touched). Returns whether it was restored.
    pub fn restore_version(&self, account: &str, package: &str, id: u64) -> bool {
        let now = self.shared.now();
        let mut world = self.shared.world();
        world
            .package_mut(account, package)
            .and_then(|p| p.restore_version(id, now))
            .is_some()
    }

    /// Moves `tag` of `account/package` onto active version `id` (a rollback:
    /// `stable` retagged to an old image), taking it from whichever version held it;
    /// the version's `updated_at` becomes now and it keeps its place in the listing.
    /// The registry is not touched. Returns whether the version exists.
    pub fn move_tag(&self, account: &str, package: &str, tag: &str, id: u64) -> bool {
        let now = self.shared.now();
        let mut world = self.shared.world();
        world
            .package_mut(account, package)
            .is_some_and(|p| p.move_tag(tag, id, now))
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.faults.set(faults);
    }

    /// Counters since start.
    pub fn stats(&self) -> SimStats {
        self.shared.recorder.stats()
    }

    /// Requests being served right now (API surface).
    pub fn in_flight(&self) -> u32 {
        self.shared.recorder.in_flight()
    }

    /// Every request served, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.recorder.requests()
    }

    /// Stops serving and waits for open requests; the registry stops too.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.registry.take();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn build_world(
    scenario: &Scenario,
    now: Timestamp,
    backing: Option<&Backing>,
) -> anyhow::Result<World> {
    let mut world = World::new(&scenario.tokens, &scenario.pulls);
    for acc in &scenario.accounts {
        world.add_account(&acc.name, acc.kind);
        for pkg in &acc.packages {
            world.add_package(&acc.name, &pkg.name, pkg.visibility, now);
            let repository = crate::api::repository(&acc.name, &pkg.name);
            if let Some(g) = pkg.generate {
                for v in generate::versions(&acc.name, &pkg.name, g.versions, g.seed, now) {
                    world.push_version(
                        &acc.name,
                        &pkg.name,
                        v.digest,
                        v.tags,
                        v.created_at,
                        v.created_at,
                        v.downloads,
                        None,
                    );
                }
            }
            let mut to_delete = Vec::new();
            for image in &pkg.images {
                let made = match backing {
                    Some(b) => push::push(b, &repository, image).await?,
                    None => push::synthesise(&repository, image),
                };
                let created = ago(now, image.age);
                let updated = image.updated_age.map_or(created, |u| ago(now, u));
                let mut manifests = Vec::new();
                let mut root = None;
                for m in made {
                    let downloads = if m.root { image.downloads } else { 0 };
                    let stored = m
                        .manifest
                        .map(|(media_type, body)| StoredManifest { media_type, body });
                    let Some(id) = world.push_version(
                        &acc.name,
                        &pkg.name,
                        m.digest.clone(),
                        m.tags.clone(),
                        created,
                        updated,
                        downloads,
                        stored,
                    ) else {
                        continue;
                    };
                    if m.root {
                        root = Some((VersionId(id), m.digest.clone()));
                    }
                    manifests.push(SimManifest {
                        id: VersionId(id),
                        digest: m.digest,
                        role: m.role,
                        tag: m.tags.first().cloned(),
                    });
                }
                if let Some(d) = image.deleted_age {
                    to_delete.push((
                        manifests
                            .iter()
                            .map(|m| (m.id, m.digest.clone()))
                            .collect::<Vec<_>>(),
                        ago(now, d),
                    ));
                }
                if let (Some(root), Some(p)) = (root, world.package_mut(&acc.name, &pkg.name)) {
                    p.images
                        .insert(image.handle.clone(), SimImage { root, manifests });
                }
            }
            if let Some(p) = world.package_mut(&acc.name, &pkg.name) {
                p.finish();
                for (versions, when) in &to_delete {
                    for (id, digest) in versions {
                        if let Some(r) = p.delete_version(id.0, *when, false) {
                            if let (true, Some(b)) = (r.has_manifest, backing) {
                                b.delete(&repository, digest).await;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(world)
}
