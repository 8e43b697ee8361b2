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
    match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
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
        .map(|id| {
            let c = catalogue.get(id);
            json!({
                "id": id,
                "name": id.replace(['.', '-'], "_"),
                "shortDescription": {"text": c.map(|c| c.title).unwrap_or(id)},
                "fullDescription": {"text": c.map(|c| c.rationale).unwrap_or("")},
                "help": {"text": c.map(|c| format!("{}\nCLI: {}", c.remediation_console, c.remediation_cli)).unwrap_or_default()},
                "properties": {
                    "tags": c.map(|c| c.frameworks.to_vec()).unwrap_or_default(),
                    "security-severity": match c.map(|c| c.severity) {
                        Some(Severity::Critical) => "9.5", Some(Severity::High) => "8.0", Some(Severity::Medium) => "5.5",
                        Some(Severity::Low) => "3.0", _ => "1.0",
                    }
                }
            })
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
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rampart", "version": run.version, "informationUri": "https://example.invalid/rampart", "rules": rules}},
            "invocations": [{"executionSuccessful": true, "endTimeUtc": run.evaluated_at}],
            "results": results
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
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
}
