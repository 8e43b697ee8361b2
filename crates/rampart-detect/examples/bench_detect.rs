//! End-to-end detection benchmark (see docs/bench-detect.md).
//!
//! Builds N realistic events from the CloudTrail corpora (unique eventIDs, advancing eventTimes)
//! into ~1,000-record `.json.gz` files, then measures in the same run:
//! - floor: decompress + read each record's header (one scan per record), no rules;
//! - dom:   the floor plus a full `serde_json::Value` per event (reference only);
//! - detect: decompress → rules (all built-in + Sigma when available) → aggregated alerts;
//!
//! on 1 and 2 threads (detect on two as `rampart detect --threads 2` runs it, with the same
//! alerts as one), median of `RUNS` runs, with peak RSS per phase.
//!
//! `cargo run --release -p rampart-detect --example bench_detect -- [EVENTS] [DIR]`

use rampart_detect::input::{Parsed, ReadStats, Reader};
use rampart_detect::parallel::{Settings, detect_files};
use rampart_detect::{BuiltinConfig, Detector, Engine, builtin};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The allocator the `rampart` binary uses, so the benchmark allocates as the CLI does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The binary's allocator settings (one file serves both).
#[path = "../../rampart/src/allocator.rs"]
mod allocator;

const PER_FILE: usize = 1000;
/// Interleaved runs per mode and thread count (`BENCH_RUNS` overrides).
const RUNS: usize = 3;

fn runs_wanted() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(RUNS)
}
/// Paired runs (each ~5 s on 1,000,000 events): the median of five moves less with the load.
const PAIRED_RUNS: usize = 5;
static DOCS: AtomicUsize = AtomicUsize::new(0);
static CANDS: AtomicUsize = AtomicUsize::new(0);

fn corpus_events() -> Vec<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/cloudtrail");
    let files = rampart_detect::input::discover(&root, None, None).expect("corpus");
    let mut out = Vec::new();
    let mut r = Reader::new();
    for f in files {
        let mut st = ReadStats::default();
        let mut issues = Vec::new();
        r.read_file(&f, &mut st, &mut issues, &mut |raw, _| {
            if let Ok(v) = serde_json::from_slice::<Value>(raw)
                && v.get("eventName").is_some()
            {
                out.push(v);
            }
        });
    }
    out
}

fn build(dir: &Path, n: usize) -> Vec<PathBuf> {
    let marker = dir.join(format!("READY-{n}"));
    let list = |dir: &Path| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
            .collect();
        v.sort();
        v
    };
    if marker.exists() {
        return list(dir);
    }
    std::fs::create_dir_all(dir).unwrap();
    let base = corpus_events();
    eprintln!(
        "building {n} events from {} corpus events into {}",
        base.len(),
        dir.display()
    );
    let t0 = rampart_detect::alert::parse_time("2024-08-01T00:00:00Z").unwrap();
    let mut i = 0usize;
    let mut file_no = 0;
    while i < n {
        let count = PER_FILE.min(n - i);
        let mut records = Vec::with_capacity(count);
        for _ in 0..count {
            let mut e = base[i % base.len()].clone();
            e["eventID"] = Value::String(format!("{:08x}-0000-4000-8000-{:012x}", i / 7919, i));
            let t = t0 + (i as i64) / 10;
            let (d, s) = (t.div_euclid(86400), t.rem_euclid(86400));
            e["eventTime"] = Value::String(format!(
                "{}T{:02}:{:02}:{:02}Z",
                civil(d),
                s / 3600,
                s % 3600 / 60,
                s % 60
            ));
            records.push(e);
            i += 1;
        }
        let body = serde_json::to_vec(&serde_json::json!({"Records": records})).unwrap();
        let f = std::fs::File::create(dir.join(format!(
            "111122223333_CloudTrail_eu-west-1_{file_no:06}.json.gz"
        )))
        .unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::new(6));
        gz.write_all(&body).unwrap();
        gz.finish().unwrap();
        file_no += 1;
    }
    std::fs::write(&marker, b"").unwrap();
    list(dir)
}

fn civil(days: i64) -> String {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Floor,
    Dom,
    Detect,
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// CPU seconds (user + system) this process has used: on a shared, loaded machine the work
/// per CPU-second is steadier than wall time.
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name
    (tick(11) + tick(12)) / 100.0
}

