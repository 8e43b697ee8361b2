//! The weekly security report (`rampart report weekly`): the posture score and its trend, the
//! week's new, resolved and still-open failures, time to remediate, the risks to work on next,
//! expiring acceptances, alerts, drift and applied changes.
//!
//! This module is the report's data model and its renderers only. The builder fills a
//! [`WeeklyReport`] from the history store; everything here is pure (no clock, no I/O), so the
//! same report renders identically as HTML, Markdown, JSON, a Slack webhook body or an SNS
//! subject. Every string in the model may come from AWS or CloudTrail and is treated as hostile
//! by every renderer.

use rampart_core::Severity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod build;
mod chart;
mod html;
mod markdown;
mod slack;

pub use build::build;

pub use slack::{slack_payload, sns_subject};

/// The `schema` of the JSON form; bumped when a field changes meaning or disappears.
pub const SCHEMA: &str = "rampart.weekly/v1";

/// How many weekly points the trend covers.
pub const TREND_WEEKS: usize = 12;

/// How many risks the report ranks (`rank_risks(…, TOP_RISKS)`); the chat message shows 5.
pub const TOP_RISKS: usize = 10;

/// One week's report. Times are RFC 3339 strings; lists are in the order the builder chose
/// (renderers re-sort finding lists by severity and age so the worst come first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeeklyReport {
    /// Always [`SCHEMA`] for this layout.
    pub schema: String,
    pub generated_at: String,
    pub period_start: String,
    pub period_end: String,
    pub organization_id: Option<String>,
    /// Latest audit in the period: 100 × PASS / (PASS + unsuppressed FAIL). None without one.
    pub score: Option<f64>,
    /// `score` minus the score of the latest audit before `period_start`.
    pub score_change: Option<f64>,
    /// When the audit the "now" figures come from ran.
    pub last_audit: Option<String>,
    /// One point per week, oldest first ([`TREND_WEEKS`] of them).
    pub trend: Vec<TrendPoint>,
    pub by_ou: Vec<ScoreRow>,
    pub by_account: Vec<ScoreRow>,
    pub counts: Counts,
    /// Failing now, not failing (or not present) in the latest audit before the period.
    pub new_failures: Vec<FindingItem>,
    /// Failing before the period, passing or gone in the latest audit of it.
    pub resolved: Vec<FindingItem>,
    /// Failing before the period and still failing.
    pub still_open: Vec<FindingItem>,
    /// Per severity, over findings resolved in the period.
    pub mttr: Vec<MttrRow>,
    /// Ranked by [`rank_risks`], rank 1 first.
    pub top_risks: Vec<Risk>,
    /// Accepted risks (suppressions) whose expiry is near or past.
    pub expiring: Vec<ExpiringAcceptance>,
    pub alerts: AlertSummary,
    pub drift: DriftSummary,
    pub applied: Vec<AppliedChange>,
    /// Drills run in the period (`rampart drill`), oldest first; the section is shown only
    /// when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drills: Vec<DrillItem>,
    /// Caveats the reader must know (e.g. "no audit recorded in the period").
    pub notes: Vec<String>,
}

