//! GitHub's JSON bodies and their conversion into regsweep's model.
//!
//! Only the fields regsweep uses are read; unknown fields are ignored. Package and
//! version entries are read strictly: a field that is missing, null or of the wrong
//! type is an [`EntryError`] naming the field, never a default. In particular a
//! version without `metadata.container.tags` is not "untagged" (GitHub always sends
//! that array, empty when untagged): a caller must treat the package's inventory as
//! unknown rather than drop the entry or guess.
//!
//! A versions page is read straight from its bytes ([`versions_page`]): only the
//! fields planning needs are built, every other field (URLs, description, …) is
//! skipped unbuilt. A page that does not read that way is read again as JSON values
//! by [`version`], which names the field at fault: the same versions or the same
//! errors either way.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use jiff::Timestamp;
use regsweep_core::json_object::Object;
use regsweep_core::{Digest, Version, VersionId, Visibility};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::names::check_package_name;

/// A package as listed, reduced to what regsweep needs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PackageSummary {
    pub name: String,
    pub visibility: Option<Visibility>,
    pub version_count: Option<u64>,
}

/// A pull request, reduced to what retention policies need.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PullRequest {
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// The branch name of the pull request's head.
    pub head_ref: String,
    pub merged_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// GitHub always sends it; `None` when a server (an emulator, a proxy) leaves it out.
    pub updated_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct PullWire {
    number: u64,
    state: String,
    head: HeadWire,
    #[serde(default)]
    merged_at: Option<Timestamp>,
    #[serde(default)]
    closed_at: Option<Timestamp>,
    #[serde(default)]
    updated_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct HeadWire {
    #[serde(rename = "ref")]
    git_ref: String,
}

#[derive(Deserialize)]
pub(crate) struct UserWire {
    pub login: String,
}

/// Why one listed entry (a package or a version) cannot be read: which version, when
/// its id could be read, which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}`{field}` {problem}", id.map(|i| format!("version {i}: ")).unwrap_or_default())]
pub struct EntryError {
    /// The version id, when the entry has a readable one.
    pub id: Option<u64>,
    /// The field, as a path (`metadata.container.tags`); `entry` for the whole entry.
    pub field: String,
    /// What is wrong, e.g. "is missing" or "is a string, expected an array of tags".
    pub problem: String,
}

/// What a JSON value is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads fields of one entry, naming the field in every error.
struct Fields<'a> {
    id: Option<u64>,
    object: &'a Map<String, Value>,
    /// The path of `object` (`metadata.container`), empty at the top.
    at: &'static str,
}

impl<'a> Fields<'a> {
    fn top(value: &'a Value) -> Result<Self, EntryError> {
        match value {
            Value::Object(object) => Ok(Fields {
                id: None,
                object,
                at: "",
            }),
            other => Err(EntryError {
                id: None,
                field: "entry".to_string(),
                problem: format!("is {}, expected an object", kind(other)),
            }),
        }
    }

    fn path(&self, name: &str) -> String {
        if self.at.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.at)
        }
    }

    fn error(&self, name: &str, problem: String) -> EntryError {
        EntryError {
            id: self.id,
            field: self.path(name),
            problem,
        }
    }

    /// A field that must be present and not null.
    fn required(&self, name: &str, expected: &str) -> Result<&'a Value, EntryError> {
        match self.object.get(name) {
            None => Err(self.error(name, format!("is missing, expected {expected}"))),
            Some(Value::Null) => Err(self.error(name, format!("is null, expected {expected}"))),
            Some(v) => Ok(v),
        }
    }

    fn wrong(&self, name: &str, v: &Value, expected: &str) -> EntryError {
        self.error(name, format!("is {}, expected {expected}", kind(v)))
    }

    fn id(&self, name: &str) -> Result<u64, EntryError> {
        const EXPECTED: &str = "a positive integer";
        let v = self.required(name, EXPECTED)?;
        v.as_u64().filter(|&n| n > 0).ok_or_else(|| match v {
            Value::Number(n) => self.error(name, format!("is {n}, expected {EXPECTED}")),
            _ => self.wrong(name, v, EXPECTED),
        })
    }

    fn string(&self, name: &str) -> Result<&'a str, EntryError> {
        let v = self.required(name, "a string")?;
        v.as_str().ok_or_else(|| self.wrong(name, v, "a string"))
    }

    fn optional_string(&self, name: &str) -> Result<Option<&'a str>, EntryError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(name, v, "a string")),
        }
    }

    fn optional_count(&self, name: &str) -> Result<Option<u64>, EntryError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, v, "a count")),
        }
    }

    fn time(&self, name: &str) -> Result<Timestamp, EntryError> {
        let s = self.string(name)?;
        s.parse().map_err(|_| {
            self.error(
                name,
                format!("is `{}`, expected an RFC 3339 time", s.escape_debug()),
            )
        })
    }

    fn object(&self, name: &str, at: &'static str) -> Result<Fields<'a>, EntryError> {
        let v = self.required(name, "an object")?;
        match v {
            Value::Object(object) => Ok(Fields {
                id: self.id,
                object,
                at,
            }),
            _ => Err(self.wrong(name, v, "an object")),
        }
    }

    fn strings(&self, name: &str, expected: &str) -> Result<Vec<String>, EntryError> {
        let v = self.required(name, expected)?;
        let Value::Array(items) = v else {
            return Err(self.wrong(name, v, expected));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.wrong(&format!("{name}[{i}]"), other, "a string")),
            })
            .collect()
    }
}

