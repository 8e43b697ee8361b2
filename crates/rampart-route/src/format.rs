//! The message each destination receives: Slack Block Kit, a Teams Adaptive Card, a PagerDuty
//! Events API v2 event, an SNS message, or the `rampart.alert/v1` record signed with
//! HMAC-SHA256 for a generic webhook. Digests and escalations reuse the same builders.

use crate::config::{Destination, Secret};
use hmac::{KeyInit, Mac};
use rampart_detect::Alert;
use rampart_detect::ir::Severity;
use serde_json::{Value, json};

/// Why a message is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The alert, the first time.
    Alert,
    /// The alert again, because it was not acknowledged on `from` within `after_secs`.
    Escalation { from: String, after_secs: i64 },
    /// The alert was acknowledged (PagerDuty resolves its incident to `acknowledge`).
    Acknowledged { by: String },
}

/// A request to make: an HTTP POST or an SNS publish.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Http {
        url: Secret,
        headers: Vec<(String, String)>,
        body: String,
    },
    Sns {
        topic_arn: String,
        subject: String,
        message: String,
    },
}

/// Headers of a signed webhook: the Unix time of signing and `sha256=HEX` over
/// `TIMESTAMP.BODY`.
pub const TIMESTAMP_HEADER: &str = "X-Rampart-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Rampart-Signature";
/// The alert id (or `digest:ROUTE:WINDOW`), for receivers that deduplicate.
pub const ID_HEADER: &str = "X-Rampart-Alert-Id";

/// `sha256=` and the hex HMAC-SHA256 of `TIMESTAMP.BODY` under `key`.
pub fn sign(key: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256=");
    for b in bytes.iter() {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// A receiver's check (the documented procedure): the signature matches in constant time and
/// the timestamp is within `tolerance_secs` of `now` (replays are refused).
pub fn verify(
    key: &[u8],
    timestamp: &str,
    signature: &str,
    body: &str,
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > tolerance_secs {
        return false;
    }
    let want = sign(key, ts, body);
    want.len() == signature.len()
        && want
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Who, what, where of an alert, for people.
fn who(a: &Alert) -> String {
    a.principal().unwrap_or("unknown principal").to_string()
}

fn what(a: &Alert) -> String {
    let mut s = a.event_name().unwrap_or("—").to_string();
    if let Some(src) = a.event_source() {
        s.push_str(&format!(" ({src})"));
    }
    if let Some(r) = a.resource() {
        s.push_str(&format!(" on {r}"));
    }
    if a.count > 1 {
        s.push_str(&format!(", ×{}", a.count));
    }
    s
}

fn place(a: &Alert) -> String {
    match (a.account(), a.region()) {
        (Some(acc), Some(r)) => format!("{acc} / {r}"),
        (Some(acc), None) => acc.to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => "—".into(),
    }
}

/// The runbook lines of the alert (`rampart runbook RULE` for rules that have one).
fn runbook(a: &Alert) -> String {
    rampart_detect::runbook::message_lines(a)
        .unwrap_or_else(|| format!("No runbook for {}: triage from the event.", a.rule_id()))
}

fn headline(a: &Alert, kind: &Kind) -> String {
    let base = format!("[{}] {}", a.severity().as_str().to_uppercase(), a.title());
    match kind {
        Kind::Alert => base,
        Kind::Escalation { from, after_secs } => format!(
            "ESCALATED (not acknowledged on `{from}` after {}) {base}",
            human(*after_secs)
        ),
        Kind::Acknowledged { by } => format!("ACKNOWLEDGED by {by}: {base}"),
    }
}

/// `90` → `1m30s`, `3600` → `1h`.
pub fn human(secs: i64) -> String {
    let (d, h, m, s) = (
        secs / 86400,
        secs % 86400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut out = String::new();
    for (v, u) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{u}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

fn ack_hint(a: &Alert) -> String {
    format!(
        "alert `{}` · acknowledge: `rampart alerts ack {}`",
        a.id(),
        a.id()
    )
}

/// Slack Block Kit: header, the facts as fields, the runbook, the id and how to ack; `text`
/// is the notification fallback.
pub fn slack(a: &Alert, kind: &Kind) -> Value {
    let field = |k: &str, v: String| json!({"type": "mrkdwn", "text": format!("*{k}*\n{}", slack_escape(&v))});
    json!({
        "text": format!("{} — {}", headline(a, kind), a.summary()),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": clip(&headline(a, kind), 150), "emoji": false}},
            {"type": "section", "fields": [
                field("Severity", a.severity().as_str().to_string()),
                field("Rule", format!("{} ({})", a.rule_id(), a.rule_source())),
                field("Who", who(a)),
                field("What", what(a)),
                field("Where", place(a)),
                field("When", a.event_time().unwrap_or("—").to_string()),
            ]},
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(&slack_escape(&runbook(a)), 3000)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": ack_hint(a)}]},
        ]
    })
}

/// Lines packed into section texts within Slack's 3,000 characters each.
fn slack_sections(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for l in lines {
        let l = clip(&slack_escape(l), 2900);
        if !cur.is_empty() && cur.chars().count() + 1 + l.chars().count() > 3000 {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&l);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Slack's three control characters in text.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// Microsoft Teams: a message with one Adaptive Card (what Teams workflows and incoming
/// webhooks accept).
pub fn teams(a: &Alert, kind: &Kind) -> Value {
    let color = match a.severity() {
        Severity::Critical | Severity::High => "Attention",
        Severity::Medium => "Warning",
        _ => "Default",
    };
    let fact = |t: &str, v: String| json!({"title": t, "value": v});
    teams_card(vec![
        json!({"type": "TextBlock", "size": "Large", "weight": "Bolder", "color": color, "wrap": true, "text": headline(a, kind)}),
        json!({"type": "FactSet", "facts": [
            fact("Severity", a.severity().as_str().to_string()),
            fact("Rule", format!("{} ({})", a.rule_id(), a.rule_source())),
            fact("Who", who(a)),
            fact("What", what(a)),
            fact("Where", place(a)),
            fact("When", a.event_time().unwrap_or("—").to_string()),
        ]}),
        json!({"type": "TextBlock", "wrap": true, "text": runbook(a)}),
        json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": ack_hint(a)}),
    ])
}

fn teams_card(body: Vec<Value>) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            }
        }]
    })
}

