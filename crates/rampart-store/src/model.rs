//! What goes into the store and what comes out: runs, their rows, and finding lifecycles.

use chrono::{DateTime, NaiveDate, Utc};
use rampart_core::Severity;
use serde::{Deserialize, Serialize};

/// A run's id: assigned by the store, increasing in recording order.
pub type RunId = i64;

/// Times are UTC in the API and whole epoch seconds in the database (sub-seconds are dropped).
pub type Time = DateTime<Utc>;

/// What kind of rampart command a run records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Audit,
    Detect,
    Plan,
    Drift,
    Apply,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Audit => "audit",
            RunKind::Detect => "detect",
            RunKind::Plan => "plan",
            RunKind::Drift => "drift",
            RunKind::Apply => "apply",
        }
    }
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "audit" => Ok(RunKind::Audit),
            "detect" => Ok(RunKind::Detect),
            "plan" => Ok(RunKind::Plan),
            "drift" => Ok(RunKind::Drift),
            "apply" => Ok(RunKind::Apply),
            other => Err(format!(
                "unknown run kind `{other}`: use audit, detect, plan, drift or apply"
            )),
        }
    }
}

/// One account of an audited snapshot, and how much of it the run could see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedAccount {
    pub account_id: String,
    pub name: String,
    /// OU path from the root, e.g. "Root/Workloads/Prod"; "" when unknown.
    pub ou_path: String,
    /// Regions the snapshot read for this account.
    pub regions: Vec<String>,
    /// The account could not be entered at all (its findings are unobservable this run).
    pub unreachable: bool,
}

/// An audit: what was observed, by which rampart, and with which controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRun {
    pub started_at: Time,
    pub finished_at: Time,
    /// "live", "snapshot:PATH", "demo".
    pub source: String,
    pub organization_id: Option<String>,
    pub framework: Option<String>,
    pub rampart_version: String,
    /// e.g. "71 controls".
    pub catalogue_version: String,
    /// Every account of the snapshot.
    pub accounts: Vec<ObservedAccount>,
    /// One line each.
    pub collection_errors: Vec<String>,
    /// Control ids evaluated in this run (a --framework run evaluates a subset; findings of
    /// other controls are out of scope and never resolved by it).
    pub controls: Vec<String>,
}

/// A `rampart detect` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectRun {
    pub started_at: Time,
    pub finished_at: Time,
    pub source: String,
    pub events: u64,
    pub skipped: u64,
    pub files: u64,
    pub rules: u64,
}

/// One rampart.alert/v1 alert, flattened, with its full JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub rule_id: String,
    pub rule_source: String,
    pub title: String,
    pub severity: Severity,
    pub account: Option<String>,
    pub region: Option<String>,
    pub principal: Option<String>,
    pub event_time: Option<Time>,
    pub event_id: Option<String>,
    pub resource: Option<String>,
    pub count: u64,
    /// The full alert record as written by `detect`.
    pub json: String,
}

/// A `rampart plan` or `rampart drift` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRun {
    /// Plan or Drift.
    pub kind: RunKind,
    pub started_at: Time,
    pub finished_at: Time,
    pub organization_id: Option<String>,
    /// What the plan could not observe (one line each).
    pub unobserved: Vec<String>,
}

/// One pending change of a plan or drift run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub change_id: String,
    pub account: String,
    pub region: Option<String>,
    /// The change's kind, e.g. "create_trail".
    pub action: String,
    pub description: String,
    pub destructive: bool,
    pub json: String,
}

/// A `rampart apply` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRun {
    pub started_at: Time,
    pub finished_at: Time,
    pub organization_id: Option<String>,
    pub complete: bool,
    pub rounds: u32,
    pub calls: u64,
    pub failures: u64,
}

/// One audit-log entry of an apply: one API call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyEntry {
    pub time: Time,
    pub change_id: String,
    pub account: String,
    pub region: Option<String>,
    pub api: String,
    pub parameters_json: String,
    /// "ok" or "error: …".
    pub outcome: String,
}

/// One recorded run, with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: RunId,
    pub kind: RunKind,
    pub started_at: Time,
    pub finished_at: Time,
    pub source: String,
    pub organization_id: Option<String>,
    pub rampart_version: String,
    /// audit: "N/M accounts observed, R regions"; others: "" or a short description.
    pub scope: String,
    pub accounts: u64,
    pub regions: u64,
    pub pass: u64,
    pub fail: u64,
    pub error: u64,
    pub suppressed: u64,
    pub other: u64,
    /// audit only: 100 * PASS / (PASS + unsuppressed FAIL); None when there is neither.
    pub score: Option<f64>,
    /// detect: alerts recorded.
    pub alerts: u64,
    /// plan/drift: pending changes; apply: entries.
    pub changes: u64,
    pub collection_errors: u64,
}

