//! Built-in rules, one file per family. Each rule is defined once, with its metadata, its logic
//! and the positive and negative events that test it (`rampart rules test` runs them too).

use crate::alert::Alert;
use crate::ir::{
    ATTEMPT_PREFIX, Cidr, Condition, FieldPath, Items, OnFailure, Outcome, Predicate, Reach, Rule,
    RuleMeta, RuleSource, Severity, StrMatch, StrOp,
};
use crate::runbook::Runbook;
use serde_json::{Value, json};

pub use exposure::{OrgContext, UNKNOWN_MEMBERSHIP};

mod cis;
pub(crate) mod console;
mod exposure;
mod guardduty_like;
mod identity;
mod tamper;

/// Settings built-in rules read from `rampart.toml` (`[detect]`).
#[derive(Debug, Clone)]
pub struct BuiltinConfig {
    /// Regions where API calls are expected; empty disables the region rule.
    pub allowed_regions: Vec<String>,
    /// Networks instance credentials may be used from (VPC CIDRs, NAT and Elastic IPs).
    /// Empty means the private ranges only (calls through VPC endpoints).
    pub instance_networks: Vec<Cidr>,
    /// The organization signs people in through IAM Identity Center: IAM users are unexpected.
    pub uses_sso: bool,
    /// The organization's id and accounts, as far as known: exposure rules judge grants by them.
    pub organization: OrgContext,
}

impl Default for BuiltinConfig {
    fn default() -> Self {
        BuiltinConfig {
            allowed_regions: Vec::new(),
            instance_networks: Vec::new(),
            uses_sso: true,
            organization: OrgContext::default(),
        }
    }
}

/// A built-in rule with its test events.
#[derive(Debug, Clone)]
pub struct Builtin {
    pub rule: Rule,
    /// Events the rule must fire on.
    pub positives: Vec<Value>,
    /// Events the rule must stay silent on.
    pub negatives: Vec<Value>,
    /// Why the rule is not active with this configuration (listed, not loaded).
    pub disabled: Option<String>,
    /// What a responder does about its alert.
    pub runbook: Runbook,
}

/// One rule's definition, as each family file writes it. What it raises for a failed call is
/// its family's default ([`default_on_failure`]) unless the family file sets it with
/// [`Builtin::on_failure`] or [`with_failure_policies`].
pub(crate) struct Def {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub attack: &'static [&'static str],
    pub description: &'static str,
    pub false_positives: &'static [&'static str],
    pub condition: Condition,
    pub positives: Vec<Value>,
    pub negatives: Vec<Value>,
    /// What a responder does about its alert (`rampart runbook ID`, docs/runbooks).
    pub runbook: Runbook,
}

impl Def {
    pub(crate) fn build(self) -> Builtin {
        let meta = RuleMeta {
            attack: self.attack.iter().map(|s| s.to_string()).collect(),
            description: self.description.to_string(),
            false_positives: self.false_positives.iter().map(|s| s.to_string()).collect(),
            author: Some("rampart".to_string()),
            license: Some("Apache-2.0".to_string()),
            on_failure: default_on_failure(self.id),
            ..RuleMeta::new(self.id, RuleSource::Builtin, self.title, self.severity)
        };
        Builtin {
            rule: Rule::new(meta, self.condition),
            positives: self.positives,
            negatives: self.negatives,
            disabled: None,
            runbook: self.runbook,
        }
    }
}

/// What a built-in rule raises for a failed call unless its family file says otherwise, by
/// family: CIS 4.x rules keep CIS's definition (their patterns decide about failures, the
/// alert reports the outcome); GuardDuty-like rules describe the caller (its tooling, place
/// or network), which is as true of a refused call; every other family (tampering, identity,
/// and families added later) raises a failed call as an attempt one severity lower, never as
/// the action.
pub(crate) fn default_on_failure(id: &str) -> OnFailure {
    if id.starts_with("RD-CIS-") || id.starts_with("RD-GD-") {
        OnFailure::Report
    } else {
        OnFailure::Attempt { lower: 1 }
    }
}

impl Builtin {
    /// Sets what the rule raises for a failed call, instead of its family's default.
    pub(crate) fn on_failure(mut self, policy: OnFailure) -> Builtin {
        self.rule.meta.on_failure = policy;
        self
    }
}

/// Gives each rule named in `policies` its own failure policy ([`Builtin::on_failure`]).
/// Every id named must be one of `rules` (a misspelt id fails the build's tests).
pub(crate) fn with_failure_policies(
    rules: Vec<Builtin>,
    policies: &[(&str, OnFailure)],
) -> Vec<Builtin> {
    debug_assert!(
        policies
            .iter()
            .all(|(id, _)| rules.iter().any(|b| b.rule.meta.id == *id)),
        "a failure policy names a rule that is not in its family"
    );
    rules
        .into_iter()
        .map(
            |b| match policies.iter().find(|(id, _)| b.rule.meta.id == *id) {
                Some(&(_, p)) => b.on_failure(p),
                None => b,
            },
        )
        .collect()
}

