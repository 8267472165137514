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
use crate::source::{Backend, DeleteOutcome};

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
    source: &impl Backend,
    limits: Limits,
    cancel: CancellationToken,
    journal: Option<&Journal>,
    progress: &Progress,
) -> Execution {
    let state = State::new(plan, source, &limits, cancel, journal, progress);
    stream::iter(plan.run_ranges())
        .map(|run| state.run(run))
        .buffer_unordered(limits.concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
    state.finish()
}

/// Locks, going on after a panic elsewhere (what was recorded stays true).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the concurrent runs of one execution share.
struct State<'a, B> {
    plan: &'a Plan,
    source: &'a B,
    reserve_requests: u32,
    cancel: CancellationToken,
    journal: Option<&'a Journal>,
    /// One slot per element of `plan.order`.
    outcomes: Mutex<Vec<Option<Outcome>>>,
    journal_error: Mutex<Option<String>>,
    /// Set once something means no further deletion may start (budget, limits).
    stop: Mutex<Option<Why<LeftCode>>>,
    /// Packages the token may not delete in (learnt from the first refusal): their
    /// other deletions are left, not sent to fail the same way.
    forbidden: Mutex<HashMap<usize, Why<LeftCode>>>,
    budget: Budget,
    bar: crate::progress::Task,
}

impl<'a, B: Backend> State<'a, B> {
    fn new(
        plan: &'a Plan,
        source: &'a B,
        limits: &Limits,
        cancel: CancellationToken,
        journal: Option<&'a Journal>,
        progress: &Progress,
    ) -> Self {
        State {
            plan,
            source,
            reserve_requests: limits.reserve_requests,
            cancel,
            journal,
            outcomes: Mutex::new(vec![None; plan.order.len()]),
            journal_error: Mutex::new(None),
            stop: Mutex::new(None),
            forbidden: Mutex::new(HashMap::new()),
            budget: Budget::new(limits.reserve_requests),
            bar: progress.bar("deleting", plan.order.len() as u64),
        }
    }

    fn set(&self, k: usize, o: Outcome) {
        lock(&self.outcomes)[k] = Some(o);
    }

    /// Stops every further deletion (the first reason stays); returns the reason.
    fn stop_with(&self, why: Why<LeftCode>) -> Why<LeftCode> {
        lock(&self.stop).get_or_insert(why).clone()
    }

    /// A journal write failed: no deletion may start after it.
    fn journal_failed(&self, e: crate::journal::JournalError) -> Why<LeftCode> {
        let msg = e.to_string();
        lock(&self.journal_error).get_or_insert_with(|| msg.clone());
        self.stop_with(Why::new(
            LeftCode::JournalWriteFailed,
            format!("not attempted: {msg}; deletions stopped so none goes unrecorded"),
        ))
    }

    /// One run, sequentially in plan order; a deletion not done leaves the rest.
    async fn run(&self, run: std::ops::Range<usize>) {
        for k in run.clone() {
            let claim = match self.may_start(k) {
                Ok(claim) => claim,
                Err(why) => {
                    self.set(k, Outcome::Left(why));
                    continue;
                }
            };
            let o = match self.delete(k, claim).await {
                Ok(o) => o,
                Err(why) => {
                    self.set(k, Outcome::Left(why));
                    continue;
                }
            };
            let done = matches!(o, Outcome::Deleted | Outcome::AlreadyGone);
            // GitHub refused the image's root (its index): the image stays whole, so
            // what it references stays with it, not left to fail.
            let root_stays = k == run.start && matches!(o, Outcome::Skipped(_));
            let id = self.plan.decision(self.plan.order[k]).id;
            self.set(k, o);
            if !done {
                // Stop the rest of this run: what follows depends on this one.
                for rest in k + 1..run.end {
                    self.set(rest, rest_of_run(root_stays, id));
                }
                break;
            }
        }
    }

