//! Replay over a small organization: calls the proposed guardrails would deny are counted per
//! principal; exempt roles, global services, allowed regions, the management account and AWS
//! services are not.

use super::*;
use crate::config::init_template;
use rampart_snapshot::*;
use serde_json::json;
use std::collections::BTreeSet;

const MGMT: &str = "111111111111";
const PROD: &str = "222222222222";
const SANDBOX: &str = "333333333333";

fn config() -> Config {
    Config::parse(
        &init_template("ops@example.com", &["eu-west-1".into()]),
        "rampart.toml",
    )
    .unwrap()
}

fn snapshot() -> Snapshot {
    let ou = |id: &str, name: &str, parent: &str| OrganizationalUnit {
        id: id.into(),
        name: name.into(),
        parent_id: parent.into(),
        ..Default::default()
    };
    let account = |id: &str, parent: &str| OrgAccount {
        id: id.into(),
        status: "ACTIVE".into(),
        parent_id: parent.into(),
        ..Default::default()
    };
    Snapshot {
        organization: Some(Organization {
            id: "o-test123456".into(),
            management_account_id: MGMT.into(),
            organizational_units: vec![
                ou("ou-w", "Workloads", "r-root"),
                ou("ou-p", "Prod", "ou-w"),
                ou("ou-s", "Sandbox", "r-root"),
            ],
            accounts: vec![
                account(MGMT, "r-root"),
                account(PROD, "ou-p"),
                account(SANDBOX, "ou-s"),
            ],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn call(account: &str, arn: &str, source: &str, name: &str, region: &str) -> Value {
    json!({
        "eventSource": source, "eventName": name, "awsRegion": region,
        "recipientAccountId": account, "eventTime": "2026-11-20T10:00:00Z", "eventID": format!("{account}-{name}-{region}"),
        "eventType": "AwsApiCall",
        "userIdentity": {"type": "AssumedRole", "arn": arn, "accountId": account},
    })
}

#[test]
fn denied_calls_are_counted_per_principal_and_the_rest_pass() {
    let mut r = Replayer::new(&config(), &snapshot()).unwrap();
    let dev = format!("arn:aws:sts::{PROD}:assumed-role/Developer/alice");
    let glass = format!("arn:aws:sts::{PROD}:assumed-role/BreakGlass/oncall");
    let ec2 = "ec2.amazonaws.com";
    let events = vec![
        // denied: outside the allowed regions (region-deny on Workloads, inherited by Prod)
        call(PROD, &dev, ec2, "RunInstances", "ap-south-1"),
        call(PROD, &dev, ec2, "RunInstances", "ap-south-1"),
        // denied: stopping the organization trail (protect-org-trail)
        call(
            PROD,
            &dev,
            "cloudtrail.amazonaws.com",
            "StopLogging",
            "eu-west-1",
        ),
        // allowed: an allowed region; a global service from anywhere; the exempt role
        call(PROD, &dev, ec2, "RunInstances", "eu-west-1"),
        call(PROD, &dev, "iam.amazonaws.com", "ListUsers", "us-east-1"),
        call(
            PROD,
            &glass,
            "cloudtrail.amazonaws.com",
            "StopLogging",
            "ap-south-1",
        ),
        // skipped: management account, AWS service, unknown account, console sign-in
        call(MGMT, &dev, ec2, "RunInstances", "ap-south-1"),
        json!({"eventSource": ec2, "eventName": "RunInstances", "recipientAccountId": PROD,
               "eventType": "AwsServiceEvent", "userIdentity": {"type": "AWSService"}}),
        call("999999999999", &dev, ec2, "RunInstances", "ap-south-1"),
        call(
            PROD,
            &dev,
            "signin.amazonaws.com",
            "ConsoleLogin",
            "ap-south-1",
        ),
    ];
    for e in &events {
        r.observe(e);
    }
    let rep = r.finish();
    assert_eq!(rep.events, 10);
    assert_eq!(rep.evaluated, 6);
    assert_eq!(rep.skipped.values().sum::<u64>(), 4, "{:?}", rep.skipped);
    assert_eq!(rep.denied.len(), 1, "{rep:#?}");
    let d = &rep.denied[0];
    assert_eq!(
        (d.account.as_str(), d.principal.as_str()),
        (PROD, dev.as_str())
    );
    assert_eq!(d.ou, "Workloads/Prod");
    assert_eq!(d.denied, 3);
    assert_eq!(d.actions["ec2:RunInstances"], 2);
    assert_eq!(d.actions["cloudtrail:StopLogging"], 1);
    assert_eq!(d.examples.len(), 3);
    let text = rep.to_text();
    assert!(
        text.contains("1 principal(s) would have had calls denied"),
        "{text}"
    );
    assert!(text.contains("ec2:RunInstances ×2"), "{text}");
}

#[test]
fn root_calls_are_denied_where_deny_root_is_attached() {
    let mut r = Replayer::new(&config(), &snapshot()).unwrap();
    let root = |account: &str| {
        json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "eu-west-1",
               "recipientAccountId": account, "userIdentity": {"type": "Root", "accountId": account}})
    };
    // Workloads has deny-root; Sandbox does not.
    r.observe(&root(PROD));
    r.observe(&root(SANDBOX));
    let rep = r.finish();
    assert_eq!(rep.denied.len(), 1);
    assert_eq!(rep.denied[0].principal, format!("arn:aws:iam::{PROD}:root"));
}

#[test]
fn no_denials_says_so() {
    let rep = Replayer::new(&config(), &snapshot()).unwrap().finish();
    assert!(
        rep.to_text()
            .contains("No replayed call would have been denied")
    );
    assert!(Replayer::new(&config(), &Snapshot::default()).is_err());
}

const OUTSIDER: &str = "999999999999";
const VENDOR: &str = "444455556666";

/// The default configuration with the whole perimeter and TLS on Workloads (not on Sandbox).
fn config_with_rcps() -> Config {
    let text = init_template("ops@example.com", &["eu-west-1".into()]).replace(
        "\n[log_archive]",
        &format!("\n[guardrails.rcps]\ntrusted_accounts = [\"{VENDOR}\"]\n[guardrails.rcps.attach]\n\"Workloads\" = [\"perimeter-s3\", \"perimeter-kms\", \"perimeter-sqs\", \"perimeter-secretsmanager\", \"perimeter-sts\", \"require-tls\"]\n\n[log_archive]"),
    );
    Config::parse(&text, "rampart.toml").unwrap()
}

/// A call by `caller` (its ARN, or `None` for an anonymous one) to a resource of `resource`.
fn to_resource(resource: &str, caller: Option<&str>, source: &str, name: &str) -> Value {
    let ui = match caller {
        Some(arn) => {
            json!({"type": "AssumedRole", "arn": arn, "accountId": arn.split(':').nth(4).unwrap()})
        }
        None => {
            json!({"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"})
        }
    };
    json!({
        "eventVersion": "1.09", "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
        "recipientAccountId": resource, "eventTime": "2026-11-20T10:00:00Z",
        "eventID": format!("{resource}-{name}"), "eventType": "AwsApiCall", "sourceIPAddress": "203.0.113.9",
        "userIdentity": ui, "tlsDetails": {"tlsVersion": "TLSv1.3"},
    })
}

#[test]
fn outside_callers_of_our_resources_are_reported_per_caller() {
    let mut r = Replayer::new(&config_with_rcps(), &snapshot()).unwrap();
    let partner = format!("arn:aws:sts::{OUTSIDER}:assumed-role/Partner/etl");
    let vendor = format!("arn:aws:sts::{VENDOR}:assumed-role/Backup/job");
    let sandbox_app = format!("arn:aws:sts::{SANDBOX}:assumed-role/App/i-1");
    let s3 = "s3.amazonaws.com";
    let mut no_tls = to_resource(PROD, Some(&sandbox_app), "kms.amazonaws.com", "Decrypt");
    no_tls.as_object_mut().unwrap().remove("tlsDetails");
    let events = vec![
        // denied: outside callers of Workloads/Prod resources
        to_resource(PROD, Some(&partner), s3, "GetObject"),
        to_resource(PROD, Some(&partner), s3, "GetObject"),
        to_resource(PROD, Some(&partner), "sts.amazonaws.com", "AssumeRole"),
        to_resource(PROD, None, s3, "GetObject"),
        // allowed: the trusted vendor; a member account; federation (not in the perimeter)
        to_resource(
            PROD,
            Some(&vendor),
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
        ),
        to_resource(PROD, Some(&sandbox_app), "sqs.amazonaws.com", "SendMessage"),
        no_tls,
        to_resource(
            PROD,
            Some(&partner),
            "sts.amazonaws.com",
            "AssumeRoleWithWebIdentity",
        ),
        // not governed: Sandbox has no RCPs, the management account never has, EC2 is no RCP service
        to_resource(SANDBOX, Some(&partner), s3, "GetObject"),
        to_resource(MGMT, Some(&partner), s3, "GetObject"),
        to_resource(
            PROD,
            Some(&partner),
            "ec2.amazonaws.com",
            "DescribeInstances",
        ),
        // skipped: an AWS service writing into the bucket
        json!({"eventSource": s3, "eventName": "PutObject", "recipientAccountId": PROD,
               "eventType": "AwsApiCall", "userIdentity": {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}}),
    ];
    for e in &events {
        r.observe(e);
    }
    let rep = r.finish();
    assert_eq!(rep.events, 12);
    assert_eq!(rep.rcp_evaluated, 8, "{rep:#?}");
    assert_eq!(rep.rcp_external, 6, "{rep:#?}");
    assert_eq!(rep.rcp_tls_not_logged, 1);
    assert_eq!(
        rep.rcp_skipped.values().sum::<u64>(),
        1,
        "{:?}",
        rep.rcp_skipped
    );
    let who: Vec<(&str, u64)> = rep
        .rcp_denied
        .iter()
        .map(|d| (d.principal.as_str(), d.denied))
        .collect();
    assert_eq!(
        who,
        vec![(partner.as_str(), 3), ("anonymous", 1)],
        "{rep:#?}"
    );
    let p = &rep.rcp_denied[0];
    assert_eq!(
        (p.account.as_str(), p.ou.as_str()),
        (PROD, "Workloads/Prod")
    );
    assert_eq!(p.actions["s3:GetObject"], 2);
    assert_eq!(p.actions["sts:AssumeRole"], 1);
    assert!(p.examples[0].contains("203.0.113.9"), "{:?}", p.examples);
    let text = rep.to_text();
    assert!(
        text.contains("2 caller(s) would have had calls to our resources denied by the RCPs"),
        "{text}"
    );
    assert!(
        text.contains("by callers outside the organization"),
        "{text}"
    );
    // No SCP denies any of these calls: the RCP half is reported on its own.
    assert!(rep.denied.is_empty(), "{:#?}", rep.denied);
}

#[test]
fn without_rcps_the_replay_says_nothing_about_them() {
    let mut r = Replayer::new(&config(), &snapshot()).unwrap();
    r.observe(&to_resource(
        PROD,
        Some(&format!("arn:aws:sts::{OUTSIDER}:assumed-role/P/x")),
        "s3.amazonaws.com",
        "GetObject",
    ));
    let rep = r.finish();
    assert_eq!(rep.rcp_evaluated, 0);
    assert!(!rep.to_text().contains("Resource control policies"));
    // An organization without an id cannot have a perimeter written for it.
    let mut s = snapshot();
    s.organization.as_mut().unwrap().id.clear();
    let e = Replayer::new(&config_with_rcps(), &s).err().unwrap();
    assert!(e.contains("organization id"), "{e}");
}

/// The shared corpora: every account a member under Workloads/Prod. Their calls to S3, KMS,
/// Secrets Manager and STS are all by the accounts' own principals, so the perimeter stops none;
/// what AWS services did is counted as skipped.
#[test]
fn shared_corpora_replay_against_the_perimeter() {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/cloudtrail"
    );
    let mut records: Vec<Value> = Vec::new();
    let dirs = [
        format!("{root}/invictus-stratus-dataset/CloudTrail"),
        format!("{root}/stratus-detonation-logs"),
    ];
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            panic!("corpus missing: {dir}");
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            match v {
                Value::Object(mut o) => {
                    if let Some(Value::Array(rs)) = o.remove("Records") {
                        records.extend(rs);
                    }
                }
                Value::Array(rs) => records.extend(rs),
                _ => {}
            }
        }
    }
    let accounts: BTreeSet<String> = records
        .iter()
        .filter_map(|r| r.get("recipientAccountId").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let mut snap = snapshot();
    let org = snap.organization.as_mut().unwrap();
    for a in &accounts {
        org.accounts.push(OrgAccount {
            id: a.clone(),
            status: "ACTIVE".into(),
            parent_id: "ou-p".into(),
            ..Default::default()
        });
    }
    let mut r = Replayer::new(&config_with_rcps(), &snap).unwrap();
    for e in &records {
        r.observe(e);
    }
    let rep = r.finish();
    assert_eq!(rep.events, records.len() as u64);
    assert!(rep.events > 3000, "{}", rep.events);
    assert_eq!(rep.rcp_external, 0, "{rep:#?}");
    assert!(rep.rcp_denied.is_empty(), "{:#?}", rep.rcp_denied);
    // Measured once (a fixed corpus): S3, KMS, Secrets Manager and STS calls by the accounts'
    // own users and roles; AWS services' calls (STS, S3, Secrets Manager rotation) skipped.
    assert_eq!(rep.rcp_evaluated, 776);
    let services = rep.rcp_skipped.values().sum::<u64>();
    assert_eq!(services, 74, "{:?}", rep.rcp_skipped);
    eprintln!(
        "corpora: {} events, {} RCP calls evaluated, {} external, {} skipped, {} without tlsDetails",
        rep.events, rep.rcp_evaluated, rep.rcp_external, services, rep.rcp_tls_not_logged
    );
}
