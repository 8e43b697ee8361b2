//! rampart's history: every audit, detect, plan/drift and apply run, and every finding's
//! lifecycle, in SQLite (the embedded default, one file) or PostgreSQL (for teams that outgrow
//! one file). One interface ([`Store`]), one schema, the same tests on both backends.
//!
//! # Schema
//! `runs` holds one row per run with its figures (counts, score, scope); `run_accounts` what an
//! audit saw of each account (observed, regions, counts, name, OU path); `run_errors` the
//! (account, control, region) places that reported ERROR. `findings` holds one row per stable
//! finding id with its *current* state, keyed by an integer `fid`; `finding_events` one small
//! row per *change* of a finding's (status, open, suppressed), so the store grows with changes,
//! not with runs × findings. Detect alerts, plan/drift changes, apply audit-log entries and
//! accepted risks have their own tables. `meta` holds the schema version; migrations run on
//! open, and a database newer than the binary, or not rampart's, is refused untouched.
//!
//! # Lifecycle
//! [`lifecycle::step`] is a pure function: FAIL opens a problem period (Opened, or Reopened after
//! an earlier resolution); PASS, NOT_APPLICABLE, MANUAL or disappearance end it (Resolved); ERROR
//! leaves it as it was. A finding absent from a run is *gone* only if that run observed its
//! account, region and control without an ERROR there ([`lifecycle::RunScope::covers`]):
//! an account we could not enter never resolves anything. Suppression (rampart.toml, or an
//! acceptance in the store) is a flag beside the status: a suppressed FAIL stays FAIL but does
//! not count as an open problem. A message change rewrites the row in place without an event;
//! `last_seen` is derived from the runs that covered the finding rather than rewritten on
//! every run.
//!
//! # Why rusqlite and postgres
//! The rest of rampart is synchronous (rayon, blocking readers). sqlx's compile-time-checked
//! queries need a live database or an offline cache at build time, and its async API would
//! force a runtime into every caller. `rusqlite` (bundled SQLite, nothing to install) and the
//! synchronous `postgres` client are small, blocking, and sit behind one internal connection
//! trait, so the schema, the lifecycle and every query are written once.
//!
//! # Concurrency
//! One transaction per recorded run: a crash leaves the previous state. Writers serialize:
//! SQLite in WAL mode with `BEGIN IMMEDIATE` and a 30 s busy timeout, PostgreSQL with a
//! transaction-scoped advisory lock, so two rampart processes recording at once lose nothing.

pub mod access;
#[cfg(test)]
mod access_tests;
mod alert_list;
#[cfg(test)]
mod alert_list_tests;
mod db;
pub mod drills;
mod error;
pub mod jobs;
pub mod lifecycle;
mod maintain;
pub mod model;
mod pg;
mod query;
mod record;
mod respond;
mod routing;
mod schema;
mod services;
mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
mod triage;

pub use access::{ApiTokenRecord, AuditLogEntry, FindingFilter, SessionRecord, UserRecord};
pub use alert_list::{AlertCursor, AlertFilter, AlertTriage, ListedAlert, alert_id};
pub use drills::DrillRow;
pub use error::{ErrorKind, StoreError, redact_url};
pub use jobs::{JobEnd, JobRun, JobRunId, JobStatus};
pub use model::*;
pub use respond::ResponseAction;
pub use routing::RoutingState;
pub use schema::SCHEMA_VERSION;
pub use services::ControlStatus;
pub use triage::{AlertAck, AlertStateRecord};

use db::{Conn, DbError, read_tx, write_tx};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Where a store lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    SqliteMemory,
    SqliteFile(PathBuf),
    Postgres,
}

fn parse_url(url: &str) -> Result<Location, StoreError> {
    let lower = url.to_ascii_lowercase();
    if lower == "sqlite::memory:" || lower == "sqlite://:memory:" {
        return Ok(Location::SqliteMemory);
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(StoreError::new(
                ErrorKind::BadUrl,
                url,
                "the SQLite URL names no file; use sqlite://rampart.db or sqlite:///absolute/path.db",
            ));
        }
        return Ok(Location::SqliteFile(PathBuf::from(path)));
    }
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Ok(Location::Postgres);
    }
    Err(StoreError::new(
        ErrorKind::BadUrl,
        url,
        "not a store URL; use sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DATABASE",
    ))
}

