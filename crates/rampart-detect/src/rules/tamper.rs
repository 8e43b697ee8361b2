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

/// An `UpdateTrail` that sends the trail to a bucket: a stateless rule cannot see the bucket
/// the trail had, so a request that restates the trail's whole logging configuration
/// (multi-region, global service events and log file validation all stated, as Terraform and
/// CloudFormation send on every apply, whatever changed) is a re-apply whose weakening fields
/// the other branches judge; a request naming the bucket without that restatement is a move.
fn trail_bucket_moved() -> Condition {
    Condition::All(vec![
        Condition::field("requestParameters.s3BucketName", Predicate::Exists(true)),
        Condition::not(Condition::All(
            [
                "requestParameters.isMultiRegionTrail",
                "requestParameters.includeGlobalServiceEvents",
                "requestParameters.enableLogFileValidation",
            ]
            .iter()
            .map(|f| Condition::field(f, Predicate::Exists(true)))
            .collect(),
        )),
    ])
}

/// The organization stopped managing a security service centrally: its delegated administrator
/// deregistered, or its trusted access disabled (members stop being enrolled and monitored).
/// `principals` are the service principals Organizations knows the service by.
fn org_delegation_removed(principals: &[&str]) -> Condition {
    Condition::All(vec![
        api(
            "organizations.amazonaws.com",
            &[
                "DeregisterDelegatedAdministrator",
                "DisableAWSServiceAccess",
            ],
        ),
        Condition::field(
            "requestParameters.servicePrincipal",
            Predicate::OneOf {
                values: principals.iter().map(|p| p.to_string()).collect(),
                case_insensitive: true,
            },
        ),
    ])
}

/// A `PutConfigurationRecorder` whose recording group no longer records every supported
/// resource type: `allSupported` not true, a `recordingStrategy` other than
/// `ALL_SUPPORTED_RESOURCE_TYPES`, or resource types excluded. Without a recording group the
/// recorder records every supported type; `includeGlobalResourceTypes: false` alone is the
/// usual "global types in one region only" and is not a narrowing.
fn config_recording_narrowed() -> Condition {
    let group = "requestParameters.configurationRecorder.recordingGroup";
    let at = |f: &str| format!("{group}.{f}");
    Condition::All(vec![
        Condition::not(Condition::field(group, Predicate::Null)),
        Condition::Any(vec![
            Condition::not(Condition::field(&at("allSupported"), Predicate::Bool(true))),
            Condition::All(vec![
                Condition::not(Condition::field(
                    &at("recordingStrategy.useOnly"),
                    Predicate::Null,
                )),
                Condition::not(ci(
                    &at("recordingStrategy.useOnly"),
                    "ALL_SUPPORTED_RESOURCE_TYPES",
                )),
            ]),
            Condition::field(
                &at("exclusionByResourceTypes.resourceTypes[*]"),
                Predicate::Exists(true),
            ),
        ]),
    ])
}

