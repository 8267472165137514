//! Reasons: why each version is kept, deleted or skipped.
//!
//! Every decision carries [`Reason`] values (an enum, not strings). `Display` renders
//! them for people; serde serialises them for JSON. A reason names the rule or input,
//! the condition, and for the manifest graph the path to the image that needs it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::graph::{ArtifactTag, Platform};
use crate::model::{Digest, VersionId};
use crate::policy::{Broken, TagState};

/// A short reference to a version, for reasons ("app:v1.2", "app@sha256:0123…").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    pub package: String,
    pub id: VersionId,
    pub digest: Digest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl fmt::Display for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(t) => write!(f, "{}:{}", self.package, t),
            None => write!(f, "{}@{}", self.package, self.digest.short()),
        }
    }
}

/// How one version depends on another in the manifest graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Relation {
    /// A platform manifest listed in an index.
    Platform { platform: Platform },
    /// A buildx attestation manifest inside an index.
    BuildxAttestation {
        #[serde(skip_serializing_if = "Option::is_none")]
        of: Option<Digest>,
    },
    /// A manifest or nested index listed in an index without a platform.
    Child,
    /// An OCI 1.1 referrer (its `subject` is the parent).
    Referrer {
        #[serde(skip_serializing_if = "Option::is_none")]
        artifact_type: Option<String>,
    },
    /// A cosign-style artifact tagged `sha256-<hex>.sig|.att|.sbom` (or the referrers
    /// fallback index tagged `sha256-<hex>`).
    Artifact { artifact: ArtifactTag },
}

impl Relation {
    /// Whether the parent contains this child (index → child): such parents are
    /// deleted before their children. Otherwise the child is *about* the parent
    /// (signature, referrer) and is deleted before it.
    pub fn is_containment(&self) -> bool {
        matches!(
            self,
            Relation::Platform { .. } | Relation::BuildxAttestation { .. } | Relation::Child
        )
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Relation::Platform { platform } => write!(f, "platform {platform}"),
            Relation::BuildxAttestation { .. } => f.write_str("build attestation"),
            Relation::Child => f.write_str("child manifest"),
            Relation::Referrer {
                artifact_type: Some(t),
            } => write!(f, "referrer ({t})"),
            Relation::Referrer {
                artifact_type: None,
            } => f.write_str("referrer"),
            Relation::Artifact { artifact } => write!(f, "{artifact}"),
        }
    }
}

/// Why a rule did not select a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Miss {
    /// Newer than the rule's `older_than` (snok's cut-off).
    TooNew {
        #[serde(with = "secs")]
        age: Duration,
        #[serde(with = "secs")]
        limit: Duration,
    },
    /// Older than the rule's `newer_than`.
    TooOld {
        #[serde(with = "secs")]
        age: Duration,
        #[serde(with = "secs")]
        limit: Duration,
    },
    /// Tagged when the rule wants untagged, or the reverse.
    TagState { wanted: TagState },
    /// No tag matches the rule's tag patterns.
    TagsNotMatched { patterns: String },
    /// A tag matches an exclusion.
    TagExcluded { tag: String, pattern: String },
    /// A delete rule selects some of the version's tags but not these; deleting the
    /// version would remove them, so the rule does not select it. Reported only when
    /// every other condition of the rule holds; the planner turns it into
    /// [`Reason::PartialTagMatch`], so it never appears in `not_selected`.
    TagsPartlySelected { unselected: Vec<String> },
    /// The digest is not among the rule's digests.
    DigestNotListed,
    /// A label condition does not hold.
    Label {
        key: String,
        /// The version's value for the label; absent when it has no such label.
        #[serde(skip_serializing_if = "Option::is_none")]
        found: Option<String>,
    },
    /// The rule only selects orphans.
    NotOrphan,
    /// The rule only selects broken images (`broken:`), and this is not one of the
    /// kind it wants.
    NotBroken { wanted: Broken },
    /// Not in the newest semver lines the rule keeps.
    OlderLine {
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<String>,
        count: usize,
    },
    /// The pull request is not in the wanted state (or unknown).
    PullRequest { detail: String },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::TooNew { age, limit } => write!(
                f,
                "too new ({} old, younger than {})",
                Human(*age),
                Human(*limit)
            ),
            Miss::TooOld { age, limit } => write!(
                f,
                "too old ({} old, older than {})",
                Human(*age),
                Human(*limit)
            ),
            Miss::TagState { wanted } => write!(f, "not {wanted}"),
            Miss::TagsNotMatched { patterns } => write!(f, "no tag matches {patterns}"),
            Miss::TagExcluded { tag, pattern } => {
                write!(f, "tag `{tag}` is protected by `{pattern}`")
            }
            Miss::TagsPartlySelected { unselected } => {
                write!(f, "tag(s) {} not selected", backticked(unselected))
            }
            Miss::DigestNotListed => f.write_str("digest not listed"),
            Miss::Label { key, found: None } => write!(f, "no label `{key}`"),
            Miss::Label {
                key,
                found: Some(v),
            } => write!(f, "label `{key}` is `{v}`, which does not match"),
            Miss::NotOrphan => f.write_str("not an orphan"),
            Miss::NotBroken {
                wanted: Broken::Any,
            } => f.write_str("not a broken image"),
            Miss::NotBroken { wanted } => write!(f, "not a {wanted} image"),
            Miss::PullRequest { detail } => write!(f, "{detail}"),
            Miss::OlderLine {
                line: Some(l),
                count,
            } => write!(f, "line {l} is not among the newest {count}"),
            Miss::OlderLine { line: None, count } => {
                write!(f, "no semver tag in the newest {count} lines")
            }
        }
    }
}