/// Every built-in rule, active or disabled by `cfg`, in catalogue order.
pub fn builtin(cfg: &BuiltinConfig) -> Vec<Builtin> {
    let mut v = cis::rules();
    v.extend(tamper::rules());
    v.extend(identity::rules(cfg));
    v.extend(guardduty_like::rules(cfg));
    v.extend(exposure::rules(&cfg.organization));
    v
}

// ---------------------------------------------------------------------------- helpers for rule files

/// `eventSource = source AND eventName ∈ names`.
pub(crate) fn api(source: &str, names: &[&str]) -> Condition {
    Condition::All(vec![
        Condition::eq("eventSource", source),
        Condition::one_of("eventName", names),
    ])
}

/// A CloudWatch filter pattern (CIS wording) as a condition.
pub(crate) fn pattern(text: &str) -> Condition {
    Condition::Pattern(Box::new(
        rampart_pattern::FilterPattern::parse(text).expect("built-in filter pattern parses"),
    ))
}

/// A console sign-in that failed (`responseElements.ConsoleLogin` is `Failure`, or AWS wrote an
/// `errorMessage` such as "Failed authentication"): it signed nobody in.
pub(crate) fn failed_console_login() -> Condition {
    Condition::All(vec![
        Condition::eq("eventName", "ConsoleLogin"),
        Condition::Any(vec![
            Condition::eq("responseElements.ConsoleLogin", "Failure"),
            Condition::field("errorMessage", Predicate::Exists(true)),
        ]),
    ])
}

pub(crate) fn str_pred(op: StrOp, needle: &str, ci: bool) -> Predicate {
    Predicate::Str(StrMatch::new(op, needle, ci))
}

/// `field` equals `value`, ignoring case.
pub(crate) fn ci(field: &str, value: &str) -> Condition {
    Condition::field(field, str_pred(StrOp::Equals, value, true))
}

/// Some value `path` reaches, or some element of it when it is an array, passes `pred`: policy
/// elements such as `Action`, `Principal.AWS` or a condition's values are a string or an array
/// of them, and a `Match` does not look into an array it ends on.
pub(crate) fn some_value(path: &str, pred: Predicate) -> Condition {
    Condition::any_item(path, Items::Elements, Condition::itself(pred))
}

pub(crate) fn anywhere(field: &str, pred: Predicate) -> Condition {
    Condition::Match {
        field: FieldPath::parse(field).expect("static path"),
        reach: Reach::Anywhere,
        pred,
    }
}

/// A realistic event for tests: an IAM user calling `name` on `source`, with `extra` merged in.
pub(crate) fn ev(source: &str, name: &str, extra: Value) -> Value {
    let mut base = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE", "userName": "alice"},
        "eventTime": "2024-07-31T13:06:24Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0",
        "requestParameters": null,
        "responseElements": null,
        "eventID": "00000000-0000-4000-8000-000000000001",
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    });
    merge(&mut base, extra);
    base
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (a, b) => *a = b,
    }
}

/// The alert `rule` raises on `event` when run through a one-rule detector (index, failure
/// policy and all, without aggregation); `None` when it raises nothing.
pub fn alert_on(rule: &Rule, event: &Value) -> Option<Alert> {
    let raw = serde_json::to_vec(event).unwrap_or_default();
    let engine = crate::engine::Engine::new(vec![rule.clone()]);
    let mut det = crate::detector::Detector::new(&engine, 0);
    let mut out = Vec::new();
    det.process(&raw, &String::new, &mut out).ok()?;
    out.into_iter().next()
}

/// Whether `rule` raises an alert on `event` ([`alert_on`]).
pub fn fires(rule: &Rule, event: &Value) -> bool {
    alert_on(rule, event).is_some()
}

/// The same call as `event`, failed: refused with `AccessDenied`, or for a console sign-in a
/// `Failure` response (failed sign-ins carry no error code).
pub fn failed_twin(event: &Value) -> Value {
    let mut e = event.clone();
    if e["eventName"] == "ConsoleLogin" {
        merge(
            &mut e,
            json!({"errorMessage": "Failed authentication", "responseElements": {"ConsoleLogin": "Failure"}}),
        );
    } else {
        merge(
            &mut e,
            json!({"errorCode": "AccessDenied", "errorMessage": "User is not authorized to perform this operation", "responseElements": null}),
        );
    }
    e
}

