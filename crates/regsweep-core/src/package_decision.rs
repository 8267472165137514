//! The decision about a whole package: whether a package rule (`action:
//! delete_package`) deletes it, and why or why not.
//!
//! This module owns the data and how it reads; `planner::packages` decides. A package
//! gets a decision only when a package rule names it.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::reason::{human, VersionRef};

/// What happens to a package as a whole.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageAction {
    /// The package is deleted with every version in it (one request).
    Delete,
    /// The package stays; its versions are decided one by one.
    Keep,
}

impl fmt::Display for PackageAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PackageAction::Delete => "delete package",
            PackageAction::Keep => "keep package",
        })
    }
}

/// The decision about one package.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PackageDecision {
    pub action: PackageAction,
    /// The deciding reason first.
    pub reasons: Vec<PackageReason>,
    /// Versions the package holds (all go with it when it is deleted).
    pub versions: usize,
}

/// Why a package is deleted or kept.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PackageReason {
    /// The version rules delete every version of it (`every_version_deleted`).
    EveryVersionDeleted { rule: String, versions: usize },
    /// Its newest version is at least `older_than` old (`older_than`).
    NoRecentVersion {
        rule: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        newest: Option<VersionRef>,
        #[serde(with = "secs")]
        age: Duration,
        #[serde(with = "secs")]
        older_than: Duration,
    },
    /// `every_version_deleted` does not hold: `staying` versions stay, `first` among them.
    VersionsStay {
        rule: String,
        staying: usize,
        first: VersionRef,
    },
    /// `older_than` does not hold: the newest version is younger.
    RecentVersion {
        rule: String,
        newest: VersionRef,
        #[serde(with = "secs")]
        age: Duration,
        #[serde(with = "secs")]
        older_than: Duration,
    },
    /// Safety: a keep rule keeps a version of it.
    KeptVersion {
        keep_rule: String,
        version: VersionRef,
    },
    /// Safety: a manifest of it could not be read.
    GraphUnknown { unread: VersionRef },
    /// Safety: a keep rule reads labels, and the package's manifests were not read.
    LabelsUnknown { keep_rule: String },
    /// Safety: a keep rule needs the state of a pull request nobody could read.
    PullRequestUnknown {
        keep_rule: String,
        version: VersionRef,
    },
    /// GitHub refuses to delete public packages with more than 5,000 downloads.
    TooManyDownloads { downloads: u64 },
}

impl PackageReason {
    /// Whether this reason stops a deletion that a rule's conditions allow.
    pub fn is_safety(&self) -> bool {
        matches!(
            self,
            PackageReason::KeptVersion { .. }
                | PackageReason::GraphUnknown { .. }
                | PackageReason::LabelsUnknown { .. }
                | PackageReason::PullRequestUnknown { .. }
                | PackageReason::TooManyDownloads { .. }
        )
    }
}

impl fmt::Display for PackageReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageReason::EveryVersionDeleted { rule, versions } => write!(
                f,
                "rule `{rule}`: the version rules delete all {versions} of its versions"
            ),
            PackageReason::NoRecentVersion {
                rule,
                newest,
                age,
                older_than,
            } => match newest {
                Some(v) => write!(
                    f,
                    "rule `{rule}`: its newest version {v} is {} old, at least {}",
                    human(*age),
                    human(*older_than)
                ),
                None => write!(f, "rule `{rule}`: it has no versions"),
            },
            PackageReason::VersionsStay {
                rule,
                staying,
                first,
            } => write!(
                f,
                "rule `{rule}` deletes a package only when every version goes, and {staying} stay (first: {first})"
            ),
            PackageReason::RecentVersion {
                rule,
                newest,
                age,
                older_than,
            } => write!(
                f,
                "rule `{rule}`: its newest version {newest} is only {} old, younger than {}",
                human(*age),
                human(*older_than)
            ),
            PackageReason::KeptVersion { keep_rule, version } => write!(
                f,
                "kept for safety: rule `{keep_rule}` keeps {version}, and deleting the package would delete it"
            ),
            PackageReason::GraphUnknown { unread } => write!(
                f,
                "kept for safety: the manifest of {unread} could not be read, so what the keep rules keep is not fully known"
            ),
            PackageReason::LabelsUnknown { keep_rule } => write!(
                f,
                "kept for safety: rule `{keep_rule}` keeps by labels, and this package's manifests were not read"
            ),
            PackageReason::PullRequestUnknown { keep_rule, version } => write!(
                f,
                "kept for safety: rule `{keep_rule}` keeps by pull request, and the pull request of {version} is unknown"
            ),
            PackageReason::TooManyDownloads { downloads } => write!(
                f,
                "GitHub refuses to delete public packages with more than 5,000 downloads ({downloads})"
            ),
        }
    }
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}
