//! The binary's one error type: every way a command can fail, as data. Commands and
//! sources return [`CliError`]; `main` renders it once ([`CliError::render`], through
//! the redaction) and `exit::code` maps each variant to its exit code.
//!
//! Messages follow the house style (what happened, what was expected, `help:` how to
//! fix) and start without `error: `, which the rendering adds. The library errors
//! (`GithubError`, `OciError`) are kept as they are: they never name a flag, so the
//! flag-naming help of their [`regsweep_github::Hint`] is added here, at the edge.

use regsweep_github::GithubError;
use regsweep_oci::OciError;

use crate::journal::JournalError;

/// How a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A required input (flag, environment variable or Actions input) is missing;
    /// the message names it as the user knows it, and how to give it.
    #[error("{0}")]
    Missing(String),

    /// Inputs that cannot be used together; the message names them and the way out.
    #[error("{0}")]
    Conflict(String),

    /// A duration input that is not one.
    #[error("{input} `{value}` is not a duration: {reason}\n  expected a humantime duration such as `1w`, `2w 3d` or `5h 2s`\n  help: write a number followed by a unit (s, m, h, d, w)")]
    NotADuration {
        input: String,
        value: String,
        reason: String,
    },

    /// A URL input that does not parse.
    #[error("{input} `{value}` is not a URL: {reason}\n  help: write a full URL such as https://api.github.com")]
    NotAUrl {
        input: String,
        value: String,
        reason: String,
    },

    /// A plain-http URL to a host off loopback: the token would travel unencrypted.
    #[error("{input} `{value}` uses plain http\n  tokens would travel unencrypted; plain http is allowed only for loopback addresses (127.0.0.1, ::1, localhost)\n  help: use https://")]
    PlainHttp { input: String, value: String },

    /// A URL with a scheme other than https (or http on loopback).
    #[error("{input} `{value}` has scheme `{scheme}`\n  expected https:// (or http:// on a loopback address)")]
    UrlScheme {
        input: String,
        value: String,
        scheme: String,
    },

    /// `--now` that is not an RFC 3339 instant.
    #[error("--now `{value}` is not an RFC 3339 instant: {reason}\n  help: write e.g. 2026-11-24T12:00:00Z")]
    NotAnInstant { value: String, reason: String },

    /// A number outside the range it must be in.
    #[error("{input} {value} is out of range\n  expected {expected}\n  help: {help}")]
    OutOfRange {
        /// The input as the user wrote it (`--concurrency`; `` `concurrency` `` in
        /// Actions, see `settings::Names`).
        input: String,
        value: String,
        expected: &'static str,
        help: String,
    },

    /// A list or choice input (patterns, digests, a keyword) that does not parse;
    /// `reason` says why, and how to fix it where that is not plain.
    #[error("{input}: {reason}")]
    Invalid { input: String, reason: String },

    /// The policy (file or inline) cannot be read, or is not a valid policy.
    #[error("{0}")]
    Policy(String),

    /// The journal cannot be opened for writing (`apply`, checked before any
    /// request) or read (`restore`).
    #[error(transparent)]
    Journal(#[from] JournalError),

    /// `restore` was given no journal.
    #[error("restore needs the journal of the run to undo\n  help: pass --journal FILE, the file given to `apply --journal FILE`")]
    NoJournal,

    /// `restore` on a plain OCI registry, which cannot undo a deletion.
    #[error("restore works with the GitHub backend only\n  plain OCI registries delete manifests for good")]
    RestoreUnsupported,

    /// The token's scopes, as GitHub reports them, do not allow reading packages.
    #[error("the token cannot read packages\n  GitHub reports its scopes as `{scopes}`; listing versions needs `read:packages`\n  help: create a classic personal access token with read:packages (and delete:packages to delete)")]
    TokenCannotRead { scopes: String },

    /// The token's scopes do not allow deleting, and the command deletes.
    /// `package_rule` names a rule that deletes whole packages, when there is one.
    #[error("the token cannot delete packages\n  GitHub reports its scopes as `{scopes}`; deleting versions needs `delete:packages`\n  help: add the delete:packages scope to the token{}, or run `regsweep plan` (a dry run) instead", package_rule.as_ref().map(|r| format!("; rule `{r}` deletes whole packages, which also needs admin on the package: an admin's classic PAT with delete:packages")).unwrap_or_default())]
    TokenCannotDelete {
        scopes: String,
        package_rule: Option<String>,
    },

    /// The plan deletes whole packages and the token certainly cannot
    /// (`crate::packages::check_token`); the message is complete.
    #[error("{0}")]
    TokenCannotDeletePackages(String),

    /// `--account user` with a token whose owner GitHub does not name.
    #[error("cannot tell whose personal packages `--account user` means\n  GET /user did not name the token's owner (the Actions GITHUB_TOKEN cannot read it)\n  help: pass the user name instead: --account YOUR-LOGIN, or use a classic PAT")]
    UnknownUser,

    /// A 403 on reading a package: the token may not read it.
    #[error("the token may not read package `{package}` of {owner}: reading its versions needs read access to the package\n  {source}")]
    PackageForbidden {
        package: String,
        owner: String,
        source: Box<GithubError>,
    },

    /// A package named exactly answered 404.
    #[error("package `{package}` of {owner} was not found\n  GET {path} answered 404: it does not exist, or the token may not see it\n  help: check the name (exact, as shown on GitHub), and that the token has access to the package")]
    PackageNotFound {
        package: String,
        owner: String,
        path: String,
    },

    /// A name given with `--image-names` breaks GitHub's package-name rules
    /// (refused before any request).
    #[error("{input}: {source}\n  help: {}", regsweep_github::NAME_RULES)]
    InvalidPackageName {
        /// The input's name, as the user knows it (`--image-names`, `image-names`).
        input: String,
        source: regsweep_github::NameError,
    },

    /// The target of `explain` names no listed version, or more than one; the
    /// message says which.
    #[error("{0}")]
    Target(String),

    /// The target of `explain` matches nothing read, and some packages could not be
    /// read: it may be in one of those (exit 1, not a usage error).
    #[error("no version matches `{target}` among the packages read, and {} could not be read (above)\n  help: run again once the listing can be read", crate::report::count(*unreadable, "package"))]
    TargetInUnreadable { target: String, unreadable: usize },

    /// The versions listed from the inventory cache kept differing from GitHub's
    /// while they were re-read, three listings in a row (`commands::compute_plan`).
    #[error("the cached listings of {packages} kept changing while they were checked\n  expected the versions read from the inventory cache to match GitHub's\n  help: run again, or run with --no-inventory-cache")]
    CacheKeptChanging { packages: String },

    /// The GitHub API failed while connecting or listing (before anything was
    /// deleted: a deletion's failure is an outcome, never a `CliError`).
    #[error(transparent)]
    Github(Box<GithubError>),

    /// The registry failed while connecting or listing.
    #[error(transparent)]
    Registry(Box<OciError>),

    /// Writing the report, an Actions file or the manual pages failed.
    #[error("{what}: {source}")]
    Output {
        what: String,
        source: std::io::Error,
    },

    /// `demo`: the Distribution registry server it runs is not installed.
    #[cfg(feature = "emulator")]
    #[error("the demo needs the OCI registry server `docker-registry`, which is not installed\n  the demo runs a real CNCF Distribution registry on 127.0.0.1\n  help: run ./scripts/demo.sh (it unpacks one into target/tools/, starting no system service), or set REGSWEEP_REGISTRY_BIN to the path of a Distribution server binary")]
    NoRegistryServer,

    /// `demo`, `bench`: the emulator or the local registry failed.
    #[cfg(feature = "emulator")]
    #[error("{0}")]
    Emulator(String),
}

