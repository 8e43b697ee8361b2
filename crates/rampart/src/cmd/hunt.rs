//! `rampart hunt`: the detection rules as one Apache Spark job over years of trail: written for
//! any Spark (`--emit`), run on a local Spark (`--master local[N]`) or submitted to EMR
//! Serverless (`--submit emr-serverless`); the alerts come back through detect's sinks.

use crate::cli::{Exit, Global};
use crate::cmd::detect::{RuleArgs, format_of, load_rules, parse_severity, parse_when, sns_sink};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_detect::sink::{Dispatcher, Format, WebhookSink, WriterSink};
use rampart_detect::{Alert, Severity};
use rampart_hunt::results::Output;
use rampart_hunt::{Job, layout};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HuntEngine {
    /// Apache Spark (PySpark 3.4+).
    Spark,
}

/// How the Spark job evaluates the rules (see `rampart_hunt::compile::Evaluation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HuntEvaluation {
    /// Each rule compiled to a Spark SQL predicate over columns computed once per event
    /// (Spark 4.0+).
    Sql,
    /// The runner's Python interpreter of the rule data, row by row (Spark 3.4+).
    Interpret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Submit {
    /// AWS EMR Serverless (an existing Spark application).
    EmrServerless,
}

#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    /// The engine the rules are compiled for.
    #[arg(long, value_enum, default_value = "spark")]
    pub engine: HuntEngine,
    /// How the job evaluates the rules (`sql` is held to the same alerts, but is slower per
    /// event on Spark 4.0 today: see docs/hunt.md).
    #[arg(long, value_enum, default_value = "interpret")]
    pub evaluation: HuntEvaluation,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Trail to hunt: a folder in the S3 delivery layout or s3://bucket/AWSLogs/[o-…/]
    /// (repeat or comma-separate for several).
    #[arg(
        long = "from",
        value_name = "PATH|s3://…",
        value_delimiter = ',',
        required = true
    )]
    pub from: Vec<String>,
    /// Only events at or after this time (RFC 3339, YYYY-MM-DD, or an age such as 7d, 2y); the
    /// job lists only the day folders from then on.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Spark master for a local run.
    #[arg(long, default_value = "local[2]")]
    pub master: String,
    /// Write the job (runner.py and job.json) into this folder for any Spark, and stop.
    #[arg(long, value_name = "DIR", conflicts_with = "submit")]
    pub emit: Option<PathBuf>,
    /// Where the job writes alerts/ and stats/ (a folder, or s3://… on EMR). Default: a
    /// folder removed after a local run; `<staging>/runs/<id>/output` on EMR Serverless.
    #[arg(long, value_name = "DIR|s3://…")]
    pub out: Option<String>,
    /// Submit the job to this service instead of running it locally.
    #[arg(long, value_enum)]
    pub submit: Option<Submit>,
    /// EMR Serverless application id (a Spark application, emr-7.x).
    #[arg(long, value_name = "ID", required_if_eq("submit", "emr-serverless"))]
    pub application_id: Option<String>,
    /// IAM role the job runs as (reads the trail bucket, writes the staging prefix).
    #[arg(long, value_name = "ARN", required_if_eq("submit", "emr-serverless"))]
    pub execution_role: Option<String>,
    /// s3://bucket/prefix the job and its output are uploaded to.
    #[arg(
        long,
        value_name = "s3://…",
        required_if_eq("submit", "emr-serverless")
    )]
    pub staging: Option<String>,
    /// Give up following an EMR Serverless job run after this many minutes (it keeps running).
    #[arg(long, value_name = "MINUTES", default_value_t = 720)]
    pub timeout_minutes: u64,
    /// Exit 3 when an alert at or above this severity is raised.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Also POST each alert to this Slack-compatible webhook.
    #[arg(
        long,
        env = "RAMPART_WEBHOOK_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub webhook: Option<String>,
    /// Also publish each alert to this SNS topic (needs the `aws` build).
    #[arg(long, env = "RAMPART_SNS_TOPIC", value_name = "TOPIC_ARN")]
    pub sns_topic: Option<String>,
    /// Where alerts a sink could not deliver are kept (JSON Lines).
    #[arg(long, value_name = "FILE", default_value = "rampart-undelivered.jsonl")]
    pub spool: PathBuf,
}

