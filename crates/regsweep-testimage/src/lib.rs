//! Test support: builds realistic container images and pushes them into a test
//! registry, for the emulator's scenarios (regsweep-sim) and the tests of the registry
//! client and the binary.
//!
//! It owns: building images ([`ImageSpec`] → manifests, configs and layers whose
//! digests are known before anything is sent, see [`push_image`]) and pushing blobs and
//! manifests into an anonymous registry ([`Pusher`]).
//!
//! It must not be a dependency of production code: regsweep never pushes (restoring
//! goes through the GitHub API), so its registry client has no push.

mod image;
mod push;

pub use image::{parse_platform, push_image, ImageSpec, PushedImage, PushedManifest, Role};
pub use push::{PushError, Pusher};
