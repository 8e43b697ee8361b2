//! Keeping a store in shape: prune old history without changing any finding's current state,
//! export every row as JSON lines, copy a whole store into an empty one and verify it.

use crate::db::{Conn, ConnExt, DbError, DbResult, OwnedVal, Row, Val};
use crate::model::{Counts, LifeStatus, PruneReport, RunId, Time};
use crate::record::{derived_last_seen, epoch, load_scopes};
use crate::schema::{ColType, TABLES};
use std::collections::HashSet;
use std::io::Write;

pub(crate) fn counts(conn: &mut dyn Conn) -> DbResult<Counts> {
    let mut tables = Vec::new();
    for t in TABLES {
        let n = conn
            .query_int(&format!("SELECT COUNT(*) FROM {}", t.name), &[])?
            .unwrap_or(0);
        tables.push((t.name.to_string(), n.max(0) as u64));
    }
    Ok(Counts { tables })
}

/// Deletes runs that started before `before` with their rows, and finding events before it.
/// The newest event before the cutoff of every finding that is kept stays: it carries the state
/// the surviving runs start from. Findings gone before the cutoff with nothing newer are
/// deleted. A `last_seen` that only a pruned run could derive is written into its row first.
pub(crate) fn prune(conn: &mut dyn Conn, before: Time) -> DbResult<PruneReport> {
    let cutoff = epoch(before);
    let pruned: HashSet<RunId> = conn
        .query_vec(
            "SELECT id FROM runs WHERE started_at < ?1",
            &[Val::int(cutoff)],
            |r| r.int0(0),
        )?
        .into_iter()
        .collect();
    let mut report = PruneReport {
        before,
        ..PruneReport::default()
    };
    if !pruned.is_empty() {
        materialize_last_seen(conn, &pruned)?;
    }

    // Findings gone before the cutoff, with no event since.
    let gone_sql = "SELECT fid FROM findings WHERE status = ?2 AND open = 0 AND NOT EXISTS \
        (SELECT 1 FROM finding_events e WHERE e.fid = findings.fid AND e.at >= ?1)";
    let params = [Val::int(cutoff), Val::int(LifeStatus::Gone.code())];
    report.events += conn.exec(
        &format!("DELETE FROM finding_events WHERE fid IN ({gone_sql})"),
        &params,
    )?;
    report.findings = conn.exec(
        "DELETE FROM findings WHERE status = ?2 AND open = 0 AND NOT EXISTS \
         (SELECT 1 FROM finding_events e WHERE e.fid = findings.fid AND e.at >= ?1)",
        &params,
    )?;
    report.events += conn.exec(
        "DELETE FROM finding_events WHERE at < ?1 AND run_id < \
         (SELECT MAX(e2.run_id) FROM finding_events e2 WHERE e2.fid = finding_events.fid AND e2.at < ?1)",
        &[Val::int(cutoff)],
    )?;

    let old_runs = "SELECT id FROM runs WHERE started_at < ?1";
    let c = [Val::int(cutoff)];
    report.alerts = conn.exec(
        &format!("DELETE FROM alerts WHERE run_id IN ({old_runs})"),
        &c,
    )?;
    report.changes = conn.exec(
        &format!("DELETE FROM changes WHERE run_id IN ({old_runs})"),
        &c,
    )?;
    report.apply_entries = conn.exec(
        &format!("DELETE FROM apply_entries WHERE run_id IN ({old_runs})"),
        &c,
    )?;
    conn.exec(
        &format!("DELETE FROM run_accounts WHERE run_id IN ({old_runs})"),
        &c,
    )?;
    conn.exec(
        &format!("DELETE FROM run_errors WHERE run_id IN ({old_runs})"),
        &c,
    )?;
    report.runs = conn.exec("DELETE FROM runs WHERE started_at < ?1", &c)?;
    report.findings_kept = conn
        .query_int("SELECT COUNT(*) FROM findings", &[])?
        .unwrap_or(0)
        .max(0) as u64;
    Ok(report)
}

/// `last_seen` is derived from the runs that covered a finding; when the run it derives from is
/// about to be pruned, the value is written into the row so it survives.
fn materialize_last_seen(conn: &mut dyn Conn, pruned: &HashSet<RunId>) -> DbResult<()> {
    struct Live {
        fid: i64,
        control: String,
        account: String,
        region: String,
        last_seen: i64,
        last_seen_run: RunId,
    }
    let live = conn.query_vec(
        "SELECT fid, control, account_id, region, last_seen, last_seen_run FROM findings \
         WHERE status <> ?1",
        &[Val::int(LifeStatus::Gone.code())],
        |r| {
            Ok(Live {
                fid: r.int0(0)?,
                control: r.string(1)?,
                account: r.string(2)?,
                region: r.string(3)?,
                last_seen: r.int0(4)?,
                last_seen_run: r.int0(5)?,
            })
        },
    )?;
    let Some(oldest) = live.iter().map(|l| l.last_seen_run).min() else {
        return Ok(());
    };
    let scopes = load_scopes(conn, oldest, RunId::MAX)?;
    for l in &live {
        let (run, at) = derived_last_seen(
            &scopes,
            (l.last_seen_run, l.last_seen),
            &l.control,
            &l.account,
            &l.region,
        );
        if run != l.last_seen_run && pruned.contains(&run) {
            conn.exec(
                "UPDATE findings SET last_seen = ?2, last_seen_run = ?3 WHERE fid = ?1",
                &[Val::int(l.fid), Val::int(at), Val::int(run)],
            )?;
        }
    }
    Ok(())
}

