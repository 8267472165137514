//! The scenario: the simulated world as the user writes it (YAML), before anything is
//! pushed. Accounts, packages, images, tokens and pull requests.
//!
//! This module parses and validates scenario files and provides the bundled demo and
//! generated scenarios. It does no I/O beyond parsing text.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use regsweep_core::Visibility;
use serde::{Deserialize, Deserializer, Serialize};

/// A simulated world: tokens, accounts with their packages, and pull requests.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A frozen clock for ages; default: the real clock.
    #[serde(default)]
    pub now: Option<jiff::Timestamp>,
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    #[serde(default)]
    pub pulls: Vec<PullSpec>,
    /// An undisclosed limit on DELETEs per token per sliding minute, answered 429
    /// (`SimOptions::undisclosed_deletes_per_minute`, which wins when set).
    #[serde(default)]
    pub undisclosed_deletes_per_minute: Option<u32>,
}

/// How a token authenticates and what it may do. Decided by capability, never prefix.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    pub token: String,
    pub kind: TokenKind,
    /// The user a classic token belongs to (`/user`).
    #[serde(default)]
    pub user: Option<String>,
    /// Classic token scopes, e.g. `read:packages`, `delete:packages`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Actions token: packages (`account/package`) the workflow was given admin access to.
    #[serde(default)]
    pub grants: Vec<String>,
    /// App token: its `packages` permission on the accounts it is installed on.
    #[serde(default)]
    pub permission: AppPermission,
    /// App token: the accounts (organisations or users) it is installed on.
    #[serde(default)]
    pub installed_on: Vec<String>,
    /// Classic token: organisation packages (`account/package`) its user may read but
    /// not administer (a member who is not admin of them): deleting them is refused.
    #[serde(default)]
    pub not_admin_of: Vec<String>,
}

/// A GitHub App installation's `packages` permission.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppPermission {
    Read,
    #[default]
    Write,
}

/// Kinds of token the emulator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A classic personal access token with scopes.
    Classic,
    /// The Actions `GITHUB_TOKEN`: cannot list packages, reaches granted packages only.
    Actions,
    /// A GitHub App installation token: no `X-OAuth-Scopes` header; lists and reads
    /// the packages of the accounts it is installed on, deletes with `write`.
    App,
}

/// An organisation or a user and its container packages.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub name: String,
    #[serde(default)]
    pub kind: AccountKind,
    #[serde(default)]
    pub packages: Vec<PackageSpec>,
}

/// Organisation or user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    #[default]
    Org,
    User,
}

/// A container package.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// May contain `/` (e.g. `team/app`).
    pub name: String,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
    /// Images pushed into the backing registry, in order.
    #[serde(default)]
    pub images: Vec<ImageEntry>,
    /// Extra metadata-only versions with realistic tags.
    #[serde(default)]
    pub generate: Option<GenerateSpec>,
}

fn default_visibility() -> Visibility {
    Visibility::Private
}

/// One image as pushed by a build: its tags, age, platforms and companions.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntry {
    /// The name tests use to find what was pushed.
    pub handle: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// created_at = updated_at = now − age.
    #[serde(default, with = "age")]
    pub age: Duration,
    /// Overrides updated_at = now − updated_age.
    #[serde(default, with = "opt_age")]
    pub updated_age: Option<Duration>,
    /// `os/arch[/variant]`; two or more make a multi-arch index.
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub buildx_attestations: bool,
    #[serde(default)]
    pub nested: bool,
    /// Docker media types instead of OCI ones.
    #[serde(default)]
    pub docker: bool,
    /// cosign `sha256-<hex>.sig`.
    #[serde(default)]
    pub signature: bool,
    /// cosign `sha256-<hex>.att`.
    #[serde(default)]
    pub attestation_tag: bool,
    /// cosign `sha256-<hex>.sbom`.
    #[serde(default)]
    pub sbom_tag: bool,
    /// An untagged OCI 1.1 referrer (a manifest whose `subject` is the image).
    #[serde(default)]
    pub referrer: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Images of one package with the same `build` share the manifests of the
    /// platforms they have in common (as indexes assembled from one build do);
    /// default: the handle, so every image's manifests are its own.
    #[serde(default)]
    pub build: Option<String>,
    /// Downloads of the image's root version.
    #[serde(default)]
    pub downloads: u64,
    /// Pushed, then deleted this long ago (restore works within 30 days).
    #[serde(default, with = "opt_age")]
    pub deleted_age: Option<Duration>,
}

