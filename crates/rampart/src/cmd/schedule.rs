//! `rampart schedule run`: the jobs of `[schedule]` in the foreground (what `rampart serve`
//! embeds). Each job is the matching verb, called as a function with the arguments a person
//! would type: audit (recorded), drift (recorded as a drift run), detect over the trail objects
//! that arrived since the last run (a cursor per prefix in the store), and the weekly report
//! (written to `report_dir`, delivered through `[alerts]` when `deliver_weekly_report`).

use crate::cli::{Cli, Command, Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_schedule::{
    Job, JobContext, Outcome, ScheduleConfig, Scheduler, Shutdown, SystemClock, config::JOBS,
};
use rampart_store::RunKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Run the scheduled jobs in the foreground until interrupted (Ctrl-C).
    #[command(
        after_help = "Examples:\n  rampart schedule run --list          # when each job runs next, and why\n  rampart schedule run                 # run the schedule until Ctrl-C\n  rampart schedule run --once audit    # one job now, recorded like a scheduled run\n\nJobs: audit, drift, detect, weekly_report. A failing job is recorded and raises a RAMPART-JOB-FAILED alert."
    )]
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run this job once, now, and exit (1 when it fails).
    #[arg(long, value_name = "JOB")]
    pub once: Option<String>,
    /// Print each job's schedule and next run time, then exit.
    #[arg(long)]
    pub list: bool,
}

/// The scheduler of rampart.toml with the binary's jobs, recording into the configured
/// store; `rampart serve` embeds it (`spawn_blocking(move || s.run_until(&stop))`). `also`
/// adds a job whose schedule is `off` (for `--once`).
pub fn scheduler(
    g: &Global,
    cfg: &ScheduleConfig,
    also: Option<&str>,
) -> anyhow::Result<Scheduler> {
    let url = crate::cmd::store::configured_url(g)?.with_context(|| {
        format!(
            "the scheduler records every job in the history store: add `[store] url = \"sqlite://rampart.db\"` to {} or pass --store URL",
            g.config.display()
        )
    })?;
    let store = crate::cmd::store::open(&url)?;
    let mut sched = Scheduler::new(store, Arc::new(SystemClock));
    let quiet = g.quiet;
    let log: rampart_schedule::LogHook = Arc::new(move |line: &str| {
        if !quiet {
            eprintln!("rampart: {line}");
        }
    });
    sched.with_log(log.clone());
    let alert_g = g.clone();
    sched.on_failure(rampart_schedule::alert::alert_hook(
        move || failure_dispatcher(&alert_g),
        log,
    ));
    let jobs = Jobs {
        g: g.clone(),
        url,
        report_dir: cfg.report_dir.clone(),
        trail: cfg.section.trail.clone(),
        deliver: cfg.section.deliver_weekly_report.unwrap_or(false),
    };
    for (name, schedule) in &cfg.schedules {
        sched.add(jobs.job(name), *schedule);
    }
    if let Some(name) = also {
        if !JOBS.contains(&name) {
            bail!("no job `{name}`; the jobs are: {}", JOBS.join(", "));
        }
        if cfg.schedule(name).is_none() {
            sched.add(
                jobs.job(name),
                rampart_schedule::Schedule {
                    spec: rampart_schedule::Spec::Every { secs: 86_400 },
                    zone: rampart_schedule::spec::parse_zone("UTC").map_err(anyhow::Error::msg)?,
                },
            );
        }
    }
    Ok(sched)
}

