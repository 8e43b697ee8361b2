//! The alerting planner over fixtures: in place plans nothing; each out-of-band change (a rule
//! deleted, its pattern changed, its target removed, the topic policy weakened, an aggregator
//! region unlinked, a member gone) plans exactly its repair; the topic policy is proved with the
//! policy engine; the whole thing converges through the in-process model.

use super::*;
use crate::apply::fake::SnapshotEffects;
use crate::apply::{ApplyOptions, AuditLog, execute};
use crate::plan::plan;
use crate::plan::tests::{config, converged};
use proptest::prelude::*;
use rampart_policy::{ContextValue, Decision, PolicySet, Request, evaluate, parse_policy};
use rampart_snapshot::*;

/// Puts what `[alerting]` wants into the Audit account's home region of `snap`.
pub(crate) fn in_place(cfg: &Config, snap: &mut Snapshot) {
    let Some(alerting) = &cfg.alerting else {
        return;
    };
    let org = snap.organization.clone().unwrap();
    let Some(audit) = org
        .accounts
        .iter()
        .find(|a| a.name == cfg.organization.audit_account)
    else {
        return;
    };
    let home = cfg.organization.allowed_regions[0].clone();
    let members: Vec<String> = org
        .accounts
        .iter()
        .filter(|a| a.id != audit.id && a.status == "ACTIVE")
        .map(|a| a.id.clone())
        .collect();
    let acct = snap
        .accounts
        .iter_mut()
        .find(|a| a.account_id == audit.id)
        .unwrap();
    let r = acct.regions.iter_mut().find(|r| r.region == home).unwrap();
    let arn = topic_arn(&audit.id, &home, &alerting.topic);
    r.sns_topics.push(SnsTopic {
        arn: arn.clone(),
        subscriptions: alerting
            .emails
            .iter()
            .map(|e| SnsSubscription {
                arn: format!("{arn}:1"),
                protocol: "email".into(),
                confirmed: true,
                endpoint: Some(e.clone()),
            })
            .collect(),
        policy: Some(topic_policy(&audit.id, &home, &alerting.topic)),
    });
    for s in Source::ALL {
        r.event_rules.push(EventRule {
            name: s.rule_name(),
            arn: String::new(),
            event_pattern: s.pattern(alerting.min_severity).to_string(),
            state: "ENABLED".into(),
            targets: vec![arn.clone()],
        });
    }
    let hub = r.securityhub.get_or_insert_with(Default::default);
    hub.finding_aggregator = Some(FindingAggregator {
        arn: "arn:aws:securityhub:eu-west-1:1:finding-aggregator/x".into(),
        region_linking_mode: "SPECIFIED_REGIONS".into(),
        regions: cfg.organization.allowed_regions[1..].to_vec(),
    });
    hub.members = Some(members);
}

fn audit_region<'a>(cfg: &Config, snap: &'a mut Snapshot) -> (String, &'a mut RegionSnapshot) {
    let audit = snap
        .organization
        .as_ref()
        .unwrap()
        .accounts
        .iter()
        .find(|a| a.name == cfg.organization.audit_account)
        .unwrap()
        .id
        .clone();
    let home = cfg.organization.allowed_regions[0].clone();
    let r = snap
        .accounts
        .iter_mut()
        .find(|a| a.account_id == audit)
        .unwrap()
        .regions
        .iter_mut()
        .find(|r| r.region == home)
        .unwrap();
    (audit, r)
}

fn ids(cfg: &Config, snap: &Snapshot) -> Vec<String> {
    plan(cfg, snap)
        .unwrap()
        .changes
        .into_iter()
        .map(|c| c.id)
        .collect()
}

#[test]
fn in_place_plans_nothing_and_init_turns_alerting_on() {
    let cfg = config();
    let a = cfg.alerting.as_ref().expect("init writes [alerting]");
    assert_eq!(a.min_severity, Severity::High);
    assert_eq!(a.topic, "rampart-alerts");
    assert_eq!(ids(&cfg, &converged(&cfg)), Vec::<String>::new());
}

