//! A planned action: what, on what, where, and the exact command that runs it.

use crate::action::{Action, Reversible};
use crate::guard::Guards;
use crate::playbook::Mode;
use crate::target::Target;

/// One action planned for an alert (or asked for directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub alert_id: Option<String>,
    pub action: Action,
    pub mode: Mode,
    pub account: String,
    pub region: String,
    /// `Err`: the alert does not name the target; the message says how to give it.
    pub target: Result<Target, String>,
}

impl Plan {
    /// The exact command that runs this plan: the direct form when the target is known,
    /// otherwise `rampart respond ALERT_ID` (which shows what is missing).
    pub fn command(&self) -> String {
        match (&self.target, &self.alert_id) {
            (Ok(t), _) => {
                let mut c = format!(
                    "rampart respond action {} --account {} --region {}",
                    self.action, self.account, self.region
                );
                if let Some(arg) = t.to_arg() {
                    c.push_str(&format!(" --target {}", shell_word(&arg)));
                }
                if matches!(
                    t,
                    Target::Bucket {
                        account_level: true,
                        ..
                    }
                ) {
                    c.push_str(" --account-level");
                }
                c.push_str(" --approve");
                c
            }
            (Err(_), Some(id)) => format!("rampart respond {id}"),
            (Err(_), None) => format!(
                "rampart respond action {} --account {} --region {} --target {} --approve",
                self.action,
                self.account,
                self.region,
                self.action.target_hint()
            ),
        }
    }

    pub fn target_text(&self) -> String {
        match &self.target {
            Ok(t) => t.to_arg().unwrap_or_else(|| t.describe()),
            Err(_) => "(target unknown)".into(),
        }
    }

    /// The plan for people: action, target, where, reversibility, guard verdict, command.
    pub fn render(&self, guards: &Guards) -> String {
        let mut s = format!("{} — {}\n", self.action, self.action.summary());
        match &self.target {
            Ok(t) => s.push_str(&format!("  target:     {}\n", t.describe())),
            Err(e) => s.push_str(&format!("  target:     unknown — {e}\n")),
        }
        s.push_str(&format!(
            "  where:      account {} region {}\n",
            self.account, self.region
        ));
        if let Some(id) = &self.alert_id {
            s.push_str(&format!("  alert:      {id}\n"));
        }
        s.push_str(&format!(
            "  mode:       {}\n",
            match self.mode {
                Mode::Suggest => "suggest",
                Mode::Approve => "approve",
                Mode::Auto => "auto",
            }
        ));
        match self.action.reversible() {
            Reversible::Yes => s.push_str("  reversible: yes (rampart respond undo ACTION_ID)\n"),
            Reversible::No(why) => s.push_str(&format!("  reversible: NO — {why}\n")),
        }
        if let Ok(t) = &self.target
            && let Err(refusal) = guards.check(t)
        {
            s.push_str(&format!("  guard:      {refusal}\n"));
        }
        s.push_str(&format!("  run:        {}\n", self.command()));
        s
    }
}

/// `text` quoted for a POSIX shell when it holds anything but safe characters.
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@=+,".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(target: Result<Target, String>) -> Plan {
        Plan {
            alert_id: Some("0123456789abcdef".into()),
            action: Action::DeleteLoginProfile,
            mode: Mode::Approve,
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            target,
        }
    }

    #[test]
    fn the_command_is_exact_and_the_plan_says_irreversible() {
        let p = plan(Ok(Target::User {
            name: "o'neil".into(),
        }));
        assert_eq!(
            p.command(),
            "rampart respond action delete-login-profile --account 111122223333 --region eu-west-1 --target 'user/o'\\''neil' --approve"
        );
        let text = p.render(&Guards::default());
        assert!(text.contains("reversible: NO"), "{text}");
        let p = plan(Err("no user".into()));
        assert_eq!(p.command(), "rampart respond 0123456789abcdef");
        assert!(p.render(&Guards::default()).contains("unknown — no user"));
        let guarded = Guards {
            break_glass_users: vec!["o'neil".into()],
            ..Default::default()
        };
        let text = plan(Ok(Target::User {
            name: "o'neil".into(),
        }))
        .render(&guarded);
        assert!(text.contains("guard:      refused"), "{text}");
    }
}
