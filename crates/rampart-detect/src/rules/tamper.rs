//! Tampering with the baseline itself: the logging, detection and guardrail services that make
//! every other alert possible.

use super::{Builtin, Def, anywhere, api, ci, ev, failed_twin, some_value, str_pred};
use crate::ir::{Condition, Items, Predicate, Severity, StrOp};
use crate::runbook::{Contact, Runbook, common, note, sh};
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
    let shub = "securityhub.amazonaws.com";
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
            runbook: Runbook::new(
                "CloudTrail logging was stopped on a trail, or the trail deleted, by {principal}.",
                "Every call after this moment goes unrecorded by that trail: an attacker stops logging first so the rest of the intrusion leaves no trace, and detection (rampart's included) goes blind for the accounts the trail covered.",
            )
            .triage([
                sh("Check whether the trail still exists and is logging (IsLogging, LatestDeliveryTime).", "aws cloudtrail get-trail-status --region {region} --name {trail}"),
                sh("List the trails that remain: an organization trail from the management account may still cover the account.", "aws cloudtrail describe-trails --region {region} --include-shadow-trails"),
                common::read_event(),
                common::principal_activity(),
                common::detect_window(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Restart logging at once; this is safe even while the investigation goes on.", "aws cloudtrail start-logging --region {region} --name {trail}").respond("restart-logging"),
                note("If the trail was deleted, recreate it from the baseline (`rampart apply` converges the organization trail) rather than by hand, so its bucket, KMS key and validation match."),
                common::disable_key(),
                common::quarantine_principal(),
            ])
            .recover([
                note("Treat the gap (from the event time until logging resumed) as unmonitored: review it with GuardDuty findings, VPC flow logs and S3 access logs, which the stop did not affect."),
                sh("Confirm the guardrail SCP that denies cloudtrail:StopLogging and DeleteTrail is attached to the account's OU; this call should have been refused.", "aws organizations list-policies-for-target --target-id {account} --filter SERVICE_CONTROL_POLICY"),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once: critical, whatever the cause, until logging is confirmed running")
            .escalate(Contact::AccountOwner, "to confirm whether a trail change was planned"),
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
            runbook: Runbook::new(
                "A trail or event data store was changed so that it no longer records every management event (selectors narrowed, regions, validation, encryption or destination changed).",
                "A weakened trail keeps running, so nobody notices the gap: an attacker narrows the selectors to hide their own calls, turns off log file validation to tamper with delivered files, or sends logs to a bucket they control.",
            )
            .triage([
                sh("Read the trail's current selectors (classic or advanced).", "aws cloudtrail get-event-selectors --region {region} --trail-name {trail}"),
                sh("Read the trail's settings: multi-region, global service events, log file validation, KMS key, bucket, CloudWatch Logs group.", "aws cloudtrail get-trail --region {region} --name {trail}"),
                common::read_event(),
                note("Compare with rampart.toml's [log_archive] trail and bucket: a bucket outside the log-archive account is the attacker's."),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Restore the selectors to every management event, read and write.", r#"aws cloudtrail put-event-selectors --region {region} --trail-name {trail} --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'"#).respond("restart-logging"),
                sh("Restore the trail's settings (or run `rampart apply`, which converges the organization trail).", "aws cloudtrail update-trail --region {region} --name {trail} --is-multi-region-trail --include-global-service-events --enable-log-file-validation"),
                common::disable_key(),
            ])
            .recover([
                sh("Validate the log files delivered during the window: a failure means files were changed or deleted.", "aws cloudtrail validate-logs --region {region} --trail-arn <trail_arn> --start-time {start} --end-time {end}"),
                note("Whatever the weakened trail did not record in the window is lost from it: read the same period from the organization trail if this was a local trail."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once if the change was not a reviewed cost exclusion")
            .escalate(Contact::AccountOwner, "to confirm the change and its ticket"),
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
            runbook: Runbook::new(
                "GuardDuty stopped watching an account: a detector deleted or disabled, a member disassociated, or central administration removed.",
                "GuardDuty is the managed threat detection the baseline relies on (credential exfiltration, crypto-mining, malicious IPs); turning it off is a classic first step before noisy activity.",
            )
            .triage([
                sh("List the detectors in the region and their status.", "aws guardduty list-detectors --region {region}"),
                sh("Check a detector's status and data sources.", "aws guardduty get-detector --region {region} --detector-id {detector_id}"),
                sh("Check whether the account is still a member of the GuardDuty administrator (from the Audit account).", "aws guardduty get-administrator-account --region {region} --detector-id {detector_id}"),
                sh("Check the organization's delegated administrator for GuardDuty.", "aws organizations list-delegated-administrators --service-principal guardduty.amazonaws.com"),
                common::read_event(),
                common::principal_activity(),
            ])
            .contain([
                sh("Re-enable the detector (or recreate it: `aws guardduty create-detector --enable`).", "aws guardduty update-detector --region {region} --detector-id {detector_id} --enable").respond("re-enable-guardduty"),
                note("If membership or delegation was removed, `rampart apply` restores the Audit account as delegated administrator and re-enrols the members."),
                common::disable_key(),
                common::quarantine_principal(),
            ])
            .recover([
                sh("Once running again, review the findings raised since (and archived ones) for the account.", r#"aws guardduty list-findings --region {region} --detector-id {detector_id} --finding-criteria '{"Criterion":{"accountId":{"Eq":["{account}"]}}}'"#),
                common::detect_window(),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once: critical")
            .escalate(Contact::OrgAdmins, "when delegation or organization-wide enablement changed"),
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
            runbook: Runbook::new(
                "GuardDuty findings were hidden: archived by hand, auto-archived by a new or changed filter, or silenced by a trusted IP list.",
                "Suppression keeps GuardDuty running but stops its findings reaching anyone: an attacker who trusts their own IP or archives the finding about them is invisible while everything looks healthy.",
            )
            .triage([
                sh("List the filters; read the one created or changed (its action ARCHIVE and its criteria).", "aws guardduty list-filters --region {region} --detector-id {detector_id}"),
                sh("Read a filter's criteria.", "aws guardduty get-filter --region {region} --detector-id {detector_id} --filter-name <filter_name>"),
                sh("List trusted IP sets: an address trusted here never raises findings.", "aws guardduty list-ip-sets --region {region} --detector-id {detector_id}"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Delete an unreviewed suppression filter.", "aws guardduty delete-filter --region {region} --detector-id {detector_id} --filter-name <filter_name>"),
                sh("Deactivate an unreviewed trusted IP set.", "aws guardduty update-ip-set --region {region} --detector-id {detector_id} --ip-set-id <ip_set_id> --no-activate"),
                sh("Unarchive findings archived by hand, so they are triaged.", "aws guardduty unarchive-findings --region {region} --detector-id {detector_id} --finding-ids <finding_id>"),
            ])
            .recover([
                note("Triage every finding the suppression hid since the event time: they are the reason someone wanted them hidden."),
                note("Suppression rules belong in code review: keep reviewed filters in the infrastructure repository with a reason."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once when the filter or IP list is not a reviewed change")
            .escalate(Contact::AccountOwner, "to confirm the change"),
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
            runbook: Runbook::new(
                "Security Hub, one of its standards or a control was disabled, or an account left its Security Hub administrator.",
                "Security Hub aggregates the findings of every other service and scores the baseline; disabling it or a control removes findings from the central view without removing the problems they describe.",
            )
            .triage([
                sh("Check whether Security Hub is enabled in the account and region.", "aws securityhub describe-hub --region {region}"),
                sh("List the standards still enabled.", "aws securityhub get-enabled-standards --region {region}"),
                sh("Check the account's administrator.", "aws securityhub get-administrator-account --region {region}"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Re-enable Security Hub if it was disabled.", "aws securityhub enable-security-hub --region {region} --enable-default-standards"),
                sh("Re-enable a disabled standard.", "aws securityhub batch-enable-standards --region {region} --standards-subscription-requests StandardsArn=<standards_arn>"),
                sh("Re-enable a disabled control.", "aws securityhub update-standards-control --region {region} --standards-control-arn <control_arn> --control-status ENABLED"),
                common::disable_key(),
            ])
            .recover([
                common::apply_baseline(),
                note("A control disabled on purpose needs a recorded reason (`--disabled-reason`) and belongs in rampart.toml's suppressions, not a console click."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when Security Hub or a whole standard was disabled")
            .escalate(Contact::AccountOwner, "for a single control: confirm the reason"),
            condition: Condition::Any(vec![
                api(shub, &["DisableSecurityHub", "BatchDisableStandards", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "DeleteMembers", "DisassociateMembers", "DisableOrganizationAdminAccount"]),
                Condition::All(vec![
                    api(shub, &["UpdateStandardsControl"]),
                    Condition::field("requestParameters.ControlStatus", str_pred(StrOp::Equals, "disabled", true)),
                ]),
                Condition::All(vec![
                    api(shub, &["BatchUpdateStandardsControlAssociations"]),
                    Condition::any_item("requestParameters.StandardsControlAssociationUpdates", Items::Elements, ci("AssociationStatus", "DISABLED")),
                ]),
                org_delegation_removed(&[shub]),
            ]),
            positives: vec![
                ev(shub, "DisableSecurityHub", json!({})),
                ev(shub, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "DISABLED"}})),
                ev(shub, "BatchDisableStandards", json!({"requestParameters": {"StandardsSubscriptionArns": ["arn:aws:securityhub:eu-west-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.4.0"]}})),
                ev(shub, "DisassociateFromMasterAccount", json!({})),
                ev(shub, "DisassociateFromAdministratorAccount", json!({})),
                ev(shub, "DeleteMembers", json!({"requestParameters": {"AccountIds": ["444455556666"]}})),
                ev(shub, "DisassociateMembers", json!({"requestParameters": {"AccountIds": ["444455556666"]}})),
                ev(shub, "DisableOrganizationAdminAccount", json!({"requestParameters": {"AdminAccountId": "222233334444"}})),
                // one control of two disabled
                ev(shub, "BatchUpdateStandardsControlAssociations", json!({"requestParameters": {"StandardsControlAssociationUpdates": [
                    {"StandardsArn": "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0", "SecurityControlId": "S3.1", "AssociationStatus": "ENABLED"},
                    {"StandardsArn": "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0", "SecurityControlId": "CloudTrail.1", "AssociationStatus": "DISABLED", "UpdatedReason": "org trail"}]}})),
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": shub}})),
                ev(org, "DisableAWSServiceAccess", json!({"requestParameters": {"servicePrincipal": shub}})),
            ],
            negatives: vec![
                ev(shub, "UpdateStandardsControl", json!({"requestParameters": {"ControlStatus": "ENABLED"}})),
                ev(shub, "GetFindings", json!({})),
                ev(shub, "BatchUpdateStandardsControlAssociations", json!({"requestParameters": {"StandardsControlAssociationUpdates": [
                    {"StandardsArn": "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0", "SecurityControlId": "CloudTrail.1", "AssociationStatus": "ENABLED"}]}})),
                ev(shub, "EnableOrganizationAdminAccount", json!({"requestParameters": {"AdminAccountId": "222233334444"}})),
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
            runbook: Runbook::new(
                "AWS Config stopped recording, lost its delivery channel or aggregator, or narrowed what it records.",
                "Config is the resource history the baseline's audits and forensic timelines rely on: with it stopped, changes an attacker makes (security groups, policies, buckets) leave no configuration record.",
            )
            .triage([
                sh("Check the recorder's status (recording, last status).", "aws configservice describe-configuration-recorder-status --region {region}"),
                sh("Read the recorder's recording group (allSupported, exclusions).", "aws configservice describe-configuration-recorders --region {region}"),
                sh("Check the delivery channel.", "aws configservice describe-delivery-channels --region {region}"),
                common::read_event(),
                common::principal_activity(),
            ])
            .contain([
                sh("Start the recorder again (its name is in the recorder listing; `default` unless changed).", "aws configservice start-configuration-recorder --region {region} --configuration-recorder-name default").respond("re-enable-config"),
                sh("Restore recording of every supported resource type.", "aws configservice put-configuration-recorder --region {region} --configuration-recorder name=default,roleARN=<config_role_arn> --recording-group allSupported=true,includeGlobalResourceTypes=true"),
                common::disable_key(),
            ])
            .recover([
                common::apply_baseline(),
                note("Changes made while Config was off are not in its history: read them from CloudTrail for the gap (`rampart detect` over the window)."),
                common::detect_window(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when the recorder was stopped or deleted without a change ticket")
            .escalate(Contact::AccountOwner, "for a narrowed recording group: confirm the cost reason"),
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
                ev(org, "DeregisterDelegatedAdministrator", json!({"requestParameters": {"accountId": "222233334444", "servicePrincipal": shub}})),
            ],
        },
        Def {
            id: "RD-TAMPER-007",
            title: "S3 Block Public Access removed or weakened",
            severity: Severity::High,
            attack: &["T1562.001", "T1530"],
            description: "Block Public Access was deleted or one of its four settings set to false, at bucket or account level.",
            false_positives: &["A reviewed public website bucket"],
            runbook: Runbook::new(
                "S3 Block Public Access was removed or weakened on {resource} (a bucket, or the account when no bucket is named).",
                "Block Public Access is the account-wide safety net against public buckets; once off, one policy or ACL change exposes data to the internet.",
            )
            .triage([
                sh("Read the account-level setting (all four must be true).", "aws s3control get-public-access-block --account-id {account}"),
                sh("Read the bucket-level setting, when the alert names a bucket.", "aws s3api get-public-access-block --bucket {bucket}"),
                sh("Check whether the bucket is public now.", "aws s3api get-bucket-policy-status --bucket {bucket}"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Re-apply Block Public Access on the account …", "aws s3control put-public-access-block --account-id {account} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true").respond("reapply-bpa"),
                sh("… and on the bucket.", "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true").respond("reapply-bpa"),
            ])
            .recover([
                sh("If the bucket was public for a while, look for reads by outsiders in its server access logs or CloudTrail data events for the window.", "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=ResourceName,AttributeValue={bucket} --start-time {start} --end-time {end}"),
                note("A reviewed public website belongs behind CloudFront with origin access control, which needs no public bucket."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once when the bucket holds non-public data")
            .escalate(Contact::AccountOwner, "to confirm the bucket's purpose"),
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
            runbook: Runbook::new(
                "Account {account} left the organization, or was removed from it.",
                "Outside the organization the account escapes every SCP, the organization trail and the delegated security services at once: whoever controls it is unmonitored and unrestricted.",
            )
            .triage([
                sh("Check whether the account is still a member (run in the management account).", "aws organizations describe-account --account-id {account}"),
                sh("List the organization's accounts and their status.", "aws organizations list-accounts --query 'Accounts[].[Id,Name,Status]' --output table"),
                common::read_event(),
                common::principal_activity(),
                note("For LeaveOrganization the caller is inside the departing account: find how they got there (root sign-in, a role with organizations:LeaveOrganization)."),
            ])
            .contain([
                sh("Invite the account back (the account must accept the handshake, as its root or an administrator).", "aws organizations invite-account-to-organization --target Id={account},Type=ACCOUNT"),
                note("Until it is back, treat everything in it as compromised: its data, and any cross-account trust that still lets it into other accounts (roles trusting the account id, shared KMS keys, bucket policies)."),
                common::quarantine_principal(),
            ])
            .recover([
                note("Remove trust in the departed account from the organization's remaining accounts until it is back under control (RD-EXP alerts list such grants)."),
                note("The guardrail SCP denying organizations:LeaveOrganization must be attached to every OU: check why it did not stop this."),
                common::apply_baseline(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once: critical")
            .escalate(Contact::OrgAdmins, "at once: only the management account can follow up")
            .escalate(Contact::AccountOwner, "to confirm whether a transfer was planned"),
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
            runbook: Runbook::new(
                "A service or resource control policy was detached or deleted, or a policy type disabled, in the organization.",
                "SCPs are the guardrails that hold even against account administrators (no leaving the organization, no stopping CloudTrail, regions denied); removing one silently widens what every account below can do.",
            )
            .triage([
                sh("List the SCPs attached to the target named in the event (an account, OU or root).", "aws organizations list-policies-for-target --target-id <target_id> --filter SERVICE_CONTROL_POLICY"),
                sh("Check the policy types enabled on the root.", "aws organizations list-roots"),
                common::read_event(),
                common::principal_activity(),
                sh("Compare with the guardrails rampart.toml declares.", "rampart drift"),
            ])
            .contain([
                sh("Re-attach the policy (its id is in the event's requestParameters).", "aws organizations attach-policy --policy-id <policy_id> --target-id <target_id>"),
                sh("Re-enable a disabled policy type.", "aws organizations enable-policy-type --root-id <root_id> --policy-type SERVICE_CONTROL_POLICY"),
                note("Or converge every guardrail at once: `rampart plan && rampart apply`."),
            ])
            .recover([
                note("Look for what the missing guardrail allowed during the gap: regions used, trails stopped, accounts leaving (`rampart detect` over the window)."),
                common::detect_window(),
                common::record_outcome(),
            ])
            .escalate(Contact::OrgAdmins, "at once: only the management account changes SCPs")
            .escalate(Contact::SecurityOnCall, "when the change was not a reviewed replacement"),
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
            runbook: Runbook::new(
                "EBS encryption by default was disabled in {account}/{region}.",
                "New volumes and snapshot copies in the region are now unencrypted unless each request asks otherwise; unencrypted snapshots can then be shared outside the organization.",
            )
            .triage([
                sh("Confirm the current setting.", "aws ec2 get-ebs-encryption-by-default --region {region}"),
                sh("List volumes created since the change that are unencrypted.", "aws ec2 describe-volumes --region {region} --filters Name=encrypted,Values=false --query 'Volumes[].[VolumeId,CreateTime,State]' --output table"),
                common::read_event(),
                common::principal_activity(),
            ])
            .contain([
                sh("Re-enable encryption by default.", "aws ec2 enable-ebs-encryption-by-default --region {region}"),
                common::disable_key(),
            ])
            .recover([
                note("Volumes created while it was off stay unencrypted: snapshot them, copy the snapshot with `--encrypted`, and replace the volumes."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::AccountOwner, "to confirm the reason (there is no legitimate one in the baseline)")
            .escalate(Contact::SecurityOnCall, "when unencrypted snapshots were also shared (RD-EXP-013)"),
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
            runbook: Runbook::new(
                "An ACL on bucket {bucket} (or one of its objects) granted access to everyone or to every AWS account.",
                "A public ACL exposes the bucket's listing or objects to the internet; AuthenticatedUsers means any AWS account anywhere, not this organization.",
            )
            .triage([
                sh("Read the bucket's ACL.", "aws s3api get-bucket-acl --bucket {bucket}"),
                sh("Read an object's ACL when the event names a key.", "aws s3api get-object-acl --bucket {bucket} --key <object_key>"),
                sh("Check whether Block Public Access would neutralise the ACL (IgnorePublicAcls).", "aws s3api get-public-access-block --bucket {bucket}"),
                common::read_event(),
                common::principal_activity(),
            ])
            .contain([
                sh("Make the bucket private again.", "aws s3api put-bucket-acl --bucket {bucket} --acl private").respond("reapply-bpa"),
                sh("Disable ACLs altogether (bucket owner enforced).", "aws s3api put-bucket-ownership-controls --bucket {bucket} --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'"),
                sh("Re-apply Block Public Access on the bucket.", "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true").respond("reapply-bpa"),
            ])
            .recover([
                note("Check the bucket's server access logs (or S3 data events) for anonymous reads while the ACL was public, and treat what was read as disclosed."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once when the bucket holds non-public data")
            .escalate(Contact::AccountOwner, "to confirm whether the bucket is meant to be public"),
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
            runbook: Runbook::new(
                "VPC flow logs or Route 53 Resolver query logging were deleted or disassociated in {account}/{region}.",
                "Network logs are how an investigation sees data leaving and command-and-control lookups; deleting them just before exfiltration is common.",
            )
            .triage([
                sh("List the flow logs that remain.", "aws ec2 describe-flow-logs --region {region}"),
                sh("List the resolver query log associations that remain.", "aws route53resolver list-resolver-query-log-config-associations --region {region}"),
                common::read_event(),
                common::principal_activity(),
                note("Check whether the VPC itself was deleted in the same window: tearing a VPC down removes its logs legitimately."),
            ])
            .contain([
                sh("Recreate the VPC's flow log to the log-archive bucket.", "aws ec2 create-flow-logs --region {region} --resource-type VPC --resource-ids {vpc} --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::<log_archive_bucket>"),
                sh("Re-associate resolver query logging with the VPC.", "aws route53resolver associate-resolver-query-log-config --region {region} --resolver-query-log-config-id <query_log_config_id> --resource-id {vpc}"),
                common::disable_key(),
            ])
            .recover([
                note("The gap has no network record: rely on CloudTrail, GuardDuty (it reads flow logs and DNS independently) and load balancer logs for it."),
                common::detect_window(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when no VPC teardown explains it")
            .escalate(Contact::AccountOwner, "to confirm the change"),
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
            runbook: Runbook::new(
                "A security service the baseline relies on (Macie, Inspector, Detective or IAM Access Analyzer) was switched off or left its administrator.",
                "Each covers a different blind spot (sensitive data, vulnerable workloads, investigation graphs, external access); switching one off removes that coverage quietly.",
            )
            .triage([
                common::read_event(),
                sh("Macie: check the session status.", "aws macie2 get-macie-session --region {region}"),
                sh("Inspector: check which scan types are enabled for the account.", "aws inspector2 batch-get-account-status --region {region} --account-ids {account}"),
                sh("Detective: list the behaviour graphs.", "aws detective list-graphs --region {region}"),
                sh("Access Analyzer: list the analyzers.", "aws accessanalyzer list-analyzers --region {region}"),
                common::principal_activity(),
            ])
            .contain([
                sh("Macie: resume the session.", "aws macie2 update-macie-session --region {region} --status ENABLED"),
                sh("Inspector: re-enable scanning.", "aws inspector2 enable --region {region} --account-ids {account} --resource-types EC2 ECR LAMBDA"),
                sh("Access Analyzer: recreate the organization analyzer (in the delegated administrator account).", "aws accessanalyzer create-analyzer --region {region} --analyzer-name rampart-organization --type ORGANIZATION"),
                note("Detective: a deleted graph cannot be restored; create a new one (`aws detective create-graph`) and re-invite the members. Or run `rampart apply`, which converges the services rampart.toml enables."),
            ])
            .recover([
                common::apply_baseline(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when the change was not a reviewed move of administration")
            .escalate(Contact::OrgAdmins, "when organization-level administration changed"),
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