fn visibility(s: &str) -> Option<Visibility> {
    match s {
        "public" => Some(Visibility::Public),
        "private" => Some(Visibility::Private),
        "internal" => Some(Visibility::Internal),
        _ => None,
    }
}

/// A package entry of a listing that cannot be read, with its name when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPackageEntry {
    pub name: Option<String>,
    pub error: EntryError,
}

/// One package entry. Its name must follow GitHub's package-name rules: it becomes
/// a URL segment.
pub fn package(value: &Value) -> Result<PackageSummary, EntryError> {
    let f = Fields::top(value)?;
    let name = f.string("name")?;
    check_package_name(name).map_err(|e| f.error("name", format!("is {e}")))?;
    Ok(PackageSummary {
        name: name.to_string(),
        visibility: f.optional_string("visibility")?.and_then(visibility),
        version_count: f.optional_count("version_count")?,
    })
}

/// The `name` of a package entry, when it has a string one (to name an entry that
/// cannot be read otherwise).
pub fn package_name(value: &Value) -> Option<&str> {
    value.get("name")?.as_str()
}

/// One version entry, converted to the model. Every field regsweep reads must be
/// there with its type: `id`, `name` (a manifest digest), `created_at`,
/// `updated_at` and `metadata.container.tags`.
pub fn version(value: &Value) -> Result<Version, EntryError> {
    let mut f = Fields::top(value)?;
    let id = f.id("id")?;
    f.id = Some(id);
    let name = f.string("name")?;
    let digest = Digest::parse(name).map_err(|_| {
        f.error(
            "name",
            format!(
                "is `{}`, expected a manifest digest (sha256:…): this is not a container image version",
                name.escape_debug()
            ),
        )
    })?;
    let created_at = f.time("created_at")?;
    let updated_at = f.time("updated_at")?;
    let container = f
        .object("metadata", "metadata")?
        .object("container", "metadata.container")?;
    let tags = container.strings("tags", "an array of tags (empty when untagged)")?;
    Ok(Version {
        id: VersionId(id),
        digest,
        tags,
        created_at,
        updated_at,
        downloads: None,
    })
}

/// A version entry, reduced to the fields planning needs; the others are skipped
/// unbuilt ([`IgnoredAny`]). A field given twice is read as the JSON value reading
/// of [`version`] reads it: the last one wins.
struct VersionWire<'a> {
    id: u64,
    name: Cow<'a, str>,
    created_at: Cow<'a, str>,
    updated_at: Cow<'a, str>,
    metadata: Object<MetadataWire>,
}

/// The top-level fields of a version entry that [`VersionWire`] reads.
enum VersionField {
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
    Metadata,
    Other,
}

