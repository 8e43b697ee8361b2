//! Running a plan: guard, act through a [`Responder`] (AWS, or a fake in tests), record.

use crate::action::{Action, Reversible};
use crate::guard::Guards;
use crate::playbook::{Mode, RespondConfig};
use crate::record::{ActionRecord, Outcome, SCHEMA, new_id};
use crate::target::Target;
use rampart_detect::Alert;
use serde_json::Value;

/// What the action acts on, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub action: Action,
    pub target: &'a Target,
    pub account: &'a str,
    pub region: &'a str,
}

/// What an action or undo did.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// Whether anything changed (false: the target was already as wanted).
    pub changed: bool,
    /// The state read before acting.
    pub before: Value,
    /// What undo needs (`null`: nothing to undo).
    pub undo: Value,
    pub message: String,
}

/// Carries actions out. The AWS implementation is `rampart_aws::respond::AwsResponder`.
pub trait Responder {
    /// The identity acting (recorded as `who`).
    fn who(&self) -> String;
    /// Performs `req`, idempotently.
    fn apply(&mut self, req: &Request<'_>) -> Result<Effect, String>;
    /// Puts back what `rec` changed, from `rec.undo`, idempotently.
    fn undo(&mut self, rec: &ActionRecord) -> Result<Effect, String>;
}

fn record(req: &Request<'_>, who: String, alert_id: Option<&str>) -> ActionRecord {
    let now = chrono::Utc::now();
    ActionRecord {
        schema: SCHEMA.into(),
        id: new_id(now),
        time: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        who,
        alert_id: alert_id.map(str::to_string),
        action: req.action,
        target: req.target.clone(),
        account: req.account.to_string(),
        region: req.region.to_string(),
        undoes: None,
        result: Outcome::Refused,
        message: String::new(),
        before: Value::Null,
        undo: Value::Null,
    }
}

/// Guards, then acts. The record says how it went (refusals and failures too); the caller
/// appends it to the audit log and the store.
pub fn execute(
    responder: &mut dyn Responder,
    guards: &Guards,
    req: &Request<'_>,
    alert_id: Option<&str>,
) -> ActionRecord {
    let mut rec = record(req, responder.who(), alert_id);
    if let Err(reason) = guards.check(req.target) {
        rec.message = reason;
        return rec;
    }
    match responder.apply(req) {
        Ok(e) => {
            rec.result = if e.changed {
                Outcome::Applied
            } else {
                Outcome::Unchanged
            };
            rec.before = e.before;
            rec.undo = match req.action.reversible() {
                Reversible::Yes if e.changed => e.undo,
                _ => Value::Null,
            };
            rec.message = e.message;
        }
        Err(e) => {
            rec.result = Outcome::Failed;
            rec.message = e;
        }
    }
    rec
}

/// Undoes the recorded action `id` found in `history`. Not reversible, refused, failed or
/// unchanged actions have nothing to undo: an error says why. Undoing twice changes nothing
/// the second time (the responder's undo is idempotent).
pub fn undo(
    responder: &mut dyn Responder,
    history: &[ActionRecord],
    id: &str,
) -> Result<ActionRecord, String> {
    let done = history
        .iter()
        .find(|r| r.id == id && r.undoes.is_none())
        .ok_or_else(|| {
            format!("no action `{id}` in the respond audit log; `rampart respond list` shows them")
        })?;
    if let Reversible::No(why) = done.action.reversible() {
        return Err(format!("{} ({id}) cannot be undone: {why}", done.action));
    }
    if done.undo.is_null() {
        return Err(format!(
            "{} ({id}) has nothing to undo: it {} ({})",
            done.action,
            match done.result {
                Outcome::Unchanged => "changed nothing",
                Outcome::Refused => "was refused",
                Outcome::Failed => "failed",
                Outcome::Applied => "recorded no undo data",
            },
            done.message
        ));
    }
    let req = Request {
        action: done.action,
        target: &done.target,
        account: &done.account,
        region: &done.region,
    };
    let mut rec = record(&req, responder.who(), done.alert_id.as_deref());
    rec.undoes = Some(done.id.clone());
    match responder.undo(done) {
        Ok(e) => {
            rec.result = if e.changed {
                Outcome::Applied
            } else {
                Outcome::Unchanged
            };
            rec.before = e.before;
            rec.message = e.message;
        }
        Err(e) => {
            rec.result = Outcome::Failed;
            rec.message = e;
        }
    }
    Ok(rec)
}

/// Runs the playbook's `auto` entries for `alerts` (`rampart detect`, `findings pull`):
/// only safe, reversible actions with a known target. Every record goes to `sink`.
pub fn run_auto(
    cfg: &RespondConfig,
    guards: &Guards,
    responder: &mut dyn Responder,
    alerts: &[Alert],
    sink: &mut dyn FnMut(&ActionRecord) -> Result<(), String>,
) -> Result<Vec<ActionRecord>, String> {
    let mut out = Vec::new();
    for a in alerts {
        for plan in cfg.plans_for(a) {
            if plan.mode != Mode::Auto || !plan.action.safe_for_auto() {
                continue;
            }
            let Ok(target) = &plan.target else { continue };
            let req = Request {
                action: plan.action,
                target,
                account: &plan.account,
                region: &plan.region,
            };
            let rec = execute(responder, guards, &req, plan.alert_id.as_deref());
            sink(&rec)?;
            out.push(rec);
        }
    }
    Ok(out)
}

/// Whether the playbook has anything for `run_auto` to do (detect connects to AWS only then).
pub fn has_auto(cfg: &RespondConfig) -> bool {
    cfg.playbook.iter().any(|e| e.mode == Mode::Auto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::tests::alert;
    use serde_json::json;
    use std::collections::HashMap;

    /// Access keys' statuses, in memory: enough to test the orchestration.
    #[derive(Default)]
    struct Keys(HashMap<String, &'static str>, usize);

    impl Responder for Keys {
        fn who(&self) -> String {
            "tester".into()
        }
        fn apply(&mut self, req: &Request<'_>) -> Result<Effect, String> {
            self.1 += 1;
            let Target::AccessKey { key_id, .. } = req.target else {
                return Err(format!("{} is not supported here", req.action));
            };
            let before = *self.0.get(key_id).ok_or("NoSuchEntity")?;
            self.0.insert(key_id.clone(), "Inactive");
            Ok(Effect {
                changed: before != "Inactive",
                before: json!({"status": before}),
                undo: json!({"status": before}),
                message: "disabled".into(),
            })
        }
        fn undo(&mut self, rec: &ActionRecord) -> Result<Effect, String> {
            let Target::AccessKey { key_id, .. } = &rec.target else {
                unreachable!()
            };
            let want = if rec.undo["status"] == "Active" {
                "Active"
            } else {
                "Inactive"
            };
            let before = self.0.insert(key_id.clone(), want).unwrap_or("");
            Ok(Effect {
                changed: before != want,
                before: json!({"status": before}),
                undo: Value::Null,
                message: "restored".into(),
            })
        }
    }

    const KEY: &str = "AKIAIOSFODNN7EXAMPLE";

    #[test]
    fn execute_is_idempotent_and_undo_restores_once() {
        let mut r = Keys::default();
        r.0.insert(KEY.into(), "Active");
        let t = Target::AccessKey {
            user: "alice".into(),
            key_id: KEY.into(),
        };
        let req = Request {
            action: Action::DisableAccessKey,
            target: &t,
            account: "1",
            region: "r",
        };
        let first = execute(&mut r, &Guards::default(), &req, Some("a1"));
        assert_eq!(first.result, Outcome::Applied);
        let second = execute(&mut r, &Guards::default(), &req, Some("a1"));
        assert_eq!(second.result, Outcome::Unchanged);
        assert!(
            second.undo.is_null(),
            "an unchanged action has nothing to undo"
        );
        let history = vec![first.clone(), second.clone()];
        let e = undo(&mut r, &history, &second.id).unwrap_err();
        assert!(e.contains("changed nothing"), "{e}");
        let u = undo(&mut r, &history, &first.id).unwrap();
        assert_eq!(
            (u.result, u.undoes.as_deref()),
            (Outcome::Applied, Some(first.id.as_str()))
        );
        assert_eq!(r.0[KEY], "Active");
        assert_eq!(
            undo(&mut r, &history, &first.id).unwrap().result,
            Outcome::Unchanged
        );
        assert!(
            undo(&mut r, &history, "act-nope")
                .unwrap_err()
                .contains("rampart respond list")
        );
    }

    #[test]
    fn a_refusal_calls_nothing_and_is_recorded() {
        let mut r = Keys::default();
        let t = Target::AccessKey {
            user: "emergency".into(),
            key_id: KEY.into(),
        };
        let req = Request {
            action: Action::DisableAccessKey,
            target: &t,
            account: "1",
            region: "r",
        };
        let g = Guards {
            break_glass_users: vec!["emergency".into()],
            ..Default::default()
        };
        let rec = execute(&mut r, &g, &req, None);
        assert_eq!(rec.result, Outcome::Refused);
        assert!(rec.message.contains("break-glass"), "{}", rec.message);
        assert_eq!(r.1, 0, "no call was made");
    }

    #[test]
    fn failures_are_recorded_and_irreversible_actions_refuse_undo() {
        let mut r = Keys::default();
        let t = Target::User {
            name: "alice".into(),
        };
        let req = Request {
            action: Action::DeleteLoginProfile,
            target: &t,
            account: "1",
            region: "r",
        };
        let rec = execute(&mut r, &Guards::default(), &req, None);
        assert_eq!(rec.result, Outcome::Failed);
        let e = undo(&mut r, std::slice::from_ref(&rec), &rec.id).unwrap_err();
        assert!(e.contains("cannot be undone"), "{e}");
    }

    #[test]
    fn auto_runs_only_auto_entries_with_a_target() {
        let cfg = RespondConfig::from_toml(
            r#"
[[respond.playbook]]
rule = "RD-KEY-*"
action = "disable-access-key"
mode = "auto"
[[respond.playbook]]
rule = "RD-KEY-*"
action = "quarantine"
mode = "approve"
"#,
            "t",
        )
        .unwrap();
        let mut r = Keys::default();
        r.0.insert(KEY.into(), "Active");
        let with_key = alert(json!({
            "rule_id": "RD-KEY-1", "event_source": "iam.amazonaws.com", "event_name": "CreateAccessKey",
            "resource": "alice", "matched": {"k": KEY},
        }));
        let without = alert(json!({"rule_id": "RD-KEY-2", "event_id": "e-2"}));
        let mut seen = Vec::new();
        let recs = run_auto(
            &cfg,
            &Guards::default(),
            &mut r,
            &[with_key.clone(), without],
            &mut |x| {
                seen.push(x.id.clone());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(seen, vec![recs[0].id.clone()]);
        assert_eq!(recs[0].alert_id.as_deref(), Some(with_key.id().as_str()));
        assert_eq!(r.0[KEY], "Inactive");
        assert!(has_auto(&cfg));
    }
}