/// Metadata-only versions generated with realistic tags.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    pub versions: usize,
    #[serde(default)]
    pub seed: u64,
}

/// A pull request, for policies keyed on PR state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSpec {
    /// `owner/repo`.
    pub repo: String,
    pub number: u64,
    #[serde(default = "default_pull_state")]
    pub state: PullState,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub head_ref: Option<String>,
    #[serde(default)]
    pub merged_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub closed_at: Option<jiff::Timestamp>,
}

fn default_pull_state() -> PullState {
    PullState::Open
}

/// Pull request state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullState {
    Open,
    Closed,
}

/// Why a scenario could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario line {line}, column {column}: {message}\n  help: see crates/regsweep-sim/SCENARIOS.md for the format")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "scenario is invalid: {0}\n  help: see crates/regsweep-sim/SCENARIOS.md for the format"
    )]
    Invalid(String),
}

const DEMO: &str = include_str!("../scenarios/demo.yaml");

impl Scenario {
    /// Parses and validates a YAML scenario.
    pub fn from_yaml(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = serde_norway::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            ScenarioError::Syntax {
                line,
                column,
                message: e.to_string(),
            }
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The bundled sample (`scenarios/demo.yaml`): organisation `acme` with `app` and
    /// `team/worker`.
    pub fn demo() -> Self {
        Self::from_yaml(DEMO).unwrap_or_else(|e| {
            // The bundled file is checked by a test; never fail at run time.
            tracing::error!("bundled demo scenario is invalid: {e}");
            Scenario::default()
        })
    }

    /// A metadata-only organisation `account` with `packages` packages of `versions`
    /// versions each (for benchmarks), and a classic admin token `ghp_admin`.
    pub fn generated(account: &str, packages: usize, versions: usize, seed: u64) -> Self {
        let packages = (0..packages)
            .map(|i| PackageSpec {
                name: format!("service-{i:03}"),
                visibility: Visibility::Private,
                images: Vec::new(),
                generate: Some(GenerateSpec {
                    versions,
                    seed: seed.wrapping_add(i as u64),
                }),
            })
            .collect();
        Scenario {
            now: None,
            tokens: default_tokens(),
            accounts: vec![AccountSpec {
                name: account.to_string(),
                kind: AccountKind::Org,
                packages,
            }],
            pulls: Vec::new(),
            undisclosed_deletes_per_minute: None,
        }
    }

    /// Whether any image must be pushed into a backing registry.
    pub fn has_registry_images(&self) -> bool {
        self.accounts
            .iter()
            .flat_map(|a| &a.packages)
            .any(|p| !p.images.is_empty())
    }

    fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |m: String| Err(ScenarioError::Invalid(m));
        let mut tokens = HashSet::new();
        for t in &self.tokens {
            if t.token.is_empty() {
                return invalid("a token has an empty `token` value".into());
            }
            if !tokens.insert(t.token.as_str()) {
                return invalid(format!(
                    "two tokens share one value (the one for user {:?}); token values must be unique",
                    t.user
                ));
            }
            for g in &t.grants {
                if !g.contains('/') {
                    return invalid(format!(
                        "grant `{g}` must name `account/package`, e.g. `acme/app`"
                    ));
                }
            }
        }
        let mut accounts = HashSet::new();
        for a in &self.accounts {
            if a.name.is_empty() || a.name.contains('/') {
                return invalid(format!(
                    "account name `{}` must be non-empty and contain no `/`",
                    a.name
                ));
            }
            if !accounts.insert(a.name.to_ascii_lowercase()) {
                return invalid(format!("account `{}` is listed twice", a.name));
            }
            let mut packages = HashSet::new();
            for p in &a.packages {
                if p.name.is_empty() || p.name.starts_with('/') || p.name.ends_with('/') {
                    return invalid(format!(
                        "package name `{}` in `{}` is not valid",
                        p.name, a.name
                    ));
                }
                if !packages.insert(p.name.to_ascii_lowercase()) {
                    return invalid(format!("package `{}/{}` is listed twice", a.name, p.name));
                }
                let mut handles = HashSet::new();
                for img in &p.images {
                    if !handles.insert(img.handle.as_str()) {
                        return invalid(format!(
                            "image handle `{}` is used twice in `{}/{}`; handles must be unique per package",
                            img.handle, a.name, p.name
                        ));
                    }
                    for pl in &img.platforms {
                        if parse_platform(pl).is_none() {
                            return invalid(format!(
                                "platform `{pl}` of image `{}` is not `os/arch[/variant]`",
                                img.handle
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `os/arch[/variant]` split into its parts.
pub(crate) fn parse_platform(s: &str) -> Option<(String, String, Option<String>)> {
    let mut it = s.split('/');
    let os = it.next().filter(|x| !x.is_empty())?;
    let arch = it.next().filter(|x| !x.is_empty())?;
    let variant = it.next().map(str::to_string);
    if it.next().is_some() || variant.as_deref() == Some("") {
        return None;
    }
    Some((os.to_string(), arch.to_string(), variant))
}

/// The tokens of generated scenarios: a classic admin token and a read-only one.
fn default_tokens() -> Vec<TokenSpec> {
    vec![
        TokenSpec {
            token: "ghp_admin".into(),
            kind: TokenKind::Classic,
            user: Some("octocat".into()),
            scopes: vec!["read:packages".into(), "delete:packages".into()],
            grants: Vec::new(),
            permission: AppPermission::default(),
            installed_on: Vec::new(),
            not_admin_of: Vec::new(),
        },
        TokenSpec {
            token: "ghp_readonly".into(),
            kind: TokenKind::Classic,
            user: Some("octocat".into()),
            scopes: vec!["read:packages".into()],
            grants: Vec::new(),
            permission: AppPermission::default(),
            installed_on: Vec::new(),
            not_admin_of: Vec::new(),
        },
    ]
}

fn parse_age(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration such as `40d` or `3h`: {e}"))
}

mod age {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        super::deserialize_age(d)
    }
}

mod opt_age {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| super::parse_age(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

fn deserialize_age<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_age(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_small_scenario() {
        let s = Scenario::from_yaml(
            "now: 2026-11-24T12:00:00Z\ntokens:\n  - {token: t, kind: actions, grants: [acme/app]}\naccounts:\n  - name: acme\n    packages:\n      - name: team/app\n        visibility: public\n        images:\n          - {handle: v1, tags: [v1], age: 40d, platforms: [linux/amd64, linux/arm64/v8]}\n",
        )
        .unwrap();
        let img = &s.accounts[0].packages[0].images[0];
        assert_eq!(img.age, Duration::from_secs(40 * 86400));
        assert_eq!(s.accounts[0].packages[0].visibility, Visibility::Public);
        assert!(s.has_registry_images());
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = Scenario::from_yaml("accounts:\n  - name: acme\n    kind: galaxy\n").unwrap_err();
        match err {
            ScenarioError::Syntax { line, .. } => assert_eq!(line, 3),
            other => panic!("expected a syntax error, got {other}"),
        }
        let err = Scenario::from_yaml("accounts:\n  - name: acme\n    packages:\n      - {name: a, images: [{handle: x, age: soon}]}\n").unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[test]
    fn rejects_duplicate_handles_and_bad_platforms() {
        let dup = "accounts:\n  - name: acme\n    packages:\n      - name: a\n        images: [{handle: x}, {handle: x}]\n";
        assert!(matches!(
            Scenario::from_yaml(dup),
            Err(ScenarioError::Invalid(_))
        ));
        let bad = "accounts:\n  - name: acme\n    packages:\n      - name: a\n        images: [{handle: x, platforms: [linux]}]\n";
        assert!(matches!(
            Scenario::from_yaml(bad),
            Err(ScenarioError::Invalid(_))
        ));
    }

    #[test]
    fn demo_is_valid() {
        let s = Scenario::from_yaml(DEMO).unwrap();
        assert!(s.accounts.iter().any(|a| a.name == "acme"));
    }

    #[test]
    fn generated_has_requested_shape() {
        let s = Scenario::generated("acme", 3, 50, 1);
        assert_eq!(s.accounts[0].packages.len(), 3);
        assert!(!s.has_registry_images());
    }
}
