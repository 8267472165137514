//! regsweep's one transport policy, shared by the GitHub API client
//! (`regsweep-github`) and the OCI registry client (`regsweep-oci`): the single
//! guarded edge every request crosses.
//!
//! It owns, with every default defined once ([`defaults`]):
//! - origins and where credentials may go ([`origin`]): redirects are followed only
//!   within the origin they started from; credentials go only to the configured
//!   origin, or to a token realm on the same host or on an explicit allow-list, over
//!   https except to loopback;
//! - reading bodies with a cap, incrementally ([`body`]);
//! - `Link` headers and the page budget of a listing ([`link`], [`pages`]);
//! - jittered back-off and `Retry-After` ([`backoff`]);
//! - concurrency that is lowered when a server says "too many requests" and restored
//!   slowly after ([`concurrency`]);
//! - the `User-Agent` ([`USER_AGENT`]).
//!
//! It must not know any API: no GitHub or registry endpoint, no JSON shape, no rate
//! limit classification (those stay in the clients), no retention decision. It never
//! reads the environment and never sees or logs a credential's value: callers hand
//! it URLs and decide what to attach.

pub mod backoff;
pub mod body;
pub mod concurrency;
pub mod defaults;
pub mod link;
pub mod origin;
pub mod pages;

pub use backoff::{retry_after, server_now, Backoff};
pub use body::{read_capped, BodyError, Capped};
pub use concurrency::{AdaptiveConcurrency, Permit};
pub use link::{next_link, LinkError};
pub use origin::{
    client_builder, content_client_builder, cross_origin_error, http_client, is_loopback,
    redirect_policy, CredentialPolicy, CrossOriginRedirect, Origin, RealmError,
};
pub use pages::{PageBudget, PagesExceeded};

/// The `User-Agent` of every request regsweep sends.
pub const USER_AGENT: &str = concat!("regsweep/", env!("CARGO_PKG_VERSION"));
