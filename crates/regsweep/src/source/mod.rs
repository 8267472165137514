//! Sources: where the inventory and the manifest graph come from.
//!
//! A source lists what is there (complete, or an error: never a partial listing),
//! reads the manifest graph, and deletes one version at a time for the executor.
//! `github` pairs the Packages API with GHCR's read-only registry surface; `oci`
//! uses the Distribution API alone.

pub mod github;
pub mod graph;
pub mod oci;
pub mod untag;

use regsweep_core::plan::Decision;
use regsweep_core::planner::{PlanOptions, PullRequests};
use regsweep_core::{Inventory, ManifestGraph};

use crate::outcome::{FailCode, SkipCode, Why};
use crate::progress::Progress;
use crate::settings::{Backend, Settings};

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

/// A connected source.
pub enum Source {
    Github(Box<github::GithubSource>),
    Oci(oci::OciSource),
}

impl Source {
    /// Connects and checks credentials (a usage error when they are unusable).
    pub async fn connect(settings: &Settings, for_delete: bool) -> anyhow::Result<Source> {
        match &settings.backend {
            Backend::Github { .. } => Ok(Source::Github(Box::new(
                github::GithubSource::connect(settings, for_delete).await?,
            ))),
            Backend::Oci { .. } => Ok(Source::Oci(oci::OciSource::connect(settings).await?)),
        }
    }

    /// Lists everything the policy needs, completely.
    pub async fn list(&self, settings: &Settings, progress: &Progress) -> anyhow::Result<Listing> {
        match self {
            Source::Github(s) => s.list(settings, progress).await,
            Source::Oci(s) => s.list(settings, progress).await,
        }
    }

    /// Deletes one version.
    pub async fn delete(&self, package: &str, decision: &Decision) -> DeleteOutcome {
        match self {
            Source::Github(s) => s.delete(package, decision).await,
            Source::Oci(s) => s.delete(package, decision).await,
        }
    }

    /// Removes `tag` from version `decision` of `package` (the version stays).
    pub async fn untag(
        &self,
        package: &str,
        decision: &Decision,
        tag: &str,
    ) -> untag::UntagOutcome {
        match self {
            Source::Github(s) => s.untag(package, decision, tag).await,
            Source::Oci(s) => s.untag(package, decision, tag).await,
        }
    }

    /// Puts a removed `tag` back on `digest` (restore of an untag).
    pub async fn retag(
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
    pub fn remaining_requests(&self) -> Option<u32> {
        match self {
            Source::Github(s) => s.remaining_requests(),
            Source::Oci(_) => None,
        }
    }

    /// Remembers the learnt DELETE pace next to the cache (GitHub only).
    pub fn save_pace(&self, settings: &Settings) {
        if let Source::Github(s) = self {
            s.save_pace(settings);
        }
    }

    /// Requests made so far (API and registry).
    pub fn request_count(&self) -> u64 {
        match self {
            Source::Github(s) => s.request_count(),
            Source::Oci(s) => s.request_count(),
        }
    }
}
