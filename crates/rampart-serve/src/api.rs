//! What the pages show, as data: each `*_data` function reads the store once and both the
//! JSON API and the HTML pages render its result. The state changes (accepting a risk,
//! triaging an alert, applying the pending changes of a plan) live here too, each recorded in
//! the audit log.

use crate::AppState;
use crate::auth::Principal;
use crate::routes::{Kind, ROUTES};
use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use rampart_core::Severity;
use rampart_store::{
    AccountScore, AlertCursor, AlertFilter, AlertRow, AlertStateRecord, AlertTriage, AuditLogEntry,
    ChangeRow, FindingFilter, FindingLife, LifeEvent, ListedAlert, RunKind, RunSummary, Time,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// A failed request: the status and one line saying what to do.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<String> for ApiError {
    fn from(e: String) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e)
    }
}

pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// The largest page of findings one request returns.
pub const MAX_PAGE: usize = 500;
pub const DEFAULT_PAGE: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub last_audit: Option<RunSummary>,
    /// Score of each of the last audits, oldest first.
    pub score_trend: Vec<(Time, Option<f64>)>,
    pub accounts: Vec<AccountScore>,
    /// OU path → (pass, fail) of the last audit.
    pub ous: Vec<(String, u64, u64)>,
    pub open_by_severity: Vec<(Severity, u64)>,
    pub last_runs: Vec<RunSummary>,
    pub alerts_7d: Vec<(Severity, u64)>,
    pub drift: Option<RunSummary>,
}

/// The overview, from the cache while the store has not changed (see [`crate::cache`]).
pub async fn overview_data(state: &AppState) -> Result<Overview, String> {
    let version = state.db(|s| s.data_version()).await?;
    let cached = state
        .cache
        .overview
        .get_or((), version, async || read_overview(state).await)
        .await?;
    Ok(Overview::clone(&cached))
}

async fn read_overview(state: &AppState) -> Result<Overview, String> {
    state
        .db(|s| {
            let audits = s.runs(Some(RunKind::Audit), None, Some(12))?;
            let last_audit = audits.first().cloned();
            let score_trend = audits
                .iter()
                .rev()
                .map(|r| (r.started_at, r.score))
                .collect();
            let accounts: Vec<AccountScore> = match &last_audit {
                Some(run) => s
                    .account_scores(run.started_at)?
                    .into_iter()
                    .filter(|a| a.run_id == run.id)
                    .collect(),
                None => Vec::new(),
            };
            let mut ous: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
            for a in &accounts {
                let e = ous.entry(a.ou_path.clone()).or_default();
                e.0 += a.pass;
                e.1 += a.fail;
            }
            let mut last_runs = Vec::new();
            for (_, id) in s.last_runs()? {
                last_runs.extend(s.run(id)?);
            }
            let alerts_7d = s.alert_counts(Utc::now() - Duration::days(7))?;
            let drift = last_runs
                .iter()
                .filter(|r| matches!(r.kind, RunKind::Plan | RunKind::Drift))
                .max_by_key(|r| r.id)
                .cloned();
            Ok(Overview {
                last_audit,
                score_trend,
                accounts,
                ous: ous.into_iter().map(|(k, (p, f))| (k, p, f)).collect(),
                open_by_severity: s.open_by_severity(Some(Utc::now().date_naive()))?,
                last_runs,
                alerts_7d,
                drift,
            })
        })
        .await
}

/// The security services the Accounts page reports, each with the control whose verdict says
/// whether it is on. The store keeps the audit's verdicts, not the collected snapshot, so
/// these controls are the honest source: a region counts as enabled where the control
/// passed (organization-wide enablement from the delegated administrator is credited).
pub const SECURITY_SERVICES: &[(&str, &str, ServiceScope)] = &[
    ("GuardDuty", "base-guardduty", ServiceScope::Region),
    ("Security Hub", "cis-4.16", ServiceScope::Region),
    ("AWS Config", "cis-3.3", ServiceScope::Region),
    ("IAM Access Analyzer", "cis-1.20", ServiceScope::Region),
    // a multi-region trail logging management events, the account's own or the org trail
    ("CloudTrail", "cis-3.1", ServiceScope::Account),
];

/// Whether a service's control is judged per region or once per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceScope {
    Region,
    Account,
}

/// One security service in one account, from the latest verdicts of its control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCoverage {
    pub service: &'static str,
    pub control: &'static str,
    /// `on` (every region judged passes), `partial` (some do), `off` (none do), `unknown`
    /// (no verdict, or only ERROR) or `not_applicable` (no allowed region).
    pub coverage: &'static str,
    /// Regions where the service is on (`global` for CloudTrail).
    pub enabled: Vec<String>,
    /// Regions where it is off or incomplete, with the audit's message.
    pub missing: Vec<(String, String)>,
    /// Collected regions without a verdict, or whose verdict was ERROR.
    pub unknown: Vec<String>,
    /// Regions the baseline does not allow (not checked).
    pub not_applicable: Vec<String>,
}