impl<'de> Deserialize<'de> for VersionField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Key;
        impl Visitor<'_> for Key {
            type Value = VersionField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_bytes<E: serde::de::Error>(self, key: &[u8]) -> Result<VersionField, E> {
                Ok(match key {
                    b"id" => VersionField::Id,
                    b"name" => VersionField::Name,
                    b"created_at" => VersionField::CreatedAt,
                    b"updated_at" => VersionField::UpdatedAt,
                    b"metadata" => VersionField::Metadata,
                    _ => VersionField::Other,
                })
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<VersionField, E> {
                self.visit_bytes(key.as_bytes())
            }
        }
        // Bytes: serde_json then hands the key over as it is in the page, without
        // checking it is UTF-8 (the names compared against are ASCII).
        d.deserialize_bytes(Key)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for VersionWire<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Entry<'a> {
            type Value = VersionWire<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let (mut id, mut name, mut created_at, mut updated_at, mut metadata) =
                    (None, None, None, None, None);
                while let Some(key) = map.next_key::<VersionField>()? {
                    match key {
                        VersionField::Id => id = Some(map.next_value()?),
                        VersionField::Name => name = Some(map.next_value::<Borrowed<'a>>()?.0),
                        VersionField::CreatedAt => {
                            created_at = Some(map.next_value::<Borrowed<'a>>()?.0)
                        }
                        VersionField::UpdatedAt => {
                            updated_at = Some(map.next_value::<Borrowed<'a>>()?.0)
                        }
                        VersionField::Metadata => metadata = Some(map.next_value()?),
                        VersionField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let missing = || A::Error::custom("a field is missing");
                Ok(VersionWire {
                    id: id.ok_or_else(missing)?,
                    name: name.ok_or_else(missing)?,
                    created_at: created_at.ok_or_else(missing)?,
                    updated_at: updated_at.ok_or_else(missing)?,
                    metadata: metadata.ok_or_else(missing)?,
                })
            }
        }
        d.deserialize_map(Entry(PhantomData))
    }
}

/// A string borrowed from the page when it has no escapes.
struct Borrowed<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Borrowed<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wrap<'a>(#[serde(borrow)] Cow<'a, str>);
        Wrap::deserialize(d).map(|w| Borrowed(w.0))
    }
}

#[derive(Deserialize)]
struct MetadataWire {
    container: Object<ContainerWire>,
}

#[derive(Deserialize)]
struct ContainerWire {
    tags: Vec<String>,
}

/// A time as GitHub sends it (`2024-05-11T12:42:55Z`), read without jiff's general
/// parser; any other form, by jiff.
fn time(s: &str) -> Option<Timestamp> {
    regsweep_core::utc::parse(s).or_else(|| s.parse().ok())
}

impl VersionWire<'_> {
    /// The version, or `None` where [`version`] would refuse the entry.
    fn into_version(self) -> Option<Version> {
        if self.id == 0 {
            return None;
        }
        let mut tags = self.metadata.0.container.0.tags;
        // A `Vec` grown while reading has room for four tags; most versions have
        // one or two, and 100,000 of them would keep megabytes of spare room.
        tags.shrink_to_fit();
        Some(Version {
            id: VersionId(self.id),
            digest: Digest::parse(&self.name).ok()?,
            tags,
            created_at: time(&self.created_at)?,
            updated_at: time(&self.updated_at)?,
            downloads: None,
        })
    }
}

/// One page of a versions listing, read from its bytes: every entry converted to
/// the model, or the [`EntryError`] of each entry that cannot be; `Err` when the
/// page is not a JSON array. Equal to reading the page as JSON values and each
/// entry with [`version`], without building those values.
pub fn versions_page(body: &[u8]) -> Result<Vec<Result<Version, EntryError>>, serde_json::Error> {
    if let Ok(entries) = serde_json::from_slice::<Vec<VersionWire<'_>>>(body) {
        let fast: Option<Vec<Result<Version, EntryError>>> = entries
            .into_iter()
            .map(|e| e.into_version().map(Ok))
            .collect();
        if let Some(versions) = fast {
            return Ok(versions);
        }
    }
    let values: Vec<Value> = serde_json::from_slice(body)?;
    Ok(values.iter().map(version).collect())
}

