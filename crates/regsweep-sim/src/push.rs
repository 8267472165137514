//! Turns a scenario image into the manifests it consists of: pushed into the backing
//! registry (index, platform manifests, attestations, cosign tags, referrers), or, for
//! metadata-only worlds, synthesised digests with the same shape.

use bytes::Bytes;
use regsweep_core::Digest;
use sha2::{Digest as _, Sha256};

use regsweep_testimage::{parse_platform, push_image, ImageSpec, Pusher, Role};

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
    let build = image.build.as_deref().unwrap_or(&image.handle);
    let mut out = Vec::new();
    let multi = image.platforms.len() >= 2 || image.nested || image.buildx_attestations;
    if multi {
        for p in &image.platforms {
            out.push(Made {
                digest: fake_digest(&[repository, build, &format!("platform {p}")]),
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

/// A name for `role`, as `SimManifest::role` reports it.
fn role_name(role: &Role) -> String {
    match role {
        Role::Index => "index".into(),
        Role::NestedIndex => "nested index".into(),
        Role::Platform(p) => match &p.variant {
            Some(v) => format!("platform {}/{}/{v}", p.os, p.architecture),
            None => format!("platform {}/{}", p.os, p.architecture),
        },
        Role::BuildxAttestation { of } => format!("attestation of {}", of.short()),
        Role::Signature => "signature".into(),
        Role::AttestationTag => "attestation tag".into(),
        Role::SbomTag => "sbom".into(),
        Role::Referrer => "referrer".into(),
    }
}

/// Pushes `image` into the backing registry (repository `repository`) and returns its
/// manifests in push order: children before parents, the root before its companions.
pub(crate) async fn push(
    backing: &crate::backing::Backing,
    repository: &str,
    image: &ImageEntry,
) -> anyhow::Result<Vec<Made>> {
    let client = Pusher::new(backing.url.clone());
    let spec = ImageSpec {
        platforms: image
            .platforms
            .iter()
            .filter_map(|p| parse_platform(p))
            .collect(),
        buildx_attestations: image.buildx_attestations,
        nested: image.nested,
        docker_media_types: image.docker,
        labels: image.labels.clone(),
        signature: image.signature,
        attestation_tag: image.attestation_tag,
        sbom_tag: image.sbom_tag,
        referrer: image.referrer,
        seed: seed_of(repository, image.build.as_deref().unwrap_or(&image.handle)),
    };
    let pushed = push_image(&client, repository, &image.tags, &spec)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot push scenario image `{}` into {repository}: {e}",
                image.handle
            )
        })?;
    let root = pushed.root.digest.clone();
    Ok(pushed
        .manifests
        .into_iter()
        .map(|m| {
            let is_root = m.digest == root;
            Made {
                role: role_name(&m.role),
                tags: if is_root {
                    image.tags.clone()
                } else {
                    m.tag.into_iter().collect()
                },
                manifest: Some((m.media_type, m.body)),
                root: is_root,
                digest: m.digest,
            }
        })
        .collect())
}

/// A seed unique to one image of one repository.
fn seed_of(repository: &str, handle: &str) -> u64 {
    let h = Sha256::digest(format!("{repository}\u{0}{handle}").as_bytes());
    u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(handle: &str, platforms: &[&str], build: Option<&str>) -> ImageEntry {
        ImageEntry {
            handle: handle.into(),
            platforms: platforms.iter().map(|p| p.to_string()).collect(),
            build: build.map(String::from),
            ..ImageEntry::default()
        }
    }

    fn platform_digests(made: &[Made]) -> Vec<(String, Digest)> {
        made.iter()
            .filter(|m| m.role.starts_with("platform"))
            .map(|m| (m.role.clone(), m.digest.clone()))
            .collect()
    }

    #[test]
    fn images_of_one_build_share_their_common_platforms() {
        let a = synthesise(
            "acme/app",
            &image("a", &["linux/amd64", "linux/arm64"], Some("x")),
        );
        let b = synthesise(
            "acme/app",
            &image("b", &["linux/amd64", "linux/386"], Some("x")),
        );
        let c = synthesise(
            "acme/app",
            &image("c", &["linux/amd64", "linux/arm64"], None),
        );
        let (pa, pb, pc) = (
            platform_digests(&a),
            platform_digests(&b),
            platform_digests(&c),
        );
        assert_eq!(pa[0], pb[0], "linux/amd64 is one manifest");
        assert_ne!(pa[1].1, pb[1].1);
        assert_ne!(pa[0].1, pc[0].1, "another build shares nothing");
        let root = |m: &[Made]| m.iter().find(|m| m.root).map(|m| m.digest.clone());
        assert_ne!(root(&a), root(&b), "each image keeps its own index");
    }
}
