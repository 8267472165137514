//! Deciding which page to request next.
//!
//! This module owns the pagination rule, as a pure function: follow the `Link`
//! header's `rel="next"` entry, parsed as a list of links by `regsweep-transport`
//! (never by substring: a package called `next-last-prev-first` must not confuse
//! it); when a response has no `Link` header, keep requesting the next page number
//! while pages come back full, and stop on a short or empty page.
//!
//! "Full" means `per_page` entries, or exactly GitHub's default page size (30): some
//! endpoints (`/users/{username}/…/versions`) document no `per_page`, and a server
//! that ignores it must not make us stop after its first page. The price is one
//! extra request for a listing of exactly 30 entries without `Link` headers.
//!
//! How many pages a listing may take is `regsweep-transport`'s page budget, applied
//! by `transport.rs`: the pages the package's `version_count` needs at 30 a page,
//! plus slack. `Link` parsing itself is `regsweep-transport`'s.

use url::Url;

use crate::urls::with_page;

/// GitHub's page size when `per_page` is not honoured.
pub const SERVER_DEFAULT_PER_PAGE: usize = 30;

/// What to do after a page.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NextPage {
    /// Request this URL next.
    Fetch(Url),
    /// The listing is complete.
    Done,
}

pub use regsweep_transport::LinkError;

/// The `rel="next"` target of a `Link` header, resolved against the URL of the
/// request that returned it (parsed by `regsweep-transport`). `Ok(None)` when the
/// header lists no next page.
pub fn next_link(header: &str, request_url: &Url) -> Result<Option<Url>, LinkError> {
    regsweep_transport::next_link(&[header], request_url)
}

/// The page to request after the page `page` (numbered from 1) at `request_url`,
/// which returned `items` entries and the `Link` header `link`, if any.
///
/// A malformed `Link` header is treated like a missing one (the caller logs it):
/// reading on by page number can only list more, never less.
pub fn next_page(
    link: Option<&str>,
    request_url: &Url,
    page: usize,
    items: usize,
    per_page: usize,
) -> (NextPage, Option<LinkError>) {
    let mut problem = None;
    if let Some(header) = link {
        match next_link(header, request_url) {
            Ok(Some(url)) => return (NextPage::Fetch(url), None),
            Ok(None) if !header.trim().is_empty() => return (NextPage::Done, None),
            Ok(None) => {}
            Err(e) => problem = Some(e),
        }
    }
    if items > 0 && (items >= per_page || items == SERVER_DEFAULT_PER_PAGE) {
        (NextPage::Fetch(with_page(request_url, page + 1)), problem)
    } else {
        (NextPage::Done, problem)
    }
}

/// The `page` query parameter of `url`, if it is a number.
pub fn page_of(url: &Url) -> Option<usize> {
    url.query_pairs()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const BASE: &str = "https://api.github.com/orgs/acme/packages/container";

    #[test]
    fn next_link_table() {
        let req = url(&format!(
            "{BASE}/next-last-prev-first/versions?per_page=100&page=2"
        ));
        let cases: Vec<(String, Option<String>)> = vec![
            // GitHub's usual header, on a package whose name contains every rel word.
            (
                format!(
                    "<{BASE}/next-last-prev-first/versions?per_page=100&page=3>; rel=\"next\", \
                     <{BASE}/next-last-prev-first/versions?per_page=100&page=9>; rel=\"last\", \
                     <{BASE}/next-last-prev-first/versions?per_page=100&page=1>; rel=\"first\", \
                     <{BASE}/next-last-prev-first/versions?per_page=100&page=1>; rel=\"prev\""
                ),
                Some(format!(
                    "{BASE}/next-last-prev-first/versions?per_page=100&page=3"
                )),
            ),
            // Last page: `last` appears in the name and in rels, but there is no next.
            (
                format!(
                    "<{BASE}/last-next/versions?page=1>; rel=\"first\", \
                     <{BASE}/last-next/versions?page=8>; rel=\"prev\""
                ),
                None,
            ),
            // `next` entry listed last, rel unquoted.
            (
                format!(
                    "<{BASE}/prev/versions?page=1>; rel=prev, <{BASE}/prev/versions?page=3>; rel=next"
                ),
                Some(format!("{BASE}/prev/versions?page=3")),
            ),
            // A name containing rel="next" text in its (encoded) path must not count.
            (
                format!("<{BASE}/rel%3D%22next%22/versions?page=1>; rel=\"first\""),
                None,
            ),
            // Relative link resolved against the request.
            (
                "</orgs/acme/packages?page=2>; rel=\"next\"".to_string(),
                Some("https://api.github.com/orgs/acme/packages?page=2".to_string()),
            ),
            ("".to_string(), None),
        ];
        for (header, want) in cases {
            let got = next_link(&header, &req).unwrap();
            assert_eq!(got.map(|u| u.to_string()), want, "header {header}");
        }
    }

    #[test]
    fn malformed_link_is_an_error() {
        let req = url(BASE);
        assert!(next_link("<https://x/?page=2>; rel", &req).is_err());
    }

    #[test]
    fn next_page_table() {
        let req = url(&format!("{BASE}/app/versions?per_page=100&page=4"));
        let link_next = format!("<{BASE}/app/versions?per_page=100&page=5>; rel=\"next\"");
        let link_last_page = format!("<{BASE}/app/versions?per_page=100&page=1>; rel=\"first\"");
        let by_number = format!("{BASE}/app/versions?per_page=100&page=5");
        let cases: Vec<(Option<&str>, usize, NextPage)> = vec![
            (Some(&link_next), 100, NextPage::Fetch(url(&by_number))),
            // Link says next even on a short page: trust it.
            (Some(&link_next), 3, NextPage::Fetch(url(&by_number))),
            // Link without next: done even when full.
            (Some(&link_last_page), 100, NextPage::Done),
            // No Link: full page → next page number; short or empty → done.
            (None, 100, NextPage::Fetch(url(&by_number))),
            (None, 99, NextPage::Done),
            // A server ignoring per_page answers 30 a page: keep reading.
            (None, 30, NextPage::Fetch(url(&by_number))),
            (None, 29, NextPage::Done),
            (None, 0, NextPage::Done),
            // Malformed Link: fall back to page counting.
            (Some("garbage; rel"), 100, NextPage::Fetch(url(&by_number))),
            (Some("garbage; rel"), 5, NextPage::Done),
        ];
        for (link, items, want) in cases {
            let (got, _) = next_page(link, &req, 4, items, 100);
            assert_eq!(got, want, "link {link:?} items {items}");
        }
        let (_, problem) = next_page(Some("garbage; rel"), &req, 4, 100, 100);
        assert!(problem.is_some());
    }

    #[test]
    fn page_of_reads_the_query() {
        assert_eq!(page_of(&url("https://x/a?per_page=100&page=7")), Some(7));
        assert_eq!(page_of(&url("https://x/a?per_page=100")), None);
    }
}
