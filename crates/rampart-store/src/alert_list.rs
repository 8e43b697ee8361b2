//! The dashboard's alert list (schema version 8): one filtered, keyset-paged query, newest
//! first, so a page reads `limit` rows however many alerts the store holds. Each alert row
//! carries its id and its time (the event's, or its detect run's start when the event has
//! none), written when the run is recorded and backfilled once for older rows, so filters,
//! order and the lookup by id run on indexes.

use crate::AlertStateRecord;
use crate::db::{Conn, ConnExt, DbResult, OwnedVal, Row, Val};
use crate::model::{AlertRow, RunId, Time};
use crate::record::{epoch, severity_code, severity_from, time};
use rampart_core::Severity;
use serde::{Deserialize, Serialize};

/// Version 8: each alert's id and time as columns, and the indexes the list's filters use
/// (each ends with the list's order, so a filtered page is a range scan).
pub(crate) const MIGRATION_V8: &str = "
ALTER TABLE alerts ADD COLUMN alert_id TEXT;
ALTER TABLE alerts ADD COLUMN at {BIG};
UPDATE alerts SET at = COALESCE(event_time, (SELECT r.started_at FROM runs r WHERE r.id = alerts.run_id));
CREATE INDEX alerts_at ON alerts (at, run_id, seq);
CREATE INDEX alerts_severity_at ON alerts (severity, at, run_id, seq);
CREATE INDEX alerts_account_at ON alerts (account, at, run_id, seq);
CREATE INDEX alerts_rule_at ON alerts (rule_id, at, run_id, seq);
CREATE INDEX alerts_alert_id ON alerts (alert_id);
CREATE INDEX findings_open_severity ON findings (open, suppressed, severity);
";

/// An alert's id from the columns that identify it: FNV-1a (64 bit) over rule source, rule id,
/// first event id and account, separated by 0x1f, as 16 lowercase hex digits — the function
/// `rampart_detect::alert::alert_id` documents (the store does not depend on the detector;
/// rampart-serve's tests check that the two agree).
pub fn alert_id(
    rule_source: &str,
    rule_id: &str,
    event_id: Option<&str>,
    account: Option<&str>,
) -> String {
    const PRIME: u64 = 0x0100_0000_01b3;
    let fields = [
        rule_source,
        rule_id,
        event_id.unwrap_or(""),
        account.unwrap_or(""),
    ];
    let hash = fields
        .iter()
        .enumerate()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, (i, field)| {
            let h = if i == 0 {
                h
            } else {
                (h ^ 0x1f).wrapping_mul(PRIME)
            };
            field
                .bytes()
                .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
        });
    format!("{hash:016x}")
}

/// Fills `alert_id` of the rows recorded before version 8 (the hash is computed here, not in
/// SQL), inside the migration's transaction.
pub(crate) fn backfill_alert_ids(c: &mut dyn Conn) -> DbResult<()> {
    let rows = c.query_vec(
        "SELECT run_id, seq, rule_source, rule_id, event_id, account FROM alerts \
         WHERE alert_id IS NULL",
        &[],
        |r| {
            Ok((
                r.int0(0)?,
                r.int0(1)?,
                alert_id(r.text0(2)?, r.text0(3)?, r.text(4)?, r.text(5)?),
            ))
        },
    )?;
    for (run_id, seq, id) in rows {
        c.exec(
            "UPDATE alerts SET alert_id = ?1 WHERE run_id = ?2 AND seq = ?3",
            &[Val::from(&id), Val::int(run_id), Val::int(seq)],
        )?;
    }
    Ok(())
}

/// Where a page of the alert list starts: the last alert of the previous page, by its place
/// in the list's order (time, run, position in the run), all newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertCursor {
    pub at: i64,
    pub run_id: RunId,
    pub seq: i64,
}

impl AlertCursor {
    /// The cursor as the `after` parameter of the next page's link: `AT.RUN.SEQ`.
    pub fn token(&self) -> String {
        format!("{}.{}.{}", self.at, self.run_id, self.seq)
    }

    /// Reads a token made by [`AlertCursor::token`]; None for anything else.
    pub fn parse(token: &str) -> Option<AlertCursor> {
        let mut parts = token.trim().split('.');
        let cursor = AlertCursor {
            at: parts.next()?.parse().ok()?,
            run_id: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(cursor)
    }
}

/// The triage state the alert list can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertTriage {
    /// No triage recorded yet.
    New,
    Acknowledged,
    Resolved,
}

impl AlertTriage {
    pub fn parse(s: &str) -> Option<AlertTriage> {
        match s.trim().to_ascii_lowercase().as_str() {
            "new" => Some(AlertTriage::New),
            "acknowledged" => Some(AlertTriage::Acknowledged),
            "resolved" => Some(AlertTriage::Resolved),
            _ => None,
        }
    }
}

/// What the alert list shows: every filter is optional and applied in SQL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    /// Alerts at or after this time (the event's time, else its run's start).
    pub since: Option<Time>,
    pub severity: Option<Severity>,
    pub state: Option<AlertTriage>,
    pub account: Option<String>,
    pub rule: Option<String>,
    /// Only alerts after this one in the list's order (the next page).
    pub after: Option<AlertCursor>,
}

/// One alert of the list: its id, run, place in the order, row and triage state.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedAlert {
    pub id: String,
    pub run_id: RunId,
    pub cursor: AlertCursor,
    pub alert: AlertRow,
    pub state: Option<AlertStateRecord>,
}

