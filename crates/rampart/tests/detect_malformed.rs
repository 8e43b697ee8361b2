//! Malformed input to `rampart detect`: a truncated gzip file, invalid JSON, a record that is
//! not an object, a 10 MB event, an empty file and a bad line of JSON Lines among good files.
//! Each gives one warning naming the file and the position, everything else is read (the
//! events before a cut too), and the summary line counts what was read, skipped and alerted.

use std::io::Write;
use std::process::Command;

fn stop_logging(id: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"2024-07-31T13:06:24Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","eventID":"{id}","recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{id}"}},"requestParameters":{{"name":"org-trail"}}}}"#
    )
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn records(ids: impl Iterator<Item = String>) -> String {
    let events: Vec<String> = ids.map(|id| stop_logging(&id)).collect();
    format!("{{\"Records\":[{}]}}", events.join(","))
}

#[test]
fn malformed_input_is_reported_and_the_rest_processed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a-good.json.gz"),
        gzip(&records(["good-gz".into()].into_iter())),
    )
    .unwrap();
    let long = gzip(&records((0..400).map(|n| format!("cut-{n}"))));
    std::fs::write(d.join("b-truncated.json.gz"), &long[..long.len() / 2]).unwrap();
    std::fs::write(d.join("c-invalid.json"), "{\"Records\":[{\"eventName\":").unwrap();
    std::fs::write(
        d.join("d-nonobject.json"),
        format!("{{\"Records\":[1,{}]}}", stop_logging("after-nonobject")),
    )
    .unwrap();
    std::fs::write(d.join("e-empty.json"), "").unwrap();
    let big = format!(
        "{{\"eventName\":\"X\",\"pad\":\"{}\"}}\n{}\n",
        "y".repeat(10 * 1024 * 1024),
        stop_logging("after-big")
    );
    std::fs::write(d.join("f-big.jsonl"), big).unwrap();
    std::fs::write(
        d.join("g-lines.jsonl"),
        format!("{}\nnot json\n{}\n", stop_logging("l1"), stop_logging("l3")),
    )
    .unwrap();
    let out = d.join("alerts.jsonl");
    let run = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "detect",
            d.to_str().unwrap(),
            "--format",
            "jsonl",
            "--rules",
            "builtin",
        ])
        .args([
            "-o",
            out.to_str().unwrap(),
            "--aggregate",
            "0",
            "--fail-on",
            "critical",
        ])
        .args(["--config", "/nonexistent/rampart.toml", "--threads", "2"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3), "critical alerts raised");
    let log = String::from_utf8(run.stderr).unwrap();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("warning:")).collect();
    let name = |f: &str| d.join(f).display().to_string();
    let expect = [
        (
            format!(
                "{}: gzip data is corrupt or truncated",
                name("b-truncated.json.gz")
            ),
            "gzip",
        ),
        (
            format!("{}:line 1: record ", name("b-truncated.json.gz")),
            "rest of this input skipped",
        ),
        (
            format!("{}:line 1: record 1: ", name("c-invalid.json")),
            "truncated?",
        ),
        (
            format!(
                "{}:record 1: record is not a JSON object",
                name("d-nonobject.json")
            ),
            "skipped",
        ),
        (format!("{}: empty input", name("e-empty.json")), "empty"),
        (
            format!("{}:record 1: record is 10485", name("f-big.jsonl")),
            "over the 2097152 byte limit",
        ),
        (
            format!(
                "{}:line 2: expected a JSON object or array",
                name("g-lines.jsonl")
            ),
            "line skipped",
        ),
    ];
    assert_eq!(warnings.len(), expect.len(), "{log}");
    for ((at, what), w) in expect.iter().zip(&warnings) {
        assert!(
            w.contains(at.as_str()) && w.contains(what),
            "expected `{at}`…`{what}`, got {w}"
        );
    }
    // every good event was read: those before the gzip cut, those after each broken record
    let alerts: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["rule_id"] == "RD-TAMPER-001")
        .collect();
    let ids: Vec<&str> = alerts
        .iter()
        .map(|a| a["event_id"].as_str().unwrap())
        .collect();
    for id in [
        "good-gz",
        "cut-0",
        "after-nonobject",
        "after-big",
        "l1",
        "l3",
    ] {
        assert!(ids.contains(&id), "{id} alerted: {ids:?}");
    }
    let cut = ids.iter().filter(|i| i.starts_with("cut-")).count();
    assert!(cut > 50 && cut < 400, "{cut} events before the cut");
    // the summary: files, events read, skipped, alerted
    let read = 1 + cut + 1 + 1 + 2;
    let summary = format!(
        "rampart: 7 file(s), {read} event(s) read, 6 skipped, 0 outside the time window, {read} alerted on"
    );
    assert!(log.contains(&summary), "expected `{summary}` in\n{log}");
}