    /// Whether deletion `k` may start: not interrupted, not stopped, the package not
    /// forbidden, and a request of the budget claimed above the reserve.
    fn may_start(&self, k: usize) -> Result<Claim<'_>, Why<LeftCode>> {
        if self.cancel.is_cancelled() {
            return Err(Why::new(
                LeftCode::Interrupted,
                "interrupted before this deletion",
            ));
        }
        if let Some(why) = lock(&self.stop).clone() {
            return Err(why);
        }
        let package = self.plan.order[k].package;
        if let Some(why) = lock(&self.forbidden).get(&package).cloned() {
            return Err(why);
        }
        self.budget
            .claim(|| self.source.remaining_requests())
            .map_err(|left| {
                self.stop_with(Why::new(LeftCode::RateLimitReserve, format!(
                    "rate-limit budget spent: {left} requests left this hour, reserve is {}; run again after the reset",
                    self.reserve_requests
                )))
            })
    }

    /// Deletes `k`: the journal intent first (durable before the DELETE is sent),
    /// then the request, then the outcome in the journal. Err: the intent could not
    /// be written, so nothing was sent.
    async fn delete(&self, k: usize, claim: Claim<'_>) -> Result<Outcome, Why<LeftCode>> {
        let r: PlanRef = self.plan.order[k];
        let pkg = &self.plan.packages[r.package].name;
        let d = self.plan.decision(r);
        if let Some(j) = self.journal {
            if let Err(e) = j.intent(pkg, d) {
                drop(claim);
                return Err(self.journal_failed(e));
            }
        }
        let outcome = self.source.delete(pkg, d).await;
        drop(claim);
        self.bar.inc(1);
        if let Some(j) = self.journal {
            if let Err(e) = j.outcome(pkg, d.id.0, recorded(&outcome)) {
                self.journal_failed(e);
            }
        }
        let o = self.outcome(r, outcome);
        tracing::debug!("{pkg} {} ({}): {o:?}", d.id, d.digest.short());
        Ok(o)
    }

    /// What a deletion's answer means for the run.
    fn outcome(&self, r: PlanRef, outcome: DeleteOutcome) -> Outcome {
        match outcome {
            DeleteOutcome::Deleted => Outcome::Deleted,
            DeleteOutcome::AlreadyGone => Outcome::AlreadyGone,
            DeleteOutcome::Refused(m) => Outcome::Skipped(m),
            DeleteOutcome::Failed(m) => Outcome::Failed(m),
            DeleteOutcome::Forbidden(m) => {
                let pkg = &self.plan.packages[r.package].name;
                let id = self.plan.decision(r).id;
                lock(&self.forbidden).entry(r.package).or_insert_with(|| {
                    Why::new(LeftCode::TokenForbidden, format!(
                        "not attempted: the token may not delete versions of `{pkg}` (version {id} was refused)"
                    ))
                });
                Outcome::Failed(Why::new(FailCode::Forbidden, m))
            }
            DeleteOutcome::BudgetExhausted(m) => {
                Outcome::Left(self.stop_with(Why::new(LeftCode::RateLimitWait, m)))
            }
        }
    }

    /// Syncs the journal and collects the outcomes: one per planned deletion.
    fn finish(self) -> Execution {
        self.bar.finish();
        if let Some(j) = self.journal {
            if let Err(e) = j.sync() {
                lock(&self.journal_error).get_or_insert_with(|| e.to_string());
            }
        }
        let outcomes = self
            .outcomes
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
        Execution {
            outcomes,
            interrupted: self.cancel.is_cancelled(),
            journal_error: self
                .journal_error
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
            untags: Vec::new(),
            packages: Vec::new(),
        }
    }
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

