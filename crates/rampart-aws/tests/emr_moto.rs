//! `rampart hunt --submit emr-serverless` against the moto emulator: the job is uploaded to S3,
//! StartJobRun receives it (entry point, arguments, role), GetJobRun is followed to its end, and
//! the output is read back from S3. moto never runs the Spark job (a run is `SUCCESS` at once),
//! so the test writes the output the job would have written under the `--out` prefix first.
//! Needs moto (`bash scripts/install-test-deps.sh`, or `RAMPART_MOTO_SERVER`).

use rampart_aws::emr::{AwsEmrServerless, HuntRun, run_hunt};
use rampart_aws::{BlockingAws, CollectOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_server() -> PathBuf {
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    assert!(
        server.exists(),
        "moto_server not found at {}: run scripts/install-test-deps.sh (or set RAMPART_MOTO_SERVER)",
        server.display()
    );
    server
}

/// Runs a boto3 snippet against the emulator; returns its stdout.
fn boto(python: &Path, url: &str, code: &str) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(format!(
            "import boto3, json\nkw = dict(endpoint_url={url:?}, region_name='us-east-1')\n{code}"
        ))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_job_is_uploaded_started_followed_and_read_back_through_the_sdk() {
    let server = moto_server();
    let python = server.parent().unwrap().join("python");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _moto = Moto(
        Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // a staging bucket with the output a finished job leaves, and a Spark application
    let app = boto(
        &python,
        &url,
        r#"
s3 = boto3.client('s3', **kw)
s3.create_bucket(Bucket='stage')
s3.put_object(Bucket='stage', Key='done/alerts/day=2024-01-15/part-00000-x.c000.txt', Body=b'{"rule_id":"RD-CT-001"}\n')
s3.put_object(Bucket='stage', Key='done/alerts/_SUCCESS', Body=b'')
s3.put_object(Bucket='stage', Key='done/stats/part-00000-y.txt', Body=b'{"files":3}\n')
emr = boto3.client('emr-serverless', **kw)
print(emr.create_application(name='hunt', releaseLabel='emr-7.5.0', type='SPARK')['applicationId'])
"#,
    );
    let app = app.trim().to_string();
    // SAFETY: the only test of this binary; set before any thread reads the environment
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
    let aws = BlockingAws::connect(&CollectOptions {
        profile: None,
        endpoint_url: Some(url.clone()),
        regions: vec!["us-east-1".into()],
        role_name: "OrganizationAccountAccessRole".into(),
        concurrency: 1,
        home_region: Some("us-east-1".into()),
        max_attempts: 1,
        service_limits: Vec::new(),
        baseline: None,
    })
    .unwrap();
    let run = HuntRun {
        application_id: app.clone(),
        execution_role: "arn:aws:iam::123456789012:role/rampart-hunt-job".into(),
        staging: "s3://stage/rampart".into(),
        output: Some("s3://stage/done".into()),
        timeout: Duration::from_secs(60),
        poll: Duration::from_millis(10),
    };
    let mut lines = Vec::new();
    let mut outputs = Vec::new();
    let files = run_hunt(
        &AwsEmrServerless::new(&aws),
        &run,
        "print('the runner')\n",
        &mut |out| {
            outputs.push(out.to_string());
            format!("{{\"output\":\"{out}\"}}")
        },
        &mut |l| lines.push(l.to_string()),
    )
    .unwrap();
    assert_eq!(outputs, vec!["s3://stage/done".to_string()]);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "alerts/day=2024-01-15/part-00000-x.c000.txt",
            "stats/part-00000-y.txt"
        ]
    );
    assert_eq!(files[1].1, b"{\"files\":3}\n");
    assert!(
        lines.iter().any(|l| l.contains(": SUCCESS after")),
        "{lines:?}"
    );
    // what StartJobRun received, as the service recorded it
    let seen = boto(
        &python,
        &url,
        &format!(
            r#"
emr = boto3.client('emr-serverless', **kw)
run = emr.list_job_runs(applicationId={app:?})['jobRuns'][0]
r = emr.get_job_run(applicationId={app:?}, jobRunId=run['id'])['jobRun']
s3 = boto3.client('s3', **kw)
ep = r['jobDriver']['sparkSubmit']['entryPoint']
key = ep[len('s3://stage/'):]
print(json.dumps(dict(entry=ep, args=r['jobDriver']['sparkSubmit']['entryPointArguments'],
    role=r.get('executionRole', r.get('executionRoleArn')), runner=s3.get_object(Bucket='stage', Key=key)['Body'].read().decode(),
    job=s3.get_object(Bucket='stage', Key=key.replace('runner.py', 'job.json'))['Body'].read().decode())))
"#
        ),
    );
    let v: serde_json::Value = serde_json::from_str(seen.trim()).unwrap();
    assert!(
        v["entry"]
            .as_str()
            .unwrap()
            .starts_with("s3://stage/rampart/runs/hunt-")
    );
    assert!(v["args"][0].as_str().unwrap().ends_with("/job/job.json"));
    assert_eq!(v["role"], "arn:aws:iam::123456789012:role/rampart-hunt-job");
    assert_eq!(v["runner"], "print('the runner')\n");
    assert_eq!(v["job"], "{\"output\":\"s3://stage/done\"}");
}
