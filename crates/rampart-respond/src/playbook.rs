//! `[respond]` in rampart.toml: the playbook mapping rules and finding types to actions, each
//! with a mode, and where the audit log goes.

use crate::action::{Action, Reversible};
use crate::plan::Plan;
use crate::target::Target;
use rampart_detect::Alert;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How far a playbook entry goes on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The alert carries the exact command; a person runs it.
    #[default]
    Suggest,
    /// `rampart respond ALERT_ID --approve` runs it.
    Approve,
    /// `rampart detect` runs it as soon as the alert is raised (safe, reversible actions only).
    Auto,
}

/// One `[[respond.playbook]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Glob over rampart's own rule ids (`RD-TAMPER-*`).
    pub rule: Option<String>,
    /// Glob over finding types of the security services (`UnauthorizedAccess:IAMUser/*`).
    pub finding_type: Option<String>,
    pub action: Action,
    #[serde(default)]
    pub mode: Mode,
}

/// The `[respond]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondConfig {
    #[serde(default)]
    pub playbook: Vec<Entry>,
    /// The JSON Lines audit log of every action (default `rampart-respond.jsonl` beside
    /// rampart.toml).
    pub audit_log: Option<PathBuf>,
}

/// Rule sources that are rampart's own detections; any other source is a service's finding.
const OWN_SOURCES: &[&str] = &["builtin", "sigma", "pattern", "baseline"];

impl RespondConfig {
    /// Reads `[respond]` from rampart.toml's text (absent: no playbook) and checks it.
    pub fn from_toml(text: &str, file: &str) -> Result<RespondConfig, String> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            respond: RespondConfig,
        }
        let f: File =
            toml::from_str(text).map_err(|e| format!("{file}: [respond]: {}", e.message()))?;
        f.respond.check().map_err(|e| format!("{file}: {e}"))?;
        Ok(f.respond)
    }

    fn check(&self) -> Result<(), String> {
        for (i, e) in self.playbook.iter().enumerate() {
            let n = i + 1;
            if e.rule.is_some() == e.finding_type.is_some() {
                return Err(format!(
                    "[[respond.playbook]] entry {n}: give exactly one of `rule` or `finding_type`"
                ));
            }
            if e.mode == Mode::Auto && !e.action.safe_for_auto() {
                let why = match e.action.reversible() {
                    Reversible::No(r) => r,
                    Reversible::Yes => "it can break a working service on a false positive",
                };
                return Err(format!(
                    "[[respond.playbook]] entry {n}: `{}` cannot run in mode \"auto\" ({why}); use \"approve\"",
                    e.action
                ));
            }
        }
        Ok(())
    }

    /// The entries matching `alert`, one plan per action (the first entry naming an action wins).
    pub fn plans_for(&self, alert: &Alert) -> Vec<Plan> {
        let source = alert.rule_source().to_string();
        let own = OWN_SOURCES.contains(&source.as_str());
        let mut out: Vec<Plan> = Vec::new();
        for e in &self.playbook {
            let pattern = if own { &e.rule } else { &e.finding_type };
            let Some(p) = pattern else { continue };
            if !rampart_detect::ir::glob_match(p.as_bytes(), alert.rule_id().as_bytes()) {
                continue;
            }
            if out.iter().any(|p| p.action == e.action) {
                continue;
            }
            out.push(Plan {
                alert_id: Some(alert.id()),
                action: e.action,
                mode: e.mode,
                account: alert.account().unwrap_or_default().to_string(),
                region: alert.region().unwrap_or("us-east-1").to_string(),
                target: Target::from_alert(e.action, alert),
            });
        }
        out
    }

    /// The line added to an alert's message: the exact command for each matching entry.
    pub fn message_line(&self, alert: &Alert) -> Option<String> {
        let lines: Vec<String> = self
            .plans_for(alert)
            .iter()
            .map(|p| match p.mode {
                Mode::Auto => format!("respond (auto): {} on {}", p.action, p.target_text()),
                _ => format!("respond: {}", p.command()),
            })
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::tests::alert;
    use serde_json::json;

    const TOML: &str = r#"
[organization]
role_name = "X"
[[respond.playbook]]
rule = "RD-TAMPER-*"
action = "restart-logging"
mode = "auto"
[[respond.playbook]]
rule = "RD-TAMPER-*"
action = "quarantine"
mode = "approve"
[[respond.playbook]]
finding_type = "UnauthorizedAccess:IAMUser/*"
action = "quarantine"
"#;

    #[test]
    fn rules_and_modes_match() {
        let cfg = RespondConfig::from_toml(TOML, "rampart.toml").unwrap();
        let a = alert(json!({
            "rule_id": "RD-TAMPER-001", "event_source": "cloudtrail.amazonaws.com",
            "event_name": "StopLogging", "resource": "org",
            "principal": "arn:aws:sts::111122223333:assumed-role/Dev/s",
        }));
        let plans = cfg.plans_for(&a);
        assert_eq!(plans.len(), 2);
        assert_eq!(
            (plans[0].action, plans[0].mode),
            (Action::RestartLogging, Mode::Auto)
        );
        assert_eq!(plans[1].target, Ok(Target::Role { name: "Dev".into() }));
        assert_eq!(plans[0].alert_id.as_deref(), Some(a.id().as_str()));
        // finding_type entries never match rampart's own rules, and the reverse
        let other = alert(json!({"rule_id": "UnauthorizedAccess:IAMUser/X"}));
        assert!(cfg.plans_for(&other).is_empty());
        let line = cfg.message_line(&a).unwrap();
        assert!(
            line.contains("respond (auto): restart-logging on org"),
            "{line}"
        );
        assert!(
            line.contains("rampart respond action quarantine --account 111122223333 --region us-east-1 --target role/Dev --approve"),
            "{line}"
        );
    }

    #[test]
    fn bad_playbooks_are_refused() {
        let e = RespondConfig::from_toml(
            "[[respond.playbook]]\nrule = \"*\"\naction = \"delete-login-profile\"\nmode = \"auto\"\n",
            "rampart.toml",
        )
        .unwrap_err();
        assert!(
            e.contains("cannot run in mode \"auto\"") && e.contains("password"),
            "{e}"
        );
        let e = RespondConfig::from_toml("[[respond.playbook]]\naction = \"quarantine\"\n", "f")
            .unwrap_err();
        assert!(e.contains("exactly one of `rule` or `finding_type`"), "{e}");
        let e = RespondConfig::from_toml(
            "[[respond.playbook]]\nrule = \"a\"\naction = \"nuke\"\n",
            "f",
        )
        .unwrap_err();
        assert!(e.contains("nuke"), "{e}");
        assert_eq!(
            RespondConfig::from_toml("", "f").unwrap(),
            RespondConfig::default()
        );
    }
}
