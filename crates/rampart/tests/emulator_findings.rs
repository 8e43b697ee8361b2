//! `rampart findings pull` against the moto emulator: Security Hub for real (findings imported
//! with BatchImportFindings, read back with GetFindings through the SDK); GuardDuty findings,
//! Access Analyzer and Config compliance, which moto lacks, from `--input` files in the
//! services' own shapes. Checks: one alert per finding, no re-alert on a second pull (the state
//! file is the restart), a workflow update recorded as a close, one failing service reported
//! without stopping the rest. Needs the test dependencies (`scripts/install-test-deps.sh`).

#[path = "support/moto.rs"]
mod moto;

use moto::{moto_server, python, rampart, repo, start_moto};
use serde_json::Value;
use std::path::Path;

fn hub(moto: &moto::Moto, action: &str) -> String {
    let out = std::process::Command::new(python(&moto_server()))
        .arg(repo().join("crates/rampart/tests/support/securityhub_findings.py"))
        .args([moto.url.as_str(), action])
        .output()
        .expect("run the Security Hub fixture");
    assert!(
        out.status.success(),
        "fixture failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn alerts(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an alert per line"))
        .collect()
}

fn pull(moto: &moto::Moto, dir: &Path, extra: &[&str]) -> std::process::Output {
    let state = dir.join("state.json");
    let spool = dir.join("spool.jsonl");
    let config = dir.join("none.toml");
    let mut args = vec![
        "findings",
        "pull",
        "--regions",
        "us-east-1",
        "--state",
        state.to_str().unwrap(),
        "--spool",
        spool.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    args.extend(extra);
    rampart(moto, &args)
}

#[test]
fn securityhub_findings_are_pulled_deduplicated_and_updated() {
    let moto = start_moto();
    let account = hub(&moto, "import");
    let dir = tempfile::tempdir().unwrap();

    let first = pull(&moto, dir.path(), &["--services", "securityhub"]);
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{err}");
    let got = alerts(&first);
    assert_eq!(got.len(), 2, "{err}");
    for a in &got {
        assert_eq!(a["rule_source"], "securityhub");
        assert_eq!(a["account"], account.as_str());
        assert_eq!(a["severity"], "high");
    }
    assert!(
        got.iter()
            .any(|a| a["rule_id"] == "Software and Configuration Checks/Vulnerabilities/CVE")
    );
    assert!(err.contains("2 new"), "{err}");

    // a second pull (a restart: state from the file) alerts nothing
    let second = pull(&moto, dir.path(), &["--services", "securityhub"]);
    assert!(second.status.success());
    assert!(
        alerts(&second).is_empty(),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );

    // the product resolves the first: recorded as closed, as an OCSF Close, no alert
    hub(&moto, "resolve");
    let third = pull(
        &moto,
        dir.path(),
        &["--services", "securityhub", "--format", "ocsf"],
    );
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(third.status.success(), "{err}");
    assert!(
        err.contains("0 new, 0 re-alerted, 0 updated, 1 closed"),
        "{err}"
    );
    let ocsf = alerts(&third);
    assert_eq!(ocsf.len(), 1);
    assert_eq!(ocsf[0]["activity_name"], "Close");
    assert_eq!(ocsf[0]["status"], "Resolved");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    let key = format!("securityhub/arn:aws:securityhub:us-east-1:{account}:finding/intake-1");
    assert_eq!(state["findings"][&key]["status"], "closed");
    assert_eq!(
        state["cursors"]["securityhub/us-east-1"],
        "2026-12-01T11:00:00.000Z"
    );
}

/// The services moto lacks come from files; a service that fails (Access Analyzer is not in
/// moto) is reported and counted while the others complete.
#[test]
fn fakes_for_guardduty_and_config_and_a_failing_service_reported() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let gd = dir.path().join("gd.json");
    std::fs::write(
        &gd,
        r#"{"Findings": [{"Id": "gd-1", "Type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "Severity": 8.0,
            "AccountId": "123456789012", "Region": "us-east-1", "UpdatedAt": "2026-12-01T10:00:00.000Z",
            "Resource": {"ResourceType": "AccessKey", "AccessKeyDetails": {"AccessKeyId": "AKIAEXAMPLE"}},
            "Service": {"Count": 1, "Archived": false}}]}"#,
    )
    .unwrap();
    let cfg = dir.path().join("config.json");
    std::fs::write(
        &cfg,
        r#"{"EvaluationResults": [{"EvaluationResultIdentifier": {"EvaluationResultQualifier": {"ConfigRuleName": "s3-bucket-public-read-prohibited",
            "ResourceType": "AWS::S3::Bucket", "ResourceId": "open-bucket"}}, "ComplianceType": "NON_COMPLIANT",
            "ResultRecordedTime": "2026-12-01T10:00:00.000Z", "AccountId": "123456789012", "AwsRegion": "us-east-1"}]}"#,
    )
    .unwrap();
    let gd_in = format!("guardduty={}", gd.display());
    let cfg_in = format!("config={}", cfg.display());
    let out = pull(
        &moto,
        dir.path(),
        &[
            "--services",
            "guardduty,access-analyzer,config",
            "--input",
            &gd_in,
            "--input",
            &cfg_in,
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let got = alerts(&out);
    let ids: Vec<&str> = got.iter().map(|a| a["rule_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
            "s3-bucket-public-read-prohibited"
        ]
    );
    assert!(err.contains("access-analyzer:ListAnalyzers"), "{err}");
    assert!(err.contains("1 error(s)"), "{err}");
    // the runbook of the GuardDuty alert resolves from the alert itself
    let alert_file = dir.path().join("alert.jsonl");
    std::fs::write(&alert_file, String::from_utf8_lossy(&out.stdout).as_bytes()).unwrap();
    let rb = rampart(&moto, &["runbook", "--alert", alert_file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&rb.stdout);
    assert!(
        rb.status.success(),
        "{}",
        String::from_utf8_lossy(&rb.stderr)
    );
    assert!(text.contains("--access-key-id AKIAEXAMPLE"), "{text}");
}
