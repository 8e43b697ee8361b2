//! `rampart policy simulate` end to end on one large input (plain `harness = false`, medians):
//! a generated file of 100,000 simulations (set `SIM_REQUESTS` for another count), pretty-printed
//! over many lines, mixing policies repeated across requests with policies of their own, as a
//! real simulate file does. *Typical* (seven policies, ten statements per request): the identity
//! policy of one of 50 roles, the bucket policy of one of 6 services, one VPC endpoint policy and
//! one two-level SCP chain (three SCPs) are repeated; the session policy names the request's own
//! resource and is distinct in every request. `SIM_HEAVY=1` (nine policies): the first identity
//! policy carries a per-request `Sid` (distinct), a second identity policy, a boundary, a bucket
//! policy per service, an endpoint policy and the SCPs are repeated; every statement is spread
//! over more text. One round = what the CLI does: read the file item by item
//! (`for_each_simulation`, which gives every statement its line and column), and for each
//! simulation compile its policies, evaluate with the explanation and serialise the result as
//! the CLI's JSON line. Decisions/s = simulations /
//! round time, one thread; median of `SIM_RUNS` rounds (default 5). Each round also times a
//! reference on the same text, `serde_json::from_str::<serde_json::Value>`, and reports the
//! ratio (the machine is shared: the ratio moves less than the rate). `SIM_CACHE=0` turns the
//! policy cache off; `SIM_REFERENCE=0` leaves the reference out. Each round also reports the
//! thread's own CPU time (Linux schedstat), so decisions per CPU second hold on a loaded host.
//!
//! It allocates as the `rampart` binary does: mimalloc with the binary's settings
//! (`crates/rampart/src/allocator.rs`, shared with the detection benchmark).
//!
//! Run: `cargo bench -p rampart-policy --bench simulate`

use rampart_policy::simulate::{POLICY_CACHE_SIZE, for_each_simulation};
use rampart_policy::{CompiledPolicySet, Decision};
use std::hint::black_box;
use std::time::Instant;

const SERVICES: &[&str] = &["s3", "sqs", "kms", "dynamodb", "logs", "sns"];

