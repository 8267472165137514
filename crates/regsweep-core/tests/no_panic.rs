//! No panic on any input: everything the core reads from users (policy files,
//! patterns, digests) or from registries (manifests, configs, tags) is parsed to a
//! value or an error, whatever the bytes.

use proptest::prelude::*;
use regsweep_core::graph::{parse_artifact_tag, parse_config_labels, parse_manifest};
use regsweep_core::matcher::PatternList;
use regsweep_core::policy::file::parse;
use regsweep_core::Digest;

fn digest() -> Digest {
    Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap()
}

/// JSON-shaped text built from manifest vocabulary, so the parser's deeper paths run.
fn manifestish() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("schemaVersion"),
        Just("mediaType"),
        Just("manifests"),
        Just("layers"),
        Just("config"),
        Just("subject"),
        Just("digest"),
        Just("platform"),
        Just("annotations"),
        Just("artifactType"),
        Just("size"),
    ];
    let leaf = prop_oneof![
        Just("2".to_string()),
        Just("null".to_string()),
        Just("\"application/vnd.oci.image.index.v1+json\"".to_string()),
        Just("\"application/vnd.oci.image.manifest.v1+json\"".to_string()),
        Just(format!("\"sha256:{}\"", "b".repeat(64))),
        Just("\"sha256:zz\"".to_string()),
        ".{0,8}".prop_map(|s| format!("{s:?}")),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec((key.clone(), inner.clone()), 0..6).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
            prop::collection::vec(inner, 0..4).prop_map(|v| format!("[{}]", v.join(","))),
        ]
    })
}

proptest! {
    #[test]
    fn policy_files_parse_or_fail_with_a_location(text in ".{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn policy_shaped_text_parses_or_fails(
        action in "keep|delete|purge|",
        key in "tags|packages|state|labels|older_than|newer_than|keep_newest|semver_lines|pull_request|digests|orphans|timestamp|name|x",
        value in ".{0,12}|\\[.{0,8}\\]|\\{count: -?[0-9]{1,3}, per: .{0,10}\\}",
    ) {
        let text = format!("version: 1\nrules:\n  - action: {action}\n    {key}: {value}\n");
        let _ = parse(&text);
    }

    #[test]
    fn patterns_parse_or_fail(list in ".{0,40}", name in ".{0,20}") {
        if let Ok(p) = PatternList::parse(&list) {
            let _ = p.matches(&name);
            let _ = p.match_tags(std::slice::from_ref(&name));
        }
    }

    #[test]
    fn digests_parse_or_fail(s in ".{0,80}|sha256:[0-9a-fA-F]{0,70}|sha512:[0-9a-f]{0,130}") {
        let _ = Digest::parse(&s);
    }

    #[test]
    fn manifests_parse_or_fail(
        body in manifestish(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        content_type in proptest::option::of(".{0,20}|application/vnd.oci.image.index.v1\\+json"),
    ) {
        let d = digest();
        let _ = parse_manifest(&d, content_type.as_deref(), body.as_bytes());
        let _ = parse_manifest(&d, content_type.as_deref(), &bytes);
        let _ = parse_config_labels(body.as_bytes());
        let _ = parse_config_labels(&bytes);
    }

    #[test]
    fn tags_parse_or_fail(tag in ".{0,80}|sha256-[0-9a-f]{60,70}(\\..{0,6})?") {
        let _ = parse_artifact_tag(&tag);
    }
}
