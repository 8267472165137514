//! The client against a real registry (CNCF Distribution, started per test).

use std::collections::BTreeMap;

use regsweep_core::graph::{ManifestKind, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use regsweep_core::Digest;
use regsweep_oci::{Auth, OciError, OciOptions, RegistryClient};
use regsweep_sim::LocalRegistry;
use regsweep_testimage::{parse_platform, push_image, ImageSpec, Pusher, Role};

fn registry() -> LocalRegistry {
    LocalRegistry::start().expect("registry starts (apt-get install docker-registry)")
}

/// Pushes test images (the client under test never pushes).
fn pusher(reg: &LocalRegistry) -> Pusher {
    Pusher::new(reg.url().clone())
}

fn client(reg: &LocalRegistry) -> RegistryClient {
    client_with(reg, OciOptions::default())
}

fn client_with(reg: &LocalRegistry, options: OciOptions) -> RegistryClient {
    RegistryClient::new(reg.url().clone(), Auth::Anonymous, options).unwrap()
}

/// What the labels of a pushed platform image read back as: the config's labels,
/// plus its `created` under the OCI annotation key.
fn config_labels() -> BTreeMap<String, String> {
    let mut l = labels();
    l.insert(
        regsweep_core::graph::CREATED_LABEL.to_string(),
        "2024-01-01T00:00:00Z".to_string(),
    );
    l
}

fn labels() -> BTreeMap<String, String> {
    [
        (
            "org.opencontainers.image.source",
            "https://github.com/acme/app",
        ),
        ("org.opencontainers.image.revision", "abc123"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn full_spec(seed: u64) -> ImageSpec {
    ImageSpec {
        platforms: vec![
            parse_platform("linux/amd64").unwrap(),
            parse_platform("linux/arm64/v8").unwrap(),
        ],
        buildx_attestations: true,
        labels: labels(),
        signature: true,
        attestation_tag: true,
        sbom_tag: true,
        referrer: true,
        seed,
        ..ImageSpec::default()
    }
}

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn multi_arch_image_graph_has_every_edge() {
    let reg = registry();
    let c = client(&reg);
    let img = push_image(
        &pusher(&reg),
        "acme/app",
        &tags(&["v1", "latest"]),
        &full_spec(1),
    )
    .await
    .unwrap();
    assert_eq!(img.root.role, Role::Index);
    assert_eq!(img.root.tag.as_deref(), Some("v1"));
    assert_eq!(img.manifests.len(), 2 + 2 + 1 + 4);

    // Tags: the root's, and the cosign artifacts' named after the root digest.
    let mut listed = c.list_tags("acme/app").await.unwrap();
    listed.sort();
    let hex = img.root.digest.hex();
    let mut want = vec![
        "latest".to_string(),
        "v1".to_string(),
        format!("sha256-{hex}.att"),
        format!("sha256-{hex}.sbom"),
        format!("sha256-{hex}.sig"),
    ];
    want.sort();
    assert_eq!(listed, want);

    // By tag: the root, verified.
    let got = c.get_manifest("acme/app", "v1").await.unwrap().unwrap();
    assert_eq!(got.digest, img.root.digest);
    assert_eq!(got.media_type, OCI_INDEX);
    assert_eq!(got.body, img.root.body);
    let (d, mt) = c
        .head_manifest("acme/app", "latest")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d, mt.as_str()), (img.root.digest.clone(), OCI_INDEX));
    assert_eq!(c.head_manifest("acme/app", "nope").await.unwrap(), None);
    assert_eq!(c.get_manifest("acme/app", "nope").await.unwrap(), None);

    // The graph from the root, the referrer and the signature.
    let referrer = img.find(|r| *r == Role::Referrer).unwrap();
    let signature = img.find(|r| *r == Role::Signature).unwrap();
    let g = c
        .read_graph(
            "acme/app",
            &[
                img.root.digest.clone(),
                referrer.digest.clone(),
                signature.digest.clone(),
            ],
            true,
        )
        .await
        .unwrap();
    assert!(g.missing.is_empty());
    assert_eq!(g.nodes.len(), 1 + 2 + 2 + 2);
    let root = g.get(&img.root.digest).unwrap();
    assert_eq!(root.kind, ManifestKind::Index);
    assert_eq!(root.children.len(), 4);
    let platforms = img.platforms();
    for (i, p) in platforms.iter().enumerate() {
        let child = &root.children[i];
        assert_eq!(child.digest, p.digest);
        let Role::Platform(want) = &p.role else {
            unreachable!()
        };
        assert_eq!(child.platform.as_ref(), Some(want));
        assert_eq!(child.attests, None);
        let node = g.get(&p.digest).unwrap();
        assert_eq!(node.kind, ManifestKind::Manifest);
        assert_eq!(node.media_type, OCI_MANIFEST);
        // Labels read from the config blob.
        assert_eq!(node.annotations, config_labels());
    }
    assert_eq!(
        root.children[1].platform.as_ref().unwrap().to_string(),
        "linux/arm64/v8"
    );
    for (i, p) in platforms.iter().enumerate() {
        let att = &root.children[2 + i];
        assert_eq!(att.attests.as_ref(), Some(&p.digest));
        assert!(att.platform.as_ref().unwrap().is_unknown());
        let pushed = img
            .find(|r| matches!(r, Role::BuildxAttestation { of } if of == &p.digest))
            .unwrap();
        assert_eq!(att.digest, pushed.digest);
        assert!(g.get(&att.digest).is_some());
    }
    // The index's labels are its annotations.
    assert_eq!(root.annotations, labels());
    let r = g.get(&referrer.digest).unwrap();
    assert_eq!(r.subject.as_ref(), Some(&img.root.digest));
    assert_eq!(r.artifact_type.as_deref(), Some("application/spdx+json"));
    assert!(r
        .annotations
        .contains_key("org.opencontainers.image.created"));
    assert_eq!(g.get(&signature.digest).unwrap().subject, None);

    // Distribution 2.8 has no referrers API.
    assert_eq!(
        c.referrers("acme/app", &img.root.digest).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn nested_index_is_read_recursively() {
    let reg = registry();
    let c = client(&reg);
    let spec = ImageSpec {
        nested: true,
        ..ImageSpec::with_platforms(&["linux/amd64", "linux/arm/v7"])
    };
    let img = push_image(&pusher(&reg), "acme/nested", &tags(&["v1"]), &spec)
        .await
        .unwrap();
    let inner = img.find(|r| *r == Role::NestedIndex).unwrap();
    let g = c
        .read_graph("acme/nested", std::slice::from_ref(&img.root.digest), false)
        .await
        .unwrap();
    assert_eq!(g.nodes.len(), 4);
    let outer = g.get(&img.root.digest).unwrap();
    assert_eq!(outer.children.len(), 1);
    assert_eq!(outer.children[0].digest, inner.digest);
    let inner_node = g.get(&inner.digest).unwrap();
    assert_eq!(inner_node.kind, ManifestKind::Index);
    let children: Vec<&Digest> = inner_node.children.iter().map(|c| &c.digest).collect();
    let platforms: Vec<&Digest> = img.platforms().iter().map(|m| &m.digest).collect();
    assert_eq!(children, platforms);
    // Children before parents in push order.
    let pos = |d: &Digest| img.manifests.iter().position(|m| &m.digest == d).unwrap();
    assert!(pos(platforms[0]) < pos(&inner.digest));
    assert!(pos(&inner.digest) < pos(&img.root.digest));
}

#[tokio::test]
async fn docker_media_types() {
    let reg = registry();
    let c = client(&reg);
    let spec = ImageSpec {
        docker_media_types: true,
        labels: labels(),
        ..ImageSpec::with_platforms(&["linux/amd64", "linux/arm64"])
    };
    let img = push_image(&pusher(&reg), "acme/docker", &tags(&["v1"]), &spec)
        .await
        .unwrap();
    assert_eq!(img.root.media_type, DOCKER_LIST);
    let fetched = c.get_manifest("acme/docker", "v1").await.unwrap().unwrap();
    assert_eq!(fetched.media_type, DOCKER_LIST);
    let g = c
        .read_graph("acme/docker", std::slice::from_ref(&img.root.digest), true)
        .await
        .unwrap();
    let root = g.get(&img.root.digest).unwrap();
    assert_eq!(root.kind, ManifestKind::Index);
    assert_eq!(root.children.len(), 2);
    for p in img.platforms() {
        let n = g.get(&p.digest).unwrap();
        assert_eq!(n.media_type, DOCKER_MANIFEST);
        assert_eq!(n.annotations, config_labels());
    }
}

#[tokio::test]
async fn single_platform_untagged_image() {
    let reg = registry();
    let c = client(&reg);
    let img = push_image(&pusher(&reg), "acme/one", &[], &ImageSpec::default())
        .await
        .unwrap();
    assert_eq!(img.manifests.len(), 1);
    assert_eq!(img.root.tag, None);
    assert!(matches!(img.root.role, Role::Platform(_)));
    // Nothing tagged: Distribution does not know the name in tags/list (404
    // NAME_UNKNOWN), which the client reports as NotFound rather than guessing.
    let err = c.list_tags("acme/one").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let got = c
        .get_manifest("acme/one", img.root.digest.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.body, img.root.body);
}

#[tokio::test]
async fn delete_by_digest_removes_manifest_and_tags() {
    let reg = registry();
    let c = client(&reg);
    let keep = push_image(&pusher(&reg), "acme/del", &tags(&["keep"]), &full_spec(7))
        .await
        .unwrap();
    let img = push_image(
        &pusher(&reg),
        "acme/del",
        &tags(&["a", "b"]),
        &ImageSpec::with_platforms(&["linux/amd64", "linux/arm64"]),
    )
    .await
    .unwrap();
    // Read it first, so the memory cache holds it.
    assert!(c
        .read_node("acme/del", &img.root.digest)
        .await
        .unwrap()
        .is_some());

    c.delete_manifest("acme/del", &img.root.digest)
        .await
        .unwrap();
    assert_eq!(
        c.get_manifest("acme/del", img.root.digest.as_str())
            .await
            .unwrap(),
        None
    );
    assert_eq!(c.get_manifest("acme/del", "a").await.unwrap(), None);
    let listed = c.list_tags("acme/del").await.unwrap();
    assert!(!listed.contains(&"a".to_string()) && !listed.contains(&"b".to_string()));
    assert!(listed.contains(&"keep".to_string()));
    // The children are still there (deleting an index does not cascade).
    let g = c
        .read_graph("acme/del", &img.digests(), false)
        .await
        .unwrap();
    assert_eq!(g.missing, vec![img.root.digest.clone()]);
    assert_eq!(g.nodes.len(), 2);
    // Deleting again: 404.
    let again = c
        .delete_manifest("acme/del", &img.root.digest)
        .await
        .unwrap_err();
    assert!(again.is_not_found(), "{again}");
    assert!(again
        .to_string()
        .contains("DELETE /v2/acme/del/manifests/sha256:"));

    // By tag: refused before any request.
    let before = c.stats().requests;
    let err = c.delete_reference("acme/del", "keep").await.unwrap_err();
    assert!(matches!(err, OciError::DeleteByTag { .. }), "{err}");
    assert!(err.to_string().contains("by digest"));
    assert_eq!(c.stats().requests, before);
    assert!(c.get_manifest("acme/del", "keep").await.unwrap().is_some());
    // By digest given as text: deleted.
    c.delete_reference("acme/del", keep.root.digest.as_str())
        .await
        .unwrap();
    assert_eq!(c.get_manifest("acme/del", "keep").await.unwrap(), None);
}

#[tokio::test]
async fn memory_cache_and_coalescing() {
    let reg = registry();
    let pusher = pusher(&reg);
    let img = push_image(&pusher, "acme/cache", &tags(&["v1"]), &full_spec(3))
        .await
        .unwrap();

    let c = client(&reg);
    let first = c
        .read_node("acme/cache", &img.root.digest)
        .await
        .unwrap()
        .unwrap();
    let after_first = c.stats();
    assert_eq!(after_first.manifest_fetches, 1);
    let second = c
        .read_node("acme/cache", &img.root.digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, second);
    let after_second = c.stats();
    assert_eq!(after_second.requests, after_first.requests);
    assert_eq!(after_second.manifest_fetches, 1);
    assert_eq!(after_second.cache_hits, after_first.cache_hits + 1);

    // Many concurrent readers of one digest: one request.
    let c = client(&reg);
    let platform = img.platforms()[0].digest.clone();
    let reads = (0..16).map(|_| {
        let c = c.clone();
        let d = platform.clone();
        tokio::spawn(async move { c.read_node("acme/cache", &d).await })
    });
    for r in futures::future::join_all(reads).await {
        assert_eq!(r.unwrap().unwrap().unwrap().digest, platform);
    }
    assert_eq!(c.stats().manifest_fetches, 1);
    assert_eq!(c.stats().requests, 1);
    assert_eq!(c.stats().cache_hits, 15);

    // Labels are cached by config digest: the second read makes no request.
    let node = c.read_node("acme/cache", &platform).await.unwrap().unwrap();
    let l1 = c.read_labels("acme/cache", &node).await.unwrap();
    let n = c.stats().requests;
    let l2 = c.read_labels("acme/cache", &node).await.unwrap();
    assert_eq!(l1, config_labels());
    assert_eq!(l1, l2);
    assert_eq!(c.stats().requests, n);
}

#[tokio::test]
async fn disk_cache_is_reused_and_verified() {
    let reg = registry();
    let pusher = pusher(&reg);
    let img = push_image(&pusher, "acme/disk", &tags(&["v1"]), &full_spec(5))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = || OciOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..OciOptions::default()
    };
    let roots = [img.root.digest.clone()];

    let c1 = client_with(&reg, options());
    let g1 = c1.read_graph("acme/disk", &roots, true).await.unwrap();
    assert_eq!(c1.stats().manifest_fetches, 5);

    // A new client, same cache: no request at all.
    let c2 = client_with(&reg, options());
    let g2 = c2.read_graph("acme/disk", &roots, true).await.unwrap();
    assert_eq!(g1, g2);
    assert_eq!(c2.stats().requests, 0);
    assert!(c2.stats().cache_hits >= 5);

    // A corrupt file is ignored and refetched.
    let victim = img.platforms()[0].digest.clone();
    let path = dir.path().join("sha256").join(victim.hex());
    let mut raw = std::fs::read(&path).unwrap();
    let n = raw.len();
    raw[n - 2] ^= 1;
    std::fs::write(&path, raw).unwrap();
    let c3 = client_with(&reg, options());
    let g3 = c3.read_graph("acme/disk", &roots, true).await.unwrap();
    assert_eq!(g1, g3);
    assert_eq!(c3.stats().manifest_fetches, 1);
    // ... and rewritten, so the next client needs nothing again.
    let c4 = client_with(&reg, options());
    c4.read_graph("acme/disk", &roots, true).await.unwrap();
    assert_eq!(c4.stats().requests, 0);
}

#[tokio::test]
async fn missing_manifests_are_listed() {
    let reg = registry();
    let c = client(&reg);
    let img = push_image(
        &pusher(&reg),
        "acme/miss",
        &tags(&["v1"]),
        &ImageSpec::default(),
    )
    .await
    .unwrap();
    let ghost = regsweep_oci::sha256_digest(b"not pushed");
    let g = c
        .read_graph(
            "acme/miss",
            &[ghost.clone(), img.root.digest.clone()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(g.missing, vec![ghost.clone()]);
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(c.read_node("acme/miss", &ghost).await.unwrap(), None);
}

#[tokio::test]
async fn catalog_lists_repositories() {
    let reg = registry();
    let c = client(&reg);
    for repo in ["acme/a", "acme/b", "other"] {
        push_image(&pusher(&reg), repo, &tags(&["v1"]), &ImageSpec::default())
            .await
            .unwrap();
    }
    let mut repos = c.catalog().await.unwrap();
    repos.sort();
    assert_eq!(repos, vec!["acme/a", "acme/b", "other"]);
}

#[tokio::test]
async fn unknown_repository_tags_is_not_found() {
    let reg = registry();
    let c = client(&reg);
    let err = c.list_tags("acme/none").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("GET /v2/acme/none/tags/list"));
}

#[tokio::test]
async fn invalid_names_are_refused_without_requests() {
    let reg = registry();
    let c = client(&reg);
    assert!(matches!(
        c.get_manifest("Acme/App", "v1").await,
        Err(OciError::InvalidRepository { .. })
    ));
    assert!(matches!(
        c.get_manifest("acme/app", "../v1").await,
        Err(OciError::InvalidReference { .. })
    ));
    assert_eq!(c.stats().requests, 0);
}

#[tokio::test]
async fn hundreds_of_images_push_quickly() {
    let reg = registry();
    let c = client(&reg);
    let p = pusher(&reg);
    let pushes = (0..200u64).map(|seed| {
        let p = p.clone();
        async move {
            let spec = ImageSpec {
                seed,
                signature: seed % 3 == 0,
                ..ImageSpec::with_platforms(&["linux/amd64", "linux/arm64"])
            };
            push_image(&p, "acme/many", &[format!("v{seed}")], &spec).await
        }
    });
    let images = futures::future::try_join_all(pushes).await.unwrap();
    let distinct: std::collections::HashSet<_> =
        images.iter().map(|i| i.root.digest.clone()).collect();
    assert_eq!(distinct.len(), 200);
    assert!(c.list_tags("acme/many").await.unwrap().len() >= 200);
}
