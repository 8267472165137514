//! The executor: deletes in plan order, within limits, and records every outcome.
//!
//! Runs (one image and what goes with it) proceed concurrently; inside a run,
//! deletions are sequential in plan order, and a failure stops the rest of the run
//! so a kept tag never points at a missing manifest. Before each deletion the
//! primary-limit budget is checked against the reserve; Ctrl-C stops dispatching
//! new deletions and lets in-flight ones finish. Nothing is dropped: every planned
//! deletion ends deleted, failed, skipped or left for the next run, with a reason.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::{stream, StreamExt};
use regsweep_core::plan::{Plan, PlanRef};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::journal::{Journal, Recorded};
use crate::outcome::{FailCode, LeftCode, SkipCode, Why};
use crate::progress::Progress;
use crate::source::{DeleteOutcome, Source};
use regsweep_core::plan::Decision;

pub mod untag;

/// What happened to one planned deletion. Serialised as `{status}` or
/// `{status, code, reason}` (docs/json-output.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    /// Gone before we got to it; counts as deleted.
    AlreadyGone,
    /// GitHub refused for a documented reason.
    Skipped(Why<SkipCode>),
    Failed(Why<FailCode>),
    /// Not attempted: budget, interruption, or an earlier failure in its run.
    Left(Why<LeftCode>),
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        fn with<S: serde::Serializer, C: Serialize>(
            s: S,
            status: &str,
            why: &Why<C>,
        ) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(3))?;
            m.serialize_entry("status", status)?;
            m.serialize_entry("code", &why.code)?;
            m.serialize_entry("reason", &why.message)?;
            m.end()
        }
        match self {
            Outcome::Deleted | Outcome::AlreadyGone => {
                let mut m = s.serialize_map(Some(1))?;
                let status = if *self == Outcome::Deleted {
                    "deleted"
                } else {
                    "already_gone"
                };
                m.serialize_entry("status", status)?;
                m.end()
            }
            Outcome::Skipped(w) => with(s, "skipped", w),
            Outcome::Failed(w) => with(s, "failed", w),
            Outcome::Left(w) => with(s, "left", w),
        }
    }
}

/// The result of executing a plan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Execution {
    /// One entry per element of `plan.order`, same index.
    pub outcomes: Vec<Outcome>,
    pub interrupted: bool,
    /// The journal write that failed and stopped the deletions, if one did.
    #[serde(skip)]
    pub journal_error: Option<String>,
    /// One entry per tag the plan removes, in `plan.untags` order ([`untag`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untags: Vec<untag::UntagDone>,
    /// Whole packages deleted (`crate::packages`), in plan order.
    #[serde(skip)]
    pub packages: Vec<crate::packages::PackageOutcome>,
}

impl Execution {
    /// Count of outcomes matching `f`.
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(o)).count()
    }

    /// Whether any deletion or untag failed or was left.
    pub fn incomplete(&self) -> bool {
        self.outcomes
            .iter()
            .chain(self.packages.iter().map(|p| &p.outcome))
            .any(|o| matches!(o, Outcome::Failed(_) | Outcome::Left(_)))
            || self.untags.iter().any(|u| {
                matches!(
                    u.status,
                    untag::UntagStatus::Failed | untag::UntagStatus::Left
                )
            })
    }
}

/// What the executor needs from a backend: delete one version, and the primary-limit
/// requests left. [`Source`] is the real one; tests use an in-memory fake.
#[allow(async_fn_in_trait)]
pub trait Deleter: Sync {
    /// Deletes one version of `package`.
    async fn delete(&self, package: &str, decision: &Decision) -> DeleteOutcome;
    /// Primary-limit requests left, where known.
    fn remaining_requests(&self) -> Option<u32>;
}

impl Deleter for Source {
    async fn delete(&self, package: &str, decision: &Decision) -> DeleteOutcome {
        Source::delete(self, package, decision).await
    }

    fn remaining_requests(&self) -> Option<u32> {
        Source::remaining_requests(self)
    }
}

/// Limits for a run.
pub struct Limits {
    pub concurrency: usize,
    pub reserve_requests: u32,
}

