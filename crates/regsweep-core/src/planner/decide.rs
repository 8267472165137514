//! From selections to decisions: the fixpoint that settles what stays (closure
//! from what is kept, forced keeps where the graph is unknown, predicted refusals),
//! then one decision per version with its deciding reason first.

use super::rules::Selections;
use super::{push_exact, Initial, PackagePlanner, Via};
use crate::plan::{Action, Decision};
use crate::reason::{Miss, Reason, Refusal};

/// Why the fixpoint keeps an untagged version although nothing needs it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Forced {
    /// The manifest of version `unread` (an index into `vs`) could not be read.
    GraphUnknown { unread: u32 },
    /// The package's manifests were not read (`--graph skip`).
    GraphNotRead,
}

/// What the fixpoint settled.
pub(super) struct Settled {
    /// Deletions GitHub would refuse.
    pub skip: Vec<Option<Refusal>>,
    /// Keeps forced by an unknown graph (the reason is built when deciding: a
    /// `Reason` per version here would cost a plan of 100,000 versions 23 MB).
    pub forced: Vec<Option<Forced>>,
    pub stays: Vec<bool>,
    /// For versions kept by the graph: how the closure reached them.
    pub protected: Vec<Option<Via>>,
}

impl PackagePlanner<'_> {
    /// Closure from what stays, cascade, forced keeps and refusals, repeated until
    /// nothing changes (a skip or a forced keep protects more of the graph).
    pub(super) fn settle(&self, initial: &[Initial]) -> Settled {
        let n = self.vs.len();
        let mut skip: Vec<Option<Refusal>> = vec![None; n];
        let mut forced: Vec<Option<Forced>> = vec![None; n];
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
                            Forced::GraphUnknown {
                                unread: u32::try_from(u)
                                    .expect("fewer than 2^32 versions in a package"),
                            }
                        } else {
                            Forced::GraphNotRead
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
            sel.deletes[i]
                .iter()
                .filter_map(|r| match r {
                    Reason::DeletedByRule { rule, .. } => Some(Reason::OverridesDelete {
                        rule: rule.to_string(),
                    }),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        if self.known_kept[i] {
            // Refused at delete time: the caller keeps the refusal's outcome.
            return (Action::Skip, std::mem::take(&mut sel.deletes[i]));
        }
        if let Some(refusal) = &s.skip[i] {
            let r = vec![Reason::Refused {
                refusal: refusal.clone(),
            }];
            return (Action::Skip, joined(r, std::mem::take(&mut sel.deletes[i])));
        }
        if let Some(f) = s.forced[i] {
            let r = vec![match f {
                Forced::GraphUnknown { unread } => Reason::GraphUnknown {
                    unread: Box::new(self.vref(unread as usize)),
                },
                Forced::GraphNotRead => Reason::GraphNotRead,
            }];
            return (Action::Keep, joined(r, overridden(sel)));
        }
        if initial[i] == Initial::Strong {
            return (Action::Keep, joined(sel.keeps[i].clone(), overridden(sel)));
        }
        if let Some(via) = s.protected[i] {
            let (parent, rel, root) = (via.parent as usize, via.edge as usize, via.root as usize);
            let relation = self.out[parent][rel].relation.clone();
            let r = vec![Reason::Protected {
                relation: Box::new(relation),
                parent: Box::new(self.vref(parent)),
                root: Box::new(self.vref(root)),
            }];
            return (Action::Keep, joined(r, overridden(sel)));
        }
        if s.stays[i] {
            return (
                Action::Keep,
                not_selected(std::mem::take(&mut sel.misses[i])),
            );
        }
        if initial[i] == Initial::Delete {
            let r = std::mem::take(&mut sel.deletes[i]);
            let with = self.deleted_with(i, &s.stays).into_iter().collect();
            return (Action::Delete, joined(r, with));
        }
        let w = self
            .deleted_with(i, &s.stays)
            .expect("a cascaded version has a deleted parent");
        (Action::Delete, vec![w])
    }
}

/// `first` then `more`, in exactly the room they need (see `push_exact`).
fn joined(mut first: Vec<Reason>, more: Vec<Reason>) -> Vec<Reason> {
    if !more.is_empty() {
        first.reserve_exact(more.len());
        first.extend(more);
    }
    first
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
            push_exact(
                &mut r,
                Reason::PartialTagMatch {
                    rule: x.rule.to_string(),
                    unselected: unselected.clone(),
                },
            );
            false
        }
        _ => true,
    });
    if r.is_empty() || !m.is_empty() {
        push_exact(&mut r, Reason::NotSelected { misses: m });
    }
    r
}
