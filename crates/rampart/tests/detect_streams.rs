//! `rampart detect` on streams: stdin carrying many CloudTrail objects one after another
//! (`zcat *.json.gz |` or `cat *.json.gz |`) gives what the directory gives, and `--follow`
//! reports alerts as events are appended, folds repeats into a total sent when the run ends on
//! SIGINT, and saves its baseline then.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/cloudtrail/invictus-stratus-dataset/CloudTrail_gz")
}

fn rampart() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.args(["--config", "/nonexistent/rampart.toml"]);
    c
}

/// The alerts of a JSON Lines output without their origins (which name the input).
fn alerts(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v.as_object_mut().unwrap().remove("origin");
            v
        })
        .collect()
}

#[test]
fn stdin_with_many_objects_reads_them_all() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "corpus missing at {}", corpus().display());
    let dir = rampart()
        .args(["detect", corpus().to_str().unwrap(), "--format", "jsonl"])
        .args(["--threads", "1"])
        .output()
        .unwrap();
    let want = alerts(&dir.stdout);
    assert!(want.len() > 100, "{}", String::from_utf8_lossy(&dir.stderr));
    // `cat *.json.gz |`: gzip members one after another
    let mut gz = Vec::new();
    for f in &files {
        gz.extend(std::fs::read(f).unwrap());
    }
    let got = pipe(&gz);
    assert_eq!(alerts(&got.0), want, "{}", got.1);
    assert!(got.1.contains("2900 event(s) read"), "{}", got.1);
    // `zcat *.json.gz |`: CloudTrail objects one after another
    let mut plain = Vec::new();
    for f in &files {
        let mut d = flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap());
        std::io::copy(&mut d, &mut plain).unwrap();
    }
    let got = pipe(&plain);
    assert_eq!(alerts(&got.0), want, "{}", got.1);
}

/// `rampart detect -` with `input` on stdin: (stdout, stderr).
fn pipe(input: &[u8]) -> (Vec<u8>, String) {
    let mut child = rampart()
        .args(["detect", "-", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{out:?}");
    (out.stdout, String::from_utf8(out.stderr).unwrap())
}

fn stop_logging(id: &str, second: u32, user: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"2024-07-31T13:06:{second:02}Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","eventID":"{id}","recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}"}},"requestParameters":{{"name":"org-trail"}}}}"#
    ) + "\n"
}

/// Waits until `path` holds at least `n` lines (or fails after a while).
fn wait_for_lines(path: &Path, n: usize) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let got = alerts(&std::fs::read(path).unwrap_or_default());
        if got.len() >= n {
            return got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} alert(s) after 20 s, wanted {n}",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn follow_reports_as_events_come_and_totals_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let out = dir.path().join("alerts.jsonl");
    let store = dir.path().join("baseline.db");
    std::fs::write(&log, stop_logging("e1", 1, "bob")).unwrap();
    let mut child = rampart()
        .args([
            "detect",
            log.to_str().unwrap(),
            "--follow",
            "--format",
            "jsonl",
        ])
        .args(["--rules", "builtin", "-o", out.to_str().unwrap()])
        .args(["--baseline", store.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the event already in the file is reported at once (its two rules)
    let first = wait_for_lines(&out, 2);
    assert!(
        first
            .iter()
            .all(|a| a["count"] == 1 && a["event_id"] == "e1")
    );
    // appended: two repeats (folded) and a new principal (reported at once)
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(stop_logging("e2", 2, "bob").as_bytes())
        .unwrap();
    f.write_all(stop_logging("e3", 3, "bob").as_bytes())
        .unwrap();
    f.write_all(stop_logging("e4", 4, "eve").as_bytes())
        .unwrap();
    drop(f);
    let now = wait_for_lines(&out, 4);
    assert!(now[2..].iter().all(|a| a["event_id"] == "e4"), "{now:?}");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        alerts(&std::fs::read(&out).unwrap()).len(),
        4,
        "repeats folded"
    );
    // SIGINT ends the run: the folded total is sent, the baseline saved
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let all = alerts(&std::fs::read(&out).unwrap());
    assert_eq!(all.len(), 6, "{all:?}");
    for total in &all[4..] {
        assert_eq!(
            (total["event_id"].as_str(), total["count"].as_u64()),
            (Some("e1"), Some(3))
        );
        assert_eq!(total["last_seen"], "2024-07-31T13:06:03Z");
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("4 event(s) read"), "{stderr}");
    assert!(store.exists(), "baseline saved");
}
