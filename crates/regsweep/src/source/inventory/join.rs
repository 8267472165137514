//! Joining the pages listed this run with the cached listing of a package: pure,
//! no I/O.
//!
//! GitHub lists a package's versions newest first and keeps each version at its
//! place (a tag moved onto an old version does not bring it to the front). A run
//! with a cached listing reads pages from the newest until a page holds a version
//! the cache knows, then takes the rest from the cache, but only when everything
//! agrees: the first known version is the cache's newest (no cached version newer
//! than it has gone), the versions after it on the pages read are the cache's, in
//! the cache's order, and the joined count equals the package's `version_count` as
//! GitHub reports it now. Anything else is a [`Mismatch`], and the caller lists the
//! package in full. A tag that a version listed this run holds is taken off any
//! cached version (the fresh data wins: a tag points at one manifest).

use std::collections::{HashMap, HashSet};

use regsweep_core::Version;

/// Why the pages listed this run and the cache cannot be joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// No version listed this run is in the cache.
    NothingKnown,
    /// Cached versions newer than the first known one are gone.
    NewestGone { gone: usize },
    /// After the first known version, the pages and the cache differ.
    Order,
    /// The joined listing holds `joined` versions; GitHub reports `reported`.
    Count { joined: usize, reported: u64 },
    /// GitHub did not report the package's `version_count`.
    NoCount,
    /// The same digest listed this run and in the cache under different ids.
    Digest,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::NothingKnown => f.write_str("no version listed is in the cache"),
            Mismatch::NewestGone { gone } => write!(
                f,
                "{gone} of the newest cached versions are no longer listed"
            ),
            Mismatch::Order => f.write_str("the versions listed do not follow on from the cache's"),
            Mismatch::Count { joined, reported } => write!(
                f,
                "the cache and the new pages make {joined} versions; GitHub reports {reported}"
            ),
            Mismatch::NoCount => f.write_str("GitHub did not report the package's version_count"),
            Mismatch::Digest => f.write_str("a digest listed is cached under another id"),
        }
    }
}

/// A joined listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    /// Every version, in GitHub's listing order.
    pub versions: Vec<Version>,
    /// The ids whose data came from the cache, not from this run's pages.
    pub from_cache: HashSet<u64>,
}

/// Whether a page of versions listed this run reaches the cache (the listing can
/// stop after it).
pub fn reaches(page: &[Version], known: &HashSet<u64>) -> bool {
    page.iter().any(|v| known.contains(&v.id.0))
}

/// Where `fresh` (pages read this run, newest first) meets `cached` (a cached
/// listing, or the first pages of one): the index in `fresh` of the cache's newest
/// version, when everything after it on the pages read is the cache's, in order.
pub fn meets(fresh: &[Version], cached: &[Version]) -> Result<usize, Mismatch> {
    let cached_at: HashMap<u64, usize> = cached
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.0, i))
        .collect();
    let first = fresh
        .iter()
        .position(|v| cached_at.contains_key(&v.id.0))
        .ok_or(Mismatch::NothingKnown)?;
    let at = cached_at[&fresh[first].id.0];
    if at > 0 {
        return Err(Mismatch::NewestGone { gone: at });
    }
    if fresh.len() - first > cached.len()
        || fresh[first..]
            .iter()
            .zip(cached)
            .any(|(f, c)| f.id != c.id || f.digest != c.digest)
    {
        return Err(Mismatch::Order);
    }
    Ok(first)
}

/// Where to go on with an interrupted listing of which `known` versions are now
/// known (at the front of the listing): the page (1-based, `per_page` a page) that
/// holds the last known version, and how many known versions lead that page.
pub fn resume_at(known: usize, per_page: usize) -> (usize, usize) {
    if known == 0 {
        return (1, 0);
    }
    let page = (known - 1) / per_page + 1;
    (page, known - (page - 1) * per_page)
}

/// Joins `fresh` (the pages read this run, newest first, ending with the first page
/// that [`reaches`] the cache) with `cached` (the cached listing, newest first),
/// checked against `version_count`, the count GitHub reports now. A mismatch
/// hands `fresh` back.
pub fn join(
    fresh: Vec<Version>,
    cached: Vec<Version>,
    version_count: Option<u64>,
) -> Result<Joined, (Mismatch, Vec<Version>)> {
    match check(&fresh, &cached, version_count) {
        Ok(overlap) => Ok(joined(fresh, cached, overlap)),
        Err(m) => Err((m, fresh)),
    }
}

/// The checks of [`join`]; the overlap (versions both listed and cached) when they
/// pass.
fn check(
    fresh: &[Version],
    cached: &[Version],
    version_count: Option<u64>,
) -> Result<usize, Mismatch> {
    let first = meets(fresh, cached)?;
    let overlap = fresh.len() - first;
    let reported = version_count.ok_or(Mismatch::NoCount)?;
    let joined = first + cached.len();
    if joined as u64 != reported {
        return Err(Mismatch::Count { joined, reported });
    }
    let fresh_digests: HashSet<&str> = fresh[..first].iter().map(|v| v.digest.as_str()).collect();
    if cached[overlap..]
        .iter()
        .any(|v| fresh_digests.contains(v.digest.as_str()))
    {
        return Err(Mismatch::Digest);
    }
    Ok(overlap)
}

