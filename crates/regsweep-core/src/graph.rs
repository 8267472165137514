//! The manifest graph: what each manifest references, parsed from its JSON.
//!
//! This module owns the edges between versions that the Packages API does not show:
//! index → child manifests (with platform), buildx attestation → the manifest it
//! describes, OCI 1.1 referrer → subject, and cosign tags (`sha256-<hex>.sig|.att|.sbom`)
//! → the digest they are about. It parses bytes handed to it; fetching is the registry
//! client's job.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::json_object::Object;
use crate::model::Digest;

/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list media type.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Every manifest type regsweep reads, for `Accept` headers.
pub const ACCEPT_MANIFESTS: &[&str] = &[OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

/// A platform as an index describes a child (`linux/arm64/v8`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Whether this is buildx's `unknown/unknown` placeholder for attestations.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One entry of an index's `manifests` list.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ChildRef {
    pub digest: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// For a buildx attestation manifest: the digest of the manifest it describes
    /// (`vnd.docker.reference.digest` with type `attestation-manifest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attests: Option<Digest>,
}

/// What kind of manifest a node is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManifestKind {
    /// An image index or Docker manifest list.
    Index,
    /// An image manifest (a platform image, or an artifact with a subject).
    Manifest,
}

/// A parsed manifest: its kind and its outgoing edges.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ManifestNode {
    pub digest: Digest,
    pub media_type: String,
    pub kind: ManifestKind,
    /// Children of an index (empty for a manifest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildRef>,
    /// OCI 1.1 `subject`: the manifest this one is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Digest of the config blob of an image manifest (for labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Digest>,
    /// Manifest annotations, merged with config labels where those were read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Why manifest bytes could not be read as a manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {digest} is not valid JSON: {detail}")]
    Json { digest: Digest, detail: String },
    #[error("manifest {digest} has media type `{media_type}`, which regsweep cannot read; expected an OCI or Docker v2 manifest or index")]
    UnsupportedMediaType { digest: Digest, media_type: String },
    #[error("manifest {digest} names a malformed digest: {detail}")]
    BadReference { digest: Digest, detail: String },
}

/// A descriptor, read from a JSON object only ([`Object`]): serde's derive would also
/// read `["", "sha256:…"]` as one, field by field.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<Object<Platform>>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Object<RawDescriptor>>>,
    #[serde(default)]
    config: Option<Object<RawDescriptor>>,
    #[serde(default)]
    subject: Option<Object<RawDescriptor>>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Parses a manifest or index. `content_type` is the registry's `Content-Type`
/// (preferred); the body's `mediaType` is used when it is absent.
pub fn parse_manifest(
    digest: &Digest,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<ManifestNode, ManifestError> {
    let Object(raw) =
        serde_json::from_slice::<Object<RawManifest>>(body).map_err(|e| ManifestError::Json {
            digest: digest.clone(),
            detail: e.to_string(),
        })?;
    let media_type = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .filter(|c| !c.is_empty() && c != "application/json" && c != "application/octet-stream")
        .or(raw.media_type.clone())
        .unwrap_or_else(|| {
            if raw.manifests.is_some() {
                OCI_INDEX.to_string()
            } else {
                OCI_MANIFEST.to_string()
            }
        });
    let bad = |detail: String| ManifestError::BadReference {
        digest: digest.clone(),
        detail,
    };
    let kind = match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => ManifestKind::Index,
        OCI_MANIFEST | DOCKER_MANIFEST => ManifestKind::Manifest,
        other if other.ends_with("+json") && raw.manifests.is_some() => ManifestKind::Index,
        other if other.ends_with("+json") => ManifestKind::Manifest,
        other => {
            return Err(ManifestError::UnsupportedMediaType {
                digest: digest.clone(),
                media_type: other.to_string(),
            })
        }
    };
    let mut children = Vec::new();
    for Object(d) in raw.manifests.unwrap_or_default() {
        let child = Digest::parse(&d.digest).map_err(|e| bad(e.to_string()))?;
        let attests = match (
            d.annotations
                .get("vnd.docker.reference.type")
                .map(String::as_str),
            d.annotations.get("vnd.docker.reference.digest"),
        ) {
            (Some("attestation-manifest"), Some(target)) => {
                Some(Digest::parse(target).map_err(|e| bad(e.to_string()))?)
            }
            _ => None,
        };
        children.push(ChildRef {
            digest: child,
            media_type: d.media_type,
            platform: d.platform.map(|p| p.0),
            attests,
        });
    }
    let subject = raw
        .subject
        .map(|s| Digest::parse(&s.0.digest).map_err(|e| bad(e.to_string())))
        .transpose()?;
    let config = raw.config.and_then(|c| Digest::parse(&c.0.digest).ok());
    Ok(ManifestNode {
        digest: digest.clone(),
        media_type,
        kind,
        children,
        subject,
        artifact_type: raw.artifact_type,
        config,
        annotations: raw.annotations,
    })
}

