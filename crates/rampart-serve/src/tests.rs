//! HTTP-level tests through the whole router (tower's `oneshot`): every route's role, CSRF,
//! cookie flags, security headers, throttling, tokens, login links and the audit log.

use crate::auth::{self, Role, SESSION_COOKIE};
use crate::routes::{CSP, Kind, ROUTES};
use crate::{AppState, Listen, app};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use rampart_store::testing::{TestDb, sqlite_db};
use rampart_store::*;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8080";
const PASSWORD: &str = "correct horse battery";

struct Fixture {
    _db: TestDb,
    state: AppState,
    finding_id: String,
    alert_id: String,
    plan_run: i64,
    jobs: Arc<FakeJobs>,
}

/// Stands in for the binary's AWS apply: records each call, answers `result`.
struct FakeJobs {
    calls: Mutex<Vec<(i64, bool)>>,
    result: Result<String, crate::JobError>,
}

impl crate::Jobs for FakeJobs {
    fn apply(&self, run_id: i64, confirm_destructive: bool) -> Result<String, crate::JobError> {
        self.calls
            .lock()
            .unwrap()
            .push((run_id, confirm_destructive));
        self.result.clone()
    }
}

impl FakeJobs {
    fn answering(result: Result<String, crate::JobError>) -> Arc<FakeJobs> {
        Arc::new(FakeJobs {
            calls: Mutex::new(Vec::new()),
            result,
        })
    }

    fn calls(&self) -> Vec<(i64, bool)> {
        self.calls.lock().unwrap().clone()
    }
}

fn listen() -> Listen {
    Listen {
        addr: HOST.parse().unwrap(),
        tls: None,
        behind_proxy: false,
    }
}

/// An audit of account 111111111111 (`prod`, OU Root/Workloads) taking two minutes.
fn audit_run(started_at: chrono::DateTime<Utc>, regions: &[&str], controls: &[&str]) -> AuditRun {
    AuditRun {
        started_at,
        finished_at: started_at + Duration::minutes(2),
        source: "test".into(),
        organization_id: Some("o-test".into()),
        framework: None,
        rampart_version: "0".into(),
        catalogue_version: "0".into(),
        accounts: vec![ObservedAccount {
            account_id: "111111111111".into(),
            name: "prod".into(),
            ou_path: "Root/Workloads".into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            unreachable: false,
        }],
        collection_errors: vec![],
        controls: controls.iter().map(|c| c.to_string()).collect(),
    }
}

/// A store with one audit (two findings), one detect run (one alert), one plan (one change)
/// and a user per role.
fn fixture() -> Fixture {
    let db = sqlite_db();
    let mut store = db.open();
    let now = Utc::now();
    let finding = |id: &str, status: &str| -> rampart_core::Finding {
        serde_json::from_value(serde_json::json!({
            "id": id, "control": "cis-1.4", "title": "root keys", "frameworks": [],
            "status": status, "severity": "HIGH", "account_id": "111111111111",
            "region": "global", "resource": "root", "message": "evidence <b>",
            "remediation": "delete them",
        }))
        .unwrap()
    };
    store
        .record_audit(
            &audit_run(now - Duration::hours(1), &["global"], &["cis-1.4"]),
            &[finding("rf-aaaa", "FAIL"), finding("rf-bbbb", "PASS")],
        )
        .unwrap();
    let alert = AlertRow {
        rule_id: "root-login".into(),
        rule_source: "builtin".into(),
        title: "Root console login".into(),
        severity: rampart_core::Severity::Critical,
        account: Some("111111111111".into()),
        region: Some("us-east-1".into()),
        principal: Some("root".into()),
        event_time: Some(now - Duration::hours(2)),
        event_id: Some("ev-1".into()),
        resource: None,
        count: 1,
        json: "{\"eventName\":\"ConsoleLogin\"}".into(),
    };
    let alert_id = crate::api::stored_alert_id(&alert);
    store
        .record_detect(
            &DetectRun {
                started_at: now - Duration::minutes(30),
                finished_at: now - Duration::minutes(29),
                source: "test".into(),
                events: 1,
                skipped: 0,
                files: 1,
                rules: 1,
            },
            &[alert],
        )
        .unwrap();
    let plan_run = store
        .record_plan(
            &PlanRun {
                kind: RunKind::Plan,
                started_at: now - Duration::minutes(20),
                finished_at: now - Duration::minutes(19),
                organization_id: Some("o-test".into()),
                unobserved: vec![],
            },
            &[ChangeRow {
                change_id: "scp-attach".into(),
                account: "111111111111".into(),
                region: None,
                action: "attach".into(),
                description: "attach the baseline SCP".into(),
                destructive: false,
                json: "{}".into(),
            }],
        )
        .unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    for role in Role::ALL {
        store
            .add_user(&UserRecord {
                name: role.as_str().into(),
                role: role.as_str().into(),
                password_hash: hash.clone(),
                created_at: now,
            })
            .unwrap();
    }
    let jobs = FakeJobs::answering(Ok("applied 1 change(s)".into()));
    Fixture {
        state: AppState::new(store, &listen()).with_jobs(jobs.clone()),
        _db: db,
        finding_id: "rf-aaaa".into(),
        alert_id,
        plan_run,
        jobs,
    }
}

/// A fresh session of `role`'s user: (cookie value, CSRF token).
fn session(state: &AppState, role: Role) -> (String, String) {
    let id = auth::random_secret();
    let csrf = auth::random_secret();
    state.pool.conns[0]
        .lock()
        .unwrap()
        .create_session(&SessionRecord {
            id_hash: auth::digest(&id),
            user: role.as_str().into(),
            csrf: csrf.clone(),
            created_at: Utc::now(),
            expires_at: Utc::now() + Duration::hours(1),
        })
        .unwrap();
    (id, csrf)
}

fn token(state: &AppState, role: Role, name: &str, expires_in: Duration) -> String {
    let secret = auth::random_secret();
    state.pool.conns[0]
        .lock()
        .unwrap()
        .create_api_token(&ApiTokenRecord {
            name: name.into(),
            token_hash: auth::digest(&secret),
            role: role.as_str().into(),
            created_by: "test".into(),
            created_at: Utc::now(),
            expires_at: Utc::now() + expires_in,
            revoked_at: None,
        })
        .unwrap();
    secret
}

async fn send(state: &AppState, req: Request<Body>) -> axum::response::Response {
    let mut req = req;
    req.extensions_mut()
        .insert(ConnectInfo::<SocketAddr>("10.0.0.7:5000".parse().unwrap()));
    app(state.clone()).oneshot(req).await.unwrap()
}

async fn body_text(resp: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A GET carrying a session cookie.
fn get_with_cookie(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}"))
        .body(Body::empty())
        .unwrap()
}

fn page_post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

