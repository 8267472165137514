//! regsweep's client of OCI Distribution registries (GHCR, Distribution, any registry
//! speaking the `/v2/` API).
//!
//! It owns: authentication (challenges, bearer tokens per scope), retries with backoff,
//! reading manifests (verified by digest, cached in memory and on disk), reading a
//! package's manifest graph and labels, listing tags and the catalog, the referrers API,
//! deleting by digest, and moving tags for untagging (a manifest pushed under a tag,
//! a tag deleted). It pushes manifests only, never blobs: test images are built and
//! pushed by the test-support crate regsweep-testimage.
//!
//! It must not decide anything: which manifests to keep or delete is the planner's job
//! (regsweep-core). It never prints secrets.

mod auth;
mod challenge;
mod client;
mod delete;
pub mod digest;
mod disk_cache;
mod error;
mod graph_read;
mod listing;
mod manifests;
mod paths;
mod referrers;
mod retry;
mod tags;

pub use auth::Auth;
pub use challenge::{parse_challenges, Challenge};
pub use client::{OciOptions, OciStats, RegistryClient};
pub use digest::{sha256_digest, verify_digest, DigestMismatch};
pub use disk_cache::{CachedEntry, DiskCache};
pub use error::{Access, OciError};
pub use listing::{next_link, PAGE_SIZE};
pub use manifests::{FetchedManifest, EMPTY_JSON_DIGEST};
pub use paths::{validate_repository, Reference};
pub use referrers::Referrer;
pub use tags::{
    placeholder, TagDelete, PLACEHOLDER_FROM_ANNOTATION, PLACEHOLDER_MEDIA_TYPE,
    PLACEHOLDER_TAG_ANNOTATION,
};
