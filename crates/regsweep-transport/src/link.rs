//! `Link` headers (RFC 8288): the `rel="next"` target, for every paginated listing.
//!
//! Parsed as a list of links with the `parse_link_header` crate, never by substring
//! (a package called `next-last-prev-first` must not confuse it). Several `Link`
//! header lines are one list. Whether the next URL may be followed (same origin, page
//! budget) is for the caller and [`crate::pages`].

use url::Url;

/// Why a `Link` header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Link header `{header}` is malformed ({detail}); expected `<URL>; rel=\"next\", …`")]
pub struct LinkError {
    pub header: String,
    pub detail: String,
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
    if header.is_empty() {
        return Ok(None);
    }
    let links = parse_link_header::parse(&header).map_err(|e| err(e.to_string()))?;
    for link in links.values() {
        let is_next = link.params.get("rel").is_some_and(|rel| {
            rel.split_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            let url = request_url
                .join(&link.raw_uri)
                .map_err(|e| err(format!("next URL `{}`: {e}", link.raw_uri)))?;
            return Ok(Some(url));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_lines_are_one_list() {
        let cur = Url::parse("http://127.0.0.1:5000/v2/a/tags/list?n=2").unwrap();
        let got = next_link(
            &[r#"</a?x=1>; rel="prev""#, r#"</b?y=2>; rel="next""#],
            &cur,
        );
        assert_eq!(
            got.unwrap().map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1:5000/b?y=2")
        );
        assert_eq!(next_link(&[], &cur), Ok(None));
        assert_eq!(next_link(&["  "], &cur), Ok(None));
        assert!(next_link(&["</x>; norel"], &cur).is_err());
    }
}