impl From<GithubError> for CliError {
    fn from(e: GithubError) -> Self {
        CliError::Github(Box::new(e))
    }
}

impl From<OciError> for CliError {
    fn from(e: OciError) -> Self {
        CliError::Registry(Box::new(e))
    }
}

impl From<std::io::Error> for CliError {
    /// A write to stdout that failed (a closed pipe is not an error:
    /// `crate::output::print` ignores it).
    fn from(source: std::io::Error) -> Self {
        CliError::Output {
            what: "cannot write to stdout".to_string(),
            source,
        }
    }
}

/// The note a network failure gets: the run stopped before deleting.
const NETWORK_NOTE: &str = "nothing was deleted: the API or registry could not be reached";

impl CliError {
    /// Whether the API or the registry could not be reached (connection refused or
    /// reset, DNS, TLS, timeout).
    pub fn is_network(&self) -> bool {
        match self {
            CliError::Github(e) => matches!(**e, GithubError::Transport { .. }),
            CliError::Registry(e) => matches!(**e, OciError::Transport { .. }),
            _ => false,
        }
    }

    /// Whether this is stdout closed by its reader (`regsweep plan | head`): a
    /// normal end, with nothing to say.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// The message for stderr: `error: ` and the message with its causes, the help
    /// of a library error's hint (naming the flags), a network failure's note before
    /// the `help:` line, which stays last.
    pub fn render(&self) -> String {
        let mut text = format!("error: {}", with_causes(self));
        let hint = match self {
            CliError::Github(e) => e.hint(),
            _ => None,
        };
        if let Some(h) = hint {
            text = format!("{text}\n  {}", crate::hints::help(h));
        }
        if self.is_network() {
            let note = format!("\n  {NETWORK_NOTE}");
            text = match text.find("\n  help:") {
                Some(i) => format!("{}{note}{}", &text[..i], &text[i..]),
                None => format!("{text}{note}"),
            };
        }
        text
    }
}

