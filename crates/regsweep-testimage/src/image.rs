//! Builds realistic test images and pushes them into a registry: single-platform images,
//! multi-platform indexes (OCI or Docker types), buildx attestation manifests, nested
//! indexes, cosign-style `.sig`/`.att`/`.sbom` tags and OCI 1.1 referrers.
//!
//! Used by the emulator's scenario loader and by tests. Everything is computed locally
//! first (so digests are known), then pushed children before parents, independent
//! pushes concurrently. The `seed` makes the image configs, hence every manifest digest,
//! unique and reproducible; identical blobs (shared layers) are pushed once.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::future::try_join_all;
use regsweep_core::graph::{Platform, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use regsweep_core::Digest;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::push::{sha256_digest, PushError, Pusher};

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const IN_TOTO: &str = "application/vnd.in-toto+json";
const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
const SPDX: &str = "application/spdx+json";
const CREATED: &str = "2024-01-01T00:00:00Z";

/// What to build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSpec {
    /// Empty or one: a single image manifest (linux/amd64 when empty). Two or more: an
    /// index over one manifest per platform.
    pub platforms: Vec<Platform>,
    /// One `unknown/unknown` attestation manifest per platform inside the index, as
    /// buildx makes them (forces an index, as buildx does, even for one platform).
    pub buildx_attestations: bool,
    /// Wrap the index in an outer index (forces an index).
    pub nested: bool,
    /// Docker v2 manifest list / manifest types instead of OCI.
    pub docker_media_types: bool,
    /// Config `Labels` of every platform image, and annotations of OCI indexes.
    pub labels: BTreeMap<String, String>,
    /// A cosign-style signature manifest tagged `sha256-<root hex>.sig`.
    pub signature: bool,
    /// A cosign-style attestation manifest tagged `sha256-<root hex>.att`.
    pub attestation_tag: bool,
    /// A cosign-style SBOM manifest tagged `sha256-<root hex>.sbom`.
    pub sbom_tag: bool,
    /// An untagged OCI 1.1 artifact manifest whose `subject` is the root.
    pub referrer: bool,
    /// Makes the bytes (the image configs, hence every manifest digest) unique and
    /// reproducible; layers are shared between images of one platform.
    pub seed: u64,
}

impl ImageSpec {
    /// A spec for the given platforms (`"linux/amd64"`, `"linux/arm/v7"`, …); strings
    /// that are not `os/arch[/variant]` are skipped.
    pub fn with_platforms(platforms: &[&str]) -> Self {
        ImageSpec {
            platforms: platforms.iter().filter_map(|p| parse_platform(p)).collect(),
            ..ImageSpec::default()
        }
    }

    fn needs_index(&self) -> bool {
        self.platforms.len() >= 2 || self.buildx_attestations || self.nested
    }
}

/// Parses `os/arch[/variant]`.
pub fn parse_platform(s: &str) -> Option<Platform> {
    let mut parts = s.split('/');
    let os = parts.next().filter(|p| !p.is_empty())?;
    let architecture = parts.next().filter(|p| !p.is_empty())?;
    let variant = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
    if parts.next().is_some() {
        return None;
    }
    Some(Platform {
        os: os.to_string(),
        architecture: architecture.to_string(),
        variant,
    })
}

/// What a pushed manifest is in its image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// The root index (the outer one when nested).
    Index,
    /// The inner index of a nested image.
    NestedIndex,
    /// A platform image manifest (also the root of a single-platform image).
    Platform(Platform),
    /// A buildx attestation manifest describing the platform manifest `of`.
    BuildxAttestation { of: Digest },
    /// Cosign signature, tagged `sha256-<hex>.sig`.
    Signature,
    /// Cosign attestation, tagged `sha256-<hex>.att`.
    AttestationTag,
    /// Cosign SBOM, tagged `sha256-<hex>.sbom`.
    SbomTag,
    /// OCI 1.1 referrer (untagged, `subject` = root).
    Referrer,
}

/// One manifest pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedManifest {
    pub digest: Digest,
    pub media_type: String,
    pub role: Role,
    /// The tag it was pushed under (the first one for a root with several); `None` when
    /// pushed by digest only.
    pub tag: Option<String>,
    pub size: u64,
    pub body: Bytes,
}

/// Everything `push_image` pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedImage {
    pub root: PushedManifest,
    /// Every manifest, root included, in push order: children before parents, the
    /// root before the artifacts about it.
    pub manifests: Vec<PushedManifest>,
}

impl PushedImage {
    /// The manifests with role `role`.
    pub fn with_role(&self, role: &Role) -> Vec<&PushedManifest> {
        self.manifests.iter().filter(|m| &m.role == role).collect()
    }

    /// The platform manifests, in spec order.
    pub fn platforms(&self) -> Vec<&PushedManifest> {
        self.manifests
            .iter()
            .filter(|m| matches!(m.role, Role::Platform(_)))
            .collect()
    }

