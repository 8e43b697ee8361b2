//! Detection on several threads (`parallel::detect_files` + `Detector::absorb`, as `rampart
//! detect --threads N` runs) gives exactly what one detector reading the files in turn gives:
//! the same alerts in the same order (aggregated, with their counts and first/last times), the
//! same counts and the same issues — with broken files among good ones, a time window, and
//! aggregation bounds small enough that groups are evicted — and the sign-in failure tracker,
//! which counts across events and files, over files of sprays and brute force among them.

use proptest::prelude::*;
use rampart_detect::input::{Parsed, ReadStats, Reader};
use rampart_detect::parallel::{Settings, detect_files};
use rampart_detect::{Alert, BuiltinConfig, DetectStats, Detector, Engine, SigninConfig};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;
use common::corpora;

/// Every active built-in rule (the region rule on) and every supported SigmaHQ rule.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        common::engine(&BuiltinConfig {
            allowed_regions: vec!["us-east-1".into()],
            ..Default::default()
        })
    })
}

/// The corpus's files with broken ones among them (each kind of damage once), and the
/// directory that holds the broken ones.
fn files() -> &'static (Vec<PathBuf>, tempfile::TempDir) {
    static FILES: OnceLock<(Vec<PathBuf>, tempfile::TempDir)> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut files =
            rampart_detect::input::discover(&corpora().join("cloudtrail"), None, None).unwrap();
        assert!(files.len() > 100, "corpus missing: {} files", files.len());
        let dir = tempfile::tempdir().unwrap();
        let gz = std::fs::read(files.iter().find(|f| f.to_string_lossy().ends_with(".gz")).unwrap())
            .unwrap();
        let broken: [(&str, Vec<u8>); 5] = [
            ("truncated.json.gz", gz[..gz.len() / 2].to_vec()),
            ("invalid.json", b"{\"Records\": [{\"eventName\": ".to_vec()),
            (
                "not-an-object.json",
                br#"{"Records": [7, {"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1", "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"}}]}"#
                    .to_vec(),
            ),
            ("empty.json", Vec::new()),
            ("bad-record.jsonl", b"{\"eventName\": 1}\nnot json\n".to_vec()),
        ];
        for (k, (name, bytes)) in broken.into_iter().enumerate() {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            files.insert((k * 37 + 5).min(files.len()), p);
        }
        for k in 0..8 {
            let p = dir.path().join(format!("signin-{k}.json"));
            std::fs::write(&p, signin_file(k)).unwrap();
            files.insert((k * 23 + 11).min(files.len()), p);
        }
        files.push(dir.path().join("missing.json.gz"));
        (files, dir)
    })
}

/// Console sign-ins of file `k`: failures from a few addresses on a few users (bursts that span
/// files), with a success now and then.
fn signin_file(k: usize) -> Vec<u8> {
    let mut records = Vec::new();
    for j in 0..12 {
        let n = k * 12 + j;
        let minute = n / 3;
        let user = ["ann", "bob", "cid", "dan", "eve"][(n * 7) % 5];
        let ip = ["203.0.113.1", "203.0.113.2", "198.51.100.3"][(n / 5) % 3];
        let outcome = if n % 11 == 10 { "Success" } else { "Failure" };
        let mut e = serde_json::json!({
            "eventVersion": "1.08", "eventTime": format!("2024-07-31T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60),
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
            "sourceIPAddress": ip, "userAgent": "Mozilla/5.0", "eventType": "AwsConsoleSignIn",
            "eventID": format!("00000000-0000-4000-8000-{n:012}"), "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333", "userName": user},
            "responseElements": {"ConsoleLogin": outcome},
            "additionalEventData": {"MFAUsed": "No"}});
        if outcome == "Failure" {
            e["errorMessage"] = "Failed authentication".into();
        }
        records.push(e);
    }
    serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap()
}

#[derive(PartialEq)]
struct Outcome {
    alerts: Vec<String>,
    stats: DetectStats,
    read: ReadStats,
    issues: Vec<String>,
}

/// The first difference only (a whole outcome is megabytes of alerts).
impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} alerts, {:?}, {:?}, {} issues",
            self.alerts.len(),
            self.stats,
            self.read,
            self.issues.len()
        )
    }
}

/// Panics naming the first alert or issue where `b` differs from `a`.
fn assert_same(a: &Outcome, b: &Outcome, what: &str) {
    let first = |x: &[String], y: &[String]| x.iter().zip(y).position(|(p, q)| p != q);
    if let Some(k) = first(&a.alerts, &b.alerts) {
        panic!(
            "{what}: alert {k} differs:\n{}\n{}",
            a.alerts[k], b.alerts[k]
        );
    }
    if let Some(k) = first(&a.issues, &b.issues) {
        panic!(
            "{what}: issue {k} differs:\n{}\n{}",
            a.issues[k], b.issues[k]
        );
    }
    assert_eq!(a, b, "{what}");
}

#[derive(Debug, Clone, Copy)]
struct Run {
    aggregate: u64,
    groups: usize,
    window: bool,
    /// The sign-in tracker's bound on sources, users and open bursts.
    tracked: usize,
}

