//! Turns a scenario image into the manifests it consists of: pushed into the backing
//! registry (index, platform manifests, attestations, cosign tags, referrers), or, for
//! metadata-only worlds, synthesised digests with the same shape.

use bytes::Bytes;
use regsweep_core::Digest;
use sha2::{Digest as _, Sha256};

use crate::scenario::ImageEntry;

/// One manifest of an image, in push order.
#[derive(Clone, Debug)]
pub(crate) struct Made {
    pub digest: Digest,
    pub role: String,
    pub tags: Vec<String>,
    /// Media type and exact bytes, when pushed into a registry.
    pub manifest: Option<(String, Bytes)>,
    /// Whether this is the image's root (the tagged index or manifest).
    pub root: bool,
}

fn fake_digest(parts: &[&str]) -> Digest {
    let hex = hex::encode(Sha256::digest(parts.join("\u{0}").as_bytes()));
    Digest::from_sha256_hex(&hex).unwrap_or_else(|_| unreachable!("sha256 hex is a digest"))
}

/// The manifests of `image` without a registry: children first, then the root, then
/// its companions, with digests derived from the names.
pub(crate) fn synthesise(repository: &str, image: &ImageEntry) -> Vec<Made> {
    let key = |role: &str| fake_digest(&[repository, &image.handle, role]);
    let mut out = Vec::new();
    let multi = image.platforms.len() >= 2 || image.nested;
    if multi {
        for p in &image.platforms {
            out.push(Made {
                digest: key(&format!("platform {p}")),
                role: format!("platform {p}"),
                tags: Vec::new(),
                manifest: None,
                root: false,
            });
            if image.buildx_attestations {
                out.push(Made {
                    digest: key(&format!("attestation {p}")),
                    role: format!("attestation {p}"),
                    tags: Vec::new(),
                    manifest: None,
                    root: false,
                });
            }
        }
        if image.nested {
            out.push(Made {
                digest: key("nested index"),
                role: "nested index".into(),
                tags: Vec::new(),
                manifest: None,
                root: false,
            });
        }
    }
    let root = key(if multi { "index" } else { "manifest" });
    out.push(Made {
        digest: root.clone(),
        role: if multi {
            "index".into()
        } else {
            "manifest".into()
        },
        tags: image.tags.clone(),
        manifest: None,
        root: true,
    });
    for (on, suffix, role) in [
        (image.signature, "sig", "signature"),
        (image.attestation_tag, "att", "attestation tag"),
        (image.sbom_tag, "sbom", "sbom"),
    ] {
        if on {
            out.push(Made {
                digest: key(role),
                role: role.into(),
                tags: vec![format!("sha256-{}.{suffix}", root.hex())],
                manifest: None,
                root: false,
            });
        }
    }
    if image.referrer {
        out.push(Made {
            digest: key("referrer"),
            role: "referrer".into(),
            tags: Vec::new(),
            manifest: None,
            root: false,
        });
    }
    out
}

/// Pushes `image` into the backing registry and returns its manifests in push order.
pub(crate) async fn push(
    _backing: &crate::backing::Backing,
    repository: &str,
    image: &ImageEntry,
) -> anyhow::Result<Vec<Made>> {
    // Until regsweep_oci::testimage lands, registry-backed images are synthesised.
    Ok(synthesise(repository, image))
}
