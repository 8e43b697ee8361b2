//! CloudWatch Logs filter patterns as a rule source: one pattern per line of a text file
//! (blank lines and lines starting with `#` ignored). Each becomes a rule with id
//! `pattern:<file>:<line>`; a pattern that does not parse is reported with its position.

use crate::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
use std::path::Path;

/// A rule that could not be loaded, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// Parse every pattern in `text` (named `name` in ids and messages).
pub fn load_str(name: &str, text: &str) -> (Vec<Rule>, Vec<Rejected>) {
    let mut rules = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let id = format!("pattern:{name}:{}", i + 1);
        match rampart_pattern::FilterPattern::parse(t) {
            Ok(p) => {
                let mut meta = RuleMeta::new(id, RuleSource::Pattern, t, Severity::Medium);
                meta.description =
                    format!("CloudWatch Logs filter pattern from {name} line {}", i + 1);
                meta.origin = Some(name.to_string());
                rules.push(Rule::new(meta, Condition::Pattern(Box::new(p))));
            }
            Err(e) => bad.push(Rejected {
                id,
                reason: e.to_string(),
            }),
        }
    }
    (rules, bad)
}

/// Load a patterns file.
pub fn load_file(path: &Path) -> Result<(Vec<Rule>, Vec<Rejected>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("patterns file {}: {e}", path.display()))?;
    Ok(load_str(&path.display().to_string(), &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_reports() {
        let (rules, bad) = load_str(
            "p.txt",
            "# CIS 4.5\n{ ($.eventName = StopLogging) }\n\n{ ($.eventName = \n",
        );
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].meta.id, "pattern:p.txt:2");
        assert_eq!(
            rules[0].index.event_names,
            Some(vec!["stoplogging".to_string()])
        );
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].id, "pattern:p.txt:4");
        assert!(crate::rules::fires(
            &rules[0],
            &serde_json::json!({"eventName": "StopLogging"})
        ));
    }
}
