//! Every check against its fixtures: `tests/fixtures/<control>/{pass,fail}.{yaml,json,tfplan.json}`.
//! A `pass` file gives that control at least one PASS and no FAIL or UNKNOWN; a `fail` file at
//! least one FAIL. Each check has both in YAML, JSON and a Terraform plan (CIS 2.2.1, EBS default
//! encryption, has no CloudFormation resource type, so only plan fixtures).

use rampart_core::proof::{Chain, Guardrails};
use rampart_iac::checks::{CHECKS, Env, GuardrailEnv};
use rampart_iac::model::{ReadOptions, STAND_IN_ACCOUNT};
use rampart_iac::{Status, check, read};
use std::path::Path;

const REGION_DENY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"*","Resource":"*"},
  {"Sid":"DenyEc2OutsideIreland","Effect":"Deny","Action":"ec2:*","Resource":"*",
   "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#;

fn env(control: &str) -> Env {
    let mut env = Env {
        account: STAND_IN_ACCOUNT.into(),
        ..Env::default()
    };
    if control == "iac-guardrail-impact" {
        let mut chain = Chain::default();
        chain.push(
            "r-root".into(),
            vec![(
                "RegionDeny".into(),
                rampart_policy::parse_policy(REGION_DENY).unwrap(),
            )],
        );
        env.guardrails = Some(GuardrailEnv::new(
            Guardrails::new(chain, None),
            Some("eu-west-1".into()),
            true,
            format!("arn:aws:iam::{STAND_IN_ACCOUNT}:role/Deployer"),
        ));
    }
    env
}

fn statuses(path: &Path, control: &str) -> Vec<(Status, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let opts = ReadOptions {
        region: (control == "iac-guardrail-impact"
            && !path.to_string_lossy().ends_with(".tfplan.json"))
        .then(|| "eu-north-1".into()),
        ..ReadOptions::default()
    };
    let dep = read(&text, &opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check(&path.display().to_string(), &dep, &env(control))
        .into_iter()
        .filter(|f| f.control.id == control)
        .map(|f| {
            (
                f.status,
                format!("{}:{}:{} {}", f.file, f.line, f.column, f.message),
            )
        })
        .collect()
}

#[test]
fn every_check_has_passing_and_failing_fixtures_in_every_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut controls: Vec<&str> = CHECKS.iter().map(|c| c.control).collect();
    controls.dedup();
    for control in controls {
        let dir = root.join(control);
        let formats: &[&str] = if control == "cis-2.2.1" {
            &["tfplan.json"]
        } else {
            &["yaml", "json", "tfplan.json"]
        };
        for fmt in formats {
            let pass = statuses(&dir.join(format!("pass.{fmt}")), control);
            assert!(
                !pass.is_empty(),
                "{control} pass.{fmt}: no finding for the control"
            );
            assert!(
                pass.iter().all(|(s, _)| *s == Status::Pass),
                "{control} pass.{fmt}: {pass:#?}"
            );
            let fail = statuses(&dir.join(format!("fail.{fmt}")), control);
            assert!(
                fail.iter().any(|(s, _)| *s == Status::Fail),
                "{control} fail.{fmt}: {fail:#?}"
            );
        }
    }
}
