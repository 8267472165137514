//! Exit codes: one enum, documented in README.md ("Exit codes"), and the one place a
//! command's error becomes an exit code ([`code`]).

use std::process::ExitCode;

use regsweep_github::GithubError;
use regsweep_oci::OciError;

use crate::error::CliError;

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

/// The exit code of a command that failed with `e` (README.md, "Exit codes").
///
/// Every error that reaches the edge was met before anything was deleted (a
/// deletion's failure is an outcome), except a failed write of the report.
pub fn code(e: &CliError) -> Exit {
    match e {
        // Bad input or configuration.
        CliError::Missing(_)
        | CliError::Conflict(_)
        | CliError::NotADuration { .. }
        | CliError::NotAUrl { .. }
        | CliError::PlainHttp { .. }
        | CliError::UrlScheme { .. }
        | CliError::NotAnInstant { .. }
        | CliError::OutOfRange { .. }
        | CliError::Invalid { .. }
        | CliError::Policy(_)
        | CliError::Journal(_)
        | CliError::NoJournal
        | CliError::RestoreUnsupported
        | CliError::InvalidPackageName { .. }
        | CliError::PackageNotFound { .. }
        | CliError::Target(_) => Exit::Usage,
        // A token that cannot do what the inputs need.
        CliError::TokenCannotRead { .. }
        | CliError::TokenCannotDelete { .. }
        | CliError::TokenCannotDeletePackages(_)
        | CliError::UnknownUser
        | CliError::PackageForbidden { .. } => Exit::Usage,
        CliError::Github(e) => github(e),
        CliError::Registry(e) => registry(e),
        // The version may be in a package that could not be read: unknown, not bad input.
        CliError::TargetInUnreadable { .. } => Exit::Partial,
        // The account changed under every listing: try again later.
        CliError::CacheKeptChanging { .. } => Exit::Partial,
        // `regsweep plan | head`: the reader is gone, the run ended normally.
        e @ CliError::Output { .. } if e.is_broken_pipe() => Exit::Success,
        CliError::Output { .. } => Exit::Partial,
        #[cfg(feature = "emulator")]
        CliError::NoRegistryServer => Exit::Usage,
        #[cfg(feature = "emulator")]
        CliError::Emulator(_) => Exit::Partial,
    }
}

/// A GitHub API error while connecting or listing: the API could not be reached, a
/// token refused or without access, or a configuration GitHub cannot take is 2; an
/// unexpected answer, or a rate-limit reset beyond `--max-wait`, is 1.
fn github(e: &GithubError) -> Exit {
    match e {
        GithubError::Transport { .. }
        | GithubError::BadCredentials { .. }
        | GithubError::CannotList { .. }
        | GithubError::Forbidden { .. }
        | GithubError::PackageName(_)
        | GithubError::Url(_)
        | GithubError::Config { .. } => Exit::Usage,
        _ => Exit::Partial,
    }
}

