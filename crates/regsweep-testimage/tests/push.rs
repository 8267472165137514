//! The pusher against a real registry (CNCF Distribution, started per test).

use bytes::Bytes;
use regsweep_core::graph::OCI_MANIFEST;
use regsweep_sim::LocalRegistry;
use regsweep_testimage::{PushError, Pusher};
use sha2::{Digest as _, Sha256};

fn registry() -> LocalRegistry {
    LocalRegistry::start().expect("registry starts (apt-get install docker-registry)")
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[tokio::test]
async fn blobs_are_not_uploaded_twice() {
    let reg = registry();
    let data = Bytes::from_static(b"some layer bytes");
    let a = Pusher::new(reg.url().clone());
    let d = a.push_blob("acme/blobs", data.clone()).await.unwrap();
    assert_eq!(d.as_str(), sha256(&data));
    assert_eq!(a.requests(), 3); // HEAD, POST, PUT
    a.push_blob("acme/blobs", data.clone()).await.unwrap();
    assert_eq!(a.requests(), 3); // remembered
    let b = Pusher::new(reg.url().clone());
    b.push_blob("acme/blobs", data).await.unwrap();
    assert_eq!(b.requests(), 1); // HEAD found it
}

#[tokio::test]
async fn push_manifest_checks_its_digest_reference() {
    let reg = registry();
    let p = Pusher::new(reg.url().clone());
    let body = Bytes::from_static(b"{}");
    let other = sha256(b"other");
    let err = p
        .push_manifest("acme/x", &other, OCI_MANIFEST, body)
        .await
        .unwrap_err();
    assert!(matches!(err, PushError::DigestMismatch { .. }), "{err}");
    assert_eq!(p.requests(), 0);
}
