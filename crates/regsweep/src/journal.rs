//! The write-ahead journal: the only code that writes or reads `--journal` files.
//!
//! `apply --journal FILE` appends, for every deletion (of a version, or of a whole
//! package), an *intent* line (fsynced) before the DELETE is sent and an *outcome*
//! line after its answer, so a crash, a
//! kill -9 or an answer lost after the deletion took effect never leaves a deleted
//! version out of the journal. `restore` replays the file: every version with an
//! intent and no outcome saying it was *not* deleted is a candidate. The format is
//! documented in docs/journal.md; lines carry `v` and `kind`, and the one-line-per-
//! deleted-version format of earlier releases is still read. Untags are journaled
//! the same way (`untag_intent` before, `untag_outcome` after), and `restore` puts
//! those tags back.
//!
//! Torn writes are handled at both ends: a reader skips an unparsable last line (with
//! a warning), a writer that finds the file not ending in a newline adds one before
//! its first line, and a run's lines start with a `run` line, so a torn line from an
//! earlier run sits right before a `run` line and is skipped too. Any other
//! unparsable line is an error naming it. Reading is bounded: a journal must be a
//! regular file of at most [`MAX_BYTES`].

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use regsweep_core::plan::Decision;
use serde::{Deserialize, Serialize};

/// The version of the line format written.
pub const FORMAT: u32 = 2;

/// The largest journal `restore` reads (256 MiB: about a million deletions).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// A journal that cannot be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal {path}: {source}\n  expected a writable file in an existing directory\n  help: create the directory, or pass another --journal FILE")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the journal {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the journal {path}: {detail}\n  help: pass the file written by `apply --journal FILE`")]
    Read { path: PathBuf, detail: String },
    #[error("{path}:{line}: not a journal line: {detail}\n  only the last line of a journal may be incomplete (a torn write); this one is followed by more lines\n  help: fix or remove line {line}, then run restore again")]
    Corrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },
}

/// How a journaled deletion ended, as written in its outcome line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    /// The DELETE succeeded.
    Deleted,
    /// The version was not found: deleted by us (an answer lost and retried) or by
    /// someone else; restorable either way.
    AlreadyGone,
    /// GitHub refused (last tagged version, too many downloads, forbidden): not
    /// deleted.
    Refused,
    /// The request failed: it may or may not have taken effect.
    Failed,
}

/// How a journaled untag ended, as written in its outcome line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedUntag {
    /// The tag was removed.
    Untagged,
    /// The tag had moved or was gone: nothing was changed.
    NotThere,
    /// The token may not: nothing was changed.
    Refused,
    /// Failed part-way: the tag may point at the placeholder.
    Failed,
}

/// One line of a journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    /// The first line a run writes.
    Run {
        v: u32,
        run: String,
        started_at: String,
    },
    /// Written and fsynced before the DELETE of a version.
    Intent {
        v: u32,
        run: String,
        package: String,
        id: u64,
        digest: String,
        tags: Vec<String>,
        at: String,
    },
    /// Written after the DELETE's answer.
    Outcome {
        v: u32,
        run: String,
        package: String,
        id: u64,
        outcome: Recorded,
        at: String,
    },
    /// Written and fsynced before a tag is removed from a version that stays.
    UntagIntent {
        v: u32,
        run: String,
        package: String,
        id: u64,
        digest: String,
        tag: String,
        at: String,
    },
    /// Written after the untag: how it ended, and the placeholder used, if any.
    UntagOutcome {
        v: u32,
        run: String,
        package: String,
        id: u64,
        tag: String,
        outcome: RecordedUntag,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        placeholder: Option<String>,
        /// When the version untagged was itself the placeholder of an earlier,
        /// interrupted untag: the digest that untag took the tag from, which restore
        /// points the tag at again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        at: String,
    },
    /// Written and fsynced before the DELETE of a whole package.
    PackageIntent {
        v: u32,
        run: String,
        package: String,
        /// The ids of the versions that go with it.
        versions: Vec<u64>,
        at: String,
    },
    /// Written after the package DELETE's answer.
    PackageOutcome {
        v: u32,
        run: String,
        package: String,
        outcome: Recorded,
        at: String,
    },
}

/// A line of the format before `v` 2: one per deleted version.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyEntry {
    package: String,
    id: u64,
    digest: String,
    tags: Vec<String>,
    #[allow(dead_code)]
    deleted_at: String,
}

