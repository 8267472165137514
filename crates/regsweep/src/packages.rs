//! Whole packages: deleting the packages a plan deletes as a whole, and restoring
//! them from the journal.
//!
//! Before anything is deleted, [`check_token`] refuses a token that certainly cannot
//! delete packages (an integration token such as the Actions `GITHUB_TOKEN`, or a
//! classic PAT without `delete:packages`) and says which token can. Each package
//! deletion is journaled like a version's: an fsynced intent (with the ids of the
//! versions that go with it) before the DELETE, an outcome after. The planner decided
//! which packages go (`regsweep_core::planner::packages`); nothing is decided here.

use regsweep_core::plan::Plan;
use regsweep_github::{GithubError, PackageError, TokenInfo, PACKAGE_DELETE_HELP};
use tokio_util::sync::CancellationToken;

use crate::error::CliError;
use crate::executor::Outcome;
use crate::journal::{Journal, Recorded, Replay, State};
use crate::outcome::{FailCode, LeftCode, SkipCode, Why};
use crate::source::github::GithubSource;

/// GitHub keeps a deleted package restorable this long.
pub const RESTORE_WINDOW_DAYS: i64 = 30;

/// What happened to one package the plan deletes as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageOutcome {
    /// The package's index in `plan.packages`.
    pub package: usize,
    pub outcome: Outcome,
}