/// PagerDuty's severities: critical, error, warning, info.
pub fn pagerduty_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// PagerDuty Events API v2: `trigger` (an alert or its escalation) or `acknowledge`, with the
/// alert id as `dedup_key` so repeats and acks land on the same incident.
pub fn pagerduty(a: &Alert, kind: &Kind, routing_key: &str) -> Value {
    let action = match kind {
        Kind::Acknowledged { .. } => "acknowledge",
        _ => "trigger",
    };
    let mut v = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": a.id(),
    });
    if action == "trigger" {
        v["payload"] = json!({
            "summary": clip(&format!("{} — {}", headline(a, kind), a.summary()), 1024),
            "source": a.account().unwrap_or("rampart"),
            "severity": pagerduty_severity(a.severity()),
            "timestamp": a.event_time(),
            "component": a.event_source(),
            "group": a.rule_id(),
            "class": a.rule_source().to_string(),
            "custom_details": {
                "who": who(a), "what": what(a), "where": place(a),
                "runbook": runbook(a),
                "acknowledge": format!("rampart alerts ack {}", a.id()),
                "alert": a,
            },
        });
        v["client"] = json!("rampart");
        if let (Some(id), Some(region)) = (a.event_id(), a.region()) {
            v["links"] = json!([{
                "href": format!("https://{region}.console.aws.amazon.com/cloudtrail/home?region={region}#/events/{id}"),
                "text": "CloudTrail event",
            }]);
        }
    }
    v
}

/// The generic webhook body: the `rampart.alert/v1` record, with `rampart_kind` and, for an
/// escalation, where it came from.
pub fn webhook_body(a: &Alert, kind: &Kind) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    match kind {
        Kind::Alert => v["rampart_kind"] = json!("alert"),
        Kind::Escalation { from, after_secs } => {
            v["rampart_kind"] = json!("escalation");
            v["escalated_from"] = json!(from);
            v["unacknowledged_secs"] = json!(after_secs);
        }
        Kind::Acknowledged { by } => {
            v["rampart_kind"] = json!("acknowledged");
            v["acknowledged_by"] = json!(by);
        }
    }
    v["alert_id"] = json!(a.id());
    v
}

/// The request for one alert to one destination, signed at `now` where the route has a key.
pub fn outgoing(dest: &Destination, a: &Alert, kind: &Kind, now: i64) -> Outgoing {
    match dest {
        Destination::Slack { url } => http(url, slack(a, kind), &a.id()),
        Destination::Teams { url } => http(url, teams(a, kind), &a.id()),
        Destination::PagerDuty { routing_key, url } => http(
            &Secret::new(url.clone()),
            pagerduty(a, kind, routing_key.expose()),
            &a.id(),
        ),
        Destination::Webhook { url, hmac_key } => {
            signed(url, hmac_key.as_ref(), webhook_body(a, kind), &a.id(), now)
        }
        Destination::Sns { topic_arn } => Outgoing::Sns {
            topic_arn: topic_arn.clone(),
            subject: clip(
                &headline(a, kind)
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect::<String>(),
                100,
            ),
            message: format!(
                "{}\n{}\n\n{}",
                a.summary(),
                runbook(a),
                webhook_body(a, kind)
            ),
        },
    }
}

