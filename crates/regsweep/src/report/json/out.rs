//! A JSON writer for the parts of the document written by hand: the same bytes as
//! serde_json's pretty layout, faster where a report has one entry per version.
//!
//! serde_json escapes every string byte by byte and formats every timestamp through
//! `Display` machinery; at 100,000 versions that was a third of a plan's CPU time.
//! Here a string is scanned for the three kinds of byte JSON escapes in one pass that
//! the compiler vectorizes, and written as is when it has none (digests, tags and
//! reasons nearly always); a whole-second timestamp is printed by
//! [`regsweep_core::utc::format`].
//! Anything else (an escape, a fraction of a second, a year jiff prints in extended
//! form) goes to serde_json or jiff themselves, so the output never differs.

use std::io::{self, Write};

use serde::Serialize;

use super::pretty::Pretty;

/// What the buffer gathers before the sink gets it.
const PIECE: usize = 1 << 16;

/// Writes objects, arrays and values in serde_json's pretty layout: into a buffer,
/// handed to the sink in pieces of [`PIECE`] bytes or more.
pub(super) struct Out<W: Write> {
    w: Vec<u8>,
    sink: W,
    /// Where the document is in the layout, kept as serde's formatter keeps it.
    layout: Pretty,
    /// Reused for text made by `Display` (a reason), escaped once it is whole.
    scratch: String,
}

impl<W: Write> Out<W> {
    pub(super) fn new(sink: W) -> Self {
        Out {
            w: Vec::with_capacity(PIECE * 2),
            sink,
            layout: Pretty::default(),
            scratch: String::new(),
        }
    }

    /// Hands what is written so far to the sink when it is a piece or more; called
    /// between entries, so the buffer stays near one piece whatever the document.
    pub(super) fn pass(&mut self) -> io::Result<()> {
        if self.w.len() >= PIECE {
            self.sink.write_all(&self.w)?;
            self.w.clear();
        }
        Ok(())
    }

    /// Ends the document: a line break, everything handed to the sink, flushed.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.w.push(b'\n');
        self.sink.write_all(&self.w)?;
        self.sink.flush()
    }

    /// Opens an object (`{`) or an array (`[`).
    pub(super) fn open(&mut self, bracket: &[u8]) -> io::Result<()> {
        self.layout.begin(&mut self.w, bracket)
    }

    /// Closes what [`Out::open`] opened; empty ones stay on one line (`[]`).
    pub(super) fn close(&mut self, bracket: &[u8]) -> io::Result<()> {
        self.layout.end(&mut self.w, bracket)?;
        // The closed value is a member of the one around it.
        self.layout.has_value = true;
        Ok(())
    }

    /// Starts an object member: `key` must need no escaping (the schema's keys).
    pub(super) fn key(&mut self, key: &str) -> io::Result<()> {
        debug_assert!(!needs_escape(key), "a key the schema names: {key}");
        self.element()?;
        self.w.write_all(b"\"")?;
        self.w.write_all(key.as_bytes())?;
        self.w.write_all(b"\": ")
    }

    /// Starts an array element.
    pub(super) fn element(&mut self) -> io::Result<()> {
        self.layout.line(&mut self.w, self.layout.has_value)?;
        self.layout.has_value = true;
        Ok(())
    }

    /// A value serde serializes, laid out at the current depth.
    pub(super) fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> io::Result<()> {
        let mut ser =
            serde_json::Serializer::with_formatter(&mut self.w, Pretty::at(self.layout.level));
        v.serialize(&mut ser).map_err(io::Error::from)
    }

    /// `"key": value` with a serde value.
    pub(super) fn entry<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> io::Result<()> {
        self.key(key)?;
        self.value(v)
    }

    /// A literal that needs no quoting or escaping (`true`, `"keep"`).
    pub(super) fn raw(&mut self, literal: &[u8]) -> io::Result<()> {
        self.w.write_all(literal)
    }

    /// A string, escaped as serde_json escapes it.
    pub(super) fn string(&mut self, s: &str) -> io::Result<()> {
        write_string(&mut self.w, s)
    }

    /// A string made by `Display`, as serde's `collect_str` writes it.
    pub(super) fn shown(&mut self, v: impl std::fmt::Display) -> io::Result<()> {
        use std::fmt::Write as _;
        let mut s = std::mem::take(&mut self.scratch);
        s.clear();
        let _ = write!(s, "{v}");
        let written = write_string(&mut self.w, &s);
        self.scratch = s;
        written
    }

    /// A timestamp, as its `Display` writes it.
    pub(super) fn timestamp(&mut self, t: jiff::Timestamp) -> io::Result<()> {
        match regsweep_core::utc::format(t) {
            Some(text) => {
                self.w.write_all(b"\"")?;
                self.w.write_all(&text)?;
                self.w.write_all(b"\"")
            }
            None => self.shown(t),
        }
    }

    /// An array of strings.
    pub(super) fn strings(&mut self, items: &[String]) -> io::Result<()> {
        self.open(b"[")?;
        for s in items {
            self.element()?;
            self.string(s)?;
        }
        self.close(b"]")
    }
}

