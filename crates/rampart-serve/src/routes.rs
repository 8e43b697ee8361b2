//! The route table: every route once, with its method, path, role and handler. The router,
//! the guard, the OpenAPI document and the role tests are all derived from it.

use crate::auth::{self, Role};
use crate::{AppState, api, pages};
use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

/// Who a route answers: pages answer sessions (anonymous → redirect to /login), the API
/// answers bearer tokens (anonymous → 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Page,
    Api,
}

pub struct RouteSpec {
    pub method: &'static str,
    /// axum syntax: `/findings/{id}`.
    pub path: &'static str,
    /// The least role allowed; None: anonymous (only health, login and the assets).
    pub role: Option<Role>,
    pub kind: Kind,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
    pub handler: fn() -> MethodRouter<AppState>,
}

impl RouteSpec {
    /// The role as a guard needs it (anonymous routes are never guarded).
    pub fn least_role(&self) -> Role {
        self.role.unwrap_or(Role::Viewer)
    }
}

macro_rules! route {
    ($method:literal, $path:literal, $role:expr, $kind:ident, $summary:literal, $h:expr) => {
        RouteSpec {
            method: $method,
            path: $path,
            role: $role,
            kind: Kind::$kind,
            summary: $summary,
            handler: || $h,
        }
    };
}

const V: Option<Role> = Some(Role::Viewer);
const O: Option<Role> = Some(Role::Operator);
const A: Option<Role> = Some(Role::Admin);

pub static ROUTES: &[RouteSpec] = &[
    route!("GET", "/healthz", None, Page, "Liveness", get(healthz)),
    route!(
        "GET",
        "/login",
        None,
        Page,
        "Login form",
        get(pages::login_form)
    ),
    route!("POST", "/login", None, Page, "Log in", post(pages::login)),
    route!(
        "GET",
        "/login/link/{token}",
        None,
        Page,
        "One-time login link",
        get(pages::login_link)
    ),
    route!(
        "GET",
        "/static/{file}",
        None,
        Page,
        "Embedded assets",
        get(asset)
    ),
    route!("POST", "/logout", V, Page, "Log out", post(pages::logout)),
    route!("GET", "/", V, Page, "Overview", get(pages::overview)),
    route!(
        "GET",
        "/findings",
        V,
        Page,
        "Findings",
        get(pages::findings)
    ),
    route!(
        "GET",
        "/findings/{id}",
        V,
        Page,
        "A finding",
        get(pages::finding)
    ),
    route!(
        "POST",
        "/findings/{id}/accept",
        O,
        Page,
        "Accept a risk",
        post(pages::accept)
    ),
    route!(
        "GET",
        "/accounts",
        V,
        Page,
        "Accounts",
        get(pages::accounts)
    ),
    route!("GET", "/alerts", V, Page, "Alerts", get(pages::alerts)),
    route!(
        "GET",
        "/alerts/{id}",
        V,
        Page,
        "An alert",
        get(pages::alert)
    ),
    route!(
        "POST",
        "/alerts/{id}/state",
        O,
        Page,
        "Triage an alert",
        post(pages::alert_state)
    ),
    route!("GET", "/drift", V, Page, "Drift", get(pages::drift)),
    route!(
        "POST",
        "/drift/apply",
        A,
        Page,
        "Apply the pending changes of the plan shown",
        post(pages::drift_apply)
    ),
    route!(
        "GET",
        "/catalogue",
        V,
        Page,
        "Catalogue",
        get(pages::catalogue)
    ),
    route!(
        "GET",
        "/reports",
        V,
        Page,
        "Weekly reports",
        get(pages::reports)
    ),
    route!(
        "GET",
        "/reports/weekly/{format}",
        V,
        Page,
        "A weekly report as a file",
        get(pages::report_download)
    ),
    route!(
        "GET",
        "/audit-log",
        A,
        Page,
        "Audit log",
        get(pages::audit_log)
    ),
    route!(
        "GET",
        "/api/v1/overview",
        V,
        Api,
        "Score, open findings by severity, last runs, recent alerts",
        get(api::overview)
    ),
    route!(
        "GET",
        "/api/v1/findings",
        V,
        Api,
        "Findings, filtered, keyset-paginated (after=ID)",
        get(api::findings)
    ),
    route!(
        "GET",
        "/api/v1/findings/{id}",
        V,
        Api,
        "A finding with its history and remediation",
        get(api::finding)
    ),
    route!(
        "POST",
        "/api/v1/findings/{id}/accept",
        O,
        Api,
        "Accept a finding's risk (JSON: reason, expires)",
        post(api::accept)
    ),
    route!(
        "GET",
        "/api/v1/accounts",
        V,
        Api,
        "Accounts of the last audit: posture and security services per region",
        get(api::accounts)
    ),
    route!(
        "GET",
        "/api/v1/alerts",
        V,
        Api,
        "Alerts of the last `days` days with their triage state, newest first, keyset-paginated (Link rel=next)",
        get(api::alerts)
    ),
    route!(
        "GET",
        "/api/v1/alerts/{id}",
        V,
        Api,
        "An alert with the event behind it",
        get(api::alert)
    ),
    route!(
        "POST",
        "/api/v1/alerts/{id}/state",
        O,
        Api,
        "Acknowledge, assign or resolve an alert (JSON: state, assignee, comment)",
        post(api::alert_state)
    ),
    route!(
        "GET",
        "/api/v1/drift",
        V,
        Api,
        "Pending changes of the last plan or drift run",
        get(api::drift)
    ),
    route!(
        "POST",
        "/api/v1/drift/apply",
        A,
        Api,
        "Apply the pending changes of the latest plan or drift run (JSON: run_id, confirm: \"yes\" when it has destructive changes)",
        post(api::drift_apply)
    ),
    route!(
        "GET",
        "/api/v1/catalogue",
        V,
        Api,
        "The control catalogue",
        get(api::catalogue)
    ),
    route!(
        "GET",
        "/api/v1/reports/weekly",
        V,
        Api,
        "The weekly report (weeks_ago=N) as JSON",
        get(api::report)
    ),
    route!(
        "GET",
        "/api/v1/audit-log",
        A,
        Api,
        "Changes made through the dashboard and API",
        get(api::audit_log)
    ),
    route!(
        "GET",
        "/api/v1/openapi.json",
        V,
        Api,
        "This document",
        get(api::openapi)
    ),
    route!(
        "GET",
        "/metrics",
        V,
        Api,
        "Prometheus metrics",
        get(api::metrics)
    ),
];

/// Every route of [`ROUTES`], guarded unless anonymous, inside the security headers.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for spec in ROUTES {
        let method_router = (spec.handler)();
        let method_router = if spec.role.is_some() {
            method_router.route_layer(middleware::from_fn_with_state(
                (state.clone(), spec),
                auth::guard,
            ))
        } else {
            method_router
        };
        router = router.route(spec.path, method_router);
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404: no such page").into_response()
}

/// The CSP allows our own script and stylesheet only: no inline code, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

async fn security_headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if is_asset {
            "public, max-age=3600"
        } else {
            "no-store"
        }),
    );
    resp
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// The embedded assets: nothing is fetched from elsewhere.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../assets/icon.svg"),
    ),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, bytes)) => ([(header::CONTENT_TYPE, *mime)], *bytes).into_response(),
        None => not_found().await,
    }
}
