//! `rampart schedule run`: the jobs of `[schedule]` in the foreground (what `rampart serve`
//! embeds). Each job is the matching verb, called as a function with the arguments a person
//! would type: audit (recorded), drift (recorded as a drift run), detect over the trail objects
//! that arrived since the last run (a cursor per prefix in the store, or the bucket's S3
//! notifications from `detect_queue_url`), and the weekly report
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
/// store; `rampart serve` runs it on a thread of its own (`serve::start`). `also`
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
        queue: cfg.section.detect_queue_url.clone(),
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
    /// `[schedule] detect_queue_url`: S3 notifications instead of listing the trail.
    queue: Option<String>,
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

/// The trail location as (bucket, prefix).
#[cfg(feature = "aws")]
fn trail_location(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("[schedule] trail `{url}` is not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    Ok((bucket.to_string(), prefix.to_string()))
}

#[cfg(feature = "aws")]
fn detect_new_objects(j: &Jobs, ctx: &JobContext<'_>) -> Result<Outcome, String> {
    use std::collections::BTreeMap;
    let url = trail_url(j)?;
    let (bucket, prefix) = trail_location(&url)?;
    let bucket = bucket.as_str();
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(&j.g))
        .map_err(|e| format!("trail {url}: {e}"))?;
    if let Some(queue) = &j.queue {
        return detect_from_queue(j, ctx, &aws, queue, bucket, &prefix);
    }
    let cursors: BTreeMap<String, String> = ctx
        .store
        .lock()
        .map_err(|e| e.to_string())?
        .job_cursors("detect")
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let keys = aws
        .list_objects(bucket, &prefix, None)
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
    let exit = detect_objects(j, &aws, bucket, &new)?;
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

/// Reads these trail objects into the S3 layout under a temporary directory and runs
/// `rampart detect` over it (recorded, alerts delivered through `[alerts]`).
#[cfg(feature = "aws")]
fn detect_objects(
    j: &Jobs,
    aws: &rampart_aws::BlockingAws,
    bucket: &str,
    keys: &[String],
) -> Result<Exit, String> {
    let dir = tempfile_dir()?;
    for key in keys {
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
    result
}

/// How long a received message stays invisible while the job reads its objects (seconds).
#[cfg(feature = "aws")]
const QUEUE_VISIBILITY_SECS: i32 = 900;
/// Long poll of each receive (seconds): the job stops at the first empty answer.
#[cfg(feature = "aws")]
const QUEUE_WAIT_SECS: i32 = 5;
/// At most this many receives (of up to ten messages) per run; the rest waits for the next.
#[cfg(feature = "aws")]
const QUEUE_MAX_RECEIVES: usize = 100;
/// The job's record of objects read from the queue, so a repeated notification (S3 and SQS
/// deliver at least once) is not detected twice; kept this long.
#[cfg(feature = "aws")]
const QUEUE_SEEN_DAYS: i64 = 14;
#[cfg(feature = "aws")]
const QUEUE_SEEN_JOB: &str = "detect-queue";

/// The detect job on `[schedule] detect_queue_url`: receives the bucket's object-created
/// notifications, reads the objects under the trail prefix it has not read yet, runs detection,
/// and only then deletes the messages (at least once: a failure leaves them to come back).
/// Test events and objects outside the trail are deleted and counted; a malformed message is
/// counted, reported in one line and left for the queue's redrive policy.
#[cfg(feature = "aws")]
fn detect_from_queue(
    j: &Jobs,
    ctx: &JobContext<'_>,
    aws: &rampart_aws::BlockingAws,
    queue: &str,
    bucket: &str,
    prefix: &str,
) -> Result<Outcome, String> {
    use std::collections::{BTreeSet, HashSet};
    let (waiting, in_flight) = aws.queue_depth(queue)?;
    let mut received: Vec<rampart_aws::QueueMessage> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    for _ in 0..QUEUE_MAX_RECEIVES {
        let batch = aws.receive_messages(queue, QUEUE_WAIT_SECS, QUEUE_VISIBILITY_SECS)?;
        if batch.is_empty() {
            break;
        }
        received.extend(batch.into_iter().filter(|m| ids.insert(m.id.clone())));
    }
    let (mut done, mut malformed) = (Vec::new(), Vec::new());
    let (mut tests, mut outside) = (0usize, 0usize);
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for m in received {
        match rampart_schedule::notify::parse(&m.body, bucket, prefix) {
            Ok(n) => {
                tests += usize::from(n.test);
                outside += n.outside;
                keys.extend(n.keys);
                done.push(m);
            }
            Err(e) => malformed.push((m.id, e)),
        }
    }
    if let Some((id, why)) = malformed.first()
        && !j.g.quiet
    {
        eprintln!(
            "rampart: detect: {queue}: {} malformed message(s) left for the queue's redrive policy (first: {id}: {why})",
            malformed.len()
        );
    }
    let seen: Vec<String> = {
        let store = ctx.store.lock().map_err(|e| e.to_string())?;
        let mut seen = Vec::new();
        for k in &keys {
            let name = format!("s3://{bucket}/{k}");
            if store
                .job_cursor(QUEUE_SEEN_JOB, &name)
                .map_err(|e| e.to_string())?
                .is_some()
            {
                seen.push(k.clone());
            }
        }
        seen
    };
    let fresh: Vec<String> = keys.iter().filter(|k| !seen.contains(k)).cloned().collect();
    let mut outcome = if fresh.is_empty() {
        Outcome {
            summary: serde_json::json!({}),
            run_id: None,
        }
    } else {
        let exit = detect_objects(j, aws, bucket, &fresh)?;
        // Recorded (and the alerts delivered or spooled): remember the objects, then delete.
        let now = chrono::Utc::now();
        let read: Vec<(String, String)> = fresh
            .iter()
            .map(|k| (format!("s3://{bucket}/{k}"), now.to_rfc3339()))
            .collect();
        let mut store = ctx.store.lock().map_err(|e| e.to_string())?;
        store
            .set_job_cursors(QUEUE_SEEN_JOB, &read, now)
            .map_err(|e| e.to_string())?;
        store
            .prune_job_cursors(
                QUEUE_SEEN_JOB,
                now - chrono::Duration::days(QUEUE_SEEN_DAYS),
            )
            .map_err(|e| e.to_string())?;
        drop(store);
        latest_run(ctx, RunKind::Detect, exit)?
    };
    aws.delete_messages(queue, &done)?;
    let s = &mut outcome.summary;
    s["queue"] = serde_json::json!(queue);
    s["waiting"] = serde_json::json!(waiting);
    s["in_flight"] = serde_json::json!(in_flight);
    s["messages"] = serde_json::json!(done.len() + malformed.len());
    s["deleted"] = serde_json::json!(done.len());
    s["objects"] = serde_json::json!(fresh.len());
    s["already_read"] = serde_json::json!(seen.len());
    s["test_events"] = serde_json::json!(tests);
    s["outside_trail"] = serde_json::json!(outside);
    s["malformed"] = serde_json::json!(malformed.len());
    Ok(outcome)
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
