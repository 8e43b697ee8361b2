//! `rampart findings pull`: GuardDuty, Security Hub, Access Analyzer and Config findings from
//! the Audit account, normalized (crate rampart-findings), deduplicated against the intake
//! state, and sent through the same sinks as `rampart detect` (stdout or -o, --webhook,
//! --sns-topic, the spool). The state file keeps the cursors and what is known of each finding,
//! so a restart never re-alerts.

use crate::cli::{Exit, Global};
use crate::cmd::detect::{format_of, parse_severity};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_detect::Severity;
use rampart_detect::sink::WriterSink;
use rampart_findings::Service;
use rampart_findings::intake::State;
use rampart_findings::source::{FileSource, FindingSource, Routed};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum FindingsCommand {
    /// Read new and updated findings, alert on those that matter, remember the rest.
    Pull(PullArgs),
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Services to read, comma-separated: guardduty, securityhub, access-analyzer, config.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "guardduty,securityhub,access-analyzer,config"
    )]
    pub services: Vec<String>,
    /// The Audit account (delegated administrator) to read from; the role of --role-name is
    /// assumed in it unless the credentials already are its. Default: `[organization]
    /// audit_account` when it is an account id, else the caller's account.
    #[arg(long, env = "RAMPART_AUDIT_ACCOUNT", value_name = "ACCOUNT_ID")]
    pub audit_account: Option<String>,
    /// Read a service's findings from a file instead of its API (`guardduty=FILE`): the AWS
    /// CLI's JSON output, an array, or JSON Lines of findings or EventBridge events. Repeatable.
    #[arg(long = "input", value_name = "SERVICE=FILE")]
    pub inputs: Vec<String>,
    /// The intake state (cursors and known findings). Default: rampart-findings-state.json
    /// next to the spool.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Exit 3 when an alert at or above this severity is raised.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Also POST each alert to this Slack-compatible webhook (a secret: prefer the variable).
    #[arg(
        long,
        env = "RAMPART_WEBHOOK_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub webhook: Option<String>,
    /// Also publish each alert to this SNS topic.
    #[arg(long, env = "RAMPART_SNS_TOPIC", value_name = "TOPIC_ARN")]
    pub sns_topic: Option<String>,
    /// Where alerts a sink could not deliver are kept (JSON Lines).
    #[arg(long, value_name = "FILE", default_value = "rampart-undelivered.jsonl")]
    pub spool: PathBuf,
}

/// What the config file says about where findings are.
#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    organization: OrgPart,
    #[serde(default)]
    audit: OrgPart,
}

#[derive(Debug, Default, Deserialize)]
struct OrgPart {
    #[serde(default)]
    allowed_regions: Vec<String>,
    #[serde(default)]
    audit_account: Option<String>,
}

fn read_config(path: &Path) -> anyhow::Result<ConfigFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| {
            format!(
                "config file {}: invalid `allowed_regions` or `audit_account`",
                path.display()
            )
        }),
        Err(_) => Ok(ConfigFile::default()),
    }
}

pub fn run(g: &Global, c: &FindingsCommand) -> anyhow::Result<Exit> {
    match c {
        FindingsCommand::Pull(a) => pull(g, a),
    }
}