#[test]
fn each_drift_plans_exactly_its_repair() {
    let cfg = config();
    let base = converged(&cfg);
    let mut snap = base.clone();
    let (audit, _) = audit_region(&cfg, &mut snap);
    let rule = |s: Source| format!("alert-rule:{audit}:eu-west-1:{}", s.rule_name());
    type Mutate = Box<dyn Fn(&mut RegionSnapshot)>;
    let cases: Vec<(&str, Mutate, Vec<String>)> = vec![
        (
            "rule deleted",
            Box::new(|r| {
                r.event_rules
                    .retain(|x| x.name != Source::GuardDuty.rule_name())
            }),
            vec![rule(Source::GuardDuty)],
        ),
        (
            "pattern widened",
            Box::new(|r| {
                r.event_rules[1].event_pattern = r#"{"source":["aws.securityhub"]}"#.into()
            }),
            vec![rule(Source::SecurityHub)],
        ),
        (
            "target removed",
            Box::new(|r| r.event_rules[2].targets.clear()),
            vec![rule(Source::AccessAnalyzer)],
        ),
        (
            "rule disabled",
            Box::new(|r| r.event_rules[0].state = "DISABLED".into()),
            vec![rule(Source::GuardDuty)],
        ),
        (
            "topic policy weakened",
            Box::new(|r| {
                r.sns_topics[0].policy = Some(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"}]}"#.into(),
                )
            }),
            vec![format!("alert-topic:{audit}:eu-west-1")],
        ),
        (
            "aggregator region unlinked",
            Box::new(|r| {
                r.securityhub
                    .as_mut()
                    .unwrap()
                    .finding_aggregator
                    .as_mut()
                    .unwrap()
                    .regions
                    .clear()
            }),
            vec![format!("finding-aggregator:{audit}:eu-west-1")],
        ),
        (
            "member removed",
            Box::new(|r| {
                r.securityhub
                    .as_mut()
                    .unwrap()
                    .members
                    .as_mut()
                    .unwrap()
                    .pop();
            }),
            vec![format!("securityhub-members:{audit}:eu-west-1")],
        ),
    ];
    for (what, change, want) in cases {
        let mut s = base.clone();
        change(audit_region(&cfg, &mut s).1);
        assert_eq!(ids(&cfg, &s), want, "{what}");
    }
    // The repair of an aggregator carries its ARN (an update, not a second aggregator).
    let mut s = base.clone();
    audit_region(&cfg, &mut s)
        .1
        .securityhub
        .as_mut()
        .unwrap()
        .finding_aggregator
        .as_mut()
        .unwrap()
        .regions
        .clear();
    let p = plan(&cfg, &s).unwrap();
    assert!(matches!(
        &p.changes[0].action,
        Action::PutFindingAggregator { aggregator_arn: Some(_), regions } if regions == &["eu-central-1".to_string()]
    ));
}

#[test]
fn unreadable_state_is_unobserved_not_planned() {
    let cfg = config();
    let mut s = converged(&cfg);
    let (audit, r) = audit_region(&cfg, &mut s);
    r.event_rules.clear();
    r.errors.push(CollectionError {
        account_id: audit.clone(),
        api: "events:ListRules".into(),
        code: "AccessDenied".into(),
        ..Default::default()
    });
    let p = plan(&cfg, &s).unwrap();
    assert!(p.changes.is_empty(), "{}", p.to_text());
    assert_eq!(
        p.unobserved
            .iter()
            .filter(|u| u.contains("EventBridge could not be read"))
            .count(),
        3
    );
}

#[test]
fn severity_shapes_the_patterns_and_no_alerting_section_plans_nothing() {
    let cfg = config();
    let gd = Source::GuardDuty.pattern(Severity::Medium);
    assert_eq!(gd["detail"]["severity"][0]["numeric"][1], 4);
    assert_eq!(gd["detail-type"][0], "GuardDuty Finding");
    let sh = Source::SecurityHub.pattern(Severity::Critical);
    assert_eq!(
        sh["detail"]["findings"]["Severity"]["Label"],
        json!(["CRITICAL"])
    );
    assert_eq!(sh["detail-type"][0], "Security Hub Findings - Imported");
    let aa = Source::AccessAnalyzer.pattern(Severity::High);
    assert_eq!(aa["detail"]["isPublic"], json!([true]));
    assert!(Source::AccessAnalyzer.pattern(Severity::Low)["detail"]["isPublic"].is_null());
    // Changing the severity re-puts the three rules.
    let mut lower = cfg.clone();
    lower.alerting.as_mut().unwrap().min_severity = Severity::Medium;
    assert_eq!(
        ids(&lower, &converged(&cfg))
            .iter()
            .filter(|i| i.starts_with("alert-rule:"))
            .count(),
        3
    );
    let mut off = cfg.clone();
    off.alerting = None;
    let mut s = converged(&off);
    audit_region(&off, &mut s).1.event_rules.clear();
    assert!(ids(&off, &s).is_empty());
}

