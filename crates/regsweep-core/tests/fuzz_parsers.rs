//! Fuzzing the manifest parser and the policy parser (issue 12): structure-aware
//! mutations of valid documents, plus raw bytes.
//!
//! Manifests: OCI and Docker indexes (with platforms and buildx attestation
//! references), image manifests and referrers with a `subject`, each field removed,
//! nulled, retyped, duplicated, made huge or unicode, under every `Content-Type`.
//! [`parse_manifest`] is total, and a manifest that parses lists exactly the input's
//! children and subject: no reference is dropped. Policies: the files of `examples/`
//! with lines deleted, duplicated, re-indented, inserted and values replaced;
//! whenever one parses, `parse(render(p)) == p`. `PROPTEST_CASES` raises the case
//! count (CI does, in `.ci/run`).

use proptest::prelude::*;
use regsweep_core::graph::{parse_manifest, ManifestKind, DOCKER_LIST, OCI_INDEX, OCI_MANIFEST};
use regsweep_core::policy::file::{parse, render};
use regsweep_core::Digest;
use serde_json::{json, Value};

#[path = "support/json_mutation.rs"]
mod json_mutation;
use json_mutation::mutated;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn hex(c: char) -> String {
    c.to_string().repeat(64)
}

/// Valid manifests and indexes, as registries serve them.
fn manifest_bases() -> Vec<Value> {
    let d = |c: char| format!("sha256:{}", hex(c));
    vec![
        json!({
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": d('1'), "size": 10,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": OCI_MANIFEST, "digest": d('2'), "size": 10,
                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": OCI_MANIFEST, "digest": d('3'), "size": 10,
                 "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                 "vnd.docker.reference.digest": d('1')}}
            ],
            "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
        }),
        json!({
            "schemaVersion": 2, "mediaType": DOCKER_LIST,
            "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "digest": d('4'), "size": 7,
                           "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}]
        }),
        json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d('5'), "size": 3},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d('6'), "size": 9}],
            "annotations": {"a": "b"}
        }),
        json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": d('7'), "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": d('8'), "size": 5}
        }),
        json!({"schemaVersion": 2, "manifests": []}),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(OCI_INDEX.to_string())),
        Just(Some(OCI_MANIFEST.to_string())),
        Just(Some(DOCKER_LIST.to_string())),
        Just(Some("application/json; charset=utf-8".to_string())),
        Just(Some("application/vnd.example+json".to_string())),
        Just(Some(String::new())),
        "\\PC{0,24}".prop_map(Some),
    ]
}

