//! Fills a [`WeeklyReport`] from the history store: every figure is a query over recorded runs,
//! and the finding lists are exactly `rampart diff` between the last audit before the period
//! and the last audit in it, so the two always reconcile.

use super::*;
use rampart_store::{DiffClass, DiffItem, RunKind, RunSummary, Store, StoreError, Time};
use std::collections::{BTreeMap, HashMap};

/// Accepted risks expiring within this many days are listed.
pub const EXPIRING_DAYS: i64 = 30;

fn rfc3339(t: &Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn score_of(pass: u64, fail: u64) -> Option<f64> {
    (pass + fail > 0).then(|| 100.0 * pass as f64 / (pass + fail) as f64)
}

/// The report for the period of length `period` ending at `now`.
pub fn build(
    store: &Store,
    now: Time,
    period: chrono::Duration,
) -> Result<WeeklyReport, StoreError> {
    let start = now - period;
    let week = chrono::Duration::weeks(1);
    let trend_start = now - week * TREND_WEEKS as i32;
    let audits: Vec<RunSummary> = store
        .runs(Some(RunKind::Audit), None, None)?
        .into_iter()
        .filter(|r| r.started_at < now)
        .collect();
    // Newest first: the audit the "now" figures come from, and the one the period is compared to.
    let latest = audits.iter().find(|r| r.started_at >= start);
    let before = audits.iter().find(|r| r.started_at < start);
    let mut notes = Vec::new();
    if latest.is_none() {
        notes.push(format!(
            "No audit was recorded between {} and {}: run `rampart audit` (or schedule it) so the report has a current posture.",
            rfc3339(&start),
            rfc3339(&now)
        ));
    }
    if latest.is_some() && before.is_none() {
        notes
            .push("No audit before the period: every open failure counts as new this week.".into());
    }

    // Weekly points: the last audit of each week, oldest week first.
    let week_of = |t: &Time| -> Option<usize> {
        if *t < trend_start || *t >= now {
            return None;
        }
        let i = ((*t - trend_start).num_seconds() / week.num_seconds()) as usize;
        Some(i.min(TREND_WEEKS - 1))
    };
    let mut last_in_week: Vec<Option<&RunSummary>> = vec![None; TREND_WEEKS];
    for r in audits.iter().rev() {
        if let Some(i) = week_of(&r.started_at) {
            last_in_week[i] = Some(r);
        }
    }
    let trend: Vec<TrendPoint> = (0..TREND_WEEKS)
        .map(|i| {
            let week_start = trend_start + week * i as i32;
            match last_in_week[i] {
                Some(r) => TrendPoint {
                    week_start: rfc3339(&week_start),
                    score: r.score,
                    pass: r.pass,
                    fail: r.fail,
                },
                None => TrendPoint {
                    week_start: rfc3339(&week_start),
                    score: None,
                    pass: 0,
                    fail: 0,
                },
            }
        })
        .collect();

    let (by_ou, by_account) = score_rows(store, trend_start, &last_in_week, latest, before)?;

    // The findings: exactly `rampart diff before latest` (or, with no earlier audit, every open
    // failure of the latest audit as new).
    let (mut new_failures, mut resolved, mut still_open) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(l) = latest {
        let items: Vec<DiffItem> = match before {
            Some(b) => store.diff(b.id, l.id)?.items,
            None => open_at(store, l, &now)?,
        };
        for i in items {
            let item = finding_item(&i, &now);
            match i.class {
                DiffClass::New => new_failures.push(item),
                DiffClass::Resolved => resolved.push(item),
                DiffClass::StillFailing => still_open.push(item),
                DiffClass::NewlyUnobservable => {}
            }
        }
    }
    let by_severity_then_age = |a: &FindingItem, b: &FindingItem| {
        b.severity
            .cmp(&a.severity)
            .then(b.age_days.cmp(&a.age_days))
            .then(a.control.cmp(&b.control))
            .then(a.account_id.cmp(&b.account_id))
            .then(a.resource.cmp(&b.resource))
    };
    new_failures.sort_by(by_severity_then_age);
    resolved.sort_by(by_severity_then_age);
    still_open.sort_by(by_severity_then_age);
    let counts = Counts {
        new: new_failures.len() as u64,
        resolved: resolved.len() as u64,
        still_open: still_open.len() as u64,
        open_by_severity: severity_counts(
            new_failures.iter().chain(&still_open).map(|f| f.severity),
        ),
    };
    let open: Vec<FindingItem> = new_failures.iter().chain(&still_open).cloned().collect();
    let top_risks = rank_risks(&open, catalogue_remediation, TOP_RISKS);
    let mttr = mttr_by_severity(store.remediations(trend_start, now)?.iter().map(|r| {
        (
            r.severity,
            (r.resolved_at - r.opened_at).num_seconds().max(0) as f64 / 86400.0,
        )
    }));
    let expiring = expiring(store, &now)?;
    let alerts = alert_summary(&store.alerts(start, now)?);
    let drift = drift_summary(store, start, now)?;
    let applied: Vec<AppliedChange> = store
        .apply_entries(start, now)?
        .into_iter()
        .map(|(_, e)| AppliedChange {
            time: rfc3339(&e.time),
            account: e.account,
            region: e.region,
            api: e.api,
            change_id: e.change_id,
            outcome: e.outcome,
        })
        .collect();

    Ok(WeeklyReport {
        schema: SCHEMA.to_string(),
        generated_at: rfc3339(&now),
        period_start: rfc3339(&start),
        period_end: rfc3339(&now),
        organization_id: latest.or(before).and_then(|r| r.organization_id.clone()),
        score: latest.and_then(|r| r.score),
        score_change: match (latest.and_then(|r| r.score), before.and_then(|r| r.score)) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        },
        last_audit: latest.map(|r| rfc3339(&r.started_at)),
        trend,
        by_ou,
        by_account,
        counts,
        new_failures,
        resolved,
        still_open,
        mttr,
        top_risks,
        expiring,
        alerts,
        drift,
        applied,
        drills: store
            .drills(start, now)?
            .into_iter()
            .map(|d| DrillItem {
                time: rfc3339(&d.started_at),
                scenario: d.scenario,
                account: d.account,
                expected_rule: d.expected_rule,
                passed: d.passed,
                time_to_detect_secs: d.time_to_detect_ms.map(|ms| ms as f64 / 1000.0),
                time_to_alert_secs: d.time_to_alert_ms.map(|ms| ms as f64 / 1000.0),
                detail: d.detail,
            })
            .collect(),
        notes,
    })
}

