//! Property: for any set of calls, the generated policy allows every one of them (by the
//! engine) and nothing of a service none of them used.

use proptest::prelude::*;
use rampart_policy::{CompiledPolicySet, Decision, PolicySet, Request, parse_policy};
use rampart_trail::Event;
use rampart_usage::Window;
use rampart_usage::generate::{Generator, Options};

const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/app";

/// Calls this property draws from: (eventSource, eventName, requestParameters).
const CALLS: &[(&str, &str, &str)] = &[
    (
        "s3.amazonaws.com",
        "GetObject",
        r#"{"bucketName":"B","key":"K"}"#,
    ),
    (
        "s3.amazonaws.com",
        "PutObject",
        r#"{"bucketName":"B","key":"K"}"#,
    ),
    ("s3.amazonaws.com", "ListObjects", r#"{"bucketName":"B"}"#),
    ("s3.amazonaws.com", "ListBuckets", "null"),
    ("iam.amazonaws.com", "GetRole", r#"{"roleName":"K"}"#),
    ("iam.amazonaws.com", "ListUsers", "{}"),
    ("dynamodb.amazonaws.com", "PutItem", r#"{"tableName":"B"}"#),
    (
        "sqs.amazonaws.com",
        "SendMessage",
        r#"{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/B"}"#,
    ),
    ("kms.amazonaws.com", "Decrypt", r#"{"keyId":"K"}"#),
    (
        "lambda.amazonaws.com",
        "GetFunction20150331v2",
        r#"{"functionName":"B"}"#,
    ),
    ("monitoring.amazonaws.com", "PutMetricData", "{}"),
    (
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        r#"{"secretId":"B/K"}"#,
    ),
    ("ssm.amazonaws.com", "GetParameter", r#"{"name":"/B/K"}"#),
    ("sts.amazonaws.com", "GetCallerIdentity", "null"),
    ("signin.amazonaws.com", "ConsoleLogin", "null"),
];

fn event(call: usize, b: &str, k: &str, session: &str) -> String {
    let (src, name, params) = CALLS[call];
    let params = params.replace('B', b).replace('K', k);
    format!(
        r#"{{"eventSource":"{src}","eventName":"{name}","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/{session}"}},"requestParameters":{params}}}"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn generated_policies_allow_their_calls_and_no_other_service(
        picks in proptest::collection::vec((0..CALLS.len(), "[a-c]{1,2}", "[x-z*?$]{1,3}", "s[0-9]"), 1..30),
        max in 1usize..6,
    ) {
        let mut g = Generator::new(PRINCIPAL, Window::default()).unwrap();
        let texts: Vec<String> = picks.iter().map(|(c, b, k, s)| event(*c, b, k, s)).collect();
        for t in &texts {
            g.observe(&Event::parse(t.as_bytes()).unwrap());
        }
        // another principal's calls change nothing
        let other = event(0, "zz", "zz", "s").replace("assumed-role/app/", "assumed-role/other/");
        g.observe(&Event::parse(other.as_bytes()).unwrap());
        prop_assert_eq!(g.counts.matched as usize, picks.len());
        if g.calls.by_request.is_empty() {
            return Ok(());
        }
        let out = rampart_usage::generate(&g, &Options { max_resources: max }).unwrap();
        prop_assert!(out.proof.holds(), "{}", out.proof.to_text());
        prop_assert_eq!(out.proof.calls as usize, picks.len());
        prop_assert_eq!(out.proof.lint_errors(), 0, "{}", out.proof.to_text());
        // nothing of another service
        let used: std::collections::BTreeSet<&str> = g.calls.by_request.keys().map(|(a, _)| a.split(':').next().unwrap()).collect();
        let set = CompiledPolicySet::from_set(PolicySet { identity: vec![parse_policy(&out.policy).unwrap()], ..PolicySet::default() });
        for probe in ["ec2:RunInstances", "iam:CreateUser", "s3:DeleteBucket", "kms:ScheduleKeyDeletion", "sts:AssumeRole", "dynamodb:DeleteTable", "lambda:InvokeFunction"] {
            let svc = probe.split(':').next().unwrap();
            let req = Request { action: probe.into(), resource: "*".into(), principal: Some(PRINCIPAL.into()), ..Request::default() };
            if !used.contains(svc) {
                prop_assert_ne!(set.decide(&req), Decision::Allowed, "{} allowed by\n{}", probe, out.policy);
            }
        }
        // the other principal's object is not granted
        let req = Request { action: "s3:GetObject".into(), resource: "arn:aws:s3:::zz/zz".into(), principal: Some(PRINCIPAL.into()), ..Request::default() };
        let asked = texts.iter().any(|t| t.contains(r#""bucketName":"zz""#));
        let objects = g.calls.by_request.keys().filter(|(a, _)| a == "s3:GetObject").flat_map(|(_, r)| r).collect::<std::collections::BTreeSet<_>>().len();
        if !asked && objects <= max {
            prop_assert_ne!(set.decide(&req), Decision::Allowed, "{}", out.policy);
        }
    }
}
