//! SARIF 2.1.0 for code-scanning UIs and CI gates: one rule per control, one result per FAIL or
//! ERROR finding; suppressed findings carry an external suppression with its justification.

use crate::{Run, problems};
use rampart_core::{Finding, Severity, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn level(f: &Finding) -> &'static str {
    if f.status == Status::Error {
        return "warning";
    }
    severity_level(f.severity)
}

/// The SARIF rule describing a control (shared by the audit and `iac check`).
fn rule(c: &rampart_core::Control) -> Value {
    json!({
        "id": c.id,
        "name": c.id.replace(['.', '-'], "_"),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.rationale},
        "help": {"text": format!("{}\nCLI: {}", c.remediation_console, c.remediation_cli)},
        "properties": {
            "tags": c.frameworks.to_vec(),
            "security-severity": match c.severity {
                Severity::Critical => "9.5", Severity::High => "8.0", Severity::Medium => "5.5",
                Severity::Low => "3.0", _ => "1.0",
            }
        }
    })
}

fn severity_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

fn document(
    version: &str,
    end_time: Option<&str>,
    rules: Vec<Value>,
    results: Vec<Value>,
) -> String {
    let mut invocation = json!({"executionSuccessful": true});
    if let Some(t) = end_time {
        invocation["endTimeUtc"] = json!(t);
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rampart", "version": version, "informationUri": "https://example.invalid/rampart", "rules": rules}},
            "invocations": [invocation],
            "results": results
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A result in a file (a template line), for `rampart iac check`: code scanning annotates the
/// line. `status` is `FAIL` or `UNKNOWN`; `fingerprint` is stable across runs.
pub struct Located<'a> {
    pub control: &'a rampart_core::Control,
    pub status: &'a str,
    pub message: &'a str,
    /// Path relative to the repository root, `/`-separated.
    pub uri: &'a str,
    pub line: u32,
    pub column: u32,
    /// The resource's logical id or address.
    pub resource: &'a str,
    pub fingerprint: String,
    pub suppressed: Option<&'a str>,
}

/// A file that could not be read: `(uri, line, column, message)`.
pub type Unreadable<'a> = (&'a str, u32, u32, &'a str);

const UNREADABLE: &str = "rampart-iac-unreadable";

/// SARIF with physical locations. Unreadable files are `rampart-iac-unreadable` results at
/// their position, so they annotate the line too.
pub fn render_located(version: &str, located: &[Located<'_>], errors: &[Unreadable<'_>]) -> String {
    let mut rule_ids: Vec<&str> = located.iter().map(|l| l.control.id).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let mut rules: Vec<Value> = rule_ids
        .iter()
        .filter_map(|id| located.iter().find(|l| l.control.id == *id))
        .map(|l| rule(l.control))
        .collect();
    if !errors.is_empty() {
        rules.push(json!({
            "id": UNREADABLE,
            "name": "rampart_iac_unreadable",
            "shortDescription": {"text": "The template or plan cannot be read, so it was not checked"},
            "help": {"text": "Fix the syntax error at the position shown."},
            "properties": {"security-severity": "5.5"}
        }));
    }
    let region =
        |line: u32, column: u32| json!({"startLine": line.max(1), "startColumn": column.max(1)});
    let mut results: Vec<Value> = located
        .iter()
        .map(|l| {
            let level = if l.status == "UNKNOWN" { "warning" } else { severity_level(l.control.severity) };
            let mut r = json!({
                "ruleId": l.control.id,
                "ruleIndex": rule_ids.iter().position(|x| *x == l.control.id).unwrap_or(0),
                "level": level,
                "kind": "fail",
                "message": {"text": format!("[{}] {} — {}", l.status, l.message, l.control.title)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": l.uri}, "region": region(l.line, l.column)},
                    "logicalLocations": [{"name": l.resource, "kind": "resource"}]
                }],
                "partialFingerprints": {"rampartIacFinding/v1": l.fingerprint},
                "properties": {"status": l.status, "severity": l.control.severity.as_str()}
            });
            if let Some(reason) = l.suppressed {
                r["suppressions"] = json!([{"kind": "inSource", "status": "accepted", "justification": reason}]);
            }
            r
        })
        .collect();
    for (uri, line, column, message) in errors {
        results.push(json!({
            "ruleId": UNREADABLE,
            "ruleIndex": rules.len() - 1,
            "level": "error",
            "kind": "fail",
            "message": {"text": message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region(*line, *column)}}]
        }));
    }
    document(version, None, rules, results)
}

pub fn render(run: &Run, findings: &[Finding]) -> String {
    let catalogue: BTreeMap<&str, &rampart_core::Control> = rampart_core::catalogue()
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let results_src = problems(findings);
    let mut rule_ids: Vec<&str> = results_src.iter().map(|f| f.control.as_ref()).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match catalogue.get(id) {
            Some(c) => rule(c),
            None => json!({"id": id, "name": id.replace(['.', '-'], "_"), "shortDescription": {"text": id}}),
        })
        .collect();
    let results: Vec<Value> = results_src
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.control,
                "ruleIndex": rule_ids.iter().position(|x| *x == f.control).unwrap_or(0),
                "level": level(f),
                "kind": "fail",
                "message": {"text": format!("[{}] {} — {}", f.status.as_str(), f.message, f.title)},
                "locations": [{"logicalLocations": [{
                    "name": f.resource,
                    "fullyQualifiedName": format!("{}/{}/{}", f.account_id, f.region, f.resource),
                    "kind": "resource"
                }]}],
                "partialFingerprints": {"rampartFindingId/v1": f.id},
                "properties": {"account_id": f.account_id, "region": f.region, "status": f.status.as_str(), "severity": f.severity.as_str()}
            });
            if let Some(s) = &f.suppressed {
                r["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": s.reason}]);
            }
            r
        })
        .collect();
    document(&run.version, Some(&run.evaluated_at), rules, results)
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;

    #[test]
    fn sarif_shape() {
        let (run, f) = run_and_findings();
        let v: serde_json::Value = serde_json::from_str(&super::render(&run, &f)).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let results = v["runs"][0]["results"].as_array().unwrap();
        let expected = f
            .iter()
            .filter(|x| {
                matches!(
                    x.status,
                    rampart_core::Status::Fail | rampart_core::Status::Error
                )
            })
            .count();
        assert_eq!(results.len(), expected);
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        assert!(
            results
                .iter()
                .any(|r| r["suppressions"][0]["kind"] == "external")
        );
        assert!(
            results
                .iter()
                .any(|r| r["level"] == "error" && r["ruleId"] == "cis-1.4")
        );
    }

    #[test]
    fn located_results_point_at_the_line() {
        let c = rampart_core::catalogue()
            .into_iter()
            .find(|c| c.id == "cis-5.2")
            .unwrap();
        let l = super::Located {
            control: c,
            status: "FAIL",
            message: "Web: admits 0.0.0.0/0 to port(s) 22",
            uri: "templates/web.yaml",
            line: 12,
            column: 11,
            resource: "Web",
            fingerprint: "abc".into(),
            suppressed: None,
        };
        let text = super::render_located(
            "0.1.0",
            &[l],
            &[("bad.yaml", 3, 5, "bad.yaml:3:5: duplicate key `a`")],
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "templates/web.yaml");
        assert_eq!(
            (
                loc["region"]["startLine"].as_u64(),
                loc["region"]["startColumn"].as_u64()
            ),
            (Some(12), Some(11))
        );
        assert_eq!(results[0]["level"], "error");
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(
            rules[results[1]["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "rampart-iac-unreadable"
        );
    }
}