/// An account of the last audit: its posture and its security services.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    #[serde(flatten)]
    pub posture: AccountScore,
    /// The regions the last audit collected for the account.
    pub regions: Vec<String>,
    pub services: Vec<ServiceCoverage>,
}

/// One service's coverage in one account from its control's verdicts (`statuses`, this
/// account's only) over the collected `regions`.
pub fn service_coverage(
    (service, control, scope): (&'static str, &'static str, ServiceScope),
    regions: &[String],
    statuses: &[&rampart_store::ControlStatus],
) -> ServiceCoverage {
    use rampart_store::LifeStatus as S;
    // region → (worst status, message of the first failing verdict)
    let mut by_region: std::collections::BTreeMap<String, (S, String)> = Default::default();
    let rank = |s: S| match s {
        S::Fail => 4,
        S::Error => 3,
        S::Pass => 2,
        _ => 1,
    };
    for st in statuses.iter().filter(|s| s.control == control) {
        let region = match scope {
            ServiceScope::Account => "global".to_string(),
            ServiceScope::Region => st.region.clone(),
        };
        let e = by_region
            .entry(region)
            .or_insert((st.status, st.message.clone()));
        if rank(st.status) > rank(e.0) {
            *e = (st.status, st.message.clone());
        }
    }
    let mut c = ServiceCoverage {
        service,
        control,
        coverage: "unknown",
        enabled: Vec::new(),
        missing: Vec::new(),
        unknown: Vec::new(),
        not_applicable: Vec::new(),
    };
    // The regions judged: those collected (regional services), else those with a verdict.
    let judged: Vec<String> = match scope {
        ServiceScope::Region if !regions.is_empty() => regions
            .iter()
            .filter(|r| r.as_str() != "global")
            .cloned()
            .collect(),
        _ => by_region.keys().cloned().collect(),
    };
    for region in judged {
        match by_region.get(&region) {
            Some((S::Pass, _)) => c.enabled.push(region),
            Some((S::Fail, m)) => c.missing.push((region, m.clone())),
            Some((S::Error, _)) | None => c.unknown.push(region),
            Some(_) => c.not_applicable.push(region),
        }
    }
    c.coverage = match (
        c.enabled.is_empty(),
        c.missing.is_empty(),
        c.unknown.is_empty(),
    ) {
        (false, true, true) => "on",
        (false, _, _) => "partial",
        (true, false, _) => "off",
        (true, true, true) if !c.not_applicable.is_empty() => "not_applicable",
        _ => "unknown",
    };
    c
}

/// The accounts of the last audit with their security services: the same for every user, so
/// kept until the store changes.
pub async fn accounts_data(state: &AppState) -> Result<Arc<Vec<AccountView>>, String> {
    let version = state.db(|s| s.data_version()).await?;
    state
        .cache
        .accounts
        .get_or((), version, async || read_accounts(state).await)
        .await
}

async fn read_accounts(state: &AppState) -> Result<Vec<AccountView>, String> {
    let overview = overview_data(state).await?;
    let run_id = overview.last_audit.as_ref().map(|r| r.id);
    let controls: Vec<&'static str> = SECURITY_SERVICES.iter().map(|s| s.1).collect();
    let (statuses, regions) = state
        .db(move |s| {
            Ok((
                s.control_statuses(&controls)?,
                match run_id {
                    Some(id) => s.run_regions(id)?,
                    None => Vec::new(),
                },
            ))
        })
        .await?;
    // By account, so thousands of accounts are not each a scan of every verdict.
    let regions: HashMap<String, Vec<String>> = regions.into_iter().collect();
    let mut by_account: HashMap<&str, Vec<&rampart_store::ControlStatus>> = HashMap::new();
    for st in &statuses {
        by_account.entry(&st.account_id).or_default().push(st);
    }
    Ok(overview
        .accounts
        .into_iter()
        .map(|posture| {
            let regions = regions
                .get(&posture.account_id)
                .cloned()
                .unwrap_or_default();
            let mine = by_account
                .get(posture.account_id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let services = SECURITY_SERVICES
                .iter()
                .map(|svc| service_coverage(*svc, &regions, mine))
                .collect();
            AccountView {
                posture,
                regions,
                services,
            }
        })
        .collect())
}

/// The finding list's query string (pages and API share it).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FindingQuery {
    pub control: Option<String>,
    pub framework: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub account: Option<String>,
    pub ou: Option<String>,
    pub region: Option<String>,
    pub q: Option<String>,
    /// Only problems open at least this many days.
    #[serde(default, deserialize_with = "blank_is_none")]
    pub min_age_days: Option<i64>,
    pub after: Option<String>,
    #[serde(default, deserialize_with = "blank_is_none")]
    pub limit: Option<usize>,
}