pub fn run(g: &Global, c: &ScheduleCommand) -> anyhow::Result<Exit> {
    let ScheduleCommand::Run(a) = c;
    let cfg = ScheduleConfig::load(&g.config).map_err(anyhow::Error::msg)?;
    let sched = scheduler(g, &cfg, a.once.as_deref())?;
    if let Some(name) = &a.once {
        let r = sched.run_once(name).map_err(anyhow::Error::msg)?;
        output::emit(
            g,
            &format!(
                "{} run #{}: {}{} {}\n",
                r.job,
                r.id,
                r.status,
                r.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default(),
                r.summary
            ),
        )?;
        return Ok(if r.status == rampart_store::JobStatus::Ok {
            Exit::Ok
        } else {
            Exit::Error
        });
    }
    if a.list {
        let mut text =
            String::from("JOB            SCHEDULE             NEXT RUN (UTC)        WHY\n");
        for p in sched.plan().map_err(anyhow::Error::msg)? {
            text.push_str(&format!(
                "{:<14} {:<20} {:<21} {}\n",
                p.job,
                p.schedule.spec.to_string(),
                p.next.format("%Y-%m-%d %H:%M:%S"),
                p.reason
            ));
        }
        if cfg.schedules.is_empty() {
            text.push_str(
                "(no job scheduled: add a [schedule] section; `rampart init` writes one)\n",
            );
        }
        output::emit(g, &text)?;
        return Ok(Exit::Ok);
    }
    if cfg.schedules.is_empty() {
        bail!(
            "nothing to run: {} has no [schedule] jobs (`rampart init` writes a default section)",
            g.config.display()
        );
    }
    let stop = Shutdown::new();
    let flag = crate::cmd::follow::stop_on_signals().context("cannot watch for SIGINT/SIGTERM")?;
    let watcher = stop.clone();
    std::thread::spawn(move || {
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        watcher.trigger();
    });
    sched.run_until(&stop).map_err(anyhow::Error::msg)?;
    Ok(Exit::Ok)
}

/// Where a failing job's alert goes: the `[alerts]` webhook (its URL in the environment
/// variable `webhook_env` names) and the SNS topic when it is an ARN; always the spool file
/// beside rampart.toml, so an alert nobody could receive is kept.
fn failure_dispatcher(g: &Global) -> Result<rampart_detect::sink::Dispatcher, String> {
    #[derive(Default, serde::Deserialize)]
    struct View {
        #[serde(default)]
        alerts: Alerts,
    }
    #[derive(Default, serde::Deserialize)]
    struct Alerts {
        sns_topic: Option<String>,
        webhook_env: Option<String>,
    }
    let text = std::fs::read_to_string(&g.config)
        .map_err(|e| format!("cannot read {}: {e}", g.config.display()))?;
    let view: View = toml::from_str(&text)
        .map_err(|e| format!("{}: [alerts]: {}", g.config.display(), e.message()))?;
    let dir = g.config.parent().unwrap_or(Path::new("."));
    let mut d = rampart_detect::sink::Dispatcher::new(dir.join("rampart-job-alerts.jsonl"));
    if let Some(var) = view.alerts.webhook_env
        && let Ok(url) = std::env::var(&var)
        && !url.is_empty()
    {
        d.add(Box::new(rampart_detect::sink::WebhookSink::new(&url)?));
    }
    if let Some(topic) = view.alerts.sns_topic.filter(|t| t.starts_with("arn:")) {
        d.add(crate::cmd::detect::sns_sink(g, &topic).map_err(|e| e.to_string())?);
    }
    if d.is_empty() {
        // No destination: the alert goes to the spool file (a sink that always fails).
        d.add(Box::new(Undeliverable));
    }
    Ok(d.with_retries(0, std::time::Duration::ZERO))
}

/// Stands in for a missing destination so the dispatcher spools the alert.
struct Undeliverable;

impl rampart_detect::sink::Sink for Undeliverable {
    fn name(&self) -> String {
        "no destination".into()
    }
    fn send(
        &mut self,
        _alerts: &[rampart_detect::Alert],
    ) -> Result<(), rampart_detect::sink::Failure> {
        Err(rampart_detect::sink::Failure::none(
            "no [alerts] webhook_env or SNS topic ARN is configured",
        ))
    }
}

/// What the jobs share.
#[derive(Clone)]
struct Jobs {
    g: Global,
    url: String,
    report_dir: PathBuf,
    trail: Option<String>,
    deliver: bool,
}

impl Jobs {
    fn job(&self, name: &str) -> Arc<dyn Job> {
        Arc::new(VerbJob {
            name: name.to_string(),
            jobs: self.clone(),
        })
    }

    /// The global flags a job's verb runs with: this store, quiet, output to a file.
    fn global(&self, output: PathBuf) -> Global {
        let mut g = self.g.clone();
        g.store = Some(self.url.clone());
        g.no_store = false;
        g.quiet = true;
        g.output = Some(output);
        g.format = None;
        g
    }

    fn out_file(&self, name: &str) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.report_dir).map_err(|e| {
            format!(
                "cannot create the report directory {}: {e}",
                self.report_dir.display()
            )
        })?;
        Ok(self.report_dir.join(name))
    }
}