    /// The first manifest whose role matches `pred`.
    pub fn find(&self, pred: impl Fn(&Role) -> bool) -> Option<&PushedManifest> {
        self.manifests.iter().find(|m| pred(&m.role))
    }

    /// Every digest pushed.
    pub fn digests(&self) -> Vec<Digest> {
        self.manifests.iter().map(|m| m.digest.clone()).collect()
    }
}

/// Bytes a builder produced: blobs to upload and manifests, in push stages.
#[derive(Default)]
struct Plan {
    blobs: BTreeMap<Digest, Bytes>,
}

impl Plan {
    /// Records a blob and returns its descriptor.
    fn blob(&mut self, media_type: &str, data: Vec<u8>) -> Value {
        let data = Bytes::from(data);
        let digest = sha256_digest(&data);
        let size = data.len();
        self.blobs.entry(digest.clone()).or_insert(data);
        json!({"mediaType": media_type, "digest": digest.as_str(), "size": size})
    }
}

fn manifest(role: Role, media_type: &str, body: Value) -> PushedManifest {
    let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    PushedManifest {
        digest: sha256_digest(&body),
        media_type: media_type.to_string(),
        role,
        tag: None,
        size: body.len() as u64,
        body,
    }
}

fn descriptor(m: &PushedManifest) -> Value {
    json!({"mediaType": m.media_type, "digest": m.digest.as_str(), "size": m.size})
}

fn platform_json(p: &Platform) -> Value {
    let mut v = json!({"architecture": p.architecture, "os": p.os});
    if let Some(variant) = &p.variant {
        v["variant"] = json!(variant);
    }
    v
}

/// Deterministic filler bytes: a sha256 chain over the seed and a label.
fn filler(seed: u64, label: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(label.as_bytes())
        .finalize();
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(len);
    out
}

struct Built {
    /// Platform and buildx attestation manifests (stage 1).
    leaves: Vec<PushedManifest>,
    /// The inner index of a nested image (stage 2).
    inner: Option<PushedManifest>,
    root: PushedManifest,
    /// Cosign tags and referrers (stage 4).
    artifacts: Vec<PushedManifest>,
}

fn build(spec: &ImageSpec, plan: &mut Plan) -> Built {
    let default_platform = [Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }];
    let platforms: &[Platform] = if spec.platforms.is_empty() {
        &default_platform
    } else {
        &spec.platforms
    };
    let (manifest_type, index_type, config_type, layer_type) = if spec.docker_media_types {
        (DOCKER_MANIFEST, DOCKER_LIST, DOCKER_CONFIG, DOCKER_LAYER)
    } else {
        (OCI_MANIFEST, OCI_INDEX, OCI_CONFIG, OCI_LAYER)
    };

    let mut leaves = Vec::new();
    let mut platform_manifests = Vec::new();
    for p in platforms {
        // Layers are shared by every image of a platform (as base layers are), so
        // bulk pushes upload them once; the config carries the seed.
        let layer = filler(0, &format!("layer {p}"), 256);
        let diff_id = sha256_digest(&layer);
        let layer_desc = plan.blob(layer_type, layer);
        let mut config = json!({
            "architecture": p.architecture, "os": p.os, "created": CREATED,
            "config": {"Env": [format!("REGSWEEP_TEST_SEED={}", spec.seed)], "Labels": spec.labels},
            "rootfs": {"type": "layers", "diff_ids": [diff_id.as_str()]},
        });
        if let Some(v) = &p.variant {
            config["variant"] = json!(v);
        }
        let config_desc = plan.blob(config_type, serde_json::to_vec(&config).unwrap_or_default());
        let m = manifest(
            Role::Platform(p.clone()),
            manifest_type,
            json!({"schemaVersion": 2, "mediaType": manifest_type,
                   "config": config_desc, "layers": [layer_desc]}),
        );
        platform_manifests.push(m);
    }
    leaves.extend(platform_manifests.iter().cloned());

    if !spec.needs_index() {
        let root = leaves.remove(0);
        return Built {
            leaves,
            inner: None,
            root,
            artifacts: Vec::new(),
        }
        .with_artifacts(spec, plan);
    }

    let mut entries: Vec<Value> = platform_manifests
        .iter()
        .zip(platforms)
        .map(|(m, p)| {
            let mut d = descriptor(m);
            d["platform"] = platform_json(p);
            d
        })
        .collect();
    if spec.buildx_attestations {
        let att_config = plan.blob(
            OCI_CONFIG,
            br#"{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec(),
        );
        for m in &platform_manifests {
            let statement = json!({
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://slsa.dev/provenance/v0.2",
                "subject": [{"name": "_", "digest": {"sha256": m.digest.hex()}}],
                "predicate": {"builder": {"id": format!("regsweep-testimage/{}", spec.seed)}},
            });
            let mut layer = plan.blob(IN_TOTO, serde_json::to_vec(&statement).unwrap_or_default());
            layer["annotations"] =
                json!({"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"});
            let att = manifest(
                Role::BuildxAttestation {
                    of: m.digest.clone(),
                },
                OCI_MANIFEST,
                json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": att_config, "layers": [layer]}),
            );
            let mut d = descriptor(&att);
            d["platform"] = json!({"architecture": "unknown", "os": "unknown"});
            d["annotations"] = json!({
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": m.digest.as_str(),
            });
            entries.push(d);
            leaves.push(att);
        }
    }

    let index_body = |manifests: Vec<Value>| {
        let mut v = json!({"schemaVersion": 2, "mediaType": index_type, "manifests": manifests});
        if !spec.docker_media_types && !spec.labels.is_empty() {
            v["annotations"] = json!(spec.labels);
        }
        v
    };
    let (inner, root) = if spec.nested {
        let inner = manifest(Role::NestedIndex, index_type, index_body(entries));
        let outer = manifest(
            Role::Index,
            index_type,
            index_body(vec![descriptor(&inner)]),
        );
        (Some(inner), outer)
    } else {
        (None, manifest(Role::Index, index_type, index_body(entries)))
    };
    Built {
        leaves,
        inner,
        root,
        artifacts: Vec::new(),
    }
    .with_artifacts(spec, plan)
}