fn origin(path: &Path, n: usize) -> String {
    format!("{}:record {n}", path.display())
}

fn detector(run: Run) -> Detector<'static> {
    let (since, until) = if run.window {
        (
            rampart_detect::alert::parse_time("2023-01-01T00:00:00Z"),
            rampart_detect::alert::parse_time("2024-09-30T00:00:00Z"),
        )
    } else {
        (None, None)
    };
    Detector::new(engine(), run.aggregate)
        .open_groups(run.groups)
        .window(since, until)
        .with_signin(SigninConfig {
            window_secs: 300,
            spray_users: 3,
            brute_force_failures: 3,
            max_tracked: run.tracked,
        })
}

/// What a finished run produced (its open groups emitted).
fn outcome(
    mut det: Detector<'_>,
    mut alerts: Vec<Alert>,
    read: ReadStats,
    issues: Vec<String>,
) -> Outcome {
    det.finish(&mut alerts).unwrap();
    Outcome {
        alerts: alerts.iter().map(Alert::to_json_line).collect(),
        stats: det.stats,
        read,
        issues,
    }
}

/// One detector reading the files in turn, as the one-thread loop of `rampart detect` does.
fn one_detector(files: &[PathBuf], run: Run) -> Outcome {
    let mut det = detector(run);
    let mut reader = Reader::new();
    let mut read = ReadStats::default();
    let (mut alerts, mut issues) = (Vec::<Alert>::new(), Vec::new());
    for f in files {
        let mut read_issues = Vec::new();
        reader.read_file_batches(f, &mut read, &mut read_issues, &mut |p: Parsed<'_, '_>| {
            if let Err(i) = det.process_parsed(p, &|n| origin(f, n), &mut alerts) {
                issues.push(i.to_string());
            }
        });
        issues.extend(read_issues.iter().map(|i| i.to_string()));
    }
    outcome(det, alerts, read, issues)
}

fn on_threads(files: &[PathBuf], run: Run, threads: usize) -> Outcome {
    let mut det = detector(run);
    let (since, until) = det.time_window();
    let settings = Settings {
        threads,
        since,
        until,
        origin: &origin,
    };
    let mut read = ReadStats::default();
    let (mut alerts, mut issues) = (Vec::<Alert>::new(), Vec::new());
    let mut expected = 0;
    detect_files(engine(), files, &settings, &mut |mut done| {
        assert_eq!(done.index, expected, "files handed over out of order");
        expected += 1;
        read += done.read;
        issues.extend(done.issues.iter().map(|i| i.to_string()));
        det.absorb(&mut done, &mut alerts);
    });
    assert_eq!(expected, files.len(), "every file handed over");
    outcome(det, alerts, read, issues)
}

#[test]
fn threads_give_what_one_detector_gives() {
    let (files, _dir) = files();
    let run = Run {
        aggregate: 300,
        groups: 10_000,
        window: false,
        tracked: 10_000,
    };
    let one = one_detector(files, run);
    for (rule, severity) in [
        ("RD-IAM-010", "high"),
        ("RD-IAM-010", "critical"),
        ("RD-IAM-011", "high"),
        ("RD-IAM-011", "critical"),
    ] {
        let needle = format!("\"rule_id\":\"{rule}\"");
        let sev = format!("\"severity\":\"{severity}\"");
        assert!(
            one.alerts
                .iter()
                .any(|a| a.contains(&needle) && a.contains(&sev)),
            "a {severity} {rule} alert among the sign-in files"
        );
    }
    assert!(one.alerts.len() > 300, "{}", one.alerts.len());
    assert!(
        one.stats.alerts > one.alerts.len() as u64,
        "aggregation merged some"
    );
    assert!(one.read.skipped >= 3, "{:?}", one.read);
    for needle in [
        "truncated",
        "invalid.json",
        "not-an-object",
        "bad-record",
        "missing",
    ] {
        assert!(
            one.issues.iter().any(|i| i.contains(needle)),
            "{needle} reported: {:?}",
            one.issues
        );
    }
    for threads in [1, 2, 3] {
        let many = on_threads(files, run, threads);
        assert_same(&one, &many, &format!("{threads} thread(s)"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any order and subset of the files, any thread count, with or without a time window, and
    /// aggregation windows and bounds from none to small enough to evict groups.
    #[test]
    fn any_files_any_threads_same_result(
        order in Just(files().0.clone()).prop_shuffle(),
        keep in 1usize..200,
        threads in 1usize..5,
        aggregate in prop_oneof![Just(0u64), Just(60), Just(300), Just(86_400)],
        groups in prop_oneof![Just(1usize), Just(5), Just(40), Just(10_000)],
        window in any::<bool>(),
        tracked in prop_oneof![Just(1usize), Just(3), Just(10_000)],
    ) {
        let files = &order[..keep.min(order.len())];
        let run = Run { aggregate, groups, window, tracked };
        assert_same(&one_detector(files, run), &on_threads(files, run, threads), &format!("{run:?} on {threads} thread(s)"));
    }
}
