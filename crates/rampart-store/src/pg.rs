//! The PostgreSQL backend: the synchronous `postgres` client without TLS (loopback or unix
//! socket). Writers serialize on a transaction-scoped advisory lock; bulk rows go in by COPY.

use crate::db::{Conn, DbError, DbResult, Dialect, Row, Val};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

/// The advisory lock every rampart writer takes ("rampart" in ASCII).
const WRITE_LOCK: i64 = 0x0072_616d_7061_7274;

pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

fn err(e: postgres::Error) -> DbError {
    // The source (e.g. "Connection refused (os error 111)") is what says what happened.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    DbError(text)
}

impl PgConn {
    pub(crate) fn connect(url: &str) -> DbResult<PgConn> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| DbError(format!("not a PostgreSQL URL ({e})")))?;
        // libpq reads PGPASSWORD; the Rust client does not, so do it here (never printed).
        if config.get_password().is_none()
            && let Ok(password) = std::env::var("PGPASSWORD")
        {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut client = config.connect(NoTls).map_err(err)?;
        // Quiet NOTICEs (e.g. "relation already exists") would otherwise go to the log.
        // Every statement is planned for its own parameters: after five executions of a
        // prepared statement PostgreSQL may switch to a generic plan, which guesses the
        // selectivity of a range such as `run_id > $1 AND run_id < $2` and cannot hash an
        // `IN ($3, …)` list — the scopes of a 500-finding page took 240 ms that way against 3 ms
        // planned for its values. Planning costs well under a millisecond for these statements.
        client
            .batch_execute(
                "SET client_min_messages = WARNING; SET plan_cache_mode = force_custom_plan",
            )
            .map_err(err)?;
        Ok(PgConn {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> DbResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client.prepare(&dollar_params(sql)).map_err(err)?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

/// `?1` → `$1` (the store's SQL never has `?` elsewhere).
fn dollar_params(sql: &str) -> String {
    sql.replace('?', "$")
}

/// A parameter converted to the type PostgreSQL inferred for it.
fn param<'a>(v: &Val<'a>, ty: &Type) -> DbResult<Box<dyn ToSql + Sync + 'a>> {
    Ok(match (*v, ty) {
        (Val::I(x), t) if *t == Type::INT2 => Box::new(
            x.map(i16::try_from)
                .transpose()
                .map_err(|_| DbError(format!("{x:?} does not fit a SMALLINT")))?,
        ),
        (Val::I(x), t) if *t == Type::INT4 => Box::new(
            x.map(i32::try_from)
                .transpose()
                .map_err(|_| DbError(format!("{x:?} does not fit an INTEGER")))?,
        ),
        (Val::I(x), t) if *t == Type::INT8 => Box::new(x),
        (Val::I(x), t) if *t == Type::FLOAT8 => Box::new(x.map(|v| v as f64)),
        (Val::F(x), t) if *t == Type::FLOAT8 => Box::new(x),
        (Val::T(x), _) => Box::new(x),
        (v, t) => return Err(DbError(format!("parameter {v:?} cannot be sent as {t}"))),
    })
}

struct PgRow<'r>(&'r postgres::Row);

