//! `[[alerts.route]]` in rampart.toml: parsed, validated (names, escalation chains without
//! loops) and with its secrets read from the environment or files, never from the file itself.

use crate::matcher::{Glob, Match};
use rampart_detect::ir::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The sources a route may name: rampart's own rules and the services whose findings are
/// taken in.
pub const SOURCES: [&str; 8] = [
    "builtin",
    "sigma",
    "pattern",
    "baseline",
    "guardduty",
    "securityhub",
    "access-analyzer",
    "config",
];

/// The route that takes the alerts no other route matched.
pub const DEFAULT_ROUTE: &str = "default";

/// A secret value (webhook URL, routing key, HMAC key): its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where a route sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Slack incoming webhook (Block Kit message).
    Slack { url: Secret },
    /// Microsoft Teams webhook (Adaptive Card).
    Teams { url: Secret },
    /// PagerDuty Events API v2; `url` is the events endpoint (overridable for tests/proxies).
    PagerDuty { routing_key: Secret, url: String },
    /// SNS topic (published through the binary's AWS client).
    Sns { topic_arn: String },
    /// Generic JSON webhook, HMAC-SHA256 signed when a key is set.
    Webhook {
        url: Secret,
        hmac_key: Option<Secret>,
    },
}

impl Destination {
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Slack { .. } => "slack",
            Destination::Teams { .. } => "teams",
            Destination::PagerDuty { .. } => "pagerduty",
            Destination::Sns { .. } => "sns",
            Destination::Webhook { .. } => "webhook",
        }
    }
}

/// The PagerDuty Events API v2 endpoint.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// Per-route rate limit: at most `count` messages per `per_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub per_secs: i64,
}

/// Digest mode: alerts at or below `max_severity` are batched into one message per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    pub window_secs: i64,
    pub max_severity: Severity,
}

/// Escalation: an alert not acknowledged `after_secs` after it was routed goes to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub after_secs: i64,
    pub to: String,
}

/// One validated route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub name: String,
    pub matcher: Match,
    /// Keep looking for further matching routes after this one.
    pub continue_matching: bool,
    pub destination: Destination,
    pub rate_limit: Option<RateLimit>,
    pub digest: Option<Digest>,
    pub escalation: Option<Escalation>,
}

/// The routes of a configuration, in file order, and where OU names come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routes {
    pub routes: Vec<Route>,
    /// `[alerts] org_snapshot`: the `rampart collect` snapshot that places accounts in OUs.
    pub org_snapshot: Option<String>,
}

impl Routes {
    pub fn get(&self, name: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.name == name)
    }
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// A string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSpec {
    url_env: Option<String>,
    url_file: Option<String>,
    routing_key_env: Option<String>,
    routing_key_file: Option<String>,
    hmac_key_env: Option<String>,
    hmac_key_file: Option<String>,
    /// Only for PagerDuty: the events endpoint (not a secret).
    url: Option<String>,
    topic_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    name: String,
    min_severity: Option<String>,
    severity: Option<OneOrMany>,
    rule: Option<OneOrMany>,
    finding_type: Option<OneOrMany>,
    account: Option<OneOrMany>,
    ou: Option<OneOrMany>,
    source: Option<OneOrMany>,
    #[serde(rename = "continue", default)]
    continue_matching: bool,
    slack: Option<SecretSpec>,
    teams: Option<SecretSpec>,
    pagerduty: Option<SecretSpec>,
    sns: Option<SecretSpec>,
    webhook: Option<SecretSpec>,
    rate_limit: Option<String>,
    digest: Option<String>,
    digest_max_severity: Option<String>,
    escalate_after: Option<String>,
    escalate_to: Option<String>,
}

/// Reads a secret named by `NAME_env` or `NAME_file`: exactly one of them. Errors name the
/// variable or file, never the value.
pub trait SecretSource {
    fn env(&self, var: &str) -> Option<String>;
    fn file(&self, path: &str) -> Result<String, String>;
}

/// The process environment and the file system.
pub struct SystemSecrets;

