//! CIS AWS Foundations v3.0 section 4 monitoring events, expressed with the benchmark's own
//! CloudWatch metric-filter patterns so an alert here means "the CIS alarm would have fired".

use super::console::{self, console_login, iam_user, root};
use super::{Builtin, Def, ev, pattern};
use crate::ir::{Condition, Predicate, Severity};
use serde_json::json;

/// Wrap a pattern that pins no eventName with a header-only guard so most events skip it cheaply.
fn guarded(guard: Condition, text: &str) -> Condition {
    Condition::All(vec![guard, pattern(text)])
}

/// CIS 4.1 (v3.0) as AWS words it. Kept as text for the equivalence test below.
#[cfg(test)]
const UNAUTHORIZED: &str = r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#;

/// CIS 4.1 lowered natively: every field it reads is in the typed header, so the ~10% of events
/// that carry an errorCode are judged without building a document. `&&` binds tighter than `||`
/// here exactly as in `rampart-pattern`; `unauthorized_matches_the_cis_pattern` proves it.
fn unauthorized() -> Condition {
    use crate::ir::StrOp;
    let code = |p: &str| Condition::field("errorCode", super::str_pred(StrOp::Wildcard, p, false));
    let ne = |f: &str, v: &str| Condition::not(Condition::eq(f, v));
    Condition::All(vec![
        Condition::field("errorCode", Predicate::Exists(true)),
        Condition::Any(vec![
            code("*UnauthorizedOperation"),
            Condition::All(vec![
                code("AccessDenied*"),
                ne("sourceIPAddress", "delivery.logs.amazonaws.com"),
                ne("eventName", "HeadBucket"),
            ]),
        ]),
    ])
}

