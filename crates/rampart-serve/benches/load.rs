//! Load benchmark of `rampart serve` (issue 17, item 7): a store with about 1,000,000 findings
//! of history and 100,000 alerts, 20 concurrent clients over loopback hitting every page and
//! API route, on SQLite and on PostgreSQL. Target: p95 < 300 ms per route, server memory
//! < 300 MB.
//!
//! ```text
//! cargo bench -p rampart-serve --bench load -- [SECONDS] [CLIENTS] [ACCOUNTS] [WEEKS]
//! ```
//! Defaults: 60 s per backend, 20 clients, 2,400 accounts × 17 regions (about 1.02 million
//! findings; the organization and its weekly churn are the store benchmark's,
//! `rampart-store/benches/support/history.rs`), 4 weekly audits after the first, the last one
//! an hour ago. Beside them: 100,000 alerts in 100 detect runs over the last 90 days (30 rules,
//! every severity, accounts of the organization), 3 % of them triaged, a plan with 200
//! changes, 2,000 audit-log entries.
//!
//! The SQLite store is recorded once and kept under the target directory
//! (`CARGO_TARGET_TMPDIR/rampart-load/`), so reruns start at once; `RAMPART_LOAD_RESEED=1`
//! records it again. PostgreSQL gets a copy of it (`Store::copy_to`) in a throwaway cluster
//! listening on a unix socket only, stopped when the benchmark ends;
//! `RAMPART_SKIP_POSTGRES=1` measures SQLite only (`RAMPART_SKIP_SQLITE=1` PostgreSQL only); `RAMPART_LOAD_POSTGRES=URL` measures an
//! existing PostgreSQL store instead of a fresh copy (e.g. one filled by `rampart store copy`
//! and kept between runs, or a real server's).
//!
//! The server runs as a separate process (this binary, started again with
//! `RAMPART_LOAD_SERVE=URL`), so its peak resident memory (`VmHWM`, read from /proc before it
//! is stopped) is the server's alone. Each client is a thread with its own connection per
//! request (HTTP/1.1, `Connection: close`) that walks the route list in its own order, without
//! pause, until the time is up. Reported per route and overall: requests, p50, p95, max, and
//! failures (any status but 200); and the CPU time the server process and the whole machine
//! spent during the measured seconds, which says who was busy when the 2 cores saturate.

#[path = "../../rampart-store/benches/support/history.rs"]
#[allow(dead_code)]
mod history;

use chrono::{Duration, Utc};
use history::{Churn, WeeklyAudits, generate};
use rampart_core::Severity;
use rampart_store::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

const SERVE_ENV: &str = "RAMPART_LOAD_SERVE";

