//! What `rampart serve` keeps beside the history (schema version 6): local users, their
//! sessions, API tokens, one-time login links, the audit log of every change made through the
//! dashboard or its API (alert triage moved to `triage` in version 9). Secrets are never
//! stored in clear: passwords as argon2id hashes, session ids, tokens and login links as SHA-256 digests (they
//! are high-entropy random values), all computed by the caller.
//!
//! The dashboard's finding list also lives here: one filtered, keyset-paginated query, so a
//! page reads `limit` rows however large the store grows.

use crate::db::{Conn, ConnExt, DbResult, Dialect, OwnedVal, Row, Val};
use crate::model::{FindingLife, LifeStatus, RunKind, Time};
use crate::query::{read_findings, with_last_seen};
use crate::record::{epoch, severity_code, time};
use rampart_core::Severity;
use serde::{Deserialize, Serialize};

/// A local user of the dashboard. `role` is `viewer`, `operator` or `admin` (the server
/// checks it; the store keeps text so a new role needs no migration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub role: String,
    /// A PHC string (`$argon2id$...`); never shown.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created_at: Time,
}

/// A server-side session, found by the digest of its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user: String,
    /// The synchronizer token every form of this session carries.
    pub csrf: String,
    pub created_at: Time,
    pub expires_at: Time,
}

/// An API token: its digest, the role it acts with, when it expires, and whether it was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    pub name: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub role: String,
    pub created_by: String,
    pub created_at: Time,
    pub expires_at: Time,
    pub revoked_at: Option<Time>,
}

/// One change made through the dashboard, the API or the `serve` commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogEntry {
    pub at: Time,
    /// The user name, or `token:NAME` for an API token.
    pub actor: String,
    /// `ui`, `api` or `cli`.
    pub via: String,
    /// What was done, e.g. `finding.accept`, `alert.acknowledge`, `user.add`.
    pub action: String,
    /// What it was done to (a finding id, an alert id, a user name).
    pub target: String,
    /// Free text: the reason, the comment, the new role.
    pub detail: String,
}

/// What the dashboard's finding list filters on; every field is optional (None: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Only these controls (the server turns a framework into its controls).
    pub controls: Option<Vec<String>>,
    /// Only these accounts (the server turns an OU into its accounts).
    pub accounts: Option<Vec<String>>,
    pub severity: Option<Severity>,
    /// `open`, `suppressed`, `resolved`, or a status (`FAIL`, `PASS`, `ERROR`, …).
    pub status: Option<String>,
    pub region: Option<String>,
    /// Substring of the id, resource, message or title.
    pub search: Option<String>,
    /// Only problems opened at or before this time (the age filter).
    pub opened_before: Option<Time>,
    /// Keyset: only ids after this one.
    pub after: Option<String>,
    /// With `suppressed` and `open`: a risk accepted in the store and in force on this day
    /// counts as suppressed, as the dashboard shows it, before the next audit records it.
    /// None: only what the last audit recorded.
    pub accepted_on: Option<chrono::NaiveDate>,
}

