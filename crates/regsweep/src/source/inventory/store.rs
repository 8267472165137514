//! The inventory cache's files: one JSON file per package under
//! `CACHE_DIR/inventory/HOST/OWNER/`, holding the package's versions as listed
//! (ids, digests, tags, times; GitHub's listing order), the `version_count` GitHub
//! reported, and whether the listing was complete or interrupted (then the versions
//! are its first whole pages). Written whole to a temporary file and renamed, so a
//! reader sees the old file or the new one, never a torn one; a file that does not
//! parse, is of another format version, or names another API, owner or package is
//! ignored with a warning (the package is then listed in full). Versions are
//! written as compact arrays ([`Row`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use regsweep_core::{Digest, Version, VersionId};
use serde::{Deserialize, Serialize};
use url::Url;

/// The format name and version written; any other is ignored.
const FORMAT: &str = "regsweep-inventory";
const FORMAT_VERSION: u32 = 1;

/// What a cache file holds.
#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    format_version: u32,
    api_url: String,
    owner: String,
    package: String,
    /// The package's `version_count` as GitHub reported it for this listing.
    version_count: Option<u64>,
    /// `false`: an interrupted listing, `versions` being its first pages.
    complete: bool,
    saved_at: jiff::Timestamp,
    versions: Vec<Row>,
}

/// One version in a file, as a JSON array (a third of the size of GitHub's objects,
/// and quick to read): id, digest, tags, `created_at` and `updated_at` (each seconds
/// and nanoseconds), downloads.
type Row = (u64, Digest, Vec<String>, i64, i32, i64, i32, Option<u64>);

fn from_row((id, digest, tags, cs, cn, us, un, downloads): Row) -> Option<Version> {
    Some(Version {
        id: VersionId(id),
        digest,
        tags,
        created_at: jiff::Timestamp::new(cs, cn).ok()?,
        updated_at: jiff::Timestamp::new(us, un).ok()?,
        downloads,
    })
}

/// The versions of a [`FileRef`], written as [`Row`]s without copying them.
struct Rows<'a>(&'a [Version]);

impl Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|v| {
            (
                v.id.0,
                &v.digest,
                &v.tags,
                v.created_at.as_second(),
                v.created_at.subsec_nanosecond(),
                v.updated_at.as_second(),
                v.updated_at.subsec_nanosecond(),
                v.downloads,
            )
        }))
    }
}

/// [`File`] borrowed, for writing without copying the versions.
#[derive(Serialize)]
struct FileRef<'a> {
    format: &'a str,
    format_version: u32,
    api_url: &'a str,
    owner: &'a str,
    package: &'a str,
    version_count: Option<u64>,
    complete: bool,
    saved_at: jiff::Timestamp,
    versions: Rows<'a>,
}

/// A package's cached listing.
#[derive(Clone, Debug)]
pub struct Cached {
    /// The listing was complete (else: its first `versions.len()` entries, whole
    /// pages of 100).
    pub complete: bool,
    /// Newest first, as GitHub listed them.
    pub versions: Vec<Version>,
}

/// The cache files of one owner on one API.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
    api_url: String,
    owner: String,
}

