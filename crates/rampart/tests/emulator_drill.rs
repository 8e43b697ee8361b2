//! `rampart drill` end to end against the moto emulator: each scenario acts in a sandbox account
//! reached through AssumeRole, the alert must reach a local webhook on 127.0.0.1, and no canary
//! may be left (checked through moto's own API). moto writes no CloudTrail, so this harness
//! plays CloudTrail: it tails the drill's `--call-log` and writes the record of each call into
//! the `--events` directory the drill reads (`rampart_drill::emulated`, a test-only function).
//! A sink that is down fails "alerted" and still cleans up.

#[path = "support/moto.rs"]
mod moto;

use moto::{Moto, python, rampart_command, repo, start_moto};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SANDBOX: &str = "210987654321";

/// A webhook on 127.0.0.1 that answers 200 and keeps each body.
struct HookSink {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

fn hook_sink() -> HookSink {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // read headers, then Content-Length bytes of body
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break String::new();
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                    }
                }
            };
            kept.lock().unwrap().push(body);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    HookSink { url, bodies }
}

/// Plays CloudTrail for the emulator: each call the drill logs becomes a record file in
/// `events` (written aside, then renamed in, as a delivery would appear).
struct FakeTrail {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl FakeTrail {
    fn start(call_log: PathBuf, events: PathBuf) -> FakeTrail {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut written = 0usize;
            let mut consumed = 0usize;
            loop {
                let text = std::fs::read_to_string(&call_log).unwrap_or_default();
                // only whole lines: the drill appends one line per call
                let complete = text.rfind('\n').map_or(0, |i| i + 1);
                for line in text[consumed.min(complete)..complete].lines() {
                    let call: rampart_drill::Call = call_of(line);
                    let rec = rampart_drill::emulated::cloudtrail_record(
                        &call,
                        SANDBOX,
                        "us-east-1",
                        written,
                    );
                    let tmp = events.join(format!(".{written}.tmp"));
                    std::fs::write(&tmp, serde_json::json!({"Records": [rec]}).to_string())
                        .unwrap();
                    std::fs::rename(&tmp, events.join(format!("{written:04}.json"))).unwrap();
                    written += 1;
                }
                consumed = complete;
                if stopped.load(Ordering::SeqCst) {
                    return written;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        FakeTrail {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// A call-log line back into the drill's call (the log is the drill's own serialization).
fn call_of(line: &str) -> rampart_drill::Call {
    let v: Value = serde_json::from_str(line).expect("call log line");
    rampart_drill::Call {
        event_source: v["event_source"].as_str().unwrap().into(),
        event_name: v["event_name"].as_str().unwrap().into(),
        params: v["params"].clone(),
        at_ms: v["at_ms"].as_i64().unwrap(),
        request_id: v["request_id"].as_str().map(str::to_string),
        error: v["error"].as_str().map(str::to_string),
    }
}

fn canaries(moto: &Moto, action: &str) -> Value {
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    let out = std::process::Command::new(python(&server))
        .arg(repo().join("crates/rampart/tests/support/drill_check.py"))
        .args([&moto.url, SANDBOX, action])
        .output()
        .expect("run drill_check.py");
    assert!(
        out.status.success(),
        "drill_check.py {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if action == "list" {
        serde_json::from_slice(&out.stdout).expect("canary listing")
    } else {
        Value::Null
    }
}

fn assert_no_canary(moto: &Moto, when: &str) {
    let left = canaries(moto, "list");
    for kind in ["users", "buckets", "trails"] {
        assert!(
            left[kind].as_array().unwrap().is_empty(),
            "{when}: canaries left: {left}"
        );
    }
}

/// Runs one drill; returns its JSON result, exit code and wall time.
fn drill(moto: &Moto, dir: &Path, scenario: &str, webhook: &str) -> (Value, i32, Duration) {
    let events = dir.join(format!("events-{scenario}"));
    std::fs::create_dir_all(&events).unwrap();
    let log = dir.join(format!("calls-{scenario}.jsonl"));
    let trail = FakeTrail::start(log.clone(), events.clone());
    let store = format!("sqlite://{}", dir.join("drills.db").display());
    let started = Instant::now();
    let out = rampart_command(
        &moto.url,
        &[
            "--format",
            "json",
            "--store",
            &store,
            "drill",
            scenario,
            "--account",
            SANDBOX,
            "--events",
            events.to_str().unwrap(),
            "--call-log",
            log.to_str().unwrap(),
            "--webhook",
            webhook,
            "--spool",
            dir.join("spool.jsonl").to_str().unwrap(),
            "--timeout",
            "30s",
            "--poll",
            "1s",
        ],
    )
    .output()
    .expect("run rampart drill");
    let took = started.elapsed();
    let records = trail.finish();
    let result: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "drill {scenario}: no JSON result ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        records,
        result["calls"].as_array().unwrap().len(),
        "one record per call"
    );
    (result, out.status.code().unwrap_or(-1), took)
}

#[test]
fn every_drill_is_detected_alerted_and_cleaned_up_on_the_emulator() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let sink = hook_sink();
    // an interrupted earlier drill left a bucket with an object and a user with a key
    canaries(&moto, "seed-leftover");
    for (i, scenario) in ["access-key", "stop-logging", "public-bucket"]
        .iter()
        .enumerate()
    {
        let (r, code, took) = drill(&moto, dir.path(), scenario, &sink.url);
        let rule = r["expected_rule"].as_str().unwrap().to_string();
        assert_eq!(code, 0, "{scenario}: {r:#}");
        for stage in ["acted", "detected", "alerted", "cleaned"] {
            assert_eq!(r[stage]["status"], "pass", "{scenario} {stage}: {r:#}");
        }
        if i == 0 {
            let removed: Vec<&str> = r["leftovers_removed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                removed,
                [
                    "rampart-drill-ak-interrupted",
                    "rampart-drill-pub-interrupted"
                ],
                "{r:#}"
            );
        }
        // every call the drill made carries AWS's request id
        assert!(
            r["calls"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["request_id"].as_str().is_some_and(|s| !s.is_empty())),
            "{r:#}"
        );
        let bodies = sink.bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), i + 1, "one alert per drill: {bodies:?}");
        assert!(bodies[i].contains(&rule), "{scenario}: {}", bodies[i]);
        let marker = r["calls"][0]["params"]
            .as_object()
            .and_then(|p| p.values().find_map(|v| v.as_str()))
            .unwrap()
            .to_string();
        assert!(
            bodies[i].contains(&marker),
            "the alert names the canary {marker}"
        );
        let ttd = r["detected_ms"].as_i64().unwrap() - r["action_ms"].as_i64().unwrap();
        let tta = r["alerted_ms"].as_i64().unwrap() - r["action_ms"].as_i64().unwrap();
        assert!(ttd >= 0 && tta >= ttd, "{ttd} {tta}");
        eprintln!(
            "drill {scenario}: time to detect {ttd} ms, time to alert {tta} ms, whole drill {} ms",
            took.as_millis()
        );
        assert_no_canary(&moto, scenario);
    }
    // the results are kept, and the weekly report shows them
    let store = format!("sqlite://{}", dir.path().join("drills.db").display());
    let report = rampart_command(
        &moto.url,
        &[
            "--store", &store, "report", "weekly", "--format", "markdown",
        ],
    )
    .output()
    .unwrap();
    let md = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(md.contains("## Drills (3)"), "{md}");
    for s in ["access-key", "stop-logging", "public-bucket"] {
        assert!(md.contains(s), "{s} in {md}");
    }
}

#[test]
fn a_sink_that_is_down_fails_alerted_and_still_cleans_up() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    // a port nothing listens on
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (r, code, _) = drill(
        &moto,
        dir.path(),
        "public-bucket",
        &format!("http://127.0.0.1:{port}/hook"),
    );
    assert_eq!(code, 3, "a failed drill exits 3: {r:#}");
    assert_eq!(r["detected"]["status"], "pass", "{r:#}");
    assert_eq!(r["alerted"]["status"], "fail", "{r:#}");
    assert!(
        r["alerted"]["detail"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "{r:#}"
    );
    assert_eq!(r["cleaned"]["status"], "pass");
    assert_no_canary(&moto, "after a failed delivery");
    // the undelivered alert is kept in the spool
    let spool = std::fs::read_to_string(dir.path().join("spool.jsonl")).unwrap();
    assert!(spool.contains("RD-EXP-001"), "{spool}");
    // and cleanup on its own finds nothing more to remove
    let out = rampart_command(&moto.url, &["drill", "cleanup", "--account", SANDBOX])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("0 drill canary"), "{text}");
}
