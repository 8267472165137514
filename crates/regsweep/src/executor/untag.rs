//! Executing the plan's untags, after its deletions: for each version to untag
//! (oldest first) and each tag to remove, an fsynced journal intent, the source's
//! untag, and an outcome line. A token refused in a package leaves that package's
//! other untags; a journal write that fails, or Ctrl-C, leaves the rest.

use std::collections::HashMap;

use regsweep_core::plan::Plan;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::journal::{Journal, RecordedUntag};
use crate::outcome::{FailCode, LeftCode, Why};
use crate::progress::Progress;
use crate::source::untag::UntagOutcome;
use crate::source::Backend;

/// How removing one tag ended: `{package, id, tag, status}` and, unless untagged,
/// `code` and `reason` (docs/json-output.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UntagDone {
    pub package: String,
    pub id: u64,
    pub tag: String,
    pub status: UntagStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The status of one untag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UntagStatus {
    Untagged,
    /// The tag had moved or was gone: nothing changed.
    NotThere,
    Failed,
    /// Not attempted.
    Left,
}

/// Requests one untag may cost on GHCR (check the tag, read an index to learn
/// whether it is a placeholder, token, push the placeholder, find its version,
/// delete it): an untag starts only while the primary limit has this many requests
/// left above the reserve.
pub const UNTAG_REQUESTS: u32 = 6;

/// Removes the tags of every untag decision of `plan`. Stops, leaving the rest, when
/// fewer than `reserve` + [`UNTAG_REQUESTS`] primary-limit requests are left.
pub async fn execute(
    plan: &Plan,
    source: &impl Backend,
    cancel: &CancellationToken,
    journal: Option<&Journal>,
    progress: &Progress,
    reserve: u32,
) -> Vec<UntagDone> {
    let total: usize = plan.untag_count();
    let bar = progress.bar("untagging", total as u64);
    let mut done = Vec::with_capacity(total);
    let mut forbidden: HashMap<usize, String> = HashMap::new();
    let mut stop: Option<Why<LeftCode>> = None;
    for &r in &plan.untags {
        let package = &plan.packages[r.package].name;
        let d = plan.decision(r);
        for tag in &d.untag {
            let mut one = UntagDone {
                package: package.clone(),
                id: d.id.0,
                tag: tag.clone(),
                status: UntagStatus::Left,
                code: None,
                reason: None,
            };
            let left = if cancel.is_cancelled() {
                Some(Why::new(
                    LeftCode::Interrupted,
                    "interrupted before this untag",
                ))
            } else if let Some(why) = &stop {
                Some(why.clone())
            } else {
                forbidden.get(&r.package).map(|m| {
                    Why::new(
                        LeftCode::TokenForbidden,
                        format!("not attempted: the token may not untag in `{package}` ({m})"),
                    )
                })
            };
            let left = left.or_else(|| {
                let remaining = source.remaining_requests()?;
                (remaining < reserve.saturating_add(UNTAG_REQUESTS)).then(|| {
                    let why = Why::new(LeftCode::RateLimitReserve, format!(
                        "rate-limit budget spent: {remaining} requests left this hour, reserve is {reserve} and an untag needs up to {UNTAG_REQUESTS}; run again after the reset"
                    ));
                    stop = Some(why.clone());
                    why
                })
            });
            if let Some(why) = left {
                set(&mut one, UntagStatus::Left, why);
                done.push(one);
                continue;
            }
            if let Some(j) = journal {
                if let Err(e) = j.untag_intent(package, d, tag) {
                    let why = Why::new(
                        LeftCode::JournalWriteFailed,
                        format!("not attempted: {e}; untags stopped so none goes unrecorded"),
                    );
                    stop = Some(why.clone());
                    set(&mut one, UntagStatus::Left, why);
                    done.push(one);
                    continue;
                }
            }
            let outcome = source.untag(package, d, tag).await;
            bar.inc(1);
            let (recorded, placeholder, from) = match &outcome {
                UntagOutcome::Untagged { placeholder } => {
                    (RecordedUntag::Untagged, placeholder.as_ref(), None)
                }
                UntagOutcome::Finished { placeholder, from } => {
                    (RecordedUntag::Untagged, Some(placeholder), Some(from))
                }
                UntagOutcome::NotThere(_) => (RecordedUntag::NotThere, None, None),
                UntagOutcome::Forbidden(_) => (RecordedUntag::Refused, None, None),
                UntagOutcome::Failed { placeholder, .. } => {
                    (RecordedUntag::Failed, placeholder.as_ref(), None)
                }
            };
            if let Some(j) = journal {
                let p = placeholder.map(|p| &p.digest);
                if let Err(e) = j.untag_outcome(package, d.id.0, tag, recorded, p, from) {
                    stop = Some(Why::new(
                        LeftCode::JournalWriteFailed,
                        format!("not attempted: {e}; untags stopped so none goes unrecorded"),
                    ));
                }
            }
            match outcome {
                UntagOutcome::Untagged { .. } => one.status = UntagStatus::Untagged,
                UntagOutcome::Finished { from, .. } => {
                    one.status = UntagStatus::Untagged;
                    one.reason = Some(format!(
                        "the version was the placeholder an earlier, interrupted untag left under the tag (taken from {}); its version was deleted",
                        from.short()
                    ));
                }
                UntagOutcome::NotThere(m) => {
                    one.status = UntagStatus::NotThere;
                    one.reason = Some(m);
                }
                UntagOutcome::Forbidden(m) => {
                    eprintln!("error: {}", crate::escape::control_lines(&m));
                    forbidden.insert(r.package, format!("{package}:{tag} was refused"));
                    set(
                        &mut one,
                        UntagStatus::Failed,
                        Why::new(FailCode::Forbidden, m),
                    );
                }
                UntagOutcome::Failed { why, .. } => {
                    eprintln!(
                        "error: removing tag `{}` of {}:{} failed: {}",
                        crate::escape::control(tag),
                        crate::escape::control(package),
                        d.id,
                        crate::escape::control_lines(&why.message)
                    );
                    set(&mut one, UntagStatus::Failed, why)
                }
            }
            tracing::debug!("untag {package}:{tag} ({}): {:?}", d.id, one.status);
            done.push(one);
        }
    }
    bar.finish();
    if let Some(j) = journal {
        if let Err(e) = j.sync() {
            tracing::warn!("{e}");
        }
    }
    done
}

