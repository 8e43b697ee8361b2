//! `rampart schedule run` against the moto emulator: `--once audit` records the audit and the
//! job run; `--once detect` reads the organization trail objects in the log archive bucket,
//! persists a cursor per prefix, and the next run reads only the objects that arrived since.

#[path = "support/moto.rs"]
mod moto;

use moto::{
    build_fixture, init_for_emulator, rampart, rampart_command, repo, run_python, start_moto,
    wait_for,
};
use rampart_store::{JobStatus, RunKind, Store};

const PUT: &str = r#"
import boto3, gzip, sys
E, trail, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
kw = dict(endpoint_url=E, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3 = boto3.client("s3", **kw)
try:
    s3.create_bucket(Bucket=bucket)
except Exception:
    pass
body = gzip.compress(open(trail, "rb").read())
for key in sys.argv[4:]:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
"#;

fn key(account: &str, day: &str, name: &str) -> String {
    format!(
        "AWSLogs/o-abc/{account}/CloudTrail/us-east-1/{day}/{account}_CloudTrail_us-east-1_{name}.json.gz"
    )
}

fn once(moto: &moto::Moto, cfg: &str, job: &str) -> String {
    let out = rampart(
        moto,
        &[
            "schedule",
            "run",
            "--once",
            job,
            "--config",
            cfg,
            "--regions",
            "us-east-1",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{job}: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn scheduled_audit_and_detect_against_the_emulator() {
    let moto = start_moto();
    build_fixture(&moto);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let cfg_s = cfg.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg).replace(
        "# trail = \"s3://BUCKET/AWSLogs/o-XXXXXXXXXX/\"",
        "trail = \"s3://org-trail-logs/AWSLogs/\"",
    );
    assert!(text.contains("[schedule]") && text.contains("trail = \"s3://org-trail-logs/"));
    std::fs::write(&cfg, &text).unwrap();

    let list = rampart(&moto, &["schedule", "run", "--list", "--config", cfg_s]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    for job in ["audit", "drift", "detect", "weekly_report"] {
        assert!(listed.contains(job), "{listed}");
    }
    assert!(listed.contains("first run"), "{listed}");

    // audit: recorded as an audit run, the job run names it
    let out = once(&moto, cfg_s, "audit");
    assert!(out.starts_with("audit run #1: ok"), "{out}");
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store = Store::open(&url).unwrap();
    let audits = store.runs(Some(RunKind::Audit), None, None).unwrap();
    assert_eq!(audits.len(), 1);
    let jobs = store.job_runs(Some("audit"), None).unwrap();
    assert_eq!(jobs[0].status, JobStatus::Ok);
    assert_eq!(jobs[0].run_id, Some(audits[0].id));
    assert!(
        jobs[0].summary["fail"].as_u64().unwrap() > 0,
        "{:?}",
        jobs[0]
    );
    drop(store);

    // detect: two objects, then one new object in an account that sorts first
    let trail = repo().join("crates/rampart/src/cmd/demo_trail.json");
    let trail = trail.to_str().unwrap();
    let first = [
        key("555555555555", "2026/11/20", "a"),
        key("555555555555", "2026/11/20", "b"),
    ];
    let mut args = vec!["-c", PUT, moto.url.as_str(), trail, "org-trail-logs"];
    args.extend(first.iter().map(String::as_str));
    run_python(&args);
    let out = once(&moto, cfg_s, "detect");
    assert!(out.contains("\"objects\":2"), "{out}");
    let store = Store::open(&url).unwrap();
    let cursors = store.job_cursors("detect").unwrap();
    assert_eq!(
        cursors,
        vec![(
            "AWSLogs/o-abc/555555555555/CloudTrail/us-east-1/".to_string(),
            first[1].clone()
        )]
    );
    let detects = store.runs(Some(RunKind::Detect), None, None).unwrap();
    assert_eq!(detects.len(), 1);
    assert!(detects[0].alerts > 0, "{:?}", detects[0]);
    drop(store);

    let newer = key("444444444444", "2026/11/21", "c");
    run_python(&[
        "-c",
        PUT,
        moto.url.as_str(),
        trail,
        "org-trail-logs",
        newer.as_str(),
    ]);
    let out = once(&moto, cfg_s, "detect");
    assert!(out.contains("\"objects\":1"), "only the new object: {out}");
    let out = once(&moto, cfg_s, "detect");
    assert!(out.contains("\"objects\":0"), "nothing new: {out}");
    let store = Store::open(&url).unwrap();
    assert_eq!(store.job_cursors("detect").unwrap().len(), 2);
    assert_eq!(
        store.runs(Some(RunKind::Detect), None, None).unwrap().len(),
        2
    );
    assert_eq!(store.job_runs(Some("detect"), None).unwrap().len(), 3);
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    drop(store);
    let check = rampart(&moto, &["store", "check", "--config", cfg_s]);
    assert!(
        String::from_utf8_lossy(&check.stdout).ends_with(": consistent\n"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Killed in the middle of a scheduled audit: the next start marks the run interrupted,
    // runs the audit again, and the store is consistent.
    let only_audit = text
        .replace("drift = \"daily at 03:00\"", "drift = \"off\"")
        .replace("detect = \"every 5m\"", "detect = \"off\"")
        .replace("weekly_report = \"mon 08:00\"", "weekly_report = \"off\"");
    std::fs::write(&cfg, &only_audit).unwrap();
    let paused = dir.path().join("paused");
    let mut child = rampart_command(
        &moto.url,
        &[
            "schedule",
            "run",
            "--once",
            "audit",
            "--config",
            cfg_s,
            "--regions",
            "us-east-1",
        ],
    )
    .env("RAMPART_TEST_PAUSE_AT", "audit:before-run")
    .env("RAMPART_TEST_PAUSE_FILE", &paused)
    .spawn()
    .unwrap();
    wait_for("the pause point", || paused.exists());
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = rampart_command(
        &moto.url,
        &[
            "schedule",
            "run",
            "--config",
            cfg_s,
            "--regions",
            "us-east-1",
            "-q",
        ],
    )
    .spawn()
    .unwrap();
    let audit_jobs = || {
        Store::open(&url)
            .unwrap()
            .job_runs(Some("audit"), None)
            .unwrap()
    };
    wait_for("the rerun", || {
        let jobs = audit_jobs();
        jobs.len() == 3 && jobs[0].status == JobStatus::Ok
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let jobs = audit_jobs();
    let statuses: Vec<JobStatus> = jobs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![JobStatus::Ok, JobStatus::Interrupted, JobStatus::Ok],
        "{jobs:?}"
    );
    let store = Store::open(&url).unwrap();
    assert_eq!(
        store.runs(Some(RunKind::Audit), None, None).unwrap().len(),
        2
    );
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
}
