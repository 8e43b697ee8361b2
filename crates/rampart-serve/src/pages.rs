//! The HTML pages: each renders the data its `api::*_data` function reads, with plain links
//! and forms (POST + CSRF token) so everything works without JavaScript. Form and element ids
//! are stable: browser tests address them.

use crate::AppState;
use crate::api::{
    self, AcceptRequest, AlertQuery, AlertStateRequest, ApiError, ApplyRequest, FindingQuery,
};
use crate::auth::{self, Principal, SESSION_COOKIE};
use crate::html::{csrf_field, esc, page, table, url_encode};
use axum::extract::{Extension, Form, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use std::time::Instant;

type PageResult = Result<Response, Response>;

/// An error page with the status the API would give.
fn error_page(who: &Principal, e: ApiError) -> Response {
    (
        e.0,
        Html(page(
            "Error",
            Some(who),
            &format!("<p class=\"error\">{}</p>", esc(&e.1)),
        )),
    )
        .into_response()
}

fn fail(who: &Principal) -> impl Fn(ApiError) -> Response + '_ {
    move |e| error_page(who, e)
}

fn fmt_time(t: &chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn score(s: Option<f64>) -> String {
    s.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "–".into())
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
    pub error: Option<String>,
}

fn login_page(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" id=\"login-error\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Log in",
        None,
        &format!(
            "{error}<form method=\"post\" action=\"/login\" id=\"login-form\">\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\
             <label>User <input name=\"user\" id=\"user\" autocomplete=\"username\" required></label>\
             <label>Password <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\" id=\"login\">Log in</button></form>",
            esc(next)
        ),
    )
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Html<String> {
    Html(login_page(
        q.next.as_deref().unwrap_or("/"),
        q.error.as_deref(),
    ))
}

/// Only a local path (not `//host`) may be the target after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".into(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub user: String,
    pub password: String,
    pub next: Option<String>,
}

/// A new session (a fresh id: logging in rotates it), replacing the one the browser had.
async fn open_session(state: &AppState, headers: &HeaderMap, user: String, next: &str) -> Response {
    let id = auth::random_secret();
    let now = Utc::now();
    let record = rampart_store::SessionRecord {
        id_hash: auth::digest(&id),
        user,
        csrf: auth::random_secret(),
        created_at: now,
        expires_at: now + state.session_ttl,
    };
    let old = auth::cookie_value(headers, SESSION_COOKIE).map(auth::digest);
    let result = state
        .db(move |s| {
            if let Some(old) = old {
                s.delete_session(&old)?;
            }
            s.create_session(&record)
        })
        .await;
    if let Err(e) = result {
        return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response();
    }
    let mut resp = Redirect::to(next).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        auth::session_cookie(&id, state.session_ttl.num_seconds(), state.secure_cookies),
    );
    resp
}

pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let peer = auth::peer(req.extensions());
    let headers = req.headers().clone();
    if !auth::same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "403: cross-site login refused").into_response();
    }
    let Ok(Form(form)) = Form::<LoginForm>::from_request(req, &state).await else {
        return (
            StatusCode::BAD_REQUEST,
            "the login form needs user and password",
        )
            .into_response();
    };
    let ip = auth::client_ip(&state, &headers, peer);
    let keys = vec![format!("user:{}", form.user), format!("ip:{ip}")];
    let wait = state
        .throttle
        .lock()
        .map(|t| t.wait(&keys, Instant::now()))
        .unwrap_or_default();
    if !wait.is_zero() {
        let secs = wait.as_secs().max(1);
        let mut resp = (
            StatusCode::TOO_MANY_REQUESTS,
            Html(login_page(
                &safe_next(form.next.as_deref()),
                Some(&format!("Too many failed logins; try again in {secs} s.")),
            )),
        )
            .into_response();
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            secs.to_string().parse().expect("digits"),
        );
        return resp;
    }
    let name = form.user.clone();
    let user = state.db(move |s| s.user(&name)).await.ok().flatten();
    let password = form.password.clone();
    let ok = match user {
        Some(u) => {
            tokio::task::spawn_blocking(move || auth::verify_password(&password, &u.password_hash))
                .await
                .unwrap_or(false)
        }
        None => {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            let _ =
                tokio::task::spawn_blocking(move || auth::verify_password(&password, DUMMY_HASH))
                    .await;
            false
        }
    };
    if !ok {
        if let Ok(mut t) = state.throttle.lock() {
            t.failed(&keys, Instant::now());
        }
        return (
            StatusCode::UNAUTHORIZED,
            Html(login_page(
                &safe_next(form.next.as_deref()),
                Some("Wrong user name or password."),
            )),
        )
            .into_response();
    }
    if let Ok(mut t) = state.throttle.lock() {
        t.succeeded(&keys[0]);
    }
    open_session(
        &state,
        &headers,
        form.user,
        &safe_next(form.next.as_deref()),
    )
    .await
}