/// The primary-limit budget shared by concurrent deletions. `remaining` (from the last
/// answer's headers) does not yet count the deletions dispatched and not answered, so
/// a deletion may start only while `remaining - in flight` stays above the reserve;
/// checking `remaining` alone let concurrent runs spend up to `concurrency - 1`
/// requests of the reserve.
struct Budget {
    reserve: u32,
    in_flight: Mutex<u32>,
}

/// One dispatched deletion's claim on the budget; released when dropped.
struct Claim<'a>(&'a Budget);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut n = self.0.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
    }
}

impl Budget {
    fn new(reserve: u32) -> Budget {
        Budget {
            reserve,
            in_flight: Mutex::new(0),
        }
    }

    /// Claims one request; `remaining` is read under the lock so concurrent claims
    /// see each other. Unknown `remaining` (no headers yet, OCI) always allows.
    /// `Err(left)`: the requests left after those in flight, at or below the reserve.
    fn claim(&self, remaining: impl FnOnce() -> Option<u32>) -> Result<Claim<'_>, u32> {
        let mut n = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(left) = remaining() {
            let left = left.saturating_sub(*n);
            if left <= self.reserve {
                return Err(left);
            }
        }
        *n += 1;
        Ok(Claim(self))
    }
}

/// Executes the plan's deletions.
pub async fn execute(
    plan: &Plan,
    source: &impl Deleter,
    limits: Limits,
    cancel: CancellationToken,
    journal: Option<&Journal>,
    progress: &Progress,
) -> anyhow::Result<Execution> {
    let n = plan.order.len();
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; n]);
    let journal_error: Mutex<Option<String>> = Mutex::new(None);
    // Set once something means no further deletion may start (budget, limits).
    let stop: Mutex<Option<Why<LeftCode>>> = Mutex::new(None);
    // Packages the token may not delete in (learnt from the first refusal): their
    // other deletions are left, not sent to fail the same way.
    let forbidden: Mutex<HashMap<usize, Why<LeftCode>>> = Mutex::new(HashMap::new());
    let bar = progress.bar("deleting", n as u64);
    let budget = Budget::new(limits.reserve_requests);

    let set = |i: usize, o: Outcome| {
        let mut g = outcomes.lock().unwrap_or_else(|e| e.into_inner());
        g[i] = Some(o);
    };

    let stopped = || stop.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let stop_with = |why: Why<LeftCode>| {
        stop.lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(why)
            .clone()
    };
    stream::iter(plan.run_ranges())
        .map(|run| {
            let bar = bar.clone();
            let cancel = cancel.clone();
            let (stopped, stop_with, set, budget, forbidden, journal_error) =
                (&stopped, &stop_with, &set, &budget, &forbidden, &journal_error);
            // A journal write failed: no deletion may start after it.
            let journal_failed = move |e: crate::journal::JournalError| {
                let msg = e.to_string();
                journal_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert_with(|| msg.clone());
                stop_with(Why::new(
                    LeftCode::JournalWriteFailed,
                    format!("not attempted: {msg}; deletions stopped so none goes unrecorded"),
                ))
            };
            async move {
                for k in run.clone() {
                    if cancel.is_cancelled() {
                        set(
                            k,
                            Outcome::Left(Why::new(
                                LeftCode::Interrupted,
                                "interrupted before this deletion",
                            )),
                        );
                        continue;
                    }
                    if let Some(why) = stopped() {
                        set(k, Outcome::Left(why));
                        continue;
                    }
                    let package = plan.order[k].package;
                    let refused = forbidden
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&package)
                        .cloned();
                    if let Some(why) = refused {
                        set(k, Outcome::Left(why));
                        continue;
                    }
                    let claim = match budget.claim(|| source.remaining_requests()) {
                        Ok(claim) => claim,
                        Err(left) => {
                            let why = Why::new(LeftCode::RateLimitReserve, format!(
                                "rate-limit budget spent: {left} requests left this hour, reserve is {}; run again after the reset",
                                limits.reserve_requests
                            ));
                            set(k, Outcome::Left(stop_with(why)));
                            continue;
                        }
                    };
                    let r: PlanRef = plan.order[k];
                    let pkg = &plan.packages[r.package].name;
                    let d = plan.decision(r);
                    // Write-ahead: the intent is durable before the DELETE is sent.
                    if let Some(j) = journal {
                        if let Err(e) = j.intent(pkg, d) {
                            drop(claim);
                            set(k, Outcome::Left(journal_failed(e)));
                            continue;
                        }
                    }
                    let outcome = source.delete(pkg, d).await;
                    drop(claim);
                    bar.inc(1);
                    if let Some(j) = journal {
                        if let Err(e) = j.outcome(pkg, d.id.0, recorded(&outcome)) {
                            journal_failed(e);
                        }
                    }
                    let o = match outcome {
                        DeleteOutcome::Deleted => Outcome::Deleted,
                        DeleteOutcome::AlreadyGone => Outcome::AlreadyGone,
                        DeleteOutcome::Refused(m) => Outcome::Skipped(m),
                        DeleteOutcome::Failed(m) => Outcome::Failed(m),
                        DeleteOutcome::Forbidden(m) => {
                            forbidden
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .entry(r.package)
                                .or_insert_with(|| {
                                    Why::new(LeftCode::TokenForbidden, format!(
                                        "not attempted: the token may not delete versions of `{pkg}` (version {} was refused)",
                                        d.id
                                    ))
                                });
                            Outcome::Failed(Why::new(FailCode::Forbidden, m))
                        }
                        DeleteOutcome::BudgetExhausted(m) => {
                            Outcome::Left(stop_with(Why::new(LeftCode::RateLimitWait, m)))
                        }
                    };
                    let failed = !matches!(o, Outcome::Deleted | Outcome::AlreadyGone);
                    // GitHub refused the image's root (its index): the image stays
                    // whole, so what it references stays with it, not left to fail.
                    let root_stays = k == run.start && matches!(o, Outcome::Skipped(_));
                    tracing::debug!("{pkg} {} ({}): {o:?}", d.id, d.digest.short());
                    set(k, o);
                    if failed {
                        // Stop the rest of this run: what follows depends on this one.
                        for rest in k + 1..run.end {
                            set(rest, if root_stays {
                                Outcome::Skipped(Why::new(SkipCode::IndexRemains, format!(
                                    "not deleted: version {} (its index) stays, GitHub refused to delete it, and still references it",
                                    d.id
                                )))
                            } else {
                                Outcome::Left(Why::new(LeftCode::EarlierFailure, format!(
                                    "not attempted: version {} before it in the same image was not deleted",
                                    d.id
                                )))
                            });
                        }
                        break;
                    }
                }
            }
        })
        .buffer_unordered(limits.concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
    bar.finish();
    if let Some(j) = journal {
        if let Err(e) = j.sync() {
            journal_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(|| e.to_string());
        }
    }
    let outcomes = outcomes
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                Outcome::Left(Why::new(
                    LeftCode::Interrupted,
                    "not attempted: the run ended first",
                ))
            })
        })
        .collect();
    Ok(Execution {
        outcomes,
        interrupted: cancel.is_cancelled(),
        journal_error: journal_error
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
        untags: Vec::new(),
        packages: Vec::new(),
    })
}