pub(super) fn rules() -> Vec<Builtin> {
    let ct = "cloudtrail.amazonaws.com";
    let gd = "guardduty.amazonaws.com";
    let sh = "securityhub.amazonaws.com";
    let s3 = "s3.amazonaws.com";
    let org = "organizations.amazonaws.com";
    let ec2 = "ec2.amazonaws.com";
    let cfg = "config.amazonaws.com";
    let macie = "macie2.amazonaws.com";
    let inspector = "inspector2.amazonaws.com";
    let detective = "detective.amazonaws.com";
    let analyzer = "access-analyzer.amazonaws.com";
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
            description: "A trail's event selectors stopped logging every management event (classic selectors: `includeManagementEvents: false`, `readWriteType` other than `All`, `excludeManagementEventSources`; advanced selectors: none that is `eventCategory = Management` alone, so read-only filters and `NotEquals`/`NotStartsWith`/`NotEndsWith` exclusions count), an event data store was deleted or stopped, or a trail was updated to one region, without global service events, without log file validation, without KMS encryption (`kmsKeyId: \"\"`), without CloudWatch Logs delivery, or to another bucket (a request naming the bucket alone; one that restates the whole trail, as infrastructure as code does on every apply, is judged only by the settings it weakens).",
            false_positives: &[
                "Excluding KMS or RDS Data API events on purpose to save cost",
                "Single-region trails that leave global service events to the organization trail",
                "A tool that updates a trail's bucket without restating its other settings (Terraform and CloudFormation restate them and stay silent)",
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
                        trail_bucket_moved(),
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
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "s3BucketName": "elsewhere", "s3KeyPrefix": "o", "isMultiRegionTrail": true}})),
                // a re-apply that restates the trail but switches log file validation off
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "s3BucketName": "logs", "isMultiRegionTrail": true, "includeGlobalServiceEvents": true, "enableLogFileValidation": false}})),
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
                // Terraform re-applying the trail: every setting restated, the bucket among them
                ev(ct, "UpdateTrail", json!({"requestParameters": {"name": "t", "s3BucketName": "logs", "includeGlobalServiceEvents": true, "isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:key/1"}})),
                ev(ct, "GetEventSelectors", json!({})),
            ],
        },
        Def {
            id: "RD-TAMPER-003",
            title: "GuardDuty detector deleted, disabled or disassociated",
            severity: Severity::Critical,
            attack: &["T1562.001"],
            description: "A GuardDuty detector was deleted or disabled, an account left its GuardDuty administrator or was removed from it, or the organization stopped managing GuardDuty centrally (`DisableOrganizationAdminAccount`, or Organizations `DeregisterDelegatedAdministrator` / `DisableAWSServiceAccess` for `guardduty.amazonaws.com`).",
            false_positives: &["Moving GuardDuty administration to another account"],
            condition: Condition::Any(vec![
                api(gd, &["DeleteDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "DisassociateMembers", "DeleteMembers", "StopMonitoringMembers", "DisableOrganizationAdminAccount"]),
                Condition::All(vec![api(gd, &["UpdateDetector"]), Condition::field("requestParameters.enable", Predicate::Bool(false))]),
                org_delegation_removed(&[gd, "malware-protection.guardduty.amazonaws.com"]),
            ]),
            positives: vec![
                ev(gd, "DeleteDetector", json!({"requestParameters": {"detectorId": "d"}})),
                ev(gd, "UpdateDetector", json!({"requestParameters": {"detectorId": "d", "enable": false}})),
                ev(gd, "DisassociateFromMasterAccount", json!({"requestParameters": {"detectorId": "d"}})),
                ev(gd, "DisassociateFromAdministratorAccount", json!({"requestParameters": {"detectorId": "d"}})),
                ev(gd, "DisassociateMembers", json!({"requestParameters": {"detectorId": "d", "accountIds": ["444455556666"]}})),
                ev(gd, "DeleteMembers", json!({"requestParameters": {"detectorId": "d", "accountIds": ["444455556666"]}})),
                ev(gd, "StopMonitoringMembers", json!({"requestParameters": {"detectorId": "d", "accountIds": ["444455556666"]}})),
                ev(gd, "DisableOrganizationAdminAccount", json!({"requestParameters": {"adminAccountId": "222233334444"}})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": gd}})),
                ev(org, "DisableAWSServiceAccess", json!({"requestParameters": {"servicePrincipal": gd}})),
            ],
            negatives: vec![
                ev(gd, "UpdateDetector", json!({"requestParameters": {"detectorId": "d", "enable": true}})),
                ev(gd, "ListDetectors", json!({})),
                ev(gd, "EnableOrganizationAdminAccount", json!({"requestParameters": {"adminAccountId": "222233334444"}})),
                // another service's delegated administrator
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": "ssm.amazonaws.com"}})),
                ev(org, "RegisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": gd}})),
            ],
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
            description: "Security Hub was disabled, a standard was disabled, a control was disabled in a standard (`UpdateStandardsControl` with `ControlStatus: DISABLED`, or `BatchUpdateStandardsControlAssociations` with some update's `AssociationStatus: DISABLED`), the account left its administrator or members were removed, or the organization stopped managing Security Hub centrally (`DisableOrganizationAdminAccount`, or Organizations `DeregisterDelegatedAdministrator` / `DisableAWSServiceAccess` for `securityhub.amazonaws.com`).",
            false_positives: &["Disabling a control judged not applicable, with a recorded reason"],
            condition: Condition::Any(vec![
                api(sh, &["DisableSecurityHub", "BatchDisableStandards", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "DeleteMembers", "DisassociateMembers", "DisableOrganizationAdminAccount"]),
                Condition::All(vec![
                    api(sh, &["UpdateStandardsControl"]),
                    Condition::field("requestParameters.ControlStatus", str_pred(StrOp::Equals, "disabled", true)),
                ]),
                Condition::All(vec![
                    api(sh, &["BatchUpdateStandardsControlAssociations"]),
                    Condition::any_item("requestParameters.StandardsControlAssociationUpdates", Items::Elements, ci("AssociationStatus", "DISABLED")),
                ]),
                org_delegation_removed(&[sh]),
            ]),
            positives: vec![
                ev(sh, "DisableSecurityHub", json!({})),
                ev(sh, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "DISABLED"}})),
                ev(sh, "BatchDisableStandards", json!({"requestParameters": {"StandardsSubscriptionArns": ["arn:aws:securityhub:eu-west-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.4.0"]}})),
                ev(sh, "DisassociateFromMasterAccount", json!({})),
                ev(sh, "DisassociateFromAdministratorAccount", json!({})),
                ev(sh, "DeleteMembers", json!({"requestParameters": {"AccountIds": ["444455556666"]}})),
                ev(sh, "DisassociateMembers", json!({"requestParameters": {"AccountIds": ["444455556666"]}})),
                ev(sh, "DisableOrganizationAdminAccount", json!({"requestParameters": {"AdminAccountId": "222233334444"}})),
                // one control of two disabled
                ev(sh, "BatchUpdateStandardsControlAssociations", json!({"requestParameters": {"StandardsControlAssociationUpdates": [
                    {"StandardsArn": "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0", "SecurityControlId": "S3.1", "AssociationStatus": "ENABLED"},
                    {"StandardsArn": "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0", "SecurityControlId": "CloudTrail.1", "AssociationStatus": "DISABLED", "UpdatedReason": "org trail"}]}})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": sh}})),
                ev(org, "DisableAWSServiceAccess", json!({"requestParameters": {"servicePrincipal": sh}})),
            ],
            negatives: vec![
                ev(sh, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "ENABLED"}})),
                ev(sh, "GetFindings", json!({})),
                ev(sh, "BatchUpdateStandardsControlAssociations", json!({"requestParameters": {"StandardsControlAssociationUpdates": [
                    {"StandardsArn": "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0", "SecurityControlId": "CloudTrail.1", "AssociationStatus": "ENABLED"}]}})),
                ev(sh, "EnableOrganizationAdminAccount", json!({"requestParameters": {"AdminAccountId": "222233334444"}})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": gd}})),
            ],
        },
        Def {
            id: "RD-TAMPER-006",
            title: "AWS Config recording stopped or deleted",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "The Config recorder was stopped or deleted (a service-linked recorder too), its delivery channel or an aggregator removed, or its recording narrowed: a recording group that no longer records every supported resource type (`allSupported` not true, a `recordingStrategy` other than `ALL_SUPPORTED_RESOURCE_TYPES`, excluded resource types) or resource types disassociated; or the organization stopped managing Config centrally (Organizations `DeregisterDelegatedAdministrator` / `DisableAWSServiceAccess` for `config.amazonaws.com` or `config-multiaccountsetup.amazonaws.com`). Configuration history stops for what is no longer recorded.",
            false_positives: &[
                "Re-creating the recorder during a planned migration",
                "Recording only chosen resource types on purpose to save cost",
            ],
            condition: Condition::Any(vec![
                api(cfg, &["StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteServiceLinkedConfigurationRecorder", "DeleteDeliveryChannel", "DeleteConfigurationAggregator", "DisassociateResourceTypes"]),
                Condition::All(vec![api(cfg, &["PutConfigurationRecorder"]), config_recording_narrowed()]),
                org_delegation_removed(&[cfg, "config-multiaccountsetup.amazonaws.com"]),
            ]),
            positives: ["StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteServiceLinkedConfigurationRecorder", "DeleteDeliveryChannel", "DeleteConfigurationAggregator"]
                .iter()
                .map(|n| ev(cfg, n, json!({})))
                .chain([
                    ev(cfg, "DisassociateResourceTypes", json!({"requestParameters": {"ConfigurationRecorderArn": "arn:aws:config:eu-west-1:111122223333:configuration-recorder/default/1", "ResourceTypes": ["AWS::IAM::Role"]}})),
                    ev(cfg, "PutConfigurationRecorder", json!({"requestParameters": {"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": false, "includeGlobalResourceTypes": false, "resourceTypes": ["AWS::S3::Bucket"]}}}})),
                    ev(cfg, "PutConfigurationRecorder", json!({"requestParameters": {"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": false, "exclusionByResourceTypes": {"resourceTypes": ["AWS::EC2::Instance"]}, "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"}}}}})),
                    // exclusions beside allSupported: AWS refuses the mix, yet it names what goes unrecorded
                    ev(cfg, "PutConfigurationRecorder", json!({"requestParameters": {"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": true, "exclusionByResourceTypes": {"resourceTypes": ["AWS::IAM::User"]}}}}})),
                    ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": "config-multiaccountsetup.amazonaws.com"}})),
                    ev(org, "DisableAWSServiceAccess", json!({"requestParameters": {"servicePrincipal": cfg}})),
                ])
                .collect(),
            negatives: vec![
                ev(cfg, "StartConfigurationRecorder", json!({})),
                // every supported type, with or without global types in this region, or no group (the default records everything)
                ev(cfg, "PutConfigurationRecorder", json!({"requestParameters": {"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": true, "includeGlobalResourceTypes": true, "resourceTypes": [], "exclusionByResourceTypes": {"resourceTypes": []}, "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}}}}})),
                ev(cfg, "PutConfigurationRecorder", json!({"requestParameters": {"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": true, "includeGlobalResourceTypes": false}}}})),
                ev(cfg, "PutConfigurationRecorder", json!({"requestParameters": {"configurationRecorder": {"name": "default", "roleARN": "arn:aws:iam::111122223333:role/config"}}})),
                ev(cfg, "AssociateResourceTypes", json!({"requestParameters": {"ResourceTypes": ["AWS::IAM::Role"]}})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": sh}})),
            ],
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
            description: "An account left the organization (`LeaveOrganization`) or the management account removed it (`RemoveAccountFromOrganization`): either way it escapes the SCPs, org trail and delegated security services.",
            false_positives: &["A planned account transfer"],
            condition: api(org, &["LeaveOrganization", "RemoveAccountFromOrganization"]),
            positives: vec![ev(org, "LeaveOrganization", json!({})), ev(org, "RemoveAccountFromOrganization", json!({"requestParameters": {"accountId": "444455556666"}}))],
            negatives: vec![ev(org, "DescribeOrganization", json!({})), ev(org, "MoveAccount", json!({"requestParameters": {"accountId": "444455556666", "sourceParentId": "r-1", "destinationParentId": "ou-1"}}))],
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
        Def {
            id: "RD-TAMPER-013",
            title: "Macie, Inspector, Detective or Access Analyzer switched off",
            severity: Severity::High,
            attack: &["T1562.001"],
            description: "One of the other security services the baseline relies on was switched off in an account or for the organization: Macie disabled or paused (`UpdateMacieSession` with `status: PAUSED`), Inspector scanning disabled, a Detective behaviour graph deleted, an IAM Access Analyzer analyzer deleted; a member removed from or leaving its administrator; the service's organization administrator disabled (`DisableOrganizationAdminAccount`, Inspector's `DisableDelegatedAdminAccount`) or Organizations `DeregisterDelegatedAdministrator` / `DisableAWSServiceAccess` for `macie.amazonaws.com`, `inspector2.amazonaws.com`, `detective.amazonaws.com` or `access-analyzer.amazonaws.com`. (GuardDuty, Security Hub and Config have their own rules.)",
            false_positives: &["Moving a service's administration to another account", "Replacing an analyzer with one of a wider zone of trust"],
            condition: Condition::Any(vec![
                api(macie, &["DisableMacie", "DisableOrganizationAdminAccount", "DisassociateFromAdministratorAccount", "DisassociateFromMasterAccount", "DisassociateMember", "DeleteMember"]),
                Condition::All(vec![api(macie, &["UpdateMacieSession"]), ci("requestParameters.status", "PAUSED")]),
                api(inspector, &["Disable", "DisableDelegatedAdminAccount", "DisassociateMember"]),
                api(detective, &["DeleteGraph", "DisableOrganizationAdminAccount", "DisassociateMembership", "DeleteMembers"]),
                api(analyzer, &["DeleteAnalyzer"]),
                org_delegation_removed(&["macie.amazonaws.com", inspector, detective, analyzer]),
            ]),
            positives: vec![
                ev(macie, "DisableMacie", json!({})),
                ev(macie, "UpdateMacieSession", json!({"requestParameters": {"status": "PAUSED"}})),
                ev(macie, "DisableOrganizationAdminAccount", json!({"requestParameters": {"adminAccountId": "222233334444"}})),
                ev(macie, "DisassociateFromAdministratorAccount", json!({})),
                ev(macie, "DisassociateFromMasterAccount", json!({})),
                ev(macie, "DisassociateMember", json!({"requestParameters": {"id": "444455556666"}})),
                ev(macie, "DeleteMember", json!({"requestParameters": {"id": "444455556666"}})),
                ev(inspector, "Disable", json!({"requestParameters": {"accountIds": ["111122223333"], "resourceTypes": ["EC2", "ECR", "LAMBDA"]}})),
                ev(inspector, "DisableDelegatedAdminAccount", json!({"requestParameters": {"delegatedAdminAccountId": "222233334444"}})),
                ev(inspector, "DisassociateMember", json!({"requestParameters": {"accountId": "444455556666"}})),
                ev(detective, "DeleteGraph", json!({"requestParameters": {"graphArn": "arn:aws:detective:eu-west-1:111122223333:graph:0123456789abcdef"}})),
                ev(detective, "DisableOrganizationAdminAccount", json!({})),
                ev(detective, "DisassociateMembership", json!({"requestParameters": {"graphArn": "arn:aws:detective:eu-west-1:222233334444:graph:0123456789abcdef"}})),
                ev(detective, "DeleteMembers", json!({"requestParameters": {"graphArn": "arn:aws:detective:eu-west-1:111122223333:graph:0123456789abcdef", "accountIds": ["444455556666"]}})),
                ev(analyzer, "DeleteAnalyzer", json!({"requestParameters": {"analyzerName": "org-analyzer"}})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": "macie.amazonaws.com"}})),
                ev(org, "DisableAWSServiceAccess", json!({"requestParameters": {"servicePrincipal": analyzer}})),
            ],
            negatives: vec![
                ev(macie, "UpdateMacieSession", json!({"requestParameters": {"status": "ENABLED", "findingPublishingFrequency": "FIFTEEN_MINUTES"}})),
                ev(macie, "EnableMacie", json!({})),
                ev(inspector, "Enable", json!({"requestParameters": {"accountIds": ["111122223333"], "resourceTypes": ["EC2"]}})),
                ev(analyzer, "CreateAnalyzer", json!({"requestParameters": {"analyzerName": "org-analyzer", "type": "ORGANIZATION"}})),
                ev(detective, "ListGraphs", json!({})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": "ipam.amazonaws.com"}})),
            ],
        },
    ]
    .into_iter()
    .map(Def::build)
    .collect()
}
