//! Benchmark of the store (issue 16, item 9).
//!
//! ```text
//! cargo bench -p rampart-store --bench store -- [ACCOUNTS] [REGIONS] [WEEKS] [REPEATS]
//! ```
//! Defaults: 1,000 accounts × 17 regions, 52 weekly runs, 3 repeats. The organization is
//! `rampart_core::sample::synthetic_org` (the audit benchmark's), evaluated with
//! `rampart_core::evaluate` for real findings. Measured:
//!
//! - recording the first audit into a new SQLite file and a new PostgreSQL database (a cluster
//!   with PostgreSQL's default durability), median of REPEATS fresh stores each;
//! - WEEKS weekly audits, each changing the status of 2 % of the PASS/FAIL findings, into
//!   SQLite and PostgreSQL: time per week (median), SQLite file size, PostgreSQL database size.
//!   `RAMPART_BENCH_CHURN=balanced` (default: half fixed, half newly failing, the failure rate
//!   stays put) or `random` (random flips: failures accumulate towards half of all findings);
//! - diff of the first and last audit, and of the last two (median of 5);
//! - peak resident memory while recording (`VmHWM`, reset after generating the organization;
//!   the audit's findings, which `rampart audit` holds too, are included) and while diffing
//!   (without them, as `rampart diff`).
//!
//! `RAMPART_SKIP_POSTGRES=1` measures SQLite only; `RAMPART_BENCH_KEEP=PATH` keeps a copy of
//! the SQLite store.

