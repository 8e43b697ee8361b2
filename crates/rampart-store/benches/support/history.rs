//! The synthetic history the store benchmarks record (issue 16), and how they measure: a
//! 1,000-account organization's first audit, then weekly audits with churn. Included with
//! `#[path]` by `rampart-store/benches/store.rs` and `rampart-report/benches/weekly.rs`, so both
//! measure the same store.

use rampart_core::{AuditSettings, Finding, Status, evaluate, sample};
use rampart_store::{AuditRun, ObservedAccount, Time};
use std::time::Instant;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident set size of this process so far, in MB (`VmHWM`).
pub fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU time this process has used (user + system), in seconds: on a shared machine, the
/// figure that does not depend on how busy the other tenants are (SQLite runs in-process;
/// PostgreSQL's server time is not included).
pub fn cpu_s() -> f64 {
    cpu_s_of("self")
}

/// [`cpu_s`] of the process `/proc/{pid}` (a number, or `self`).
pub fn cpu_s_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 14th, stime 15th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

unsafe extern "C" {
    /// glibc: returns freed heap to the system, so the peak measured next is the store's.
    fn malloc_trim(pad: usize) -> i32;
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` 5) after giving freed memory back.
pub fn reset_peak() {
    // SAFETY: malloc_trim only releases free memory of the glibc allocator.
    unsafe {
        malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The audit run as `rampart audit` would describe the snapshot.
fn audit_run(snapshot: &rampart_snapshot::Snapshot, at: Time) -> AuditRun {
    let names: std::collections::HashMap<String, String> = snapshot
        .organization
        .iter()
        .flat_map(|o| {
            o.roots
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .chain(
                    o.organizational_units
                        .iter()
                        .map(|u| (u.id.clone(), u.name.clone())),
                )
        })
        .collect();
    let accounts = snapshot
        .accounts
        .iter()
        .map(|a| {
            let ou_path = snapshot
                .organization
                .as_ref()
                .map(|o| {
                    let path = o.path_to(&a.account_id);
                    path[..path.len().saturating_sub(1)]
                        .iter()
                        .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .unwrap_or_default();
            ObservedAccount {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                ou_path,
                regions: a.regions.iter().map(|r| r.region.clone()).collect(),
                unreachable: a.errors.iter().any(|e| e.api == "*"),
            }
        })
        .collect();
    AuditRun {
        started_at: at,
        finished_at: at + chrono::Duration::seconds(40),
        source: "bench".into(),
        organization_id: snapshot.organization.as_ref().map(|o| o.id.clone()),
        framework: None,
        rampart_version: env!("CARGO_PKG_VERSION").into(),
        catalogue_version: format!("{} controls", rampart_core::catalogue().len()),
        accounts,
        collection_errors: vec![],
        controls: rampart_core::catalogue()
            .iter()
            .map(|c| c.id.to_string())
            .collect(),
    }
}

/// The organization's first audit: the run and its findings (the snapshot is dropped).
pub fn generate(accounts: usize, regions: usize) -> (AuditRun, Vec<Finding>) {
    let t = Instant::now();
    let snapshot = sample::synthetic_org(accounts, regions);
    let findings = evaluate(&snapshot, &AuditSettings::default());
    let start: Time = "2026-01-05T06:00:00Z".parse().unwrap();
    let run = audit_run(&snapshot, start);
    drop(snapshot);
    eprintln!(
        "generated {accounts} accounts x {regions} regions: {} findings in {:.1} s; process peak so far {:.0} MB",
        findings.len(),
        t.elapsed().as_secs_f64(),
        peak_mb()
    );
    (run, findings)
}

/// xorshift64: deterministic churn without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// How findings change from week to week.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Churn {
    /// 2 % of the PASS/FAIL findings change status each week, half fixed (FAIL → PASS) and half
    /// newly failing (PASS → FAIL), as far as there are failing ones: the organization's failure
    /// rate stays where it started while thousands of findings open and close every week.
    Balanced,
    /// 2 % of the PASS/FAIL findings, drawn at random, flip each week: failures accumulate
    /// towards half of all findings (a worst case for the size of diffs).
    Random,
}

impl Churn {
    /// `RAMPART_BENCH_CHURN=random`, else balanced.
    pub fn from_env() -> Churn {
        match std::env::var("RAMPART_BENCH_CHURN").as_deref() {
            Ok("random") => Churn::Random,
            _ => Churn::Balanced,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Churn::Balanced => "balanced",
            Churn::Random => "random",
        }
    }
}

/// Applies one week of churn; returns how many findings changed status.
fn churn(findings: &mut [Finding], flippable: &[usize], rng: &mut Rng, kind: Churn) -> usize {
    let n = flippable.len() / 50;
    let mut chosen = std::collections::HashSet::with_capacity(n);
    match kind {
        Churn::Random => {
            while chosen.len() < n {
                chosen.insert(flippable[rng.below(flippable.len())]);
            }
        }
        Churn::Balanced => {
            let failing = flippable
                .iter()
                .filter(|&&i| findings[i].status == Status::Fail)
                .count();
            let fixes = (n / 2).min(failing);
            let (mut fixed, mut broken) = (0, 0);
            while fixed < fixes || broken < n - fixes {
                let i = flippable[rng.below(flippable.len())];
                let fail = findings[i].status == Status::Fail;
                if fail && fixed < fixes && chosen.insert(i) {
                    fixed += 1;
                } else if !fail && broken < n - fixes && chosen.insert(i) {
                    broken += 1;
                }
            }
        }
    }
    for &i in &chosen {
        let f = &mut findings[i];
        f.status = match f.status {
            Status::Pass => Status::Fail,
            _ => Status::Pass,
        };
    }
    chosen.len()
}

/// The organization week after week: the first audit, then one audit per week with churn.
pub struct WeeklyAudits {
    first: AuditRun,
    findings: Vec<Finding>,
    flippable: Vec<usize>,
    rng: Rng,
    kind: Churn,
    week: i64,
}

impl WeeklyAudits {
    pub fn new(first: AuditRun, findings: Vec<Finding>, kind: Churn) -> WeeklyAudits {
        let flippable = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.status, Status::Pass | Status::Fail))
            .map(|(i, _)| i)
            .collect();
        WeeklyAudits {
            first,
            findings,
            flippable,
            rng: Rng(0x05ee_d0f5_707e),
            kind,
            week: 0,
        }
    }

    /// The first audit (week 0): its run and findings.
    pub fn first(&self) -> (&AuditRun, &[Finding]) {
        (&self.first, &self.findings)
    }

    /// Moves one week on: the week's run, its findings, and how many changed status.
    pub fn next_week(&mut self) -> (AuditRun, &[Finding], usize) {
        self.week += 1;
        let flipped = churn(
            &mut self.findings,
            &self.flippable,
            &mut self.rng,
            self.kind,
        );
        let mut run = self.first.clone();
        run.started_at = self.first.started_at + chrono::Duration::weeks(self.week);
        run.finished_at = run.started_at + chrono::Duration::seconds(40);
        (run, &self.findings, flipped)
    }
}