/// `e` with each of its causes not already in the text, `: `-separated, before the
/// `help:` line (a transport error's cause names the refused connection or the TLS
/// failure).
fn with_causes(e: &dyn std::error::Error) -> String {
    let text = e.to_string();
    let (mut head, help) = match text.find("\n  help:") {
        Some(i) => (text[..i].to_string(), &text[i..]),
        None => (text.clone(), ""),
    };
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) && !head.contains(&s) {
            head.push_str(": ");
            head.push_str(&s);
        }
        cause = c.source();
    }
    head + help
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_note_goes_before_help() {
        let e = CliError::from(GithubError::Transport {
            request: "GET /user".into(),
            detail: "connection refused".into(),
            attempts: 1,
        });
        let text = e.render();
        assert!(text.starts_with("error: GET /user failed"), "{text}");
        let note = text.find(NETWORK_NOTE).expect(&text);
        let help = text.find("\n  help:").expect(&text);
        assert!(note < help, "{text}");
    }

    #[test]
    fn hint_names_the_flag_at_the_edge() {
        let e = CliError::from(GithubError::CannotList {
            owner: "organisation `acme`".into(),
            request: "GET /orgs/acme/packages".into(),
            status: 403,
            message: "Resource not accessible by integration".into(),
        });
        assert!(
            e.render()
                .ends_with("(--image-names app,worker) or use a classic PAT with read:packages"),
            "{}",
            e.render()
        );
    }

    #[test]
    fn causes_go_before_help() {
        let e = CliError::Output {
            what: "cannot write the Actions file o".into(),
            source: std::io::Error::other(Wrapped),
        };
        let text = e.render();
        assert_eq!(
            text,
            "error: cannot write the Actions file o: outer: inner\n  help: fix it"
        );
        #[derive(Debug)]
        struct Wrapped;
        impl std::fmt::Display for Wrapped {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer\n  help: fix it")
            }
        }
        impl std::error::Error for Wrapped {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&Inner)
            }
        }
        #[derive(Debug)]
        struct Inner;
        impl std::fmt::Display for Inner {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("inner")
            }
        }
        impl std::error::Error for Inner {}
    }

    #[test]
    fn messages_start_without_error_prefix() {
        let e = CliError::Missing("no account given".into());
        assert_eq!(e.render(), "error: no account given");
        let e = CliError::NoJournal;
        assert!(
            e.render().starts_with("error: restore needs"),
            "{}",
            e.render()
        );
    }
}
