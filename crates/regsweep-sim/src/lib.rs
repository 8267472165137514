//! An emulator of the GitHub Packages REST API (container packages) and of GHCR's
//! registry surface, in front of a real OCI registry, for tests, the demo and benchmarks.
//!
//! It owns the simulated world: accounts, tokens, package versions and their metadata,
//! rate limits and injected faults. It must not be used by regsweep's production code
//! paths other than `regsweep demo` and `regsweep bench`.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use regsweep_sim::{Scenario, Sim, SimOptions};
//! let sim = Sim::start(Scenario::demo(), SimOptions::default()).await?;
//! println!("GitHub API at {}, registry at {}", sim.api_url(), sim.registry_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod auth;
mod backing;
mod faults;
mod generate;
mod ghcr;
mod ghcr_push;
pub mod hostile;
mod limits;
pub mod options;
mod push;
pub mod registry;
mod render;
pub mod scenario;
mod server;
mod sim;
pub mod stats;
mod world;

pub use options::{CorruptEntry, FailNext, FaultConfig, SimOptions};
pub use registry::{LocalRegistry, RegistryError};
pub use scenario::{Scenario, ScenarioError};
pub use sim::Sim;
pub use stats::{LoggedRequest, SimStats};
pub use world::{SimImage, SimManifest, SimVersion};