/// With no earlier audit to compare with: every open failure of `latest`, as new.
fn open_at(store: &Store, latest: &RunSummary, now: &Time) -> Result<Vec<DiffItem>, StoreError> {
    let names: HashMap<String, (String, String)> = store
        .account_scores(latest.started_at)?
        .into_iter()
        .filter(|a| a.run_id == latest.id)
        .map(|a| (a.account_id, (a.name, a.ou_path)))
        .collect();
    Ok(store
        .open_findings()?
        .into_iter()
        .filter(|f| {
            f.open
                && f.status == rampart_store::LifeStatus::Fail
                && f.suppressed.is_none()
                && f.first_seen <= *now
        })
        .map(|f| {
            let (name, ou) = names.get(&f.account_id).cloned().unwrap_or_default();
            DiffItem {
                class: DiffClass::New,
                finding_id: f.id,
                control: f.control,
                title: f.title,
                severity: f.severity,
                account_id: f.account_id,
                account_name: name,
                ou_path: ou,
                region: f.region,
                resource: f.resource,
                message: f.message,
                opened_at: f.opened_at,
            }
        })
        .collect())
}

fn finding_item(i: &DiffItem, now: &Time) -> FindingItem {
    FindingItem {
        finding_id: i.finding_id.clone(),
        control: i.control.clone(),
        title: i.title.clone(),
        severity: i.severity,
        account_id: i.account_id.clone(),
        account_name: i.account_name.clone(),
        ou_path: i.ou_path.clone(),
        region: i.region.clone(),
        resource: i.resource.clone(),
        message: i.message.clone(),
        age_days: i
            .opened_at
            .map_or(0, |t| (*now - t).num_days().max(0) as u64),
        opened_at: i.opened_at.as_ref().map(rfc3339),
    }
}

