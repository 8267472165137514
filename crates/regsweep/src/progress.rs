//! Progress on stderr: indicatif bars on a terminal, a plain line every few seconds
//! otherwise (CI logs), nothing when quiet. Bars draw on [`crate::redact::Terminal`],
//! lines go through the logs: both are redacted.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::redact::Terminal;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Bars,
    Lines,
    Quiet,
}

/// The progress reporter of a run.
#[derive(Clone, Debug)]
pub struct Progress {
    mode: Mode,
}

impl Progress {
    /// Bars when stderr is a terminal, lines otherwise.
    pub fn detect() -> Progress {
        Progress {
            mode: if std::io::stderr().is_terminal() {
                Mode::Bars
            } else {
                Mode::Lines
            },
        }
    }

    /// A one-off note.
    pub fn note(&self, what: &str) {
        if self.mode != Mode::Quiet {
            tracing::info!("{what}");
        }
    }

    /// A bar with a known total.
    pub fn bar(&self, what: &str, total: u64) -> Task {
        Task::new(self.mode, what, Some(total))
    }

    /// A counter with no known total.
    pub fn counter(&self, what: &str) -> Task {
        Task::new(self.mode, what, None)
    }
}

/// A bar (with a known `total`) or a counter drawn on `target`, labelled `what`.
fn bar_on(target: ProgressDrawTarget, what: &str, total: Option<u64>) -> ProgressBar {
    let b = ProgressBar::with_draw_target(total, target);
    let style = match total {
        Some(_) => ProgressStyle::with_template("{msg:>20} [{bar:30}] {pos}/{len} ({eta})"),
        None => ProgressStyle::with_template("{msg:>20} {spinner} {pos}"),
    };
    if let Ok(s) = style {
        b.set_style(s.progress_chars("=> "));
    }
    b.set_message(what.to_string());
    b.enable_steady_tick(Duration::from_millis(200));
    b
}

/// One task being tracked.
#[derive(Clone)]
pub struct Task {
    inner: Arc<TaskInner>,
}

struct TaskInner {
    bar: Option<ProgressBar>,
    what: String,
    total: Option<u64>,
    pos: AtomicU64,
    last_line: Mutex<Instant>,
    lines: bool,
}

const LINE_EVERY: Duration = Duration::from_secs(5);

impl Task {
    fn new(mode: Mode, what: &str, total: Option<u64>) -> Task {
        let bar = (mode == Mode::Bars).then(|| {
            let target = ProgressDrawTarget::term_like(Box::new(Terminal::stderr()));
            bar_on(target, what, total)
        });
        Task {
            inner: Arc::new(TaskInner {
                bar,
                what: what.to_string(),
                total,
                pos: AtomicU64::new(0),
                last_line: Mutex::new(Instant::now()),
                lines: mode == Mode::Lines,
            }),
        }
    }

    /// Adds `n` to the position.
    pub fn inc(&self, n: u64) {
        let pos = self.inner.pos.fetch_add(n, Ordering::Relaxed) + n;
        self.update(pos);
    }

    /// Sets the position.
    pub fn set(&self, pos: u64) {
        self.inner.pos.store(pos, Ordering::Relaxed);
        self.update(pos);
    }

    fn update(&self, pos: u64) {
        if let Some(b) = &self.inner.bar {
            b.set_position(pos);
        } else if self.inner.lines {
            let mut last = self
                .inner
                .last_line
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= LINE_EVERY {
                *last = Instant::now();
                match self.inner.total {
                    Some(t) => tracing::info!("{}: {pos}/{t}", self.inner.what),
                    None => tracing::info!("{}: {pos}", self.inner.what),
                }
            }
        }
    }

    /// Ends the task.
    pub fn finish(&self) {
        if let Some(b) = &self.inner.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsweep_core::Secret;

    /// A terminal that keeps what is drawn on it.
    #[derive(Clone, Debug, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(&format!("{s}\n"));
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Bug: progress bars drew on stderr past the redaction, so a message holding the
    /// token (a package named after it) showed it.
    #[test]
    fn progress_bar_messages_are_redacted() {
        crate::redact::global().add_secret(&Secret::new("ghp_progress_bar_secret"));
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(Terminal::new(screen.clone())));
        let bar = bar_on(target, "listing ghp_progress_bar_secret", Some(4));
        bar.set_position(2);
        bar.finish();
        let drawn = screen.0.lock().unwrap().clone();
        assert!(drawn.contains("listing [redacted]"), "{drawn:?}");
        assert!(!drawn.contains("ghp_progress_bar_secret"), "{drawn:?}");
    }
}
