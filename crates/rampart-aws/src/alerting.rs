//! What central alerting (`[alerting]`) compares, read in the account that administers the
//! security services (the Audit account): rampart's EventBridge rules and their targets, the
//! SNS topics with their policies, Security Hub's finding aggregator and its members.

use crate::access::{Access, Recorder};
use rampart_baseline::plan::alerting::RULE_PREFIX;
use rampart_snapshot::{EventRule, FindingAggregator, RegionSnapshot};

/// Reads the alerting state of one region into `out` (whose SNS topics are already listed).
pub async fn collect(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    topic_policies(a, region, rec, out).await;
    event_rules(a, region, rec, out).await;
    if out.securityhub.is_some() {
        securityhub(a, region, rec, out).await;
    }
}

async fn topic_policies(
    a: &Access,
    region: &str,
    rec: &mut Recorder<'_>,
    out: &mut RegionSnapshot,
) {
    let c = a.sns(region);
    for t in &mut out.sns_topics {
        if let Some(attrs) = rec.ok(
            "sns:GetTopicAttributes",
            Some(&t.arn),
            c.get_topic_attributes().topic_arn(&t.arn).send().await,
        ) {
            t.policy = attrs.attributes().and_then(|m| m.get("Policy")).cloned();
        }
    }
}

async fn event_rules(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.events(region);
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "events:ListRules",
            None,
            c.list_rules()
                .name_prefix(RULE_PREFIX)
                .set_next_token(token.clone())
                .send()
                .await,
        ) else {
            return;
        };
        for r in p.rules() {
            out.event_rules.push(EventRule {
                name: r.name().unwrap_or_default().to_string(),
                arn: r.arn().unwrap_or_default().to_string(),
                event_pattern: r.event_pattern().unwrap_or_default().to_string(),
                state: r
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                targets: Vec::new(),
            });
        }
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for rule in &mut out.event_rules {
        let mut token = None;
        loop {
            let Some(p) = rec.ok(
                "events:ListTargetsByRule",
                Some(&rule.name),
                c.list_targets_by_rule()
                    .rule(&rule.name)
                    .set_next_token(token.clone())
                    .send()
                    .await,
            ) else {
                break;
            };
            rule.targets
                .extend(p.targets().iter().map(|t| t.arn().to_string()));
            token = p.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
}

async fn securityhub(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.securityhub(region);
    let mut aggregator = None;
    if let Some(list) = rec.ok(
        "securityhub:ListFindingAggregators",
        None,
        c.list_finding_aggregators().send().await,
    ) && let Some(arn) = list
        .finding_aggregators()
        .first()
        .and_then(|f| f.finding_aggregator_arn())
        && let Some(got) = rec.ok(
            "securityhub:GetFindingAggregator",
            Some(arn),
            c.get_finding_aggregator()
                .finding_aggregator_arn(arn)
                .send()
                .await,
        )
    {
        aggregator = Some(FindingAggregator {
            arn: arn.to_string(),
            region_linking_mode: got.region_linking_mode().unwrap_or_default().to_string(),
            regions: got.regions().to_vec(),
        });
    }
    let mut members = Some(Vec::new());
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "securityhub:ListMembers",
            None,
            c.list_members()
                .only_associated(true)
                .set_next_token(token.clone())
                .send()
                .await,
        ) else {
            members = None;
            break;
        };
        if let Some(m) = members.as_mut() {
            m.extend(
                p.members()
                    .iter()
                    .filter_map(|x| x.account_id().map(str::to_string)),
            );
        }
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if let Some(hub) = out.securityhub.as_mut() {
        hub.finding_aggregator = aggregator;
        hub.members = members;
    }
}
