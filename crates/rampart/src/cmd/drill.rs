//! `rampart drill`: a harmless attack in a sandbox account, then proof that detection raised
//! the expected alert and the sinks delivered it (docs/drills.md). The scenarios, verification
//! and timing are in `rampart-drill`; the AWS calls in `rampart-aws`.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_detect::Alert;
use rampart_drill::feed::DirFeed;
use rampart_drill::run::{Deliver, EventFeed, SystemClock};
use rampart_drill::{Call, Check, Drill, DrillResult, Scenario, Timing};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct DrillArgs {
    /// The scenario to run (see --list), or `cleanup` to remove canaries left by an
    /// interrupted drill.
    #[arg(value_name = "SCENARIO", required_unless_present = "list")]
    pub scenario: Option<String>,
    /// List the scenarios and the rule each one expects.
    #[arg(long)]
    pub list: bool,
    /// The sandbox account the drill acts in (assumed through --role-name unless the
    /// credentials already act there).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// Where the organization trail delivers (s3://bucket/AWSLogs/o-ORG/ACCOUNT/ keeps each
    /// look small); needs the `aws` build.
    #[arg(
        long,
        env = "RAMPART_DRILL_TRAIL",
        value_name = "S3_URL",
        conflicts_with = "events"
    )]
    pub trail: Option<String>,
    /// Read CloudTrail records from files appearing in this directory instead (the emulator,
    /// which writes no CloudTrail; or logs copied by other means).
    #[arg(long, value_name = "DIR")]
    pub events: Option<PathBuf>,
    /// How long to wait for the event (CloudTrail delivers in about 5 to 15 minutes): 30m, 90s.
    #[arg(long, value_name = "TIME", default_value = "30m", value_parser = parse_span)]
    pub timeout: Duration,
    /// How often to look for new events.
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = parse_span)]
    pub poll: Duration,
    /// POST the alert to this Slack-compatible webhook (the URL is a secret: prefer the
    /// environment variable).
    #[arg(
        long,
        env = "RAMPART_WEBHOOK_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub webhook: Option<String>,
    /// Publish the alert to this SNS topic (needs the `aws` build).
    #[arg(long, env = "RAMPART_SNS_TOPIC", value_name = "TOPIC_ARN")]
    pub sns_topic: Option<String>,
    /// Where an alert a sink could not deliver is kept (JSON Lines).
    #[arg(long, value_name = "FILE", default_value = "rampart-undelivered.jsonl")]
    pub spool: PathBuf,
    /// Append each call the drill makes (API, parameters, time, request id) to this file as
    /// JSON Lines, as it is made.
    #[arg(long, value_name = "FILE")]
    pub call_log: Option<PathBuf>,
}

/// `90s`, `15m`, `1h`, or plain seconds.
fn parse_span(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad length of time `{s}`: use e.g. 90s, 15m, 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("bad unit in `{s}`: use s, m or h")),
    };
    Ok(Duration::from_secs(secs))
}

pub fn run(g: &Global, a: &DrillArgs) -> anyhow::Result<Exit> {
    if a.list {
        for s in Scenario::ALL {
            println!("{:<14} {:<14} {}", s.name(), s.expected_rule(), s.summary());
        }
        return Ok(Exit::Ok);
    }
    let name = a.scenario.as_deref().unwrap_or_default();
    let Some(account) = a.account.as_deref() else {
        bail!("rampart drill {name}: pass --account SANDBOX_ID (the account the drill acts in)");
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        bail!("--account `{account}` is not a 12-digit AWS account id");
    }
    let region = g
        .regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".into());
    if name == "cleanup" {
        return cleanup(g, account, &region);
    }
    let json = wants_json(g)?;
    let Some(scenario) = Scenario::parse(name) else {
        bail!("unknown drill `{name}`; `rampart drill --list` shows the scenarios");
    };
    if a.webhook.is_none() && a.sns_topic.is_none() {
        bail!(
            "rampart drill {name}: a drill proves delivery; pass --webhook URL or --sns-topic ARN (or set RAMPART_WEBHOOK_URL)"
        );
    }
    let mut feed: Box<dyn EventFeed + '_> = match (&a.events, &a.trail) {
        (Some(dir), _) => Box::new(DirFeed::new(dir)),
        (None, Some(url)) => s3_feed(g, url)?,
        (None, None) => bail!(
            "rampart drill {name}: say where CloudTrail records appear: --trail s3://BUCKET/AWSLogs/o-ORG/{account}/ (the organization trail) or --events DIR"
        ),
    };
    let mut store = crate::cmd::store::for_recording(g)?;
    // the same delivery as `detect`: `[[alerts.route]]` routes, else --webhook/--sns-topic
    let dispatch = crate::cmd::alerts::dispatcher(
        g,
        None,
        a.webhook.as_deref(),
        a.sns_topic.as_deref(),
        &a.spool,
    )?;
    let mut deliver = Sinks(dispatch);
    let mut log = match &a.call_log {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot write the call log {}", p.display()))?,
        ),
        None => None,
    };
    let mut on_call = |c: &Call| {
        if let Some(f) = log.as_mut() {
            let line = serde_json::to_string(c).unwrap_or_default();
            // a call log that cannot be written must not stop the drill before its cleanup
            if writeln!(f, "{line}").and_then(|_| f.flush()).is_err() {
                eprintln!("rampart: warning: cannot append to the call log");
            }
        }
    };
    let mut sandbox = sandbox(g, account, &region)?;
    let rule = rampart_drill::expected_rule(scenario)
        .with_context(|| format!("the built-in rule {} is missing", scenario.expected_rule()))?;
    let clock = SystemClock;
    let run_id = run_id(&clock);
    output::note(
        g,
        format!(
            "rampart: drill {name} in {account} (run {run_id}): acting, then waiting up to {} s for {} in {}",
            a.timeout.as_secs(),
            scenario.expected_rule(),
            feed.name()
        ),
    );
    let result = Drill {
        sandbox: sandbox.as_mut(),
        feed: feed.as_mut(),
        deliver: &mut deliver,
        clock: &clock,
        rule,
        timing: Timing {
            timeout: a.timeout,
            poll: a.poll,
        },
        on_call: &mut on_call,
    }
    .run(scenario, &run_id);
    print(g, &result, json)?;
    if let Some(s) = store.as_mut() {
        s.record_drill(&row(&result))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(if result.passed() {
        Exit::Ok
    } else {
        Exit::Findings
    })
}

