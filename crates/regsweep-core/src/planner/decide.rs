//! From selections to decisions: the fixpoint that settles what stays (closure
//! from what is kept, forced keeps where the graph is unknown, predicted refusals),
//! then one decision per version with its deciding reason first.

use super::rules::Selections;
use super::{Initial, PackagePlanner};
use crate::plan::{Action, Decision};
use crate::reason::{Miss, Reason, Refusal};

/// What the fixpoint settled.
pub(super) struct Settled {
    /// Deletions GitHub would refuse.
    pub skip: Vec<Option<Refusal>>,
    /// Keeps forced by an unknown graph.
    pub forced: Vec<Option<Reason>>,
    pub stays: Vec<bool>,
    /// For versions kept by the graph: (parent, edge, root).
    pub protected: Vec<Option<(usize, usize, usize)>>,
}

impl PackagePlanner<'_> {
    /// Closure from what stays, cascade, forced keeps and refusals, repeated until
    /// nothing changes (a skip or a forced keep protects more of the graph).
    pub(super) fn settle(&self, initial: &[Initial]) -> Settled {
        let n = self.vs.len();
        let mut skip: Vec<Option<Refusal>> = vec![None; n];
        let mut forced: Vec<Option<Reason>> = vec![None; n];
        loop {
            let root: Vec<bool> = (0..n)
                .map(|i| {
                    initial[i] == Initial::Strong
                        || self.known_kept[i]
                        || skip[i].is_some()
                        || forced[i].is_some()
                        || (initial[i] == Initial::Weak
                            && (self.inc[i].is_empty() || self.is_image_tagged(i)))
                })
                .collect();
            let (stays, protected) = self.closure(&root);
            let mut changed = false;
            // A package with an unread manifest that stays: keep its untagged versions.
            if let Some(&u) = self.unread.iter().find(|&&u| stays[u]) {
                for i in 0..n {
                    if !stays[i] && !self.vs[i].is_tagged() && forced[i].is_none() {
                        forced[i] = Some(if self.graph_read {
                            Reason::GraphUnknown {
                                unread: self.vref(u),
                            }
                        } else {
                            Reason::GraphNotRead
                        });
                        changed = true;
                    }
                }
            }
            if self.input.options.refusals.any() && !changed {
                changed |= self.predict_refusals(&stays, &mut skip);
            }
            if !changed {
                return Settled {
                    skip,
                    forced,
                    stays,
                    protected,
                };
            }
        }
    }

    /// The decision about version `i` (before untagging).
    pub(super) fn decide(
        &self,
        i: usize,
        sel: &mut Selections<'_>,
        initial: &[Initial],
        s: &Settled,
    ) -> Decision {
        let v = self.vs[i];
        let (action, reasons) = self.action_and_reasons(i, sel, initial, s);
        Decision {
            id: v.id,
            digest: v.digest.clone(),
            tags: v.tags.clone(),
            created_at: v.created_at,
            updated_at: v.updated_at,
            action,
            reasons,
            untag: Vec::new(),
        }
    }

    fn action_and_reasons(
        &self,
        i: usize,
        sel: &mut Selections<'_>,
        initial: &[Initial],
        s: &Settled,
    ) -> (Action, Vec<Reason>) {
        let overridden = |sel: &Selections<'_>| {
            sel.delete_rules[i]
                .iter()
                .map(|r| Reason::OverridesDelete { rule: r.clone() })
                .collect::<Vec<_>>()
        };
        if self.known_kept[i] {
            // Refused at delete time: the caller keeps the refusal's outcome.
            return (Action::Skip, sel.deletes[i].clone());
        }
        if let Some(refusal) = &s.skip[i] {
            let mut r = vec![Reason::Refused {
                refusal: refusal.clone(),
            }];
            r.extend(sel.deletes[i].iter().cloned());
            return (Action::Skip, r);
        }
        if let Some(f) = &s.forced[i] {
            let mut r = vec![f.clone()];
            r.extend(overridden(sel));
            return (Action::Keep, r);
        }
        if initial[i] == Initial::Strong {
            let mut r = sel.keeps[i].clone();
            r.extend(overridden(sel));
            return (Action::Keep, r);
        }
        if let Some((parent, rel, root)) = s.protected[i] {
            let relation = self.out[parent][rel].relation.clone();
            let mut r = vec![Reason::Protected {
                relation,
                parent: self.vref(parent),
                root: self.vref(root),
            }];
            r.extend(overridden(sel));
            return (Action::Keep, r);
        }
        if s.stays[i] {
            return (
                Action::Keep,
                not_selected(std::mem::take(&mut sel.misses[i])),
            );
        }
        if initial[i] == Initial::Delete {
            let mut r = sel.deletes[i].clone();
            r.extend(self.deleted_with(i, &s.stays));
            return (Action::Delete, r);
        }
        let w = self
            .deleted_with(i, &s.stays)
            .expect("a cascaded version has a deleted parent");
        (Action::Delete, vec![w])
    }
}

/// The reasons of a version no rule selected: a delete rule that would have deleted
/// it but for tags it does not select is the deciding reason; tag-state misses are
/// shown only when nothing else explains it.
fn not_selected(mut m: Vec<crate::reason::RuleMiss>) -> Vec<Reason> {
    if m.iter().any(|x| !matches!(x.miss, Miss::TagState { .. })) {
        m.retain(|x| !matches!(x.miss, Miss::TagState { .. }));
    }
    let mut r: Vec<Reason> = Vec::new();
    m.retain(|x| match &x.miss {
        Miss::TagsPartlySelected { unselected } => {
            r.push(Reason::PartialTagMatch {
                rule: x.rule.clone(),
                unselected: unselected.clone(),
            });
            false
        }
        _ => true,
    });
    if r.is_empty() || !m.is_empty() {
        r.push(Reason::NotSelected { misses: m });
    }
    r
}