impl WeeklyReport {
    /// An empty report for the period: the builder fills in what the store holds.
    pub fn new(generated_at: &str, period_start: &str, period_end: &str) -> WeeklyReport {
        WeeklyReport {
            schema: SCHEMA.into(),
            generated_at: generated_at.into(),
            period_start: period_start.into(),
            period_end: period_end.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrendPoint {
    /// Monday 00:00 UTC of the week (RFC 3339).
    pub week_start: String,
    /// The week's latest audit; None when no audit ran that week (drawn as a gap).
    pub score: Option<f64>,
    pub pass: u64,
    pub fail: u64,
}

/// A score line for an OU or an account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoreRow {
    /// The OU path (`Root/Workloads/Prod`) or the account id.
    pub key: String,
    /// The OU's or account's name.
    pub name: String,
    /// The OU path (for an account, the OU it sits in).
    pub ou_path: String,
    pub score: Option<f64>,
    pub change: Option<f64>,
    /// Unsuppressed FAIL findings in the latest audit.
    pub fail: u64,
    /// One score per week, oldest first; None for weeks without an audit.
    pub trend: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub new: u64,
    pub resolved: u64,
    pub still_open: u64,
    /// Open failing findings (new + still open) per severity, most severe first.
    pub open_by_severity: Vec<SeverityCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingItem {
    pub finding_id: String,
    pub control: String,
    pub title: String,
    pub severity: Severity,
    pub account_id: String,
    pub account_name: String,
    pub ou_path: String,
    pub region: String,
    pub resource: String,
    pub message: String,
    /// Days since the finding first failed (for a resolved one: how long it stayed open).
    pub age_days: u64,
    /// When it first failed, if the history reaches that far back.
    pub opened_at: Option<String>,
}

/// Mean time to remediate for one severity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MttrRow {
    pub severity: Severity,
    /// Findings of this severity resolved in the window the builder measured.
    pub resolved: u64,
    pub mean_days: f64,
    pub median_days: f64,
}

/// A control to work on next week: its open failures taken together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// 1 is the most pressing.
    pub rank: u32,
    pub control: String,
    pub title: String,
    pub severity: Severity,
    /// Distinct accounts with an open failure of this control.
    pub accounts: u64,
    pub findings: u64,
    pub oldest_age_days: u64,
    /// [`risk_score`] of the above.
    pub score: f64,
    /// How to fix it (console steps, then the CLI); may span lines.
    pub remediation: String,
}

/// An accepted risk (suppression) that expires soon or has expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiringAcceptance {
    pub finding_id: String,
    pub control: String,
    pub account_id: String,
    pub resource: String,
    pub reason: String,
    /// Who accepted it.
    pub who: String,
    pub expires: String,
    /// Negative once expired.
    pub days_left: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertSummary {
    pub total: u64,
    pub by_rule: Vec<RuleCount>,
    pub by_severity: Vec<SeverityCount>,
    pub by_account: Vec<KeyCount>,
    /// Principals (ARNs, user names) that raised the most alerts.
    pub noisiest_principals: Vec<KeyCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub count: u64,
}

/// A count for an account id or a principal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftSummary {
    /// Drift checks run in the period.
    pub checks: u64,
    /// Differences from the baseline found in the period.
    pub found: u64,
    /// Differences still waiting to be applied at the end of the period.
    pub pending_now: u64,
    /// Differences found and then applied in the period.
    pub repaired: u64,
    pub items: Vec<DriftItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftItem {
    pub account: String,
    /// None for a global or organization-wide resource.
    pub region: Option<String>,
    pub description: String,
    /// Applying it deletes or replaces something.
    pub destructive: bool,
}

/// A change `rampart apply` made in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppliedChange {
    pub time: String,
    pub account: String,
    pub region: Option<String>,
    /// The AWS API called (`iam:UpdateAccountPasswordPolicy`).
    pub api: String,
    pub change_id: String,
    /// `applied`, `failed: …`, `skipped: …`.
    pub outcome: String,
}

/// One drill of the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DrillItem {
    pub time: String,
    pub scenario: String,
    pub account: String,
    pub expected_rule: String,
    pub passed: bool,
    pub time_to_detect_secs: Option<f64>,
    pub time_to_alert_secs: Option<f64>,
    /// Why it failed; empty when it passed.
    pub detail: String,
}

impl DrillItem {
    /// `pass`, or `FAIL: why`.
    pub fn outcome(&self) -> String {
        if self.passed {
            "pass".into()
        } else {
            format!("FAIL: {}", self.detail)
        }
    }
}

/// Seconds with one decimal, or `-` when not measured.
pub fn secs(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "-".into())
}

/// Formats `rampart report weekly --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeeklyFormat {
    Html,
    Markdown,
    Json,
}

impl WeeklyFormat {
    pub const NAMES: &'static str = "html, markdown, json";
}

impl std::str::FromStr for WeeklyFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "html" => Ok(WeeklyFormat::Html),
            "markdown" | "md" => Ok(WeeklyFormat::Markdown),
            "json" => Ok(WeeklyFormat::Json),
            other => Err(format!(
                "unknown weekly report format `{other}`: use one of {}",
                WeeklyFormat::NAMES
            )),
        }
    }
}

