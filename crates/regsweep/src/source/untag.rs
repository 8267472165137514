//! Untagging through a source: the outcome types, and what GHCR and OCI registries
//! share (checking the tag still points at the kept version before moving it, and
//! putting a removed tag back by pushing the kept manifest under it). The backend
//! steps live beside each source (`github/untag.rs`, `oci/untag.rs`).

use regsweep_core::{Digest, VersionId};
use regsweep_oci::{OciError, RegistryClient};

use crate::outcome::{FailCode, Why};

/// The placeholder that took a tag away (GHCR, or a registry without tag deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    pub digest: Digest,
    /// Its package version on GHCR, once found.
    pub id: Option<VersionId>,
}

/// How removing one tag ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UntagOutcome {
    /// The tag is gone; the version and its other tags stay.
    Untagged { placeholder: Option<Placeholder> },
    /// The tag no longer points at this version (moved or removed since the
    /// listing): nothing was changed.
    NotThere(String),
    /// The token may not do it: nothing was changed (the message names the scope).
    Forbidden(String),
    /// Failed; `placeholder` when one was pushed (the tag may point at it).
    Failed {
        why: Why<FailCode>,
        placeholder: Option<Placeholder>,
    },
}

/// How putting one tag back ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetagOutcome {
    Restored,
    /// The tag already points at the version.
    AlreadyThere,
    /// Not restored: the message says why (the tag now names another image, the
    /// manifest is gone, the request failed).
    Failed(String),
}

/// Whether `tag` of `repo` still points at `digest`: `Ok(None)` when it does,
/// `Ok(Some(why))` when it does not (moved or gone).
pub async fn check_tag(
    client: &RegistryClient,
    repo: &str,
    tag: &str,
    digest: &Digest,
) -> Result<Option<String>, OciError> {
    Ok(match client.head_manifest(repo, tag).await? {
        Some((d, _)) if &d == digest => None,
        Some((d, _)) => Some(format!(
            "tag `{tag}` now points at {}, not {}: it moved since the listing; nothing changed",
            d.short(),
            digest.short()
        )),
        None => Some(format!(
            "tag `{tag}` is gone since the listing; nothing changed"
        )),
    })
}

/// Puts `tag` back on `digest` by pushing its manifest (still in the registry: the
/// version was kept) under the tag. The tag is moved only when it is missing or
/// points at `placeholder`; a tag someone pushed another image under since is left.
pub async fn retag(
    client: &RegistryClient,
    repo: &str,
    tag: &str,
    digest: &Digest,
    placeholder: Option<&Digest>,
) -> RetagOutcome {
    match client.head_manifest(repo, tag).await {
        Ok(Some((d, _))) if &d == digest => return RetagOutcome::AlreadyThere,
        Ok(Some((d, _))) if Some(&d) != placeholder => {
            return RetagOutcome::Failed(format!(
                "tag `{tag}` now points at {}, another image pushed since the untag; left as it is\n  help: push {} under `{tag}` yourself if it should move back",
                d.short(),
                digest
            ))
        }
        Ok(_) => {}
        Err(e) => return RetagOutcome::Failed(e.to_string()),
    }
    let manifest = match client.get_manifest(repo, digest.as_str()).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return RetagOutcome::Failed(format!(
                "manifest {digest} is gone from `{repo}`, so `{tag}` cannot point at it again"
            ))
        }
        Err(e) => return RetagOutcome::Failed(e.to_string()),
    };
    match client
        .put_manifest(repo, tag, &manifest.media_type, manifest.body)
        .await
    {
        Ok(_) => RetagOutcome::Restored,
        Err(e) => RetagOutcome::Failed(e.to_string()),
    }
}

/// A unique stamp for a placeholder (its `org.opencontainers.image.created`).
pub fn stamp() -> String {
    jiff::Timestamp::now().to_string()
}

/// The failure code of a registry error.
pub fn fail_code(e: &OciError) -> FailCode {
    match e {
        OciError::Transport { .. } => FailCode::Network,
        OciError::Status { .. } | OciError::Exhausted { .. } => FailCode::HttpStatus,
        OciError::Forbidden { .. } | OciError::Unauthorized { .. } => FailCode::Forbidden,
        _ => FailCode::Other,
    }
}
