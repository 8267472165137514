//! `Link` headers (RFC 8288): the `rel="next"` target, for every paginated listing.
//!
//! A small parser of the RFC's grammar, just what pagination needs, never a substring
//! search (a package called `next-last-prev-first` must not confuse it):
//!
//! ```text
//! Link       = #link-value                      (comma-separated, empty elements skipped)
//! link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//! link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//! ```
//!
//! A target is everything between `<` and `>`, commas included. `rel` holds one or
//! more relation types separated by spaces (`rel="prev next"` names `next`), compared
//! without regard to case; only the first `rel` of a link counts (RFC 8288 §3.3).
//! Quoted strings may hold commas, semicolons and `\`-escapes. Targets are URI
//! references resolved against the request URL (`<?page=2>` included) and must come
//! out as `http` or `https` URLs. Several `Link` header lines are one list.
//!
//! Anything that does not parse is a [`LinkError`], never a silent "no next page": a
//! listing cut short would let the planner decide on part of a package. So are two
//! `next` links with different targets. Whether the next URL may be followed (same
//! origin, page budget) is for the caller and [`crate::pages`].

use url::Url;

/// Why a `Link` header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Link header `{header}` is malformed ({detail}); expected `<URL>; rel=\"next\", …`")]
pub struct LinkError {
    pub header: String,
    pub detail: String,
}

/// One parsed link-value: its target, as written, and its first `rel`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link<'a> {
    target: &'a str,
    rel: Option<String>,
}

impl Link<'_> {
    /// Whether one of the link's relation types is `next`.
    fn is_next(&self) -> bool {
        self.rel.as_deref().is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
        })
    }
}

/// The `rel="next"` target of the `Link` header lines `values`, resolved against the
/// URL of the request that returned them. `Ok(None)` when no next page is listed.
pub fn next_link(values: &[&str], request_url: &Url) -> Result<Option<Url>, LinkError> {
    let header = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let err = |detail: String| LinkError {
        header: header.clone(),
        detail,
    };
    let links = parse(&header).map_err(err)?;
    let mut next: Option<Url> = None;
    for link in links.iter().filter(|l| l.is_next()) {
        let url = resolve(link.target, request_url).map_err(err)?;
        match &next {
            Some(seen) if *seen != url => {
                return Err(err(format!(
                    "two different `next` links, `{seen}` and `{url}`"
                )))
            }
            _ => next = Some(url),
        }
    }
    Ok(next)
}

/// `target` resolved against `request_url`; it must be an `http` or `https` URL.
fn resolve(target: &str, request_url: &Url) -> Result<Url, String> {
    let url = request_url
        .join(target)
        .map_err(|e| format!("next URL `{target}`: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        _ => Err(format!("next URL `{target}` is not an http or https URL")),
    }
}

/// The links of a whole (joined) header.
fn parse(header: &str) -> Result<Vec<Link<'_>>, String> {
    let mut p = Parser { s: header, at: 0 };
    let mut links = Vec::new();
    loop {
        // `#rule`: empty list elements (`, ,`) are allowed and skipped.
        loop {
            p.skip_ows();
            if !p.eat(',') {
                break;
            }
        }
        if p.done() {
            return Ok(links);
        }
        links.push(p.link_value()?);
        p.skip_ows();
        if !p.done() && !p.eat(',') {
            return Err(p.unexpected("`,` between links"));
        }
    }
}

/// A cursor over the header text.
struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.at..]
    }

    fn done(&self) -> bool {
        self.at >= self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Optional white space: spaces and tabs.
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.at += 1;
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(c) => format!("expected {wanted} at byte {}, found `{c}`", self.at),
            None => format!("expected {wanted}, found the end of the header"),
        }
    }

    /// `"<" URI-Reference ">" *( OWS ";" OWS link-param )`.
    fn link_value(&mut self) -> Result<Link<'a>, String> {
        if !self.eat('<') {
            return Err(self.unexpected("`<` opening a link target"));
        }
        let end = self
            .rest()
            .find('>')
            .ok_or_else(|| "a link target has no closing `>`".to_string())?;
        let target = &self.rest()[..end];
        if let Some(c) = target
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '"'))
        {
            return Err(format!(
                "the link target `{target}` contains {c:?}, which a URI reference cannot"
            ));
        }
        self.at += end + 1;
        let mut rel = None;
        loop {
            self.skip_ows();
            if !self.eat(';') {
                break;
            }
            self.skip_ows();
            let (name, value) = self.link_param()?;
            // Only the first `rel` counts (RFC 8288 §3.3).
            if name.eq_ignore_ascii_case("rel") && rel.is_none() {
                match value {
                    Some(v) if !v.trim().is_empty() => rel = Some(v),
                    _ => return Err(format!("the link `<{target}>` has an empty `rel`")),
                }
            }
        }
        if rel.is_none() {
            return Err(format!("the link `<{target}>` has no `rel` parameter"));
        }
        Ok(Link { target, rel })
    }

    /// `token BWS [ "=" BWS ( token / quoted-string ) ]`.
    fn link_param(&mut self) -> Result<(&'a str, Option<String>), String> {
        let name = self.token();
        if name.is_empty() {
            return Err(self.unexpected("a parameter name"));
        }
        self.skip_ows();
        if !self.eat('=') {
            return Ok((name, None));
        }
        self.skip_ows();
        let value = if self.peek() == Some('"') {
            self.quoted_string()?
        } else {
            let v = self.token();
            if v.is_empty() {
                return Err(self.unexpected(&format!("a value for `{name}`")));
            }
            v.to_string()
        };
        Ok((name, Some(value)))
    }

    /// `1*tchar` (RFC 9110 §5.6.2); empty when none.
    fn token(&mut self) -> &'a str {
        let len = self
            .rest()
            .find(|c: char| !is_tchar(c))
            .unwrap_or(self.rest().len());
        let t = &self.rest()[..len];
        self.at += len;
        t
    }

    /// `DQUOTE *( qdtext / quoted-pair ) DQUOTE`, unescaped.
    fn quoted_string(&mut self) -> Result<String, String> {
        self.eat('"');
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) if !e.is_control() || e == '\t' => out.push(e),
                    _ => return Err("a bad `\\` escape in a quoted string".to_string()),
                },
                c if c.is_control() && c != '\t' => {
                    return Err(format!("a quoted string contains {c:?}"))
                }
                c => out.push(c),
            }
        }
        Err("a quoted string has no closing `\"`".to_string())
    }
}