pub fn render(report: &WeeklyReport, format: WeeklyFormat) -> String {
    match format {
        WeeklyFormat::Html => html::render(report),
        WeeklyFormat::Markdown => markdown::render(report),
        WeeklyFormat::Json => {
            // A report built without `WeeklyReport::new` still says what it is.
            let mut s = if report.schema.is_empty() {
                let mut doc = serde_json::to_value(report).unwrap_or_default();
                doc["schema"] = SCHEMA.into();
                serde_json::to_string_pretty(&doc)
            } else {
                serde_json::to_string_pretty(report)
            }
            .unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// How much a severity weighs in [`risk_score`].
pub fn severity_weight(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 10.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 2.0,
        Severity::Informational => 1.0,
    }
}

/// severity weight × distinct accounts × [`age_factor`] of the oldest finding. Breadth counts in
/// full (every account is another door in); severity next; age lifts a risk by at most 40%, so
/// among equals the neglected one comes first, yet no amount of age lifts a risk past the next
/// severity up at equal breadth (weights differ by at least ×1.43).
pub fn risk_score(severity: Severity, accounts: u64, oldest_age_days: u64) -> f64 {
    severity_weight(severity) * accounts as f64 * age_factor(oldest_age_days)
}

/// 1 + 0.4 × ln(1 + days) / ln(366), capped at 1.4: 1.0 when found today, 1.14 after a week,
/// 1.23 after a month, 1.4 from a year on. Logarithmic because the first weeks of neglect say
/// more than the difference between month 13 and month 14.
pub fn age_factor(days: u64) -> f64 {
    const MAX_LIFT: f64 = 0.4;
    let year = 366f64.ln();
    1.0 + MAX_LIFT * ((days as f64).ln_1p() / year).min(1.0)
}

/// The risks to work on next: open failing findings grouped by control, scored by
/// [`risk_score`] (the group's highest severity, its distinct accounts, its oldest finding),
/// ranked by score (highest first, ties by control id) and cut to `top`. `remediation` gives
/// the fix for a control; pass [`catalogue_remediation`] for rampart's own text.
pub fn rank_risks(
    open: &[FindingItem],
    remediation: impl Fn(&str) -> Option<String>,
    top: usize,
) -> Vec<Risk> {
    struct Group<'a> {
        severity: Severity,
        title: &'a str,
        accounts: BTreeSet<&'a str>,
        findings: u64,
        oldest: u64,
    }
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    for f in open {
        let g = groups.entry(&f.control).or_insert_with(|| Group {
            severity: f.severity,
            title: &f.title,
            accounts: BTreeSet::new(),
            findings: 0,
            oldest: 0,
        });
        g.severity = g.severity.max(f.severity);
        if g.title.is_empty() {
            g.title = &f.title;
        }
        g.accounts.insert(&f.account_id);
        g.findings += 1;
        g.oldest = g.oldest.max(f.age_days);
    }
    let mut risks: Vec<Risk> = groups
        .into_iter()
        .map(|(control, g)| {
            let accounts = g.accounts.len() as u64;
            Risk {
                rank: 0,
                control: control.to_string(),
                title: g.title.to_string(),
                severity: g.severity,
                accounts,
                findings: g.findings,
                oldest_age_days: g.oldest,
                score: risk_score(g.severity, accounts, g.oldest),
                remediation: String::new(),
            }
        })
        .collect();
    // BTreeMap order is control order, and the sort is stable: equal scores stay by control.
    risks.sort_by(|a, b| b.score.total_cmp(&a.score));
    risks.truncate(top);
    for (i, r) in risks.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
        r.remediation = remediation(&r.control).unwrap_or_default();
    }
    risks
}

/// rampart's fix for one of its controls: the console steps, then the CLI on its own line.
pub fn catalogue_remediation(control: &str) -> Option<String> {
    let c = rampart_core::catalogue()
        .into_iter()
        .find(|c| c.id == control)?;
    let text = [c.remediation_console, c.remediation_cli]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Some(text)
}

/// Findings counted per severity, most severe first, severities without any left out (for
/// [`Counts::open_by_severity`] and [`AlertSummary::by_severity`]).
pub fn severity_counts(severities: impl IntoIterator<Item = Severity>) -> Vec<SeverityCount> {
    let mut n: BTreeMap<std::cmp::Reverse<Severity>, u64> = BTreeMap::new();
    for s in severities {
        *n.entry(std::cmp::Reverse(s)).or_default() += 1;
    }
    n.into_iter()
        .map(|(s, count)| SeverityCount {
            severity: s.0,
            count,
        })
        .collect()
}