/// A rampart store: SQLite or PostgreSQL behind one interface.
pub struct Store {
    conn: RefCell<Box<dyn Conn + Send>>,
    /// As given (it may hold a password): only ever shown through [`redact_url`].
    raw_url: String,
    backend: &'static str,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url())
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens the store at `url`, creating or migrating its schema. A relative SQLite path is
    /// taken relative to the process's working directory (callers resolve it against
    /// rampart.toml's directory first).
    pub fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, schema::MIGRATIONS)
    }

    fn open_with(url: &str, migrations: &[schema::Migration]) -> Result<Store, StoreError> {
        let (mut conn, backend): (Box<dyn Conn + Send>, &'static str) = match parse_url(url)? {
            Location::SqliteMemory => {
                let c = sqlite::SqliteConn::open(None, true)
                    .map_err(|e| StoreError::new(ErrorKind::Unreachable, url, e.0))?;
                (Box::new(c), "sqlite")
            }
            Location::SqliteFile(path) => (Box::new(open_sqlite_file(url, &path)?), "sqlite"),
            Location::Postgres => {
                let c = pg::PgConn::connect(url).map_err(|e| {
                    StoreError::new(
                        ErrorKind::Unreachable,
                        url,
                        format!(
                            "cannot connect to PostgreSQL ({e}); check that the server is running and the host, port, database, user and password in the URL"
                        ),
                    )
                })?;
                (Box::new(c), "postgres")
            }
        };
        prepare_schema(url, conn.as_mut(), migrations)?;
        Ok(Store {
            conn: RefCell::new(conn),
            raw_url: url.to_string(),
            backend,
        })
    }

    /// Another connection to the same database, its page cache capped at `cache_mb` (a
    /// server's concurrent readers); None for an in-memory store, which no second connection
    /// can see.
    pub fn open_another(&self, cache_mb: u32) -> Result<Option<Store>, StoreError> {
        if parse_url(&self.raw_url)? == Location::SqliteMemory {
            return Ok(None);
        }
        let another = Store::open(&self.raw_url)?;
        another.limit_cache(cache_mb)?;
        Ok(Some(another))
    }

    /// Caps this connection's page cache at `cache_mb` (SQLite; PostgreSQL keeps its cache
    /// in the server).
    pub fn limit_cache(&self, cache_mb: u32) -> Result<(), StoreError> {
        self.conn
            .borrow_mut()
            .limit_cache(i64::from(cache_mb) * 1024)
            .map_err(|e| self.err("cannot set the page cache", e))
    }

    /// Changes whenever a run is recorded or pruned or a risk accepted: the newest run id, the
    /// number of runs, the number of acceptances and the time of the newest. What the
    /// dashboard's cached aggregates are keyed by (findings, their events, alerts and changes
    /// are only ever written with a run).
    pub fn data_version(&self) -> Result<[i64; 4], StoreError> {
        self.read("cannot read the runs", |c| {
            let mut v = [0; 4];
            c.query(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM runs), (SELECT COUNT(*) FROM runs), \
                 (SELECT COUNT(*) FROM acceptances), \
                 (SELECT COALESCE(MAX(created_at), 0) FROM acceptances)",
                &[],
                &mut |r| {
                    for (i, slot) in v.iter_mut().enumerate() {
                        *slot = r.int0(i)?;
                    }
                    Ok(())
                },
            )?;
            Ok(v)
        })
    }

    /// The URL, password redacted.
    pub fn url(&self) -> String {
        redact_url(&self.raw_url)
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        self.backend
    }

    fn err(&self, what: &str, e: DbError) -> StoreError {
        StoreError::new(ErrorKind::Database, &self.raw_url, format!("{what}: {e}"))
    }

    fn read<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, DbError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.borrow_mut();
        read_tx(conn.as_mut(), f).map_err(|e| self.err(what, e))
    }

    fn write<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, DbError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.borrow_mut();
        write_tx(conn.as_mut(), f).map_err(|e| {
            StoreError::new(
                ErrorKind::Database,
                &self.raw_url,
                format!("{what} failed, nothing was written: {e}"),
            )
        })
    }

    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read(
            "cannot read the schema version",
            |c| match schema::inspect(c)? {
                schema::Found::Rampart(v) => Ok(v),
                other => Err(DbError(format!("not a rampart store ({other:?})"))),
            },
        )
    }

    /// Records an audit and steps every finding's lifecycle, in one transaction.
    pub fn record_audit(
        &mut self,
        run: &AuditRun,
        findings: &[rampart_core::Finding],
    ) -> Result<RunId, StoreError> {
        self.write("recording the audit", |c| {
            record::record_audit(c, run, findings)
        })
    }

    pub fn record_detect(
        &mut self,
        run: &DetectRun,
        alerts: &[AlertRow],
    ) -> Result<RunId, StoreError> {
        self.write("recording the detect run", |c| {
            record::record_detect(c, run, alerts)
        })
    }

    pub fn record_plan(
        &mut self,
        run: &PlanRun,
        changes: &[ChangeRow],
    ) -> Result<RunId, StoreError> {
        self.write("recording the plan", |c| {
            record::record_plan(c, run, changes)
        })
    }

    pub fn record_apply(
        &mut self,
        run: &ApplyRun,
        entries: &[ApplyEntry],
    ) -> Result<RunId, StoreError> {
        self.write("recording the apply", |c| {
            record::record_apply(c, run, entries)
        })
    }

    /// Runs that started at or after `since`, newest first (ties: higher id first).
    pub fn runs(
        &self,
        kind: Option<RunKind>,
        since: Option<Time>,
        limit: Option<usize>,
    ) -> Result<Vec<RunSummary>, StoreError> {
        self.read("cannot list runs", |c| query::runs(c, kind, since, limit))
    }

    pub fn run(&self, id: RunId) -> Result<Option<RunSummary>, StoreError> {
        self.read("cannot read the run", |c| query::run(c, id))
    }

    /// What changed between two audit runs.
    pub fn diff(&self, from: RunId, to: RunId) -> Result<Diff, StoreError> {
        for id in [from, to] {
            match self.run(id)? {
                None => {
                    return Err(StoreError::new(
                        ErrorKind::NotFound,
                        &self.raw_url,
                        format!("run {id} does not exist; `rampart history` lists the runs"),
                    ));
                }
                Some(r) if r.kind != RunKind::Audit => {
                    return Err(StoreError::new(
                        ErrorKind::NotFound,
                        &self.raw_url,
                        format!(
                            "run {id} is a {} run; a diff compares two audit runs (`rampart history --kind audit`)",
                            r.kind
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        self.read("cannot compute the diff", |c| query::diff(c, from, to))
    }

    /// Per run, per account figures of every audit since `since`, oldest first.
    pub fn account_scores(&self, since: Time) -> Result<Vec<AccountScore>, StoreError> {
        self.read("cannot read account scores", |c| {
            query::account_scores(c, since)
        })
    }

    /// Every finding's current state, by id.
    pub fn findings(&self) -> Result<Vec<FindingLife>, StoreError> {
        self.read("cannot read findings", query::findings)
    }

    /// Findings whose problem period is open, by id: what a report of open failures needs
    /// without reading every lifecycle.
    pub fn open_findings(&self) -> Result<Vec<FindingLife>, StoreError> {
        self.read("cannot read open findings", query::open_findings)
    }

    /// Findings suppressed now (rampart.toml or an acceptance), by id.
    pub fn suppressed_findings(&self) -> Result<Vec<FindingLife>, StoreError> {
        self.read(
            "cannot read suppressed findings",
            query::suppressed_findings,
        )
    }

    /// The findings with these ids, by id; ids the store does not know are left out.
    pub fn findings_by_ids(&self, ids: &[String]) -> Result<Vec<FindingLife>, StoreError> {
        self.read("cannot read findings", |c| query::findings_by_ids(c, ids))
    }

    /// One finding's events, oldest first.
    pub fn finding_history(&self, id: &str) -> Result<Vec<LifeEvent>, StoreError> {
        self.read("cannot read the finding's history", |c| {
            query::finding_history(c, id)
        })
    }

    /// Events with `from <= at < to`, oldest first.
    pub fn events_between(&self, from: Time, to: Time) -> Result<Vec<LifeEvent>, StoreError> {
        self.read("cannot read events", |c| query::events_between(c, from, to))
    }

    /// Open periods that ended with `from <= resolved_at < to`.
    pub fn remediations(&self, from: Time, to: Time) -> Result<Vec<Remediation>, StoreError> {
        self.read("cannot read remediations", |c| {
            query::remediations(c, from, to)
        })
    }

    /// Alerts with `from <= event_time < to` (the run's start when the alert has no time).
    pub fn alerts(&self, from: Time, to: Time) -> Result<Vec<(RunId, AlertRow)>, StoreError> {
        self.read("cannot read alerts", |c| query::alerts(c, from, to))
    }

    /// Changes of plan (or drift) runs that started in `from..to`.
    pub fn changes(
        &self,
        kind: RunKind,
        from: Time,
        to: Time,
    ) -> Result<Vec<(RunId, ChangeRow)>, StoreError> {
        self.read("cannot read changes", |c| query::changes(c, kind, from, to))
    }

    /// Audit-log entries with `from <= time < to`.
    pub fn apply_entries(
        &self,
        from: Time,
        to: Time,
    ) -> Result<Vec<(RunId, ApplyEntry)>, StoreError> {
        self.read("cannot read apply entries", |c| {
            query::apply_entries(c, from, to)
        })
    }

    /// Accepts a finding's risk (replacing an earlier acceptance of the same finding); it
    /// counts as suppressed from the next recorded audit on, until it expires.
    pub fn accept(&mut self, a: &Acceptance) -> Result<(), StoreError> {
        self.write("recording the acceptance", |c| query::accept(c, a))
    }

    pub fn acceptances(&self) -> Result<Vec<Acceptance>, StoreError> {
        self.read("cannot read acceptances", query::acceptances)
    }

    /// Deletes history before `before`; every finding's current state stays as it was.
    pub fn prune(&mut self, before: Time) -> Result<PruneReport, StoreError> {
        self.write("pruning", |c| maintain::prune(c, before))
    }

    /// Every row as JSON lines (`"type"` names the table); returns the rows written per table.
    pub fn export_jsonl(&self, out: &mut dyn std::io::Write) -> Result<Counts, StoreError> {
        self.read("export", |c| maintain::export_jsonl(c, out))
    }

    /// Copies everything into `dest`, which must be empty, in one transaction, and verifies
    /// that every table has as many rows there as here.
    pub fn copy_to(&self, dest: &mut Store) -> Result<Counts, StoreError> {
        let existing = dest.counts()?;
        if existing.total() > 0 {
            return Err(StoreError::new(
                ErrorKind::NotEmpty,
                &dest.raw_url,
                format!(
                    "the destination already holds data ({existing}); copy into a new, empty database"
                ),
            ));
        }
        let mut src = self.conn.borrow_mut();
        let mut dst = dest.conn.borrow_mut();
        let result = read_tx(src.as_mut(), |s| {
            write_tx(dst.as_mut(), |d| maintain::copy_rows(s, d))
        })
        .and_then(|counts| {
            // A bulk load leaves PostgreSQL without statistics until autovacuum comes by;
            // until then its planner guesses, and the dashboard's queries pick slow plans.
            if dst.dialect() == db::Dialect::Postgres {
                dst.batch("ANALYZE")?;
            }
            Ok(counts)
        });
        result.map_err(|e| {
            StoreError::new(
                ErrorKind::Database,
                &dest.raw_url,
                format!("copy from {} failed, nothing was written: {e}", self.url()),
            )
        })
    }

    /// Rows per table.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.read("cannot count rows", maintain::counts)
    }
}

/// `rampart serve`'s tables (schema version 6): see [`access`].
impl Store {
    /// Adds a user; false when one of that name exists already.
    pub fn add_user(&mut self, u: &UserRecord) -> Result<bool, StoreError> {
        self.write("adding the user", |c| access::add_user(c, u))
    }
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read("cannot list users", access::users)
    }
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read("cannot read the user", |c| access::find_user(c, name))
    }
    pub fn set_user_role(&mut self, name: &str, role: &str) -> Result<bool, StoreError> {
        self.write("changing the role", |c| {
            access::set_user_role(c, name, role)
        })
    }
    /// Replaces the password hash and ends the user's sessions.
    pub fn set_user_password(&mut self, name: &str, hash: &str) -> Result<bool, StoreError> {
        self.write("changing the password", |c| {
            access::set_user_password(c, name, hash)
        })
    }
    /// Removes the user with their sessions and login links.
    pub fn remove_user(&mut self, name: &str) -> Result<bool, StoreError> {
        self.write("removing the user", |c| access::remove_user(c, name))
    }
    pub fn create_session(&mut self, s: &SessionRecord) -> Result<(), StoreError> {
        self.write("opening the session", |c| access::create_session(c, s))
    }
    /// The live session with this digest.
    pub fn session(&self, id_hash: &str, now: Time) -> Result<Option<SessionRecord>, StoreError> {
        self.read("cannot read the session", |c| {
            access::session(c, id_hash, now)
        })
    }
    pub fn delete_session(&mut self, id_hash: &str) -> Result<bool, StoreError> {
        self.write("ending the session", |c| access::delete_session(c, id_hash))
    }
    /// Stores a token; false when one of that name exists already.
    pub fn create_api_token(&mut self, t: &ApiTokenRecord) -> Result<bool, StoreError> {
        self.write("creating the token", |c| access::create_api_token(c, t))
    }
    pub fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>, StoreError> {
        self.read("cannot list tokens", access::api_tokens)
    }
    /// The unrevoked, unexpired token with this digest.
    pub fn live_api_token(
        &self,
        token_hash: &str,
        now: Time,
    ) -> Result<Option<ApiTokenRecord>, StoreError> {
        self.read("cannot read the token", |c| {
            access::live_api_token(c, token_hash, now)
        })
    }
    pub fn revoke_api_token(&mut self, name: &str, at: Time) -> Result<bool, StoreError> {
        self.write("revoking the token", |c| {
            access::revoke_api_token(c, name, at)
        })
    }
    pub fn create_login_link(
        &mut self,
        token_hash: &str,
        user: &str,
        expires_at: Time,
    ) -> Result<(), StoreError> {
        self.write("creating the login link", |c| {
            access::create_login_link(c, token_hash, user, expires_at)
        })
    }
    /// Spends a one-time login link: the user it logs in, once.
    pub fn use_login_link(
        &mut self,
        token_hash: &str,
        now: Time,
    ) -> Result<Option<String>, StoreError> {
        self.write("using the login link", |c| {
            access::use_login_link(c, token_hash, now)
        })
    }
    pub fn append_audit(&mut self, e: &AuditLogEntry) -> Result<(), StoreError> {
        self.write("recording the audit-log entry", |c| {
            access::append_audit(c, e)
        })
    }
    /// The newest `limit` audit-log entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditLogEntry>, StoreError> {
        self.read("cannot read the audit log", |c| access::audit_log(c, limit))
    }
    /// One page of findings matching the filter, by id (keyset on `filter.after`).
    pub fn findings_page(
        &self,
        filter: &FindingFilter,
        limit: usize,
    ) -> Result<Vec<FindingLife>, StoreError> {
        self.read("cannot read findings", |c| {
            access::findings_page(c, filter, limit)
        })
    }
    /// One page of the alert list, newest first (keyset on `filter.after`).
    pub fn alerts_page(
        &self,
        filter: &AlertFilter,
        limit: usize,
    ) -> Result<Vec<ListedAlert>, StoreError> {
        self.read("cannot read alerts", |c| {
            alert_list::alerts_page(c, filter, limit)
        })
    }
    /// The alert with this id, with its triage state.
    pub fn alert_by_id(&self, id: &str) -> Result<Option<ListedAlert>, StoreError> {
        self.read("cannot read the alert", |c| alert_list::alert_by_id(c, id))
    }
    /// Alerts per severity at or after `since`, most severe first.
    pub fn alert_counts(
        &self,
        since: Time,
    ) -> Result<Vec<(rampart_core::Severity, u64)>, StoreError> {
        self.read("cannot count alerts", |c| {
            alert_list::alert_counts(c, since)
        })
    }
    /// The id of the latest run of each kind.
    pub fn last_runs(&self) -> Result<Vec<(RunKind, RunId)>, StoreError> {
        self.read("cannot read the last runs", access::last_runs)
    }
    /// Open, unsuppressed findings per severity, most severe first; with `accepted_on`, not
    /// counting risks accepted in the store and in force that day (the dashboard shows them
    /// SUPPRESSED before the next audit records it).
    pub fn open_by_severity(
        &self,
        accepted_on: Option<chrono::NaiveDate>,
    ) -> Result<Vec<(rampart_core::Severity, u64)>, StoreError> {
        self.read("cannot count open findings", |c| {
            access::open_by_severity(c, accepted_on)
        })
    }
}

/// The first bytes of every SQLite 3 database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn open_sqlite_file(url: &str, path: &Path) -> Result<sqlite::SqliteConn, StoreError> {
    let exists = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(StoreError::new(
                ErrorKind::Unreachable,
                url,
                format!("{} is a directory; name a database file", path.display()),
            ));
        }
        Ok(m) => m.len() > 0,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            return Err(StoreError::new(
                ErrorKind::Unreachable,
                url,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    if exists {
        let mut header = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
        if read.is_err() || &header != SQLITE_HEADER {
            return Err(StoreError::new(
                ErrorKind::Corrupt,
                url,
                format!(
                    "{} is not an SQLite database (or is damaged); it was left untouched — point the store at another file",
                    path.display()
                ),
            ));
        }
    } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(StoreError::new(
            ErrorKind::Unreachable,
            url,
            format!(
                "directory {} does not exist; create it or point the store elsewhere",
                dir.display()
            ),
        ));
    }
    sqlite::SqliteConn::open(Some(path), true).map_err(|e| {
        StoreError::new(
            ErrorKind::Unreachable,
            url,
            format!("cannot open {}: {e}", path.display()),
        )
    })
}