/// What is wrong with the alert `rule` raised (or not) on the failed call `event`, by the
/// rule's failure policy; `None` when it is right. `must_fire`: an attempt rule must raise.
fn check_failure(rule: &Rule, event: &Value, must_fire: bool) -> Option<String> {
    let m = &rule.meta;
    let alert = alert_on(rule, event);
    match (m.on_failure, alert) {
        (OnFailure::Silent, Some(_)) => Some("raised an alert (policy: silent)".into()),
        (OnFailure::Silent, None) | (OnFailure::Report, None) => None,
        (OnFailure::Attempt { .. }, None) => {
            must_fire.then(|| "raised no attempt alert".to_string())
        }
        (policy, Some(a)) => {
            let (title, severity) = match policy {
                OnFailure::Attempt { lower } => (
                    format!("{ATTEMPT_PREFIX}{}", m.title),
                    m.severity.lowered(lower),
                ),
                _ => (m.title.clone(), m.severity),
            };
            (a.outcome() != Outcome::Failure || a.title() != title || a.severity() != severity)
                .then(|| {
                    format!(
                        "raised `{}` ({}, outcome {}), expected `{title}` ({})",
                        a.title(),
                        a.severity().as_str(),
                        a.outcome().as_str(),
                        severity.as_str()
                    )
                })
        }
    }
}