fn set<C: Serialize>(one: &mut UntagDone, status: UntagStatus, why: Why<C>) {
    one.status = status;
    one.code = serde_json::to_value(&why.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string));
    one.reason = Some(why.message);
}

/// Counts of a restore: restored, already restored, failed.
pub type Restored = (usize, usize, usize);

/// `restore`: puts back every tag the journal says was (or may have been)
/// removed, newest untag first, by pushing the kept manifest under the tag. A tag
/// now naming another image is left as it is (and counted failed). A tag untagged
/// more than once (a later run finished an untag a kill interrupted) ends on what
/// its earliest line names: a later line that cannot be undone (its placeholder is
/// gone) is not a failure once an earlier line of the same tag put the tag back.
pub async fn restore(
    source: &impl Backend,
    replay: &crate::journal::Replay,
) -> std::io::Result<Restored> {
    use crate::source::untag::RetagOutcome;
    let (mut ok, mut already, mut failed) = (0, 0, 0);
    // Tags whose manifest is gone, by (package, tag): failures unless an earlier
    // line restores the tag.
    let mut pending: Vec<((&str, &str), String)> = Vec::new();
    for u in replay.untags.iter().rev().filter(|u| u.changed) {
        let (Ok(digest), placeholder) = (
            regsweep_core::Digest::parse(&u.digest),
            u.placeholder
                .as_deref()
                .and_then(|p| regsweep_core::Digest::parse(p).ok()),
        ) else {
            failed += 1;
            eprintln!(
                "error: cannot restore tag `{}` of {}:{}: the journal's digest `{}` is not one",
                crate::escape::control(&u.tag),
                crate::escape::control(&u.package),
                u.id,
                crate::escape::control(&u.digest)
            );
            continue;
        };
        let key = (u.package.as_str(), u.tag.as_str());
        match source
            .retag(&u.package, &digest, &u.tag, placeholder.as_ref())
            .await
        {
            RetagOutcome::Restored => {
                ok += 1;
                superseded(&mut pending, key);
                crate::output::print(&format!(
                    "restored tag {}:{} on {} ({})\n",
                    u.package, u.tag, u.id, u.digest
                ))?;
            }
            RetagOutcome::AlreadyThere => {
                already += 1;
                superseded(&mut pending, key);
                crate::output::print(&format!(
                    "already restored tag {}:{} on {} ({})\n",
                    u.package, u.tag, u.id, u.digest
                ))?;
            }
            RetagOutcome::Failed(m) => {
                failed += 1;
                eprintln!(
                    "error: cannot restore tag `{}` of {}:{}: {}",
                    crate::escape::control(&u.tag),
                    crate::escape::control(&u.package),
                    u.id,
                    crate::escape::control_lines(&m)
                );
            }
            RetagOutcome::Gone(m) => pending.push((
                key,
                format!(
                    "error: cannot restore tag `{}` of {}:{}: {}",
                    crate::escape::control(&u.tag),
                    crate::escape::control(&u.package),
                    u.id,
                    crate::escape::control_lines(&m)
                ),
            )),
        }
    }
    for (_, message) in pending {
        failed += 1;
        eprintln!("{message}");
    }
    Ok((ok, already, failed))
}

