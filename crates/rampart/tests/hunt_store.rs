//! `rampart hunt` on a local Spark records its run and alerts in the history store as `detect`
//! does (the same recording function), and `--no-store` leaves the store alone.
//!
//! Needs PySpark in `.venv` and Java (`bash scripts/install-test-deps.sh`); fails without them
//! unless `RAMPART_SKIP_SPARK=1`.

use rampart_store::testing::sqlite_db;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spark_submit() -> Option<PathBuf> {
    if std::env::var("RAMPART_SKIP_SPARK").as_deref() == Ok("1") {
        eprintln!("RAMPART_SKIP_SPARK=1: the hunt store test is skipped");
        return None;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match rampart_hunt::local::find_spark_submit(&workspace) {
        Ok(p) => Some(p),
        Err(e) => panic!(
            "the hunt store test needs a local Spark: {e} (or set RAMPART_SKIP_SPARK=1 to skip it)"
        ),
    }
}

fn rampart(dir: &Path, spark: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(dir)
        .args(args)
        .env_remove("RAMPART_STORE")
        .env("RAMPART_SPARK_SUBMIT", spark)
        .output()
        .expect("run rampart")
}

/// One day of trail in the S3 delivery layout: a StopLogging (alerted on by RD-001's rule
/// family) and a routine read.
fn trail(root: &Path) {
    let day = root.join("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/31");
    std::fs::create_dir_all(&day).unwrap();
    let text = r#"{"Records":[{"eventVersion":"1.09","eventTime":"2026-07-31T13:06:24Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","eventID":"e-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"},"requestParameters":{"name":"org-trail"}},{"eventVersion":"1.09","eventTime":"2026-07-31T13:07:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","eventID":"e-2","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"}}]}"#;
    let f = std::fs::File::create(
        day.join("111122223333_CloudTrail_eu-west-1_20260731T1310Z_a.json.gz"),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
}

#[test]
fn a_hunt_is_recorded_with_its_alerts_and_no_store_records_nothing() {
    let Some(spark) = spark_submit() else { return };
    let db = sqlite_db();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    trail(&d.join("trail"));
    let out = rampart(
        d,
        &spark,
        &[
            "hunt",
            "--rules",
            "builtin",
            "--from",
            "trail",
            "--master",
            "local[1]",
            "--format",
            "jsonl",
            "--store",
            db.url(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "hunt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        printed.iter().any(|a| a["event_id"] == "e-1"),
        "the StopLogging alert is printed: {printed:?}"
    );

    let store = db.open();
    let runs = store
        .runs(Some(rampart_store::RunKind::Detect), None, None)
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].alerts as usize, printed.len(), "{runs:?}");
    let from = chrono::DateTime::parse_from_rfc3339("2026-07-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let to = chrono::DateTime::parse_from_rfc3339("2026-08-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let stored = store.alerts(from, to).unwrap();
    assert_eq!(stored.len(), printed.len());
    assert!(
        stored
            .iter()
            .any(|(_, a)| a.event_id.as_deref() == Some("e-1")
                && a.principal.as_deref() == Some("arn:aws:iam::111122223333:user/mallory"))
    );
    assert!(
        stored
            .iter()
            .all(|(_, a)| a.event_id.as_deref() != Some("e-2"))
    );
    drop(store);

    // --no-store: the same hunt leaves the store as it was
    let out = rampart(
        d,
        &spark,
        &[
            "hunt",
            "--rules",
            "builtin",
            "--from",
            "trail",
            "--master",
            "local[1]",
            "--format",
            "jsonl",
            "--store",
            db.url(),
            "--no-store",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "hunt --no-store: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = db
        .open()
        .runs(Some(rampart_store::RunKind::Detect), None, None)
        .unwrap();
    assert_eq!(runs.len(), 1, "--no-store recorded nothing more");
}