fn concrete(path: &str, f: &Fixture) -> String {
    path.replace(
        "{id}",
        if path.contains("alerts") {
            &f.alert_id
        } else {
            &f.finding_id
        },
    )
    .replace("{token}", "nonexistent")
    .replace("{file}", "style.css")
    .replace("{format}", "html")
}

/// Who asks in the role table: nobody, or a user/token of a role.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    As(Role),
}

async fn call(
    f: &Fixture,
    spec: &crate::routes::RouteSpec,
    caller: Caller,
) -> axum::response::Response {
    let path = concrete(spec.path, f);
    let mut req = match (spec.kind, spec.method) {
        (Kind::Page, "GET") => Request::get(&path)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .unwrap(),
        (Kind::Page, _) => {
            let form = if path.contains("/accept") {
                "reason=known+risk".to_string()
            } else if path.contains("/state") {
                "state=acknowledged&comment=on+it".to_string()
            } else if path.contains("/drift/apply") {
                format!("run_id={}", f.plan_run)
            } else {
                String::new()
            };
            page_post(&path, "none", &form)
        }
        (Kind::Api, "GET") => Request::get(&path).body(Body::empty()).unwrap(),
        (Kind::Api, _) => {
            let json = if path.contains("/accept") {
                r#"{"reason":"known risk"}"#.to_string()
            } else if path.contains("/drift/apply") {
                format!(r#"{{"run_id":{}}}"#, f.plan_run)
            } else {
                r#"{"state":"acknowledged","comment":"on it"}"#.to_string()
            };
            Request::post(&path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json))
                .unwrap()
        }
    };
    if let Caller::As(role) = caller {
        match spec.kind {
            Kind::Page => {
                let (cookie, csrf) = session(&f.state, role);
                let h = req.headers_mut();
                h.insert(
                    header::COOKIE,
                    format!("{SESSION_COOKIE}={cookie}").parse().unwrap(),
                );
                if spec.method == "POST" {
                    let body = axum::body::to_bytes(std::mem::take(req.body_mut()), 1 << 16)
                        .await
                        .unwrap();
                    let mut form = String::from_utf8(body.to_vec()).unwrap();
                    if !form.is_empty() {
                        form.push('&');
                    }
                    form.push_str(&format!("csrf={csrf}"));
                    *req.body_mut() = Body::from(form);
                }
            }
            Kind::Api => {
                let t = token(
                    &f.state,
                    role,
                    &auth::random_secret()[..12],
                    Duration::days(1),
                );
                req.headers_mut().insert(
                    header::AUTHORIZATION,
                    format!("Bearer {t}").parse().unwrap(),
                );
            }
        }
    }
    send(&f.state, req).await
}

