//! Reading the store: runs, lifecycles, events, diffs and the rows of detect/plan/apply runs.

use crate::db::{Conn, ConnExt, DbError, DbResult, Row, Val};
use crate::lifecycle::RunScope;
use crate::model::*;
use crate::record::{
    derived_last_seen, epoch, load_scopes, load_scopes_of, severity_from, state_from_row, time,
};
use std::collections::HashMap;

const RUN_COLUMNS: &str = "id, kind, started_at, finished_at, source, organization_id, \
    rampart_version, scope, accounts, regions, pass, fail, error, suppressed, other, score, \
    alerts, changes, collection_errors";

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

fn run_summary(r: &dyn Row) -> DbResult<RunSummary> {
    let kind_text = r.text0(1)?;
    Ok(RunSummary {
        id: r.int0(0)?,
        kind: kind_text
            .parse()
            .map_err(|_| DbError(format!("unknown run kind `{kind_text}`")))?,
        started_at: time(r.int0(2)?),
        finished_at: time(r.int0(3)?),
        source: r.string(4)?,
        organization_id: r.opt_string(5)?,
        rampart_version: r.string(6)?,
        scope: r.string(7)?,
        accounts: u(r.int0(8)?),
        regions: u(r.int0(9)?),
        pass: u(r.int0(10)?),
        fail: u(r.int0(11)?),
        error: u(r.int0(12)?),
        suppressed: u(r.int0(13)?),
        other: u(r.int0(14)?),
        score: r.real(15)?,
        alerts: u(r.int0(16)?),
        changes: u(r.int0(17)?),
        collection_errors: u(r.int0(18)?),
    })
}

pub(crate) fn runs(
    conn: &mut dyn Conn,
    kind: Option<RunKind>,
    since: Option<Time>,
    limit: Option<usize>,
) -> DbResult<Vec<RunSummary>> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND started_at >= ?2 \
         ORDER BY started_at DESC, id DESC LIMIT ?3"
    );
    let limit = limit
        .map(|l| l.min(i64::MAX as usize) as i64)
        .unwrap_or(i64::MAX);
    conn.query_vec(
        &sql,
        &[
            Val::T(kind.map(RunKind::as_str)),
            Val::int(since.map(epoch).unwrap_or(i64::MIN)),
            Val::int(limit),
        ],
        run_summary,
    )
}

pub(crate) fn run(conn: &mut dyn Conn, id: RunId) -> DbResult<Option<RunSummary>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
    Ok(conn.query_vec(&sql, &[Val::int(id)], run_summary)?.pop())
}

pub(crate) fn account_scores(conn: &mut dyn Conn, since: Time) -> DbResult<Vec<AccountScore>> {
    conn.query_vec(
        "SELECT a.run_id, r.started_at, a.account_id, a.name, a.ou_path, a.observed, a.pass, \
         a.fail, a.error, a.suppressed FROM run_accounts a JOIN runs r ON r.id = a.run_id \
         WHERE r.kind = 'audit' AND r.started_at >= ?1 ORDER BY r.started_at, a.run_id, a.account_id",
        &[Val::int(epoch(since))],
        |r| {
            Ok(AccountScore {
                run_id: r.int0(0)?,
                at: time(r.int0(1)?),
                account_id: r.string(2)?,
                name: r.string(3)?,
                ou_path: r.string(4)?,
                observed: r.int0(5)? != 0,
                pass: u(r.int0(6)?),
                fail: u(r.int0(7)?),
                error: u(r.int0(8)?),
                suppressed: u(r.int0(9)?),
            })
        },
    )
}

const FINDING_COLUMNS: &str = "id, control, title, severity, account_id, region, resource, \
    message, status, open, suppressed, suppressed_reason, suppressed_expires, first_seen, \
    last_seen, last_seen_run, opened_at, resolved_at, reopened";

/// Every finding's current state; `last_seen` derived from the runs that covered it.
pub(crate) fn findings(conn: &mut dyn Conn) -> DbResult<Vec<FindingLife>> {
    let mut out = Vec::new();
    read_findings(conn, "ORDER BY id", &[], &mut out)?;
    with_last_seen(conn, out)
}