/// A `tchar` of RFC 9110 §5.6.2.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur() -> Url {
        Url::parse("http://127.0.0.1:5000/v2/a/tags/list?n=2").unwrap()
    }

    fn next(values: &[&str]) -> Result<Option<String>, LinkError> {
        next_link(values, &cur()).map(|u| u.map(|u| u.to_string()))
    }

    #[test]
    fn several_lines_are_one_list() {
        assert_eq!(
            next(&[r#"</a?x=1>; rel="prev""#, r#"</b?y=2>; rel="next""#]).unwrap(),
            Some("http://127.0.0.1:5000/b?y=2".to_string())
        );
        assert_eq!(next(&[]), Ok(None));
        assert_eq!(next(&["  "]), Ok(None));
        assert!(next(&["</x>; norel"]).is_err());
    }

    /// Fuzz finding: `rel="prev next"` ignored `next` and cut the listing short.
    #[test]
    fn rel_with_several_types_names_next() {
        for rel in [
            r#"rel="prev next""#,
            r#"rel="next prev""#,
            r#"rel="first  NEXT	last""#,
            r#"rel = "next""#,
        ] {
            assert_eq!(
                next(&[&format!("</p?page=3>; {rel}")]).unwrap(),
                Some("http://127.0.0.1:5000/p?page=3".to_string()),
                "{rel}"
            );
        }
        assert_eq!(next(&[r#"</p?page=3>; rel="prev nextpage""#]), Ok(None));
    }

    /// Fuzz finding: a comma inside a link target split the link in two.
    #[test]
    fn comma_inside_url_stays_in_the_link() {
        assert_eq!(
            next(&[r#"</p?last=a,b&n=2>; rel="next", </p?page=1>; rel="prev""#]).unwrap(),
            Some("http://127.0.0.1:5000/p?last=a,b&n=2".to_string())
        );
        // Commas and semicolons inside quoted parameters too.
        assert_eq!(
            next(&[r#"</p?page=1>; title="a, b; <c>"; rel="prev", </p?page=3>; rel=next"#])
                .unwrap(),
            Some("http://127.0.0.1:5000/p?page=3".to_string())
        );
        assert_eq!(
            next(&[r#"</p?page=3>; title="say \"next\", then"; rel="next""#]).unwrap(),
            Some("http://127.0.0.1:5000/p?page=3".to_string())
        );
    }

    /// Fuzz finding: a relative `<?page=2>` was refused instead of resolved.
    #[test]
    fn relative_query_only_target_is_resolved() {
        let cases = [
            ("<?page=2>", "http://127.0.0.1:5000/v2/a/tags/list?page=2"),
            (
                "<list?page=2>",
                "http://127.0.0.1:5000/v2/a/tags/list?page=2",
            ),
            ("<../b?n=1>", "http://127.0.0.1:5000/v2/a/b?n=1"),
            ("<//other.example/x>", "http://other.example/x"),
        ];
        for (target, want) in cases {
            assert_eq!(
                next(&[&format!("{target}; rel=\"next\"")])
                    .unwrap()
                    .as_deref(),
                Some(want),
                "{target}"
            );
        }
    }

    #[test]
    fn only_the_first_rel_counts() {
        assert_eq!(next(&[r#"</p>; rel="prev"; rel="next""#]), Ok(None));
        assert!(next(&[r#"</p>; rel="next"; rel="prev""#])
            .unwrap()
            .is_some());
    }

    #[test]
    fn empty_list_elements_are_skipped() {
        assert_eq!(
            next(&[", , </p?page=3>; rel=next ,,"]).unwrap().as_deref(),
            Some("http://127.0.0.1:5000/p?page=3")
        );
    }

    #[test]
    fn unparseable_headers_are_errors_never_none() {
        for bad in [
            "</x>; norel",
            "</x>; rel",
            "</x>; rel=",
            r#"</x>; rel="""#,
            "</x>",
            "/x; rel=next",
            "</x; rel=next",
            r#"</x>; rel="next"#,
            "</x> rel=next",
            "</x>; rel=next </y>; rel=prev",
            "</x>; rel=a/b",
            "</a b>; rel=next",
            "<mailto:a@b>; rel=next",
            "<data:,x>; rel=next",
            "<http://[::1]:99999/>; rel=next",
            "</a>; rel=next, </b>; rel=next",
            r#"</x>; rel=next; title="bad \"#,
        ] {
            assert!(
                next(&[bad]).is_err(),
                "{bad:?} parsed as {:?}",
                next(&[bad])
            );
        }
        // Two identical `next` links are one.
        assert!(next(&["</a>; rel=next, </a>; rel=\"next prev\""]).is_ok());
    }
}