#[tokio::test]
async fn every_route_enforces_its_role() {
    let f = fixture();
    let mut checked = 0;
    for spec in ROUTES.iter().filter(|s| s.role.is_some()) {
        let least = spec.least_role();
        for caller in [
            Caller::Anonymous,
            Caller::As(Role::Viewer),
            Caller::As(Role::Operator),
            Caller::As(Role::Admin),
        ] {
            let resp = call(&f, spec, caller).await;
            let status = resp.status();
            let location = resp
                .headers()
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_string());
            let what = format!("{} {} as {caller:?}", spec.method, spec.path);
            match (caller, spec.kind) {
                (Caller::Anonymous, Kind::Page) => {
                    assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
                    assert!(location.unwrap().starts_with("/login"), "{what}");
                }
                (Caller::Anonymous, Kind::Api) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}")
                }
                (Caller::As(role), _) if role < least => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}")
                }
                (Caller::As(_), Kind::Page) if spec.method == "POST" => {
                    assert_eq!(status, StatusCode::SEE_OTHER, "{what}")
                }
                (Caller::As(_), _) => {
                    let body = body_text(resp).await;
                    assert_eq!(status, StatusCode::OK, "{what}: {body}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 4 * 20, "{checked} checks");
}

#[tokio::test]
async fn anonymous_routes_are_only_health_login_and_assets() {
    let anonymous: Vec<&str> = ROUTES
        .iter()
        .filter(|s| s.role.is_none())
        .map(|s| s.path)
        .collect();
    assert_eq!(
        anonymous,
        vec![
            "/healthz",
            "/login",
            "/login",
            "/login/link/{token}",
            "/static/{file}"
        ]
    );
    let f = fixture();
    for (path, ctype) in [
        ("/healthz", "text/plain"),
        ("/login", "text/html"),
        ("/static/style.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/static/icon.svg", "image/svg+xml"),
    ] {
        let resp = send(&f.state, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ct = resp.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert!(ct.starts_with(ctype), "{path}: {ct}");
    }
    let resp = send(
        &f.state,
        Request::get("/static/nope.js").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forged_cross_site_posts_are_rejected() {
    let f = fixture();
    let path = format!("/findings/{}/accept", f.finding_id);
    let (cookie, csrf) = session(&f.state, Role::Admin);
    // No token, a wrong token, the right token from another origin, no origin at all.
    let cases = [
        page_post(&path, &cookie, "reason=x"),
        page_post(&path, &cookie, "reason=x&csrf=0000"),
        {
            let mut r = page_post(&path, &cookie, &format!("reason=x&csrf={csrf}"));
            r.headers_mut()
                .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
            r
        },
        {
            let mut r = page_post(&path, &cookie, &format!("reason=x&csrf={csrf}"));
            r.headers_mut().remove(header::ORIGIN);
            r
        },
    ];
    for req in cases {
        let resp = send(&f.state, req).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    assert!(
        f.state.pool.conns[0]
            .lock()
            .unwrap()
            .acceptances()
            .unwrap()
            .is_empty()
    );
    // A Referer from our own site stands in for a missing Origin.
    let mut ok = page_post(&path, &cookie, &format!("reason=x&csrf={csrf}"));
    ok.headers_mut().remove(header::ORIGIN);
    ok.headers_mut().insert(
        header::REFERER,
        format!("http://{HOST}/findings").parse().unwrap(),
    );
    assert_eq!(send(&f.state, ok).await.status(), StatusCode::SEE_OTHER);
    // A cross-site login is refused too (login CSRF).
    let mut login = login_request("viewer", PASSWORD);
    login
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(send(&f.state, login).await.status(), StatusCode::FORBIDDEN);
}

fn login_request(user: &str, password: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "user={user}&password={}&next=%2Ffindings",
            password.replace(' ', "+")
        )))
        .unwrap()
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_rotates_the_session() {
    let f = fixture();
    let (old_cookie, _) = session(&f.state, Role::Viewer);
    let mut req = login_request("viewer", PASSWORD);
    req.headers_mut().insert(
        header::COOKIE,
        format!("{SESSION_COOKIE}={old_cookie}").parse().unwrap(),
    );
    let resp = send(&f.state, req).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/findings");
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain loopback HTTP: {cookie}");
    let new_value = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix(&format!("{SESSION_COOKIE}="))
        .unwrap()
        .to_string();
    assert_ne!(new_value, old_cookie);
    {
        let store = f.state.pool.conns[0].lock().unwrap();
        assert!(
            store
                .session(&auth::digest(&old_cookie), Utc::now())
                .unwrap()
                .is_none(),
            "old session ended"
        );
        assert!(
            store
                .session(&auth::digest(&new_value), Utc::now())
                .unwrap()
                .is_some()
        );
    }
    // Behind a TLS-terminating proxy the cookie is Secure.
    let mut secure = f.state.clone();
    secure.secure_cookies = true;
    let resp = send(&secure, login_request("admin", PASSWORD)).await;
    assert!(
        resp.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
    // A login never redirects off-site.
    let mut req = login_request("admin", PASSWORD);
    *req.body_mut() = Body::from(format!(
        "user=admin&password={}&next=%2F%2Fevil.example",
        PASSWORD.replace(' ', "+")
    ));
    let resp = send(&f.state, req).await;
    assert_eq!(resp.headers()[header::LOCATION], "/");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let f = fixture();
    let (cookie, csrf) = session(&f.state, Role::Viewer);
    let resp = send(
        &f.state,
        page_post("/logout", &cookie, &format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let again = get_with_cookie("/", &cookie);
    assert_eq!(send(&f.state, again).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let f = fixture();
    let (cookie, _) = session(&f.state, Role::Viewer);
    let authed = |p: &str| get_with_cookie(p, &cookie);
    let reqs = vec![
        Request::get("/healthz").body(Body::empty()).unwrap(),
        Request::get("/login").body(Body::empty()).unwrap(),
        Request::get("/no/such/page").body(Body::empty()).unwrap(),
        Request::get("/api/v1/findings")
            .body(Body::empty())
            .unwrap(),
        authed("/"),
        authed("/findings"),
        authed(&format!("/findings/{}", f.finding_id)),
    ];
    for req in reqs {
        let path = req.uri().to_string();
        let resp = send(&f.state, req).await;
        let h = resp.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert_eq!(csp, CSP, "{path}");
        assert!(!csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"));
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin", "{path}");
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{path}");
        if resp.status() == StatusCode::OK
            && h[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        {
            let body = body_text(resp).await;
            assert!(
                !body.contains("<script>") && !body.contains("style="),
                "{path}: inline code"
            );
        }
    }
}

#[tokio::test]
async fn failed_logins_are_throttled_per_user_and_address() {
    let f = fixture();
    for _ in 0..auth::Throttle::FREE {
        let resp = send(&f.state, login_request("operator", "wrong password!")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now.
    let resp = send(&f.state, login_request("operator", PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key(header::RETRY_AFTER));
    // The same address is throttled for another user name too.
    let resp = send(&f.state, login_request("admin", PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address and user are not.
    let mut other = login_request("viewer", PASSWORD);
    other
        .extensions_mut()
        .insert(ConnectInfo::<SocketAddr>("10.0.0.8:1".parse().unwrap()));
    let resp = app(f.state.clone()).oneshot(other).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[test]
fn backoff_grows_exponentially_and_is_capped() {
    let mut t = auth::Throttle::default();
    let start = std::time::Instant::now();
    let keys = vec!["user:x".to_string()];
    let mut waits = Vec::new();
    for _ in 0..20 {
        t.failed(&keys, start);
        waits.push(t.wait(&keys, start).as_secs());
    }
    assert_eq!(&waits[..6], &[0, 0, 1, 2, 4, 8]);
    assert_eq!(*waits.last().unwrap(), 15 * 60);
    t.succeeded("user:x");
    assert!(t.wait(&keys, start).is_zero());
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    let f = fixture();
    let live = token(&f.state, Role::Viewer, "live", Duration::days(1));
    let expired = token(&f.state, Role::Admin, "old", Duration::seconds(-1));
    let get = |t: &str| {
        Request::get("/api/v1/findings")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&f.state, get(&live)).await.status(), StatusCode::OK);
    assert_eq!(
        send(&f.state, get(&expired)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&f.state, get("not-a-token")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    f.state.pool.conns[0]
        .lock()
        .unwrap()
        .revoke_api_token("live", Utc::now())
        .unwrap();
    assert_eq!(
        send(&f.state, get(&live)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A session cookie does not open the API (tokens only: no CSRF exposure there).
    let (cookie, _) = session(&f.state, Role::Admin);
    let req = get_with_cookie("/api/v1/findings", &cookie);
    assert_eq!(send(&f.state, req).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changes_are_audit_logged_and_acceptance_shows_suppressed() {
    let f = fixture();
    let (cookie, csrf) = session(&f.state, Role::Operator);
    let resp = send(
        &f.state,
        page_post(
            &format!("/findings/{}/accept", f.finding_id),
            &cookie,
            &format!("reason=legacy+ledger&expires=2099-01-01&csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let t = token(&f.state, Role::Operator, "bot", Duration::days(1));
    let req = Request::post(format!("/api/v1/alerts/{}/state", f.alert_id))
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"state":"resolved","comment":"expected","assignee":"ana"}"#,
        ))
        .unwrap();
    let resp = send(&f.state, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&body_text(resp).await).unwrap();
    assert_eq!(body["state"]["state"], "resolved");
    let log = f.state.pool.conns[0].lock().unwrap().audit_log(10).unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.via.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("token:bot", "api", "alert.resolved"),
            ("operator", "ui", "finding.accept")
        ]
    );
    assert!(log[1].detail.contains("legacy ledger") && log[1].detail.contains("2099-01-01"));
    // The finding page shows it SUPPRESSED with who accepted it.
    let req = get_with_cookie(&format!("/findings/{}", f.finding_id), &cookie);
    let html = body_text(send(&f.state, req).await).await;
    assert!(html.contains("id=\"finding-status\">SUPPRESSED"), "{html}");
    assert!(html.contains("Risk accepted by operator"));
    let req = get_with_cookie("/findings?status=FAIL", &cookie);
    let list = body_text(send(&f.state, req).await).await;
    assert!(list.contains("status-SUPPRESSED\">SUPPRESSED"), "{list}");
    // The weekly report page renders it, and the download is an attachment.
    let req = get_with_cookie("/reports/weekly/markdown", &cookie);
    let resp = send(&f.state, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"weekly-")
    );
    assert!(!body_text(resp).await.is_empty());
    assert!(html.contains("evidence &lt;b&gt;"), "evidence is escaped");
    // Bad input is refused without a change.
    let resp = send(
        &f.state,
        page_post(
            &format!("/findings/{}/accept", f.finding_id),
            &cookie,
            &format!("reason=x&expires=2001-01-01&csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        f.state.pool.conns[0]
            .lock()
            .unwrap()
            .audit_log(10)
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn finding_filters_and_pages() {
    let f = fixture();
    let t = token(&f.state, Role::Viewer, "ro", Duration::days(1));
    let get = |q: &str| {
        Request::get(format!("/api/v1/findings?{q}"))
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let run = |q: &'static str| {
        let state = f.state.clone();
        let req = get(q);
        async move {
            let resp = send(&state, req).await;
            assert_eq!(resp.status(), StatusCode::OK, "{q}");
            serde_json::from_str::<serde_json::Value>(&body_text(resp).await).unwrap()
        }
    };
    assert_eq!(ids(run("status=open").await), vec!["rf-aaaa"]);
    assert_eq!(ids(run("status=PASS").await), vec!["rf-bbbb"]);
    assert_eq!(ids(run("ou=Root/Workloads&severity=high").await).len(), 2);
    assert!(ids(run("ou=Root/Sandbox").await).is_empty());
    assert_eq!(ids(run("framework=no-such-framework").await).len(), 0);
    let page1 = run("limit=1").await;
    assert_eq!(ids(page1.clone()), vec!["rf-aaaa"]);
    assert_eq!(page1["next_after"], "rf-aaaa");
    let page2 = run("limit=1&after=rf-aaaa").await;
    assert_eq!(ids(page2.clone()), vec!["rf-bbbb"]);
    assert!(page2["next_after"].is_null());
    let resp = send(&f.state, get("severity=bogus")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn one_time_login_links_work_once() {
    let f = fixture();
    let secret = auth::random_secret();
    f.state.pool.conns[0]
        .lock()
        .unwrap()
        .create_login_link(
            &auth::digest(&secret),
            "admin",
            Utc::now() + Duration::minutes(10),
        )
        .unwrap();
    let get = || {
        Request::get(format!("/login/link/{secret}"))
            .body(Body::empty())
            .unwrap()
    };
    let resp = send(&f.state, get()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    assert_eq!(send(&f.state, get()).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn openapi_and_metrics_come_from_the_route_table_and_store() {
    let f = fixture();
    let doc = crate::api::openapi_document();
    let api_routes = ROUTES.iter().filter(|r| r.kind == Kind::Api);
    for r in api_routes {
        let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from OpenAPI",
            r.method,
            r.path
        );
        assert!(
            op["description"]
                .as_str()
                .unwrap()
                .contains(r.least_role().as_str())
        );
    }
    let t = token(&f.state, Role::Viewer, "prom", Duration::days(1));
    let req = Request::get("/metrics")
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .body(Body::empty())
        .unwrap();
    let text = body_text(send(&f.state, req).await).await;
    for line in [
        "rampart_findings_open{severity=\"HIGH\"} 1",
        "rampart_alerts_7d{severity=\"CRITICAL\"} 1",
        "rampart_runs{kind=\"audit\",outcome=\"ok\"} 1",
        "rampart_last_run_duration_seconds{kind=\"audit\"} 120",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
}

#[test]
fn non_loopback_needs_tls_or_a_proxy() {
    let mut l = listen();
    assert!(l.check().is_ok());
    l.addr = "0.0.0.0:8080".parse().unwrap();
    let err = l.check().unwrap_err();
    assert!(err.contains("refusing to listen on 0.0.0.0:8080") && err.contains("--behind-proxy"));
    l.behind_proxy = true;
    assert!(l.check().is_ok());
    assert!(l.secure_cookies());
    l.tls = Some(("c.pem".into(), "k.pem".into()));
    assert!(l.check().unwrap_err().contains("exclude each other"));
    l.behind_proxy = false;
    assert!(l.check().is_ok(), "a non-loopback address is fine with TLS");
    assert!(l.secure_cookies());
    let v6: Listen = Listen {
        addr: "[::1]:8080".parse().unwrap(),
        tls: None,
        behind_proxy: false,
    };
    assert!(v6.check().is_ok());
}

#[tokio::test]
async fn a_real_listener_answers_health() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = fixture();
    let mut l = listen();
    l.addr = "127.0.0.1:0".parse().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let state = f.state.clone();
    let server = tokio::spawn(async move {
        crate::serve(state, &l, |addr| {
            let _ = tx.send(addr);
        })
        .await
    });
    let addr = rx.await.unwrap();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    conn.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.to_ascii_lowercase().contains("content-security-policy"));
    server.abort();
}

#[test]
fn passwords_hash_with_argon2id_and_verify() {
    let h = auth::hash_password(PASSWORD).unwrap();
    assert!(h.starts_with("$argon2id$"));
    assert!(auth::verify_password(PASSWORD, &h));
    assert!(!auth::verify_password("another password", &h));
    assert!(!auth::verify_password(PASSWORD, "not a hash"));
    assert!(auth::check_password_policy("short").is_err());
}

/// The filter forms work without JavaScript: their empty fields (`min_age_days=`) are no filter.
#[tokio::test]
async fn filter_forms_submitted_with_empty_fields_are_accepted() {
    let f = fixture();
    let (cookie, _) = session(&f.state, Role::Viewer);
    let resp = send(
        &f.state,
        get_with_cookie(
            "/findings?q=&control=&framework=&severity=HIGH&status=&account=&ou=&region=&min_age_days=",
            &cookie,
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(body_text(resp).await.contains("rf-aaaa"));
    let resp = send(
        &f.state,
        get_with_cookie("/alerts?days=&severity=", &cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = send(
        &f.state,
        get_with_cookie("/findings?min_age_days=x", &cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// A transport that records what the router sends (route URL path, PagerDuty action or
/// webhook kind).
#[derive(Default)]
struct Recorded(Vec<(String, String)>);

impl rampart_route::Transport for Recorded {
    fn send(
        &mut self,
        out: &rampart_route::format::Outgoing,
    ) -> Result<(), rampart_route::Refusal> {
        if let rampart_route::format::Outgoing::Http { url, body, .. } = out {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            let what = v["event_action"]
                .as_str()
                .or(v["rampart_kind"].as_str())
                .unwrap_or_default();
            let path = url.expose().rsplit('/').next().unwrap_or_default();
            self.0.push((path.to_string(), what.to_string()));
        }
        Ok(())
    }
}

struct TestSecrets;

impl rampart_route::config::SecretSource for TestSecrets {
    fn env(&self, var: &str) -> Option<String> {
        match var {
            "PD" => Some("PDKEY".into()),
            "HOOK" => Some("http://127.0.0.1:9/oncall".into()),
            _ => None,
        }
    }
    fn file(&self, _: &str) -> Result<String, String> {
        Err("no files here".into())
    }
}

/// An acknowledgement made through the API is the one the router reads (the store's one
/// alert-state table): the router takes it in before its tick, the escalation never fires,
/// and PagerDuty gets its `acknowledge`, exactly as after `rampart alerts ack`.
#[tokio::test]
async fn a_dashboard_ack_stops_the_routers_escalation() {
    use rampart_detect::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
    use rampart_route::state::{Ack, MemoryJournal};
    let f = fixture();
    // the fixture's stored alert, as `detect` hands it to the router
    let rule = Rule::new(
        RuleMeta::new(
            "root-login",
            RuleSource::Builtin,
            "Root console login",
            Severity::Critical,
        ),
        Condition::eq("eventName", "ConsoleLogin"),
    );
    let raw = r#"{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","eventID":"ev-1","eventTime":"2026-12-06T10:00:00Z","recipientAccountId":"111111111111","awsRegion":"us-east-1","userIdentity":{"type":"Root","arn":"arn:aws:iam::111111111111:root"}}"#;
    let alert = rampart_detect::Alert::new(
        &rule,
        &rampart_detect::Event::parse(raw.as_bytes()).unwrap(),
        None,
    );
    assert_eq!(
        alert.id(),
        f.alert_id,
        "the dashboard and the router name it alike"
    );
    let routes = rampart_route::config::parse(
        "[[alerts.route]]\nname = \"page\"\npagerduty = { routing_key_env = \"PD\", url = \"http://127.0.0.1:9/pd\" }\nescalate_after = \"15m\"\nescalate_to = \"oncall\"\n\n[[alerts.route]]\nname = \"oncall\"\nwebhook = { url_env = \"HOOK\" }\n",
        "rampart.toml",
        &TestSecrets,
    )
    .unwrap();
    let mut router = rampart_route::Router::new(
        routes,
        rampart_route::OrgTree::default(),
        rampart_route::State::default(),
    );
    let (mut sent, mut journal) = (Recorded::default(), MemoryJournal::default());
    let t0 = Utc::now().timestamp();
    router.submit(std::slice::from_ref(&alert), t0);
    router.tick(t0, &mut sent, &mut journal);
    // an operator acknowledges it through the API
    let t = token(&f.state, Role::Operator, "bot", Duration::days(1));
    let req = Request::post(format!("/api/v1/alerts/{}/state", f.alert_id))
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"state":"acknowledged","comment":"on it"}"#))
        .unwrap();
    assert_eq!(send(&f.state, req).await.status(), StatusCode::OK);
    // what the router reads before each tick (`rampart alerts tick`, `detect --follow`)
    let acks: Vec<(String, Ack)> = f
        .state
        .pool
        .acquire()
        .unwrap()
        .alert_acks()
        .unwrap()
        .into_iter()
        .map(|a| {
            let ack = Ack {
                by: a.by,
                comment: a.comment,
                at: a.at,
            };
            (a.alert_id, ack)
        })
        .collect();
    assert_eq!(router.adopt_acks(acks, t0 + 60), vec![f.alert_id.clone()]);
    let rep = router.tick(t0 + 3600, &mut sent, &mut journal);
    assert_eq!(rep.escalated, 0, "the escalation to oncall never fires");
    assert_eq!(
        sent.0,
        [
            ("pd".to_string(), "trigger".to_string()),
            ("pd".to_string(), "acknowledge".to_string())
        ]
    );
    let listed = router.list(false);
    let ack = listed[0].ack.as_ref().unwrap();
    assert_eq!(
        (ack.by.as_str(), ack.comment.as_deref()),
        ("token:bot", Some("on it"))
    );
}

/// `rampart alerts ack` writes the same record: the dashboard and the API show who
/// acknowledged, when and why, and the state filter finds it.
/// A page's HTML, fetched with a session cookie.
async fn page_html(f: &Fixture, cookie: &str, path: &str) -> String {
    body_text(send(&f.state, get_with_cookie(path, cookie)).await).await
}

/// An API route's JSON, fetched with a bearer token.
async fn api_json(f: &Fixture, token: &str, path: &str) -> serde_json::Value {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    serde_json::from_str(&body_text(send(&f.state, req).await).await).unwrap()
}

#[tokio::test]
async fn cli_acks_show_on_the_dashboard() {
    let f = fixture();
    let at = Utc::now() - Duration::minutes(5);
    f.state
        .pool
        .acquire()
        .unwrap()
        .record_alert_ack(&AlertAck {
            alert_id: f.alert_id.clone(),
            by: "bo".into(),
            comment: Some("rotating the key".into()),
            at: at.timestamp(),
        })
        .unwrap();
    let (cookie, _) = session(&f.state, Role::Viewer);
    let html = page_html(&f, &cookie, &format!("/alerts/{}", f.alert_id)).await;
    assert!(html.contains("id=\"alert-state\">acknowledged"), "{html}");
    assert!(
        !html.contains("alert-latest"),
        "the ack is said once: {html}"
    );
    assert!(
        html.contains(&format!(
            "Acknowledged by bo on {}: rotating the key",
            at.format("%Y-%m-%d %H:%M")
        )),
        "{html}"
    );
    let list = page_html(&f, &cookie, "/alerts?state=acknowledged").await;
    assert!(list.contains(&f.alert_id), "{list}");
    let list = page_html(&f, &cookie, "/alerts?state=new").await;
    assert!(!list.contains(&f.alert_id), "{list}");
    let t = token(&f.state, Role::Viewer, "reader", Duration::days(1));
    let v = api_json(&f, &t, &format!("/api/v1/alerts/{}", f.alert_id)).await;
    assert_eq!(v["state"]["state"], "acknowledged");
    assert_eq!(v["state"]["acknowledged_by"], "bo");
    assert_eq!(v["state"]["ack_comment"], "rotating the key");
    // resolving it in the dashboard keeps bo's acknowledgement (the one the router acted on)
    let (cookie, csrf) = session(&f.state, Role::Operator);
    let resp = send(
        &f.state,
        page_post(
            &format!("/alerts/{}/state", f.alert_id),
            &cookie,
            &format!("state=resolved&comment=benign&csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let html = page_html(&f, &cookie, &format!("/alerts/{}", f.alert_id)).await;
    assert!(html.contains("Acknowledged by bo on"), "{html}");
    assert!(
        html.contains("id=\"alert-latest\">resolved by operator on"),
        "{html}"
    );
    let acks = f.state.pool.acquire().unwrap().alert_acks().unwrap();
    assert_eq!(
        (acks.len(), acks[0].by.as_str(), acks[0].at),
        (1, "bo", at.timestamp())
    );
    let states = f.state.pool.acquire().unwrap().alert_states().unwrap();
    assert_eq!(
        (states[0].state.as_str(), states[0].updated_by.as_str()),
        ("resolved", "operator")
    );
}

/// Records an audit of account 111111111111 in two regions with the security services'
/// controls: GuardDuty on in one region, Security Hub in both, Config in neither, Access
/// Analyzer unreadable in one, CloudTrail on.
fn record_services_audit(f: &Fixture) {
    let now = Utc::now();
    let finding = |control: &str, region: &str, status: &str, message: &str| {
        serde_json::from_value::<rampart_core::Finding>(serde_json::json!({
            "id": format!("rf-{control}-{region}"), "control": control, "title": control,
            "frameworks": [], "status": status, "severity": "HIGH",
            "account_id": "111111111111", "region": region,
            "resource": "arn:aws:iam::111111111111:root", "message": message,
            "remediation": "enable it",
        }))
        .unwrap()
    };
    let (east, west) = ("us-east-1", "eu-west-1");
    let findings = [
        finding("base-guardduty", east, "PASS", "detector on"),
        finding(
            "base-guardduty",
            west,
            "FAIL",
            "GuardDuty is not enabled in eu-west-1",
        ),
        finding("cis-4.16", east, "PASS", "Security Hub is enabled"),
        finding("cis-4.16", west, "PASS", "Security Hub is enabled"),
        finding("cis-3.3", east, "FAIL", "no Config recorder in us-east-1"),
        finding("cis-3.3", west, "FAIL", "recorder default is stopped"),
        finding("cis-1.20", east, "PASS", "analyzer org is active"),
        finding("cis-1.20", west, "ERROR", "access denied"),
        finding(
            "cis-3.1",
            "global",
            "PASS",
            "trail org is multi-region, logging",
        ),
    ];
    f.state
        .pool
        .acquire()
        .unwrap()
        .record_audit(
            &audit_run(
                now - Duration::minutes(10),
                &["global", east, west],
                &[
                    "base-guardduty",
                    "cis-4.16",
                    "cis-3.3",
                    "cis-1.20",
                    "cis-3.1",
                ],
            ),
            &findings,
        )
        .unwrap();
}

#[tokio::test]
async fn accounts_show_each_accounts_security_services() {
    let f = fixture();
    record_services_audit(&f);
    let t = token(&f.state, Role::Viewer, "reader", Duration::days(1));
    let v = api_json(&f, &t, "/api/v1/accounts").await;
    let acct = &v[0];
    assert_eq!(acct["account_id"], "111111111111", "posture fields stay");
    assert_eq!(acct["fail"], 3);
    let services: Vec<(String, String)> = acct["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_string(),
                s["coverage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            ("GuardDuty", "partial"),
            ("Security Hub", "on"),
            ("AWS Config", "off"),
            ("IAM Access Analyzer", "partial"),
            ("CloudTrail", "on"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let gd = &acct["services"][0];
    assert_eq!(gd["enabled"], serde_json::json!(["us-east-1"]));
    assert_eq!(
        gd["missing"],
        serde_json::json!([["eu-west-1", "GuardDuty is not enabled in eu-west-1"]])
    );
    assert_eq!(
        acct["services"][3]["unknown"],
        serde_json::json!(["eu-west-1"])
    );
    // the page: the tree's summary and the matrix with the missing regions
    let (cookie, _) = session(&f.state, Role::Viewer);
    let html = page_html(&f, &cookie, "/accounts").await;
    assert!(html.contains("security services 2/5 on"), "{html}");
    assert!(html.contains("id=\"services\""), "{html}");
    assert!(
        html.contains("svc-partial\" title=\"eu-west-1: GuardDuty is not enabled in eu-west-1\">partial — missing eu-west-1</span>"),
        "{html}"
    );
    assert!(
        html.contains("svc-on\" title=\"\">on (2 regions)</span>"),
        "{html}"
    );
    assert!(html.contains("partial — not read: eu-west-1"), "{html}");
    // the OpenAPI document describes the new fields
    let doc = api_json(&f, &t, "/api/v1/openapi.json").await;
    let item = &doc["paths"]["/api/v1/accounts"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["items"]["properties"];
    assert_eq!(
        item["services"]["items"]["properties"]["coverage"]["enum"][1],
        "partial"
    );
}

/// Accepting a risk in the dashboard moves the finding under `status=suppressed` at once
/// (page and API), as the page shows it, not only after the next audit.
#[tokio::test]
async fn an_accepted_risk_is_under_the_suppressed_filter_at_once() {
    let f = fixture();
    let (cookie, csrf) = session(&f.state, Role::Operator);
    let listed = |html: &str| html.contains(&format!("/findings/{}\"", f.finding_id));

    assert!(!listed(
        &page_html(&f, &cookie, "/findings?status=suppressed").await
    ));
    assert!(listed(
        &page_html(&f, &cookie, "/findings?status=open").await
    ));
    let resp = send(
        &f.state,
        page_post(
            &format!("/findings/{}/accept", f.finding_id),
            &cookie,
            &format!("reason=legacy&csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let html = page_html(&f, &cookie, "/findings?status=suppressed").await;
    assert!(listed(&html), "{html}");
    assert!(html.contains("status-SUPPRESSED\">SUPPRESSED"), "{html}");
    assert!(!listed(
        &page_html(&f, &cookie, "/findings?status=open").await
    ));
    let t = token(&f.state, Role::Viewer, "reader", Duration::days(1));
    let v = api_json(&f, &t, "/api/v1/findings?status=suppressed").await;
    assert_eq!(v["findings"][0]["id"], f.finding_id.as_str());
    assert_eq!(v["accepted"], serde_json::json!([f.finding_id]));
    // and the overview's open counts (whose cards link to `status=open`) leave it out
    let v = api_json(&f, &t, "/api/v1/overview").await;
    assert_eq!(v["open_by_severity"], serde_json::json!([]), "{v}");
}

mod service_coverage {
    use crate::api::{SECURITY_SERVICES, ServiceScope, service_coverage};
    use proptest::prelude::*;
    use rampart_store::{ControlStatus, LifeStatus};

    const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "eu-central-1", "ap-south-1"];

    fn status(k: u8) -> LifeStatus {
        [
            LifeStatus::Pass,
            LifeStatus::Fail,
            LifeStatus::Error,
            LifeStatus::NotApplicable,
        ][k as usize % 4]
    }

    fn verdicts(picks: &[(usize, u8)]) -> Vec<ControlStatus> {
        picks
            .iter()
            .map(|(r, k)| ControlStatus {
                control: "base-guardduty".into(),
                account_id: "111111111111".into(),
                region: REGIONS[r % REGIONS.len()].into(),
                status: status(*k),
                message: format!("verdict {k}"),
                first_seen: chrono::Utc::now(),
            })
            .collect()
    }

    proptest! {
        /// Every collected region lands in exactly one bucket, a failing verdict wins over a
        /// passing one in the same region, and the coverage says what the buckets hold.
        #[test]
        fn buckets_partition_the_collected_regions(
            picks in proptest::collection::vec((0usize..4, 0u8..4), 0..12),
            collected in 1usize..=4,
        ) {
            let regions: Vec<String> = REGIONS[..collected].iter().map(|r| r.to_string()).collect();
            let all = verdicts(&picks);
            let mine: Vec<&ControlStatus> = all.iter().collect();
            let c = service_coverage(SECURITY_SERVICES[0], &regions, &mine);
            let mut seen: Vec<String> = c
                .enabled
                .iter()
                .chain(c.missing.iter().map(|(r, _)| r))
                .chain(&c.unknown)
                .chain(&c.not_applicable)
                .cloned()
                .collect();
            seen.sort();
            let mut want = regions.clone();
            want.sort();
            prop_assert_eq!(seen, want);
            for (region, _) in &c.missing {
                prop_assert!(all.iter().any(|v| &v.region == region && v.status == LifeStatus::Fail));
            }
            for region in &c.enabled {
                prop_assert!(all.iter().filter(|v| &v.region == region).all(|v| v.status != LifeStatus::Fail && v.status != LifeStatus::Error));
            }
            let expected = if !c.enabled.is_empty() {
                if c.missing.is_empty() && c.unknown.is_empty() { "on" } else { "partial" }
            } else if !c.missing.is_empty() {
                "off"
            } else if c.unknown.is_empty() && !c.not_applicable.is_empty() {
                "not_applicable"
            } else {
                "unknown"
            };
            prop_assert_eq!(c.coverage, expected);
        }
    }

    /// CloudTrail is judged once per account, whatever region its finding carries.
    #[test]
    fn an_account_wide_service_is_one_verdict() {
        let trail = SECURITY_SERVICES
            .iter()
            .find(|s| s.2 == ServiceScope::Account)
            .copied()
            .unwrap();
        let mut v = verdicts(&[(1, 0)]);
        v[0].control = trail.1.into();
        let regions: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
        let c = service_coverage(trail, &regions, &v.iter().collect::<Vec<_>>());
        assert_eq!(
            (c.coverage, c.enabled.clone()),
            ("on", vec!["global".to_string()])
        );
        let none = service_coverage(trail, &regions, &[]);
        assert_eq!((none.coverage, none.unknown.len()), ("unknown", 0));
    }
}

fn api_post(path: &str, token: &str, json: String) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json))
        .unwrap()
}

#[tokio::test]
async fn only_admins_apply_the_plan_shown_with_typed_confirmation_and_an_audit_entry() {
    let f = fixture();
    let apply_form =
        |csrf: &str, run: i64, confirm: &str| format!("run_id={run}&confirm={confirm}&csrf={csrf}");
    // Operators neither see the button nor may press it.
    let (op, op_csrf) = session(&f.state, Role::Operator);
    let page = body_text(send(&f.state, get_with_cookie("/drift", &op)).await).await;
    assert!(
        !page.contains("apply-form") && page.contains("apply-cli"),
        "{page}"
    );
    let resp = send(
        &f.state,
        page_post("/drift/apply", &op, &apply_form(&op_csrf, f.plan_run, "")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let op_token = token(&f.state, Role::Operator, "op-bot", Duration::days(1));
    let req = api_post(
        "/api/v1/drift/apply",
        &op_token,
        format!(r#"{{"run_id":{}}}"#, f.plan_run),
    );
    assert_eq!(send(&f.state, req).await.status(), StatusCode::FORBIDDEN);
    assert!(f.jobs.calls().is_empty());

    // An admin sees the button for the latest plan; without the CSRF token it is refused.
    let (admin, csrf) = session(&f.state, Role::Admin);
    let page = body_text(send(&f.state, get_with_cookie("/drift", &admin)).await).await;
    assert!(page.contains("id=\"apply-form\""), "{page}");
    assert!(page.contains(&format!("name=\"run_id\" value=\"{}\"", f.plan_run)));
    assert!(
        !page.contains("apply-confirm"),
        "no destructive change: {page}"
    );
    let resp = send(
        &f.state,
        page_post("/drift/apply", &admin, &format!("run_id={}", f.plan_run)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(f.jobs.calls().is_empty());
    let resp = send(
        &f.state,
        page_post("/drift/apply", &admin, &apply_form(&csrf, f.plan_run, "")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(f.jobs.calls(), vec![(f.plan_run, false)]);
    let page = body_text(send(&f.state, get_with_cookie("/drift", &admin)).await).await;
    assert!(
        page.contains("id=\"last-apply\"") && page.contains("applied 1 change(s)"),
        "{page}"
    );

    // A newer plan with a destructive change: the old one is refused; the new one needs `yes`.
    let newer = f
        .state
        .pool
        .acquire()
        .unwrap()
        .record_plan(
            &PlanRun {
                kind: RunKind::Drift,
                started_at: Utc::now(),
                finished_at: Utc::now(),
                organization_id: Some("o-test".into()),
                unobserved: vec![],
            },
            &[ChangeRow {
                change_id: "scp-detach".into(),
                account: "111111111111".into(),
                region: None,
                action: "detach".into(),
                description: "detach a stray SCP".into(),
                destructive: true,
                json: "{}".into(),
            }],
        )
        .unwrap();
    let resp = send(
        &f.state,
        page_post("/drift/apply", &admin, &apply_form(&csrf, f.plan_run, "")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(body_text(resp).await.contains("is not the latest"));
    let page = body_text(send(&f.state, get_with_cookie("/drift", &admin)).await).await;
    assert!(page.contains("id=\"apply-confirm\""), "{page}");
    for wrong in ["", "y", "destroy"] {
        let resp = send(
            &f.state,
            page_post("/drift/apply", &admin, &apply_form(&csrf, newer, wrong)),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{wrong:?}");
    }
    assert_eq!(f.jobs.calls().len(), 1);
    let admin_token = token(&f.state, Role::Admin, "admin-bot", Duration::days(1));
    let req = api_post(
        "/api/v1/drift/apply",
        &admin_token,
        format!(r#"{{"run_id":{newer},"confirm":"yes"}}"#),
    );
    let resp = send(&f.state, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&body_text(resp).await).unwrap();
    assert_eq!(body["outcome"], "applied 1 change(s)");
    assert_eq!(f.jobs.calls(), vec![(f.plan_run, false), (newer, true)]);

    // Who, when, what, outcome: one audit entry per apply that reached the binary.
    let log = f.state.pool.acquire().unwrap().audit_log(10).unwrap();
    let applies: Vec<(&str, &str, &str, &str)> = log
        .iter()
        .filter(|e| e.action == "drift.apply")
        .map(|e| {
            (
                e.actor.as_str(),
                e.via.as_str(),
                e.target.as_str(),
                e.detail.as_str(),
            )
        })
        .collect();
    let old_target = format!("plan run #{}", f.plan_run);
    let new_target = format!("drift run #{newer}");
    assert_eq!(
        applies,
        vec![
            (
                "token:admin-bot",
                "api",
                new_target.as_str(),
                "1 change(s), 1 destructive: applied 1 change(s)"
            ),
            (
                "admin",
                "ui",
                old_target.as_str(),
                "1 change(s), 0 destructive: applied 1 change(s)"
            ),
        ]
    );
    let spec = crate::api::openapi_document();
    assert!(
        spec["paths"]["/api/v1/drift/apply"]["post"]["description"]
            .as_str()
            .unwrap()
            .contains("admin")
    );
}

#[tokio::test]
async fn a_failed_apply_is_logged_and_a_server_without_aws_shows_the_cli() {
    let f = fixture();
    let failing = FakeJobs::answering(Err(crate::JobError::Failed(
        "1 of 1 change(s) failed; see rampart-audit.jsonl".into(),
    )));
    let state = f.state.clone().with_jobs(failing.clone());
    let (admin, csrf) = session(&state, Role::Admin);
    let form = format!("run_id={}&csrf={csrf}", f.plan_run);
    let resp = send(&state, page_post("/drift/apply", &admin, &form)).await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert!(body_text(resp).await.contains("1 of 1 change(s) failed"));
    let log = state.pool.acquire().unwrap().audit_log(1).unwrap();
    assert_eq!(log[0].action, "drift.apply");
    assert!(log[0].detail.contains("failed: 1 of 1"), "{:?}", log[0]);

    let mut bare = f.state.clone();
    bare.jobs = None;
    let page = body_text(send(&bare, get_with_cookie("/drift", &admin)).await).await;
    assert!(
        !page.contains("apply-form") && page.contains("apply-cli"),
        "{page}"
    );
    let resp = send(&bare, page_post("/drift/apply", &admin, &form)).await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(failing.calls().len(), 1);
    assert!(f.jobs.calls().is_empty());
}

#[tokio::test]
async fn alert_list_pages_with_a_link_and_filters_in_the_store() {
    let f = fixture();
    let now = Utc::now();
    let alerts: Vec<AlertRow> = (0..7)
        .map(|i| AlertRow {
            rule_id: format!("rule-{}", i % 2),
            rule_source: "sigma".into(),
            title: format!("alert {i}"),
            severity: if i % 3 == 0 {
                rampart_core::Severity::Critical
            } else {
                rampart_core::Severity::Low
            },
            account: Some(format!("22222222222{}", i % 2)),
            region: None,
            principal: None,
            event_time: Some(now - Duration::minutes(i)),
            event_id: Some(format!("ev-page-{i}")),
            resource: None,
            count: 1,
            json: "{}".into(),
        })
        .collect();
    f.state.pool.conns[0]
        .lock()
        .unwrap()
        .record_detect(
            &DetectRun {
                started_at: now - Duration::minutes(10),
                finished_at: now - Duration::minutes(9),
                source: "test".into(),
                events: 7,
                skipped: 0,
                files: 1,
                rules: 2,
            },
            &alerts,
        )
        .unwrap();
    let t = token(&f.state, Role::Operator, "pager", Duration::days(1));
    let get = |path: String| {
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    // Follow the Link header from the first page to the last.
    let mut seen: Vec<serde_json::Value> = Vec::new();
    let mut next = Some("/api/v1/alerts?limit=3".to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let resp = send(&f.state, get(path.clone())).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        next = resp.headers().get(header::LINK).map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("; rel=\"next\""), "{l}");
            l[1..l.find('>').unwrap()].to_string()
        });
        let page: Vec<serde_json::Value> = serde_json::from_str(&body_text(resp).await).unwrap();
        assert!(page.len() <= 3);
        seen.extend(page);
        pages += 1;
    }
    assert_eq!(pages, 3, "8 alerts, 3 a page");
    let ids: Vec<&str> = seen.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (8, 8),
        "every alert exactly once"
    );
    assert!(ids.contains(&f.alert_id.as_str()));
    // The store's id column is the detector's id.
    for a in &alerts {
        assert!(ids.contains(&crate::api::stored_alert_id(a).as_str()));
    }
    // Newest first: the minutes-old alerts before the fixture's two-hour-old one.
    assert_eq!(ids[7], f.alert_id);

    // Filters, applied by the store.
    let list = |q: &str| {
        let req = get(format!("/api/v1/alerts?{q}"));
        let state = f.state.clone();
        async move {
            let resp = send(&state, req).await;
            let status = resp.status();
            (status, body_text(resp).await)
        }
    };
    let count = |body: &str| {
        serde_json::from_str::<Vec<serde_json::Value>>(body)
            .unwrap()
            .len()
    };
    let (s, body) = list("severity=critical").await;
    assert_eq!(
        (s, count(&body)),
        (StatusCode::OK, 4),
        "3 of the 7 and the fixture's"
    );
    let (_, body) = list("account=222222222221&rule=rule-1").await;
    assert_eq!(count(&body), 3);
    let ack = Request::post(format!("/api/v1/alerts/{}/state", ids[0]))
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"state":"acknowledged"}"#))
        .unwrap();
    assert_eq!(send(&f.state, ack).await.status(), StatusCode::OK);
    let (_, body) = list("state=acknowledged").await;
    let acked: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0]["id"], ids[0]);
    assert_eq!(acked[0]["state"]["state"], "acknowledged");
    let (_, body) = list("state=new").await;
    assert_eq!(count(&body), 7);
    for bad in ["state=bogus", "severity=bogus", "after=not-a-cursor"] {
        assert_eq!(list(bad).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }

    // The page links to the next page with the filters kept.
    let (cookie, _) = session(&f.state, Role::Viewer);
    let resp = send(
        &f.state,
        get_with_cookie("/alerts?limit=2&severity=LOW", &cookie),
    )
    .await;
    let html = body_text(resp).await;
    let start = html
        .find("id=\"next-page\"")
        .map(|_| html.find("href=\"/alerts?").unwrap());
    let href = &html[start.expect("a next-page link") + 6..];
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
    assert!(
        href.contains("severity=LOW") && href.contains("after="),
        "{href}"
    );
    let resp = send(&f.state, get_with_cookie(&href, &cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        body_text(resp)
            .await
            .matches("class=\"alert-link\"")
            .count(),
        2
    );

    // The OpenAPI document names the cursor and the Link header.
    let doc = crate::api::openapi_document();
    let op = &doc["paths"]["/api/v1/alerts"]["get"];
    assert!(
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "after")
    );
    assert!(op["responses"]["200"]["headers"]["Link"].is_object());
}

/// The rendered weekly report is cached with the report, so it follows the store: a risk
/// accepted with an expiry soon appears in the next response.
#[tokio::test]
async fn the_weekly_report_follows_the_store() {
    let f = fixture();
    let t = token(&f.state, Role::Operator, "bot", Duration::days(1));
    let before = api_json(&f, &t, "/api/v1/reports/weekly").await;
    assert_eq!(
        api_json(&f, &t, "/api/v1/reports/weekly").await,
        before,
        "the same report again"
    );
    assert!(!before.to_string().contains("expires in ten days"));
    let expires = (Utc::now() + Duration::days(10)).format("%Y-%m-%d");
    let accept = api_post(
        &format!("/api/v1/findings/{}/accept", f.finding_id),
        &t,
        format!(r#"{{"reason":"expires in ten days","expires":"{expires}"}}"#),
    );
    assert_eq!(send(&f.state, accept).await.status(), StatusCode::OK);
    let after = api_json(&f, &t, "/api/v1/reports/weekly").await;
    assert!(
        after["expiring"]
            .to_string()
            .contains("expires in ten days"),
        "{after}"
    );
}
