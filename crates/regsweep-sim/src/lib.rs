//! An emulator of the GitHub Packages REST API (container packages) and of GHCR's
//! registry surface, in front of a real OCI registry, for tests, the demo and benchmarks.
//!
//! It owns the simulated world: accounts, tokens, package versions and their metadata,
//! rate limits and injected faults. It must not be used by regsweep's production code
//! paths other than `regsweep demo` and `regsweep bench`.

pub mod registry;

pub use registry::{LocalRegistry, RegistryError};
