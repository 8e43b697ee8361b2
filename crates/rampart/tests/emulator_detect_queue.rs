//! The detect job on `[schedule] detect_queue_url` against the moto emulator: the trail
//! bucket's object-created notifications arrive on an SQS queue; `rampart schedule run --once
//! detect` reads the objects under the trail prefix, records the alerts, deletes the messages it
//! handled (test event and an object elsewhere included), leaves a malformed one for the redrive
//! policy, and a repeated notification raises no alert twice.

#[path = "support/moto.rs"]
mod moto;

use moto::{build_fixture, init_for_emulator, rampart, repo, run_python, start_moto};
use rampart_store::{RunKind, Store};
use serde_json::Value;

/// boto3 against moto: `setup` (queue, bucket notification, and the `s3:TestEvent` moto does
/// not send), `put KEY…` (moto notifies the queue), `send BODY` or `send created KEY`, `depth`.
const QUEUE: &str = r#"
import boto3, gzip, json, sys
E, trail, bucket, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
kw = dict(endpoint_url=E, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3, sqs = boto3.client("s3", **kw), boto3.client("sqs", **kw)
q = sqs.get_queue_url(QueueName="rampart-trail-events")["QueueUrl"] if mode != "setup" else None

def depth(q):
    a = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

def created(key):
    return json.dumps({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key.replace(" ", "+"), "size": 1}}}]})

if mode == "setup":
    try:
        s3.create_bucket(Bucket=bucket)
    except Exception:
        pass
    q = sqs.create_queue(QueueName="rampart-trail-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    moto_test_event = depth(q)[0] > 0
    if not moto_test_event:
        sqs.send_message(QueueUrl=q, MessageBody=json.dumps(
            {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket}))
    print(json.dumps({"queue": q, "moto_test_event": moto_test_event}))
elif mode == "put":
    body = gzip.compress(open(trail, "rb").read())
    before = depth(q)[0]
    for key in args:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    print(json.dumps({"notified": depth(q)[0] - before}))
elif mode == "send":
    sqs.send_message(QueueUrl=q, MessageBody=args[0] if args[0] != "created" else created(args[1]))
    print("{}")
elif mode == "depth":
    v, nv = depth(q)
    print(json.dumps({"visible": v, "in_flight": nv}))
"#;

fn key(account: &str, name: &str) -> String {
    format!(
        "AWSLogs/o-abc/{account}/CloudTrail/us-east-1/2026/12/06/{account}_CloudTrail_us-east-1_{name}.json.gz"
    )
}

fn queue(moto: &moto::Moto, mode: &str, args: &[&str]) -> Value {
    let trail = repo().join("crates/rampart/src/cmd/demo_trail.json");
    let mut argv = vec![
        "-c",
        QUEUE,
        moto.url.as_str(),
        trail.to_str().unwrap(),
        "org-trail-logs",
        mode,
    ];
    argv.extend_from_slice(args);
    serde_json::from_slice(&run_python(&argv)).unwrap()
}

/// `schedule run --once detect`: the job run's summary and stderr.
fn detect(moto: &moto::Moto, cfg: &str) -> (Value, String) {
    let out = rampart(
        moto,
        &[
            "schedule",
            "run",
            "--once",
            "detect",
            "--config",
            cfg,
            "--regions",
            "us-east-1",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout} {stderr}");
    let json = &stdout[stdout.find('{').expect("a summary")..];
    (serde_json::from_str(json.trim()).unwrap(), stderr)
}

#[test]
fn detect_follows_the_trail_through_s3_notifications_on_sqs() {
    let moto = start_moto();
    build_fixture(&moto);
    let setup = queue(&moto, "setup", &[]);
    let url = setup["queue"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg)
        .replace(
            "# trail = \"s3://BUCKET/AWSLogs/o-XXXXXXXXXX/\"",
            "trail = \"s3://org-trail-logs/AWSLogs/o-abc/\"",
        )
        .replace(
            "# detect_queue_url = \"https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE\"",
            &format!("detect_queue_url = \"{url}\""),
        );
    assert!(text.contains("detect_queue_url = \"http"), "{text}");
    std::fs::write(&cfg, &text).unwrap();

    let (a, b) = (key("555555555555", "a"), key("444444444444", "b"));
    let put = queue(&moto, "put", &[&a, &b, "elsewhere/notes.json"]);
    assert_eq!(
        put["notified"], 3,
        "moto notifies the queue of each new object"
    );
    queue(&moto, "send", &["this is not an S3 notification"]);

    let (run, stderr) = detect(&moto, c);
    assert_eq!(run["objects"], 2, "{run}");
    assert_eq!(run["test_events"], 1, "{run}");
    assert_eq!(run["outside_trail"], 1, "{run}");
    assert_eq!(run["malformed"], 1, "{run}");
    assert_eq!(run["deleted"], 4, "{run}");
    assert_eq!(run["waiting"], 5, "{run}");
    assert!(
        stderr.contains(&format!(
            "rampart: detect: {url}: 1 malformed message(s) left for the queue's redrive policy (first: "
        )) && stderr.contains("not JSON"),
        "{stderr}"
    );
    // Handled messages are gone; the malformed one waits for its visibility timeout.
    let depth = queue(&moto, "depth", &[]);
    assert_eq!(depth, serde_json::json!({"visible": 0, "in_flight": 1}));
    let db = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store = Store::open(&db).unwrap();
    let detects = store.runs(Some(RunKind::Detect), None, None).unwrap();
    assert_eq!(detects.len(), 1);
    let alerts = detects[0].alerts;
    assert!(alerts > 0, "{:?}", detects[0]);
    assert!(
        store.job_cursors("detect").unwrap().is_empty(),
        "no listing"
    );
    drop(store);

    // S3 and SQS deliver at least once: a repeated notification is deleted, not detected again.
    queue(&moto, "send", &["created", &a]);
    let (run, _) = detect(&moto, c);
    assert_eq!(run["objects"], 0, "{run}");
    assert_eq!(run["already_read"], 1, "{run}");
    assert_eq!(run["deleted"], 1, "{run}");
    let store = Store::open(&db).unwrap();
    let detects = store.runs(Some(RunKind::Detect), None, None).unwrap();
    assert_eq!(detects.len(), 1, "no second detect run");
    drop(store);

    // A new object: read alone.
    let c_key = key("555555555555", "c");
    assert_eq!(queue(&moto, "put", &[&c_key])["notified"], 1);
    let (run, _) = detect(&moto, c);
    assert_eq!(run["objects"], 1, "{run}");
    let store = Store::open(&db).unwrap();
    let detects = store.runs(Some(RunKind::Detect), None, None).unwrap();
    assert_eq!(detects.len(), 2);
    assert!(detects.iter().all(|d| d.alerts > 0), "{detects:?}");
    assert_eq!(
        queue(&moto, "depth", &[]),
        serde_json::json!({"visible": 0, "in_flight": 1})
    );
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
}
