//! CIS AWS Foundations v3.0 section 4 monitoring events, expressed with the benchmark's own
//! CloudWatch metric-filter patterns so an alert here means "the CIS alarm would have fired".

use super::console::{self, console_login, iam_user, root};
use super::{Builtin, Def, ev, pattern};
use crate::ir::{Condition, Predicate, Severity};
use crate::runbook::{Contact, Runbook, Step, common, note, sh, sql};
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

/// The runbook of a CIS network-change rule (4.10 … 4.14): the same review of a network change,
/// with the rule's own way of reading the changed object (`inspect`) and of undoing it
/// (`revert`).
fn network_runbook(summary: &str, why: &str, inspect: Step, revert: Step) -> Runbook {
    Runbook::new(summary, why)
        .triage([
            inspect,
            common::read_event(),
            common::resource_history(),
            common::confirm_with_owner(),
        ])
        .contain([
            revert,
            note("A change made outside the infrastructure code is reverted there too, or the next deployment brings it back."),
        ])
        .recover([
            note("Check what used the opened path while it was open: VPC flow logs of the affected subnets, and GuardDuty findings for the instances behind it."),
            common::record_outcome(),
        ])
        .escalate(Contact::AccountOwner, "to confirm the change against its pipeline")
        .escalate(Contact::SecurityOnCall, "when the change opens a path from or to the internet or another account")
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
            runbook: Runbook::new(
                "A call by {principal} was refused ({event_name}): it probed a permission it does not have.",
                "One refusal is usually a script or console probing optional permissions; a burst of refusals across services from one principal is reconnaissance with a stolen credential enumerating what it can do.",
            )
            .triage([
                sql("Count the principal's refusals by API around the event: many distinct APIs in minutes is enumeration. CloudTrail Lake:", "SELECT eventSource, eventName, errorCode, count(*) AS calls FROM {event_data_store} WHERE userIdentity.arn = '{principal}' AND errorCode IS NOT NULL AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' GROUP BY eventSource, eventName, errorCode ORDER BY calls DESC"),
                common::read_event(),
                common::key_activity(),
                note("Check the user agent and source address against the principal's usual ones (a pipeline's CI runner, a person's laptop)."),
            ])
            .contain([
                note("A single refusal needs no containment. Many refusals across services, an unusual source or user agent: treat the credential as stolen."),
                common::disable_key(),
            ])
            .recover([
                note("A deployment that keeps failing needs its permissions fixed, not the alert silenced; a console probing optional permissions can be left."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when the refusals look like enumeration (many services, unusual source)")
            .escalate(Contact::AccountOwner, "for a misconfigured deployment"),
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
            runbook: Runbook::new(
                "{principal} signed in to the console without MFA.",
                "A password alone is phished, guessed or reused; an IAM user or root without MFA is one leaked password away from takeover.",
            )
            .triage([
                common::read_event(),
                sh("Check the user's MFA devices (for root: the account summary's AccountMFAEnabled).", "aws iam list-mfa-devices --user-name {user_name}"),
                note("Check the source address and user agent against where the user normally signs in."),
                common::principal_activity(),
            ])
            .contain([
                note("If the sign-in was not the user's: remove the console password and revoke the session's rights."),
                sh("Remove the console password.", "aws iam delete-login-profile --user-name {user_name}").respond("delete-login-profile"),
                common::quarantine_principal(),
            ])
            .recover([
                note("Enforce MFA: an IAM policy denying everything without `aws:MultiFactorAuthPresent`, or better, move the person to IAM Identity Center."),
                common::review_credentials(),
                common::record_outcome(),
            ])
            .escalate(Contact::IdentityAdmins, "to enrol the user in MFA or move them to SSO")
            .escalate(Contact::SecurityOnCall, "when the sign-in was not the user's, or it was root"),
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
            runbook: Runbook::new(
                "The root user of {account} made a call ({event_name}).",
                "Root bypasses IAM policies and, in the management account, SCPs; any root use outside the few root-only tasks is either a process failure or an account takeover.",
            )
            .triage([
                common::read_event(),
                sql("Everything root did around the event. CloudTrail Lake:", "SELECT eventTime, awsRegion, eventSource, eventName, errorCode, sourceIPAddress FROM {event_data_store} WHERE userIdentity.type = 'Root' AND recipientAccountId = '{account}' AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' ORDER BY eventTime"),
                common::root_credentials(),
                note("Was a root-only task announced (support plan, account closure, S3 bucket policy unlock)?"),
            ])
            .contain([
                note("If unannounced: reset the root password and replace its MFA device; delete any root access key."),
                common::delete_root_credentials(),
            ])
            .recover([
                note("Undo what root changed that is not a root-only task, and move member accounts to centralized root access (no root credentials at all)."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once unless announced")
            .escalate(Contact::OrgAdmins, "to remove root credentials centrally"),
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
            runbook: Runbook::new(
                "An IAM policy was changed by {principal} ({event_name} on {resource}).",
                "Policies decide every permission; an unreviewed change can quietly grant an attacker the rights they need (RD-IAM-005 raises the administrator grants among these).",
            )
            .triage([
                common::read_event(),
                sh("Read the policy's current default version (customer-managed policies).", "aws iam get-policy --policy-arn <policy_arn> --query Policy.DefaultVersionId"),
                sh("Who the policy is attached to.", "aws iam list-entities-for-policy --policy-arn <policy_arn>"),
                common::confirm_with_owner(),
                common::principal_activity(),
            ])
            .contain([
                note("If unauthorised, revert: detach the policy (detach-role-policy / detach-user-policy / detach-group-policy), or restore the previous default version."),
                sh("Restore the previous default version.", "aws iam set-default-policy-version --policy-arn <policy_arn> --version-id <previous_version_id>"),
                common::disable_key(),
            ])
            .recover([
                note("Policies belong in the infrastructure repository; a console change should be brought back into code or reverted."),
                common::record_outcome(),
            ])
            .escalate(Contact::AccountOwner, "to confirm the change against its pipeline")
            .escalate(Contact::IdentityAdmins, "when the change widens permissions"),
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
            runbook: Runbook::new(
                "A trail's configuration was changed by {principal} ({event_name} on {trail}).",
                "Trail changes decide what is recorded; most are routine, but the same calls stop or weaken logging (RD-TAMPER-001 and RD-TAMPER-002 raise those).",
            )
            .triage([
                sh("Read the trail's status and settings now.", "aws cloudtrail get-trail-status --region {region} --name {trail}"),
                sh("Its event selectors.", "aws cloudtrail get-event-selectors --region {region} --trail-name {trail}"),
                common::read_event(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("If logging is off, restart it.", "aws cloudtrail start-logging --region {region} --name {trail}").respond("restart-logging"),
                note("Revert any other unplanned change with `rampart apply` (the organization trail) or the trail's own code."),
            ])
            .recover([
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::AccountOwner, "to confirm the change")
            .escalate(Contact::SecurityOnCall, "when logging was reduced"),
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
            runbook: Runbook::new(
                "A console sign-in failed for {principal} from {source_ip}.",
                "Single failures are typos; a series from one address or against many users is password guessing (RD-IAM-010 and RD-IAM-011 raise those patterns).",
            )
            .triage([
                sql("Count failed sign-ins from the same address and for the same user around the event. CloudTrail Lake:", "SELECT sourceIPAddress, userIdentity.userName, count(*) AS failures FROM {event_data_store} WHERE eventName = 'ConsoleLogin' AND errorMessage IS NOT NULL AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' GROUP BY sourceIPAddress, userIdentity.userName ORDER BY failures DESC"),
                common::read_event(),
                note("A user name shown as HIDDEN_DUE_TO_SECURITY_REASONS does not exist in the account: someone is guessing names."),
            ])
            .contain([
                note("Nothing to contain for one failure. For a series, block the source address at the identity provider or with an IAM policy condition on `aws:SourceIp`, and check that the user has MFA."),
            ])
            .recover([
                note("If a success followed the failures from the same address, handle it as a compromised password: reset it and review the session."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when failures come in series or are followed by a success")
            .escalate(Contact::IdentityAdmins, "for users repeatedly locked out"),
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
            runbook: Runbook::new(
                "KMS key {resource} was disabled or scheduled for deletion by {principal}.",
                "Everything encrypted under a deleted key is lost for good; disabling or scheduling deletion is how ransomware-style attacks destroy data and backups without touching them.",
            )
            .triage([
                sh("Read the key's state and deletion date.", "aws kms describe-key --region {region} --key-id {resource}"),
                common::read_event(),
                note("Find what the key encrypts (S3 buckets, EBS volumes, RDS, Secrets Manager) from its grants and the Decrypt calls against it."),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Cancel a scheduled deletion (the key stays disabled) …", "aws kms cancel-key-deletion --region {region} --key-id {resource}"),
                sh("… and enable the key again.", "aws kms enable-key --region {region} --key-id {resource}"),
                common::disable_key(),
            ])
            .recover([
                note("Protect keys from deletion with an SCP denying kms:ScheduleKeyDeletion outside a break-glass role; keep the waiting period at 30 days."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once when the retirement was not planned: the waiting period is the only chance to undo it")
            .escalate(Contact::AccountOwner, "to confirm the key's retirement"),
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
            runbook: Runbook::new(
                "The configuration of bucket {bucket} changed ({event_name}) by {principal}.",
                "A bucket's policy, ACL, replication and lifecycle decide who reads the data, where copies go and when it is deleted; replication to an outside bucket or a short lifecycle are quiet ways to steal or destroy it.",
            )
            .triage([
                sh("Read the bucket policy and whether it makes the bucket public.", "aws s3api get-bucket-policy-status --bucket {bucket}"),
                sh("Replication: copies going to another account's bucket are exfiltration.", "aws s3api get-bucket-replication --bucket {bucket}"),
                sh("Lifecycle: expirations that delete data.", "aws s3api get-bucket-lifecycle-configuration --bucket {bucket}"),
                common::read_event(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Remove an unauthorised policy (restore the reviewed one from code afterwards).", "aws s3api delete-bucket-policy --bucket {bucket}").respond("remove-public-statement"),
                sh("Remove unauthorised replication.", "aws s3api delete-bucket-replication --bucket {bucket}"),
            ])
            .recover([
                note("Restore the bucket's reviewed configuration from its infrastructure code; RD-EXP-001 and RD-TAMPER-011 alerts in the same window say whether it was exposed."),
                common::record_outcome(),
            ])
            .escalate(Contact::AccountOwner, "to confirm the change")
            .escalate(Contact::SecurityOnCall, "when access was widened or data copied out"),
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
            runbook: Runbook::new(
                "AWS Config's recorder or delivery channel was changed ({event_name}) by {principal}.",
                "Config's recording is the resource history audits and investigations rely on; changes that stop or narrow it are raised as RD-TAMPER-006, others still deserve a look.",
            )
            .triage([
                sh("Check the recorder is recording.", "aws configservice describe-configuration-recorder-status --region {region}"),
                sh("Check the delivery channel.", "aws configservice describe-delivery-channels --region {region}"),
                common::read_event(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("If recording stopped, start it again.", "aws configservice start-configuration-recorder --region {region} --configuration-recorder-name default").respond("re-enable-config"),
            ])
            .recover([
                common::apply_baseline(),
                common::record_outcome(),
            ])
            .escalate(Contact::AccountOwner, "to confirm the change")
            .escalate(Contact::SecurityOnCall, "when recording stopped"),
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
            runbook: network_runbook(
                "Security group {security_group} changed ({event_name}) by {principal}.",
                "Security groups are the instance firewalls: one rule opening SSH, RDP or a database port to 0.0.0.0/0 exposes hosts to the whole internet.",
                sh("Read the group's rules now: look for 0.0.0.0/0 or ::/0 on administrative or database ports.", "aws ec2 describe-security-group-rules --region {region} --filters Name=group-id,Values={security_group}"),
                sh("Revoke an unauthorised ingress rule (its id is in the rule listing).", "aws ec2 revoke-security-group-ingress --region {region} --group-id {security_group} --security-group-rule-ids <rule_id>"),
            ),
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
            runbook: network_runbook(
                "Network ACL {network_acl} changed ({event_name}) by {principal}.",
                "Network ACLs are subnet-wide stateless filters: an allow-all entry placed before the deny entries opens every instance in the subnet.",
                sh("Read the ACL's entries in rule-number order.", "aws ec2 describe-network-acls --region {region} --network-acl-ids {network_acl}"),
                sh("Delete an unauthorised entry (number and direction from the listing).", "aws ec2 delete-network-acl-entry --region {region} --network-acl-id {network_acl} --rule-number <rule_number> --ingress"),
            ),
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
            runbook: network_runbook(
                "An internet or customer gateway changed ({event_name}) by {principal}.",
                "A new internet gateway on a private VPC gives its instances a path to the internet (and out of it); a customer gateway is the far end of a VPN into the network.",
                sh("List the VPC's gateways and attachments.", "aws ec2 describe-internet-gateways --region {region} --filters Name=attachment.vpc-id,Values={vpc}"),
                sh("Detach an unauthorised internet gateway.", "aws ec2 detach-internet-gateway --region {region} --internet-gateway-id {internet_gateway} --vpc-id {vpc}"),
            ),
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
            runbook: network_runbook(
                "A route or route table changed ({event_name}) by {principal}.",
                "Routes decide where traffic goes: a default route to an internet gateway makes a private subnet public, a route to a peering or an appliance can divert traffic for inspection by someone else.",
                sh("Read the route table.", "aws ec2 describe-route-tables --region {region} --route-table-ids {route_table}"),
                sh("Delete an unauthorised route.", "aws ec2 delete-route --region {region} --route-table-id {route_table} --destination-cidr-block <cidr>"),
            ),
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
            runbook: network_runbook(
                "A VPC or its peering changed ({event_name}) by {principal}.",
                "A peering connection joins two networks; one accepted with an outside account gives that account a path to private hosts.",
                sh("List peering connections and their accepter and requester accounts.", "aws ec2 describe-vpc-peering-connections --region {region} --query 'VpcPeeringConnections[].[VpcPeeringConnectionId,Status.Code,AccepterVpcInfo.OwnerId,RequesterVpcInfo.OwnerId]' --output table"),
                sh("Delete an unauthorised peering connection.", "aws ec2 delete-vpc-peering-connection --region {region} --vpc-peering-connection-id <pcx_id>"),
            ),
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
            runbook: Runbook::new(
                "The organization changed ({event_name}) by {principal}.",
                "Organizations decides which accounts the guardrails, organization trail and security services cover: moved accounts, new policies or accepted handshakes change that for every account at once.",
            )
            .triage([
                common::read_event(),
                sh("Compare the organization with the state rampart.toml declares (OUs, accounts, policies).", "rampart drift"),
                sh("List pending and recent handshakes (invitations in and out).", "aws organizations list-handshakes-for-organization"),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                note("Revert an unplanned change: move the account back (`aws organizations move-account`), re-attach a detached policy, cancel a handshake (`aws organizations cancel-handshake --handshake-id <handshake_id>`)."),
                common::apply_baseline(),
            ])
            .recover([
                common::detect_window(),
                common::record_outcome(),
            ])
            .escalate(Contact::OrgAdmins, "for every change not in the organization's change log")
            .escalate(Contact::SecurityOnCall, "when accounts left, policies were detached, or the caller is unexpected"),
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