/// A filter form submitted without JavaScript sends an empty field as `name=`: no filter,
/// not a parse error.
fn blank_is_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match Option::<String>::deserialize(d)?.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[derive(Debug, Serialize)]
pub struct FindingPage {
    pub findings: Vec<FindingLife>,
    /// Ids on this page whose risk is accepted in the store (unexpired): SUPPRESSED now,
    /// and counted so from the next recorded audit.
    pub accepted: Vec<String>,
    /// Pass as `after` for the next page; None on the last.
    pub next_after: Option<String>,
}

/// Turns the query into the store's filter: a framework becomes its controls, an OU the
/// accounts under it in the last audit.
pub async fn findings_data(state: &AppState, q: &FindingQuery) -> Result<FindingPage, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let severity = match non_empty(&q.severity) {
        Some(s) => Some(parse_severity(&s).ok_or_else(|| {
            bad(format!(
                "unknown severity {s:?}; use CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL"
            ))
        })?),
        None => None,
    };
    let mut controls = non_empty(&q.control).map(|c| vec![c]);
    if let Some(fw) = non_empty(&q.framework) {
        let of_fw: Vec<String> = rampart_core::catalogue()
            .into_iter()
            .filter(|c| {
                c.frameworks
                    .iter()
                    .any(|m| m.split(':').next() == Some(fw.as_str()))
            })
            .map(|c| c.id.to_string())
            .collect();
        controls = Some(match controls {
            Some(c) => c.into_iter().filter(|id| of_fw.contains(id)).collect(),
            None => of_fw,
        });
    }
    let mut accounts = non_empty(&q.account).map(|a| vec![a]);
    if let Some(ou) = non_empty(&q.ou) {
        let under: Vec<String> = overview_data(state)
            .await?
            .accounts
            .into_iter()
            .filter(|a| a.ou_path == ou || a.ou_path.starts_with(&format!("{ou}/")))
            .map(|a| a.account_id)
            .collect();
        accounts = Some(match accounts {
            Some(a) => a.into_iter().filter(|id| under.contains(id)).collect(),
            None => under,
        });
    }
    let filter = FindingFilter {
        controls,
        accounts,
        severity,
        status: non_empty(&q.status),
        region: non_empty(&q.region),
        search: non_empty(&q.q),
        opened_before: q
            .min_age_days
            .map(|d| Utc::now() - Duration::days(d.max(0))),
        after: non_empty(&q.after),
        // `suppressed`/`open` agree with the status the page shows: a risk accepted since
        // the last audit is SUPPRESSED at once.
        accepted_on: Some(Utc::now().date_naive()),
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let today = Utc::now().date_naive();
    let (mut findings, acceptances) = state
        .db(move |s| Ok((s.findings_page(&filter, limit + 1)?, s.acceptances()?)))
        .await?;
    let next_after = if findings.len() > limit {
        findings.truncate(limit);
        findings.last().map(|f| f.id.clone())
    } else {
        None
    };
    let accepted = findings
        .iter()
        .filter(|f| {
            acceptances
                .iter()
                .any(|a| a.finding_id == f.id && a.expires.is_none_or(|d| d >= today))
        })
        .map(|f| f.id.clone())
        .collect();
    Ok(FindingPage {
        findings,
        accepted,
        next_after,
    })
}

pub fn parse_severity(s: &str) -> Option<Severity> {
    [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
    ]
    .into_iter()
    .find(|v| v.as_str().eq_ignore_ascii_case(s))
}

#[derive(Debug, Serialize)]
pub struct FindingDetail {
    pub finding: FindingLife,
    pub history: Vec<LifeEvent>,
    pub acceptance: Option<rampart_store::Acceptance>,
    pub rationale: Option<&'static str>,
    pub remediation_console: Option<&'static str>,
    pub remediation_cli: Option<&'static str>,
    pub frameworks: Vec<&'static str>,
}

impl FindingDetail {
    /// SUPPRESSED when the last audit suppressed it or a live acceptance will.
    pub fn shown_status(&self) -> &'static str {
        if self.finding.suppressed.is_some() || self.acceptance.is_some() {
            "SUPPRESSED"
        } else {
            self.finding.status.as_str()
        }
    }
}

