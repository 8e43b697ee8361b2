//! Central alerting (`[alerting]`) against the moto emulator: the default section is planned
//! and applied in the Audit account (EventBridge rules, the alert topic and its policy, Security
//! Hub members), the next plan is empty, and a rule deleted, a target removed and the topic
//! opened out of band each show up in `drift` as exactly their repair, which `apply` makes.
//! The finding aggregator is absent from moto: the in-process model covers it (README gaps).

#[path = "support/moto.rs"]
mod moto;

use moto::*;
use serde_json::{Value, json};
use std::process::Command;

/// Runs tests/support/alerting_ops.py against moto; its JSON output.
fn alerting_ops(moto: &Moto, cmd: &str) -> Value {
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    let out = Command::new(python(&server))
        .arg(repo().join("crates/rampart/tests/support/alerting_ops.py"))
        .arg(moto.url.as_str())
        .args(cmd.split_whitespace())
        .output()
        .expect("run alerting_ops.py");
    assert!(
        out.status.success(),
        "alerting_ops {cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("alerting_ops JSON")
}

const RULES: [&str; 3] = [
    "rampart-alert-access-analyzer",
    "rampart-alert-guardduty",
    "rampart-alert-securityhub",
];

#[test]
fn central_alerting_converges_and_repairs_rules_targets_and_topic_policy() {
    let moto = start_moto();
    baseline_ops(&moto, "bare");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let log = dir.path().join("audit.jsonl");
    let l = log.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg);
    assert!(text.contains("[alerting]") && text.contains("min_severity = \"high\""));
    let plan = || rampart(&moto, &["plan", "--config", c, "--format", "json"]);
    let apply = || {
        let out = rampart(
            &moto,
            &["apply", "--auto-approve", "--config", c, "--audit-log", l],
        );
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(
            err.contains("The organization matches rampart.toml."),
            "{err}"
        );
    };

    apply();
    assert_eq!(plan().status.code(), Some(0));
    let census = alerting_ops(&moto, "census");
    let audit = census["audit"].as_str().unwrap().to_string();
    let topic = format!("arn:aws:sns:us-east-1:{audit}:rampart-alerts");
    let names: Vec<&str> = census["rules"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, RULES, "{census}");
    for name in RULES {
        let rule = &census["rules"][name];
        assert_eq!(rule["state"], "ENABLED", "{name}");
        assert_eq!(rule["targets"], json!([topic]), "{name}");
    }
    // The patterns as EventBridge holds them, per service event shape (docs/alerting-aws.md).
    let gd = &census["rules"]["rampart-alert-guardduty"]["pattern"];
    assert_eq!(gd["detail-type"], json!(["GuardDuty Finding"]));
    assert_eq!(gd["detail"]["severity"], json!([{"numeric": [">=", 7]}]));
    let sh = &census["rules"]["rampart-alert-securityhub"]["pattern"];
    assert_eq!(
        sh["detail-type"],
        json!(["Security Hub Findings - Imported"])
    );
    assert_eq!(
        sh["detail"]["findings"]["Severity"]["Label"],
        json!(["HIGH", "CRITICAL"])
    );
    let aa = &census["rules"]["rampart-alert-access-analyzer"]["pattern"];
    assert_eq!(aa["detail-type"], json!(["Access Analyzer Finding"]));
    // The topic admits only EventBridge of the Audit account.
    let policy = &census["topics"][&topic];
    let allow = &policy["Statement"][0];
    assert_eq!(
        allow["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(
        allow["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!(audit)
    );
    // Every other existing account is a Security Hub member of Audit.
    let members = census["members"].as_array().unwrap();
    assert!(
        !members.is_empty() && !members.contains(&json!(audit)),
        "{census}"
    );
    let audit_log = std::fs::read_to_string(&log).unwrap();
    for api in [
        "events:PutRule",
        "events:PutTargets",
        "sns:SetTopicAttributes",
        "securityhub:CreateMembers",
    ] {
        assert!(audit_log.contains(api), "{api} not in the audit log");
    }

    // Out of band, one at a time: each drift is exactly its repair, and apply makes it.
    let cases = [
        (
            "delete-rule rampart-alert-guardduty",
            format!("alert-rule:{audit}:us-east-1:rampart-alert-guardduty"),
        ),
        (
            "remove-target rampart-alert-securityhub",
            format!("alert-rule:{audit}:us-east-1:rampart-alert-securityhub"),
        ),
        (
            "open-topic rampart-alerts",
            format!("alert-topic:{audit}:us-east-1"),
        ),
    ];
    for (op, repair) in cases {
        alerting_ops(&moto, op);
        let d = rampart(&moto, &["drift", "--config", c, "--format", "json"]);
        assert_eq!(
            d.status.code(),
            Some(4),
            "{op}: {}",
            String::from_utf8_lossy(&d.stderr)
        );
        assert_eq!(planned(&d), vec![repair], "{op}");
        apply();
        assert_eq!(plan().status.code(), Some(0), "{op}");
    }
    let census = alerting_ops(&moto, "census");
    for name in RULES {
        assert_eq!(census["rules"][name]["targets"], json!([topic]), "{name}");
    }
    assert_eq!(census["topics"][&topic], *policy);
}
