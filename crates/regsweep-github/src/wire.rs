//! GitHub's JSON bodies and their conversion into regsweep's model.
//!
//! Only the fields regsweep uses are read; unknown fields are ignored. One entry
//! that cannot be converted (a version whose `name` is not a digest) is skipped with
//! a warning by the caller, never fatal to the listing.

use jiff::Timestamp;
use regsweep_core::{Digest, Version, VersionId, Visibility};
use serde::Deserialize;

/// A package as listed, reduced to what regsweep needs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PackageSummary {
    pub name: String,
    pub visibility: Option<Visibility>,
    pub version_count: Option<u64>,
}

/// A pull request, reduced to what retention policies need.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PullRequest {
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// The branch name of the pull request's head.
    pub head_ref: String,
    pub merged_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// GitHub always sends it; `None` when a server (an emulator, a proxy) leaves it out.
    pub updated_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct PackageWire {
    name: String,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    version_count: Option<u64>,
}

#[derive(Deserialize)]
struct VersionWire {
    id: u64,
    name: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(default)]
    metadata: Option<MetadataWire>,
}

#[derive(Deserialize)]
struct MetadataWire {
    #[serde(default)]
    container: Option<ContainerWire>,
}

#[derive(Deserialize)]
struct ContainerWire {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct PullWire {
    number: u64,
    state: String,
    head: HeadWire,
    #[serde(default)]
    merged_at: Option<Timestamp>,
    #[serde(default)]
    closed_at: Option<Timestamp>,
    #[serde(default)]
    updated_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct HeadWire {
    #[serde(rename = "ref")]
    git_ref: String,
}

#[derive(Deserialize)]
pub(crate) struct UserWire {
    pub login: String,
}

/// Why one listed entry was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("entry is not a package version ({0})")]
    Shape(String),
    #[error("version {id}: its name `{name}` is not a manifest digest, so it is not a container image version")]
    NotADigest { id: u64, name: String },
}

fn visibility(s: &str) -> Option<Visibility> {
    match s {
        "public" => Some(Visibility::Public),
        "private" => Some(Visibility::Private),
        "internal" => Some(Visibility::Internal),
        _ => None,
    }
}

/// One package entry.
pub fn package(value: serde_json::Value) -> Result<PackageSummary, serde_json::Error> {
    let p: PackageWire = serde_json::from_value(value)?;
    Ok(PackageSummary {
        name: p.name,
        visibility: p.visibility.as_deref().and_then(visibility),
        version_count: p.version_count,
    })
}

/// One version entry, converted to the model.
pub fn version(value: serde_json::Value) -> Result<Version, SkipReason> {
    let v: VersionWire =
        serde_json::from_value(value).map_err(|e| SkipReason::Shape(e.to_string()))?;
    let digest = Digest::parse(&v.name).map_err(|_| SkipReason::NotADigest {
        id: v.id,
        name: v.name.clone(),
    })?;
    let tags = v
        .metadata
        .and_then(|m| m.container)
        .map(|c| c.tags)
        .unwrap_or_default();
    Ok(Version {
        id: VersionId(v.id),
        digest,
        tags,
        created_at: v.created_at,
        updated_at: v.updated_at,
        downloads: None,
    })
}

/// One pull request entry.
pub fn pull(value: serde_json::Value) -> Result<PullRequest, serde_json::Error> {
    let p: PullWire = serde_json::from_value(value)?;
    Ok(PullRequest {
        number: p.number,
        state: p.state,
        head_ref: p.head.git_ref,
        merged_at: p.merged_at,
        closed_at: p.closed_at,
        updated_at: p.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: &str = include_str!("../testdata/list-container-versions.json");
    const PACKAGES: &str = include_str!("../testdata/list-packages-for-org.json");

    #[test]
    fn reference_versions_convert() {
        let values: Vec<serde_json::Value> = serde_json::from_str(VERSIONS).unwrap();
        let versions: Vec<Version> = values.into_iter().map(|v| version(v).unwrap()).collect();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].id, VersionId(214880827));
        assert_eq!(versions[0].tags, vec!["multi-arch", "v1.2.0"]);
        assert_eq!(
            versions[0].digest.as_str(),
            "sha256:e8530d7d4c44954276715032c027882a2569318bb7f79c5a4fce6c80c0c1018e"
        );
        assert_eq!(
            versions[0].created_at,
            "2024-05-11T12:42:55Z".parse::<Timestamp>().unwrap()
        );
        assert!(versions[1].tags.is_empty());
    }

    #[test]
    fn reference_packages_convert() {
        let values: Vec<serde_json::Value> = serde_json::from_str(PACKAGES).unwrap();
        let packages: Vec<PackageSummary> =
            values.into_iter().map(|v| package(v).unwrap()).collect();
        assert_eq!(
            packages[0],
            PackageSummary {
                name: "hello_docker".into(),
                visibility: Some(Visibility::Private),
                version_count: Some(1),
            }
        );
    }

    #[test]
    fn non_digest_names_are_skipped_not_fatal() {
        let v = serde_json::json!({
            "id": 5, "name": "latest",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "metadata": {"package_type": "container", "container": {"tags": ["latest"]}}
        });
        assert_eq!(
            version(v),
            Err(SkipReason::NotADigest {
                id: 5,
                name: "latest".into()
            })
        );
        assert!(matches!(
            version(serde_json::json!({"id": "x"})),
            Err(SkipReason::Shape(_))
        ));
    }

    #[test]
    fn missing_metadata_means_untagged() {
        let v = serde_json::json!({
            "id": 6, "name": format!("sha256:{}", "a".repeat(64)),
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z"
        });
        assert!(version(v).unwrap().tags.is_empty());
    }

    #[test]
    fn pull_converts() {
        let p = serde_json::json!({
            "number": 12, "state": "closed", "head": {"ref": "feature/x", "sha": "abc"},
            "merged_at": "2024-03-01T10:00:00Z", "closed_at": "2024-03-01T10:00:00Z",
            "updated_at": "2024-03-01T10:00:01Z", "title": "x"
        });
        let p = pull(p).unwrap();
        assert_eq!(p.number, 12);
        assert_eq!(p.head_ref, "feature/x");
        assert!(p.merged_at.is_some());
        let open = serde_json::json!({
            "number": 13, "state": "open", "head": {"ref": "main"},
            "merged_at": null, "closed_at": null, "updated_at": "2024-03-01T10:00:01Z"
        });
        let open = pull(open).unwrap();
        assert_eq!((open.merged_at, open.closed_at), (None, None));
        // A server leaving out updated_at is tolerated.
        let bare = serde_json::json!({"number": 14, "state": "open", "head": {"ref": "x"}});
        assert_eq!(pull(bare).unwrap().updated_at, None);
    }
}
