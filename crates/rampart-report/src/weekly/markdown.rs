//! The weekly report in GitHub-flavoured Markdown, for chat and email: the headline first, then
//! one short table per section. Long lists are cut to [`MAX_ROWS`] rows (the HTML and JSON forms
//! carry them all). Text from AWS is escaped so it can neither break a table nor become markup.

use super::{
    FindingItem, KeyCount, SEVERITIES, ScoreRow, WeeklyReport, count_of, date_of, fmt_change,
    fmt_days, fmt_score, headline, worst_first,
};

/// Rows shown per table; chat messages and emails stay readable.
pub(crate) const MAX_ROWS: usize = 25;

/// Inline text: Markdown punctuation backslash-escaped (so `<script>`, `*`, `|` or a backtick
/// stay text), line breaks folded to spaces, other control characters dropped.
pub(crate) fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' => {
                o.push('\\');
                o.push(c);
            }
            '\n' | '\r' | '\t' => o.push(' '),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        out.push(' ');
        out.push_str(c);
        out.push_str(" |");
    }
    out.push('\n');
}

/// A table of at most [`MAX_ROWS`] rows; `right` marks right-aligned (numeric) columns.
/// Only the rows shown are formatted, so a week with thousands of findings stays quick.
fn table(
    out: &mut String,
    headers: &[&str],
    right: &[bool],
    rows: impl ExactSizeIterator<Item = Vec<String>>,
) {
    let total = rows.len();
    row(
        out,
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    out.push('|');
    for r in right.iter().take(headers.len()) {
        out.push_str(if *r { "---:|" } else { "---|" });
    }
    out.push('\n');
    for r in rows.take(MAX_ROWS) {
        row(out, &r);
    }
    if total > MAX_ROWS {
        out.push_str(&format!(
            "\n…and {} more (the HTML and JSON reports list them all).\n",
            total - MAX_ROWS
        ));
    }
    out.push('\n');
}

/// A score line in block characters (▁ … █ over the same range the HTML sparklines use), `·`
/// for a week without an audit.
pub(crate) fn blocks(values: &[Option<f64>]) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = super::chart::spark_range(values);
    values
        .iter()
        .map(|v| match v {
            Some(s) if s.is_finite() => {
                let level = ((s.clamp(lo, hi) - lo) / (hi - lo) * 7.0).round();
                LEVELS[(level as usize).min(7)]
            }
            _ => '·',
        })
        .collect()
}