/// The floor's work per event: read one header field (the event is parsed already).
fn floor_pass(evs: &[rampart_detect::Event<'_>]) {
    for e in evs {
        std::hint::black_box(e.header().event_name.is_some());
    }
}

/// Returns (events, alerts, wall seconds, CPU seconds).
fn run(files: &[PathBuf], engine: &Engine, mode: Mode, threads: usize) -> (u64, u64, f64, f64) {
    if mode == Mode::Detect && threads > 1 {
        return run_parallel(files, engine, threads);
    }
    let next = AtomicUsize::new(0);
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let results: Vec<(u64, u64)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut reader = Reader::new();
                    let mut det = Detector::new(engine, 300);
                    let mut alerts = Vec::new();
                    let mut n_alerts = 0u64;
                    let mut events = 0u64;
                    let mut issues = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        let mut st = ReadStats::default();
                        reader.read_file_batches(f, &mut st, &mut issues, &mut |p| {
                            let Parsed::Events(evs, numbers) = p else {
                                panic!("every benchmark record is an event")
                            };
                            events += evs.len() as u64;
                            match mode {
                                Mode::Floor => floor_pass(evs),
                                Mode::Dom => {
                                    for e in evs {
                                        let v: Value =
                                            serde_json::from_slice(e.raw()).expect("valid");
                                        std::hint::black_box(v.is_object());
                                    }
                                }
                                Mode::Detect => det.process_events(
                                    evs,
                                    numbers,
                                    &|_| String::new(),
                                    &mut alerts,
                                ),
                            }
                        });
                        n_alerts += alerts.len() as u64;
                        alerts.clear();
                    }
                    det.finish(&mut alerts).unwrap();
                    if mode == Mode::Detect {
                        DOCS.fetch_add(det.stats.eval.docs_built as usize, Ordering::Relaxed);
                        CANDS.fetch_add(det.stats.eval.candidates as usize, Ordering::Relaxed);
                    }
                    n_alerts += alerts.len() as u64;
                    assert!(issues.is_empty(), "{issues:?}");
                    (events, n_alerts)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let ev = results.iter().map(|r| r.0).sum();
    let al = results.iter().map(|r| r.1).sum();
    (ev, al, secs, cpu)
}

/// Detection on several threads as `rampart detect --threads N` runs it: workers read and
/// evaluate files, this thread aggregates each file's alerts in file order (the same alerts
/// as one thread). Returns (events, alerts, wall seconds, CPU seconds).
fn run_parallel(files: &[PathBuf], engine: &Engine, threads: usize) -> (u64, u64, f64, f64) {
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let settings = Settings {
        threads,
        since: None,
        until: None,
        origin: &|_, _| String::new(),
    };
    let mut det = Detector::new(engine, 300);
    let mut alerts = Vec::new();
    let mut n_alerts = 0u64;
    detect_files(engine, files, &settings, &mut |mut done| {
        assert!(done.issues.is_empty(), "{:?}", done.issues);
        det.absorb(&mut done, &mut alerts);
        n_alerts += alerts.len() as u64;
        alerts.clear();
    });
    det.finish(&mut alerts).unwrap();
    n_alerts += alerts.len() as u64;
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    DOCS.fetch_add(det.stats.eval.docs_built as usize, Ordering::Relaxed);
    CANDS.fetch_add(det.stats.eval.candidates as usize, Ordering::Relaxed);
    (det.stats.events, n_alerts, secs, cpu)
}

