//! The dashboard in a real browser: Debian's headless Chromium driven through chromedriver
//! (WebDriver). One test binary, one chromedriver, one browser session: the scenarios run in
//! order and each saves a screenshot under `$CARGO_TARGET_TMPDIR/browser-screenshots/`, which is
//! decoded and checked not to be blank.
//!
//! Needs `chromium` and `chromedriver` on PATH (`scripts/install-test-deps.sh` installs them).
//! Without them the test fails with that hint, unless `RAMPART_SKIP_BROWSER=1` (then skipped).

use anyhow::{Context, Result, anyhow, bail, ensure};
use chrono::{Duration, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use rampart_serve::{AppState, Listen, Role, app, auth};
use rampart_store::testing::{TestDb, sqlite_db};
use rampart_store::*;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery";
/// The finding the forged cross-site request tries to accept.
const FORGED_TARGET: &str = "rf-crit-mfa";
/// How long a page may take to show the element a step waits for.
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_headless_chromium() {
    if std::env::var("RAMPART_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("RAMPART_SKIP_BROWSER=1: skipping the browser tests of rampart serve");
        return;
    }
    let (chromium, chromedriver) = match (which("chromium"), which("chromedriver")) {
        (Some(c), Some(d)) => (c, d),
        _ => panic!(
            "chromium or chromedriver is not on PATH: run scripts/install-test-deps.sh, or set \
             RAMPART_SKIP_BROWSER=1 to skip the browser tests"
        ),
    };
    let db = sqlite_db();
    let dashboard = Dashboard::start(&db).await;
    let attacker = Attacker::start(&dashboard.base).await;
    let driver = Driver::start(&chromedriver).unwrap_or_else(|e| panic!("{e:#}"));
    let profile = tempfile::tempdir().expect("temporary Chromium profile");
    let client = driver
        .session(&chromium, profile.path())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    let started = Instant::now();
    let outcome = scenarios(&client, &dashboard, &attacker, &db).await;
    // Quit Chromium before reporting, whatever happened, so no browser outlives the test.
    let closed = client.close().await;
    drop(driver);
    dashboard.stop().await;
    attacker.stop().await;
    if let Err(e) = outcome {
        panic!("{e:#}");
    }
    closed.expect("closing the browser session");
    eprintln!(
        "browser scenarios took {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshot_dir().display()
    );
}

async fn scenarios(c: &Client, d: &Dashboard, attacker: &Attacker, db: &TestDb) -> Result<()> {
    c.set_window_size(1280, 900).await?;
    anonymous_visit_is_sent_to_login(c, d).await?;
    log_in(c, d).await?;
    accept_a_risk_from_the_filtered_list(c, d, db).await?;
    accounts_show_security_services(c, d).await?;
    acknowledge_an_alert(c, d, db).await?;
    forged_cross_site_post_is_refused(c, d, attacker, db).await?;
    log_out(c, d).await?;
    Ok(())
}

async fn anonymous_visit_is_sent_to_login(c: &Client, d: &Dashboard) -> Result<()> {
    c.goto(&d.url("/findings?severity=HIGH")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login-form"))
        .await
        .context("an anonymous visit to /findings did not show the login form")?;
    let url = c.current_url().await?;
    ensure!(
        url.path() == "/login",
        "anonymous /findings ended at {url}, not /login"
    );
    screenshot(c, "anonymous-redirect").await
}

async fn log_in(c: &Client, d: &Dashboard) -> Result<()> {
    c.goto(&d.url("/login")).await?;
    c.find(Locator::Id("user")).await?.send_keys(USER).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Id("login")).await?.click().await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("logout"))
        .await
        .context("logging in did not reach a page with the Log out button")?;
    let body = c.find(Locator::Css("main")).await?.text().await?;
    ensure!(
        body.contains("CRITICAL open")
            && body.contains("Root/Workloads/Prod")
            && body.contains("pending change"),
        "the overview after login lacks the open findings, the OUs or the drift: {body}"
    );
    screenshot(c, "overview").await
}

