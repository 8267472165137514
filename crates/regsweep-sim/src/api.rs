//! The GitHub REST API routes the emulator serves: packages and versions for
//! `/orgs/{org}`, `/user` and `/users/{username}`, `/user`, `/rate_limit` and pull
//! requests. Parses a path into a route, then answers it from the world, returning the
//! registry work (deletions, restorations) for the caller to carry out.
//!
//! Rate limits, faults and headers common to every answer live in `server.rs`.

use axum::http::Method;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::auth::{has_scope, package_access, Access};
use crate::options::CorruptEntry;
use crate::render;
use crate::scenario::{AccountKind, PullState, TokenKind, TokenSpec};
use crate::world::{Package, Refusal, Restored, World};

pub(crate) const INTEGRATION: &str = "Resource not accessible by integration";
pub(crate) const LAST_TAGGED: &str =
    "You cannot delete the last tagged version of a package. You must delete the package instead.";
pub(crate) const TOO_POPULAR: &str = "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.";
const PACKAGE_TOO_POPULAR: &str = "Publicly visible packages with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.";
const READ_SCOPE: &str = "You need at least read:packages scope to list packages.";
const DELETE_SCOPE: &str = "You need at least delete:packages scope to delete packages.";
const RESTORE_SCOPE: &str =
    "You need at least write:packages or delete:packages scope to restore packages.";

/// Whose packages a route names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Org(String),
    Me,
    User(String),
}

/// A package route's target: owner, package type and name (decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub owner: Owner,
    pub package_type: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Me,
    RateLimit,
    ListPackages(Owner),
    GetPackage(Target),
    DeletePackage(Target),
    RestorePackage(Target),
    ListVersions(Target),
    GetVersion(Target, String),
    DeleteVersion(Target, String),
    RestoreVersion(Target, String),
    ListPulls(String, String),
    GetPull(String, String, String),
}

/// Matches decoded path segments to a route and its template (`GET /orgs/{org}/packages`).
pub(crate) fn route(method: &Method, segs: &[String]) -> Option<(Route, String)> {
    let m = method.as_str();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (owner, prefix, rest): (Owner, &str, &[&str]) = match s.as_slice() {
        ["user"] if m == "GET" => return Some((Route::Me, "GET /user".into())),
        ["rate_limit"] if m == "GET" => return Some((Route::RateLimit, "GET /rate_limit".into())),
        ["repos", o, r, "pulls"] if m == "GET" => {
            return Some((
                Route::ListPulls(o.to_string(), r.to_string()),
                "GET /repos/{owner}/{repo}/pulls".into(),
            ))
        }
        ["repos", o, r, "pulls", n] if m == "GET" => {
            return Some((
                Route::GetPull(o.to_string(), r.to_string(), n.to_string()),
                "GET /repos/{owner}/{repo}/pulls/{pull_number}".into(),
            ))
        }
        ["orgs", org, rest @ ..] => (Owner::Org(org.to_string()), "/orgs/{org}", rest),
        ["user", rest @ ..] => (Owner::Me, "/user", rest),
        ["users", u, rest @ ..] => (Owner::User(u.to_string()), "/users/{username}", rest),
        _ => return None,
    };
    let target = |t: &str, n: &str| Target {
        owner: owner.clone(),
        package_type: t.to_string(),
        name: n.to_string(),
    };
    const PKG: &str = "/packages/{package_type}/{package_name}";
    const VER: &str = "/packages/{package_type}/{package_name}/versions/{package_version_id}";
    let (r, tail) = match (m, rest) {
        ("GET", ["packages"]) => (Route::ListPackages(owner.clone()), "/packages".to_string()),
        ("GET", ["packages", t, n]) => (Route::GetPackage(target(t, n)), PKG.into()),
        ("DELETE", ["packages", t, n]) => (Route::DeletePackage(target(t, n)), PKG.into()),
        ("POST", ["packages", t, n, "restore"]) => (
            Route::RestorePackage(target(t, n)),
            format!("{PKG}/restore"),
        ),
        ("GET", ["packages", t, n, "versions"]) => {
            (Route::ListVersions(target(t, n)), format!("{PKG}/versions"))
        }
        ("GET", ["packages", t, n, "versions", id]) => {
            (Route::GetVersion(target(t, n), id.to_string()), VER.into())
        }
        ("DELETE", ["packages", t, n, "versions", id]) => (
            Route::DeleteVersion(target(t, n), id.to_string()),
            VER.into(),
        ),
        ("POST", ["packages", t, n, "versions", id, "restore"]) => (
            Route::RestoreVersion(target(t, n), id.to_string()),
            format!("{VER}/restore"),
        ),
        _ => return None,
    };
    Some((r, format!("{m} {prefix}{tail}")))
}

