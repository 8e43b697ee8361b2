//! `rampart respond` against the moto emulator: every action carried out through the real AWS
//! SDK, its effect read back through moto's own API (boto3, tests/support/respond_fixture.py),
//! run twice (the second run changes nothing), undone (and undone twice); the guards' refusals;
//! an alert's approved containment found in the history store; an action in a member account
//! entered with AssumeRole.

#[path = "support/moto.rs"]
mod moto;

use moto::{Moto, rampart, start_moto, support_script};
use serde_json::{Value, json};
use std::path::Path;

struct Fixture {
    moto: Moto,
    ids: Value,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let moto = start_moto();
        let ids = support_script(&moto, "respond_fixture.py", &["setup"]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("rampart.toml"),
            r#"
[organization]
role_name = "OrganizationAccountAccessRole"
[guardrails]
exempt_roles = ["BreakGlass", "OrganizationAccountAccessRole"]
[audit]
break_glass_users = ["emergency"]
[store]
url = "sqlite://history.db"
[respond]
audit_log = "respond.jsonl"
[[respond.playbook]]
rule = "RD-IAM-*"
action = "disable-access-key"
mode = "approve"
[[respond.playbook]]
rule = "RD-IAM-*"
action = "quarantine"
"#,
        )
        .unwrap();
        Fixture { moto, ids, dir }
    }

    fn id(&self, k: &str) -> String {
        self.ids[k].as_str().unwrap().to_string()
    }

    fn config(&self) -> String {
        self.dir.path().join("rampart.toml").display().to_string()
    }

    /// `rampart respond …` with this fixture's configuration: (exit code, stdout, stderr).
    fn respond(&self, args: &[&str]) -> (i32, String, String) {
        let cfg = self.config();
        let mut all = vec!["respond", "--config", cfg.as_str()];
        all.extend_from_slice(args);
        let out = rampart(&self.moto, &all);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs one action with --approve; returns (result, action id).
    fn act(&self, action: &str, target: Option<&str>, extra: &[&str]) -> (String, String) {
        let account = self.id("account");
        let mut args = vec![
            "action",
            action,
            "--account",
            account.as_str(),
            "--region",
            "us-east-1",
            "--approve",
        ];
        if let Some(t) = target {
            args.extend(["--target", t]);
        }
        args.extend_from_slice(extra);
        let (code, out, err) = self.respond(&args);
        assert_eq!(code, 0, "{action}: {out}\n{err}");
        let fields: Vec<&str> = out.trim().split('\t').collect();
        (fields[1].to_string(), fields[0].to_string())
    }

    fn undo(&self, id: &str) -> String {
        let (code, out, err) = self.respond(&["undo", id]);
        assert_eq!(code, 0, "undo {id}: {out}\n{err}");
        out.split('\t').nth(1).unwrap().to_string()
    }

    /// What the actions change, read through moto's own API.
    fn state(&self) -> Value {
        support_script(
            &self.moto,
            "respond_fixture.py",
            &[
                "state",
                &self.id("account"),
                &self.id("member"),
                &self.id("instance"),
            ],
        )
    }

    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("respond.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The parts of the state the actions below change, with the values they must have.
fn expect(state: &Value, want: &[(&str, Value)]) {
    for (k, v) in want {
        assert_eq!(&state[*k], v, "{k} in {state:#}");
    }
}

#[test]
fn every_action_applies_once_and_undoes() {
    let started = std::time::Instant::now();
    let f = Fixture::new();
    let before = f.state();
    expect(
        &before,
        &[
            ("key_status", json!("Active")),
            ("alice_login_profile", json!(true)),
            ("trail_logging", json!(false)),
            ("detector_status", json!("DISABLED")),
            ("recording", json!(false)),
            ("bucket_pab", Value::Null),
            ("account_pab", Value::Null),
            ("policy_sids", json!(["Private", "Public"])),
            ("snapshots", json!(0)),
        ],
    );
    let key = format!("alice/{}", f.id("key"));
    let instance = f.id("instance");
    let actions: Vec<(&str, Option<&str>, Vec<&str>)> = vec![
        ("disable-access-key", Some(key.as_str()), vec![]),
        ("quarantine", Some("user/alice"), vec![]),
        ("quarantine", Some("role/Dev"), vec![]),
        ("restart-logging", Some("org-trail"), vec![]),
        ("enable-guardduty", None, vec![]),
        ("enable-config-recorder", None, vec![]),
        (
            "block-public-s3",
            Some("public-data"),
            vec!["--account-level"],
        ),
        ("isolate-instance", Some(instance.as_str()), vec![]),
        ("delete-login-profile", Some("alice"), vec![]),
    ];
    let mut ids = Vec::new();
    for (action, target, extra) in &actions {
        let (result, id) = f.act(action, *target, extra);
        assert_eq!(result, "applied", "{action}");
        ids.push(id);
    }
    let contained = f.state();
    let quarantine = json!(["rampart-quarantine", "rampart-revoke-sessions"]);
    expect(
        &contained,
        &[
            ("key_status", json!("Inactive")),
            ("alice_login_profile", json!(false)),
            ("alice_policies", quarantine.clone()),
            ("dev_policies", quarantine.clone()),
            ("trail_logging", json!(true)),
            (
                "selectors",
                json!([{"ReadWriteType": "All", "IncludeManagementEvents": true}]),
            ),
            ("detector_status", json!("ENABLED")),
            ("recording", json!(true)),
            ("policy_sids", json!(["Private"])),
            ("snapshots", contained["volumes"].clone()),
        ],
    );
    let all_on = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
                        "BlockPublicPolicy": true, "RestrictPublicBuckets": true});
    expect(
        &contained,
        &[("bucket_pab", all_on.clone()), ("account_pab", all_on)],
    );
    assert!(contained["volumes"].as_u64().unwrap() >= 1);
    let q = &contained["quarantine_group"][0];
    assert_eq!((&q["ingress"], &q["egress"]), (&json!(0), &json!(0)), "{q}");
    assert_eq!(contained["instance_groups"], json!([q["id"]]));

    // A second run changes nothing, and says so.
    for (action, target, extra) in &actions {
        let (result, _) = f.act(action, *target, extra);
        assert_eq!(result, "unchanged", "{action} run twice");
    }
    assert_eq!(f.state(), contained, "the second run changed something");

    // The login profile cannot come back; everything else does.
    let (code, _, err) = f.respond(&["undo", ids.last().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be undone"), "{err}");
    for id in &ids[..ids.len() - 1] {
        assert_eq!(f.undo(id), "applied", "undo {id}");
    }
    let undone = f.state();
    expect(
        &undone,
        &[
            ("key_status", json!("Active")),
            ("alice_policies", json!([])),
            ("dev_policies", json!([])),
            // logging stays on; the weakened selectors are put back as recorded
            ("trail_logging", json!(true)),
            (
                "selectors",
                json!([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": false}]),
            ),
            ("detector_status", json!("DISABLED")),
            ("recording", json!(false)),
            ("bucket_pab", Value::Null),
            ("account_pab", Value::Null),
            ("policy_sids", json!(["Private", "Public"])),
            ("instance_groups", before["instance_groups"].clone()),
            // the evidence is kept
            ("snapshots", contained["snapshots"].clone()),
        ],
    );
    for id in &ids[..ids.len() - 1] {
        assert_eq!(f.undo(id), "unchanged", "undo {id} twice");
    }
    assert_eq!(f.state(), undone, "the second undo changed something");

    // Everything is in the audit log and the store, with who, before-state and undo data.
    let log = f.log();
    assert_eq!(log.len(), 2 * actions.len() + 2 * (actions.len() - 1));
    assert!(
        log[0]["who"].as_str().unwrap().starts_with("arn:aws:"),
        "{}",
        log[0]
    );
    assert_eq!(log[0]["before"], json!({"status": "Active"}));
    let store = rampart_store::Store::open(&format!(
        "sqlite://{}",
        f.dir.path().join("history.db").display()
    ))
    .unwrap();
    let rows = store.response_actions().unwrap();
    assert_eq!(rows.len(), log.len());
    assert_eq!(rows[0].result, "applied");
    let (_, list, _) = f.respond(&["list"]);
    assert_eq!(list.lines().count(), log.len());
    eprintln!(
        "every respond action, twice, undone twice: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn guards_refuse_with_the_reason_and_nothing_changes() {
    let f = Fixture::new();
    let before = f.state();
    let account = f.id("account");
    for (target, reason) in [
        ("user/emergency", "break_glass_users"),
        ("role/BreakGlass", "exempt_roles"),
        ("role/OrganizationAccountAccessRole", "lock rampart out"),
    ] {
        let (code, _, err) = f.respond(&[
            "action",
            "quarantine",
            "--account",
            &account,
            "--target",
            target,
            "--approve",
        ]);
        assert_eq!(code, 1, "{target}: {err}");
        assert!(err.contains(reason), "{target}: {err}");
    }
    // the plan alone shows the refusal too
    let (code, out, _) = f.respond(&[
        "action",
        "delete-login-profile",
        "--account",
        &account,
        "--target",
        "emergency",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("guard:      refused") && out.contains("reversible: NO"),
        "{out}"
    );
    let after = f.state();
    for k in ["emergency_policies", "breakglass_policies"] {
        assert_eq!(after[k], before[k], "{k}");
    }
    let log = f.log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|r| r["result"] == "refused"));
}

/// The walk of the README: an alert in the store, its plan, the approved containment, undo;
/// then an action in a member account, entered with AssumeRole.
#[test]
fn an_alert_is_contained_on_approval_and_member_accounts_are_entered() {
    let f = Fixture::new();
    let account = f.id("account");
    let alert = json!({
        "schema": "rampart.alert/v1", "rule_id": "RD-IAM-001", "rule_source": "builtin",
        "title": "Access key created for another user", "severity": "high", "attack": [],
        "event_id": "ev-1", "event_time": "2026-12-06T10:00:00Z", "event_source": "iam.amazonaws.com",
        "event_name": "CreateAccessKey", "account": account, "region": "us-east-1",
        "principal": "arn:aws:iam::123456789012:user/mallory", "resource": "alice",
        "matched": {"responseElements.accessKey.accessKeyId": f.id("key")}, "count": 1,
        "outcome": "success", "event_ids": ["ev-1"],
    });
    let file = f.dir.path().join("alerts.jsonl");
    std::fs::write(&file, format!("{alert}\n")).unwrap();
    let id = rampart_detect::Alert::from_record(&alert).unwrap().id();
    let file_s = file.display().to_string();

    // Without --approve: the plan, nothing done.
    let (code, out, err) = f.respond(&[&id, "--alerts", &file_s]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("access key") && out.contains("--approve"),
        "{out}"
    );
    // the suggest entry (quarantine) is shown with its exact command
    assert!(err.contains("rampart respond action quarantine"), "{err}");
    assert_eq!(f.state()["key_status"], "Active");
    assert!(f.log().is_empty());

    // With --approve: only the approve entry runs.
    let (code, out, err) = f.respond(&[&id, "--alerts", &file_s, "--approve"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let state = f.state();
    assert_eq!(state["key_status"], "Inactive");
    assert_eq!(state["alice_policies"], json!([]));
    let log = f.log();
    assert_eq!(log[0]["alert_id"], id.as_str());
    let undone = f.undo(log[0]["id"].as_str().unwrap());
    assert_eq!(undone, "applied");

    // An alert recorded by `rampart detect` in the store is found by its id.
    let trail = f.dir.path().join("trail.json");
    let event = json!({"Records": [{
        "eventVersion": "1.08", "eventID": "ev-store-1", "eventTime": "2026-12-06T11:00:00Z",
        "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "awsRegion": "us-east-1",
        "recipientAccountId": account, "sourceIPAddress": "198.51.100.7",
        "userIdentity": {"type": "IAMUser", "userName": "mallory", "accountId": account,
                          "arn": "arn:aws:iam::123456789012:user/mallory"},
        "requestParameters": {"userName": "alice"},
    }]});
    std::fs::write(&trail, event.to_string()).unwrap();
    let cfg = f.config();
    let detect = rampart(
        &f.moto,
        &[
            "detect",
            trail.to_str().unwrap(),
            "--config",
            &cfg,
            "--format",
            "jsonl",
        ],
    );
    let alerts = String::from_utf8_lossy(&detect.stdout);
    assert!(
        alerts.contains("RD-IAM-003"),
        "{alerts}\n{}",
        String::from_utf8_lossy(&detect.stderr)
    );
    let stored = rampart_detect::alert::alert_id(
        "builtin",
        "RD-IAM-003",
        Some("ev-store-1"),
        Some(&account),
    );
    let (code, out, err) = f.respond(&[&stored]);
    assert_eq!(code, 0, "{out}\n{err}");
    // the alert names the user, not the new key: the plan says how to give it
    assert!(out.contains("target:     unknown"), "{out}");
    assert!(err.contains("--target user/alice --approve"), "{err}");

    // Quarantine a role of the member account (AssumeRole into it).
    let member = f.id("member");
    let (code, out, err) = f.respond(&[
        "action",
        "quarantine",
        "--account",
        &member,
        "--target",
        "role/Dev",
        "--approve",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let state = f.state();
    assert_eq!(
        state["member_dev_policies"],
        json!(["rampart-quarantine", "rampart-revoke-sessions"])
    );
    assert_eq!(
        state["dev_policies"],
        json!([]),
        "the management account's Dev is untouched"
    );
    assert!(Path::new(&f.dir.path().join("history.db")).exists());
}
