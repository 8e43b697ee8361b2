//! Routing benchmarks (issue 18 item 8; plain `harness = false`, medians of `ROUTE_RUNS`,
//! default 5):
//!
//! 1. **Cost per alert.** 10,000 alerts (mixed severities and rules, batches of 100 as
//!    `detect` hands them over) through five routes — PagerDuty for high and critical (with
//!    escalation), Slack for IAM rules (rate limited), Teams for one account glob, a signed
//!    webhook by default, a low-severity digest — with an in-memory transport, so the time is
//!    the route decision, the state bookkeeping and the formatting of every message. The
//!    reference, in the same round, is the plain `Dispatcher` with one in-memory sink that
//!    formats what the existing webhook sink posts (`{"text", "rampart_alert"}`).
//! 2. **One-hour outage.** 10,000 alerts arrive over one simulated hour while the receiver on
//!    127.0.0.1 refuses connections (the clock is injected; a tick every 10 simulated seconds,
//!    the state saved every simulated minute, deliveries journaled to a real file); then it
//!    accepts, and ticks run until the outbox is empty. Counts: alerts received, distinct,
//!    duplicates, refused attempts; time: the whole simulation and the drain after recovery.
//!    The reference is posting the same 10,000 alerts with the plain webhook sink to the same
//!    receiver.
//!
//! Run: `cargo bench -p rampart-route --bench route`.

#[path = "../tests/support/mod.rs"]
mod support;

use rampart_detect::Alert;
use rampart_detect::sink::{Dispatcher, Failure, Sink, WebhookSink};
use rampart_route::config::parse;
use rampart_route::format::Outgoing;
use rampart_route::state::{MemoryJournal, StateFile};
use rampart_route::transport::LiveTransport;
use rampart_route::{OrgTree, Refusal, Router, Transport};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const ALERTS: usize = 10_000;

fn alerts(n: usize) -> Vec<Alert> {
    let rules = [
        "RD-IAM-003",
        "RD-TAMPER-001",
        "RD-S3-002",
        "RD-CIS-4.3",
        "RD-IAM-010",
    ];
    let sev = ["info", "low", "medium", "high", "critical"];
    (0..n)
        .map(|k| {
            Alert::from_record(&serde_json::json!({
                "schema": "rampart.alert/v1", "rule_id": rules[k % rules.len()],
                "rule_source": "builtin", "title": "Benchmark alert",
                "severity": sev[(k / 7) % sev.len()],
                "event_id": format!("ev-{k}"), "event_time": "2026-12-06T10:00:00Z",
                "event_name": "CreateAccessKey", "event_source": "iam.amazonaws.com",
                "account": format!("1111222233{:02}", k % 40), "region": "eu-west-1",
                "principal": "arn:aws:iam::111122223333:user/mallory",
                "matched": {"eventName": "CreateAccessKey"},
            }))
            .unwrap()
        })
        .collect()
}

const ROUTES: &str = r#"
[[alerts.route]]
name = "page"
min_severity = "high"
continue = true
pagerduty = { routing_key_env = "PD", url = "http://127.0.0.1:9/pd" }
escalate_after = "15m"
escalate_to = "managers"

[[alerts.route]]
name = "iam-chat"
rule = ["RD-IAM-*", "RD-TAMPER-*"]
slack = { url_env = "SLACK" }
rate_limit = "20/minute"

[[alerts.route]]
name = "prod-teams"
account = "11112222331?"
teams = { url_env = "TEAMS" }

[[alerts.route]]
name = "low-digest"
severity = ["info", "low"]
slack = { url_env = "SLACK" }
digest = "1h"

[[alerts.route]]
name = "default"
webhook = { url_env = "HOOK", hmac_key_env = "KEY" }

[[alerts.route]]
name = "managers"
rule = "NEVER"
webhook = { url_env = "HOOK", hmac_key_env = "KEY" }
"#;

fn env(hook: &str) -> support::Env {
    support::Env(HashMap::from([
        ("PD", "routing-key".to_string()),
        ("SLACK", "http://127.0.0.1:9/slack".to_string()),
        ("TEAMS", "http://127.0.0.1:9/teams".to_string()),
        ("HOOK", hook.to_string()),
        ("KEY", "hmac-key".to_string()),
    ]))
}

/// Keeps the bodies it is given (as a receiver would read them), and counts.
#[derive(Default)]
struct Memory {
    bytes: usize,
    messages: usize,
}

impl Transport for Memory {
    fn send(&mut self, out: &Outgoing) -> Result<(), Refusal> {
        self.messages += 1;
        self.bytes += match out {
            Outgoing::Http { body, .. } => body.len(),
            Outgoing::Sns { message, .. } => message.len(),
        };
        Ok(())
    }
}