fn run_id(clock: &SystemClock) -> String {
    use rampart_drill::run::Clock;
    format!("{:x}{:02x}", clock.now_ms(), std::process::id() % 256)
}

/// The routes or sinks `detect` would use; delivered when a sink or route took the alert and
/// none failed (a routed alert reaches only its routes, not the fallback sinks).
struct Sinks(crate::cmd::alerts::Routed);

impl Deliver for Sinks {
    fn deliver(&mut self, alert: &Alert) -> Result<(), String> {
        let before = self.0.reports();
        self.0.send(std::slice::from_ref(alert));
        let after = self.0.reports();
        let errors_before = |name: &str| {
            before
                .iter()
                .find(|b| b.name == name)
                .map_or(0, |b| b.errors.len())
        };
        let delivered_before = |name: &str| {
            before
                .iter()
                .find(|b| b.name == name)
                .map_or(0, |b| b.delivered)
        };
        let failed: Vec<String> = after
            .iter()
            .filter(|a| a.errors.len() > errors_before(&a.name))
            .map(|a| a.errors.last().cloned().unwrap_or_default())
            .collect();
        let took = after
            .iter()
            .any(|a| a.delivered > delivered_before(&a.name));
        if !failed.is_empty() {
            Err(failed.join("; "))
        } else if took {
            Ok(())
        } else {
            Err("no sink or route took the alert (give --webhook/--sns-topic or a route)".into())
        }
    }
}

fn secs(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1} s", d.as_secs_f64()))
        .unwrap_or_else(|| "-".into())
}

/// `--format json` prints the whole result; table (the default) the summary.
fn wants_json(g: &Global) -> anyhow::Result<bool> {
    match g.format.as_deref() {
        None | Some("table") | Some("text") => Ok(false),
        Some("json") => Ok(true),
        Some(f) => bail!("`rampart drill` formats are table and json (got `{f}`)"),
    }
}

fn print(g: &Global, r: &DrillResult, json: bool) -> anyhow::Result<()> {
    let text = if json {
        serde_json::to_string_pretty(r)? + "\n"
    } else {
        let line = |stage: &str, c: &Check, what: String| {
            let detail = c.detail().map(|d| format!("  ({d})")).unwrap_or_default();
            format!("  {stage:<9} {:<7} {what}{detail}\n", c.label())
        };
        let mut t = format!(
            "drill {} in {} (run {}): {}\n",
            r.scenario.name(),
            r.account,
            r.run_id,
            if r.passed() { "PASS" } else { "FAIL" }
        );
        if !r.leftovers_removed.is_empty() {
            let names: Vec<String> = r.leftovers_removed.iter().map(|c| c.to_string()).collect();
            t += &format!(
                "  leftovers of earlier drills removed: {}\n",
                names.join(", ")
            );
        }
        t += &line("acted", &r.acted, format!("{} call(s)", r.calls.len()));
        t += &line(
            "detected",
            &r.detected,
            format!("{} after {}", r.expected_rule, secs(r.time_to_detect())),
        );
        t += &line(
            "alerted",
            &r.alerted,
            format!(
                "after {}{}",
                secs(r.time_to_alert()),
                r.alert_id
                    .as_deref()
                    .map(|i| format!(", alert {i}"))
                    .unwrap_or_default()
            ),
        );
        t += &line("cleaned", &r.cleaned, "canaries removed".into());
        t
    };
    output::emit(g, &text)
}

