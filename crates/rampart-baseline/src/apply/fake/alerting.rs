//! Central alerting in the in-process model: the alert topic, EventBridge rules, the Security
//! Hub finding aggregator and members, changed as SNS, EventBridge and Security Hub would change
//! what `collect` reads back. It also stands in for the aggregator, which moto lacks.

use crate::plan::Action;
use crate::plan::alerting::{topic_arn, topic_policy};
use rampart_snapshot::*;

/// Applies an alerting action in `account`'s region `r`.
pub(super) fn apply(r: &mut RegionSnapshot, account: &str, action: &Action) -> Result<(), String> {
    let region = r.region.clone();
    match action {
        Action::PutAlertTopic { topic, emails } => {
            let arn = topic_arn(account, &region, topic);
            if !r.sns_topics.iter().any(|t| t.arn == arn) {
                r.sns_topics.push(SnsTopic {
                    arn: arn.clone(),
                    ..Default::default()
                });
            }
            let t = r
                .sns_topics
                .iter_mut()
                .find(|t| t.arn == arn)
                .ok_or("topic missing")?;
            t.policy = Some(topic_policy(account, &region, topic));
            for e in emails {
                if !t
                    .subscriptions
                    .iter()
                    .any(|s| s.endpoint.as_deref() == Some(e.as_str()))
                {
                    t.subscriptions.push(SnsSubscription {
                        arn: "PendingConfirmation".into(),
                        protocol: "email".into(),
                        confirmed: false,
                        endpoint: Some(e.clone()),
                    });
                }
            }
        }
        Action::PutAlertRule {
            rule,
            event_pattern,
            topic,
        } => {
            let target = topic_arn(account, &region, topic);
            if !r.sns_topics.iter().any(|t| t.arn == target) {
                return Err(format!("topic {target} does not exist"));
            }
            r.event_rules.retain(|x| x.name != *rule);
            r.event_rules.push(EventRule {
                name: rule.clone(),
                arn: format!("arn:aws:events:{region}:{account}:rule/{rule}"),
                event_pattern: event_pattern.clone(),
                state: "ENABLED".into(),
                targets: vec![target],
            });
        }
        Action::PutFindingAggregator { regions, .. } => {
            let hub = r
                .securityhub
                .as_mut()
                .ok_or("Security Hub is not enabled")?;
            hub.finding_aggregator = Some(FindingAggregator {
                arn: format!("arn:aws:securityhub:{region}:{account}:finding-aggregator/fake"),
                region_linking_mode: "SPECIFIED_REGIONS".into(),
                regions: regions.clone(),
            });
        }
        Action::CreateSecurityHubMembers { account_ids } => {
            let hub = r
                .securityhub
                .as_mut()
                .ok_or("Security Hub is not enabled")?;
            let members = hub.members.get_or_insert_with(Vec::new);
            for id in account_ids {
                if !members.contains(id) {
                    members.push(id.clone());
                }
            }
        }
        other => return Err(format!("{other:?} is not an alerting change")),
    }
    Ok(())
}