/// Findings whose problem period is open (failing, or an ERROR that keeps it open).
pub(crate) fn open_findings(conn: &mut dyn Conn) -> DbResult<Vec<FindingLife>> {
    let mut out = Vec::new();
    read_findings(conn, "WHERE open <> 0 ORDER BY id", &[], &mut out)?;
    with_last_seen(conn, out)
}

/// Findings suppressed now (by rampart.toml or an acceptance in the store).
pub(crate) fn suppressed_findings(conn: &mut dyn Conn) -> DbResult<Vec<FindingLife>> {
    let mut out = Vec::new();
    read_findings(conn, "WHERE suppressed <> 0 ORDER BY id", &[], &mut out)?;
    with_last_seen(conn, out)
}

/// The findings with these ids (unknown ids are left out), by id.
pub(crate) fn findings_by_ids(conn: &mut dyn Conn, ids: &[String]) -> DbResult<Vec<FindingLife>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let filter = format!("WHERE id IN ({})", crate::db::placeholders(1, chunk.len()));
        let params: Vec<Val> = chunk.iter().map(|id| Val::from(id.as_str())).collect();
        read_findings(conn, &filter, &params, &mut out)?;
    }
    out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    out.dedup_by(|a, b| a.0.id == b.0.id);
    with_last_seen(conn, out)
}

/// Appends the findings `filter` (a WHERE and/or ORDER BY clause) selects, each with the run
/// it was last seen in as stored.
pub(crate) fn read_findings(
    conn: &mut dyn Conn,
    filter: &str,
    params: &[Val],
    out: &mut Vec<(FindingLife, RunId)>,
) -> DbResult<()> {
    conn.query(
        &format!("SELECT {FINDING_COLUMNS} FROM findings {filter}"),
        params,
        &mut |r| {
            let state = state_from_row(r, [8, 9, 10, 13, 14, 16, 17, 18])?;
            let suppressed = state.suppressed.then(|| {
                Ok::<_, DbError>(Suppressed {
                    reason: r.opt_string(11)?.unwrap_or_default(),
                    expires: r.opt_string(12)?,
                })
            });
            out.push((
                FindingLife {
                    id: r.string(0)?,
                    control: r.string(1)?,
                    title: r.string(2)?,
                    severity: severity_from(r.int0(3)?),
                    account_id: r.string(4)?,
                    region: r.string(5)?,
                    resource: r.string(6)?,
                    message: r.string(7)?,
                    status: state.status,
                    open: state.open,
                    suppressed: suppressed.transpose()?,
                    first_seen: state.first_seen,
                    last_seen: state.last_seen,
                    opened_at: state.opened_at,
                    resolved_at: state.resolved_at,
                    reopened: state.reopened,
                },
                r.int0(15)?,
            ));
            Ok(())
        },
    )
}

/// Up to this many accounts, [`with_last_seen`] reads only their part of each run's scope.
const PAGE_ACCOUNTS: usize = 500;

