//! The inventory cache: listing a GitHub package without starting over.
//!
//! With `--cache-dir` (and without `--no-inventory-cache`) each package's listing is
//! kept in the cache ([`store`]). The next run reads pages from the newest until one
//! holds a version the cache knows, and takes the rest from the cache when the two
//! join cleanly and the package's `version_count` agrees ([`join`]); otherwise it
//! reads on, page after page, to the end (a full listing, without reading again the
//! pages already read). A listing that fails part-way keeps its first pages in the
//! cache, and the next run goes on from there.
//!
//! Versions whose data came from the cache are not trusted for deleting: the GitHub
//! source re-reads them before the plan is used (`GithubSource::confirm`).

pub mod join;
pub mod store;

use std::collections::HashSet;
use std::ops::ControlFlow;

use regsweep_core::Version;
use regsweep_github::{GithubClient, GithubError, Owner, PER_PAGE};

use join::{join, meets, reaches, resume_at};
pub use store::Store;

/// One package's listing.
pub struct Listed {
    /// Every version, in GitHub's listing order.
    pub versions: Vec<Version>,
    /// The ids whose data came from the cache, not from this run's pages.
    pub from_cache: HashSet<u64>,
}

/// What listed so far: whole pages, in order.
struct Pages {
    versions: Vec<Version>,
    /// Pages read.
    pages: usize,
    /// The last page read was short: the listing's end.
    ended: bool,
}

impl Pages {
    fn new() -> Pages {
        Pages {
            versions: Vec::new(),
            pages: 0,
            ended: false,
        }
    }
}

