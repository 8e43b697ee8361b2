//! `rampart policy generate` and `rampart iam unused` end to end on a small trail written here
//! (works with `--no-default-features`): the policy names what the calls named, the proof is
//! printed, and the unused report lists the grants the role never used.

use std::path::Path;
use std::process::{Command, Output};

const ROLE: &str = "arn:aws:iam::111122223333:role/app";

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn event(session: &str, source: &str, name: &str, params: &str, error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| format!(r#","errorCode":"{e}""#));
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{{"type":"AssumedRole","arn":"{session}","accountId":"111122223333","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{ROLE}"}}}}}},"requestParameters":{params}{error}}}"#
    )
}

fn trail(dir: &Path) {
    let s1 = "arn:aws:sts::111122223333:assumed-role/app/i-1";
    let s2 = "arn:aws:sts::111122223333:assumed-role/app/i-2";
    let other = "arn:aws:sts::111122223333:assumed-role/other/x";
    let lines = [
        event(
            s1,
            "s3.amazonaws.com",
            "GetObject",
            r#"{"bucketName":"data","key":"in/a.csv"}"#,
            None,
        ),
        event(
            s2,
            "s3.amazonaws.com",
            "ListObjects",
            r#"{"bucketName":"data"}"#,
            None,
        ),
        event(
            s1,
            "sqs.amazonaws.com",
            "SendMessage",
            r#"{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/jobs"}"#,
            None,
        ),
        event(s1, "sts.amazonaws.com", "GetCallerIdentity", "null", None),
        event(
            s2,
            "iam.amazonaws.com",
            "CreateUser",
            r#"{"userName":"x"}"#,
            Some("AccessDenied"),
        ),
        event(s1, "signin.amazonaws.com", "ConsoleLogin", "null", None),
        event(other, "ec2.amazonaws.com", "TerminateInstances", "{}", None),
    ];
    std::fs::write(dir.join("trail.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// `rampart policy generate --principal PRINCIPAL --from trail.jsonl EXTRA…` in `dir`.
fn generate(dir: &Path, principal: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "policy",
        "generate",
        "--principal",
        principal,
        "--from",
        "trail.jsonl",
    ];
    args.extend(extra);
    rampart(&args, dir)
}

#[test]
fn generate_writes_a_proven_policy() {
    let dir = tempfile::tempdir().unwrap();
    trail(dir.path());
    let o = generate(dir.path(), ROLE, &["-o", "app.json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("app.json")).unwrap())
            .unwrap();
    let text = policy.to_string();
    assert!(text.contains("arn:aws:s3:::data/in/a.csv"), "{text}");
    assert!(
        text.contains(r#""s3:ListBucket""#) && text.contains(r#""arn:aws:s3:::data""#),
        "{text}"
    );
    assert!(
        text.contains("arn:aws:sqs:eu-west-1:111122223333:jobs"),
        "{text}"
    );
    assert!(
        !text.contains("iam:CreateUser"),
        "refused in the log, not granted: {text}"
    );
    assert!(!text.contains("ec2:"), "another principal's call: {text}");
    assert!(
        err.contains("3 replayed") && err.contains("3 allowed, 0 denied"),
        "{err}"
    );
    assert!(
        err.contains("signin.amazonaws.com ConsoleLogin"),
        "listed, not dropped: {err}"
    );
    // lint is clean and the JSON form carries the proof
    let o = generate(dir.path(), ROLE, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["proof"]["allowed"], 3);
    assert_eq!(v["proof"]["lint"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["policy"]["Version"], "2012-10-17");
    // a window with no calls: an error that says what to check
    let o = generate(dir.path(), ROLE, &["--since", "2026-12-01"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to generate"));
    let o = generate(dir.path(), "app", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not the ARN of an IAM role"));
}

#[test]
fn unused_lists_grants_never_used() {
    let dir = tempfile::tempdir().unwrap();
    trail(dir.path());
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket","sqs:SendMessage","sqs:DeleteQueue","dynamodb:GetItem"],"Resource":"*"}]}"#;
    let snapshot = serde_json::json!({
        "schema_version": 1,
        "accounts": [{
            "account_id": "111122223333",
            "iam": {
                "roles": [
                    {"name": "app", "arn": "arn:aws:iam::111122223333:role/svc/app", "path": "/svc/", "attached_policies": ["arn:aws:iam::111122223333:policy/app"]},
                    {"name": "idle", "arn": "arn:aws:iam::111122223333:role/idle", "path": "/", "attached_policies": ["arn:aws:iam::111122223333:policy/app", "arn:aws:iam::111122223333:policy/gone"]}
                ],
                "policies": [{"arn": "arn:aws:iam::111122223333:policy/app", "name": "app", "document": doc}]
            }
        }]
    });
    std::fs::write(dir.path().join("snap.json"), snapshot.to_string()).unwrap();
    let args = [
        "iam",
        "unused",
        "--from",
        "trail.jsonl",
        "--since",
        "2026-01-01",
        "--snapshot",
        "snap.json",
    ];
    let o = rampart(&args, dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(
            "role/svc/app (6 call(s)): 3 of 6 granted action(s) used, in 2 of 3 service(s)"
        ),
        "{out}"
    );
    assert!(out.contains("never used services: dynamodb"), "{out}");
    assert!(
        out.contains("s3: 2 of 3 used; never used: s3:PutObject"),
        "{out}"
    );
    assert!(
        out.contains("managed policy arn:aws:iam::111122223333:policy/gone"),
        "{out}"
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let o = rampart(&json_args, dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let idle = &v["principals"][0];
    assert_eq!(idle["principal"], "arn:aws:iam::111122223333:role/idle");
    assert_eq!(idle["used_actions"], 0);
    assert_eq!(idle["unused_services"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["unknown_principals"], 1,
        "the other role is not in the snapshot"
    );
}
