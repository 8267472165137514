//! regsweep's pure core: the inventory model, the manifest graph, retention policies,
//! the planner and the reasons it gives.
//!
//! Everything here is a pure function of its inputs. This crate must not do I/O,
//! read the environment or read the clock: `now` is always an argument. That is what
//! makes every decision testable with tables and property tests.

pub mod graph;
pub mod json_object;
pub mod matcher;
pub mod model;
pub mod package_decision;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod reason;
pub mod redact;
pub mod secret;
pub mod utc;

pub use graph::{ManifestGraph, ManifestNode, PackageGraph};
pub use model::{Digest, Inventory, Package, TimestampField, Version, VersionId, Visibility};
pub use redact::Redactor;
pub use secret::Secret;
