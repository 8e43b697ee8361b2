//! The central-alerting changes of `rampart apply`, made in the Audit account's home region:
//! the alert topic and its EventBridge-only policy (SNS), the finding rules and their target
//! (EventBridge), the finding aggregator and members (Security Hub). Every call is idempotent.

use super::{Call, Tolerate, put_topic};
use crate::access::Access;
use aws_sdk_eventbridge::types::{RuleState, Target};
use aws_sdk_securityhub::types::AccountDetails;
use rampart_baseline::plan::Action;
use rampart_baseline::plan::alerting::{topic_arn, topic_policy};
use serde_json::json;

/// The id of the alert topic's target on each rule (one target per rule is rampart's).
const TARGET_ID: &str = "rampart-alert-topic";

pub(super) async fn apply(call: &Call<'_>, s: &Access, action: &Action) -> Result<(), String> {
    let region = call.region;
    match action {
        Action::PutAlertTopic { topic, emails } => {
            let arn = put_topic(call, s, topic, emails).await?;
            let policy = topic_policy(call.account, region, topic);
            let r = s
                .sns(region)
                .set_topic_attributes()
                .topic_arn(&arn)
                .attribute_name("Policy")
                .attribute_value(&policy)
                .send()
                .await;
            call.done(
                "sns:SetTopicAttributes",
                json!({"TopicArn": arn, "AttributeName": "Policy", "AttributeValue": policy}),
                Tolerate::Nothing,
                r,
            )?;
        }
        Action::PutAlertRule {
            rule,
            event_pattern,
            topic,
        } => {
            let events = s.events(region);
            let r = events
                .put_rule()
                .name(rule)
                .event_pattern(event_pattern)
                .state(RuleState::Enabled)
                .description("Managed by rampart: security findings to the alert topic")
                .send()
                .await;
            call.done(
                "events:PutRule",
                json!({"Name": rule, "EventPattern": event_pattern, "State": "ENABLED"}),
                Tolerate::Nothing,
                r,
            )?;
            let arn = topic_arn(call.account, region, topic);
            let target = Target::builder()
                .id(TARGET_ID)
                .arn(&arn)
                .build()
                .map_err(|e| e.to_string())?;
            let r = events.put_targets().rule(rule).targets(target).send().await;
            let out = call.done(
                "events:PutTargets",
                json!({"Rule": rule, "Targets": [{"Id": TARGET_ID, "Arn": arn}]}),
                Tolerate::Nothing,
                r,
            )?;
            if let Some(o) = out
                && o.failed_entry_count() > 0
            {
                let why: Vec<String> = o
                    .failed_entries()
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {}",
                            f.error_code().unwrap_or_default(),
                            f.error_message().unwrap_or_default()
                        )
                    })
                    .collect();
                return Err(format!(
                    "events:PutTargets in account {} ({region}) refused the target {arn} of rule {rule}: {}",
                    call.account,
                    why.join("; ")
                ));
            }
        }
        Action::PutFindingAggregator {
            regions,
            aggregator_arn,
        } => {
            let hub = s.securityhub(region);
            match aggregator_arn {
                Some(arn) => {
                    let r = hub
                        .update_finding_aggregator()
                        .finding_aggregator_arn(arn)
                        .region_linking_mode("SPECIFIED_REGIONS")
                        .set_regions(Some(regions.clone()))
                        .send()
                        .await;
                    call.done(
                        "securityhub:UpdateFindingAggregator",
                        json!({"FindingAggregatorArn": arn, "RegionLinkingMode": "SPECIFIED_REGIONS", "Regions": regions}),
                        Tolerate::Nothing,
                        r,
                    )?;
                }
                None => {
                    let r = hub
                        .create_finding_aggregator()
                        .region_linking_mode("SPECIFIED_REGIONS")
                        .set_regions(Some(regions.clone()))
                        .send()
                        .await;
                    call.done(
                        "securityhub:CreateFindingAggregator",
                        json!({"RegionLinkingMode": "SPECIFIED_REGIONS", "Regions": regions}),
                        Tolerate::Nothing,
                        r,
                    )?;
                }
            }
        }
        Action::CreateSecurityHubMembers { account_ids } => {
            let details: Vec<AccountDetails> = account_ids
                .iter()
                .map(|id| AccountDetails::builder().account_id(id).build())
                .collect();
            let r = s
                .securityhub(region)
                .create_members()
                .set_account_details(Some(details))
                .send()
                .await;
            let out = call.done(
                "securityhub:CreateMembers",
                json!({"AccountDetails": account_ids.iter().map(|id| json!({"AccountId": id})).collect::<Vec<_>>()}),
                Tolerate::Nothing,
                r,
            )?;
            let refused: Vec<String> = out
                .iter()
                .flat_map(|o| o.unprocessed_accounts())
                .map(|u| {
                    format!(
                        "{}: {}",
                        u.account_id().unwrap_or_default(),
                        u.processing_result().unwrap_or_default()
                    )
                })
                .collect();
            if !refused.is_empty() {
                return Err(format!(
                    "securityhub:CreateMembers in account {} ({region}) left accounts out: {}",
                    call.account,
                    refused.join("; ")
                ));
            }
        }
        other => return Err(format!("{other:?} is not an alerting change")),
    }
    Ok(())
}
