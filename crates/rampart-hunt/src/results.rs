//! Reading a finished job's output: `alerts/day=YYYY-MM-DD/part-*` (rampart.alert/v1 JSON
//! Lines) and `stats/part-*` (the run's counters, one JSON line).

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// The counters of a run, summed over its files (the local engine's summary line has the same).
#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
pub struct Stats {
    pub files: u64,
    pub events: u64,
    pub skipped: u64,
    pub out_of_window: u64,
    pub alerted_events: u64,
    pub alerts: u64,
    pub silenced: u64,
    /// CPU seconds the job's Python workers spent reading and evaluating (0 when not reported).
    #[serde(default)]
    pub cpu_seconds: f64,
}

/// What a job wrote.
#[derive(Debug, Default)]
pub struct Output {
    /// Alert records in the order of their files' names (day, then part), lines in order.
    pub alerts: Vec<Value>,
    pub stats: Stats,
}

/// Parses the job's output files, given as (path relative to the output folder, contents).
/// Files other than `alerts/**/part-*` and `stats/part-*` (`_SUCCESS`, checksums) are ignored;
/// no stats file is an error (the job did not finish).
pub fn parse(mut files: Vec<(String, Vec<u8>)>) -> Result<Output, String> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Output::default();
    let mut saw_stats = false;
    for (name, bytes) in files {
        let file = name.rsplit('/').next().unwrap_or(&name);
        if !file.starts_with("part-") || file.ends_with(".crc") {
            continue;
        }
        let text = String::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8"))?;
        if name.starts_with("alerts/") {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line)
                    .map_err(|e| format!("{name} line {}: not JSON ({e})", i + 1))?;
                out.alerts.push(v);
            }
        } else if name.starts_with("stats/") {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let s: Stats = serde_json::from_str(line)
                    .map_err(|e| format!("{name}: not the job's counters ({e})"))?;
                out.stats.files += s.files;
                out.stats.events += s.events;
                out.stats.skipped += s.skipped;
                out.stats.out_of_window += s.out_of_window;
                out.stats.alerted_events += s.alerted_events;
                out.stats.alerts += s.alerts;
                out.stats.silenced += s.silenced;
                out.stats.cpu_seconds += s.cpu_seconds;
                saw_stats = true;
            }
        }
    }
    if !saw_stats {
        return Err("the job wrote no stats/ counters: it did not finish (see its log)".into());
    }
    Ok(out)
}

/// [`parse`] over a local output folder.
pub fn read_dir(dir: &Path) -> Result<Output, String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for ent in rd.flatten() {
            let p = ent.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                files.push((rel, bytes));
            }
        }
    }
    parse(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_and_counters_are_read_and_the_rest_ignored() {
        let files = vec![
            ("stats/part-00000.txt".to_string(), br#"{"files":2,"events":5,"skipped":1,"out_of_window":0,"alerted_events":1,"alerts":2,"silenced":0}"#.to_vec()),
            ("alerts/day=2024-01-02/part-0.txt".into(), b"{\"rule_id\":\"b\"}\n".to_vec()),
            ("alerts/day=2024-01-01/part-0.txt".into(), b"{\"rule_id\":\"a\"}\n\n".to_vec()),
            ("alerts/_SUCCESS".into(), Vec::new()),
            ("alerts/day=2024-01-01/.part-0.txt.crc".into(), b"\x00".to_vec()),
        ];
        let out = parse(files).unwrap();
        assert_eq!(out.alerts.len(), 2);
        assert_eq!(out.alerts[0]["rule_id"], "a");
        assert_eq!(
            (out.stats.files, out.stats.skipped, out.stats.alerts),
            (2, 1, 2)
        );
        assert!(parse(vec![]).unwrap_err().contains("did not finish"));
        let bad = vec![("alerts/d/part-1".to_string(), b"{".to_vec())];
        assert!(parse(bad).unwrap_err().contains("alerts/d/part-1 line 1"));
    }
}
