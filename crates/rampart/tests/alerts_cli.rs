//! `[[alerts.route]]` end to end through the CLI: `rampart detect` routes its alerts to a
//! signed webhook on 127.0.0.1 (down at first: the deliveries wait in the routing state and
//! the run says so with exit 1), `rampart alerts tick` delivers them once the receiver is up,
//! `rampart alerts ack` stops one alert's escalation, and the next tick escalates the others.
//! With a store, the dashboard's acknowledgement is the same record and does the same.

#[path = "../../rampart-route/tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn rampart(dir: &std::path::Path, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.current_dir(dir)
        .args(["--config", "rampart.toml"])
        .env(
            "RT_HOOK",
            format!("http://127.0.0.1:{port}/hook/SECRET-PATH"),
        )
        .env(
            "RT_ONCALL",
            format!("http://127.0.0.1:{port}/oncall/SECRET-PATH"),
        )
        .env("RT_KEY", "SECRET-KEY");
    c
}

const CONFIG: &str = r#"
[[alerts.route]]
name = "hook"
min_severity = "medium"
webhook = { url_env = "RT_HOOK", hmac_key_env = "RT_KEY" }
escalate_after = "1s"
escalate_to = "oncall"

[[alerts.route]]
name = "oncall"
rule = "NEVER"
webhook = { url_env = "RT_ONCALL" }
"#;

fn events() -> String {
    (0..3)
        .map(|k| {
            format!(
                r#"{{"eventVersion":"1.08","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","eventID":"stop-{k}","eventTime":"2026-12-06T10:0{k}:00Z","recipientAccountId":"111122223333","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.{k}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{k}"}},"requestParameters":{{"name":"org-trail-{k}"}}}}"#
            ) + "\n"
        })
        .collect()
}

/// `rampart detect -` over [`events`], every alert on its own (no aggregation).
fn detect(mut c: Command) -> std::process::Output {
    let mut child = c
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
    child.wait_with_output().unwrap()
}

