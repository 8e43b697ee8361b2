//! The schema, one text for both dialects, and its versioned migrations.
//!
//! `meta` holds `application = rampart` and `schema_version`. Opening a store inspects it
//! first, without writing: a database newer than this binary, or one with tables but no
//! rampart `meta`, is refused untouched. Otherwise the missing migrations run in one write
//! transaction (DDL is transactional in both SQLite and PostgreSQL), so a failed migration
//! leaves the previous version.

use crate::db::{Conn, ConnExt, DbError, DbResult, Dialect, Val};

/// One step of the schema. `sql` uses `{BIG}`, `{SMALL}`, `{REAL}` and `{WITHOUT_ROWID}`,
/// spelled per dialect by [`dialect_sql`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: u32,
    pub sql: &'static str,
}

/// Version 1, the first schema. Integer surrogate keys (`fid`) keep events small; events are
/// written only when a finding's (status, open, suppressed) changes.
const V1: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    id {BIG} PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at {BIG} NOT NULL,
    finished_at {BIG} NOT NULL,
    source TEXT NOT NULL,
    organization_id TEXT,
    rampart_version TEXT NOT NULL,
    catalogue_version TEXT NOT NULL,
    framework TEXT,
    scope TEXT NOT NULL,
    accounts {BIG} NOT NULL,
    regions {BIG} NOT NULL,
    pass {BIG} NOT NULL,
    fail {BIG} NOT NULL,
    error {BIG} NOT NULL,
    suppressed {BIG} NOT NULL,
    other {BIG} NOT NULL,
    score {REAL},
    alerts {BIG} NOT NULL,
    changes {BIG} NOT NULL,
    collection_errors {BIG} NOT NULL,
    errors_json TEXT NOT NULL,
    controls TEXT NOT NULL,
    detail_json TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started_at);
