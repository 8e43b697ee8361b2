//! The record of every action (`rampart.respond/v1`), appended to a JSON Lines audit log.

use crate::action::Action;
use crate::target::Target;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const SCHEMA: &str = "rampart.respond/v1";

/// How an action (or its undo) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It changed AWS.
    Applied,
    /// The target was already in the wanted state: nothing changed.
    Unchanged,
    /// A guard refused; nothing was called.
    Refused,
    /// An AWS call failed (the message names it); what succeeded before is in `before`/`undo`.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// One action or undo as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub schema: String,
    /// `act-…`, what `rampart respond undo` takes.
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// The AWS identity (ARN) that acted, else the local user.
    pub who: String,
    pub alert_id: Option<String>,
    pub action: Action,
    pub target: Target,
    pub account: String,
    pub region: String,
    /// Set on an undo: the id of the action it undid.
    pub undoes: Option<String>,
    pub result: Outcome,
    pub message: String,
    /// The target's state before (what the action read).
    pub before: Value,
    /// What undo needs; `null` when the action is not reversible or changed nothing.
    pub undo: Value,
}

/// A fresh action id: the time, then 8 hex digits that differ between processes and calls.
pub fn new_id(now: chrono::DateTime<chrono::Utc>) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let n = now.timestamp_subsec_nanos()
        ^ std::process::id().rotate_left(13)
        ^ SEQ
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9);
    format!("act-{}-{n:08x}", now.format("%Y%m%dT%H%M%SZ"))
}

/// The JSON Lines audit log: one record per line, appended, never rewritten.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
}

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog { path: path.into() }
    }

    /// Appends one record (one `write` of a whole line, so concurrent writers do not interleave).
    pub fn append(&self, rec: &ActionRecord) -> Result<(), String> {
        let mut line = serde_json::to_string(rec).map_err(|e| e.to_string())?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.err("cannot open", e))?;
        f.write_all(line.as_bytes())
            .map_err(|e| self.err("cannot append to", e))
    }

    /// Every record (a missing file: none). A malformed line is an error naming it.
    pub fn read(&self) -> Result<Vec<ActionRecord>, String> {
        read_records(&self.path)
    }

    fn err(&self, what: &str, e: std::io::Error) -> String {
        format!(
            "{what} the respond audit log {}: {e}; check `[respond] audit_log` and the directory's permissions",
            self.path.display()
        )
    }
}

fn read_records(path: &Path) -> Result<Vec<ActionRecord>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read the respond audit log {}: {e}",
                path.display()
            ));
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("{}:{}: not a {SCHEMA} record: {e}", path.display(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_append_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("r.jsonl"));
        assert!(log.read().unwrap().is_empty());
        let now = chrono::Utc::now();
        let rec = ActionRecord {
            schema: SCHEMA.into(),
            id: new_id(now),
            time: now.to_rfc3339(),
            who: "arn:aws:iam::1:user/x".into(),
            alert_id: None,
            action: Action::Quarantine,
            target: Target::Role { name: "Dev".into() },
            account: "1".into(),
            region: "us-east-1".into(),
            undoes: None,
            result: Outcome::Applied,
            message: "ok".into(),
            before: serde_json::json!({}),
            undo: serde_json::json!({"x": 1}),
        };
        log.append(&rec).unwrap();
        let mut second = rec.clone();
        second.id = new_id(now);
        assert_ne!(second.id, rec.id, "two ids in the same nanosecond differ");
        log.append(&second).unwrap();
        assert_eq!(log.read().unwrap(), vec![rec, second]);
        std::fs::write(&log.path, "{\n").unwrap();
        let e = log.read().unwrap_err();
        assert!(e.contains("r.jsonl:1"), "{e}");
    }
}
