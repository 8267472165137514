//! GitHub Actions outputs: `$GITHUB_OUTPUT` (`deleted`, `failed` as snok documents
//! them — comma-separated `image-name:version-id` — plus `left` for planned deletions
//! a stopped run did not attempt, and counts) and the step summary.

use std::io::Write;
use std::path::Path;

use super::Report;
use crate::executor::Outcome;

/// The key=value lines for `$GITHUB_OUTPUT`.
pub fn output_lines(r: &Report<'_>) -> String {
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    let mut left = Vec::new();
    let mut skipped = r.plan.count(regsweep_core::plan::Action::Skip);
    if let Some(e) = r.execution {
        for (k, o) in e.outcomes.iter().enumerate() {
            let pr = r.plan.order[k];
            let item = format!(
                "{}:{}",
                r.plan.packages[pr.package].name,
                r.plan.decision(pr).id
            );
            match o {
                Outcome::Deleted | Outcome::AlreadyGone => deleted.push(item),
                Outcome::Failed(_) => failed.push(item),
                Outcome::Left(_) => left.push(item),
                Outcome::Skipped(_) => skipped += 1,
            }
        }
    }
    format!(
        "deleted={}\nfailed={}\nleft={}\ndeleted-count={}\nfailed-count={}\nleft-count={}\nskipped-count={}\nplanned-count={}\n",
        deleted.join(","),
        failed.join(","),
        left.join(","),
        deleted.len(),
        failed.len(),
        left.len(),
        skipped,
        r.plan.count(regsweep_core::plan::Action::Delete)
    )
}

/// Appends to a file named by an Actions environment variable.
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write the Actions file {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