/// A rule's name in the reasons that name it for each version it selects or
/// passes over: one shared text per rule (a clone is a reference count), not a
/// copy per version. Serialises as the name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleName(Arc<str>);

impl RuleName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for RuleName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RuleName {
    fn from(s: &str) -> Self {
        RuleName(Arc::from(s))
    }
}

impl From<String> for RuleName {
    fn from(s: String) -> Self {
        RuleName(Arc::from(s))
    }
}

impl PartialEq<str> for RuleName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for RuleName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for RuleName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for RuleName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A rule that passed a version over, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleMiss {
    pub rule: RuleName,
    #[serde(flatten)]
    pub miss: Miss,
}

/// Why a rule selected a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Selected {
    /// All conditions hold.
    Matched {
        #[serde(with = "secs")]
        age: Duration,
    },
    /// All conditions hold, `broken:` among them: the index lists manifests the
    /// package no longer has (boxed: rare, and the largest kind).
    Broken(Box<BrokenImage>),
    /// One of the newest N (per group) the rule spares.
    Newest {
        rank: usize,
        count: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<Box<str>>,
    },
}

/// How a `broken:` rule selected an index: what it lists that is gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokenImage {
    #[serde(with = "secs")]
    pub age: Duration,
    /// `ghost` (none of its manifests exist) or `partial`.
    pub state: Broken,
    /// How many manifests the index lists.
    pub listed: usize,
    /// The digests it lists that are gone.
    pub missing: Vec<Digest>,
}

/// GitHub's refusals to delete, predicted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Refusal {
    /// GitHub refuses to delete the last tagged version of a package.
    LastTaggedVersion,
    /// GitHub refuses to delete public versions with more than 5,000 downloads.
    TooManyDownloads { downloads: u64 },
    /// Untagging would leave the package without a tagged version: on GHCR the
    /// placeholder that takes the last tag could not be deleted (it would be the
    /// last tagged version), so the tags stay.
    LastTagOfPackage,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::LastTaggedVersion => f.write_str(
                "GitHub refuses to delete the last tagged version of a package (delete the package instead)",
            ),
            Refusal::TooManyDownloads { downloads } => write!(
                f,
                "GitHub refuses to delete public versions with more than 5,000 downloads ({downloads})"
            ),
            Refusal::LastTagOfPackage => f.write_str(
                "not untagged: no other version of the package would keep a tag, and GitHub refuses to delete the last tagged version (the placeholder that takes the tag)",
            ),
        }
    }
}

