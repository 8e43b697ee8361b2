//! The history store through the binary, without AWS: audits of saved snapshots and detections
//! recorded, `history`, `diff` (with its gate), `report weekly`, `store info/accept/export/prune/
//! copy`, on SQLite and on a throwaway PostgreSQL cluster; and the failure modes (an unreachable
//! database, a file that is not a store, `--no-store`).

use rampart_store::testing::{on_both, postgres_db, sqlite_db};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rampart(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(dir)
        .args(args)
        .env_remove("RAMPART_STORE")
        .output()
        .expect("run rampart")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{what}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The demo organization (week 2: one gap more) and after a fix and a regression (week 1).
fn snapshots(dir: &Path) -> (String, String) {
    let before = rampart_core::sample::demo_org();
    let mut after = before.clone();
    // fixed: EBS default encryption in the production account's eu-central-1
    let prod = after
        .accounts
        .iter_mut()
        .find(|a| a.account_id == "400000000000")
        .unwrap();
    prod.regions[2].ebs_encryption_by_default = true;
    // regressed: the first workload account loses its password policy
    let a = after
        .accounts
        .iter_mut()
        .find(|a| a.account_id == "400000000001")
        .unwrap();
    a.iam.password_policy = None;
    let b = dir.join("before.json");
    let c = dir.join("after.json");
    std::fs::write(&b, before.to_json()).unwrap();
    std::fs::write(&c, after.to_json()).unwrap();
    (b.display().to_string(), c.display().to_string())
}

#[test]
fn audits_are_recorded_listed_diffed_and_reported_on_both_backends() {
    on_both(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let (before, after) = snapshots(d);
        let url = db.url();
        ok(
            &rampart(
                d,
                &[
                    "audit",
                    "--snapshot",
                    &before,
                    "--format",
                    "json",
                    "--store",
                    url,
                ],
            ),
            "first audit",
        );
        ok(
            &rampart(
                d,
                &[
                    "audit",
                    "--snapshot",
                    &after,
                    "--format",
                    "json",
                    "--store",
                    url,
                ],
            ),
            "second audit",
        );
        // history: two audits, newest first
        let h: Value = serde_json::from_str(&ok(
            &rampart(d, &["history", "--format", "json", "--store", url]),
            "history",
        ))
        .unwrap();
        let runs = h.as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert!(runs[0]["id"].as_i64() > runs[1]["id"].as_i64());
        assert_eq!(runs[0]["kind"], "audit");
        assert!(runs[0]["score"].as_f64().is_some());
        let table = ok(&rampart(d, &["history", "--store", url]), "history text");
        assert!(table.starts_with("RUN  "), "{table}");
        assert!(table.contains("8/8 accounts"), "{table}");

        // diff: the fix resolved, the regression new; the gate says so
        let v: Value = serde_json::from_str(&ok(
            &rampart(d, &["diff", "--format", "json", "--store", url]),
            "diff",
        ))
        .unwrap();
        // no password policy any more: its two controls (length, reuse) newly fail
        assert_eq!(v["counts"]["new"], 2, "{v}");
        assert_eq!(v["counts"]["resolved"], 1, "{v}");
        let item = |class: &str| -> Vec<&Value> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["class"] == class)
                .collect()
        };
        let new_controls: Vec<&str> = item("new")
            .iter()
            .map(|i| i["control"].as_str().unwrap())
            .collect();
        assert!(
            new_controls.contains(&"cis-1.8") && new_controls.contains(&"cis-1.9"),
            "{v}"
        );
        assert!(
            item("new")
                .iter()
                .all(|i| i["account_id"] == "400000000001"),
            "{v}"
        );
        assert_eq!(item("resolved")[0]["control"], "cis-2.2.1");
        let gate = rampart(d, &["diff", "--fail-on", "new", "--store", url]);
        assert_eq!(gate.status.code(), Some(3));
        let md = ok(
            &rampart(d, &["diff", "--format", "markdown", "--store", url]),
            "diff md",
        );
        assert!(md.contains("### New failures (2)"), "{md}");
        // explicit runs, and a run that is not an audit
        let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        let same = rampart(
            d,
            &[
                "diff",
                &ids[1].to_string(),
                &ids[0].to_string(),
                "--store",
                url,
            ],
        );
        assert_eq!(same.status.code(), Some(0));
        let bad = rampart(d, &["diff", "999", &ids[0].to_string(), "--store", url]);
        assert_eq!(bad.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("run #999 is not an audit"));

        // the weekly report agrees with the diff
        let html = d.join("weekly.html");
        ok(
            &rampart(
                d,
                &[
                    "report",
                    "weekly",
                    "--store",
                    url,
                    "-o",
                    html.to_str().unwrap(),
                ],
            ),
            "weekly",
        );
        let text = std::fs::read_to_string(&html).unwrap();
        assert!(text.starts_with("<!DOCTYPE html>") || text.starts_with("<!doctype html>"));
        assert!(text.contains("id=\"top-risks\""));
        let j: Value = serde_json::from_str(&ok(
            &rampart(d, &["report", "weekly", "--format", "json", "--store", url]),
            "weekly json",
        ))
        .unwrap();
        assert_eq!(j["schema"], "rampart.weekly/v1");
        // both audits are in the week: everything failing is new (no audit before the week)
        assert!(j["counts"]["new"].as_u64().unwrap() > 1, "{j}");

        // accept a risk: the next audit reports it SUPPRESSED
        let id = item("new")[0]["finding_id"].as_str().unwrap().to_string();
        ok(
            &rampart(
                d,
                &[
                    "store",
                    "accept",
                    &id,
                    "--reason",
                    "rotating to SSO",
                    "--expires",
                    "2099-01-01",
                    "--by",
                    "alice",
                    "--store",
                    url,
                ],
            ),
            "accept",
        );
        let third: Value = serde_json::from_str(&ok(
            &rampart(
                d,
                &[
                    "audit",
                    "--snapshot",
                    &after,
                    "--format",
                    "json",
                    "--store",
                    url,
                ],
            ),
            "third audit",
        ))
        .unwrap();
        let f = third["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id.as_str())
            .unwrap();
        assert!(
            f["suppressed"]["reason"]
                .as_str()
                .unwrap()
                .contains("alice"),
            "{f}"
        );

        // maintenance: info, export, prune
        let info = ok(&rampart(d, &["store", "info", "--store", url]), "info");
        assert!(info.contains("schema version"), "{info}");
        let export = ok(&rampart(d, &["store", "export", "--store", url]), "export");
        let lines: Vec<Value> = export
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert!(lines.iter().any(|l| l["type"] == "runs"));
        assert!(lines.iter().any(|l| l["type"] == "findings"));
        let prune = ok(
            &rampart(d, &["store", "prune", "--keep", "400d", "--store", url]),
            "prune",
        );
        assert!(prune.starts_with("pruned 0 run(s)"), "{prune}");
    });
}

