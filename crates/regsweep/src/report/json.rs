//! JSON output (`--output json`): a documented schema with a `schema_version`;
//! changes are additive. See docs/json-output.md.

use serde::Serialize;
use serde_json::{json, Value};

use super::{Report, Totals};

/// Version of the JSON schema; bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct DecisionOut<'a> {
    id: u64,
    digest: &'a str,
    tags: &'a [String],
    created_at: String,
    updated_at: String,
    action: regsweep_core::plan::Action,
    /// The deciding reason, rendered.
    reason: String,
    reasons: &'a [regsweep_core::reason::Reason],
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a crate::executor::Outcome>,
}

/// Renders the JSON document.
pub fn render(r: &Report<'_>) -> String {
    let outcomes = r.outcome_map();
    let packages: Vec<Value> = r
        .plan
        .packages
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let decisions: Vec<DecisionOut> = p
                .decisions
                .iter()
                .enumerate()
                .map(|(di, d)| DecisionOut {
                    id: d.id.0,
                    digest: d.digest.as_str(),
                    tags: &d.tags,
                    created_at: d.created_at.to_string(),
                    updated_at: d.updated_at.to_string(),
                    action: d.action,
                    reason: super::reason_of(d),
                    reasons: &d.reasons,
                    outcome: outcomes.get(&(pi, di)).copied(),
                })
                .collect();
            json!({
                "name": p.name,
                "decisions": decisions,
                "findings": p.findings.iter().map(|f| json!({"text": f.to_string(), "detail": f})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let order: Vec<Value> = r
        .plan
        .order
        .iter()
        .map(
            |o| json!({"package": r.plan.packages[o.package].name, "id": r.plan.decision(*o).id.0}),
        )
        .collect();
    let totals: Totals = r.totals();
    let doc = json!({
        "schema_version": SCHEMA_VERSION,
        "account": r.account,
        "now": r.now.to_string(),
        "dry_run": r.execution.is_none(),
        "totals": totals,
        "requests": r.stats,
        "timings": r.timings,
        "packages": packages,
        "delete_order": order,
        "interrupted": r.execution.map(|e| e.interrupted).unwrap_or(false),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string())
}