CREATE TABLE run_accounts (
    run_id {BIG} NOT NULL,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    ou_path TEXT NOT NULL,
    observed {SMALL} NOT NULL,
    regions TEXT NOT NULL,
    pass {BIG} NOT NULL,
    fail {BIG} NOT NULL,
    error {BIG} NOT NULL,
    suppressed {BIG} NOT NULL,
    PRIMARY KEY (run_id, account_id)
){WITHOUT_ROWID};
CREATE TABLE run_errors (
    run_id {BIG} NOT NULL,
    account_id TEXT NOT NULL,
    control TEXT NOT NULL,
    region TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id, control, region)
){WITHOUT_ROWID};
CREATE TABLE findings (
    fid {BIG} PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    control TEXT NOT NULL,
    title TEXT NOT NULL,
    severity {SMALL} NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource TEXT NOT NULL,
    message TEXT NOT NULL,
    status {SMALL} NOT NULL,
    open {SMALL} NOT NULL,
    suppressed {SMALL} NOT NULL,
    suppressed_reason TEXT,
    suppressed_expires TEXT,
    first_seen {BIG} NOT NULL,
    last_seen {BIG} NOT NULL,
    last_seen_run {BIG} NOT NULL,
    opened_at {BIG},
    resolved_at {BIG},
    reopened {BIG} NOT NULL,
    digest {BIG} NOT NULL
);
CREATE TABLE finding_events (
    fid {BIG} NOT NULL,
    run_id {BIG} NOT NULL,
    at {BIG} NOT NULL,
    kind {SMALL} NOT NULL,
    status {SMALL} NOT NULL,
    open {SMALL} NOT NULL,
    suppressed {SMALL} NOT NULL,
    opened_at {BIG},
    PRIMARY KEY (fid, run_id)
){WITHOUT_ROWID};
CREATE INDEX finding_events_at ON finding_events (at);
CREATE TABLE alerts (
    run_id {BIG} NOT NULL,
    seq {BIG} NOT NULL,
    rule_id TEXT NOT NULL,
    rule_source TEXT NOT NULL,
    title TEXT NOT NULL,
    severity {SMALL} NOT NULL,
    account TEXT,
    region TEXT,
    principal TEXT,
    event_time {BIG},
    event_id TEXT,
    resource TEXT,
    alert_count {BIG} NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE changes (
    run_id {BIG} NOT NULL,
    seq {BIG} NOT NULL,
    change_id TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT,
    action TEXT NOT NULL,
    description TEXT NOT NULL,
    destructive {SMALL} NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE apply_entries (
    run_id {BIG} NOT NULL,
    seq {BIG} NOT NULL,
    time {BIG} NOT NULL,
    change_id TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT,
    api TEXT NOT NULL,
    parameters_json TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE acceptances (
    finding_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    who TEXT NOT NULL,
    expires TEXT,
    created_at {BIG} NOT NULL
);
";

/// Version 3 (numbers are assigned per feature so parallel work merges): alert routing. The
/// router's state as one JSON snapshot, the delivery log (one row per route and delivered key,
/// written as each delivery succeeds, so a restart never sends twice) and acknowledgements
/// (readable by other tools without the snapshot's format). Queries: `routing.rs`.
const V3: &str = "
CREATE TABLE route_state (
    name TEXT PRIMARY KEY,
    snapshot TEXT NOT NULL,
    updated_at {BIG} NOT NULL
);
CREATE TABLE route_deliveries (
    route TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    delivered_at {BIG} NOT NULL,
    PRIMARY KEY (route, delivery_key)
){WITHOUT_ROWID};
CREATE INDEX route_deliveries_time ON route_deliveries (delivered_at);
CREATE TABLE alert_acks (
    alert_id TEXT PRIMARY KEY,
    acked_by TEXT NOT NULL,
    comment TEXT,
    acked_at {BIG} NOT NULL
);
";

/// Version 7, the scheduler (`rampart schedule`, `rampart serve`): one row per job run, written
/// `running` when it starts and finished in place, so a run killed midway is found at the next
/// start; and the cursors a job keeps between runs (the last trail object processed per prefix).
const V7: &str = "
CREATE TABLE job_runs (
    id {BIG} PRIMARY KEY,
    job TEXT NOT NULL,
    scheduled_for {BIG} NOT NULL,
    started_at {BIG} NOT NULL,
    finished_at {BIG},
    status TEXT NOT NULL,
    error TEXT,
    summary_json TEXT NOT NULL,
    run_id {BIG}
);
CREATE INDEX job_runs_job ON job_runs (job, started_at);
CREATE TABLE job_cursors (
    job TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at {BIG} NOT NULL,
    PRIMARY KEY (job, name)
);
";

/// Version 5: drill results (`rampart drill`, module `drills`). Times are epoch seconds, the
/// measured durations milliseconds.
const V5: &str = "
CREATE TABLE drills (
    scenario TEXT NOT NULL,
    account TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started_at {BIG} NOT NULL,
    finished_at {BIG} NOT NULL,
    expected_rule TEXT NOT NULL,
    passed {SMALL} NOT NULL,
    acted TEXT NOT NULL,
    detected TEXT NOT NULL,
    alerted TEXT NOT NULL,
    cleaned TEXT NOT NULL,
    time_to_detect_ms {BIG},
    time_to_alert_ms {BIG},
    alert_id TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (run_id, scenario)
);
CREATE INDEX drills_started ON drills (started_at);
";

/// Every migration, in order. Append only: a released step is never edited.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: V1,
    },
    // Alert routing: per-route state, the delivery log, acknowledgements.
    Migration {
        version: 3,
        sql: V3,
    },
    // `rampart respond`: the containment actions taken and their undo data.
    Migration {
        version: 4,
        sql: crate::respond::V4,
    },
    // `rampart drill`: drill results.
    Migration {
        version: 5,
        sql: V5,
    },
    // `rampart serve`: users, sessions, API tokens, login links, audit log, alert triage.
    Migration {
        version: 6,
        sql: crate::access::MIGRATION_V6,
    },
    // The scheduler: job runs and their cursors.
    Migration {
        version: 7,
        sql: V7,
    },
    // The dashboard's alert list: alert ids and times as columns, indexes for its filters.
    Migration {
        version: 8,
        sql: crate::alert_list::MIGRATION_V8,
    },
    // One alert-state table for the CLI, the router and the dashboard.
    Migration {
        version: 9,
        sql: crate::triage::V9,
    },
    // Indexes for the dashboard's finding filters (open, open by severity, control + status).
    Migration {
        version: 11,
        sql: crate::access::MIGRATION_V11,
    },
    // Two finding indexes that later ones made redundant (each slowed every insert).
    Migration {
        version: 12,
        sql: crate::access::MIGRATION_V12,
    },
];

/// Steps of a migration that SQL cannot express, run right after the migration of that
/// version in the same transaction.
const BACKFILLS: &[(u32, Backfill)] = &[(8, crate::alert_list::backfill_alert_ids)];

type Backfill = fn(&mut dyn Conn) -> DbResult<()>;

/// The schema version this binary writes: the last migration's (versions ascend).
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Spells the type placeholders for one dialect.
pub(crate) fn dialect_sql(sql: &str, dialect: Dialect) -> String {
    let (big, small, real, without_rowid) = match dialect {
        Dialect::Sqlite => ("INTEGER", "INTEGER", "REAL", " WITHOUT ROWID"),
        Dialect::Postgres => ("BIGINT", "SMALLINT", "DOUBLE PRECISION", ""),
    };
    sql.replace("{BIG}", big)
        .replace("{SMALL}", small)
        .replace("{REAL}", real)
        .replace("{WITHOUT_ROWID}", without_rowid)
}

/// What is in a database before rampart touches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// No tables at all: a new store.
    Empty,
    /// A rampart store at this schema version.
    Rampart(u32),
    /// Tables, but not rampart's (the names of a few of them).
    Foreign(Vec<String>),
}

