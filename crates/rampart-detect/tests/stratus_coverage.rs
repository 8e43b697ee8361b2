//! Coverage over the labelled Stratus Red Team detonation logs: prints technique → rules fired
//! and asserts the techniques the built-in rules are meant to cover.

use rampart_detect::input::{ReadStats, Reader};
use rampart_detect::{BuiltinConfig, Detector, Engine, OrgContext, builtin};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/cloudtrail/stratus-detonation-logs")
}

/// Technique (file stem) → the rules that fired on its events.
fn table_of(cfg: &BuiltinConfig) -> BTreeMap<String, BTreeSet<String>> {
    let dir = corpus();
    if !dir.is_dir() {
        panic!("corpus missing at {}", dir.display());
    }
    let rules: Vec<_> = builtin(cfg)
        .into_iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule)
        .collect();
    let engine = Engine::new(rules);
    let mut table: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut reader = Reader::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        let technique = f.file_stem().unwrap().to_string_lossy().to_string();
        let mut det = Detector::new(&engine, 0);
        let mut alerts = Vec::new();
        let mut st = ReadStats::default();
        let mut issues = Vec::new();
        reader.read_file(&f, &mut st, &mut issues, &mut |raw, _| {
            let _ = det.process(raw, &|| String::new(), &mut alerts);
        });
        assert!(issues.is_empty(), "{issues:?}");
        det.finish(&mut alerts).unwrap();
        table
            .entry(technique)
            .or_default()
            .extend(alerts.into_iter().map(|a| a.rule_id().to_string()));
    }
    table
}

/// With the organization's accounts known (the detonation accounts, none of the accounts the
/// techniques share with), shares and trusts are judged outside the organization.
#[test]
fn exposure_with_the_organization_known() {
    let cfg = BuiltinConfig {
        organization: OrgContext {
            id: Some("o-stratusorg1".into()),
            accounts: Some(
                [
                    "171471557522",
                    "751203476945",
                    "118238665043",
                    "609418236337",
                    "756680937392",
                    "880896431042",
                ]
                .map(String::from)
                .into(),
            ),
        },
        ..BuiltinConfig::default()
    };
    let table = table_of(&cfg);
    for (t, r) in [
        ("aws.exfiltration.ec2-share-ami", "RD-EXP-013"),
        ("aws.exfiltration.ec2-share-ebs-snapshot", "RD-EXP-013"),
        ("aws.exfiltration.rds-share-snapshot", "RD-EXP-013"),
        ("aws.persistence.iam-backdoor-role", "RD-EXP-012"),
        ("aws.persistence.iam-create-backdoor-role", "RD-EXP-012"),
        ("aws.persistence.lambda-backdoor-function", "RD-EXP-005"),
    ] {
        let fired = table.get(t).cloned().unwrap_or_default();
        assert!(fired.contains(r), "{t}: {fired:?}");
        assert!(
            !fired.contains(rampart_detect::rules::UNKNOWN_MEMBERSHIP),
            "{t}: {fired:?}"
        );
    }
}

#[test]
fn stratus_coverage_table() {
    let table = table_of(&BuiltinConfig::default());
    println!("{:<62} rules fired", "technique");
    for (t, r) in &table {
        println!(
            "{t:<62} {}",
            if r.is_empty() {
                "-".to_string()
            } else {
                r.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        );
    }
    let expect: &[(&str, &str)] = &[
        ("aws.defense-evasion.cloudtrail-stop", "RD-TAMPER-001"),
        ("aws.defense-evasion.cloudtrail-stop", "RD-CIS-4.5"),
        ("aws.defense-evasion.cloudtrail-delete", "RD-TAMPER-001"),
        (
            "aws.defense-evasion.cloudtrail-event-selectors",
            "RD-TAMPER-002",
        ),
        ("aws.defense-evasion.organizations-leave", "RD-TAMPER-008"),
        ("aws.defense-evasion.organizations-leave", "RD-CIS-4.15"),
        ("aws.defense-evasion.vpc-remove-flow-logs", "RD-TAMPER-012"),
        ("aws.defense-evasion.dns-delete-logs", "RD-TAMPER-012"),
        ("aws.initial-access.console-login-without-mfa", "RD-CIS-4.2"),
        ("aws.persistence.iam-backdoor-user", "RD-IAM-003"),
        ("aws.persistence.iam-create-admin-user", "RD-IAM-005"),
        ("aws.persistence.iam-create-admin-user", "RD-IAM-007"),
        ("aws.persistence.iam-create-admin-user", "RD-IAM-003"),
        ("aws.persistence.iam-create-backdoor-role", "RD-IAM-005"),
        (
            "aws.persistence.iam-create-user-login-profile",
            "RD-IAM-004",
        ),
        (
            "aws.privilege-escalation.iam-update-user-login-profile",
            "RD-IAM-004",
        ),
        ("aws.persistence.iam-backdoor-role", "RD-IAM-009"),
        ("aws.persistence.sts-federation-token", "RD-IAM-008"),
        (
            "aws.credential-access.ec2-steal-instance-credentials",
            "RD-GD-003",
        ),
        (
            "aws.exfiltration.ec2-security-group-open-port-22-ingress",
            "RD-CIS-4.10",
        ),
        // the organization's accounts unknown: shares with one account are of unknown membership
        ("aws.exfiltration.ec2-share-ami", "RD-EXP-014"),
        ("aws.exfiltration.ec2-share-ebs-snapshot", "RD-EXP-014"),
        ("aws.exfiltration.rds-share-snapshot", "RD-EXP-014"),
        ("aws.persistence.iam-backdoor-role", "RD-EXP-014"),
        ("aws.persistence.iam-create-backdoor-role", "RD-EXP-014"),
        ("aws.persistence.lambda-backdoor-function", "RD-EXP-005"),
    ];
    let mut missing = Vec::new();
    for (t, r) in expect {
        if !table.get(*t).is_some_and(|s| s.contains(*r)) {
            missing.push(format!("{t} → {r}"));
        }
    }
    assert!(
        missing.is_empty(),
        "expected detections missing: {missing:#?}"
    );
}
