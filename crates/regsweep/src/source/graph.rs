//! Reading manifests through a registry client, shared by both sources: the
//! packages of a [`ReadRequest`] with bounded concurrency across them, labels when
//! asked, and a progress bar.

use futures::{stream, StreamExt};
use regsweep_core::ManifestGraph;
use regsweep_oci::RegistryClient;

use super::ReadRequest;
use crate::error::CliError;
use crate::progress::Progress;

/// Reads what `request` asks for. `repo_of` maps a package name to its repository
/// path in the registry. A package whose manifests cannot be read at all (the
/// registry does not answer) is left out of the answer, with a warning.
pub async fn read(
    client: &RegistryClient,
    request: &ReadRequest,
    repo_of: &(dyn Fn(&str) -> String + Sync),
    progress: &Progress,
) -> Result<ManifestGraph, CliError> {
    let total = request.reads.values().map(Vec::len).sum::<usize>() as u64;
    let bar = progress.bar("reading manifests", total);
    let results: Vec<_> = stream::iter(request.reads.iter())
        .map(|(name, digests)| {
            let repo = repo_of(name);
            let bar = bar.clone();
            async move {
                let g = client
                    .read_manifests(&repo, digests, request.with_labels, request.follow_children)
                    .await;
                bar.inc(digests.len() as u64);
                (name.clone(), repo, g)
            }
        })
        // The registry client's adaptive concurrency bounds the reads in flight.
        .buffer_unordered(request.concurrency.max(1) * 2)
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