/// An argon2id hash of a random string nobody knows: what a login for an unknown user checks.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cmFtcGFydGR1bW15c2FsdA$V1ZkXhKIFQwzWlwNIGpu1pYJjBjAm03ub0tXg6Le0sA";

/// Spends a one-time login link (`rampart demo --serve` prints one) and opens a session.
pub async fn login_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let now = Utc::now();
    let hash = auth::digest(&token);
    match state.db(move |s| s.use_login_link(&hash, now)).await {
        Ok(Some(user)) => open_session(&state, &headers, user, "/").await,
        Ok(None) => (
            StatusCode::FORBIDDEN,
            Html(login_page(
                "/",
                Some("This login link was used already or has expired."),
            )),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(cookie) = auth::cookie_value(&headers, SESSION_COOKIE) {
        let hash = auth::digest(cookie);
        let _ = state.db(move |s| s.delete_session(&hash)).await;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        auth::session_cookie("", 0, state.secure_cookies),
    );
    resp
}

pub async fn overview(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    let o = api::overview_data(&state)
        .await
        .map_err(|e| error_page(&who, e.into()))?;
    let mut body = String::from("<div class=\"cards\" id=\"severity-cards\">");
    for (sev, n) in &o.open_by_severity {
        body.push_str(&format!(
            "<a class=\"card\" href=\"/findings?status=open&amp;severity={s}\"><b>{n}</b><span class=\"sev-{s}\">{s}</span> open</a>",
            s = sev.as_str()
        ));
    }
    if o.open_by_severity.is_empty() {
        body.push_str("<div class=\"card\"><b>0</b>open findings</div>");
    }
    body.push_str(&format!(
        "<div class=\"card\" id=\"score\"><b>{}</b>score of the last audit</div></div>",
        score(o.last_audit.as_ref().and_then(|r| r.score))
    ));
    let trend: Vec<Vec<String>> = o
        .score_trend
        .iter()
        .map(|(t, s)| vec![esc(&fmt_time(t)), score(*s)])
        .collect();
    body.push_str("<h2>Score trend</h2>");
    body.push_str(&table("trend", &["audit", "score"], &trend));
    let ous: Vec<Vec<String>> = o
        .ous
        .iter()
        .map(|(ou, p, f)| {
            vec![
                format!(
                    "<a href=\"/findings?ou={}&amp;status=open\">{}</a>",
                    url_encode(ou),
                    esc(ou)
                ),
                score(rampart_store::score(*p, *f)),
                f.to_string(),
            ]
        })
        .collect();
    body.push_str("<h2>By OU</h2>");
    body.push_str(&table("by-ou", &["OU", "score", "failing"], &ous));
    let runs: Vec<Vec<String>> = o
        .last_runs
        .iter()
        .map(|r| {
            vec![
                r.kind.as_str().into(),
                esc(&fmt_time(&r.started_at)),
                esc(&r.scope),
                score(r.score),
            ]
        })
        .collect();
    body.push_str("<h2>Last runs</h2>");
    body.push_str(&table(
        "last-runs",
        &["kind", "started", "scope", "score"],
        &runs,
    ));
    let alerts: Vec<Vec<String>> = o
        .alerts_7d
        .iter()
        .map(|(s, n)| {
            vec![
                format!("<span class=\"sev-{0}\">{0}</span>", s.as_str()),
                n.to_string(),
            ]
        })
        .collect();
    body.push_str("<h2><a href=\"/alerts\">Alerts, last 7 days</a></h2>");
    body.push_str(&table("alerts-7d", &["severity", "alerts"], &alerts));
    body.push_str(&format!(
        "<h2><a href=\"/drift\">Drift</a></h2><p id=\"drift-status\">{}</p>",
        match &o.drift {
            Some(r) => format!(
                "{} pending change(s) from the {} of {}",
                r.changes,
                r.kind.as_str(),
                esc(&fmt_time(&r.started_at))
            ),
            None => "No plan or drift run recorded yet.".into(),
        }
    ));
    Ok(Html(page("Overview", Some(&who), &body)).into_response())
}

fn select(name: &str, current: Option<&str>, options: &[&str]) -> String {
    let opts: String = std::iter::once("")
        .chain(options.iter().copied())
        .map(|o| {
            let sel = if Some(o) == current { " selected" } else { "" };
            let label = if o.is_empty() { "any" } else { o };
            format!("<option value=\"{o}\"{sel}>{label}</option>")
        })
        .collect();
    format!("<label>{name} <select name=\"{name}\" id=\"f-{name}\">{opts}</select></label>")
}

fn text_input(name: &str, label: &str, value: Option<&str>) -> String {
    format!(
        "<label>{label} <input name=\"{name}\" id=\"f-{name}\" value=\"{}\"></label>",
        esc(value.unwrap_or_default())
    )
}

fn shown_status(f: &rampart_store::FindingLife, accepted: &[String]) -> String {
    if f.suppressed.is_some() || accepted.contains(&f.id) {
        "SUPPRESSED".into()
    } else {
        f.status.as_str().into()
    }
}

pub async fn findings(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<FindingQuery>,
) -> PageResult {
    let data = api::findings_data(&state, &q).await.map_err(fail(&who))?;
    let frameworks = rampart_core::frameworks();
    let mut body =
        String::from("<form method=\"get\" action=\"/findings\" class=\"filters\" id=\"filters\">");
    body.push_str(&text_input("q", "search", q.q.as_deref()));
    body.push_str(&text_input("control", "control", q.control.as_deref()));
    body.push_str(&select("framework", q.framework.as_deref(), &frameworks));
    body.push_str(&select(
        "severity",
        q.severity.as_deref(),
        &["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"],
    ));
    body.push_str(&select(
        "status",
        q.status.as_deref(),
        &[
            "open",
            "suppressed",
            "resolved",
            "FAIL",
            "PASS",
            "ERROR",
            "GONE",
        ],
    ));
    body.push_str(&text_input("account", "account", q.account.as_deref()));
    body.push_str(&text_input("ou", "OU", q.ou.as_deref()));
    body.push_str(&text_input("region", "region", q.region.as_deref()));
    body.push_str(&format!(
        "<label>open ≥ days <input name=\"min_age_days\" id=\"f-min_age_days\" type=\"number\" min=\"0\" value=\"{}\"></label>",
        q.min_age_days.map(|d| d.to_string()).unwrap_or_default()
    ));
    body.push_str("<button type=\"submit\" id=\"apply-filters\">Filter</button></form>");
    let rows: Vec<Vec<String>> = data
        .findings
        .iter()
        .map(|f| {
            let st = shown_status(f, &data.accepted);
            vec![
                format!(
                    "<a href=\"/findings/{}\" class=\"finding-link\">{}</a>",
                    url_encode(&f.id),
                    esc(&f.id)
                ),
                format!("<span class=\"sev-{0}\">{0}</span>", f.severity.as_str()),
                format!("<span class=\"status-{0}\">{0}</span>", st),
                esc(&f.control),
                esc(&f.account_id),
                esc(&f.region),
                esc(&f.resource),
                f.opened_at.map(|t| esc(&fmt_time(&t))).unwrap_or_default(),
            ]
        })
        .collect();
    body.push_str(&table(
        "findings",
        &[
            "id",
            "severity",
            "status",
            "control",
            "account",
            "region",
            "resource",
            "open since",
        ],
        &rows,
    ));
    if let Some(next) = &data.next_after {
        let mut nq = q.clone();
        nq.after = Some(next.clone());
        let qs = esc(&api::query_string(&nq));
        body.push_str(&format!(
            "<a href=\"/findings?{qs}\" id=\"next-page\">Next page →</a>"
        ));
    }
    Ok(Html(page("Findings", Some(&who), &body)).into_response())
}

pub async fn finding(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> PageResult {
    let d = api::finding_data(&state, id.clone())
        .await
        .map_err(fail(&who))?;
    let f = &d.finding;
    let mut body = format!(
        "<p><span class=\"sev-{sev}\">{sev}</span> · <span class=\"status-{st}\" id=\"finding-status\">{st}</span> · {control} · account {acct} · {region}</p>\
         <p>{title}</p><p><b>Resource</b> {res}</p><p><b>Evidence</b> {msg}</p>",
        sev = f.severity.as_str(),
        st = d.shown_status(),
        control = esc(&f.control),
        acct = esc(&f.account_id),
        region = esc(&f.region),
        title = esc(&f.title),
        res = esc(&f.resource),
        msg = esc(&f.message),
    );
    if let Some(s) = &f.suppressed {
        body.push_str(&format!(
            "<p class=\"note\">Suppressed: {}</p>",
            esc(&s.reason)
        ));
    }
    if let Some(a) = &d.acceptance {
        body.push_str(&format!(
            "<p class=\"note\" id=\"acceptance\">Risk accepted by {} on {}: {}{} — audits report it SUPPRESSED.</p>",
            esc(&a.who),
            esc(&fmt_time(&a.created_at)),
            esc(&a.reason),
            a.expires.map(|e| format!(" (until {e})")).unwrap_or_default()
        ));
    }
    if let Some(r) = d.rationale {
        body.push_str(&format!("<h2>Why it matters</h2><p>{}</p>", esc(r)));
    }
    if let Some(r) = d.remediation_console {
        body.push_str(&format!("<h2>Remediation</h2><p>{}</p>", esc(r)));
    }
    if let Some(r) = d.remediation_cli.filter(|r| !r.is_empty()) {
        body.push_str(&format!("<pre>{}</pre>", esc(r)));
    }
    let hist: Vec<Vec<String>> = d
        .history
        .iter()
        .map(|e| {
            vec![
                esc(&fmt_time(&e.at)),
                format!("{:?}", e.kind),
                e.status.as_str().into(),
                if e.suppressed {
                    "suppressed".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    body.push_str("<h2>History</h2>");
    body.push_str(&table("history", &["when", "event", "status", ""], &hist));
    if who.role >= auth::Role::Operator {
        body.push_str(&format!(
            "<h2>Accept the risk</h2><form method=\"post\" action=\"/findings/{}/accept\" id=\"accept-form\">{}\
             <label>Reason <textarea name=\"reason\" id=\"accept-reason\" required></textarea></label>\
             <label>Expires (YYYY-MM-DD) <input name=\"expires\" id=\"accept-expires\" type=\"date\"></label>\
             <button type=\"submit\" id=\"accept\">Accept risk</button></form>",
            url_encode(&f.id),
            csrf_field(&who)
        ));
    }
    Ok(Html(page(&format!("Finding {}", f.id), Some(&who), &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    pub reason: String,
    pub expires: Option<String>,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<AcceptForm>,
) -> PageResult {
    api::accept_risk(
        &state,
        &who,
        id.clone(),
        AcceptRequest {
            reason: form.reason,
            expires: form.expires,
        },
    )
    .await
    .map_err(fail(&who))?;
    Ok(Redirect::to(&format!("/findings/{}", url_encode(&id))).into_response())
}

/// One service's cell: its coverage, and where it is missing or unknown.
fn service_cell(c: &api::ServiceCoverage) -> String {
    let mut text = match c.coverage {
        "on" if c.enabled == ["global"] => "on".to_string(),
        "on" => format!("on ({} regions)", c.enabled.len()),
        "not_applicable" => "n/a".to_string(),
        other => other.to_string(),
    };
    if !c.missing.is_empty() && c.coverage == "partial" {
        let regions: Vec<&str> = c.missing.iter().map(|(r, _)| r.as_str()).collect();
        text.push_str(&format!(" — missing {}", regions.join(", ")));
    }
    if !c.unknown.is_empty() && c.coverage != "unknown" {
        text.push_str(&format!(" — not read: {}", c.unknown.join(", ")));
    }
    // the audit's messages, for the tooltip
    let title: Vec<String> = c
        .missing
        .iter()
        .map(|(r, m)| format!("{r}: {m}"))
        .chain(
            c.unknown
                .iter()
                .map(|r| format!("{r}: no verdict (ERROR, or not audited)")),
        )
        .collect();
    format!(
        "<span class=\"svc svc-{}\" title=\"{}\">{}</span>",
        c.coverage,
        esc(&title.join("; ")),
        esc(&text)
    )
}

pub async fn accounts(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    let all = api::accounts_data(&state)
        .await
        .map_err(|e| error_page(&who, e.into()))?;
    let mut accounts: Vec<&api::AccountView> = all.iter().collect();
    accounts.sort_by(|a, b| {
        (&a.posture.ou_path, &a.posture.name).cmp(&(&b.posture.ou_path, &b.posture.name))
    });
    let mut body = String::from("<ul id=\"ou-tree\">");
    let mut current_ou: Option<&str> = None;
    for v in &accounts {
        let a = &v.posture;
        if current_ou != Some(a.ou_path.as_str()) {
            if current_ou.is_some() {
                body.push_str("</ul></li>");
            }
            body.push_str(&format!("<li><b>{}</b><ul>", esc(&a.ou_path)));
            current_ou = Some(&a.ou_path);
        }
        let on = v.services.iter().filter(|c| c.coverage == "on").count();
        body.push_str(&format!(
            "<li><a href=\"/findings?account={id}&amp;status=open\">{name} ({id})</a> — score {score}, {fail} failing, {sup} suppressed, security services {on}/{all} on{seen}</li>",
            id = esc(&a.account_id),
            name = esc(&a.name),
            score = score(a.score()),
            fail = a.fail,
            sup = a.suppressed,
            all = v.services.len(),
            seen = if a.observed { "" } else { " — <span class=\"error\">not observed</span>" },
        ));
    }
    if current_ou.is_some() {
        body.push_str("</ul></li>");
    }
    body.push_str("</ul>");
    if accounts.is_empty() {
        body.push_str("<p>No audit recorded yet.</p>");
    } else {
        let head: Vec<&str> = ["account", "regions"]
            .into_iter()
            .chain(api::SECURITY_SERVICES.iter().map(|s| s.0))
            .collect();
        let rows: Vec<Vec<String>> = accounts
            .iter()
            .map(|v| {
                let mut row = vec![
                    format!(
                        "{} <span class=\"note\">{}</span>",
                        esc(&v.posture.name),
                        esc(&v.posture.account_id)
                    ),
                    v.regions
                        .iter()
                        .filter(|r| r.as_str() != "global")
                        .count()
                        .to_string(),
                ];
                row.extend(v.services.iter().map(service_cell));
                row
            })
            .collect();
        body.push_str("<h2>Security services</h2>");
        body.push_str(&table("services", &head, &rows));
        body.push_str(
            "<p class=\"note\" id=\"services-source\">From the latest audit verdicts of base-guardduty, \
             cis-4.16, cis-3.3, cis-1.20 and cis-3.1 in each collected region (organization-wide \
             enablement by the delegated administrator counts; CloudTrail is a multi-region trail \
             logging management events, the account's own or the organization trail).</p>",
        );
    }
    Ok(Html(page("Accounts", Some(&who), &body)).into_response())
}

pub async fn alerts(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<AlertQuery>,
) -> PageResult {
    let data = api::alerts_data(&state, &q).await.map_err(fail(&who))?;
    let mut body = String::from(
        "<form method=\"get\" action=\"/alerts\" class=\"filters\" id=\"alert-filters\">",
    );
    body.push_str(&format!(
        "<label>days <input name=\"days\" id=\"f-days\" type=\"number\" min=\"1\" value=\"{}\"></label>",
        q.days.unwrap_or(7)
    ));
    body.push_str(&select(
        "severity",
        q.severity.as_deref(),
        &["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"],
    ));
    body.push_str(&select(
        "state",
        q.state.as_deref(),
        &["new", "acknowledged", "resolved"],
    ));
    body.push_str(&text_input("account", "account", q.account.as_deref()));
    body.push_str(&text_input("rule", "rule", q.rule.as_deref()));
    body.push_str("<button type=\"submit\">Filter</button></form>");
    let rows: Vec<Vec<String>> = data
        .alerts
        .iter()
        .map(|a| {
            vec![
                a.alert
                    .event_time
                    .map(|t| esc(&fmt_time(&t)))
                    .unwrap_or_default(),
                format!(
                    "<span class=\"sev-{0}\">{0}</span>",
                    a.alert.severity.as_str()
                ),
                format!(
                    "<a href=\"/alerts/{}\" class=\"alert-link\">{}</a>",
                    esc(&a.id),
                    esc(&a.alert.title)
                ),
                esc(a.alert.account.as_deref().unwrap_or_default()),
                esc(a.alert.principal.as_deref().unwrap_or_default()),
                esc(a.state.as_ref().map_or("new", |s| s.state.as_str())),
            ]
        })
        .collect();
    body.push_str(&table(
        "alerts",
        &["time", "severity", "alert", "account", "principal", "state"],
        &rows,
    ));
    if let Some(next) = &data.next {
        let mut nq = q.clone();
        nq.after = Some(next.clone());
        body.push_str(&format!(
            "<a href=\"/alerts?{}\" id=\"next-page\">Next page →</a>",
            esc(&api::query_string(&nq))
        ));
    }
    Ok(Html(page("Alerts", Some(&who), &body)).into_response())
}

pub async fn alert(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> PageResult {
    let a = api::alert_data(&state, &id).await.map_err(fail(&who))?;
    let pretty = serde_json::from_str::<serde_json::Value>(&a.alert.json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| a.alert.json.clone());
    let mut body = format!(
        "<p><span class=\"sev-{sev}\">{sev}</span> · rule {rule} ({src}) · account {acct} · state <b id=\"alert-state\">{st}</b></p>",
        sev = a.alert.severity.as_str(),
        rule = esc(&a.alert.rule_id),
        src = esc(&a.alert.rule_source),
        acct = esc(a.alert.account.as_deref().unwrap_or("–")),
        st = esc(a.state.as_ref().map_or("new", |s| s.state.as_str())),
    );
    if let Some(s) = &a.state {
        body.push_str(&format!(
            "<p class=\"note\" id=\"alert-ack\">Acknowledged by {} on {}{}. A routed alert stops escalating at the router's next tick, which also tells PagerDuty (<code>rampart alerts tick</code>).</p>",
            esc(&s.acknowledged_by),
            esc(&fmt_time(&s.acknowledged_at)),
            s.ack_comment
                .as_ref()
                .map(|c| format!(": {}", esc(c)))
                .unwrap_or_default(),
        ));
        // the latest change, unless it is that acknowledgement itself
        let only_the_ack = s.state == "acknowledged"
            && s.assignee.is_none()
            && (&s.updated_by, s.updated_at) == (&s.acknowledged_by, s.acknowledged_at);
        if !only_the_ack {
            body.push_str(&format!(
                "<p class=\"note\" id=\"alert-latest\">{} by {} on {}{}: {}</p>",
                esc(&s.state),
                esc(&s.updated_by),
                esc(&fmt_time(&s.updated_at)),
                s.assignee
                    .as_ref()
                    .map(|x| format!(", assigned to {}", esc(x)))
                    .unwrap_or_default(),
                esc(&s.comment)
            ));
        }
    }
    if who.role >= auth::Role::Operator {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/alerts/{}/state\" id=\"alert-state-form\">{}\
             <label>State <select name=\"state\" id=\"alert-new-state\"><option value=\"acknowledged\">acknowledge</option><option value=\"resolved\">resolve</option></select></label>\
             <label>Assign to <input name=\"assignee\" id=\"alert-assignee\"></label>\
             <label>Comment <input name=\"comment\" id=\"alert-comment\"></label>\
             <button type=\"submit\" id=\"alert-submit\">Save</button></form>",
            esc(&a.id),
            csrf_field(&who)
        ));
    }
    body.push_str(&format!(
        "<h2>The event</h2><pre id=\"alert-json\">{}</pre>",
        esc(&pretty)
    ));
    Ok(Html(page(
        &format!("Alert: {}", a.alert.title),
        Some(&who),
        &body,
    ))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct AlertStateForm {
    pub state: String,
    pub assignee: Option<String>,
    #[serde(default)]
    pub comment: String,
}

pub async fn alert_state(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<AlertStateForm>,
) -> PageResult {
    api::set_alert_state(
        &state,
        &who,
        id.clone(),
        AlertStateRequest {
            state: form.state,
            assignee: form.assignee,
            comment: form.comment,
        },
    )
    .await
    .map_err(fail(&who))?;
    Ok(Redirect::to(&format!("/alerts/{}", url_encode(&id))).into_response())
}

pub async fn drift(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    let d = api::drift_data(&state)
        .await
        .map_err(|e| error_page(&who, e.into()))?;
    let mut body = match &d.run {
        Some(r) => format!(
            "<p id=\"drift-run\">{} pending change(s) from the {} of {}.</p>",
            d.changes.len(),
            r.kind.as_str(),
            esc(&fmt_time(&r.started_at))
        ),
        None => "<p id=\"drift-run\">No plan or drift run recorded yet.</p>".into(),
    };
    let rows: Vec<Vec<String>> = d
        .changes
        .iter()
        .map(|c| {
            vec![
                esc(&c.change_id),
                esc(&c.account),
                esc(c.region.as_deref().unwrap_or("global")),
                esc(&c.action),
                esc(&c.description),
                if c.destructive {
                    "<b class=\"error\">destructive</b>".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    body.push_str(&table(
        "changes",
        &["change", "account", "region", "action", "description", ""],
        &rows,
    ));
    let admin = who.role >= auth::Role::Admin;
    match (&d.run, state.jobs.is_some()) {
        (Some(r), true) if admin && !d.changes.is_empty() => {
            let destructive = d.changes.iter().filter(|c| c.destructive).count();
            let confirm = if destructive > 0 {
                format!(
                    "<label>{destructive} destructive change(s): type <code>{w}</code> to apply them \
                     <input name=\"confirm\" id=\"apply-confirm\" autocomplete=\"off\" required></label>",
                    w = api::CONFIRM_WORD
                )
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<form method=\"post\" action=\"/drift/apply\" id=\"apply-form\">{}\
                 <input type=\"hidden\" name=\"run_id\" value=\"{}\">{confirm}\
                 <button type=\"submit\" id=\"apply\">Apply these {} change(s)</button></form>\
                 <p class=\"note\">Applies exactly this plan, like <code>rampart apply</code> with it; refused if the organization changed since (re-plan first).</p>",
                csrf_field(&who),
                r.id,
                d.changes.len()
            ));
        }
        _ if !d.changes.is_empty() => {
            body.push_str(&format!(
                "<p class=\"note\" id=\"apply-cli\">An admin applies these from this page when the server can reach AWS, or with <code>{}</code> (destructive changes ask for typed confirmation).</p>",
                esc(&d.cli)
            ));
        }
        _ => {}
    }
    if admin {
        let last = state
            .db(|s| s.audit_log(500))
            .await
            .map_err(|e| error_page(&who, e.into()))?
            .into_iter()
            .find(|e| e.action == "drift.apply");
        if let Some(e) = last {
            body.push_str(&format!(
                "<p id=\"last-apply\">Last applied from the dashboard on {} by {} ({}): {}</p>",
                esc(&fmt_time(&e.at)),
                esc(&e.actor),
                esc(&e.target),
                esc(&e.detail)
            ));
        }
    }
    Ok(Html(page("Drift", Some(&who), &body)).into_response())
}

/// The Drift page's apply button (admins; the guard checked role, origin and CSRF token).
pub async fn drift_apply(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Form(form): Form<ApplyRequest>,
) -> PageResult {
    api::apply_drift(&state, &who, form)
        .await
        .map_err(fail(&who))?;
    Ok(Redirect::to("/drift").into_response())
}

pub async fn catalogue(Extension(who): Extension<Principal>) -> Html<String> {
    let rows: Vec<Vec<String>> = api::catalogue_data()
        .iter()
        .map(|c| {
            vec![
                format!(
                    "<a href=\"/findings?control={}\">{}</a>",
                    url_encode(c.id),
                    esc(c.id)
                ),
                format!("<span class=\"sev-{0}\">{0}</span>", c.severity.as_str()),
                esc(c.title),
                esc(&c.frameworks.join(", ")),
            ]
        })
        .collect();
    Html(page(
        "Catalogue",
        Some(&who),
        &table(
            "controls",
            &["control", "severity", "title", "frameworks"],
            &rows,
        ),
    ))
}

pub async fn audit_log(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    let log = state
        .db(|s| s.audit_log(500))
        .await
        .map_err(|e| error_page(&who, e.into()))?;
    let rows: Vec<Vec<String>> = log
        .iter()
        .map(|e| {
            vec![
                esc(&fmt_time(&e.at)),
                esc(&e.actor),
                esc(&e.via),
                esc(&e.action),
                esc(&e.target),
                esc(&e.detail),
            ]
        })
        .collect();
    Ok(Html(page(
        "Audit log",
        Some(&who),
        &table(
            "audit-log",
            &["when", "who", "via", "action", "target", "detail"],
            &rows,
        ),
    ))
    .into_response())
}

pub async fn reports(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<api::ReportQuery>,
) -> PageResult {
    use rampart_report::weekly::WeeklyFormat;
    let weeks_ago = q.weeks_ago.unwrap_or(0).clamp(0, 52);
    let text = api::weekly_report(&state, &q, WeeklyFormat::Markdown)
        .await
        .map_err(fail(&who))?;
    let weeks: String = (0..12)
        .map(|w| {
            let label = if w == 0 {
                "this week".to_string()
            } else {
                format!("{w} week(s) ago")
            };
            let sel = if w == weeks_ago { " selected" } else { "" };
            format!("<option value=\"{w}\"{sel}>{label}</option>")
        })
        .collect();
    let downloads: String = ["html", "markdown", "json"]
        .iter()
        .map(|f| {
            format!(
                " <a href=\"/reports/weekly/{f}?weeks_ago={weeks_ago}\" id=\"download-{f}\" download>{f}</a>"
            )
        })
        .collect();
    let body = format!(
        "<form method=\"get\" action=\"/reports\" class=\"filters\" id=\"report-week\">\
         <label>Week <select name=\"weeks_ago\" id=\"f-weeks_ago\">{weeks}</select></label>\
         <button type=\"submit\">Show</button></form><p>Download:{downloads}</p>\
         <pre id=\"weekly-report\">{}</pre>",
        esc(&text)
    );
    Ok(Html(page("Weekly report", Some(&who), &body)).into_response())
}

/// The weekly report as a file (the HTML one has its own inline style, so it is served as an
/// attachment, never rendered under the dashboard's CSP).
pub async fn report_download(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(format): Path<String>,
    Query(q): Query<api::ReportQuery>,
) -> PageResult {
    use rampart_report::weekly::WeeklyFormat;
    let (fmt, ext, mime) = match format.as_str() {
        "html" => (WeeklyFormat::Html, "html", "text/html; charset=utf-8"),
        "markdown" => (WeeklyFormat::Markdown, "md", "text/markdown; charset=utf-8"),
        "json" => (WeeklyFormat::Json, "json", "application/json"),
        _ => {
            return Err(error_page(
                &who,
                ApiError(
                    StatusCode::NOT_FOUND,
                    "formats: html, markdown, json".into(),
                ),
            ));
        }
    };
    let text = api::weekly_report(&state, &q, fmt)
        .await
        .map_err(fail(&who))?;
    let day = (Utc::now() - chrono::Duration::weeks(q.weeks_ago.unwrap_or(0).clamp(0, 52)))
        .format("%Y-%m-%d");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"weekly-{day}.{ext}\""),
            ),
        ],
        text,
    )
        .into_response())
}
