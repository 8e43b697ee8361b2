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
//! the SQLite store (the weekly report benchmark, `rampart-report/benches/weekly.rs`, reuses it
//! with `RAMPART_BENCH_STORE=PATH`). The organization and its churn are in
//! `benches/support/history.rs`, shared with that benchmark.

#[path = "support/history.rs"]
mod history;

use history::{Churn, WeeklyAudits, cpu_s, generate, median, peak_mb, reset_peak};
use rampart_core::Status;
use rampart_store::testing::{Durability, PgCluster};
use rampart_store::{RunId, Store};
use std::time::Instant;

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
    mut audits: WeeklyAudits,
    weeks: usize,
    repeats: usize,
) -> (Weekly, Store) {
    let mut first_record = Vec::new();
    let mut first_cpu = Vec::new();
    let mut store = None;
    for i in 0..repeats {
        drop(store.take());
        let mut s = new_store();
        let (t, c) = (Instant::now(), cpu_s());
        let (run, findings) = audits.first();
        s.record_audit(run, findings).expect("first audit recorded");
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
    let mut ids: Vec<RunId> = vec![store.runs(None, None, Some(1)).unwrap()[0].id];
    reset_peak();
    let mut week_times = Vec::new();
    let mut week_cpu = Vec::new();
    for w in 1..=weeks {
        let (r, findings, flipped) = audits.next_week();
        let (t, c) = (Instant::now(), cpu_s());
        ids.push(
            store
                .record_audit(&r, findings)
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
    drop(audits);
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

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = args.first().copied().unwrap_or(1000);
    let regions = args.get(1).copied().unwrap_or(17);
    let weeks = args.get(2).copied().unwrap_or(52);
    let repeats = args.get(3).copied().unwrap_or(3).max(1);

    let kind = Churn::from_env();
    let (run, findings) = generate(accounts, regions);
    let fails = findings.iter().filter(|f| f.status == Status::Fail).count();
    println!(
        "store benchmark: {accounts} accounts x {regions} regions, {} findings ({fails} FAIL), {weeks} weekly runs with {} churn, {repeats} repeats of the first audit",
        findings.len(),
        kind.name()
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
        WeeklyAudits::new(run, findings, kind),
        weeks,
        repeats,
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
    let (run, findings) = generate(accounts, regions);
    reset_peak();
    let (pg, store) = measure(
        "postgres",
        &mut new_pg,
        WeeklyAudits::new(run, findings, kind),
        weeks,
        repeats,
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
