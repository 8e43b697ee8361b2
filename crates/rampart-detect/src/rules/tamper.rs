//! Tampering with the baseline itself: the logging, detection and guardrail services that make
//! every other alert possible.

use super::{Builtin, Def, anywhere, api, ev, str_pred};
use crate::ir::{Condition, Predicate, Severity, StrOp};
use serde_json::json;

pub(super) fn rules() -> Vec<Builtin> {
    let ct = "cloudtrail.amazonaws.com";
    let gd = "guardduty.amazonaws.com";
    let sh = "securityhub.amazonaws.com";
    let s3 = "s3.amazonaws.com";
    let org = "organizations.amazonaws.com";
    let ec2 = "ec2.amazonaws.com";
    vec![
        Def {
            id: "RD-TAMPER-001",
            title: "CloudTrail trail stopped or deleted",
            severity: Severity::Critical,
            attack: &["T1562.008"],
            description: "Logging was stopped on a trail or the trail was deleted: everything after this is invisible.",
            false_positives: &["Decommissioning a trail after a replacement is live"],
            condition: api(ct, &["StopLogging", "DeleteTrail"]),
            positives: vec![ev(ct, "StopLogging", json!({"requestParameters": {"name": "org-trail"}})), ev(ct, "DeleteTrail", json!({}))],
            negatives: vec![ev(ct, "StartLogging", json!({})), ev("example.amazonaws.com", "DeleteTrail", json!({}))],
        },
        Def {
            id: "RD-TAMPER-002",
            title: "CloudTrail trail or event selectors weakened",
            severity: Severity::High,
            attack: &["T1562.008"],
            description: "A trail's event selectors were replaced or the trail was updated (single-region, no validation, another bucket); selectors that drop management events blind detection.",
            false_positives: &["Adding data-event selectors on purpose"],
            condition: Condition::Any(vec![
                api(ct, &["PutEventSelectors", "DeleteEventDataStore", "StopEventDataStoreIngestion"]),
                Condition::All(vec![
                    api(ct, &["UpdateTrail"]),
                    Condition::Any(vec![
                        Condition::field("requestParameters.isMultiRegionTrail", Predicate::Bool(false)),
                        Condition::field("requestParameters.enableLogFileValidation", Predicate::Bool(false)),
                        Condition::field("requestParameters.includeGlobalServiceEvents", Predicate::Bool(false)),
                        Condition::field("requestParameters.s3BucketName", Predicate::Exists(true)),
                        Condition::field("requestParameters.kmsKeyId", Predicate::Exists(true)),
                    ]),
                ]),
            ]),
            positives: vec![
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"includeManagementEvents": false, "readWriteType": "ReadOnly"}]}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "isMultiRegionTrail": false}})),
            ],
            negatives: vec![ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "isMultiRegionTrail": true}})), ev(ct, "GetEventSelectors", json!({}))],
        },
        Def {
            id: "RD-TAMPER-003",
            title: "GuardDuty detector deleted, disabled or disassociated",
            severity: Severity::Critical,
            attack: &["T1562.001"],
            description: "A GuardDuty detector was deleted or disabled, or an account left its GuardDuty administrator.",
            false_positives: &["Moving GuardDuty administration to another account"],
            condition: Condition::Any(vec![
                api(gd, &["DeleteDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "DisassociateMembers", "DeleteMembers", "StopMonitoringMembers"]),
                Condition::All(vec![api(gd, &["UpdateDetector"]), Condition::field("requestParameters.enable", Predicate::Bool(false))]),
            ]),
            positives: vec![ev(gd, "DeleteDetector", json!({"requestParameters": {"detectorId": "d"}})), ev(gd, "UpdateDetector", json!({"requestParameters": {"detectorId": "d", "enable": false}}))],
            negatives: vec![ev(gd, "UpdateDetector", json!({"requestParameters": {"detectorId": "d", "enable": true}})), ev(gd, "ListDetectors", json!({}))],
        },
        Def {
            id: "RD-TAMPER-004",
            title: "GuardDuty findings suppressed",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "A GuardDuty filter that auto-archives findings, or a trusted IP list that silences them, was created or changed.",
            false_positives: &["Tuning known-benign findings with a reviewed suppression rule"],
            condition: Condition::Any(vec![
                Condition::All(vec![
                    api(gd, &["CreateFilter", "UpdateFilter"]),
                    Condition::field("requestParameters.action", str_pred(StrOp::Equals, "archive", true)),
                ]),
                api(gd, &["CreateIPSet", "UpdateIPSet"]),
            ]),
            positives: vec![ev(gd, "CreateFilter", json!({"requestParameters": {"action": "ARCHIVE", "name": "f"}})), ev(gd, "CreateIPSet", json!({}))],
            negatives: vec![ev(gd, "CreateFilter", json!({"requestParameters": {"action": "NOOP"}}))],
        },
        Def {
            id: "RD-TAMPER-005",
            title: "Security Hub or a standard disabled",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "Security Hub was disabled, a standard or control was switched off, or the account left its administrator.",
            false_positives: &["Disabling a control judged not applicable, with a recorded reason"],
            condition: Condition::Any(vec![
                api(sh, &["DisableSecurityHub", "BatchDisableStandards", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "DeleteMembers", "DisassociateMembers"]),
                Condition::All(vec![
                    api(sh, &["UpdateStandardsControl"]),
                    Condition::field("requestParameters.ControlStatus", str_pred(StrOp::Equals, "disabled", true)),
                ]),
            ]),
            positives: vec![ev(sh, "DisableSecurityHub", json!({})), ev(sh, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "DISABLED"}}))],
            negatives: vec![ev(sh, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "ENABLED"}})), ev(sh, "GetFindings", json!({}))],
        },
        Def {
            id: "RD-TAMPER-006",
            title: "AWS Config recording stopped or deleted",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "The Config recorder was stopped or deleted, or its delivery channel removed: configuration history stops.",
            false_positives: &["Re-creating the recorder during a planned migration"],
            condition: api("config.amazonaws.com", &["StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel", "DeleteConfigurationAggregator"]),
            positives: vec![ev("config.amazonaws.com", "DeleteConfigurationRecorder", json!({}))],
            negatives: vec![ev("config.amazonaws.com", "StartConfigurationRecorder", json!({}))],
        },
        Def {
            id: "RD-TAMPER-007",
            title: "S3 Block Public Access removed or weakened",
            severity: Severity::High,
            attack: &["T1562.001", "T1530"],
            description: "Block Public Access was deleted or one of its four settings set to false, at bucket or account level.",
            false_positives: &["A reviewed public website bucket"],
            condition: Condition::Any(vec![
                api(s3, &["DeleteBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock"]),
                Condition::All(vec![
                    api(s3, &["PutBucketPublicAccessBlock", "PutAccountPublicAccessBlock"]),
                    anywhere("requestParameters.PublicAccessBlockConfiguration", Predicate::Bool(false)),
                ]),
            ]),
            positives: vec![
                ev(s3, "DeleteBucketPublicAccessBlock", json!({"requestParameters": {"bucketName": "b"}})),
                ev(s3, "PutBucketPublicAccessBlock", json!({"requestParameters": {"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": true}}})),
            ],
            negatives: vec![ev(s3, "PutBucketPublicAccessBlock", json!({"requestParameters": {"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}}))],
        },
        Def {
            id: "RD-TAMPER-008",
            title: "Account left the organization",
            severity: Severity::Critical,
            attack: &["T1562", "T1666"],
            description: "An account left the organization, escaping its SCPs, org trail and delegated security services.",
            false_positives: &["A planned account transfer"],
            condition: api(org, &["LeaveOrganization"]),
            positives: vec![ev(org, "LeaveOrganization", json!({}))],
            negatives: vec![ev(org, "DescribeOrganization", json!({}))],
        },
        Def {
            id: "RD-TAMPER-009",
            title: "Service control policy detached or deleted",
            severity: Severity::High,
            attack: &["T1484.002", "T1562"],
            description: "A guardrail policy (SCP/RCP) was detached, deleted, or a policy type disabled for a root.",
            false_positives: &["Replacing a policy with a reviewed new version"],
            condition: api(org, &["DetachPolicy", "DeletePolicy", "DisablePolicyType"]),
            positives: vec![ev(org, "DetachPolicy", json!({"requestParameters": {"policyId": "p-1", "targetId": "ou-1"}}))],
            negatives: vec![ev(org, "AttachPolicy", json!({}))],
        },
        Def {
            id: "RD-TAMPER-010",
            title: "EBS default encryption disabled",
            severity: Severity::High,
            attack: &["T1562"],
            description: "New EBS volumes in this region will no longer be encrypted by default.",
            false_positives: &["None expected"],
            condition: api(ec2, &["DisableEbsEncryptionByDefault"]),
            positives: vec![ev(ec2, "DisableEbsEncryptionByDefault", json!({}))],
            negatives: vec![ev(ec2, "EnableEbsEncryptionByDefault", json!({}))],
        },
        Def {
            id: "RD-TAMPER-011",
            title: "S3 bucket made public",
            severity: Severity::High,
            attack: &["T1530"],
            description: "A bucket ACL granted AllUsers/AuthenticatedUsers, or a bucket policy allowed Principal \"*\".",
            false_positives: &["A reviewed public website bucket", "Policies with a restricting Condition (review them)"],
            condition: Condition::Any(vec![
                Condition::All(vec![
                    api(s3, &["PutBucketAcl", "PutObjectAcl"]),
                    Condition::Any(vec![
                        anywhere("requestParameters", str_pred(StrOp::EndsWith, "/groups/global/allusers", true)),
                        anywhere("requestParameters", str_pred(StrOp::EndsWith, "/groups/global/authenticatedusers", true)),
                        anywhere("requestParameters", str_pred(StrOp::Equals, "public-read", true)),
                        anywhere("requestParameters", str_pred(StrOp::Equals, "public-read-write", true)),
                    ]),
                ]),
                Condition::All(vec![
                    api(s3, &["PutBucketPolicy"]),
                    Condition::Any(vec![
                        Condition::eq("requestParameters.bucketPolicy.Statement.Principal", "*"),
                        Condition::eq("requestParameters.bucketPolicy.Statement.Principal.AWS", "*"),
                    ]),
                ]),
            ]),
            positives: vec![
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}})),
                ev(s3, "PutBucketPolicy", json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}}})),
            ],
            negatives: vec![ev(s3, "PutBucketPolicy", json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}]}}}))],
        },
        Def {
            id: "RD-TAMPER-012",
            title: "Network logs deleted",
            severity: Severity::High,
            attack: &["T1562.008"],
            description: "VPC flow logs or Route 53 Resolver query logging were deleted or disassociated.",
            false_positives: &["Tearing down a VPC"],
            condition: Condition::Any(vec![
                api(ec2, &["DeleteFlowLogs"]),
                api("route53resolver.amazonaws.com", &["DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig"]),
            ]),
            positives: vec![ev(ec2, "DeleteFlowLogs", json!({})), ev("route53resolver.amazonaws.com", "DeleteResolverQueryLogConfig", json!({}))],
            negatives: vec![ev(ec2, "CreateFlowLogs", json!({}))],
        },
    ]
    .into_iter()
    .map(Def::build)
    .collect()
}