pub(super) fn rules() -> Vec<Builtin> {
    let iam = "iam.amazonaws.com";
    let ec2 = "ec2.amazonaws.com";
    vec![
        Def {
            id: "RD-CIS-4.1",
            title: "Unauthorized API call",
            severity: Severity::Low,
            attack: &["T1078"],
            description: "An API call was refused (AccessDenied* or *UnauthorizedOperation): a principal probing permissions it does not have (CIS 4.1).",
            false_positives: &["Scripts and consoles that probe optional permissions", "Misconfigured deployments retrying"],
            condition: unauthorized(),
            positives: vec![
                ev("s3.amazonaws.com", "GetObject", json!({"errorCode": "AccessDenied", "errorMessage": "Access Denied"})),
                ev(ec2, "RunInstances", json!({"errorCode": "Client.UnauthorizedOperation"})),
            ],
            negatives: vec![
                ev("s3.amazonaws.com", "GetObject", json!({})),
                ev("s3.amazonaws.com", "HeadBucket", json!({"errorCode": "AccessDenied"})),
                ev(ec2, "RunInstances", json!({"errorCode": "InvalidParameterValue"})),
            ],
        },
        Def {
            id: "RD-CIS-4.2",
            title: "Console sign-in without MFA",
            severity: Severity::Medium,
            attack: &["T1078.004"],
            description: "An IAM user or the root user signed in to the console without multi-factor authentication (CIS 4.2). CIS's SSO-aware variant: only successful sign-ins of IAM users (and root, which the base pattern covers too) count; a sign-in federated through SAML, OIDC or IAM Identity Center reports `MFAUsed: No` because MFA happens at the identity provider, a role session opened with MFA carries `mfaAuthenticated: true`, and a failed sign-in signed nobody in (RD-CIS-4.6). Every alert is one the base CIS alarm also raises.",
            false_positives: &["IAM users without MFA that are known and scheduled for removal"],
            condition: pattern(
                r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && (($.userIdentity.type = "IAMUser") || ($.userIdentity.type = "Root")) && ($.responseElements.ConsoleLogin = "Success") && (($.userIdentity.sessionContext.attributes.mfaAuthenticated NOT EXISTS) || ($.userIdentity.sessionContext.attributes.mfaAuthenticated != "true")) }"#,
            ),
            positives: vec![
                console_login(iam_user("111122223333", "bob"), "Success", Some("No")),
                console_login(root("111122223333"), "Success", Some("No")),
            ],
            negatives: {
                let mut v = console::federated_sign_ins();
                v.extend([
                    console_login(iam_user("111122223333", "bob"), "Success", Some("Yes")),
                    console_login(iam_user("111122223333", "bob"), "Failure", Some("No")),
                    console_login(root("111122223333"), "Failure", Some("No")),
                    console_login(console::hidden_user("111122223333"), "Failure", None),
                ]);
                v
            },
        },
        Def {
            id: "RD-CIS-4.3",
            title: "Root user activity",
            severity: Severity::High,
            attack: &["T1078.004"],
            description: "The root user made a call itself (not an AWS service acting for it) (CIS 4.3). A failed console sign-in as root is left out: no root credential was used (RD-CIS-4.6 and RD-IAM-011 report it).",
            false_positives: &["The few tasks only root can do (closing the account, changing the support plan), done on purpose"],
            // the guard (necessary for the pattern, read from the indexed `userIdentity`
            // members) spares the pattern's parse on the events of every other principal
            condition: guarded(
                Condition::All(vec![
                    Condition::eq("userIdentity.type", "Root"),
                    Condition::not(super::failed_console_login()),
                ]),
                r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
            ),
            positives: vec![
                ev(
                    ec2,
                    "DescribeInstances",
                    json!({"userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"}}),
                ),
                console_login(root("111122223333"), "Success", Some("Yes")),
            ],
            negatives: vec![
                ev(ec2, "DescribeInstances", json!({})),
                ev(ec2, "DescribeInstances", json!({"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"}})),
                console_login(root("111122223333"), "Failure", Some("No")),
                console_login(root("111122223333"), "Failure", None),
            ],
        },
        Def {
            id: "RD-CIS-4.4",
            title: "IAM policy changed",
            severity: Severity::Medium,
            attack: &["T1098"],
            description: "An IAM policy was created, deleted, versioned, attached or detached (CIS 4.4).",
            false_positives: &["Infrastructure-as-code deployments"],
            condition: pattern(
                "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
            ),
            positives: vec![ev(iam, "AttachRolePolicy", json!({"requestParameters": {"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}))],
            negatives: vec![ev(iam, "ListPolicies", json!({}))],
        },
        Def {
            id: "RD-CIS-4.5",
            title: "CloudTrail configuration changed",
            severity: Severity::High,
            attack: &["T1562.008"],
            description: "A trail was created, updated, deleted, started or stopped (CIS 4.5).",
            false_positives: &["Planned trail changes by the platform team"],
            condition: pattern("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"),
            positives: vec![ev("cloudtrail.amazonaws.com", "StopLogging", json!({"requestParameters": {"name": "org-trail"}}))],
            negatives: vec![ev("cloudtrail.amazonaws.com", "DescribeTrails", json!({}))],
        },
        Def {
            id: "RD-CIS-4.6",
            title: "Console authentication failure",
            severity: Severity::Medium,
            attack: &["T1110"],
            description: "A console sign-in failed authentication (CIS 4.6); many in a row suggest password guessing.",
            false_positives: &["Users mistyping their password"],
            condition: pattern(r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#),
            positives: vec![
                console_login(iam_user("111122223333", "bob"), "Failure", Some("No")),
                console_login(root("111122223333"), "Failure", Some("No")),
                console_login(console::hidden_user("111122223333"), "Failure", None),
            ],
            negatives: {
                let mut v = console::federated_sign_ins();
                v.push(console_login(iam_user("111122223333", "bob"), "Success", Some("No")));
                // Identity Center's own failures are not console sign-ins in CIS's sense (RD-IAM-010/011 count them)
                v.push(console::identity_center_step("CredentialVerification", "alice", "Failure"));
                v
            },
        },
        Def {
            id: "RD-CIS-4.7",
            title: "KMS key disabled or scheduled for deletion",
            severity: Severity::High,
            attack: &["T1485"],
            description: "A customer-managed KMS key was disabled or scheduled for deletion, making its data unreadable (CIS 4.7).",
            false_positives: &["Planned key retirement"],
            condition: pattern("{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"),
            positives: vec![ev("kms.amazonaws.com", "ScheduleKeyDeletion", json!({"requestParameters": {"keyId": "k", "pendingWindowInDays": 7}}))],
            negatives: vec![ev("kms.amazonaws.com", "Decrypt", json!({}))],
        },
        Def {
            id: "RD-CIS-4.8",
            title: "S3 bucket policy changed",
            severity: Severity::Medium,
            attack: &["T1530"],
            description: "A bucket's ACL, policy, CORS, lifecycle or replication changed (CIS 4.8).",
            false_positives: &["Infrastructure-as-code deployments"],
            condition: pattern("{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"),
            positives: vec![ev("s3.amazonaws.com", "PutBucketPolicy", json!({"requestParameters": {"bucketName": "b"}}))],
            negatives: vec![ev("s3.amazonaws.com", "GetBucketPolicy", json!({}))],
        },
        Def {
            id: "RD-CIS-4.9",
            title: "AWS Config configuration changed",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "The Config recorder or delivery channel was stopped, deleted or changed (CIS 4.9).",
            false_positives: &["Planned Config reconfiguration"],
            condition: pattern("{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel) ||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"),
            positives: vec![ev("config.amazonaws.com", "StopConfigurationRecorder", json!({}))],
            negatives: vec![ev("config.amazonaws.com", "DescribeConfigurationRecorders", json!({}))],
        },
        Def {
            id: "RD-CIS-4.10",
            title: "Security group changed",
            severity: Severity::Medium,
            attack: &["T1562.007"],
            description: "A security group or one of its rules was created, changed or deleted (CIS 4.10).",
            false_positives: &["Infrastructure-as-code deployments", "Auto-scaling tools managing their own groups"],
            condition: pattern("{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }"),
            positives: vec![ev(ec2, "AuthorizeSecurityGroupIngress", json!({"requestParameters": {"groupId": "sg-1"}}))],
            negatives: vec![ev(ec2, "DescribeSecurityGroups", json!({}))],
        },
        Def {
            id: "RD-CIS-4.11",
            title: "Network ACL changed",
            severity: Severity::Medium,
            attack: &["T1562.007"],
            description: "A network ACL or entry was created, replaced or deleted (CIS 4.11).",
            false_positives: &["Infrastructure-as-code deployments"],
            condition: pattern("{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"),
            positives: vec![ev(ec2, "CreateNetworkAclEntry", json!({}))],
            negatives: vec![ev(ec2, "DescribeNetworkAcls", json!({}))],
        },
        Def {
            id: "RD-CIS-4.12",
            title: "Network gateway changed",
            severity: Severity::Medium,
            attack: &["T1599"],
            description: "An internet or customer gateway was created, attached, detached or deleted (CIS 4.12).",
            false_positives: &["Network builds"],
            condition: pattern("{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"),
            positives: vec![ev(ec2, "AttachInternetGateway", json!({}))],
            negatives: vec![ev(ec2, "DescribeInternetGateways", json!({}))],
        },
        Def {
            id: "RD-CIS-4.13",
            title: "Route table changed",
            severity: Severity::Medium,
            attack: &["T1599"],
            description: "A route or route table was created, replaced, disassociated or deleted (CIS 4.13).",
            false_positives: &["Network builds", "Transit gateway automation"],
            condition: pattern("{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }"),
            positives: vec![ev(ec2, "CreateRoute", json!({}))],
            negatives: vec![ev(ec2, "DescribeRouteTables", json!({}))],
        },
        Def {
            id: "RD-CIS-4.14",
            title: "VPC changed",
            severity: Severity::Medium,
            attack: &["T1599"],
            description: "A VPC, its attributes, peering or ClassicLink changed (CIS 4.14).",
            false_positives: &["Network builds"],
            condition: pattern("{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"),
            positives: vec![ev(ec2, "CreateVpcPeeringConnection", json!({}))],
            negatives: vec![ev(ec2, "DescribeVpcs", json!({}))],
        },
        Def {
            id: "RD-CIS-4.15",
            title: "AWS Organizations changed",
            severity: Severity::Medium,
            attack: &["T1484"],
            description: "The organization's accounts, OUs, policies or handshakes changed (CIS 4.15).",
            false_positives: &["Account vending and planned OU restructuring"],
            condition: pattern(r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#),
            positives: vec![ev("organizations.amazonaws.com", "LeaveOrganization", json!({}))],
            negatives: vec![ev("organizations.amazonaws.com", "ListAccounts", json!({})), ev("iam.amazonaws.com", "CreatePolicy", json!({}))],
        },
    ]
    .into_iter()
    .map(Def::build)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fires;

    #[test]
    fn unauthorized_matches_the_cis_pattern() {
        let native = crate::ir::Rule::new(
            crate::ir::RuleMeta::new("n", crate::ir::RuleSource::Builtin, "n", Severity::Low),
            unauthorized(),
        );
        let pat = crate::ir::Rule::new(
            crate::ir::RuleMeta::new("p", crate::ir::RuleSource::Builtin, "p", Severity::Low),
            pattern(UNAUTHORIZED),
        );
        let mut n = 0;
        for code in [
            None,
            Some("AccessDenied"),
            Some("AccessDeniedException"),
            Some("Client.UnauthorizedOperation"),
            Some("Throttling"),
        ] {
            for ip in ["delivery.logs.amazonaws.com", "198.51.100.1"] {
                for name in ["HeadBucket", "GetObject"] {
                    let mut extra = json!({"sourceIPAddress": ip});
                    if let Some(c) = code {
                        extra["errorCode"] = json!(c);
                    }
                    let e = ev("s3.amazonaws.com", name, extra);
                    assert_eq!(fires(&native, &e), fires(&pat, &e), "{code:?} {ip} {name}");
                    n += fires(&native, &e) as u32;
                }
            }
        }
        assert!(n > 0);
    }
}