/// A value to put in place of a field.
fn replacement() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from(0)),
        Just(Value::from(u64::MAX)),
        "\\PC{0,24}".prop_map(Value::from),
        (1usize..20_000).prop_map(|n| Value::from("x".repeat(n))),
        Just(Value::from(format!("sha256:{}", "A".repeat(64)))),
        Just(Value::from("application/vnd.oci.image.index.v1+json")),
        Just(Value::from(
            "application/vnd.docker.distribution.manifest.v2+json"
        )),
        Just(Value::from("attestation-manifest")),
        Just(Value::from("")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                "mediaType|manifests|digest|subject|platform|annotations|\\PC{0,6}",
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The digest strings of the input's `manifests`, when it is a list.
fn input_children(v: &Value) -> Option<Vec<String>> {
    v.get("manifests")?
        .as_array()?
        .iter()
        .map(|d| {
            d.get("digest")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
        })
        .collect()
}

/// The parser's contract on one document.
fn check_manifest(v: &Value, content_type: Option<&str>) -> Result<(), TestCaseError> {
    let digest = Digest::parse(&format!("sha256:{}", hex('f'))).unwrap();
    let body = serde_json::to_vec(v).unwrap();
    match parse_manifest(&digest, content_type, &body) {
        Ok(node) => {
            prop_assert_eq!(&node.digest, &digest);
            let got: Vec<String> = node
                .children
                .iter()
                .map(|c| c.digest.as_str().to_string())
                .collect();
            match v.get("manifests") {
                None | Some(Value::Null) => prop_assert!(got.is_empty()),
                Some(_) => {
                    let children = input_children(v);
                    prop_assert_eq!(Some(&got), children.as_ref(), "children of {}", v);
                }
            }
            let subject = v
                .pointer("/subject/digest")
                .and_then(Value::as_str)
                .map(str::to_lowercase);
            match v.get("subject") {
                None | Some(Value::Null) => prop_assert_eq!(node.subject, None),
                Some(_) => prop_assert_eq!(
                    node.subject.as_ref().map(|s| s.as_str().to_string()),
                    subject,
                    "subject of {}",
                    v
                ),
            }
            if node.kind == ManifestKind::Index {
                prop_assert!(node.media_type.ends_with("+json"), "{}", node.media_type);
            }
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

const EXAMPLES: &[&str] = &[
    include_str!("../../../examples/deploy-sha.yaml"),
    include_str!("../../../examples/releases.yaml"),
    include_str!("../../../examples/research-group.yaml"),
    include_str!("../../../examples/supply-chain.yaml"),
];

/// What can go in place of a YAML value.
fn yaml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("true".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("18446744073709551616".to_string()),
        Just("30d".to_string()),
        Just("1w2d3h".to_string()),
        Just("\"re:(\"".to_string()),
        Just("\"re:pr-(\\\\d+)\"".to_string()),
        Just("[latest, \"v*\", \"!dev\"]".to_string()),
        Just("{count: 2, per: \"re:v(\\\\d+)\"}".to_string()),
        Just("{count: 2, level: minor}".to_string()),
        Just("untagged".to_string()),
        Just("delete".to_string()),
        Just("keep".to_string()),
        Just("&a [x]".to_string()),
        Just("*a".to_string()),
        Just("!!binary aGk=".to_string()),
        Just("|\n      multi\n      line".to_string()),
        (1usize..2_000).prop_map(|n| "é".repeat(n)),
        "\\PC{0,16}",
        "\"\\PC{0,12}\"",
    ]
}

fn yaml_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "name|action|tags|packages|state|labels|older_than|newer_than|keep_newest|semver_lines|pull_request|digests|orphans|broken|timestamp|version|rules",
        "[a-z_]{1,10}",
    ]
}

#[derive(Clone, Debug)]
enum Edit {
    Delete,
    Duplicate,
    Indent(bool),
    Value(String),
    Insert(String, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => Just(Edit::Delete),
        1 => Just(Edit::Duplicate),
        1 => any::<bool>().prop_map(Edit::Indent),
        3 => yaml_value().prop_map(Edit::Value),
        2 => (yaml_key(), yaml_value()).prop_map(|(k, v)| Edit::Insert(k, v)),
    ]
}

fn apply_edit(lines: &mut Vec<String>, at: usize, e: &Edit) {
    if lines.is_empty() {
        return;
    }
    let at = at % lines.len();
    match e {
        Edit::Delete => {
            lines.remove(at);
        }
        Edit::Duplicate => {
            let l = lines[at].clone();
            lines.insert(at, l);
        }
        Edit::Indent(more) => {
            let l = &mut lines[at];
            if *more {
                l.insert_str(0, "  ");
            } else if let Some(rest) = l.strip_prefix("  ") {
                *l = rest.to_string();
            }
        }
        Edit::Value(v) => {
            if let Some((key, _)) = lines[at].split_once(": ") {
                lines[at] = format!("{key}: {v}");
            }
        }
        Edit::Insert(k, v) => {
            let indent: String = lines[at]
                .chars()
                .take_while(|c| *c == ' ' || *c == '-')
                .collect();
            let indent = indent.replace('-', " ");
            lines.insert(at + 1, format!("{indent}{k}: {v}"));
        }
    }
}

fn mutated_policy() -> impl Strategy<Value = String> {
    (
        prop::sample::select(EXAMPLES),
        prop::collection::vec((any::<usize>(), edit()), 0..4),
    )
        .prop_map(|(text, edits)| {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for (at, e) in &edits {
                apply_edit(&mut lines, *at, e);
            }
            lines.join("\n") + "\n"
        })
}

fn check_policy(text: &str) -> Result<(), TestCaseError> {
    if let Ok(p) = parse(text) {
        let rendered = render(&p);
        match parse(&rendered) {
            Ok(again) => prop_assert_eq!(again, p, "{}\nrendered:\n{}", text, rendered),
            Err(e) => prop_assert!(false, "render(p) does not parse: {e}\n{rendered}"),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_manifest_mutated_documents(v in mutated(manifest_bases(), replacement()), ct in content_type()) {
        check_manifest(&v, ct.as_deref())?;
    }

    #[test]
    fn fuzz_manifest_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), ct in content_type()) {
        let digest = Digest::parse(&format!("sha256:{}", hex('f'))).unwrap();
        let _ = parse_manifest(&digest, ct.as_deref(), &bytes);
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            check_manifest(&v, ct.as_deref())?;
        }
    }


    #[test]
    fn fuzz_policy_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_policy(&String::from_utf8_lossy(&bytes))?;
    }
}

proptest! {
    // A policy parse compiles its patterns (about 30 ms a case unoptimised): a quarter
    // of the cases keeps CI's longer run short.
    #![proptest_config(ProptestConfig { cases: (config().cases / 4).max(64), ..config() })]

    #[test]
    fn fuzz_policy_mutated_examples_round_trip(text in mutated_policy()) {
        check_policy(&text)?;
    }
}

#[test]
fn fuzz_manifest_and_policy_bases_parse() {
    for v in manifest_bases() {
        check_manifest(&v, None).unwrap();
        let digest = Digest::parse(&format!("sha256:{}", hex('f'))).unwrap();
        parse_manifest(&digest, None, v.to_string().as_bytes()).unwrap();
    }
    for text in EXAMPLES {
        let p = parse(text).unwrap();
        assert_eq!(parse(&render(&p)).unwrap(), p);
    }
}
