//! Untagging: after every version's fate is settled, the tags untag rules select
//! are removed from the versions that stay (decisions become [`Action::Untag`]).
//!
//! Safety (docs/policy.md, "Untagging"):
//! - only versions that stay are untagged (a deleted version loses all its tags
//!   anyway; a skipped one keeps them); cosign / referrers tags are never removed;
//! - keep beats untag: a tag a keep rule's `tags` names stays, and a version a rule
//!   keeps never loses its last tag;
//! - the plan is computed on the tags as listed: a version this run untags is not
//!   deleted in the same run (a `state: untagged` rule sees it on the next run);
//! - with GitHub's refusals predicted, the package keeps a tagged version: when
//!   nothing else would keep a tag, the newest version untagging would strip is
//!   skipped (GitHub would refuse to delete the placeholder holding its tag).

use std::collections::HashSet;

use super::rules::Selections;
use super::{Initial, PackagePlanner};
use crate::plan::{Action, Decision};
use crate::reason::{Reason, Refusal};

impl PackagePlanner<'_> {
    /// Turns the decisions to keep versions untag rules selected into untags.
    pub(super) fn untag(
        &self,
        sel: &Selections<'_>,
        initial: &[Initial],
        decisions: &mut [Decision],
    ) {
        for (i, d) in decisions.iter_mut().enumerate() {
            if d.action == Action::Keep && !sel.untags[i].is_empty() {
                self.untag_one(i, sel, initial[i] == Initial::Strong, d);
            }
        }
        if self.input.options.refusals.last_tagged_version {
            keep_a_tag(decisions);
        }
    }

    fn untag_one(&self, i: usize, sel: &Selections<'_>, kept_by_rule: bool, d: &mut Decision) {
        let v = self.vs[i];
        let wanted: Vec<&String> = v
            .tags
            .iter()
            .filter(|t| sel.untags[i].iter().any(|p| p.tags.contains(t)))
            .collect();
        // Keep beats untag, tag by tag.
        let mut spared: HashSet<&String> = HashSet::new();
        let mut kept_tags = Vec::new();
        for k in sel.keep_rules[i].iter().filter(|k| !k.tags.is_empty()) {
            let named: Vec<String> = wanted
                .iter()
                .filter(|t| k.tags.matches(t) && !spared.contains(*t))
                .map(|t| t.to_string())
                .collect();
            if !named.is_empty() {
                spared.extend(wanted.iter().copied().filter(|t| named.contains(t)));
                kept_tags.push(Reason::TagsKeptByRule {
                    tags: named,
                    keep_rule: k.name.clone(),
                });
            }
        }
        let remove: Vec<String> = wanted
            .into_iter()
            .filter(|t| !spared.contains(t))
            .cloned()
            .collect();
        if remove.is_empty() {
            d.reasons.extend(kept_tags);
            return;
        }
        if kept_by_rule && remove.len() == v.tags.len() {
            let keep_rule = sel.keeps[i]
                .iter()
                .find_map(|r| match r {
                    Reason::KeptByRule { rule, .. } => Some(rule.to_string()),
                    _ => None,
                })
                .unwrap_or_default();
            d.reasons.push(Reason::LastTagKept {
                rule: sel.untags[i][0].rule.name.clone(),
                keep_rule,
            });
            return;
        }
        let mut reasons: Vec<Reason> = sel.untags[i]
            .iter()
            .filter_map(|p| {
                let mine: Vec<String> = p
                    .tags
                    .iter()
                    .filter(|t| remove.contains(t))
                    .cloned()
                    .collect();
                (!mine.is_empty()).then(|| Reason::UntaggedByRule {
                    rule: p.rule.name.clone(),
                    tags: mine,
                    how: Box::new(p.how.clone()),
                })
            })
            .collect();
        reasons.append(&mut d.reasons);
        reasons.extend(kept_tags);
        d.reasons = reasons;
        d.action = Action::Untag;
        d.untag = remove;
    }
}