pub(crate) const MIGRATION_V6: &str = "
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at {BIG} NOT NULL
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at {BIG} NOT NULL,
    expires_at {BIG} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {BIG} NOT NULL,
    expires_at {BIG} NOT NULL,
    revoked_at {BIG}
);
CREATE TABLE login_links (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    expires_at {BIG} NOT NULL,
    used_at {BIG}
);
CREATE TABLE audit_log (
    seq {BIG} PRIMARY KEY,
    at {BIG} NOT NULL,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TABLE alert_state (
    alert_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    assignee TEXT,
    comment TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {BIG} NOT NULL
);
CREATE INDEX findings_severity_id ON findings (severity, id);
CREATE INDEX findings_account_id ON findings (account_id, id);
CREATE INDEX findings_control_id ON findings (control, id);
CREATE INDEX alerts_event_time ON alerts (event_time);
";

/// Version 11: indexes for the finding list's expensive filters, each ending with its `id`
/// order so a page is a short range scan. Open findings are a small share of the history, so
/// the partial indexes on `open <> 0` are small and let the open filters walk in id order.
pub(crate) const MIGRATION_V11: &str = "
CREATE INDEX findings_open_id ON findings (id) WHERE open <> 0;
CREATE INDEX findings_open_severity_id ON findings (severity, id) WHERE open <> 0;
CREATE INDEX findings_control_status_id ON findings (control, status, id);
";

/// Version 12: `findings_control_id (control, id)` is served by `findings_control_status_id`
/// (a control's findings are one range of it; a page of them sorts a few thousand rows) and
/// `findings_open_severity (open, suppressed, severity)` by `findings_open_severity_id` (the
/// open counts by severity read the partial index). Every index costs each finding inserted:
/// the seven of version 11 made recording a first audit of 428,000 findings 3× slower.
pub(crate) const MIGRATION_V12: &str = "
DROP INDEX IF EXISTS findings_control_id;
DROP INDEX IF EXISTS findings_open_severity;
";

/// Above this many accounts (an OU) or controls (a framework) in a filter, SQLite is kept from
/// driving the query by the account or control index: it would read and sort every match of
/// the list, where walking the id order stops after one page (a framework's page: 110 ms → 1 ms
/// on 1,000,000 findings).
const INDEX_LIST_MAX: usize = 16;

fn user(r: &dyn Row) -> DbResult<UserRecord> {
    Ok(UserRecord {
        name: r.string(0)?,
        role: r.string(1)?,
        password_hash: r.string(2)?,
        created_at: time(r.int0(3)?),
    })
}

pub(crate) fn add_user(c: &mut dyn Conn, u: &UserRecord) -> DbResult<bool> {
    if c.query_int("SELECT 1 FROM users WHERE name = ?1", &[Val::from(&u.name)])?
        .is_some()
    {
        return Ok(false);
    }
    c.exec(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        &[
            Val::from(&u.name),
            Val::from(&u.role),
            Val::from(&u.password_hash),
            Val::int(epoch(u.created_at)),
        ],
    )?;
    Ok(true)
}

pub(crate) fn users(c: &mut dyn Conn) -> DbResult<Vec<UserRecord>> {
    c.query_vec(
        "SELECT name, role, password_hash, created_at FROM users ORDER BY name",
        &[],
        user,
    )
}

pub(crate) fn find_user(c: &mut dyn Conn, name: &str) -> DbResult<Option<UserRecord>> {
    Ok(c.query_vec(
        "SELECT name, role, password_hash, created_at FROM users WHERE name = ?1",
        &[Val::from(name)],
        user,
    )?
    .pop())
}

pub(crate) fn set_user_role(c: &mut dyn Conn, name: &str, role: &str) -> DbResult<bool> {
    Ok(c.exec(
        "UPDATE users SET role = ?2 WHERE name = ?1",
        &[Val::from(name), Val::from(role)],
    )? > 0)
}

pub(crate) fn set_user_password(c: &mut dyn Conn, name: &str, hash: &str) -> DbResult<bool> {
    let changed = c.exec(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        &[Val::from(name), Val::from(hash)],
    )? > 0;
    // A new password ends every session opened with the old one.
    c.exec(
        "DELETE FROM sessions WHERE user_name = ?1",
        &[Val::from(name)],
    )?;
    Ok(changed)
}

/// Removes the user and ends their sessions.
pub(crate) fn remove_user(c: &mut dyn Conn, name: &str) -> DbResult<bool> {
    c.exec(
        "DELETE FROM sessions WHERE user_name = ?1",
        &[Val::from(name)],
    )?;
    c.exec(
        "DELETE FROM login_links WHERE user_name = ?1",
        &[Val::from(name)],
    )?;
    Ok(c.exec("DELETE FROM users WHERE name = ?1", &[Val::from(name)])? > 0)
}

/// Stores a new session and drops the expired ones (every login tidies up).
pub(crate) fn create_session(c: &mut dyn Conn, s: &SessionRecord) -> DbResult<()> {
    c.exec(
        "DELETE FROM sessions WHERE expires_at <= ?1",
        &[Val::int(epoch(s.created_at))],
    )?;
    c.exec(
        "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            Val::from(&s.id_hash),
            Val::from(&s.user),
            Val::from(&s.csrf),
            Val::int(epoch(s.created_at)),
            Val::int(epoch(s.expires_at)),
        ],
    )?;
    Ok(())
}