/// Per run, per account: the figures behind score trends by account and OU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountScore {
    pub run_id: RunId,
    pub at: Time,
    pub account_id: String,
    pub name: String,
    pub ou_path: String,
    pub observed: bool,
    pub pass: u64,
    pub fail: u64,
    pub error: u64,
    pub suppressed: u64,
}

impl AccountScore {
    /// 100 * PASS / (PASS + unsuppressed FAIL); None when there is neither.
    pub fn score(&self) -> Option<f64> {
        score(self.pass, self.fail)
    }
}

/// 100 * pass / (pass + fail), None when both are zero.
pub fn score(pass: u64, fail: u64) -> Option<f64> {
    (pass + fail > 0).then(|| 100.0 * pass as f64 / (pass + fail) as f64)
}

/// The last observed status of a finding; `Gone` when an observed scope stopped producing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LifeStatus {
    Pass,
    Fail,
    Error,
    NotApplicable,
    Manual,
    Gone,
}

impl LifeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LifeStatus::Pass => "PASS",
            LifeStatus::Fail => "FAIL",
            LifeStatus::Error => "ERROR",
            LifeStatus::NotApplicable => "NOT_APPLICABLE",
            LifeStatus::Manual => "MANUAL",
            LifeStatus::Gone => "GONE",
        }
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            LifeStatus::Pass => 0,
            LifeStatus::Fail => 1,
            LifeStatus::Error => 2,
            LifeStatus::NotApplicable => 3,
            LifeStatus::Manual => 4,
            LifeStatus::Gone => 5,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<LifeStatus> {
        Some(match code {
            0 => LifeStatus::Pass,
            1 => LifeStatus::Fail,
            2 => LifeStatus::Error,
            3 => LifeStatus::NotApplicable,
            4 => LifeStatus::Manual,
            5 => LifeStatus::Gone,
            _ => return None,
        })
    }
}

impl From<rampart_core::Status> for LifeStatus {
    fn from(s: rampart_core::Status) -> Self {
        use rampart_core::Status;
        match s {
            Status::Pass => LifeStatus::Pass,
            Status::Fail => LifeStatus::Fail,
            Status::Error => LifeStatus::Error,
            Status::NotApplicable => LifeStatus::NotApplicable,
            Status::Manual => LifeStatus::Manual,
        }
    }
}

impl std::fmt::Display for LifeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a finding is not counted as an open problem: a `rampart.toml` suppression, or an
/// acceptance recorded in the store (its reason then names who accepted it). `expires` is
/// `YYYY-MM-DD`.
pub use rampart_core::Suppressed;

/// The lifecycle of one finding (stable id = `rampart_core::Finding::id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingLife {
    pub id: String,
    pub control: String,
    pub title: String,
    pub severity: Severity,
    pub account_id: String,
    pub region: String,
    pub resource: String,
    /// The latest message.
    pub message: String,
    /// Last observed.
    pub status: LifeStatus,
    /// Inside an open problem period (FAIL, or ERROR after FAIL).
    pub open: bool,
    pub suppressed: Option<Suppressed>,
    pub first_seen: Time,
    pub last_seen: Time,
    /// Start of the current/last open period.
    pub opened_at: Option<Time>,
    /// End of the last open period, if it ended (cleared when the finding reopens).
    pub resolved_at: Option<Time>,
    /// How many times it opened again after a resolution.
    pub reopened: u32,
}

/// What changed in one finding at one run. One event per change of (status, open, suppressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeEventKind {
    /// First seen (or seen again after it was gone) without opening a problem.
    Appeared,
    /// A FAIL started an open period, for the first time.
    Opened,
    /// The open period ended: PASS, NOT_APPLICABLE, MANUAL or gone from an observed scope.
    Resolved,
    /// A FAIL started an open period after an earlier resolution.
    Reopened,
    /// The finding reported ERROR: not observable this run (an open period stays open).
    Unobservable,
    /// Any other status change (e.g. ERROR back to FAIL, PASS to NOT_APPLICABLE).
    StatusChanged,
    Suppressed,
    Unsuppressed,
    /// An observed scope no longer produced it (it was not open).
    Gone,
}

