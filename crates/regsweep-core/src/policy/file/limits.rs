//! Bounds on a policy text checked before the YAML parser sees it.
//!
//! A policy is a short list of rules; the YAML parser's cost grows faster than the
//! input with deep nesting (200 KB of nested flow collections took 36 s), so a text
//! larger than [`MAX_POLICY_BYTES`] or nested deeper than [`MAX_NESTING`] is refused
//! at once with the line where the limit was crossed. The scan is linear and only
//! approximates YAML's grammar where that errs on the side of counting more depth:
//! it tracks flow collections (`[`, `{`) outside quotes and comments, and the stack
//! of block indentation levels.

use super::error::PolicyFileError;
use super::Location;

/// The largest policy text accepted (the longest shipped example is under 3 KB).
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// The deepest nesting accepted, flow and block levels together (a policy needs 5).
pub const MAX_NESTING: usize = 32;

/// Checks the size and nesting of a policy text.
pub(super) fn check(name: &str, text: &str) -> Result<(), PolicyFileError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(PolicyFileError {
            file: name.to_string(),
            location: None,
            message: format!(
                "the policy is {} bytes; at most {MAX_POLICY_BYTES} are read",
                text.len()
            ),
            help: Some(
                "a policy is a short list of rules (see docs/policy.md); check the right file was given"
                    .to_string(),
            ),
        });
    }
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<char> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        let content = !trimmed.is_empty() && !trimmed.starts_with('#');
        if flow == 0 && quote.is_none() && content {
            let indent = line.len() - trimmed.len();
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
            // `- - - x` opens one block sequence per dash on a single line.
            indents.extend(std::iter::repeat_n(indent, leading_dashes(trimmed)));
        }
        let mut prev = ' ';
        for c in line.chars() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '#' if prev == ' ' || prev == '\t' => break,
                    '\'' | '"' if matches!(prev, ' ' | '[' | '{' | ',' | ':' | '-') => {
                        quote = Some(c)
                    }
                    '[' | '{' => flow += 1,
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
            if flow + indents.len() > MAX_NESTING {
                return Err(too_deep(name, i + 1));
            }
        }
        if indents.len() > MAX_NESTING {
            return Err(too_deep(name, i + 1));
        }
    }
    Ok(())
}

fn leading_dashes(s: &str) -> usize {
    let mut n = 0usize;
    let mut rest = s;
    while let Some(r) = rest.strip_prefix("- ") {
        n += 1;
        rest = r.trim_start_matches(' ');
    }
    n.saturating_sub(1)
}

fn too_deep(name: &str, line: usize) -> PolicyFileError {
    PolicyFileError {
        file: name.to_string(),
        location: Some(Location { line, column: 1 }),
        message: format!("the policy is nested more than {MAX_NESTING} levels deep"),
        help: Some(
            "a policy needs a few levels (rules, a rule, its conditions); see docs/policy.md"
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_shapes_pass() {
        for text in [
            include_str!("../../../../../examples/deploy-sha.yaml"),
            include_str!("../../../../../examples/releases.yaml"),
            include_str!("../../../../../examples/research-group.yaml"),
            include_str!("../../../../../examples/supply-chain.yaml"),
            "rules: [{action: delete, tags: ['[x', \"{y\"]}]",
            "rules:\n  - action: keep # a [ comment {\n    tags: [a, b]\n",
        ] {
            assert_eq!(check("p", text), Ok(()), "{text}");
        }
    }

    #[test]
    fn nested_yaml_is_refused_quickly() {
        let cases = [
            format!("rules: {}{}", "[".repeat(50_000), "]".repeat(50_000)),
            format!("rules: {}1{}", "{a: ".repeat(20_000), "}".repeat(20_000)),
            format!(
                "rules:\n{}",
                (0..100)
                    .map(|i| format!("{}- \n", " ".repeat(i)))
                    .collect::<String>()
            ),
            format!("rules:\n  {}x\n", "- ".repeat(100)),
        ];
        for text in cases {
            let e = check("p", &text).unwrap_err();
            assert!(e.message.contains("nested more than"), "{e}");
        }
    }

    #[test]
    fn huge_policy_is_refused() {
        let text = format!("rules: []\n{}", "# filler\n".repeat(200_000));
        let e = check("p", &text).unwrap_err();
        assert!(e.message.contains("at most"), "{e}");
    }
}