/// Whether `d`'s version has a tag after the plan.
fn keeps_tag(d: &Decision) -> bool {
    match d.action {
        Action::Delete => false,
        Action::Untag => d.untag.len() < d.tags.len(),
        Action::Keep | Action::Skip => !d.tags.is_empty(),
    }
}

/// When no version of the package would keep a tag, the newest version untagging
/// would strip keeps its tags (skipped, with GitHub's refusal as the reason).
fn keep_a_tag(decisions: &mut [Decision]) {
    if decisions.iter().any(keeps_tag) {
        return;
    }
    if let Some(d) = decisions.iter_mut().find(|d| d.action == Action::Untag) {
        d.action = Action::Skip;
        d.untag.clear();
        d.reasons.insert(
            0,
            Reason::Refused {
                refusal: Refusal::LastTagOfPackage,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use jiff::Timestamp;

    use crate::graph::{ChildRef, ManifestGraph, ManifestKind, ManifestNode, Platform};
    use crate::plan::{Action, Decision, Plan};
    use crate::planner::{plan, PlanInput, PlanOptions};
    use crate::policy::file::parse;
    use crate::reason::{Reason, Refusal};
    use crate::{Digest, Inventory, Package, Version, VersionId};

    const DAY: i64 = 86_400;

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn dg(n: u64) -> Digest {
        Digest::parse(&format!("sha256:{n:064x}")).unwrap()
    }

    #[derive(Default)]
    struct World {
        versions: Vec<Version>,
        graph: ManifestGraph,
    }

    impl World {
        fn add(&mut self, n: u64, tags: &[&str], age_days: i64, children: &[u64]) {
            let ts = Timestamp::from_second(now().as_second() - age_days * DAY).unwrap();
            self.versions.push(Version {
                id: VersionId(n),
                digest: dg(n),
                tags: tags.iter().map(|s| s.to_string()).collect(),
                created_at: ts,
                updated_at: ts,
                downloads: None,
            });
            let kind = if children.is_empty() {
                ManifestKind::Manifest
            } else {
                ManifestKind::Index
            };
            let children = children
                .iter()
                .map(|&c| ChildRef {
                    digest: dg(c),
                    media_type: None,
                    platform: Some(Platform {
                        os: "linux".into(),
                        architecture: format!("arch{c}"),
                        variant: None,
                    }),
                    attests: None,
                })
                .collect();
            self.graph.package_mut("app").insert(ManifestNode {
                digest: dg(n),
                media_type: String::new(),
                kind,
                children,
                subject: None,
                artifact_type: None,
                config: None,
                annotations: Default::default(),
            });
        }

        fn plan_with(&self, yaml: &str, github: bool) -> Plan {
            let policy = parse(yaml).expect("policy parses");
            let inventory = Inventory {
                packages: vec![Package {
                    name: "app".into(),
                    visibility: None,
                    versions: self.versions.clone(),
                }],
            };
            plan(PlanInput {
                inventory: &inventory,
                graph: &self.graph,
                policy: &policy,
                now: now(),
                options: PlanOptions {
                    refusals: if github {
                        crate::planner::GITHUB_LIKE
                    } else {
                        Default::default()
                    },
                },
                pulls: &HashMap::new(),
            })
        }

        fn plan(&self, yaml: &str) -> Plan {
            self.plan_with(yaml, true)
        }
    }

    fn d(p: &Plan, id: u64) -> &Decision {
        p.packages[0]
            .decisions
            .iter()
            .find(|d| d.id == VersionId(id))
            .expect("a decision")
    }

    const UNTAG_PR: &str = "rules:\n  - {action: untag, tags: [\"pr-*\"]}\n";

    #[test]
    fn untag_of_a_partial_match_removes_only_the_selected_tags() {
        let mut w = World::default();
        w.add(1, &["pr-12", "v1.2.0"], 3, &[]);
        let p = w.plan(UNTAG_PR);
        let x = d(&p, 1);
        assert_eq!(x.action, Action::Untag);
        assert_eq!(x.untag, ["pr-12"]);
        assert!(
            matches!(&x.reasons[0], Reason::UntaggedByRule { rule, tags, .. } if rule == "rule 1" && tags == &["pr-12"]),
            "{:?}",
            x.reasons
        );
        assert_eq!(p.untags.len(), 1);
        assert!(p.order.is_empty());
        assert_eq!(p.untag_count(), 1);
    }

    #[test]
    fn delete_and_untag_rules_together_untag_partial_matches_and_delete_full_ones() {
        let mut w = World::default();
        w.add(1, &["pr-12", "v1.2.0"], 3, &[]);
        w.add(2, &["pr-13"], 3, &[]);
        let p = w.plan(
            "rules:\n  - {action: delete, tags: [\"pr-*\"]}\n  - {action: untag, tags: [\"pr-*\"]}\n",
        );
        assert_eq!(d(&p, 1).action, Action::Untag);
        assert_eq!(d(&p, 1).untag, ["pr-12"]);
        // The partial match is why the version stays.
        assert!(d(&p, 1)
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::PartialTagMatch { .. })));
        assert_eq!(d(&p, 2).action, Action::Delete);
        assert!(d(&p, 2).untag.is_empty());
    }

    #[test]
    fn a_tag_a_keep_rule_names_is_never_untagged() {
        let mut w = World::default();
        w.add(1, &["v1", "pr-1", "latest"], 3, &[]);
        let p = w.plan(
            "rules:\n  - {name: releases, action: keep, tags: [\"v*\"]}\n  - {action: untag, tags: [\"*\", \"!latest\"]}\n",
        );
        let x = d(&p, 1);
        assert_eq!(x.action, Action::Untag);
        assert_eq!(x.untag, ["pr-1"]);
        assert!(x.reasons.iter().any(|r| matches!(r,
            Reason::TagsKeptByRule { tags, keep_rule } if tags == &["v1"] && keep_rule == "releases")));
    }

    #[test]
    fn never_untags_the_last_tag_of_a_version_a_keep_rule_keeps() {
        let mut w = World::default();
        w.add(1, &["pr-1"], 3, &[]);
        w.add(2, &["v2"], 3, &[]);
        let yaml = format!(
            "rules:\n  - {{name: pinned, action: keep, digests: [\"{}\"]}}\n  - {{name: prs, action: untag, tags: [\"pr-*\"]}}\n",
            dg(1)
        );
        let p = w.plan(&yaml);
        let x = d(&p, 1);
        assert_eq!(x.action, Action::Keep);
        assert!(x.untag.is_empty());
        assert!(x.reasons.iter().any(|r| matches!(r,
            Reason::LastTagKept { rule, keep_rule } if rule == "prs" && keep_rule == "pinned")));
        assert!(p.untags.is_empty());
    }

    #[test]
    fn untagging_every_tag_does_not_make_the_image_deletable_in_the_same_run() {
        let mut w = World::default();
        w.add(10, &["pr-1"], 9, &[11, 12]);
        w.add(11, &[], 9, &[]);
        w.add(12, &[], 9, &[]);
        w.add(20, &["v1"], 1, &[]);
        let p = w.plan(
            "rules:\n  - {action: untag, tags: [\"pr-*\"]}\n  - {action: delete, state: untagged}\n",
        );
        assert_eq!(d(&p, 10).action, Action::Untag);
        assert_eq!(d(&p, 10).untag, ["pr-1"]);
        // Its platform manifests stay with it; nothing is deleted this run.
        assert_eq!(d(&p, 11).action, Action::Keep);
        assert_eq!(d(&p, 12).action, Action::Keep);
        assert!(p.order.is_empty());
    }

    #[test]
    fn untagging_an_index_moves_only_its_tag() {
        let mut w = World::default();
        w.add(10, &["pr-1", "v1"], 9, &[11, 12]);
        w.add(11, &[], 9, &[]);
        w.add(12, &[], 9, &[]);
        let p = w.plan(UNTAG_PR);
        assert_eq!(d(&p, 10).action, Action::Untag);
        assert_eq!(d(&p, 10).untag, ["pr-1"]);
        for child in [11, 12] {
            assert_eq!(d(&p, child).action, Action::Keep);
            assert!(d(&p, child).untag.is_empty());
        }
        assert_eq!(p.untags.len(), 1);
    }

    #[test]
    fn the_last_tag_of_a_package_is_not_untagged_on_github() {
        let mut w = World::default();
        w.add(1, &["pr-1"], 3, &[]);
        let p = w.plan(UNTAG_PR);
        let x = d(&p, 1);
        assert_eq!(x.action, Action::Skip);
        assert!(matches!(
            x.reasons[0],
            Reason::Refused {
                refusal: Refusal::LastTagOfPackage
            }
        ));
        assert!(p.untags.is_empty());
        // A registry without that refusal untags it.
        let p = w.plan_with(UNTAG_PR, false);
        assert_eq!(d(&p, 1).action, Action::Untag);
    }

    #[test]
    fn cosign_tags_are_never_untagged() {
        let mut w = World::default();
        w.add(1, &["v1"], 3, &[]);
        let sig = format!("sha256-{}.sig", dg(1).hex());
        w.add(2, &[sig.as_str()], 3, &[]);
        let p = w.plan("rules:\n  - {action: untag, tags: [\"sha256-*\"]}\n");
        assert_eq!(d(&p, 2).action, Action::Keep);
        assert!(p.untags.is_empty());
    }

    #[test]
    fn a_version_a_delete_rule_deletes_is_not_untagged() {
        let mut w = World::default();
        w.add(1, &["pr-1"], 30, &[]);
        w.add(2, &["v1"], 1, &[]);
        let p = w.plan(
            "rules:\n  - {action: untag, tags: [\"pr-*\"]}\n  - {action: delete, tags: [\"pr-*\"], older_than: 7d}\n",
        );
        assert_eq!(d(&p, 1).action, Action::Delete);
        assert!(d(&p, 1).untag.is_empty());
        assert!(p.untags.is_empty());
    }

    #[test]
    fn keep_newest_of_an_untag_rule_spares_the_newest_images() {
        let mut w = World::default();
        w.add(1, &["pr-1", "v1"], 1, &[]);
        w.add(2, &["pr-2", "v2"], 5, &[]);
        w.add(3, &["pr-3", "v3"], 9, &[]);
        let p = w.plan("rules:\n  - {action: untag, tags: [\"pr-*\"], keep_newest: {count: 1}}\n");
        assert_eq!(d(&p, 1).action, Action::Keep);
        assert_eq!(d(&p, 2).action, Action::Untag);
        assert_eq!(d(&p, 3).action, Action::Untag);
        // Oldest first.
        let ids: Vec<u64> = p.untags.iter().map(|&r| p.decision(r).id.0).collect();
        assert_eq!(ids, [3, 2]);
    }

    #[test]
    fn untag_rules_that_cannot_select_anything_are_refused() {
        for (yaml, says) in [
            ("rules:\n  - {action: untag}\n", "must name the tags"),
            (
                "rules:\n  - {action: untag, tags: [\"!v*\"]}\n",
                "must name the tags",
            ),
            (
                "rules:\n  - {action: untag, tags: [\"pr-*\"], orphans: true}\n",
                "orphans",
            ),
            (
                "rules:\n  - {action: untag, tags: [\"pr-*\"], broken: any}\n",
                "broken",
            ),
        ] {
            let e = parse(yaml).expect_err(yaml).to_string();
            assert!(e.contains(says), "{yaml}: {e}");
        }
    }

    #[test]
    fn an_untag_rule_round_trips_through_render() {
        let p = parse("rules:\n  - {name: prs, action: untag, tags: [\"pr-*\"], older_than: 7d}\n")
            .unwrap();
        let again = parse(&crate::policy::file::render(&p)).unwrap();
        assert_eq!(p, again);
    }
}