/// Inspects the database without writing.
pub(crate) fn inspect(conn: &mut dyn Conn) -> DbResult<Found> {
    let tables_sql = match conn.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name"
        }
    };
    let tables = conn.query_vec(tables_sql, &[], |r| r.string(0))?;
    if tables.is_empty() {
        return Ok(Found::Empty);
    }
    if !tables.iter().any(|t| t == "meta") {
        return Ok(Found::Foreign(tables.into_iter().take(5).collect()));
    }
    let mut application = None;
    let mut version = None;
    conn.query(
        "SELECT key, value FROM meta WHERE key IN ('application', 'schema_version')",
        &[],
        &mut |r| {
            match r.text0(0)? {
                "application" => application = Some(r.string(1)?),
                _ => version = Some(r.string(1)?),
            }
            Ok(())
        },
    )
    .map_err(|e| DbError(format!("cannot read the meta table ({e})")))?;
    if application.as_deref() != Some("rampart") {
        return Ok(Found::Foreign(tables.into_iter().take(5).collect()));
    }
    let version = version
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| DbError("the meta table has no valid schema_version".into()))?;
    Ok(Found::Rampart(version))
}

/// Runs the migrations after `from` (0 for an empty database) inside the caller's write
/// transaction, and records the new version.
pub(crate) fn migrate(conn: &mut dyn Conn, from: u32, migrations: &[Migration]) -> DbResult<u32> {
    let mut version = from;
    for m in migrations.iter().filter(|m| m.version > from) {
        conn.batch(&dialect_sql(m.sql, conn.dialect()))
            .map_err(|e| {
                DbError(format!(
                    "migration to schema version {} failed: {e}",
                    m.version
                ))
            })?;
        for (_, backfill) in BACKFILLS.iter().filter(|(v, _)| *v == m.version) {
            backfill(conn).map_err(|e| {
                DbError(format!(
                    "migration to schema version {} failed: {e}",
                    m.version
                ))
            })?;
        }
        version = m.version;
    }
    if from == 0 {
        conn.exec(
            "INSERT INTO meta (key, value) VALUES ('application', 'rampart')",
            &[],
        )?;
        conn.exec(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
            &[Val::T(Some(&version.to_string()))],
        )?;
    } else if version != from {
        conn.exec(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            &[Val::T(Some(&version.to_string()))],
        )?;
    }
    Ok(version)
}

/// The newest version a migration list reaches.
pub(crate) fn latest(migrations: &[Migration]) -> u32 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Data tables in dependency-free order, with their columns: what counts, export and copy
/// walk. The `meta` table is not data (copy leaves the destination's own).
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColType)],
    pub order_by: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    Int,
    Text,
    Real,
}

use ColType::{Int, Real, Text};

pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "runs",
        columns: &[
            ("id", Int),
            ("kind", Text),
            ("started_at", Int),
            ("finished_at", Int),
            ("source", Text),
            ("organization_id", Text),
            ("rampart_version", Text),
            ("catalogue_version", Text),
            ("framework", Text),
            ("scope", Text),
            ("accounts", Int),
            ("regions", Int),
            ("pass", Int),
            ("fail", Int),
            ("error", Int),
            ("suppressed", Int),
            ("other", Int),
            ("score", Real),
            ("alerts", Int),
            ("changes", Int),
            ("collection_errors", Int),
            ("errors_json", Text),
            ("controls", Text),
            ("detail_json", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "run_accounts",
        columns: &[
            ("run_id", Int),
            ("account_id", Text),
            ("name", Text),
            ("ou_path", Text),
            ("observed", Int),
            ("regions", Text),
            ("pass", Int),
            ("fail", Int),
            ("error", Int),
            ("suppressed", Int),
        ],
        order_by: "run_id, account_id",
    },
    Table {
        name: "run_errors",
        columns: &[
            ("run_id", Int),
            ("account_id", Text),
            ("control", Text),
            ("region", Text),
        ],
        order_by: "run_id, account_id, control, region",
    },
    Table {
        name: "findings",
        columns: &[
            ("fid", Int),
            ("id", Text),
            ("control", Text),
            ("title", Text),
            ("severity", Int),
            ("account_id", Text),
            ("region", Text),
            ("resource", Text),
            ("message", Text),
            ("status", Int),
            ("open", Int),
            ("suppressed", Int),
            ("suppressed_reason", Text),
            ("suppressed_expires", Text),
            ("first_seen", Int),
            ("last_seen", Int),
            ("last_seen_run", Int),
            ("opened_at", Int),
            ("resolved_at", Int),
            ("reopened", Int),
            ("digest", Int),
        ],
        order_by: "fid",
    },
    Table {
        name: "finding_events",
        columns: &[
            ("fid", Int),
            ("run_id", Int),
            ("at", Int),
            ("kind", Int),
            ("status", Int),
            ("open", Int),
            ("suppressed", Int),
            ("opened_at", Int),
        ],
        order_by: "fid, run_id",
    },
    Table {
        name: "alerts",
        columns: &[
            ("run_id", Int),
            ("seq", Int),
            ("rule_id", Text),
            ("rule_source", Text),
            ("title", Text),
            ("severity", Int),
            ("account", Text),
            ("region", Text),
            ("principal", Text),
            ("event_time", Int),
            ("event_id", Text),
            ("resource", Text),
            ("alert_count", Int),
            ("json", Text),
            ("alert_id", Text),
            ("at", Int),
        ],
        order_by: "run_id, seq",
    },
    Table {
        name: "changes",
        columns: &[
            ("run_id", Int),
            ("seq", Int),
            ("change_id", Text),
            ("account", Text),
            ("region", Text),
            ("action", Text),
            ("description", Text),
            ("destructive", Int),
            ("json", Text),
        ],
        order_by: "run_id, seq",
    },
    Table {
        name: "apply_entries",
        columns: &[
            ("run_id", Int),
            ("seq", Int),
            ("time", Int),
            ("change_id", Text),
            ("account", Text),
            ("region", Text),
            ("api", Text),
            ("parameters_json", Text),
            ("outcome", Text),
        ],
        order_by: "run_id, seq",
    },
    Table {
        name: "acceptances",
        columns: &[
            ("finding_id", Text),
            ("reason", Text),
            ("who", Text),
            ("expires", Text),
            ("created_at", Int),
        ],
        order_by: "finding_id",
    },
    // `rampart serve` (version 6): users and tokens travel with a copy (hashes only); sessions
    // and login links are short-lived and stay behind.
    Table {
        name: "users",
        columns: &[
            ("name", Text),
            ("role", Text),
            ("password_hash", Text),
            ("created_at", Int),
        ],
        order_by: "name",
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("name", Text),
            ("token_hash", Text),
            ("role", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
        ],
        order_by: "name",
    },
    Table {
        name: "audit_log",
        columns: &[
            ("seq", Int),
            ("at", Int),
            ("actor", Text),
            ("via", Text),
            ("action", Text),
            ("target", Text),
            ("detail", Text),
        ],
        order_by: "seq",
    },
    Table {
        name: "route_state",
        columns: &[("name", Text), ("snapshot", Text), ("updated_at", Int)],
        order_by: "name",
    },
    Table {
        name: "route_deliveries",
        columns: &[
            ("route", Text),
            ("delivery_key", Text),
            ("delivered_at", Int),
        ],
        order_by: "route, delivery_key",
    },
    Table {
        name: "alert_acks",
        columns: &[
            ("alert_id", Text),
            ("acked_by", Text),
            ("comment", Text),
            ("acked_at", Int),
            ("state", Text),
            ("assignee", Text),
            ("note", Text),
            ("updated_by", Text),
            ("updated_at", Int),
        ],
        order_by: "alert_id",
    },
    Table {
        name: "respond_actions",
        columns: &[
            ("id", Text),
            ("time", Int),
            ("who", Text),
            ("alert_id", Text),
            ("action", Text),
            ("target", Text),
            ("account", Text),
            ("region", Text),
            ("result", Text),
            ("undoes", Text),
            ("json", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "job_runs",
        columns: &[
            ("id", Int),
            ("job", Text),
            ("scheduled_for", Int),
            ("started_at", Int),
            ("finished_at", Int),
            ("status", Text),
            ("error", Text),
            ("summary_json", Text),
            ("run_id", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "job_cursors",
        columns: &[
            ("job", Text),
            ("name", Text),
            ("value", Text),
            ("updated_at", Int),
        ],
        order_by: "job, name",
    },
    Table {
        name: "drills",
        columns: &[
            ("scenario", Text),
            ("account", Text),
            ("run_id", Text),
            ("started_at", Int),
            ("finished_at", Int),
            ("expected_rule", Text),
            ("passed", Int),
            ("acted", Text),
            ("detected", Text),
            ("alerted", Text),
            ("cleaned", Text),
            ("time_to_detect_ms", Int),
            ("time_to_alert_ms", Int),
            ("alert_id", Text),
            ("detail", Text),
        ],
        order_by: "run_id, scenario",
    },
];
