//! A content-addressed disk cache of manifests and config blobs, shared between runs
//! and processes.
//!
//! One file per digest, `<dir>/<algorithm>/<hex>`, holding a header line, the media
//! type and the exact bytes. Every read is verified against the digest: a corrupt or
//! truncated file is ignored (and later overwritten). Writes go to a unique temporary
//! file then are renamed into place, so concurrent processes never see half a file.
//! Cache failures are logged and never fail an operation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use regsweep_core::Digest;

use crate::digest::verify_digest;

const MAGIC: &str = "regsweep-oci-cache v1";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A cache directory.
#[derive(Clone, Debug)]
pub struct DiskCache {
    dir: PathBuf,
}

/// A cached entry: media type and verified bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedEntry {
    pub media_type: String,
    pub body: Bytes,
}

impl DiskCache {
    /// A cache rooted at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DiskCache { dir: dir.into() }
    }

    /// The file for `digest`.
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.algorithm()).join(digest.hex())
    }

    /// The entry for `digest`, if present and intact.
    pub async fn get(&self, digest: &Digest) -> Option<CachedEntry> {
        let path = self.path_of(digest);
        let raw = match tokio::fs::read(&path).await {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the manifest cache; fetching instead");
                return None;
            }
        };
        let entry = decode(&raw);
        match entry {
            Some(entry) if verify_digest(digest, &entry.body).is_ok() => Some(entry),
            _ => {
                tracing::warn!(path = %path.display(), "ignoring a corrupt manifest cache file; fetching instead");
                None
            }
        }
    }

    /// Stores `body` under `digest` (the caller has verified it).
    pub async fn put(&self, digest: &Digest, media_type: &str, body: &[u8]) {
        let path = self.path_of(digest);
        if let Err(e) = write_atomically(&path, &encode(media_type, body)).await {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the manifest cache");
        }
    }
}

fn encode(media_type: &str, body: &[u8]) -> Vec<u8> {
    let media_type: String = media_type.chars().filter(|c| *c != '\n').collect();
    let mut out = Vec::with_capacity(MAGIC.len() + media_type.len() + body.len() + 2);
    out.extend_from_slice(MAGIC.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(media_type.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

fn decode(raw: &[u8]) -> Option<CachedEntry> {
    let rest = raw.strip_prefix(MAGIC.as_bytes())?.strip_prefix(b"\n")?;
    let nl = rest.iter().position(|b| *b == b'\n')?;
    let media_type = std::str::from_utf8(&rest[..nl]).ok()?.to_string();
    Some(CachedEntry {
        media_type,
        body: Bytes::copy_from_slice(&rest[nl + 1..]),
    })
}

async fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("cache path has no parent"))?;
    tokio::fs::create_dir_all(dir).await?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    if let Err(e) = tokio::fs::write(&tmp, contents).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    if let Err(e) = tokio::fs::rename(&tmp, path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_digest;

    #[tokio::test]
    async fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path());
        let body = br#"{"schemaVersion":2}"#;
        let d = sha256_digest(body);
        assert_eq!(cache.get(&d).await, None);
        cache
            .put(&d, "application/vnd.oci.image.manifest.v1+json", body)
            .await;
        let got = cache.get(&d).await.unwrap();
        assert_eq!(got.media_type, "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(&got.body[..], body);

        // Corrupt body: ignored.
        let path = cache.path_of(&d);
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] = b'x';
        std::fs::write(&path, &raw).unwrap();
        assert_eq!(cache.get(&d).await, None);
        // Garbage: ignored. Empty: ignored.
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(cache.get(&d).await, None);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(cache.get(&d).await, None);
        // Rewritten: good again, and no temporary files left behind.
        cache.put(&d, "x", body).await;
        assert!(cache.get(&d).await.is_some());
        let leftovers = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .map(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                    .unwrap_or(false)
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn empty_body_and_media_type() {
        let e = decode(&encode("", b"")).unwrap();
        assert_eq!(e.media_type, "");
        assert!(e.body.is_empty());
        assert_eq!(decode(&encode("a\nb", b"x")).unwrap().media_type, "ab");
    }
}