use rampart_core::{AuditSettings, Finding, Status, evaluate, sample};
use rampart_store::testing::{Durability, PgCluster};
use rampart_store::{AuditRun, ObservedAccount, RunId, Store, Time};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident set size of this process so far, in MB (`VmHWM`).
fn peak_mb() -> f64 {
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
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
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
fn reset_peak() {
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
enum Churn {
    /// 2 % of the PASS/FAIL findings change status each week, half fixed (FAIL → PASS) and half
    /// newly failing (PASS → FAIL), as far as there are failing ones: the organization's failure
    /// rate stays where it started while thousands of findings open and close every week.
    Balanced,
    /// 2 % of the PASS/FAIL findings, drawn at random, flip each week: failures accumulate
    /// towards half of all findings (a worst case for the size of diffs).
    Random,
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

struct Weekly {
    first_record: Vec<f64>,
    first_cpu: Vec<f64>,
    week_times: Vec<f64>,
    week_cpu: Vec<f64>,
    diff_first_last: f64,
    diff_first_last_cpu: f64,
    diff_last_two: f64,
    diff_last_two_cpu: f64,
    items_first_last: usize,
    items_last_two: usize,
    events: u64,
    findings_read: f64,
    peak_record: f64,
    peak_diff: f64,
}

/// Records the first audit REPEATS times into fresh stores (median), then WEEKS weekly runs
/// with churn into the last one, then times diffs.
fn measure(
    label: &str,
    new_store: &mut dyn FnMut() -> Store,
    run: &AuditRun,
    mut findings: Vec<Finding>,
    weeks: usize,
    repeats: usize,
    kind: Churn,
) -> (Weekly, Store) {
    let mut first_record = Vec::new();
    let mut first_cpu = Vec::new();
    let mut store = None;
    for i in 0..repeats {
        drop(store.take());
        let mut s = new_store();
        let (t, c) = (Instant::now(), cpu_s());
        s.record_audit(run, &findings)
            .expect("first audit recorded");
        let (e, ce) = (t.elapsed().as_secs_f64(), cpu_s() - c);
        eprintln!(
            "{label}: first audit recorded in {e:.2} s ({ce:.2} s CPU in this process) (repeat {})",
            i + 1
        );
        first_record.push(e);
        first_cpu.push(ce);
        store = Some(s);
    }
    let mut store = store.expect("at least one repeat");
    let flippable: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.status, Status::Pass | Status::Fail))
        .map(|(i, _)| i)
        .collect();
    let mut rng = Rng(0x05ee_d0f5_707e);
    let mut ids: Vec<RunId> = vec![store.runs(None, None, Some(1)).unwrap()[0].id];
    reset_peak();
    let mut week_times = Vec::new();
    let mut week_cpu = Vec::new();
    for w in 1..=weeks {
        let flipped = churn(&mut findings, &flippable, &mut rng, kind);
        let mut r = run.clone();
        r.started_at = run.started_at + chrono::Duration::weeks(w as i64);
        r.finished_at = r.started_at + chrono::Duration::seconds(40);
        let (t, c) = (Instant::now(), cpu_s());
        ids.push(
            store
                .record_audit(&r, &findings)
                .expect("weekly audit recorded"),
        );
        let e = t.elapsed().as_secs_f64();
        week_times.push(e);
        week_cpu.push(cpu_s() - c);
        if w % 13 == 0 || w == weeks {
            eprintln!("{label}: week {w}: {flipped} flipped, recorded in {e:.2} s");
        }
    }
    let peak_record = peak_mb();
    // `rampart diff` does not hold an audit's findings: measure the diff without them.
    drop(findings);
    reset_peak();
    let time_diff = |store: &Store, a: RunId, b: RunId| {
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut items = 0;
        for _ in 0..5 {
            let (t, c) = (Instant::now(), cpu_s());
            items = store.diff(a, b).expect("diff").items.len();
            times.push(t.elapsed().as_secs_f64());
            cpu.push(cpu_s() - c);
        }
        (median(times), median(cpu), items)
    };
    let last = *ids.last().unwrap();
    let (diff_first_last, diff_first_last_cpu, items_first_last) = time_diff(&store, ids[0], last);
    let (diff_last_two, diff_last_two_cpu, items_last_two) =
        time_diff(&store, ids[ids.len().saturating_sub(2)], last);
    let peak_diff = peak_mb();
    let t = Instant::now();
    let all = store.findings().expect("findings");
    let findings_read = t.elapsed().as_secs_f64();
    eprintln!(
        "{label}: findings() read {} lifecycles in {findings_read:.2} s",
        all.len()
    );
    drop(all);
    let events = store.counts().expect("counts").get("finding_events");
    (
        Weekly {
            first_record,
            first_cpu,
            week_times,
            week_cpu,
            diff_first_last,
            diff_first_last_cpu,
            diff_last_two,
            diff_last_two_cpu,
            items_first_last,
            items_last_two,
            events,
            findings_read,
            peak_record,
            peak_diff,
        },
        store,
    )
}

fn report(label: &str, w: &Weekly, size: String) {
    let list = |v: &[f64]| {
        v.iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("{label}:");
    println!(
        "  first audit recorded: median {:.2} s wall, {:.2} s CPU in this process, of {} (wall: {}; CPU: {})",
        median(w.first_record.clone()),
        median(w.first_cpu.clone()),
        w.first_record.len(),
        list(&w.first_record),
        list(&w.first_cpu)
    );
    if !w.week_times.is_empty() {
        println!(
            "  {} weekly audits with 2 % churn: median {:.2} s wall ({:.2} s CPU) per week, slowest {:.2} s wall, total {:.1} s wall",
            w.week_times.len(),
            median(w.week_times.clone()),
            median(w.week_cpu.clone()),
            w.week_times.iter().cloned().fold(0.0, f64::max),
            w.week_times.iter().sum::<f64>()
        );
    }
    println!(
        "  size after the weekly runs: {size}; finding events: {}",
        w.events
    );
    println!(
        "  diff first → last: median {:.3} s wall, {:.3} s CPU ({} items); last two: median {:.3} s wall, {:.3} s CPU ({} items)",
        w.diff_first_last,
        w.diff_first_last_cpu,
        w.items_first_last,
        w.diff_last_two,
        w.diff_last_two_cpu,
        w.items_last_two
    );
    println!("  findings() of every lifecycle: {:.2} s", w.findings_read);
    println!(
        "  peak RSS while recording the weekly runs: {:.0} MB; while diffing: {:.0} MB",
        w.peak_record, w.peak_diff
    );
}

/// The organization's first audit: the run and its findings (the snapshot is dropped).
fn generate(accounts: usize, regions: usize) -> (AuditRun, Vec<Finding>) {
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

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = args.first().copied().unwrap_or(1000);
    let regions = args.get(1).copied().unwrap_or(17);
    let weeks = args.get(2).copied().unwrap_or(52);
    let repeats = args.get(3).copied().unwrap_or(3).max(1);

    let kind = match std::env::var("RAMPART_BENCH_CHURN").as_deref() {
        Ok("random") => Churn::Random,
        _ => Churn::Balanced,
    };
    let (run, findings) = generate(accounts, regions);
    let fails = findings.iter().filter(|f| f.status == Status::Fail).count();
    println!(
        "store benchmark: {accounts} accounts x {regions} regions, {} findings ({fails} FAIL), {weeks} weekly runs with {} churn, {repeats} repeats of the first audit",
        findings.len(),
        if kind == Churn::Random {
            "random"
        } else {
            "balanced"
        }
    );
    reset_peak();

    // SQLite.
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut n = 0;
    let path_of = |n: usize| dir.path().join(format!("bench-{n}.db"));
    let mut new_sqlite = || {
        n += 1;
        let _ = std::fs::remove_file(path_of(n - 1));
        Store::open(&format!("sqlite://{}", path_of(n).display())).expect("SQLite store")
    };
    let (sqlite, store) = measure(
        "sqlite",
        &mut new_sqlite,
        &run,
        findings,
        weeks,
        repeats,
        kind,
    );
    drop(store); // closes the file: the WAL is checkpointed into it
    let db = path_of(n);
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = db.with_extension("db-wal");
    let file_mb = (size(&db) + size(&wal)) as f64 / 1e6;
    if let Ok(keep) = std::env::var("RAMPART_BENCH_KEEP") {
        // For profiling queries against the benchmark's store afterwards.
        std::fs::copy(&db, &keep).expect("copy of the SQLite store");
        eprintln!("kept the SQLite store as {keep}");
    }
    report("SQLite", &sqlite, format!("file {file_mb:.1} MB"));

    // PostgreSQL.
    if std::env::var("RAMPART_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        println!("PostgreSQL: skipped (RAMPART_SKIP_POSTGRES=1)");
        return;
    }
    let cluster = PgCluster::start(Durability::Full).unwrap_or_else(|e| panic!("{e}"));
    let mut new_pg = || Store::open(&cluster.create_database().expect("database")).expect("store");
    let (_, findings) = generate(accounts, regions);
    reset_peak();
    let (pg, store) = measure(
        "postgres",
        &mut new_pg,
        &run,
        findings,
        weeks,
        repeats,
        kind,
    );
    drop(store);
    let url = cluster.url(&format!("rampart_test_{}", repeats - 1));
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let bytes: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .expect("database size")
        .get(0);
    report(
        "PostgreSQL",
        &pg,
        format!("database {:.1} MB", bytes as f64 / 1e6),
    );
}
