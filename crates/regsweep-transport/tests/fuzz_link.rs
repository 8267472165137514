//! Fuzzing `Link` header parsing (issue 12): headers built from links with every kind
//! of target (path-absolute, absolute, foreign, protocol-relative, query-only,
//! relative-path, commas in the URL), `rel` spellings and several relation types in
//! one `rel`, extra parameters (quoted values with commas, semicolons and escapes)
//! and odd whitespace, split over several header lines, plus arbitrary text.
//!
//! Properties: [`next_link`] never panics and is total (a URL, none, or a
//! [`regsweep_transport::LinkError`]); a parsed `next` is always an absolute URL; and
//! for a well-formed header with one `next` link, the result is exactly that link
//! resolved against the request URL. `PROPTEST_CASES` raises the case count.

use proptest::prelude::*;
use regsweep_transport::next_link;
use url::Url;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const REQUEST: &str = "http://127.0.0.1:5000/v2/team/app/tags/list?n=100";

/// A link target, as it appears between `<` and `>`: path-absolute, absolute, foreign,
/// protocol-relative, query-only (`<?page=2>`) or relative-path, with commas and
/// semicolons allowed in the query (`last=a,b`).
fn target() -> impl Strategy<Value = String> {
    let tail = "[A-Za-z0-9._~-]{0,12}";
    let query =
        "(page=[0-9]{1,4}|n=100|last=[a-z0-9._,;-]{0,10})(&(page|per_page)=[0-9]{1,3}){0,2}";
    prop_oneof![
        query.prop_map(|q| format!("?{q}")),
        (tail, query).prop_map(|(p, q)| format!("{p}?{q}")),
        (tail, query).prop_map(|(p, q)| format!("../{p}?{q}")),
        (tail, query).prop_map(|(p, q)| format!("/v2/team/{p}/tags/list?{q}")),
        (tail, query).prop_map(|(p, q)| format!("http://127.0.0.1:5000/{p}?{q}")),
        (tail, query).prop_map(|(p, q)| format!("https://evil.example/{p}?{q}")),
        (tail, query).prop_map(|(p, q)| format!("https://api.github.com/{p}?{q}")),
        (tail, query).prop_map(|(p, q)| format!("//other.example/{p}?{q}")),
    ]
}

/// A `rel` value that does not name `next` (`next-last-prev-first` among them).
fn other_rel() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("prev".to_string()),
        Just("last".to_string()),
        Just("first".to_string()),
        Just("next-last-prev-first".to_string()),
        Just("nextpage".to_string()),
        "[a-z]{1,8}".prop_filter("not next", |r| !r.eq_ignore_ascii_case("next")),
    ]
}

/// `rel=` with the value quoted or bare (bare only when it is one token).
fn rel_param(value: String, quoted: bool) -> String {
    if quoted || value.contains(' ') {
        format!("rel=\"{value}\"")
    } else {
        format!("rel={value}")
    }
}

/// Optional whitespace, as servers put it around `;` and `,`.
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("  "), Just("\t")]
}

/// An extra parameter, its quoted value possibly holding commas, semicolons, angle
/// brackets, the word `next` and `\"` escapes.
fn extra_param() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type=\"application/json\"".to_string()),
        "[a-z ,;<>=]{1,12}".prop_map(|v| format!("title=\"{v}\"")),
        Just(r#"title="say \"next\", then; rel=next""#.to_string()),
        "[0-9]{1,3}".prop_map(|v| format!("page={v}")),
        Just("anchor".to_string()),
    ]
}

/// A `rel` naming `next` among other relation types (`"prev next"`), in any case.
fn next_rel() -> impl Strategy<Value = String> {
    let one = prop_oneof![Just("next"), Just("NEXT"), Just("Next")];
    (
        prop::collection::vec(other_rel(), 0..3),
        one,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut types, next, at)| {
            let at = at.index(types.len() + 1);
            types.insert(at, next.to_string());
            types.join(" ")
        })
}

#[derive(Clone, Debug)]
struct Link {
    target: String,
    rel: String,
    quoted: bool,
    extras: Vec<String>,
}

fn link(rel: impl Strategy<Value = String>) -> impl Strategy<Value = Link> {
    (
        target(),
        rel,
        any::<bool>(),
        prop::collection::vec(extra_param(), 0..2),
    )
        .prop_map(|(target, rel, quoted, extras)| Link {
            target,
            rel,
            quoted,
            extras,
        })
}

fn render(l: &Link, sep: &str) -> String {
    let mut params = vec![rel_param(l.rel.clone(), l.quoted)];
    params.extend(l.extras.iter().cloned());
    format!(
        "<{}>{sep};{sep}{}",
        l.target,
        params.join(&format!("{sep};{sep}"))
    )
}