/// What the journal knows about one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Deleted, or found already gone after the intent: restorable.
    Deleted,
    /// An intent with no outcome (the run was killed), or a failed request: it may
    /// have been deleted, so restore tries it.
    PossiblyDeleted,
    /// Refused: not deleted.
    NotDeleted,
}

/// A version named by the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub package: String,
    pub id: u64,
    pub digest: String,
    pub tags: Vec<String>,
    pub state: State,
}

/// A tag the journal says was (or may have been) removed from a version that stayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UntagEntry {
    pub package: String,
    pub id: u64,
    /// The digest the tag pointed at, which restore points it at again.
    pub digest: String,
    pub tag: String,
    /// The placeholder that took the tag, if one was recorded.
    pub placeholder: Option<String>,
    /// False when the outcome says nothing was changed.
    pub changed: bool,
}

/// A whole package named by the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageEntry {
    pub package: String,
    pub versions: Vec<u64>,
    /// When its intent was written (RFC 3339), for GitHub's 30-day restore window.
    pub at: String,
    pub state: State,
}

/// A journal read back: versions in deletion order, untags, whole packages, and
/// warnings to show.
#[derive(Debug, Default)]
pub struct Replay {
    pub entries: Vec<Entry>,
    /// Untags in the order they were made.
    pub untags: Vec<UntagEntry>,
    pub packages: Vec<PackageEntry>,
    pub warnings: Vec<String>,
}

impl Replay {
    /// The versions that were or may have been deleted, in deletion order.
    pub fn candidates(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.state != State::NotDeleted)
    }
}

