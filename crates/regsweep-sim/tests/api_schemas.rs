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