/// A registry error while connecting or listing: the registry could not be reached,
/// refused the credentials, or its URL is not one is 2; an unexpected answer is 1.
fn registry(e: &OciError) -> Exit {
    match e {
        OciError::Transport { .. }
        | OciError::Unauthorized { .. }
        | OciError::Forbidden { .. }
        | OciError::Token { .. }
        | OciError::InvalidBase { .. } => Exit::Usage,
        _ => Exit::Partial,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::journal::JournalError;

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "test")
    }

    fn github_error(kind: &str) -> GithubError {
        let request = "GET /orgs/acme/packages".to_string();
        let message = "nope".to_string();
        match kind {
            "transport" => GithubError::Transport {
                request,
                detail: "connection refused".into(),
                attempts: 1,
            },
            "bad_credentials" => GithubError::BadCredentials { request, message },
            "cannot_list" => GithubError::CannotList {
                owner: "organisation `acme`".into(),
                request,
                status: 403,
                message,
            },
            "forbidden" => GithubError::Forbidden {
                request,
                message,
                help: "h".into(),
            },
            "config" => GithubError::Config {
                detail: "d".into(),
                help: "h".into(),
            },
            "url" => GithubError::Url(regsweep_github::UrlError::Scheme("ftp://x".into())),
            "rate_limited" => GithubError::RateLimited {
                request,
                reset_at: None,
                wait: std::time::Duration::from_secs(60),
                max_wait: std::time::Duration::from_secs(10),
                waits: 0,
            },
            "status" => GithubError::Status {
                request,
                status: 500,
                message,
                attempts: 3,
                help: "h".into(),
            },
            "not_found" => GithubError::NotFound { request, message },
            "decode" => GithubError::Decode {
                request,
                detail: "d".into(),
            },
            _ => unreachable!(),
        }
    }

    fn oci_error(kind: &str) -> OciError {
        let request = "GET /v2/app/tags/list".to_string();
        match kind {
            "unauthorized" => OciError::Unauthorized {
                request,
                detail: String::new(),
                help: "h",
            },
            "forbidden" => OciError::Forbidden {
                request,
                detail: String::new(),
                access: regsweep_oci::Access::Read,
            },
            "token" => OciError::Token {
                realm: "https://r/token".into(),
                detail: "d".into(),
                help: "h",
            },
            "invalid_base" => OciError::InvalidBase {
                url: "x".into(),
                reason: "r".into(),
            },
            "status" => OciError::Status {
                request,
                status: 500,
                detail: String::new(),
                expected: "200",
            },
            "bad_response" => OciError::BadResponse {
                request,
                detail: "d".into(),
            },
            "not_found" => OciError::NotFound { request },
            _ => unreachable!(),
        }
    }

    /// Every variant's exit code, as README.md's table documents it. The match in
    /// `pinned` has no wildcard: a new variant does not compile until pinned here.
    #[test]
    fn every_error_has_its_documented_exit_code() {
        fn pinned(e: &CliError) -> Exit {
            match e {
                CliError::Missing(_)
                | CliError::Conflict(_)
                | CliError::NotADuration { .. }
                | CliError::NotAUrl { .. }
                | CliError::PlainHttp { .. }
                | CliError::UrlScheme { .. }
                | CliError::NotAnInstant { .. }
                | CliError::OutOfRange { .. }
                | CliError::Invalid { .. }
                | CliError::Policy(_)
                | CliError::Journal(_)
                | CliError::NoJournal
                | CliError::RestoreUnsupported
                | CliError::TokenCannotRead { .. }
                | CliError::TokenCannotDelete { .. }
                | CliError::TokenCannotDeletePackages(_)
                | CliError::UnknownUser
                | CliError::PackageForbidden { .. }
                | CliError::PackageNotFound { .. }
                | CliError::InvalidPackageName { .. }
                | CliError::Target(_) => Exit::Usage,
                CliError::TargetInUnreadable { .. } | CliError::CacheKeptChanging { .. } => {
                    Exit::Partial
                }
                CliError::Github(_) | CliError::Registry(_) | CliError::Output { .. } => {
                    unreachable!("pinned one by one below")
                }
                #[cfg(feature = "emulator")]
                CliError::NoRegistryServer => Exit::Usage,
                #[cfg(feature = "emulator")]
                CliError::Emulator(_) => Exit::Partial,
            }
        }
        let s = || "x".to_string();
        let flat = [
            CliError::Missing(s()),
            CliError::Conflict(s()),
            CliError::NotADuration {
                input: s(),
                value: s(),
                reason: s(),
            },
            CliError::NotAUrl {
                input: s(),
                value: s(),
                reason: s(),
            },
            CliError::PlainHttp {
                input: s(),
                value: s(),
            },
            CliError::UrlScheme {
                input: s(),
                value: s(),
                scheme: s(),
            },
            CliError::NotAnInstant {
                value: s(),
                reason: s(),
            },
            CliError::OutOfRange {
                input: "--concurrency".into(),
                value: s(),
                expected: "1 to 64",
                help: s(),
            },
            CliError::Invalid {
                input: s(),
                reason: s(),
            },
            CliError::Policy("x".into()),
            CliError::Journal(JournalError::Open {
                path: PathBuf::from("/nope/j"),
                source: io(std::io::ErrorKind::NotFound),
            }),
            CliError::Journal(JournalError::Read {
                path: PathBuf::from("j"),
                detail: "d".into(),
            }),
            CliError::NoJournal,
            CliError::RestoreUnsupported,
            CliError::TokenCannotRead {
                scopes: "repo".into(),
            },
            CliError::TokenCannotDelete {
                scopes: "read:packages".into(),
                package_rule: Some("old".into()),
            },
            CliError::TokenCannotDeletePackages("x".into()),
            CliError::UnknownUser,
            CliError::PackageForbidden {
                package: "app".into(),
                owner: "organisation `acme`".into(),
                source: Box::new(github_error("forbidden")),
            },
            CliError::PackageNotFound {
                package: "app".into(),
                owner: "organisation `acme`".into(),
                path: "/orgs/acme/packages/container/app".into(),
            },
            CliError::InvalidPackageName {
                input: "--image-names".into(),
                source: regsweep_github::check_package_name("..").unwrap_err(),
            },
            CliError::Target("x".into()),
            CliError::TargetInUnreadable {
                target: "v1".into(),
                unreadable: 1,
            },
            CliError::CacheKeptChanging {
                packages: "`app`".into(),
            },
            #[cfg(feature = "emulator")]
            CliError::NoRegistryServer,
            #[cfg(feature = "emulator")]
            CliError::Emulator("x".into()),
        ];
        for e in &flat {
            assert_eq!(code(e), pinned(e), "{e:?}");
        }
        // 2: bad input or configuration, a token that cannot do what the inputs
        // need, or the API or registry out of reach; 1: an unexpected answer while
        // listing, or a rate-limit reset beyond --max-wait.
        for (kind, exit) in [
            ("transport", Exit::Usage),
            ("bad_credentials", Exit::Usage),
            ("cannot_list", Exit::Usage),
            ("forbidden", Exit::Usage),
            ("config", Exit::Usage),
            ("url", Exit::Usage),
            ("rate_limited", Exit::Partial),
            ("status", Exit::Partial),
            ("not_found", Exit::Partial),
            ("decode", Exit::Partial),
        ] {
            assert_eq!(code(&github_error(kind).into()), exit, "github {kind}");
        }
        let name = regsweep_github::check_package_name("..").unwrap_err();
        assert_eq!(code(&GithubError::PackageName(name).into()), Exit::Usage);
        for (kind, exit) in [
            ("unauthorized", Exit::Usage),
            ("forbidden", Exit::Usage),
            ("token", Exit::Usage),
            ("invalid_base", Exit::Usage),
            ("status", Exit::Partial),
            ("bad_response", Exit::Partial),
            ("not_found", Exit::Partial),
        ] {
            assert_eq!(code(&oci_error(kind).into()), exit, "registry {kind}");
        }
        // A closed stdout is a normal end; any other failed write is 1.
        let pipe = CliError::from(io(std::io::ErrorKind::BrokenPipe));
        assert!(pipe.is_broken_pipe());
        assert_eq!(code(&pipe), Exit::Success);
        assert_eq!(
            code(&io(std::io::ErrorKind::StorageFull).into()),
            Exit::Partial
        );
        assert_eq!(
            code(&CliError::Output {
                what: "cannot write the Actions file o".into(),
                source: io(std::io::ErrorKind::PermissionDenied),
            }),
            Exit::Partial
        );
    }

    #[test]
    fn network_failures_exit_2() {
        let e = CliError::from(github_error("transport"));
        assert!(e.is_network());
        assert_eq!(code(&e), Exit::Usage);
        assert!(!CliError::from(github_error("status")).is_network());
    }
}