impl Built {
    fn with_artifacts(mut self, spec: &ImageSpec, plan: &mut Plan) -> Self {
        let root = &self.root;
        let hex = root.digest.hex().to_string();
        let cosign_config = plan.blob(
            OCI_CONFIG,
            br#"{"architecture":"","config":{},"created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec(),
        );
        let cosign = |role: Role, suffix: &str, layer: Value| {
            let mut m = manifest(
                role,
                OCI_MANIFEST,
                json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": cosign_config, "layers": [layer]}),
            );
            m.tag = Some(format!("sha256-{hex}.{suffix}"));
            m
        };
        let mut artifacts = Vec::new();
        if spec.signature {
            let payload = json!({
                "critical": {
                    "identity": {"docker-reference": "regsweep.test/image"},
                    "image": {"docker-manifest-digest": root.digest.as_str()},
                    "type": "cosign container image signature",
                },
                "optional": {"seed": spec.seed},
            });
            let mut layer = plan.blob(
                COSIGN_SIMPLESIGNING,
                serde_json::to_vec(&payload).unwrap_or_default(),
            );
            layer["annotations"] = json!({
                "dev.cosignproject.cosign/signature": hex::encode(filler(spec.seed, &format!("sig {hex}"), 48)),
            });
            artifacts.push(cosign(Role::Signature, "sig", layer));
        }
        if spec.attestation_tag {
            let envelope = json!({
                "payloadType": "application/vnd.in-toto+json",
                "payload": hex::encode(format!("provenance of {}", root.digest)),
                "signatures": [{"sig": hex::encode(filler(spec.seed, &format!("att {hex}"), 32))}],
            });
            let mut layer = plan.blob(DSSE, serde_json::to_vec(&envelope).unwrap_or_default());
            layer["annotations"] = json!({"predicateType": "https://slsa.dev/provenance/v0.2"});
            artifacts.push(cosign(Role::AttestationTag, "att", layer));
        }
        if spec.sbom_tag {
            let sbom = json!({
                "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
                "name": format!("sbom of {}", root.digest), "seed": spec.seed,
            });
            let layer = plan.blob(
                "text/spdx+json",
                serde_json::to_vec(&sbom).unwrap_or_default(),
            );
            artifacts.push(cosign(Role::SbomTag, "sbom", layer));
        }
        if spec.referrer {
            let empty = plan.blob(OCI_EMPTY, b"{}".to_vec());
            let sbom = json!({
                "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
                "name": format!("referrer of {}", root.digest), "seed": spec.seed,
            });
            let layer = plan.blob(SPDX, serde_json::to_vec(&sbom).unwrap_or_default());
            artifacts.push(manifest(
                Role::Referrer,
                OCI_MANIFEST,
                json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": SPDX,
                       "config": empty, "layers": [layer], "subject": descriptor(root),
                       "annotations": {"org.opencontainers.image.created": CREATED}}),
            ));
        }
        self.artifacts = artifacts;
        self
    }
}

async fn push_by_digest(client: &Pusher, repo: &str, m: &PushedManifest) -> Result<(), PushError> {
    let reference = m.tag.clone().unwrap_or_else(|| m.digest.to_string());
    client
        .push_manifest(repo, &reference, &m.media_type, m.body.clone())
        .await
        .map(|_| ())
}

