//! Fuzzing the listing parser (issue 12): structure-aware mutations of real GitHub
//! version and package entries, plus raw bytes.
//!
//! The entries are GitHub's documented examples (`testdata/`), mutated at any field:
//! removed, nulled, retyped, duplicated, made huge or unicode. Properties: the parser
//! never panics and is total (a version or an [`EntryError`] naming a field), and a
//! version that parses carries exactly the input's `metadata.container.tags`, id and
//! digest: an entry is never silently read as "untagged". `PROPTEST_CASES` raises the
//! case count (CI does, in `.ci/run`).

use proptest::prelude::*;
use serde_json::Value;

use crate::wire::{package, version, versions_page};

// The mutation engine is shared with regsweep-core's fuzz properties.
#[path = "../../regsweep-core/tests/support/json_mutation.rs"]
mod json_mutation;
use json_mutation::mutated;

const VERSIONS: &str = include_str!("../testdata/list-container-versions.json");
const ONE_VERSION: &str = include_str!("../testdata/package-version.json");
const NPM_VERSIONS: &str = include_str!("../testdata/list-package-versions-for-org.json");
const PACKAGES: &str = include_str!("../testdata/list-packages-for-org.json");

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES; 256 unless it is set.
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every version entry of the documented examples (container ones and npm ones).
fn version_bases() -> Vec<Value> {
    let mut out: Vec<Value> = serde_json::from_str(VERSIONS).unwrap();
    out.push(serde_json::from_str(ONE_VERSION).unwrap());
    out.extend(serde_json::from_str::<Vec<Value>>(NPM_VERSIONS).unwrap());
    out
}

fn package_bases() -> Vec<Value> {
    serde_json::from_str(PACKAGES).unwrap()
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
        (1usize..70_000).prop_map(|n| Value::from("x".repeat(n))),
        Just(Value::from(format!("sha256:{}", "A".repeat(64)))),
        Just(Value::from("2024-05-11T12:42:55Z")),
        Just(Value::from("2024-13-45T99:99:99Z")),
        Just(Value::from("")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("tags|container|metadata|id|name|\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The tags an entry carries, when `metadata.container.tags` is an array of strings.
fn input_tags(v: &Value) -> Option<Vec<String>> {
    v.pointer("/metadata/container/tags")?
        .as_array()?
        .iter()
        .map(|t| t.as_str().map(str::to_string))
        .collect()
}

/// The listing parser's contract on one entry.
fn check_version(v: &Value) -> Result<(), TestCaseError> {
    match version(v) {
        Ok(parsed) => {
            let tags = input_tags(v);
            prop_assert_eq!(Some(&parsed.tags), tags.as_ref(), "tags of {}", v);
            prop_assert_eq!(Some(parsed.id.0), v.get("id").and_then(Value::as_u64));
            let name = v.get("name").and_then(Value::as_str).map(str::to_lowercase);
            prop_assert_eq!(Some(parsed.digest.as_str()), name.as_deref());
        }
        Err(e) => {
            prop_assert!(!e.field.is_empty() && !e.problem.is_empty(), "{e:?}");
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

/// A page read straight from its bytes equals the page read as JSON values, entry by
/// entry: the same versions, the same errors naming the same fields.
fn check_page(text: &[u8]) -> Result<(), TestCaseError> {
    let slow = serde_json::from_slice::<Vec<Value>>(text)
        .map(|values| values.iter().map(version).collect::<Vec<_>>());
    match (versions_page(text), slow) {
        (Ok(fast), Ok(slow)) => prop_assert_eq!(fast, slow),
        (Err(_), Err(_)) => {}
        (fast, slow) => prop_assert!(false, "from bytes {fast:?}, from values {slow:?}"),
    }
    Ok(())
}

/// `text` with `"key": <extra>,` inserted before the first `"key":`, so the object
/// holds `key` twice (as a hostile server could send it).
fn with_duplicate_key(text: &str, key: &str, extra: &Value) -> String {
    let needle = format!("\"{key}\":");
    match text.find(&needle) {
        Some(at) => format!("{}{needle}{extra},{}", &text[..at], &text[at..]),
        None => text.to_string(),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_listing_mutated_version_entries(v in mutated(version_bases(), replacement())) {
        check_version(&v)?;
    }

    #[test]
    fn fuzz_listing_tags_field_mutated(
        base in prop::sample::select(version_bases()),
        tags in replacement(),
    ) {
        // Aim at the field that decides "untagged": every shape of `tags`.
        let mut v = base;
        if let Some(c) = v.pointer_mut("/metadata/container").and_then(Value::as_object_mut) {
            c.insert("tags".to_string(), tags);
        }
        check_version(&v)?;
    }

    #[test]
    fn fuzz_listing_duplicate_keys(
        base in prop::sample::select(version_bases()),
        key in "id|name|metadata|container|tags|created_at|updated_at",
        extra in replacement(),
    ) {
        let text = with_duplicate_key(&base.to_string(), &key, &extra);
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            check_version(&v)?;
        }
        check_page(format!("[{text}]").as_bytes())?;
    }

    #[test]
    fn fuzz_listing_pages_of_mutated_entries(
        entries in prop::collection::vec(mutated(version_bases(), replacement()), 0..6),
    ) {
        // A page as the client decodes it: the text of an array, read back.
        let text = Value::Array(entries).to_string();
        let page: Vec<Value> = serde_json::from_str(&text).unwrap();
        for v in &page {
            check_version(v)?;
        }
        check_page(text.as_bytes())?;
    }

    #[test]
    fn fuzz_listing_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_page(&bytes)?;
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            check_version(&v)?;
            let _ = package(&v);
            if let Value::Array(items) = &v {
                for item in items {
                    check_version(item)?;
                }
            }
        }
    }

    #[test]
    fn fuzz_listing_mutated_package_entries(v in mutated(package_bases(), replacement())) {
        match package(&v) {
            Ok(p) => {
                prop_assert_eq!(Some(p.name.as_str()), v.get("name").and_then(Value::as_str));
                prop_assert!(crate::check_package_name(&p.name).is_ok());
                let count = v.get("version_count").filter(|c| !c.is_null());
                prop_assert_eq!(p.version_count, count.and_then(Value::as_u64));
            }
            Err(e) => prop_assert!(!e.field.is_empty()),
        }
    }
}

#[test]
fn fuzz_listing_bases_parse() {
    // The documented container entries parse; the npm ones are refused, not untagged.
    for v in version_bases() {
        let container = v.pointer("/metadata/package_type") == Some(&Value::from("container"));
        assert_eq!(version(&v).is_ok(), container, "{v}");
    }
}