/// Replaces each present finding's stored `last_seen` with the latest run that covered it.
pub(crate) fn with_last_seen(
    conn: &mut dyn Conn,
    mut out: Vec<(FindingLife, RunId)>,
) -> DbResult<Vec<FindingLife>> {
    let oldest = out
        .iter()
        .filter(|(f, _)| f.status != LifeStatus::Gone)
        .map(|(_, run)| *run)
        .min();
    if let Some(oldest) = oldest {
        // A page of findings needs the scopes of its own few accounts only.
        let mut accounts: Vec<&str> = out.iter().map(|(f, _)| f.account_id.as_str()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let only = (accounts.len() <= PAGE_ACCOUNTS).then_some(accounts.as_slice());
        let scopes = load_scopes_of(conn, oldest, RunId::MAX, only)?;
        for (f, seen_run) in &mut out {
            if f.status == LifeStatus::Gone {
                continue;
            }
            let (_, at) = derived_last_seen(
                &scopes,
                (*seen_run, epoch(f.last_seen)),
                &f.control,
                &f.account_id,
                &f.region,
            );
            f.last_seen = time(at);
        }
    }
    Ok(out.into_iter().map(|(f, _)| f).collect())
}

fn life_event(r: &dyn Row) -> DbResult<LifeEvent> {
    let kind = r.int0(3)?;
    let status = r.int0(4)?;
    Ok(LifeEvent {
        finding_id: r.string(0)?,
        run_id: r.int0(1)?,
        at: time(r.int0(2)?),
        kind: LifeEventKind::from_code(kind)
            .ok_or_else(|| DbError(format!("unknown event kind code {kind}")))?,
        status: LifeStatus::from_code(status)
            .ok_or_else(|| DbError(format!("unknown finding status code {status}")))?,
        open: r.int0(5)? != 0,
        suppressed: r.int0(6)? != 0,
    })
}

pub(crate) fn finding_history(conn: &mut dyn Conn, id: &str) -> DbResult<Vec<LifeEvent>> {
    conn.query_vec(
        "SELECT f.id, e.run_id, e.at, e.kind, e.status, e.open, e.suppressed FROM finding_events e \
         JOIN findings f ON f.fid = e.fid WHERE f.id = ?1 ORDER BY e.run_id",
        &[Val::from(id)],
        life_event,
    )
}

pub(crate) fn events_between(
    conn: &mut dyn Conn,
    from: Time,
    to: Time,
) -> DbResult<Vec<LifeEvent>> {
    conn.query_vec(
        "SELECT f.id, e.run_id, e.at, e.kind, e.status, e.open, e.suppressed FROM finding_events e \
         JOIN findings f ON f.fid = e.fid WHERE e.at >= ?1 AND e.at < ?2 \
         ORDER BY e.at, e.run_id, f.id",
        &[Val::int(epoch(from)), Val::int(epoch(to))],
        life_event,
    )
}

pub(crate) fn remediations(
    conn: &mut dyn Conn,
    from: Time,
    to: Time,
) -> DbResult<Vec<Remediation>> {
    conn.query_vec(
        "SELECT f.id, f.control, f.severity, f.account_id, e.opened_at, e.at FROM finding_events e \
         JOIN findings f ON f.fid = e.fid WHERE e.kind = ?3 AND e.at >= ?1 AND e.at < ?2 \
         ORDER BY e.at, f.id",
        &[
            Val::int(epoch(from)),
            Val::int(epoch(to)),
            Val::int(LifeEventKind::Resolved.code()),
        ],
        |r| {
            let resolved = r.int0(5)?;
            Ok(Remediation {
                finding_id: r.string(0)?,
                control: r.string(1)?,
                severity: severity_from(r.int0(2)?),
                account_id: r.string(3)?,
                opened_at: time(r.int(4)?.unwrap_or(resolved)),
                resolved_at: time(resolved),
            })
        },
    )
}

pub(crate) fn alerts(
    conn: &mut dyn Conn,
    from: Time,
    to: Time,
) -> DbResult<Vec<(RunId, AlertRow)>> {
    conn.query_vec(
        "SELECT a.run_id, a.rule_id, a.rule_source, a.title, a.severity, a.account, a.region, \
         a.principal, a.event_time, a.event_id, a.resource, a.alert_count, a.json FROM alerts a \
         JOIN runs r ON r.id = a.run_id \
         WHERE COALESCE(a.event_time, r.started_at) >= ?1 AND COALESCE(a.event_time, r.started_at) < ?2 \
         ORDER BY a.run_id, a.seq",
        &[Val::int(epoch(from)), Val::int(epoch(to))],
        |r| {
            Ok((
                r.int0(0)?,
                AlertRow {
                    rule_id: r.string(1)?,
                    rule_source: r.string(2)?,
                    title: r.string(3)?,
                    severity: severity_from(r.int0(4)?),
                    account: r.opt_string(5)?,
                    region: r.opt_string(6)?,
                    principal: r.opt_string(7)?,
                    event_time: r.int(8)?.map(time),
                    event_id: r.opt_string(9)?,
                    resource: r.opt_string(10)?,
                    count: u(r.int0(11)?),
                    json: r.string(12)?,
                },
            ))
        },
    )
}

pub(crate) fn changes(
    conn: &mut dyn Conn,
    kind: RunKind,
    from: Time,
    to: Time,
) -> DbResult<Vec<(RunId, ChangeRow)>> {
    conn.query_vec(
        "SELECT c.run_id, c.change_id, c.account, c.region, c.action, c.description, \
         c.destructive, c.json FROM changes c JOIN runs r ON r.id = c.run_id \
         WHERE r.kind = ?3 AND r.started_at >= ?1 AND r.started_at < ?2 ORDER BY c.run_id, c.seq",
        &[
            Val::int(epoch(from)),
            Val::int(epoch(to)),
            Val::from(kind.as_str()),
        ],
        |r| {
            Ok((
                r.int0(0)?,
                ChangeRow {
                    change_id: r.string(1)?,
                    account: r.string(2)?,
                    region: r.opt_string(3)?,
                    action: r.string(4)?,
                    description: r.string(5)?,
                    destructive: r.int0(6)? != 0,
                    json: r.string(7)?,
                },
            ))
        },
    )
}

pub(crate) fn apply_entries(
    conn: &mut dyn Conn,
    from: Time,
    to: Time,
) -> DbResult<Vec<(RunId, ApplyEntry)>> {
    conn.query_vec(
        "SELECT e.run_id, e.time, e.change_id, e.account, e.region, e.api, e.parameters_json, \
         e.outcome FROM apply_entries e WHERE e.time >= ?1 AND e.time < ?2 ORDER BY e.run_id, e.seq",
        &[Val::int(epoch(from)), Val::int(epoch(to))],
        |r| {
            Ok((
                r.int0(0)?,
                ApplyEntry {
                    time: time(r.int0(1)?),
                    change_id: r.string(2)?,
                    account: r.string(3)?,
                    region: r.opt_string(4)?,
                    api: r.string(5)?,
                    parameters_json: r.string(6)?,
                    outcome: r.string(7)?,
                },
            ))
        },
    )
}

pub(crate) fn accept(conn: &mut dyn Conn, a: &Acceptance) -> DbResult<()> {
    let expires = a.expires.map(|d| d.format("%Y-%m-%d").to_string());
    conn.exec(
        "INSERT INTO acceptances (finding_id, reason, who, expires, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (finding_id) DO UPDATE SET \
         reason = excluded.reason, who = excluded.who, expires = excluded.expires, \
         created_at = excluded.created_at",
        &[
            Val::from(a.finding_id.as_str()),
            Val::from(a.reason.as_str()),
            Val::from(a.who.as_str()),
            Val::T(expires.as_deref()),
            Val::int(epoch(a.created_at)),
        ],
    )?;
    Ok(())
}

pub(crate) fn acceptances(conn: &mut dyn Conn) -> DbResult<Vec<Acceptance>> {
    conn.query_vec(
        "SELECT finding_id, reason, who, expires, created_at FROM acceptances ORDER BY finding_id",
        &[],
        |r| {
            Ok(Acceptance {
                finding_id: r.string(0)?,
                reason: r.string(1)?,
                who: r.string(2)?,
                expires: r.text(3)?.and_then(|d| d.parse().ok()),
                created_at: time(r.int0(4)?),
            })
        },
    )
}

/// The state a finding had after some run: what the diff compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snap {
    pub run: RunId,
    pub opened_at: Option<i64>,
    pub status: LifeStatus,
    pub open: bool,
    pub suppressed: bool,
}