#[test]
fn a_detection_run_is_recorded_with_its_alerts() {
    let db = sqlite_db();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let trail = d.join("trail.json");
    std::fs::write(
        &trail,
        r#"{"Records":[{"eventVersion":"1.09","eventTime":"2026-07-31T13:06:24Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","eventID":"e-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"},"requestParameters":{"name":"org-trail"}}]}"#,
    )
    .unwrap();
    ok(
        &rampart(
            d,
            &[
                "detect",
                trail.to_str().unwrap(),
                "--format",
                "jsonl",
                "--store",
                db.url(),
            ],
        ),
        "detect",
    );
    let store = db.open();
    let runs = store
        .runs(Some(rampart_store::RunKind::Detect), None, None)
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].alerts >= 1, "{runs:?}");
    let from = chrono::DateTime::parse_from_rfc3339("2026-07-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let to = chrono::DateTime::parse_from_rfc3339("2026-08-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let alerts = store.alerts(from, to).unwrap();
    assert!(
        alerts
            .iter()
            .any(|(_, a)| a.event_id.as_deref() == Some("e-1")
                && a.principal.as_deref() == Some("arn:aws:iam::111122223333:user/mallory"))
    );
}

#[test]
fn a_store_moves_from_sqlite_to_postgresql_without_loss() {
    let Some(pg) = postgres_db() else { return };
    let src = sqlite_db();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (before, after) = snapshots(d);
    for snap in [&before, &after] {
        ok(
            &rampart(
                d,
                &[
                    "audit",
                    "--snapshot",
                    snap,
                    "--format",
                    "json",
                    "--store",
                    src.url(),
                ],
            ),
            "audit",
        );
    }
    let out = ok(
        &rampart(
            d,
            &["store", "copy", "--to", pg.url(), "--store", src.url()],
        ),
        "copy",
    );
    assert!(out.contains("every table's count verified"), "{out}");
    let a = src.open().counts().unwrap();
    let b = pg.open().counts().unwrap();
    assert_eq!(a, b);
    // the copy answers the same diff
    let da = ok(
        &rampart(d, &["diff", "--format", "json", "--store", src.url()]),
        "diff a",
    );
    let db_ = ok(
        &rampart(d, &["diff", "--format", "json", "--store", pg.url()]),
        "diff b",
    );
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).unwrap();
        v["counts"].take()
    };
    assert_eq!(strip(&da), strip(&db_));
    // copying into a store that is not empty is refused
    let again = rampart(
        d,
        &["store", "copy", "--to", pg.url(), "--store", src.url()],
    );
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn bad_stores_are_one_clear_line_and_nothing_is_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (before, _) = snapshots(d);

    // unreachable PostgreSQL: one line naming the URL, password redacted, exit 1, no output
    let out = rampart(
        d,
        &[
            "audit",
            "--snapshot",
            &before,
            "--format",
            "json",
            "--store",
            "postgres://rampart:s3cr3t@127.0.0.1:1/history",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(out.stdout.is_empty(), "the audit must not run");

    // a file that is not a store is never overwritten
    let junk = d.join("notes.db");
    std::fs::write(&junk, b"these are my notes, not a database\n").unwrap();
    let url = format!("sqlite://{}", junk.display());
    let out = rampart(d, &["audit", "--snapshot", &before, "--store", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("notes.db"), "{err}");
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        b"these are my notes, not a database\n"
    );

    // --no-store records nothing, even with [store] in rampart.toml
    std::fs::write(
        d.join("rampart.toml"),
        "[store]\nurl = \"sqlite://history.db\"\n",
    )
    .unwrap();
    ok(
        &rampart(
            d,
            &[
                "audit",
                "--snapshot",
                &before,
                "--format",
                "json",
                "--no-store",
            ],
        ),
        "no-store",
    );
    assert!(!d.join("history.db").exists());
    // and [store] alone records, beside rampart.toml
    ok(
        &rampart(d, &["audit", "--snapshot", &before, "--format", "json"]),
        "store from config",
    );
    assert!(d.join("history.db").exists());
    // reading verbs without any store say how to get one
    std::fs::remove_file(d.join("rampart.toml")).unwrap();
    let out = rampart(d, &["history"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--store"));
}