impl Sink for Memory {
    fn name(&self) -> String {
        "memory".into()
    }
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        for a in alerts {
            let body = serde_json::json!({"text": rampart_detect::sink::message_text(a), "rampart_alert": a})
                .to_string();
            self.messages += 1;
            self.bytes += body.len();
        }
        Ok(())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn per_alert(runs: usize) {
    let batch = alerts(ALERTS);
    let routes = parse(ROUTES, "bench.toml", &env("http://127.0.0.1:9/hook")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut plain, mut routed, mut msgs) = (Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        let t = Instant::now();
        let mut d = Dispatcher::new(dir.path().join("spool.jsonl"));
        d.add(Box::new(Memory::default()));
        for chunk in batch.chunks(100) {
            d.send(chunk);
        }
        plain.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let mut r = Router::new(routes.clone(), OrgTree::default(), Default::default());
        let (mut tr, mut j) = (Memory::default(), MemoryJournal::default());
        let mut now = 1_800_000_000;
        for chunk in batch.chunks(100) {
            assert!(r.submit(chunk, now).is_empty());
            r.tick(now, &mut tr, &mut j);
            now += 1;
        }
        // the digests and rate-limited remainders, and the escalations
        r.tick(now + 7200, &mut tr, &mut j);
        routed.push(t.elapsed().as_secs_f64());
        msgs = tr.messages;
    }
    let (p, r) = (median(plain), median(routed));
    println!(
        "per alert: plain dispatcher {:.1} µs, routed {:.1} µs ({} messages), routing adds {:.1} µs per alert (ratio {:.2}), {} alerts, median of {runs}",
        p / ALERTS as f64 * 1e6,
        r / ALERTS as f64 * 1e6,
        msgs,
        (r - p) / ALERTS as f64 * 1e6,
        r / p,
        ALERTS
    );
}

/// A transport that counts refused attempts.
struct Counting {
    inner: LiveTransport,
    refused: u64,
}

impl Transport for Counting {
    fn send(&mut self, out: &Outgoing) -> Result<(), Refusal> {
        self.inner.send(out).inspect_err(|_| self.refused += 1)
    }
}

fn outage() {
    let port = support::Receiver::reserve();
    let hook = format!("http://127.0.0.1:{port}/hook");
    let routes = parse(
        "[[alerts.route]]\nname = \"hook\"\nwebhook = { url_env = \"HOOK\", hmac_key_env = \"KEY\" }\n",
        "bench.toml",
        &env(&hook),
    )
    .unwrap();
    let batch = alerts(ALERTS);
    let dir = tempfile::tempdir().unwrap();
    let mut file = StateFile::new(&dir.path().join("rampart-routes.json"));
    let mut r = Router::new(routes, OrgTree::default(), file.load().unwrap());
    let mut http = Counting {
        inner: LiveTransport::new(None),
        refused: 0,
    };
    let t0 = 1_800_000_000i64;
    let started = Instant::now();
    // one simulated hour, a tick every 10 s, alerts spread evenly
    let ticks = 360;
    let per_tick = ALERTS.div_ceil(ticks);
    for (k, chunk) in batch.chunks(per_tick).enumerate() {
        let now = t0 + 10 * k as i64;
        r.submit(chunk, now);
        let rep = r.tick(now, &mut http, &mut file);
        assert_eq!(rep.delivered, 0);
        if k % 6 == 0 {
            file.save(&r.state).unwrap();
        }
    }
    let during = started.elapsed();
    let queued = r.state.outbox.len();
    let rx = support::Receiver::start(port, 200);
    let recovery = Instant::now();
    let mut now = t0 + 3600;
    let mut rounds = 0;
    while !r.state.outbox.is_empty() {
        r.tick(now, &mut http, &mut file);
        now += 10;
        rounds += 1;
        assert!(rounds < 1000, "drains");
    }
    file.save(&r.state).unwrap();
    let drain = recovery.elapsed();
    // the reference: the plain webhook sink posting the same alerts to the same receiver
    let plain = Instant::now();
    let sink = WebhookSink::new(&format!("http://127.0.0.1:{port}/plain")).unwrap();
    for a in &batch {
        sink.post_json(&serde_json::json!({"text": a.summary(), "rampart_alert": a}).to_string())
            .unwrap();
    }
    let plain = plain.elapsed();
    let got = rx.accepted();
    let ids: Vec<&str> = got
        .iter()
        .filter(|q| q.path == "/hook")
        .filter_map(|q| q.header(rampart_route::format::ID_HEADER))
        .collect();
    let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
    println!(
        "outage: {} alerts over 1 simulated hour, {} queued at recovery, {} refused attempts; after recovery {} received, {} distinct, {} duplicates, {} missing; simulation {:.2} s, drain {:.2} s ({} ticks); plain webhook sink to the same receiver {:.2} s (ratio {:.2})",
        ALERTS,
        queued,
        http.refused,
        ids.len(),
        distinct.len(),
        ids.len() - distinct.len(),
        ALERTS - distinct.len(),
        during.as_secs_f64(),
        drain.as_secs_f64(),
        rounds,
        plain.as_secs_f64(),
        drain.as_secs_f64() / plain.as_secs_f64()
    );
    assert_eq!((ids.len(), distinct.len()), (ALERTS, ALERTS));
    std::thread::sleep(Duration::from_millis(10));
}

fn main() {
    let runs: usize = std::env::var("ROUTE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    per_alert(runs);
    outage();
}
