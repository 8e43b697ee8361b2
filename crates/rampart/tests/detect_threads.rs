//! `rampart detect --threads N` writes the same bytes whatever N: the same alerts in the same
//! order (aggregated), the same warnings for broken files in the same order, the same summary
//! line — over the CloudTrail corpus with every built-in and supported SigmaHQ rule, with broken
//! files among the good ones.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

/// The corpus's CloudTrail files copied under `dir`, with broken files between them.
fn input(dir: &Path) -> PathBuf {
    let root = dir.join("AWSLogs");
    let src = corpora().join("cloudtrail");
    let mut copied = 0;
    for entry in walk(&src) {
        let to = root.join(entry.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
        copied += 1;
    }
    assert!(copied > 100, "corpus missing at {}", src.display());
    let broken = root.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("a-truncated.json.gz"), [0x1f, 0x8b, 8, 0, 0, 0]).unwrap();
    std::fs::write(
        broken.join("b-invalid.json"),
        "{\"Records\": [{\"eventName\": ",
    )
    .unwrap();
    std::fs::write(broken.join("c-empty.json"), "").unwrap();
    std::fs::write(
        broken.join("d-lines.jsonl"),
        "{\"eventName\": \"StopLogging\", \"eventSource\": \"cloudtrail.amazonaws.com\", \"eventTime\": \"2024-01-01T00:00:00Z\"}\nnot json\n",
    )
    .unwrap();
    root
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn detect(root: &Path, format: &str, threads: &str) -> (Vec<u8>, String) {
    let rules = format!(
        "builtin,sigma:{}",
        corpora().join("sigma-aws/rules").display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["detect", root.to_str().unwrap(), "--rules", &rules])
        .args(["--allowed-regions", "us-east-1", "--format", format])
        .args([
            "--threads",
            threads,
            "--config",
            "/nonexistent/rampart.toml",
        ])
        .output()
        .expect("rampart runs");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        out.status.code() == Some(0),
        "exit {:?}: {stderr}",
        out.status
    );
    (out.stdout, stderr)
}

#[test]
fn any_thread_count_writes_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let root = input(dir.path());
    for format in ["jsonl", "ocsf"] {
        let (alerts, log) = detect(&root, format, "1");
        let lines = alerts
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert!(lines > 300, "{format}: {lines} alerts\n{log}");
        for broken in [
            "a-truncated",
            "b-invalid",
            "c-empty",
            "d-lines.jsonl:line 2",
        ] {
            assert!(log.contains(broken), "{broken} reported:\n{log}");
        }
        assert!(log.contains("event(s) read"), "{log}");
        for threads in ["2", "3", "0"] {
            let (a, l) = detect(&root, format, threads);
            assert!(
                a == alerts,
                "{format}: --threads {threads} wrote other alerts"
            );
            assert_eq!(l, log, "{format}: --threads {threads}");
        }
    }
}
