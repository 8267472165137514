//! The plain OCI source: any Distribution registry. Versions are the manifests
//! reachable from the repositories' tags (plus their children and referrers);
//! deletion is `DELETE /v2/<repo>/manifests/<digest>`.
//!
//! A registry has no version ids or timestamps: ids are assigned in a stable order
//! (by digest), and a manifest's time is the `org.opencontainers.image.created`
//! annotation or label, else its image config's `created`; an index without one is
//! as new as its newest child, an artifact without one as its subject; what has no
//! time at all counts from the epoch (so age conditions treat it as old: pair the
//! OCI backend with tag rules for such images).

use std::collections::{BTreeMap, BTreeSet};

use regsweep_core::graph::CREATED_LABEL;
use regsweep_core::plan::Decision;
use regsweep_core::planner::PlanOptions;
use regsweep_core::{Digest, Inventory, ManifestGraph, Package, PackageGraph, Version, VersionId};
use regsweep_oci::{Auth, OciError, OciOptions, RegistryClient};

use super::{
    DeleteOutcome, ListRequest, Listing, ListingStats, PackageSelection, ReadRequest, RequestStats,
    UnreadableKind, UnreadablePackage,
};
use crate::error::CliError;
use crate::outcome::{FailCode, Why};
use crate::progress::Progress;
use crate::settings::{Backend, Settings};

/// A connected OCI source.
pub struct OciSource {
    client: RegistryClient,
}

mod untag;

impl OciSource {
    /// Connects (no request yet).
    pub async fn connect(settings: &Settings) -> Result<OciSource, CliError> {
        let Backend::Oci {
            registry_url,
            username,
            password,
        } = &settings.backend
        else {
            unreachable!("OciSource::connect on an OCI backend only");
        };
        let auth = match (username, password) {
            (Some(u), Some(p)) => Auth::Basic {
                username: u.clone(),
                password: p.clone(),
            },
            (None, Some(p)) => Auth::Bearer(p.clone()),
            _ => Auth::Anonymous,
        };
        let client = RegistryClient::new(
            registry_url.clone(),
            auth,
            OciOptions {
                concurrency: settings.registry_concurrency,
                cache_dir: settings.cache_dir.clone(),
                redactor: crate::redact::global().clone(),
                ..OciOptions::default()
            },
        )?;
        Ok(OciSource { client })
    }

    /// Lists repositories (catalog, filtered by the selectors), their tags, and
    /// the graph from every tagged manifest down.
    pub async fn list(
        &self,
        request: &ListRequest,
        progress: &Progress,
    ) -> Result<Listing, CliError> {
        let repos = match &request.packages {
            PackageSelection::Exact(names) => names.clone(),
            selection @ PackageSelection::Matching(_) => {
                progress.note("listing repositories");
                self.client
                    .catalog()
                    .await?
                    .into_iter()
                    .filter(|r| selection.selects(r))
                    .collect()
            }
        };
        let mut inventory = Inventory::default();
        let mut graph = ManifestGraph::default();
        let mut unreadable = Vec::new();
        for repo in repos {
            let tags = match self.client.list_tags(&repo).await {
                Ok(tags) => tags,
                // A tag list that is not one: this repository's inventory is unknown.
                Err(e @ OciError::BadResponse { .. }) => {
                    unreadable.push(unreadable_repo(&repo, UnreadableKind::MalformedBody, &e));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let mut tag_of: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
            for t in tags {
                if let Some((d, _)) = self.client.head_manifest(&repo, &t).await? {
                    tag_of.entry(d).or_default().push(t);
                }
            }
            let roots: Vec<Digest> = tag_of.keys().cloned().collect();
            let mut pg = self.client.read_graph(&repo, &roots, true).await?;
            // The inventory is made from the graph: a tagged manifest that could not be
            // parsed would be absent from it, and what it needs could then be deleted
            // with another image as unreferenced. Leave such a repository alone.
            if let Some(d) = roots
                .iter()
                .find(|d| !pg.nodes.contains_key(*d) && !pg.missing.contains(*d))
            {
                let tags = tag_of.get(d).map(|t| t.join(", ")).unwrap_or_default();
                unreadable.push(UnreadablePackage {
                    package: repo.clone(),
                    problem: UnreadableKind::UnreadableManifest,
                    version: None,
                    field: None,
                    message: format!(
                        "error: repository `{repo}` cannot be read: the manifest {d} (tagged {tags}) could not be parsed\n  it is not planned and nothing in it is deleted: what that manifest needs is unknown\n  help: check the manifest with `GET /v2/{repo}/manifests/{d}`; regsweep reads OCI and Docker v2 manifests and indexes"
                    ),
                });
                continue;
            }
            // Referrers of every manifest, where the registry has the API.
            let mut all: BTreeSet<Digest> = pg.nodes.keys().cloned().collect();
            let mut extra = Vec::new();
            for d in all.clone() {
                if let Some(refs) = self.client.referrers(&repo, &d).await? {
                    extra.extend(refs.into_iter().map(|r| r.digest));
                }
            }
            extra.retain(|d| !all.contains(d));
            if !extra.is_empty() {
                let more = self.client.read_graph(&repo, &extra, true).await?;
                pg.nodes.extend(more.nodes);
            }
            all = pg.nodes.keys().cloned().collect();
            let times = manifest_times(&pg);
            let versions = all
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let ts = times.get(d).copied().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                    Version {
                        id: VersionId(i as u64 + 1),
                        digest: d.clone(),
                        tags: tag_of.get(d).cloned().unwrap_or_default(),
                        created_at: ts,
                        updated_at: ts,
                        downloads: None,
                    }
                })
                .collect();
            inventory.packages.push(Package {
                name: repo.clone(),
                visibility: None,
                versions,
            });
            graph.packages.insert(repo, pg);
        }
        let s = self.client.stats();
        Ok(Listing {
            inventory,
            graph,
            pulls: Default::default(),
            // A Distribution registry refuses no deletion the planner could predict.
            options: PlanOptions::default(),
            stats: ListingStats {
                api_requests: s.requests,
                manifest_requests: s.manifest_fetches,
                manifest_cache_hits: s.cache_hits,
                ..ListingStats::default()
            },
            unreadable,
        })
    }