/// Run every built-in rule's own test events; returns one line per failure. A positive must
/// raise an alert and a negative must not, by the rule's failure policy for failed calls
/// (a failed positive of an attempt rule raises its "Attempted" alert, one of a silent rule
/// is a negative); and the failed twin of every successful positive ([`failed_twin`]) must
/// raise what the policy says: the attempt alert, nothing (silent), or for a rule that
/// reports failures as it is, whatever its definition says, with outcome `failure`.
pub fn self_test(rules: &[Builtin]) -> Vec<String> {
    let mut failures = Vec::new();
    for b in rules.iter().filter(|b| b.disabled.is_none()) {
        let id = &b.rule.meta.id;
        for (i, p) in b.positives.iter().enumerate() {
            let n = i + 1;
            let Some(a) = alert_on(&b.rule, p) else {
                failures.push(format!("{id}: positive event #{n} did not fire"));
                continue;
            };
            if a.outcome() == Outcome::Failure {
                if let Some(why) = check_failure(&b.rule, p, true) {
                    failures.push(format!("{id}: positive event #{n} (a failed call) {why}"));
                }
            } else if let Some(why) = check_failure(&b.rule, &failed_twin(p), true) {
                failures.push(format!(
                    "{id}: the failed twin of positive event #{n} {why}"
                ));
            }
        }
        for (i, n) in b.negatives.iter().enumerate() {
            if fires(&b.rule, n) {
                failures.push(format!("{id}: negative event #{} fired", i + 1));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Builtin> {
        let cfg = BuiltinConfig {
            // us-east-1 is deliberately not allowed: global services logged there must not fire.
            allowed_regions: vec!["eu-west-1".into()],
            instance_networks: vec![Cidr::parse("203.0.113.0/24").unwrap()],
            uses_sso: true,
            organization: OrgContext::default(),
        };
        builtin(&cfg)
    }

    #[test]
    fn every_rule_fires_on_positives_and_not_on_negatives() {
        let rules = all();
        let failures = self_test(&rules);
        assert!(failures.is_empty(), "{failures:#?}");
        for b in &rules {
            assert!(
                !b.positives.is_empty() && !b.negatives.is_empty(),
                "{} needs both kinds of test events",
                b.rule.meta.id
            );
            assert!(b.disabled.is_none());
        }
    }

    #[test]
    fn metadata_complete_and_ids_unique() {
        let rules = all();
        let mut ids = std::collections::HashSet::new();
        for b in &rules {
            let m = &b.rule.meta;
            assert!(ids.insert(m.id.clone()), "duplicate id {}", m.id);
            assert!(
                !m.title.is_empty() && !m.description.is_empty() && !m.false_positives.is_empty(),
                "{}",
                m.id
            );
            assert!(
                m.attack.iter().all(|t| t.starts_with('T')) && !m.attack.is_empty(),
                "{}",
                m.id
            );
        }
        assert!(rules.len() >= 39, "{}", rules.len());
    }

    /// The event names a condition tests `eventName` against (outside a `not`).
    fn named_events(c: &Condition, out: &mut Vec<String>) {
        match c {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| named_events(c, out)),
            Condition::Match {
                field,
                pred: Predicate::OneOf { values, .. },
                ..
            } if field.as_str() == "eventName" => out.extend(values.iter().cloned()),
            _ => {}
        }
    }

    /// A rule that names an API has a positive event calling it: an event name that never
    /// fires in a test may be misspelt, or sit in a branch whose other tests can never hold.
    #[test]
    fn every_event_name_a_rule_lists_has_a_positive() {
        let mut missing = Vec::new();
        for b in all() {
            let mut names = Vec::new();
            named_events(&b.rule.condition, &mut names);
            for n in names {
                if !b.positives.iter().any(|p| p["eventName"] == n.as_str()) {
                    missing.push(format!("{} {n}", b.rule.meta.id));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// The self-test holds each rule's alerts on failed calls to its policy: RD-TAMPER-001
    /// made silent fails on its refused `StopLogging` positive; under `report` or another
    /// attempt level the expected alert follows the policy.
    #[test]
    fn self_test_checks_the_failure_policy() {
        let tamper = || {
            all()
                .into_iter()
                .find(|b| b.rule.meta.id == "RD-TAMPER-001")
                .expect("listed")
        };
        assert!(self_test(&[tamper()]).is_empty());
        let silent = self_test(&[tamper().on_failure(OnFailure::Silent)]);
        assert_eq!(silent, ["RD-TAMPER-001: positive event #3 did not fire"]);
        for p in [OnFailure::Report, OnFailure::Attempt { lower: 2 }] {
            assert!(self_test(&[tamper().on_failure(p)]).is_empty(), "{p:?}");
        }
    }

    /// Each built-in rule's failure policy is the one docs/detect.md ("Failed calls") gives.
    #[test]
    fn failure_policies_are_the_documented_ones() {
        for b in all() {
            let id = b.rule.meta.id.as_str();
            let want = match id {
                "RD-IAM-007" | "RD-IAM-008" => OnFailure::Silent,
                "RD-GD-001" | "RD-GD-003" => OnFailure::Report,
                _ if id.starts_with("RD-CIS-") => OnFailure::Report,
                _ => OnFailure::Attempt { lower: 1 },
            };
            assert_eq!(b.rule.meta.on_failure, want, "{id}");
        }
    }

    fn disabled(rules: &[Builtin], id: &str) -> Option<String> {
        let b = rules
            .iter()
            .find(|b| b.rule.meta.id == id)
            .expect("rule listed");
        b.disabled.clone()
    }

    #[test]
    fn region_rule_disabled_without_allowed_regions() {
        let rules = builtin(&BuiltinConfig::default());
        let why = disabled(&rules, "RD-GD-002").expect("disabled");
        assert!(
            why.contains("[detect]") && why.contains("--allowed-regions"),
            "{why}"
        );
        assert_eq!(rules.iter().filter(|b| b.disabled.is_some()).count(), 1);
    }

    /// Instance credentials used from a NAT or Elastic IP listed in `instance_networks` are the
    /// instance's own calls; from any other public address they alert. (Not a test event of
    /// the rule: `rampart rules test` runs those with the user's configuration.)
    #[test]
    fn instance_networks_silence_the_instance_rule() {
        let instance = |cfg: &BuiltinConfig, ip: &str| {
            let b = builtin(cfg)
                .into_iter()
                .find(|b| b.rule.meta.id == "RD-GD-003")
                .expect("listed");
            let e = ev(
                "ssm.amazonaws.com",
                "UpdateInstanceInformation",
                json!({
                "sourceIPAddress": ip,
                "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/web/i-0abc123def4567890",
                    "accessKeyId": "ASIAEXAMPLE", "userName": null}}),
            );
            fires(&b.rule, &e)
        };
        let with_nat = BuiltinConfig {
            instance_networks: vec![Cidr::parse("203.0.113.0/24").unwrap()],
            ..BuiltinConfig::default()
        };
        assert!(!instance(&with_nat, "203.0.113.25"));
        assert!(instance(&with_nat, "198.51.100.9"));
        assert!(instance(&BuiltinConfig::default(), "203.0.113.25"));
        for service in ["ssm.amazonaws.com", "AWS Internal"] {
            assert!(!instance(&BuiltinConfig::default(), service));
        }
    }

    /// Without SSO the IAM-user rule is still listed, disabled with the reason.
    #[test]
    fn sso_rule_listed_disabled_when_sso_is_not_used() {
        let cfg = |uses_sso| BuiltinConfig {
            uses_sso,
            ..BuiltinConfig::default()
        };
        let with = builtin(&cfg(true));
        let without = builtin(&cfg(false));
        assert_eq!(with.len(), without.len());
        assert_eq!(disabled(&with, "RD-IAM-007"), None);
        let why = disabled(&without, "RD-IAM-007").expect("disabled");
        assert!(why.contains("uses_sso"), "{why}");
    }
}
