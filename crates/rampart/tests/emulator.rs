//! End to end against the moto AWS emulator: a real HTTP server, the real AWS SDK, several
//! accounts reached through AssumeRole. Builds a known organization (tests/support/
//! emulator_org.py), runs `rampart collect` and `rampart audit`, and checks verdicts per control
//! and account, including organization-trail and organization-log-group crediting.
//!
//! Needs the test dependencies (`scripts/install-test-deps.sh`); `RAMPART_MOTO_SERVER` may point
//! at another moto_server. Without moto the test fails with a message saying how to install it.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/moto.rs"]
mod moto;

use fault_proxy::{Fault, FaultProxy};
use moto::{
    baseline_ops, build_fixture, init_for_emulator, planned, python, rampart, rampart_at,
    rampart_command, repo, start_moto,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// (control, account) → statuses, from `audit --format json`.
fn verdicts(json: &str) -> HashMap<(String, String), Vec<String>> {
    let doc: Value = serde_json::from_str(json).expect("audit JSON");
    let mut out: HashMap<(String, String), Vec<String>> = HashMap::new();
    for f in doc["findings"].as_array().expect("findings") {
        out.entry((
            f["control"].as_str().unwrap().into(),
            f["account_id"].as_str().unwrap().into(),
        ))
        .or_default()
        .push(f["status"].as_str().unwrap().into());
    }
    out
}

#[test]
fn organization_audit_against_the_emulator() {
    let moto = start_moto();
    let ids = build_fixture(&moto);

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let snap_s = snap.to_str().unwrap();
    let c = rampart(
        &moto,
        &[
            "collect",
            "--regions",
            "us-east-1,eu-west-1",
            "--output",
            snap_s,
        ],
    );
    let stderr = String::from_utf8_lossy(&c.stderr);
    assert!(c.status.success(), "collect failed: {stderr}");
    assert!(
        stderr.contains("collected 6 account(s), 12 region(s)"),
        "{stderr}"
    );
    // Access Analyzer is not in moto: reported per region, never hidden.
    assert!(stderr.contains("access-analyzer:ListAnalyzers"), "{stderr}");

    let offline = rampart(&moto, &["audit", "--snapshot", snap_s, "--format", "json"]);
    assert!(
        matches!(offline.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let v = verdicts(&String::from_utf8_lossy(&offline.stdout));
    let st = |control: &str, role: &str| -> Vec<String> {
        let mut s = v
            .get(&(control.to_string(), ids[role].clone()))
            .cloned()
            .unwrap_or_default();
        s.sort();
        s
    };
    let all = |x: &str, n: usize| vec![x.to_string(); n];

    // The organization trail in the management account is credited to every member.
    for role in [
        "management",
        "log-archive",
        "audit",
        "prod",
        "test",
        "sandbox",
    ] {
        assert_eq!(st("cis-3.1", role), all("PASS", 1), "cis-3.1 {role}");
        assert_eq!(st("cis-3.2", role), all("PASS", 1), "cis-3.2 {role}");
        // CIS 4.5: the filter and alarm on the org trail's log group count for everyone.
        assert_eq!(st("cis-4.5", role), all("PASS", 1), "cis-4.5 {role}");
        // CIS 4.3 has no filter anywhere.
        assert_eq!(st("cis-4.3", role), all("FAIL", 1), "cis-4.3 {role}");
        // Never a PASS for what could not be observed.
        assert_eq!(st("cis-1.20", role), all("ERROR", 2), "cis-1.20 {role}");
    }
    // Known gaps per account and region.
    assert_eq!(st("cis-2.2.1", "prod"), all("PASS", 2));
    assert_eq!(st("cis-2.2.1", "test"), all("FAIL", 2));
    assert_eq!(
        st("cis-2.2.1", "sandbox"),
        vec!["FAIL".to_string(), "PASS".to_string()]
    );
    assert_eq!(st("cis-1.8", "prod"), all("PASS", 1));
    assert_eq!(st("cis-1.8", "test"), all("FAIL", 1));
    assert!(st("cis-5.2", "sandbox").contains(&"FAIL".to_string()));
    assert!(!st("cis-5.2", "prod").contains(&"FAIL".to_string()));
    // The SCP guardrail is attached to Workloads only; SCPs never bind the management account.
    assert_eq!(st("base-scp-protect-trail", "prod"), all("PASS", 1));
    assert_eq!(st("base-scp-protect-trail", "audit"), all("FAIL", 1));
    assert_eq!(
        st("base-scp-protect-trail", "management"),
        all("NOT_APPLICABLE", 1)
    );
    // GuardDuty in every account and region.
    assert_eq!(st("base-guardduty", "test"), all("PASS", 2));

    // The live audit gives the same findings as the saved snapshot.
    let live = rampart(
        &moto,
        &[
            "audit",
            "--regions",
            "us-east-1,eu-west-1",
            "--format",
            "json",
        ],
    );
    let lv = verdicts(&String::from_utf8_lossy(&live.stdout));
    assert_eq!(lv, v, "live audit and audit --snapshot disagree");

    // --fail-on gates: there are HIGH failures.
    let gate = rampart(
        &moto,
        &[
            "audit",
            "--snapshot",
            snap_s,
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
    );
    assert_eq!(gate.status.code(), Some(3));
}

#[test]
fn malformed_snapshot_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.json");
    std::fs::write(
        &p,
        "{\"schema_version\": 1, \"accounts\": [ {\"account_id\": 5 } ] }",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["audit", "--snapshot", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad.json:1:"), "{err}");
}

/// Error paths through a fault-injecting proxy in front of moto: a member whose role cannot be
/// assumed, an API answering AccessDenied in one account and region, a burst of throttling that
/// the retries absorb, and throttling that outlasts them. Each becomes a clear ERROR naming the
/// account, region, API and code; everything else is collected and judged as without faults.
#[test]
fn error_paths_become_errors_and_the_rest_completes() {
    let moto = start_moto();
    let ids = build_fixture(&moto);
    let proxy = FaultProxy::start(&moto.url);

    let sandbox = ids["sandbox"].clone();
    proxy.inject(
        "assume-sandbox",
        None,
        Fault::xml(
            403,
            "AccessDenied",
            "User is not authorized to perform: sts:AssumeRole",
        ),
        move |r| r.operation() == "AssumeRole" && r.body_text().contains(&sandbox),
    );
    let test = ids["test"].clone();
    proxy.inject(
        "guardduty-denied-test-eu",
        None,
        Fault::json(
            403,
            "AccessDeniedException",
            "not authorized to perform guardduty:ListDetectors",
        ),
        move |r| {
            r.service == "guardduty"
                && r.region == "eu-west-1"
                && r.account.as_deref() == Some(test.as_str())
        },
    );
    let prod = ids["prod"].clone();
    proxy.inject(
        "ebs-throttle-burst-prod",
        Some(2),
        Fault::ec2(503, "RequestLimitExceeded", "Request limit exceeded."),
        move |r| {
            r.operation() == "GetEbsEncryptionByDefault"
                && r.account.as_deref() == Some(prod.as_str())
        },
    );
    let audit = ids["audit"].clone();
    proxy.inject(
        "iam-throttle-audit",
        None,
        Fault::xml(400, "Throttling", "Rate exceeded"),
        move |r| {
            r.operation() == "GetAccountPasswordPolicy"
                && r.account.as_deref() == Some(audit.as_str())
        },
    );

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let snap_s = snap.to_str().unwrap();
    let c = rampart_at(
        &proxy.url,
        &[
            "collect",
            "-v",
            "--regions",
            "us-east-1,eu-west-1",
            "--max-attempts",
            "3",
            "--output",
            snap_s,
        ],
    );
    let stderr = String::from_utf8_lossy(&c.stderr);
    assert!(c.status.success(), "collect must complete: {stderr}");
    let hits = proxy.hits();
    assert!(hits["assume-sandbox"] >= 1, "{hits:?}");
    assert!(hits["guardduty-denied-test-eu"] >= 1, "{hits:?}");
    assert_eq!(hits["ebs-throttle-burst-prod"], 2, "{hits:?}");
    assert_eq!(hits["iam-throttle-audit"], 3, "3 attempts: {hits:?}");

    // One line per failure naming account, region, API and code.
    let line = |needle: &[&str]| {
        stderr
            .lines()
            .find(|l| needle.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no warning with {needle:?} in:\n{stderr}"))
            .to_string()
    };
    let l = line(&[&ids["sandbox"], "sts:AssumeRole", "AccessDenied"]);
    assert!(l.contains("--role-name"), "says what to do: {l}");
    line(&[
        &ids["test"],
        "eu-west-1",
        "guardduty:ListDetectors",
        "AccessDeniedException",
    ]);
    line(&[&ids["audit"], "iam:GetAccountPasswordPolicy", "Throttling"]);
    assert!(
        !stderr.contains(&format!(
            "account {} region us-east-1 guardduty",
            ids["test"]
        )),
        "only eu-west-1 was denied: {stderr}"
    );
    assert!(stderr.contains("collected 6 account(s)"), "{stderr}");

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    assert!(
        doc["collection"]["throttle_retries"].as_u64().unwrap() >= 4,
        "2 absorbed + 2 exhausted retries: {}",
        doc["collection"]
    );

    let out = rampart_at(
        &proxy.url,
        &["audit", "--snapshot", snap_s, "--format", "json"],
    );
    let v = verdicts(&String::from_utf8_lossy(&out.stdout));
    let st = |control: &str, role: &str| -> Vec<String> {
        let mut s = v
            .get(&(control.to_string(), ids[role].clone()))
            .cloned()
            .unwrap_or_default();
        s.sort();
        s
    };
    // The account that could not be entered: ERROR, never PASS, never silently absent.
    for control in ["cis-1.8", "cis-2.2.1", "base-guardduty"] {
        let s = st(control, "sandbox");
        assert!(!s.is_empty(), "{control} sandbox missing");
        assert!(s.iter().all(|x| x == "ERROR"), "{control} sandbox: {s:?}");
    }
    // AccessDenied in one region: that region ERROR, the other still judged.
    assert_eq!(
        st("base-guardduty", "test"),
        vec!["ERROR".to_string(), "PASS".to_string()]
    );
    // Throttling absorbed by retries: same verdicts as without faults.
    assert_eq!(st("cis-2.2.1", "prod"), vec!["PASS".to_string(); 2]);
    // Throttling that outlasts the retries: ERROR for what depends on it.
    assert_eq!(st("cis-1.8", "audit"), vec!["ERROR".to_string()]);
    // Everything else is unaffected.
    assert_eq!(st("cis-1.8", "prod"), vec!["PASS".to_string()]);
    assert_eq!(st("cis-1.8", "test"), vec!["FAIL".to_string()]);
    assert_eq!(st("cis-3.1", "audit"), vec!["PASS".to_string()]);
    assert_eq!(st("base-guardduty", "prod"), vec!["PASS".to_string(); 2]);

    // Per-service caps hold across every account and region of the run.
    proxy.reset_in_flight();
    let c = rampart_at(
        &proxy.url,
        &[
            "collect",
            "--regions",
            "us-east-1,eu-west-1",
            "--service-limit",
            "iam=1",
            "--service-limit",
            "ec2=2",
            "--output",
            snap_s,
        ],
    );
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let max = proxy.max_in_flight();
    assert_eq!(max.get("iam"), Some(&1), "{max:?}");
    assert!(max.get("ec2").is_some_and(|n| *n <= 2), "{max:?}");
    assert!(
        max.values().sum::<usize>() > max.len(),
        "the run is concurrent overall: {max:?}"
    );
    let bad = rampart_at(&proxy.url, &["collect", "--service-limit", "iamm=1"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("unknown service `iamm`"), "{err}");
}

/// `rampart detect s3://…` reads CloudTrail objects through the SDK (gzip, delivery layout,
/// digests skipped, key-date pruning, an unreadable object counted and reported) and publishes
/// alerts to SNS, checked through an SQS queue subscribed to the topic.
#[test]
fn detect_reads_s3_and_publishes_to_sns() {
    let moto = start_moto();
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    let trail = repo().join("crates/rampart/src/cmd/demo_trail.json");
    let script = r#"
import boto3, gzip, json, sys
E, trail = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=E, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3, sns, sqs = boto3.client("s3", **kw), boto3.client("sns", **kw), boto3.client("sqs", **kw)
s3.create_bucket(Bucket="org-trail-logs")
body = open(trail, "rb").read()
base = "AWSLogs/o-abc/444444444444/CloudTrail/eu-west-1/"
s3.put_object(Bucket="org-trail-logs", Key=base + "2026/11/20/444444444444_CloudTrail_eu-west-1_a.json.gz", Body=gzip.compress(body))
s3.put_object(Bucket="org-trail-logs", Key=base + "2026/11/20/444444444444_CloudTrail_eu-west-1_b.json.gz", Body=b"\x1f\x8b\x08\x00broken")
s3.put_object(Bucket="org-trail-logs", Key=base + "2020/01/01/444444444444_CloudTrail_eu-west-1_old.json.gz", Body=gzip.compress(body))
s3.put_object(Bucket="org-trail-logs", Key="AWSLogs/o-abc/444444444444/CloudTrail-Digest/eu-west-1/2026/11/20/d.json.gz", Body=b"{}")
s3.create_bucket(Bucket="dated-logs")
for acct in ("444444444444", "555555555555"):
    for region in ("eu-west-1", "us-east-1"):
        for day in ("2026/11/19", "2026/11/20", "2026/11/21", "2026/11/22", "2025/01/01"):
            key = f"AWSLogs/o-abc/{acct}/CloudTrail/{region}/{day}/{acct}_CloudTrail_{region}_{day.replace('/', '')}.json.gz"
            s3.put_object(Bucket="dated-logs", Key=key, Body=gzip.compress(body))
topic = sns.create_topic(Name="rampart-alerts")["TopicArn"]
q = sqs.create_queue(QueueName="alerts")["QueueUrl"]
qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
print(json.dumps({"topic": topic, "queue": q}))
"#;
    let out = Command::new(python(&server))
        .args(["-c", script, &moto.url, trail.to_str().unwrap()])
        .output()
        .expect("run fixture");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Value = serde_json::from_slice(&out.stdout).unwrap();
    let topic = ids["topic"].as_str().unwrap();

    let d = rampart(
        &moto,
        &[
            "detect",
            "s3://org-trail-logs/AWSLogs/",
            "--since",
            "2026-11-01",
            "--format",
            "jsonl",
            "--sns-topic",
            topic,
            "--aggregate",
            "0",
        ],
    );
    let stderr = String::from_utf8_lossy(&d.stderr);
    assert_eq!(d.status.code(), Some(0), "{stderr}");
    // Two objects in the window (one broken), the old one pruned by key date, the digest skipped.
    assert!(stderr.contains("2 file(s), 11 event(s) read"), "{stderr}");
    assert!(
        stderr.contains("s3://org-trail-logs/AWSLogs/o-abc/444444444444/CloudTrail/eu-west-1/2026/11/20/444444444444_CloudTrail_eu-west-1_b.json.gz"),
        "the broken object is named: {stderr}"
    );
    let alerts: Vec<Value> = String::from_utf8_lossy(&d.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(alerts.len() >= 3, "{alerts:?}");

    // A window of one day: in each account and region the objects delivered that day and the
    // next are read (an event late on the 20th arrives on the 21st), none other.
    let d = rampart(
        &moto,
        &[
            "detect",
            "s3://dated-logs/AWSLogs",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-20T23:59:59Z",
            "--format",
            "jsonl",
        ],
    );
    let stderr = String::from_utf8_lossy(&d.stderr);
    assert_eq!(d.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("8 file(s), 88 event(s) read, 0 skipped, 0 outside the time window"),
        "2 accounts x 2 regions x 2 days: {stderr}"
    );

    // Every alert reached SNS: read them back from the subscribed queue.
    let drain = r#"
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
sqs = boto3.client("sqs", **kw)
n = []
while True:
    r = sqs.receive_message(QueueUrl=sys.argv[2], MaxNumberOfMessages=10)
    if not r.get("Messages"):
        break
    for m in r["Messages"]:
        n.append(json.loads(json.loads(m["Body"])["Message"])["rule_id"])
        sqs.delete_message(QueueUrl=sys.argv[2], ReceiptHandle=m["ReceiptHandle"])
print(json.dumps(n))
"#;
    let got = Command::new(python(&server))
        .args(["-c", drain, &moto.url, ids["queue"].as_str().unwrap()])
        .output()
        .unwrap();
    let mut published: Vec<String> = serde_json::from_slice(&got.stdout).unwrap_or_else(|_| {
        panic!("{}", String::from_utf8_lossy(&got.stderr));
    });
    let mut expected: Vec<String> = alerts
        .iter()
        .map(|a| a["rule_id"].as_str().unwrap().to_string())
        .collect();
    published.sort();
    expected.sort();
    assert_eq!(published, expected);

    // A bucket that does not exist: one clear error naming it.
    let bad = rampart(&moto, &["detect", "s3://no-such-bucket/x/"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("no-such-bucket") && err.contains("NoSuchBucket"),
        "{err}"
    );
}

/// The baseline as code against the emulator: a fresh organization is planned and applied (an
/// apply killed half-way is simply run again), the next plan is empty, four out-of-band changes
/// show up as exactly their repairs, apply repairs them, and the audit agrees.
#[test]
fn baseline_apply_converges_resumes_and_repairs_drift() {
    let moto = start_moto();
    baseline_ops(&moto, "bare");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let log = dir.path().join("audit.jsonl");
    let l = log.to_str().unwrap();
    let init = rampart(
        &moto,
        &[
            "init",
            "--email",
            "ops@example.com",
            "--regions",
            "us-east-1,eu-west-1",
            "--config",
            c,
        ],
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    // moto refuses config.amazonaws.com as a delegated-administrator principal (README gaps).
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("config = true", "config = false");
    assert!(text.contains("rampart-org-trail-CHANGE-ME"), "{text}");
    std::fs::write(&cfg, &text).unwrap();
    let placeholder = rampart(&moto, &["apply", "--auto-approve", "--config", c]);
    assert_eq!(placeholder.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&placeholder.stderr).contains("log_archive.bucket"));
    // Without --email, init reads the organization and names the bucket after it.
    std::fs::remove_file(&cfg).unwrap();
    let init = rampart(
        &moto,
        &["init", "--regions", "us-east-1,eu-west-1", "--config", c],
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("config = true", "config = false")
        .replace("finding_aggregator = true", "finding_aggregator = false")
        .replace(
            "policy/job-function/ViewOnlyAccess",
            "policy/ViewOnlyAccess",
        );
    assert!(text.contains("bucket = \"rampart-org-trail-o-"), "{text}");
    std::fs::write(&cfg, text).unwrap();

    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "--config", c, "--format", "json"];
        args.extend_from_slice(extra);
        rampart(&moto, &args)
    };
    let first = plan(&[]);
    assert_eq!(
        first.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(planned(&first).contains(&"account:Audit".to_string()));

    // No terminal and no --auto-approve: nothing happens.
    let refused = rampart(&moto, &["apply", "--config", c, "--audit-log", l]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--auto-approve"));

    // Killed half-way.
    let mut child = rampart_command(
        &moto.url,
        &["apply", "--auto-approve", "--config", c, "--audit-log", l],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if n >= 12 || Instant::now() > deadline {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let killed_after = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(killed_after >= 12, "apply made only {killed_after} calls");

    // Run again: converges.
    let applied = rampart(
        &moto,
        &["apply", "--auto-approve", "--config", c, "--audit-log", l],
    );
    let err = String::from_utf8_lossy(&applied.stderr);
    assert_eq!(applied.status.code(), Some(0), "{err}");
    assert!(
        err.contains("The organization matches rampart.toml."),
        "{err}"
    );
    let again = plan(&[]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // The narrow live read of plan agrees with a full `rampart collect`.
    let full = dir.path().join("full.json");
    let full_s = full.to_str().unwrap();
    let collected = rampart(
        &moto,
        &["collect", "--regions", "us-east-1,eu-west-1", "-o", full_s],
    );
    assert!(collected.status.success());
    let from_full = plan(&["--snapshot", full_s]);
    assert_eq!(
        from_full.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&from_full.stdout)
    );
    // Nothing was created twice.
    let census = baseline_ops(&moto, "census");
    for kind in ["ous", "policies", "accounts"] {
        let mut names: Vec<&str> = census[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate {kind}: {census}");
    }
    assert_eq!(census["accounts"].as_array().unwrap().len(), 4, "{census}");

    // Every state-changing call is in the audit log, with no credentials.
    let audit_log = std::fs::read_to_string(&log).unwrap();
    assert!(
        !audit_log.contains("testing\""),
        "a credential reached the audit log"
    );
    for line in audit_log.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for k in ["time", "change", "account", "api", "parameters", "outcome"] {
            assert!(v.get(k).is_some(), "{k} missing: {line}");
        }
    }
    for api in [
        "organizations:CreateAccount",
        "organizations:AttachPolicy",
        "s3:PutObjectLockConfiguration",
        "cloudtrail:CreateTrail",
        "kms:CreateKey",
        "cloudwatch:PutMetricAlarm",
        "ec2:EnableEbsEncryptionByDefault",
    ] {
        assert!(audit_log.contains(api), "{api} not in the audit log");
    }

    // Out-of-band changes show up as exactly their repairs.
    let drift = baseline_ops(&moto, "drift");
    let d = rampart(&moto, &["drift", "--config", c, "--format", "json"]);
    assert_eq!(d.status.code(), Some(4));
    let mut want = vec![
        "attach:rampart-workloads-1:Workloads".to_string(),
        format!("ebs:{}:eu-west-1", drift["audit"].as_str().unwrap()),
        format!(
            "guardduty:{}:us-east-1",
            drift["log_archive"].as_str().unwrap()
        ),
        "trail-logging:rampart-org-trail".to_string(),
    ];
    want.sort();
    assert_eq!(planned(&d), want);
    // Repaired by applying exactly the reviewed plan (the file is the approval).
    let saved = dir.path().join("plan.json");
    let saved_s = saved.to_str().unwrap();
    assert_eq!(plan(&["--out", saved_s]).status.code(), Some(4));
    // A saved plan that destroys something still needs a `yes` (or --auto-approve).
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    doc["changes"][0]["destructive"] = Value::Bool(true);
    let risky = dir.path().join("risky.json");
    std::fs::write(&risky, doc.to_string()).unwrap();
    let refused = rampart(
        &moto,
        &[
            "apply",
            risky.to_str().unwrap(),
            "--config",
            c,
            "--audit-log",
            l,
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("1 destructive change(s)"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let repaired = rampart(&moto, &["apply", saved_s, "--config", c, "--audit-log", l]);
    assert_eq!(
        repaired.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&repaired.stderr)
    );
    assert_eq!(plan(&[]).status.code(), Some(0));

    // The audit agrees with what apply set up.
    let audit = rampart(
        &moto,
        &[
            "audit",
            "--regions",
            "us-east-1,eu-west-1",
            "--format",
            "json",
        ],
    );
    let v = verdicts(&String::from_utf8_lossy(&audit.stdout));
    let accounts: std::collections::BTreeSet<String> = v
        .keys()
        .map(|(_, a)| a.clone())
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(accounts.len(), 4, "{accounts:?}");
    for a in accounts {
        for (control, n) in [
            ("cis-2.2.1", 2),
            ("cis-1.8", 1),
            ("cis-3.1", 1),
            ("cis-3.5", 1),
            ("base-guardduty", 2),
        ] {
            let st = v
                .get(&(control.to_string(), a.clone()))
                .unwrap_or_else(|| panic!("no {control} verdict for {a}"));
            assert_eq!(st, &vec!["PASS".to_string(); n], "{control} {a}");
        }
    }
}

/// The history store against the emulator: two live audits recorded in SQLite with one gap fixed
/// out of band between them; `rampart diff` shows exactly that finding resolved, `history` lists
/// both audits with a better score for the second, and `--fail-on new` passes.
#[test]
fn history_diff_shows_exactly_an_out_of_band_fix() {
    let moto = start_moto();
    let ids = build_fixture(&moto);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("history.db").display());
    let audit = |label: &str| {
        let out = rampart(
            &moto,
            &[
                "audit",
                "--regions",
                "us-east-1,eu-west-1",
                "--format",
                "json",
                "--store",
                &url,
            ],
        );
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "{label} audit: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    audit("first");
    // `test` has no EBS default encryption in either region: fix one of them.
    baseline_ops(&moto, &format!("fix-ebs {} us-east-1", ids["test"]));
    audit("second");

    let d = rampart(&moto, &["diff", "--format", "json", "--store", &url]);
    assert_eq!(
        d.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    let v: Value = serde_json::from_slice(&d.stdout).expect("diff JSON");
    assert_eq!(v["counts"]["new"], 0, "{v}");
    assert_eq!(v["counts"]["resolved"], 1, "{v}");
    assert_eq!(v["counts"]["newly_unobservable"], 0, "{v}");
    let resolved: Vec<&Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["class"] == "resolved")
        .collect();
    assert_eq!(resolved.len(), 1, "{v}");
    assert_eq!(resolved[0]["control"], "cis-2.2.1");
    assert_eq!(resolved[0]["account_id"], ids["test"].as_str());
    assert_eq!(resolved[0]["region"], "us-east-1");
    assert!(
        resolved[0]["ou_path"]
            .as_str()
            .unwrap()
            .starts_with("Root/"),
        "{v}"
    );
    // The other region is still failing.
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["class"] == "still_failing"
                && i["control"] == "cis-2.2.1"
                && i["account_id"] == ids["test"].as_str()
                && i["region"] == "eu-west-1"),
        "{v}"
    );

    let h = rampart(&moto, &["history", "--format", "json", "--store", &url]);
    assert!(h.status.success(), "{}", String::from_utf8_lossy(&h.stderr));
    let runs: Value = serde_json::from_slice(&h.stdout).expect("history JSON");
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r["kind"] == "audit"));
    let score = |r: &Value| r["score"].as_f64().unwrap();
    assert!(
        score(&runs[0]) > score(&runs[1]),
        "newest first, and better: {runs:?}"
    );

    // The weekly report delivered: the Slack-compatible webhook (a local sink) gets the
    // summary, SNS the Markdown, and the report lands in S3.
    baseline_ops(&moto, "report-targets");
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!(
        "http://{}/hook/T000/secret-path",
        sink.local_addr().unwrap()
    );
    let received = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut c, _) = sink.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            let n = c.read(&mut chunk).unwrap_or(0);
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some(i) = text.find("\r\n\r\n") {
                let len: usize = text[..i]
                    .lines()
                    .find_map(|l| {
                        let l = l.to_ascii_lowercase();
                        l.strip_prefix("content-length:")
                            .and_then(|v| v.trim().parse().ok())
                    })
                    .unwrap_or(0);
                if buf.len() >= i + 4 + len || n == 0 {
                    c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .unwrap();
                    return String::from_utf8_lossy(&buf[i + 4..]).into_owned();
                }
            }
            if n == 0 {
                return String::new();
            }
        }
    });
    let cfg = dir.path().join("rampart.toml");
    std::fs::write(
        &cfg,
        "[alerts]\nsns_topic = \"rampart-weekly\"\nwebhook_env = \"RAMPART_TEST_WEEKLY_HOOK\"\n",
    )
    .unwrap();
    let md = dir.path().join("weekly.md");
    let sent = rampart_command(
        &moto.url,
        &[
            "report",
            "weekly",
            "--store",
            &url,
            "--config",
            cfg.to_str().unwrap(),
            "--send",
            "--s3",
            "s3://rampart-reports/weekly/",
            "-o",
            md.to_str().unwrap(),
        ],
    )
    .env("RAMPART_TEST_WEEKLY_HOOK", &hook)
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&sent.stderr);
    assert_eq!(sent.status.code(), Some(0), "{err}");
    assert!(
        !err.contains("secret-path"),
        "the webhook URL is a secret: {err}"
    );
    assert!(err.contains("published to arn:aws:sns:"), "{err}");
    let body: Value = serde_json::from_str(&received.join().unwrap()).expect("webhook JSON");
    assert!(
        body["blocks"].as_array().is_some_and(|b| !b.is_empty()),
        "{body}"
    );
    let keys = baseline_ops(&moto, "list-reports");
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].as_str().unwrap().ends_with(".md"), "{keys:?}");
    assert!(std::fs::read_to_string(&md).unwrap().contains("Resolved"));

    let gate = rampart(&moto, &["diff", "--fail-on", "new", "--store", &url]);
    assert_eq!(
        gate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&gate.stderr)
    );
    let text = String::from_utf8_lossy(&gate.stdout);
    assert!(text.contains("0 new failure(s), 1 resolved"), "{text}");
}

/// `rampart init` for one region into `cfg`, with the emulator's gaps worked around: moto refuses
/// config.amazonaws.com as a delegated-administrator principal, and knows ViewOnlyAccess without
/// its job-function/ path (README gaps). Returns the written text.
/// Identity Center as code against the emulator: the default `[identity]` is planned and
/// applied (permission sets, groups, assignments by OU for the accounts the same apply creates),
/// the next plan is empty, an assignment deleted out of band through the AWS SDK shows up in
/// `drift` as exactly its re-creation, `apply` repairs it, and the plan is empty again.
#[test]
fn identity_center_converges_and_repairs_a_removed_assignment() {
    let moto = start_moto();
    baseline_ops(&moto, "bare");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let log = dir.path().join("audit.jsonl");
    let l = log.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg);
    assert!(text.contains("[[identity.assignments]]"), "{text}");
    let plan = || rampart(&moto, &["plan", "--config", c, "--format", "json"]);

    let first = plan();
    assert_eq!(
        first.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let ids = planned(&first);
    for id in [
        "permission-set:SecurityAudit",
        "permission-set:PlatformAdmin",
        "permission-set:DeveloperReadOnly",
        "group:security",
        "group:platform",
        "group:developers",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} not planned: {ids:?}");
    }
    // The security team on every existing account ("/"): the management account and Legacy.
    assert_eq!(
        ids.iter()
            .filter(|i| i.starts_with("assignment:") && i.ends_with(":SecurityAudit:security"))
            .count(),
        2,
        "{ids:?}"
    );

    let applied = rampart(
        &moto,
        &["apply", "--auto-approve", "--config", c, "--audit-log", l],
    );
    let err = String::from_utf8_lossy(&applied.stderr);
    assert_eq!(applied.status.code(), Some(0), "{err}");
    assert!(
        err.contains("The organization matches rampart.toml."),
        "{err}"
    );
    let again = plan();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // Four accounts (management, Legacy, Log Archive, Audit) × the security team; no sandbox or
    // workload account exists, so the platform and developer sets are assigned nowhere yet.
    let census = baseline_ops(&moto, "identity-census");
    assert_eq!(census["assignments"], 4, "{census}");
    assert_eq!(
        census["permission_sets"],
        serde_json::json!(["DeveloperReadOnly", "PlatformAdmin", "SecurityAudit"]),
        "{census}"
    );
    assert_eq!(
        census["groups"],
        serde_json::json!(["developers", "platform", "security"])
    );
    let audit_log = std::fs::read_to_string(&log).unwrap();
    for api in [
        "sso:CreatePermissionSet",
        "sso:AttachManagedPolicyToPermissionSet",
        "identitystore:CreateGroup",
        "sso:CreateAccountAssignment",
    ] {
        assert!(audit_log.contains(api), "{api} not in the audit log");
    }

    // Out of band: the security team loses the Audit account.
    let dropped = baseline_ops(&moto, "drop-assignment Audit SecurityAudit security");
    let audit = dropped["account"].as_str().unwrap();
    let d = rampart(&moto, &["drift", "--config", c, "--format", "json"]);
    assert_eq!(
        d.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    assert_eq!(
        planned(&d),
        vec![format!("assignment:{audit}:SecurityAudit:security")]
    );
    let repaired = rampart(
        &moto,
        &["apply", "--auto-approve", "--config", c, "--audit-log", l],
    );
    assert_eq!(
        repaired.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&repaired.stderr)
    );
    assert_eq!(plan().status.code(), Some(0));
    assert_eq!(baseline_ops(&moto, "identity-census")["assignments"], 4);

    // The control agrees: Identity Center is enabled and in use.
    let audit_run = rampart(
        &moto,
        &["audit", "--regions", "us-east-1", "--format", "json"],
    );
    let v = verdicts(&String::from_utf8_lossy(&audit_run.stdout));
    let ic: Vec<&Vec<String>> = v
        .iter()
        .filter(|((control, _), _)| control == "base-identity-center")
        .map(|(_, s)| s)
        .collect();
    assert_eq!(ic, vec![&vec!["PASS".to_string()]], "{v:?}");
}

/// `rampart iam paths` on a collected account: moto holds a user whose only policy lets it
/// create new versions of that policy (tests/support/iam_escalation.py); the collection reads
/// GetAccountAuthorizationDetails and the analysis finds the one-step path to admin, naming the
/// statement; the read-only group member has none.
#[test]
fn iam_paths_finds_a_policy_version_escalation() {
    let moto = start_moto();
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    let fixture = Command::new(python(&server))
        .arg(repo().join("crates/rampart/tests/support/iam_escalation.py"))
        .arg(&moto.url)
        .output()
        .expect("run iam_escalation.py");
    assert!(
        fixture.status.success(),
        "fixture failed: {}",
        String::from_utf8_lossy(&fixture.stderr)
    );
    let account: Value = serde_json::from_slice(&fixture.stdout).unwrap();
    let account = account["account"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let snap_s = snap.to_str().unwrap();
    let c = rampart(
        &moto,
        &["collect", "--regions", "us-east-1", "--output", snap_s],
    );
    assert!(
        c.status.success(),
        "collect failed: {}",
        String::from_utf8_lossy(&c.stderr)
    );
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let iam = &snapshot["accounts"][0]["iam"];
    assert_eq!(iam["authorization_details"], true, "GAAD was read");
    assert_eq!(iam["groups"][0]["name"], "ops");

    let out = rampart(
        &moto,
        &["iam", "paths", "--snapshot", snap_s, "--format", "json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &reports[0];
    assert_eq!(r["account"], account.as_str());
    let admin_role = format!("arn:aws:iam::{account}:role/Admin");
    assert!(
        r["admins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == &admin_role),
        "{r}"
    );
    let paths = r["paths"].as_array().unwrap();
    let dev = format!("arn:aws:iam::{account}:user/dev");
    let p = paths
        .iter()
        .find(|p| p["from"] == dev.as_str())
        .unwrap_or_else(|| panic!("no path from dev: {r}"));
    let step = &p["steps"][0];
    assert_eq!(step["method"], "iam-create-policy-version");
    assert_eq!(step["to"], "admin");
    let cite = &step["checks"][0]["allowed_by"][0];
    assert_eq!(cite["statement"], "Versions");
    assert_eq!(
        cite["policy"],
        format!("arn:aws:iam::{account}:policy/dev-tools").as_str()
    );
    let auditor = format!("arn:aws:iam::{account}:user/auditor");
    assert!(!paths.iter().any(|p| p["from"] == auditor.as_str()), "{r}");

    // Text form and --from.
    let out = rampart(
        &moto,
        &["iam", "paths", "--snapshot", snap_s, "--from", &dev],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("user/dev → admin: iam:CreatePolicyVersion [iam-create-policy-version]"),
        "{text}"
    );
}

/// The data perimeter against the emulator: RCP blocks configured for two OUs are created as
/// RESOURCE_CONTROL_POLICY policies and attached there by `apply`, the next plan is empty, an RCP
/// detached out of band shows up in `drift` as exactly its re-attachment, and `apply` repairs it.
#[test]
fn rcps_are_applied_to_their_ous_and_repaired() {
    let moto = start_moto();
    baseline_ops(&moto, "bare");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg).replace(
            "\n[log_archive]",
            "\n[guardrails.rcps]\ntrusted_accounts = [\"111122223333\"]\n[guardrails.rcps.attach]\n\"Workloads\" = [\"perimeter-s3\", \"perimeter-kms\", \"perimeter-sqs\", \"perimeter-secretsmanager\", \"perimeter-sts\", \"require-tls\"]\n\"Security\" = [\"require-tls\"]\n\n[log_archive]",
        );
    assert!(text.contains("[guardrails.rcps.attach]"), "{text}");
    std::fs::write(&cfg, text).unwrap();

    let first = rampart(&moto, &["plan", "--config", c, "--format", "json"]);
    let ids = planned(&first);
    for id in [
        "rcp:rampart-rcp-workloads-1",
        "attach:rampart-rcp-workloads-1:Workloads",
        "rcp:rampart-rcp-security-1",
        "attach:rampart-rcp-security-1:Security",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} not planned: {ids:?}");
    }
    let applied = rampart(&moto, &["apply", "--auto-approve", "--config", c]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let empty = rampart(&moto, &["plan", "--config", c, "--format", "json"]);
    assert_eq!(
        empty.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&empty.stdout)
    );
    let census = baseline_ops(&moto, "rcp-census");
    assert!(
        census["types"]
            .as_array()
            .unwrap()
            .contains(&Value::from("RESOURCE_CONTROL_POLICY")),
        "{census}"
    );
    assert_eq!(
        census["rcps"]["rampart-rcp-workloads-1"]["targets"],
        serde_json::json!(["Workloads"]),
        "{census}"
    );
    assert_eq!(
        census["rcps"]["rampart-rcp-security-1"]["targets"],
        serde_json::json!(["Security"]),
        "{census}"
    );

    baseline_ops(&moto, "detach-rcp rampart-rcp-security-1");
    let d = rampart(&moto, &["drift", "--config", c, "--format", "json"]);
    assert_eq!(
        d.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    assert_eq!(
        planned(&d),
        vec!["attach:rampart-rcp-security-1:Security".to_string()]
    );
    let repaired = rampart(&moto, &["apply", "--auto-approve", "--config", c]);
    assert_eq!(
        repaired.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&repaired.stderr)
    );
    let census = baseline_ops(&moto, "rcp-census");
    assert_eq!(
        census["rcps"]["rampart-rcp-security-1"]["targets"],
        serde_json::json!(["Security"]),
        "{census}"
    );
}
