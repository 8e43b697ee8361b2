//! The little the store needs from a database, implemented once per backend: statements with
//! `?N` parameters, streamed rows, write transactions that serialize writers, and bulk loads.
//! Everything above this (schema, lifecycle, queries) is written once for both.

/// Which SQL dialect a connection speaks (only DDL types and a few statements differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A parameter or column value. Integers are 64-bit in the API; PostgreSQL columns may be
/// narrower (SMALLINT flags), which the backend converts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    I(Option<i64>),
    T(Option<&'a str>),
    F(Option<f64>),
}

impl Val<'_> {
    pub(crate) fn int(v: impl Into<i64>) -> Val<'static> {
        Val::I(Some(v.into()))
    }
    pub(crate) fn flag(b: bool) -> Val<'static> {
        Val::I(Some(i64::from(b)))
    }
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(s: &'a str) -> Self {
        Val::T(Some(s))
    }
}

impl<'a> From<&'a String> for Val<'a> {
    fn from(s: &'a String) -> Self {
        Val::T(Some(s.as_str()))
    }
}

impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(s: Option<&'a str>) -> Self {
        Val::T(s)
    }
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::I(Some(v))
    }
}

impl From<Option<i64>> for Val<'_> {
    fn from(v: Option<i64>) -> Self {
        Val::I(v)
    }
}

/// An owned value, for rows copied between stores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OwnedVal {
    I(Option<i64>),
    T(Option<String>),
    F(Option<f64>),
}

impl OwnedVal {
    pub(crate) fn as_val(&self) -> Val<'_> {
        match self {
            OwnedVal::I(v) => Val::I(*v),
            OwnedVal::T(v) => Val::T(v.as_deref()),
            OwnedVal::F(v) => Val::F(*v),
        }
    }
}

/// A database error as the backend reports it (the store adds the URL and advice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// One row of a result, read by column index.
pub(crate) trait Row {
    fn int(&self, i: usize) -> DbResult<Option<i64>>;
    fn text(&self, i: usize) -> DbResult<Option<&str>>;
    fn real(&self, i: usize) -> DbResult<Option<f64>>;

    fn int0(&self, i: usize) -> DbResult<i64> {
        self.int(i)?
            .ok_or_else(|| DbError(format!("column {i} is NULL where a number is required")))
    }
    fn text0(&self, i: usize) -> DbResult<&str> {
        self.text(i)?
            .ok_or_else(|| DbError(format!("column {i} is NULL where text is required")))
    }
    fn string(&self, i: usize) -> DbResult<String> {
        Ok(self.text0(i)?.to_string())
    }
    fn opt_string(&self, i: usize) -> DbResult<Option<String>> {
        Ok(self.text(i)?.map(str::to_string))
    }
}

