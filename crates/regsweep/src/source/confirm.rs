//! Which versions whose data came from the inventory cache a plan depends on, and
//! whether GitHub still holds them as cached: pure, no I/O.
//!
//! A cached version may have changed since it was cached without the listing
//! showing it: a tag moved onto an old version keeps its place in GitHub's listing
//! (a rollback retagging `stable`), and a version deleted while another was
//! restored leaves the count as it was. So before a plan is used, the versions it
//! would delete, untag or skip as refused, and the versions it keeps as one of the newest N (a gone
//! one would take a place in the count), are read again in every package where the
//! plan changes anything. If one differs, the package is listed in full and planned
//! again. Cost: one `GET …/versions/{id}` (1 point) per such version; none for
//! versions listed this run.

use std::collections::{HashMap, HashSet};

use regsweep_core::plan::{Action, Decision, Plan};
use regsweep_core::reason::{Reason, Selected};
use regsweep_core::Version;

/// Whether `d` keeps its version as one of the newest N of some rule.
fn counted(d: &Decision) -> bool {
    d.reasons.iter().any(|r| {
        let how = match r {
            Reason::KeptByRule { how, .. } => how,
            Reason::UntaggedByRule { how, .. } => how.as_ref(),
            _ => return false,
        };
        matches!(how, Selected::Newest { .. })
    })
}

/// The version a decision was made on, as it would be listed.
fn planned(d: &Decision) -> Version {
    Version {
        id: d.id,
        digest: d.digest.clone(),
        tags: d.tags.clone(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        downloads: None,
    }
}

/// The cached versions `plan` depends on, by package: in each package where it
/// deletes or untags anything, the cached versions it deletes, untags, skips (a
/// refusal predicted; the run deletes it if GitHub refuses another) or keeps as one
/// of the newest N, each as the plan saw it. `cached` holds, by package, the ids
/// taken from the cache.
pub fn to_check(plan: &Plan, cached: &HashMap<String, HashSet<u64>>) -> Vec<(String, Version)> {
    let mut out = Vec::new();
    for p in &plan.packages {
        let Some(from_cache) = cached.get(&p.name) else {
            continue;
        };
        let changes = p
            .decisions
            .iter()
            .any(|d| matches!(d.action, Action::Delete | Action::Untag));
        if !changes {
            continue;
        }
        for d in &p.decisions {
            if !from_cache.contains(&d.id.0) {
                continue;
            }
            // A package deleted whole is one request, whatever its versions are.
            if matches!(d.reasons.first(), Some(Reason::DeletedWithPackage { .. })) {
                continue;
            }
            if matches!(d.action, Action::Delete | Action::Untag | Action::Skip) || counted(d) {
                out.push((p.name.clone(), planned(d)));
            }
        }
    }
    out
}

/// Whether `now` (as GitHub holds it) is the version `cached` was: same id, digest,
/// tags (in any order) and times.
pub fn same(now: &Version, cached: &Version) -> bool {
    let mut a = now.tags.clone();
    let mut b = cached.tags.clone();
    a.sort();
    b.sort();
    now.id == cached.id
        && now.digest == cached.digest
        && a == b
        && now.created_at == cached.created_at
        && now.updated_at == cached.updated_at
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
            created_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            updated_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            downloads: None,
        }
    }

    #[test]
    fn same_ignores_tag_order_only() {
        assert!(same(&v(1, &["a", "b"]), &v(1, &["b", "a"])));
        assert!(!same(&v(1, &["a", "stable"]), &v(1, &["a"])));
        let mut later = v(1, &[]);
        later.updated_at = jiff::Timestamp::from_second(1_700_000_100).unwrap();
        assert!(!same(&later, &v(1, &[])));
    }
}