impl SecretSource for SystemSecrets {
    fn env(&self, var: &str) -> Option<String> {
        std::env::var(var).ok()
    }
    fn file(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

fn secret(
    route: &str,
    what: &str,
    env: &Option<String>,
    file: &Option<String>,
    src: &dyn SecretSource,
) -> Result<Option<Secret>, String> {
    match (env, file) {
        (Some(_), Some(_)) => Err(format!(
            "route `{route}`: set either {what}_env or {what}_file, not both"
        )),
        (Some(var), None) => match src.env(var) {
            Some(v) if !v.trim().is_empty() => Ok(Some(Secret(v.trim().to_string()))),
            _ => Err(format!(
                "route `{route}`: environment variable {var} ({what}_env) is not set; export it or use {what}_file"
            )),
        },
        (None, Some(path)) => match src.file(path) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(Secret(v.trim().to_string()))),
            Ok(_) => Err(format!("route `{route}`: {path} ({what}_file) is empty")),
            Err(e) => Err(format!(
                "route `{route}`: cannot read {path} ({what}_file): {e}"
            )),
        },
        (None, None) => Ok(None),
    }
}

fn required(route: &str, dest: &str, what: &str, s: Option<Secret>) -> Result<Secret, String> {
    s.ok_or_else(|| {
        format!("route `{route}`: {dest} needs {what}_env = \"VAR\" or {what}_file = \"PATH\"")
    })
}

/// A length of time: `30s`, `15m`, `1h`, `2d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "s" | "sec" | "second" | "seconds" => 1,
        "m" | "min" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86400,
        _ => return None,
    };
    (n > 0).then(|| n.checked_mul(mult)).flatten()
}

/// `20/minute`, `5/s`, `100/hour`, `10/15m`.
pub fn parse_rate(s: &str) -> Option<RateLimit> {
    let (count, per) = s.split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
    let per = per.trim();
    let per_secs = if per.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(per)?
    } else {
        parse_duration(&format!("1{per}"))?
    };
    Some(RateLimit { count, per_secs })
}

fn severity(route: &str, key: &str, s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| {
        format!("route `{route}`: {key} `{s}` is not one of info, low, medium, high, critical")
    })
}

fn globs(route: &str, key: &str, v: Option<OneOrMany>) -> Result<Vec<Glob>, String> {
    v.map(OneOrMany::into_vec)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            if p.is_empty() {
                Err(format!("route `{route}`: empty {key} pattern"))
            } else {
                Ok(Glob::new(&p))
            }
        })
        .collect()
}

