//! Content digests of bytes, and checking that bytes match the digest they claim.
//!
//! Every manifest and blob regsweep reads is verified here before it is trusted or
//! cached: a registry (or a cache file) that hands back other bytes than the digest
//! names is an error, never silently accepted.

use regsweep_core::Digest;
use sha2::{Digest as _, Sha256, Sha512};

/// The `sha256:` digest of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> Digest {
    let hex = hex::encode(Sha256::digest(bytes));
    Digest::from_sha256_hex(&hex).expect("64 lowercase hex digits always form a digest")
}

/// The digest of `bytes` computed with `algorithm` (`sha256` or `sha512`); `None` for
/// an algorithm regsweep does not know.
pub fn digest_with(algorithm: &str, bytes: &[u8]) -> Option<Digest> {
    match algorithm {
        "sha256" => Some(sha256_digest(bytes)),
        "sha512" => Digest::parse(&format!("sha512:{}", hex::encode(Sha512::digest(bytes)))).ok(),
        _ => None,
    }
}

/// Bytes that do not match the digest they were fetched or stored under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("content digest mismatch: expected {expected}, the bytes hash to {actual}")]
pub struct DigestMismatch {
    pub expected: Digest,
    pub actual: String,
}

/// Checks that `bytes` hash to `expected` (with `expected`'s algorithm).
pub fn verify_digest(expected: &Digest, bytes: &[u8]) -> Result<(), DigestMismatch> {
    match digest_with(expected.algorithm(), bytes) {
        Some(actual) if &actual == expected => Ok(()),
        Some(actual) => Err(DigestMismatch {
            expected: expected.clone(),
            actual: actual.to_string(),
        }),
        None => Err(DigestMismatch {
            expected: expected.clone(),
            actual: format!("(unsupported algorithm `{}`)", expected.algorithm()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const BRACES_SHA256: &str =
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn known_sha256_values() {
        assert_eq!(sha256_digest(b"").as_str(), EMPTY_SHA256);
        assert_eq!(sha256_digest(b"{}").as_str(), BRACES_SHA256);
    }

    #[test]
    fn verification_table() {
        let braces = Digest::parse(BRACES_SHA256).unwrap();
        let empty = Digest::parse(EMPTY_SHA256).unwrap();
        let sha512_of_braces = digest_with("sha512", b"{}").unwrap();
        let cases: &[(&Digest, &[u8], bool)] = &[
            (&braces, b"{}", true),
            (&braces, b"{} ", false),
            (&braces, b"", false),
            (&empty, b"", true),
            (&empty, b"x", false),
            (&sha512_of_braces, b"{}", true),
            (&sha512_of_braces, b"[]", false),
        ];
        for (digest, body, ok) in cases {
            let got = verify_digest(digest, body);
            assert_eq!(
                got.is_ok(),
                *ok,
                "{digest} vs {:?}",
                String::from_utf8_lossy(body)
            );
            if let Err(e) = got {
                assert_eq!(&e.expected, *digest);
                assert!(e.to_string().contains("mismatch"));
            }
        }
    }

    #[test]
    fn unknown_algorithm() {
        assert!(digest_with("md5", b"x").is_none());
    }
}