    /// Reads the manifests asked for (the listing read every manifest a tag reaches
    /// already, so the command layer asks for none unless told to read everything).
    pub async fn read_manifests(
        &self,
        request: &ReadRequest,
        progress: &Progress,
    ) -> Result<ManifestGraph, CliError> {
        super::graph::read(&self.client, request, &|p: &str| p.to_string(), progress).await
    }

    /// Deletes a manifest by digest.
    pub async fn delete(&self, repo: &str, d: &Decision) -> DeleteOutcome {
        match self.client.delete_manifest(repo, &d.digest).await {
            Ok(()) => DeleteOutcome::Deleted,
            Err(e) if e.is_not_found() => DeleteOutcome::AlreadyGone,
            Err(e) => {
                let code = match &e {
                    regsweep_oci::OciError::Transport { .. } => FailCode::Network,
                    regsweep_oci::OciError::Status { .. } => FailCode::HttpStatus,
                    regsweep_oci::OciError::Forbidden { .. } => FailCode::Forbidden,
                    _ => FailCode::Other,
                };
                DeleteOutcome::Failed(Why::new(code, e.to_string()))
            }
        }
    }

    /// Registry requests made so far.
    pub fn stats(&self) -> RequestStats {
        let s = self.client.stats();
        RequestStats {
            api_requests: s.requests,
            manifest_requests: s.manifest_fetches,
            manifest_cache_hits: s.cache_hits,
        }
    }
}

/// A repository whose tag list is not one.
fn unreadable_repo(repo: &str, problem: UnreadableKind, e: &OciError) -> UnreadablePackage {
    UnreadablePackage {
        package: repo.to_string(),
        problem,
        version: None,
        field: None,
        message: format!(
            "error: repository `{repo}` cannot be read: {e}\n  it is not planned and nothing in it is deleted\n  help: check the registry URL points at an OCI Distribution registry, and that nothing between regsweep and it rewrites answers"
        ),
    }
}

/// Each manifest's time (see the module docs): its own `created`, else its newest
/// child's (an index), else its subject's (an artifact).
fn manifest_times(pg: &PackageGraph) -> BTreeMap<Digest, jiff::Timestamp> {
    fn own(pg: &PackageGraph, d: &Digest) -> Option<jiff::Timestamp> {
        pg.get(d)?
            .annotations
            .get(CREATED_LABEL)?
            .parse::<jiff::Timestamp>()
            .ok()
    }
    fn derived(
        pg: &PackageGraph,
        d: &Digest,
        memo: &mut BTreeMap<Digest, Option<jiff::Timestamp>>,
        depth: usize,
    ) -> Option<jiff::Timestamp> {
        if let Some(t) = memo.get(d) {
            return *t;
        }
        // Content addressing makes the graph acyclic; the depth bound guards
        // against a malformed registry all the same.
        if depth > 16 {
            return None;
        }
        let node = pg.get(d)?;
        let t = own(pg, d)
            .or_else(|| {
                node.children
                    .iter()
                    .filter_map(|c| derived(pg, &c.digest, memo, depth + 1))
                    .max()
            })
            .or_else(|| {
                node.subject
                    .as_ref()
                    .and_then(|s| derived(pg, s, memo, depth + 1))
            });
        memo.insert(d.clone(), t);
        t
    }
    let mut memo = BTreeMap::new();
    let digests: Vec<Digest> = pg.nodes.keys().cloned().collect();
    digests
        .iter()
        .filter_map(|d| derived(pg, d, &mut memo, 0).map(|t| (d.clone(), t)))
        .collect()
}
