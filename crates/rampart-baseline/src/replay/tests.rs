//! Replay over a small organization: calls the proposed guardrails would deny are counted per
//! principal; exempt roles, global services, allowed regions, the management account and AWS
//! services are not.

use super::*;
use crate::config::init_template;
use rampart_snapshot::*;
use serde_json::json;

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
