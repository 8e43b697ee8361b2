//! `rampart report weekly`: the report a security team presents every week, built from the
//! history store, written as HTML, Markdown or JSON, and optionally delivered (`--send`) and
//! uploaded (`--s3`).

use crate::cli::{Exit, Global};
use crate::cmd::output;
use crate::cmd::store::{for_reading, now, parse_age};
use anyhow::bail;
use rampart_report::weekly::{self, WeeklyFormat, WeeklyReport};

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// The weekly compliance report: posture and its 12-week trend, new/resolved/open
    /// failures, time to remediate, top risks, expiring acceptances, alerts, drift, changes.
    #[command(
        after_help = "Examples:\n  rampart report weekly -o weekly.html             # HTML (format from the extension)\n  rampart report weekly --format markdown           # for chat and email, on stdout\n  rampart report weekly --send --s3 s3://reports/rampart/\n\nFormats: html, markdown (default on stdout), json."
    )]
    Weekly(WeeklyArgs),
}

#[derive(Debug, clap::Args)]
pub struct WeeklyArgs {
    /// The period the report covers, ending now: 7d, 14d, 4w, …
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = parse_age)]
    pub since: chrono::Duration,
    /// Deliver it through rampart.toml's `[alerts]`: the Slack-compatible webhook named by
    /// `webhook_env` gets the summary and top risks; the SNS topic gets the Markdown.
    #[arg(long)]
    pub send: bool,
    /// Also upload it to this S3 prefix, as weekly-YYYY-MM-DD.<ext>.
    #[arg(long, value_name = "s3://BUCKET/PREFIX/")]
    pub s3: Option<String>,
}

pub fn run(g: &Global, c: &ReportCommand) -> anyhow::Result<Exit> {
    let ReportCommand::Weekly(a) = c;
    let format = format_of(g)?;
    if let Some(url) = &a.s3
        && !url.starts_with("s3://")
    {
        bail!("--s3 `{url}` is not an S3 URL: use s3://bucket/prefix/");
    }
    let store = for_reading(g)?;
    // The period ends after the current second: a run recorded in this very second (the store
    // keeps whole seconds, the period's end is exclusive) belongs to it.
    let end = now() + chrono::Duration::seconds(1);
    let report = weekly::build(&store, end, a.since).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = weekly::render(&report, format);
    output::emit(g, &text)?;
    if let Some(path) = &g.output {
        output::note(
            g,
            format!("rampart: weekly report written to {}", path.display()),
        );
    }
    let mut failed = false;
    if a.send {
        for line in send(g, &report) {
            failed |= line.starts_with("error");
            output::note(g, format!("rampart: {line}"));
        }
    }
    if let Some(url) = &a.s3 {
        upload(g, url, &report, format, &text)?;
    }
    Ok(if failed { Exit::Error } else { Exit::Ok })
}

/// `--format`, else the output file's extension, else Markdown (stdout is for reading).
fn format_of(g: &Global) -> anyhow::Result<WeeklyFormat> {
    if let Some(f) = g.format.as_deref() {
        return f.parse().map_err(anyhow::Error::msg);
    }
    let ext = g
        .output
        .as_ref()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("html" | "htm") => WeeklyFormat::Html,
        Some("json") => WeeklyFormat::Json,
        _ => WeeklyFormat::Markdown,
    })
}

fn extension(f: WeeklyFormat) -> (&'static str, &'static str) {
    match f {
        WeeklyFormat::Html => ("html", "text/html; charset=utf-8"),
        WeeklyFormat::Markdown => ("md", "text/markdown; charset=utf-8"),
        WeeklyFormat::Json => ("json", "application/json"),
    }
}

