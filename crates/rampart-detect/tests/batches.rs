//! Evaluating events a run at a time (`Detector::process_events`, as `rampart detect` does) gives
//! exactly what evaluating them one by one gives: the same alerts in the same order, the same
//! counts, the same issues; with a time window and baselines on.

use rampart_detect::baseline::{Baseline, BaselineConfig};
use rampart_detect::input::{Parsed, ReadStats, Reader};
use rampart_detect::{Alert, BuiltinConfig, DetectStats, Detector, Engine};
use std::path::{Path, PathBuf};

mod common;
use common::corpora;

fn engine() -> Engine {
    // no allowed regions: the region rule stays off, so most events raise no alert and the
    // baselines see events that no rule matched
    common::engine(&BuiltinConfig::default())
}

struct Outcome {
    alerts: Vec<String>,
    stats: DetectStats,
    issues: Vec<String>,
}

fn detect(engine: &Engine, files: &[PathBuf], store: &Path, batched: bool) -> Outcome {
    let since = rampart_detect::alert::parse_time("2023-01-01T00:00:00Z");
    let until = rampart_detect::alert::parse_time("2024-09-30T00:00:00Z");
    let baseline = Baseline::open(
        store,
        // Learning is per principal, and each principal of the corpus (a detonation's user or
        // role) is active for an hour at most: a short period lets the busier ones leave it, so
        // the baselines raise alerts.
        BaselineConfig {
            learning_secs: 300,
            ..Default::default()
        },
    )
    .unwrap();
    let mut det = Detector::new(engine, 300)
        .window(since, until)
        .with_baseline(baseline);
    let mut reader = Reader::new();
    let (mut st, mut read_issues) = (ReadStats::default(), Vec::new());
    let mut alerts: Vec<Alert> = Vec::new();
    let mut issues = Vec::new();
    for f in files {
        let name = f.display().to_string();
        if batched {
            reader.read_file_batches(f, &mut st, &mut read_issues, &mut |p: Parsed<'_, '_>| {
                if let Err(i) =
                    det.process_parsed(p, &|n| format!("{name}:record {n}"), &mut alerts)
                {
                    issues.push(i.to_string());
                }
            });
        } else {
            reader.read_file_events(f, &mut st, &mut read_issues, &mut |ev, n| {
                if let Err(i) = det.process_event(ev, &|| format!("{name}:record {n}"), &mut alerts)
                {
                    issues.push(i.to_string());
                }
            });
        }
    }
    det.finish(&mut alerts).unwrap();
    issues.extend(read_issues.iter().map(|i| i.to_string()));
    Outcome {
        alerts: alerts.iter().map(Alert::to_json_line).collect(),
        stats: det.stats,
        issues,
    }
}

#[test]
fn runs_of_events_alert_as_events_one_by_one() {
    let engine = engine();
    let files = rampart_detect::input::discover(&corpora().join("cloudtrail"), None, None).unwrap();
    assert!(files.len() > 10, "corpus missing: {files:?}");
    let dir = tempfile::tempdir().unwrap();
    let one = detect(&engine, &files, &dir.path().join("one.db"), false);
    let runs = detect(&engine, &files, &dir.path().join("runs.db"), true);
    assert!(
        one.stats.events > 1000 && one.stats.out_of_window > 0,
        "{:?}",
        one.stats
    );
    assert!(one.alerts.len() > 100, "{}", one.alerts.len());
    assert!(
        one.alerts.iter().any(|a| a.contains("RD-BASE")),
        "baselines fired"
    );
    // baseline alerts name the record they were raised on, as rule alerts do
    for a in one.alerts.iter().filter(|a| a.contains("\"RD-BASE-")) {
        assert!(a.contains(":record "), "{a}");
    }
    assert!(
        one.stats.alerted_events * 2 < one.stats.events,
        "{:?}",
        one.stats
    );
    assert_eq!(one.stats, runs.stats);
    assert_eq!(one.issues, runs.issues);
    assert_eq!(one.alerts.len(), runs.alerts.len());
    for (a, b) in one.alerts.iter().zip(&runs.alerts) {
        assert_eq!(a, b);
    }
}