/// The session with this digest if it has not expired at `now`.
pub(crate) fn session(
    c: &mut dyn Conn,
    id_hash: &str,
    now: Time,
) -> DbResult<Option<SessionRecord>> {
    Ok(c.query_vec(
        "SELECT id_hash, user_name, csrf, created_at, expires_at FROM sessions \
         WHERE id_hash = ?1 AND expires_at > ?2",
        &[Val::from(id_hash), Val::int(epoch(now))],
        |r| {
            Ok(SessionRecord {
                id_hash: r.string(0)?,
                user: r.string(1)?,
                csrf: r.string(2)?,
                created_at: time(r.int0(3)?),
                expires_at: time(r.int0(4)?),
            })
        },
    )?
    .pop())
}

pub(crate) fn delete_session(c: &mut dyn Conn, id_hash: &str) -> DbResult<bool> {
    Ok(c.exec(
        "DELETE FROM sessions WHERE id_hash = ?1",
        &[Val::from(id_hash)],
    )? > 0)
}

const TOKEN_COLUMNS: &str =
    "name, token_hash, role, created_by, created_at, expires_at, revoked_at";

fn token(r: &dyn Row) -> DbResult<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        name: r.string(0)?,
        token_hash: r.string(1)?,
        role: r.string(2)?,
        created_by: r.string(3)?,
        created_at: time(r.int0(4)?),
        expires_at: time(r.int0(5)?),
        revoked_at: r.int(6)?.map(time),
    })
}

/// False when a token of that name exists already.
pub(crate) fn create_api_token(c: &mut dyn Conn, t: &ApiTokenRecord) -> DbResult<bool> {
    if c.query_int(
        "SELECT 1 FROM api_tokens WHERE name = ?1",
        &[Val::from(&t.name)],
    )?
    .is_some()
    {
        return Ok(false);
    }
    c.exec(
        &format!("INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        &[
            Val::from(&t.name),
            Val::from(&t.token_hash),
            Val::from(&t.role),
            Val::from(&t.created_by),
            Val::int(epoch(t.created_at)),
            Val::int(epoch(t.expires_at)),
            Val::I(t.revoked_at.map(epoch)),
        ],
    )?;
    Ok(true)
}

pub(crate) fn api_tokens(c: &mut dyn Conn) -> DbResult<Vec<ApiTokenRecord>> {
    c.query_vec(
        &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name"),
        &[],
        token,
    )
}

/// The token with this digest if it is neither revoked nor expired at `now`.
pub(crate) fn live_api_token(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Time,
) -> DbResult<Option<ApiTokenRecord>> {
    Ok(c.query_vec(
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens \
             WHERE token_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2"
        ),
        &[Val::from(token_hash), Val::int(epoch(now))],
        token,
    )?
    .pop())
}

pub(crate) fn revoke_api_token(c: &mut dyn Conn, name: &str, at: Time) -> DbResult<bool> {
    Ok(c.exec(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
        &[Val::from(name), Val::int(epoch(at))],
    )? > 0)
}

pub(crate) fn create_login_link(
    c: &mut dyn Conn,
    token_hash: &str,
    user: &str,
    expires_at: Time,
) -> DbResult<()> {
    c.exec(
        "INSERT INTO login_links (token_hash, user_name, expires_at) VALUES (?1, ?2, ?3)",
        &[
            Val::from(token_hash),
            Val::from(user),
            Val::int(epoch(expires_at)),
        ],
    )?;
    Ok(())
}