/// A connection to one store database.
pub(crate) trait Conn {
    fn dialect(&self) -> Dialect;
    /// Session settings that may write to the database (SQLite's WAL switch): called only
    /// once the database is known to be empty or a rampart store.
    fn configure(&mut self) -> DbResult<()> {
        Ok(())
    }
    /// Caps the connection's own page cache (SQLite; a server's cache is its own business),
    /// for processes that hold several connections.
    fn limit_cache(&mut self, _kib: i64) -> DbResult<()> {
        Ok(())
    }
    /// Runs statements separated by `;`, without parameters (DDL).
    fn batch(&mut self, sql: &str) -> DbResult<()>;
    /// Runs one statement; returns the rows changed.
    fn exec(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<u64>;
    /// Runs one query and hands each row to `f`, streaming.
    fn query(
        &mut self,
        sql: &str,
        params: &[Val<'_>],
        f: &mut dyn FnMut(&dyn Row) -> DbResult<()>,
    ) -> DbResult<()>;
    /// Starts a write transaction that holds the store's write lock until commit/rollback,
    /// so two writers computing lifecycles never interleave.
    fn begin_write(&mut self) -> DbResult<()>;
    /// Starts a read transaction: every query until commit sees one snapshot.
    fn begin_read(&mut self) -> DbResult<()>;
    fn commit(&mut self) -> DbResult<()>;
    fn rollback(&mut self) -> DbResult<()>;
    /// Inserts many rows into `table` (inside the current transaction).
    fn bulk_insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Val<'_>>>,
    ) -> DbResult<u64>;
}

/// Helpers on any connection.
pub(crate) trait ConnExt: Conn {
    /// The first column of the first row as an integer (None when there is no row or NULL).
    fn query_int(&mut self, sql: &str, params: &[Val<'_>]) -> DbResult<Option<i64>> {
        let mut out = None;
        self.query(sql, params, &mut |r| {
            if out.is_none() {
                out = r.int(0)?;
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Collects rows through `f`.
    fn query_vec<T>(
        &mut self,
        sql: &str,
        params: &[Val<'_>],
        mut f: impl FnMut(&dyn Row) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl<C: Conn + ?Sized> ConnExt for C {}

/// Runs `f` inside a write transaction: committed when it returns Ok, rolled back otherwise
/// (so a failed run leaves the previous state).
pub(crate) fn write_tx<T>(
    conn: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> DbResult<T>,
) -> DbResult<T> {
    conn.begin_write()?;
    match f(conn) {
        Ok(v) => {
            conn.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.rollback();
            Err(e)
        }
    }
}

/// Runs `f` inside a read transaction (one snapshot for several queries).
pub(crate) fn read_tx<T>(
    conn: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> DbResult<T>,
) -> DbResult<T> {
    conn.begin_read()?;
    let out = f(conn);
    let end = conn.commit();
    match (out, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e),
    }
}

/// Loads of fewer rows than this go in through the table's indexes as they are.
const REBUILD_MIN_ROWS: usize = 10_000;

/// [`Conn::bulk_insert`] of `count` rows into `table`, which holds `existing` rows. A load larger
/// than the table (a store's first audit) drops the table's secondary indexes first and builds
/// each again at the end in one sorted pass instead of updating every one of them row by row:
/// the same indexes for much less work. Inside the caller's transaction (DDL is transactional
/// on both backends, so a failure leaves the indexes as they were); on PostgreSQL the table is
/// locked against readers until the transaction ends.
pub(crate) fn bulk_insert_rebuilding(
    conn: &mut dyn Conn,
    table: &str,
    columns: &[&str],
    (count, existing): (usize, usize),
    rows: &mut dyn Iterator<Item = Vec<Val<'_>>>,
) -> DbResult<u64> {
    if count < REBUILD_MIN_ROWS || count <= existing {
        return conn.bulk_insert(table, columns, rows);
    }
    let indexes = secondary_indexes(conn, table)?;
    for (name, _) in &indexes {
        conn.batch(&format!("DROP INDEX {name}"))?;
    }
    let inserted = conn.bulk_insert(table, columns, rows)?;
    for (_, create) in &indexes {
        conn.batch(create)?;
    }
    Ok(inserted)
}

/// The indexes of `table` other than those behind its primary key and unique constraints, as
/// (name, the statement that creates it).
pub(crate) fn secondary_indexes(
    conn: &mut dyn Conn,
    table: &str,
) -> DbResult<Vec<(String, String)>> {
    let sql = match conn.dialect() {
        // Constraint indexes (sqlite_autoindex_*) have no SQL.
        Dialect::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
             AND sql IS NOT NULL ORDER BY name"
        }
        Dialect::Postgres => {
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ?1 \
             AND i.schemaname = current_schema() AND NOT EXISTS \
             (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY i.indexname"
        }
    };
    conn.query_vec(sql, &[Val::from(table)], |r| {
        Ok((r.string(0)?, r.string(1)?))
    })
}

/// `?1, ?2, …, ?n`.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
