//! Parsing `WWW-Authenticate` challenges (RFC 7235): the scheme and its parameters.
//!
//! Registries answer 401 with `Bearer realm="…",service="…",scope="…"` (scopes may hold
//! commas inside quotes: `pull,push`) or `Basic realm="…"`. One header may carry several
//! challenges. This module only parses; acting on a challenge is `auth`'s job.

use std::collections::BTreeMap;

/// One challenge: a scheme (lowercased) and its parameters (names lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// The value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether the scheme is `Bearer`.
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    /// Whether the scheme is `Basic`.
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.chars.next_if(|c| c.is_whitespace()).is_some() {}
    }

    fn skip_separators(&mut self) {
        while self
            .chars
            .next_if(|c| c.is_whitespace() || *c == ',')
            .is_some()
        {}
    }

    fn token(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self
            .chars
            .next_if(|c| !c.is_whitespace() && *c != ',' && *c != '=' && *c != '"')
        {
            out.push(c);
        }
        out
    }

    /// A quoted string, the opening quote already seen; `\x` escapes `x`.
    fn quoted(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.chars.next() {
            match c {
                '"' => break,
                '\\' => {
                    if let Some(e) = self.chars.next() {
                        out.push(e);
                    }
                }
                c => out.push(c),
            }
        }
        out
    }

    fn bare_value(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.chars.next_if(|c| *c != ',' && !c.is_whitespace()) {
            out.push(c);
        }
        out
    }
}

/// Parses every challenge in a `WWW-Authenticate` header value. Malformed parts are
/// skipped rather than rejected: the caller decides what a missing `realm` means.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut cur = Cursor {
        chars: header.chars().peekable(),
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        cur.skip_separators();
        if cur.chars.peek().is_none() {
            break;
        }
        let token = cur.token();
        if token.is_empty() {
            // A stray `=` or `"`: drop it and carry on.
            if cur.chars.next() == Some('"') {
                cur.quoted();
            }
            continue;
        }
        cur.skip_ws();
        if cur.chars.next_if_eq(&'=').is_some() {
            cur.skip_ws();
            let value = if cur.chars.next_if_eq(&'"').is_some() {
                cur.quoted()
            } else {
                cur.bare_value()
            };
            if let Some(last) = out.last_mut() {
                last.params.insert(token.to_ascii_lowercase(), value);
            }
        } else {
            out.push(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(scheme: &str, params: &[(&str, &str)]) -> Challenge {
        Challenge {
            scheme: scheme.to_string(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn challenge_table() {
        let cases: Vec<(&str, Vec<Challenge>)> = vec![
            (
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#,
                vec![ch(
                    "bearer",
                    &[
                        ("realm", "https://ghcr.io/token"),
                        ("service", "ghcr.io"),
                        ("scope", "repository:acme/app:pull"),
                    ],
                )],
            ),
            (
                r#"Bearer realm="https://auth.docker.io/token", service="registry.docker.io", scope="repository:samalba/my-app:pull,push""#,
                vec![ch(
                    "bearer",
                    &[
                        ("realm", "https://auth.docker.io/token"),
                        ("service", "registry.docker.io"),
                        ("scope", "repository:samalba/my-app:pull,push"),
                    ],
                )],
            ),
            (
                r#"Basic realm="Registry Realm""#,
                vec![ch("basic", &[("realm", "Registry Realm")])],
            ),
            (
                r#"BEARER Realm = "http://127.0.0.1:1/t" , error="invalid_token""#,
                vec![ch(
                    "bearer",
                    &[
                        ("realm", "http://127.0.0.1:1/t"),
                        ("error", "invalid_token"),
                    ],
                )],
            ),
            (
                r#"Basic realm="a, b", Bearer realm="https://x/token",service=x.io"#,
                vec![
                    ch("basic", &[("realm", "a, b")]),
                    ch(
                        "bearer",
                        &[("realm", "https://x/token"), ("service", "x.io")],
                    ),
                ],
            ),
            (
                r#"Bearer realm="with \"quote\"""#,
                vec![ch("bearer", &[("realm", r#"with "quote""#)])],
            ),
            ("Bearer", vec![ch("bearer", &[])]),
            ("", vec![]),
            ("  ,, ", vec![]),
            (r#"="x", realm="orphan""#, vec![]),
            (
                r#"Bearer realm="unterminated"#,
                vec![ch("bearer", &[("realm", "unterminated")])],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_challenges(input), want, "input: {input}");
        }
    }

    #[test]
    fn accessors() {
        let c = &parse_challenges(r#"Bearer Realm="r",SERVICE="s""#)[0];
        assert!(c.is_bearer() && !c.is_basic());
        assert_eq!(c.param("realm"), Some("r"));
        assert_eq!(c.param("Service"), Some("s"));
        assert_eq!(c.param("scope"), None);
    }
}
