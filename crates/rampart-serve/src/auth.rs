//! Who is asking and what they may do: roles, password hashes, random secrets, sessions,
//! login throttling, and the guard every route passes.

use crate::AppState;
use crate::routes::{Kind, RouteSpec};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Dashboard roles, each allowed what the one before it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; use viewer, operator or admin"
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user name, or `token:NAME` for an API token.
    pub name: String,
    pub role: Role,
    /// The session's CSRF token (None for API tokens, which are not sent by browsers).
    pub csrf: Option<String>,
}

impl Principal {
    /// `ui` or `api`, for the audit log.
    pub fn via(&self) -> &'static str {
        if self.csrf.is_some() { "ui" } else { "api" }
    }
}

/// 32 random bytes from the OS, hex: session ids, CSRF tokens, API tokens, login links.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    hex::encode(bytes)
}

/// SHA-256 of a high-entropy secret: what the store keeps instead of the secret.
pub fn digest(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// An argon2id PHC string for `password` (OWASP's default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no random source for the salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A password rampart accepts: at least 12 characters (length beats composition rules).
pub fn check_password_policy(password: &str) -> Result<(), String> {
    if password.chars().count() < 12 {
        return Err("the password is shorter than 12 characters; choose a longer one".into());
    }
    Ok(())
}

/// Constant-time equality for secrets of equal length.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Failed logins per user name and per source address, with exponential backoff: after
/// [`Throttle::FREE`] failures each further attempt waits 1, 2, 4 … s (at most 15 min).
#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<String, (u32, Instant)>,
}

impl Throttle {
    pub const FREE: u32 = 3;
    const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

    fn wait_after(failures: u32) -> Duration {
        if failures < Self::FREE {
            return Duration::ZERO;
        }
        let exp = (failures - Self::FREE).min(10);
        Duration::from_secs(1u64 << exp).min(Self::MAX_WAIT)
    }

    /// How long `keys` must still wait before another attempt (the longest of them).
    pub fn wait(&self, keys: &[String], now: Instant) -> Duration {
        keys.iter()
            .filter_map(|k| self.failures.get(k))
            .map(|(n, last)| (*last + Self::wait_after(*n)).saturating_duration_since(now))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    pub fn failed(&mut self, keys: &[String], now: Instant) {
        // Forget entries idle for longer than the longest wait, so the map stays small.
        self.failures
            .retain(|_, (_, last)| now.duration_since(*last) < Self::MAX_WAIT * 2);
        for k in keys {
            let e = self.failures.entry(k.clone()).or_insert((0, now));
            e.0 += 1;
            e.1 = now;
        }
    }

    pub fn succeeded(&mut self, user_key: &str) {
        self.failures.remove(user_key);
    }
}

pub const SESSION_COOKIE: &str = "rampart_session";

/// The session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS.
pub fn session_cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie characters are hex and ASCII")
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client's address: the socket peer, or behind a proxy the first X-Forwarded-For entry.
pub fn client_ip(state: &AppState, req_headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.behind_proxy
        && let Some(first) = req_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return first.trim().to_string();
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A state-changing browser request must come from our own pages: its Origin (or, without
/// one, its Referer) must name the host it was sent to.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(source) = source else {
        return false;
    };
    let rest = source
        .strip_prefix("https://")
        .or_else(|| source.strip_prefix("http://"));
    match rest {
        Some(rest) => rest.split('/').next() == Some(host),
        None => false,
    }
}

fn forbidden(msg: &str) -> Response {
    (StatusCode::FORBIDDEN, msg.to_string()).into_response()
}

fn unauthorized_api() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": "a valid API token is required (Authorization: Bearer TOKEN)"})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// Reads the caller of a page request from its session cookie.
pub(crate) async fn session_principal(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let cookie = cookie_value(headers, SESSION_COOKIE)?.to_string();
    let now = chrono::Utc::now();
    // One trip to the store: under load each trip waits for a free connection.
    let (session, user) = state
        .db(move |s| {
            let Some(session) = s.session(&digest(&cookie), now)? else {
                return Ok(None);
            };
            Ok(s.user(&session.user)?.map(|user| (session, user)))
        })
        .await
        .ok()??;
    Some(Principal {
        name: user.name,
        role: user.role.parse().ok()?,
        csrf: Some(session.csrf),
    })
}

async fn token_principal(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim()
        .to_string();
    let now = chrono::Utc::now();
    let t = state
        .db(move |s| s.live_api_token(&digest(&token), now))
        .await
        .ok()??;
    Some(Principal {
        name: format!("token:{}", t.name),
        role: t.role.parse().ok()?,
        csrf: None,
    })
}

/// The largest form body the guard reads to find the CSRF token.
const MAX_FORM: usize = 64 * 1024;

/// Every route but `/healthz`, `/login` and the assets passes here: authenticate, check the
/// role, and for a state-changing page request check origin and CSRF token.
pub(crate) async fn guard(
    State((state, spec)): State<(AppState, &'static RouteSpec)>,
    req: Request,
    next: Next,
) -> Response {
    let principal = match spec.kind {
        Kind::Api => match token_principal(&state, req.headers()).await {
            Some(p) => p,
            None => return unauthorized_api(),
        },
        Kind::Page => match session_principal(&state, req.headers()).await {
            Some(p) => p,
            None => {
                let next_path = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                let target = if req.method() == Method::GET {
                    format!("/login?next={}", crate::html::url_encode(&next_path))
                } else {
                    "/login".into()
                };
                return Redirect::to(&target).into_response();
            }
        },
    };
    let least = spec.least_role();
    if principal.role < least {
        return match spec.kind {
            Kind::Api => (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "error": format!("this needs the {least} role; the token has {}", principal.role)
                })),
            )
                .into_response(),
            Kind::Page => forbidden(&format!(
                "403: this needs the {least} role; you are {}",
                principal.role
            )),
        };
    }
    let mut req = req;
    if spec.kind == Kind::Page && req.method() != Method::GET && req.method() != Method::HEAD {
        if !same_origin(req.headers()) {
            return forbidden("403: cross-site request refused (Origin/Referer is not this site)");
        }
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_FORM).await {
            Ok(b) => b,
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response(),
        };
        let sent = form_field(&bytes, "csrf");
        let expected = principal.csrf.as_deref().unwrap_or_default();
        if !sent.is_some_and(|s| same_secret(&s, expected)) {
            return forbidden("403: missing or wrong CSRF token; reload the page and try again");
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// One field of an `application/x-www-form-urlencoded` body.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(body);
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (crate::html::url_decode(k), crate::html::url_decode(v))
        })
        .collect()
}

/// The peer address axum recorded for this connection (absent in in-process tests).
pub(crate) fn peer(req_ext: &axum::http::Extensions) -> Option<SocketAddr> {
    req_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}
