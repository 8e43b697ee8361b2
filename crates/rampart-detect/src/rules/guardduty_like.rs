//! GuardDuty-like behaviour: attack tooling in the user agent, activity in regions the
//! organization does not use, instance credentials used away from their instance's network.

use super::{Builtin, BuiltinConfig, Def, ev, failed_twin, str_pred};
use crate::ir::{Cidr, Condition, OnFailure, Predicate, Severity, StrOp};
use serde_json::json;

/// Services whose calls CloudTrail records in us-east-1 (Global Accelerator: us-west-2) no matter
/// which regions the organization uses.
const GLOBAL_SERVICES: &[&str] = &[
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "organizations.amazonaws.com",
    "signin.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "route53domains.amazonaws.com",
    "support.amazonaws.com",
    "account.amazonaws.com",
    "health.amazonaws.com",
    "budgets.amazonaws.com",
    "ce.amazonaws.com",
    "billingconsole.amazonaws.com",
    "trustedadvisor.amazonaws.com",
    "shield.amazonaws.com",
    "waf.amazonaws.com",
    "globalaccelerator.amazonaws.com",
    "sso.amazonaws.com",
    "notifications.amazonaws.com",
];

pub(super) fn rules(cfg: &BuiltinConfig) -> Vec<Builtin> {
    let mut out = Vec::new();
    out.push(
        Def {
            id: "RD-GD-001",
            title: "Penetration-testing distribution in user agent",
            severity: Severity::Medium,
            attack: &["T1595", "T1078"],
            description: "The call came from Kali, Parrot or Pentoo Linux: attack tooling, or a penetration test.",
            false_positives: &["Authorised penetration tests"],
            condition: Condition::field(
                "userAgent",
                Predicate::Any(vec![
                    str_pred(StrOp::Contains, "kali", true),
                    str_pred(StrOp::Contains, "parrot", true),
                    str_pred(StrOp::Contains, "pentoo", true),
                ]),
            ),
            positives: vec![ev("iam.amazonaws.com", "ListUsers", json!({"userAgent": "aws-cli/2.9.0 Python/3.10 Linux/6.0.0-kali3-amd64"}))],
            negatives: vec![ev("iam.amazonaws.com", "ListUsers", json!({}))],
        }
        .build(),
    );
    let region_def = |allowed: Vec<String>| Def {
        id: "RD-GD-002",
        title: "API call in a region outside the allowed list",
        severity: Severity::Medium,
        attack: &["T1535"],
        description: "A call ran in a region the organization does not use (`[detect] allowed_regions`, else `[organization]` or `[audit] allowed_regions`): attackers hide resources there.",
        false_positives: &["A newly adopted region"],
        condition: Condition::All(vec![
            Condition::field("awsRegion", Predicate::Exists(true)),
            Condition::not(Condition::field(
                "awsRegion",
                Predicate::OneOf {
                    values: allowed,
                    case_insensitive: false,
                },
            )),
            // Global services are logged in their home region whatever the caller's regions.
            Condition::not(Condition::All(vec![
                Condition::one_of("eventSource", GLOBAL_SERVICES),
                Condition::one_of("awsRegion", &["us-east-1", "us-west-2"]),
            ])),
        ]),
        positives: vec![
            ev(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({"awsRegion": "ap-southeast-3"}),
            ),
            ev(
                "ec2.amazonaws.com",
                "DescribeInstances",
                json!({"awsRegion": "us-east-1"}),
            ),
            // refused there (the region-deny guardrail worked): an attempt, one level lower
            failed_twin(&ev(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({"awsRegion": "ap-southeast-3"}),
            )),
        ],
        negatives: vec![
            ev(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({"awsRegion": "eu-west-1"}),
            ),
            ev(
                "organizations.amazonaws.com",
                "LeaveOrganization",
                json!({"awsRegion": "us-east-1"}),
            ),
            ev(
                "iam.amazonaws.com",
                "CreateUser",
                json!({"awsRegion": "us-east-1"}),
            ),
            ev(
                "sts.amazonaws.com",
                "GetCallerIdentity",
                json!({"awsRegion": "us-east-1"}),
            ),
        ],
    };
    // a call refused in such a region (the region-deny guardrail at work) is an attempt
    let region_rule = |allowed| {
        region_def(allowed)
            .build()
            .on_failure(OnFailure::Attempt { lower: 1 })
    };
    if cfg.allowed_regions.is_empty() {
        let mut b = region_rule(vec![]);
        b.disabled = Some(
            "no allowed regions: set `allowed_regions` in the [detect] section of rampart.toml (when it has none, those of [organization], then [audit], are used), or pass `--allowed-regions`"
                .into(),
        );
        out.push(b);
    } else {
        out.push(region_rule(cfg.allowed_regions.clone()));
    }
    let mut nets = cfg.instance_networks.clone();
    for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"] {
        nets.push(Cidr::parse(p).expect("static cidr"));
    }
    let instance = json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/web/i-0abc123def4567890",
        "principalId": "AROAEXAMPLE:i-0abc123def4567890", "accessKeyId": "ASIAEXAMPLE", "userName": null,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/web"}, "ec2RoleDelivery": "2.0"}}});
    // the instance role calling `name` on `source` from `ip`
    let from = |source: &str, name: &str, ip: &str| {
        let mut e = instance.clone();
        e["sourceIPAddress"] = json!(ip);
        ev(source, name, e)
    };
    out.push(
        Def {
            id: "RD-GD-003",
            title: "Instance credentials used outside the instance's network",
            severity: Severity::High,
            attack: &["T1552.005", "T1078.004"],
            description: "Temporary credentials of an EC2 instance role (session named after the instance) were used from a public IP address outside `[detect] instance_networks`: they were probably stolen from the metadata service. Calls from the private ranges (VPC endpoints) and from AWS services (a source that is a service name such as `ssm.amazonaws.com` or `AWS Internal`, not an address) never fire. Without `instance_networks` every instance that reaches AWS through a NAT gateway or its own public or Elastic IP alerts on its own calls: list the organization's NAT and Elastic IP ranges there.",
            false_positives: &["Every instance calling AWS from a public, NAT or Elastic IP address, including its own agents (SSM, CloudWatch), until `[detect] instance_networks` lists the organization's NAT and Elastic IP ranges"],
            condition: Condition::All(vec![
                Condition::eq("userIdentity.type", "AssumedRole"),
                Condition::field("userIdentity.arn", str_pred(StrOp::Wildcard, "arn:aws*:sts::*:assumed-role/*/i-*", true)),
                Condition::field("userIdentity.accessKeyId", str_pred(StrOp::StartsWith, "ASIA", false)),
                Condition::field("sourceIPAddress", Predicate::Cidr(vec![Cidr::parse("0.0.0.0/0").expect("cidr"), Cidr::parse("::/0").expect("cidr")])),
                Condition::not(Condition::field("sourceIPAddress", Predicate::Cidr(nets))),
            ]),
            positives: vec![
                from("sts.amazonaws.com", "GetCallerIdentity", "18.236.253.47"),
                // refused calls prove the stolen credentials work just the same: same alert
                failed_twin(&from("s3.amazonaws.com", "ListBuckets", "18.236.253.47")),
            ],
            negatives: vec![
                from("sts.amazonaws.com", "GetCallerIdentity", "10.0.3.4"),
                // AWS services acting with the instance's credentials
                from("sts.amazonaws.com", "GetCallerIdentity", "ec2.amazonaws.com"),
                from("ssm.amazonaws.com", "UpdateInstanceInformation", "ssm.amazonaws.com"),
                from("kms.amazonaws.com", "Decrypt", "AWS Internal"),
                ev("sts.amazonaws.com", "GetCallerIdentity", json!({})),
            ],
        }
        .build(),
    );
    out
}
