//! `policy generate` and `iam unused` over 10 million events of 1,000 principals, one thread
//! (plain `harness = false`, medians).
//!
//! The events are generated in memory, 100,000 at a time, as CloudTrail JSON Lines of the usual
//! shape and size (~1 KB: full `userIdentity` with session context, TLS details, request
//! parameters): 700 roles (assumed-role sessions) and 300 IAM users, 24 kinds of call over S3,
//! IAM, STS, KMS, SQS, DynamoDB, Lambda, Secrets Manager, SSM, EC2, CloudWatch and sign-in.
//! Generating a batch is not timed. Each batch is then read three times, each read timed on its
//! own, as the CLI reads a file (`rampart_trail::read::parse_event_batches`):
//!
//! * *reference*: the read alone, each event's header touched (the raw read speed);
//! * *generate*: a [`Generator`] for one principal (role 17) observes every event;
//! * *unused*: a [`Usage`] observes every event (every principal's actions).
//!
//! After the last batch, the policy is built and proved (timed with *generate*) and the unused
//! report is computed against a snapshot of the 1,000 principals with four shared managed
//! policies, one of them `*` (timed with *unused*). Round time = reads + finish; median of
//! `USAGE_RUNS` rounds (default 3). `USAGE_EVENTS` sets the event count.
//!
//! Run: `cargo bench -p rampart-usage --bench usage`

use rampart_snapshot::{AccountSnapshot, IamRole, IamUser, ManagedPolicy, Snapshot};
use rampart_trail::read::{Parsed, ReadStats, parse_event_batches};
use rampart_usage::Window;
use rampart_usage::generate::{Generator, Options};
use rampart_usage::unused::{Usage, report};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACCOUNT: &str = "111122223333";
const PRINCIPALS: usize = 1_000;
const ROLES: usize = 700;
const BATCH: usize = 100_000;