/// Drops the failures of `key` an earlier line has made good, with a note.
fn superseded(pending: &mut Vec<((&str, &str), String)>, key: (&str, &str)) {
    pending.retain(|(k, m)| {
        if *k == key {
            eprintln!(
                "note: {} (an earlier untag of the same tag was restored instead)",
                m.trim_start_matches("error: ")
            );
        }
        *k != key
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::memory::MemoryBackend;
    use regsweep_core::plan::{Action, Decision, PackagePlan, PlanRef};
    use regsweep_core::VersionId;

    /// One package of versions that stay and lose `tags` each.
    fn plan(untags: &[&[&str]]) -> Plan {
        let decisions: Vec<Decision> = untags
            .iter()
            .enumerate()
            .map(|(i, tags)| Decision {
                id: VersionId(i as u64 + 1),
                digest: format!("sha256:{:064x}", i + 1).parse().unwrap(),
                tags: tags
                    .iter()
                    .map(|t| t.to_string())
                    .chain(["keep".into()])
                    .collect(),
                created_at: jiff::Timestamp::UNIX_EPOCH,
                updated_at: jiff::Timestamp::UNIX_EPOCH,
                action: Action::Untag,
                reasons: vec![],
                untag: tags.iter().map(|t| t.to_string()).collect(),
            })
            .collect();
        Plan {
            untags: (0..decisions.len())
                .map(|decision| PlanRef {
                    package: 0,
                    decision,
                })
                .collect(),
            packages: vec![PackagePlan {
                name: "app".into(),
                decisions,
                findings: vec![],
                package: None,
            }],
            order: vec![],
            runs: vec![],
        }
    }

    fn statuses(plan: &Plan, backend: &MemoryBackend, reserve: u32) -> Vec<UntagStatus> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(execute(
            plan,
            backend,
            &CancellationToken::new(),
            None,
            &Progress::detect(),
            reserve,
        ))
        .into_iter()
        .map(|u| u.status)
        .collect()
    }

    /// Untags spend the primary limit too (up to six requests each on GHCR): none
    /// starts once the budget left is within the reserve plus one untag's cost.
    #[test]
    fn untags_stop_at_the_rate_limit_reserve() {
        let p = plan(&[&["pr-1"], &["pr-2", "pr-3"]]);
        let plenty = MemoryBackend::default();
        *plenty.remaining.lock().unwrap() = Some(1000);
        assert_eq!(statuses(&p, &plenty, 50), [UntagStatus::Untagged; 3]);
        assert_eq!(plenty.untags.lock().unwrap().len(), 3);

        let spent = MemoryBackend::default();
        *spent.remaining.lock().unwrap() = Some(54);
        assert_eq!(statuses(&p, &spent, 50), [UntagStatus::Left; 3]);
        assert!(spent.untags.lock().unwrap().is_empty(), "nothing was asked");

        // No known budget (a plain OCI registry): nothing to hold back.
        let unknown = MemoryBackend::default();
        assert_eq!(statuses(&p, &unknown, 50), [UntagStatus::Untagged; 3]);
    }
}