/// An answer before the common headers are added.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Vec<u8>>,
    pub link: Option<String>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Self {
        Reply {
            status,
            body: Some(serde_json::to_vec(v).unwrap_or_default()),
            link: None,
        }
    }

    pub fn error(status: u16, message: &str) -> Self {
        Self::json(status, &render::error(status, message))
    }

    fn no_content() -> Self {
        Reply {
            status: 204,
            body: None,
            link: None,
        }
    }
}

/// Registry work that follows an answer.
#[derive(Default)]
pub(crate) struct Effects {
    /// Repository (`account/package`, lower case) whose manifests to delete or restore.
    pub repository: String,
    pub delete: Vec<regsweep_core::Digest>,
    pub restore: Vec<Restored>,
}

/// Everything a handler needs besides the world.
pub(crate) struct Ctx<'a> {
    /// Base for URLs in bodies: `http://127.0.0.1:PORT` or `…/api/v3`.
    pub api: &'a str,
    /// `http://127.0.0.1:PORT` + the path as received (for `Link`).
    pub self_url: &'a str,
    pub query: &'a [(String, String)],
    pub token: &'a TokenSpec,
    pub now: Timestamp,
    pub omit_link: bool,
    /// Entry rewrites of hostile listings (`FaultConfig::corrupt_entries`).
    pub corrupt: &'a [CorruptEntry],
    /// Packages answered with a plain 403 (`FaultConfig::forbidden_packages`).
    pub forbidden: &'a [String],
}

