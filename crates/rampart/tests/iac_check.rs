//! `rampart iac check` end to end: output formats, exit codes, a malformed file among good
//! ones, and the guardrail impact of a deployment against a snapshot's SCPs.

use std::path::Path;
use std::process::{Command, Output};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart-iac/tests/fixtures")
}

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = fixtures();
    let o = rampart(&["iac", "check", "cis-5.2/fail.yaml"], &dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains(
            "cis-5.2/fail.yaml:8:11: FAIL HIGH cis-5.2 Web: admits 0.0.0.0/0 to port(s) 22"
        ),
        "{}",
        stdout(&o)
    );
    let o = rampart(
        &["iac", "check", "cis-5.2/fail.yaml", "--fail-on", "high"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(3));
    let o = rampart(
        &["iac", "check", "cis-5.2/fail.yaml", "--fail-on", "critical"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0));
    let o = rampart(
        &["iac", "check", "cis-5.2/pass.yaml", "--fail-on", "low"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn sarif_points_at_the_template_line() {
    let dir = fixtures();
    let o = rampart(
        &["iac", "check", "cis-2.1.4/fail.yaml", "--format", "sarif"],
        &dir,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "cis-2.1.4").unwrap();
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "cis-2.1.4/fail.yaml");
    assert_eq!(loc["region"]["startLine"], 9);
    assert_eq!(loc["region"]["startColumn"], 28);
    assert!(results.iter().all(|r| r["properties"]["status"] != "PASS"));
}

#[test]
fn json_output_and_parameters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("db.yaml"),
        "Parameters:\n  Enc:\n    Type: String\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      DBSubnetGroupName: private\n      StorageEncrypted: !Ref Enc\n",
    )
    .unwrap();
    let o = rampart(
        &[
            "iac",
            "check",
            "db.yaml",
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
        dir.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"]["id"] == "cis-2.3.1")
        .unwrap()
        .clone();
    assert_eq!(f["status"], "UNKNOWN");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(9), Some(30))
    );
    assert_eq!(o.status.code(), Some(0), "UNKNOWN does not gate by default");
    let o = rampart(
        &[
            "iac",
            "check",
            "db.yaml",
            "--fail-on",
            "high",
            "--fail-on-unknown",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(3));
    let o = rampart(
        &[
            "iac",
            "check",
            "db.yaml",
            "--fail-on",
            "high",
            "--parameter",
            "Enc=true",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    let o = rampart(
        &[
            "iac",
            "check",
            "db.yaml",
            "--fail-on",
            "high",
            "--parameter",
            "Enc=false",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(3));
    // rampart.toml suppressions.
    std::fs::write(
        dir.path().join("rampart.toml"),
        "[[iac.suppress]]\ncontrol = \"cis-2.3.1\"\nresource = \"Db\"\nreason = \"dev database, no data\"\n",
    )
    .unwrap();
    let o = rampart(
        &[
            "iac",
            "check",
            "db.yaml",
            "--fail-on",
            "high",
            "--parameter",
            "Enc=false",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("[suppressed (rampart.toml): dev database, no data]"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_malformed_template_is_reported_and_the_others_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "Resources:\n  A:\n    Type: AWS::S3::Bucket\n   Properties: {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("good.yaml"),
        "Resources:\n  F:\n    Type: AWS::EFS::FileSystem\n",
    )
    .unwrap();
    let o = rampart(&["iac", "check", "."], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("bad.yaml:"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.starts_with("rampart: error: ./bad.yaml:4:"), "{line}");
    assert!(
        stdout(&o).contains("./good.yaml:2:3: FAIL MEDIUM cis-2.4.1"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn guardrails_deny_a_deployment_outside_the_allowed_regions() {
    let dir = tempfile::tempdir().unwrap();
    let snap = rampart_core::sample::compliant_org(1, &["eu-west-1"]);
    let member = snap
        .organization
        .as_ref()
        .unwrap()
        .accounts
        .iter()
        .map(|a| a.id.clone())
        .find(|id| id.starts_with("4000"))
        .unwrap();
    std::fs::write(dir.path().join("snap.json"), snap.to_json()).unwrap();
    let template = fixtures().join("iac-guardrail-impact/fail.yaml");
    let args = |region: &'static str| {
        vec![
            "iac".to_string(),
            "check".into(),
            template.display().to_string(),
            "--account".into(),
            member.clone(),
            "--snapshot".into(),
            "snap.json".into(),
            "--region".into(),
            region.into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let finding = |region: &'static str| {
        let a = args(region);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = rampart(&a, dir.path());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["control"]["id"] == "iac-guardrail-impact")
            .cloned()
            .unwrap()
    };
    let denied = finding("eu-north-1");
    assert_eq!(denied["status"], "FAIL");
    let msg = denied["message"].as_str().unwrap();
    assert!(
        msg.contains("ec2:RunInstances in eu-north-1") && msg.contains("rampart-region-deny"),
        "{msg}"
    );
    assert_eq!(finding("eu-west-1")["status"], "PASS");
}