/// Floor and detect on one thread, paired chunk by chunk: each chunk of `CHUNK` files is read
/// by the floor and then by detect (the order alternating chunk by chunk), and each mode's time
/// is the sum over chunks. Load from other tenants of a shared machine changes over seconds; a
/// chunk takes a tenth of one, so both modes meet the same load and their ratio holds still.
/// Returns (floor seconds, detect seconds, alerts).
///
/// `BENCH_PAIRED_EVAL=1` replaces the detect side by rule evaluation alone (no alerts built,
/// grouped or aggregated): where the time of the alert path shows.
fn paired(files: &[PathBuf], engine: &Engine) -> (f64, f64, u64) {
    const CHUNK: usize = 20;
    let eval_only = std::env::var_os("BENCH_PAIRED_EVAL").is_some();
    let mut reader = Reader::new();
    let mut det = Detector::new(engine, 300);
    let mut memo = rampart_detect::engine::ValueMemo::default();
    let mut alerts = Vec::new();
    let mut n_alerts = 0u64;
    let mut issues = Vec::new();
    let (mut floor, mut detect) = (0.0, 0.0);
    for (c, chunk) in files.chunks(CHUNK).enumerate() {
        for pass in 0..2 {
            let is_floor = (pass == 0) == (c % 2 == 0);
            let start = Instant::now();
            for f in chunk {
                let mut st = ReadStats::default();
                reader.read_file_batches(f, &mut st, &mut issues, &mut |p| {
                    let Parsed::Events(evs, numbers) = p else {
                        panic!("every benchmark record is an event")
                    };
                    if is_floor {
                        floor_pass(evs);
                    } else if eval_only {
                        let mut st = rampart_detect::EvalStats::default();
                        for e in evs {
                            engine.evaluate_with(e, Some(&mut memo), &mut st, |i| {
                                std::hint::black_box(i);
                            });
                        }
                    } else {
                        det.process_events(evs, numbers, &|_| String::new(), &mut alerts);
                    }
                });
            }
            // the alerts are consumed (dropped) inside the timed span, as `run` does per file
            n_alerts += alerts.len() as u64;
            alerts.clear();
            let t = start.elapsed().as_secs_f64();
            if is_floor {
                floor += t;
            } else {
                detect += t;
            }
        }
    }
    det.finish(&mut alerts).unwrap();
    n_alerts += alerts.len() as u64;
    assert!(issues.is_empty(), "{issues:?}");
    (floor, detect, n_alerts)
}