fn main() {
    if let Ok(url) = std::env::var(SERVE_ENV) {
        serve(&url);
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let arg = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let seconds = arg(0, 60);
    let clients = arg(1, 20) as usize;
    let accounts = arg(2, 2400) as usize;
    let weeks = arg(3, 4) as usize;

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rampart-load");
    std::fs::create_dir_all(&dir).expect("create the benchmark directory");
    let path = dir.join(format!("history-{accounts}x17-{weeks}w.db"));
    if std::env::var("RAMPART_LOAD_RESEED").is_ok() || !path.exists() {
        seed(&path, accounts, weeks);
    }
    let sqlite_url = format!("sqlite://{}", path.display());
    eprintln!("load average before: {}", load_average());
    let mut results = Vec::new();
    if std::env::var("RAMPART_SKIP_SQLITE").is_err() {
        results.push(("SQLite", run_backend(&sqlite_url, seconds, clients)));
    }
    if let Ok(pg_url) = std::env::var("RAMPART_LOAD_POSTGRES") {
        results.push(("PostgreSQL", run_backend(&pg_url, seconds, clients)));
    } else if std::env::var("RAMPART_SKIP_POSTGRES").is_err() {
        let cluster =
            rampart_store::testing::PgCluster::start(rampart_store::testing::Durability::Fast)
                .expect("start a throwaway PostgreSQL");
        let pg_url = cluster.create_database().expect("create a database");
        let t = Instant::now();
        let source = Store::open(&sqlite_url).expect("open the seeded store");
        let mut dest = Store::open(&pg_url).expect("open PostgreSQL");
        source
            .copy_to(&mut dest)
            .expect("copy the store into PostgreSQL");
        drop((source, dest));
        eprintln!(
            "copied the store into PostgreSQL in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        results.push(("PostgreSQL", run_backend(&pg_url, seconds, clients)));
    }
    eprintln!("load average after: {}", load_average());
    report(&results);
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The server process: the store at `url`, on 127.0.0.1 (port chosen by the system), until
/// its standard input closes. Prints the port.
fn serve(url: &str) {
    let store = Store::open(url).unwrap_or_else(|e| panic!("{e}"));
    let listen = rampart_serve::Listen {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        behind_proxy: false,
    };
    let state = rampart_serve::AppState::new(store, &listen);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime
        .block_on(rampart_serve::serve_until(
            state,
            &listen,
            |addr| println!("listening {}", addr.port()),
            async {
                // stdin closes when the benchmark is done.
                let _ = tokio::task::spawn_blocking(|| {
                    let mut sink = Vec::new();
                    let _ = std::io::stdin().read_to_end(&mut sink);
                })
                .await;
            },
        ))
        .expect("serve");
}

/// Records the history into a new SQLite file at `path` (written beside it, then renamed, so
/// an interrupted seed is never reused).
fn seed(path: &std::path::Path, accounts: usize, weeks: usize) {
    let t = Instant::now();
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    for ext in ["partial-wal", "partial-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    let mut store = Store::open(&format!("sqlite://{}", partial.display())).expect("new store");
    let (mut first, findings) = generate(accounts, 17);
    let now = Utc::now();
    first.started_at = now - Duration::weeks(weeks as i64) - Duration::hours(1);
    first.finished_at = first.started_at + Duration::seconds(40);
    let account_ids: Vec<String> = first
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let mut audits = WeeklyAudits::new(first, findings, Churn::Balanced);
    let (run, findings) = audits.first();
    eprintln!("seeding: {} findings", findings.len());
    store.record_audit(run, findings).expect("first audit");
    for week in 1..=weeks {
        let (run, findings, flipped) = audits.next_week();
        store.record_audit(&run, findings).expect("weekly audit");
        eprintln!("seeding: week {week}, {flipped} status changes");
    }
    drop(audits);
    seed_alerts(&mut store, &account_ids, now);
    store
        .record_plan(
            &PlanRun {
                kind: RunKind::Plan,
                started_at: now - Duration::minutes(30),
                finished_at: now - Duration::minutes(29),
                organization_id: Some("o-load".into()),
                unobserved: vec![],
            },
            &(0..200)
                .map(|i| ChangeRow {
                    change_id: format!("change-{i}"),
                    account: account_ids[i % account_ids.len()].clone(),
                    region: Some("eu-west-1".into()),
                    action: "create".into(),
                    description: format!("enable the baseline control {i}"),
                    destructive: i % 50 == 0,
                    json: "{}".into(),
                })
                .collect::<Vec<_>>(),
        )
        .expect("plan");
    for i in 0..2000 {
        store
            .append_audit(&AuditLogEntry {
                at: now - Duration::minutes(2000 - i),
                actor: "ana".into(),
                via: "ui".into(),
                action: "finding.accept".into(),
                target: format!("rf-{i:06}"),
                detail: "accepted for the load benchmark".into(),
            })
            .expect("audit-log entry");
    }
    drop(store);
    std::fs::rename(&partial, path).expect("keep the seeded store");
    eprintln!(
        "seeded {} in {:.0} s",
        path.display(),
        t.elapsed().as_secs_f64()
    );
}

/// 100,000 alerts in 100 detect runs spread over the last 90 days; 2 % acknowledged and 1 %
/// resolved.
fn seed_alerts(store: &mut Store, accounts: &[String], now: rampart_store::Time) {
    const SEVERITIES: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
    ];
    let mut triaged = 0;
    for run in 0..100i64 {
        let started = now - Duration::minutes((100 - run) * 1296);
        let alerts: Vec<AlertRow> = (0..1000i64)
            .map(|i| {
                let n = (run * 1000 + i) as usize;
                AlertRow {
                    rule_id: format!("RD-LOAD-{:03}", n % 30),
                    rule_source: "builtin".into(),
                    title: format!("load alert {n}"),
                    severity: SEVERITIES[(n / 7) % 5],
                    account: Some(accounts[(n * 31) % accounts.len()].clone()),
                    region: Some("eu-west-1".into()),
                    principal: Some(format!("arn:aws:iam::000000000000:user/u{}", n % 97)),
                    event_time: Some(started - Duration::seconds(1296 * 60 - i * 77)),
                    event_id: Some(format!("ev-{n:08}")),
                    resource: None,
                    count: 1,
                    json: format!("{{\"eventName\":\"PutBucketPolicy\",\"n\":{n}}}"),
                }
            })
            .collect();
        store
            .record_detect(
                &DetectRun {
                    started_at: started,
                    finished_at: started + Duration::seconds(30),
                    source: "load".into(),
                    events: 1_000_000,
                    skipped: 0,
                    files: 100,
                    rules: 30,
                },
                &alerts,
            )
            .expect("detect run");
        for (i, a) in alerts.iter().enumerate().filter(|(i, _)| i % 33 == 0) {
            let id = alert_id(
                &a.rule_source,
                &a.rule_id,
                a.event_id.as_deref(),
                a.account.as_deref(),
            );
            store
                .set_alert_state(&AlertStateRecord {
                    alert_id: id,
                    state: if i % 3 == 0 {
                        "resolved"
                    } else {
                        "acknowledged"
                    }
                    .into(),
                    assignee: Some("bo".into()),
                    comment: "triaged for the load benchmark".into(),
                    updated_by: "ana".into(),
                    updated_at: now,
                    // Filled by the store from the first acknowledgement.
                    acknowledged_by: String::new(),
                    acknowledged_at: now,
                    ack_comment: None,
                })
                .expect("alert state");
            triaged += 1;
        }
    }
    eprintln!("seeding: 100,000 alerts, {triaged} triaged");
}

/// What the clients need: credentials and ids to put into paths.
struct Target {
    port: u16,
    cookie: String,
    token: String,
    routes: Vec<(String, String)>,
}

/// Creates a user, session and token, picks concrete ids, and lists every route to hit as
/// (label, path). Labels starting with `api ` use the token, the others the session.
fn prepare(url: &str) -> (String, String, Vec<(String, String)>) {
    let mut s = Store::open(url).unwrap_or_else(|e| panic!("{e}"));
    let now = Utc::now();
    let hash = rampart_serve::auth::hash_password("load benchmark password").unwrap();
    let _ = s.add_user(&UserRecord {
        name: "loadadmin".into(),
        role: "admin".into(),
        password_hash: hash,
        created_at: now,
    });
    let cookie = rampart_serve::auth::random_secret();
    s.create_session(&SessionRecord {
        id_hash: rampart_serve::auth::digest(&cookie),
        user: "loadadmin".into(),
        csrf: rampart_serve::auth::random_secret(),
        created_at: now,
        expires_at: now + Duration::hours(8),
    })
    .unwrap();
    let token = rampart_serve::auth::random_secret();
    s.create_api_token(&ApiTokenRecord {
        name: format!("load-{}", now.timestamp_nanos_opt().unwrap_or_default()),
        token_hash: rampart_serve::auth::digest(&token),
        role: "admin".into(),
        created_by: "bench".into(),
        created_at: now,
        expires_at: now + Duration::hours(8),
        revoked_at: None,
    })
    .unwrap();
    let first = s
        .findings_page(&FindingFilter::default(), 1)
        .unwrap()
        .pop()
        .expect("findings");
    let deep_id = deep_id(&s, &first.id);
    let alerts = s
        .alerts_page(&AlertFilter::default(), 1)
        .unwrap()
        .pop()
        .expect("alerts");
    let deep_alert = AlertCursor {
        at: (now - Duration::days(45)).timestamp(),
        run_id: i64::MAX,
        seq: 0,
    }
    .token();
    let account = first.account_id.clone();
    let control = first.control.clone();
    let ou = s
        .account_scores(now - Duration::days(60))
        .unwrap()
        .into_iter()
        .find(|a| a.account_id == account)
        .map(|a| a.ou_path)
        .unwrap_or_default();
    let framework = rampart_core::frameworks()
        .first()
        .map(|f| f.to_string())
        .unwrap_or_default();
    let enc = |v: &str| -> String {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let fid = enc(&first.id);
    let aid = enc(&alerts.id);
    let deep_id = enc(&deep_id);
    let mut routes: Vec<(String, String)> = vec![
        ("healthz (reference)".into(), "/healthz".into()),
        ("overview".into(), "/".into()),
        ("findings".into(), "/findings".into()),
        ("findings open".into(), "/findings?status=open".into()),
        (
            "findings HIGH open".into(),
            "/findings?severity=HIGH&status=open".into(),
        ),
        (
            "findings account".into(),
            format!("/findings?account={account}&status=open"),
        ),
        (
            "findings control FAIL".into(),
            format!("/findings?control={}&status=FAIL", enc(&control)),
        ),
        (
            "findings framework".into(),
            format!("/findings?framework={}", enc(&framework)),
        ),
        (
            "findings OU".into(),
            format!("/findings?ou={}&status=open", enc(&ou)),
        ),
        (
            "findings region age".into(),
            "/findings?region=eu-west-1&min_age_days=7".into(),
        ),
        ("findings search".into(), "/findings?q=bucket".into()),
        (
            "findings deep page".into(),
            format!("/findings?after={deep_id}"),
        ),
        (
            "findings open deep page".into(),
            format!("/findings?status=open&after={deep_id}&limit=200"),
        ),
        ("finding".into(), format!("/findings/{fid}")),
        ("accounts".into(), "/accounts".into()),
        ("alerts".into(), "/alerts".into()),
        (
            "alerts HIGH 30 d".into(),
            "/alerts?severity=HIGH&days=30".into(),
        ),
        (
            "alerts acknowledged 90 d".into(),
            "/alerts?state=acknowledged&days=90".into(),
        ),
        (
            "alerts account rule 90 d".into(),
            format!(
                "/alerts?account={}&rule=RD-LOAD-007&days=90",
                enc(alerts.alert.account.as_deref().unwrap_or_default())
            ),
        ),
        (
            "alerts deep page".into(),
            format!("/alerts?days=90&after={}", enc(&deep_alert)),
        ),
        ("alert".into(), format!("/alerts/{aid}")),
        ("drift".into(), "/drift".into()),
        ("reports".into(), "/reports".into()),
        ("reports 1 week ago".into(), "/reports?weeks_ago=1".into()),
        (
            "report download".into(),
            "/reports/weekly/markdown?weeks_ago=0".into(),
        ),
        ("catalogue".into(), "/catalogue".into()),
        ("audit log".into(), "/audit-log".into()),
        ("api overview".into(), "/api/v1/overview".into()),
        ("api findings".into(), "/api/v1/findings".into()),
        (
            "api findings open HIGH".into(),
            "/api/v1/findings?status=open&severity=HIGH&limit=500".into(),
        ),
        (
            "api findings deep page".into(),
            format!("/api/v1/findings?after={deep_id}"),
        ),
        ("api finding".into(), format!("/api/v1/findings/{fid}")),
        ("api accounts".into(), "/api/v1/accounts".into()),
        ("api alerts".into(), "/api/v1/alerts".into()),
        (
            "api alerts new CRITICAL 90 d".into(),
            "/api/v1/alerts?state=new&severity=CRITICAL&days=90&limit=500".into(),
        ),
        (
            "api alerts deep page".into(),
            format!("/api/v1/alerts?days=90&after={}", enc(&deep_alert)),
        ),
        ("api alert".into(), format!("/api/v1/alerts/{aid}")),
        ("api drift".into(), "/api/v1/drift".into()),
        ("api catalogue".into(), "/api/v1/catalogue".into()),
        ("api report".into(), "/api/v1/reports/weekly".into()),
        ("api audit log".into(), "/api/v1/audit-log".into()),
        ("api openapi".into(), "/api/v1/openapi.json".into()),
        ("api metrics".into(), "/metrics".into()),
    ];
    for (label, path) in &mut routes {
        if (path.starts_with("/api/") || path == "/metrics") && !label.starts_with("api ") {
            *label = format!("api {label}");
        }
    }
    (cookie, token, routes)
}

/// A finding id near the end of the id order (the deep pages' cursor): ids are a fixed
/// prefix and hex digits, so the first id after `PREFIXe` is about 7/8 of the way through.
fn deep_id(s: &Store, first: &str) -> String {
    let prefix = first.rsplit_once('-').map_or("", |(p, _)| p);
    s.findings_page(
        &FindingFilter {
            after: Some(format!("{prefix}-e")),
            ..Default::default()
        },
        1,
    )
    .ok()
    .and_then(|mut p| p.pop())
    .map_or_else(|| first.to_string(), |f| f.id)
}

/// Starts the server on `url`, drives it, stops it: per-label latencies (ms), failures, peak
/// RSS (MB).
fn run_backend(url: &str, seconds: u64, clients: usize) -> Measured {
    let (cookie, token, routes) = prepare(url);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(SERVE_ENV, url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server process");
    let port = read_port(&mut child);
    let target = Arc::new(Target {
        port,
        cookie,
        token,
        routes,
    });
    // One warm-up pass, sequential (caches, connections), not counted.
    for (label, path) in &target.routes {
        let (status, _) = request(&target, label, path);
        if status != 200 {
            eprintln!("warm-up: {label} {path} answered {status}");
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = (
        history::cpu_s_of(&child.id().to_string()),
        machine_cpu_seconds(),
    );
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let target = target.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut out: Vec<(usize, f64, u16)> = Vec::new();
                let n = target.routes.len();
                let mut i = (c * 7) % n;
                while !stop.load(Ordering::Relaxed) {
                    let (label, path) = &target.routes[i];
                    let t = Instant::now();
                    let (status, _) = request(&target, label, path);
                    out.push((i, t.elapsed().as_secs_f64() * 1000.0, status));
                    // A stride coprime with the list length visits every route in a
                    // client-specific order.
                    i = (i + 5) % n;
                }
                out
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let server_cpu = history::cpu_s_of(&child.id().to_string()) - cpu_before.0;
    let machine = machine_cpu_seconds();
    let machine_busy = (machine.0 - cpu_before.1.0, machine.1 - cpu_before.1.1);
    let mut by_route: BTreeMap<usize, (Vec<f64>, usize)> = BTreeMap::new();
    let mut total = 0;
    for t in threads {
        for (i, ms, status) in t.join().expect("client thread") {
            let e = by_route.entry(i).or_default();
            e.0.push(ms);
            if status != 200 {
                e.1 += 1;
            }
            total += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak_mb = peak_rss_mb(child.id());
    drop(child.stdin.take());
    let _ = child.wait();
    Measured {
        routes: target
            .routes
            .iter()
            .enumerate()
            .map(|(i, (label, path))| {
                let (ms, failures) = by_route.remove(&i).unwrap_or_default();
                (label.clone(), path.clone(), ms, failures)
            })
            .collect(),
        requests: total,
        elapsed,
        peak_mb,
        server_cpu,
        machine_busy,
    }
}

/// The machine's (busy, total) CPU seconds so far, over all cores (/proc/stat).
fn machine_cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: f64 = ticks.iter().sum();
    // idle and iowait are the 4th and 5th numbers.
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    ((total - idle) / 100.0, total / 100.0)
}

struct Measured {
    routes: Vec<(String, String, Vec<f64>, usize)>,
    requests: usize,
    elapsed: f64,
    peak_mb: f64,
    /// CPU seconds the server process used while the clients ran.
    server_cpu: f64,
    /// (busy, total) CPU seconds of the whole machine meanwhile.
    machine_busy: (f64, f64),
}

fn read_port(child: &mut Child) -> u16 {
    let stdout = child.stdout.take().expect("server stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server's first line");
    line.trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// One GET over a new loopback connection; the status and the body's length.
fn request(target: &Target, label: &str, path: &str) -> (u16, usize) {
    let addr = SocketAddr::from(([127, 0, 0, 1], target.port));
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return (0, 0);
    };
    let auth = if label.starts_with("api ") {
        format!("Authorization: Bearer {}\r\n", target.token)
    } else {
        format!("Cookie: rampart_session={}\r\n", target.cookie)
    };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{auth}Connection: close\r\n\r\n",
        target.port
    );
    if stream.write_all(req.as_bytes()).is_err() {
        return (0, 0);
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).is_err() {
        return (0, 0);
    }
    let status = std::str::from_utf8(&response[..response.len().min(16)])
        .ok()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response.len())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn report(results: &[(&str, Measured)]) {
    for (backend, m) in results {
        println!(
            "\n{backend}: {} requests in {:.0} s ({:.0}/s), server peak RSS {:.0} MB",
            m.requests,
            m.elapsed,
            m.requests as f64 / m.elapsed,
            m.peak_mb
        );
        println!(
            "CPU while measured: server {:.1} s ({:.2} ms per request); whole machine {:.1} of {:.1} s busy ({:.0} %)",
            m.server_cpu,
            m.server_cpu * 1000.0 / m.requests.max(1) as f64,
            m.machine_busy.0,
            m.machine_busy.1,
            100.0 * m.machine_busy.0 / m.machine_busy.1.max(f64::MIN_POSITIVE)
        );
        println!(
            "| route | requests | p50 ms | p95 ms | max ms | failures |\n|---|---:|---:|---:|---:|---:|"
        );
        let mut all = Vec::new();
        for (label, path, ms, failures) in &m.routes {
            let mut sorted = ms.clone();
            sorted.sort_by(f64::total_cmp);
            all.extend_from_slice(&sorted);
            println!(
                "| {label} (`{}`) | {} | {:.1} | {:.1} | {:.1} | {failures} |",
                path.split('?').next().unwrap_or(path),
                sorted.len(),
                percentile(&sorted, 0.5),
                percentile(&sorted, 0.95),
                sorted.last().copied().unwrap_or(f64::NAN)
            );
        }
        all.sort_by(f64::total_cmp);
        println!(
            "| **all routes** | {} | {:.1} | {:.1} | {:.1} | {} |",
            all.len(),
            percentile(&all, 0.5),
            percentile(&all, 0.95),
            all.last().copied().unwrap_or(f64::NAN),
            m.routes.iter().map(|r| r.3).sum::<usize>()
        );
        let worst = m
            .routes
            .iter()
            .map(|(label, _, ms, _)| {
                let mut s = ms.clone();
                s.sort_by(f64::total_cmp);
                (percentile(&s, 0.95), label)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((p95, label)) = worst {
            println!("worst p95: {label} {p95:.1} ms (target < 300 ms); peak RSS target < 300 MB");
        }
    }
}
