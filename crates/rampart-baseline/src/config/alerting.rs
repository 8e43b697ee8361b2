//! `[alerting]`: central alerting inside AWS. EventBridge rules in the Audit account send
//! GuardDuty, Security Hub and Access Analyzer findings at or above `min_severity` to an SNS
//! topic, so alerts reach people even when rampart is not running.

use serde::Deserialize;

/// The lowest severity that raises an alert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    #[default]
    High,
    Critical,
}

impl Severity {
    /// Security Hub's `Severity.Label` values at or above this one.
    pub fn security_hub_labels(self) -> Vec<&'static str> {
        [
            (Severity::Low, "LOW"),
            (Severity::Medium, "MEDIUM"),
            (Severity::High, "HIGH"),
            (Severity::Critical, "CRITICAL"),
        ]
        .into_iter()
        .filter(|(s, _)| *s >= self)
        .map(|(_, l)| l)
        .collect()
    }

    /// The lowest GuardDuty numeric severity of this level (GuardDuty: low 1.0–3.9, medium
    /// 4.0–6.9, high 7.0–8.9, critical 9.0–10.0).
    pub fn guardduty_floor(self) -> u32 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 4,
            Severity::High => 7,
            Severity::Critical => 9,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alerting {
    /// `low`, `medium`, `high` or `critical`.
    #[serde(default)]
    pub min_severity: Severity,
    /// SNS topic in the Audit account's home region that the rules publish to.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Email addresses subscribed to the topic (each must confirm).
    #[serde(default)]
    pub emails: Vec<String>,
    /// Security Hub's cross-region finding aggregator in the home region, linking the other
    /// allowed regions (their findings then reach the home region's rules).
    #[serde(default = "yes")]
    pub finding_aggregator: bool,
    /// Existing accounts made Security Hub members of the Audit account.
    #[serde(default = "yes")]
    pub members: bool,
}

fn default_topic() -> String {
    "rampart-alerts".into()
}

fn yes() -> bool {
    true
}

impl Alerting {
    /// `(text to point at, message)` for the first invalid setting.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        let ok = !self.topic.is_empty()
            && self.topic.len() <= 256
            && self
                .topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err((
                self.topic.clone(),
                format!(
                    "alerting.topic `{}` is not an SNS topic name (letters, digits, - and _, at most 256)",
                    self.topic
                ),
            ));
        }
        if let Some(e) = self.emails.iter().find(|e| !e.contains('@')) {
            return Err((e.clone(), format!("alerting.emails: `{e}` is not an email")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_floors_follow_the_order() {
        assert_eq!(Severity::High.security_hub_labels(), ["HIGH", "CRITICAL"]);
        assert_eq!(
            Severity::Low.security_hub_labels(),
            ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
        );
        assert_eq!(Severity::Critical.security_hub_labels(), ["CRITICAL"]);
        assert!(Severity::Medium.guardduty_floor() < Severity::High.guardduty_floor());
    }

    #[test]
    fn defaults_and_bad_values() {
        let a: Alerting = toml::from_str("").unwrap();
        assert_eq!(a.min_severity, Severity::High);
        assert_eq!(a.topic, "rampart-alerts");
        assert!(a.finding_aggregator && a.members);
        assert!(toml::from_str::<Alerting>("min_severity = \"severe\"").is_err());
        let bad: Alerting = toml::from_str("topic = \"a b\"").unwrap();
        assert!(bad.check().unwrap_err().1.contains("not an SNS topic name"));
    }
}
