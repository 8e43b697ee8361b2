//! The executor: runs a plan's changes in dependency order, independent ones in parallel with
//! bounded concurrency, through an [`Effects`] implementation (the AWS SDK in `rampart-aws`, an
//! in-process model of the organization in [`fake`]). Every state-changing call is written to
//! the [`AuditLog`] as it happens, so an interrupted run leaves an exact record.
//!
//! Resumable by construction: effects are idempotent (a change already in effect succeeds) and
//! `rampart apply` plans from a fresh snapshot, so re-running after an interruption makes only
//! the changes still missing.

pub mod fake;

use crate::plan::{Change, Plan};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Makes changes happen.
pub trait Effects: Sync {
    /// Makes one change. Idempotent: a change that is already in effect succeeds. `Err` is one
    /// line naming the API and what went wrong.
    fn apply(&self, change: &Change, log: &AuditLog) -> Result<(), String>;
}

/// Append-only JSON Lines record of every state-changing API call: time, change, account,
/// region, API, parameters (never credentials or secrets) and outcome.
#[derive(Default)]
pub struct AuditLog {
    out: Mutex<Option<std::fs::File>>,
    /// The entries, also kept in memory when the run is recorded in the history store.
    kept: Mutex<Option<Vec<Value>>>,
    calls: AtomicU64,
    failures: AtomicU64,
}

impl AuditLog {
    /// Appends to `path` (created if missing).
    pub fn append_to(path: &std::path::Path) -> std::io::Result<AuditLog> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(AuditLog {
            out: Mutex::new(Some(f)),
            ..Default::default()
        })
    }

    /// Counts calls without writing them anywhere (tests, benchmarks).
    pub fn counting() -> AuditLog {
        AuditLog::default()
    }

    /// Also keeps every entry in memory, for [`AuditLog::entries`].
    pub fn keeping(self) -> AuditLog {
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
        self
    }

    /// The entries recorded so far (empty unless [`AuditLog::keeping`]).
    pub fn entries(&self) -> Vec<Value> {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default()
    }

    /// Records one call as it completes.
    pub fn record(
        &self,
        change: &Change,
        account: &str,
        api: &str,
        params: Value,
        outcome: &Result<(), String>,
    ) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if outcome.is_err() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_some() || kept.is_some() {
            let line = json!({
                "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "change": change.id,
                "account": account,
                "region": change.region,
                "api": api,
                "parameters": params,
                "outcome": match outcome { Ok(()) => "ok".to_string(), Err(e) => format!("error: {e}") },
            });
            if let Some(f) = guard.as_mut() {
                // A full disk must not stop the run half-way; the count still reports the call.
                let _ = writeln!(f, "{line}");
                let _ = f.flush();
            }
            if let Some(k) = kept.as_mut() {
                k.push(line);
            }
        }
    }

    /// State-changing calls made (including failed ones).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls that failed.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// How the executor runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// At most this many changes run at once.
    pub concurrency: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { concurrency: 16 }
    }
}

/// A change that did not happen, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotApplied {
    pub id: String,
    pub description: String,
    pub reason: String,
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Ids of the changes made, in completion order.
    pub applied: Vec<String>,
    pub failed: Vec<NotApplied>,
    /// Changes not attempted because something they depend on failed.
    pub blocked: Vec<NotApplied>,
}

impl ApplyReport {
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.blocked.is_empty()
    }

    /// For people: failures and blocked changes, one line each, then the totals.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in &self.failed {
            s.push_str(&format!("failed: {}: {}\n", f.description, f.reason));
        }
        for f in &self.blocked {
            s.push_str(&format!("not attempted: {}: {}\n", f.description, f.reason));
        }
        s.push_str(&format!(
            "Applied {} change(s); {} failed, {} not attempted.\n",
            self.applied.len(),
            self.failed.len(),
            self.blocked.len()
        ));
        s
    }
}

/// Runs `plan` through `effects`: a change starts once everything it depends on succeeded, at
/// most `opts.concurrency` at a time; a failure blocks only its dependents.
pub fn execute<E: Effects>(
    plan: &Plan,
    effects: &E,
    log: &AuditLog,
    opts: &ApplyOptions,
) -> ApplyReport {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Pending,
        Done,
        Failed,
    }
    let index: BTreeMap<&str, usize> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut state = vec![State::Pending; plan.changes.len()];
    let mut report = ApplyReport::default();
    loop {
        // Changes whose dependencies are settled: ready, or blocked by a failure.
        let mut ready = Vec::new();
        for (i, c) in plan.changes.iter().enumerate() {
            if state[i] != State::Pending {
                continue;
            }
            let deps: Vec<usize> = c
                .depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect();
            if let Some(bad) = deps.iter().find(|&&d| state[d] == State::Failed) {
                state[i] = State::Failed;
                report.blocked.push(NotApplied {
                    id: c.id.clone(),
                    description: c.description.clone(),
                    reason: format!(
                        "waits for `{}`, which did not happen",
                        plan.changes[*bad].id
                    ),
                });
                continue;
            }
            if deps.iter().all(|&d| state[d] == State::Done) {
                ready.push(i);
            }
        }
        if ready.is_empty() {
            break;
        }
        let results: Vec<(usize, Result<(), String>)> =
            run_parallel(&ready, opts.concurrency, |i| {
                effects.apply(&plan.changes[i], log)
            });
        for (i, r) in results {
            let c = &plan.changes[i];
            match r {
                Ok(()) => {
                    state[i] = State::Done;
                    report.applied.push(c.id.clone());
                }
                Err(reason) => {
                    state[i] = State::Failed;
                    report.failed.push(NotApplied {
                        id: c.id.clone(),
                        description: c.description.clone(),
                        reason,
                    });
                }
            }
        }
    }
    // Anything still pending waits on a cycle or an unknown change: never silently dropped.
    for (i, c) in plan.changes.iter().enumerate() {
        if state[i] == State::Pending {
            report.blocked.push(NotApplied {
                id: c.id.clone(),
                description: c.description.clone(),
                reason: "its dependencies never became ready".into(),
            });
        }
    }
    report
}

/// Runs `work` over `items` on at most `limit` threads; results in completion order.
fn run_parallel<T: Send>(
    items: &[usize],
    limit: usize,
    work: impl Fn(usize) -> T + Sync,
) -> Vec<(usize, T)> {
    let next = AtomicUsize::new(0);
    let out = Mutex::new(Vec::with_capacity(items.len()));
    let workers = limit.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = items.get(k) else { break };
                    let r = work(i);
                    out.lock().unwrap_or_else(|p| p.into_inner()).push((i, r));
                }
            });
        }
    });
    out.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests;