struct VerbJob {
    name: String,
    jobs: Jobs,
}

/// Parses a command line as `rampart` would, so each job passes the verb exactly the
/// arguments (and defaults) a person would.
fn command(words: &[&str]) -> Result<Command, String> {
    let mut argv = vec!["rampart"];
    argv.extend_from_slice(words);
    <Cli as clap::Parser>::try_parse_from(argv)
        .map(|c| c.command)
        .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string())
}

fn verb_result(r: anyhow::Result<Exit>) -> Result<Exit, String> {
    match r {
        Ok(Exit::Error) => Err("the command reported an error".into()),
        Ok(e) => Ok(e),
        Err(e) => Err(format!("{e:#}").replace('\n', " ")),
    }
}

impl Job for VerbJob {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, ctx: &JobContext<'_>) -> Result<Outcome, String> {
        let j = &self.jobs;
        match self.name.as_str() {
            "audit" => {
                let g = j.global(j.out_file("audit-latest.txt")?);
                let Command::Audit(a) = command(&["audit"])? else {
                    unreachable!("parsed as audit")
                };
                rampart_schedule::test_pause_point("audit", "before-run");
                let exit = verb_result(crate::cmd::audit::run(&g, &a))?;
                latest_run(ctx, RunKind::Audit, exit)
            }
            "drift" => {
                let out = j.out_file("drift-latest.json")?;
                let g = j.global(j.out_file("drift-latest.txt")?);
                let out = out.to_string_lossy().to_string();
                let Command::Drift(a) = command(&["drift", "--out", &out])? else {
                    unreachable!("parsed as drift")
                };
                let exit = verb_result(crate::cmd::plan::run(&g, &a, true))?;
                latest_run(ctx, RunKind::Drift, exit)
            }
            "detect" => detect_new_objects(j, ctx),
            "weekly_report" => {
                let file = j.out_file(&format!(
                    "weekly-{}.html",
                    ctx.scheduled_for.format("%Y-%m-%d")
                ))?;
                let g = j.global(file.clone());
                let mut words = vec!["report", "weekly"];
                if j.deliver {
                    words.push("--send");
                }
                let Command::Report(c) = command(&words)? else {
                    unreachable!("parsed as report")
                };
                verb_result(crate::cmd::weekly::run(&g, &c))?;
                Ok(Outcome {
                    summary: serde_json::json!({
                        "file": file.display().to_string(),
                        "delivered": j.deliver,
                    }),
                    run_id: None,
                })
            }
            other => Err(format!("no job `{other}`")),
        }
    }
}

/// The figures of the run the verb just recorded.
fn latest_run(ctx: &JobContext<'_>, kind: RunKind, exit: Exit) -> Result<Outcome, String> {
    let store = ctx.store.lock().map_err(|e| e.to_string())?;
    let run = store
        .runs(
            Some(kind),
            Some(ctx.scheduled_for.min(chrono::Utc::now())),
            Some(1),
        )
        .map_err(|e| e.to_string())?
        .into_iter()
        .next();
    drop(store);
    let Some(r) = run else {
        return Err(format!("the {kind} run was not recorded in the store"));
    };
    Ok(Outcome {
        summary: serde_json::json!({
            "exit": exit as u8,
            "pass": r.pass,
            "fail": r.fail,
            "error": r.error,
            "suppressed": r.suppressed,
            "score": r.score,
            "changes": r.changes,
            "accounts": r.accounts,
        }),
        run_id: Some(r.id),
    })
}

/// The trail location: `[schedule] trail`, else the `[log_archive]` bucket.
fn trail_url(j: &Jobs) -> Result<String, String> {
    if let Some(t) = &j.trail {
        return Ok(t.clone());
    }
    let cfg = crate::cmd::init::load_config(&j.g).map_err(|e| format!("{e:#}"))?;
    Ok(format!("s3://{}/", cfg.log_archive.bucket))
}

