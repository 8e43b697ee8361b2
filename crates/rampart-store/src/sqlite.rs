//! The embedded backend: one SQLite file in WAL mode. Writers take the write lock up front
//! (`BEGIN IMMEDIATE`) and wait for each other up to the busy timeout.

use crate::db::{Conn, DbError, DbResult, Dialect, Row, Val};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct SqliteConn {
    conn: Connection,
}

fn err(e: rusqlite::Error) -> DbError {
    DbError(e.to_string())
}

impl SqliteConn {
    /// Opens (or, with `create`, creates) the file without changing it: pragmas that write
    /// (WAL) are set by [`SqliteConn::configure`] once the file is known to be ours.
    pub(crate) fn open(path: Option<&Path>, create: bool) -> DbResult<SqliteConn> {
        let conn = match path {
            None => Connection::open_in_memory().map_err(err)?,
            Some(p) => {
                let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                if create {
                    flags |= OpenFlags::SQLITE_OPEN_CREATE;
                }
                Connection::open_with_flags(p, flags).map_err(err)?
            }
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteConn { conn })
    }

    /// WAL (readers never block the writer), NORMAL sync (durable at checkpoints, never
    /// corrupt), a 64 MB page cache for the first big run.
    fn session(&mut self) -> DbResult<()> {
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        self.conn
            .pragma_update(None, "cache_size", -65536)
            .map_err(err)?;
        self.conn
            .pragma_update(None, "foreign_keys", "OFF")
            .map_err(err)?;
        Ok(())
    }
}

struct P<'a, 'b>(&'b Val<'a>);

impl rusqlite::ToSql for P<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self.0 {
            Val::I(Some(v)) => ToSqlOutput::Owned(Value::Integer(v)),
            Val::T(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::F(Some(f)) => ToSqlOutput::Owned(Value::Real(f)),
            Val::I(None) | Val::T(None) | Val::F(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

struct SqliteRow<'r, 's>(&'r rusqlite::Row<'s>);

impl Row for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> DbResult<Option<i64>> {
        match self.0.get_ref(i).map_err(err)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            ValueRef::Real(f) => Ok(Some(f as i64)),
            other => Err(DbError(format!(
                "column {i}: expected a number, found {:?}",
                other.data_type()
            ))),
        }
    }

    fn text(&self, i: usize) -> DbResult<Option<&str>> {
        match self.0.get_ref(i).map_err(err)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|e| DbError(format!("column {i}: not UTF-8 ({e})"))),
            other => Err(DbError(format!(
                "column {i}: expected text, found {:?}",
                other.data_type()
            ))),
        }
    }

    fn real(&self, i: usize) -> DbResult<Option<f64>> {
        match self.0.get_ref(i).map_err(err)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(f) => Ok(Some(f)),
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            other => Err(DbError(format!(
                "column {i}: expected a number, found {:?}",
                other.data_type()
            ))),
        }
    }
}

impl Conn for SqliteConn {
    fn limit_cache(&mut self, kib: i64) -> DbResult<()> {
        self.conn
            .pragma_update(None, "cache_size", -kib.max(1))
            .map_err(err)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn configure(&mut self) -> DbResult<()> {
        self.session()
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        self.conn.execute_batch(sql).map_err(err)
    }

    fn exec(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(err)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter().map(P)))
            .map_err(err)?;
        Ok(n as u64)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Val<'_>],
        f: &mut dyn FnMut(&dyn Row) -> DbResult<()>,
    ) -> DbResult<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(err)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(P)))
            .map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            f(&SqliteRow(row))?;
        }
        Ok(())
    }

    fn begin_write(&mut self) -> DbResult<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(err)
    }

    fn begin_read(&mut self) -> DbResult<()> {
        self.conn.execute_batch("BEGIN").map_err(err)
    }

    fn commit(&mut self) -> DbResult<()> {
        self.conn.execute_batch("COMMIT").map_err(err)
    }

    fn rollback(&mut self) -> DbResult<()> {
        self.conn.execute_batch("ROLLBACK").map_err(err)
    }

    fn bulk_insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Val<'_>>>,
    ) -> DbResult<u64> {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            crate::db::placeholders(1, columns.len())
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(err)?;
        let mut n = 0;
        for row in rows {
            stmt.execute(rusqlite::params_from_iter(row.iter().map(P)))
                .map_err(err)?;
            n += 1;
        }
        Ok(n)
    }
}
