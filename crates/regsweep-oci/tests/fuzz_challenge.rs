//! Fuzzing `WWW-Authenticate` parsing (issue 12): headers built from several
//! challenges (`Bearer`, `Basic`, others, any case) whose parameters are quoted
//! strings with escapes and commas, or bare tokens, with or without a realm and with
//! odd whitespace, plus arbitrary text.
//!
//! Properties: [`parse_challenges`] never panics; it finds every challenge of a
//! well-formed header, with its scheme and each parameter exactly (a realm is exactly
//! the quoted value, unescaped); and it never invents a realm. `PROPTEST_CASES` raises
//! the case count.

use std::collections::BTreeMap;

use proptest::prelude::*;
use regsweep_oci::parse_challenges;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[derive(Clone, Debug)]
struct Param {
    name: String,
    value: String,
    quoted: bool,
}

#[derive(Clone, Debug)]
struct Challenge {
    scheme: String,
    params: Vec<Param>,
}

fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Bearer".to_string()),
        Just("bearer".to_string()),
        Just("BASIC".to_string()),
        Just("Basic".to_string()),
        "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}",
    ]
}

/// A value: any text when quoted (escaped on rendering), a token when bare.
fn param(name: impl Strategy<Value = String>) -> impl Strategy<Value = Param> {
    let quoted_value = prop_oneof![
        Just("https://ghcr.io/token".to_string()),
        Just("http://127.0.0.1:1/t?x=1,2".to_string()),
        Just("repository:acme/app:pull,push".to_string()),
        Just(String::new()),
        "[^\"\\\\]{0,16}",
        "\\PC{0,16}",
        "(\\\\|\"|,|=|;| ){1,6}",
    ];
    let bare_value = "[A-Za-z0-9._~+/:-]{1,16}";
    (
        name,
        prop_oneof![
            quoted_value.prop_map(|v| (v, true)),
            bare_value.prop_map(|v| (v, false)),
        ],
    )
        .prop_map(|(name, (value, quoted))| Param {
            name,
            value,
            quoted,
        })
}

fn challenge() -> impl Strategy<Value = Challenge> {
    let name = prop_oneof![
        Just("realm".to_string()),
        Just("Realm".to_string()),
        Just("service".to_string()),
        Just("scope".to_string()),
        Just("error".to_string()),
        "[a-z][a-z0-9_-]{0,8}",
    ];
    (scheme(), prop::collection::vec(param(name), 0..5)).prop_map(|(scheme, params)| {
        // One value per name (names are case-insensitive).
        let mut seen = std::collections::HashSet::new();
        let params = params
            .into_iter()
            .filter(|p| seen.insert(p.name.to_ascii_lowercase()))
            .collect();
        Challenge { scheme, params }
    })
}

fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("  "), Just("\t")]
}

fn quote(value: &str) -> String {
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

fn render(challenges: &[Challenge], eq: &str, comma: &str) -> String {
    challenges
        .iter()
        .map(|c| {
            let params: Vec<String> = c
                .params
                .iter()
                .map(|p| {
                    let value = if p.quoted {
                        quote(&p.value)
                    } else {
                        p.value.clone()
                    };
                    format!("{}{eq}={eq}{value}", p.name)
                })
                .collect();
            if params.is_empty() {
                c.scheme.clone()
            } else {
                format!("{} {}", c.scheme, params.join(&format!(",{comma}")))
            }
        })
        .collect::<Vec<_>>()
        .join(&format!(",{comma}"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_challenge_well_formed_headers_parse_exactly(
        challenges in prop::collection::vec(challenge(), 1..4),
        eq in ws(),
        comma in ws(),
    ) {
        let header = render(&challenges, eq, comma);
        let got = parse_challenges(&header);
        prop_assert_eq!(got.len(), challenges.len(), "{}", header);
        for (g, want) in got.iter().zip(&challenges) {
            prop_assert_eq!(&g.scheme, &want.scheme.to_ascii_lowercase());
            let want_params: BTreeMap<String, String> = want
                .params
                .iter()
                .map(|p| (p.name.to_ascii_lowercase(), p.value.clone()))
                .collect();
            prop_assert_eq!(&g.params, &want_params, "{}", header);
            let realm = want.params.iter().find(|p| p.name.eq_ignore_ascii_case("realm"));
            prop_assert_eq!(g.param("realm"), realm.map(|p| p.value.as_str()));
        }
    }

    #[test]
    fn fuzz_challenge_arbitrary_text_is_total(header in "\\PC{0,80}") {
        for c in parse_challenges(&header) {
            prop_assert!(!c.scheme.is_empty());
            prop_assert_eq!(c.scheme.to_ascii_lowercase(), c.scheme.clone());
        }
    }

    #[test]
    fn fuzz_challenge_challenge_shaped_text_is_total(
        parts in prop::collection::vec(
            prop_oneof![
                Just("Bearer"), Just("Basic"), Just("realm"), Just("="), Just("\""),
                Just("\\"), Just(","), Just(" "), Just("\t"), Just("service"),
                Just("https://x/t"), Just("é"), Just(";"),
            ],
            0..32,
        ),
    ) {
        let header = parts.concat();
        for c in parse_challenges(&header) {
            prop_assert!(!c.scheme.is_empty());
            // A realm only ever comes from a `realm=` in the header.
            if c.param("realm").is_some() {
                prop_assert!(header.to_ascii_lowercase().contains("realm"));
            }
        }
    }
}
