//! Benchmark of `rampart report weekly` over a year of history (issue 16).
//!
//! ```text
//! cargo bench -p rampart-report --bench weekly -- [ACCOUNTS] [REGIONS] [WEEKS] [REPEATS]
//! ```
//! Defaults: 1,000 accounts × 17 regions, 52 weekly runs, 5 repeats. The history is the store
//! benchmark's (`rampart-store/benches/support/history.rs`: the synthetic organization's first
//! audit, then WEEKS weekly audits with 2 % churn), recorded into SQLite and copied into a
//! throwaway PostgreSQL cluster with `Store::copy_to`. Measured on each backend, with `now` an
//! hour after the last audit and a 7-day period (the last week):
//!
//! - what `rampart report weekly` does: open the store, `weekly::build`, render HTML (wall and
//!   this process's CPU, median of REPEATS), then Markdown and JSON renders of the same report;
//! - each store query the builder makes, timed alone (to see where the time goes);
//! - `store.diff(last - 1, last)` for comparison (median of REPEATS);
//! - peak resident memory of the report (`VmHWM`, reset after the history is generated).
//!
//! `RAMPART_BENCH_STORE=PATH` reuses the SQLite store at PATH (or records it there when the file
//! does not exist; the store benchmark's `RAMPART_BENCH_KEEP=PATH` writes the same file), so the
//! ten minutes of recording are paid once. `RAMPART_SKIP_POSTGRES=1` measures SQLite only.

#[path = "../../rampart-store/benches/support/history.rs"]
mod history;

use history::{Churn, WeeklyAudits, cpu_s, generate, median, peak_mb, reset_peak};
use rampart_report::weekly::{self, WeeklyFormat};
use rampart_store::testing::{Durability, PgCluster};
use rampart_store::{RunKind, Store, Time};
use std::time::Instant;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Times `f` once: (wall seconds, CPU seconds of this process, its result).
fn timed<T>(f: impl FnOnce() -> T) -> (f64, f64, T) {
    let (t, c) = (Instant::now(), cpu_s());
    let out = f();
    (t.elapsed().as_secs_f64(), cpu_s() - c, out)
}

/// Records the first audit and `weeks` weekly audits into the store at `url`.
fn record_history(url: &str, accounts: usize, regions: usize, weeks: usize) {
    let (run, findings) = generate(accounts, regions);
    let mut audits = WeeklyAudits::new(run, findings, Churn::from_env());
    let mut store = Store::open(url).unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let (first, findings) = audits.first();
    store.record_audit(first, findings).expect("first audit");
    for w in 1..=weeks {
        let (run, findings, _) = audits.next_week();
        store.record_audit(&run, findings).expect("weekly audit");
        if w % 13 == 0 || w == weeks {
            eprintln!(
                "recorded week {w} of {weeks} ({:.0} s so far)",
                t.elapsed().as_secs_f64()
            );
        }
    }
}

