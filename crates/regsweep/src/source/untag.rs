//! Untagging through a source: the outcome types, and what GHCR and OCI registries
//! share (checking the tag still points at the kept version before moving it,
//! recognising a placeholder an interrupted untag left under a tag, and putting a
//! removed tag back by pushing the kept manifest under it). The backend steps live
//! beside each source (`github/untag.rs`, `oci/untag.rs`).

use regsweep_core::{Digest, VersionId};
use regsweep_oci::{
    OciError, RegistryClient, PLACEHOLDER_FROM_ANNOTATION, PLACEHOLDER_MEDIA_TYPE,
    PLACEHOLDER_TAG_ANNOTATION,
};

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
    /// The version was itself the placeholder an earlier untag pushed under the tag
    /// and was stopped before deleting (a crash, a kill): deleting it finished that
    /// untag. `from` is the digest the tag was taken from, which restore points the
    /// tag at again.
    Finished {
        placeholder: Placeholder,
        from: Digest,
    },
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
    /// request failed).
    Failed(String),
    /// Not restored: the manifest the tag named is gone from the repository.
    Gone(String),
}

/// Whether `tag` of `repo` still points at `digest`: `Ok(Ok(media_type))` when it
/// does, `Ok(Err(why))` when it does not (moved or gone).
pub async fn check_tag(
    client: &RegistryClient,
    repo: &str,
    tag: &str,
    digest: &Digest,
) -> Result<Result<String, String>, OciError> {
    Ok(match client.head_manifest(repo, tag).await? {
        Some((d, media_type)) if &d == digest => Ok(media_type),
        Some((d, _)) => Err(format!(
            "tag `{tag}` now points at {}, not {}: it moved since the listing; nothing changed",
            d.short(),
            digest.short()
        )),
        None => Err(format!(
            "tag `{tag}` is gone since the listing; nothing changed"
        )),
    })
}

/// What a regsweep placeholder's body says: the tag it took and the digest it took
/// it from. `None` for anything else (a placeholder is an empty image index with
/// both annotations).
pub fn placeholder_of(body: &[u8]) -> Option<(String, Digest)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v["mediaType"] != PLACEHOLDER_MEDIA_TYPE || v["manifests"] != serde_json::json!([]) {
        return None;
    }
    let a = &v["annotations"];
    let tag = a[PLACEHOLDER_TAG_ANNOTATION].as_str()?;
    let from = Digest::parse(a[PLACEHOLDER_FROM_ANNOTATION].as_str()?).ok()?;
    Some((tag.to_string(), from))
}

/// When manifest `digest` (of `media_type`) of `repo` is the placeholder of an
/// untag of `tag`: the digest the tag was taken from. Reads the manifest only when
/// its media type is an image index.
pub async fn placeholder_for(
    client: &RegistryClient,
    repo: &str,
    digest: &Digest,
    media_type: &str,
    tag: &str,
) -> Result<Option<Digest>, OciError> {
    if media_type != PLACEHOLDER_MEDIA_TYPE {
        return Ok(None);
    }
    Ok(client
        .get_manifest(repo, digest.as_str())
        .await?
        .and_then(|m| placeholder_of(&m.body))
        .and_then(|(t, from)| (t == tag).then_some(from)))
}

/// Puts `tag` back on `digest` by pushing its manifest (still in the registry: the
/// version was kept) under the tag. The tag is moved only when it is missing or
/// points at `placeholder`, or at a placeholder that took `tag` from `digest` (one
/// the journal could not record: the run was stopped between its push and its
/// outcome); a tag someone pushed another image under since is left.
pub async fn retag(
    client: &RegistryClient,
    repo: &str,
    tag: &str,
    digest: &Digest,
    placeholder: Option<&Digest>,
) -> RetagOutcome {
    match client.head_manifest(repo, tag).await {
        Ok(Some((d, _))) if &d == digest => return RetagOutcome::AlreadyThere,
        Ok(Some((d, media_type))) if Some(&d) != placeholder => {
            match placeholder_for(client, repo, &d, &media_type, tag).await {
                Ok(Some(from)) if &from == digest => {}
                Ok(_) => return RetagOutcome::Failed(format!(
                "tag `{tag}` now points at {}, another image pushed since the untag; left as it is\n  help: push {} under `{tag}` yourself if it should move back",
                d.short(),
                digest
            )),
                Err(e) => return RetagOutcome::Failed(e.to_string()),
            }
        }
        Ok(_) => {}
        Err(e) => return RetagOutcome::Failed(e.to_string()),
    }
    let manifest = match client.get_manifest(repo, digest.as_str()).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return RetagOutcome::Gone(format!(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_is_recognised_by_its_content_and_nothing_else_is() {
        let from = Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
        let body = regsweep_oci::placeholder("pr-1", &from, "2026-12-01T00:00:00Z");
        assert_eq!(
            placeholder_of(&body),
            Some(("pr-1".to_string(), from.clone()))
        );
        // An image index with children, or without the annotations, is an image.
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        v["manifests"] = serde_json::json!([{"digest": from.as_str()}]);
        assert_eq!(placeholder_of(&serde_json::to_vec(&v).unwrap()), None);
        let bare = serde_json::json!({"schemaVersion": 2, "mediaType": PLACEHOLDER_MEDIA_TYPE, "manifests": []});
        assert_eq!(placeholder_of(&serde_json::to_vec(&bare).unwrap()), None);
        assert_eq!(placeholder_of(b"not json"), None);
    }
}
