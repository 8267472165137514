//! regsweep's client of the GitHub REST API: container packages (list, get, list
//! versions, delete and restore versions, delete and restore whole packages) and pull
//! requests.
//!
//! It owns the HTTP side of GitHub: URLs (`urls.rs`), pagination by `Link` headers
//! (`pagination.rs`), rate limits and pacing (`ratelimit.rs`), retries (`retry.rs`),
//! and the classification of GitHub's answers into typed errors (`error.rs`). It
//! converts GitHub's bodies into `regsweep_core`'s model, strictly (`wire.rs`), and
//! checks package names before they become URL segments (`names.rs`).
//!
//! It must not decide anything about retention (that is the core's planner), must
//! not read the environment, and must never print or log the token.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use regsweep_core::Secret;
//! use regsweep_github::{ClientConfig, GithubClient, Owner, VersionState};
//!
//! let url = url::Url::parse("https://api.github.com")?;
//! let client = GithubClient::new(ClientConfig::new(url, Secret::new("ghp_…")))?;
//! let token = client.probe().await?;
//! let owner = Owner::from_account("acme");
//! let versions = client
//!     .list_versions(&owner, "team/app", VersionState::Active, &|n| eprintln!("{n} versions"))
//!     .await?;
//! println!("{} versions; token scopes {:?}", versions.len(), token.scopes);
//! # Ok(()) }
//! ```

mod client;
mod config;
mod error;
mod names;
mod owner;
pub mod pace_file;
mod pacing;
mod packages;
mod pagination;
mod ratelimit;
mod retry;
mod stats;
mod transport;
mod urls;
mod window;
mod wire;
#[cfg(test)]
mod wire_fuzz;

pub use client::{GithubClient, TokenInfo, API_VERSION};
pub use config::ClientConfig;
pub use error::{
    classify_delete, DeleteError, GithubError, Hint, ListingProblem, DELETE_SCOPE, REFUSALS,
};
pub use names::{check_package_name, NameError, NAME_RULES};
pub use owner::Owner;
pub use pace_file::LearntPace;
pub use packages::{classify_package, PackageError, PACKAGE_DELETE_HELP};
pub use pagination::{next_link, LinkError};
pub use ratelimit::{Limited, RateLimitSnapshot};
pub use stats::ClientStats;
pub use urls::{Endpoint, PullState, UrlError, VersionState, PER_PAGE};
pub use wire::{BadPackageEntry, EntryError, PackageSummary, PullRequest};
