//! Metadata-only versions with realistic tags, for benchmarks and large scenarios.
//!
//! A year of CI history: per-commit `sha-7`/40-hex tags, `pr-<n>` builds, semver
//! releases, `latest` on the newest tagged build, and untagged leftovers. Deterministic
//! for a seed. Versions have digests but no manifest in any registry.

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use regsweep_core::Digest;
use sha2::{Digest as _, Sha256};

/// One generated version.
#[derive(Clone, Debug)]
pub(crate) struct GenVersion {
    pub digest: Digest,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub downloads: u64,
}

const YEAR: Duration = Duration::from_secs(365 * 86400);

/// `count` versions of `account/package`, oldest first, spread over the year before `now`.
pub(crate) fn versions(
    account: &str,
    package: &str,
    count: usize,
    seed: u64,
    now: Timestamp,
) -> Vec<GenVersion> {
    let mut rng = StdRng::seed_from_u64(seed ^ fnv(account) ^ fnv(package).rotate_left(17));
    let mut used: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(count);
    let (mut major, mut minor, mut patch) = (1u32, 0u32, 0u32);
    let mut pr = 1u32;
    let step = if count == 0 {
        0
    } else {
        YEAR.as_secs() / count as u64
    };
    for i in 0..count {
        let back = YEAR.as_secs() - step * i as u64;
        let jitter = if step > 1 {
            rng.random_range(0..step)
        } else {
            0
        };
        let secs = back.saturating_sub(jitter) as i64;
        let created_at = Timestamp::from_second(now.as_second() - secs).unwrap_or(now);
        let mut tags = Vec::new();
        let roll: u32 = rng.random_range(0..100);
        let sha_tag = |rng: &mut StdRng, used: &mut HashSet<String>, long: bool| loop {
            let hex: String = (0..40)
                .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
                .collect();
            let tag = if long {
                hex
            } else {
                format!("sha-{}", &hex[..7])
            };
            if used.insert(tag.clone()) {
                return tag;
            }
        };
        match roll {
            0..=34 => {}
            35..=74 => {
                tags.push(sha_tag(&mut rng, &mut used, false));
                if roll < 50 {
                    tags.push(sha_tag(&mut rng, &mut used, true));
                }
            }
            75..=92 => {
                tags.push(format!("pr-{pr}"));
                pr += rng.random_range(1..4);
            }
            _ => {
                match rng.random_range(0..10) {
                    0 => {
                        major += 1;
                        minor = 0;
                        patch = 0;
                    }
                    1..=3 => {
                        minor += 1;
                        patch = 0;
                    }
                    _ => patch += 1,
                }
                tags.push(format!("v{major}.{minor}.{patch}"));
                tags.push(sha_tag(&mut rng, &mut used, false));
            }
        }
        let hex = hex::encode(Sha256::digest(
            format!("{account}/{package}/{seed}/{i}").as_bytes(),
        ));
        let digest = Digest::from_sha256_hex(&hex).unwrap_or_else(|_| unreachable_digest());
        out.push(GenVersion {
            digest,
            tags,
            created_at,
            downloads: rng.random_range(0..50),
        });
    }
    if let Some(newest) = out.iter_mut().rev().find(|v| !v.tags.is_empty()) {
        newest.tags.insert(0, "latest".into());
    }
    out
}

/// sha256 hex is always a valid digest; this is never reached.
fn unreachable_digest() -> Digest {
    Digest::from_sha256_hex(&"0".repeat(64)).unwrap_or_else(|_| unreachable!())
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_realistic() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let a = versions("acme", "app", 500, 7, now);
        let b = versions("acme", "app", 500, 7, now);
        assert_eq!(a.len(), 500);
        assert_eq!(
            a.iter().map(|v| &v.digest).collect::<Vec<_>>(),
            b.iter().map(|v| &v.digest).collect::<Vec<_>>()
        );
        let tags: Vec<&String> = a.iter().flat_map(|v| &v.tags).collect();
        let unique: HashSet<&String> = tags.iter().copied().collect();
        assert_eq!(tags.len(), unique.len(), "tags are unique");
        assert!(tags.iter().any(|t| t.starts_with("pr-")));
        assert!(tags.iter().any(|t| t.starts_with('v')));
        assert!(tags.iter().any(|t| t.len() == 40));
        assert!(a.iter().any(|v| v.tags.is_empty()));
        assert_eq!(tags.iter().filter(|t| t.as_str() == "latest").count(), 1);
        assert!(a.iter().all(|v| v.created_at <= now));
        assert!(a[0].created_at < a[499].created_at);
    }
}
