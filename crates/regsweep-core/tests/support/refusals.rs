//! GitHub's refusal rules, as the GitHub backend tells them
//! (`regsweep_github::REFUSALS`), for the core's tests, which cannot depend on the
//! GitHub crate.

use regsweep_core::planner::RefusalRules;

pub const GITHUB_LIKE: RefusalRules = RefusalRules {
    public_downloads_over: Some(5000),
    last_tagged_version: true,
};
