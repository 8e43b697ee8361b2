//! Benchmark: evaluate every control over a generated organization snapshot on one core.
//!
//! ```text
//! cargo run --release -p rampart-core --example bench_audit -- [ACCOUNTS] [REGIONS] [RUNS]
//! ```
//! Defaults: 1,000 accounts × 17 regions, 7 runs. Prints each run and the median. The snapshot
//! is generated in memory (`rampart_core::sample::synthetic_org`); a second measurement
//! includes loading it from JSON, as `rampart audit --snapshot FILE` does.

use rampart_core::{AuditSettings, Status, evaluate, sample};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = args.first().copied().unwrap_or(1000);
    let regions = args.get(1).copied().unwrap_or(17);
    let runs = args.get(2).copied().unwrap_or(7).max(1);

    let t = Instant::now();
    let snapshot = sample::synthetic_org(accounts, regions);
    let json = snapshot.to_json();
    eprintln!(
        "generated {} accounts x {} regions in {:.2} s ({:.1} MB of snapshot JSON)",
        snapshot.accounts.len(),
        regions,
        t.elapsed().as_secs_f64(),
        json.len() as f64 / 1e6
    );
    let settings = AuditSettings::default();
    let mut eval_times = Vec::new();
    let mut load_eval_times = Vec::new();
    let mut parse_times = Vec::new();
    let mut last = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let findings = evaluate(&snapshot, &settings);
        let e = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let loaded = rampart_snapshot::Snapshot::from_json("bench.json", &json)
            .expect("generated snapshot loads");
        let pe = t.elapsed().as_secs_f64();
        let again = evaluate(&loaded, &settings);
        let le = t.elapsed().as_secs_f64();
        parse_times.push(pe);
        assert_eq!(again.len(), findings.len());
        eprintln!(
            "run {}: evaluate {:.3} s, parse JSON {:.3} s, parse + evaluate {:.3} s, {} findings",
            i + 1,
            e,
            pe,
            le,
            findings.len()
        );
        eval_times.push(e);
        load_eval_times.push(le);
        last = findings;
    }
    let count = |s: Status| last.iter().filter(|f| f.status == s).count();
    println!(
        "accounts={} regions={} findings={} pass={} fail={} error={} evaluate_median_s={:.3} json_parse_median_s={:.3} load_and_evaluate_median_s={:.3}",
        snapshot.accounts.len(),
        regions,
        last.len(),
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Error),
        median(eval_times),
        median(parse_times),
        median(load_eval_times)
    );
}
