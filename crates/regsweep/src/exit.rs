//! Exit codes: one enum, documented in README.md.

use std::process::ExitCode;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything planned was done (skips with reasons are fine).
    Success = 0,
    /// Some deletions failed, or work was left for the next run.
    Partial = 1,
    /// Bad input or configuration; nothing was deleted.
    Usage = 2,
    /// `validate` found a kept image broken.
    Broken = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// An error the user can fix (bad input, configuration, credentials): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
}

impl UsageError {
    /// An error with a message already written to the house style
    /// (what happened, what was expected, `help:` how to fix).
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
        }
    }
}

/// Shorthand for returning a usage error.
pub fn usage<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError::new(message).into())
}
