//! Exit codes: one enum, documented in README.md, and the one place a command's
//! error becomes an exit code ([`Failure`]).

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

/// How a command failed, decided once at the binary's edge. Each kind has one exit
/// code (README.md, "Exit codes").
#[derive(Debug)]
pub enum Failure {
    /// Bad input, configuration or credentials ([`UsageError`]): exit 2.
    Usage(String),
    /// The API or the registry could not be reached (connection refused or reset,
    /// DNS, TLS, timeout) before anything was deleted: exit 2. A deletion that meets
    /// a network failure is an outcome (`failed`, code `network`), not a `Failure`.
    Network(String),
    /// Anything else, such as an unexpected answer while listing: exit 1.
    Other(String),
}

impl Failure {
    /// Classifies a command's error by what is in its chain.
    pub fn of(e: &anyhow::Error) -> Failure {
        if let Some(u) = e.downcast_ref::<UsageError>() {
            return Failure::Usage(u.message.clone());
        }
        let network = e.chain().any(|c| {
            matches!(
                c.downcast_ref::<regsweep_github::GithubError>(),
                Some(regsweep_github::GithubError::Transport { .. })
            ) || matches!(
                c.downcast_ref::<regsweep_oci::OciError>(),
                Some(regsweep_oci::OciError::Transport { .. })
            )
        });
        let text = crate::hints::append(format!("error: {e:#}"), e);
        if network {
            // The note goes before the `help:` line, which stays last.
            let note = "\n  nothing was deleted: the API or registry could not be reached";
            let text = match text.find("\n  help:") {
                Some(i) => format!("{}{note}{}", &text[..i], &text[i..]),
                None => format!("{text}{note}"),
            };
            Failure::Network(text)
        } else {
            Failure::Other(text)
        }
    }

    /// The exit code.
    pub fn exit(&self) -> Exit {
        match self {
            Failure::Usage(_) | Failure::Network(_) => Exit::Usage,
            Failure::Other(_) => Exit::Partial,
        }
    }

    /// The message for stderr.
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Network(m) | Failure::Other(m) => m,
        }
    }
}
