//! Tampering with the baseline itself: the logging, detection and guardrail services that make
//! every other alert possible.

use super::{Builtin, Def, anywhere, api, ci, ev, failed_twin, some_value, str_pred};
use crate::ir::{Condition, Items, Predicate, Severity, StrOp};
use serde_json::json;

/// A `PutEventSelectors` request whose selectors no longer log every
/// management event, read and write: CloudTrail logs an event when *some* selector matches it,
/// so the request is weakened unless one selector alone takes every management event.
fn selectors_drop_management_events() -> Condition {
    // classic selectors: management events included (the default), read and write (the
    // default), no source excluded (`excludeManagementEventSources: ["kms.amazonaws.com"]`)
    let all_management = Condition::All(vec![
        Condition::not(ci("includeManagementEvents", "false")),
        Condition::Any(vec![
            Condition::field("readWriteType", Predicate::Null),
            ci("readWriteType", "All"),
        ]),
        Condition::not(Condition::field(
            "excludeManagementEventSources[*]",
            Predicate::Exists(true),
        )),
    ]);
    let classic = Condition::All(vec![
        Condition::field("requestParameters.eventSelectors", Predicate::Exists(true)),
        Condition::not(Condition::any_item(
            "requestParameters.eventSelectors",
            Items::Elements,
            all_management,
        )),
    ]);
    // advanced selectors: a field selector `eventCategory equals [Management]` and nothing
    // else (any other field selector of the same selector narrows it: `readOnly equals`,
    // `eventSource notEquals`, `eventName notStartsWith`, …)
    let management_only = Condition::All(vec![
        ci("field", "eventCategory"),
        some_value("equals", str_pred(StrOp::Equals, "Management", true)),
        Condition::not(Condition::any_item(
            "equals",
            Items::Elements,
            Condition::not(Condition::itself(Predicate::OneOf {
                values: vec!["management".into()],
                case_insensitive: true,
            })),
        )),
        Condition::not(Condition::Any(
            [
                "notEquals",
                "startsWith",
                "notStartsWith",
                "endsWith",
                "notEndsWith",
            ]
            .iter()
            .map(|op| Condition::field(op, Predicate::Exists(true)))
            .collect(),
        )),
    ]);
    let all_management = Condition::All(vec![
        Condition::any_item("fieldSelectors", Items::Elements, management_only.clone()),
        Condition::not(Condition::any_item(
            "fieldSelectors",
            Items::Elements,
            Condition::not(management_only),
        )),
    ]);
    let advanced = Condition::All(vec![
        Condition::field(
            "requestParameters.advancedEventSelectors",
            Predicate::Exists(true),
        ),
        Condition::not(Condition::any_item(
            "requestParameters.advancedEventSelectors",
            Items::Elements,
            all_management,
        )),
    ]);
    Condition::Any(vec![classic, advanced])
}

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
            positives: vec![
                ev(ct, "StopLogging", json!({"requestParameters": {"name": "org-trail"}})),
                ev(ct, "DeleteTrail", json!({})),
                // refused (a guardrail SCP): raised as "Attempted …", high instead of critical
                failed_twin(&ev(ct, "StopLogging", json!({"requestParameters": {"name": "org-trail"}}))),
            ],
            negatives: vec![ev(ct, "StartLogging", json!({})), ev("example.amazonaws.com", "DeleteTrail", json!({}))],
        },
        Def {
            id: "RD-TAMPER-002",
            title: "CloudTrail trail or event selectors weakened",
            severity: Severity::High,
            attack: &["T1562.008"],
            description: "A trail's event selectors stopped logging every management event (classic selectors: `includeManagementEvents: false`, `readWriteType` other than `All`, `excludeManagementEventSources`; advanced selectors: none that is `eventCategory = Management` alone, so read-only filters and `NotEquals`/`NotStartsWith`/`NotEndsWith` exclusions count), an event data store was deleted or stopped, or a trail was updated to one region, without global service events, without log file validation, without KMS encryption (`kmsKeyId: \"\"`), without CloudWatch Logs delivery, or to another bucket.",
            false_positives: &[
                "Excluding KMS or RDS Data API events on purpose to save cost",
                "Single-region trails that leave global service events to the organization trail",
                "Infrastructure as code re-applying a trail (it sends `s3BucketName` on every update)",
            ],
            condition: Condition::Any(vec![
                Condition::All(vec![api(ct, &["PutEventSelectors"]), selectors_drop_management_events()]),
                api(ct, &["DeleteEventDataStore", "StopEventDataStoreIngestion"]),
                Condition::All(vec![
                    api(ct, &["UpdateTrail"]),
                    Condition::Any(vec![
                        Condition::field("requestParameters.isMultiRegionTrail", Predicate::Bool(false)),
                        Condition::field("requestParameters.enableLogFileValidation", Predicate::Bool(false)),
                        Condition::field("requestParameters.includeGlobalServiceEvents", Predicate::Bool(false)),
                        Condition::field("requestParameters.s3BucketName", Predicate::Exists(true)),
                        Condition::eq("requestParameters.kmsKeyId", ""),
                        Condition::eq("requestParameters.cloudWatchLogsLogGroupArn", ""),
                    ]),
                ]),
            ]),
            positives: vec![
                // the Stratus Red Team detonation: data events only, read-only
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"dataResources": [{"type": "AWS::S3::Object", "values": []}], "excludeManagementEventSources": [], "includeManagementEvents": false, "readWriteType": "ReadOnly"}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"includeManagementEvents": true, "readWriteType": "WriteOnly"}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"includeManagementEvents": true, "readWriteType": "All", "excludeManagementEventSources": ["kms.amazonaws.com"]}]}})),
                // two selectors, neither logging every management event
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"includeManagementEvents": false, "readWriteType": "All", "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}, {"includeManagementEvents": true, "readWriteType": "ReadOnly"}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [{"name": "data only", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [{"name": "writes", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["false"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [{"name": "no kms", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "eventSource", "notEquals": ["kms.amazonaws.com"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [{"name": "m", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "eventName", "notStartsWith": ["Delete"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [{"name": "m", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "eventSource", "notEndsWith": [".amazonaws.com"]}]}]}})),
                ev(ct, "DeleteEventDataStore", json!({"requestParameters": {"eventDataStore": "eds"}})),
                ev(ct, "StopEventDataStoreIngestion", json!({"requestParameters": {"eventDataStore": "eds"}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "isMultiRegionTrail": false}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "includeGlobalServiceEvents": false}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "enableLogFileValidation": false}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "kmsKeyId": ""}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "cloudWatchLogsLogGroupArn": "", "cloudWatchLogsRoleArn": ""}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "s3BucketName": "elsewhere"}})),
            ],
            negatives: vec![
                // the usual organization trail: every management event, with or without data events
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true, "dataResources": [], "excludeManagementEventSources": []}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true, "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"dataResources": [{"type": "AWS::Lambda::Function", "values": ["arn:aws:lambda"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "eventSelectors": [{"includeManagementEvents": true, "readWriteType": "All"}, {"includeManagementEvents": false, "readWriteType": "ReadOnly", "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [{"name": "Management events selector", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]}})),
                ev(ct, "PutEventSelectors", json!({"requestParameters": {"trailName": "t", "advancedEventSelectors": [
                    {"name": "Management events selector", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
                    {"name": "S3 reads", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}, {"field": "readOnly", "equals": ["true"]}]}]}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "isMultiRegionTrail": true, "includeGlobalServiceEvents": true, "enableLogFileValidation": true}})),
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:key/1"}})),
                ev(ct, "GetEventSelectors", json!({})),
            ],
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
            positives: vec![
                ev(gd, "DeleteDetector", json!({"requestParameters": {"detectorId": "d"}})),
                ev(gd, "UpdateDetector", json!({"requestParameters": {"detectorId": "d", "enable": false}})),
                ev(gd, "DisassociateFromMasterAccount", json!({"requestParameters": {"detectorId": "d"}})),
                ev(gd, "DisassociateFromAdministratorAccount", json!({"requestParameters": {"detectorId": "d"}})),
                ev(gd, "DisassociateMembers", json!({"requestParameters": {"detectorId": "d", "accountIds": ["444455556666"]}})),
                ev(gd, "DeleteMembers", json!({"requestParameters": {"detectorId": "d", "accountIds": ["444455556666"]}})),
                ev(gd, "StopMonitoringMembers", json!({"requestParameters": {"detectorId": "d", "accountIds": ["444455556666"]}})),
            ],
            negatives: vec![ev(gd, "UpdateDetector", json!({"requestParameters": {"detectorId": "d", "enable": true}})), ev(gd, "ListDetectors", json!({}))],
        },
        Def {
            id: "RD-TAMPER-004",
            title: "GuardDuty findings suppressed",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "GuardDuty findings were archived by hand, a filter that auto-archives findings was created or changed, or a trusted IP list that silences them was created or changed.",
            false_positives: &[
                "Tuning known-benign findings with a reviewed suppression rule",
                "Analysts archiving findings they have triaged",
            ],
            condition: Condition::Any(vec![
                Condition::All(vec![
                    api(gd, &["CreateFilter", "UpdateFilter"]),
                    Condition::field("requestParameters.action", str_pred(StrOp::Equals, "archive", true)),
                ]),
                api(gd, &["CreateIPSet", "UpdateIPSet", "ArchiveFindings"]),
            ]),
            positives: vec![
                ev(gd, "CreateFilter", json!({"requestParameters": {"action": "ARCHIVE", "name": "f"}})),
                ev(gd, "UpdateFilter", json!({"requestParameters": {"detectorId": "d", "filterName": "f", "action": "ARCHIVE"}})),
                ev(gd, "CreateIPSet", json!({})),
                ev(gd, "UpdateIPSet", json!({"requestParameters": {"detectorId": "d", "ipSetId": "s", "activate": true}})),
                ev(gd, "ArchiveFindings", json!({"requestParameters": {"detectorId": "d", "findingIds": ["f1"]}})),
            ],
            negatives: vec![
                ev(gd, "CreateFilter", json!({"requestParameters": {"action": "NOOP"}})),
                ev(gd, "UpdateFilter", json!({"requestParameters": {"detectorId": "d", "filterName": "f", "action": "NOOP"}})),
                ev(gd, "UnarchiveFindings", json!({"requestParameters": {"detectorId": "d", "findingIds": ["f1"]}})),
            ],
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
            positives: vec![
                ev(sh, "DisableSecurityHub", json!({})),
                ev(sh, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "DISABLED"}})),
                ev(sh, "BatchDisableStandards", json!({"requestParameters": {"StandardsSubscriptionArns": ["arn:aws:securityhub:eu-west-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.4.0"]}})),
                ev(sh, "DisassociateFromMasterAccount", json!({})),
                ev(sh, "DisassociateFromAdministratorAccount", json!({})),
                ev(sh, "DeleteMembers", json!({"requestParameters": {"AccountIds": ["444455556666"]}})),
                ev(sh, "DisassociateMembers", json!({"requestParameters": {"AccountIds": ["444455556666"]}})),
            ],
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
            positives: ["StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel", "DeleteConfigurationAggregator"]
                .iter()
                .map(|n| ev("config.amazonaws.com", n, json!({})))
                .collect(),
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
                ev(s3, "DeleteAccountPublicAccessBlock", json!({})),
                ev(s3, "PutAccountPublicAccessBlock", json!({"requestParameters": {"PublicAccessBlockConfiguration": {"BlockPublicAcls": false, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}})),
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
            positives: vec![
                ev(org, "DetachPolicy", json!({"requestParameters": {"policyId": "p-1", "targetId": "ou-1"}})),
                ev(org, "DeletePolicy", json!({"requestParameters": {"policyId": "p-1"}})),
                ev(org, "DisablePolicyType", json!({"requestParameters": {"rootId": "r-1", "policyType": "SERVICE_CONTROL_POLICY"}})),
            ],
            negatives: vec![ev(org, "AttachPolicy", json!({})), ev(org, "UpdatePolicy", json!({"requestParameters": {"policyId": "p-1"}}))],
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
            title: "S3 bucket or object ACL made public",
            severity: Severity::High,
            attack: &["T1530"],
            description: "A bucket or object ACL granted AllUsers or AuthenticatedUsers (a grant or a canned `public-read`, `public-read-write`, `authenticated-read` ACL). Bucket policies are judged by RD-EXP-001 (the policy engine's access analysis).",
            false_positives: &["A reviewed public website or download bucket"],
            condition: Condition::Any(vec![
                Condition::All(vec![
                    api(s3, &["PutBucketAcl", "PutObjectAcl"]),
                    Condition::Any(vec![
                        anywhere("requestParameters", str_pred(StrOp::Contains, "acs.amazonaws.com/groups/global/allusers", true)),
                        anywhere("requestParameters", str_pred(StrOp::Contains, "acs.amazonaws.com/groups/global/authenticatedusers", true)),
                        anywhere("requestParameters", str_pred(StrOp::Equals, "public-read", true)),
                        anywhere("requestParameters", str_pred(StrOp::Equals, "public-read-write", true)),
                        anywhere("requestParameters", str_pred(StrOp::Equals, "authenticated-read", true)),
                    ]),
                ]),
            ]),
            positives: vec![
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}})),
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": {"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}, "Permission": "WRITE"}}}}})),
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "x-amz-acl": ["public-read"]}})),
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "x-amz-grant-read": ["uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""]}})),
                ev(s3, "PutObjectAcl", json!({"requestParameters": {"bucketName": "b", "key": "k", "x-amz-acl": ["authenticated-read"]}})),
            ],
            negatives: vec![
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "x-amz-acl": ["private"]}})),
                ev(s3, "PutBucketAcl", json!({"requestParameters": {"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"ID": "abc", "xsi:type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]}}}})),
            ],
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
            positives: vec![
                ev(ec2, "DeleteFlowLogs", json!({})),
                ev("route53resolver.amazonaws.com", "DeleteResolverQueryLogConfig", json!({})),
                ev("route53resolver.amazonaws.com", "DisassociateResolverQueryLogConfig", json!({})),
            ],
            negatives: vec![ev(ec2, "CreateFlowLogs", json!({}))],
        },
    ]
    .into_iter()
    .map(Def::build)
    .collect()
}