async fn accept_a_risk_from_the_filtered_list(
    c: &Client,
    d: &Dashboard,
    db: &TestDb,
) -> Result<()> {
    c.goto(&d.url("/findings")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("f-severity"))
        .await?
        .select_by_value("HIGH")
        .await?;
    c.find(Locator::Id("apply-filters")).await?.click().await?;
    let deadline = Instant::now() + WAIT;
    while !c
        .current_url()
        .await?
        .query()
        .is_some_and(|q| q.contains("severity=HIGH"))
    {
        ensure!(
            Instant::now() < deadline,
            "the Filter button did not load /findings with severity=HIGH"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let links = c.find_all(Locator::Css("a.finding-link")).await?;
    let mut titles = Vec::new();
    for l in &links {
        titles.push(l.text().await?);
    }
    ensure!(
        titles == ["rf-high-root"],
        "severity=HIGH should list only the root-keys finding, listed {titles:?} at {}: {}",
        c.current_url().await?,
        c.find(Locator::Css("main")).await?.text().await?
    );
    links[0].click().await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("accept-form"))
        .await
        .context("the finding's page has no accept-risk form")?;
    c.find(Locator::Id("accept-reason"))
        .await?
        .send_keys("break-glass keys kept in the safe")
        .await?;
    // A date input takes keys in the browser's locale; set the ISO value it submits instead.
    let expires = (Utc::now() + Duration::days(30)).date_naive();
    c.execute(
        "document.getElementById('accept-expires').value = arguments[0];",
        vec![serde_json::json!(expires.to_string())],
    )
    .await?;
    c.find(Locator::Id("accept")).await?.click().await?;
    let status = wait_for_text(c, "finding-status", "SUPPRESSED").await?;
    ensure!(
        status == "SUPPRESSED",
        "after accepting, the finding shows {status}"
    );
    screenshot(c, "finding-suppressed").await?;

    let accepted = db.open().acceptances()?;
    ensure!(
        accepted.iter().any(|a| a.finding_id == "rf-high-root"
            && a.who == USER
            && a.expires == Some(expires)
            && a.reason.contains("break-glass")),
        "the store has no acceptance of rf-high-root by {USER}: {accepted:?}"
    );
    c.goto(&d.url("/findings?severity=HIGH")).await?;
    let list = c.find(Locator::Css("main")).await?.text().await?;
    ensure!(
        list.contains("rf-high-root") && list.contains("SUPPRESSED"),
        "the finding list does not show the accepted finding SUPPRESSED: {list}"
    );
    // the status filter agrees with the page before any new audit
    c.goto(&d.url("/findings?status=suppressed")).await?;
    let list = c.find(Locator::Id("findings")).await?.text().await?;
    ensure!(
        list.contains("rf-high-root"),
        "status=suppressed does not list the risk just accepted: {list}"
    );
    c.goto(&d.url("/findings?status=open")).await?;
    let list = c.find(Locator::Id("findings")).await?.text().await?;
    ensure!(
        !list.contains("rf-high-root"),
        "status=open still lists the risk just accepted: {list}"
    );
    Ok(())
}

async fn accounts_show_security_services(c: &Client, d: &Dashboard) -> Result<()> {
    c.goto(&d.url("/accounts")).await?;
    let matrix = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("services"))
        .await
        .context("the accounts page has no security services matrix")?
        .text()
        .await?;
    ensure!(
        matrix.contains("GuardDuty") && matrix.contains("CloudTrail"),
        "the services matrix lacks its columns: {matrix}"
    );
    let tree = c.find(Locator::Id("ou-tree")).await?.text().await?;
    ensure!(
        tree.contains("prod (111111111111)") && tree.contains("security services 1/5 on"),
        "the OU tree lacks prod's services summary: {tree}"
    );
    screenshot(c, "accounts").await
}

async fn acknowledge_an_alert(c: &Client, d: &Dashboard, db: &TestDb) -> Result<()> {
    c.goto(&d.url("/alerts")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("Root console login"))
        .await
        .context("the alerts page does not list the root login")?
        .click()
        .await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("alert-new-state"))
        .await?
        .select_by_value("acknowledged")
        .await?;
    c.find(Locator::Id("alert-comment"))
        .await?
        .send_keys("planned break-glass test")
        .await?;
    c.find(Locator::Id("alert-submit")).await?.click().await?;
    let state = wait_for_text(c, "alert-state", "acknowledged").await?;
    ensure!(state == "acknowledged", "the alert shows state {state}");
    let states = db.open().alert_states()?;
    ensure!(
        states
            .iter()
            .any(|s| s.state == "acknowledged" && s.updated_by == USER),
        "the store has no acknowledgement by {USER}: {states:?}"
    );
    // the same record the router reads before its next tick (escalation stops there)
    let acks = db.open().alert_acks()?;
    ensure!(
        acks.iter()
            .any(|a| a.by == USER && a.comment.as_deref() == Some("planned break-glass test")),
        "the router's acknowledgements lack {USER}'s: {acks:?}"
    );
    let note = c.find(Locator::Id("alert-ack")).await?.text().await?;
    ensure!(
        note.starts_with(&format!("Acknowledged by {USER} on ")),
        "the alert page does not say who acknowledged it: {note}"
    );
    screenshot(c, "alert-acknowledged").await
}