fn measure(label: &str, url: &str, weeks: usize, repeats: usize) {
    let store = Store::open(url).unwrap_or_else(|e| panic!("{e}"));
    let audits = store
        .runs(Some(RunKind::Audit), None, None)
        .expect("audit runs");
    assert_eq!(
        audits.len(),
        weeks + 1,
        "{label}: the store holds {} audits, not {} (first + {weeks} weekly): point RAMPART_BENCH_STORE at a new file",
        audits.len(),
        weeks + 1
    );
    let (last, previous) = (&audits[0], &audits[1]);
    let now: Time = last.started_at + chrono::Duration::hours(1);
    let period = chrono::Duration::days(7);
    drop(store);
    reset_peak();

    // What `rampart report weekly` does, from opening the store to the HTML page.
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut report = None;
    let mut html_len = 0;
    for _ in 0..repeats {
        let (w, c, r) = timed(|| {
            let store = Store::open(url).unwrap_or_else(|e| panic!("{e}"));
            let report = weekly::build(&store, now, period).unwrap_or_else(|e| panic!("{e}"));
            let html = weekly::render(&report, WeeklyFormat::Html);
            (report, html.len())
        });
        wall.push(w);
        cpu.push(c);
        html_len = r.1;
        report = Some(r.0);
    }
    let peak_report = peak_mb();
    let report = report.expect("at least one repeat");
    let (md_wall, _, md) = timed(|| weekly::render(&report, WeeklyFormat::Markdown).len());
    let (json_wall, _, json) = timed(|| weekly::render(&report, WeeklyFormat::Json).len());

    // Each query the builder makes, alone.
    let store = Store::open(url).unwrap_or_else(|e| panic!("{e}"));
    let trend_start = now - chrono::Duration::weeks(weekly::TREND_WEEKS as i64);
    let mut queries: Vec<(String, f64, f64)> = Vec::new();
    let mut query = |name: &str, f: &dyn Fn() -> usize| {
        let (w, c, n) = timed(f);
        queries.push((format!("{name} ({n} rows)"), w, c));
    };
    query("runs(audit)", &|| {
        store.runs(Some(RunKind::Audit), None, None).unwrap().len()
    });
    query("account_scores(since the trend's start)", &|| {
        store
            .account_scores(previous.started_at.min(trend_start))
            .unwrap()
            .len()
    });
    query("diff(last - 1, last)", &|| {
        store.diff(previous.id, last.id).unwrap().items.len()
    });
    query("remediations(trend)", &|| {
        store.remediations(trend_start, now).unwrap().len()
    });
    query("acceptances()", &|| store.acceptances().unwrap().len());
    query("suppressed_findings()", &|| {
        store.suppressed_findings().unwrap().len()
    });
    query(
        "open_findings() (only without an audit before the period)",
        &|| store.open_findings().unwrap().len(),
    );
    query(
        "findings() (every lifecycle; what the builder read before)",
        &|| store.findings().unwrap().len(),
    );
    query("alerts(period)", &|| {
        store.alerts(now - period, now).unwrap().len()
    });
    query("runs(drift) + changes + apply_entries", &|| {
        store
            .runs(Some(RunKind::Drift), Some(now - period), None)
            .unwrap()
            .len()
            + store.apply_entries(now - period, now).unwrap().len()
    });

    // The diff alone, as `rampart diff` would run it.
    let (mut diff_wall, mut diff_cpu) = (Vec::new(), Vec::new());
    let mut items = 0;
    for _ in 0..repeats {
        let (w, c, n) = timed(|| store.diff(previous.id, last.id).unwrap().items.len());
        diff_wall.push(w);
        diff_cpu.push(c);
        items = n;
    }

    let list = |v: &[f64]| {
        v.iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("{label}:");
    println!(
        "  report weekly (open + build + HTML): median {:.2} s wall, {:.2} s CPU of {repeats} (wall: {}; CPU: {})",
        median(wall.clone()),
        median(cpu.clone()),
        list(&wall),
        list(&cpu)
    );
    println!(
        "  the report: {} new, {} resolved, {} still open; HTML {:.1} MB, Markdown {:.1} MB in {md_wall:.2} s, JSON {:.1} MB in {json_wall:.2} s",
        report.counts.new,
        report.counts.resolved,
        report.counts.still_open,
        html_len as f64 / 1e6,
        md as f64 / 1e6,
        json as f64 / 1e6
    );
    println!(
        "  diff(last - 1, last), {items} items: median {:.2} s wall, {:.2} s CPU (wall: {}; CPU: {})",
        median(diff_wall.clone()),
        median(diff_cpu.clone()),
        list(&diff_wall),
        list(&diff_cpu)
    );
    println!("  peak RSS while reporting: {peak_report:.0} MB");
    println!("  store queries, one at a time (wall / CPU):");
    for (name, w, c) in &queries {
        println!("    {name}: {w:.3} s / {c:.3} s");
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = args.first().copied().unwrap_or(1000);
    let regions = args.get(1).copied().unwrap_or(17);
    let weeks = args.get(2).copied().unwrap_or(52).max(1);
    let repeats = args.get(3).copied().unwrap_or(5).max(1);
    println!(
        "weekly report benchmark: {accounts} accounts x {regions} regions, {weeks} weekly runs ({} churn), {repeats} repeats; load average {}",
        Churn::from_env().name(),
        load_average()
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let path = std::env::var("RAMPART_BENCH_STORE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("history.db"));
    let url = format!("sqlite://{}", path.display());
    if path.exists() {
        eprintln!("reusing the SQLite store {}", path.display());
    } else {
        let (w, c, ()) = timed(|| record_history(&url, accounts, regions, weeks));
        eprintln!(
            "recorded the history into {} in {w:.0} s ({c:.0} s CPU)",
            path.display()
        );
    }
    measure("SQLite", &url, weeks, repeats);
    println!("  load average now: {}", load_average());

    if std::env::var("RAMPART_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        println!("PostgreSQL: skipped (RAMPART_SKIP_POSTGRES=1)");
        return;
    }
    let cluster = PgCluster::start(Durability::Full).unwrap_or_else(|e| panic!("{e}"));
    let pg_url = cluster.create_database().unwrap_or_else(|e| panic!("{e}"));
    let (w, _, counts) = timed(|| {
        let sqlite = Store::open(&url).unwrap_or_else(|e| panic!("{e}"));
        let mut pg = Store::open(&pg_url).unwrap_or_else(|e| panic!("{e}"));
        sqlite.copy_to(&mut pg).unwrap_or_else(|e| panic!("{e}"))
    });
    eprintln!("copied the history into PostgreSQL in {w:.0} s ({counts})");
    reset_peak();
    measure("PostgreSQL", &pg_url, weeks, repeats);
    println!("  load average now: {}", load_average());
}