/// Score rows per account and per OU: now (the latest audit), the change since the audit before
/// the period, and the weekly trend.
fn score_rows(
    store: &Store,
    trend_start: Time,
    last_in_week: &[Option<&RunSummary>],
    latest: Option<&RunSummary>,
    before: Option<&RunSummary>,
) -> Result<(Vec<ScoreRow>, Vec<ScoreRow>), StoreError> {
    let since = before.map_or(trend_start, |b| b.started_at.min(trend_start));
    let rows = store.account_scores(since)?;
    // run id → account id → (pass, fail, name, ou)
    let mut by_run: HashMap<i64, Vec<&rampart_store::AccountScore>> = HashMap::new();
    for r in &rows {
        by_run.entry(r.run_id).or_default().push(r);
    }
    let week_runs: Vec<Option<i64>> = last_in_week.iter().map(|r| r.map(|r| r.id)).collect();
    let accounts_of = |run: Option<i64>| -> HashMap<&str, &rampart_store::AccountScore> {
        run.and_then(|id| by_run.get(&id))
            .map(|v| {
                v.iter()
                    .filter(|a| a.observed)
                    .map(|a| (a.account_id.as_str(), *a))
                    .collect()
            })
            .unwrap_or_default()
    };
    let now_rows = accounts_of(latest.map(|r| r.id));
    let then_rows = accounts_of(before.map(|r| r.id));
    let weekly: Vec<HashMap<&str, &rampart_store::AccountScore>> =
        week_runs.iter().map(|r| accounts_of(*r)).collect();

    let mut by_account: Vec<ScoreRow> = now_rows
        .values()
        .map(|a| {
            let score = score_of(a.pass, a.fail);
            let then = then_rows
                .get(a.account_id.as_str())
                .and_then(|t| score_of(t.pass, t.fail));
            ScoreRow {
                key: a.account_id.clone(),
                name: a.name.clone(),
                ou_path: a.ou_path.clone(),
                score,
                change: score.zip(then).map(|(n, t)| n - t),
                fail: a.fail,
                trend: weekly
                    .iter()
                    .map(|w| {
                        w.get(a.account_id.as_str())
                            .and_then(|x| score_of(x.pass, x.fail))
                    })
                    .collect(),
            }
        })
        .collect();
    by_account.sort_by(|a, b| {
        a.score
            .partial_cmp(&b.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.key.cmp(&b.key))
    });

    let sum_by_ou = |m: &HashMap<&str, &rampart_store::AccountScore>| {
        let mut s: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for a in m.values() {
            let e = s.entry(a.ou_path.clone()).or_default();
            e.0 += a.pass;
            e.1 += a.fail;
        }
        s
    };
    let ou_now = sum_by_ou(&now_rows);
    let ou_then = sum_by_ou(&then_rows);
    let ou_weekly: Vec<BTreeMap<String, (u64, u64)>> = weekly.iter().map(sum_by_ou).collect();
    let by_ou = ou_now
        .iter()
        .map(|(ou, (p, f))| {
            let score = score_of(*p, *f);
            let then = ou_then.get(ou).and_then(|(p, f)| score_of(*p, *f));
            ScoreRow {
                key: ou.clone(),
                name: ou.rsplit('/').next().unwrap_or(ou).to_string(),
                ou_path: ou.clone(),
                score,
                change: score.zip(then).map(|(n, t)| n - t),
                fail: *f,
                trend: ou_weekly
                    .iter()
                    .map(|w| w.get(ou).and_then(|(p, f)| score_of(*p, *f)))
                    .collect(),
            }
        })
        .collect();
    Ok((by_ou, by_account))
}

