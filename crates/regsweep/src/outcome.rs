//! Why a planned deletion was skipped, failed or left: typed codes with a message.
//!
//! The codes are part of the JSON report (`outcome.code`, docs/json-output.md) and
//! are stable: new ones may be added, none renamed. The message is for people.

use serde::Serialize;

/// A reason code with the message shown to people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Why<C> {
    pub code: C,
    pub message: String,
}

impl<C> Why<C> {
    pub fn new(code: C, message: impl Into<String>) -> Self {
        Why {
            code,
            message: message.into(),
        }
    }
}

/// Why a deletion was not made at delete time (outcome `skipped`): GitHub refused
/// it, or refused the index it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipCode {
    /// The last tagged version of a package.
    LastTaggedVersion,
    /// A public version with more than 5,000 downloads.
    TooManyDownloads,
    /// GitHub refused to delete the image's index, which stays and still references
    /// this manifest.
    IndexRemains,
}

impl SkipCode {
    /// Whether GitHub itself refused this deletion (not only the index above it).
    pub fn is_refusal(self) -> bool {
        !matches!(self, SkipCode::IndexRemains)
    }
}

/// Why a deletion failed (outcome `failed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailCode {
    /// The token may not delete in this package.
    Forbidden,
    /// An unexpected HTTP status.
    HttpStatus,
    /// The request did not get an answer (connection refused or reset, DNS, TLS,
    /// timeout), after the retries.
    Network,
    /// Anything else (an answer that could not be understood, …).
    Other,
}

/// Why a deletion was not attempted (outcome `left`): the next run plans it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftCode {
    /// Ctrl-C before it was started.
    Interrupted,
    /// The primary-limit budget reached `--reserve-requests`.
    RateLimitReserve,
    /// A rate-limit wait longer than `--max-wait` was needed.
    RateLimitWait,
    /// An earlier deletion of the same image was not done.
    EarlierFailure,
    /// The token was refused for another version of the same package.
    TokenForbidden,
    /// A journal write failed; no deletion starts unrecorded.
    JournalWriteFailed,
}
