//! `rampart controls`: the catalogue as a table, JSON or Markdown, generated from the control
//! definitions themselves.

use rampart_core::{Control, Scope};
use serde_json::{Value, json};

fn scope(s: Scope) -> &'static str {
    match s {
        Scope::Account => "account",
        Scope::Region => "region",
        Scope::Organization => "organization",
    }
}

pub fn to_json(controls: &[&Control]) -> String {
    let all: Vec<Value> = controls
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.title,
                "severity": c.severity,
                "scope": scope(c.scope),
                "assessment": if c.check.is_some() { "automated" } else { "manual" },
                "frameworks": c.frameworks,
                "rationale": c.rationale,
                "remediation": {"console": c.remediation_console, "cli": c.remediation_cli},
                "apis": c.apis,
            })
        })
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

pub fn to_markdown(controls: &[&Control]) -> String {
    let mut out = String::from(
        "| Id | Title | Severity | Scope | Assessment | Frameworks |\n|---|---|---|---|---|---|\n",
    );
    for c in controls {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.id,
            c.title.replace('|', "\\|"),
            c.severity.as_str(),
            scope(c.scope),
            if c.check.is_some() {
                "automated"
            } else {
                "manual"
            },
            c.frameworks
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    out
}

pub fn to_table(controls: &[&Control]) -> String {
    let w = controls
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let mut out = format!(
        "{:<w$}  {:<13}  {:<12}  {:<9}  TITLE\n",
        "ID", "SEVERITY", "SCOPE", "CHECK"
    );
    for c in controls {
        out.push_str(&format!(
            "{:<w$}  {:<13}  {:<12}  {:<9}  {}\n",
            c.id,
            c.severity.as_str(),
            scope(c.scope),
            if c.check.is_some() {
                "automated"
            } else {
                "manual"
            },
            c.title
        ));
    }
    out.push_str(&format!(
        "\n{} controls ({} automated, {} manual)\n",
        controls.len(),
        controls.iter().filter(|c| c.check.is_some()).count(),
        controls.iter().filter(|c| c.check.is_none()).count()
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogue_renders_every_control() {
        let all = rampart_core::catalogue();
        let v: serde_json::Value = serde_json::from_str(&super::to_json(&all)).unwrap();
        assert_eq!(v.as_array().unwrap().len(), all.len());
        assert!(
            v.as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == "cis-1.1" && c["assessment"] == "manual")
        );
        assert_eq!(super::to_markdown(&all).lines().count(), all.len() + 2);
        assert!(super::to_table(&all).contains("base-scp-region-deny"));
    }
}