/// One reason attached to a decision.
///
/// Kept small (every decision holds one or two, a plan of 1,000,000 versions some
/// 1.5 million): the kinds that name versions box them, so that the common kinds
/// (selected by a rule, not selected) need no room for the rare large ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// A keep rule selected it (or spared it as one of the newest N).
    KeptByRule { rule: RuleName, how: Selected },
    /// A delete rule selected it.
    DeletedByRule { rule: RuleName, how: Selected },
    /// No rule selected it; `misses` says why each rule that applies to its package
    /// passed it over.
    NotSelected { misses: Vec<RuleMiss> },
    /// Kept: a delete rule selects some of its tags but not `unselected`, and
    /// deleting the version would remove those too (snok's partial match).
    PartialTagMatch {
        rule: String,
        unselected: Vec<String>,
    },
    /// Kept because a kept version needs it.
    Protected {
        relation: Box<Relation>,
        parent: Box<VersionRef>,
        root: Box<VersionRef>,
    },
    /// Deleted with the version that needed it, which is deleted and nothing kept
    /// needs it.
    DeletedWith {
        relation: Box<Relation>,
        parent: Box<VersionRef>,
    },
    /// A delete rule selected it but the graph protects it.
    OverridesDelete { rule: String },
    /// Skipped: GitHub would refuse.
    Refused { refusal: Refusal },
    /// Deleted during the run although the plan skipped it as the last tagged
    /// version: GitHub refused to delete `kept`, a tagged version of the same
    /// package, which therefore stays.
    NoLongerLastTagged { kept: Box<VersionRef> },
    /// Kept: a manifest of this package could not be read, so what untagged versions
    /// belong to kept images is unknown.
    GraphUnknown { unread: Box<VersionRef> },
    /// Kept: this package's manifests were not read (`--graph skip`), so what
    /// untagged versions belong to kept images is unknown.
    GraphNotRead,
    /// An untag rule removes `tags` from this version, which stays with its other
    /// tags (if any) and everything it needs.
    UntaggedByRule {
        rule: String,
        tags: Vec<String>,
        how: Box<Selected>,
    },
    /// An untag rule selects `tags`, but keep rule `keep_rule` names them: they stay.
    TagsKeptByRule {
        tags: Vec<String>,
        keep_rule: String,
    },
    /// Untag rule `rule` would remove every tag of this version, which keep rule
    /// `keep_rule` keeps: no tag is removed.
    LastTagKept { rule: String, keep_rule: String },
    /// Deleted: package rule `rule` deletes its whole package (one request; the
    /// reasons after this one say what the version rules alone decided).
    DeletedWithPackage { rule: String },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::KeptByRule { rule, how } | Reason::DeletedByRule { rule, how } => {
                let verb = if matches!(self, Reason::KeptByRule { .. }) { "kept" } else { "deleted" };
                match how {
                    Selected::Matched { age } => write!(f, "{verb} by rule `{rule}` ({} old)", Human(*age)),
                    Selected::Broken(b) => write!(
                        f,
                        "{verb} by rule `{rule}`: {} image, {} of its {} manifests missing ({}) ({} old)",
                        b.state,
                        b.missing.len(),
                        b.listed,
                        b.missing.iter().map(Digest::short).collect::<Vec<_>>().join(", "),
                        Human(b.age)
                    ),
                    Selected::Newest { rank, count, group } => {
                        write!(f, "kept by rule `{rule}`: newest {rank} of {count}")?;
                        if let Some(g) = group {
                            write!(f, " in group `{g}`")?;
                        }
                        Ok(())
                    }
                }
            }
            Reason::NotSelected { misses } if misses.is_empty() => f.write_str("no rule selects it"),
            Reason::NotSelected { misses } => {
                f.write_str("not selected: ")?;
                for (i, RuleMiss { rule, miss }) in misses.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{miss} (rule `{rule}`)")?;
                }
                Ok(())
            }
            Reason::PartialTagMatch { rule, unselected } => write!(
                f,
                "kept: rule `{rule}` selects only some of its tags; deleting it would also remove {}, which no rule selects",
                backticked(unselected)
            ),
            Reason::Protected { relation, parent, root } => {
                write!(f, "{relation} of {parent}")?;
                if parent != root {
                    write!(f, " (kept image {root})")?;
                }
                Ok(())
            }
            Reason::DeletedWith { relation, parent } => write!(f, "{relation} of deleted {parent}"),
            Reason::OverridesDelete { rule } => write!(f, "overrides rule `{rule}`, which would delete it"),
            Reason::Refused { refusal } => write!(f, "{refusal}"),
            Reason::NoLongerLastTagged { kept } => write!(
                f,
                "no longer the last tagged version: {kept} (id {}) stays, GitHub refused to delete it",
                kept.id
            ),
            Reason::GraphUnknown { unread } => write!(
                f,
                "kept for safety: the manifest of {unread} could not be read, so its children are unknown"
            ),
            Reason::UntaggedByRule { rule, tags, how } => {
                write!(f, "untagged by rule `{rule}`: removes {}", backticked(tags))?;
                match how.as_ref() {
                    Selected::Matched { age } => write!(f, " ({} old)", Human(*age)),
                    Selected::Broken(b) => write!(f, " ({} old)", Human(b.age)),
                    Selected::Newest { .. } => Ok(()),
                }
            }
            Reason::TagsKeptByRule { tags, keep_rule } => write!(
                f,
                "keeps {}: keep rule `{keep_rule}` names it, which beats untag",
                backticked(tags)
            ),
            Reason::LastTagKept { rule, keep_rule } => write!(
                f,
                "not untagged: rule `{rule}` would remove every tag of a version keep rule `{keep_rule}` keeps"
            ),
            Reason::GraphNotRead => write!(
                f,
                "kept for safety: this package's manifests were not read, so which images need this untagged version is unknown"
            ),
            Reason::DeletedWithPackage { rule } => {
                write!(f, "deleted with its package: rule `{rule}` deletes the whole package")
            }
        }
    }
}