pub(crate) fn render(r: &WeeklyReport) -> String {
    let mut out = String::from("# rampart weekly security report\n\n");
    out.push_str(&format!(
        "Week {} to {} · organization {} · last audit {} · generated {}\n\n",
        md(date_of(&r.period_start)),
        md(date_of(&r.period_end)),
        md(r.organization_id.as_deref().unwrap_or("standalone account")),
        md(r.last_audit.as_deref().unwrap_or("none in the period")),
        md(&r.generated_at)
    ));
    out.push_str(&format!("**{}**\n\n", md(&headline(r))));
    for n in &r.notes {
        out.push_str(&format!("> **Note:** {}\n\n", md(n)));
    }

    out.push_str("## Summary\n\n");
    table(
        &mut out,
        &[
            "Score",
            "Change",
            "New",
            "Resolved",
            "Still open",
            "Alerts",
            "Drift found",
            "Drift repaired",
            "Changes applied",
        ],
        &[true; 9],
        std::iter::once(vec![
            fmt_score(r.score),
            fmt_change(r.score_change),
            r.counts.new.to_string(),
            r.counts.resolved.to_string(),
            r.counts.still_open.to_string(),
            r.alerts.total.to_string(),
            r.drift.found.to_string(),
            r.drift.repaired.to_string(),
            r.applied.len().to_string(),
        ]),
    );
    if r.counts.open_by_severity.iter().any(|c| c.count > 0) {
        out.push_str(&format!(
            "Open by severity: {}\n\n",
            by_severity(&r.counts.open_by_severity)
        ));
    }

    out.push_str("## Score trend\n\n");
    if r.trend.iter().any(|p| p.score.is_some_and(f64::is_finite)) {
        let scores: Vec<Option<f64>> = r.trend.iter().map(|p| p.score).collect();
        out.push_str(&format!(
            "`{}` (oldest first; `·` is a week without an audit)\n\n",
            blocks(&scores)
        ));
        table(
            &mut out,
            &["Week of", "Score", "PASS", "FAIL"],
            &[false, true, true, true],
            r.trend.iter().map(|p| {
                vec![
                    md(date_of(&p.week_start)),
                    fmt_score(p.score),
                    p.pass.to_string(),
                    p.fail.to_string(),
                ]
            }),
        );
    } else {
        out.push_str("No audits recorded in the weeks covered.\n\n");
    }

    out.push_str("## Score by OU\n\n");
    score_table(&mut out, &r.by_ou, false);
    out.push_str("## Score by account\n\n");
    score_table(&mut out, &r.by_account, true);

    out.push_str(&format!("## New failures ({})\n\n", r.new_failures.len()));
    finding_table(
        &mut out,
        &r.new_failures,
        "Age (days)",
        "No new failures this week.",
    );
    out.push_str(&format!("## Resolved ({})\n\n", r.resolved.len()));
    finding_table(
        &mut out,
        &r.resolved,
        "Was open (days)",
        "No failures were resolved this week.",
    );
    out.push_str(&format!("## Still open ({})\n\n", r.still_open.len()));
    finding_table(
        &mut out,
        &r.still_open,
        "Age (days)",
        "No failures from earlier weeks are still open.",
    );

    out.push_str("## Mean time to remediate\n\n");
    if r.mttr.iter().all(|m| m.resolved == 0) {
        out.push_str("No remediated findings to measure.\n\n");
    } else {
        let mut rows = Vec::new();
        for s in SEVERITIES {
            for m in r.mttr.iter().filter(|m| m.severity == s) {
                rows.push(vec![
                    s.as_str().to_string(),
                    m.resolved.to_string(),
                    fmt_days(m.mean_days),
                    fmt_days(m.median_days),
                ]);
            }
        }
        table(
            &mut out,
            &["Severity", "Resolved", "Mean (days)", "Median (days)"],
            &[false, true, true, true],
            rows.into_iter(),
        );
    }

    out.push_str("## Top risks for next week\n\n");
    if r.top_risks.is_empty() {
        out.push_str("No open risks to rank.\n\n");
    }
    for k in &r.top_risks {
        out.push_str(&format!(
            "{}. **{}** {} — {}  \n   {} account(s) · {} finding(s) · oldest {} day(s) · score {:.1}\n",
            k.rank,
            k.severity.as_str(),
            md(&k.control),
            md(&k.title),
            k.accounts,
            k.findings,
            k.oldest_age_days,
            if k.score.is_finite() { k.score } else { 0.0 }
        ));
        for line in k
            .remediation
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            out.push_str(&format!("   - {}\n", md(line)));
        }
    }
    if !r.top_risks.is_empty() {
        out.push('\n');
    }

    out.push_str("## Accepted risks expiring soon\n\n");
    if r.expiring.is_empty() {
        out.push_str("No accepted risks expire soon.\n\n");
    } else {
        let mut rows: Vec<_> = r.expiring.iter().collect();
        rows.sort_by_key(|e| e.days_left);
        table(
            &mut out,
            &[
                "Expires",
                "Days left",
                "Control",
                "Account",
                "Resource",
                "Reason",
                "Accepted by",
            ],
            &[false, true, false, false, false, false, false],
            rows.into_iter().map(|e| {
                vec![
                    md(&e.expires),
                    if e.days_left < 0 {
                        format!("expired {} day(s) ago", -e.days_left)
                    } else {
                        e.days_left.to_string()
                    },
                    md(&e.control),
                    md(&e.account_id),
                    md(&e.resource),
                    md(&e.reason),
                    md(&e.who),
                ]
            }),
        );
    }

    let a = &r.alerts;
    out.push_str(&format!("## Alerts ({})\n\n", a.total));
    if a.total == 0 && a.by_rule.is_empty() {
        out.push_str("No alerts this week.\n\n");
    } else {
        out.push_str(&format!(
            "**{}** alert(s). By severity: {}\n\n",
            a.total,
            by_severity(&a.by_severity)
        ));
        if !a.by_rule.is_empty() {
            table(
                &mut out,
                &["Rule", "Title", "Severity", "Alerts"],
                &[false, false, false, true],
                a.by_rule.iter().map(|k| {
                    vec![
                        md(&k.rule_id),
                        md(&k.title),
                        k.severity.as_str().to_string(),
                        k.count.to_string(),
                    ]
                }),
            );
        }
        key_counts(&mut out, "Account", &a.by_account);
        key_counts(
            &mut out,
            "Principal (noisiest first)",
            &a.noisiest_principals,
        );
    }

    let d = &r.drift;
    out.push_str("## Drift\n\n");
    if d.checks == 0 && d.found == 0 && d.items.is_empty() {
        out.push_str("No drift checks ran this week.\n\n");
    } else {
        out.push_str(&format!(
            "{} check(s) run · {} found · {} repaired · {} still pending\n\n",
            d.checks, d.found, d.repaired, d.pending_now
        ));
        if !d.items.is_empty() {
            table(
                &mut out,
                &["Account", "Region", "Difference", "Destructive"],
                &[false; 4],
                d.items.iter().map(|i| {
                    vec![
                        md(&i.account),
                        md(i.region.as_deref().unwrap_or("global")),
                        md(&i.description),
                        if i.destructive { "**yes**" } else { "no" }.to_string(),
                    ]
                }),
            );
        }
    }

    out.push_str(&format!("## Changes applied ({})\n\n", r.applied.len()));
    if r.applied.is_empty() {
        out.push_str("No changes applied this week.\n");
    } else {
        table(
            &mut out,
            &["Time", "Account", "Region", "API", "Change", "Outcome"],
            &[false; 6],
            r.applied.iter().map(|c| {
                vec![
                    md(&c.time),
                    md(&c.account),
                    md(c.region.as_deref().unwrap_or("global")),
                    md(&c.api),
                    md(&c.change_id),
                    md(&c.outcome),
                ]
            }),
        );
    }
    if !r.drills.is_empty() {
        out.push_str(&format!("\n## Drills ({})\n\n", r.drills.len()));
        table(
            &mut out,
            &[
                "Time",
                "Scenario",
                "Account",
                "Rule",
                "Result",
                "Time to detect",
                "Time to alert",
            ],
            &[false, false, false, false, false, true, true],
            r.drills.iter().map(|d| {
                vec![
                    md(&d.time),
                    md(&d.scenario),
                    md(&d.account),
                    md(&d.expected_rule),
                    md(&d.outcome()),
                    md(&super::secs(d.time_to_detect_secs)),
                    md(&super::secs(d.time_to_alert_secs)),
                ]
            }),
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `CRITICAL 1 · HIGH 4 · …` over all five severities.
fn by_severity(counts: &[super::SeverityCount]) -> String {
    SEVERITIES
        .iter()
        .map(|s| format!("{} {}", s.as_str(), count_of(counts, *s)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn key_counts(out: &mut String, key: &str, rows: &[KeyCount]) {
    if rows.is_empty() {
        return;
    }
    table(
        out,
        &[key, "Alerts"],
        &[false, true],
        rows.iter().map(|k| vec![md(&k.key), k.count.to_string()]),
    );
}

/// Rows as given; when they must be cut, the lowest scores are the ones kept.
fn score_table(out: &mut String, rows: &[ScoreRow], accounts: bool) {
    if rows.is_empty() {
        out.push_str(if accounts {
            "No per-account scores: no audit recorded in the period.\n\n"
        } else {
            "No per-OU scores: no audit recorded in the period, or no OUs.\n\n"
        });
        return;
    }
    let mut shown: Vec<&ScoreRow> = rows.iter().collect();
    if shown.len() > MAX_ROWS {
        shown.sort_by(|a, b| {
            let key = |r: &ScoreRow| r.score.filter(|s| s.is_finite()).unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        });
        out.push_str("Lowest scores first.\n\n");
    }
    let body = shown.into_iter().map(|r| {
        let mut cells = Vec::new();
        if accounts {
            cells.push(md(&r.key));
            cells.push(md(&r.name));
            cells.push(md(&r.ou_path));
        } else {
            cells.push(md(if r.name.is_empty() { &r.key } else { &r.name }));
            cells.push(md(&r.key));
        }
        cells.push(fmt_score(r.score));
        cells.push(fmt_change(r.change));
        cells.push(r.fail.to_string());
        cells.push(format!("`{}`", blocks(&r.trend)));
        cells
    });
    if accounts {
        table(
            out,
            &[
                "Account", "Name", "OU", "Score", "Change", "Failing", "Trend",
            ],
            &[false, false, false, true, true, true, false],
            body,
        );
    } else {
        table(
            out,
            &["OU", "Path", "Score", "Change", "Failing", "Trend"],
            &[false, false, true, true, true, false],
            body,
        );
    }
}

fn finding_table(out: &mut String, items: &[FindingItem], age: &str, none: &str) {
    if items.is_empty() {
        out.push_str(none);
        out.push_str("\n\n");
        return;
    }
    table(
        out,
        &[
            "Severity", "Control", "Title", "Account", "Region", "Resource", "Message", age,
        ],
        &[false, false, false, false, false, false, false, true],
        worst_first(items).into_iter().map(|f| {
            vec![
                f.severity.as_str().to_string(),
                md(&f.control),
                md(&f.title),
                if f.account_name.is_empty() {
                    md(&f.account_id)
                } else {
                    format!("{} ({})", md(&f.account_name), md(&f.account_id))
                },
                md(&f.region),
                md(&f.resource),
                md(&f.message),
                f.age_days.to_string(),
            ]
        }),
    );
}
