//! Central alerting in AWS (`[alerting]`): in the Audit account's home region, one EventBridge
//! rule per finding source (GuardDuty, Security Hub, Access Analyzer) at or above the configured
//! severity, each targeting the alert SNS topic, whose policy lets only EventBridge of that
//! account publish; Security Hub's cross-region finding aggregator linking the other allowed
//! regions; and the existing accounts as Security Hub members of the Audit account. Alerts then
//! reach people even when rampart is not running. Event shapes: docs/alerting-aws.md.

use super::{Action, Builder, same_json};
use crate::config::Config;
use crate::config::alerting::{Alerting, Severity};
use rampart_snapshot::{Organization, RegionSnapshot, Snapshot};
use serde_json::{Value, json};

/// Prefix of the EventBridge rules rampart owns (the collector reads only these).
pub const RULE_PREFIX: &str = "rampart-alert-";

/// A finding source and the rule that forwards its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    GuardDuty,
    SecurityHub,
    AccessAnalyzer,
}

impl Source {
    pub const ALL: [Source; 3] = [
        Source::GuardDuty,
        Source::SecurityHub,
        Source::AccessAnalyzer,
    ];

    pub fn rule_name(self) -> String {
        let s = match self {
            Source::GuardDuty => "guardduty",
            Source::SecurityHub => "securityhub",
            Source::AccessAnalyzer => "access-analyzer",
        };
        format!("{RULE_PREFIX}{s}")
    }

    /// The EventBridge pattern for this source's findings at or above `min`.
    pub fn pattern(self, min: Severity) -> Value {
        match self {
            // GuardDuty Finding events carry the numeric severity in detail.severity.
            Source::GuardDuty => json!({
                "source": ["aws.guardduty"],
                "detail-type": ["GuardDuty Finding"],
                "detail": {"severity": [{"numeric": [">=", min.guardduty_floor()]}]}
            }),
            // One ASFF finding per event, under detail.findings; archived and already-resolved
            // or suppressed findings do not page anyone.
            Source::SecurityHub => json!({
                "source": ["aws.securityhub"],
                "detail-type": ["Security Hub Findings - Imported"],
                "detail": {"findings": {
                    "Severity": {"Label": min.security_hub_labels()},
                    "RecordState": ["ACTIVE"],
                    "Workflow": {"Status": ["NEW", "NOTIFIED"]}
                }}
            }),
            // Access Analyzer findings have no severity: every active finding is at least
            // medium; public access is high (and critical).
            Source::AccessAnalyzer => {
                let mut detail = json!({"status": ["ACTIVE"]});
                if min >= Severity::High {
                    detail["isPublic"] = json!([true]);
                }
                json!({
                    "source": ["aws.access-analyzer"],
                    "detail-type": ["Access Analyzer Finding"],
                    "detail": detail
                })
            }
        }
    }

    fn enabled(self, cfg: &Config) -> bool {
        let s = &cfg.security_services;
        match self {
            Source::GuardDuty => s.guardduty,
            Source::SecurityHub => s.security_hub,
            Source::AccessAnalyzer => s.access_analyzer,
        }
    }
}

/// `arn:aws:sns:<region>:<account>:<topic>`.
pub fn topic_arn(account: &str, region: &str, topic: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{topic}")
}

/// The alert topic's policy: EventBridge may publish, only for rampart's rules in `account`;
/// every other publisher (other accounts' rules, any IAM principal, other services) is denied.
pub fn topic_policy(account: &str, region: &str, topic: &str) -> String {
    let arn = topic_arn(account, region, topic);
    let rules = format!("arn:aws:events:{region}:{account}:rule/{RULE_PREFIX}*");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgeOfThisAccountPublishes",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": rules}
                }
            },
            {
                "Sid": "NoOtherPublisher",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": arn,
                "Condition": {
                    "StringNotEquals": {"aws:SourceAccount": account}
                }
            }
        ]
    })
    .to_string()
}