/// One pull request entry.
pub fn pull(value: serde_json::Value) -> Result<PullRequest, serde_json::Error> {
    let p: PullWire = serde_json::from_value(value)?;
    Ok(PullRequest {
        number: p.number,
        state: p.state,
        head_ref: p.head.git_ref,
        merged_at: p.merged_at,
        closed_at: p.closed_at,
        updated_at: p.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: &str = include_str!("../testdata/list-container-versions.json");
    const PACKAGES: &str = include_str!("../testdata/list-packages-for-org.json");

    #[test]
    fn reference_versions_convert() {
        let values: Vec<serde_json::Value> = serde_json::from_str(VERSIONS).unwrap();
        let versions: Vec<Version> = values.iter().map(|v| version(v).unwrap()).collect();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].id, VersionId(214880827));
        assert_eq!(versions[0].tags, vec!["multi-arch", "v1.2.0"]);
        assert_eq!(
            versions[0].digest.as_str(),
            "sha256:e8530d7d4c44954276715032c027882a2569318bb7f79c5a4fce6c80c0c1018e"
        );
        assert_eq!(
            versions[0].created_at,
            "2024-05-11T12:42:55Z".parse::<Timestamp>().unwrap()
        );
        assert!(versions[1].tags.is_empty());
    }

    #[test]
    fn versions_page_reads_full_objects_from_bytes() {
        let page = versions_page(VERSIONS.as_bytes()).unwrap();
        let values: Vec<serde_json::Value> = serde_json::from_str(VERSIONS).unwrap();
        let slow: Vec<_> = values.iter().map(version).collect();
        assert_eq!(page, slow);
        assert!(page.iter().all(Result::is_ok));
    }

    #[test]
    fn versions_page_names_the_field_of_a_bad_entry() {
        let mut bad = entry();
        bad["metadata"]["container"] = serde_json::json!([["v1"]]);
        let text = serde_json::json!([entry(), bad, [6, digest()]]).to_string();
        let page = versions_page(text.as_bytes()).unwrap();
        assert!(page[0].is_ok());
        assert_eq!(page[1].as_ref().unwrap_err().field, "metadata.container");
        assert_eq!(page[2].as_ref().unwrap_err().field, "entry");
        assert!(versions_page(b"{}").is_err());
    }

    /// The page read from bytes agrees with the values reading on a field given
    /// twice (the last wins) and on an escaped field name.
    #[test]
    fn versions_page_reads_repeated_and_escaped_fields_like_values() {
        let d = digest();
        let text = format!(
            r#"[{{"id": 5, "id": 6, "n\u0061me": "{d}", "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-02T00:00:00Z", "url": "x\n",
                "metadata": {{"container": {{"tags": ["v\u0031"]}}}}}}]"#
        );
        let page = versions_page(text.as_bytes()).unwrap();
        let values: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(page, values.iter().map(version).collect::<Vec<_>>());
        let v = page[0].as_ref().unwrap();
        assert_eq!(
            (v.id, v.tags.as_slice()),
            (VersionId(6), &["v1".to_string()][..])
        );
    }

    #[test]
    fn reference_packages_convert() {
        let values: Vec<serde_json::Value> = serde_json::from_str(PACKAGES).unwrap();
        let packages: Vec<PackageSummary> = values.iter().map(|v| package(v).unwrap()).collect();
        assert_eq!(
            packages[0],
            PackageSummary {
                name: "hello_docker".into(),
                visibility: Some(Visibility::Private),
                version_count: Some(1),
            }
        );
    }

    fn digest() -> String {
        format!("sha256:{}", "a".repeat(64))
    }

    /// A well-formed tagged version entry.
    fn entry() -> Value {
        serde_json::json!({
            "id": 6, "name": digest(),
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z",
            "metadata": {"package_type": "container", "container": {"tags": ["v1"]}}
        })
    }

    /// `entry()` with the field at `pointer` set to `value`, or removed (`None`).
    fn with(pointer: &str, value: Option<Value>) -> Value {
        let mut v = entry();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let obj = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        match value {
            Some(x) => obj.insert(key.to_string(), x),
            None => obj.remove(key),
        };
        v
    }

    fn fails(v: &Value) -> (Option<u64>, String, String) {
        let e = version(v).expect_err("must not parse");
        (e.id, e.field, e.problem)
    }

    #[test]
    fn well_formed_entry_converts() {
        let v = version(&entry()).unwrap();
        assert_eq!(v.tags, vec!["v1"]);
        let untagged = with("/metadata/container/tags", Some(serde_json::json!([])));
        assert!(version(&untagged).unwrap().tags.is_empty());
    }

    #[test]
    fn tags_string_is_refused() {
        let v = with("/metadata/container/tags", Some(serde_json::json!("v1")));
        let (id, field, problem) = fails(&v);
        assert_eq!((id, field.as_str()), (Some(6), "metadata.container.tags"));
        assert!(problem.contains("is a string"), "{problem}");
        let err = version(&v).unwrap_err().to_string();
        assert!(
            err.starts_with("version 6: `metadata.container.tags` is a string"),
            "{err}"
        );
    }

    #[test]
    fn tag_not_a_string_is_refused() {
        let v = with(
            "/metadata/container/tags",
            Some(serde_json::json!(["v1", 2])),
        );
        assert_eq!(fails(&v).1, "metadata.container.tags[1]");
    }

    #[test]
    fn id_string_is_refused() {
        let (id, field, problem) = fails(&with("/id", Some(serde_json::json!("6"))));
        assert_eq!((id, field.as_str()), (None, "id"));
        assert!(problem.contains("is a string"), "{problem}");
        for bad in [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(1.5),
        ] {
            assert_eq!(fails(&with("/id", Some(bad))).1, "id");
        }
        assert_eq!(fails(&with("/id", None)).1, "id");
    }

    #[test]
    fn missing_metadata_is_not_untagged() {
        let (id, field, problem) = fails(&with("/metadata", None));
        assert_eq!((id, field.as_str()), (Some(6), "metadata"));
        assert!(problem.contains("missing"), "{problem}");
        assert_eq!(
            fails(&with("/metadata", Some(serde_json::json!({})))).1,
            "metadata.container"
        );
        assert_eq!(fails(&with("/metadata", Some(Value::Null))).1, "metadata");
    }

    #[test]
    fn null_container_metadata_is_not_untagged() {
        assert_eq!(
            fails(&with("/metadata/container", Some(Value::Null))).1,
            "metadata.container"
        );
        assert_eq!(
            fails(&with("/metadata/container", Some(serde_json::json!({})))).1,
            "metadata.container.tags"
        );
        assert_eq!(
            fails(&with("/metadata/container/tags", Some(Value::Null))).1,
            "metadata.container.tags"
        );
        assert_eq!(
            fails(&with("/metadata/container", Some(serde_json::json!([])))).1,
            "metadata.container"
        );
    }

    #[test]
    fn non_digest_name_is_refused() {
        let (id, field, problem) = fails(&with("/name", Some(serde_json::json!("latest"))));
        assert_eq!((id, field.as_str()), (Some(6), "name"));
        assert!(problem.contains("`latest`"), "{problem}");
        assert_eq!(fails(&with("/name", None)).1, "name");
    }

    #[test]
    fn bad_times_are_refused() {
        assert_eq!(
            fails(&with("/created_at", Some(serde_json::json!("yesterday")))).1,
            "created_at"
        );
        assert_eq!(fails(&with("/updated_at", None)).1, "updated_at");
    }

    #[test]
    fn entry_not_an_object_is_refused() {
        let (id, field, _) = fails(&serde_json::json!([1]));
        assert_eq!((id, field.as_str()), (None, "entry"));
    }

    #[test]
    fn package_entries_are_read_strictly() {
        let ok =
            serde_json::json!({"name": "team/app", "visibility": "public", "version_count": 3});
        assert_eq!(package(&ok).unwrap().version_count, Some(3));
        let bare = serde_json::json!({"name": "app"});
        assert_eq!(package(&bare).unwrap().visibility, None);
        for (bad, field) in [
            (serde_json::json!({"name": ".."}), "name"),
            (serde_json::json!({"name": "a\nb"}), "name"),
            (serde_json::json!({"name": 5}), "name"),
            (serde_json::json!({}), "name"),
            (
                serde_json::json!({"name": "app", "version_count": "3"}),
                "version_count",
            ),
            (
                serde_json::json!({"name": "app", "visibility": 1}),
                "visibility",
            ),
        ] {
            assert_eq!(package(&bad).unwrap_err().field, field, "{bad}");
        }
        assert_eq!(package_name(&serde_json::json!({"name": ".."})), Some(".."));
    }

    #[test]
    fn pull_converts() {
        let p = serde_json::json!({
            "number": 12, "state": "closed", "head": {"ref": "feature/x", "sha": "abc"},
            "merged_at": "2024-03-01T10:00:00Z", "closed_at": "2024-03-01T10:00:00Z",
            "updated_at": "2024-03-01T10:00:01Z", "title": "x"
        });
        let p = pull(p).unwrap();
        assert_eq!(p.number, 12);
        assert_eq!(p.head_ref, "feature/x");
        assert!(p.merged_at.is_some());
        let open = serde_json::json!({
            "number": 13, "state": "open", "head": {"ref": "main"},
            "merged_at": null, "closed_at": null, "updated_at": "2024-03-01T10:00:01Z"
        });
        let open = pull(open).unwrap();
        assert_eq!((open.merged_at, open.closed_at), (None, None));
        // A server leaving out updated_at is tolerated.
        let bare = serde_json::json!({"number": 14, "state": "open", "head": {"ref": "x"}});
        assert_eq!(pull(bare).unwrap().updated_at, None);
    }
}