fn http(url: &Secret, body: Value, id: &str) -> Outgoing {
    Outgoing::Http {
        url: url.clone(),
        headers: vec![(ID_HEADER.into(), id.into())],
        body: body.to_string(),
    }
}

fn signed(url: &Secret, key: Option<&Secret>, body: Value, id: &str, now: i64) -> Outgoing {
    let body = body.to_string();
    let mut headers = vec![(ID_HEADER.to_string(), id.to_string())];
    if let Some(k) = key {
        headers.push((TIMESTAMP_HEADER.into(), now.to_string()));
        headers.push((
            SIGNATURE_HEADER.into(),
            sign(k.expose().as_bytes(), now, &body),
        ));
    }
    Outgoing::Http {
        url: url.clone(),
        headers,
        body,
    }
}

/// How many alerts a digest message lists one by one (the rest are counted).
pub const DIGEST_LISTED: usize = 50;

/// One message for a batch of alerts (a digest window or what a rate limit held back).
pub fn digest(dest: &Destination, route: &str, key: &str, alerts: &[Alert], now: i64) -> Outgoing {
    let worst = alerts
        .iter()
        .map(Alert::severity)
        .max()
        .unwrap_or(Severity::Info);
    let title = format!(
        "rampart digest for `{route}`: {} alert(s), worst {}",
        alerts.len(),
        worst.as_str()
    );
    let mut lines: Vec<String> = alerts
        .iter()
        .take(DIGEST_LISTED)
        .map(|a| format!("• {} (`{}`)", a.summary(), a.id()))
        .collect();
    if alerts.len() > DIGEST_LISTED {
        lines.push(format!("… and {} more", alerts.len() - DIGEST_LISTED));
    }
    let text = lines.join("\n");
    match dest {
        Destination::Slack { url } => {
            let mut blocks = vec![
                json!({"type": "header", "text": {"type": "plain_text", "text": clip(&title, 150)}}),
            ];
            blocks.extend(
                slack_sections(&lines)
                    .into_iter()
                    .map(|t| json!({"type": "section", "text": {"type": "mrkdwn", "text": t}})),
            );
            http(url, json!({"text": title, "blocks": blocks}), key)
        }
        Destination::Teams { url } => http(
            url,
            teams_card(vec![
                json!({"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true, "text": title}),
                json!({"type": "TextBlock", "wrap": true, "text": text}),
            ]),
            key,
        ),
        Destination::PagerDuty { routing_key, url } => http(
            &Secret::new(url.clone()),
            json!({
                "routing_key": routing_key.expose(),
                "event_action": "trigger",
                "dedup_key": key,
                "client": "rampart",
                "payload": {
                    "summary": clip(&title, 1024),
                    "source": "rampart",
                    "severity": pagerduty_severity(worst),
                    "group": route,
                    "class": "digest",
                    "custom_details": {"alerts": text},
                }
            }),
            key,
        ),
        Destination::Webhook { url, hmac_key } => signed(
            url,
            hmac_key.as_ref(),
            json!({
                "schema": "rampart.digest/v1",
                "rampart_kind": "digest",
                "route": route,
                "digest_id": key,
                "alerts": alerts,
            }),
            key,
            now,
        ),
        Destination::Sns { topic_arn } => Outgoing::Sns {
            topic_arn: topic_arn.clone(),
            subject: clip(&title, 100),
            message: text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::alert_for;

    #[test]
    fn slack_block_kit_structure() {
        let a = alert_for("RD-IAM-003", Severity::High, "e1");
        let v = slack(&a, &Kind::Alert);
        assert!(v["text"].as_str().unwrap().starts_with("[HIGH] "));
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(
            blocks
                .iter()
                .map(|b| b["type"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["header", "section", "section", "context"]
        );
        let fields: Vec<&str> = blocks[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert!(
            fields
                .iter()
                .any(|f| f.starts_with("*Who*\narn:aws:iam::111122223333:user/mallory"))
        );
        assert!(
            fields
                .iter()
                .any(|f| f.contains("*Where*\n111122223333 / eu-west-1"))
        );
        assert!(
            fields
                .iter()
                .any(|f| f.starts_with("*What*\nCreateAccessKey (iam.amazonaws.com)"))
        );
        assert!(
            blocks[2]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("rampart runbook RD-IAM-003")
        );
        assert!(
            blocks[3]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("rampart alerts ack {}", a.id()))
        );
        let esc = slack(
            &a,
            &Kind::Escalation {
                from: "chat".into(),
                after_secs: 900,
            },
        );
        assert!(
            esc["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("ESCALATED (not acknowledged on `chat` after 15m)")
        );
    }

    #[test]
    fn teams_adaptive_card_structure() {
        let a = alert_for("RD-IAM-003", Severity::Critical, "e1");
        let v = teams(&a, &Kind::Alert);
        assert_eq!(v["type"], "message");
        let card = &v["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        let body = card["content"]["body"].as_array().unwrap();
        assert_eq!(body[0]["color"], "Attention");
        let facts = body[1]["facts"].as_array().unwrap();
        assert_eq!(facts.len(), 6);
        assert_eq!(facts[0], json!({"title": "Severity", "value": "critical"}));
    }

    #[test]
    fn pagerduty_events_v2() {
        let a = alert_for("RD-IAM-003", Severity::Medium, "e1");
        let v = pagerduty(&a, &Kind::Alert, "KEY");
        assert_eq!(v["routing_key"], "KEY");
        assert_eq!(v["event_action"], "trigger");
        assert_eq!(v["dedup_key"], a.id());
        assert_eq!(v["payload"]["severity"], "warning");
        assert_eq!(v["payload"]["source"], "111122223333");
        assert!(v["payload"]["summary"].as_str().unwrap().len() <= 1024);
        assert!(
            v["links"][0]["href"]
                .as_str()
                .unwrap()
                .contains("#/events/e1")
        );
        assert_eq!(
            v["payload"]["custom_details"]["alert"]["schema"],
            "rampart.alert/v1"
        );
        let ack = pagerduty(&a, &Kind::Acknowledged { by: "ana".into() }, "KEY");
        assert_eq!(ack["event_action"], "acknowledge");
        assert_eq!(ack["dedup_key"], a.id());
        assert!(ack.get("payload").is_none());
        for (s, want) in [
            (Severity::Critical, "critical"),
            (Severity::High, "error"),
            (Severity::Low, "info"),
            (Severity::Info, "info"),
        ] {
            assert_eq!(pagerduty_severity(s), want);
        }
    }

    #[test]
    fn webhook_is_signed_and_verifiable() {
        let a = alert_for("RD-IAM-003", Severity::High, "e1");
        let dest = Destination::Webhook {
            url: Secret::new("http://127.0.0.1:1/h"),
            hmac_key: Some(Secret::new("k3y")),
        };
        let Outgoing::Http { headers, body, .. } = outgoing(&dest, &a, &Kind::Alert, 1_700_000_000)
        else {
            panic!()
        };
        let h = |k: &str| headers.iter().find(|(n, _)| n == k).unwrap().1.clone();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["schema"], "rampart.alert/v1");
        assert_eq!(v["alert_id"], a.id());
        assert_eq!(h(ID_HEADER), a.id());
        assert_eq!(h(TIMESTAMP_HEADER), "1700000000");
        let sig = h(SIGNATURE_HEADER);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        let ok = |key: &[u8], ts: &str, body: &str, now: i64| verify(key, ts, &sig, body, now, 300);
        assert!(ok(b"k3y", "1700000000", &body, 1_700_000_100));
        assert!(!ok(b"other", "1700000000", &body, 1_700_000_100));
        assert!(!ok(b"k3y", "1700000001", &body, 1_700_000_100));
        assert!(!ok(
            b"k3y",
            "1700000000",
            &(body.clone() + " "),
            1_700_000_100
        ));
        assert!(!ok(b"k3y", "1700000000", &body, 1_700_000_400), "stale");
    }

    /// RFC 4231 test case 2 (HMAC-SHA-256, key "Jefe"): the primitive is the standard one, and
    /// a signature is that HMAC over `TIMESTAMP.BODY`.
    #[test]
    fn hmac_matches_rfc_4231() {
        let hmac_hex = |key: &[u8], data: &[u8]| -> String {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(data);
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign(b"Jefe", 12, "body"),
            format!("sha256={}", hmac_hex(b"Jefe", b"12.body"))
        );
    }

    #[test]
    fn digest_lists_and_counts() {
        let alerts: Vec<Alert> = (0..60)
            .map(|k| {
                alert_for(
                    "RD-X",
                    if k == 7 {
                        Severity::High
                    } else {
                        Severity::Low
                    },
                    &format!("e{k}"),
                )
            })
            .collect();
        let dest = Destination::Slack {
            url: Secret::new("http://127.0.0.1:1/s"),
        };
        let Outgoing::Http { body, .. } = digest(&dest, "chat", "digest:chat:0", &alerts, 0) else {
            panic!()
        };
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["text"],
            "rampart digest for `chat`: 60 alert(s), worst high"
        );
        let sections: Vec<&str> = v["blocks"].as_array().unwrap()[1..]
            .iter()
            .map(|b| b["text"]["text"].as_str().unwrap())
            .collect();
        assert!(sections.iter().all(|t| t.chars().count() <= 3000));
        let text = sections.join("\n");
        assert_eq!(text.lines().count(), DIGEST_LISTED + 1);
        assert!(text.ends_with("… and 10 more"));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(900), "15m");
        assert_eq!(human(3690), "1h1m30s");
        assert_eq!(human(0), "0s");
    }
}
