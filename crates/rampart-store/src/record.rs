//! Recording runs. An audit goes through the lifecycle: the findings' current states are read
//! once, each finding of the run (and each absent one the run covers) is stepped, and only what
//! changed is written: new findings, changed rows, one event per change. All in the caller's
//! write transaction.

use crate::db::{Conn, ConnExt, DbError, DbResult, Val};
use crate::lifecycle::{self, AccountScope, Observation, RunScope, State};
use crate::model::*;
use rampart_core::{Finding, Severity, Status};
use std::collections::{HashMap, HashSet};

pub(crate) fn epoch(t: Time) -> i64 {
    t.timestamp()
}

pub(crate) fn time(secs: i64) -> Time {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

pub(crate) fn severity_code(s: Severity) -> i64 {
    match s {
        Severity::Informational => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

pub(crate) fn severity_from(code: i64) -> Severity {
    match code {
        0 => Severity::Informational,
        1 => Severity::Low,
        2 => Severity::Medium,
        3 => Severity::High,
        _ => Severity::Critical,
    }
}

/// The next run id: above every run ever recorded (kept in `meta`, so ids are never reused
/// after a prune, and events kept as baselines stay older than every new run).
fn next_run_id(conn: &mut dyn Conn) -> DbResult<RunId> {
    let mut last = 0i64;
    conn.query(
        "SELECT value FROM meta WHERE key = 'last_run_id'",
        &[],
        &mut |r| {
            last = r.text0(0)?.parse().unwrap_or(0);
            Ok(())
        },
    )?;
    let max = conn
        .query_int("SELECT MAX(id) FROM runs", &[])?
        .unwrap_or(0);
    let id = last.max(max) + 1;
    conn.exec(
        "INSERT INTO meta (key, value) VALUES ('last_run_id', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[Val::T(Some(&id.to_string()))],
    )?;
    Ok(id)
}

/// The columns of a `runs` row.
#[derive(Default)]
struct RunRow<'a> {
    kind: &'a str,
    started_at: i64,
    finished_at: i64,
    source: &'a str,
    organization_id: Option<&'a str>,
    rampart_version: &'a str,
    catalogue_version: &'a str,
    framework: Option<&'a str>,
    scope: String,
    accounts: i64,
    regions: i64,
    pass: i64,
    fail: i64,
    error: i64,
    suppressed: i64,
    other: i64,
    score: Option<f64>,
    alerts: i64,
    changes: i64,
    collection_errors: i64,
    errors_json: String,
    controls: String,
    detail_json: String,
}

fn insert_run(conn: &mut dyn Conn, r: &RunRow<'_>) -> DbResult<RunId> {
    let id = next_run_id(conn)?;
    conn.exec(
        "INSERT INTO runs (id, kind, started_at, finished_at, source, organization_id, \
         rampart_version, catalogue_version, framework, scope, accounts, regions, pass, fail, \
         error, suppressed, other, score, alerts, changes, collection_errors, errors_json, \
         controls, detail_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
         ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
        &[
            Val::int(id),
            r.kind.into(),
            Val::int(r.started_at),
            Val::int(r.finished_at),
            r.source.into(),
            r.organization_id.into(),
            r.rampart_version.into(),
            r.catalogue_version.into(),
            r.framework.into(),
            (&r.scope).into(),
            Val::int(r.accounts),
            Val::int(r.regions),
            Val::int(r.pass),
            Val::int(r.fail),
            Val::int(r.error),
            Val::int(r.suppressed),
            Val::int(r.other),
            Val::F(r.score),
            Val::int(r.alerts),
            Val::int(r.changes),
            Val::int(r.collection_errors),
            (&r.errors_json).into(),
            (&r.controls).into(),
            (&r.detail_json).into(),
        ],
    )?;
    Ok(id)
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// FNV-1a 64 of what may change in place without an event (message, title, severity,
/// suppression text): a changed digest rewrites the row, an equal one writes nothing.
fn digest(f: &Finding, suppressed: Option<&Suppressed>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let sev = [severity_code(f.severity) as u8];
    let (reason, expires) = suppressed
        .map(|s| (s.reason.as_str(), s.expires.as_deref().unwrap_or("")))
        .unwrap_or(("", ""));
    let has = [u8::from(suppressed.is_some())];
    for part in [
        f.title.as_bytes(),
        &sev,
        f.message.as_bytes(),
        &has,
        reason.as_bytes(),
        expires.as_bytes(),
    ] {
        for &b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h as i64
}

/// A finding's current row, as much as the lifecycle needs.
struct Known {
    fid: i64,
    control: u32,
    account: u32,
    region: u32,
    state: State,
    last_seen_run: RunId,
    digest: i64,
    seen: bool,
}

/// Small strings shared by many findings (controls, accounts, regions), stored once.
#[derive(Default)]
struct Interner {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
    fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

/// The lifecycle state from a row, given the columns of (status, open, suppressed,
/// first_seen, last_seen, opened_at, resolved_at, reopened).
pub(crate) fn state_from_row(r: &dyn crate::db::Row, cols: [usize; 8]) -> DbResult<State> {
    let [
        status,
        open,
        suppressed,
        first_seen,
        last_seen,
        opened_at,
        resolved_at,
        reopened,
    ] = cols;
    let code = r.int0(status)?;
    Ok(State {
        status: LifeStatus::from_code(code)
            .ok_or_else(|| DbError(format!("unknown finding status code {code}")))?,
        open: r.int0(open)? != 0,
        suppressed: r.int0(suppressed)? != 0,
        first_seen: time(r.int0(first_seen)?),
        last_seen: time(r.int0(last_seen)?),
        opened_at: r.int(opened_at)?.map(time),
        resolved_at: r.int(resolved_at)?.map(time),
        reopened: r.int0(reopened)?.max(0) as u32,
    })
}

/// Audit runs after `after` (newest first) with what each observed: the history that makes
/// `last_seen` derivable instead of rewritten on every run.
pub(crate) fn load_scopes(
    conn: &mut dyn Conn,
    after: RunId,
    before: RunId,
) -> DbResult<Vec<(RunId, i64, RunScope)>> {
    load_scopes_of(conn, after, before, None)
}

/// [`load_scopes`] with only `accounts` (when given) in each scope: enough for the findings of
/// those accounts, and a few rows per run instead of the organization's (a page of findings).
pub(crate) fn load_scopes_of(
    conn: &mut dyn Conn,
    after: RunId,
    before: RunId,
    accounts: Option<&[&str]>,
) -> DbResult<Vec<(RunId, i64, RunScope)>> {
    let only = accounts
        .map(|a| {
            format!(
                " AND account_id IN ({})",
                crate::db::placeholders(3, a.len())
            )
        })
        .unwrap_or_default();
    let mut params = vec![Val::int(after), Val::int(before)];
    params.extend(accounts.unwrap_or_default().iter().map(|a| Val::from(*a)));
    let mut runs: Vec<(RunId, i64, RunScope)> = Vec::new();
    let mut index: HashMap<RunId, usize> = HashMap::new();
    conn.query(
        "SELECT id, started_at, controls FROM runs WHERE kind = 'audit' AND id > ?1 AND id < ?2 \
         ORDER BY id DESC",
        &[Val::int(after), Val::int(before)],
        &mut |r| {
            let scope = RunScope {
                controls: r.text0(2)?.split_whitespace().map(str::to_string).collect(),
                accounts: HashMap::new(),
            };
            index.insert(r.int0(0)?, runs.len());
            runs.push((r.int0(0)?, r.int0(1)?, scope));
            Ok(())
        },
    )?;
    if runs.is_empty() {
        return Ok(runs);
    }
    conn.query(
        &format!(
            "SELECT run_id, account_id, observed, regions FROM run_accounts \
             WHERE run_id > ?1 AND run_id < ?2{only}"
        ),
        &params,
        &mut |r| {
            if let Some(&i) = index.get(&r.int0(0)?) {
                runs[i].2.accounts.insert(
                    r.string(1)?,
                    AccountScope {
                        unreachable: r.int0(2)? == 0,
                        regions: r.text0(3)?.split_whitespace().map(str::to_string).collect(),
                        errors: Vec::new(),
                    },
                );
            }
            Ok(())
        },
    )?;
    conn.query(
        &format!(
            "SELECT run_id, account_id, control, region FROM run_errors \
             WHERE run_id > ?1 AND run_id < ?2{only}"
        ),
        &params,
        &mut |r| {
            if let Some(&i) = index.get(&r.int0(0)?) {
                // Errors of accounts the run did not list change nothing: never covered.
                if let Some(acc) = runs[i].2.accounts.get_mut(r.text0(1)?) {
                    acc.errors.push((r.string(2)?, r.string(3)?));
                }
            }
            Ok(())
        },
    )?;
    Ok(runs)
}

/// The last time a finding that is not gone was seen: the newest run after its stored
/// `last_seen_run` that covered it (every covering run produced it, or it would be gone), else
/// the stored value. `scopes` is newest first.
pub(crate) fn derived_last_seen(
    scopes: &[(RunId, i64, RunScope)],
    stored: (RunId, i64),
    control: &str,
    account: &str,
    region: &str,
) -> (RunId, i64) {
    for (id, at, scope) in scopes {
        if *id <= stored.0 {
            break;
        }
        if scope.covers(control, account, region) {
            return (*id, *at);
        }
    }
    stored
}

fn run_scope(run: &AuditRun, findings: &[Finding]) -> RunScope {
    let mut scope = RunScope {
        controls: run.controls.iter().cloned().collect(),
        accounts: HashMap::new(),
    };
    for a in &run.accounts {
        scope.accounts.insert(
            a.account_id.clone(),
            AccountScope {
                unreachable: a.unreachable,
                regions: a.regions.iter().cloned().collect(),
                errors: Vec::new(),
            },
        );
    }
    let mut errors: HashSet<(&str, &str, &str)> = HashSet::new();
    for f in findings.iter().filter(|f| f.status == Status::Error) {
        if errors.insert((&f.account_id, &f.control, &f.region))
            && let Some(acc) = scope.accounts.get_mut(&f.account_id)
        {
            acc.errors.push((f.control.to_string(), f.region.clone()));
        }
    }
    scope
}

/// Counts per status as the run summary shows them: suppressed findings only as suppressed.
#[derive(Default, Clone, Copy)]
struct Tally {
    pass: i64,
    fail: i64,
    error: i64,
    suppressed: i64,
    other: i64,
}

impl Tally {
    fn add(&mut self, status: Status, suppressed: bool) {
        if suppressed {
            self.suppressed += 1;
            return;
        }
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::NotApplicable | Status::Manual => self.other += 1,
        }
    }
}

/// Acceptances in force at `day`: finding id → the suppression they give.
fn acceptances_at(
    conn: &mut dyn Conn,
    day: chrono::NaiveDate,
) -> DbResult<HashMap<String, Suppressed>> {
    let mut out = HashMap::new();
    conn.query(
        "SELECT finding_id, reason, who, expires FROM acceptances",
        &[],
        &mut |r| {
            let expires = r.opt_string(3)?;
            let in_force = match expires.as_deref().map(|e| e.parse::<chrono::NaiveDate>()) {
                None => true,
                Some(Ok(d)) => d >= day,
                Some(Err(_)) => false,
            };
            if in_force {
                out.insert(
                    r.string(0)?,
                    Suppressed {
                        reason: format!("{} (accepted by {})", r.text0(1)?, r.text0(2)?),
                        expires,
                    },
                );
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// The open period an event belongs to: the current one while open, the one that just ended
/// on resolution (so diffs and remediations need no other event).
fn event_opened_at(prev: &State, next: &State) -> Option<i64> {
    if next.open {
        next.opened_at.map(epoch)
    } else if prev.open {
        prev.opened_at.map(epoch)
    } else {
        None
    }
}

struct EventRow {
    fid: i64,
    kind: LifeEventKind,
    status: LifeStatus,
    open: bool,
    suppressed: bool,
    opened_at: Option<i64>,
}

pub(crate) fn record_audit(
    conn: &mut dyn Conn,
    run: &AuditRun,
    findings: &[Finding],
) -> DbResult<RunId> {
    let at_time = run.started_at;
    let at = epoch(at_time);
    let accepted = acceptances_at(conn, at_time.date_naive())?;
    let effective: Vec<Option<Suppressed>> = findings
        .iter()
        .map(|f| match &f.suppressed {
            Some(s) => Some(Suppressed {
                reason: s.reason.clone(),
                expires: s.expires.clone(),
            }),
            None => accepted.get(&f.id).cloned(),
        })
        .collect();

    // The run and what it observed.
    let scope = run_scope(run, findings);
    let mut total = Tally::default();
    let mut per_account: HashMap<&str, Tally> = HashMap::new();
    let mut first_of: HashSet<&str> = HashSet::with_capacity(findings.len());
    let mut unique = vec![false; findings.len()];
    for (i, f) in findings.iter().enumerate() {
        if !first_of.insert(&f.id) {
            continue; // a repeated id counts once
        }
        unique[i] = true;
        let s = effective[i].is_some();
        total.add(f.status, s);
        per_account
            .entry(&f.account_id)
            .or_default()
            .add(f.status, s);
    }
    drop(first_of);
    let observed: Vec<&ObservedAccount> = run.accounts.iter().filter(|a| !a.unreachable).collect();
    let regions: HashSet<&str> = observed
        .iter()
        .flat_map(|a| a.regions.iter().map(String::as_str))
        .collect();
    let mut controls = run.controls.clone();
    controls.sort();
    controls.dedup();
    let run_id = insert_run(
        conn,
        &RunRow {
            kind: RunKind::Audit.as_str(),
            started_at: at,
            finished_at: epoch(run.finished_at),
            source: &run.source,
            organization_id: run.organization_id.as_deref(),
            rampart_version: &run.rampart_version,
            catalogue_version: &run.catalogue_version,
            framework: run.framework.as_deref(),
            scope: format!(
                "{}/{} accounts observed, {} regions",
                observed.len(),
                run.accounts.len(),
                regions.len()
            ),
            accounts: observed.len() as i64,
            regions: regions.len() as i64,
            pass: total.pass,
            fail: total.fail,
            error: total.error,
            suppressed: total.suppressed,
            other: total.other,
            score: score(total.pass as u64, total.fail as u64),
            collection_errors: run.collection_errors.len() as i64,
            errors_json: serde_json::to_string(&run.collection_errors).unwrap_or_default(),
            controls: controls.join(" "),
            detail_json: "{}".into(),
            ..RunRow::default()
        },
    )?;

    // Accounts (those of the snapshot, then any account only the findings name).
    let mut account_rows: Vec<(&str, &str, &str, bool, String, Tally)> = Vec::new();
    let mut listed: HashSet<&str> = HashSet::new();
    for a in &run.accounts {
        if !listed.insert(&a.account_id) {
            continue;
        }
        let mut regions = a.regions.clone();
        regions.sort();
        regions.dedup();
        account_rows.push((
            &a.account_id,
            &a.name,
            &a.ou_path,
            !a.unreachable,
            regions.join(" "),
            per_account
                .get(a.account_id.as_str())
                .copied()
                .unwrap_or_default(),
        ));
    }
    let mut extra: Vec<&str> = per_account
        .keys()
        .copied()
        .filter(|a| !listed.contains(a))
        .collect();
    extra.sort();
    for a in extra {
        // Not in the snapshot's account list: not an observed scope (nothing there is ever
        // declared gone), though its findings are counted.
        account_rows.push((a, "", "", false, String::new(), per_account[a]));
    }
    conn.bulk_insert(
        "run_accounts",
        &[
            "run_id",
            "account_id",
            "name",
            "ou_path",
            "observed",
            "regions",
            "pass",
            "fail",
            "error",
            "suppressed",
        ],
        &mut account_rows
            .iter()
            .map(|(id, name, ou, observed, regions, t)| {
                vec![
                    Val::int(run_id),
                    Val::from(*id),
                    Val::from(*name),
                    Val::from(*ou),
                    Val::flag(*observed),
                    Val::from(regions.as_str()),
                    Val::int(t.pass),
                    Val::int(t.fail),
                    Val::int(t.error),
                    Val::int(t.suppressed),
                ]
            }),
    )?;
    let mut error_rows: Vec<(&str, &str, &str)> = findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .map(|f| (f.account_id.as_str(), f.control.as_ref(), f.region.as_str()))
        .collect();
    error_rows.sort();
    error_rows.dedup();
    conn.bulk_insert(
        "run_errors",
        &["run_id", "account_id", "control", "region"],
        &mut error_rows.iter().map(|(a, c, r)| {
            vec![
                Val::int(run_id),
                Val::from(*a),
                Val::from(*c),
                Val::from(*r),
            ]
        }),
    )?;

    // Current states.
    let mut names = Interner::default();
    let mut known: Vec<Known> = Vec::new();
    let mut by_id: HashMap<Box<str>, usize> = HashMap::new();
    conn.query(
        "SELECT fid, id, control, account_id, region, status, open, suppressed, first_seen, \
         last_seen, last_seen_run, opened_at, resolved_at, reopened, digest FROM findings",
        &[],
        &mut |r| {
            let k = Known {
                fid: r.int0(0)?,
                control: names.id(r.text0(2)?),
                account: names.id(r.text0(3)?),
                region: names.id(r.text0(4)?),
                state: state_from_row(r, [5, 6, 7, 8, 9, 11, 12, 13])?,
                last_seen_run: r.int0(10)?,
                digest: r.int0(14)?,
                seen: false,
            };
            by_id.insert(r.text0(1)?.into(), known.len());
            known.push(k);
            Ok(())
        },
    )?;
    let mut next_fid = conn
        .query_int("SELECT MAX(fid) FROM findings", &[])?
        .unwrap_or(0)
        + 1;

    // Present findings.
    let mut events: Vec<EventRow> = Vec::new();
    let mut fresh: Vec<(usize, State, Option<LifeEventKind>, i64)> = Vec::new(); // (finding index, state, event, digest)
    let mut updates: Vec<(usize, i64, State, RunId, i64)> = Vec::new(); // (finding index, fid, state, last_seen_run, digest)
    for (i, f) in findings.iter().enumerate() {
        if !unique[i] {
            continue;
        }
        let suppressed = effective[i].as_ref();
        let obs = Observation::Present {
            status: f.status,
            suppressed: suppressed.is_some(),
        };
        let d = digest(f, suppressed);
        match by_id.get(f.id.as_str()) {
            None => {
                let Some((state, kind)) = lifecycle::step(None, obs, at_time) else {
                    continue;
                };
                fresh.push((i, state, kind, d));
            }
            Some(&k) => {
                let entry = &mut known[k];
                entry.seen = true;
                let Some((state, kind)) = lifecycle::step(Some(&entry.state), obs, at_time) else {
                    continue;
                };
                let covered = scope.covers(&f.control, &f.account_id, &f.region);
                if let Some(kind) = kind {
                    events.push(EventRow {
                        fid: entry.fid,
                        kind,
                        status: state.status,
                        open: state.open,
                        suppressed: state.suppressed,
                        opened_at: event_opened_at(&entry.state, &state),
                    });
                }
                if kind.is_some() || d != entry.digest || !covered {
                    updates.push((i, entry.fid, state, run_id, d));
                }
            }
        }
    }

    // New findings get fids in id order, so both the fid key and the id index are appended
    // to in order (the first audit of a large organization inserts hundreds of thousands).
    fresh.sort_unstable_by(|a, b| findings[a.0].id.cmp(&findings[b.0].id));
    let mut new_rows: Vec<(usize, i64, State, i64)> = Vec::with_capacity(fresh.len()); // (finding index, fid, state, digest)
    for (i, state, kind, d) in fresh {
        let fid = next_fid;
        next_fid += 1;
        if let Some(kind) = kind {
            events.push(EventRow {
                fid,
                kind,
                status: state.status,
                open: state.open,
                suppressed: state.suppressed,
                opened_at: state.opened_at.map(epoch),
            });
        }
        new_rows.push((i, fid, state, d));
    }

    // Absent findings the run covers: gone (resolved if open).
    let mut gone: Vec<usize> = Vec::new();
    for (k, entry) in known.iter().enumerate() {
        if entry.seen || entry.state.status == LifeStatus::Gone {
            continue;
        }
        if scope.covers(
            names.name(entry.control),
            names.name(entry.account),
            names.name(entry.region),
        ) {
            gone.push(k);
        }
    }
    let mut gone_updates: Vec<(i64, State, RunId)> = Vec::new();
    if !gone.is_empty() {
        let oldest = gone
            .iter()
            .map(|&k| known[k].last_seen_run)
            .min()
            .unwrap_or(0);
        let history = load_scopes(conn, oldest, run_id)?;
        for k in gone {
            let entry = &mut known[k];
            let (seen_run, seen_at) = derived_last_seen(
                &history,
                (entry.last_seen_run, epoch(entry.state.last_seen)),
                names.name(entry.control),
                names.name(entry.account),
                names.name(entry.region),
            );
            entry.state.last_seen = time(seen_at);
            let Some((state, kind)) =
                lifecycle::step(Some(&entry.state), Observation::Gone, at_time)
            else {
                continue;
            };
            if let Some(kind) = kind {
                events.push(EventRow {
                    fid: entry.fid,
                    kind,
                    status: state.status,
                    open: state.open,
                    suppressed: state.suppressed,
                    opened_at: event_opened_at(&entry.state, &state),
                });
            }
            gone_updates.push((entry.fid, state, seen_run));
        }
    }

    // Writes.
    crate::db::bulk_insert_rebuilding(
        conn,
        "findings",
        &[
            "fid",
            "id",
            "control",
            "title",
            "severity",
            "account_id",
            "region",
            "resource",
            "message",
            "status",
            "open",
            "suppressed",
            "suppressed_reason",
            "suppressed_expires",
            "first_seen",
            "last_seen",
            "last_seen_run",
            "opened_at",
            "resolved_at",
            "reopened",
            "digest",
        ],
        (new_rows.len(), known.len()),
        &mut new_rows.iter().map(|(i, fid, s, d)| {
            let f = &findings[*i];
            let sup = effective[*i].as_ref();
            vec![
                Val::int(*fid),
                Val::from(f.id.as_str()),
                Val::from(f.control.as_ref()),
                Val::from(f.title.as_ref()),
                Val::int(severity_code(f.severity)),
                Val::from(f.account_id.as_str()),
                Val::from(f.region.as_str()),
                Val::from(f.resource.as_str()),
                Val::from(f.message.as_str()),
                Val::int(s.status.code()),
                Val::flag(s.open),
                Val::flag(s.suppressed),
                Val::T(sup.map(|x| x.reason.as_str())),
                Val::T(sup.and_then(|x| x.expires.as_deref())),
                Val::int(epoch(s.first_seen)),
                Val::int(epoch(s.last_seen)),
                Val::int(run_id),
                Val::I(s.opened_at.map(epoch)),
                Val::I(s.resolved_at.map(epoch)),
                Val::int(i64::from(s.reopened)),
                Val::int(*d),
            ]
        }),
    )?;
    for (i, fid, s, seen_run, d) in &updates {
        let f = &findings[*i];
        let sup = effective[*i].as_ref();
        conn.exec(
            "UPDATE findings SET title = ?2, severity = ?3, message = ?4, status = ?5, open = ?6, \
             suppressed = ?7, suppressed_reason = ?8, suppressed_expires = ?9, last_seen = ?10, \
             last_seen_run = ?11, opened_at = ?12, resolved_at = ?13, reopened = ?14, digest = ?15 \
             WHERE fid = ?1",
            &[
                Val::int(*fid),
                Val::from(f.title.as_ref()),
                Val::int(severity_code(f.severity)),
                Val::from(f.message.as_str()),
                Val::int(s.status.code()),
                Val::flag(s.open),
                Val::flag(s.suppressed),
                Val::T(sup.map(|x| x.reason.as_str())),
                Val::T(sup.and_then(|x| x.expires.as_deref())),
                Val::int(epoch(s.last_seen)),
                Val::int(*seen_run),
                Val::I(s.opened_at.map(epoch)),
                Val::I(s.resolved_at.map(epoch)),
                Val::int(i64::from(s.reopened)),
                Val::int(*d),
            ],
        )?;
    }
    for (fid, s, seen_run) in &gone_updates {
        conn.exec(
            "UPDATE findings SET status = ?2, open = ?3, last_seen = ?4, last_seen_run = ?5, \
             resolved_at = ?6 WHERE fid = ?1",
            &[
                Val::int(*fid),
                Val::int(s.status.code()),
                Val::flag(s.open),
                Val::int(epoch(s.last_seen)),
                Val::int(*seen_run),
                Val::I(s.resolved_at.map(epoch)),
            ],
        )?;
    }
    events.sort_unstable_by_key(|e| e.fid);
    conn.bulk_insert(
        "finding_events",
        &[
            "fid",
            "run_id",
            "at",
            "kind",
            "status",
            "open",
            "suppressed",
            "opened_at",
        ],
        &mut events.iter().map(|e| {
            vec![
                Val::int(e.fid),
                Val::int(run_id),
                Val::int(at),
                Val::int(e.kind.code()),
                Val::int(e.status.code()),
                Val::flag(e.open),
                Val::flag(e.suppressed),
                Val::I(e.opened_at),
            ]
        }),
    )?;
    Ok(run_id)
}

pub(crate) fn record_detect(
    conn: &mut dyn Conn,
    run: &DetectRun,
    alerts: &[AlertRow],
) -> DbResult<RunId> {
    let detail = serde_json::json!({
        "events": run.events, "skipped": run.skipped, "files": run.files, "rules": run.rules,
    });
    let run_id = insert_run(
        conn,
        &RunRow {
            kind: RunKind::Detect.as_str(),
            started_at: epoch(run.started_at),
            finished_at: epoch(run.finished_at),
            source: &run.source,
            rampart_version: VERSION,
            scope: format!(
                "{} events in {} files, {} rules",
                run.events, run.files, run.rules
            ),
            alerts: alerts.len() as i64,
            errors_json: "[]".into(),
            detail_json: detail.to_string(),
            ..RunRow::default()
        },
    )?;
    let ids: Vec<String> = alerts
        .iter()
        .map(|a| {
            crate::alert_list::alert_id(
                &a.rule_source,
                &a.rule_id,
                a.event_id.as_deref(),
                a.account.as_deref(),
            )
        })
        .collect();
    conn.bulk_insert(
        "alerts",
        &[
            "run_id",
            "seq",
            "rule_id",
            "rule_source",
            "title",
            "severity",
            "account",
            "region",
            "principal",
            "event_time",
            "event_id",
            "resource",
            "alert_count",
            "json",
            "alert_id",
            "at",
        ],
        &mut alerts.iter().zip(&ids).enumerate().map(|(seq, (a, id))| {
            let at = a.event_time.map_or(epoch(run.started_at), epoch);
            vec![
                Val::int(run_id),
                Val::int(seq as i64),
                Val::from(a.rule_id.as_str()),
                Val::from(a.rule_source.as_str()),
                Val::from(a.title.as_str()),
                Val::int(severity_code(a.severity)),
                Val::T(a.account.as_deref()),
                Val::T(a.region.as_deref()),
                Val::T(a.principal.as_deref()),
                Val::I(a.event_time.map(epoch)),
                Val::T(a.event_id.as_deref()),
                Val::T(a.resource.as_deref()),
                Val::int(a.count.min(i64::MAX as u64) as i64),
                Val::from(a.json.as_str()),
                Val::T(Some(id.as_str())),
                Val::int(at),
            ]
        }),
    )?;
    Ok(run_id)
}

pub(crate) fn record_plan(
    conn: &mut dyn Conn,
    run: &PlanRun,
    changes: &[ChangeRow],
) -> DbResult<RunId> {
    if !matches!(run.kind, RunKind::Plan | RunKind::Drift) {
        return Err(DbError(format!(
            "a plan run must be of kind plan or drift, not {}",
            run.kind
        )));
    }
    let run_id = insert_run(
        conn,
        &RunRow {
            kind: run.kind.as_str(),
            started_at: epoch(run.started_at),
            finished_at: epoch(run.finished_at),
            source: "live",
            organization_id: run.organization_id.as_deref(),
            rampart_version: VERSION,
            scope: if run.unobserved.is_empty() {
                String::new()
            } else {
                format!("{} places not observed", run.unobserved.len())
            },
            changes: changes.len() as i64,
            collection_errors: run.unobserved.len() as i64,
            errors_json: serde_json::to_string(&run.unobserved).unwrap_or_default(),
            detail_json: serde_json::json!({ "unobserved": run.unobserved }).to_string(),
            ..RunRow::default()
        },
    )?;
    conn.bulk_insert(
        "changes",
        &[
            "run_id",
            "seq",
            "change_id",
            "account",
            "region",
            "action",
            "description",
            "destructive",
            "json",
        ],
        &mut changes.iter().enumerate().map(|(seq, c)| {
            vec![
                Val::int(run_id),
                Val::int(seq as i64),
                Val::from(c.change_id.as_str()),
                Val::from(c.account.as_str()),
                Val::T(c.region.as_deref()),
                Val::from(c.action.as_str()),
                Val::from(c.description.as_str()),
                Val::flag(c.destructive),
                Val::from(c.json.as_str()),
            ]
        }),
    )?;
    Ok(run_id)
}

pub(crate) fn record_apply(
    conn: &mut dyn Conn,
    run: &ApplyRun,
    entries: &[ApplyEntry],
) -> DbResult<RunId> {
    let detail = serde_json::json!({
        "complete": run.complete, "rounds": run.rounds, "calls": run.calls, "failures": run.failures,
    });
    let run_id = insert_run(
        conn,
        &RunRow {
            kind: RunKind::Apply.as_str(),
            started_at: epoch(run.started_at),
            finished_at: epoch(run.finished_at),
            source: "live",
            organization_id: run.organization_id.as_deref(),
            rampart_version: VERSION,
            scope: format!(
                "{} calls, {} failed, {}",
                run.calls,
                run.failures,
                if run.complete {
                    "complete"
                } else {
                    "incomplete"
                }
            ),
            changes: entries.len() as i64,
            errors_json: "[]".into(),
            detail_json: detail.to_string(),
            ..RunRow::default()
        },
    )?;
    conn.bulk_insert(
        "apply_entries",
        &[
            "run_id",
            "seq",
            "time",
            "change_id",
            "account",
            "region",
            "api",
            "parameters_json",
            "outcome",
        ],
        &mut entries.iter().enumerate().map(|(seq, e)| {
            vec![
                Val::int(run_id),
                Val::int(seq as i64),
                Val::int(epoch(e.time)),
                Val::from(e.change_id.as_str()),
                Val::from(e.account.as_str()),
                Val::T(e.region.as_deref()),
                Val::from(e.api.as_str()),
                Val::from(e.parameters_json.as_str()),
                Val::from(e.outcome.as_str()),
            ]
        }),
    )?;
    Ok(run_id)
}