/// Account id → (name, OU path) in one run.
pub(crate) type AccountNames = HashMap<String, (String, String)>;

/// By fid: the finding's state at `from` and at `to` (None: no event yet). fids are dense
/// (assigned in sequence), so a vector beats a hash map for the ~1M events of a large store.
pub(crate) type FoldedStates = Vec<(Option<Snap>, Option<Snap>)>;

/// One audit's scope, with names and OU paths of its accounts.
pub(crate) fn scope_of(conn: &mut dyn Conn, run: RunId) -> DbResult<(RunScope, AccountNames)> {
    let mut scopes = load_scopes(conn, run - 1, run + 1)?;
    let scope = scopes.pop().map(|(_, _, s)| s).unwrap_or_default();
    let mut names = HashMap::new();
    conn.query(
        "SELECT account_id, name, ou_path FROM run_accounts WHERE run_id = ?1",
        &[Val::int(run)],
        &mut |r| {
            names.insert(r.string(0)?, (r.string(1)?, r.string(2)?));
            Ok(())
        },
    )?;
    Ok((scope, names))
}

/// Folds every event up to the later of the two runs into the state of each finding at
/// `from` and at `to`.
pub(crate) fn states_at(conn: &mut dyn Conn, from: RunId, to: RunId) -> DbResult<FoldedStates> {
    let upto = from.max(to);
    let max_fid = conn
        .query_int("SELECT MAX(fid) FROM findings", &[])?
        .unwrap_or(0)
        .max(0) as usize;
    let mut states: FoldedStates = vec![(None, None); max_fid + 1];
    conn.query(
        "SELECT fid, run_id, status, open, suppressed, opened_at FROM finding_events WHERE run_id <= ?1",
        &[Val::int(upto)],
        &mut |r| {
            let fid = r.int0(0)?.max(0) as usize;
            let run = r.int0(1)?;
            let status_code = r.int0(2)?;
            let snap = Snap {
                run,
                opened_at: r.int(5)?,
                status: LifeStatus::from_code(status_code)
                    .ok_or_else(|| DbError(format!("unknown finding status code {status_code}")))?,
                open: r.int0(3)? != 0,
                suppressed: r.int0(4)? != 0,
            };
            if fid >= states.len() {
                states.resize(fid + 1, (None, None));
            }
            let entry = &mut states[fid];
            if run <= from && entry.0.is_none_or(|s| s.run < run) {
                entry.0 = Some(snap);
            }
            if run <= to && entry.1.is_none_or(|s| s.run < run) {
                entry.1 = Some(snap);
            }
            Ok(())
        },
    )?;
    Ok(states)
}