/// Mean and median days to remediate per severity, most severe first, from (severity, days the
/// finding stayed open) of each resolved finding. Values that are not numbers or negative are
/// skipped (a clock step in the history must not skew the mean).
pub fn mttr_by_severity(resolved: impl IntoIterator<Item = (Severity, f64)>) -> Vec<MttrRow> {
    let mut days: BTreeMap<std::cmp::Reverse<Severity>, Vec<f64>> = BTreeMap::new();
    for (s, d) in resolved {
        if d.is_finite() && d >= 0.0 {
            days.entry(std::cmp::Reverse(s)).or_default().push(d);
        }
    }
    days.into_iter()
        .map(|(s, mut d)| {
            d.sort_by(f64::total_cmp);
            let n = d.len();
            let median = if n % 2 == 1 {
                d[n / 2]
            } else {
                (d[n / 2 - 1] + d[n / 2]) / 2.0
            };
            MttrRow {
                severity: s.0,
                resolved: n as u64,
                mean_days: d.iter().sum::<f64>() / n as f64,
                median_days: median,
            }
        })
        .collect()
}

// Shared by the renderers, so every format shows a figure the same way.

/// Severities from the most to the least severe.
pub(crate) const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Informational,
];

/// A score to one decimal, or `n/a` (no audit, or a value that is not a number).
pub(crate) fn fmt_score(score: Option<f64>) -> String {
    match score {
        Some(s) if s.is_finite() => format!("{s:.1}"),
        _ => "n/a".into(),
    }
}

/// A change in points with its sign (`+2.5`, `-1.0`, `0.0`), or `n/a`.
pub(crate) fn fmt_change(change: Option<f64>) -> String {
    match change {
        Some(c) if c.is_finite() => {
            let s = format!("{c:+.1}");
            if s == "+0.0" || s == "-0.0" {
                "0.0".into()
            } else {
                s
            }
        }
        _ => "n/a".into(),
    }
}

pub(crate) fn fmt_days(days: f64) -> String {
    if days.is_finite() {
        format!("{days:.1}")
    } else {
        "n/a".into()
    }
}

/// The date of an RFC 3339 time (`2026-11-30`), or the text itself when it is not one.
pub(crate) fn date_of(time: &str) -> &str {
    match time.get(..10) {
        Some(d) if is_date(d) => d,
        _ => time,
    }
}

/// True for `YYYY-MM-DD`.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The count for a severity in a list of them (0 when absent).
pub(crate) fn count_of(counts: &[SeverityCount], severity: Severity) -> u64 {
    counts
        .iter()
        .filter(|c| c.severity == severity)
        .map(|c| c.count)
        .sum()
}

/// Findings worst first: severity, then age (oldest first), then control, account, resource.
pub(crate) fn worst_first(items: &[FindingItem]) -> Vec<&FindingItem> {
    let mut v: Vec<&FindingItem> = items.iter().collect();
    v.sort_by(|a, b| {
        (
            std::cmp::Reverse(a.severity),
            std::cmp::Reverse(a.age_days),
            &a.control,
            &a.account_id,
            &a.region,
            &a.resource,
        )
            .cmp(&(
                std::cmp::Reverse(b.severity),
                std::cmp::Reverse(b.age_days),
                &b.control,
                &b.account_id,
                &b.region,
                &b.resource,
            ))
    });
    v
}

/// The first non-empty line of a text.
pub(crate) fn first_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// The one-line headline every format opens with.
pub(crate) fn headline(r: &WeeklyReport) -> String {
    let score = match r.score {
        None => "no audit in the period".to_string(),
        Some(_) => match r.score_change {
            Some(_) => format!(
                "score {} ({} vs the week before)",
                fmt_score(r.score),
                fmt_change(r.score_change)
            ),
            None => format!("score {}", fmt_score(r.score)),
        },
    };
    format!(
        "{score} · {} new · {} resolved · {} still open · {} alerts",
        r.counts.new, r.counts.resolved, r.counts.still_open, r.alerts.total
    )
}

#[cfg(test)]
pub(crate) mod testdata;

#[cfg(test)]
mod tests;