/// What the journal records of a deletion's answer.
fn recorded(o: &DeleteOutcome) -> Recorded {
    match o {
        DeleteOutcome::Deleted => Recorded::Deleted,
        DeleteOutcome::AlreadyGone => Recorded::AlreadyGone,
        DeleteOutcome::Refused(_) | DeleteOutcome::Forbidden(_) => Recorded::Refused,
        DeleteOutcome::Failed(_) | DeleteOutcome::BudgetExhausted(_) => Recorded::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::plan::{Action, PackagePlan};
    use regsweep_core::VersionId;

    /// An in-memory backend: scripted answers per version id (deleted otherwise), a
    /// fixed budget, and the ids it was asked to delete, in order.
    #[derive(Default)]
    struct Fake {
        answers: HashMap<u64, DeleteOutcome>,
        remaining: Option<u32>,
        calls: Mutex<Vec<u64>>,
        /// When set, each DELETE first checks its intent is already in this journal.
        journal: Option<std::path::PathBuf>,
    }

    impl Deleter for Fake {
        async fn delete(&self, _package: &str, d: &Decision) -> DeleteOutcome {
            if let Some(p) = &self.journal {
                let text = std::fs::read_to_string(p).unwrap();
                assert!(
                    text.lines().any(|l| l.contains(r#""kind":"intent""#)
                        && l.contains(&format!(r#""id":{},"#, d.id))),
                    "DELETE of {} sent before its intent was written:\n{text}",
                    d.id
                );
            }
            self.calls.lock().unwrap().push(d.id.0);
            self.answers
                .get(&d.id.0)
                .cloned()
                .unwrap_or(DeleteOutcome::Deleted)
        }

        fn remaining_requests(&self) -> Option<u32> {
            self.remaining
        }
    }

    fn decision(id: u64) -> Decision {
        Decision {
            id: VersionId(id),
            digest: format!("sha256:{id:064x}").parse().unwrap(),
            tags: vec![],
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            action: Action::Delete,
            reasons: vec![],
            untag: vec![],
        }
    }

    /// One package; `runs` lists the ids of each run, in deletion order.
    fn plan(runs: &[&[u64]]) -> Plan {
        let ids: Vec<u64> = runs.iter().flat_map(|r| r.iter().copied()).collect();
        Plan {
            packages: vec![PackagePlan {
                name: "app".into(),
                decisions: ids.iter().map(|&id| decision(id)).collect(),
                findings: vec![],
                package: None,
            }],
            order: (0..ids.len())
                .map(|i| PlanRef {
                    package: 0,
                    decision: i,
                })
                .collect(),
            runs: runs.iter().map(|r| r.len()).collect(),
            untags: vec![],
        }
    }

    fn run(
        plan: &Plan,
        fake: &Fake,
        cancel: CancellationToken,
        journal: Option<&Journal>,
    ) -> Execution {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(execute(
            plan,
            fake,
            Limits {
                concurrency: 1,
                reserve_requests: 5,
            },
            cancel,
            journal,
            &Progress::detect(),
        ))
        .unwrap()
    }

    /// Each outcome as `status` or `status/code`.
    fn codes(e: &Execution) -> Vec<String> {
        e.outcomes
            .iter()
            .map(|o| {
                let v = serde_json::to_value(o).unwrap();
                match v["code"].as_str() {
                    Some(c) => format!("{}/{c}", v["status"].as_str().unwrap()),
                    None => v["status"].as_str().unwrap().to_string(),
                }
            })
            .collect()
    }

    #[test]
    fn a_failure_leaves_the_rest_of_its_run_and_only_that() {
        let fake = Fake {
            answers: HashMap::from([(
                1,
                DeleteOutcome::Failed(Why::new(FailCode::HttpStatus, "500")),
            )]),
            ..Fake::default()
        };
        let e = run(
            &plan(&[&[1, 2, 3], &[4]]),
            &fake,
            CancellationToken::new(),
            None,
        );
        assert_eq!(
            codes(&e),
            [
                "failed/http_status",
                "left/earlier_failure",
                "left/earlier_failure",
                "deleted"
            ]
        );
        assert_eq!(*fake.calls.lock().unwrap(), [1, 4]);
        assert!(e.incomplete());
    }

    #[test]
    fn a_refusal_is_skipped_and_stops_its_run() {
        let fake = Fake {
            answers: HashMap::from([(
                2,
                DeleteOutcome::Refused(Why::new(SkipCode::TooManyDownloads, "popular")),
            )]),
            ..Fake::default()
        };
        let e = run(
            &plan(&[&[2, 3], &[5]]),
            &fake,
            CancellationToken::new(),
            None,
        );
        // The refused root (an index) stays, so its child stays with it.
        assert_eq!(
            codes(&e),
            [
                "skipped/too_many_downloads",
                "skipped/index_remains",
                "deleted"
            ]
        );
        assert!(!e.incomplete());
        // A refusal further into a run (the index already gone) leaves the rest.
        let e = run(&plan(&[&[1, 2, 3]]), &fake, CancellationToken::new(), None);
        assert_eq!(
            codes(&e),
            [
                "deleted",
                "skipped/too_many_downloads",
                "left/earlier_failure"
            ]
        );
    }

    #[test]
    fn the_budget_at_the_reserve_sends_nothing() {
        let fake = Fake {
            remaining: Some(5),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1], &[2]]), &fake, CancellationToken::new(), None);
        assert_eq!(
            codes(&e),
            ["left/rate_limit_reserve", "left/rate_limit_reserve"]
        );
        assert!(fake.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn a_long_rate_limit_wait_stops_every_run() {
        let fake = Fake {
            answers: HashMap::from([(1, DeleteOutcome::BudgetExhausted("wait 2h".into()))]),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1], &[2]]), &fake, CancellationToken::new(), None);
        assert_eq!(codes(&e), ["left/rate_limit_wait", "left/rate_limit_wait"]);
        assert_eq!(*fake.calls.lock().unwrap(), [1]);
    }

    #[test]
    fn a_forbidden_token_is_not_tried_again_in_the_package() {
        let fake = Fake {
            answers: HashMap::from([(1, DeleteOutcome::Forbidden("no admin".into()))]),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1], &[2]]), &fake, CancellationToken::new(), None);
        assert_eq!(codes(&e), ["failed/forbidden", "left/token_forbidden"]);
        assert_eq!(*fake.calls.lock().unwrap(), [1]);
    }

    #[test]
    fn cancelled_before_starting_deletes_nothing() {
        let fake = Fake::default();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let e = run(&plan(&[&[1, 2], &[3]]), &fake, cancel, None);
        assert_eq!(codes(&e), ["left/interrupted"; 3]);
        assert!(e.interrupted);
        assert!(fake.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn every_delete_is_sent_after_its_intent_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let journal = Journal::open(&p).unwrap();
        let fake = Fake {
            answers: HashMap::from([(2, DeleteOutcome::AlreadyGone)]),
            journal: Some(p.clone()),
            ..Fake::default()
        };
        let e = run(
            &plan(&[&[1, 2], &[3]]),
            &fake,
            CancellationToken::new(),
            Some(&journal),
        );
        assert_eq!(codes(&e), ["deleted", "already_gone", "deleted"]);
        let replay = crate::journal::read(&p).unwrap();
        assert_eq!(replay.candidates().count(), 3);
    }

    #[test]
    fn a_journal_write_error_stops_before_the_next_delete() {
        let journal = Journal::open(std::path::Path::new("/dev/full")).unwrap();
        let fake = Fake::default();
        let e = run(
            &plan(&[&[1, 2], &[3]]),
            &fake,
            CancellationToken::new(),
            Some(&journal),
        );
        assert_eq!(codes(&e), ["left/journal_write_failed"; 3]);
        assert!(fake.calls.lock().unwrap().is_empty());
        assert!(e.journal_error.as_deref().unwrap().contains("/dev/full"));
    }

    #[test]
    fn concurrent_deletions_do_not_spend_the_reserve() {
        let budget = Budget::new(5);
        // 8 requests left, reserve 5: three deletions may be in flight at once.
        let a = budget.claim(|| Some(8)).expect("8 - 0 > 5");
        let b = budget.claim(|| Some(8)).expect("8 - 1 > 5");
        let c = budget.claim(|| Some(8)).expect("8 - 2 > 5");
        assert_eq!(budget.claim(|| Some(8)).err(), Some(5));
        // One answered: the headers now say 7 left, two still in flight.
        drop(a);
        assert_eq!(budget.claim(|| Some(7)).err(), Some(5));
        drop((b, c));
        assert!(budget.claim(|| Some(7)).is_ok());
        // Unknown remaining (no headers yet, or a plain OCI registry): allowed.
        assert!(Budget::new(5).claim(|| None).is_ok());
        assert_eq!(Budget::new(5).claim(|| Some(5)).err(), Some(5));
    }
}