/// `(eventSource, eventName, requestParameters with {n} for a number)`.
const CALLS: &[(&str, &str, &str)] = &[
    (
        "s3.amazonaws.com",
        "GetObject",
        r#"{"bucketName":"data-{b}","key":"in/{n}.csv","Host":"data-{b}.s3.eu-west-1.amazonaws.com"}"#,
    ),
    (
        "s3.amazonaws.com",
        "PutObject",
        r#"{"bucketName":"data-{b}","key":"out/{n}.csv","Host":"data-{b}.s3.eu-west-1.amazonaws.com"}"#,
    ),
    (
        "s3.amazonaws.com",
        "ListObjects",
        r#"{"bucketName":"data-{b}","prefix":"in/","Host":"data-{b}.s3.eu-west-1.amazonaws.com"}"#,
    ),
    (
        "s3.amazonaws.com",
        "HeadObject",
        r#"{"bucketName":"data-{b}","key":"in/{n}.csv"}"#,
    ),
    (
        "s3.amazonaws.com",
        "ListBuckets",
        r#"{"Host":"s3.eu-west-1.amazonaws.com"}"#,
    ),
    (
        "sqs.amazonaws.com",
        "SendMessage",
        r#"{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/jobs-{b}","messageBody":"HIDDEN_DUE_TO_SECURITY_REASONS"}"#,
    ),
    (
        "sqs.amazonaws.com",
        "ReceiveMessage",
        r#"{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/jobs-{b}","maxNumberOfMessages":10}"#,
    ),
    (
        "dynamodb.amazonaws.com",
        "GetItem",
        r#"{"tableName":"orders-{b}","key":{"id":{"S":"{n}"}}}"#,
    ),
    (
        "dynamodb.amazonaws.com",
        "PutItem",
        r#"{"tableName":"orders-{b}","key":{"id":{"S":"{n}"}}}"#,
    ),
    (
        "kms.amazonaws.com",
        "Decrypt",
        r#"{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"app":"x"}}"#,
    ),
    (
        "kms.amazonaws.com",
        "GenerateDataKey",
        r#"{"keyId":"alias/app-{b}","keySpec":"AES_256"}"#,
    ),
    (
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        r#"{"secretId":"prod/app-{b}"}"#,
    ),
    (
        "ssm.amazonaws.com",
        "GetParameter",
        r#"{"name":"/app/{b}/config","withDecryption":true}"#,
    ),
    (
        "lambda.amazonaws.com",
        "GetFunction20150331v2",
        r#"{"functionName":"worker-{b}"}"#,
    ),
    ("iam.amazonaws.com", "GetRole", r#"{"roleName":"app-{b}"}"#),
    ("iam.amazonaws.com", "ListRoles", r#"{"maxItems":100}"#),
    (
        "sts.amazonaws.com",
        "AssumeRole",
        r#"{"roleArn":"arn:aws:iam::111122223333:role/app-{b}","roleSessionName":"s{n}","durationSeconds":3600}"#,
    ),
    ("sts.amazonaws.com", "GetCallerIdentity", "null"),
    (
        "ec2.amazonaws.com",
        "DescribeInstances",
        r#"{"instancesSet":{},"filterSet":{}}"#,
    ),
    (
        "ec2.amazonaws.com",
        "StopInstances",
        r#"{"instancesSet":{"items":[{"instanceId":"i-0{n}"}]},"force":false}"#,
    ),
    (
        "ec2.amazonaws.com",
        "RunInstances",
        r#"{"instancesSet":{"items":[{"imageId":"ami-1","minCount":1,"maxCount":1}]},"instanceType":"t3.micro"}"#,
    ),
    (
        "monitoring.amazonaws.com",
        "PutMetricData",
        r#"{"namespace":"App","metricData":[{"metricName":"latency","value":{n}}]}"#,
    ),
    (
        "logs.amazonaws.com",
        "CreateLogStream",
        r#"{"logGroupName":"/app/{b}","logStreamName":"s{n}"}"#,
    ),
    ("signin.amazonaws.com", "ConsoleLogin", "null"),
];

/// A deterministic stream of numbers (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The identity of principal `p`: a role session (p < 700) or a user.
fn identity(p: usize, session: u64) -> String {
    if p < ROLES {
        format!(
            r#"{{"type":"AssumedRole","principalId":"AROAEXAMPLE{p:06}:s{session}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/role-{p}/s{session}","accountId":"{ACCOUNT}","accessKeyId":"ASIAEXAMPLE{session:08}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE{p:06}","arn":"arn:aws:iam::{ACCOUNT}:role/role-{p}","accountId":"{ACCOUNT}","userName":"role-{p}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2026-11-20T09:00:00Z","mfaAuthenticated":"false"}}}}}}"#
        )
    } else {
        format!(
            r#"{{"type":"IAMUser","principalId":"AIDAEXAMPLE{p:06}","arn":"arn:aws:iam::{ACCOUNT}:user/user-{p}","accountId":"{ACCOUNT}","accessKeyId":"AKIAEXAMPLE{p:08}","userName":"user-{p}"}}"#
        )
    }
}

/// One batch of JSON Lines, events `start..start + n`.
fn batch(rng: &mut Rng, start: usize, n: usize, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    for i in start..start + n {
        let r = rng.next();
        let p = (r % PRINCIPALS as u64) as usize;
        // each principal uses a handful of the calls (its "job"), plus rare others
        let job = (p * 7 + (r >> 20) as usize % 6) % CALLS.len();
        let call = if (r >> 40).is_multiple_of(50) {
            (r >> 44) as usize % CALLS.len()
        } else {
            job
        };
        let (source, name, params) = CALLS[call];
        let params = params
            .replace("{b}", &(p % 40).to_string())
            .replace("{n}", &((r >> 8) % 500).to_string());
        let denied = (r >> 52).is_multiple_of(100);
        let error = if denied {
            r#""errorCode":"AccessDenied","errorMessage":"not authorized","#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"{{"eventVersion":"1.09","userIdentity":{id},"eventTime":"2026-11-{d:02}T{h:02}:{m:02}:{s:02}Z","eventSource":"{source}","eventName":"{name}","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.{ip}","userAgent":"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/{source}#1.58.3",{error}"requestParameters":{params},"responseElements":null,"requestID":"{rid:016x}","eventID":"{eid:016x}-{i:08}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{ACCOUNT}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{source}"}}}}"#,
            id = identity(p, (r >> 30) % 4),
            d = 1 + (r >> 3) % 28,
            h = (r >> 5) % 24,
            m = (r >> 9) % 60,
            s = (r >> 15) % 60,
            ip = (r >> 23) % 250,
            rid = r,
            eid = r.rotate_left(17),
        );
    }
}

/// The snapshot: every principal with one or two of four shared managed policies.
fn snapshot() -> Snapshot {
    let doc = |actions: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"*"}}]}}"#
        )
    };
    let policies = [
        (
            "app",
            doc(
                r#"["s3:GetObject","s3:PutObject","s3:ListBucket","sqs:*","dynamodb:GetItem","dynamodb:PutItem","kms:Decrypt","kms:GenerateDataKey"]"#,
            ),
        ),
        (
            "read",
            doc(
                r#"["s3:Get*","s3:List*","ec2:Describe*","iam:Get*","iam:List*","lambda:Get*","ssm:GetParameter*","secretsmanager:GetSecretValue"]"#,
            ),
        ),
        (
            "ops",
            doc(r#"["ec2:*","logs:*","cloudwatch:*","sts:AssumeRole"]"#),
        ),
        ("admin", doc(r#""*""#)),
    ];
    let arn = |n: &str| format!("arn:aws:iam::{ACCOUNT}:policy/{n}");
    let attached = |p: usize| -> Vec<String> {
        match p % 10 {
            0 => vec![arn("admin")],
            1..=5 => vec![arn("app"), arn("read")],
            6..=8 => vec![arn("read"), arn("ops")],
            _ => vec![arn("app")],
        }
    };
    let mut acct = AccountSnapshot {
        account_id: ACCOUNT.into(),
        ..AccountSnapshot::default()
    };
    for p in 0..PRINCIPALS {
        if p < ROLES {
            acct.iam.roles.push(IamRole {
                name: format!("role-{p}"),
                arn: format!("arn:aws:iam::{ACCOUNT}:role/role-{p}"),
                path: "/".into(),
                attached_policies: attached(p),
                ..IamRole::default()
            });
        } else {
            acct.iam.users.push(IamUser {
                name: format!("user-{p}"),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/user-{p}"),
                attached_policies: attached(p),
                ..IamUser::default()
            });
        }
    }
    for (name, document) in policies {
        acct.iam.policies.push(ManagedPolicy {
            arn: arn(name),
            name: name.into(),
            document,
            ..ManagedPolicy::default()
        });
    }
    Snapshot {
        schema_version: rampart_snapshot::SCHEMA_VERSION,
        accounts: vec![acct],
        ..Snapshot::default()
    }
}

/// This thread's time on a CPU so far (Linux schedstat; zero elsewhere): on a shared machine
/// it is the "one core" figure, wall time the one a user waits.
fn cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Wall and CPU time of one piece of work.
#[derive(Clone, Copy, Default)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

impl Spent {
    fn of(&mut self, work: impl FnOnce()) {
        let (t, c) = (Instant::now(), cpu());
        work();
        self.wall += t.elapsed();
        self.cpu += cpu().saturating_sub(c);
    }
}

/// One read of `text`, handing each event to `each`.
fn read(text: &str, each: &mut dyn FnMut(&rampart_trail::Event<'_>)) {
    let mut stats = ReadStats::default();
    let mut issues = Vec::new();
    parse_event_batches(
        "bench",
        text.as_bytes(),
        &mut stats,
        &mut issues,
        &mut |p| {
            if let Parsed::Events(events, _) = p {
                events.iter().for_each(&mut *each);
            }
        },
    );
}

struct Round {
    reference: Spent,
    generate: Spent,
    unused: Spent,
    bytes: usize,
}

fn round(events: usize, snap: &Snapshot) -> Round {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = String::new();
    let mut r = Round {
        reference: Spent::default(),
        generate: Spent::default(),
        unused: Spent::default(),
        bytes: 0,
    };
    let target = format!("arn:aws:iam::{ACCOUNT}:role/role-17");
    let mut generator = Generator::new(&target, Window::default()).unwrap();
    let mut usage = Usage::new(Window::default());
    let mut touched = 0usize;
    let mut start = 0;
    while start < events {
        let n = BATCH.min(events - start);
        batch(&mut rng, start, n, &mut text);
        r.bytes += text.len();
        r.reference.of(|| {
            read(&text, &mut |e| {
                touched += e.header().event_name.as_deref().map_or(0, str::len)
            })
        });
        r.generate.of(|| read(&text, &mut |e| generator.observe(e)));
        r.unused.of(|| read(&text, &mut |e| usage.observe(e)));
        start += n;
    }
    black_box(touched);
    let mut out = None;
    r.generate
        .of(|| out = Some(rampart_usage::generate(&generator, &Options::default()).unwrap()));
    let out = out.unwrap();
    assert!(out.proof.holds(), "{}", out.proof.to_text());
    let mut rep = None;
    r.unused.of(|| rep = Some(report(snap, &usage)));
    let rep = rep.unwrap();
    assert_eq!(rep.principals.len(), PRINCIPALS);
    assert_eq!(generator.counts.events as usize, events);
    eprintln!(
        "  role-17: {} call(s), {} statement(s), proof: {} replayed, {} allowed; unused: {} principal(s) seen, {} with every grant used",
        generator.counts.matched,
        out.statements.len(),
        out.proof.replayed,
        out.proof.allowed,
        usage.principals(),
        rep.principals
            .iter()
            .filter(|p| p.used_actions == p.granted_actions)
            .count()
    );
    r
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let events: usize = std::env::var("USAGE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let runs: usize = std::env::var("USAGE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let snap = snapshot();
    let mut rounds = Vec::new();
    for i in 0..runs {
        let r = round(events, &snap);
        eprintln!(
            "round {}: {} events ({:.2} GB): CPU (wall) reference read {:.2} s ({:.2}), generate {:.2} s ({:.2}), unused {:.2} s ({:.2})",
            i + 1,
            events,
            r.bytes as f64 / 1e9,
            r.reference.cpu.as_secs_f64(),
            r.reference.wall.as_secs_f64(),
            r.generate.cpu.as_secs_f64(),
            r.generate.wall.as_secs_f64(),
            r.unused.cpu.as_secs_f64(),
            r.unused.wall.as_secs_f64()
        );
        rounds.push(r);
    }
    let m = |f: &dyn Fn(&Round) -> Duration| median(rounds.iter().map(f).collect()).as_secs_f64();
    let (ref_cpu, gen_cpu, un_cpu) = (
        m(&|r| r.reference.cpu),
        m(&|r| r.generate.cpu),
        m(&|r| r.unused.cpu),
    );
    let (ref_wall, gen_wall, un_wall) = (
        m(&|r| r.reference.wall),
        m(&|r| r.generate.wall),
        m(&|r| r.unused.wall),
    );
    let rate = |secs: f64| events as f64 / secs / 1e6;
    println!(
        "usage: {events} events, {PRINCIPALS} principals, median of {runs}, one thread: policy generate {gen_cpu:.2} s CPU ({gen_wall:.2} s wall, {:.2} M events/s CPU, {:.2}x the read), iam unused {un_cpu:.2} s CPU ({un_wall:.2} s wall, {:.2} M events/s CPU, {:.2}x the read); reference read {ref_cpu:.2} s CPU ({ref_wall:.2} s wall, {:.2} M events/s CPU)",
        rate(gen_cpu),
        gen_cpu / ref_cpu,
        rate(un_cpu),
        un_cpu / ref_cpu,
        rate(ref_cpu)
    );
}