/// `a`, `b` for a list of tags.
fn backticked(tags: &[String]) -> String {
    tags.iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders a duration coarsely for people (`40d`, `3h`, `12m`).
pub fn human(d: Duration) -> String {
    Human(d).to_string()
}

/// [`human`] as a `Display`: written into a reason's text without a string of its
/// own (a report of 100,000 versions renders as many reasons).
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_secs() {
            s if s >= 86_400 * 2 => write!(f, "{}d", s / 86_400),
            s if s >= 3_600 * 2 => write!(f, "{}h", s / 3_600),
            s if s >= 120 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vref(tag: Option<&str>) -> VersionRef {
        VersionRef {
            package: "app".into(),
            id: VersionId(1),
            digest: Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap(),
            tag: tag.map(String::from),
        }
    }

    #[test]
    fn reasons_read_well() {
        let p = Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: None,
        };
        let r = Reason::Protected {
            relation: Box::new(Relation::Platform { platform: p }),
            parent: Box::new(vref(Some("v1.2"))),
            root: Box::new(vref(Some("v1.2"))),
        };
        assert_eq!(r.to_string(), "platform linux/arm64 of app:v1.2");
        let r = Reason::NotSelected {
            misses: vec![RuleMiss {
                rule: "untagged".into(),
                miss: Miss::TooNew {
                    age: Duration::from_secs(3 * 86400),
                    limit: Duration::from_secs(7 * 86400),
                },
            }],
        };
        assert_eq!(
            r.to_string(),
            "not selected: too new (3d old, younger than 7d) (rule `untagged`)"
        );
        let r = Reason::DeletedWith {
            relation: Box::new(Relation::Artifact {
                artifact: ArtifactTag::Signature,
            }),
            parent: Box::new(vref(None)),
        };
        assert_eq!(
            r.to_string(),
            format!("signature of deleted app@sha256:{}", "a".repeat(12))
        );
    }

    #[test]
    fn partial_tag_match_names_the_unselected_tags() {
        let r = Reason::PartialTagMatch {
            rule: "tagged".into(),
            unselected: vec!["v1.2.0".into(), "stable".into()],
        };
        assert_eq!(
            r.to_string(),
            "kept: rule `tagged` selects only some of its tags; deleting it would also remove `v1.2.0`, `stable`, which no rule selects"
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "partial_tag_match");
        assert_eq!(v["unselected"][0], "v1.2.0");
    }

    #[test]
    fn a_reason_stays_small() {
        // One or two per version: at 1,000,000 versions each byte is a megabyte.
        assert!(
            std::mem::size_of::<Reason>() <= 72,
            "Reason is {} bytes; box the payload of the kind that grew",
            std::mem::size_of::<Reason>()
        );
    }

    #[test]
    fn reasons_serialise_with_kind() {
        let r = Reason::Refused {
            refusal: Refusal::LastTaggedVersion,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "refused");
        assert_eq!(v["refusal"]["kind"], "last_tagged_version");
    }
}
