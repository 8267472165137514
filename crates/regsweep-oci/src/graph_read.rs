//! Reading a package's manifest graph: the manifests asked for and, when asked,
//! recursively the children of every index, fetched with bounded concurrency. 404s
//! are recorded as missing; manifests regsweep cannot parse as failed (the planner
//! treats them as unread, conservatively).

use std::collections::{HashSet, VecDeque};

use futures::stream::{FuturesUnordered, StreamExt};
use regsweep_core::{Digest, ManifestNode, PackageGraph};

use crate::client::RegistryClient;
use crate::error::OciError;
use crate::paths::validate_repository;

impl RegistryClient {
    /// Reads `roots` and every manifest their indexes reference, recursively. With
    /// `with_labels`, each node's `annotations` become its labels (config `Labels`
    /// overridden by annotations).
    pub async fn read_graph(
        &self,
        repo: &str,
        roots: &[Digest],
        with_labels: bool,
    ) -> Result<PackageGraph, OciError> {
        self.read_manifests(repo, roots, with_labels, true).await
    }

    /// Reads `digests`; with `follow_children`, also every manifest their indexes
    /// reference, recursively ([`RegistryClient::read_graph`]). A manifest that
    /// cannot be parsed is recorded in `failed`, a 404 in `missing`.
    pub async fn read_manifests(
        &self,
        repo: &str,
        digests: &[Digest],
        with_labels: bool,
        follow_children: bool,
    ) -> Result<PackageGraph, OciError> {
        let roots = digests;
        validate_repository(repo)?;
        let mut graph = PackageGraph::default();
        let mut seen: HashSet<Digest> = HashSet::new();
        let mut queue: VecDeque<Digest> = VecDeque::new();
        for r in roots {
            if seen.insert(r.clone()) {
                queue.push_back(r.clone());
            }
        }
        let limit = self.inner.options.concurrency.max(1);
        let mut inflight = FuturesUnordered::new();
        loop {
            while inflight.len() < limit {
                let Some(d) = queue.pop_front() else { break };
                inflight.push(self.graph_step(repo, d, with_labels));
            }
            let Some((digest, result)) = inflight.next().await else {
                break;
            };
            match result {
                Ok(Some(node)) => {
                    for child in node.children.iter().filter(|_| follow_children) {
                        if seen.insert(child.digest.clone()) {
                            queue.push_back(child.digest.clone());
                        }
                    }
                    graph.insert(node);
                }
                Ok(None) => graph.missing.push(digest),
                Err(OciError::Manifest(e)) => {
                    tracing::warn!(repo, digest = %digest, error = %e, "cannot read a manifest; leaving it out of the graph");
                    graph.failed.insert(digest);
                }
                Err(e) => return Err(e),
            }
        }
        graph.missing.sort();
        Ok(graph)
    }

    async fn graph_step(
        &self,
        repo: &str,
        digest: Digest,
        with_labels: bool,
    ) -> (Digest, Result<Option<ManifestNode>, OciError>) {
        let result = async {
            let Some(mut node) = self.read_node(repo, &digest).await? else {
                return Ok(None);
            };
            if with_labels {
                node.annotations = self.read_labels(repo, &node).await?;
            }
            Ok(Some(node))
        }
        .await;
        (digest, result)
    }
}
