//! The simulated world's state: accounts, packages, versions (active and deleted),
//! tokens and pull requests, and the rules GitHub applies when versions are deleted or
//! restored.
//!
//! Pure state and rules; no HTTP and no registry I/O (the caller mirrors deletions and
//! restorations into the backing registry).

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use regsweep_core::{Digest, VersionId, Visibility};
use serde::Serialize;

use crate::scenario::{AccountKind, PullSpec, TokenSpec};

/// Versions are restorable this long after deletion.
pub(crate) const RESTORE_WINDOW: SignedDuration = SignedDuration::from_hours(30 * 24);
/// Public versions with more downloads than this cannot be deleted.
pub(crate) const DOWNLOAD_LIMIT: u64 = 5000;

/// One package version as the emulator reports it to Rust callers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimVersion {
    pub id: VersionId,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub downloads: u64,
    pub deleted_at: Option<Timestamp>,
}

impl SimVersion {
    /// The core model's view of this version.
    pub fn to_version(&self) -> regsweep_core::Version {
        regsweep_core::Version {
            id: self.id,
            digest: self.digest.clone(),
            tags: self.tags.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            downloads: Some(self.downloads),
        }
    }
}

/// What one scenario image became: its root version and every manifest pushed for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimImage {
    /// The version of the manifest the image's tags point at (index or manifest).
    pub root: (VersionId, Digest),
    pub manifests: Vec<SimManifest>,
}

/// One manifest of an image and the package version it became.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimManifest {
    pub id: VersionId,
    pub digest: Digest,
    /// What it is, e.g. `index`, `platform linux/arm64`, `attestation`, `signature`, `referrer`.
    pub role: String,
    pub tag: Option<String>,
}

/// A manifest's exact bytes, kept so a restore can push them back.
#[derive(Clone, Debug)]
pub(crate) struct StoredManifest {
    pub media_type: String,
    pub body: Bytes,
}

#[derive(Clone, Debug)]
pub(crate) struct VersionRec {
    pub id: u64,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub downloads: u64,
    pub deleted_at: Option<Timestamp>,
    pub deleted_with_package: bool,
    pub manifest: Option<StoredManifest>,
}

impl VersionRec {
    pub fn to_sim(&self) -> SimVersion {
        SimVersion {
            id: VersionId(self.id),
            digest: self.digest.clone(),
            tags: self.tags.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            downloads: self.downloads,
            deleted_at: self.deleted_at,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Package {
    pub id: u64,
    pub name: String,
    pub visibility: Visibility,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// Newest first (created_at, then id, descending): GitHub's listing order.
    pub versions: Vec<VersionRec>,
    by_id: HashMap<u64, usize>,
    by_digest: HashMap<Digest, u64>,
    /// Which active version holds each tag.
    tag_owner: HashMap<String, u64>,
    pub images: BTreeMap<String, SimImage>,
    pub active_count: usize,
}

#[derive(Debug)]
pub(crate) struct Account {
    pub name: String,
    pub kind: AccountKind,
    pub id: u64,
    pub packages: BTreeMap<String, Package>,
}

/// Why GitHub refuses to delete a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    LastTagged,
    TooManyDownloads,
}

/// A version that was deleted and what the registry must forget.
pub(crate) struct Removed {
    pub digest: Digest,
    pub has_manifest: bool,
}

/// A version that was restored and what the registry must get back.
pub(crate) struct Restored {
    pub digest: Digest,
    pub manifest: Option<StoredManifest>,
    pub tags: Vec<String>,
}

/// The whole simulated state.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub accounts: BTreeMap<String, Account>,
    pub tokens: HashMap<String, TokenSpec>,
    pub pulls: Vec<PullSpec>,
    next_version_id: u64,
    next_package_id: u64,
}

/// Timestamps on whole seconds, as GitHub reports them.
pub(crate) fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

impl World {
    pub fn new(tokens: &[TokenSpec], pulls: &[PullSpec]) -> Self {
        World {
            accounts: BTreeMap::new(),
            tokens: tokens
                .iter()
                .map(|t| (t.token.clone(), t.clone()))
                .collect(),
            pulls: pulls.to_vec(),
            next_version_id: 214_880_001,
            next_package_id: 1_000_001,
        }
    }

    pub fn add_account(&mut self, name: &str, kind: AccountKind) {
        let id = 9_000 + self.accounts.len() as u64;
        self.accounts
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| Account {
                name: name.to_string(),
                kind,
                id,
                packages: BTreeMap::new(),
            });
    }

