//! Container package names: GitHub's rules, checked before a name becomes a URL
//! segment (a package named `..` would otherwise remove a path segment).
//!
//! A container package name is an OCI repository path below the owner: one or more
//! components separated by `/` (`team/app`), each made of ASCII letters and digits,
//! separated inside by `.`, `_`, `__` or a run of `-`. GHCR stores names in lower
//! case and the API matches them case-insensitively, so upper-case letters are
//! accepted here and left to the server.

/// Why a package name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{shown}` is not a valid container package name: {why}")]
pub struct NameError {
    /// The name, with control characters and quotes escaped.
    pub shown: String,
    pub why: &'static str,
}

/// What a name must look like, for `help:` lines.
pub const NAME_RULES: &str = "container package names are letters, digits and `.`, `_`, `-` between them, with `/` between parts (e.g. app, team/app)";

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Checks one `/`-separated component.
fn component(part: &str) -> Result<(), &'static str> {
    let Some(first) = part.chars().next() else {
        return Err("it has an empty part (a leading, trailing or doubled `/`)");
    };
    if let Some(bad) = part
        .chars()
        .find(|&c| !is_alnum(c) && !matches!(c, '.' | '_' | '-'))
    {
        return Err(if bad.is_control() {
            "it contains a control character"
        } else if bad.is_whitespace() {
            "it contains white space"
        } else {
            "it contains a character other than letters, digits, `.`, `_`, `-` and `/`"
        });
    }
    if !is_alnum(first) || !part.chars().next_back().is_some_and(is_alnum) {
        return Err("each part must start and end with a letter or a digit");
    }
    // Separators between alphanumeric runs: `.`, `_`, `__` or a run of `-`.
    for run in part.split(is_alnum).filter(|s| !s.is_empty()) {
        let ok = run == "." || run == "_" || run == "__" || run.chars().all(|c| c == '-');
        if !ok {
            return Err("letters and digits must be separated by one `.`, `_`, `__` or dashes");
        }
    }
    Ok(())
}

/// Checks `name` against the rules above.
pub fn check_package_name(name: &str) -> Result<(), NameError> {
    let refuse = |why| NameError {
        shown: name.escape_debug().to_string(),
        why,
    };
    if name.is_empty() {
        return Err(refuse("it is empty"));
    }
    name.split('/').try_for_each(component).map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for ok in [
            "app",
            "team/app",
            "a/b/c",
            "hello_docker",
            "my.app",
            "my__app",
            "my---app",
            "App",
            "v1",
            "last-mile",
        ] {
            assert_eq!(check_package_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn invalid_names() {
        for bad in [
            "", "..", ".", "a/..", "../a", "/app", "app/", "a//b", "-app", "app-", "a..b", "a._b",
            "a___b", "a b", "a\nb", "a%2Fb", "a?b", "a#b", "a\\b", "ä",
        ] {
            let err = check_package_name(bad).unwrap_err();
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    #[test]
    fn error_escapes_the_name() {
        let err = check_package_name("a\nb").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`a\\nb` is not a valid container package name: it contains a control character"
        );
    }
}
