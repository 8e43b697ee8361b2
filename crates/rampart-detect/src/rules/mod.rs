//! Built-in rules, one file per family. Each rule is defined once, with its metadata, its logic
//! and the positive and negative events that test it (`rampart rules test` runs them too).

use crate::ir::{
    Cidr, Condition, FieldPath, Items, Predicate, Reach, Rule, RuleMeta, RuleSource, Severity,
    StrMatch, StrOp,
};
use serde_json::{Value, json};

mod cis;
pub(crate) mod console;
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
}

impl Default for BuiltinConfig {
    fn default() -> Self {
        BuiltinConfig {
            allowed_regions: Vec::new(),
            instance_networks: Vec::new(),
            uses_sso: true,
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
}

/// One rule's definition, as each family file writes it.
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
}

impl Def {
    pub(crate) fn build(self) -> Builtin {
        let meta = RuleMeta {
            attack: self.attack.iter().map(|s| s.to_string()).collect(),
            description: self.description.to_string(),
            false_positives: self.false_positives.iter().map(|s| s.to_string()).collect(),
            author: Some("rampart".to_string()),
            license: Some("Apache-2.0".to_string()),
            ..RuleMeta::new(self.id, RuleSource::Builtin, self.title, self.severity)
        };
        Builtin {
            rule: Rule::new(meta, self.condition),
            positives: self.positives,
            negatives: self.negatives,
            disabled: None,
        }
    }
}

/// Every built-in rule, active or disabled by `cfg`, in catalogue order.
pub fn builtin(cfg: &BuiltinConfig) -> Vec<Builtin> {
    let mut v = cis::rules();
    v.extend(tamper::rules());
    v.extend(identity::rules(cfg));
    v.extend(guardduty_like::rules(cfg));
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

/// The call succeeded: CloudTrail records no `errorCode` (a refused call changed nothing; CIS
/// 4.1 reports refusals).
pub(crate) fn succeeded() -> Condition {
    Condition::field("errorCode", Predicate::Exists(false))
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

/// Whether `rule` fires on `event` when run through a one-rule engine (index included).
pub fn fires(rule: &Rule, event: &Value) -> bool {
    let raw = serde_json::to_vec(event).unwrap_or_default();
    let Ok(e) = crate::event::Event::parse(&raw) else {
        return false;
    };
    let engine = crate::engine::Engine::new(vec![rule.clone()]);
    let mut hit = false;
    engine.evaluate(&e, &mut Default::default(), |_| hit = true);
    hit
}

/// Run every built-in rule's own test events; returns one line per failure.
pub fn self_test(rules: &[Builtin]) -> Vec<String> {
    let mut failures = Vec::new();
    for b in rules.iter().filter(|b| b.disabled.is_none()) {
        for (i, p) in b.positives.iter().enumerate() {
            if !fires(&b.rule, p) {
                failures.push(format!(
                    "{}: positive event #{} did not fire",
                    b.rule.meta.id,
                    i + 1
                ));
            }
        }
        for (i, n) in b.negatives.iter().enumerate() {
            if fires(&b.rule, n) {
                failures.push(format!(
                    "{}: negative event #{} fired",
                    b.rule.meta.id,
                    i + 1
                ));
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