/// Refuses foreign, damaged or newer databases without writing to them, then creates or
/// migrates the schema under the write lock.
fn prepare_schema(
    url: &str,
    conn: &mut dyn Conn,
    migrations: &[schema::Migration],
) -> Result<(), StoreError> {
    let latest = schema::latest(migrations);
    let check = |found: schema::Found| -> Result<u32, StoreError> {
        match found {
            schema::Found::Empty => Ok(0),
            schema::Found::Rampart(v) if v > latest => Err(StoreError::new(
                ErrorKind::TooNew,
                url,
                format!(
                    "schema version {v} is newer than this rampart knows ({latest}); upgrade rampart — the database was not changed"
                ),
            )),
            schema::Found::Rampart(v) => Ok(v),
            schema::Found::Foreign(tables) => Err(StoreError::new(
                ErrorKind::Foreign,
                url,
                format!(
                    "this database has tables that are not rampart's ({}); it was left untouched — point the store at a new file or an empty database",
                    tables.join(", ")
                ),
            )),
        }
    };
    let classify = |e: DbError| {
        let lower = e.0.to_ascii_lowercase();
        let kind = if lower.contains("not a database") || lower.contains("malformed") {
            ErrorKind::Corrupt
        } else {
            ErrorKind::Database
        };
        let advice = if kind == ErrorKind::Corrupt {
            "; it was left untouched — point the store at another file"
        } else {
            ""
        };
        StoreError::new(kind, url, format!("cannot open the store: {e}{advice}"))
    };
    // Look first, without writing (no WAL switch, no lock held beyond the read).
    let found = read_tx(conn, schema::inspect).map_err(classify)?;
    let version = check(found)?;
    // Safe now: the database is empty or ours (SQLite switches to WAL here).
    conn.configure().map_err(classify)?;
    if version == latest {
        return Ok(());
    }
    write_tx(conn, |c| {
        // Another process may have migrated between the look and the lock.
        let now = match schema::inspect(c)? {
            schema::Found::Empty => 0,
            schema::Found::Rampart(v) => v,
            schema::Found::Foreign(t) => {
                return Err(DbError(format!(
                    "tables appeared meanwhile: {}",
                    t.join(", ")
                )));
            }
        };
        if now >= latest {
            return Ok(());
        }
        schema::migrate(c, now, migrations).map(|_| ())
    })
    .map_err(|e| {
        StoreError::new(
            ErrorKind::Database,
            url,
            format!("cannot create or migrate the schema, nothing was changed: {e}"),
        )
    })
}