/// The `[alerts]` destinations of rampart.toml, read without requiring the whole baseline.
#[derive(Debug, Default, serde::Deserialize)]
struct AlertsView {
    #[serde(default)]
    alerts: Destinations,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Destinations {
    sns_topic: Option<String>,
    webhook_env: Option<String>,
}

/// Sends the report to every configured destination; one line per destination, `error: …` for
/// one that failed (the others are still tried).
fn send(g: &Global, report: &WeeklyReport) -> Vec<String> {
    let dest = match std::fs::read_to_string(&g.config) {
        Ok(text) => match toml::from_str::<AlertsView>(&text) {
            Ok(v) => v.alerts,
            Err(e) => {
                return vec![format!(
                    "error: {}: [alerts]: {}",
                    g.config.display(),
                    e.message()
                )];
            }
        },
        Err(e) => {
            return vec![format!(
                "error: --send reads [alerts] from {}: {e}",
                g.config.display()
            )];
        }
    };
    let mut out = Vec::new();
    if let Some(var) = dest.webhook_env.as_deref() {
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => {
                let body = weekly::slack_payload(report).to_string();
                let r = rampart_detect::sink::WebhookSink::new(&url)
                    .and_then(|s| s.post_json(&body));
                out.push(match r {
                    Ok(()) => format!(
                        "weekly summary sent to webhook {}",
                        rampart_detect::sink::redact_url(&url)
                    ),
                    Err(e) => format!("error: {e}"),
                });
            }
            _ => out.push(format!(
                "error: [alerts] webhook_env names ${var}, which is not set; export the webhook URL in it"
            )),
        }
    }
    if let Some(topic) = dest.sns_topic.as_deref() {
        out.push(match publish_sns(g, topic, report) {
            Ok(arn) => format!("weekly report (Markdown) published to {arn}"),
            Err(e) => format!("error: {e}"),
        });
    }
    if out.is_empty() {
        out.push(format!(
            "error: --send found no destination: set [alerts] webhook_env and/or sns_topic in {}",
            g.config.display()
        ));
    }
    out
}

/// SNS carries the Markdown (its message limit is 256 KB: a long report is cut with a note).
#[cfg(feature = "aws")]
fn publish_sns(g: &Global, topic: &str, report: &WeeklyReport) -> Result<String, String> {
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(g))
        .map_err(|e| format!("SNS topic {topic}: {e}"))?;
    let arn = if topic.starts_with("arn:") {
        topic.to_string()
    } else {
        aws.find_topic(topic)?
    };
    let mut body = weekly::render(report, WeeklyFormat::Markdown);
    const LIMIT: usize = 256 * 1024 - 1024;
    if body.len() > LIMIT {
        let mut cut = LIMIT;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        body.push_str("\n\n… (cut to SNS's 256 KB limit; the full report is in the HTML/JSON)\n");
    }
    aws.publish_sns(&arn, &weekly::sns_subject(report), &body)?;
    Ok(arn)
}

#[cfg(not(feature = "aws"))]
fn publish_sns(_g: &Global, topic: &str, _r: &WeeklyReport) -> Result<String, String> {
    Err(format!(
        "SNS topic {topic}: this rampart was built without AWS access (--no-default-features)"
    ))
}

#[cfg(feature = "aws")]
fn upload(
    g: &Global,
    url: &str,
    report: &WeeklyReport,
    format: WeeklyFormat,
    text: &str,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let (bucket, prefix) =
        rampart_aws::parse_s3_url(url).with_context(|| format!("--s3 `{url}` is not an S3 URL"))?;
    let (ext, content_type) = extension(format);
    let day = report.period_end.get(..10).unwrap_or("report");
    let key = if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}weekly-{day}.{ext}")
    } else {
        format!("{prefix}/weekly-{day}.{ext}")
    };
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(g))
        .map_err(|e| anyhow::anyhow!("--s3 {url}: {e}"))?;
    aws.put_object_as(&bucket, &key, text.as_bytes().to_vec(), content_type)
        .map_err(anyhow::Error::msg)?;
    output::note(
        g,
        format!("rampart: weekly report uploaded to s3://{bucket}/{key}"),
    );
    Ok(())
}

#[cfg(not(feature = "aws"))]
fn upload(
    _g: &Global,
    url: &str,
    _report: &WeeklyReport,
    _format: WeeklyFormat,
    _text: &str,
) -> anyhow::Result<()> {
    let _ = extension;
    bail!("--s3 {url}: this rampart was built without AWS access (--no-default-features)")
}
