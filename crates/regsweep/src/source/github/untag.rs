//! Untagging on GHCR, which has no tag-delete endpoint: the tag is moved to a tiny
//! placeholder pushed under it through the registry surface (an empty image index,
//! annotated with the tag and the digest it took it from), then the placeholder's
//! package version (found by its digest) is deleted through the Packages API. The
//! image and its other tags stay. A version that is itself such a placeholder,
//! holding only the tag it took (a run was stopped between the push and the
//! delete), is not given another placeholder: its version is deleted, which
//! finishes that untag. Pushing needs write access to the package
//! (`write:packages` for a classic token), deleting the placeholder
//! `delete:packages`: a classic token without them is refused before anything is
//! sent, and a registry refusal is reported with the scope it needs.

use regsweep_core::plan::Decision;
use regsweep_core::Digest;
use regsweep_github::DeleteError;
use regsweep_oci::{
    placeholder, Auth, OciError, OciOptions, RegistryClient, PLACEHOLDER_MEDIA_TYPE,
};

use super::{has_scope, GithubSource, USER_AGENT};
use crate::outcome::{FailCode, Why};
use crate::source::untag::{
    check_tag, fail_code, placeholder_for, retag, stamp, Placeholder, RetagOutcome, UntagOutcome,
};

/// What a token needs to untag on GHCR, for error messages.
pub const UNTAG_SCOPES: &str = "untagging on GHCR pushes a placeholder under the tag (write access to the package: `write:packages`) and deletes the placeholder's version (`delete:packages`)\n  help: use a classic personal access token with write:packages and delete:packages, or the Actions GITHUB_TOKEN with `permissions: packages: write` and the repository given write or admin access to the package";

impl GithubSource {
    /// The client of GHCR's registry surface used to move tags.
    fn tag_client(&self) -> Result<&RegistryClient, OciError> {
        if let Some(c) = self.tags.get() {
            return Ok(c);
        }
        let c = RegistryClient::new(
            self.registry_url.clone(),
            Auth::Basic {
                username: self
                    .info
                    .login
                    .clone()
                    .unwrap_or_else(|| "regsweep".to_string()),
                password: self.token.clone(),
            },
            OciOptions {
                user_agent: USER_AGENT.to_string(),
                redactor: crate::redact::global().clone(),
                ..OciOptions::default()
            },
        )?;
        Ok(self.tags.get_or_init(|| c))
    }

    fn repository(&self, package: &str) -> String {
        format!("{}/{}", self.namespace, package.to_lowercase())
    }

    /// Removes `tag` from version `d` of `package`.
    pub async fn untag(&self, package: &str, d: &Decision, tag: &str) -> UntagOutcome {
        // Untagging pushes and deletes a placeholder version: the cached listing of
        // the package no longer holds.
        self.forget_cached(package);
        let failed = |e: &OciError, placeholder| UntagOutcome::Failed {
            why: Why::new(fail_code(e), e.to_string()),
            placeholder,
        };
        if let Some(scopes) = &self.info.scopes {
            let missing: Vec<&str> = ["write:packages", "delete:packages"]
                .into_iter()
                .filter(|s| !has_scope(scopes, s))
                .collect();
            if !missing.is_empty() {
                return UntagOutcome::Forbidden(format!(
                    "cannot remove tag `{tag}` of `{package}`: the token lacks {}; GitHub reports its scopes as `{}`\n  {UNTAG_SCOPES}",
                    missing.join(" and "),
                    scopes.join(", ")
                ));
            }
        }
        let client = match self.tag_client() {
            Ok(c) => c,
            Err(e) => return failed(&e, None),
        };
        let repo = self.repository(package);
        let media_type = match check_tag(client, &repo, tag, &d.digest).await {
            Ok(Ok(media_type)) => media_type,
            Ok(Err(why)) => return UntagOutcome::NotThere(why),
            Err(e) => return failed(&e, None),
        };
        if d.tags.len() == 1 {
            match placeholder_for(client, &repo, &d.digest, &media_type, tag).await {
                Ok(Some(from)) => return self.finish(package, d, tag, from).await,
                Ok(None) => {}
                Err(e) => return failed(&e, None),
            }
        }
        let body = placeholder(tag, &d.digest, &stamp());
        let pushed = match client
            .put_manifest(&repo, tag, PLACEHOLDER_MEDIA_TYPE, body)
            .await
        {
            Ok(p) => p,
            Err(e @ (OciError::Forbidden { .. } | OciError::Unauthorized { .. })) => {
                return UntagOutcome::Forbidden(format!(
                    "cannot remove tag `{tag}` of `{package}`: the registry refused the push: {e}\n  {UNTAG_SCOPES}"
                ))
            }
            Err(e) => return failed(&e, None),
        };
        let stuck = |id: Option<regsweep_core::VersionId>, what: String| {
            UntagOutcome::Failed {
            why: Why::new(FailCode::Other, format!(
                "tag `{tag}` of `{package}` now points at the placeholder {} and {what}\n  help: run `regsweep restore --journal FILE` to put the tag back on {}, or delete the placeholder's version on GitHub",
                pushed.short(),
                d.digest.short()
            )),
            placeholder: Some(Placeholder {
                digest: pushed.clone(),
                id,
            }),
        }
        };
        let id = match self
            .client
            .find_version(&self.owner, package, &pushed)
            .await
        {
            Ok(Some(id)) => id,
            Ok(None) => return stuck(None, "its version is not listed".to_string()),
            Err(e) => return stuck(None, format!("its version could not be found: {e}")),
        };
        match self.client.delete_version(&self.owner, package, id).await {
            Ok(()) | Err(DeleteError::NotFound) => UntagOutcome::Untagged {
                placeholder: Some(Placeholder {
                    digest: pushed,
                    id: Some(id),
                }),
            },
            Err(e) => stuck(
                Some(id),
                format!("its version {id} could not be deleted: {e}"),
            ),
        }
    }

    /// Deletes the version of `d`, the placeholder an interrupted untag left under
    /// `tag` (taken from `from`): that untag is then done.
    async fn finish(&self, package: &str, d: &Decision, tag: &str, from: Digest) -> UntagOutcome {
        let placeholder = Placeholder {
            digest: d.digest.clone(),
            id: Some(d.id),
        };
        match self.client.delete_version(&self.owner, package, d.id).await {
            Ok(()) | Err(DeleteError::NotFound) => UntagOutcome::Finished { placeholder, from },
            Err(e) => UntagOutcome::Failed {
                why: Why::new(FailCode::Other, format!(
                    "tag `{tag}` of `{package}` points at {}, the placeholder of an earlier untag that was stopped before deleting it, and its version {} could not be deleted: {e}\n  help: run again, or `regsweep restore --journal FILE` to put the tag back on {}",
                    d.digest.short(),
                    d.id,
                    from.short()
                )),
                placeholder: Some(placeholder),
            },
        }
    }

    /// Puts `tag` back on `digest` (restore of an untag).
    pub async fn retag(
        &self,
        package: &str,
        digest: &Digest,
        tag: &str,
        placeholder: Option<&Digest>,
    ) -> RetagOutcome {
        self.forget_cached(package);
        match self.tag_client() {
            Ok(c) => retag(c, &self.repository(package), tag, digest, placeholder).await,
            Err(e) => RetagOutcome::Failed(e.to_string()),
        }
    }
}
