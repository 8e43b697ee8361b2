//! `rampart serve` against the moto emulator: the embedded scheduler records a job while the
//! dashboard answers and both stop on SIGTERM; an admin repairs a drifted baseline with the
//! Drift page's apply button (a stale plan is refused and replaced first), an operator cannot.

#[path = "support/moto.rs"]
mod moto;

use moto::{
    baseline_ops, init_for_emulator, planned, rampart, rampart_command, start_moto, wait_for,
};
use rampart_store::{JobStatus, RunKind, Store};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// One HTTP/1.1 exchange on a fresh connection: (status, headers lower-cased, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).expect("connect to rampart serve");
    s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        unchunk(rest)
    } else {
        rest.to_string()
    };
    (status, headers, body)
}

fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Logs in through the login form; the session cookie (`name=value`).
fn login(addr: &str, user: &str, password: &str) -> String {
    let origin = format!("http://{addr}");
    let (status, headers, body) = http(
        addr,
        "POST",
        "/login",
        &[
            ("Origin", &origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("user={user}&password={}&next=/", password.replace(' ', "+")),
    );
    assert_eq!(status, 303, "login {user}: {body}");
    header(&headers, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn get(addr: &str, path: &str, cookie: &str) -> (u16, String) {
    let (status, _, body) = http(addr, "GET", path, &[("Cookie", cookie)], "");
    (status, body)
}

/// A form post from the dashboard's own origin.
fn post(addr: &str, path: &str, cookie: &str, form: &str) -> (u16, Vec<(String, String)>, String) {
    let origin = format!("http://{addr}");
    http(
        addr,
        "POST",
        path,
        &[
            ("Cookie", cookie),
            ("Origin", &origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form,
    )
}

/// The value of `<input ... name="NAME" value="...">` in a page.
fn input_value(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn free_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// `rampart serve` on `addr`, its stderr in `log`.
fn serve(moto: &moto::Moto, cfg: &str, addr: &str, log: &std::path::Path, extra: &[&str]) -> Child {
    let mut args = vec![
        "serve",
        "--config",
        cfg,
        "--listen",
        addr,
        "--regions",
        "us-east-1",
    ];
    args.extend_from_slice(extra);
    let child = rampart_command(&moto.url, &args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    wait_for("the dashboard", || {
        TcpStream::connect(addr).is_ok() && http(addr, "GET", "/healthz", &[], "").0 == 200
    });
    child
}

/// SIGTERM, then the exit status within a minute.
fn terminate(mut child: Child) -> std::process::ExitStatus {
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "rampart serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_runs_the_schedule_beside_the_dashboard_and_stops_on_sigterm() {
    let moto = start_moto();
    moto::build_fixture(&moto);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg)
        .replace("drift = \"daily at 03:00\"", "drift = \"off\"")
        .replace("detect = \"every 5m\"", "detect = \"off\"")
        .replace("weekly_report = \"mon 08:00\"", "weekly_report = \"off\"");
    assert!(text.contains("audit = \"every 6h\""), "{text}");
    std::fs::write(&cfg, &text).unwrap();
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());

    let addr = free_addr();
    let log = dir.path().join("serve.log");
    let child = serve(&moto, c, &addr, &log, &[]);
    // The audit job runs at once (an interval job never run) while the server answers.
    let audit_jobs = || {
        Store::open(&url)
            .ok()
            .and_then(|s| s.job_runs(Some("audit"), None).ok())
            .unwrap_or_default()
    };
    let mut answered_during_the_job = false;
    wait_for("the scheduled audit", || {
        let jobs = audit_jobs();
        if jobs.first().is_some_and(|j| j.status == JobStatus::Running) {
            answered_during_the_job |= http(&addr, "GET", "/healthz", &[], "").0 == 200;
        }
        jobs.first().is_some_and(|j| j.status == JobStatus::Ok)
    });
    assert_eq!(http(&addr, "GET", "/healthz", &[], "").0, 200);
    let status = terminate(child);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(
        stderr.contains("scheduler on") && stderr.contains("audit every 6h (next "),
        "{stderr}"
    );
    assert!(
        stderr.contains("stopped (server and scheduler)"),
        "{stderr}"
    );
    let store = Store::open(&url).unwrap();
    let jobs = store.job_runs(Some("audit"), None).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        jobs[0].run_id,
        Some(store.runs(Some(RunKind::Audit), None, None).unwrap()[0].id)
    );
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    eprintln!("health answered while the audit job ran: {answered_during_the_job}");

    // --no-schedule: the dashboard alone.
    let addr = free_addr();
    let child = serve(&moto, c, &addr, &log, &["--no-schedule"]);
    let status = terminate(child);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("scheduler on"), "{stderr}");
    assert_eq!(
        Store::open(&url)
            .unwrap()
            .job_runs(Some("audit"), None)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn an_admin_repairs_drift_from_the_dashboard() {
    let moto = start_moto();
    baseline_ops(&moto, "bare");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    let c = cfg.to_str().unwrap();
    let text = init_for_emulator(&moto, &cfg).replace(
        "\n[log_archive]",
        "\n[guardrails.rcps]\ntrusted_accounts = [\"111122223333\"]\n[guardrails.rcps.attach]\n\"Workloads\" = [\"require-tls\"]\n\"Security\" = [\"require-tls\"]\n\n[log_archive]",
    );
    std::fs::write(&cfg, &text).unwrap();
    let cli_log = dir.path().join("cli-audit.jsonl");
    let applied = rampart(
        &moto,
        &[
            "apply",
            "--auto-approve",
            "--config",
            c,
            "--audit-log",
            cli_log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    for (user, role) in [("ana", "admin"), ("olga", "operator")] {
        let pw = dir.path().join(format!("{user}.pw"));
        std::fs::write(&pw, format!("{user} has a long password\n")).unwrap();
        let out = rampart(
            &moto,
            &[
                "serve",
                "user",
                "add",
                user,
                "--role",
                role,
                "--password-file",
                pw.to_str().unwrap(),
                "--config",
                c,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Drift out of band, recorded by `rampart drift` (what the drift job runs).
    baseline_ops(&moto, "detach-rcp rampart-rcp-security-1");
    let d = rampart(&moto, &["drift", "--config", c, "--format", "json"]);
    assert_eq!(
        d.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    assert_eq!(
        planned(&d),
        vec!["attach:rampart-rcp-security-1:Security".to_string()]
    );

    let addr = free_addr();
    let log = dir.path().join("serve.log");
    let child = serve(&moto, c, &addr, &log, &["--no-schedule"]);

    // An operator sees the changes but no button, and cannot post the apply.
    let olga = login(&addr, "olga", "olga has a long password");
    let (status, page) = get(&addr, "/drift", &olga);
    assert_eq!(status, 200);
    assert!(
        page.contains("1 pending change(s)") && !page.contains("apply-form"),
        "{page}"
    );
    let csrf = input_value(&page, "csrf");
    let (status, _, _) = post(
        &addr,
        "/drift/apply",
        &olga,
        &format!("run_id=1&csrf={csrf}"),
    );
    assert_eq!(status, 403);

    // The admin's plan went stale (another RCP was detached since): refused, re-planned.
    let ana = login(&addr, "ana", "ana has a long password");
    let (_, page) = get(&addr, "/drift", &ana);
    assert!(page.contains("id=\"apply-form\""), "{page}");
    let (csrf, run) = (input_value(&page, "csrf"), input_value(&page, "run_id"));
    baseline_ops(&moto, "detach-rcp rampart-rcp-workloads-1");
    let (status, _, body) = post(
        &addr,
        "/drift/apply",
        &ana,
        &format!("run_id={run}&csrf={csrf}"),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("the organization changed since plan run"),
        "{body}"
    );
    let (_, page) = get(&addr, "/drift", &ana);
    assert!(page.contains("2 pending change(s)"), "{page}");
    let fresh = input_value(&page, "run_id");
    assert_ne!(fresh, run);

    // The fresh plan, applied from the dashboard.
    let (status, headers, body) = post(
        &addr,
        "/drift/apply",
        &ana,
        &format!("run_id={fresh}&csrf={csrf}"),
    );
    assert_eq!(status, 303, "{body}");
    assert_eq!(header(&headers, "location"), Some("/drift"));
    let (_, page) = get(&addr, "/drift", &ana);
    assert!(
        page.contains("id=\"last-apply\"") && page.contains("applied 2 change(s)"),
        "{page}"
    );
    let status = terminate(child);
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );

    let census = baseline_ops(&moto, "rcp-census");
    for (rcp, ou) in [
        ("rampart-rcp-security-1", "Security"),
        ("rampart-rcp-workloads-1", "Workloads"),
    ] {
        assert_eq!(
            census["rcps"][rcp]["targets"],
            serde_json::json!([ou]),
            "{census}"
        );
    }
    let plan = rampart(&moto, &["plan", "--config", c, "--format", "json"]);
    assert_eq!(plan.status.code(), Some(0), "converged");
    let store = Store::open(&url).unwrap();
    let applies = store.runs(Some(RunKind::Apply), None, None).unwrap();
    assert_eq!(
        applies.len(),
        2,
        "the CLI's and the dashboard's: {applies:?}"
    );
    let log = store.audit_log(50).unwrap();
    let entries: Vec<(&str, &str, &str)> = log
        .iter()
        .filter(|e| e.action == "drift.apply")
        .map(|e| (e.actor.as_str(), e.via.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!((entries[0].0, entries[0].1), ("ana", "ui"));
    assert!(
        entries[0]
            .2
            .starts_with("2 change(s), 0 destructive: applied 2"),
        "{entries:?}"
    );
    assert!(
        entries[1].2.contains("refused: the organization changed"),
        "{entries:?}"
    );
    let audit_jsonl = std::fs::read_to_string(dir.path().join("rampart-audit.jsonl")).unwrap();
    assert!(audit_jsonl.contains("AttachPolicy"), "{audit_jsonl}");
    let _: Value = serde_json::from_str(audit_jsonl.lines().last().unwrap()).unwrap();
}