pub fn run(g: &Global, a: &HuntArgs) -> anyhow::Result<Exit> {
    let HuntEngine::Spark = a.engine;
    let since = a.since.as_deref().map(parse_when).transpose()?;
    let until = a.until.as_deref().map(parse_when).transpose()?;
    // opened first, so that an unreachable store stops the hunt before Spark runs; an emitted
    // job has no alerts yet (nothing is recorded)
    let mut store = match a.emit {
        Some(_) => None,
        None => crate::cmd::store::for_recording(g)?,
    };
    let started_at = crate::cmd::store::now();
    let loaded = load_rules(g, &a.rules)?;
    let evaluation = match a.evaluation {
        HuntEvaluation::Sql => rampart_hunt::compile::Evaluation::Sql,
        HuntEvaluation::Interpret => rampart_hunt::compile::Evaluation::Interpret,
    };
    let compiled = rampart_hunt::compile::compile_for(&loaded.rules, evaluation);
    let mut unsupported = compiled.unsupported.clone();
    if a.rules.sources.iter().any(|s| s.trim() == "builtin") {
        unsupported.extend(rampart_hunt::compile::stateful_builtins());
    }
    for u in &unsupported {
        output::note(
            g,
            format!(
                "rampart hunt: unsupported {} ({}): {}",
                u.id, u.title, u.reason
            ),
        );
    }
    for f in &compiled.fallbacks {
        output::note(
            g,
            format!(
                "rampart hunt: {}: one leaf evaluated in Python, not SQL: {}",
                f.rule, f.reason
            ),
        );
    }
    if loaded.rejected > 0 {
        output::note(
            g,
            format!(
                "rampart hunt: {} rule(s) could not be loaded; see `rampart rules list`",
                loaded.rejected
            ),
        );
    }
    output::note(
        g,
        format!(
            "rampart hunt: {} rule(s) compiled for Spark, {} unsupported",
            compiled.ids.len(),
            unsupported.len()
        ),
    );
    let now = chrono::Utc::now().timestamp();
    let local_run = a.emit.is_none() && a.submit.is_none();
    let mut inputs = Vec::new();
    for root in &a.from {
        let root = if root.contains("://") {
            if local_run {
                bail!(
                    "--from {root}: a local Spark reads local folders; submit to EMR Serverless (--submit emr-serverless) or copy the days you need first"
                );
            }
            root.clone()
        } else {
            let p = Path::new(root);
            let abs = p
                .canonicalize()
                .with_context(|| format!("--from {}: no such folder", p.display()))?;
            abs.display().to_string()
        };
        inputs.push(layout::input(&root, since, until, now));
    }
    let mut job = Job {
        rules: compiled.data,
        inputs,
        since,
        until,
        output: String::new(),
    };

    if let Some(dir) = &a.emit {
        job.output = match &a.out {
            Some(o) => o.clone(),
            None => absolute(&dir.join("output"))?,
        };
        let (runner, path) = job.emit(dir).map_err(anyhow::Error::msg)?;
        output::note(
            g,
            format!(
                "rampart hunt: wrote {} and {}\n  run it with: spark-submit {} {}\n  alerts go to {}/alerts/day=YYYY-MM-DD/ (rampart.alert/v1 JSON Lines)",
                runner.display(),
                path.display(),
                runner.display(),
                path.display(),
                job.output
            ),
        );
        return Ok(Exit::Ok);
    }

    let result = match a.submit {
        Some(Submit::EmrServerless) => submit_emr(g, a, &mut job)?,
        None => run_local(g, a, &mut job)?,
    };
    let recording = store.as_mut().map(|s| {
        (
            s,
            rampart_store::DetectRun {
                started_at,
                finished_at: started_at,
                source: format!("hunt:{}", a.from.join(",")),
                events: result.stats.events,
                skipped: result.stats.skipped,
                files: result.stats.files,
                rules: compiled.ids.len() as u64,
            },
        )
    });
    deliver(g, a, result, recording)
}

fn absolute(p: &Path) -> anyhow::Result<String> {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current folder")?
            .join(p)
    };
    Ok(p.display().to_string())
}

