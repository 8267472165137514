//! The delete order: deletions grouped in runs, one per image, oldest image first;
//! within a run an index before its children and artifacts before their subject, so
//! an interrupted run never leaves a tag pointing at a missing manifest.

use jiff::Timestamp;

use super::PackagePlanner;
use crate::plan::{Action, Decision};

impl PackagePlanner<'_> {
    /// Deletions grouped in runs (one per image), each in safe order, with the
    /// timestamp that ranks the run (oldest first).
    pub(super) fn delete_runs(&self, decisions: &[Decision]) -> Vec<(Timestamp, Vec<usize>)> {
        let n = self.vs.len();
        let deleted: Vec<bool> = decisions
            .iter()
            .map(|d| d.action == Action::Delete)
            .collect();
        let mut by_age: Vec<usize> = (0..n).filter(|&i| deleted[i]).collect();
        by_age.sort_by(|&a, &b| {
            (self.vs[a].updated_at, self.vs[a].id).cmp(&(self.vs[b].updated_at, self.vs[b].id))
        });
        let mut visited = vec![false; n];
        let mut runs = Vec::new();
        for &start in &by_age {
            if visited[start] {
                continue;
            }
            let mut run = Vec::new();
            self.visit(start, &deleted, &mut visited, &mut run);
            runs.push((self.vs[start].updated_at, run));
        }
        runs
    }

    /// Emits `i` after everything that must be deleted before it: indexes containing
    /// it and artifacts about it.
    pub(super) fn visit(
        &self,
        i: usize,
        deleted: &[bool],
        visited: &mut [bool],
        run: &mut Vec<usize>,
    ) {
        if visited[i] {
            return;
        }
        visited[i] = true;
        for &(p, e) in &self.inc[i] {
            if deleted[p] && self.out[p][e].relation.is_containment() {
                self.visit(p, deleted, visited, run);
            }
        }
        for edge in &self.out[i] {
            if deleted[edge.to] && !edge.relation.is_containment() {
                self.visit(edge.to, deleted, visited, run);
            }
        }
        run.push(i);
        // Then what this one contains or what is about it, so the image stays together.
        for edge in &self.out[i] {
            if deleted[edge.to] && edge.relation.is_containment() {
                self.visit(edge.to, deleted, visited, run);
            }
        }
    }
}