impl LifeEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LifeEventKind::Appeared => "appeared",
            LifeEventKind::Opened => "opened",
            LifeEventKind::Resolved => "resolved",
            LifeEventKind::Reopened => "reopened",
            LifeEventKind::Unobservable => "unobservable",
            LifeEventKind::StatusChanged => "status_changed",
            LifeEventKind::Suppressed => "suppressed",
            LifeEventKind::Unsuppressed => "unsuppressed",
            LifeEventKind::Gone => "gone",
        }
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            LifeEventKind::Appeared => 0,
            LifeEventKind::Opened => 1,
            LifeEventKind::Resolved => 2,
            LifeEventKind::Reopened => 3,
            LifeEventKind::Unobservable => 4,
            LifeEventKind::StatusChanged => 5,
            LifeEventKind::Suppressed => 6,
            LifeEventKind::Unsuppressed => 7,
            LifeEventKind::Gone => 8,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<LifeEventKind> {
        Some(match code {
            0 => LifeEventKind::Appeared,
            1 => LifeEventKind::Opened,
            2 => LifeEventKind::Resolved,
            3 => LifeEventKind::Reopened,
            4 => LifeEventKind::Unobservable,
            5 => LifeEventKind::StatusChanged,
            6 => LifeEventKind::Suppressed,
            7 => LifeEventKind::Unsuppressed,
            8 => LifeEventKind::Gone,
            _ => return None,
        })
    }
}

impl std::fmt::Display for LifeEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change in a finding's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifeEvent {
    pub finding_id: String,
    pub run_id: RunId,
    pub at: Time,
    pub kind: LifeEventKind,
    pub status: LifeStatus,
    pub open: bool,
    pub suppressed: bool,
}

/// An open period that ended: when it opened and when it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    pub finding_id: String,
    pub control: String,
    pub severity: Severity,
    pub account_id: String,
    pub opened_at: Time,
    pub resolved_at: Time,
}

/// A risk accepted in the store: the finding counts as suppressed until `expires` (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub finding_id: String,
    pub reason: String,
    pub who: String,
    pub expires: Option<NaiveDate>,
    pub created_at: Time,
}

/// How a finding moved between two audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffClass {
    /// Open, FAIL and not suppressed at `to`; not open at `from`.
    New,
    /// Open at `from`, not open at `to`.
    Resolved,
    /// Open at both, FAIL at `to`.
    StillFailing,
    /// Observed at `from`; at `to` ERROR, or its account/region/control could not be observed.
    NewlyUnobservable,
}

impl DiffClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffClass::New => "new",
            DiffClass::Resolved => "resolved",
            DiffClass::StillFailing => "still_failing",
            DiffClass::NewlyUnobservable => "newly_unobservable",
        }
    }
}

/// One finding of a diff, with the account's name and OU path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffItem {
    pub class: DiffClass,
    pub finding_id: String,
    pub control: String,
    pub title: String,
    pub severity: Severity,
    pub account_id: String,
    pub account_name: String,
    pub ou_path: String,
    pub region: String,
    pub resource: String,
    pub message: String,
    pub opened_at: Option<Time>,
}

/// What changed between two audits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub from: RunSummary,
    pub to: RunSummary,
    /// By class, then severity (most severe first), account, control, resource.
    pub items: Vec<DiffItem>,
}

impl Diff {
    pub fn count(&self, class: DiffClass) -> usize {
        self.items.iter().filter(|i| i.class == class).count()
    }
}

/// What `prune` deleted, and what it kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// The cutoff: runs that started before it were deleted.
    pub before: Time,
    pub runs: u64,
    pub events: u64,
    /// Findings gone from every observed scope before the cutoff, with nothing newer.
    pub findings: u64,
    pub alerts: u64,
    pub changes: u64,
    pub apply_entries: u64,
    /// Findings whose lifecycle is kept (unchanged).
    pub findings_kept: u64,
}

impl PruneReport {
    /// Every row deleted, all tables together (run accounts and errors counted with runs).
    pub fn rows_deleted(&self) -> u64 {
        self.runs + self.events + self.findings + self.alerts + self.changes + self.apply_entries
    }
}

impl std::fmt::Display for PruneReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pruned {} run(s) before {}: {} rows deleted ({} finding events, {} gone findings, {} alerts, {} changes, {} apply entries); {} findings kept",
            self.runs,
            self.before.format("%Y-%m-%d %H:%M:%S UTC"),
            self.rows_deleted(),
            self.events,
            self.findings,
            self.alerts,
            self.changes,
            self.apply_entries,
            self.findings_kept
        )
    }
}

/// Rows per table, in schema order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub tables: Vec<(String, u64)>,
}

impl Counts {
    /// Rows of one table (0 when unknown).
    pub fn get(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }

    /// (table, rows), in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.tables.iter().map(|(t, n)| (t.as_str(), *n))
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .tables
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}