/// Spends a login link: the user it names if it is unused and unexpired at `now`, and it can
/// never be used again (the update and the check are one statement under the write lock).
pub(crate) fn use_login_link(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Time,
) -> DbResult<Option<String>> {
    let user = c
        .query_vec(
            "SELECT user_name FROM login_links WHERE token_hash = ?1 AND used_at IS NULL \
             AND expires_at > ?2",
            &[Val::from(token_hash), Val::int(epoch(now))],
            |r| r.string(0),
        )?
        .pop();
    if user.is_some() {
        c.exec(
            "UPDATE login_links SET used_at = ?2 WHERE token_hash = ?1",
            &[Val::from(token_hash), Val::int(epoch(now))],
        )?;
    }
    Ok(user)
}

pub(crate) fn append_audit(c: &mut dyn Conn, e: &AuditLogEntry) -> DbResult<()> {
    // Writers hold the store's write lock, so MAX + 1 cannot race.
    let seq = c
        .query_int("SELECT MAX(seq) FROM audit_log", &[])?
        .unwrap_or(0)
        + 1;
    c.exec(
        "INSERT INTO audit_log (seq, at, actor, via, action, target, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            Val::int(seq),
            Val::int(epoch(e.at)),
            Val::from(&e.actor),
            Val::from(&e.via),
            Val::from(&e.action),
            Val::from(&e.target),
            Val::from(&e.detail),
        ],
    )?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub(crate) fn audit_log(c: &mut dyn Conn, limit: usize) -> DbResult<Vec<AuditLogEntry>> {
    c.query_vec(
        "SELECT at, actor, via, action, target, detail FROM audit_log ORDER BY seq DESC LIMIT ?1",
        &[Val::int(limit as i64)],
        |r| {
            Ok(AuditLogEntry {
                at: time(r.int0(0)?),
                actor: r.string(1)?,
                via: r.string(2)?,
                action: r.string(3)?,
                target: r.string(4)?,
                detail: r.string(5)?,
            })
        },
    )
}

