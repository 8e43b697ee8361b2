//! `rampart hunt --submit emr-serverless`: upload the Spark job (runner.py, job.json) to a
//! staging prefix, start an EMR Serverless job run, follow it with progress, and read the
//! alerts and counters the job wrote back from S3.
//!
//! The flow is written against [`EmrServerless`], implemented by the AWS SDK
//! ([`AwsEmrServerless`]) and, in tests, by an in-process fake that also plays the job.
//! Every call names its IAM action (`emr-serverless:StartJobRun`, `s3:PutObject`, …) in its
//! error; `policies/rampart-hunt.json` allows exactly those (checked by
//! `crates/rampart/tests/shipped_policies.rs`).

use crate::access::describe;
use crate::objects::{BlockingAws, parse_s3_url};
use std::time::{Duration, Instant};

/// The job run to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunRequest {
    pub application_id: String,
    pub execution_role: String,
    pub name: String,
    /// Makes a retried StartJobRun start one run, not two.
    pub client_token: String,
    /// `s3://…/runner.py`.
    pub entry_point: String,
    /// `[s3://…/job.json]`.
    pub arguments: Vec<String>,
    pub timeout_minutes: i64,
}

/// A job run's state as GetJobRun reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRunStatus {
    /// SUBMITTED, PENDING, SCHEDULED, RUNNING, SUCCESS, FAILED, CANCELLING, CANCELLED, QUEUED.
    pub state: String,
    pub details: String,
    /// vCPU-hours billed so far, when reported.
    pub vcpu_hours: Option<f64>,
}

/// The calls the submission makes.
pub trait EmrServerless {
    fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String>;
    fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String>;
    fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String>;
    fn start_job_run(&self, req: &JobRunRequest) -> Result<String, String>;
    fn get_job_run(&self, application_id: &str, job_run_id: &str) -> Result<JobRunStatus, String>;
}

/// A hunt to run on EMR Serverless.
#[derive(Debug, Clone)]
pub struct HuntRun {
    pub application_id: String,
    pub execution_role: String,
    /// `s3://bucket/prefix`: the job goes to `<prefix>/runs/<id>/job/`.
    pub staging: String,
    /// Where the job writes alerts/ and stats/ (default `<prefix>/runs/<id>/output`).
    pub output: Option<String>,
    /// How long to follow the run before giving up (the run goes on).
    pub timeout: Duration,
    /// Time between two GetJobRun calls.
    pub poll: Duration,
}

/// Uploads the job, starts it, follows it to its end and returns the output files the job
/// wrote (path relative to the output prefix, bytes). `job_json` is given the output URI and
/// returns job.json's text; `progress` receives a line per state change and per poll.
pub fn run_hunt(
    emr: &dyn EmrServerless,
    run: &HuntRun,
    runner_py: &str,
    job_json: &mut dyn FnMut(&str) -> String,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let (bucket, prefix) = parse_s3_url(&run.staging)
        .ok_or_else(|| format!("--staging {}: expected s3://bucket/prefix", run.staging))?;
    let prefix = prefix.trim_end_matches('/');
    let id = format!(
        "hunt-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let base = if prefix.is_empty() {
        format!("runs/{id}")
    } else {
        format!("{prefix}/runs/{id}")
    };
    let output = run
        .output
        .clone()
        .unwrap_or_else(|| format!("s3://{bucket}/{base}/output"));
    let (out_bucket, out_prefix) = parse_s3_url(&output).ok_or_else(|| {
        format!("--out {output}: an EMR Serverless job writes to s3://bucket/prefix")
    })?;
    let runner_key = format!("{base}/job/runner.py");
    let job_key = format!("{base}/job/job.json");
    emr.put_object(&bucket, &runner_key, runner_py.as_bytes().to_vec())?;
    emr.put_object(&bucket, &job_key, job_json(&output).into_bytes())?;
    progress(&format!("uploaded the job to s3://{bucket}/{base}/job/"));
    let req = JobRunRequest {
        application_id: run.application_id.clone(),
        execution_role: run.execution_role.clone(),
        name: format!("rampart-{id}"),
        client_token: id.clone(),
        entry_point: format!("s3://{bucket}/{runner_key}"),
        arguments: vec![format!("s3://{bucket}/{job_key}")],
        timeout_minutes: (run.timeout.as_secs() / 60).max(5) as i64,
    };
    let run_id = emr.start_job_run(&req)?;
    progress(&format!(
        "started job run {run_id} on application {}",
        run.application_id
    ));
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let st = emr.get_job_run(&run.application_id, &run_id)?;
        let elapsed = started.elapsed().as_secs();
        if st.state != last {
            let cost = st
                .vcpu_hours
                .map(|h| format!(", {h:.2} vCPU-h"))
                .unwrap_or_default();
            progress(&format!(
                "job run {run_id}: {} after {}m{:02}s{cost}",
                st.state,
                elapsed / 60,
                elapsed % 60
            ));
            last = st.state.clone();
        }
        match st.state.as_str() {
            "SUCCESS" => break,
            "FAILED" | "CANCELLED" => {
                return Err(format!(
                    "EMR Serverless job run {run_id} {}: {}; its driver log is in the application's S3 or CloudWatch log location",
                    st.state.to_lowercase(),
                    if st.details.is_empty() {
                        "no details"
                    } else {
                        &st.details
                    }
                ));
            }
            _ => {}
        }
        if started.elapsed() >= run.timeout {
            return Err(format!(
                "EMR Serverless job run {run_id} is still {} after {} minute(s); it keeps running: its alerts will be under {output}/alerts/",
                st.state,
                run.timeout.as_secs() / 60
            ));
        }
        std::thread::sleep(run.poll);
    }
    let out_prefix = out_prefix.trim_end_matches('/');
    let mut files = Vec::new();
    for sub in ["alerts/", "stats/"] {
        let p = if out_prefix.is_empty() {
            sub.to_string()
        } else {
            format!("{out_prefix}/{sub}")
        };
        for key in emr.list_keys(&out_bucket, &p)? {
            let rel = key
                .strip_prefix(out_prefix)
                .unwrap_or(&key)
                .trim_start_matches('/')
                .to_string();
            let name = rel.rsplit('/').next().unwrap_or("");
            if !name.starts_with("part-") {
                continue;
            }
            files.push((rel, emr.get_object(&out_bucket, &key)?));
        }
    }
    progress(&format!(
        "read {} output file(s) from {output}",
        files.len()
    ));
    Ok(files)
}