    pub fn add_package(
        &mut self,
        account: &str,
        name: &str,
        visibility: Visibility,
        now: Timestamp,
    ) {
        let id = self.next_package_id;
        self.next_package_id += 1;
        if let Some(a) = self.accounts.get_mut(&account.to_ascii_lowercase()) {
            a.packages
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| Package {
                    id,
                    name: name.to_string(),
                    visibility,
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                    versions: Vec::new(),
                    by_id: HashMap::new(),
                    by_digest: HashMap::new(),
                    tag_owner: HashMap::new(),
                    images: BTreeMap::new(),
                    active_count: 0,
                });
        }
    }

    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.get(&name.to_ascii_lowercase())
    }

    pub fn package(&self, account: &str, name: &str) -> Option<&Package> {
        self.account(account)?
            .packages
            .get(&name.to_ascii_lowercase())
    }

    pub fn package_mut(&mut self, account: &str, name: &str) -> Option<&mut Package> {
        self.accounts
            .get_mut(&account.to_ascii_lowercase())?
            .packages
            .get_mut(&name.to_ascii_lowercase())
    }

    /// Adds a pushed manifest as a version (or adds tags to the version that already
    /// has this digest), moving tags away from older holders. Returns the version id.
    /// Call [`Package::finish`] after the last push.
    #[allow(clippy::too_many_arguments)]
    pub fn push_version(
        &mut self,
        account: &str,
        package: &str,
        digest: Digest,
        tags: Vec<String>,
        created_at: Timestamp,
        updated_at: Timestamp,
        downloads: u64,
        manifest: Option<StoredManifest>,
    ) -> Option<u64> {
        let next = self.next_version_id;
        let pkg = self.package_mut(account, package)?;
        let id = match pkg.by_digest.get(&digest) {
            Some(&id) => id,
            None => {
                pkg.by_id.insert(next, pkg.versions.len());
                pkg.by_digest.insert(digest.clone(), next);
                pkg.versions.push(VersionRec {
                    id: next,
                    digest,
                    tags: Vec::new(),
                    created_at: whole_seconds(created_at),
                    updated_at: whole_seconds(updated_at),
                    downloads,
                    deleted_at: None,
                    deleted_with_package: false,
                    manifest,
                });
                pkg.active_count += 1;
                next
            }
        };
        for tag in tags {
            pkg.take_tag(&tag);
            pkg.tag_owner.insert(tag.clone(), id);
            if let Some(&i) = pkg.by_id.get(&id) {
                pkg.versions[i].tags.push(tag);
            }
        }
        if id == next {
            self.next_version_id += 1;
        }
        Some(id)
    }
}

impl Package {
    /// Removes `tag` from whichever active version holds it.
    fn take_tag(&mut self, tag: &str) {
        if let Some(old) = self.tag_owner.remove(tag) {
            if let Some(&i) = self.by_id.get(&old) {
                self.versions[i].tags.retain(|t| t != tag);
            }
        }
    }

    /// Moves `tag` onto active version `id` (its `updated_at` becomes `now`; its
    /// place in the listing stays). Returns whether the version exists.
    pub fn move_tag(&mut self, tag: &str, id: u64, now: Timestamp) -> bool {
        let Some(&i) = self.by_id.get(&id) else {
            return false;
        };
        if self.versions[i].deleted_at.is_some() {
            return false;
        }
        self.take_tag(tag);
        self.tag_owner.insert(tag.to_string(), id);
        let v = &mut self.versions[i];
        v.tags.push(tag.to_string());
        v.updated_at = whole_seconds(now);
        true
    }