impl Ctx<'_> {
    /// `entry` (of `package`, and of `version_id` for a version) with the configured
    /// rewrites applied.
    fn corrupted(&self, package: &str, version_id: Option<u64>, mut entry: Value) -> Value {
        for c in self
            .corrupt
            .iter()
            .filter(|c| c.targets(package, version_id))
        {
            c.apply(&mut entry);
        }
        entry
    }

    /// A plain permission 403 when `target` is one of the forbidden packages.
    fn forbidden(&self, target: &Target) -> Option<Reply> {
        self.forbidden
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&target.name))
            .then(|| {
                Reply::error(
                    403,
                    "Permission denied: this token has no access to the package.",
                )
            })
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(page, per_page)`: page ≥ 1, per_page 1..=100 (default 30).
    fn paging(&self) -> (usize, usize) {
        let page = self
            .param("page")
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|&p| p >= 1)
            .unwrap_or(1);
        let per_page = self
            .param("per_page")
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|&p| p >= 1)
            .unwrap_or(30)
            .min(100);
        (page, per_page)
    }

    fn page_url(&self, page: usize) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.query.iter().filter(|(k, _)| k != "page") {
            q.append_pair(k, v);
        }
        q.append_pair("page", &page.to_string());
        format!("{}?{}", self.self_url, q.finish())
    }

    /// GitHub's `Link` header for `page` of `total` items, if there is more than one page.
    fn link(&self, page: usize, per_page: usize, total: usize) -> Option<String> {
        if self.omit_link {
            return None;
        }
        let last = total.div_ceil(per_page);
        if last <= 1 {
            return None;
        }
        let mut parts = Vec::new();
        if page > 1 {
            parts.push(format!(
                "<{}>; rel=\"prev\"",
                self.page_url((page - 1).min(last))
            ));
        }
        if page < last {
            parts.push(format!("<{}>; rel=\"next\"", self.page_url(page + 1)));
            parts.push(format!("<{}>; rel=\"last\"", self.page_url(last)));
        }
        if page > 1 {
            parts.push(format!("<{}>; rel=\"first\"", self.page_url(1)));
        }
        Some(parts.join(", "))
    }

    /// A JSON array of one page of `items` with its `Link`.
    fn page<T>(
        &self,
        items: impl Iterator<Item = T>,
        total: usize,
        render: impl Fn(T) -> Value,
    ) -> Reply {
        let (page, per_page) = self.paging();
        let start = (page - 1).saturating_mul(per_page);
        let body: Vec<Value> = items.skip(start).take(per_page).map(render).collect();
        let mut reply = Reply::json(200, &Value::Array(body));
        reply.link = self.link(page, per_page, total);
        reply
    }
}

/// Answers `route` for `ctx.token`.
pub(crate) fn handle(route: &Route, ctx: &Ctx<'_>, world: &mut World) -> (Reply, Effects) {
    let plain = |r: Reply| (r, Effects::default());
    let t = ctx.token;
    if let Route::GetPackage(target) | Route::ListVersions(target) = route {
        if let Some(refused) = ctx.forbidden(target) {
            return plain(refused);
        }
    }
    match route {
        Route::Me => plain(me(ctx, world)),
        Route::RateLimit => plain(Reply::error(500, "rate_limit is answered by the server")),
        Route::ListPulls(o, r) => plain(list_pulls(ctx, world, o, r)),
        Route::GetPull(o, r, n) => plain(get_pull(ctx, world, o, r, n)),
        Route::ListPackages(owner) => plain(list_packages(ctx, world, owner)),
        Route::GetPackage(target) => plain(match resolve(ctx, world, target, Need::Read) {
            Err(e) => e,
            Ok((a, p)) => {
                let (a, p) = (&world.accounts[&a], &world.accounts[&a].packages[&p]);
                let entry = render::package(ctx.api, a, p);
                Reply::json(200, &ctx.corrupted(&p.name, None, entry))
            }
        }),
        Route::ListVersions(target) => plain(match resolve(ctx, world, target, Need::Read) {
            Err(e) => e,
            Ok((a, p)) => {
                let deleted = ctx.param("state") == Some("deleted");
                let acc = &world.accounts[&a];
                let pkg = &acc.packages[&p];
                ctx.page(pkg.listed(deleted), pkg.listed_count(deleted), |v| {
                    let entry = render::version(ctx.api, acc, pkg, v);
                    ctx.corrupted(&pkg.name, Some(v.id), entry)
                })
            }
        }),
        Route::GetVersion(target, id) => plain(match resolve(ctx, world, target, Need::Read) {
            Err(e) => e,
            Ok((a, p)) => {
                let acc = &world.accounts[&a];
                let pkg = &acc.packages[&p];
                match id.parse().ok().and_then(|id| pkg.version(id)) {
                    Some(v) => Reply::json(200, &render::version(ctx.api, acc, pkg, v)),
                    None => Reply::error(404, "Not Found"),
                }
            }
        }),
        Route::DeleteVersion(target, id) => match resolve(ctx, world, target, Need::Delete) {
            Err(e) => plain(e),
            Ok((a, p)) => {
                let (repository, pkg) = match package_mut(world, &a, &p) {
                    Ok(found) => found,
                    Err(e) => return plain(e),
                };
                let id = match id
                    .parse::<u64>()
                    .ok()
                    .filter(|&id| pkg.version(id).is_some_and(|v| v.deleted_at.is_none()))
                {
                    Some(id) => id,
                    None => return plain(Reply::error(404, "Not Found")),
                };
                match pkg.refusal(id) {
                    Some(Refusal::LastTagged) => plain(Reply::error(400, LAST_TAGGED)),
                    Some(_) => plain(Reply::error(400, TOO_POPULAR)),
                    None => {
                        let removed = pkg.delete_version(id, ctx.now, false);
                        let delete = removed
                            .into_iter()
                            .filter(|r| r.has_manifest)
                            .map(|r| r.digest)
                            .collect();
                        (
                            Reply::no_content(),
                            Effects {
                                repository,
                                delete,
                                restore: Vec::new(),
                            },
                        )
                    }
                }
            }
        },
        Route::RestoreVersion(target, id) => {
            match resolve_any(ctx, world, target, Need::Restore, false) {
                Err(e) => plain(e),
                Ok((a, p)) => {
                    let (repository, pkg) = match package_mut(world, &a, &p) {
                        Ok(found) => found,
                        Err(e) => return plain(e),
                    };
                    match id
                        .parse::<u64>()
                        .ok()
                        .and_then(|id| pkg.restore_version(id, ctx.now))
                    {
                        Some(r) => (
                            Reply::no_content(),
                            Effects {
                                repository,
                                delete: Vec::new(),
                                restore: vec![r],
                            },
                        ),
                        None => plain(Reply::error(404, "Not Found")),
                    }
                }
            }
        }
        Route::DeletePackage(target) => match resolve(ctx, world, target, Need::Delete) {
            Err(e) => plain(e),
            // Deleting a package needs a person who is admin of it: integration tokens
            // (the Actions GITHUB_TOKEN, GitHub Apps) are refused even with the Admin
            // role on the package, which lets them delete versions only.
            Ok(_) if integration(t) => plain(Reply::error(403, INTEGRATION)),
            Ok((a, p)) => {
                let (repository, pkg) = match package_mut(world, &a, &p) {
                    Ok(found) => found,
                    Err(e) => return plain(e),
                };
                if pkg.visibility == regsweep_core::Visibility::Public
                    && pkg.downloads() > crate::world::DOWNLOAD_LIMIT
                {
                    return plain(Reply::error(400, PACKAGE_TOO_POPULAR));
                }
                let ids: Vec<u64> = pkg.listed(false).map(|v| v.id).collect();
                let mut delete = Vec::new();
                for id in ids {
                    if let Some(r) = pkg.delete_version(id, ctx.now, true) {
                        if r.has_manifest {
                            delete.push(r.digest);
                        }
                    }
                }
                pkg.deleted_at = Some(ctx.now);
                (
                    Reply::no_content(),
                    Effects {
                        repository,
                        delete,
                        restore: Vec::new(),
                    },
                )
            }
        },
        Route::RestorePackage(target) => match resolve_any(ctx, world, target, Need::Restore, true)
        {
            Err(e) => plain(e),
            Ok(_) if integration(t) => plain(Reply::error(403, INTEGRATION)),
            Ok((a, p)) => {
                let (repository, pkg) = match package_mut(world, &a, &p) {
                    Ok(found) => found,
                    Err(e) => return plain(e),
                };
                let fresh = pkg
                    .deleted_at
                    .is_some_and(|d| ctx.now.duration_since(d) <= crate::world::RESTORE_WINDOW);
                if !fresh {
                    return plain(Reply::error(404, "Package not found."));
                }
                let ids: Vec<u64> = pkg
                    .versions
                    .iter()
                    .filter(|v| v.deleted_with_package)
                    .map(|v| v.id)
                    .collect();
                let restore = ids
                    .into_iter()
                    .filter_map(|id| pkg.restore_version(id, ctx.now))
                    .collect();
                pkg.deleted_at = None;
                (
                    Reply::no_content(),
                    Effects {
                        repository,
                        delete: Vec::new(),
                        restore,
                    },
                )
            }
        },
    }
}

/// Whether `t` is an integration token (Actions, App): no person behind it.
fn integration(t: &TokenSpec) -> bool {
    matches!(t.kind, TokenKind::Actions | TokenKind::App)
}

/// A package to change, with its repository in the backing registry; 404 when gone.
fn package_mut<'w>(
    world: &'w mut World,
    a: &str,
    p: &str,
) -> Result<(String, &'w mut Package), Reply> {
    let acc = world
        .accounts
        .get_mut(a)
        .ok_or_else(|| Reply::error(404, "Package not found."))?;
    let name = acc.name.clone();
    let pkg = acc
        .packages
        .get_mut(p)
        .ok_or_else(|| Reply::error(404, "Package not found."))?;
    Ok((repository(&name, &pkg.name), pkg))
}

pub(crate) fn repository(account: &str, package: &str) -> String {
    format!("{account}/{package}").to_ascii_lowercase()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Delete,
    Restore,
}

/// The account key named by `owner`, or the answer GitHub gives when there is none.
fn owner_key(ctx: &Ctx<'_>, world: &World, owner: &Owner) -> Result<Option<String>, Reply> {
    match owner {
        Owner::Org(o) => match world.account(o) {
            Some(a) if a.kind == AccountKind::Org => Ok(Some(o.to_ascii_lowercase())),
            _ => Err(Reply::error(404, "Not Found")),
        },
        Owner::User(u) => match world.account(u) {
            Some(_) => Ok(Some(u.to_ascii_lowercase())),
            None => Err(Reply::error(404, "Not Found")),
        },
        Owner::Me => {
            if matches!(ctx.token.kind, TokenKind::Actions | TokenKind::App) {
                return Err(Reply::error(403, INTEGRATION));
            }
            Ok(ctx
                .token
                .user
                .as_deref()
                .filter(|u| world.account(u).is_some())
                .map(str::to_ascii_lowercase))
        }
    }
}

fn scope_check(t: &TokenSpec, need: Need) -> Result<(), Reply> {
    if t.kind != TokenKind::Classic {
        return Ok(());
    }
    if !has_scope(t, "read:packages") {
        return Err(Reply::error(403, READ_SCOPE));
    }
    match need {
        Need::Read => Ok(()),
        Need::Delete if has_scope(t, "delete:packages") => Ok(()),
        Need::Delete => Err(Reply::error(403, DELETE_SCOPE)),
        Need::Restore if has_scope(t, "delete:packages") || has_scope(t, "write:packages") => {
            Ok(())
        }
        Need::Restore => Err(Reply::error(403, RESTORE_SCOPE)),
    }
}

fn resolve(
    ctx: &Ctx<'_>,
    world: &World,
    target: &Target,
    need: Need,
) -> Result<(String, String), Reply> {
    resolve_any(ctx, world, target, need, false)
}

/// Finds the (account key, package key) a package route names, checking scopes and
/// access. `deleted` selects a deleted package (for restore) instead of an active one.
fn resolve_any(
    ctx: &Ctx<'_>,
    world: &World,
    target: &Target,
    need: Need,
    deleted: bool,
) -> Result<(String, String), Reply> {
    scope_check(ctx.token, need)?;
    let not_found = || Reply::error(404, "Package not found.");
    let account = owner_key(ctx, world, &target.owner)?.ok_or_else(not_found)?;
    if target.package_type != "container" {
        return Err(not_found());
    }
    let acc = world.account(&account).ok_or_else(not_found)?;
    let key = target.name.to_ascii_lowercase();
    let pkg = acc.packages.get(&key).ok_or_else(not_found)?;
    if pkg.deleted_at.is_some() != deleted {
        return Err(not_found());
    }
    let access = package_access(ctx.token, acc, pkg);
    match (access, need) {
        (Access::Hidden, _) => Err(not_found()),
        (Access::Read, Need::Delete | Need::Restore) => Err(Reply::error(
            403,
            if matches!(ctx.token.kind, TokenKind::Actions | TokenKind::App) {
                INTEGRATION
            } else {
                "You must have admin permissions on this package to delete or restore it."
            },
        )),
        _ => Ok((account, key)),
    }
}

fn list_packages(ctx: &Ctx<'_>, world: &World, owner: &Owner) -> Reply {
    if ctx.token.kind == TokenKind::Actions {
        return Reply::error(403, INTEGRATION);
    }
    if let Err(e) = scope_check(ctx.token, Need::Read) {
        return e;
    }
    let account = match owner_key(ctx, world, owner) {
        Err(e) => return e,
        Ok(None) => return ctx.page(std::iter::empty::<()>(), 0, |_| Value::Null),
        Ok(Some(a)) => a,
    };
    match ctx.param("package_type") {
        None => {
            return Reply::error(
                400,
                "package_type is required: one of npm, maven, rubygems, docker, nuget, container",
            )
        }
        Some("container") => {}
        Some("npm" | "maven" | "rubygems" | "docker" | "nuget") => {
            return ctx.page(std::iter::empty::<()>(), 0, |_| Value::Null)
        }
        Some(other) => {
            return Reply::error(
                400,
                &format!("`{other}` is not a package type: expected one of npm, maven, rubygems, docker, nuget, container"),
            )
        }
    }
    let visibility = ctx.param("visibility");
    let Some(acc) = world.account(&account) else {
        return Reply::error(404, "Not Found");
    };
    let visible: Vec<_> = acc
        .packages
        .values()
        .filter(|p| p.deleted_at.is_none())
        .filter(|p| package_access(ctx.token, acc, p) != Access::Hidden)
        .filter(|p| {
            visibility.is_none_or(|v| {
                matches!(
                    (v, p.visibility),
                    ("public", regsweep_core::Visibility::Public)
                        | ("private", regsweep_core::Visibility::Private)
                        | ("internal", regsweep_core::Visibility::Internal)
                )
            })
        })
        .collect();
    let total = visible.len();
    ctx.page(visible.into_iter(), total, |p| {
        ctx.corrupted(&p.name, None, render::package(ctx.api, acc, p))
    })
}

fn me(ctx: &Ctx<'_>, world: &World) -> Reply {
    if matches!(ctx.token.kind, TokenKind::Actions | TokenKind::App) {
        return Reply::error(403, INTEGRATION);
    }
    let login = ctx.token.user.clone().unwrap_or_else(|| "octocat".into());
    let id = world.account(&login).map_or(1, |a| a.id);
    Reply::json(
        200,
        &json!({
            "login": login,
            "id": id,
            "node_id": "MDQ6VXNlcjE=",
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "gravatar_id": "",
            "url": format!("{}/users/{login}", ctx.api),
            "html_url": format!("https://github.com/{login}"),
            "type": "User",
            "site_admin": false,
        }),
    )
}

fn list_pulls(ctx: &Ctx<'_>, world: &World, owner: &str, repo: &str) -> Reply {
    let full = format!("{owner}/{repo}");
    let state = ctx.param("state").unwrap_or("open");
    let pulls: Vec<_> = world
        .pulls
        .iter()
        .filter(|p| p.repo.eq_ignore_ascii_case(&full))
        .filter(|p| match state {
            "all" => true,
            "closed" => p.state == PullState::Closed,
            _ => p.state == PullState::Open,
        })
        .collect();
    let total = pulls.len();
    ctx.page(pulls.into_iter().rev(), total, |p| render::pull(ctx.api, p))
}

fn get_pull(ctx: &Ctx<'_>, world: &World, owner: &str, repo: &str, n: &str) -> Reply {
    let full = format!("{owner}/{repo}");
    let found = n.parse::<u64>().ok().and_then(|n| {
        world
            .pulls
            .iter()
            .find(|p| p.number == n && p.repo.eq_ignore_ascii_case(&full))
    });
    match found {
        Some(p) => Reply::json(200, &render::pull(ctx.api, p)),
        None => Reply::error(404, "Not Found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn routes_and_templates() {
        let (r, t) = route(
            &Method::DELETE,
            &segs("/orgs/acme/packages/container/team%2Fapp/versions/7"),
        )
        .unwrap();
        assert!(matches!(r, Route::DeleteVersion(_, ref id) if id == "7"));
        assert_eq!(
            t,
            "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}"
        );
        let (r, t) = route(&Method::GET, &segs("/user/packages")).unwrap();
        assert_eq!(r, Route::ListPackages(Owner::Me));
        assert_eq!(t, "GET /user/packages");
        assert!(route(&Method::PUT, &segs("/user/packages")).is_none());
        assert!(route(
            &Method::GET,
            &segs("/orgs/acme/packages/container/team/app")
        )
        .is_none());
        assert_eq!(route(&Method::GET, &segs("/user")).unwrap().0, Route::Me);
    }
}