/// Runs the job with a local `spark-submit` and reads its output.
fn run_local(g: &Global, a: &HuntArgs, job: &mut Job) -> anyhow::Result<Output> {
    let spark =
        rampart_hunt::local::find_spark_submit(Path::new(".")).map_err(anyhow::Error::msg)?;
    let work = std::env::temp_dir().join(format!(
        "rampart-hunt-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    ));
    let out_dir = match &a.out {
        Some(o) => PathBuf::from(o),
        None => work.join("output"),
    };
    job.output = absolute(&out_dir)?;
    let (runner, path) = job.emit(&work.join("job")).map_err(anyhow::Error::msg)?;
    let log = work.join("spark.log");
    output::note(
        g,
        format!(
            "rampart hunt: running on Spark {} ({}; log {})",
            a.master,
            spark.display(),
            log.display()
        ),
    );
    rampart_hunt::local::run(&spark, &a.master, &runner, &path, &log)
        .map_err(anyhow::Error::msg)?;
    let out = rampart_hunt::results::read_dir(&out_dir)
        .map_err(|e| anyhow::anyhow!("reading the job's output {}: {e}", out_dir.display()))?;
    if a.out.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(out)
}

#[cfg(feature = "aws")]
fn submit_emr(g: &Global, a: &HuntArgs, job: &mut Job) -> anyhow::Result<Output> {
    let (Some(app), Some(role), Some(staging)) = (&a.application_id, &a.execution_role, &a.staging)
    else {
        bail!("--submit emr-serverless needs --application-id, --execution-role and --staging");
    };
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(g))
        .map_err(|e| anyhow::anyhow!("EMR Serverless: {e}"))?;
    let emr = rampart_aws::emr::AwsEmrServerless::new(&aws);
    let run = rampart_aws::emr::HuntRun {
        application_id: app.clone(),
        execution_role: role.clone(),
        staging: staging.clone(),
        output: a.out.clone(),
        timeout: std::time::Duration::from_secs(a.timeout_minutes * 60),
        poll: std::time::Duration::from_secs(15),
    };
    let files = rampart_aws::emr::run_hunt(
        &emr,
        &run,
        rampart_hunt::RUNNER_PY,
        &mut |output| {
            job.output = output.to_string();
            job.to_json()
        },
        &mut |msg| output::note(g, format!("rampart hunt: {msg}")),
    )
    .map_err(anyhow::Error::msg)?;
    rampart_hunt::results::parse(files).map_err(anyhow::Error::msg)
}

#[cfg(not(feature = "aws"))]
fn submit_emr(_g: &Global, _a: &HuntArgs, _job: &mut Job) -> anyhow::Result<Output> {
    bail!(
        "--submit emr-serverless: this rampart was built without AWS access (--no-default-features); build with the default `aws` feature"
    )
}

/// Sends the job's alerts through detect's sinks, prints the run's counters and, when a store
/// is configured, records the run and its alerts as `detect` does.
fn deliver(
    g: &Global,
    a: &HuntArgs,
    out: Output,
    recording: Option<(&mut rampart_store::Store, rampart_store::DetectRun)>,
) -> anyhow::Result<Exit> {
    let format = format_of(g)?;
    let mut alerts = Vec::with_capacity(out.alerts.len());
    for (i, v) in out.alerts.iter().enumerate() {
        alerts.push(
            Alert::from_record(v).map_err(|e| anyhow::anyhow!("the job's alert {}: {e}", i + 1))?,
        );
    }
    let mut dispatch = Dispatcher::new(a.spool.clone());
    let table = format == Format::Table;
    if !table {
        let sink: Box<dyn std::io::Write + Send> = match &g.output {
            Some(p) => Box::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot write output file {}", p.display()))?,
            ),
            None => Box::new(std::io::stdout()),
        };
        let label = g
            .output
            .as_ref()
            .map(|p| format!("file {}", p.display()))
            .unwrap_or_else(|| "stdout".into());
        dispatch.add(Box::new(WriterSink::new(label, sink, format)));
    }
    if let Some(url) = &a.webhook {
        dispatch.add(Box::new(WebhookSink::new(url).map_err(anyhow::Error::msg)?));
    }
    if let Some(topic) = &a.sns_topic {
        dispatch.add(sns_sink(g, topic)?);
    }
    dispatch.send(&alerts);
    if table {
        if alerts.is_empty() {
            output::note(g, "rampart: no alerts");
        } else {
            output::emit(g, &rampart_detect::sink::render(&alerts, Format::Table))?;
        }
    }
    let st = out.stats;
    output::note(
        g,
        format!(
            "rampart hunt: {} file(s), {} event(s) read, {} skipped, {} outside the time window, {} alerted on ({} alert(s)); {:.1} CPU-s in the job's Python workers{}",
            st.files,
            st.events,
            st.skipped,
            st.out_of_window,
            st.alerted_events,
            st.alerts,
            st.cpu_seconds,
            if st.silenced > 0 {
                format!(
                    "; {} failed call(s) left silent by their rule's policy",
                    st.silenced
                )
            } else {
                String::new()
            }
        ),
    );
    if let Some((store, mut run)) = recording {
        run.finished_at = crate::cmd::store::now();
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
    let worst = alerts.iter().map(Alert::severity).max();
    if let (Some(limit), Some(worst)) = (a.fail_on, worst)
        && worst >= limit
    {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}