    /// Sorts versions into listing order and sets the package's timestamps.
    pub fn finish(&mut self) {
        self.versions
            .sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id)));
        self.by_id = self
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id, i))
            .collect();
        if let Some(oldest) = self.versions.iter().map(|v| v.created_at).min() {
            self.created_at = oldest;
        }
        if let Some(newest) = self.versions.iter().map(|v| v.updated_at).max() {
            self.updated_at = newest;
        }
        self.active_count = self
            .versions
            .iter()
            .filter(|v| v.deleted_at.is_none())
            .count();
    }

    pub fn version(&self, id: u64) -> Option<&VersionRec> {
        self.by_id.get(&id).map(|&i| &self.versions[i])
    }

    #[cfg(test)]
    pub fn id_of(&self, digest: &Digest) -> Option<u64> {
        self.by_digest.get(digest).copied()
    }

    /// Versions in listing order with the given state (`deleted` or active).
    pub fn listed(&self, deleted: bool) -> impl Iterator<Item = &VersionRec> {
        self.versions
            .iter()
            .filter(move |v| v.deleted_at.is_some() == deleted)
    }

    pub fn listed_count(&self, deleted: bool) -> usize {
        if deleted {
            self.versions.len() - self.active_count
        } else {
            self.active_count
        }
    }

    /// GitHub's refusals for deleting version `id`, if any.
    pub fn refusal(&self, id: u64) -> Option<Refusal> {
        let v = self.version(id)?;
        if self.visibility == Visibility::Public && v.downloads > DOWNLOAD_LIMIT {
            return Some(Refusal::TooManyDownloads);
        }
        if !v.tags.is_empty() && !self.listed(false).any(|o| o.id != id && !o.tags.is_empty()) {
            return Some(Refusal::LastTagged);
        }
        None
    }

    /// Marks version `id` deleted at `now`. The tags stay on the record (for restore)
    /// but no longer count as held.
    pub fn delete_version(
        &mut self,
        id: u64,
        now: Timestamp,
        with_package: bool,
    ) -> Option<Removed> {
        let &i = self.by_id.get(&id)?;
        if self.versions[i].deleted_at.is_some() {
            return None;
        }
        let tags = self.versions[i].tags.clone();
        for t in &tags {
            if self.tag_owner.get(t) == Some(&id) {
                self.tag_owner.remove(t);
            }
        }
        let v = &mut self.versions[i];
        v.deleted_at = Some(whole_seconds(now));
        v.deleted_with_package = with_package;
        self.active_count -= 1;
        Some(Removed {
            digest: v.digest.clone(),
            has_manifest: v.manifest.is_some(),
        })
    }

    /// Restores version `id` if it was deleted within the restore window. Tags taken by
    /// another version since then are not given back.
    pub fn restore_version(&mut self, id: u64, now: Timestamp) -> Option<Restored> {
        let &i = self.by_id.get(&id)?;
        let deleted_at = self.versions[i].deleted_at?;
        if now.duration_since(deleted_at) > RESTORE_WINDOW {
            return None;
        }
        let free: Vec<String> = self.versions[i]
            .tags
            .iter()
            .filter(|t| !self.tag_owner.contains_key(*t))
            .cloned()
            .collect();
        for t in &free {
            self.tag_owner.insert(t.clone(), id);
        }
        let v = &mut self.versions[i];
        v.tags = free.clone();
        v.deleted_at = None;
        v.deleted_with_package = false;
        self.active_count += 1;
        Some(Restored {
            digest: v.digest.clone(),
            manifest: v.manifest.clone(),
            tags: free,
        })
    }

    /// Total downloads of active versions.
    pub fn downloads(&self) -> u64 {
        self.listed(false).map(|v| v.downloads).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        Digest::from_sha256_hex(&format!("{n:02x}").repeat(32)).unwrap()
    }

    fn world() -> World {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut w = World::new(&[], &[]);
        w.add_account("acme", AccountKind::Org);
        w.add_package("acme", "app", Visibility::Private, now);
        for (n, tags, age) in [
            (1u8, vec!["v1", "latest"], 3),
            (2, vec![], 2),
            (3, vec!["v2"], 1),
        ] {
            let t = now - SignedDuration::from_hours(age * 24);
            w.push_version(
                "acme",
                "app",
                digest(n),
                tags.into_iter().map(String::from).collect(),
                t,
                t,
                0,
                None,
            );
        }
        w.package_mut("acme", "app").unwrap().finish();
        w
    }

    #[test]
    fn tags_move_to_the_newest_push_and_ids_are_stable() {
        let mut w = world();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let id = w
            .push_version(
                "acme",
                "app",
                digest(3),
                vec!["latest".into()],
                now,
                now,
                0,
                None,
            )
            .unwrap();
        let p = w.package("acme", "app").unwrap();
        let v1 = p.version(p.id_of(&digest(1)).unwrap()).unwrap();
        assert_eq!(v1.tags, vec!["v1"]);
        assert_eq!(p.version(id).unwrap().tags, vec!["v2", "latest"]);
        assert_eq!(p.versions.len(), 3);
    }

    #[test]
    fn last_tagged_version_is_refused_and_restore_returns_free_tags() {
        let mut w = world();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let p = w.package_mut("acme", "app").unwrap();
        let v1 = p.id_of(&digest(1)).unwrap();
        let v3 = p.id_of(&digest(3)).unwrap();
        assert_eq!(p.refusal(v1), None);
        p.delete_version(v1, now, false).unwrap();
        assert_eq!(p.refusal(v3), Some(Refusal::LastTagged));
        assert_eq!(p.listed(false).count(), 2);
        assert_eq!(p.listed_count(true), 1);
        let r = p
            .restore_version(v1, now + SignedDuration::from_hours(24))
            .unwrap();
        assert_eq!(r.tags, vec!["v1", "latest"]);
        p.delete_version(v1, now, false).unwrap();
        assert!(p
            .restore_version(v1, now + SignedDuration::from_hours(31 * 24))
            .is_none());
    }
}