/// The store row of a result.
fn row(r: &DrillResult) -> rampart_store::DrillRow {
    let at = |ms: i64| chrono::DateTime::from_timestamp(ms.div_euclid(1000), 0).unwrap_or_default();
    let status = |c: &Check| c.label().to_ascii_lowercase();
    let detail = [&r.acted, &r.detected, &r.alerted, &r.cleaned]
        .into_iter()
        .find(|c| matches!(c, Check::Fail(_)))
        .and_then(|c| c.detail())
        .unwrap_or_default()
        .to_string();
    rampart_store::DrillRow {
        scenario: r.scenario.name().into(),
        account: r.account.clone(),
        run_id: r.run_id.clone(),
        started_at: at(r.started_ms),
        finished_at: at(r.finished_ms),
        expected_rule: r.expected_rule.clone(),
        passed: r.passed(),
        acted: status(&r.acted),
        detected: status(&r.detected),
        alerted: status(&r.alerted),
        cleaned: status(&r.cleaned),
        time_to_detect_ms: r.time_to_detect().map(|d| d.as_millis() as i64),
        time_to_alert_ms: r.time_to_alert().map(|d| d.as_millis() as i64),
        alert_id: r.alert_id.clone(),
        detail,
    }
}

fn cleanup(g: &Global, account: &str, region: &str) -> anyhow::Result<Exit> {
    let mut sandbox = sandbox(g, account, region)?;
    match rampart_drill::run::remove_leftovers(sandbox.as_mut()) {
        Ok(removed) => {
            let mut text = format!(
                "{} drill canary(ies) removed from {account}\n",
                removed.len()
            );
            for c in removed {
                text += &format!("  {c}\n");
            }
            output::emit(g, &text)?;
            Ok(Exit::Ok)
        }
        Err(errors) => bail!(
            "drill cleanup in {account} left canaries: {}",
            errors.join("; ")
        ),
    }
}

#[cfg(feature = "aws")]
fn sandbox(
    g: &Global,
    account: &str,
    region: &str,
) -> anyhow::Result<Box<dyn rampart_drill::Sandbox>> {
    let s =
        rampart_aws::drill::AwsSandbox::connect(&crate::cmd::collect::options(g), account, region)
            .map_err(|e| anyhow::anyhow!("drill sandbox {account}: {e}"))?;
    Ok(Box::new(s))
}

#[cfg(not(feature = "aws"))]
fn sandbox(
    _g: &Global,
    account: &str,
    _region: &str,
) -> anyhow::Result<Box<dyn rampart_drill::Sandbox>> {
    bail!(
        "drill sandbox {account}: this rampart was built without AWS access (--no-default-features); build with the default `aws` feature"
    )
}

/// The organization trail's objects under `url` written since the drill started; each object
/// is read once.
#[cfg(feature = "aws")]
fn s3_feed<'g>(g: &'g Global, url: &str) -> anyhow::Result<Box<dyn EventFeed + 'g>> {
    if rampart_aws::parse_s3_url(url).is_none() {
        bail!("--trail {url}: expected s3://bucket/prefix");
    }
    Ok(Box::new(S3Feed {
        g,
        url: url.to_string(),
        since: chrono::Utc::now().timestamp() - 60,
        seen: std::collections::HashSet::new(),
        reader: rampart_detect::input::Reader::new(),
    }))
}

#[cfg(not(feature = "aws"))]
fn s3_feed<'g>(_g: &'g Global, url: &str) -> anyhow::Result<Box<dyn EventFeed + 'g>> {
    bail!(
        "--trail {url}: this rampart was built without AWS access (--no-default-features); build with the default `aws` feature or use --events DIR"
    )
}

#[cfg(feature = "aws")]
struct S3Feed<'g> {
    g: &'g Global,
    url: String,
    since: i64,
    seen: std::collections::HashSet<String>,
    reader: rampart_detect::input::Reader,
}

#[cfg(feature = "aws")]
impl EventFeed for S3Feed<'_> {
    fn name(&self) -> String {
        self.url.clone()
    }

    fn poll(&mut self) -> Result<Vec<Vec<u8>>, String> {
        use rampart_detect::input::{Parsed, ReadStats};
        let mut records = Vec::new();
        let mut failed = None;
        let (seen, reader) = (&mut self.seen, &mut self.reader);
        crate::cmd::s3::for_each_object(
            self.g,
            &self.url,
            Some(self.since),
            None,
            &mut |name, data| {
                if seen.contains(name) {
                    return;
                }
                match data {
                    Ok(data) => {
                        let mut stats = ReadStats::default();
                        let mut issues = Vec::new();
                        reader.read_bytes_batches(name, &data, &mut stats, &mut issues, &mut |p| {
                            if let Parsed::Events(events, _) = p {
                                records.extend(events.iter().map(|e| e.raw().to_vec()));
                            }
                        });
                        seen.insert(name.to_string());
                    }
                    // not marked seen: read again at the next look
                    Err(e) => failed = Some(e),
                }
            },
        )
        .map_err(|e| e.to_string())?;
        match failed {
            Some(e) if records.is_empty() => Err(e),
            _ => Ok(records),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse() {
        assert_eq!(parse_span("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_span("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_span("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_span("5").unwrap(), Duration::from_secs(5));
        assert!(parse_span("5d").is_err());
        assert!(parse_span("m").is_err());
    }
}