fn destination(r: &mut RouteSpec, src: &dyn SecretSource) -> Result<Destination, String> {
    let name = r.name.clone();
    let given: Vec<(&str, SecretSpec)> = [
        ("slack", r.slack.take()),
        ("teams", r.teams.take()),
        ("pagerduty", r.pagerduty.take()),
        ("sns", r.sns.take()),
        ("webhook", r.webhook.take()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let mut it = given.into_iter();
    let (kind, spec) = match (it.next(), it.next()) {
        (Some(one), None) => one,
        (None, _) => {
            return Err(format!(
                "route `{name}`: no destination; add one of slack, teams, pagerduty, sns, webhook"
            ));
        }
        (Some(_), Some(_)) => {
            return Err(format!(
                "route `{name}`: one destination per route (use `continue = true` and a second route to send to two)"
            ));
        }
    };
    let url = secret(&name, "url", &spec.url_env, &spec.url_file, src)?;
    let key = secret(
        &name,
        "routing_key",
        &spec.routing_key_env,
        &spec.routing_key_file,
        src,
    )?;
    let hmac = secret(
        &name,
        "hmac_key",
        &spec.hmac_key_env,
        &spec.hmac_key_file,
        src,
    )?;
    let check_url = |u: Secret| -> Result<Secret, String> {
        if u.0.starts_with("http://") || u.0.starts_with("https://") {
            Ok(u)
        } else {
            Err(format!(
                "route `{name}`: the {kind} URL must start with http:// or https://"
            ))
        }
    };
    let unexpected = |present: bool, what: &str| -> Result<(), String> {
        if present {
            Err(format!("route `{name}`: {kind} takes no {what}"))
        } else {
            Ok(())
        }
    };
    Ok(match kind {
        "slack" | "teams" => {
            unexpected(key.is_some(), "routing_key")?;
            unexpected(hmac.is_some(), "hmac_key")?;
            unexpected(
                spec.url.is_some(),
                "plain `url` (webhook URLs are secrets: url_env or url_file)",
            )?;
            unexpected(spec.topic_arn.is_some(), "topic_arn")?;
            let url = check_url(required(&name, kind, "url", url)?)?;
            if kind == "slack" {
                Destination::Slack { url }
            } else {
                Destination::Teams { url }
            }
        }
        "pagerduty" => {
            unexpected(url.is_some() || hmac.is_some(), "url_env/hmac_key")?;
            unexpected(spec.topic_arn.is_some(), "topic_arn")?;
            let endpoint = spec
                .url
                .clone()
                .unwrap_or_else(|| PAGERDUTY_EVENTS_URL.to_string());
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(format!(
                    "route `{name}`: pagerduty url must start with http:// or https://"
                ));
            }
            Destination::PagerDuty {
                routing_key: required(&name, kind, "routing_key", key)?,
                url: endpoint,
            }
        }
        "sns" => {
            unexpected(url.is_some() || key.is_some() || hmac.is_some(), "secret")?;
            let arn = spec.topic_arn.clone().ok_or_else(|| {
                format!("route `{name}`: sns needs topic_arn = \"arn:aws:sns:REGION:ACCOUNT:NAME\"")
            })?;
            if !arn.starts_with("arn:") || arn.split(':').count() != 6 {
                return Err(format!(
                    "route `{name}`: `{arn}` is not a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                ));
            }
            Destination::Sns { topic_arn: arn }
        }
        _ => {
            unexpected(key.is_some(), "routing_key")?;
            unexpected(
                spec.url.is_some(),
                "plain `url` (webhook URLs are secrets: url_env or url_file)",
            )?;
            unexpected(spec.topic_arn.is_some(), "topic_arn")?;
            Destination::Webhook {
                url: check_url(required(&name, kind, "url", url)?)?,
                hmac_key: hmac,
            }
        }
    })
}

fn route(mut r: RouteSpec, src: &dyn SecretSource) -> Result<Route, String> {
    let name = r.name.clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "route `{name}`: names use letters, digits, `-`, `_` and `.`"
        ));
    }
    let sources: Vec<String> = r.source.take().map(OneOrMany::into_vec).unwrap_or_default();
    if let Some(bad) = sources.iter().find(|s| !SOURCES.contains(&s.as_str())) {
        return Err(format!(
            "route `{name}`: source `{bad}` is not one of {}",
            SOURCES.join(", ")
        ));
    }
    let matcher = Match {
        min_severity: r
            .min_severity
            .as_deref()
            .map(|s| severity(&name, "min_severity", s))
            .transpose()?,
        severity: r
            .severity
            .take()
            .map(OneOrMany::into_vec)
            .unwrap_or_default()
            .iter()
            .map(|s| severity(&name, "severity", s))
            .collect::<Result<_, _>>()?,
        rule: globs(&name, "rule", r.rule.take())?,
        finding_type: globs(&name, "finding_type", r.finding_type.take())?,
        account: globs(&name, "account", r.account.take())?,
        ou: r.ou.take().map(OneOrMany::into_vec).unwrap_or_default(),
        source: sources,
    };
    if name == DEFAULT_ROUTE && !matcher.is_empty() {
        return Err(format!(
            "route `{DEFAULT_ROUTE}` takes the alerts no other route matched; it has no match keys"
        ));
    }
    let destination = destination(&mut r, src)?;
    let rate_limit = r
        .rate_limit
        .as_deref()
        .map(|s| {
            parse_rate(s).ok_or_else(|| {
                format!("route `{name}`: rate_limit `{s}` is not COUNT/PERIOD (e.g. 20/minute)")
            })
        })
        .transpose()?;
    let digest = match (&r.digest, &r.digest_max_severity) {
        (Some(w), sev) => Some(Digest {
            window_secs: parse_duration(w).ok_or_else(|| {
                format!("route `{name}`: digest `{w}` is not a duration (e.g. 1h)")
            })?,
            max_severity: match sev {
                Some(s) => severity(&name, "digest_max_severity", s)?,
                None => Severity::Low,
            },
        }),
        (None, Some(_)) => {
            return Err(format!(
                "route `{name}`: digest_max_severity needs digest = \"WINDOW\""
            ));
        }
        (None, None) => None,
    };
    let escalation = match (&r.escalate_after, &r.escalate_to) {
        (Some(after), Some(to)) => Some(Escalation {
            after_secs: parse_duration(after).ok_or_else(|| {
                format!("route `{name}`: escalate_after `{after}` is not a duration (e.g. 15m)")
            })?,
            to: to.clone(),
        }),
        (None, None) => None,
        _ => {
            return Err(format!(
                "route `{name}`: escalate_after and escalate_to go together"
            ));
        }
    };
    Ok(Route {
        name,
        matcher,
        continue_matching: r.continue_matching,
        destination,
        rate_limit,
        digest,
        escalation,
    })
}