impl Row for PgRow<'_> {
    fn int(&self, i: usize) -> DbResult<Option<i64>> {
        let ty = self
            .0
            .columns()
            .get(i)
            .map(|c| c.type_().clone())
            .ok_or_else(|| DbError(format!("no column {i}")))?;
        let get = |e: postgres::Error| DbError(format!("column {i}: {e}"));
        Ok(match ty {
            Type::INT2 => self
                .0
                .try_get::<_, Option<i16>>(i)
                .map_err(get)?
                .map(i64::from),
            Type::INT4 => self
                .0
                .try_get::<_, Option<i32>>(i)
                .map_err(get)?
                .map(i64::from),
            Type::FLOAT8 => self
                .0
                .try_get::<_, Option<f64>>(i)
                .map_err(get)?
                .map(|f| f as i64),
            _ => self.0.try_get::<_, Option<i64>>(i).map_err(get)?,
        })
    }

    fn text(&self, i: usize) -> DbResult<Option<&str>> {
        self.0
            .try_get::<_, Option<&str>>(i)
            .map_err(|e| DbError(format!("column {i}: {e}")))
    }

    fn real(&self, i: usize) -> DbResult<Option<f64>> {
        match self.0.columns().get(i).map(|c| c.type_().clone()) {
            Some(Type::FLOAT8) => self
                .0
                .try_get::<_, Option<f64>>(i)
                .map_err(|e| DbError(format!("column {i}: {e}"))),
            _ => Ok(self.int(i)?.map(|v| v as f64)),
        }
    }
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        self.client.batch_execute(sql).map_err(err)
    }

    fn exec(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<u64> {
        let stmt = self.statement(sql)?;
        let boxed = params
            .iter()
            .zip(stmt.params())
            .map(|(v, t)| param(v, t))
            .collect::<DbResult<Vec<_>>>()?;
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        self.client.execute(&stmt, &refs).map_err(err)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Val<'_>],
        f: &mut dyn FnMut(&dyn Row) -> DbResult<()>,
    ) -> DbResult<()> {
        let stmt = self.statement(sql)?;
        let boxed = params
            .iter()
            .zip(stmt.params())
            .map(|(v, t)| param(v, t))
            .collect::<DbResult<Vec<_>>>()?;
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let mut rows = self.client.query_raw(&stmt, refs).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            f(&PgRow(&row))?;
        }
        Ok(())
    }

    fn begin_write(&mut self) -> DbResult<()> {
        self.client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ))
            .map_err(err)
    }

    fn begin_read(&mut self) -> DbResult<()> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .map_err(err)
    }

    fn commit(&mut self) -> DbResult<()> {
        self.client.batch_execute("COMMIT").map_err(err)
    }

    fn rollback(&mut self) -> DbResult<()> {
        self.client.batch_execute("ROLLBACK").map_err(err)
    }

    fn bulk_insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Val<'_>>>,
    ) -> DbResult<u64> {
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut writer = self.client.copy_in(&sql).map_err(err)?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 17);
        let io = |e: std::io::Error| DbError(format!("COPY into {table}: {e}"));
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    buf.push(b'\t');
                }
                copy_text(&mut buf, v);
            }
            buf.push(b'\n');
            if buf.len() >= 1 << 16 {
                writer.write_all(&buf).map_err(io)?;
                buf.clear();
            }
        }
        writer.write_all(&buf).map_err(io)?;
        writer.finish().map_err(err)
    }
}

/// One value in COPY's text format: `\N` for NULL; backslash, tab, newline and carriage
/// return escaped.
fn copy_text(buf: &mut Vec<u8>, v: &Val<'_>) {
    match *v {
        Val::I(None) | Val::T(None) | Val::F(None) => buf.extend_from_slice(b"\\N"),
        Val::I(Some(x)) => buf.extend_from_slice(x.to_string().as_bytes()),
        Val::F(Some(x)) => buf.extend_from_slice(x.to_string().as_bytes()),
        Val::T(Some(s)) => {
            for &b in s.as_bytes() {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(b),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_the_separators() {
        let mut buf = Vec::new();
        copy_text(&mut buf, &Val::T(Some("a\tb\nc\\d\re")));
        assert_eq!(buf, b"a\\tb\\nc\\\\d\\re");
        buf.clear();
        copy_text(&mut buf, &Val::T(None));
        assert_eq!(buf, b"\\N");
        buf.clear();
        copy_text(&mut buf, &Val::I(Some(-42)));
        assert_eq!(buf, b"-42");
    }

    #[test]
    fn parameters_become_dollar_parameters() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = $12"
        );
    }
}
