//! Applying the rules: every rule of the package against every version, collected
//! into [`Selections`] (keep, delete and untag reasons, misses), with the partial
//! tag matches other delete rules complete and the `keep_newest` counts.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::select::untag_tags;
use super::{Initial, PackagePlanner};
use crate::model::age;
use crate::policy::{Rule, RuleAction};
use crate::reason::{Miss, Reason, RuleMiss, RuleName, Selected};

/// One rule's verdict per version: Ok(age) when it selects it.
pub(super) type Checks = Vec<Result<Duration, Miss>>;

/// An untag rule that selected a version: the tags it removes and how it selected.
pub(super) struct UntagPick<'r> {
    pub rule: &'r Rule,
    pub tags: Vec<String>,
    pub how: Selected,
}

/// What the rules said about each version (indexes are the planner's `vs`).
pub(super) struct Selections<'r> {
    pub keeps: Vec<Vec<Reason>>,
    pub deletes: Vec<Vec<Reason>>,
    pub misses: Vec<Vec<RuleMiss>>,
    /// Keep rules that kept each version (not counting `keep_newest` spares of
    /// delete rules).
    pub keep_rules: Sparse<&'r Rule>,
    pub untags: Sparse<UntagPick<'r>>,
}

/// A list per version where most versions have none (kept as a map: an empty
/// `Vec` per version costs a plan of 1,000,000 versions 24 MB). Indexing reads an
/// absent version as an empty list.
pub(super) struct Sparse<T> {
    lists: HashMap<usize, Vec<T>>,
    empty: Vec<T>,
}

impl<T> Default for Sparse<T> {
    fn default() -> Self {
        Sparse {
            lists: HashMap::new(),
            empty: Vec::new(),
        }
    }
}

impl<T> std::ops::Index<usize> for Sparse<T> {
    type Output = Vec<T>;
    fn index(&self, i: usize) -> &Vec<T> {
        self.lists.get(&i).unwrap_or(&self.empty)
    }
}

impl<T> std::ops::IndexMut<usize> for Sparse<T> {
    fn index_mut(&mut self, i: usize) -> &mut Vec<T> {
        self.lists.entry(i).or_default()
    }
}

impl<'r> Selections<'r> {
    fn new(n: usize) -> Self {
        Selections {
            keeps: vec![Vec::new(); n],
            deletes: vec![Vec::new(); n],
            misses: vec![Vec::new(); n],
            keep_rules: Sparse::default(),
            untags: Sparse::default(),
        }
    }

    /// Where each version starts before the graph is considered.
    pub fn initial(&self) -> Vec<Initial> {
        (0..self.keeps.len())
            .map(|i| {
                if !self.keeps[i].is_empty() {
                    Initial::Strong
                } else if !self.deletes[i].is_empty() {
                    Initial::Delete
                } else {
                    Initial::Weak
                }
            })
            .collect()
    }
}

impl<'a> PackagePlanner<'a> {
    /// Applies every rule of the package to every version.
    pub(super) fn select(&self) -> Selections<'a> {
        let n = self.vs.len();
        let rules: Vec<(&'a Rule, Checks)> = self
            .input
            .policy
            .rules
            .iter()
            .filter(|r| r.packages.matches(&self.pkg.name))
            .map(|rule| {
                let top = rule.semver_lines.map(|l| self.top_lines(rule, l));
                let checks = (0..n)
                    .map(|i| self.check(rule, i, top.as_deref()))
                    .collect();
                (rule, checks)
            })
            .collect();
        let uncovered = uncovered_tags(n, &rules);
        let mut sel = Selections::new(n);
        for (rule, checks) in rules {
            // One shared name per rule for all the reasons that name it.
            let name = RuleName::from(rule.name.as_str());
            let candidates = self.candidates(rule, &name, checks, &uncovered, &mut sel.misses);
            let (mut spared, unsure) = self.spared(rule, &candidates);
            for (i, a) in candidates {
                if unsure[i] {
                    super::push_exact(&mut sel.keeps[i], self.graph_unknown_reason());
                    continue;
                }
                self.record(rule, &name, i, a, spared[i].take(), &mut sel);
            }
        }
        sel
    }