/// The annotation key OCI defines for an image's build time; an image config's
/// top-level `created` is reported under it when no label or annotation sets it.
pub const CREATED_LABEL: &str = "org.opencontainers.image.created";

/// Reads the labels out of an image config blob (`config.Labels`), plus the
/// config's `created` as [`CREATED_LABEL`] unless a label sets that already.
pub fn parse_config_labels(body: &[u8]) -> BTreeMap<String, String> {
    #[derive(Deserialize)]
    struct Inner {
        #[serde(default, rename = "Labels")]
        labels: Option<BTreeMap<String, String>>,
    }
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        config: Option<Inner>,
        #[serde(default)]
        created: Option<String>,
    }
    let Ok(c) = serde_json::from_slice::<Config>(body) else {
        return BTreeMap::new();
    };
    let mut labels = c.config.and_then(|i| i.labels).unwrap_or_default();
    if let Some(created) = c.created.filter(|s| !s.is_empty()) {
        labels.entry(CREATED_LABEL.to_string()).or_insert(created);
    }
    labels
}

/// The kind of a cosign artifact tag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactTag {
    /// `sha256-<hex>.sig`
    Signature,
    /// `sha256-<hex>.att`
    Attestation,
    /// `sha256-<hex>.sbom`
    Sbom,
    /// `sha256-<hex>` with no suffix: the OCI referrers tag-schema fallback index.
    #[serde(alias = "referrersindex")]
    ReferrersIndex,
}

impl fmt::Display for ArtifactTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArtifactTag::Signature => "signature",
            ArtifactTag::Attestation => "attestation",
            ArtifactTag::Sbom => "SBOM",
            ArtifactTag::ReferrersIndex => "referrers index",
        })
    }
}

/// Recognises a cosign / referrers-fallback tag and returns the subject digest.
pub fn parse_artifact_tag(tag: &str) -> Option<(Digest, ArtifactTag)> {
    let rest = tag.strip_prefix("sha256-")?;
    let (hex, kind) = match rest.split_once('.') {
        Some((hex, "sig")) => (hex, ArtifactTag::Signature),
        Some((hex, "att")) => (hex, ArtifactTag::Attestation),
        Some((hex, "sbom")) => (hex, ArtifactTag::Sbom),
        Some(_) => return None,
        None => (rest, ArtifactTag::ReferrersIndex),
    };
    Digest::from_sha256_hex(hex).ok().map(|d| (d, kind))
}

/// The manifests read for one package (repository), keyed by digest. A digest with
/// no entry was not read (or could not be); the planner treats it conservatively.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageGraph {
    pub nodes: HashMap<Digest, ManifestNode>,
    /// Digests the registry answered 404 for (known missing, as opposed to unread).
    #[serde(default)]
    pub missing: Vec<Digest>,
    /// Digests whose manifest was asked for but could not be read or parsed: the
    /// planner treats them as unread (conservatively).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub failed: BTreeSet<Digest>,
    /// Versions deliberately not read ([`crate::planner::reads`]): image manifests,
    /// as the indexes that name them say, whose reading cannot change a decision.
    /// The planner takes them as read manifests with no edges of their own.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub skipped: BTreeSet<Digest>,
}

impl PackageGraph {
    /// Adds a parsed node.
    pub fn insert(&mut self, node: ManifestNode) {
        self.nodes.insert(node.digest.clone(), node);
    }

    /// The node for `digest`, if read.
    pub fn get(&self, digest: &Digest) -> Option<&ManifestNode> {
        self.nodes.get(digest)
    }

    /// Whether `digest` was asked for already (read, missing or failed).
    pub fn attempted(&self, digest: &Digest) -> bool {
        self.nodes.contains_key(digest)
            || self.failed.contains(digest)
            || self.missing.contains(digest)
    }

    /// Adds what another read of the same package found.
    pub fn merge(&mut self, other: PackageGraph) {
        for (d, n) in other.nodes {
            self.failed.remove(&d);
            self.nodes.insert(d, n);
        }
        self.missing.extend(other.missing);
        self.missing.sort();
        self.missing.dedup();
        self.failed.extend(other.failed);
        self.skipped.extend(other.skipped);
    }
}

/// The manifest graph of an inventory: one [`PackageGraph`] per package name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestGraph {
    pub packages: HashMap<String, PackageGraph>,
}

impl ManifestGraph {
    /// The graph of `package` (empty when none was read).
    pub fn package(&self, package: &str) -> Option<&PackageGraph> {
        self.packages.get(package)
    }