pub async fn finding_data(state: &AppState, id: String) -> Result<FindingDetail, ApiError> {
    let today = Utc::now().date_naive();
    let found = state
        .db(move |s| {
            let f = s.findings_by_ids(std::slice::from_ref(&id))?.pop();
            match f {
                None => Ok(None),
                Some(f) => {
                    let history = s.finding_history(&id)?;
                    let acceptance = s
                        .acceptances()?
                        .into_iter()
                        .find(|a| a.finding_id == id && a.expires.is_none_or(|d| d >= today));
                    Ok(Some((f, history, acceptance)))
                }
            }
        })
        .await?;
    let Some((finding, history, acceptance)) = found else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            "no such finding; the Findings page lists them".into(),
        ));
    };
    let control = rampart_core::catalogue()
        .into_iter()
        .find(|c| c.id == finding.control);
    Ok(FindingDetail {
        rationale: control.map(|c| c.rationale),
        remediation_console: control.map(|c| c.remediation_console),
        remediation_cli: control.map(|c| c.remediation_cli),
        frameworks: control.map(|c| c.frameworks.to_vec()).unwrap_or_default(),
        finding,
        history,
        acceptance,
    })
}

#[derive(Debug, Deserialize)]
pub struct AcceptRequest {
    pub reason: String,
    /// YYYY-MM-DD; empty or absent: no expiry.
    pub expires: Option<String>,
}

/// Records an accepted risk (operator or above) and its audit-log entry.
pub async fn accept_risk(
    state: &AppState,
    who: &Principal,
    id: String,
    req: AcceptRequest,
) -> Result<(), ApiError> {
    let bad = |m: &str| ApiError(StatusCode::BAD_REQUEST, m.to_string());
    let reason = req.reason.trim().to_string();
    if reason.is_empty() {
        return Err(bad("a reason is required: say why the risk is accepted"));
    }
    let expires = match req
        .expires
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(d) => {
            let d: NaiveDate = d
                .parse()
                .map_err(|_| bad("expires must be a date, YYYY-MM-DD"))?;
            if d < Utc::now().date_naive() {
                return Err(bad("expires is in the past; choose a later date"));
            }
            Some(d)
        }
    };
    // 404 for an unknown finding rather than an acceptance of nothing.
    finding_data(state, id.clone()).await?;
    let now = Utc::now();
    let acceptance = rampart_store::Acceptance {
        finding_id: id.clone(),
        reason: reason.clone(),
        who: who.name.clone(),
        expires,
        created_at: now,
    };
    let entry = AuditLogEntry {
        at: now,
        actor: who.name.clone(),
        via: who.via().into(),
        action: "finding.accept".into(),
        target: id,
        detail: format!(
            "{reason}{}",
            expires.map(|d| format!(" (until {d})")).unwrap_or_default()
        ),
    };
    state
        .db(move |s| {
            s.accept(&acceptance)?;
            s.append_audit(&entry)
        })
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub id: String,
    pub run_id: i64,
    pub alert: AlertRow,
    pub state: Option<AlertStateRecord>,
}

impl From<ListedAlert> for AlertView {
    fn from(a: ListedAlert) -> Self {
        AlertView {
            id: a.id,
            run_id: a.run_id,
            alert: a.alert,
            state: a.state,
        }
    }
}

/// The id `rampart_detect` gives the alert, from its stored columns.
#[cfg(test)]
pub fn stored_alert_id(a: &AlertRow) -> String {
    let event_id = a.event_id.as_deref();
    rampart_detect::alert::alert_id(&a.rule_source, &a.rule_id, event_id, a.account.as_deref())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AlertQuery {
    #[serde(default, deserialize_with = "blank_is_none")]
    pub days: Option<i64>,
    pub severity: Option<String>,
    /// `new`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    pub account: Option<String>,
    pub rule: Option<String>,
    /// The cursor of the next page (the previous page's `next`).
    pub after: Option<String>,
    #[serde(default, deserialize_with = "blank_is_none")]
    pub limit: Option<usize>,
}

/// The largest number of alerts one page lists (newest first).
pub const MAX_ALERTS: usize = 500;

/// One page of the alert list.
#[derive(Debug, Serialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertView>,
    /// Pass as `after` for the next page; None on the last.
    pub next: Option<String>,
}

/// One page of alerts: the query's filters and cursor become the store's keyset query.
pub async fn alerts_data(state: &AppState, q: &AlertQuery) -> Result<AlertPage, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let days = q.days.unwrap_or(7).clamp(1, 400);
    let severity = match non_empty(&q.severity) {
        Some(s) => Some(parse_severity(&s).ok_or_else(|| {
            bad(format!(
                "unknown severity {s:?}; use CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL"
            ))
        })?),
        None => None,
    };
    let triage = match non_empty(&q.state) {
        Some(s) => Some(AlertTriage::parse(&s).ok_or_else(|| {
            bad(format!(
                "unknown state {s:?}; use new, acknowledged or resolved"
            ))
        })?),
        None => None,
    };
    let after = match non_empty(&q.after) {
        Some(token) => Some(AlertCursor::parse(&token).ok_or_else(|| {
            bad("after is not a cursor this list gave out; start again from the first page".into())
        })?),
        None => None,
    };
    let filter = AlertFilter {
        since: Some(Utc::now() - Duration::days(days)),
        severity,
        state: triage,
        account: non_empty(&q.account),
        rule: non_empty(&q.rule),
        after,
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_ALERTS);
    let mut rows = state.db(move |s| s.alerts_page(&filter, limit + 1)).await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|a| a.cursor.token())
    } else {
        None
    };
    Ok(AlertPage {
        alerts: rows.into_iter().map(AlertView::from).collect(),
        next,
    })
}