async fn forged_cross_site_post_is_refused(
    c: &Client,
    d: &Dashboard,
    attacker: &Attacker,
    db: &TestDb,
) -> Result<()> {
    let before = db.open().acceptances()?.len();
    // The logged-in browser opens the other origin's page, which posts to the dashboard at once.
    c.goto(&attacker.base).await?;
    let refused = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//*[contains(text(), 'cross-site request refused')]",
        ))
        .await
        .context("the forged POST did not end on the dashboard's refusal")?
        .text()
        .await?;
    ensure!(refused.contains("403"), "the refusal reads {refused}");
    let url = c.current_url().await?;
    ensure!(
        url.as_str() == d.url(&format!("/findings/{FORGED_TARGET}/accept")),
        "the forged form landed on {url}"
    );
    screenshot(c, "forged-post-refused").await?;
    let after = db.open().acceptances()?;
    ensure!(
        after.len() == before && after.iter().all(|a| a.finding_id != FORGED_TARGET),
        "the forged POST changed the store: {after:?}"
    );
    c.goto(&d.url(&format!("/findings/{FORGED_TARGET}")))
        .await?;
    let status = wait_for_text(c, "finding-status", "FAIL").await?;
    ensure!(status == "FAIL", "the forged target now shows {status}");
    Ok(())
}

