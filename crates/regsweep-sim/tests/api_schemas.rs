//! Every list and get body validates against GitHub's schemas.

mod common;

use common::*;

fn validator(file: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn check(v: &jsonschema::Validator, body: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{body:#}");
}

#[tokio::test]
async fn list_and_get_bodies_match_github_schemas() {
    let sim = start().await;
    let pkg = validator("package.schema.json");
    let ver = validator("package-version.schema.json");
    for prefix in ["", "/api/v3"] {
        for owner in ["/orgs/acme", "/user", "/users/octocat"] {
            let (status, list) = get_json(
                &sim,
                ADMIN,
                &format!("{prefix}{owner}/packages?package_type=container"),
            )
            .await;
            assert_eq!(status, 200, "{owner}");
            let list = list.as_array().expect("array").clone();
            assert!(!list.is_empty(), "{owner} has packages");
            for p in &list {
                check(&pkg, p, "package in list");
                let name = p["name"].as_str().unwrap();
                let enc = name.replace('/', "%2F");
                let url = p["url"].as_str().unwrap();
                assert!(
                    url.ends_with(&format!("/packages/container/{enc}")),
                    "{url}"
                );
                let (s, got) = get_json(
                    &sim,
                    ADMIN,
                    &format!("{prefix}{owner}/packages/container/{enc}"),
                )
                .await;
                assert_eq!(s, 200);
                check(&pkg, &got, "package");
                for state in ["active", "deleted"] {
                    let (s, versions) = get_json(
                        &sim,
                        ADMIN,
                        &format!("{prefix}{owner}/packages/container/{enc}/versions?state={state}"),
                    )
                    .await;
                    assert_eq!(s, 200);
                    for v in versions.as_array().unwrap() {
                        check(&ver, v, "version in list");
                        assert_eq!(v["deleted_at"].is_string(), state == "deleted");
                        let id = v["id"].as_u64().unwrap();
                        let (s, one) = get_json(
                            &sim,
                            ADMIN,
                            &format!("{prefix}{owner}/packages/container/{enc}/versions/{id}"),
                        )
                        .await;
                        assert_eq!(s, 200);
                        check(&ver, &one, "version");
                        assert!(one["name"].as_str().unwrap().starts_with("sha256:"));
                        assert!(one["metadata"]["container"]["tags"].is_array());
                    }
                }
            }
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn urls_follow_the_base_the_request_used() {
    let sim = start().await;
    let base = api_base(&sim);
    let (_, list) = get_json(
        &sim,
        ADMIN,
        "/api/v3/orgs/acme/packages/container/team%2Fworker/versions",
    )
    .await;
    let url = list[0]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{base}/api/v3/orgs/acme/packages/container/team%2Fworker/versions/"
        )),
        "{url}"
    );
    sim.shutdown().await;
}

/// The schema's properties at `pointer` (`/properties`, `/properties/metadata/properties`).
fn schema_fields(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
    schema
        .pointer(pointer)
        .and_then(|p| p.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Version objects carry every field GitHub sends (not only the required ones), so
/// listing is measured on realistic bytes. `deleted_at` only on deleted versions;
/// `metadata.docker` belongs to `package_type: docker`, not to containers.
#[tokio::test]
async fn version_bodies_fill_every_field_of_the_schema() {
    let sim = start().await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/package-version.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let top = schema_fields(&schema, "/properties");
    let metadata = schema_fields(&schema, "/properties/metadata/properties");
    assert!(top.len() >= 10 && metadata.contains(&"container".to_string()));
    let (status, list) = get_json(&sim, ADMIN, "/orgs/acme/packages/container/app/versions").await;
    assert_eq!(status, 200);
    let list = list.as_array().expect("array");
    assert!(!list.is_empty());
    for v in list {
        for field in top.iter().filter(|f| f.as_str() != "deleted_at") {
            let value = &v[field.as_str()];
            assert!(
                !value.is_null() && value.as_str() != Some(""),
                "`{field}` is missing or empty in {v:#}"
            );
        }
        for field in metadata.iter().filter(|f| f.as_str() != "docker") {
            assert!(
                !v["metadata"][field.as_str()].is_null(),
                "`metadata.{field}` in {v:#}"
            );
        }
        assert_eq!(v["metadata"]["package_type"], "container");
        assert!(v["metadata"]["container"]["tags"].is_array());
    }
    sim.shutdown().await;
}
