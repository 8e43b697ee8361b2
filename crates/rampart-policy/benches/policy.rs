//! Benchmarks for issue 3 item 8 (plain `harness = false`, medians of repeated runs):
//!
//! * decisions/s on one core: a request against 5 identity policies of 50 statements, a
//!   permissions boundary, 3 SCP levels of 2 policies each and a resource policy;
//! * parsing MB/s on large generated policies the size of AWS's biggest managed policies,
//!   with `serde_json::Value` parsing of the same text as the reference in the same run.
//!
//! Run: `cargo bench -p rampart-policy --bench policy`

use rampart_policy::{
    CompiledPolicySet, ContextValue, Decision, OrgLevel, PolicySet, Request, parse_policy,
};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

const SERVICES: &[&str] = &[
    "s3",
    "ec2",
    "iam",
    "kms",
    "sqs",
    "sns",
    "lambda",
    "dynamodb",
    "logs",
    "cloudtrail",
    "rds",
    "ecr",
    "ecs",
    "eks",
    "glue",
    "athena",
    "sts",
    "ssm",
    "secretsmanager",
    "cloudwatch",
];
const VERBS: &[&str] = &[
    "Get", "List", "Describe", "Put", "Create", "Delete", "Update", "Tag",
];
const NOUNS: &[&str] = &[
    "Object", "Bucket", "Instance", "Role", "Key", "Queue", "Topic", "Function", "Table", "Stream",
];

/// A realistic statement: a few actions of one service, resource ARNs, sometimes conditions.
fn statement(i: usize, effect: &str) -> String {
    let svc = SERVICES[i % SERVICES.len()];
    let acts: Vec<String> = (0..4)
        .map(|k| {
            format!(
                "\"{svc}:{}{}\"",
                VERBS[(i + k) % VERBS.len()],
                NOUNS[(i * 3 + k) % NOUNS.len()]
            )
        })
        .collect();
    let cond = match i % 4 {
        0 => r#","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]},"Bool":{"aws:SecureTransport":"true"}}"#.to_string(),
        1 => format!(r#","Condition":{{"StringLike":{{"aws:PrincipalTag/team":["team-{i}*"]}}}}"#),
        2 => r#","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#.to_string(),
        _ => String::new(),
    };
    format!(
        r#"{{"Sid":"S{i}","Effect":"{effect}","Action":[{}],"Resource":["arn:aws:{svc}:eu-west-1:111111111111:thing/app-{i}/*","arn:aws:{svc}:eu-west-1:111111111111:other-{i}"]{cond}}}"#,
        acts.join(",")
    )
}

fn policy_text(n: usize, seed: usize, effect: &str) -> String {
    let body: Vec<String> = (0..n).map(|i| statement(seed * 1000 + i, effect)).collect();
    format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}",
        body.join(",")
    )
}