/// The outcome of a deletion after one in the same image that was not done: skipped
/// when the image's root (`id`, its index) stays because GitHub refused it, left
/// otherwise.
fn rest_of_run(root_stays: bool, id: regsweep_core::VersionId) -> Outcome {
    if root_stays {
        Outcome::Skipped(Why::new(
            SkipCode::IndexRemains,
            format!("not deleted: version {id} (its index) stays, GitHub refused to delete it, and still references it"),
        ))
    } else {
        Outcome::Left(Why::new(
            LeftCode::EarlierFailure,
            format!("not attempted: version {id} before it in the same image was not deleted"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::memory::MemoryBackend;
    use regsweep_core::plan::{Action, Decision, PackagePlan};
    use regsweep_core::VersionId;

    type Fake = MemoryBackend;

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
        assert_eq!(*fake.deletes.lock().unwrap(), [1, 4]);
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
            remaining: Some(5).into(),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1], &[2]]), &fake, CancellationToken::new(), None);
        assert_eq!(
            codes(&e),
            ["left/rate_limit_reserve", "left/rate_limit_reserve"]
        );
        assert!(fake.deletes.lock().unwrap().is_empty());
    }

    #[test]
    fn a_long_rate_limit_wait_stops_every_run() {
        let fake = Fake {
            answers: HashMap::from([(1, DeleteOutcome::BudgetExhausted("wait 2h".into()))]),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1], &[2]]), &fake, CancellationToken::new(), None);
        assert_eq!(codes(&e), ["left/rate_limit_wait", "left/rate_limit_wait"]);
        assert_eq!(*fake.deletes.lock().unwrap(), [1]);
    }

    #[test]
    fn a_forbidden_token_is_not_tried_again_in_the_package() {
        let fake = Fake {
            answers: HashMap::from([(1, DeleteOutcome::Forbidden("no admin".into()))]),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1], &[2]]), &fake, CancellationToken::new(), None);
        assert_eq!(codes(&e), ["failed/forbidden", "left/token_forbidden"]);
        assert_eq!(*fake.deletes.lock().unwrap(), [1]);
    }

    #[test]
    fn cancelled_before_starting_deletes_nothing() {
        let fake = Fake::default();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let e = run(&plan(&[&[1, 2], &[3]]), &fake, cancel, None);
        assert_eq!(codes(&e), ["left/interrupted"; 3]);
        assert!(e.interrupted);
        assert!(fake.deletes.lock().unwrap().is_empty());
    }

    #[test]
    fn every_delete_is_sent_after_its_intent_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let journal = Journal::open(&p).unwrap();
        let at = p.clone();
        let fake = Fake {
            answers: HashMap::from([(2, DeleteOutcome::AlreadyGone)]),
            before_delete: Some(Box::new(move |d: &Decision| {
                let text = std::fs::read_to_string(&at).unwrap();
                let about = |l: &&str| l.contains(&format!(r#""id":{},"#, d.id));
                let lines: Vec<&str> = text.lines().filter(about).collect();
                assert!(
                    lines.len() == 1 && lines[0].contains(r#""kind":"intent""#),
                    "DELETE of {} sent before its intent was written, or after its outcome:\n{text}",
                    d.id
                );
            })),
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
        // Each intent is followed by its outcome once the answer came.
        let text = std::fs::read_to_string(&p).unwrap();
        for id in [1, 2, 3] {
            let kinds: Vec<&str> = text
                .lines()
                .filter(|l| l.contains(&format!(r#""id":{id},"#)))
                .map(|l| {
                    if l.contains(r#""kind":"intent""#) {
                        "intent"
                    } else {
                        "outcome"
                    }
                })
                .collect();
            assert_eq!(kinds, ["intent", "outcome"], "journal of {id}:\n{text}");
        }
    }

    #[test]
    fn cancelled_mid_run_finishes_the_deletion_in_flight_and_sends_no_other() {
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let fake = Fake {
            before_delete: Some(Box::new(move |d: &Decision| {
                if d.id.0 == 2 {
                    c.cancel();
                }
            })),
            ..Fake::default()
        };
        let e = run(&plan(&[&[1, 2, 3], &[4]]), &fake, cancel, None);
        assert_eq!(
            codes(&e),
            ["deleted", "deleted", "left/interrupted", "left/interrupted"]
        );
        assert!(e.interrupted);
        assert_eq!(fake.deleted_ids(), [1, 2]);
    }

    #[test]
    fn a_budget_spent_mid_way_leaves_the_rest_for_the_next_run() {
        // Reserve 5, 7 requests left, each deletion spends one: two are sent.
        let fake = Fake {
            remaining: Some(7).into(),
            ..Fake::default()
        };
        let e = run(
            &plan(&[&[1], &[2], &[3, 4]]),
            &fake,
            CancellationToken::new(),
            None,
        );
        assert_eq!(
            codes(&e),
            [
                "deleted",
                "deleted",
                "left/rate_limit_reserve",
                "left/rate_limit_reserve"
            ]
        );
        assert_eq!(fake.deleted_ids(), [1, 2]);
        assert!(e.incomplete());
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
        assert!(fake.deletes.lock().unwrap().is_empty());
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