/// Risks accepted in the store, and `[[suppress]]` entries seen on findings, that expire within
/// [`EXPIRING_DAYS`] (or already have while the finding still fails).
fn expiring(store: &Store, now: &Time) -> Result<Vec<ExpiringAcceptance>, StoreError> {
    let today = now.date_naive();
    // Only the findings this section can name: those of the acceptances that expire soon, and
    // those suppressed now (a year of history holds hundreds of thousands of others).
    let soon: Vec<(rampart_store::Acceptance, chrono::NaiveDate, i64)> = store
        .acceptances()?
        .into_iter()
        .filter_map(|a| {
            let expires = a.expires?;
            let days_left = (expires - today).num_days();
            (days_left <= EXPIRING_DAYS).then_some((a, expires, days_left))
        })
        .collect();
    let ids: Vec<String> = soon.iter().map(|(a, _, _)| a.finding_id.clone()).collect();
    let accepted: HashMap<String, rampart_store::FindingLife> = store
        .findings_by_ids(&ids)?
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (a, expires, days_left) in soon {
        let f = accepted.get(&a.finding_id);
        seen.insert(a.finding_id.clone());
        out.push(ExpiringAcceptance {
            finding_id: a.finding_id.clone(),
            control: f.map(|f| f.control.clone()).unwrap_or_default(),
            account_id: f.map(|f| f.account_id.clone()).unwrap_or_default(),
            resource: f.map(|f| f.resource.clone()).unwrap_or_default(),
            reason: a.reason,
            who: a.who,
            expires: expires.to_string(),
            days_left,
        });
    }
    for f in &store.suppressed_findings()? {
        let Some(s) = &f.suppressed else { continue };
        let Some(expires) = s
            .expires
            .as_deref()
            .and_then(|e| chrono::NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let days_left = (expires - today).num_days();
        if days_left > EXPIRING_DAYS
            || seen.contains(&f.id)
            || f.status == rampart_store::LifeStatus::Gone
        {
            continue;
        }
        out.push(ExpiringAcceptance {
            finding_id: f.id.clone(),
            control: f.control.clone(),
            account_id: f.account_id.clone(),
            resource: f.resource.clone(),
            reason: s.reason.clone(),
            who: "rampart.toml".into(),
            expires: expires.to_string(),
            days_left,
        });
    }
    out.sort_by(|a, b| {
        a.days_left
            .cmp(&b.days_left)
            .then(a.finding_id.cmp(&b.finding_id))
    });
    Ok(out)
}

/// The period's alerts by rule, severity, account and principal (each alert weighs its count
/// of events folded into it).
fn alert_summary(alerts: &[(i64, rampart_store::AlertRow)]) -> AlertSummary {
    let mut by_rule: BTreeMap<&str, (String, Severity, u64)> = BTreeMap::new();
    let mut by_severity: BTreeMap<Severity, u64> = BTreeMap::new();
    let mut by_account: HashMap<&str, u64> = HashMap::new();
    let mut by_principal: HashMap<&str, u64> = HashMap::new();
    let mut total = 0;
    for (_, a) in alerts {
        let n = a.count.max(1);
        total += n;
        let e = by_rule
            .entry(a.rule_id.as_str())
            .or_insert_with(|| (a.title.clone(), a.severity, 0));
        e.2 += n;
        *by_severity.entry(a.severity).or_default() += n;
        *by_account
            .entry(a.account.as_deref().unwrap_or("(unknown)"))
            .or_default() += n;
        if let Some(p) = a.principal.as_deref() {
            *by_principal.entry(p).or_default() += n;
        }
    }
    let top = |m: HashMap<&str, u64>, n: usize| {
        let mut v: Vec<KeyCount> = m
            .into_iter()
            .map(|(k, count)| KeyCount {
                key: k.to_string(),
                count,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
        v.truncate(n);
        v
    };
    let mut rules: Vec<RuleCount> = by_rule
        .into_iter()
        .map(|(id, (title, severity, count))| RuleCount {
            rule_id: id.to_string(),
            title,
            severity,
            count,
        })
        .collect();
    rules.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule_id.cmp(&b.rule_id)));
    AlertSummary {
        total,
        by_rule: rules,
        by_severity: by_severity
            .into_iter()
            .rev()
            .map(|(severity, count)| SeverityCount { severity, count })
            .collect(),
        by_account: top(by_account, 20),
        noisiest_principals: top(by_principal, 10),
    }
}

/// Drift checks of the period: how many ran, what they found, what is pending now, and how many
/// changes `apply` made to repair it.
fn drift_summary(store: &Store, start: Time, now: Time) -> Result<DriftSummary, StoreError> {
    let checks = store.runs(Some(RunKind::Drift), Some(start), None)?;
    let checks: Vec<&RunSummary> = checks.iter().filter(|r| r.started_at < now).collect();
    let found = checks.iter().map(|r| r.changes).sum();
    let latest = checks.first();
    let items: Vec<DriftItem> = match latest {
        Some(l) => store
            .changes(RunKind::Drift, l.started_at, now)?
            .into_iter()
            .filter(|(id, _)| *id == l.id)
            .map(|(_, c)| DriftItem {
                account: c.account,
                region: c.region,
                description: c.description,
                destructive: c.destructive,
            })
            .collect(),
        None => Vec::new(),
    };
    let repaired = store
        .apply_entries(start, now)?
        .iter()
        .filter(|(_, e)| e.outcome == "ok")
        .count() as u64;
    Ok(DriftSummary {
        checks: checks.len() as u64,
        found,
        pending_now: latest.map_or(0, |l| l.changes),
        repaired,
        items,
    })
}