#[cfg(any(feature = "aws", test))]
/// The cursor's prefix of a trail object: its directory up to the date
/// (`AWSLogs/o-1/111111111111/CloudTrail/us-east-1/`), so a new object in any account and
/// region is found even when its key sorts before another prefix's cursor.
fn cursor_prefix(key: &str) -> &str {
    let parts: Vec<(usize, &str)> = key
        .match_indices('/')
        .map(|(i, _)| (i, &key[..i]))
        .collect();
    // the first directory whose next segment is a four-digit year
    for (i, _) in &parts {
        let rest = &key[i + 1..];
        let year = rest.split('/').next().unwrap_or_default();
        if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && rest.contains('/') {
            return &key[..=*i];
        }
    }
    match key.rfind('/') {
        Some(i) => &key[..=i],
        None => "",
    }
}

#[cfg(feature = "aws")]
fn detect_new_objects(j: &Jobs, ctx: &JobContext<'_>) -> Result<Outcome, String> {
    use std::collections::BTreeMap;
    let url = trail_url(j)?;
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("[schedule] trail `{url}` is not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(&j.g))
        .map_err(|e| format!("trail {url}: {e}"))?;
    let cursors: BTreeMap<String, String> = ctx
        .store
        .lock()
        .map_err(|e| e.to_string())?
        .job_cursors("detect")
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let keys = aws
        .list_objects(bucket, prefix, None)
        .map_err(|e| format!("trail {url}: {e}"))?;
    let mut new: Vec<String> = keys
        .into_iter()
        .map(|o| o.key)
        .filter(|k| !k.ends_with('/'))
        .filter(|k| {
            cursors
                .get(cursor_prefix(k))
                .is_none_or(|c| k.as_str() > c.as_str())
        })
        .collect();
    new.sort();
    if new.is_empty() {
        return Ok(Outcome {
            summary: serde_json::json!({ "objects": 0 }),
            run_id: None,
        });
    }
    // The new objects, in the S3 layout under a temporary directory, read by `rampart detect`.
    let dir = tempfile_dir()?;
    for key in &new {
        let data = aws
            .get_object(bucket, key)
            .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?;
        let path = dir.join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, data).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut g = j.global(j.out_file("detect-latest.jsonl")?);
    g.format = Some("jsonl".into());
    let path = dir.to_string_lossy().to_string();
    let Command::Detect(a) = command(&["detect", &path])? else {
        unreachable!("parsed as detect")
    };
    let result = verb_result(crate::cmd::detect::run(&g, &a));
    let _ = std::fs::remove_dir_all(&dir);
    let exit = result?;
    // Only after the run is recorded do the cursors move: a failure reads the objects again.
    let mut moved: BTreeMap<String, String> = BTreeMap::new();
    for key in &new {
        moved.insert(cursor_prefix(key).to_string(), key.clone());
    }
    let moved: Vec<(String, String)> = moved.into_iter().collect();
    let mut store = ctx.store.lock().map_err(|e| e.to_string())?;
    store
        .set_job_cursors("detect", &moved, chrono::Utc::now())
        .map_err(|e| e.to_string())?;
    drop(store);
    let mut o = latest_run(ctx, RunKind::Detect, exit)?;
    o.summary["objects"] = serde_json::json!(new.len());
    o.summary["prefixes"] = serde_json::json!(moved.len());
    Ok(o)
}

#[cfg(not(feature = "aws"))]
fn detect_new_objects(j: &Jobs, _ctx: &JobContext<'_>) -> Result<Outcome, String> {
    Err(format!(
        "the detect job reads the trail {} from S3: this rampart was built without AWS access (--no-default-features)",
        trail_url(j)?
    ))
}

#[cfg(feature = "aws")]
fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!(
        "rampart-detect-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_prefixes_stop_at_the_date() {
        assert_eq!(
            cursor_prefix("AWSLogs/o-1/111111111111/CloudTrail/us-east-1/2026/12/06/x.json.gz"),
            "AWSLogs/o-1/111111111111/CloudTrail/us-east-1/"
        );
        assert_eq!(cursor_prefix("flat/x.json"), "flat/");
        assert_eq!(cursor_prefix("x.json"), "");
    }

    #[test]
    fn jobs_pass_their_verb_the_arguments_a_person_would() {
        assert!(matches!(command(&["audit"]), Ok(Command::Audit(_))));
        assert!(matches!(
            command(&["drift", "--out", "x.json"]),
            Ok(Command::Drift(_))
        ));
        assert!(command(&["audit", "--bogus"]).is_err());
    }
}
