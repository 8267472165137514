//! Reading the manifest graph of listed packages through a registry client, shared
//! by both sources: bounded concurrency across packages, labels when the policy
//! needs them, and the counts for the report.

use futures::{stream, StreamExt};
use regsweep_core::{ManifestGraph, Package};
use regsweep_oci::RegistryClient;

use crate::progress::Progress;

/// Reads the graph of every package in `packages`. `repo_of` maps a package name
/// to its repository path in the registry.
pub async fn read_graph(
    client: &RegistryClient,
    packages: &[&Package],
    repo_of: &(dyn Fn(&str) -> String + Sync),
    with_labels: bool,
    concurrency: usize,
    progress: &Progress,
) -> anyhow::Result<ManifestGraph> {
    let total = packages.iter().map(|p| p.versions.len()).sum::<usize>() as u64;
    let bar = progress.bar("reading manifests", total);
    let results: Vec<_> = stream::iter(packages.iter())
        .map(|p| {
            let repo = repo_of(&p.name);
            let digests: Vec<_> = p.versions.iter().map(|v| v.digest.clone()).collect();
            let bar = bar.clone();
            async move {
                let g = client.read_graph(&repo, &digests, with_labels).await;
                bar.inc(digests.len() as u64);
                (p.name.clone(), repo, g)
            }
        })
        .buffer_unordered(concurrency.clamp(1, 4))
        .collect()
        .await;
    bar.finish();
    let mut graph = ManifestGraph::default();
    for (name, repo, g) in results {
        match g {
            Ok(pg) => {
                graph.packages.insert(name, pg);
            }
            Err(e) => {
                // Safe: the planner keeps untagged versions of a package it could not read.
                tracing::warn!("cannot read the manifests of {name} ({repo}): {e}; its untagged versions will be kept");
            }
        }
    }
    Ok(graph)
}