/// `account`'s topic policy decides a publish by `principal`, with `source` as the caller's
/// aws:SourceAccount / aws:SourceArn (service principals only).
fn publish(
    account: &str,
    principal: &str,
    principal_account: Option<&str>,
    source: Option<(&str, &str)>,
) -> Decision {
    let region = "eu-west-1";
    let policy = parse_policy(&topic_policy(account, region, "rampart-alerts")).unwrap();
    let mut req = Request {
        action: "sns:Publish".into(),
        resource: topic_arn(account, region, "rampart-alerts"),
        resource_account: Some(account.into()),
        principal: Some(principal.into()),
        principal_account: principal_account.map(str::to_string),
        ..Request::default()
    };
    if let Some((acct, arn)) = source {
        req.context.insert(
            "aws:SourceAccount".into(),
            ContextValue::String(acct.into()),
        );
        req.context
            .insert("aws:SourceArn".into(), ContextValue::String(arn.into()));
    }
    let set = PolicySet {
        resource: Some(policy),
        ..PolicySet::default()
    };
    evaluate(&req, &set).decision
}

proptest! {
    /// Only EventBridge, for rampart's rules of the topic's own account, may publish: another
    /// account's rules, another rule, and any IAM principal (even of the same account, whatever
    /// its own policies grant) are refused.
    #[test]
    fn the_topic_policy_admits_only_eventbridge_of_its_account(
        account in "[0-9]{12}",
        other in "[0-9]{12}",
        rule in "[a-z]{1,12}",
    ) {
        prop_assume!(account != other);
        let ours = format!("arn:aws:events:eu-west-1:{account}:rule/{RULE_PREFIX}{rule}");
        let theirs = format!("arn:aws:events:eu-west-1:{other}:rule/{RULE_PREFIX}{rule}");
        let foreign_rule = format!("arn:aws:events:eu-west-1:{account}:rule/x{rule}");
        prop_assert_eq!(
            publish(&account, "events.amazonaws.com", None, Some((&account, &ours))),
            Decision::Allowed
        );
        prop_assert_ne!(
            publish(&account, "events.amazonaws.com", None, Some((&other, &theirs))),
            Decision::Allowed
        );
        prop_assert_ne!(
            publish(&account, "events.amazonaws.com", None, Some((&account, &foreign_rule))),
            Decision::Allowed
        );
        prop_assert_eq!(
            publish(&account, "cloudwatch.amazonaws.com", None, Some((&other, &ours))),
            Decision::ExplicitlyDenied
        );
        let user = format!("arn:aws:iam::{account}:user/someone");
        prop_assert_eq!(
            publish(&account, &user, Some(&account), None),
            Decision::ExplicitlyDenied
        );
        let outsider = format!("arn:aws:iam::{other}:root");
        prop_assert_eq!(
            publish(&account, &outsider, Some(&other), None),
            Decision::ExplicitlyDenied
        );
    }
}

#[test]
fn alerting_converges_on_the_model_and_a_deleted_rule_is_repaired() {
    let cfg = config();
    let mut start = converged(&cfg);
    {
        let (_, r) = audit_region(&cfg, &mut start);
        r.event_rules.clear();
        r.sns_topics.clear();
        let hub = r.securityhub.as_mut().unwrap();
        hub.finding_aggregator = None;
        hub.members = Some(Vec::new());
    }
    let fx = SnapshotEffects::new(start, &cfg);
    let log = AuditLog::counting();
    let first = plan(&cfg, &fx.snapshot()).unwrap();
    // Topic, three rules, aggregator, members.
    assert_eq!(first.changes.len(), 6, "{}", first.to_text());
    let r = execute(&first, &fx, &log, &ApplyOptions { concurrency: 4 });
    assert!(r.is_complete(), "{}", r.to_text());
    assert!(plan(&cfg, &fx.snapshot()).unwrap().changes.is_empty());

    let mut drifted = fx.snapshot();
    audit_region(&cfg, &mut drifted)
        .1
        .event_rules
        .retain(|x| x.name != Source::SecurityHub.rule_name());
    let fx = SnapshotEffects::new(drifted, &cfg);
    let p = plan(&cfg, &fx.snapshot()).unwrap();
    assert_eq!(p.changes.len(), 1);
    assert!(
        matches!(&p.changes[0].action, Action::PutAlertRule { rule, .. } if *rule == Source::SecurityHub.rule_name())
    );
    assert!(execute(&p, &fx, &log, &ApplyOptions { concurrency: 1 }).is_complete());
    assert!(plan(&cfg, &fx.snapshot()).unwrap().changes.is_empty());
}
