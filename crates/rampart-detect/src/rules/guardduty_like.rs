//! GuardDuty-like behaviour: attack tooling in the user agent, activity in regions the
//! organization does not use, instance credentials used away from their instance's network.

use super::{Builtin, BuiltinConfig, Def, ev, failed_twin, str_pred};
use crate::ir::{Cidr, Condition, OnFailure, Predicate, Severity, StrOp, compile_regex};
use crate::runbook::{Contact, Runbook, common, note, sh};
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

/// Penetration-testing distributions, as their OS identifier (`ID=` of os-release, kernel release).
const PENTEST_DISTRIBUTIONS: &[&str] = &["kali", "parrot", "pentoo"];

/// The distribution appears where SDKs put the operating system, as a word of its own: the
/// kernel release after `Linux/` or boto's `os/linux#` (`6.5.0-kali3-amd64`, `6.5.0-13parrot1`),
/// the AWS CLI's `exe/<arch>.<distribution>.<version>`, or a `distrib/` or `md/distrib#`
/// token; the name is not followed by a letter, so `kalimba` or an application named after
/// one elsewhere in the agent is not a distribution. A substring test runs first: the pattern
/// only sees the rare agents that mention a name at all.
fn pentest_distribution_user_agent() -> Predicate {
    let names = PENTEST_DISTRIBUTIONS.join("|");
    let os_token = compile_regex(
        &format!(r"(?:linux[/#][^ ]*[^a-z]|exe/[^ ]*\.|distrib[/#])(?:{names})(?:[^a-z]|$)"),
        true,
    )
    .expect("static regex");
    Predicate::All(vec![
        Predicate::Any(
            PENTEST_DISTRIBUTIONS
                .iter()
                .map(|n| str_pred(StrOp::Contains, n, true))
                .collect(),
        ),
        Predicate::Regex(os_token),
    ])
}

/// Calls that are not the account choosing a region: an AWS service acting on its own
/// (`userIdentity.type` `AWSService`), console sign-in, which AWS records in the region of the
/// sign-in endpoint it routed the user to (us-east-1 or a region near the user for the global
/// endpoint), and reads a service makes for the caller (`invokedBy`) or with its service-linked
/// role (only the service can assume it; AWS Config reads every region). Writes made that way
/// still fire: a service-managed StackSet creating resources in an unused region is the
/// organization using that region.
fn region_not_chosen_by_account() -> Condition {
    Condition::Any(vec![
        Condition::eq("userIdentity.type", "AWSService"),
        Condition::eq("eventSource", "signin.amazonaws.com"),
        Condition::All(vec![
            Condition::field("readOnly", Predicate::Bool(true)),
            Condition::Any(vec![
                Condition::not(Condition::field("userIdentity.invokedBy", Predicate::Null)),
                Condition::field(
                    "userIdentity.sessionContext.sessionIssuer.arn",
                    str_pred(
                        StrOp::Wildcard,
                        "arn:aws*:iam::*:role/aws-service-role/*",
                        false,
                    ),
                ),
            ]),
        ]),
    ])
}

