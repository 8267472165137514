//! The learnt DELETE pace remembered between runs: `pace.json` in the cache
//! directory, `{"points_per_minute": N, "ceiling_points_per_minute": C,
//! "learnt_at": "RFC 3339"}` (the ceiling only once a limit was met; a file without
//! it reads as no ceiling known), written atomically
//! (a temporary file renamed over it). A file older than [`STALE_AFTER`], unreadable
//! or malformed is ignored with a warning: the run then starts at the configured pace.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The file's name in the cache directory.
pub const FILE_NAME: &str = "pace.json";
/// A pace learnt longer ago than this says nothing about today's limits.
pub const STALE_AFTER: SignedDuration = SignedDuration::from_hours(7 * 24);

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct LearntPace {
    pub points_per_minute: u32,
    /// The points a minute held when a DELETE was last limited: the next run holds
    /// just below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_points_per_minute: Option<u32>,
    pub learnt_at: Timestamp,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// The pace remembered in `dir`, if there is a fresh, well-formed one.
pub fn load(dir: &Path, now: Timestamp) -> Option<LearntPace> {
    let p = path(dir);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(
                "ignoring {}: it could not be read ({e}); starting at the configured pace",
                p.display()
            );
            return None;
        }
    };
    let pace: LearntPace = match serde_json::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(
                "ignoring {}: it is not a pace file ({e}); starting at the configured pace; it is rewritten at the end of the run",
                p.display()
            );
            return None;
        }
    };
    let age = now.duration_since(pace.learnt_at);
    if age > STALE_AFTER || pace.points_per_minute == 0 {
        tracing::warn!(
            "ignoring {}: the pace was learnt at {}, more than 7 days ago; starting at the configured pace",
            p.display(),
            pace.learnt_at
        );
        return None;
    }
    Some(pace)
}

/// Writes `pace` into `dir` atomically.
pub fn save(dir: &Path, pace: LearntPace) -> std::io::Result<()> {
    let target = path(dir);
    let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    let body = serde_json::to_vec_pretty(&pace).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, &target).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn tmp() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "regsweep-pace-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trips() {
        let dir = tmp();
        let pace = LearntPace {
            points_per_minute: 441,
            ceiling_points_per_minute: Some(465),
            learnt_at: ts("2026-12-01T10:00:00Z"),
        };
        save(&dir, pace).unwrap();
        assert_eq!(load(&dir, ts("2026-12-02T10:00:00Z")), Some(pace));
        // Overwritten in place, no temporary file left.
        save(
            &dir,
            LearntPace {
                points_per_minute: 500,
                ..pace
            },
        )
        .unwrap();
        assert_eq!(
            load(&dir, ts("2026-12-02T10:00:00Z"))
                .unwrap()
                .points_per_minute,
            500
        );
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file written before ceilings were remembered still loads, with none.
    #[test]
    fn a_file_without_a_ceiling_loads() {
        let dir = tmp();
        std::fs::write(
            dir.join(FILE_NAME),
            r#"{"points_per_minute": 300, "learnt_at": "2026-12-02T09:00:00Z"}"#,
        )
        .unwrap();
        let pace = load(&dir, ts("2026-12-02T10:00:00Z")).unwrap();
        assert_eq!(
            (pace.points_per_minute, pace.ceiling_points_per_minute),
            (300, None)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_stale_and_garbage_files_are_ignored() {
        let dir = tmp();
        assert_eq!(load(&dir, ts("2026-12-02T10:00:00Z")), None);
        save(
            &dir,
            LearntPace {
                points_per_minute: 441,
                ceiling_points_per_minute: None,
                learnt_at: ts("2026-11-20T10:00:00Z"),
            },
        )
        .unwrap();
        assert_eq!(load(&dir, ts("2026-12-02T10:00:00Z")), None);
        for garbage in [
            "",
            "{",
            "[]",
            "{\"points_per_minute\": -3, \"learnt_at\": \"x\"}",
            "{\"points_per_minute\": 0, \"learnt_at\": \"2026-12-02T09:00:00Z\"}",
        ] {
            std::fs::write(dir.join(FILE_NAME), garbage).unwrap();
            assert_eq!(load(&dir, ts("2026-12-02T10:00:00Z")), None, "{garbage:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