/// One alert by id, with its triage state.
pub async fn alert_data(state: &AppState, id: &str) -> Result<AlertView, ApiError> {
    let id = id.to_string();
    state
        .db(move |s| s.alert_by_id(&id))
        .await?
        .map(AlertView::from)
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                "no such alert; the Alerts page lists them".into(),
            )
        })
}

#[derive(Debug, Deserialize)]
pub struct AlertStateRequest {
    /// `acknowledged` or `resolved`.
    pub state: String,
    pub assignee: Option<String>,
    #[serde(default)]
    pub comment: String,
}

pub async fn set_alert_state(
    state: &AppState,
    who: &Principal,
    id: String,
    req: AlertStateRequest,
) -> Result<(), ApiError> {
    let new_state = req.state.trim().to_ascii_lowercase();
    if new_state != "acknowledged" && new_state != "resolved" {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "state must be acknowledged or resolved".into(),
        ));
    }
    if new_state == "resolved" && req.comment.trim().is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "resolving an alert needs a comment saying why".into(),
        ));
    }
    alert_data(state, &id).await?;
    let now = Utc::now();
    let assignee = non_empty(&req.assignee);
    let record = AlertStateRecord {
        alert_id: id.clone(),
        state: new_state.clone(),
        assignee: assignee.clone(),
        comment: req.comment.trim().to_string(),
        updated_by: who.name.clone(),
        updated_at: now,
        // the store keeps the first acknowledgement; these are not written
        acknowledged_by: who.name.clone(),
        acknowledged_at: now,
        ack_comment: None,
    };
    let entry = AuditLogEntry {
        at: now,
        actor: who.name.clone(),
        via: who.via().into(),
        action: format!("alert.{new_state}"),
        target: id,
        detail: format!(
            "{}{}",
            req.comment.trim(),
            assignee
                .map(|a| format!(" (assigned to {a})"))
                .unwrap_or_default()
        ),
    };
    state
        .db(move |s| {
            s.set_alert_state(&record)?;
            s.append_audit(&entry)
        })
        .await?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct DriftView {
    pub run: Option<RunSummary>,
    pub changes: Vec<ChangeRow>,
    /// What applies them (the dashboard cannot reach AWS by itself).
    pub cli: String,
}

pub async fn drift_data(state: &AppState) -> Result<DriftView, String> {
    state
        .db(|s| {
            let latest = [RunKind::Plan, RunKind::Drift]
                .into_iter()
                .filter_map(|k| s.runs(Some(k), None, Some(1)).ok()?.into_iter().next())
                .max_by_key(|r| r.id);
            let changes = match &latest {
                Some(r) => s
                    .changes(r.kind, r.started_at, r.started_at + Duration::seconds(1))?
                    .into_iter()
                    .filter(|(id, _)| *id == r.id)
                    .map(|(_, c)| c)
                    .collect(),
                None => Vec::new(),
            };
            Ok(DriftView {
                run: latest,
                changes,
                cli: "rampart plan && rampart apply".into(),
            })
        })
        .await
}

/// What `rampart apply` asks before destructive changes, and what the dashboard asks too.
pub const CONFIRM_WORD: &str = "yes";

#[derive(Debug, Deserialize)]
pub struct ApplyRequest {
    /// The plan or drift run the admin reviewed (the Drift page's).
    pub run_id: i64,
    /// `yes` when the plan destroys something.
    #[serde(default)]
    pub confirm: String,
}