fn pol(t: &str) -> rampart_policy::Policy {
    parse_policy(t).expect("bench policy parses")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // ---- decisions per second -------------------------------------------------------------
    let full =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let guard = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail","organizations:LeaveOrganization","guardduty:DeleteDetector"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}},
        {"Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*","support:*","cloudfront:*","route53:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}"#;
    let mut identity: Vec<_> = (0..5).map(|s| pol(&policy_text(50, s, "Allow"))).collect();
    identity[0] = pol(&policy_text(49, 0, "Allow").replacen("[", r#"[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::app-bucket/*"},"#, 1));
    let set = PolicySet {
        identity,
        boundaries: vec![pol(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*","kms:*","sqs:*","logs:*"],"Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
        )],
        session: None,
        resource: Some(pol(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::app-bucket","arn:aws:s3:::app-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"arn:aws:s3:::app-bucket/*"}]}"#,
        )),
        scps: Some(vec![
            OrgLevel {
                id: "r-root".into(),
                policies: vec![pol(full), pol(guard)],
            },
            OrgLevel {
                id: "ou-prod".into(),
                policies: vec![pol(full), pol(guard)],
            },
            OrgLevel {
                id: "111111111111".into(),
                policies: vec![pol(full), pol(guard)],
            },
        ]),
        rcps: None,
        vpc_endpoint: None,
    };
    let compiled = CompiledPolicySet::new(&set);
    let mut ctx = BTreeMap::new();
    ctx.insert("aws:SecureTransport".to_string(), ContextValue::Bool(true));
    ctx.insert(
        "aws:RequestedRegion".to_string(),
        ContextValue::String("eu-west-1".into()),
    );
    ctx.insert(
        "aws:SourceIp".to_string(),
        ContextValue::String("10.1.2.3".into()),
    );
    let requests: Vec<Request> = [
        ("s3:GetObject", "arn:aws:s3:::app-bucket/data/file.csv"),
        ("s3:PutObject", "arn:aws:s3:::app-bucket/out/x"),
        (
            "ec2:DescribeInstance",
            "arn:aws:ec2:eu-west-1:111111111111:thing/app-3/i-1",
        ),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:111111111111:key/abc"),
        (
            "cloudtrail:StopLogging",
            "arn:aws:cloudtrail:eu-west-1:111111111111:trail/org",
        ),
        ("iam:CreateUser", "arn:aws:iam::111111111111:user/x"),
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:111111111111:q"),
        (
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:111111111111:log-group:x",
        ),
    ]
    .iter()
    .map(|(a, r)| Request {
        action: a.to_string(),
        resource: r.to_string(),
        resource_account: Some("111111111111".into()),
        principal: Some("arn:aws:sts::111111111111:assumed-role/app/session".into()),
        principal_account: None,
        context: ctx.clone(),
    })
    .collect();
    let decisions: Vec<Decision> = requests.iter().map(|r| compiled.decide(r)).collect();
    eprintln!("decisions per request kind: {decisions:?}");
    assert!(
        decisions.contains(&Decision::Allowed) && decisions.contains(&Decision::ExplicitlyDenied)
    );
    let per_round = 200_000;
    let mut rates = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for i in 0..per_round {
            black_box(compiled.decide(black_box(&requests[i % requests.len()])));
        }
        rates.push(per_round as f64 / t.elapsed().as_secs_f64());
    }
    let mut explain_rates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for i in 0..per_round / 4 {
            black_box(compiled.evaluate(black_box(&requests[i % requests.len()])));
        }
        explain_rates.push((per_round / 4) as f64 / t.elapsed().as_secs_f64());
    }
    let statements: usize = set
        .identity
        .iter()
        .chain(&set.boundaries)
        .chain(set.resource.iter())
        .chain(set.scps.iter().flatten().flat_map(|l| l.policies.iter()))
        .map(|p| p.statements.len())
        .sum();
    println!(
        "evaluate (decide, no explanation): median {:.0} decisions/s on one core ({statements} statements in the set)",
        median(rates)
    );
    println!(
        "evaluate (with explanation):       median {:.0} decisions/s on one core",
        median(explain_rates)
    );

    // ---- parsing MB/s ------------------------------------------------------------------------
    // AWS's biggest managed policies (e.g. ReadOnlyAccess) run to a few hundred KB pretty-printed.
    let docs: Vec<String> = (0..4)
        .map(|s| pretty(&policy_text(1500, s + 10, "Allow")))
        .collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        for d in &docs {
            black_box(parse_policy(black_box(d)).expect("parses"));
        }
        ours.push(bytes as f64 / t.elapsed().as_secs_f64() / 1e6);
        let t = Instant::now();
        for d in &docs {
            black_box(serde_json::from_str::<serde_json::Value>(black_box(d)).expect("json"));
        }
        reference.push(bytes as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    let (o, r) = (median(ours), median(reference));
    println!(
        "parse_policy: median {o:.0} MB/s over {} documents of {:.0} KB (serde_json::Value on the same text: {r:.0} MB/s; ratio {:.2})",
        docs.len(),
        bytes as f64 / docs.len() as f64 / 1024.0,
        o / r
    );
}

/// Pretty-prints like the AWS console (4-space indent), to parse realistic whitespace.
fn pretty(compact: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(compact).expect("json");
    serde_json::to_string_pretty(&v).expect("json")
}
