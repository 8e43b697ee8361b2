//! Routing against a real HTTP receiver on 127.0.0.1 that first refuses connections, then
//! answers 503, then recovers: every alert arrives once, signed; the process restarts from its
//! state file in the middle; escalation fires for the alerts nobody acknowledged, and only
//! for them. The clock is passed in, so an hour of outage takes no time.

mod support;

use rampart_detect::Alert;
use rampart_route::config::parse;
use rampart_route::format::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify};
use rampart_route::state::StateFile;
use rampart_route::transport::LiveTransport;
use rampart_route::{OrgTree, Router};
use std::collections::HashMap;
use support::{Env, Receiver};

fn alert(n: usize, severity: &str) -> Alert {
    Alert::from_record(&serde_json::json!({
        "schema": "rampart.alert/v1", "rule_id": "RD-IAM-003", "rule_source": "builtin",
        "title": "Access key created for another IAM user", "severity": severity,
        "event_id": format!("ev-{n}"), "event_time": "2026-12-06T10:00:00Z",
        "event_name": "CreateAccessKey", "account": "111122223333", "region": "eu-west-1",
        "principal": "arn:aws:iam::111122223333:user/mallory",
    }))
    .unwrap()
}

const CONFIG: &str = r#"
[[alerts.route]]
name = "hook"
webhook = { url_env = "HOOK", hmac_key_env = "KEY" }
escalate_after = "15m"
escalate_to = "oncall"

[[alerts.route]]
name = "oncall"
rule = "NEVER"
webhook = { url_env = "ONCALL", hmac_key_env = "KEY" }
"#;

#[test]
fn outage_then_recovery_delivers_each_alert_once_and_escalates_the_unacknowledged() {
    let port = Receiver::reserve();
    let url = |p: &str| format!("http://127.0.0.1:{port}/{p}/SECRETPATH");
    let env = Env(HashMap::from([
        ("HOOK", url("hook")),
        ("ONCALL", url("oncall")),
        ("KEY", "hmac-test-key".to_string()),
    ]));
    let routes = parse(CONFIG, "rampart.toml", &env).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut file = StateFile::new(&dir.path().join("rampart-routes.json"));
    let mut router = Router::new(routes.clone(), OrgTree::default(), file.load().unwrap());
    let mut http = LiveTransport::new(None);
    let alerts: Vec<Alert> = (0..40).map(|n| alert(n, "high")).collect();

    // connection refused: nothing delivered, nothing lost, and no secret in the errors
    let t0 = 1_800_000_000;
    assert!(router.submit(&alerts, t0).is_empty());
    let rep = router.tick(t0, &mut http, &mut file);
    assert_eq!((rep.delivered, rep.failed, rep.queued), (0, 1, 40));
    assert!(
        rep.errors[0].contains(&format!("webhook http://127.0.0.1:{port}/…: connect")),
        "{:?}",
        rep.errors
    );
    assert!(
        rep.errors
            .iter()
            .all(|e| !e.contains("SECRETPATH") && !e.contains("hmac-test-key"))
    );
    file.save(&router.state).unwrap();

    // the receiver is up but failing (503); half the alerts are acknowledged meanwhile
    let rx = Receiver::start(port, 503);
    let rep = router.tick(t0 + 60, &mut http, &mut file);
    assert_eq!((rep.delivered, rep.failed), (0, 1));
    assert!(rep.errors[0].contains("HTTP 503"), "{:?}", rep.errors);
    for a in alerts.iter().step_by(2) {
        router.ack(&a.id(), "ana", None, t0 + 120).unwrap();
    }
    file.save(&router.state).unwrap();

    // recovery, and a restart from the state file (snapshot + journal) half-way through
    rx.set_status(200);
    let rep = router.tick(t0 + 600, &mut http, &mut file);
    assert_eq!(rep.delivered, 40);
    drop(router);
    let mut router = Router::new(routes, OrgTree::default(), file.load().unwrap());
    let rep = router.tick(t0 + 700, &mut http, &mut file);
    assert_eq!(rep.delivered, 0, "the journal says they went out");

    // escalation at 15 minutes: only the 20 not acknowledged
    let rep = router.tick(t0 + 899, &mut http, &mut file);
    assert_eq!(rep.escalated, 0);
    let rep = router.tick(t0 + 900, &mut http, &mut file);
    assert_eq!((rep.escalated, rep.delivered), (20, 20));
    assert_eq!(router.tick(t0 + 99_999, &mut http, &mut file).delivered, 0);

    let got = rx.accepted();
    let mut per_path: HashMap<String, Vec<String>> = HashMap::new();
    for r in &got {
        let ts = r.header(TIMESTAMP_HEADER).unwrap();
        let sig = r.header(SIGNATURE_HEADER).unwrap();
        assert!(verify(
            b"hmac-test-key",
            ts,
            sig,
            &r.body,
            ts.parse().unwrap(),
            300
        ));
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["alert_id"].as_str(), r.header(ID_HEADER));
        per_path
            .entry(r.path.split('/').nth(1).unwrap().to_string())
            .or_default()
            .push(v["alert_id"].as_str().unwrap().to_string());
    }
    let mut hook = per_path.remove("hook").unwrap();
    hook.sort();
    let mut want: Vec<String> = alerts.iter().map(Alert::id).collect();
    want.sort();
    assert_eq!(hook, want, "every alert once on its route");
    let mut oncall = per_path.remove("oncall").unwrap();
    oncall.sort();
    let mut unacked: Vec<String> = alerts.iter().skip(1).step_by(2).map(Alert::id).collect();
    unacked.sort();
    assert_eq!(
        oncall, unacked,
        "escalated exactly the unacknowledged, once each"
    );
}