/// Applies the pending changes of the plan shown on the Drift page (admins only, through the
/// binary's [`crate::Jobs`]). Refused when another plan was recorded since, when destructive
/// changes lack the typed confirmation, or while another apply runs. Every attempt that reaches
/// the binary is in the audit log with its outcome.
pub async fn apply_drift(
    state: &AppState,
    who: &Principal,
    req: ApplyRequest,
) -> Result<String, ApiError> {
    let conflict = |m: String| ApiError(StatusCode::CONFLICT, m);
    let Some(jobs) = state.jobs.clone() else {
        return Err(ApiError(
            StatusCode::NOT_IMPLEMENTED,
            "this server cannot apply (it was started without AWS access); run `rampart plan && rampart apply`".into(),
        ));
    };
    let d = drift_data(state).await?;
    let Some(run) = d.run else {
        return Err(conflict(
            "no plan or drift run is recorded; run `rampart drift` first".into(),
        ));
    };
    if run.id != req.run_id {
        return Err(conflict(format!(
            "plan run #{} is not the latest: run #{} was recorded since; review it on the Drift page and apply that one",
            req.run_id, run.id
        )));
    }
    if d.changes.is_empty() {
        return Err(conflict(format!(
            "plan run #{} has no pending changes",
            run.id
        )));
    }
    let destructive = d.changes.iter().filter(|c| c.destructive).count();
    let confirmed = req.confirm.trim() == CONFIRM_WORD;
    if destructive > 0 && !confirmed {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "plan run #{} has {destructive} destructive change(s): type `{CONFIRM_WORD}` in the confirmation field to apply them",
                run.id
            ),
        ));
    }
    if state
        .applying
        .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return Err(conflict(
            "another apply is running; wait for it to finish".into(),
        ));
    }
    let (run_id, confirm) = (run.id, destructive > 0 && confirmed);
    let result = tokio::task::spawn_blocking(move || jobs.apply(run_id, confirm))
        .await
        .unwrap_or_else(|e| {
            Err(crate::JobError::Failed(format!(
                "the apply task failed: {e}"
            )))
        });
    state
        .applying
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let what = format!("{} change(s), {destructive} destructive", d.changes.len());
    let entry = AuditLogEntry {
        at: Utc::now(),
        actor: who.name.clone(),
        via: who.via().into(),
        action: "drift.apply".into(),
        target: format!("{} run #{run_id}", run.kind.as_str()),
        detail: match &result {
            Ok(outcome) => format!("{what}: {outcome}"),
            Err(e) => format!("{what}: {e}"),
        },
    };
    state.db(move |s| s.append_audit(&entry)).await?;
    match result {
        Ok(outcome) => Ok(outcome),
        Err(crate::JobError::Refused(m)) => Err(conflict(m)),
        Err(crate::JobError::Failed(m)) => Err(ApiError(StatusCode::BAD_GATEWAY, m)),
    }
}

#[derive(Debug, Serialize)]
pub struct ControlView {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub frameworks: &'static [&'static str],
    pub rationale: &'static str,
}

pub fn catalogue_data() -> Vec<ControlView> {
    rampart_core::catalogue()
        .into_iter()
        .map(|c| ControlView {
            id: c.id,
            title: c.title,
            severity: c.severity,
            frameworks: c.frameworks,
            rationale: c.rationale,
        })
        .collect()
}

// JSON handlers.

pub async fn overview(State(state): State<AppState>) -> ApiResult<Overview> {
    Ok(Json(overview_data(&state).await?))
}

pub async fn findings(
    State(state): State<AppState>,
    Query(q): Query<FindingQuery>,
) -> ApiResult<FindingPage> {
    Ok(Json(findings_data(&state, &q).await?))
}

