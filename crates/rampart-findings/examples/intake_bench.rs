//! Intake throughput: 100,000 findings (GuardDuty, Security Hub, Access Analyzer and Config
//! shapes, a quarter each) parsed, normalized, deduplicated and the state saved, against the
//! reference of only parsing the same JSON Lines with serde_json, in the same run. Prints the
//! median of the runs. `cargo run --release -p rampart-findings --example intake_bench [N] [RUNS]`

use rampart_findings::Service;
use rampart_findings::intake::State;
use std::time::{Duration, Instant};

fn lines(n: usize) -> Vec<(Service, String)> {
    (0..n)
        .map(|i| {
            let at = format!("2026-12-01T{:02}:{:02}:{:02}Z", i / 3600 % 24, i / 60 % 60, i % 60);
            let acct = format!("{:012}", 100_000_000_000u64 + (i % 50) as u64);
            match i % 4 {
                0 => (Service::GuardDuty, format!(r#"{{"Id":"gd{i}","Type":"Recon:IAMUser/MaliciousIPCaller","Severity":5.0,"AccountId":"{acct}","Region":"us-east-1","UpdatedAt":"{at}","CreatedAt":"{at}","Title":"API called from a known malicious IP","Description":"An API was invoked from an IP address on a custom threat list.","Resource":{{"ResourceType":"AccessKey","AccessKeyDetails":{{"AccessKeyId":"AKIA{i:016}","UserName":"user{i}","PrincipalId":"AIDA{i}"}}}},"Service":{{"Count":{},"Archived":false,"Action":{{"AwsApiCallAction":{{"RemoteIpDetails":{{"IpAddressV4":"198.51.100.{}"}}}}}}}}}}"#, 1 + i % 7, i % 250)),
                1 => (Service::SecurityHub, format!(r#"{{"Id":"arn:aws:securityhub:us-east-1:{acct}:finding/{i}","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub","GeneratorId":"aws-foundational-security-best-practices/v/1.0.0/S3.8","AwsAccountId":"{acct}","Types":["Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices"],"CreatedAt":"{at}","UpdatedAt":"{at}","Severity":{{"Label":"HIGH","Normalized":70}},"Title":"S3 general purpose buckets should block public access","Description":"This control checks whether S3 buckets have bucket-level Block Public Access.","Resources":[{{"Type":"AwsS3Bucket","Id":"arn:aws:s3:::bucket-{i}","Region":"us-east-1"}}],"Workflow":{{"Status":"NEW"}},"RecordState":"ACTIVE"}}"#)),
                2 => (Service::AccessAnalyzer, format!(r#"{{"id":"aa{i}","resource":"arn:aws:s3:::bucket-{i}","resourceType":"AWS::S3::Bucket","resourceOwnerAccount":"{acct}","status":"ACTIVE","isPublic":false,"principal":{{"AWS":"999988887777"}},"createdAt":"{at}","updatedAt":"{at}","findingType":"ExternalAccess","region":"us-east-1"}}"#)),
                _ => (Service::Config, format!(r#"{{"EvaluationResultIdentifier":{{"EvaluationResultQualifier":{{"ConfigRuleName":"s3-bucket-versioning-enabled","ResourceType":"AWS::S3::Bucket","ResourceId":"bucket-{i}"}},"OrderingTimestamp":"{at}"}},"ComplianceType":"NON_COMPLIANT","ResultRecordedTime":"{at}","AccountId":"{acct}","AwsRegion":"us-east-1"}}"#)),
            }
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let input = lines(n);
    let dir = std::env::temp_dir().join(format!("rampart-intake-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let state_path = dir.join("state.json");
    let (mut reference, mut intake, mut again) = (Vec::new(), Vec::new(), Vec::new());
    let mut alerts = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let mut keep = 0usize;
        for (_, l) in &input {
            let v: serde_json::Value = serde_json::from_str(l).expect("bench JSON");
            keep += v.as_object().map_or(0, |o| o.len());
        }
        reference.push(t.elapsed());
        std::hint::black_box(keep);

        let _ = std::fs::remove_file(&state_path);
        let t = Instant::now();
        let mut state = State::load(&state_path).expect("state");
        alerts = 0;
        for (service, l) in &input {
            let v: serde_json::Value = serde_json::from_str(l).expect("bench JSON");
            let f = rampart_findings::normalize::finding(*service, &v).expect("normalizes");
            if state.ingest(&f).alerts() {
                alerts += 1;
                std::hint::black_box(f.to_alert());
            }
            state.advance(service.as_str(), &f.updated_at);
        }
        state.save(&state_path).expect("save");
        intake.push(t.elapsed());

        // the same findings again after a restart: load the state, nothing alerts
        let t = Instant::now();
        let mut state = State::load(&state_path).expect("state");
        for (service, l) in &input {
            let v: serde_json::Value = serde_json::from_str(l).expect("bench JSON");
            let f = rampart_findings::normalize::finding(*service, &v).expect("normalizes");
            assert!(!state.ingest(&f).alerts(), "a re-pull re-alerted");
        }
        state.save(&state_path).expect("save");
        again.push(t.elapsed());
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (r, i, a) = (median(reference), median(intake), median(again));
    println!("findings: {n}, runs: {runs}, alerts on the first pull: {alerts}");
    println!(
        "reference (serde_json parse only): {:.3} s",
        r.as_secs_f64()
    );
    println!(
        "intake (parse, normalize, dedup, alert, save state): {:.3} s ({:.1}x reference)",
        i.as_secs_f64(),
        i.as_secs_f64() / r.as_secs_f64()
    );
    println!(
        "re-pull after restart (load state, all unchanged, save): {:.3} s ({:.1}x reference)",
        a.as_secs_f64(),
        a.as_secs_f64() / r.as_secs_f64()
    );
}
