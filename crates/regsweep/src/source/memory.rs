//! An in-memory backend for unit tests: an inventory and a complete manifest graph
//! held in memory, scripted answers to deletions, a fixed budget, and a record of
//! every request (manifests read, deletions asked, in order).

use std::collections::HashMap;
use std::sync::Mutex;

use regsweep_core::plan::Decision;
use regsweep_core::planner::PlanOptions;
use regsweep_core::{Digest, Inventory, ManifestGraph};

use super::{Backend, DeleteOutcome, ListRequest, Listing, ReadRequest, RequestStats};
use crate::error::CliError;
use crate::progress::Progress;

/// What a test sets up, and what the backend was asked.
#[derive(Default)]
pub struct MemoryBackend {
    pub inventory: Inventory,
    /// Every manifest there is; a read of a digest not in it fails.
    pub graph: ManifestGraph,
    /// Answers by version id; `Deleted` otherwise.
    pub answers: HashMap<u64, DeleteOutcome>,
    /// Primary-limit requests left; each deletion spends one.
    pub remaining: Mutex<Option<u32>>,
    /// The ids it was asked to delete, in order.
    pub deletes: Mutex<Vec<u64>>,
    /// The manifests it was asked to read, in order, as (package, digest).
    pub reads: Mutex<Vec<(String, Digest)>>,
    /// The tags it was asked to remove, in order, as (package, id, tag).
    pub untags: Mutex<Vec<(String, u64, String)>>,
    /// Called before each deletion is answered (to check the journal, cancel…).
    #[allow(clippy::type_complexity)]
    pub before_delete: Option<Box<dyn Fn(&Decision) + Sync>>,
}

impl MemoryBackend {
    /// A backend holding `inventory` and `graph`.
    pub fn new(inventory: Inventory, graph: ManifestGraph) -> MemoryBackend {
        MemoryBackend {
            inventory,
            graph,
            ..MemoryBackend::default()
        }
    }

    /// The ids asked to delete so far.
    pub fn deleted_ids(&self) -> Vec<u64> {
        self.deletes.lock().unwrap().clone()
    }
}

impl Backend for MemoryBackend {
    async fn list(&self, request: &ListRequest, _progress: &Progress) -> Result<Listing, CliError> {
        let mut inventory = self.inventory.clone();
        inventory
            .packages
            .retain(|p| request.packages.selects(&p.name));
        Ok(Listing {
            inventory,
            graph: ManifestGraph::default(),
            pulls: Default::default(),
            options: PlanOptions {
                refusals: regsweep_github::REFUSALS,
            },
            stats: Default::default(),
            unreadable: Vec::new(),
        })
    }

    async fn read_manifests(
        &self,
        request: &ReadRequest,
        _progress: &Progress,
    ) -> Result<ManifestGraph, CliError> {
        let mut out = ManifestGraph::default();
        let mut log = self.reads.lock().unwrap();
        for (name, digests) in &request.reads {
            let pg = out.package_mut(name);
            for d in digests {
                log.push((name.clone(), d.clone()));
                match self.graph.package(name).and_then(|g| g.get(d)) {
                    Some(node) => pg.insert(node.clone()),
                    None => {
                        pg.failed.insert(d.clone());
                    }
                }
            }
        }
        Ok(out)
    }

    async fn delete(&self, _package: &str, d: &Decision) -> DeleteOutcome {
        if let Some(f) = &self.before_delete {
            f(d);
        }
        self.deletes.lock().unwrap().push(d.id.0);
        if let Some(left) = self.remaining.lock().unwrap().as_mut() {
            *left = left.saturating_sub(1);
        }
        self.answers
            .get(&d.id.0)
            .cloned()
            .unwrap_or(DeleteOutcome::Deleted)
    }

    async fn untag(&self, package: &str, d: &Decision, tag: &str) -> super::untag::UntagOutcome {
        self.untags
            .lock()
            .unwrap()
            .push((package.to_string(), d.id.0, tag.to_string()));
        super::untag::UntagOutcome::Untagged { placeholder: None }
    }

    async fn retag(
        &self,
        _package: &str,
        _digest: &Digest,
        _tag: &str,
        _placeholder: Option<&Digest>,
    ) -> super::untag::RetagOutcome {
        super::untag::RetagOutcome::Restored
    }

    fn remaining_requests(&self) -> Option<u32> {
        *self.remaining.lock().unwrap()
    }

    fn stats(&self) -> RequestStats {
        RequestStats {
            api_requests: self.deletes.lock().unwrap().len() as u64 + 1,
            manifest_requests: self.reads.lock().unwrap().len() as u64,
            manifest_cache_hits: 0,
        }
    }
}