/// One simulation object, pretty-printed the way people write them (one element per line).
fn simulation(i: usize, heavy: bool) -> String {
    let svc = SERVICES[i % SERVICES.len()];
    let action = match i % 4 {
        0 => format!("{svc}:GetObject"),
        1 => format!("{svc}:PutItem"),
        2 => "s3:DeleteBucket".to_string(),
        _ => format!("{svc}:ListThings"),
    };
    let principal = format!("arn:aws:sts::111111111111:assumed-role/app-{}/s{i}", i % 50);
    let resource = format!(
        "arn:aws:{svc}:eu-west-1:111111111111:thing/app-{}/k{i}",
        i % 50
    );
    if !heavy {
        return format!(
            r#"  {{"request": {{"action": "{action}", "resource": {{"resource": "{resource}", "accountId": "111111111111"}},
    "principal": "{principal}", "context": {{"aws:SecureTransport": true, "aws:RequestedRegion": "eu-west-1"}}}},
   "identityPolicies": [{{"Version": "2012-10-17", "Statement": [
     {{"Effect": "Allow", "Action": ["{svc}:Get*", "{svc}:List*"], "Resource": "arn:aws:{svc}:*:111111111111:thing/app-{m}/*"}},
     {{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}}]}}],
   "resourcePolicy": {{"Version": "2012-10-17", "Statement": [
     {{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {{"Bool": {{"aws:SecureTransport": "false"}}}}}},
     {{"Effect": "Allow", "Principal": {{"AWS": "111111111111"}}, "Action": "{svc}:*", "Resource": "*"}}]}},
   "sessionPolicy": {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "{svc}:*", "Resource": "{resource}"}}}},
   "vpcEndpointPolicy": {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}}},
   "serviceControlPolicies": [
     {{"orgIdentifier": "r-root", "policies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "*", "Resource": "*"}},
       {{"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*", "Condition": {{"StringNotEquals": {{"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}}}}]}}]}},
     {{"orgIdentifier": "111111111111", "policies": [{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}]}}]}}"#,
            m = i % 50
        );
    }
    format!(
        r#"  {{
    "request": {{
      "action": "{action}",
      "resource": {{"resource": "{resource}", "accountId": "111111111111"}},
      "principal": "{principal}",
      "context": {{"aws:SecureTransport": true, "aws:RequestedRegion": "eu-west-1", "aws:SourceVpce": "vpce-0a1b2c3d"}}
    }},
    "identityPolicies": [
      {{
        "Version": "2012-10-17",
        "Statement": [
          {{"Sid": "Read{i}", "Effect": "Allow", "Action": ["{svc}:Get*", "{svc}:List*"], "Resource": "arn:aws:{svc}:*:111111111111:thing/app-{m}/*"}},
          {{"Sid": "Write", "Effect": "Allow", "Action": "{svc}:Put*", "Resource": "*",
            "Condition": {{"StringEquals": {{"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}}}}
        ]
      }},
      {{
        "Version": "2012-10-17",
        "Statement": {{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}}
      }}
    ],
    "permissionBoundaries": [
      {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": ["s3:*", "sqs:*", "kms:*", "dynamodb:*", "logs:*", "sns:*"], "Resource": "*"}}}}
    ],
    "resourcePolicy": {{
      "Version": "2012-10-17",
      "Statement": [
        {{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
          "Condition": {{"Bool": {{"aws:SecureTransport": "false"}}}}}},
        {{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::111111111111:root"}}, "Action": "{svc}:*", "Resource": "*"}}
      ]
    }},
    "vpcEndpointPolicy": {{
      "Version": "2012-10-17",
      "Statement": {{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {{"StringEquals": {{"aws:PrincipalAccount": "111111111111"}}}}}}
    }},
    "serviceControlPolicies": [
      {{"orgIdentifier": "r-root", "policies": [
        {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*"}}}},
        {{"Version": "2012-10-17", "Statement": {{"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
          "Condition": {{"StringNotEquals": {{"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}}}}}}
      ]}},
      {{"orgIdentifier": "111111111111", "policies": [
        {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}
      ]}}
    ]
  }}"#,
        m = i % 50
    )
}

fn input(n: usize, heavy: bool) -> String {
    let items: Vec<String> = (0..n).map(|i| simulation(i, heavy)).collect();
    format!("[\n{}\n]\n", items.join(",\n"))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This thread's time on a CPU so far, in seconds (Linux: `/proc/thread-self/schedstat`, in
/// nanoseconds): on a shared machine the wall clock also counts the time other jobs held the
/// core, this does not.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The allocator the `rampart` binary uses, so the benchmark allocates as the CLI does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The binary's allocator settings (one file serves both). Its unit test is not run here (a
/// `harness = false` target drops `#[test]` functions), which leaves the test's import unused.
#[allow(unused_imports)]
#[path = "../../rampart/src/allocator.rs"]
mod allocator;

fn main() {
    allocator::keep_freed_memory();
    let n = env_usize("SIM_REQUESTS", 100_000);
    let runs = env_usize("SIM_RUNS", 5).max(1);
    let heavy = env_usize("SIM_HEAVY", 0) == 1;
    let text = input(n, heavy);
    let lines = text.bytes().filter(|&b| b == b'\n').count();
    println!(
        "simulate input ({}): {n} simulations, {:.1} MB, {lines} lines",
        if heavy { "heavy" } else { "typical" },
        text.len() as f64 / 1e6
    );
    let cache = env_usize("SIM_CACHE", POLICY_CACHE_SIZE);
    let with_reference = env_usize("SIM_REFERENCE", 1) == 1;
    let mut rates = Vec::new();
    let mut ratios = Vec::new();
    let mut cpu_rates = Vec::new();
    for run in 1..=runs {
        // The reference: a plain JSON tree of the same text, nothing else.
        // (`SIM_REFERENCE=0` leaves it out, to profile simulate alone.)
        let r0 = Instant::now();
        if with_reference {
            let v: serde_json::Value = serde_json::from_str(black_box(&text)).expect("valid JSON");
            drop(black_box(v));
        }
        let reference = r0.elapsed().as_secs_f64();
        let c0 = cpu_seconds();
        let t0 = Instant::now();
        let mut allowed = 0usize;
        let mut bytes = 0usize;
        // As the CLI does: each simulation is evaluated as it is read, its policies compiled
        // once and taken over, and its JSON line written.
        let count = for_each_simulation(black_box(&text), cache, |s| {
            let e = CompiledPolicySet::from_set(s.policies).evaluate(&s.request);
            allowed += usize::from(e.decision == Decision::Allowed);
            bytes += serde_json::to_string(&e).expect("serialises").len() + 1;
        })
        .expect("generated input parses");
        assert_eq!(count, n);
        let total = t0.elapsed().as_secs_f64();
        let cpu = c0.and_then(|c0| Some(cpu_seconds()? - c0));
        // Every fourth request is an explicitly denied DeleteBucket: decisions were made.
        assert!(allowed > 0 && allowed < n, "{allowed} of {n} allowed");
        let rate = n as f64 / total;
        let cpu_rate = cpu.map_or(0.0, |c| n as f64 / c);
        println!(
            "run {run}: {total:.3} s ({:.3} s on the CPU), {rate:.0} decisions/s ({cpu_rate:.0} per CPU second), {allowed} allowed, {bytes} bytes of output; serde_json::Value {reference:.3} s, simulate ÷ reference {:.2}",
            cpu.unwrap_or(f64::NAN),
            total / reference
        );
        cpu_rates.push(cpu_rate);
        rates.push(rate);
        ratios.push(total / reference);
        black_box(bytes);
    }
    println!(
        "median: {:.0} decisions/s ({:.0} per CPU second), simulate ÷ serde_json::Value {:.2}",
        median(rates),
        median(cpu_rates),
        median(ratios)
    );
}