/// The routes in a rampart.toml text (`[[alerts.route]]`, `[alerts] org_snapshot`); none when
/// it has no `[alerts]` section. `file` names the configuration in errors.
pub fn parse(text: &str, file: &str, src: &dyn SecretSource) -> Result<Routes, String> {
    let doc: toml::Value = text
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| format!("{file}: {}", e.message()))?;
    let Some(alerts) = doc.get("alerts") else {
        return Ok(Routes::default());
    };
    let org_snapshot = match alerts.get("org_snapshot") {
        None => None,
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(format!("{file}: [alerts] org_snapshot is a file path")),
    };
    let specs: Vec<RouteSpec> = match alerts.get("route") {
        None => Vec::new(),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| format!("{file}: [[alerts.route]]: {}", e.message()))?,
    };
    let routes = specs
        .into_iter()
        .map(|s| route(s, src).map_err(|e| format!("{file}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let out = Routes {
        routes,
        org_snapshot,
    };
    validate(&out).map_err(|e| format!("{file}: {e}"))?;
    Ok(out)
}

/// Unique names, escalation targets that exist, chains that end, `ou` only with a snapshot.
pub fn validate(r: &Routes) -> Result<(), String> {
    let mut seen = BTreeMap::new();
    for (i, route) in r.routes.iter().enumerate() {
        if seen.insert(route.name.as_str(), i).is_some() {
            return Err(format!("route `{}` is defined twice", route.name));
        }
        if !route.matcher.ou.is_empty() && r.org_snapshot.is_none() {
            return Err(format!(
                "route `{}` matches on ou: set [alerts] org_snapshot = \"snapshot.json\" (written by `rampart collect -o`)",
                route.name
            ));
        }
    }
    for route in &r.routes {
        let mut chain = vec![route.name.as_str()];
        let mut cur = route;
        while let Some(e) = &cur.escalation {
            let Some(next) = r.get(&e.to) else {
                return Err(format!(
                    "route `{}`: escalate_to `{}` is not a route",
                    cur.name, e.to
                ));
            };
            if chain.contains(&next.name.as_str()) {
                chain.push(&next.name);
                return Err(format!(
                    "escalation loop: {} (a chain must end)",
                    chain.join(" → ")
                ));
            }
            chain.push(&next.name);
            cur = next;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Secrets from a map (no process environment touched by tests).
    pub struct MapSecrets(pub HashMap<String, String>);
    impl SecretSource for MapSecrets {
        fn env(&self, var: &str) -> Option<String> {
            self.0.get(var).cloned()
        }
        fn file(&self, path: &str) -> Result<String, String> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| "No such file or directory".to_string())
        }
    }

    pub fn secrets() -> MapSecrets {
        MapSecrets(
            [
                (
                    "SLACK",
                    "https://hooks.slack.com/services/T0/B0/SLACKSECRET",
                ),
                ("PD", "PDKEYSECRET"),
                ("HOOK", "http://127.0.0.1:9/hook/HOOKSECRET"),
                ("/run/hmac", "HMACSECRET\n"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
    }

    pub const EXAMPLE: &str = r#"
[alerts]
sns_topic = "rampart-security-alerts"

[[alerts.route]]
name = "page"
min_severity = "high"
rule = "RD-*"
continue = true
pagerduty = { routing_key_env = "PD" }
escalate_after = "15m"
escalate_to = "managers"

[[alerts.route]]
name = "chat"
slack = { url_env = "SLACK" }
rate_limit = "20/minute"
digest = "1h"
digest_max_severity = "low"

[[alerts.route]]
name = "managers"
severity = ["critical"]
webhook = { url_env = "HOOK", hmac_key_file = "/run/hmac" }
"#;

    #[test]
    fn parses_the_documented_example() {
        let r = parse(EXAMPLE, "rampart.toml", &secrets()).unwrap();
        assert_eq!(r.routes.len(), 3);
        let page = r.get("page").unwrap();
        assert!(page.continue_matching);
        assert_eq!(page.matcher.min_severity, Some(Severity::High));
        assert_eq!(
            page.escalation,
            Some(Escalation {
                after_secs: 900,
                to: "managers".into()
            })
        );
        let chat = r.get("chat").unwrap();
        assert_eq!(
            chat.rate_limit,
            Some(RateLimit {
                count: 20,
                per_secs: 60
            })
        );
        assert_eq!(
            chat.digest,
            Some(Digest {
                window_secs: 3600,
                max_severity: Severity::Low
            })
        );
        match &r.get("managers").unwrap().destination {
            Destination::Webhook { hmac_key, .. } => {
                assert_eq!(hmac_key.as_ref().unwrap().expose(), "HMACSECRET")
            }
            d => panic!("{d:?}"),
        }
        assert!(!format!("{r:?}").contains("SECRET"), "Debug hides secrets");
    }

    #[test]
    fn rejects_loops_unknown_targets_and_bad_values() {
        let looped = EXAMPLE.replace(
            "severity = [\"critical\"]",
            "severity = [\"critical\"]\nescalate_after = \"5m\"\nescalate_to = \"page\"",
        );
        let e = parse(&looped, "f.toml", &secrets()).unwrap_err();
        assert!(e.contains("escalation loop: page → managers → page"), "{e}");
        let unknown = EXAMPLE.replace("escalate_to = \"managers\"", "escalate_to = \"nobody\"");
        assert!(
            parse(&unknown, "f.toml", &secrets())
                .unwrap_err()
                .contains("escalate_to `nobody` is not a route")
        );
        for (from, to, want) in [
            ("20/minute", "20/fortnight", "rate_limit `20/fortnight`"),
            ("digest = \"1h\"", "digest = \"soon\"", "digest `soon`"),
            (
                "rule = \"RD-*\"",
                "source = \"cloudtrail\"",
                "source `cloudtrail`",
            ),
            (
                "min_severity = \"high\"",
                "min_severity = \"urgent\"",
                "min_severity `urgent`",
            ),
            ("name = \"chat\"", "name = \"page\"", "defined twice"),
            ("rule = \"RD-*\"", "ou = \"Prod\"", "org_snapshot"),
        ] {
            let e = parse(&EXAMPLE.replace(from, to), "f.toml", &secrets()).unwrap_err();
            assert!(e.contains(want), "{from} → {to}: {e}");
            assert!(e.starts_with("f.toml: "), "{e}");
        }
    }

    /// A missing or doubled secret is an error naming the variable or file, never a value, and
    /// a URL written in the file itself is refused.
    #[test]
    fn secrets_only_from_env_or_files_and_never_in_errors() {
        let mut s = secrets();
        s.0.remove("SLACK");
        let e = parse(EXAMPLE, "f.toml", &s).unwrap_err();
        assert!(e.contains("environment variable SLACK"), "{e}");
        let plain = EXAMPLE.replace(
            "slack = { url_env = \"SLACK\" }",
            "slack = { url = \"https://hooks.slack.com/services/X/Y/PLAINSECRET\" }",
        );
        let e = parse(&plain, "f.toml", &secrets()).unwrap_err();
        assert!(
            e.contains("url_env or url_file") && !e.contains("PLAINSECRET"),
            "{e}"
        );
        let both = EXAMPLE.replace(
            "hmac_key_file = \"/run/hmac\"",
            "hmac_key_file = \"/run/hmac\", hmac_key_env = \"PD\"",
        );
        let e = parse(&both, "f.toml", &secrets()).unwrap_err();
        assert!(e.contains("either hmac_key_env or hmac_key_file"), "{e}");
        let missing = EXAMPLE.replace("/run/hmac", "/nonexistent");
        let e = parse(&missing, "f.toml", &secrets()).unwrap_err();
        assert!(e.contains("cannot read /nonexistent"), "{e}");
        for e in [&e] {
            for v in secrets().0.values() {
                assert!(!e.contains(v.trim()), "{e}");
            }
        }
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("2d"), Some(172800));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(
            parse_rate("5/15m"),
            Some(RateLimit {
                count: 5,
                per_secs: 900
            })
        );
        assert_eq!(parse_rate("0/minute"), None);
    }
}
