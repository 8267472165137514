//! Sources: where the inventory and the manifest graph come from.
//!
//! A source lists what is there (complete, or an error: never a partial listing),
//! reads the manifests it is asked for, and deletes one version at a time for the
//! executor, behind the [`Backend`] trait and its narrow requests. `github` pairs the
//! Packages API with GHCR's read-only registry surface; `oci` uses the Distribution
//! API alone; `memory` (tests) holds everything in memory.

pub mod confirm;
pub mod github;
pub mod graph;
pub mod inventory;
#[cfg(test)]
pub mod memory;
pub mod oci;
pub mod untag;

use std::path::Path;

use regsweep_core::matcher::PatternList;
use regsweep_core::plan::Decision;
use regsweep_core::planner::reads::Reads;
use regsweep_core::planner::{PlanOptions, PullRequests};
use regsweep_core::{Inventory, ManifestGraph};

use crate::error::CliError;
use crate::outcome::{FailCode, SkipCode, Why};
use crate::progress::Progress;
use crate::settings::{Backend as SettingsBackend, Settings};

/// What a source read for planning.
pub struct Listing {
    pub inventory: Inventory,
    pub graph: ManifestGraph,
    pub pulls: PullRequests,
    pub options: PlanOptions,
    /// Requests made while listing and reading (for the report).
    pub stats: ListingStats,
    /// Packages whose inventory could not be read: they are not in `inventory`, so
    /// nothing in them is planned or deleted; reports show them and the exit code
    /// is 1.
    pub unreadable: Vec<UnreadablePackage>,
}

/// A selected package whose listing could not be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnreadablePackage {
    /// The package (or repository) name; for a package entry without a readable
    /// name, a description of the entry.
    pub package: String,
    /// What failed, as a stable code.
    pub problem: UnreadableKind,
    /// The version id concerned, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The field concerned, where known (`metadata.container.tags`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The full message: what happened, what was expected, how to fix.
    pub message: String,
}

/// Why a package could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreadableKind {
    /// An entry of the listing lacks a field or has one of the wrong type.
    MalformedEntry,
    /// The package's name breaks GitHub's package-name rules.
    InvalidName,
    /// The same version id listed twice.
    DuplicateId,
    /// Two versions with the same digest.
    DuplicateDigest,
    /// A listing page (or a registry's list) that is not what the API sends.
    MalformedBody,
    /// A tagged manifest that could not be parsed (`--backend oci`, where the
    /// inventory is read from the manifests).
    UnreadableManifest,
}

/// Request counts for the report.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct ListingStats {
    pub api_requests: u64,
    pub manifest_requests: u64,
    pub manifest_cache_hits: u64,
    /// Tagged versions (image roots) of the packages whose manifests were read.
    pub manifest_roots: u64,
    /// Versions of those packages whose manifest was not read: image manifests, named
    /// by an index read, that no decision depends on.
    pub manifests_not_read: u64,
}

/// The outcome of one deletion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    /// Already gone (deleted by someone else meanwhile).
    AlreadyGone,
    /// GitHub refused for a documented reason: skipped, not failed.
    Refused(Why<SkipCode>),
    /// Failed; the message says why and how to fix.
    Failed(Why<FailCode>),
    /// The token may not delete in this package: every other deletion in it would
    /// fail the same way.
    Forbidden(String),
    /// Rate limits would need a longer wait than allowed: stop, leave the rest.
    BudgetExhausted(String),
}

/// Which packages a listing covers.
#[derive(Clone, Debug)]
pub enum PackageSelection {
    /// These names exactly, looked up one by one.
    Exact(Vec<String>),
    /// Every package the account holds that one of these selectors matches.
    Matching(Vec<PatternList>),
}

impl PackageSelection {
    /// Whether a listed package is selected.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            PackageSelection::Exact(names) => names.iter().any(|n| n == name),
            PackageSelection::Matching(s) => s.iter().any(|s| s.matches(name)),
        }
    }
}

/// What to list.
#[derive(Clone, Debug)]
pub struct ListRequest {
    pub packages: PackageSelection,
    /// Repositories (`owner/name`) whose pull requests the policy needs.
    pub pull_request_repositories: Vec<String>,
    /// Packages listed at once.
    pub concurrency: usize,
}

/// Which manifests to read.
#[derive(Clone, Debug, Default)]
pub struct ReadRequest {
    /// Digests by package name.
    pub reads: Reads,
    /// Read each image's config for its labels too.
    pub with_labels: bool,
    /// Also read, recursively, what the indexes read name, listed or not
    /// (`explain`, `validate`).
    pub follow_children: bool,
    /// Packages read at once.
    pub concurrency: usize,
}