/// Reads a journal: bounded, tolerant of a torn last line, strict otherwise.
pub fn read(path: &Path) -> Result<Replay, JournalError> {
    let read_err = |detail: String| JournalError::Read {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
    if !meta.is_file() {
        return Err(read_err(
            "not a regular file (a journal is the file `apply --journal FILE` wrote)".into(),
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err(read_err(format!(
            "{} bytes, more than the {} MiB a journal may have",
            meta.len(),
            MAX_BYTES / (1024 * 1024)
        )));
    }
    let bytes = crate::bounded::read(path, MAX_BYTES as usize).map_err(|e| match e {
        crate::bounded::ReadError::TooLarge { .. } => read_err(format!(
            "grew past the {} MiB a journal may have while being read",
            MAX_BYTES / (1024 * 1024)
        )),
        e => read_err(e.to_string()),
    })?;
    parse(path, &bytes)
}

/// A parsed line, or why not.
enum Parsed {
    Line(Line),
    Legacy(LegacyEntry),
}

fn parse_line(text: &str) -> Result<Parsed, String> {
    match serde_json::from_str::<Line>(text) {
        Ok(l) => Ok(Parsed::Line(l)),
        Err(e) => match serde_json::from_str::<LegacyEntry>(text) {
            Ok(l) => Ok(Parsed::Legacy(l)),
            Err(_) => Err(e.to_string()),
        },
    }
}

/// Replays the journal's bytes (see [`read`]).
fn parse(path: &Path, bytes: &[u8]) -> Result<Replay, JournalError> {
    let mut lines: Vec<(usize, Result<Parsed, String>)> = Vec::new();
    let ends_in_newline = bytes.last().is_none_or(|b| *b == b'\n');
    let segments: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let last = segments.len().saturating_sub(1);
    for (n, seg) in segments.iter().enumerate() {
        let text = String::from_utf8_lossy(seg);
        if text.trim().is_empty() {
            continue;
        }
        let parsed = parse_line(text.trim_end_matches('\r'));
        lines.push((n + 1, parsed));
    }
    let mut replay = Replay::default();
    let count = lines.len();
    for i in 0..count {
        let (n, parsed) = &lines[i];
        let torn_tail = i + 1 == count;
        let before_run = matches!(
            lines.get(i + 1),
            Some((_, Ok(Parsed::Line(Line::Run { .. }))))
        );
        if let Err(detail) = parsed {
            if torn_tail || before_run {
                let why = if torn_tail && !ends_in_newline && *n == last + 1 {
                    "no trailing newline"
                } else {
                    "incomplete"
                };
                replay.warnings.push(format!(
                    "warning: {}:{n}: skipping a torn journal line ({why}: a run was stopped mid-write)",
                    path.display()
                ));
                continue;
            }
            return Err(JournalError::Corrupt {
                path: path.to_path_buf(),
                line: *n,
                detail: detail.clone(),
            });
        }
    }
    // Versions by (package, id), in the order their first line appeared.
    let mut index: HashMap<(String, u64), usize> = HashMap::new();
    let upsert =
        |index: &mut HashMap<(String, u64), usize>, replay: &mut Replay, e: Entry| match index
            .get(&(e.package.clone(), e.id))
        {
            Some(&k) => {
                let old = &mut replay.entries[k];
                // A later intent (another run) does not forget an earlier deletion.
                if e.state == State::Deleted || old.state == State::NotDeleted {
                    old.state = e.state;
                }
            }
            None => {
                index.insert((e.package.clone(), e.id), replay.entries.len());
                replay.entries.push(e);
            }
        };
    for (_, parsed) in lines {
        match parsed {
            Ok(Parsed::Legacy(l)) => upsert(
                &mut index,
                &mut replay,
                Entry {
                    package: l.package,
                    id: l.id,
                    digest: l.digest,
                    tags: l.tags,
                    state: State::Deleted,
                },
            ),
            Ok(Parsed::Line(Line::Intent {
                package,
                id,
                digest,
                tags,
                ..
            })) => upsert(
                &mut index,
                &mut replay,
                Entry {
                    package,
                    id,
                    digest,
                    tags,
                    state: State::PossiblyDeleted,
                },
            ),
            Ok(Parsed::Line(Line::Outcome {
                package,
                id,
                outcome,
                ..
            })) => {
                if let Some(&k) = index.get(&(package.clone(), id)) {
                    let e = &mut replay.entries[k];
                    let state = match outcome {
                        Recorded::Deleted | Recorded::AlreadyGone => State::Deleted,
                        Recorded::Failed => State::PossiblyDeleted,
                        Recorded::Refused => State::NotDeleted,
                    };
                    // A deletion recorded once stays recorded.
                    if e.state != State::Deleted {
                        e.state = state;
                    }
                }
            }
            Ok(Parsed::Line(Line::UntagIntent {
                package,
                id,
                digest,
                tag,
                ..
            })) => replay.untags.push(UntagEntry {
                package,
                id,
                digest,
                tag,
                placeholder: None,
                changed: true,
            }),
            Ok(Parsed::Line(Line::UntagOutcome {
                package,
                id,
                tag,
                outcome,
                placeholder,
                from,
                ..
            })) => {
                if let Some(u) = replay
                    .untags
                    .iter_mut()
                    .rev()
                    .find(|u| u.package == package && u.id == id && u.tag == tag)
                {
                    u.changed =
                        !matches!(outcome, RecordedUntag::NotThere | RecordedUntag::Refused);
                    u.placeholder = placeholder.or(u.placeholder.take());
                    if let Some(from) = from {
                        u.digest = from;
                    }
                }
            }
            Ok(Parsed::Line(Line::PackageIntent {
                package,
                versions,
                at,
                ..
            })) => match replay.packages.iter_mut().find(|p| p.package == package) {
                // A later intent means the package was there again (restored, or
                // pushed anew): its last deletion is the one restore undoes, and
                // GitHub's 30-day window runs from it.
                Some(p) => {
                    (p.versions, p.at) = (versions, at);
                    if p.state == State::NotDeleted {
                        p.state = State::PossiblyDeleted;
                    }
                }
                None => replay.packages.push(PackageEntry {
                    package,
                    versions,
                    at,
                    state: State::PossiblyDeleted,
                }),
            },
            Ok(Parsed::Line(Line::PackageOutcome {
                package, outcome, ..
            })) => {
                if let Some(p) = replay.packages.iter_mut().find(|p| p.package == package) {
                    if p.state != State::Deleted {
                        p.state = match outcome {
                            Recorded::Deleted | Recorded::AlreadyGone => State::Deleted,
                            Recorded::Failed => State::PossiblyDeleted,
                            Recorded::Refused => State::NotDeleted,
                        };
                    }
                }
            }
            Ok(Parsed::Line(Line::Run { .. })) | Err(_) => {}
        }
    }
    Ok(replay)
}

/// A journal open for appending by one run.
pub struct Journal {
    path: PathBuf,
    run: String,
    file: Mutex<Writer>,
}

struct Writer {
    file: File,
    /// The `run` line is written with the first intent.
    started: bool,
    /// Set by the first write error: nothing more is written or deleted.
    broken: bool,
}

impl Journal {
    /// Opens (creating) `path` for appending. When the file does not end in a newline
    /// (an earlier run was killed mid-write), one is added first so no line is ever
    /// glued onto the torn one. Fails when the file cannot be opened or created: the
    /// caller checks this before any request.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_file() && meta.len() > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1)).map_err(open_err)?;
            file.read_exact(&mut last).map_err(open_err)?;
            if last[0] != b'\n' {
                tracing::warn!(
                    "the journal {} does not end with a newline (an earlier run was stopped mid-write); starting on a new line",
                    path.display()
                );
                file.write_all(b"\n").map_err(open_err)?;
            }
        }
        let run = format!(
            "{}-{}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id()
        );
        Ok(Journal {
            path: path.to_path_buf(),
            run,
            file: Mutex::new(Writer {
                file,
                started: false,
                broken: false,
            }),
        })
    }

    fn append(&self, lines: &[Line], sync: bool) -> Result<(), JournalError> {
        let mut w = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        if w.broken {
            return Err(err(std::io::Error::other(
                "an earlier write to the journal failed",
            )));
        }
        let mut buf = String::new();
        if !w.started {
            let l = Line::Run {
                v: FORMAT,
                run: self.run.clone(),
                started_at: now(),
            };
            buf.push_str(&serde_json::to_string(&l).map_err(|e| err(e.into()))?);
            buf.push('\n');
        }
        for l in lines {
            buf.push_str(&serde_json::to_string(l).map_err(|e| err(e.into()))?);
            buf.push('\n');
        }
        // One write per call, so concurrent runs never interleave within a line.
        let result = w.file.write_all(buf.as_bytes()).and_then(|()| {
            if sync {
                w.file.sync_data()
            } else {
                Ok(())
            }
        });
        match result {
            Ok(()) => {
                w.started = true;
                Ok(())
            }
            Err(e) => {
                w.broken = true;
                Err(err(e))
            }
        }
    }

    /// Records, durably (fsync), that `decision` of `package` is about to be deleted.
    pub fn intent(&self, package: &str, d: &Decision) -> Result<(), JournalError> {
        self.append(
            &[Line::Intent {
                v: FORMAT,
                run: self.run.clone(),
                package: package.to_string(),
                id: d.id.0,
                digest: d.digest.to_string(),
                tags: d.tags.clone(),
                at: now(),
            }],
            true,
        )
    }

    /// Records how the deletion of `id` of `package` ended (the next intent's fsync
    /// makes it durable).
    pub fn outcome(&self, package: &str, id: u64, outcome: Recorded) -> Result<(), JournalError> {
        self.append(
            &[Line::Outcome {
                v: FORMAT,
                run: self.run.clone(),
                package: package.to_string(),
                id,
                outcome,
                at: now(),
            }],
            false,
        )
    }

    /// Records, durably (fsync), that `tag` is about to be removed from `d`.
    pub fn untag_intent(&self, package: &str, d: &Decision, tag: &str) -> Result<(), JournalError> {
        self.append(
            &[Line::UntagIntent {
                v: FORMAT,
                run: self.run.clone(),
                package: package.to_string(),
                id: d.id.0,
                digest: d.digest.to_string(),
                tag: tag.to_string(),
                at: now(),
            }],
            true,
        )
    }

    /// Records, durably, that the whole package `package` (with `versions`) is about
    /// to be deleted.
    pub fn package_intent(&self, package: &str, versions: &[u64]) -> Result<(), JournalError> {
        self.append(
            &[Line::PackageIntent {
                v: FORMAT,
                run: self.run.clone(),
                package: package.to_string(),
                versions: versions.to_vec(),
                at: now(),
            }],
            true,
        )
    }

    /// Records how removing `tag` from `id` of `package` ended, with the
    /// placeholder's digest when one was pushed, and `from` when the version was
    /// itself the placeholder of an interrupted untag (the digest it took the tag
    /// from).
    pub fn untag_outcome(
        &self,
        package: &str,
        id: u64,
        tag: &str,
        outcome: RecordedUntag,
        placeholder: Option<&regsweep_core::Digest>,
        from: Option<&regsweep_core::Digest>,
    ) -> Result<(), JournalError> {
        self.append(
            &[Line::UntagOutcome {
                v: FORMAT,
                run: self.run.clone(),
                package: package.to_string(),
                id,
                tag: tag.to_string(),
                outcome,
                placeholder: placeholder.map(|p| p.to_string()),
                from: from.map(|p| p.to_string()),
                at: now(),
            }],
            false,
        )
    }

    /// Records how the deletion of the whole package `package` ended.
    pub fn package_outcome(&self, package: &str, outcome: Recorded) -> Result<(), JournalError> {
        self.append(
            &[Line::PackageOutcome {
                v: FORMAT,
                run: self.run.clone(),
                package: package.to_string(),
                outcome,
                at: now(),
            }],
            false,
        )
    }

    /// Makes every line written so far durable.
    pub fn sync(&self) -> Result<(), JournalError> {
        let w = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if w.broken || !w.started {
            return Ok(());
        }
        w.file.sync_data().map_err(|source| JournalError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(text: &str) -> Result<Replay, JournalError> {
        parse(Path::new("j.jsonl"), text.as_bytes())
    }

    fn intent(id: u64) -> String {
        format!(
            r#"{{"kind":"intent","v":2,"run":"r","package":"app","id":{id},"digest":"sha256:{id:064}","tags":[],"at":"t"}}"#
        )
    }

    fn outcome(id: u64, o: &str) -> String {
        format!(
            r#"{{"kind":"outcome","v":2,"run":"r","package":"app","id":{id},"outcome":"{o}","at":"t"}}"#
        )
    }

    const RUN: &str = r#"{"kind":"run","v":2,"run":"r","started_at":"t"}"#;

    fn states(r: &Replay) -> Vec<(u64, State)> {
        r.entries.iter().map(|e| (e.id, e.state)).collect()
    }

    #[test]
    fn outcomes_decide_what_restore_tries() {
        let text = [
            RUN.to_string(),
            intent(1),
            outcome(1, "deleted"),
            intent(2),
            outcome(2, "already_gone"),
            intent(3),
            outcome(3, "refused"),
            intent(4),
            outcome(4, "failed"),
            intent(5),
        ]
        .join("\n")
            + "\n";
        let r = replay(&text).unwrap();
        assert_eq!(
            states(&r),
            vec![
                (1, State::Deleted),
                (2, State::Deleted),
                (3, State::NotDeleted),
                (4, State::PossiblyDeleted),
                (5, State::PossiblyDeleted),
            ]
        );
        assert_eq!(r.candidates().count(), 4);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn legacy_lines_are_deleted_versions() {
        let r = replay(
            r#"{"package":"app","id":7,"digest":"sha256:x","tags":["v1"],"deleted_at":"2026-01-01T00:00:00Z"}
"#,
        )
        .unwrap();
        assert_eq!(states(&r), vec![(7, State::Deleted)]);
        assert_eq!(r.entries[0].tags, vec!["v1"]);
    }

    #[test]
    fn a_torn_last_line_is_skipped_with_a_warning() {
        let text = format!("{RUN}\n{}\n{}", intent(1), &intent(2)[..30]);
        let r = replay(&text).unwrap();
        assert_eq!(states(&r), vec![(1, State::PossiblyDeleted)]);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("j.jsonl:3"), "{:?}", r.warnings);
    }

    #[test]
    fn a_torn_line_before_a_new_run_is_skipped() {
        let text = format!(
            "{RUN}\n{}\n{}\n{RUN}\n{}\n",
            intent(1),
            &intent(2)[..30],
            intent(3)
        );
        let r = replay(&text).unwrap();
        assert_eq!(states(&r).len(), 2);
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error_naming_it() {
        let text = format!("{RUN}\n{}\nnot json\n{}\n", intent(1), intent(2));
        match replay(&text) {
            Err(JournalError::Corrupt { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_later_run_does_not_forget_a_deletion() {
        let text = [
            RUN.to_string(),
            intent(1),
            outcome(1, "deleted"),
            RUN.into(),
            intent(1),
            outcome(1, "refused"),
        ]
        .join("\n");
        let r = replay(&text).unwrap();
        assert_eq!(states(&r), vec![(1, State::Deleted)]);
    }

    #[test]
    fn the_writer_starts_on_a_new_line_after_a_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        std::fs::write(&p, format!("{RUN}\n{}", &intent(1)[..20])).unwrap();
        let j = Journal::open(&p).unwrap();
        let d = Decision {
            id: regsweep_core::VersionId(2),
            digest: format!("sha256:{}", "a".repeat(64)).parse().unwrap(),
            tags: vec![],
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            action: regsweep_core::plan::Action::Delete,
            reasons: vec![],
            untag: vec![],
        };
        j.intent("app", &d).unwrap();
        j.outcome("app", 2, Recorded::Deleted).unwrap();
        let r = read(&p).unwrap();
        assert_eq!(states(&r), vec![(2, State::Deleted)]);
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn non_regular_files_are_refused() {
        assert!(matches!(
            read(Path::new("/dev/zero")),
            Err(JournalError::Read { .. })
        ));
    }

    #[test]
    fn untag_lines_replay_to_the_tags_to_put_back() {
        let d = format!("sha256:{}", "b".repeat(64));
        let p = format!("sha256:{}", "c".repeat(64));
        let ui = |id: u64, tag: &str| {
            format!(
                r#"{{"kind":"untag_intent","v":2,"run":"r","package":"app","id":{id},"digest":"{d}","tag":"{tag}","at":"t"}}"#
            )
        };
        let uo = |id: u64, tag: &str, o: &str| {
            format!(
                r#"{{"kind":"untag_outcome","v":2,"run":"r","package":"app","id":{id},"tag":"{tag}","outcome":"{o}","placeholder":"{p}","at":"t"}}"#
            )
        };
        let text = [
            RUN.to_string(),
            ui(1, "pr-1"),
            uo(1, "pr-1", "untagged"),
            ui(1, "pr-2"),
            uo(1, "pr-2", "not_there"),
            ui(2, "pr-3"),
        ]
        .join("\n");
        let r = replay(&text).unwrap();
        let got: Vec<(&str, bool, Option<&str>)> = r
            .untags
            .iter()
            .map(|u| (u.tag.as_str(), u.changed, u.placeholder.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("pr-1", true, Some(p.as_str())),
                ("pr-2", false, Some(p.as_str())),
                // Killed before the outcome: it may have been removed.
                ("pr-3", true, None),
            ]
        );
        assert_eq!(r.candidates().count(), 0);
    }

    #[test]
    fn an_untag_that_finished_an_interrupted_one_restores_to_the_digest_the_placeholder_took_the_tag_from(
    ) {
        let orig = format!("sha256:{}", "b".repeat(64));
        let p = format!("sha256:{}", "c".repeat(64));
        let text = [
            RUN.to_string(),
            // Killed after the placeholder's push: no outcome.
            format!(
                r#"{{"kind":"untag_intent","v":2,"run":"r","package":"app","id":1,"digest":"{orig}","tag":"pr-1","at":"t"}}"#
            ),
            RUN.to_string(),
            // The next run found the placeholder under the tag and deleted it.
            format!(
                r#"{{"kind":"untag_intent","v":2,"run":"r","package":"app","id":9,"digest":"{p}","tag":"pr-1","at":"t"}}"#
            ),
            format!(
                r#"{{"kind":"untag_outcome","v":2,"run":"r","package":"app","id":9,"tag":"pr-1","outcome":"untagged","placeholder":"{p}","from":"{orig}","at":"t"}}"#
            ),
        ]
        .join("\n");
        let r = replay(&text).unwrap();
        let got: Vec<(u64, &str, bool)> = r
            .untags
            .iter()
            .map(|u| (u.id, u.digest.as_str(), u.changed))
            .collect();
        assert_eq!(got, [(1, orig.as_str(), true), (9, orig.as_str(), true)]);
    }

    #[test]
    fn a_package_deleted_again_is_restorable_within_the_window_of_its_last_deletion() {
        let pi = |at: &str, versions: &str| {
            format!(
                r#"{{"kind":"package_intent","v":2,"run":"r","package":"test","versions":[{versions}],"at":"{at}"}}"#
            )
        };
        let po = |o: &str| {
            format!(
                r#"{{"kind":"package_outcome","v":2,"run":"r","package":"test","outcome":"{o}","at":"t"}}"#
            )
        };
        // Deleted, restored (not journaled), deleted again 40 days later.
        let text = [
            RUN.to_string(),
            pi("2026-01-01T00:00:00Z", "1,2"),
            po("deleted"),
            RUN.to_string(),
            pi("2026-02-10T00:00:00Z", "1,2,3"),
            po("deleted"),
        ]
        .join("\n");
        let r = replay(&text).unwrap();
        assert_eq!(r.packages.len(), 1);
        assert_eq!(r.packages[0].at, "2026-02-10T00:00:00Z");
        assert_eq!(r.packages[0].versions, [1, 2, 3]);
        assert_eq!(r.packages[0].state, State::Deleted);
    }
}
