//! The workflow snippets of the documentation that use this Action: every YAML code
//! block of README.md and examples/*.md, and every indented comment block of
//! examples/*.yaml, that contains `uses: <owner>/regsweep@…` (or the binary action,
//! or the published image `docker://ghcr.io/regsweep/regsweep`). A new snippet is
//! found without any change here. Each snippet is normalised to a list of steps and
//! to a complete workflow (for actionlint and the workflow schema).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

/// One documented snippet.
pub struct Snippet {
    /// `README.md:112`: where the snippet starts.
    pub origin: String,
    /// The file it was found in.
    pub file: PathBuf,
    /// The snippet's YAML as written (de-commented, de-indented).
    pub text: String,
}

/// Whether a `uses:` value names this repository's actions or its image.
pub fn is_this_action(uses: &str) -> bool {
    let uses = uses.trim();
    if uses.starts_with("docker://ghcr.io/regsweep/regsweep") {
        return true;
    }
    let Some((path, _version)) = uses.split_once('@') else {
        return uses == "./" || uses == "./binary";
    };
    let mut parts = path.split('/');
    let (_owner, repo) = (parts.next(), parts.next());
    repo == Some("regsweep") && matches!(parts.next(), None | Some("binary"))
}

/// Whether a `uses:` value names the binary (composite) action.
pub fn is_binary_action(uses: &str) -> bool {
    is_this_action(uses) && (uses.contains("/binary@") || uses.trim() == "./binary")
}

fn mentions_this_action(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim().trim_start_matches("- ").trim();
        l.strip_prefix("uses:").is_some_and(is_this_action)
    })
}

/// Every snippet of README.md and examples/.
pub fn all(root: &Path) -> Vec<Snippet> {
    let mut files = vec![root.join("README.md")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    files.extend(examples);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        let blocks = match file.extension().and_then(|e| e.to_str()) {
            Some("md") => markdown_yaml_blocks(&text),
            Some("yaml" | "yml") => comment_blocks(&text),
            _ => continue,
        };
        for (line, block) in blocks {
            if mentions_this_action(&block) {
                out.push(Snippet {
                    origin: format!("{name}:{line}"),
                    file: file.clone(),
                    text: block,
                });
            }
        }
    }
    out
}

/// The ```yaml fenced blocks of a Markdown text, with their first line number.
fn markdown_yaml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        match &mut current {
            None if t == "```yaml" || t == "```yml" => current = Some((i + 2, Vec::new())),
            Some((start, lines)) if t == "```" => {
                out.push((*start, dedent(lines)));
                current = None;
            }
            Some((_, lines)) => lines.push(line),
            None => {}
        }
    }
    out
}

/// The indented blocks inside the comments of a YAML file (`#   on: …`), with their
/// first line number: consecutive comment lines indented by two or more spaces after
/// the `#`.
fn comment_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (i, line) in text.lines().enumerate() {
        let body = line
            .strip_prefix('#')
            .map(|b| b.strip_prefix(' ').unwrap_or(b));
        let indented = body.is_some_and(|b| b.starts_with("  ") && !b.trim().is_empty());
        match (&mut current, indented) {
            (Some((_, lines)), true) => lines.push(body.unwrap()),
            (None, true) => current = Some((i + 1, vec![body.unwrap()])),
            (Some(_), false) => {
                let (start, lines) = current.take().unwrap();
                out.push((start, dedent(&lines)));
            }
            (None, false) => {}
        }
    }
    if let Some((start, lines)) = current {
        out.push((start, dedent(&lines)));
    }
    out
}

fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut s: String = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    s.push('\n');
    s
}

impl Snippet {
    /// The snippet parsed.
    pub fn yaml(&self) -> Value {
        serde_norway::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "{}: the snippet is not YAML: {e}\n{}",
                self.origin, self.text
            )
        })
    }

    /// The snippet's jobs' steps: a whole workflow (`jobs:`), a `steps:` fragment,
    /// or a list of steps.
    pub fn steps(&self) -> Vec<Value> {
        let doc = self.yaml();
        if let Some(jobs) = doc.get("jobs").and_then(Value::as_mapping) {
            return jobs
                .values()
                .flat_map(|j| j["steps"].as_sequence().cloned().unwrap_or_default())
                .collect();
        }
        if let Some(steps) = doc.get("steps").and_then(Value::as_sequence) {
            return steps.clone();
        }
        doc.as_sequence()
            .cloned()
            .unwrap_or_else(|| panic!("{}: no jobs, steps or list of steps", self.origin))
    }

    /// The snippet as a complete workflow: a whole workflow as it is; a fragment put
    /// into one job of a manually dispatched workflow.
    pub fn workflow(&self) -> Value {
        let mut doc = self.yaml();
        if doc.get("jobs").is_some() {
            // A whole workflow shown without its trigger gets one.
            if doc.get("on").is_none() {
                doc.as_mapping_mut()
                    .unwrap()
                    .insert("on".into(), "workflow_dispatch".into());
            }
            return doc;
        }
        let mut job = Mapping::new();
        job.insert("runs-on".into(), "ubuntu-latest".into());
        if let Some(m) = doc.as_mapping() {
            for (k, v) in m {
                job.insert(k.clone(), v.clone());
            }
        } else {
            job.insert("steps".into(), doc);
        }
        let mut jobs = Mapping::new();
        jobs.insert("snippet".into(), Value::Mapping(job));
        let mut wf = Mapping::new();
        wf.insert("name".into(), format!("snippet {}", self.origin).into());
        wf.insert("on".into(), "workflow_dispatch".into());
        wf.insert("jobs".into(), Value::Mapping(jobs));
        Value::Mapping(wf)
    }

    /// A file name for the snippet's workflow (`README.md-112.yml`).
    pub fn file_name(&self) -> String {
        format!("{}.yml", self.origin.replace(['/', ':'], "-"))
    }
}
