//! `rampart runbook` end to end: a rule's runbook as text and Markdown, filled from an alert
//! (a file, inline JSON), an unknown rule, escalation names from rampart.toml, `--all --out`.

use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const ALERT: &str = r#"{"schema":"rampart.alert/v1","rule_id":"RD-TAMPER-001","rule_source":"builtin","title":"CloudTrail trail stopped or deleted","severity":"critical","attack":["T1562.008"],"event_id":"e-1","event_time":"2024-07-31T13:06:24Z","event_source":"cloudtrail.amazonaws.com","event_name":"StopLogging","account":"111122223333","region":"eu-west-1","principal":"arn:aws:iam::111122223333:user/alice","source_ip":"198.51.100.7","resource":"org-trail","matched":{"userIdentity.accessKeyId":"AKIAEXAMPLE"},"count":1,"outcome":"success"}"#;

#[test]
fn prints_a_runbook_as_text_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let o = rampart(&["runbook", "rd-tamper-001"], dir.path());
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("RD-TAMPER-001: CloudTrail trail stopped or deleted\n"));
    assert!(stdout.contains("aws cloudtrail start-logging --region <region> --name <trail>"));
    let o = rampart(
        &["runbook", "RD-IAM-003", "--format", "markdown"],
        dir.path(),
    );
    let (stdout, _) = out(&o);
    assert!(stdout.starts_with("# RD-IAM-003: Access key created for another user"));
    assert!(stdout.contains("## Containment") && stdout.contains("```sh"));
    let o = rampart(&["runbook", "RD-IAM-003", "--format", "html"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).1.contains("use markdown or text"));
}

#[test]
fn fills_commands_from_an_alert_file_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.jsonl");
    std::fs::write(&file, format!("{ALERT}\n")).unwrap();
    for src in [file.to_str().unwrap(), ALERT] {
        let o = rampart(&["runbook", "--alert", src], dir.path());
        let (stdout, stderr) = out(&o);
        assert_eq!(o.status.code(), Some(0), "{stderr}");
        for want in [
            "aws cloudtrail start-logging --region eu-west-1 --name org-trail",
            "--access-key-id AKIAEXAMPLE --status Inactive",
            "aws iam update-access-key --user-name alice",
            "--since 2024-07-31T12:06:24Z --until 2024-07-31T14:06:24Z",
            "- Principal: arn:aws:iam::111122223333:user/alice",
        ] {
            assert!(stdout.contains(want), "missing {want:?}:\n{stdout}");
        }
    }
    let o = rampart(&["runbook", "--alert", "{\"schema\":\"x\"}"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let (_, stderr) = out(&o);
    assert!(
        stderr.contains("--alert:1: not a rampart.alert/v1 record"),
        "{stderr}"
    );
}

#[test]
fn unknown_rule_is_one_line_with_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let o = rampart(&["runbook", "RD-TAMPR-001"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let (stdout, stderr) = out(&o);
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("closest are RD-TAMPER-001"), "{stderr}");
}

#[test]
fn escalation_names_come_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rampart.toml"),
        "[detect.escalation]\nsecurity_oncall = \"#sec-oncall (PagerDuty: Security)\"\n",
    )
    .unwrap();
    let o = rampart(&["runbook", "RD-TAMPER-008"], dir.path());
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("- #sec-oncall (PagerDuty: Security): at once"),
        "{stdout}"
    );
    assert!(
        stdout.contains("- Organization administrators:"),
        "{stdout}"
    );
    std::fs::write(
        dir.path().join("rampart.toml"),
        "[detect.escalation]\nsecops = \"x\"\n",
    )
    .unwrap();
    let o = rampart(&["runbook", "RD-TAMPER-008"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).1.contains("unknown escalation role `secops`"));
}

/// `--all --out` writes exactly what docs/runbooks holds (the docs test in rampart-detect
/// checks the committed copy against the code).
#[test]
fn all_writes_the_generated_docs() {
    let dir = tempfile::tempdir().unwrap();
    let o = rampart(&["runbook", "--all", "--out", "rb"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", out(&o).1);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/runbooks");
    // the rules' pages, and the finding types' pages in findings/
    let mut n = 0;
    let mut dirs = vec![std::path::PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        for e in std::fs::read_dir(dir.path().join("rb").join(&rel))
            .unwrap()
            .flatten()
        {
            let name = rel.join(e.file_name());
            if e.path().is_dir() {
                dirs.push(name);
                continue;
            }
            let ours = std::fs::read_to_string(e.path()).unwrap();
            let theirs = std::fs::read_to_string(committed.join(&name)).unwrap_or_default();
            assert_eq!(ours, theirs, "{name:?}");
            n += 1;
        }
    }
    assert!(n > 59, "{n}");
}
