//! The plan: one decision per version, findings about the graph, and the delete order.
//!
//! A plan is data. The planner produces it; the executor follows `order`; reports
//! render it. It is serialisable as the `plan` part of regsweep's JSON output.

use jiff::Timestamp;
use serde::Serialize;

use crate::model::{Digest, VersionId};
use crate::reason::{Reason, VersionRef};

/// What happens to a version.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Keep,
    Delete,
    /// Would be deleted (or untagged), but GitHub will refuse: left alone, with the
    /// reason.
    Skip,
    /// Stays, with the tags in [`Decision::untag`] removed; the image, its other
    /// tags and everything it needs stay.
    Untag,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Keep => "keep",
            Action::Delete => "delete",
            Action::Skip => "skip",
            Action::Untag => "untag",
        })
    }
}

/// The decision about one version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: VersionId,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub action: Action,
    /// The deciding reason first, then supporting ones.
    pub reasons: Vec<Reason>,
    /// For [`Action::Untag`]: the tags removed, in the version's tag order (never
    /// all of them when a keep rule keeps it). Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untag: Vec<String>,
}

/// Something noticed about the graph, independent of the decisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Finding {
    /// An untagged manifest that no index, subject or cosign tag accounts for.
    Orphan { version: VersionRef },
    /// An index none of whose children exist any more.
    Ghost {
        index: VersionRef,
        missing: Vec<Digest>,
    },
    /// An index some of whose children are gone.
    Partial {
        index: VersionRef,
        missing: Vec<Digest>,
    },
    /// A signature, attestation or referrer whose subject is gone.
    DanglingArtifact {
        version: VersionRef,
        subject: Digest,
    },
    /// A manifest that could not be read.
    Unread { version: VersionRef },
    /// The package's manifests were not read (`--graph skip`), and that kept
    /// `kept` untagged versions a delete rule selected.
    NotRead { kept: usize },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Orphan { version } => {
                write!(f, "orphan: {version} is untagged and nothing references it")
            }
            Finding::Ghost { index, missing } => write!(
                f,
                "ghost image: {index} lists {} manifest(s), none of which exist",
                missing.len()
            ),
            Finding::Partial { index, missing } => write!(
                f,
                "partial image: {index} is missing {} of its manifests ({})",
                missing.len(),
                missing
                    .iter()
                    .map(Digest::short)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Finding::DanglingArtifact { version, subject } => {
                write!(
                    f,
                    "dangling artifact: {version} is about {}, which is gone",
                    subject.short()
                )
            }
            Finding::Unread { version } => {
                write!(f, "unread: the manifest of {version} could not be read")
            }
            Finding::NotRead { kept } => write!(
                f,
                "manifests not read: {kept} untagged version(s) a rule selected are kept for safety (read the graph to delete them safely)"
            ),
        }
    }
}

impl Finding {
    /// Whether this finding means a tagged image is broken (`validate` fails on it).
    pub fn is_broken_image(&self) -> bool {
        matches!(self, Finding::Ghost { .. } | Finding::Partial { .. })
    }
}

/// The plan for one package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackagePlan {
    pub name: String,
    /// One decision per listed version, newest first.
    pub decisions: Vec<Decision>,
    pub findings: Vec<Finding>,
    /// Whether the package is deleted as a whole, when a package rule names it. A
    /// deleted package's versions are all `Delete` (first reason
    /// `deleted_with_package`) and are not in `Plan::order`: one request deletes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<crate::package_decision::PackageDecision>,
}

impl PackagePlan {
    /// Number of decisions with `action`.
    pub fn count(&self, action: Action) -> usize {
        self.decisions.iter().filter(|d| d.action == action).count()
    }
}

/// A position in the plan: package index and decision index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PlanRef {
    pub package: usize,
    pub decision: usize,
}

/// The whole plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
pub struct Plan {
    pub packages: Vec<PackagePlan>,
    /// Every `Delete` decision exactly once (except those of packages deleted as a
    /// whole, see [`Plan::deleted_packages`]), in the order to execute: oldest images
    /// first; within an image, artifacts about a manifest before it and an index
    /// before its children, so stopping anywhere never leaves a tag pointing at a
    /// missing manifest.
    pub order: Vec<PlanRef>,
    /// `order` cut into runs (their lengths, in order): one image and what goes
    /// with it. Runs are independent; within a run, deletions must happen in order,
    /// and a failure stops the rest of its run.
    pub runs: Vec<usize>,
    /// Every `Untag` decision exactly once, oldest version first. The executor
    /// untags after the deletions; each untag is independent of the others.
    pub untags: Vec<PlanRef>,
}

impl Plan {
    /// Number of tags the plan removes from versions that stay.
    pub fn untag_count(&self) -> usize {
        self.untags
            .iter()
            .map(|&r| self.decision(r).untag.len())
            .sum()
    }

    /// Number of decisions with `action`, across packages.
    pub fn count(&self, action: Action) -> usize {
        self.packages.iter().map(|p| p.count(action)).sum()
    }

    /// The decision at `r`.
    pub fn decision(&self, r: PlanRef) -> &Decision {
        &self.packages[r.package].decisions[r.decision]
    }

    /// The runs of `order`, as ranges of positions in it.
    pub fn run_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let mut at = 0;
        self.runs
            .iter()
            .map(|&len| {
                let r = at..(at + len).min(self.order.len());
                at = r.end;
                r
            })
            .collect()
    }

    /// The packages deleted as a whole (by index), in name order.
    pub fn deleted_packages(&self) -> Vec<usize> {
        use crate::package_decision::PackageAction;
        (0..self.packages.len())
            .filter(|&i| {
                self.packages[i]
                    .package
                    .as_ref()
                    .is_some_and(|d| d.action == PackageAction::Delete)
            })
            .collect()
    }

    /// All findings with their package name.
    pub fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.packages
            .iter()
            .flat_map(|p| p.findings.iter().map(move |f| (p.name.as_str(), f)))
    }
}
