//! What `--send` delivers besides the files: a Slack-compatible incoming-webhook body (Block
//! Kit: the headline figures and the top risks) and the subject line of the SNS message (whose
//! body is the Markdown). Only summary figures, control ids and titles and the first line of each
//! fix leave here: no resource names, messages or principals, which may carry secrets.

use super::{WeeklyReport, date_of, first_line, fmt_change, fmt_score, headline};
use serde_json::{Value, json};

/// Slack's limit for a section block's text.
const SECTION_TEXT_MAX: usize = 3000;
/// Slack's limit for each text in a section's `fields`.
const FIELD_TEXT_MAX: usize = 2000;
/// Slack's limit for a header block's text.
const HEADER_TEXT_MAX: usize = 150;
/// The notification fallback `text`; Slack accepts far more, notifications show a line.
const FALLBACK_TEXT_MAX: usize = 1000;
/// Budgets for untrusted pieces, so the whole message stays far below the ~12,000 characters
/// of blocks Slack accepts: ids, titles, a fix's first line, the notes.
const ID_MAX: usize = 120;
const TITLE_MAX: usize = 300;
const FIX_MAX: usize = 600;
const NOTES_MAX: usize = 1000;
/// Risks listed in the chat message.
const TOP_IN_CHAT: usize = 5;
/// SNS wants a subject of fewer than 100 characters.
const SNS_SUBJECT_MAX: usize = 99;

/// Escapes the three characters Slack's mrkdwn treats as markup (`<` starts links and mentions
/// such as `<!channel>`).
fn mrkdwn(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            c => o.push(c),
        }
    }
    o
}

/// At most `max` characters (Slack counts characters), ending with `…` when cut, and never
/// ending inside an `&amp;`-style entity.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if let Some(amp) = out.rfind('&')
        && !out[amp..].contains(';')
    {
        out.truncate(amp);
    }
    out.push('…');
    out
}

/// Untrusted text for mrkdwn: escaped, then clipped to `max` characters.
fn text(s: &str, max: usize) -> String {
    clip(&mrkdwn(s), max)
}

fn field(label: &str, value: &str) -> Value {
    json!({ "type": "mrkdwn", "text": clip(&format!("*{label}*\n{value}"), FIELD_TEXT_MAX) })
}

fn section(body: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(body, SECTION_TEXT_MAX) } })
}

/// The incoming-webhook body: `text` (the notification fallback) and `blocks` (header, period,
/// the figures, then the top risks with the first line of each fix). Every text stays within
/// Slack's per-block limits, and the whole message within a dozen blocks.
pub fn slack_payload(r: &WeeklyReport) -> Value {
    let period = format!(
        "{} to {}",
        clip(date_of(&r.period_start), 40),
        clip(date_of(&r.period_end), 40)
    );
    let fallback = clip(
        &mrkdwn(&format!(
            "rampart weekly security report, {period}: {}",
            headline(r)
        )),
        FALLBACK_TEXT_MAX,
    );
    let mut blocks = vec![
        json!({ "type": "header", "text": {
            "type": "plain_text",
            "text": clip(&format!("Weekly security report · {period}"), HEADER_TEXT_MAX),
        }}),
        json!({ "type": "context", "elements": [{
            "type": "mrkdwn",
            "text": format!(
                "Organization {} · last audit {}",
                text(r.organization_id.as_deref().unwrap_or("standalone account"), ID_MAX),
                text(r.last_audit.as_deref().unwrap_or("none in the period"), ID_MAX)
            ),
        }]}),
    ];
    let score = match (r.score, r.score_change) {
        (None, _) => "n/a (no audit in the period)".to_string(),
        (Some(_), None) => fmt_score(r.score),
        (Some(_), Some(_)) => format!(
            "{} ({} vs the week before)",
            fmt_score(r.score),
            fmt_change(r.score_change)
        ),
    };
    blocks.push(json!({ "type": "section", "fields": [
        field("Posture score", &score),
        field("New failures", &r.counts.new.to_string()),
        field("Resolved", &r.counts.resolved.to_string()),
        field("Still open", &r.counts.still_open.to_string()),
        field("Alerts", &r.alerts.total.to_string()),
        field("Drift", &format!("{} found · {} repaired", r.drift.found, r.drift.repaired)),
        field("Changes applied", &r.applied.len().to_string()),
    ]}));
    blocks.push(json!({ "type": "divider" }));
    if r.top_risks.is_empty() {
        blocks.push(section("*Top risks for next week*\nNo open risks to rank."));
    } else {
        blocks.push(section("*Top risks for next week*"));
    }
    for k in r.top_risks.iter().take(TOP_IN_CHAT) {
        let fix = first_line(&k.remediation);
        blocks.push(section(&format!(
            "*{}. {}* {} — {}\n{} account(s) · {} finding(s) · oldest {} day(s)\n{}",
            k.rank,
            k.severity.as_str(),
            text(&k.control, ID_MAX),
            text(&k.title, TITLE_MAX),
            k.accounts,
            k.findings,
            k.oldest_age_days,
            if fix.is_empty() {
                "No remediation recorded.".to_string()
            } else {
                format!("Fix: {}", text(fix, FIX_MAX))
            }
        )));
    }
    if !r.notes.is_empty() {
        blocks.push(json!({ "type": "context", "elements": [{
            "type": "mrkdwn",
            "text": text(&r.notes.join(" · "), NOTES_MAX),
        }]}));
    }
    json!({ "text": fallback, "blocks": blocks })
}

/// The SNS subject: printable ASCII only, one line, under 100 characters.
pub fn sns_subject(r: &WeeklyReport) -> String {
    let score = match r.score {
        None => "no audit".to_string(),
        Some(_) if r.score_change.is_some() => format!(
            "score {} ({})",
            fmt_score(r.score),
            fmt_change(r.score_change)
        ),
        Some(_) => format!("score {}", fmt_score(r.score)),
    };
    let s = format!(
        "rampart weekly {}: {score}, {} new, {} resolved, {} open, {} alerts",
        date_of(&r.period_end),
        r.counts.new,
        r.counts.resolved,
        r.counts.still_open,
        r.alerts.total
    );
    s.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(SNS_SUBJECT_MAX)
        .collect::<String>()
        .trim_end()
        .to_string()
}