/// The package rule that deletes package `i`, for messages.
fn rule_of(plan: &Plan, i: usize) -> String {
    plan.packages[i]
        .decisions
        .first()
        .and_then(|d| match d.reasons.first() {
            Some(regsweep_core::reason::Reason::DeletedWithPackage { rule }) => Some(rule.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Refuses, before anything is deleted, a token that cannot delete the packages the
/// plan deletes as a whole: the error carries the whole message (what, why, what can).
pub fn check_token(info: &TokenInfo, plan: &Plan) -> Result<(), CliError> {
    let deleted = plan.deleted_packages();
    let Some(&first) = deleted.first() else {
        return Ok(());
    };
    let what = format!(
        "the token cannot delete whole packages, and the plan deletes {} (`{}`, rule `{}`)",
        crate::report::count(deleted.len(), "package"),
        crate::escape::control(&plan.packages[first].name),
        rule_of(plan, first)
    );
    let why = match (&info.scopes, &info.login) {
        (Some(scopes), _)
            if !scopes
                .iter()
                .any(|s| s == regsweep_github::DELETE_SCOPE) =>
        {
            format!(
                "GitHub reports the token's scopes as `{}`, without delete:packages",
                scopes.join(", ")
            )
        }
        (None, None) => "GET /user answered without a user and GitHub sent no X-OAuth-Scopes: this is an integration token (the Actions GITHUB_TOKEN or a GitHub App), and GitHub lets only an admin of a package delete it".to_string(),
        _ => return Ok(()),
    };
    Err(CliError::TokenCannotDeletePackages(format!(
        "{what}\n  {why}\n  nothing was deleted\n  help: {PACKAGE_DELETE_HELP}; pass such a token from a secret, or remove the package rule to delete versions only"
    )))
}

/// Deletes the packages the plan deletes as a whole, in name order. Stops (leaving
/// the rest) at a journal write that fails, Ctrl-C, or a rate-limit wait too long.
pub async fn delete(
    plan: &Plan,
    gh: &GithubSource,
    reserve_requests: u32,
    cancel: &CancellationToken,
    journal: Option<&Journal>,
) -> (Vec<PackageOutcome>, Option<String>) {
    let mut out = Vec::new();
    let mut journal_error = None;
    let mut stop: Option<Why<LeftCode>> = None;
    for i in plan.deleted_packages() {
        let pp = &plan.packages[i];
        let left = |why: Why<LeftCode>| PackageOutcome {
            package: i,
            outcome: Outcome::Left(why),
        };
        if cancel.is_cancelled() {
            out.push(left(Why::new(
                LeftCode::Interrupted,
                "interrupted before this package was deleted",
            )));
            continue;
        }
        if let Some(why) = &stop {
            out.push(left(why.clone()));
            continue;
        }
        if let Some(n) = gh.remaining_requests().filter(|&n| n <= reserve_requests) {
            let why = Why::new(LeftCode::RateLimitReserve, format!(
                "rate-limit budget spent: {n} requests left this hour, reserve is {reserve_requests}; run again after the reset"
            ));
            stop = Some(why.clone());
            out.push(left(why));
            continue;
        }
        if let Some(j) = journal {
            let ids: Vec<u64> = pp.decisions.iter().map(|d| d.id.0).collect();
            if let Err(e) = j.package_intent(&pp.name, &ids) {
                let msg = e.to_string();
                let why = Why::new(
                    LeftCode::JournalWriteFailed,
                    format!("not attempted: {msg}; deletions stopped so none goes unrecorded"),
                );
                journal_error = Some(msg);
                stop = Some(why.clone());
                out.push(left(why));
                continue;
            }
        }
        let result = gh.delete_package(&pp.name).await;
        let (outcome, recorded) = match result {
            Ok(()) => (Outcome::Deleted, Recorded::Deleted),
            Err(PackageError::NotFound { .. }) => (Outcome::AlreadyGone, Recorded::AlreadyGone),
            Err(e @ PackageError::TooManyDownloads { .. }) => (
                Outcome::Skipped(Why::new(SkipCode::TooManyDownloads, e.to_string())),
                Recorded::Refused,
            ),
            Err(
                e @ (PackageError::Integration { .. }
                | PackageError::MissingScope { .. }
                | PackageError::NotAdmin { .. }),
            ) => (
                Outcome::Failed(Why::new(FailCode::Forbidden, e.to_string())),
                Recorded::Refused,
            ),
            Err(e @ PackageError::RateLimited { .. }) => {
                let why = Why::new(LeftCode::RateLimitWait, crate::hints::package(&e));
                stop = Some(why.clone());
                (Outcome::Left(why), Recorded::Failed)
            }
            Err(e) => {
                let code = match &e {
                    PackageError::Other(GithubError::Transport { .. }) => FailCode::Network,
                    PackageError::Other(GithubError::Status { .. }) => FailCode::HttpStatus,
                    _ => FailCode::Other,
                };
                (
                    Outcome::Failed(Why::new(code, crate::hints::package(&e))),
                    Recorded::Failed,
                )
            }
        };
        tracing::debug!("package {}: {outcome:?}", pp.name);
        if let Some(j) = journal {
            if let Err(e) = j.package_outcome(&pp.name, recorded) {
                let msg = e.to_string();
                journal_error.get_or_insert(msg.clone());
                stop.get_or_insert(Why::new(
                    LeftCode::JournalWriteFailed,
                    format!("not attempted: {msg}; deletions stopped so none goes unrecorded"),
                ));
            }
        }
        out.push(PackageOutcome {
            package: i,
            outcome,
        });
    }
    if let Some(j) = journal {
        if let Err(e) = j.sync() {
            journal_error.get_or_insert(e.to_string());
        }
    }
    (out, journal_error)
}

/// Counts of a restore.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    pub ok: usize,
    pub already: usize,
    pub failed: usize,
}

/// Restores the whole packages the journal says were (or may have been) deleted,
/// before any version (a version of a deleted package cannot come back alone).
/// A package deleted more than [`RESTORE_WINDOW_DAYS`] before `now` is not sent:
/// GitHub no longer has it, and the message says so.
pub async fn restore(gh: &GithubSource, replay: &Replay, now: jiff::Timestamp) -> Restored {
    let mut r = Restored::default();
    for p in replay
        .packages
        .iter()
        .filter(|p| p.state != State::NotDeleted)
    {
        let name = crate::escape::control(&p.package);
        if gh.active_ids(&p.package).await.is_ok() {
            r.already += 1;
            let _ = crate::output::print(&format!("already restored package {name}\n"));
            continue;
        }
        let deleted_at = p.at.parse::<jiff::Timestamp>().ok();
        let too_old =
            deleted_at.filter(|t| now.duration_since(*t).as_secs() > RESTORE_WINDOW_DAYS * 86_400);
        if let Some(t) = too_old {
            r.failed += 1;
            eprintln!(
                "error: cannot restore package {name}: it was deleted at {t}, more than {RESTORE_WINDOW_DAYS} days ago\n  GitHub keeps a deleted package restorable for {RESTORE_WINDOW_DAYS} days only\n  help: push its images again from their source"
            );
            continue;
        }
        match gh.restore_package(&p.package).await {
            Ok(()) => {
                r.ok += 1;
                let _ = crate::output::print(&format!(
                    "restored package {name} ({})\n",
                    crate::report::count(p.versions.len(), "version")
                ));
            }
            Err(e) => {
                r.failed += 1;
                eprintln!(
                    "error: cannot restore package {name}: {}",
                    crate::escape::control_lines(&crate::hints::package(&e))
                );
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(login: Option<&str>, scopes: Option<&[&str]>) -> TokenInfo {
        TokenInfo {
            login: login.map(String::from),
            scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
            can_list_user: login.is_some(),
        }
    }

    fn plan_deleting(name: &str) -> Plan {
        use regsweep_core::package_decision::{PackageAction, PackageDecision};
        use regsweep_core::plan::PackagePlan;
        Plan {
            packages: vec![PackagePlan {
                name: name.into(),
                decisions: vec![],
                findings: vec![],
                package: Some(PackageDecision {
                    action: PackageAction::Delete,
                    reasons: vec![],
                    versions: 0,
                }),
            }],
            ..Plan::default()
        }
    }

    #[test]
    fn token_check_names_what_can_delete_packages() {
        let plan = plan_deleting("test");
        let actions = check_token(&info(None, None), &plan)
            .unwrap_err()
            .to_string();
        assert!(actions.contains("the Actions GITHUB_TOKEN"), "{actions}");
        assert!(actions.contains("classic PAT with read:packages and delete:packages"));
        let pat = check_token(&info(Some("octocat"), Some(&["read:packages"])), &plan)
            .unwrap_err()
            .to_string();
        assert!(
            pat.contains("`read:packages`, without delete:packages"),
            "{pat}"
        );
        // An admin's PAT, and tokens whose kind cannot be told, are tried.
        assert!(check_token(
            &info(Some("octocat"), Some(&["read:packages", "delete:packages"])),
            &plan
        )
        .is_ok());
        assert!(check_token(&info(Some("octocat"), None), &plan).is_ok());
        // No package deleted: nothing to check.
        assert!(check_token(&info(None, None), &Plan::default()).is_ok());
    }
}
