//! The dashboard's acknowledgement and the CLI's are one record in the history store: an alert
//! acknowledged the way `rampart serve` does it (`Store::set_alert_state`) is not escalated by
//! the next `rampart alerts tick`, `rampart alerts list` shows who acknowledged it, and
//! `rampart alerts ack` of it answers that it was acknowledged already.

#[path = "../../rampart-route/tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const CONFIG: &str = r#"
[[alerts.route]]
name = "hook"
min_severity = "medium"
webhook = { url_env = "RT_HOOK" }
escalate_after = "1s"
escalate_to = "oncall"

[[alerts.route]]
name = "oncall"
rule = "NEVER"
webhook = { url_env = "RT_ONCALL" }
"#;

fn rampart(dir: &std::path::Path, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.current_dir(dir)
        .args(["--config", "rampart.toml", "--store", "sqlite://state.db"])
        .env("RT_HOOK", format!("http://127.0.0.1:{port}/hook/x"))
        .env("RT_ONCALL", format!("http://127.0.0.1:{port}/oncall/x"));
    c
}

fn events() -> String {
    (0..2)
        .map(|k| {
            format!(
                r#"{{"eventVersion":"1.08","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","eventID":"stop-{k}","eventTime":"2026-12-06T10:0{k}:00Z","recipientAccountId":"111122223333","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.{k}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{k}"}},"requestParameters":{{"name":"org-trail-{k}"}}}}"#
            ) + "\n"
        })
        .collect()
}

fn ok(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_dashboard_ack_stops_the_escalation_and_shows_in_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rampart.toml"), CONFIG).unwrap();
    let port = support::Receiver::reserve();
    let rx = support::Receiver::start(port, 200);
    let mut child = rampart(dir.path(), port)
        .args(["detect", "-", "--format", "jsonl", "--aggregate", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events().as_bytes())
        .unwrap();
    ok(&child.wait_with_output().unwrap());
    let listed = ok(&rampart(dir.path(), port)
        .args(["alerts", "list", "--open"])
        .output()
        .unwrap());
    let ids: Vec<String> = listed
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 2, "{listed}");
    // an operator acknowledges the first one in the dashboard
    let now = chrono::Utc::now();
    rampart_store::Store::open(&format!(
        "sqlite://{}",
        dir.path().join("state.db").display()
    ))
    .unwrap()
    .set_alert_state(&rampart_store::AlertStateRecord {
        alert_id: ids[0].clone(),
        state: "acknowledged".into(),
        assignee: Some("ana".into()),
        comment: "on it".into(),
        updated_by: "ana".into(),
        updated_at: now,
        acknowledged_by: String::new(),
        acknowledged_at: now,
        ack_comment: None,
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    ok(&rampart(dir.path(), port)
        .args(["alerts", "tick"])
        .output()
        .unwrap());
    let oncall: Vec<String> = rx
        .accepted()
        .iter()
        .filter(|r| r.path.starts_with("/oncall/"))
        .map(|r| r.header("X-Rampart-Alert-Id").unwrap().to_string())
        .collect();
    assert_eq!(oncall.len(), ids.len() - 1, "all but the acknowledged one");
    assert!(!oncall.contains(&ids[0]), "{oncall:?}");
    let all = ok(&rampart(dir.path(), port)
        .args(["alerts", "list"])
        .output()
        .unwrap());
    let line = all.lines().find(|l| l.starts_with(&ids[0])).unwrap();
    assert!(
        line.contains("acked by ana at") && line.contains("(on it)"),
        "{all}"
    );
    let again = rampart(dir.path(), port)
        .args(["alerts", "ack", &ids[0], "--by", "bo"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already acknowledged by ana"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