    /// The versions `rule` selects, with their age; the others get a miss.
    fn candidates(
        &self,
        rule: &Rule,
        name: &RuleName,
        checks: Checks,
        uncovered: &[Vec<String>],
        misses: &mut [Vec<RuleMiss>],
    ) -> Vec<(usize, Duration)> {
        let mut candidates = Vec::new();
        for (i, (m, checked)) in misses.iter_mut().zip(checks).enumerate() {
            match checked {
                Ok(a) => candidates.push((i, a)),
                // Other delete rules select the tags this one does not.
                Err(Miss::TagsPartlySelected { .. }) if uncovered[i].is_empty() => {
                    let v = self.vs[i];
                    candidates.push((i, age(self.input.now, v.timestamp(rule.timestamp))));
                }
                Err(Miss::TagsPartlySelected { .. }) => super::push_exact(
                    m,
                    RuleMiss {
                        rule: name.clone(),
                        miss: Miss::TagsPartlySelected {
                            unselected: uncovered[i].clone(),
                        },
                    },
                ),
                Err(miss) => super::push_exact(
                    m,
                    RuleMiss {
                        rule: name.clone(),
                        miss,
                    },
                ),
            }
        }
        candidates
    }

    /// `keep_newest`: the candidates the rule spares (how), and the untagged ones
    /// whose being an image is unknown (the package's graph is not fully known):
    /// those are neither counted nor selected by this rule.
    fn spared(
        &self,
        rule: &Rule,
        candidates: &[(usize, Duration)],
    ) -> (Vec<Option<Selected>>, Vec<bool>) {
        let n = self.vs.len();
        let mut spared = vec![None; n];
        let mut unsure = vec![false; n];
        let Some(k) = &rule.keep_newest else {
            return (spared, unsure);
        };
        let mut groups: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
        for &(i, _) in candidates {
            if !self.is_image_root(i) {
                continue;
            }
            if !self.unread.is_empty() && !self.vs[i].is_tagged() {
                unsure[i] = true;
                continue;
            }
            groups
                .entry(self.group_key(&k.group_by, i))
                .or_default()
                .push(i);
        }
        for (key, mut members) in groups {
            let ts = |i: usize| self.vs[i].timestamp(rule.timestamp);
            members.sort_by(|&a, &b| ts(b).cmp(&ts(a)).then(self.vs[b].id.cmp(&self.vs[a].id)));
            for (rank, &i) in members.iter().take(k.count).enumerate() {
                spared[i] = Some(Selected::Newest {
                    rank: rank + 1,
                    count: k.count,
                    group: key.as_deref().map(Box::from),
                });
            }
        }
        (spared, unsure)
    }

    /// Records that `rule` selected version `i` (`a` old), or spared it (`spared`).
    fn record(
        &self,
        rule: &'a Rule,
        name: &RuleName,
        i: usize,
        a: Duration,
        spared: Option<Selected>,
        sel: &mut Selections<'a>,
    ) {
        match (spared, rule.action) {
            // Spared by an untag rule: this rule removes none of its tags.
            (Some(_), RuleAction::Untag) => {}
            (Some(how), action) => {
                if action == RuleAction::Keep {
                    sel.keep_rules[i].push(rule);
                }
                super::push_exact(
                    &mut sel.keeps[i],
                    Reason::KeptByRule {
                        rule: name.clone(),
                        how,
                    },
                )
            }
            // A keep rule with keep_newest keeps only the newest N.
            (None, RuleAction::Keep) if rule.keep_newest.is_some() => {}
            (None, RuleAction::Keep) => {
                sel.keep_rules[i].push(rule);
                super::push_exact(
                    &mut sel.keeps[i],
                    Reason::KeptByRule {
                        rule: name.clone(),
                        how: self.how(rule, i, a),
                    },
                )
            }
            (None, RuleAction::Delete) => super::push_exact(
                &mut sel.deletes[i],
                Reason::DeletedByRule {
                    rule: name.clone(),
                    how: self.how(rule, i, a),
                },
            ),
            (None, RuleAction::Untag) => super::push_exact(
                &mut sel.untags[i],
                UntagPick {
                    rule,
                    tags: untag_tags(rule, self.vs[i]).into_iter().cloned().collect(),
                    how: self.how(rule, i, a),
                },
            ),
        }
    }
}

/// For each version, the tags that no delete rule selects while every other
/// condition of that rule holds (empty when delete rules together select every tag,
/// or when no delete rule applies). A delete rule deletes a tagged version only when
/// this is empty: deleting a version removes all of its tags.
fn uncovered_tags(n: usize, rules: &[(&Rule, Checks)]) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let mut left: Option<Vec<String>> = None;
            for (rule, checks) in rules {
                if rule.action != RuleAction::Delete {
                    continue;
                }
                let unselected = match &checks[i] {
                    Ok(_) => return Vec::new(),
                    Err(Miss::TagsPartlySelected { unselected }) => unselected,
                    Err(_) => continue,
                };
                left = Some(match left {
                    None => unselected.clone(),
                    Some(l) => l.into_iter().filter(|t| unselected.contains(t)).collect(),
                });
            }
            left.unwrap_or_default()
        })
        .collect()
}