/// What a backend does for a run: list, read manifests, delete one version. It takes
/// narrow requests, never the settings (the command layer turns those into requests
/// once), and never plans: the command layer decides what to read.
#[allow(async_fn_in_trait)]
pub trait Backend: Sync {
    /// Lists packages, versions and pull requests, completely. A backend whose
    /// versions come from the manifests (`oci`) returns the graph it read too.
    async fn list(&self, request: &ListRequest, progress: &Progress) -> Result<Listing, CliError>;
    /// Reads the manifests asked for. A package that cannot be read at all is absent
    /// from the answer (the planner then keeps its untagged versions).
    async fn read_manifests(
        &self,
        request: &ReadRequest,
        progress: &Progress,
    ) -> Result<ManifestGraph, CliError>;
    /// Deletes one version of `package`.
    async fn delete(&self, package: &str, decision: &Decision) -> DeleteOutcome;
    /// Removes `tag` from version `decision` of `package`; the version and its other
    /// tags stay.
    async fn untag(&self, package: &str, decision: &Decision, tag: &str) -> untag::UntagOutcome;
    /// Puts a removed `tag` back on `digest` (the restore of an untag); `placeholder`
    /// is what took the tag, when the journal recorded one.
    async fn retag(
        &self,
        package: &str,
        digest: &regsweep_core::Digest,
        tag: &str,
        placeholder: Option<&regsweep_core::Digest>,
    ) -> untag::RetagOutcome;
    /// Primary-limit requests left, where known.
    fn remaining_requests(&self) -> Option<u32>;
    /// Requests made so far.
    fn stats(&self) -> RequestStats;
    /// Remembers the learnt DELETE pace in `cache_dir`, where the backend has one.
    fn save_pace(&self, _cache_dir: Option<&Path>) {}
    /// Re-reads what `plan` takes from a cached listing ([`confirm`]); returns the
    /// packages whose cached listing turned out stale (the next listing reads them
    /// in full, and the plan must be made again).
    async fn confirm(&self, _plan: &regsweep_core::plan::Plan) -> Result<Vec<String>, CliError> {
        Ok(Vec::new())
    }
    /// Updates the cached listings with what this run deleted, where the backend
    /// keeps any.
    fn save_inventory(&self) {}
}

/// Requests a backend made so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// API requests (`oci`: every registry request).
    pub api_requests: u64,
    pub manifest_requests: u64,
    pub manifest_cache_hits: u64,
}

/// A connected source.
pub enum Source {
    Github(Box<github::GithubSource>),
    Oci(oci::OciSource),
}

impl Source {
    /// Connects and checks credentials (a usage error when they are unusable).
    pub async fn connect(settings: &Settings, for_delete: bool) -> Result<Source, CliError> {
        match &settings.backend {
            SettingsBackend::Github { .. } => Ok(Source::Github(Box::new(
                github::GithubSource::connect(settings, for_delete).await?,
            ))),
            SettingsBackend::Oci { .. } => {
                Ok(Source::Oci(oci::OciSource::connect(settings).await?))
            }
        }
    }
}

impl Backend for Source {
    async fn list(&self, request: &ListRequest, progress: &Progress) -> Result<Listing, CliError> {
        match self {
            Source::Github(s) => s.list(request, progress).await,
            Source::Oci(s) => s.list(request, progress).await,
        }
    }

    async fn read_manifests(
        &self,
        request: &ReadRequest,
        progress: &Progress,
    ) -> Result<ManifestGraph, CliError> {
        match self {
            Source::Github(s) => s.read_manifests(request, progress).await,
            Source::Oci(s) => s.read_manifests(request, progress).await,
        }
    }

    async fn delete(&self, package: &str, decision: &Decision) -> DeleteOutcome {
        match self {
            Source::Github(s) => s.delete(package, decision).await,
            Source::Oci(s) => s.delete(package, decision).await,
        }
    }

    /// Removes `tag` from version `decision` of `package` (the version stays).
    async fn untag(&self, package: &str, decision: &Decision, tag: &str) -> untag::UntagOutcome {
        match self {
            Source::Github(s) => s.untag(package, decision, tag).await,
            Source::Oci(s) => s.untag(package, decision, tag).await,
        }
    }

    /// Puts a removed `tag` back on `digest` (restore of an untag).
    async fn retag(
        &self,
        package: &str,
        digest: &regsweep_core::Digest,
        tag: &str,
        placeholder: Option<&regsweep_core::Digest>,
    ) -> untag::RetagOutcome {
        match self {
            Source::Github(s) => s.retag(package, digest, tag, placeholder).await,
            Source::Oci(s) => s.retag(package, digest, tag, placeholder).await,
        }
    }

    /// Primary-limit requests left, where known.
    fn remaining_requests(&self) -> Option<u32> {
        match self {
            Source::Github(s) => s.remaining_requests(),
            Source::Oci(_) => None,
        }
    }

    fn stats(&self) -> RequestStats {
        match self {
            Source::Github(s) => s.stats(),
            Source::Oci(s) => s.stats(),
        }
    }

    fn save_pace(&self, cache_dir: Option<&Path>) {
        if let Source::Github(s) = self {
            s.save_pace(cache_dir);
        }
    }

    async fn confirm(&self, plan: &regsweep_core::plan::Plan) -> Result<Vec<String>, CliError> {
        match self {
            Source::Github(s) => s.confirm(plan).await,
            Source::Oci(_) => Ok(Vec::new()),
        }
    }

    fn save_inventory(&self) {
        if let Source::Github(s) = self {
            s.save_inventory();
        }
    }
}