/// Builds the image `spec` describes and pushes it into `repo`, the root tagged with
/// every tag in `tags` (none: pushed by digest only, an untagged image).
pub async fn push_image(
    client: &Pusher,
    repo: &str,
    tags: &[String],
    spec: &ImageSpec,
) -> Result<PushedImage, PushError> {
    let mut plan = Plan::default();
    let built = build(spec, &mut plan);

    try_join_all(
        plan.blobs
            .values()
            .map(|data| client.push_blob(repo, data.clone())),
    )
    .await?;
    try_join_all(built.leaves.iter().map(|m| push_by_digest(client, repo, m))).await?;
    if let Some(inner) = &built.inner {
        push_by_digest(client, repo, inner).await?;
    }
    let mut root = built.root.clone();
    if tags.is_empty() {
        push_by_digest(client, repo, &root).await?;
    } else {
        try_join_all(
            tags.iter()
                .map(|t| client.push_manifest(repo, t, &root.media_type, root.body.clone())),
        )
        .await?;
        root.tag = tags.first().cloned();
    }
    try_join_all(
        built
            .artifacts
            .iter()
            .map(|m| push_by_digest(client, repo, m)),
    )
    .await?;

    let mut manifests = built.leaves;
    manifests.extend(built.inner);
    manifests.push(root.clone());
    manifests.extend(built.artifacts);
    Ok(PushedImage { root, manifests })
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::graph::{parse_manifest, ManifestKind};

    fn built(spec: &ImageSpec) -> (Built, Plan) {
        let mut plan = Plan::default();
        let b = build(spec, &mut plan);
        (b, plan)
    }

    #[test]
    fn single_platform_is_one_manifest() {
        let (b, _) = built(&ImageSpec::default());
        assert!(b.leaves.is_empty() && b.inner.is_none());
        assert_eq!(
            b.root.role,
            Role::Platform(parse_platform("linux/amd64").unwrap())
        );
        let n = parse_manifest(&b.root.digest, Some(&b.root.media_type), &b.root.body).unwrap();
        assert_eq!(n.kind, ManifestKind::Manifest);
    }

    #[test]
    fn seeds_make_digests_unique_and_reproducible() {
        let spec = |seed| ImageSpec {
            platforms: vec![
                parse_platform("linux/amd64").unwrap(),
                parse_platform("linux/arm64/v8").unwrap(),
            ],
            buildx_attestations: true,
            seed,
            ..ImageSpec::default()
        };
        let (a, _) = built(&spec(1));
        let (a2, _) = built(&spec(1));
        let (b, _) = built(&spec(2));
        assert_eq!(a.root.digest, a2.root.digest);
        assert_ne!(a.root.digest, b.root.digest);
        for (x, y) in a.leaves.iter().zip(&b.leaves) {
            assert_ne!(x.digest, y.digest);
        }
    }

    #[test]
    fn index_edges_parse_back() {
        let spec = ImageSpec {
            platforms: vec![
                parse_platform("linux/amd64").unwrap(),
                parse_platform("linux/arm/v7").unwrap(),
            ],
            buildx_attestations: true,
            nested: true,
            signature: true,
            referrer: true,
            ..ImageSpec::default()
        };
        let (b, plan) = built(&spec);
        let inner = b.inner.as_ref().unwrap();
        let outer = parse_manifest(&b.root.digest, Some(&b.root.media_type), &b.root.body).unwrap();
        assert_eq!(outer.children.len(), 1);
        assert_eq!(outer.children[0].digest, inner.digest);
        let n = parse_manifest(&inner.digest, Some(&inner.media_type), &inner.body).unwrap();
        assert_eq!(n.children.len(), 4);
        assert_eq!(n.children[2].attests, Some(n.children[0].digest.clone()));
        assert_eq!(
            n.children[1]
                .platform
                .as_ref()
                .map(|p| p.to_string())
                .as_deref(),
            Some("linux/arm/v7")
        );
        let sig = &b.artifacts[0];
        assert_eq!(sig.tag, Some(format!("sha256-{}.sig", b.root.digest.hex())));
        let r = &b.artifacts[1];
        let rn = parse_manifest(&r.digest, Some(&r.media_type), &r.body).unwrap();
        assert_eq!(rn.subject, Some(b.root.digest.clone()));
        // Every blob a manifest names is in the plan.
        for m in b.leaves.iter().chain(&b.artifacts) {
            let node = parse_manifest(&m.digest, Some(&m.media_type), &m.body).unwrap();
            assert!(plan.blobs.contains_key(node.config.as_ref().unwrap()));
        }
    }

    #[test]
    fn platforms_parse() {
        assert_eq!(
            parse_platform("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert!(parse_platform("linux").is_none());
        assert!(parse_platform("linux//").is_none());
        assert!(parse_platform("a/b/c/d").is_none());
    }
}