pub async fn finding(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<FindingDetail> {
    Ok(Json(finding_data(&state, id).await?))
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(req): Json<AcceptRequest>,
) -> ApiResult<serde_json::Value> {
    accept_risk(&state, &who, id.clone(), req).await?;
    Ok(Json(serde_json::json!({ "accepted": id, "by": who.name })))
}

pub async fn accounts(State(state): State<AppState>) -> ApiResult<Arc<Vec<AccountView>>> {
    Ok(Json(accounts_data(&state).await?))
}

/// The body stays the list of alerts; the next page is named in a `Link: <…>; rel="next"`
/// header (RFC 8288), so clients of the unpaged list keep working.
pub async fn alerts(
    State(state): State<AppState>,
    Query(q): Query<AlertQuery>,
) -> Result<Response, ApiError> {
    let page = alerts_data(&state, &q).await?;
    let mut resp = Json(page.alerts).into_response();
    if let Some(next) = page.next {
        let mut nq = q.clone();
        nq.after = Some(next);
        let link = format!("</api/v1/alerts?{}>; rel=\"next\"", query_string(&nq));
        if let Ok(v) = header::HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// A query as a URL query string (the non-empty fields, percent-encoded): next-page links.
pub fn query_string<T: Serialize>(q: &T) -> String {
    let v = serde_json::to_value(q).unwrap_or_default();
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::Null => return None,
                        serde_json::Value::String(s) if s.trim().is_empty() => return None,
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Some(format!("{k}={}", crate::html::url_encode(&text)))
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default()
}

pub async fn alert(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<AlertView> {
    Ok(Json(alert_data(&state, &id).await?))
}

pub async fn alert_state(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(req): Json<AlertStateRequest>,
) -> ApiResult<AlertView> {
    set_alert_state(&state, &who, id.clone(), req).await?;
    Ok(Json(alert_data(&state, &id).await?))
}

pub async fn drift(State(state): State<AppState>) -> ApiResult<DriftView> {
    Ok(Json(drift_data(&state).await?))
}

pub async fn drift_apply(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(req): Json<ApplyRequest>,
) -> ApiResult<serde_json::Value> {
    let run_id = req.run_id;
    let outcome = apply_drift(&state, &who, req).await?;
    Ok(Json(
        serde_json::json!({ "run_id": run_id, "outcome": outcome, "by": who.name }),
    ))
}

pub async fn catalogue() -> Json<Vec<ControlView>> {
    Json(catalogue_data())
}

#[derive(Debug, Deserialize)]
pub struct LimitQuery {
    pub limit: Option<usize>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Vec<AuditLogEntry>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 5000);
    Ok(Json(state.db(move |s| s.audit_log(limit)).await?))
}

/// A query parameter for the OpenAPI document: name, JSON type, description.
type QueryParam = (&'static str, &'static str, &'static str);

/// The query parameters of the list routes, for the OpenAPI document.
const QUERY_PARAMS: &[(&str, &[QueryParam])] = &[
    (
        "/api/v1/findings",
        &[
            ("control", "string", "A control id"),
            ("framework", "string", "A framework: its controls"),
            (
                "severity",
                "string",
                "CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL",
            ),
            (
                "status",
                "string",
                "open, suppressed, resolved, or a status (FAIL, PASS, ...)",
            ),
            ("account", "string", "An account id"),
            ("ou", "string", "An OU path: the accounts under it"),
            ("region", "string", "A region"),
            (
                "q",
                "string",
                "Substring of the id, resource, message or title",
            ),
            (
                "min_age_days",
                "integer",
                "Problems open at least this many days",
            ),
            ("after", "string", "The previous page's next_after"),
            ("limit", "integer", "Page size, 1 to 500 (default 50)"),
        ],
    ),
    (
        "/api/v1/alerts",
        &[
            (
                "days",
                "integer",
                "Alerts of the last N days, 1 to 400 (default 7)",
            ),
            (
                "severity",
                "string",
                "CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL",
            ),
            ("state", "string", "new, acknowledged or resolved"),
            ("account", "string", "An account id"),
            ("rule", "string", "A rule id"),
            (
                "after",
                "string",
                "The cursor in the previous page's Link rel=next",
            ),
            ("limit", "integer", "Page size, 1 to 500 (default 50)"),
        ],
    ),
    (
        "/api/v1/audit-log",
        &[(
            "limit",
            "integer",
            "Newest N entries, 1 to 5000 (default 200)",
        )],
    ),
    (
        "/api/v1/reports/weekly",
        &[("weeks_ago", "integer", "0: the week ending now; at most 52")],
    ),
];

/// The OpenAPI 3 document, generated from the route table.
pub fn openapi_document() -> serde_json::Value {
    let mut paths = serde_json::Map::new();
    for spec in ROUTES.iter().filter(|r| r.kind == Kind::Api) {
        let params: Vec<serde_json::Value> = spec
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                serde_json::json!({
                    "name": name, "in": "path", "required": true, "schema": {"type": "string"}
                })
            })
            .chain(
                QUERY_PARAMS
                    .iter()
                    .filter(|(path, _)| *path == spec.path && spec.method == "GET")
                    .flat_map(|(_, params)| params.iter())
                    .map(|(name, ty, description)| {
                        serde_json::json!({
                            "name": name, "in": "query", "required": false,
                            "description": description, "schema": {"type": ty}
                        })
                    }),
            )
            .collect();
        let mut op = serde_json::json!({
            "summary": spec.summary,
            "description": format!("Needs the {} role.", spec.least_role()),
            "parameters": params,
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "OK"},
                "401": {"description": "No valid token"},
                "403": {"description": format!("The token's role is below {}", spec.least_role())}
            }
        });
        if let Some(schema) = response_schema(spec.path) {
            op["responses"]["200"]["content"] =
                serde_json::json!({"application/json": {"schema": schema}});
        }
        if spec.path == "/api/v1/alerts" {
            op["responses"]["200"]["headers"] = serde_json::json!({
                "Link": {
                    "description": "<URL>; rel=\"next\": the next page, absent on the last",
                    "schema": {"type": "string"}
                }
            });
        }
        if spec.method == "POST" {
            op["requestBody"] = serde_json::json!({
                "required": true,
                "content": {"application/json": {"schema": {"type": "object"}}}
            });
        }
        let entry = paths
            .entry(spec.path.to_string())
            .or_insert_with(|| serde_json::json!({}));
        entry[spec.method.to_ascii_lowercase()] = op;
    }
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "rampart serve", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    })
}