#[test]
fn detect_routes_then_tick_delivers_and_ack_stops_escalation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rampart.toml"), CONFIG).unwrap();
    let port = support::Receiver::reserve();

    let out = detect(rampart(dir.path(), port));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("queued in rampart-routes.json"), "{stderr}");
    assert!(!stderr.contains("SECRET"), "{stderr}");
    let routed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["severity"] != "low" && v["severity"] != "info")
        .collect();
    assert!(
        routed.len() >= 3,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // the receiver comes up; the tick delivers everything (it waits out the backoff first)
    let rx = support::Receiver::start(port, 200);
    std::thread::sleep(Duration::from_secs(6));
    let list = rampart(dir.path(), port)
        .args(["alerts", "list", "--open"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    let first_id = listed.split_whitespace().next().unwrap().to_string();
    let ack = rampart(dir.path(), port)
        .args([
            "alerts",
            "ack",
            &first_id,
            "--by",
            "ana",
            "--comment",
            "planned change",
        ])
        .output()
        .unwrap();
    assert!(
        ack.status.success(),
        "{}",
        String::from_utf8_lossy(&ack.stderr)
    );
    let tick = rampart(dir.path(), port)
        .args(["alerts", "tick"])
        .output()
        .unwrap();
    let tick_err = String::from_utf8_lossy(&tick.stderr);
    assert!(tick.status.success(), "{tick_err}");
    let got = rx.accepted();
    let hook: Vec<&str> = got
        .iter()
        .filter(|r| r.path.starts_with("/hook/"))
        .map(|r| r.header("X-Rampart-Alert-Id").unwrap())
        .collect();
    let oncall: Vec<&str> = got
        .iter()
        .filter(|r| r.path.starts_with("/oncall/"))
        .map(|r| r.header("X-Rampart-Alert-Id").unwrap())
        .collect();
    assert_eq!(hook.len(), routed.len(), "{tick_err}");
    let mut distinct = hook.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), hook.len(), "none twice");
    assert_eq!(
        oncall.len(),
        routed.len() - 1,
        "all but the acknowledged one escalated"
    );
    assert!(!oncall.contains(&first_id.as_str()));
    // a second tick sends nothing again
    let again = rampart(dir.path(), port)
        .args(["alerts", "tick"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(rx.accepted().len(), got.len());
    let list = rampart(dir.path(), port)
        .args(["alerts", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("acked by ana at") && listed.contains("(planned change)"),
        "{listed}"
    );
}

/// With a history store the routing state lives there (schema version 3), not in a file: a
/// second run over the same events sends nothing again, and an ack is kept.
#[test]
fn with_a_store_the_state_lives_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rampart.toml"), CONFIG).unwrap();
    let port = support::Receiver::reserve();
    let rx = support::Receiver::start(port, 200);
    let detect = || {
        let mut c = rampart(dir.path(), port);
        c.args(["--store", "sqlite://state.db"]);
        detect(c)
    };
    let on_hook = || {
        rx.accepted()
            .iter()
            .filter(|r| r.path.starts_with("/hook/"))
            .count()
    };
    let first = detect();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let sent = on_hook();
    assert!(sent >= 3);
    let second = detect();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        on_hook(),
        sent,
        "the delivery log in the store: nothing twice"
    );
    assert!(!dir.path().join("rampart-routes.json").exists());
    let list = rampart(dir.path(), port)
        .args(["--store", "sqlite://state.db", "alerts", "list", "--open"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    let id = listed.split_whitespace().next().unwrap().to_string();
    let ack = rampart(dir.path(), port)
        .args(["--store", "sqlite://state.db", "alerts", "ack", &id[..8]])
        .args(["--by", "ana"])
        .output()
        .unwrap();
    assert!(
        ack.status.success(),
        "{}",
        String::from_utf8_lossy(&ack.stderr)
    );
    let open = rampart(dir.path(), port)
        .args(["--store", "sqlite://state.db", "alerts", "list", "--open"])
        .output()
        .unwrap();
    let open = String::from_utf8_lossy(&open.stdout);
    assert!(!open.contains(&id), "{open}");
    assert_eq!(open.lines().count(), listed.lines().count() - 2, "{open}");
}

/// The dashboard's acknowledgement and the CLI's are one record in the store: an alert
/// acknowledged the way `rampart serve` does it (`Store::set_alert_state`) is not escalated by
/// the next `rampart alerts tick`, `alerts list` shows who acknowledged it, and `alerts ack` of
/// it answers that it was acknowledged already.
#[test]
fn a_dashboard_ack_in_the_store_stops_the_escalation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rampart.toml"), CONFIG).unwrap();
    let port = support::Receiver::reserve();
    let rx = support::Receiver::start(port, 200);
    let cli = |args: &[&str]| {
        let mut c = rampart(dir.path(), port);
        c.args(["--store", "sqlite://state.db"]).args(args);
        c
    };
    let first = detect(cli(&[]));
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let listed = cli(&["alerts", "list", "--open"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let ids: Vec<&str> = listed
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(ids.len() >= 2, "{listed}");
    // an operator acknowledges the first one in the dashboard
    let now = chrono::Utc::now();
    let url = format!("sqlite://{}", dir.path().join("state.db").display());
    rampart_store::Store::open(&url)
        .unwrap()
        .set_alert_state(&rampart_store::AlertStateRecord {
            alert_id: ids[0].to_string(),
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
    let tick = cli(&["alerts", "tick"]).output().unwrap();
    assert!(
        tick.status.success(),
        "{}",
        String::from_utf8_lossy(&tick.stderr)
    );
    let oncall: Vec<String> = rx
        .accepted()
        .iter()
        .filter(|r| r.path.starts_with("/oncall/"))
        .map(|r| r.header("X-Rampart-Alert-Id").unwrap().to_string())
        .collect();
    assert_eq!(oncall.len(), ids.len() - 1, "all but the acknowledged one");
    assert!(!oncall.iter().any(|id| id == ids[0]), "{oncall:?}");
    let all = cli(&["alerts", "list"]).output().unwrap();
    let all = String::from_utf8_lossy(&all.stdout);
    let line = all.lines().find(|l| l.starts_with(ids[0])).unwrap();
    assert!(
        line.contains("acked by ana at") && line.contains("(on it)"),
        "{all}"
    );
    let again = cli(&["alerts", "ack", ids[0], "--by", "bo"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.contains("already acknowledged by ana"),
        "{err}"
    );
}