fn pull(g: &Global, a: &PullArgs) -> anyhow::Result<Exit> {
    let services = a
        .services
        .iter()
        .map(|s| {
            Service::parse(s).with_context(|| {
                format!(
                    "unknown service `{s}`: use guardduty, securityhub, access-analyzer, config"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cfg = read_config(&g.config)?;
    let regions: Vec<String> = [
        &g.regions,
        &cfg.organization.allowed_regions,
        &cfg.audit.allowed_regions,
    ]
    .into_iter()
    .find(|r| !r.is_empty())
    .cloned()
    .with_context(|| {
        format!(
            "no regions to read: pass --regions or set `allowed_regions` in [organization] or [audit] of {}",
            g.config.display()
        )
    })?;
    let output_format = match g.format.as_deref() {
        Some("ocsf") => None,
        _ => Some(format_of(g)?),
    };
    let mut files = FileSource::default();
    for spec in &a.inputs {
        let (name, path) = spec
            .split_once('=')
            .with_context(|| format!("--input {spec}: write SERVICE=FILE"))?;
        let service = Service::parse(name)
            .with_context(|| format!("--input {spec}: unknown service `{name}`"))?;
        files
            .add_file(service, Path::new(path))
            .map_err(anyhow::Error::msg)?;
    }
    let from_files: Vec<Service> = files.services().collect();
    let state_path = a.state.clone().unwrap_or_else(|| {
        a.spool
            .parent()
            .unwrap_or(Path::new(""))
            .join("rampart-findings-state.json")
    });
    let mut state = State::load(&state_path).map_err(anyhow::Error::msg)?;
    let mut store = crate::cmd::store::for_recording(g)?;
    let started_at = crate::cmd::store::now();

    let out: Box<dyn std::io::Write + Send> = match &g.output {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .with_context(|| format!("cannot write output file {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut ocsf_out = None;
    let output_sink: Option<Box<dyn rampart_detect::sink::Sink>> = match output_format {
        Some(format) => {
            let label = g
                .output
                .as_ref()
                .map(|p| format!("file {}", p.display()))
                .unwrap_or_else(|| "stdout".into());
            Some(Box::new(WriterSink::new(label, out, format)))
        }
        None => {
            ocsf_out = Some(out);
            None
        }
    };
    // the same delivery as `detect`: `[[alerts.route]]` routes, else --webhook/--sns-topic
    let mut dispatch = crate::cmd::alerts::dispatcher(
        g,
        output_sink,
        a.webhook.as_deref(),
        a.sns_topic.as_deref(),
        &a.spool,
    )?;

    let need_api = services.iter().any(|s| !from_files.contains(s));
    let api = if need_api {
        Some(api_source(g, a, &cfg)?)
    } else {
        None
    };
    let overrides: BTreeMap<Service, &dyn FindingSource> = from_files
        .iter()
        .map(|s| (*s, &files as &dyn FindingSource))
        .collect();
    let report = match &api {
        Some(api) => rampart_findings::source::pull(
            &Routed {
                default: api.as_ref(),
                overrides,
            },
            &services,
            &regions,
            &mut state,
        ),
        None => rampart_findings::source::pull(&files, &services, &regions, &mut state),
    };

    let alerts: Vec<rampart_detect::Alert> = report
        .findings
        .iter()
        .filter(|p| p.decision.alerts())
        .map(|p| p.finding.to_alert())
        .collect();
    if let Some(out) = ocsf_out.as_mut() {
        for p in &report.findings {
            use rampart_findings::intake::Decision;
            if p.decision.alerts() || p.decision == Decision::Closed {
                writeln!(out, "{}", p.finding.to_ocsf(p.decision.activity()))
                    .context("cannot write the OCSF output")?;
            }
        }
        out.flush().context("cannot write the OCSF output")?;
    }
    dispatch.send(&alerts);
    // the state is saved after delivery was attempted: what a sink refused is in the spool
    state.save(&state_path).map_err(anyhow::Error::msg)?;

    for e in &report.errors {
        eprintln!("rampart: error: {e}");
    }
    let t = &report.tally;
    output::note(
        g,
        format!(
            "rampart: findings: {} new, {} re-alerted, {} updated, {} closed, {} unchanged from {} source(s); {} error(s); state in {}",
            t.new,
            t.realerted,
            t.updated,
            t.closed,
            t.unchanged,
            report.sources_read,
            report.errors.len(),
            state_path.display()
        ),
    );
    if let Some(store) = store.as_mut() {
        let run = rampart_store::DetectRun {
            started_at,
            finished_at: crate::cmd::store::now(),
            source: format!("findings:{}", a.services.join(",")),
            events: report.findings.len() as u64,
            skipped: report.errors.len() as u64,
            files: report.sources_read as u64,
            rules: 0,
        };
        let rows: Vec<_> = alerts.iter().map(crate::cmd::store::alert_row).collect();
        crate::cmd::store::record_detection(g, store, &run, &rows)?;
    }
    let mut sink_failed = false;
    for r in dispatch.reports() {
        for e in &r.errors {
            sink_failed = true;
            eprintln!("rampart: error: sink {e}");
        }
    }
    if sink_failed {
        eprintln!("rampart: undelivered alerts are in {}", a.spool.display());
        return Ok(Exit::Error);
    }
    if report.sources_read == 0 && !report.errors.is_empty() {
        bail!("no source could be read (see the errors above)");
    }
    let worst = alerts.iter().map(|a| a.severity()).max();
    if let (Some(limit), Some(worst)) = (a.fail_on, worst)
        && worst >= limit
    {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

/// The Audit account's id: the flag, else `[organization] audit_account` when it is an id.
fn audit_account(a: &PullArgs, cfg: &ConfigFile) -> Option<String> {
    a.audit_account.clone().or_else(|| {
        cfg.organization
            .audit_account
            .clone()
            .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
    })
}

#[cfg(feature = "aws")]
fn api_source(
    g: &Global,
    a: &PullArgs,
    cfg: &ConfigFile,
) -> anyhow::Result<Box<dyn FindingSource>> {
    let account = audit_account(a, cfg);
    let aws = rampart_aws::findings::AwsFindings::connect(
        &crate::cmd::collect::options(g),
        account.as_deref(),
    )
    .map_err(|e| anyhow::anyhow!("findings pull: {e}"))?;
    Ok(Box::new(aws))
}

#[cfg(not(feature = "aws"))]
fn api_source(
    _g: &Global,
    a: &PullArgs,
    cfg: &ConfigFile,
) -> anyhow::Result<Box<dyn FindingSource>> {
    let _ = audit_account(a, cfg);
    bail!(
        "findings pull: this rampart was built without AWS access (--no-default-features); read exported findings with --input SERVICE=FILE, or build with the default `aws` feature"
    )
}

#[cfg(test)]
mod tests {
    use crate::cli::Exit;
    use clap::Parser as _;

    fn argv(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    fn run(args: &[&str]) -> anyhow::Result<Exit> {
        let cli = crate::cli::Cli::parse_from(args);
        crate::cmd::run(&cli)
    }

    /// From files (no AWS): the first pull alerts, the second does not, an update that
    /// matters alerts again; the state file carries it across runs.
    #[test]
    fn pull_from_files_alerts_once_then_on_what_matters() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        let gd = |count: u64, at: &str| {
            format!(
                r#"{{"Id": "f1", "Type": "Recon:IAMUser/MaliciousIPCaller", "Severity": 5, "AccountId": "111122223333", "Region": "us-east-1", "UpdatedAt": "{at}", "Service": {{"Count": {count}}}}}"#
            )
        };
        std::fs::write(p("gd.jsonl"), gd(1, "2026-12-01T10:00:00Z")).unwrap();
        let input = format!("guardduty={}", p("gd.jsonl"));
        let args = |out: &str| {
            vec![
                "rampart".to_string(),
                "findings".into(),
                "pull".into(),
                "--services".into(),
                "guardduty".into(),
                "--regions".into(),
                "us-east-1".into(),
                "--input".into(),
                input.clone(),
                "--state".into(),
                p("state.json"),
                "--spool".into(),
                p("spool.jsonl"),
                "--config".into(),
                p("none.toml"),
                "-o".into(),
                p(out),
                "--fail-on".into(),
                "medium".into(),
                "-q".into(),
            ]
        };
        let first = args("1.jsonl");
        assert_eq!(run(&argv(&first)).unwrap(), Exit::Findings);
        let line = std::fs::read_to_string(p("1.jsonl")).unwrap();
        assert!(line.contains("\"rule_source\":\"guardduty\""), "{line}");
        let second = args("2.jsonl");
        assert_eq!(run(&argv(&second)).unwrap(), Exit::Ok);
        assert_eq!(std::fs::read_to_string(p("2.jsonl")).unwrap(), "");
        std::fs::write(p("gd.jsonl"), gd(4, "2026-12-01T11:00:00Z")).unwrap();
        let third = args("3.jsonl");
        assert_eq!(run(&argv(&third)).unwrap(), Exit::Findings);
        assert!(
            std::fs::read_to_string(p("3.jsonl"))
                .unwrap()
                .contains("\"count\":4")
        );
        let mut ocsf = args("4.jsonl");
        ocsf.extend(["--format".into(), "ocsf".into()]);
        std::fs::write(
            p("gd.jsonl"),
            gd(4, "2026-12-01T11:00:00Z")
                .replace("\"Count\": 4", "\"Count\": 4, \"Archived\": true")
                .replace("11:00", "12:00"),
        )
        .unwrap();
        assert_eq!(run(&argv(&ocsf)).unwrap(), Exit::Ok);
        let o = std::fs::read_to_string(p("4.jsonl")).unwrap();
        assert!(
            o.contains("\"activity_name\":\"Close\"") && o.contains("\"class_uid\":2004"),
            "{o}"
        );
    }

    #[test]
    fn bad_usage_is_one_line() {
        let e = run(&[
            "rampart",
            "findings",
            "pull",
            "--services",
            "inspector",
            "--regions",
            "us-east-1",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown service `inspector`"), "{e}");
        let e = run(&[
            "rampart",
            "findings",
            "pull",
            "--config",
            "/nonexistent.toml",
            "--input",
            "guardduty=/nonexistent.json",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("no regions"), "{e}");
    }
}