/// The SQL condition (on alias `a`) selecting alerts in a triage state, and its parameter.
/// Kept alone: the only place the list knows where triage states are stored.
fn triage_condition(state: AlertTriage, p: &str) -> (String, Option<OwnedVal>) {
    match state {
        AlertTriage::New => (
            "NOT EXISTS (SELECT 1 FROM alert_acks s WHERE s.alert_id = a.alert_id)".into(),
            None,
        ),
        AlertTriage::Acknowledged | AlertTriage::Resolved => {
            let name = if state == AlertTriage::Acknowledged {
                "acknowledged"
            } else {
                "resolved"
            };
            (
                format!("a.alert_id IN (SELECT s.alert_id FROM alert_acks s WHERE s.state = {p})"),
                Some(OwnedVal::T(Some(name.into()))),
            )
        }
    }
}

/// The columns a listed alert is read from, and the join that brings its triage state.
const LISTED_FROM: &str = "SELECT a.alert_id, a.run_id, a.at, a.seq, a.rule_id, a.rule_source, \
    a.title, a.severity, a.account, a.region, a.principal, a.event_time, a.event_id, a.resource, \
    a.alert_count, a.json, s.state, s.assignee, s.note, s.updated_by, s.updated_at, \
    s.acked_by, s.acked_at, s.comment FROM alerts a LEFT JOIN alert_acks s ON s.alert_id = a.alert_id";

fn listed(r: &dyn Row) -> DbResult<ListedAlert> {
    let id = r.string(0)?;
    let state = match r.opt_string(16)? {
        Some(state) => Some(AlertStateRecord {
            alert_id: id.clone(),
            state,
            assignee: r.opt_string(17)?,
            comment: r.opt_string(18)?.unwrap_or_default(),
            updated_by: r.string(19)?,
            updated_at: time(r.int0(20)?),
            acknowledged_by: r.string(21)?,
            acknowledged_at: time(r.int0(22)?),
            ack_comment: r.opt_string(23)?,
        }),
        None => None,
    };
    Ok(ListedAlert {
        run_id: r.int0(1)?,
        cursor: AlertCursor {
            at: r.int0(2)?,
            run_id: r.int0(1)?,
            seq: r.int0(3)?,
        },
        alert: AlertRow {
            rule_id: r.string(4)?,
            rule_source: r.string(5)?,
            title: r.string(6)?,
            severity: severity_from(r.int0(7)?),
            account: r.opt_string(8)?,
            region: r.opt_string(9)?,
            principal: r.opt_string(10)?,
            event_time: r.int(11)?.map(time),
            event_id: r.opt_string(12)?,
            resource: r.opt_string(13)?,
            count: r.int0(14)?.max(0) as u64,
            json: r.string(15)?,
        },
        state,
        id,
    })
}

/// One page of the alert list, newest first, at most `limit` alerts (ask for one more than
/// shown to know whether a next page exists).
pub(crate) fn alerts_page(
    c: &mut dyn Conn,
    f: &AlertFilter,
    limit: usize,
) -> DbResult<Vec<ListedAlert>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<OwnedVal> = Vec::new();
    let bind = |params: &mut Vec<OwnedVal>, v: OwnedVal| {
        params.push(v);
        format!("?{}", params.len())
    };
    if let Some(since) = f.since {
        let p = bind(&mut params, OwnedVal::I(Some(epoch(since))));
        clauses.push(format!("a.at >= {p}"));
    }
    if let Some(sev) = f.severity {
        let p = bind(&mut params, OwnedVal::I(Some(severity_code(sev))));
        clauses.push(format!("a.severity = {p}"));
    }
    if let Some(account) = &f.account {
        let p = bind(&mut params, OwnedVal::T(Some(account.clone())));
        clauses.push(format!("a.account = {p}"));
    }
    if let Some(rule) = &f.rule {
        let p = bind(&mut params, OwnedVal::T(Some(rule.clone())));
        clauses.push(format!("a.rule_id = {p}"));
    }
    if let Some(state) = f.state {
        let p = format!("?{}", params.len() + 1);
        let (sql, param) = triage_condition(state, &p);
        params.extend(param);
        clauses.push(sql);
    }
    if let Some(after) = f.after {
        let at = bind(&mut params, OwnedVal::I(Some(after.at)));
        let run = bind(&mut params, OwnedVal::I(Some(after.run_id)));
        let seq = bind(&mut params, OwnedVal::I(Some(after.seq)));
        clauses.push(format!("(a.at, a.run_id, a.seq) < ({at}, {run}, {seq})"));
    }
    let p = bind(
        &mut params,
        OwnedVal::I(Some(limit.min(i64::MAX as usize) as i64)),
    );
    let sql = format!(
        "{LISTED_FROM} {} ORDER BY a.at DESC, a.run_id DESC, a.seq DESC LIMIT {p}",
        if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        }
    );
    let vals: Vec<Val> = params.iter().map(OwnedVal::as_val).collect();
    c.query_vec(&sql, &vals, listed)
}

/// The alert with this id (the newest occurrence, should a detect run have recorded it twice).
pub(crate) fn alert_by_id(c: &mut dyn Conn, id: &str) -> DbResult<Option<ListedAlert>> {
    let sql = format!(
        "{LISTED_FROM} WHERE a.alert_id = ?1 ORDER BY a.at DESC, a.run_id DESC, a.seq DESC LIMIT 1"
    );
    Ok(c.query_vec(&sql, &[Val::from(id)], listed)?.pop())
}

/// Alerts per severity at or after `since`, most severe first: the overview's and the
/// metrics' count, without reading the alerts themselves.
pub(crate) fn alert_counts(c: &mut dyn Conn, since: Time) -> DbResult<Vec<(Severity, u64)>> {
    c.query_vec(
        "SELECT severity, COUNT(*) FROM alerts WHERE at >= ?1 GROUP BY severity \
         ORDER BY severity DESC",
        &[Val::int(epoch(since))],
        |r| Ok((severity_from(r.int0(0)?), r.int0(1)?.max(0) as u64)),
    )
}