/// The response body's schema, where the document spells it out.
fn response_schema(path: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    let strings = json!({"type": "array", "items": {"type": "string"}});
    match path {
        "/api/v1/accounts" => Some(json!({
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "run_id": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time"},
                    "account_id": {"type": "string"},
                    "name": {"type": "string"},
                    "ou_path": {"type": "string"},
                    "observed": {"type": "boolean"},
                    "pass": {"type": "integer"},
                    "fail": {"type": "integer"},
                    "error": {"type": "integer"},
                    "suppressed": {"type": "integer"},
                    "regions": strings,
                    "services": {
                        "type": "array",
                        "description": "GuardDuty, Security Hub, AWS Config, IAM Access Analyzer and CloudTrail, from the latest verdicts of their controls",
                        "items": {
                            "type": "object",
                            "properties": {
                                "service": {"type": "string"},
                                "control": {"type": "string"},
                                "coverage": {
                                    "type": "string",
                                    "enum": ["on", "partial", "off", "unknown", "not_applicable"]
                                },
                                "enabled": strings,
                                "missing": {
                                    "type": "array",
                                    "description": "[region, the audit's message]",
                                    "items": {"type": "array", "items": {"type": "string"}}
                                },
                                "unknown": strings,
                                "not_applicable": strings
                            }
                        }
                    }
                }
            }
        })),
        _ => None,
    }
}

pub async fn openapi() -> Json<serde_json::Value> {
    Json(openapi_document())
}

/// Prometheus text: open findings and recent alerts by severity, runs by kind and outcome,
/// and the duration of the last run of each kind.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let version = state.db(|s| s.data_version()).await?;
    let text = state
        .cache
        .metrics
        .get_or((), version, async || read_metrics(&state).await)
        .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        String::clone(&text),
    )
        .into_response())
}

async fn read_metrics(state: &AppState) -> Result<String, String> {
    let now = Utc::now();
    let (open, alerts, runs) = state
        .db(move |s| {
            Ok((
                s.open_by_severity(Some(Utc::now().date_naive()))?,
                s.alert_counts(now - Duration::days(7))?,
                s.runs(None, None, Some(10_000))?,
            ))
        })
        .await?;
    let mut out = String::new();
    out.push_str("# HELP rampart_findings_open Open, unsuppressed findings.\n");
    out.push_str("# TYPE rampart_findings_open gauge\n");
    for (sev, n) in &open {
        out.push_str(&format!(
            "rampart_findings_open{{severity=\"{}\"}} {n}\n",
            sev.as_str()
        ));
    }
    out.push_str("# HELP rampart_alerts_7d Alerts of the last 7 days.\n");
    out.push_str("# TYPE rampart_alerts_7d gauge\n");
    for (sev, n) in &alerts {
        out.push_str(&format!(
            "rampart_alerts_7d{{severity=\"{}\"}} {n}\n",
            sev.as_str()
        ));
    }
    let mut by_kind: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    let mut last: std::collections::BTreeMap<&str, f64> = Default::default();
    for r in &runs {
        let outcome = if r.error > 0 || r.collection_errors > 0 {
            "error"
        } else {
            "ok"
        };
        *by_kind.entry((r.kind.as_str(), outcome)).or_default() += 1;
        last.entry(r.kind.as_str())
            .or_insert_with(|| (r.finished_at - r.started_at).num_milliseconds() as f64 / 1000.0);
    }
    out.push_str("# HELP rampart_runs Recorded runs by kind and outcome.\n");
    out.push_str("# TYPE rampart_runs gauge\n");
    for ((kind, outcome), n) in by_kind {
        out.push_str(&format!(
            "rampart_runs{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}\n"
        ));
    }
    out.push_str(
        "# HELP rampart_last_run_duration_seconds Duration of the last run of each kind.\n",
    );
    out.push_str("# TYPE rampart_last_run_duration_seconds gauge\n");
    for (kind, secs) in last {
        out.push_str(&format!(
            "rampart_last_run_duration_seconds{{kind=\"{kind}\"}} {secs}\n"
        ));
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// 0: the week ending now; 1: the week before; at most 52.
    pub weeks_ago: Option<i64>,
}

/// The weekly report (rampart-report's renderer) of the week `weeks_ago` weeks back.
pub async fn weekly_report(
    state: &AppState,
    q: &ReportQuery,
    format: rampart_report::weekly::WeeklyFormat,
) -> Result<String, ApiError> {
    let weeks_ago = q.weeks_ago.unwrap_or(0).clamp(0, 52);
    let version = state.db(|s| s.data_version()).await?;
    let text = state
        .cache
        .weekly_text
        .get_or((weeks_ago, format as u8), version, async || {
            let report = state
                .cache
                .weekly
                .get_or(weeks_ago, version, async || {
                    let end = Utc::now() - Duration::weeks(weeks_ago);
                    state
                        .db(move |s| rampart_report::weekly::build(s, end, Duration::days(7)))
                        .await
                })
                .await?;
            Ok::<_, ApiError>(rampart_report::weekly::render(&report, format))
        })
        .await?;
    Ok(String::clone(&text))
}

pub async fn report(
    State(state): State<AppState>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let json = weekly_report(&state, &q, rampart_report::weekly::WeeklyFormat::Json).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}