/// Whether `to` observes less than `from` anywhere (an account not entered, a region not
/// read, a new ERROR): only then can a finding be newly unobservable without an event.
fn sees_less(from: &RunScope, to: &RunScope) -> bool {
    from.accounts.iter().any(|(id, a)| {
        !a.unreachable
            && match to.accounts.get(id) {
                None => true,
                Some(b) => {
                    b.unreachable
                        || a.regions.iter().any(|r| !b.regions.contains(r))
                        || b.errors.iter().any(|e| !a.errors.contains(e))
                }
            }
    })
}

pub(crate) fn diff(conn: &mut dyn Conn, from: RunId, to: RunId) -> DbResult<Diff> {
    let summary = |conn: &mut dyn Conn, id: RunId| -> DbResult<RunSummary> {
        let r = run(conn, id)?.ok_or_else(|| DbError(format!("run {id} does not exist")))?;
        if r.kind != RunKind::Audit {
            return Err(DbError(format!(
                "run {id} is a {} run; a diff compares two audit runs",
                r.kind
            )));
        }
        Ok(r)
    };
    let from_run = summary(conn, from)?;
    let to_run = summary(conn, to)?;
    let states = states_at(conn, from, to)?;
    let (from_scope, from_names) = scope_of(conn, from)?;
    let (to_scope, to_names) = scope_of(conn, to)?;

    // Candidates by state: open at either run, or ERROR at `to`. Place-based candidates (an
    // account, region or control `to` saw less of) need every finding's place: then the
    // whole table is read once; so it is when candidates are many (one sequential read beats
    // hundreds of thousands of key lookups).
    let wanted: Vec<bool> = states
        .iter()
        .map(|(a, b)| {
            b.is_some_and(|b| b.open || b.status == LifeStatus::Error) || a.is_some_and(|a| a.open)
        })
        .collect();
    let candidates: Vec<i64> = wanted
        .iter()
        .enumerate()
        .filter(|(_, w)| **w)
        .map(|(fid, _)| fid as i64)
        .collect();
    let every_place = sees_less(&from_scope, &to_scope);
    let full_scan = every_place || candidates.len() > states.len() / 8;

    let mut class_of: Vec<(DiffClass, Snap, DiffMeta)> = Vec::new();
    let mut consider = |r: &dyn Row| -> DbResult<()> {
        let fid = r.int0(0)?.max(0) as usize;
        let Some((a, Some(b))) = states.get(fid) else {
            return Ok(());
        };
        if !every_place && !wanted[fid] {
            return Ok(());
        }
        let place = Place {
            control: r.text0(2)?,
            account: r.text0(5)?,
            region: r.text0(6)?,
        };
        if let Some(class) = classify(a.as_ref(), b, &place, &from_scope, &to_scope, every_place) {
            class_of.push((class, *b, diff_meta(r)?));
        }
        Ok(())
    };
    const COLUMNS: &str =
        "fid, id, control, title, severity, account_id, region, resource, message";
    if full_scan {
        conn.query(
            &format!("SELECT {COLUMNS} FROM findings"),
            &[],
            &mut consider,
        )?;
    } else {
        for chunk in candidates.chunks(500) {
            let sql = format!(
                "SELECT {COLUMNS} FROM findings WHERE fid IN ({})",
                crate::db::placeholders(1, chunk.len())
            );
            let params: Vec<Val> = chunk.iter().map(|f| Val::int(*f)).collect();
            conn.query(&sql, &params, &mut consider)?;
        }
    }

    let mut items: Vec<DiffItem> = class_of
        .into_iter()
        .map(|(class, snap, m)| {
            let (account_name, ou_path) = to_names
                .get(&m.account_id)
                .or_else(|| from_names.get(&m.account_id))
                .cloned()
                .unwrap_or_default();
            DiffItem {
                class,
                finding_id: m.id,
                control: m.control,
                title: m.title,
                severity: m.severity,
                account_id: m.account_id,
                account_name,
                ou_path,
                region: m.region,
                resource: m.resource,
                message: m.message,
                opened_at: snap.opened_at.map(time),
            }
        })
        .collect();
    items.sort_unstable_by(|a, b| {
        (
            a.class,
            std::cmp::Reverse(a.severity),
            &a.account_id,
            &a.control,
            &a.resource,
            &a.finding_id,
        )
            .cmp(&(
                b.class,
                std::cmp::Reverse(b.severity),
                &b.account_id,
                &b.control,
                &b.resource,
                &b.finding_id,
            ))
    });
    Ok(Diff {
        from: from_run,
        to: to_run,
        items,
    })
}

