//! AWS Security Finding Format, ready for `aws securityhub batch-import-findings --findings file://…`
//! (a JSON array; import at most 100 per call). Finding ids are the stable rampart ids, so a
//! re-import updates findings instead of duplicating them.

use crate::{Run, real_region};
use rampart_core::{Finding, Status};
use serde_json::{Value, json};

fn compliance(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASSED",
        Status::Fail => "FAILED",
        Status::Error | Status::Manual => "WARNING",
        Status::NotApplicable => "NOT_AVAILABLE",
    }
}

pub fn finding(run: &Run, f: &Finding) -> Value {
    let region = real_region(f, run);
    // Findings are imported into the account they are about, through its default product.
    let product = format!(
        "arn:aws:securityhub:{region}:{0}:product/{0}/default",
        f.account_id
    );
    let label = match f.status {
        Status::Pass | Status::NotApplicable => "INFORMATIONAL",
        _ => f.severity.as_str(),
    };
    let title: String = f.title.chars().take(256).collect();
    let description: String = f.message.chars().take(1024).collect();
    let recommendation: String = f.remediation.chars().take(512).collect();
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": f.id,
        "ProductArn": product,
        "GeneratorId": format!("rampart/{}", f.control),
        "AwsAccountId": f.account_id,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "CreatedAt": run.evaluated_at,
        "UpdatedAt": run.evaluated_at,
        "Severity": {"Label": label},
        "Title": title,
        "Description": description,
        "Remediation": {"Recommendation": {"Text": recommendation}},
        "ProductFields": {"rampart/control": f.control, "rampart/status": f.status.as_str(), "rampart/region": f.region},
        "Resources": [{"Type": "Other", "Id": f.resource, "Partition": "aws", "Region": region}],
        "Compliance": {"Status": compliance(f.status), "RelatedRequirements": f.frameworks},
        "Workflow": {"Status": if f.suppressed.is_some() { "SUPPRESSED" } else if f.status == Status::Pass { "RESOLVED" } else { "NEW" }},
        "RecordState": "ACTIVE",
        "Note": f.suppressed.as_ref().map(|s| json!({"Text": s.reason, "UpdatedBy": "rampart", "UpdatedAt": run.evaluated_at}))
    })
}

pub fn render(run: &Run, findings: &[Finding]) -> String {
    let all: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut v = finding(run, f);
            if v["Note"].is_null() {
                v.as_object_mut().map(|o| o.remove("Note"));
            }
            v
        })
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;

    #[test]
    fn asff_fields() {
        let (run, f) = run_and_findings();
        let v: serde_json::Value = serde_json::from_str(&super::render(&run, &f)).unwrap();
        let a = v.as_array().unwrap();
        let x = a
            .iter()
            .find(|x| {
                x["GeneratorId"] == "rampart/cis-1.4" && x["Compliance"]["Status"] == "FAILED"
            })
            .unwrap();
        assert_eq!(x["SchemaVersion"], "2018-10-08");
        assert_eq!(x["Severity"]["Label"], "CRITICAL");
        assert_eq!(
            x["Resources"][0]["Region"], "eu-west-1",
            "global findings go to the first region"
        );
        assert!(
            a.iter()
                .any(|x| x["Workflow"]["Status"] == "SUPPRESSED" && x["Note"]["Text"].is_string())
        );
    }
}