fn select_all(table: &crate::schema::Table) -> String {
    let cols: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        cols.join(", "),
        table.name,
        table.order_by
    )
}

fn owned_row(r: &dyn Row, table: &crate::schema::Table) -> DbResult<Vec<OwnedVal>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, t))| {
            Ok(match t {
                ColType::Int => OwnedVal::I(r.int(i)?),
                ColType::Text => OwnedVal::T(r.opt_string(i)?),
                ColType::Real => OwnedVal::F(r.real(i)?),
            })
        })
        .collect()
}

/// Keys of `meta` that belong to the data (the run-id counter), not to the schema.
const DATA_META: &[&str] = &["last_run_id"];

/// Every row as one JSON object per line, `"type"` naming its table.
pub(crate) fn export_jsonl(conn: &mut dyn Conn, out: &mut dyn Write) -> DbResult<Counts> {
    let io = |e: std::io::Error| DbError(format!("cannot write the export: {e}"));
    let mut meta_rows = Vec::new();
    conn.query("SELECT key, value FROM meta ORDER BY key", &[], &mut |r| {
        meta_rows.push((r.string(0)?, r.string(1)?));
        Ok(())
    })?;
    for (k, v) in &meta_rows {
        let line = serde_json::json!({"type": "meta", "key": k, "value": v});
        writeln!(out, "{line}").map_err(io)?;
    }
    let mut tables = Vec::new();
    for table in TABLES {
        let mut n = 0u64;
        let mut failure: Option<std::io::Error> = None;
        conn.query(&select_all(table), &[], &mut |r| {
            let mut obj = serde_json::Map::with_capacity(table.columns.len() + 1);
            obj.insert("type".into(), serde_json::Value::from(table.name));
            for (i, (name, t)) in table.columns.iter().enumerate() {
                let v = match t {
                    ColType::Int => r.int(i)?.map(serde_json::Value::from),
                    ColType::Text => r.text(i)?.map(serde_json::Value::from),
                    ColType::Real => r.real(i)?.map(serde_json::Value::from),
                };
                obj.insert((*name).into(), v.unwrap_or(serde_json::Value::Null));
            }
            if let Err(e) = writeln!(out, "{}", serde_json::Value::Object(obj)) {
                failure = Some(e);
                return Err(DbError("export stopped".into()));
            }
            n += 1;
            Ok(())
        })
        .map_err(|e| match failure.take() {
            Some(io_err) => io(io_err),
            None => e,
        })?;
        tables.push((table.name.to_string(), n));
    }
    out.flush().map_err(io)?;
    Ok(Counts { tables })
}

/// Copies every data row of `src` into `dest` inside the caller's transactions (a read snapshot
/// on `src`, the write transaction on `dest`), then compares per-table counts.
pub(crate) fn copy_rows(src: &mut dyn Conn, dest: &mut dyn Conn) -> DbResult<Counts> {
    const BATCH: usize = 5_000;
    for table in TABLES {
        let cols: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
        let mut batch: Vec<Vec<OwnedVal>> = Vec::with_capacity(BATCH);
        let flush = |batch: &mut Vec<Vec<OwnedVal>>, dest: &mut dyn Conn| -> DbResult<()> {
            dest.bulk_insert(
                table.name,
                &cols,
                &mut batch
                    .iter()
                    .map(|row| row.iter().map(OwnedVal::as_val).collect()),
            )?;
            batch.clear();
            Ok(())
        };
        src.query(&select_all(table), &[], &mut |r| {
            batch.push(owned_row(r, table)?);
            if batch.len() >= BATCH {
                flush(&mut batch, dest)?;
            }
            Ok(())
        })?;
        flush(&mut batch, dest)?;
    }
    for key in DATA_META {
        let mut value = None;
        src.query(
            "SELECT value FROM meta WHERE key = ?1",
            &[Val::from(*key)],
            &mut |r| {
                value = Some(r.string(0)?);
                Ok(())
            },
        )?;
        if let Some(v) = value {
            dest.exec(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[Val::from(*key), Val::from(v.as_str())],
            )?;
        }
    }
    let expected = counts(src)?;
    let got = counts(dest)?;
    if expected != got {
        let diffs: Vec<String> = expected
            .tables
            .iter()
            .zip(&got.tables)
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, b)| format!("{} {} copied as {}", a.0, a.1, b.1))
            .collect();
        return Err(DbError(format!(
            "the copy does not match the source ({}); nothing was committed",
            diffs.join(", ")
        )));
    }
    Ok(got)
}
