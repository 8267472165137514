//! serde_json's pretty layout (two spaces a level) as a `Formatter` that can start
//! at any depth, so that a value serialized by serde in the middle of a document the
//! writer writes by hand lands at the right indentation.

use std::io::Write;

/// serde_json's pretty layout (two spaces a level), byte for byte, with each line
/// break and its indentation written in one piece: `PrettyFormatter` writes the
/// indentation one level at a time, five or six writes a line in the decisions.
///
/// The hand-written parts of the document ([`super::out::Out`]) keep their place in
/// the same layout with the same state and steps.
#[derive(Default)]
pub(super) struct Pretty {
    /// Depth of the object or array being written (0: none open).
    pub(super) level: usize,
    /// Whether that object or array has a member already.
    pub(super) has_value: bool,
}

/// A comma, a line break and the indentation of the 32 levels written at once;
/// deeper levels take more than one write.
const LINE: &[u8] = b",\n                                                                ";

impl Pretty {
    /// The layout of a value nested `level` deep (0: the document itself).
    pub(super) fn at(level: usize) -> Self {
        Pretty {
            level,
            has_value: false,
        }
    }

    /// `,` when `comma`, then a line break and the current indentation.
    pub(super) fn line<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        let start = if comma { 0 } else { 1 };
        let room = LINE.len() - 2;
        let spaces = self.level * 2;
        w.write_all(&LINE[start..2 + spaces.min(room)])?;
        let mut rest = spaces.saturating_sub(room);
        while rest > 0 {
            let n = rest.min(room);
            w.write_all(&LINE[2..2 + n])?;
            rest -= n;
        }
        Ok(())
    }

    /// Opens an object or array: one level deeper, no member yet.
    pub(super) fn begin<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        open: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(open)
    }

    /// Closes it, on a line of its own unless it is empty (`[]`).
    pub(super) fn end<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        close: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, false)?;
        }
        w.write_all(close)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    /// `Pretty` writes what serde_json's `PrettyFormatter` writes, deep levels too.
    #[test]
    fn pretty_matches_serde_json_layout() {
        let mut deep = serde_json::json!({"leaf": [1, "x\n\"y"], "empty": [], "none": {}});
        for i in 0..40 {
            deep = serde_json::json!({"level": i, "inner": [deep, {}], "list": [[], [true]]});
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
        deep.serialize(&mut ser).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap()
        );
    }
}