pub(super) fn rules(cfg: &BuiltinConfig) -> Vec<Builtin> {
    let mut out = Vec::new();
    out.push(
        Def {
            id: "RD-GD-001",
            title: "Penetration-testing distribution in user agent",
            severity: Severity::Medium,
            attack: &["T1595", "T1078"],
            description: "The call came from Kali, Parrot or Pentoo Linux, as the operating-system part of the user agent names it (kernel release after `Linux/` or `os/linux#`, the AWS CLI's `exe/<arch>.<distribution>`, `distrib/`): attack tooling, or a penetration test. The name elsewhere in the agent, or inside a longer word, is not matched.",
            false_positives: &["Authorised penetration tests"],
            runbook: Runbook::new(
                "A call came from a penetration-testing Linux distribution (Kali, Parrot, Pentoo) as {principal}.",
                "Those distributions are attack toolkits: outside an announced test, their user agent on a real credential means the credential is in an attacker's hands.",
            )
            .triage([
                note("Check the calendar: is a penetration test announced for this account, from this source address?"),
                common::key_activity(),
                common::principal_activity(),
                common::detect_window(),
            ])
            .contain([
                common::disable_key(),
                common::quarantine_principal(),
            ])
            .recover([
                note("Rotate every credential the principal could read (secrets, parameters) and review the resources it changed."),
                common::review_credentials(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once unless a test is announced")
            .escalate(Contact::AccountOwner, "to confirm the test"),
            condition: Condition::field("userAgent", pentest_distribution_user_agent()),
            positives: [
                "aws-cli/2.9.0 Python/3.10 Linux/6.0.0-kali3-amd64",
                "aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-amd64 exe/x86_64.kali.2023 prompt/off command/s3.ls",
                "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.5.0-13parrot1-amd64 md/arch#x86_64 lang/python#3.11.2",
                "aws-cli/2.15.10 Python/3.11.6 Linux/6.6.13-pentoo exe/x86_64.pentoo prompt/off",
                "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/distrib#kali",
                "aws-cli/1.32.0 Python/3.11.8 Linux/6.6.9-amd64 botocore/1.34.0 distrib/Parrot",
            ]
            .iter()
            .map(|ua| ev("iam.amazonaws.com", "ListUsers", json!({ "userAgent": ua })))
            .collect(),
            negatives: [
                "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0",
                // the names inside longer words, or as an application's own name
                "aws-sdk-java/2.25.11 Linux/6.1.79-99.164.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS Java/21.0.2 vendor/Amazon.com_Inc. exec-env/kalimba-media md/internal",
                "kalimba-sync/3.1 aws-sdk-js/3.540.0 os/linux#6.1.0-18-amd64",
                "parrot-backup/1.2 Boto3/1.34.60 md/Botocore#1.34.60 os/linux#6.1.79-99.164.amzn2023.x86_64",
                "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off command/s3.ls.parrots",
            ]
            .iter()
            .map(|ua| ev("iam.amazonaws.com", "ListUsers", json!({ "userAgent": ua })))
            .collect(),
        }
        .build(),
    );
    let region_def = |allowed: Vec<String>| {
        Def {
        id: "RD-GD-002",
        title: "API call in a region outside the allowed list",
        severity: Severity::Medium,
        attack: &["T1535"],
        description: "A call ran in a region the organization does not use (`[detect] allowed_regions`, else `[organization]` or `[audit] allowed_regions`): attackers hide resources there. Calls whose region the account did not choose never fire: global services logged in us-east-1 (or us-west-2), console sign-in (recorded in the region of the sign-in endpoint AWS routed to), AWS services acting on their own (`userIdentity.type` `AWSService`), and reads a service made for the caller (`invokedBy`) or with its service-linked role (AWS Config reads every region); writes made that way still fire.",
        false_positives: &["A newly adopted region"],
        runbook: Runbook::new(
            "{principal} called {event_name} in {region}, a region the organization does not use.",
            "Unused regions are not watched: attackers run crypto-miners or stage resources there, and a region SCP should refuse such calls.",
        )
        .triage([
            sh("List instances in the region (the most common abuse).", "aws ec2 describe-instances --region {region} --query 'Reservations[].Instances[].[InstanceId,LaunchTime,InstanceType,State.Name]' --output table"),
            common::read_event(),
            common::principal_activity(),
            sh("Check the region-deny SCP is attached to the account's OU.", "aws organizations list-policies-for-target --target-id {account} --filter SERVICE_CONTROL_POLICY"),
        ])
        .contain([
            note("Stop and snapshot anything created in the region (instances, functions, keys); isolate instances before terminating them."),
            sh("Isolate an instance: snapshot its volumes first.", "aws ec2 create-snapshots --region {region} --instance-specification InstanceId={instance_id}").respond("isolate-instance"),
            common::disable_key(),
        ])
        .recover([
            note("If the region is now used on purpose, add it to `allowed_regions` in rampart.toml and to the region SCP through `rampart apply`."),
            common::apply_baseline(),
            common::record_outcome(),
        ])
        .escalate(Contact::SecurityOnCall, "when resources were created in the region")
        .escalate(Contact::AccountOwner, "to confirm whether the region is adopted"),
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
            Condition::not(region_not_chosen_by_account()),
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
            // a write a service made for the caller, and one by a service-linked role (a
            // service-managed StackSet deploying into an unused region)
            ev(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({"awsRegion": "ap-southeast-3", "readOnly": false, "userIdentity": {"invokedBy": "cloudformation.amazonaws.com"}}),
            ),
            ev(
                "lambda.amazonaws.com",
                "CreateFunction20150331",
                json!({"awsRegion": "ap-southeast-3", "readOnly": false, "userIdentity": {"type": "AssumedRole", "userName": null,
                    "arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForCloudFormationStackSetsOrgMember/stacksets",
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/aws-service-role/member.org.stacksets.cloudformation.amazonaws.com/AWSServiceRoleForCloudFormationStackSetsOrgMember"}}}}),
            ),
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
            // an IAM user's console sign-in recorded in the region AWS routed it to
            ev(
                "signin.amazonaws.com",
                "ConsoleLogin",
                json!({"awsRegion": "eu-north-1", "eventType": "AwsConsoleSignIn"}),
            ),
            // AWS Config's service-linked role reading every region
            ev(
                "ec2.amazonaws.com",
                "DescribeInstances",
                json!({"awsRegion": "ap-northeast-3", "readOnly": true, "sourceIPAddress": "config.amazonaws.com", "userIdentity": {"type": "AssumedRole",
                    "arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForConfig/AWSConfig-Describe", "userName": null, "invokedBy": "config.amazonaws.com",
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}}}}),
            ),
            // a service-linked role without invokedBy, and a service acting on its own
            ev(
                "ec2.amazonaws.com",
                "DescribeRegions",
                json!({"awsRegion": "sa-east-1", "readOnly": true, "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForSecurityHub/securityhub", "userName": null,
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/aws-service-role/securityhub.amazonaws.com/AWSServiceRoleForSecurityHub"}}}}),
            ),
            ev(
                "kms.amazonaws.com",
                "RotateKey",
                json!({"awsRegion": "ap-south-1", "eventType": "AwsServiceEvent", "userIdentity": {"type": "AWSService", "invokedBy": "kms.amazonaws.com", "userName": null, "arn": null}}),
            ),
        ],
    }
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
            runbook: Runbook::new(
                "Instance role credentials ({principal}) were used from {source_ip}, outside the organization's networks.",
                "Instance credentials leave an instance only when stolen (metadata service SSRF, a compromised host); from outside they act with the instance role's permissions, often wide.",
            )
            .triage([
                sh("Identify the instance (the role session name is its id) and its role.", "aws ec2 describe-iam-instance-profile-associations --region {region} --filters Name=instance-id,Values={instance_id}"),
                sh("Check whether the instance requires IMDSv2 (tokens required blocks simple SSRF).", "aws ec2 describe-instances --region {region} --instance-ids {instance_id} --query 'Reservations[].Instances[].MetadataOptions'"),
                note("Is the source one of the organization's NAT gateways or Elastic IPs? Then add its range to `[detect] instance_networks`."),
                common::principal_activity(),
                common::detect_window(),
            ])
            .contain([
                sh("Revoke the role's sessions issued before now (the instance gets fresh credentials; the stolen ones stop working).", r#"aws iam put-role-policy --role-name {role_name} --policy-name rampart-revoke-sessions --policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:TokenIssueTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}}]}""#).respond("quarantine-principal"),
                sh("Isolate the instance when it is itself compromised (snapshot first, then a quarantine security group).", "aws ec2 create-snapshots --region {region} --instance-specification InstanceId={instance_id}").respond("isolate-instance"),
                sh("Require IMDSv2 on the instance.", "aws ec2 modify-instance-metadata-options --region {region} --instance-id {instance_id} --http-tokens required"),
            ])
            .recover([
                note("Find how the credentials left (application SSRF, exposed metadata proxy, compromised package) before restoring the instance."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once unless the source is an unlisted NAT address")
            .escalate(Contact::AccountOwner, "for the application's owners"),
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
