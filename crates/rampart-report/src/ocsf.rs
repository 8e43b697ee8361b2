//! OCSF 1.3 Compliance Finding (class 2003), one object per finding, as a JSON array.

use crate::{Run, real_region};
use rampart_core::{Finding, Severity, Status};
use serde_json::{Value, json};

fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// OCSF `compliance.status_id`: 1 Pass, 2 Warning, 3 Fail, 99 Other.
fn compliance_status(s: Status) -> (u8, &'static str) {
    match s {
        Status::Pass => (1, "Pass"),
        Status::Fail => (3, "Fail"),
        Status::Error => (99, "Error"),
        Status::NotApplicable => (99, "Not Applicable"),
        Status::Manual => (2, "Warning"),
    }
}

pub fn finding(run: &Run, f: &Finding) -> Value {
    let (cs_id, cs) = compliance_status(f.status);
    let standards: Vec<String> = f
        .frameworks
        .iter()
        .map(|fw| fw.split(':').next().unwrap_or(fw).to_string())
        .collect();
    json!({
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200301,
        "severity_id": severity_id(f.severity),
        "severity": f.severity.as_str().to_ascii_lowercase(),
        // status_id: 1 New, 3 Suppressed (OCSF finding status).
        "status_id": if f.suppressed.is_some() { 3 } else { 1 },
        "status": if f.suppressed.is_some() { "Suppressed" } else { "New" },
        "time": run.evaluated_at,
        "message": f.message,
        "metadata": {
            "version": "1.3.0",
            "product": {"name": "rampart", "vendor_name": "rampart", "version": run.version},
            "uid": f.id
        },
        "finding_info": {"uid": f.id, "title": f.title, "desc": f.message, "types": [f.control]},
        "compliance": {
            "control": f.control,
            "requirements": f.frameworks,
            "standards": standards,
            "status_id": cs_id,
            "status": cs,
            "status_detail": f.status.as_str()
        },
        "cloud": {"provider": "AWS", "account": {"uid": f.account_id, "type": "AWS Account"}, "region": real_region(f, run),
                  "org": {"uid": run.organization_id}},
        "resources": [{"uid": f.resource, "region": f.region, "cloud_partition": "aws"}],
        "remediation": {"desc": f.remediation},
        "unmapped": {"suppression": f.suppressed}
    })
}

pub fn render(run: &Run, findings: &[Finding]) -> String {
    let all: Vec<Value> = findings.iter().map(|f| finding(run, f)).collect();
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;

    #[test]
    fn ocsf_class_and_status() {
        let (run, f) = run_and_findings();
        let v: serde_json::Value = serde_json::from_str(&super::render(&run, &f)).unwrap();
        let a = v.as_array().unwrap();
        assert_eq!(a.len(), f.len());
        assert!(
            a.iter()
                .all(|x| x["class_uid"] == 2003 && x["type_uid"] == 200301)
        );
        let root = a
            .iter()
            .find(|x| {
                x["compliance"]["control"] == "cis-1.4" && x["compliance"]["status"] == "Fail"
            })
            .unwrap();
        assert_eq!(root["severity_id"], 5);
        assert!(a.iter().any(|x| x["status_id"] == 3));
    }
}