/// `s` as one safe path segment: ASCII letters, digits, `.`, `_` and `-` kept,
/// every other byte `%XX` (a package name may hold `/`).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Store {
    /// The store for `owner` (the namespace, lower case) on the API at `api_url`.
    pub fn new(cache_dir: &Path, api_url: &Url, owner: &str) -> Store {
        let host = format!(
            "{}{}",
            api_url.host_str().unwrap_or("api"),
            api_url.port().map(|p| format!("-{p}")).unwrap_or_default()
        );
        Store {
            dir: cache_dir
                .join("inventory")
                .join(segment(&host))
                .join(segment(owner)),
            api_url: api_url.as_str().trim_end_matches('/').to_string(),
            owner: owner.to_string(),
        }
    }

    fn path(&self, package: &str) -> PathBuf {
        self.dir
            .join(format!("{}.json", segment(&package.to_lowercase())))
    }

    /// The cached listing of `package`, if there is a usable one. A file that cannot
    /// be used is reported (a warning) and ignored.
    pub fn load(&self, package: &str) -> Option<Cached> {
        let path = self.path(package);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.ignored(&path, &format!("it cannot be read: {e}"));
                return None;
            }
        };
        let parsed = serde_json::from_slice::<File>(&bytes);
        drop(bytes);
        let file = match parsed {
            Ok(f) => f,
            Err(e) => {
                self.ignored(&path, &format!("it is not an inventory cache file ({e})"));
                return None;
            }
        };
        if file.format != FORMAT || file.format_version != FORMAT_VERSION {
            self.ignored(
                &path,
                &format!(
                    "it is format `{} {}`; this regsweep reads `{FORMAT} {FORMAT_VERSION}`",
                    file.format, file.format_version
                ),
            );
            return None;
        }
        if file.api_url != self.api_url
            || file.owner != self.owner
            || !file.package.eq_ignore_ascii_case(package)
        {
            self.ignored(
                &path,
                &format!(
                    "it holds package `{}` of `{}` at {}, not `{package}` of `{}` at {}",
                    file.package, file.owner, file.api_url, self.owner, self.api_url
                ),
            );
            return None;
        }
        let versions: Option<Vec<Version>> = file.versions.into_iter().map(from_row).collect();
        let Some(versions) = versions else {
            self.ignored(&path, "it holds a time out of range");
            return None;
        };
        Some(Cached {
            complete: file.complete,
            versions,
        })
    }

    fn ignored(&self, path: &Path, why: &str) {
        tracing::warn!(
            "ignoring the inventory cache {}: {why}; listing the package in full (the file is rewritten after the listing)",
            path.display()
        );
    }

    /// Saves the listing of `package` (whole, atomically). A failure is a warning:
    /// the next run lists in full.
    pub fn save(
        &self,
        package: &str,
        version_count: Option<u64>,
        complete: bool,
        versions: &[Version],
    ) {
        let path = self.path(package);
        let file = FileRef {
            format: FORMAT,
            format_version: FORMAT_VERSION,
            api_url: &self.api_url,
            owner: &self.owner,
            package,
            version_count,
            complete,
            saved_at: jiff::Timestamp::now(),
            versions: Rows(versions),
        };
        if let Err(e) = write_atomically(&path, &file) {
            tracing::warn!(
                "could not save the inventory cache {}: {e}; the next run lists package `{package}` in full",
                path.display()
            );
        }
    }

    /// Forgets the cached listing of `package` (the next run lists it in full).
    pub fn forget(&self, package: &str) {
        let path = self.path(package);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                "could not remove the inventory cache {}: {e}; remove it by hand, or run with --no-inventory-cache",
                path.display()
            ),
        }
    }
}

fn write_atomically(path: &Path, file: &FileRef<'_>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    let result = (|| {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        serde_json::to_writer(&mut w, file)?;
        // Not fsynced: the rename makes the new file appear whole to readers, and a
        // file torn by a power cut fails to parse and is ignored (a full listing).
        w.flush()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> Store {
        Store::new(dir, &Url::parse("http://127.0.0.1:8080").unwrap(), "acme")
    }

    fn version(id: u64) -> Version {
        Version {
            id: VersionId(id),
            digest: Digest::from_sha256_hex(&format!("{id:064x}")).unwrap(),
            tags: vec![format!("t{id}")],
            created_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            updated_at: jiff::Timestamp::from_second(1_700_000_001).unwrap(),
            downloads: None,
        }
    }

    fn tempdir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("regsweep-inventory-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn saves_and_loads_a_package_with_a_slash() {
        let d = tempdir("roundtrip");
        let s = store(&d);
        s.save("team/app", Some(2), true, &[version(2), version(1)]);
        let c = s.load("team/app").unwrap();
        assert!(c.complete);
        assert_eq!(c.versions, vec![version(2), version(1)]);
        assert!(s.load("team%2Fapp").is_none(), "a different package");
        s.forget("team/app");
        assert!(s.load("team/app").is_none());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn torn_foreign_or_other_owner_files_are_ignored() {
        let d = tempdir("ignored");
        let s = store(&d);
        s.save("app", Some(1), true, &[version(1)]);
        let path = s.path("app");
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert!(s.load("app").is_none(), "torn");
        let text = String::from_utf8(good.clone()).unwrap();
        std::fs::write(
            &path,
            text.replace("\"format_version\":1", "\"format_version\":9"),
        )
        .unwrap();
        assert!(s.load("app").is_none(), "another format version");
        std::fs::write(&path, &good).unwrap();
        let other = Store::new(&d, &Url::parse("http://127.0.0.1:8080").unwrap(), "acme");
        assert!(other.load("app").is_some());
        let moved = Store {
            owner: "other".into(),
            ..s.clone()
        };
        assert!(moved.load("app").is_none(), "another owner");
        let _ = std::fs::remove_dir_all(&d);
    }
}