fn main() {
    allocator::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rampart-bench-detect"));
    let files = build(&dir, n);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mut rules: Vec<_> = builtin(&BuiltinConfig {
        allowed_regions: vec!["eu-west-1".into(), "us-east-1".into(), "us-west-2".into()],
        ..Default::default()
    })
    .into_iter()
    .filter(|b| b.disabled.is_none())
    .map(|b| b.rule)
    .collect();
    let sigma = sigma_rules();
    let n_sigma = sigma.len();
    rules.extend(sigma);
    let engine = Engine::new(rules);
    println!(
        "{} files, {} events, {:.1} MB gzip; {} rules ({} Sigma), {} unindexed",
        files.len(),
        n,
        bytes as f64 / 1e6,
        engine.rules().len(),
        n_sigma,
        engine.unindexed()
    );
    println!(
        "{:<8} {:>7} {:>10} {:>14} {:>9} {:>8} {:>10} {:>16} {:>8}",
        "mode",
        "threads",
        "median s",
        "events/s",
        "alerts",
        "xfloor",
        "peak MB",
        "events/CPU-s",
        "xfloor"
    );
    // BENCH_ONLY=floor|dom|detect runs one mode alone, once, on one thread (for perf and
    // callgrind); BENCH_ONLY_DETECT=1 is the older spelling of BENCH_ONLY=detect.
    // BENCH_PAIRED_ONLY=1 stops after the paired floor/detect measurement.
    let only = std::env::var("BENCH_ONLY")
        .ok()
        .or_else(|| std::env::var_os("BENCH_ONLY_DETECT").map(|_| "detect".to_string()));
    let (modes, runs, thread_counts): (Vec<Mode>, usize, &[usize]) = match only.as_deref() {
        Some("floor") => (vec![Mode::Floor], 1, &[1]),
        Some("dom") => (vec![Mode::Dom], 1, &[1]),
        Some("detect") => (vec![Mode::Detect], 1, &[1]),
        Some(other) => panic!("BENCH_ONLY={other}: expected floor, dom or detect"),
        None => (
            vec![Mode::Floor, Mode::Dom, Mode::Detect],
            runs_wanted(),
            &[1, 2],
        ),
    };
    if only.is_none() {
        // warm the page cache so the first measured mode is not penalised
        run(&files, &engine, Mode::Floor, 1);
    }
    if only.is_none() {
        let mut runs: Vec<(f64, f64, u64)> =
            (0..PAIRED_RUNS).map(|_| paired(&files, &engine)).collect();
        runs.sort_by(|a, b| (a.1 / a.0).partial_cmp(&(b.1 / b.0)).unwrap());
        let (f, d, al) = runs[PAIRED_RUNS / 2];
        println!(
            "paired   {:>7} {:>10.3} {:>14.0} {:>9}   floor {:.3} s ({:.0} events/s); detect/floor ratios: {:?}",
            1,
            d,
            n as f64 / d,
            al,
            f,
            n as f64 / f,
            runs.iter()
                .map(|r| (r.1 / r.0 * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
    }
    if std::env::var_os("BENCH_PAIRED_ONLY").is_some() {
        return;
    }
    if only.is_none() {
        // two cores against one, paired: detection over all files on one thread and on two,
        // in alternating order, the ratio taken per pair (both meet the same load)
        let mut pairs: Vec<(f64, f64)> = (0..PAIRED_RUNS)
            .map(|k| {
                let order: [usize; 2] = if k % 2 == 0 { [1, 2] } else { [2, 1] };
                let mut secs = [0.0; 2];
                for threads in order {
                    secs[threads - 1] = run(&files, &engine, Mode::Detect, threads).2;
                }
                (secs[0], secs[1])
            })
            .collect();
        pairs.sort_by(|a, b| (a.0 / a.1).partial_cmp(&(b.0 / b.1)).unwrap());
        DOCS.store(0, Ordering::Relaxed);
        CANDS.store(0, Ordering::Relaxed);
        let (one, two) = pairs[PAIRED_RUNS / 2];
        println!(
            "scaling  {:>7} {:>10.3} {:>14.0} {:>9}   one thread {:.3} s ({:.0} events/s); two/one speed-ups: {:?}",
            2,
            two,
            n as f64 / two,
            "",
            one,
            n as f64 / one,
            pairs
                .iter()
                .map(|p| (p.0 / p.1 * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
    }
    let mut detect_alerts: Option<u64> = None;
    for &threads in thread_counts {
        // interleave the modes run by run so that background load hits them alike
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
        let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
        let mut peaks = vec![0.0f64; modes.len()];
        let mut counts = vec![(0u64, 0u64); modes.len()];
        for _ in 0..runs {
            for (m, mode) in modes.iter().enumerate() {
                reset_peak();
                let (ev, al, s, c) = run(&files, &engine, *mode, threads);
                times[m].push(s);
                cpus[m].push(c);
                peaks[m] = peaks[m].max(peak_rss_mb());
                counts[m] = (ev, al);
                if *mode == Mode::Detect {
                    // the alerts do not depend on the number of threads
                    assert_eq!(*detect_alerts.get_or_insert(al), al, "{threads} threads");
                }
            }
        }
        let mut floor_rate = 0.0;
        let mut floor_cpu_rate = 0.0;
        for (m, mode) in modes.iter().enumerate() {
            times[m].sort_by(|a, b| a.partial_cmp(b).unwrap());
            cpus[m].sort_by(|a, b| a.partial_cmp(b).unwrap());
            let med = times[m][runs / 2];
            let rate = counts[m].0 as f64 / med;
            let cpu_rate = counts[m].0 as f64 / cpus[m][runs / 2].max(1e-9);
            if *mode == Mode::Floor {
                floor_rate = rate;
                floor_cpu_rate = cpu_rate;
            }
            let name = match mode {
                Mode::Floor => "floor",
                Mode::Dom => "dom",
                Mode::Detect => "detect",
            };
            if *mode == Mode::Detect {
                println!(
                    "         (per run: {} events met a candidate rule, {} documents built)",
                    CANDS.swap(0, Ordering::Relaxed) / runs,
                    DOCS.swap(0, Ordering::Relaxed) / runs
                );
            }
            println!(
                "{:<8} {:>7} {:>10.3} {:>14.0} {:>9} {:>8.2} {:>10.1} {:>16.0} {:>8.2}   runs: {:?}",
                name,
                threads,
                med,
                rate,
                counts[m].1,
                floor_rate / rate,
                peaks[m],
                cpu_rate,
                floor_cpu_rate / cpu_rate,
                times[m]
                    .iter()
                    .map(|t| (t * 1000.0).round() / 1000.0)
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// Every supported SigmaHQ rule of the corpus.
fn sigma_rules() -> Vec<rampart_detect::Rule> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/sigma-aws");
    rampart_detect::sigma::load_dir(&dir)
        .expect("Sigma corpus")
        .rules
}
