//! The `help:` lines of library errors that name regsweep's own settings. The
//! libraries never name a flag: they return a [`Hint`] as data (and their messages
//! end before the help), and this module renders it, here where the flags live.

use regsweep_github::{DeleteError, GithubError, Hint, PackageError};

/// The help line for `hint`, naming the flags.
pub fn help(hint: Hint) -> &'static str {
    match hint {
        Hint::NamePackages => {
            "help: name packages exactly (--image-names app,worker) or use a classic PAT with read:packages"
        }
        Hint::AllowLongerWait => {
            "help: run again after the reset, or allow a longer wait with `--max-wait` (env REGSWEEP_MAX_WAIT)"
        }
        Hint::ExcludeVersion => {
            "help: only GitHub support can remove it; exclude it from the policy (e.g. --skip-shas)"
        }
    }
}

/// `message` with the help for `hint` as its last line.
fn with(message: String, hint: Option<Hint>) -> String {
    match hint {
        Some(h) => format!("{message}\n  {}", help(h)),
        None => message,
    }
}

/// A GitHub API error with its help.
pub fn github(e: &GithubError) -> String {
    with(e.to_string(), e.hint())
}

/// A deletion's (or restore's) error with its help.
pub fn delete(e: &DeleteError) -> String {
    with(e.to_string(), e.hint())
}

/// A whole package's deletion (or restore) error with its help.
pub fn package(e: &PackageError) -> String {
    with(e.to_string(), e.hint())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_naming_is_rendered_here() {
        let e = GithubError::CannotList {
            owner: "organisation `acme`".into(),
            request: "GET /orgs/acme/packages".into(),
            status: 403,
            message: "Resource not accessible by integration".into(),
        };
        let text = github(&e);
        assert!(text.ends_with(
            "\n  help: name packages exactly (--image-names app,worker) or use a classic PAT with read:packages"
        ), "{text}");
        let e = DeleteError::TooManyDownloads {
            message: "popular".into(),
        };
        assert!(delete(&e).ends_with("(e.g. --skip-shas)"), "{}", delete(&e));
        let e = DeleteError::RateLimited { reset_at: None };
        assert!(delete(&e).contains("`--max-wait` (env REGSWEEP_MAX_WAIT)"));
        let e = PackageError::RateLimited { reset_at: None };
        assert!(
            !e.to_string().contains("--"),
            "the library names no flag: {e}"
        );
        assert!(package(&e).ends_with("`--max-wait` (env REGSWEEP_MAX_WAIT)"));
    }
}