/// `fresh`, then the cached versions after the overlap, without the tags `fresh`
/// holds.
fn joined(fresh: Vec<Version>, cached: Vec<Version>, overlap: usize) -> Joined {
    let fresh_tags: HashSet<String> = fresh.iter().flat_map(|v| v.tags.clone()).collect();
    let mut from_cache = HashSet::with_capacity(cached.len() - overlap);
    let mut versions = fresh;
    versions.reserve(cached.len() - overlap);
    for mut v in cached.into_iter().skip(overlap) {
        v.tags.retain(|t| !fresh_tags.contains(t));
        from_cache.insert(v.id.0);
        versions.push(v);
    }
    Joined {
        versions,
        from_cache,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::{Digest, VersionId};

    fn v(id: u64, tags: &[&str]) -> Version {
        Version {
            id: VersionId(id),
            digest: Digest::from_sha256_hex(&format!("{id:064x}")).unwrap(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: jiff::Timestamp::from_second(1_700_000_000 + id as i64).unwrap(),
            updated_at: jiff::Timestamp::from_second(1_700_000_000 + id as i64).unwrap(),
            downloads: None,
        }
    }

    /// The cache of a package of versions 1..=10 (newest first).
    fn cached() -> Vec<Version> {
        (1..=10).rev().map(|i| v(i, &[])).collect()
    }

    fn join(
        fresh: Vec<Version>,
        cached: Vec<Version>,
        count: Option<u64>,
    ) -> Result<Joined, Mismatch> {
        super::join(fresh, cached, count).map_err(|(m, _)| m)
    }

    fn ids(vs: &[Version]) -> Vec<u64> {
        vs.iter().map(|v| v.id.0).collect()
    }

    #[test]
    fn new_versions_then_the_cache() {
        // Two new (12, 11), then the page goes on into the cache (10, 9).
        let fresh = vec![v(12, &["new"]), v(11, &[]), v(10, &[]), v(9, &[])];
        let j = join(fresh, cached(), Some(12)).unwrap();
        assert_eq!(
            ids(&j.versions),
            vec![12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
        );
        assert_eq!(j.from_cache, (1..=8).collect());
    }

    #[test]
    fn resuming_reads_the_page_of_the_last_known_version() {
        assert_eq!(resume_at(0, 100), (1, 0));
        assert_eq!(resume_at(100, 100), (1, 100));
        assert_eq!(resume_at(101, 100), (2, 1));
        assert_eq!(resume_at(350, 100), (4, 50));
    }

    #[test]
    fn nothing_new() {
        let j = join(vec![v(10, &[]), v(9, &[])], cached(), Some(10)).unwrap();
        assert_eq!(j.versions.len(), 10);
    }

    #[test]
    fn a_deleted_cached_version_changes_the_count() {
        // Version 5 deleted since the cache, 11 pushed: GitHub counts 10, the join 11.
        let fresh = vec![v(11, &[]), v(10, &[]), v(9, &[])];
        assert_eq!(
            join(fresh, cached(), Some(10)),
            Err(Mismatch::Count {
                joined: 11,
                reported: 10
            })
        );
    }

    #[test]
    fn the_newest_cached_version_gone() {
        let fresh = vec![v(11, &[]), v(9, &[]), v(8, &[])];
        assert_eq!(
            join(fresh, cached(), Some(10)),
            Err(Mismatch::NewestGone { gone: 1 })
        );
    }

    #[test]
    fn a_gap_inside_the_overlap() {
        let fresh = vec![v(11, &[]), v(10, &[]), v(8, &[])];
        assert_eq!(join(fresh, cached(), Some(10)), Err(Mismatch::Order));
    }

    #[test]
    fn nothing_known_or_no_count() {
        assert_eq!(
            join(vec![v(20, &[])], cached(), Some(11)),
            Err(Mismatch::NothingKnown)
        );
        assert_eq!(
            join(vec![v(10, &[])], cached(), None),
            Err(Mismatch::NoCount)
        );
    }

    #[test]
    fn a_tag_on_a_new_version_leaves_the_cached_one() {
        let mut c = cached();
        c[5] = v(5, &["stable", "v1"]);
        let fresh = vec![v(11, &["stable"]), v(10, &[])];
        let j = join(fresh, c, Some(11)).unwrap();
        let five = j.versions.iter().find(|v| v.id.0 == 5).unwrap();
        assert_eq!(five.tags, vec!["v1".to_string()]);
        assert_eq!(j.versions[0].tags, vec!["stable".to_string()]);
    }

    #[test]
    fn a_digest_pushed_again_under_a_new_id() {
        let mut again = v(11, &[]);
        again.digest = v(3, &[]).digest;
        let fresh = vec![again, v(10, &[])];
        assert_eq!(join(fresh, cached(), Some(11)), Err(Mismatch::Digest));
    }
}
