//! Killing the scheduler in the middle of a scheduled audit loses nothing: the run is marked
//! interrupted at the next start and runs again, and the store stays consistent.
//!
//! The test starts itself again as a child process (the `child` test below, which does
//! nothing unless `RAMPART_KILL_TEST_STORE` is set), kills it with SIGKILL at a known point,
//! and restarts it. The pause before the write uses the documented test-only hook
//! (`RAMPART_TEST_PAUSE_AT=audit:before-record`); the kill during the write waits for the
//! job's marker file and then kills while the large transaction is being written.

use rampart_schedule::{Job, JobContext, Outcome, Scheduler, Shutdown, SystemClock};
use rampart_store::{AuditRun, JobStatus, ObservedAccount, Store};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FINDINGS: usize = 60_000;

/// Records an audit of FINDINGS findings, like the binary's audit job does once it has
/// evaluated a snapshot.
struct AuditJob {
    marker: Option<PathBuf>,
}

fn finding(i: usize) -> rampart_core::Finding {
    let account = format!("{:012}", 100_000_000_000u64 + (i % 50) as u64);
    serde_json::from_value(serde_json::json!({
        "id": format!("rf-c{}-{account}-r{i}", i % 7),
        "control": format!("c{}", i % 7),
        "title": "a control",
        "frameworks": [],
        "status": if i.is_multiple_of(3) { "FAIL" } else { "PASS" },
        "severity": "HIGH",
        "account_id": account,
        "region": "us-east-1",
        "resource": format!("r{i}"),
        "message": "m",
        "remediation": "fix it",
    }))
    .expect("finding JSON")
}

impl Job for AuditJob {
    fn name(&self) -> &str {
        "audit"
    }

    fn run(&self, ctx: &JobContext<'_>) -> Result<Outcome, String> {
        let findings: Vec<_> = (0..FINDINGS).map(finding).collect();
        let accounts = (0..50)
            .map(|a| ObservedAccount {
                account_id: format!("{:012}", 100_000_000_000u64 + a),
                name: format!("a{a}"),
                ou_path: "Root".into(),
                regions: vec!["us-east-1".into()],
                unreachable: false,
            })
            .collect();
        let run = AuditRun {
            started_at: ctx.scheduled_for,
            finished_at: ctx.scheduled_for,
            source: "test".into(),
            organization_id: None,
            framework: None,
            rampart_version: "test".into(),
            catalogue_version: "7 controls".into(),
            accounts,
            collection_errors: vec![],
            controls: (0..7).map(|c| format!("c{c}")).collect(),
        };
        rampart_schedule::test_pause_point("audit", "before-record");
        if let Some(m) = &self.marker {
            std::fs::write(m, "recording").map_err(|e| e.to_string())?;
        }
        let mut store = ctx.store.lock().map_err(|e| e.to_string())?;
        let id = store
            .record_audit(&run, &findings)
            .map_err(|e| e.to_string())?;
        Ok(Outcome {
            summary: serde_json::json!({ "findings": findings.len() }),
            run_id: Some(id),
        })
    }
}

/// The child process: a scheduler with the audit job every 6 hours, until killed.
#[test]
fn child() {
    let Ok(url) = std::env::var("RAMPART_KILL_TEST_STORE") else {
        return;
    };
    let marker = std::env::var("RAMPART_KILL_TEST_MARKER")
        .ok()
        .map(PathBuf::from);
    let mut s = Scheduler::new(Store::open(&url).unwrap(), Arc::new(SystemClock));
    s.add(
        Arc::new(AuditJob { marker }),
        rampart_schedule::Schedule {
            spec: rampart_schedule::Spec::parse("every 6h").unwrap().unwrap(),
            zone: rampart_schedule::spec::parse_zone("UTC").unwrap(),
        },
    );
    s.run_until(&Shutdown::new()).unwrap();
}

fn spawn(url: &str, env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child", "--exact", "--test-threads=1", "--nocapture"])
        .env("RAMPART_KILL_TEST_STORE", url)
        .env_remove("RAMPART_TEST_PAUSE_AT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

fn statuses(url: &str) -> Vec<JobStatus> {
    let mut v: Vec<_> = Store::open(url)
        .unwrap()
        .job_runs(Some("audit"), None)
        .unwrap()
        .into_iter()
        .map(|r| r.status)
        .collect();
    v.reverse();
    v
}

fn restart_and_check(url: &str, killed_runs: usize) {
    let child = spawn(url, &[]);
    wait_for("the rerun", || {
        statuses(url)
            .iter()
            .filter(|s| **s == JobStatus::Ok)
            .count()
            == 1
    });
    kill(child);
    let store = Store::open(url).unwrap();
    let runs = store.job_runs(Some("audit"), None).unwrap();
    assert_eq!(runs.len(), killed_runs + 1, "{runs:?}");
    assert_eq!(runs[0].status, JobStatus::Ok);
    assert!(runs[1..].iter().all(|r| r.status == JobStatus::Interrupted));
    assert_eq!(
        runs[0].scheduled_for, runs[1].scheduled_for,
        "the same slot ran again"
    );
    let audits = store
        .runs(Some(rampart_store::RunKind::Audit), None, None)
        .unwrap();
    assert_eq!(audits.len(), 1, "one recorded audit, the rerun's");
    assert_eq!(runs[0].run_id, Some(audits[0].id));
    assert_eq!(store.findings().unwrap().len(), FINDINGS);
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("rampart.db").display())
}

#[test]
fn killed_before_the_write_reruns_at_the_next_start() {
    if std::env::var("RAMPART_KILL_TEST_STORE").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let pause = dir.path().join("paused");
    let child = spawn(
        &url,
        &[
            ("RAMPART_TEST_PAUSE_AT", "audit:before-record"),
            ("RAMPART_TEST_PAUSE_FILE", pause.to_str().unwrap()),
        ],
    );
    wait_for("the pause point", || pause.exists());
    kill(child);
    assert_eq!(statuses(&url), vec![JobStatus::Running]);
    restart_and_check(&url, 1);
}

#[test]
fn killed_during_the_write_leaves_the_previous_state() {
    if std::env::var("RAMPART_KILL_TEST_STORE").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let marker = dir.path().join("recording");
    let child = spawn(
        &url,
        &[("RAMPART_KILL_TEST_MARKER", marker.to_str().unwrap())],
    );
    wait_for("the write to start", || marker.exists());
    std::thread::sleep(Duration::from_millis(150));
    kill(child);
    let store = Store::open(&url).unwrap();
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    let audits = store
        .runs(Some(rampart_store::RunKind::Audit), None, None)
        .unwrap();
    if audits.is_empty() {
        // killed inside the transaction: nothing of it is visible
        assert!(store.findings().unwrap().is_empty());
        assert_eq!(statuses(&url), vec![JobStatus::Running]);
        drop(store);
        restart_and_check(&url, 1);
    } else {
        // the write finished before the kill (a fast machine): it is whole
        assert_eq!(store.findings().unwrap().len(), FINDINGS);
        eprintln!("note: the audit was committed before the kill; nothing to roll back");
    }
}