/// One page of findings matching `f`, by id, at most `limit` (the caller asks for one more
/// than it shows to know whether a next page exists).
pub(crate) fn findings_page(
    c: &mut dyn Conn,
    f: &FindingFilter,
    limit: usize,
) -> DbResult<Vec<FindingLife>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<OwnedVal> = Vec::new();
    // Pushes a parameter and returns its `?N`.
    let bind = |params: &mut Vec<OwnedVal>, v: OwnedVal| {
        params.push(v);
        format!("?{}", params.len())
    };
    for (column, list) in [("control", &f.controls), ("account_id", &f.accounts)] {
        if let Some(list) = list {
            if list.is_empty() {
                return Ok(Vec::new());
            }
            let ps: Vec<String> = list
                .iter()
                .map(|v| bind(&mut params, OwnedVal::T(Some(v.clone()))))
                .collect();
            // `+column` hides the column from SQLite's index choice (not valid PostgreSQL, whose
            // planner weighs the LIMIT itself).
            let unindexed = list.len() > INDEX_LIST_MAX && c.dialect() == Dialect::Sqlite;
            let operand = if unindexed { "+" } else { "" };
            clauses.push(format!("{operand}{column} IN ({})", ps.join(", ")));
        }
    }
    if let Some(region) = &f.region {
        let p = bind(&mut params, OwnedVal::T(Some(region.clone())));
        clauses.push(format!("region = {p}"));
    }
    if let Some(search) = &f.search {
        let like = format!("%{}%", search.replace(['%', '_'], ""));
        let p = bind(&mut params, OwnedVal::T(Some(like)));
        clauses.push(format!(
            "(id LIKE {p} OR resource LIKE {p} OR message LIKE {p} OR title LIKE {p})"
        ));
    }
    if let Some(after) = &f.after {
        let p = bind(&mut params, OwnedVal::T(Some(after.clone())));
        clauses.push(format!("id > {p}"));
    }
    if let Some(sev) = f.severity {
        let p = bind(&mut params, OwnedVal::I(Some(severity_code(sev))));
        clauses.push(format!("severity = {p}"));
    }
    if let Some(before) = f.opened_before {
        let p = bind(&mut params, OwnedVal::I(Some(epoch(before))));
        clauses.push(format!("open <> 0 AND opened_at <= {p}"));
    }
    // Risks accepted since the last audit (the page shows them SUPPRESSED already).
    let accepted = |params: &mut Vec<OwnedVal>| {
        f.accepted_on.map(|day| {
            let p = bind(
                params,
                OwnedVal::T(Some(day.format("%Y-%m-%d").to_string())),
            );
            format!("SELECT finding_id FROM acceptances WHERE expires IS NULL OR expires >= {p}")
        })
    };
    match f.status.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("") | Some("ANY") => {}
        Some("OPEN") => clauses.push(match accepted(&mut params) {
            Some(sub) => format!("open <> 0 AND suppressed = 0 AND id NOT IN ({sub})"),
            None => "open <> 0 AND suppressed = 0".into(),
        }),
        Some("SUPPRESSED") => clauses.push(match accepted(&mut params) {
            Some(sub) => format!("(suppressed <> 0 OR id IN ({sub}))"),
            None => "suppressed <> 0".into(),
        }),
        Some(other) => {
            let code = [
                LifeStatus::Pass,
                LifeStatus::Fail,
                LifeStatus::Error,
                LifeStatus::NotApplicable,
                LifeStatus::Manual,
                LifeStatus::Gone,
            ]
            .into_iter()
            .find(|s| s.as_str() == other)
            .map_or(-1, LifeStatus::code);
            let p = bind(&mut params, OwnedVal::I(Some(code)));
            clauses.push(format!("status = {p}"));
        }
    }
    let p = bind(&mut params, OwnedVal::I(Some(limit as i64)));
    let filter = format!(
        "{} ORDER BY id LIMIT {p}",
        if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        }
    );
    let vals: Vec<Val> = params.iter().map(OwnedVal::as_val).collect();
    let mut out = Vec::new();
    read_findings(c, &filter, &vals, &mut out)?;
    with_last_seen(c, out)
}

/// The latest run of each kind, newest first within the list.
pub(crate) fn last_runs(c: &mut dyn Conn) -> DbResult<Vec<(RunKind, i64)>> {
    c.query_vec(
        "SELECT kind, MAX(id) FROM runs GROUP BY kind ORDER BY kind",
        &[],
        |r| {
            let kind: RunKind = r
                .text0(0)?
                .parse()
                .map_err(|e: String| crate::db::DbError(e))?;
            Ok((kind, r.int0(1)?))
        },
    )
}

/// Open, unsuppressed findings per severity code; with `accepted_on`, risks accepted in the
/// store and in force that day are left out too (as the `open` filter of [`findings_page`]).
pub(crate) fn open_by_severity(
    c: &mut dyn Conn,
    accepted_on: Option<chrono::NaiveDate>,
) -> DbResult<Vec<(Severity, u64)>> {
    let day = accepted_on.map(|d| d.format("%Y-%m-%d").to_string());
    let (accepted, params) = match &day {
        Some(d) => (
            " AND id NOT IN (SELECT finding_id FROM acceptances \
             WHERE expires IS NULL OR expires >= ?1)",
            vec![Val::from(d.as_str())],
        ),
        None => ("", Vec::new()),
    };
    c.query_vec(
        &format!(
            "SELECT severity, COUNT(*) FROM findings WHERE open <> 0 AND suppressed = 0{accepted} \
             GROUP BY severity ORDER BY severity DESC"
        ),
        &params,
        |r| {
            Ok((
                crate::record::severity_from(r.int0(0)?),
                r.int0(1)?.max(0) as u64,
            ))
        },
    )
}
