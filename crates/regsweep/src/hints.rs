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

/// The hint of the first library error in `e`'s chain that has one.
pub fn of_chain(e: &anyhow::Error) -> Option<Hint> {
    e.chain().find_map(|c| {
        c.downcast_ref::<GithubError>()
            .and_then(GithubError::hint)
            .or_else(|| c.downcast_ref::<DeleteError>().and_then(DeleteError::hint))
    })
}

/// `text` (an error chain rendered with `{:#}`) with the help of `e`'s chain last.
pub fn append(text: String, e: &anyhow::Error) -> String {
    with(text, of_chain(e))
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
        let chained = anyhow::Error::new(GithubError::RateLimited {
            request: "GET /x".into(),
            reset_at: None,
            wait: std::time::Duration::from_secs(60),
            max_wait: std::time::Duration::from_secs(10),
            waits: 0,
        })
        .context("listing");
        assert_eq!(of_chain(&chained), Some(Hint::AllowLongerWait));
        let e = PackageError::RateLimited { reset_at: None };
        assert!(
            !e.to_string().contains("--"),
            "the library names no flag: {e}"
        );
        assert!(package(&e).ends_with("`--max-wait` (env REGSWEEP_MAX_WAIT)"));
    }
}