/// The diff's rule for one finding, given its state at both runs and what each run observed.
/// Unobservable wins: a FAIL we can no longer see is not reported as still failing.
fn classify(
    a: Option<&Snap>,
    b: &Snap,
    m: &Place<'_>,
    from: &RunScope,
    to: &RunScope,
    places_differ: bool,
) -> Option<DiffClass> {
    // A gone finding was observed gone: it is not there to be unobservable. When `to`
    // observes every place `from` did (`places_differ` false), only an ERROR status can make a
    // finding newly unobservable, and no place needs looking up.
    let unseen_now = b.status == LifeStatus::Error
        || (places_differ
            && b.status != LifeStatus::Gone
            && (!to.observes_place(m.account, m.region)
                || to.has_error(m.control, m.account, m.region)));
    let newly_unobservable = unseen_now
        && a.is_some_and(|a| !matches!(a.status, LifeStatus::Error | LifeStatus::Gone))
        && from.observes_place(m.account, m.region)
        && !from.has_error(m.control, m.account, m.region);
    let was_open = a.is_some_and(|a| a.open);
    if newly_unobservable {
        Some(DiffClass::NewlyUnobservable)
    } else if b.open && b.status == LifeStatus::Fail && !b.suppressed && !was_open {
        Some(DiffClass::New)
    } else if was_open && !b.open {
        Some(DiffClass::Resolved)
    } else if was_open && b.open && b.status == LifeStatus::Fail {
        Some(DiffClass::StillFailing)
    } else {
        None
    }
}

/// Where a finding is: what the scope rule looks at.
struct Place<'a> {
    control: &'a str,
    account: &'a str,
    region: &'a str,
}

struct DiffMeta {
    id: String,
    control: String,
    title: String,
    severity: rampart_core::Severity,
    account_id: String,
    region: String,
    resource: String,
    message: String,
}

fn diff_meta(r: &dyn Row) -> DbResult<DiffMeta> {
    Ok(DiffMeta {
        id: r.string(1)?,
        control: r.string(2)?,
        title: r.string(3)?,
        severity: severity_from(r.int0(4)?),
        account_id: r.string(5)?,
        region: r.string(6)?,
        resource: r.string(7)?,
        message: r.string(8)?,
    })
}