/// Reads pages from `first_page` on into `into`, until `stop` says so after a page
/// or the listing ends. Returns whether it ended.
#[allow(clippy::too_many_arguments)]
async fn read_pages(
    client: &GithubClient,
    owner: &Owner,
    package: &str,
    first_page: usize,
    expected: Option<u64>,
    into: &mut Pages,
    stop: &mut (dyn FnMut(&[Version]) -> bool + Send),
    on_page: &(dyn Fn(usize) + Send + Sync),
) -> Result<bool, GithubError> {
    let ended = client
        .list_version_pages(owner, package, first_page, expected, &mut |page| {
            into.pages += 1;
            into.ended = page.len() < PER_PAGE;
            let halt = stop(&page);
            into.versions.extend(page);
            on_page(into.versions.len());
            if halt && !into.ended {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await?;
    Ok(ended || into.ended)
}

/// Whether no id or digest is listed twice.
fn unique(versions: &[Version]) -> bool {
    let mut ids = HashSet::with_capacity(versions.len());
    let mut digests = HashSet::with_capacity(versions.len());
    versions
        .iter()
        .all(|v| ids.insert(v.id.0) && digests.insert(v.digest.as_str()))
}

/// Lists `package`, using and then updating its cached listing in `store`.
/// `version_count` is the count GitHub reports now; `on_page` gets the number of
/// versions listed so far.
pub async fn list(
    client: &GithubClient,
    owner: &Owner,
    package: &str,
    version_count: Option<u64>,
    store: &Store,
    on_page: &(dyn Fn(usize) + Send + Sync),
) -> Result<Listed, GithubError> {
    let cached = store.load(package);
    let mut fresh = Pages::new();
    let known: HashSet<u64> = cached
        .iter()
        .flat_map(|c| c.versions.iter().map(|v| v.id.0))
        .collect();
    let mut stop = |page: &[Version]| !known.is_empty() && reaches(page, &known);
    let result = read_pages(
        client,
        owner,
        package,
        1,
        version_count,
        &mut fresh,
        &mut stop,
        on_page,
    )
    .await;
    let ended = match result {
        Ok(ended) => ended,
        Err(e) => {
            // The cache (complete or not) stays as it was unless this run listed
            // more of the package's first pages than it held.
            let longer = cached
                .as_ref()
                .is_none_or(|c| !c.complete && fresh.versions.len() > c.versions.len());
            if longer && !fresh.versions.is_empty() && unique(&fresh.versions) {
                store.save(package, version_count, false, &fresh.versions);
            }
            return Err(e);
        }
    };
    let listed = match (cached, ended) {
        (_, true) | (None, _) => None,
        (Some(c), false) if c.complete => {
            match join(
                std::mem::take(&mut fresh.versions),
                c.versions,
                version_count,
            ) {
                Ok(j) => Some(Listed {
                    versions: j.versions,
                    from_cache: j.from_cache,
                }),
                Err((m, pages)) => {
                    tracing::info!(
                        "package `{package}`: the cached listing cannot be used ({m}); listing the rest of the package"
                    );
                    fresh.versions = pages;
                    None
                }
            }
        }
        (Some(c), false) => {
            resume(
                client,
                owner,
                package,
                version_count,
                store,
                &mut fresh,
                c.versions,
                on_page,
            )
            .await?;
            None
        }
    };
    let listed = match listed {
        Some(l) => l,
        None => {
            if !fresh.ended && !ended {
                let mut never = |_: &[Version]| false;
                let next = fresh.pages + 1;
                let result = read_pages(
                    client, owner, package, next, None, &mut fresh, &mut never, on_page,
                )
                .await;
                if let Err(e) = result {
                    if unique(&fresh.versions) {
                        store.save(package, version_count, false, &fresh.versions);
                    }
                    return Err(e);
                }
            }
            if !unique(&fresh.versions) {
                // Pages shifted while they were read; a listing from scratch settles it.
                tracing::info!(
                    "package `{package}`: versions moved between pages while listing; listing it again from the first page"
                );
                store.forget(package);
                let versions = client
                    .list_versions_expecting(
                        owner,
                        package,
                        regsweep_github::VersionState::Active,
                        version_count,
                        on_page,
                    )
                    .await?;
                fresh.versions = versions;
            }
            Listed {
                versions: fresh.versions,
                from_cache: HashSet::new(),
            }
        }
    };
    store.save(package, version_count, true, &listed.versions);
    Ok(listed)
}

/// Goes on with an interrupted listing `partial` (its first pages): when the pages
/// read this run (`fresh`, which reach it) meet it cleanly, `fresh` becomes the new
/// versions, then `partial`, then the pages after it, read from the page that holds
/// its last version (checked to agree). Otherwise `fresh` is left as it is, for the
/// caller to read on from its next page.
#[allow(clippy::too_many_arguments)]
async fn resume(
    client: &GithubClient,
    owner: &Owner,
    package: &str,
    version_count: Option<u64>,
    store: &Store,
    fresh: &mut Pages,
    partial: Vec<Version>,
    on_page: &(dyn Fn(usize) + Send + Sync),
) -> Result<(), GithubError> {
    let first = match meets(&fresh.versions, &partial) {
        Ok(first) => first,
        Err(m) => {
            tracing::info!(
                "package `{package}`: the interrupted listing in the cache cannot be resumed ({m}); listing the rest of the package"
            );
            return Ok(());
        }
    };
    let overlap = fresh.versions.len() - first;
    let mut known: Vec<Version> = fresh.versions.clone();
    known.extend(partial.into_iter().skip(overlap));
    if known.len() <= fresh.versions.len() {
        return Ok(());
    }
    let (page, lead) = resume_at(known.len(), PER_PAGE);
    let expect: Vec<(u64, String)> = known[(page - 1) * PER_PAGE..]
        .iter()
        .map(|v| (v.id.0, v.digest.to_string()))
        .collect();
    tracing::info!(
        "package `{package}`: resuming an interrupted listing at page {page} ({} versions known)",
        known.len()
    );
    let mut rest = Pages {
        versions: Vec::new(),
        pages: page - 1,
        ended: false,
    };
    let mut agreed: Option<bool> = None;
    let mut check = |p: &[Version]| {
        if agreed.is_none() {
            let ok = p.len() >= lead
                && p[..lead]
                    .iter()
                    .zip(&expect)
                    .all(|(v, (id, d))| v.id.0 == *id && v.digest.as_str() == d);
            agreed = Some(ok);
            return !ok;
        }
        false
    };
    let on_rest = |n: usize| on_page(known.len() - lead + n);
    let result = read_pages(
        client, owner, package, page, None, &mut rest, &mut check, &on_rest,
    )
    .await;
    if let Err(e) = result {
        if agreed == Some(true) {
            let mut so_far = known;
            so_far.extend(rest.versions.into_iter().skip(lead));
            if unique(&so_far) {
                store.save(package, version_count, false, &so_far);
            }
        }
        return Err(e);
    }
    if agreed != Some(true) {
        tracing::info!(
            "package `{package}`: the interrupted listing in the cache no longer agrees with page {page}; listing the rest of the package"
        );
        return Ok(());
    }
    let mut all = known;
    all.extend(rest.versions.into_iter().skip(lead));
    *fresh = Pages {
        versions: all,
        pages: rest.pages,
        ended: true,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_refuses_a_repeated_id() {
        let v = |id: u64| Version {
            id: regsweep_core::VersionId(id),
            digest: regsweep_core::Digest::from_sha256_hex(&format!("{id:064x}")).unwrap(),
            tags: Vec::new(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            downloads: None,
        };
        assert!(unique(&[v(1), v(2)]));
        assert!(!unique(&[v(1), v(2), v(1)]));
    }
}