/// The `Url` of a request, for resolving relative targets.
fn request() -> Url {
    Url::parse(REQUEST).unwrap()
}

/// Whether `u` reads back as itself: it is a complete, absolute URL.
fn reparses(u: &Url) -> bool {
    Url::parse(u.as_str()).ok().as_ref() == Some(u)
}

fn assert_absolute(got: &Url) -> Result<(), TestCaseError> {
    prop_assert!(!got.cannot_be_a_base(), "{got}");
    prop_assert!(got.has_host(), "{got}");
    prop_assert!(reparses(got), "{got}");
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_link_next_is_the_resolved_target(
        next in link(next_rel()),
        others in prop::collection::vec(link(other_rel()), 0..4),
        at in any::<prop::sample::Index>(),
        lines in 1usize..3,
        sep in ws(),
        comma in ws(),
    ) {
        let mut links = others;
        let at = at.index(links.len() + 1);
        links.insert(at, next.clone());
        let rendered: Vec<String> = links.iter().map(|l| render(l, sep)).collect();
        // Split the list over `lines` header lines (several Link lines are one list).
        let per = rendered.len().div_ceil(lines);
        let values: Vec<String> = rendered
            .chunks(per)
            .map(|c| c.join(&format!(",{comma}")))
            .collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let got = next_link(&values, &request());
        let want = request().join(&next.target).unwrap();
        prop_assert_eq!(got, Ok(Some(want)), "{:?}", values);
    }

    #[test]
    fn fuzz_link_without_next_is_none(
        others in prop::collection::vec(link(other_rel()), 0..5),
        sep in ws(),
    ) {
        let header: Vec<String> = others.iter().map(|l| render(l, sep)).collect();
        let header = header.join(", ");
        prop_assert_eq!(next_link(&[&header], &request()), Ok(None), "{}", header);
    }

    #[test]
    fn fuzz_link_odd_headers_are_total(
        parts in prop::collection::vec(
            prop_oneof![
                Just("<".to_string()), Just(">".to_string()), Just(";".to_string()),
                Just(",".to_string()), Just("\"".to_string()), Just("=".to_string()),
                Just(" ".to_string()), Just("rel".to_string()), Just("next".to_string()),
                Just("http://".to_string()), Just("//".to_string()), Just("?".to_string()),
                Just("&".to_string()), Just("%".to_string()), Just("\\".to_string()),
                Just("mailto:a@b".to_string()), Just("data:,x".to_string()),
                Just("http://[::1]:99999/".to_string()), Just("https://é.example/ü".to_string()),
                "\\PC{0,6}",
            ],
            0..24,
        ),
    ) {
        let header = parts.concat();
        if let Ok(Some(url)) = next_link(&[&header], &request()) {
            prop_assert!(!url.as_str().is_empty());
            prop_assert!(reparses(&url), "{url}");
        }
    }

    #[test]
    fn fuzz_link_arbitrary_text_is_total(lines in prop::collection::vec("\\PC{0,64}", 0..3)) {
        let values: Vec<&str> = lines.iter().map(String::as_str).collect();
        if let Ok(Some(url)) = next_link(&values, &request()) {
            prop_assert!(reparses(&url), "{url}");
        }
    }

    #[test]
    fn fuzz_link_well_formed_next_is_absolute(
        next in link(next_rel()),
        sep in ws(),
    ) {
        let header = render(&next, sep);
        let url = next_link(&[&header], &request());
        prop_assert!(matches!(url, Ok(Some(_))), "{} gave {:?}", header, url);
        assert_absolute(&url.unwrap().unwrap())?;
    }

    #[test]
    fn fuzz_link_several_rel_types_never_hide_next(
        links in prop::collection::vec(link(prop_oneof![other_rel(), next_rel()]), 1..5),
        sep in ws(),
    ) {
        // Whether a `next` is found depends only on whether one of the rels names it.
        let header: Vec<String> = links.iter().map(|l| render(l, sep)).collect();
        let header = header.join(", ");
        let names_next = |l: &Link| l.rel.split(' ').any(|r| r.eq_ignore_ascii_case("next"));
        let nexts: Vec<Url> = links
            .iter()
            .filter(|l| names_next(l))
            .map(|l| request().join(&l.target).unwrap())
            .collect();
        let got = next_link(&[&header], &request());
        match nexts.first() {
            None => prop_assert_eq!(got, Ok(None), "{}", header),
            Some(first) if nexts.iter().all(|u| u == first) => {
                prop_assert_eq!(got, Ok(Some(first.clone())), "{}", header)
            }
            // Two different `next` targets: ambiguous, refused.
            Some(_) => prop_assert!(got.is_err(), "{} gave {:?}", header, got),
        }
    }
}