/// Plans the alerting changes when `[alerting]` is set and the Audit account exists.
pub(super) fn plan_alerting(
    cfg: &Config,
    snap: &Snapshot,
    org: &Organization,
    b: &mut Builder,
    unobserved: &mut Vec<String>,
) {
    let Some(alerting) = &cfg.alerting else {
        return;
    };
    let sources: Vec<Source> = Source::ALL.into_iter().filter(|s| s.enabled(cfg)).collect();
    if sources.is_empty() {
        return;
    }
    let Some(audit) = org
        .accounts
        .iter()
        .find(|a| a.name == cfg.organization.audit_account)
    else {
        // Planned once the account exists (the same apply creates it; the next plan adds these).
        unobserved.push(format!(
            "central alerting (the Audit account {} does not exist yet)",
            cfg.organization.audit_account
        ));
        return;
    };
    let home = &cfg.organization.allowed_regions[0];
    let Some(account) = snap.accounts.iter().find(|a| a.account_id == audit.id) else {
        unobserved.push(format!(
            "central alerting in the Audit account {}",
            audit.id
        ));
        return;
    };
    if account.errors.iter().any(|e| e.api == "*") {
        unobserved.push(format!(
            "central alerting in the Audit account {} (could not be entered)",
            audit.id
        ));
        return;
    }
    let empty = RegionSnapshot::default();
    let r = account
        .regions
        .iter()
        .find(|r| r.region == *home)
        .unwrap_or(&empty);
    let failed = |prefix: &str| r.errors.iter().any(|e| e.api.starts_with(prefix));
    let id = audit.id.as_str();

    let topic_id = format!("alert-topic:{id}:{home}");
    plan_topic(
        alerting,
        r,
        id,
        home,
        &topic_id,
        b,
        unobserved,
        failed("sns:"),
    );
    for s in sources {
        plan_rule(
            alerting,
            r,
            id,
            home,
            s,
            &topic_id,
            b,
            unobserved,
            failed("events:"),
        );
    }
    if !cfg.security_services.security_hub {
        return;
    }
    let hub_deps = vec![
        format!("securityhub:{id}:{home}"),
        "delegated-admin:securityhub.amazonaws.com".to_string(),
    ];
    if alerting.finding_aggregator && cfg.organization.allowed_regions.len() > 1 {
        let linked: Vec<String> = cfg.organization.allowed_regions[1..].to_vec();
        if failed("securityhub:ListFindingAggregators")
            || failed("securityhub:GetFindingAggregator")
        {
            unobserved.push(format!(
                "the Security Hub finding aggregator in {home} (it could not be read in {id})"
            ));
        } else {
            let current = r
                .securityhub
                .as_ref()
                .and_then(|h| h.finding_aggregator.as_ref());
            let mut have = current.map(|a| a.regions.clone()).unwrap_or_default();
            have.sort();
            let mut want = linked.clone();
            want.sort();
            let ok = current.is_some_and(|a| a.region_linking_mode == "SPECIFIED_REGIONS")
                && have == want;
            if !ok {
                let arn = current.map(|a| a.arn.clone()).filter(|a| !a.is_empty());
                let verb = if arn.is_some() { "update" } else { "create" };
                b.add(
                    format!("finding-aggregator:{id}:{home}"),
                    id,
                    Some(home),
                    Action::PutFindingAggregator {
                        regions: linked.clone(),
                        aggregator_arn: arn,
                    },
                    format!(
                        "{verb} the Security Hub finding aggregator in the Audit account {id} region {home}, linking {}",
                        linked.join(", ")
                    ),
                    hub_deps.clone(),
                );
            }
        }
    }
    if alerting.members {
        if failed("securityhub:ListMembers") {
            unobserved.push(format!(
                "Security Hub members of the Audit account {id} (securityhub:ListMembers could not be read)"
            ));
            return;
        }
        let have = r
            .securityhub
            .as_ref()
            .and_then(|h| h.members.clone())
            .unwrap_or_default();
        let missing: Vec<String> = org
            .accounts
            .iter()
            .filter(|a| a.status == "ACTIVE" && a.id != audit.id && !have.contains(&a.id))
            .map(|a| a.id.clone())
            .collect();
        if !missing.is_empty() {
            b.add(
                format!("securityhub-members:{id}:{home}"),
                id,
                Some(home),
                Action::CreateSecurityHubMembers {
                    account_ids: missing.clone(),
                },
                format!(
                    "make {} existing account(s) Security Hub members of the Audit account {id} ({})",
                    missing.len(),
                    missing.join(", ")
                ),
                hub_deps,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_topic(
    alerting: &Alerting,
    r: &RegionSnapshot,
    id: &str,
    home: &str,
    change_id: &str,
    b: &mut Builder,
    unobserved: &mut Vec<String>,
    unread: bool,
) {
    if unread {
        unobserved.push(format!(
            "the alert topic {} in {id} region {home} (SNS could not be read)",
            alerting.topic
        ));
        return;
    }
    let arn = topic_arn(id, home, &alerting.topic);
    let want = topic_policy(id, home, &alerting.topic);
    let topic = r.sns_topics.iter().find(|t| t.arn == arn);
    let policy_ok = topic
        .and_then(|t| t.policy.as_deref())
        .is_some_and(|p| same_json(p, &want));
    let subscribed = |email: &String| {
        topic.is_some_and(|t| {
            t.subscriptions
                .iter()
                .any(|s| s.protocol == "email" && s.endpoint.as_deref() == Some(email.as_str()))
        })
    };
    let missing: Vec<String> = alerting
        .emails
        .iter()
        .filter(|e| !subscribed(e))
        .cloned()
        .collect();
    if topic.is_some() && policy_ok && missing.is_empty() {
        return;
    }
    let what = match (topic.is_some(), policy_ok) {
        (false, _) => "create the alert SNS topic",
        (true, false) => "restore the policy of the alert SNS topic",
        (true, true) => "subscribe the alert emails to the SNS topic",
    };
    b.add(
        change_id.to_string(),
        id,
        Some(home),
        Action::PutAlertTopic {
            topic: alerting.topic.clone(),
            emails: alerting.emails.clone(),
        },
        format!(
            "{what} {} in the Audit account {id} region {home} (only EventBridge of {id} may publish)",
            alerting.topic
        ),
        vec![],
    );
}

#[allow(clippy::too_many_arguments)]
fn plan_rule(
    alerting: &Alerting,
    r: &RegionSnapshot,
    id: &str,
    home: &str,
    source: Source,
    topic_change: &str,
    b: &mut Builder,
    unobserved: &mut Vec<String>,
    unread: bool,
) {
    let name = source.rule_name();
    if unread {
        unobserved.push(format!(
            "EventBridge rule {name} in {id} region {home} (EventBridge could not be read)"
        ));
        return;
    }
    let pattern = source.pattern(alerting.min_severity).to_string();
    let arn = topic_arn(id, home, &alerting.topic);
    let rule = r.event_rules.iter().find(|x| x.name == name);
    let problem = match rule {
        None => Some("create"),
        Some(x) if !same_json(&x.event_pattern, &pattern) => Some("restore the event pattern of"),
        Some(x) if x.state != "ENABLED" => Some("enable"),
        Some(x) if !x.targets.contains(&arn) => Some("restore the SNS target of"),
        Some(_) => None,
    };
    if let Some(verb) = problem {
        b.add(
            format!("alert-rule:{id}:{home}:{name}"),
            id,
            Some(home),
            Action::PutAlertRule {
                rule: name.clone(),
                event_pattern: pattern,
                topic: alerting.topic.clone(),
            },
            format!(
                "{verb} EventBridge rule {name} in the Audit account {id} region {home}: {} findings at or above {} to SNS topic {}",
                match source {
                    Source::GuardDuty => "GuardDuty",
                    Source::SecurityHub => "Security Hub",
                    Source::AccessAnalyzer => "Access Analyzer",
                },
                alerting.min_severity.name(),
                alerting.topic
            ),
            vec![topic_change.to_string()],
        );
    }
}

#[cfg(test)]
#[path = "alerting_tests.rs"]
pub(crate) mod tests;