async fn log_out(c: &Client, d: &Dashboard) -> Result<()> {
    c.goto(&d.url("/")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("logout"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login-form"))
        .await
        .context("logging out did not show the login form")?;
    c.goto(&d.url("/alerts")).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login-form"))
        .await?;
    let url = c.current_url().await?;
    ensure!(
        url.path() == "/login",
        "after logout /alerts ended at {url}, not /login"
    );
    screenshot(c, "logged-out").await
}

/// Waits until the element `id` reads `want`; returns what it last read.
async fn wait_for_text(c: &Client, id: &str, want: &str) -> Result<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = match c.find(Locator::Id(id)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text == want || Instant::now() > deadline {
            return Ok(text);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots")
}

/// Saves the page as `NAME.png` and fails when the picture is blank.
async fn screenshot(c: &Client, name: &str) -> Result<()> {
    let png = c.screenshot().await?;
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
    let (colours, uncommon) = picture_variety(&png)?;
    ensure!(
        colours >= 16 && uncommon >= 0.001,
        "{} looks blank: {colours} distinct colours, {:.2}% of pixels differ from the background",
        path.display(),
        uncommon * 100.0
    );
    Ok(())
}

/// A PNG's number of distinct colours and the share of pixels unlike the most common one.
fn picture_variety(png_bytes: &[u8]) -> Result<(usize, f64)> {
    let mut reader = png::Decoder::new(png_bytes).read_info()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf)?;
    let channels = info.color_type.samples();
    ensure!(
        info.bit_depth == png::BitDepth::Eight,
        "unexpected bit depth"
    );
    let mut counts = std::collections::HashMap::<&[u8], usize>::new();
    for px in buf[..info.buffer_size()].chunks_exact(channels) {
        *counts.entry(px).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    let most = counts.values().copied().max().unwrap_or(0);
    if total == 0 {
        bail!("the screenshot has no pixels");
    }
    Ok((counts.len(), (total - most) as f64 / total as f64))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(program: &Path) -> Result<Driver> {
        let port = free_port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let driver = Driver { child, port };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "{} did not listen on port {port} within {WAIT:?}",
                    program.display()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// A headless Chromium with a fresh profile and no background traffic (the test machine
    /// may have no network beyond loopback).
    async fn session(&self, chromium: &Path, profile: &Path) -> Result<Client> {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": chromium, "args": args }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .map_err(|e| anyhow!("chromedriver could not start Chromium: {e}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The rampart-serve app on 127.0.0.1:0 over a store with demo-like data.
struct Dashboard {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Dashboard {
    async fn start(db: &TestDb) -> Dashboard {
        let mut store = db.open();
        seed(&mut store).unwrap_or_else(|e| panic!("seeding the store: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listen = Listen {
            addr,
            tls: None,
            behind_proxy: false,
        };
        let router = app(AppState::new(store, &listen));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .expect("the dashboard server failed");
        });
        Dashboard {
            base: format!("http://{addr}"),
            stop,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Another origin (another loopback port) whose only page auto-submits a form that tries to
/// accept a risk on the dashboard, without the CSRF token it cannot read.
struct Attacker {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Attacker {
    async fn start(dashboard: &str) -> Attacker {
        let page = format!(
            "<!doctype html><title>win a prize</title>\
             <form id=\"f\" method=\"post\" action=\"{dashboard}/findings/{FORGED_TARGET}/accept\">\
             <input name=\"reason\" value=\"forged\"><input name=\"expires\" value=\"2099-01-01\">\
             </form><script>document.getElementById('f').submit()</script>"
        );
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let page = page.clone();
                async move { axum::response::Html(page) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Attacker { base, task }
    }

    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Two weekly audits of a two-account organization (so the overview has a trend), findings of
/// every severity, two alerts, a pending plan, and the operator `alice`.
fn seed(store: &mut Store) -> Result<(), StoreError> {
    let now = Utc::now();
    let accounts = vec![
        ObservedAccount {
            account_id: "111111111111".into(),
            name: "prod".into(),
            ou_path: "Root/Workloads/Prod".into(),
            regions: vec!["global".into(), "eu-west-1".into()],
            unreachable: false,
        },
        ObservedAccount {
            account_id: "222222222222".into(),
            name: "sandbox".into(),
            ou_path: "Root/Sandbox".into(),
            regions: vec!["global".into(), "eu-west-1".into()],
            unreachable: false,
        },
    ];
    let finding = |id: &str, control: &str, title: &str, sev: &str, status: &str, acct: &str| {
        serde_json::from_value::<rampart_core::Finding>(serde_json::json!({
            "id": id, "control": control, "title": title, "frameworks": ["cis-aws-3.0"],
            "status": status, "severity": sev, "account_id": acct,
            "region": if control.starts_with("cis-1") { "global" } else { "eu-west-1" },
            "resource": format!("arn:aws:iam::{acct}:root"),
            "message": format!("{title} in account {acct}"),
            "remediation": "see the runbook",
        }))
        .expect("a valid finding")
    };
    let week = |fixed: bool| {
        vec![
            finding(
                "rf-high-root",
                "cis-1.4",
                "Root access keys exist",
                "HIGH",
                "FAIL",
                "111111111111",
            ),
            finding(
                FORGED_TARGET,
                "cis-1.5",
                "Root MFA is not enabled",
                "CRITICAL",
                "FAIL",
                "222222222222",
            ),
            finding(
                "rf-med-trail",
                "cis-3.1",
                "CloudTrail log validation is off",
                "MEDIUM",
                if fixed { "PASS" } else { "FAIL" },
                "111111111111",
            ),
            finding(
                "rf-low-sg",
                "cis-5.2",
                "Security group allows SSH from anywhere",
                "LOW",
                "FAIL",
                "222222222222",
            ),
            finding(
                "rf-pass-pw",
                "cis-1.8",
                "Password policy is weak",
                "MEDIUM",
                "PASS",
                "111111111111",
            ),
        ]
    };
    for (ago, fixed) in [(Duration::days(7), false), (Duration::hours(1), true)] {
        store.record_audit(
            &AuditRun {
                started_at: now - ago,
                finished_at: now - ago + Duration::minutes(2),
                source: "demo".into(),
                organization_id: Some("o-demo".into()),
                framework: None,
                rampart_version: env!("CARGO_PKG_VERSION").into(),
                catalogue_version: "demo".into(),
                accounts: accounts.clone(),
                collection_errors: vec![],
                controls: ["cis-1.4", "cis-1.5", "cis-1.8", "cis-3.1", "cis-5.2"]
                    .map(String::from)
                    .to_vec(),
            },
            &week(fixed),
        )?;
    }
    let alert = |rule: &str, title: &str, sev, event: &str, hours| AlertRow {
        rule_id: rule.into(),
        rule_source: "builtin".into(),
        title: title.into(),
        severity: sev,
        account: Some("111111111111".into()),
        region: Some("us-east-1".into()),
        principal: Some("root".into()),
        event_time: Some(now - Duration::hours(hours)),
        event_id: Some(format!("ev-{rule}")),
        resource: None,
        count: 1,
        json: format!("{{\"eventName\":\"{event}\"}}"),
    };
    store.record_detect(
        &DetectRun {
            started_at: now - Duration::minutes(30),
            finished_at: now - Duration::minutes(29),
            source: "demo".into(),
            events: 120,
            skipped: 0,
            files: 4,
            rules: 2,
        },
        &[
            alert(
                "root-login",
                "Root console login",
                rampart_core::Severity::Critical,
                "ConsoleLogin",
                2,
            ),
            alert(
                "trail-stopped",
                "CloudTrail logging stopped",
                rampart_core::Severity::High,
                "StopLogging",
                20,
            ),
        ],
    )?;
    store.record_plan(
        &PlanRun {
            kind: RunKind::Plan,
            started_at: now - Duration::minutes(20),
            finished_at: now - Duration::minutes(19),
            organization_id: Some("o-demo".into()),
            unobserved: vec![],
        },
        &[ChangeRow {
            change_id: "scp-attach".into(),
            account: "222222222222".into(),
            region: None,
            action: "attach".into(),
            description: "attach the baseline SCP to Root/Sandbox".into(),
            destructive: false,
            json: "{}".into(),
        }],
    )?;
    store.add_user(&UserRecord {
        name: USER.into(),
        role: Role::Operator.as_str().into(),
        password_hash: auth::hash_password(PASSWORD).expect("hashing a password"),
        created_at: now,
    })?;
    Ok(())
}
