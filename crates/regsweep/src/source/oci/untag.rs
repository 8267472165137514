//! Untagging on an OCI registry: `DELETE /v2/<repo>/manifests/<tag>` where the
//! registry deletes tags (OCI 1.1, Distribution v3), tried first; where it answers
//! 400 or 405 (Distribution 2.x), a placeholder (an empty image index) is pushed
//! under the tag, which moves it there, and the placeholder is deleted by digest,
//! which removes the tag with it. A manifest that is itself such a placeholder,
//! holding only the tag it took (a run was stopped before deleting it), is deleted
//! by digest instead, which finishes that untag. Either way the kept manifest is checked to be
//! still there afterwards, and pushed back by digest if a registry took it with
//! the tag.

use regsweep_core::plan::Decision;
use regsweep_core::Digest;
use regsweep_oci::{placeholder, OciError, TagDelete, PLACEHOLDER_MEDIA_TYPE};

use super::OciSource;
use crate::outcome::{FailCode, Why};
use crate::source::untag::{
    check_tag, fail_code, placeholder_for, retag, stamp, Placeholder, RetagOutcome, UntagOutcome,
};

impl OciSource {
    /// Removes `tag` from version `d` of repository `repo`.
    pub async fn untag(&self, repo: &str, d: &Decision, tag: &str) -> UntagOutcome {
        let failed = |e: &OciError, placeholder| UntagOutcome::Failed {
            why: Why::new(fail_code(e), e.to_string()),
            placeholder,
        };
        let media_type = match check_tag(&self.client, repo, tag, &d.digest).await {
            Ok(Ok(media_type)) => media_type,
            Ok(Err(why)) => return UntagOutcome::NotThere(why),
            Err(e) => return failed(&e, None),
        };
        if d.tags.len() == 1 {
            match placeholder_for(&self.client, repo, &d.digest, &media_type, tag).await {
                Ok(Some(from)) => {
                    let placeholder = Placeholder {
                        digest: d.digest.clone(),
                        id: None,
                    };
                    return match self.client.delete_manifest(repo, &d.digest).await {
                        Ok(()) => UntagOutcome::Finished { placeholder, from },
                        Err(e) if e.is_not_found() => UntagOutcome::Finished { placeholder, from },
                        Err(e) => UntagOutcome::Failed {
                            why: Why::new(fail_code(&e), format!(
                                "tag `{tag}` of `{repo}` points at {}, the placeholder of an earlier untag that was stopped before deleting it, which could not be deleted: {e}\n  help: run again, or `regsweep restore --journal FILE` to put the tag back on {}",
                                d.digest.short(),
                                from.short()
                            )),
                            placeholder: Some(placeholder),
                        },
                    };
                }
                Ok(None) => {}
                Err(e) => return failed(&e, None),
            }
        }
        // Its bytes, to push back should the registry delete it with the tag.
        let kept = match self.client.get_manifest(repo, d.digest.as_str()).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                return UntagOutcome::NotThere(format!(
                    "manifest {} is gone from `{repo}`; nothing changed",
                    d.digest.short()
                ))
            }
            Err(e) => return failed(&e, None),
        };
        let outcome = match self.client.delete_tag(repo, tag).await {
            Ok(TagDelete::Deleted | TagDelete::NotFound) => UntagOutcome::Untagged { placeholder: None },
            Ok(TagDelete::Unsupported) => self.untag_by_placeholder(repo, d, tag).await,
            Err(e @ (OciError::Forbidden { .. } | OciError::Unauthorized { .. })) => {
                return UntagOutcome::Forbidden(format!(
                    "cannot remove tag `{tag}` of `{repo}`: {e}\n  untagging needs delete rights on the repository (and push rights where the registry does not delete tags)"
                ))
            }
            Err(e) => return failed(&e, None),
        };
        // The kept version must still be there.
        match self.client.head_manifest(repo, d.digest.as_str()).await {
            Ok(Some(_)) => outcome,
            _ => match self
                .client
                .put_manifest(repo, d.digest.as_str(), &kept.media_type, kept.body)
                .await
            {
                Ok(_) => outcome,
                Err(e) => UntagOutcome::Failed {
                    why: Why::new(FailCode::Other, format!(
                        "the registry deleted manifest {} with tag `{tag}`, and pushing it back failed: {e}",
                        d.digest
                    )),
                    placeholder: None,
                },
            },
        }
    }

    async fn untag_by_placeholder(&self, repo: &str, d: &Decision, tag: &str) -> UntagOutcome {
        let body = placeholder(tag, &d.digest, &stamp());
        let pushed = match self
            .client
            .put_manifest(repo, tag, PLACEHOLDER_MEDIA_TYPE, body)
            .await
        {
            Ok(p) => p,
            Err(e @ (OciError::Forbidden { .. } | OciError::Unauthorized { .. })) => {
                return UntagOutcome::Forbidden(format!(
                    "cannot remove tag `{tag}` of `{repo}`: this registry does not delete tags, so a placeholder is pushed under it, and the push was refused: {e}\n  help: give the credentials push rights on the repository"
                ))
            }
            Err(e) => {
                return UntagOutcome::Failed {
                    why: Why::new(fail_code(&e), e.to_string()),
                    placeholder: None,
                }
            }
        };
        let placeholder = Some(Placeholder {
            digest: pushed.clone(),
            id: None,
        });
        match self.client.delete_manifest(repo, &pushed).await {
            Ok(()) => UntagOutcome::Untagged { placeholder },
            Err(e) if e.is_not_found() => UntagOutcome::Untagged { placeholder },
            Err(e) => UntagOutcome::Failed {
                why: Why::new(fail_code(&e), format!(
                    "tag `{tag}` now points at the placeholder {}, which could not be deleted: {e}\n  help: run `regsweep restore --journal FILE` to put the tag back on {}",
                    pushed.short(),
                    d.digest.short()
                )),
                placeholder,
            },
        }
    }

    /// Puts `tag` back on `digest` (restore of an untag).
    pub async fn retag(
        &self,
        repo: &str,
        digest: &Digest,
        tag: &str,
        placeholder: Option<&Digest>,
    ) -> RetagOutcome {
        retag(&self.client, repo, tag, digest, placeholder).await
    }
}