/// [`EmrServerless`] through the AWS SDK, with the session's credentials and endpoint.
pub struct AwsEmrServerless<'a> {
    aws: &'a BlockingAws,
}

impl<'a> AwsEmrServerless<'a> {
    pub fn new(aws: &'a BlockingAws) -> AwsEmrServerless<'a> {
        AwsEmrServerless { aws }
    }

    fn client(&self) -> aws_sdk_emrserverless::Client {
        let access = self.aws.access();
        access.emr_serverless(&access.home_region())
    }
}

impl EmrServerless for AwsEmrServerless<'_> {
    fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        self.aws.put_object(bucket, key, body)
    }

    fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        Ok(self
            .aws
            .list_objects(bucket, prefix, None)?
            .into_iter()
            .map(|o| o.key)
            .collect())
    }

    fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        self.aws.get_object(bucket, key)
    }

    fn start_job_run(&self, req: &JobRunRequest) -> Result<String, String> {
        use aws_sdk_emrserverless::types::{JobDriver, SparkSubmit};
        let submit = SparkSubmit::builder()
            .entry_point(&req.entry_point)
            .set_entry_point_arguments(Some(req.arguments.clone()))
            .build()
            .map_err(|e| format!("emr-serverless:StartJobRun: {e}"))?;
        let out = self
            .aws
            .block_on(
                self.client()
                    .start_job_run()
                    .application_id(&req.application_id)
                    .execution_role_arn(&req.execution_role)
                    .name(&req.name)
                    .client_token(&req.client_token)
                    .execution_timeout_minutes(req.timeout_minutes)
                    .job_driver(JobDriver::SparkSubmit(submit))
                    .send(),
            )
            .map_err(|e| {
                let (code, message) = describe(&e);
                format!(
                    "emr-serverless:StartJobRun on application {} failed ({code}: {message}); check the application id, that it is a Spark application, and that iam:PassRole on {} is allowed",
                    req.application_id, req.execution_role
                )
            })?;
        Ok(out.job_run_id().to_string())
    }

    fn get_job_run(&self, application_id: &str, job_run_id: &str) -> Result<JobRunStatus, String> {
        let out = self
            .aws
            .block_on(
                self.client()
                    .get_job_run()
                    .application_id(application_id)
                    .job_run_id(job_run_id)
                    .send(),
            )
            .map_err(|e| {
                let (code, message) = describe(&e);
                format!(
                    "emr-serverless:GetJobRun for job run {job_run_id} failed ({code}: {message})"
                )
            })?;
        let run = out.job_run().ok_or_else(|| {
            format!("emr-serverless:GetJobRun for {job_run_id}: no job run in the answer")
        })?;
        Ok(JobRunStatus {
            state: run.state().as_str().to_string(),
            details: run.state_details().to_string(),
            vcpu_hours: run
                .billed_resource_utilization()
                .and_then(|u| u.v_cpu_hour()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// EMR Serverless and S3 in memory; a started run goes through `states` and, on success,
    /// "runs" the job: reads job.json from the fake S3 and writes alerts and counters under
    /// the output it names.
    struct Fake {
        objects: RefCell<BTreeMap<(String, String), Vec<u8>>>,
        started: RefCell<Vec<JobRunRequest>>,
        states: RefCell<Vec<&'static str>>,
        details: &'static str,
    }

    impl Fake {
        fn new(states: Vec<&'static str>) -> Fake {
            Fake {
                objects: RefCell::new(BTreeMap::new()),
                started: RefCell::new(Vec::new()),
                states: RefCell::new(states),
                details: "",
            }
        }
    }

    impl EmrServerless for Fake {
        fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
            self.objects
                .borrow_mut()
                .insert((bucket.into(), key.into()), body);
            Ok(())
        }
        fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
            Ok(self
                .objects
                .borrow()
                .keys()
                .filter(|(b, k)| b == bucket && k.starts_with(prefix))
                .map(|(_, k)| k.clone())
                .collect())
        }
        fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
            self.objects
                .borrow()
                .get(&(bucket.to_string(), key.to_string()))
                .cloned()
                .ok_or_else(|| format!("s3:GetObject s3://{bucket}/{key}: NoSuchKey"))
        }
        fn start_job_run(&self, req: &JobRunRequest) -> Result<String, String> {
            self.started.borrow_mut().push(req.clone());
            Ok("00fake".into())
        }
        fn get_job_run(&self, _app: &str, id: &str) -> Result<JobRunStatus, String> {
            let state = {
                let mut s = self.states.borrow_mut();
                if s.len() > 1 { s.remove(0) } else { s[0] }
            };
            if state == "SUCCESS" {
                // the job: read job.json, write its output
                let req = self.started.borrow()[0].clone();
                let (b, k) = parse_s3_url(&req.arguments[0]).unwrap();
                let job: serde_json::Value =
                    serde_json::from_slice(&self.get_object(&b, &k)?).unwrap();
                let (ob, op) = parse_s3_url(job["output"].as_str().unwrap()).unwrap();
                self.put_object(
                    &ob,
                    &format!("{op}/alerts/day=2024-01-01/part-00000.txt"),
                    b"{\"rule_id\":\"r\"}\n".to_vec(),
                )?;
                self.put_object(&ob, &format!("{op}/alerts/_SUCCESS"), Vec::new())?;
                self.put_object(
                    &ob,
                    &format!("{op}/stats/part-00000.txt"),
                    b"{\"files\":1}\n".to_vec(),
                )?;
            }
            assert_eq!(id, "00fake");
            Ok(JobRunStatus {
                state: state.into(),
                details: self.details.into(),
                vcpu_hours: Some(0.5),
            })
        }
    }

    fn run() -> HuntRun {
        HuntRun {
            application_id: "00app".into(),
            execution_role: "arn:aws:iam::111122223333:role/hunt".into(),
            staging: "s3://stage/rampart/".into(),
            output: None,
            timeout: Duration::from_secs(60),
            poll: Duration::ZERO,
        }
    }

    #[test]
    fn the_job_is_uploaded_started_followed_and_its_output_read_back() {
        let fake = Fake::new(vec![
            "SUBMITTED",
            "PENDING",
            "RUNNING",
            "RUNNING",
            "SUCCESS",
        ]);
        let mut lines = Vec::new();
        let files = run_hunt(
            &fake,
            &run(),
            "print('runner')",
            &mut |out| format!("{{\"output\":\"{out}\"}}"),
            &mut |l| lines.push(l.to_string()),
        )
        .unwrap();
        let req = fake.started.borrow()[0].clone();
        assert!(req.entry_point.starts_with("s3://stage/rampart/runs/hunt-"));
        assert!(req.entry_point.ends_with("/job/runner.py"));
        assert!(req.arguments[0].ends_with("/job/job.json"));
        assert_eq!(req.client_token, req.name.trim_start_matches("rampart-"));
        assert_eq!(req.timeout_minutes, 5);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "alerts/day=2024-01-01/part-00000.txt",
                "stats/part-00000.txt"
            ]
        );
        // one line per state change, not per poll
        let states: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("job run 00fake:"))
            .collect();
        assert_eq!(states.len(), 4, "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("0.50 vCPU-h")));
    }

    #[test]
    fn a_failed_run_and_a_run_past_the_timeout_are_errors_that_say_so() {
        let mut fake = Fake::new(vec!["RUNNING", "FAILED"]);
        fake.details = "Job failed, ExitCode: 1";
        let err = run_hunt(&fake, &run(), "", &mut |_| "{}".into(), &mut |_| {}).unwrap_err();
        assert!(
            err.contains("00fake failed: Job failed, ExitCode: 1"),
            "{err}"
        );
        let fake = Fake::new(vec!["RUNNING"]);
        let mut r = run();
        r.timeout = Duration::ZERO;
        r.output = Some("s3://out/x".into());
        let err = run_hunt(&fake, &r, "", &mut |_| "{}".into(), &mut |_| {}).unwrap_err();
        assert!(
            err.contains("still RUNNING") && err.contains("s3://out/x/alerts/"),
            "{err}"
        );
        let mut r = run();
        r.staging = "bucket/prefix".into();
        let err = run_hunt(&fake, &r, "", &mut |_| "{}".into(), &mut |_| {}).unwrap_err();
        assert!(err.contains("expected s3://bucket/prefix"), "{err}");
    }
}