/// Whether JSON needs an escape in `s`: a control character, `"` or `\` (what
/// serde_json escapes; everything else, non-ASCII included, is written as is). No
/// early exit, so the loop is vectorized.
fn needs_escape(s: &str) -> bool {
    s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

fn write_string(w: &mut Vec<u8>, s: &str) -> io::Result<()> {
    if needs_escape(s) {
        return serde_json::to_writer(w, s).map_err(io::Error::from);
    }
    w.reserve(s.len() + 2);
    w.push(b'"');
    w.extend_from_slice(s.as_bytes());
    w.push(b'"');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(f: impl FnOnce(&mut Out<Vec<u8>>) -> io::Result<()>) -> String {
        let mut o = Out::new(Vec::new());
        f(&mut o).unwrap();
        assert!(o.sink.is_empty(), "nothing passed before the end");
        String::from_utf8(o.w).unwrap()
    }

    #[test]
    fn timestamps_at_the_edges_print_as_jiff_prints_them() {
        for s in [
            "1970-01-01T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2000-02-29T12:00:00Z",
            "2100-03-01T00:00:00Z",
            "2026-12-02T09:53:27Z",
            "9999-12-30T22:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-12-02T09:53:27.5Z",
            "-000001-01-01T00:00:00Z",
        ] {
            let t: jiff::Timestamp = s.parse().unwrap();
            assert_eq!(
                written(|o| o.timestamp(t)),
                format!("\"{t}\""),
                "{s} is printed as jiff prints it"
            );
        }
    }

    proptest! {
        /// Every timestamp jiff can hold, on a whole second or not.
        #[test]
        fn timestamps_print_as_jiff_prints_them(
            secs in jiff::Timestamp::MIN.as_second()..=jiff::Timestamp::MAX.as_second(),
            nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000],
        ) {
            let t = jiff::Timestamp::new(secs, 0).unwrap();
            let t = t.checked_add(jiff::SignedDuration::new(0, nanos)).unwrap_or(t);
            prop_assert_eq!(written(|o| o.timestamp(t)), format!("\"{t}\""));
        }

        /// Any string, control characters, quotes and non-ASCII included.
        #[test]
        fn strings_are_escaped_as_serde_json_escapes_them(s in any::<String>()) {
            prop_assert_eq!(written(|o| o.string(&s)), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(written(|o| o.shown(&s)), serde_json::to_string(&s).unwrap());
        }

        /// Arrays of strings, empty or not, at any depth.
        #[test]
        fn string_arrays_are_laid_out_as_serde_json_lays_them_out(
            items in proptest::collection::vec(any::<String>(), 0..4),
        ) {
            let mine = written(|o| {
                o.open(b"{")?;
                o.entry("count", &items.len())?;
                o.key("tags")?;
                o.strings(&items)?;
                o.close(b"}")
            });
            let theirs =
                serde_json::to_string_pretty(&serde_json::json!({"tags": items, "count": items.len()}))
                    .unwrap();
            prop_assert_eq!(mine, theirs);
        }
    }
}