    /// The graph of `package`, created on first use.
    pub fn package_mut(&mut self, package: &str) -> &mut PackageGraph {
        self.packages.entry(package.to_string()).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    /// Found by `fuzz_manifest_mutated_documents`: serde's derive read a descriptor
    /// written as an array (`["", "sha256:…"]`) field by field, so an index of
    /// arrays named children. Descriptors, platforms and the manifest itself must be
    /// objects; anything else is an unreadable manifest (its version is kept).
    #[test]
    fn regression_descriptors_written_as_arrays_are_refused() {
        let upper = format!("sha256:{}", "A".repeat(64));
        for body in [
            format!(r#"{{"schemaVersion":2,"manifests":[["","{upper}"]]}}"#),
            format!(r#"{{"schemaVersion":2,"subject":["","{upper}"]}}"#),
            format!(
                r#"{{"schemaVersion":2,"manifests":[{{"digest":"{upper}","platform":["amd64","linux"]}}]}}"#
            ),
            format!(r#"[null, [["", "{upper}"]]]"#),
        ] {
            let e = parse_manifest(&d('f'), None, body.as_bytes());
            assert!(
                matches!(e, Err(ManifestError::Json { .. })),
                "{body}: {:?}",
                e.map(|n| n.children)
            );
        }
    }

    #[test]
    fn parses_index_with_platforms_and_attestation() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{a}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{b}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}},
                "annotations":{{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"{a}"}}}}]}}"#,
            a = d('a'),
            b = d('b')
        );
        let n = parse_manifest(&d('f'), None, body.as_bytes()).unwrap();
        assert_eq!(n.kind, ManifestKind::Index);
        assert_eq!(n.children.len(), 2);
        assert_eq!(
            n.children[0].platform.as_ref().unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(n.children[1].attests, Some(d('a')));
        assert!(n.children[1].platform.as_ref().unwrap().is_unknown());
    }

    #[test]
    fn parses_referrer_subject_and_docker_types() {
        let body = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","digest":"{c}","size":2}},"layers":[],
               "subject":{{"mediaType":"{OCI_INDEX}","digest":"{s}","size":9}},"artifactType":"application/spdx+json"}}"#,
            c = d('c'),
            s = d('5')
        );
        let n = parse_manifest(
            &d('1'),
            Some(&format!("{OCI_MANIFEST}; charset=utf-8")),
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(n.kind, ManifestKind::Manifest);
        assert_eq!(n.subject, Some(d('5')));
        assert_eq!(n.config, Some(d('c')));
        assert_eq!(n.artifact_type.as_deref(), Some("application/spdx+json"));
        let list = parse_manifest(&d('2'), Some(DOCKER_LIST), br#"{"manifests":[]}"#).unwrap();
        assert_eq!(list.kind, ManifestKind::Index);
    }

    #[test]
    fn rejects_garbage_and_unknown_types() {
        assert!(matches!(
            parse_manifest(&d('1'), None, b"nope"),
            Err(ManifestError::Json { .. })
        ));
        assert!(matches!(
            parse_manifest(&d('1'), Some("text/html"), b"{}"),
            Err(ManifestError::UnsupportedMediaType { .. })
        ));
        let bad_child = br#"{"manifests":[{"digest":"sha256:zz"}]}"#;
        assert!(matches!(
            parse_manifest(&d('1'), Some(OCI_INDEX), bad_child),
            Err(ManifestError::BadReference { .. })
        ));
    }

    #[test]
    fn artifact_tags() {
        let hex = "a".repeat(64);
        assert_eq!(
            parse_artifact_tag(&format!("sha256-{hex}.sig")),
            Some((d('a'), ArtifactTag::Signature))
        );
        assert_eq!(
            parse_artifact_tag(&format!("sha256-{hex}.att")),
            Some((d('a'), ArtifactTag::Attestation))
        );
        assert_eq!(
            parse_artifact_tag(&format!("sha256-{hex}.sbom")),
            Some((d('a'), ArtifactTag::Sbom))
        );
        assert_eq!(
            parse_artifact_tag(&format!("sha256-{hex}")),
            Some((d('a'), ArtifactTag::ReferrersIndex))
        );
        assert_eq!(parse_artifact_tag(&format!("sha256-{hex}.foo")), None);
        assert_eq!(parse_artifact_tag("sha256-abc.sig"), None);
        assert_eq!(parse_artifact_tag("v1.2.3"), None);
    }

    #[test]
    fn config_labels() {
        let labels = parse_config_labels(
            br#"{"config":{"Labels":{"org.opencontainers.image.revision":"abc"}}}"#,
        );
        assert_eq!(
            labels
                .get("org.opencontainers.image.revision")
                .map(String::as_str),
            Some("abc")
        );
        assert!(parse_config_labels(b"{}").is_empty());
    }

    #[test]
    fn config_created_is_reported_unless_a_label_sets_it() {
        let labels = parse_config_labels(br#"{"created":"2026-01-02T03:04:05Z","config":{}}"#);
        assert_eq!(
            labels.get(CREATED_LABEL).map(String::as_str),
            Some("2026-01-02T03:04:05Z")
        );
        let labels = parse_config_labels(
            br#"{"created":"2026-01-02T03:04:05Z","config":{"Labels":{"org.opencontainers.image.created":"2025-12-31T00:00:00Z"}}}"#,
        );
        assert_eq!(
            labels.get(CREATED_LABEL).map(String::as_str),
            Some("2025-12-31T00:00:00Z")
        );
    }
}
