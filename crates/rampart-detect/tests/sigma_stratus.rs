//! The SigmaHQ AWS rules over the labelled Stratus Red Team detonation logs: prints technique →
//! Sigma rules fired and asserts that rules fire on the techniques they are written for.

use rampart_detect::input::{ReadStats, Reader};
use rampart_detect::{Detector, Engine};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

#[test]
fn sigma_rules_fire_on_their_techniques() {
    let report = rampart_detect::sigma::load_dir(&shared().join("sigma-aws")).unwrap();
    let titles: BTreeMap<String, String> = report
        .rules
        .iter()
        .map(|r| (r.meta.id.clone(), r.meta.title.clone()))
        .collect();
    let engine = Engine::new(report.rules);
    let dir = shared().join("cloudtrail/stratus-detonation-logs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus missing at {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut reader = Reader::new();
    let mut table: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let technique = f.file_stem().unwrap().to_string_lossy().to_string();
        let mut det = Detector::new(&engine, 0);
        let mut alerts = Vec::new();
        let (mut st, mut issues) = (ReadStats::default(), Vec::new());
        reader.read_file(&f, &mut st, &mut issues, &mut |raw, _| {
            let _ = det.process(raw, &|| String::new(), &mut alerts);
        });
        assert!(issues.is_empty(), "{issues:?}");
        det.finish(&mut alerts).unwrap();
        for a in &alerts {
            assert_eq!(a.license(), Some("DRL-1.1"));
            assert!(a.author().is_some_and(|x| !x.is_empty()));
        }
        table
            .entry(technique)
            .or_default()
            .extend(alerts.into_iter().map(|a| titles[a.rule_id()].clone()));
    }
    println!("{:<62} Sigma rules fired", "technique");
    for (t, r) in &table {
        let fired: Vec<_> = r.iter().cloned().collect();
        println!(
            "{t:<62} {}",
            if fired.is_empty() {
                "-".into()
            } else {
                fired.join(" | ")
            }
        );
    }
    let fired = |t: &str, title: &str| table.get(t).is_some_and(|r| r.contains(title));
    let expect: &[(&str, &str)] = &[
        (
            "aws.defense-evasion.cloudtrail-stop",
            "AWS CloudTrail Important Change",
        ),
        (
            "aws.defense-evasion.cloudtrail-delete",
            "AWS CloudTrail Important Change",
        ),
        (
            "aws.defense-evasion.vpc-remove-flow-logs",
            "AWS VPC Flow Logs Deleted",
        ),
        (
            "aws.exfiltration.ec2-security-group-open-port-22-ingress",
            "Ingress/Egress Security Group Modification",
        ),
        (
            "aws.exfiltration.ec2-share-ebs-snapshot",
            "AWS Snapshot Backup Exfiltration",
        ),
        (
            "aws.initial-access.console-login-without-mfa",
            "AWS Successful Console Login Without MFA",
        ),
        (
            "aws.persistence.iam-backdoor-user",
            "AWS IAM Backdoor Users Keys",
        ),
        (
            "aws.persistence.lambda-layer-extension",
            "AWS New Lambda Layer Attached",
        ),
        (
            "aws.privilege-escalation.iam-update-user-login-profile",
            "AWS User Login Profile Was Modified",
        ),
        (
            "aws.execution.ssm-send-command",
            "Potential Malicious Usage of CloudTrail System Manager",
        ),
    ];
    for (t, title) in expect {
        assert!(fired(t, title), "{title} did not fire on {t}");
    }
    // A rule about CloudTrail tampering stays silent on an unrelated technique.
    assert!(!fired(
        "aws.persistence.iam-backdoor-user",
        "AWS CloudTrail Important Change"
    ));
}
