//! The inventory model: packages, their versions, digests and timestamps.
//!
//! This module owns the plain data that sources (the GitHub Packages API, an OCI
//! registry) are converted into. It does no I/O and holds no behaviour beyond
//! validation and small accessors.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A content digest such as `sha256:0123…` (algorithm, colon, lowercase hex).
///
/// Shared, not copied: a clone (a decision's, a reason's) is a reference count, so
/// a plan of 100,000 versions holds each digest's text once.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(Arc<str>);

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a digest: expected `sha256:` followed by 64 lowercase hex digits")]
pub struct DigestError {
    /// The rejected input.
    pub input: String,
}

impl Digest {
    /// Parses `sha256:<64 hex>` (also `sha512:<128 hex>`); uppercase hex is lowered.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let err = || DigestError {
            input: s.to_string(),
        };
        let (algo, hex) = s.split_once(':').ok_or_else(err)?;
        let want = match algo {
            "sha256" => 64,
            "sha512" => 128,
            _ => return Err(err()),
        };
        // One pass without an early exit, which the compiler vectorizes.
        let (hex_only, upper) = hex.bytes().fold((true, false), |(hex_only, upper), b| {
            (
                hex_only & b.is_ascii_hexdigit(),
                upper | b.is_ascii_uppercase(),
            )
        });
        if hex.len() != want || !hex_only {
            return Err(err());
        }
        if !upper {
            // The usual case: one allocation, the shared text itself.
            return Ok(Digest(Arc::from(s)));
        }
        Ok(Digest(
            format!("{algo}:{}", hex.to_ascii_lowercase()).into(),
        ))
    }

    /// The digest of `bytes` with sha256 computed by the caller, given as hex.
    pub fn from_sha256_hex(hex: &str) -> Result<Self, DigestError> {
        Self::parse(&format!("sha256:{hex}"))
    }

    /// The full `algo:hex` string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hex part, without the algorithm.
    pub fn hex(&self) -> &str {
        self.0.split_once(':').map(|(_, h)| h).unwrap_or(&self.0)
    }

    /// The algorithm part (`sha256`).
    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map(|(a, _)| a).unwrap_or("sha256")
    }

    /// A short form for humans: `sha256:0123456789ab`.
    pub fn short(&self) -> String {
        let hex = self.hex();
        format!("{}:{}", self.algorithm(), &hex[..hex.len().min(12)])
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Digest::parse(&value)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0.to_string()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.short())
    }
}

impl std::str::FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// A package version id as GitHub assigns it. Plain OCI registries have no ids;
/// their source assigns stable synthetic ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VersionId(pub u64);

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Package visibility, where the source reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
    Internal,
}

/// One version of a package: one manifest, named by its digest.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Version {
    pub id: VersionId,
    pub digest: Digest,
    /// Tags pointing at this manifest (empty when untagged).
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Download count, where the source reports it (GitHub's REST API does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
}

impl Version {
    /// Whether any tag points at this version.
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }

    /// The timestamp named by `field`.
    pub fn timestamp(&self, field: TimestampField) -> Timestamp {
        match field {
            TimestampField::CreatedAt => self.created_at,
            TimestampField::UpdatedAt => self.updated_at,
        }
    }
}

/// How long before `now` the instant `ts` was (zero for instants in the future).
pub fn age(now: Timestamp, ts: Timestamp) -> std::time::Duration {
    let secs = now.as_second().saturating_sub(ts.as_second());
    std::time::Duration::from_secs(secs.max(0) as u64)
}

/// Which timestamp ages and orderings are computed from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampField {
    CreatedAt,
    #[default]
    UpdatedAt,
}

impl fmt::Display for TimestampField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimestampField::CreatedAt => "created_at",
            TimestampField::UpdatedAt => "updated_at",
        })
    }
}

impl std::str::FromStr for TimestampField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "created_at" | "created" => Ok(TimestampField::CreatedAt),
            "updated_at" | "updated" => Ok(TimestampField::UpdatedAt),
            other => Err(format!(
                "`{other}` is not a timestamp: expected `updated_at` or `created_at`"
            )),
        }
    }
}

/// A container package and all of its active versions.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Package {
    /// The package name as GitHub shows it (may contain `/`).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    pub versions: Vec<Version>,
}

impl Package {
    /// Number of versions with at least one tag.
    pub fn tagged_count(&self) -> usize {
        self.versions.iter().filter(|v| v.is_tagged()).count()
    }
}

/// Everything listed for one account (or registry), complete: the planner never
/// works on a partial listing.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Inventory {
    pub packages: Vec<Package>,
}

impl Inventory {
    /// Total number of versions across packages.
    pub fn version_count(&self) -> usize {
        self.packages.iter().map(|p| p.versions.len()).sum()
    }

    /// The package called `name`, if listed.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_parse_accepts_and_normalises() {
        let hex = "AB".repeat(32);
        let d = Digest::parse(&format!("sha256:{hex}")).unwrap();
        assert_eq!(d.hex(), "ab".repeat(32));
        assert_eq!(d.short(), format!("sha256:{}", "ab".repeat(6)));
    }

    #[test]
    fn digest_parse_rejects_bad_input() {
        for bad in [
            "",
            "sha256:",
            "sha256:xyz",
            "md5:00",
            "abc",
            &format!("sha256:{}", "a".repeat(63)),
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn timestamp_field_parses_both_names() {
        assert_eq!(
            "created_at".parse::<TimestampField>().unwrap(),
            TimestampField::CreatedAt
        );
        assert_eq!(
            "updated_at".parse::<TimestampField>().unwrap(),
            TimestampField::UpdatedAt
        );
        assert!("modified".parse::<TimestampField>().is_err());
    }
}
