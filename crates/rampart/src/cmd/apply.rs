//! `rampart apply`: converge the organization to rampart.toml. Without a plan file it plans from
//! a fresh snapshot, shows the plan, asks (or takes `--auto-approve`), applies, and repeats
//! until nothing is left — accounts created in one round are baselined in the next and released
//! from quarantine in the one after. With a plan file (from `rampart plan --out`) it applies
//! that plan once. Interrupted runs resume by running `rampart apply` again.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::Context;
use rampart_baseline::apply::{ApplyOptions, ApplyReport, AuditLog};
use rampart_baseline::{Config, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart apply                        # plan, confirm, apply, until converged\n  rampart apply --auto-approve         # unattended (CI, schedulers)\n  rampart plan --out plan.json && rampart apply plan.json\n\nExit codes: 0 converged, 4 changes still pending, 1 error or a change failed."
)]
pub struct ApplyArgs {
    /// Apply this saved plan (from `rampart plan --out`) instead of planning now.
    #[arg(value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// Apply without asking (otherwise the plan is shown and `yes` is required).
    #[arg(long)]
    pub auto_approve: bool,
    /// Append every state-changing API call (account, region, parameters, outcome) here.
    #[arg(long, value_name = "FILE", default_value = "rampart-audit.jsonl")]
    pub audit_log: PathBuf,
    /// At most this many changes in flight at once.
    #[arg(long, default_value_t = 16)]
    pub parallel: usize,
    /// Plan → apply rounds before giving up on convergence.
    #[arg(long, default_value_t = 5)]
    pub max_rounds: usize,
    /// How each round's collection runs.
    #[command(flatten)]
    pub collect: crate::cmd::collect::CollectArgs,
}

pub fn run(g: &Global, a: &ApplyArgs) -> anyhow::Result<Exit> {
    let cfg = crate::cmd::init::load_config(g)?;
    if cfg.log_archive.bucket == rampart_baseline::config::PLACEHOLDER_BUCKET {
        anyhow::bail!(
            "{}: log_archive.bucket is still `{}`; S3 bucket names are global: choose one (e.g. rampart-org-trail-<organization id>)",
            g.config.display(),
            rampart_baseline::config::PLACEHOLDER_BUCKET
        );
    }
    let mut store = crate::cmd::store::for_recording(g)?;
    let started_at = crate::cmd::store::now();
    let mut log = AuditLog::append_to(&a.audit_log)
        .with_context(|| format!("cannot open the audit log {}", a.audit_log.display()))?;
    if store.is_some() {
        log = log.keeping();
    }
    let started = std::time::Instant::now();
    // A saved plan is the approval for what it adds; what it destroys still needs a `yes`.
    let saved: Option<Plan> = match &a.plan {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the plan {}", path.display()))?;
            let plan: Plan = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not a rampart plan ({e}); write one with `rampart plan --out FILE`",
                    path.display()
                )
            })?;
            let destructive = plan.changes.iter().filter(|c| c.destructive).count();
            if destructive > 0 && !a.auto_approve {
                output::note(g, plan.to_text());
                if !confirm(destructive, "destructive ")? {
                    output::note(g, "Nothing applied.");
                    return Ok(Exit::Changes);
                }
            }
            Some(plan)
        }
    };
    let effects = connect(g, &cfg)?;
    let opts = ApplyOptions {
        concurrency: a.parallel.max(1),
    };
    let mut applied = 0;
    let mut rounds = 0;
    let (mut reads, mut collections) = (0u64, 0u32);
    let outcome = if let Some(plan) = &saved {
        output::note(g, plan.to_text());
        rounds = 1;
        let r = rampart_baseline::apply::execute(plan, &effects, &log, &opts);
        applied += r.applied.len();
        report(g, &r);
        if r.is_complete() {
            Exit::Ok
        } else {
            Exit::Error
        }
    } else {
        loop {
            let snap = crate::cmd::plan::collect_for(g, &a.collect, &cfg)?;
            reads += snap.collection.api_calls;
            collections += 1;
            let plan = rampart_baseline::plan(&cfg, &snap)
                .map_err(|e| anyhow::anyhow!("{}: {e}", g.config.display()))?;
            if plan.changes.is_empty() {
                for u in &plan.unobserved {
                    output::note(g, format!("rampart: not observed, nothing planned: {u}"));
                }
                output::note(g, "The organization matches rampart.toml.");
                break Exit::Ok;
            }
            if rounds == a.max_rounds {
                output::note(g, plan.to_text());
                output::note(
                    g,
                    format!(
                        "rampart: still {} change(s) after {rounds} round(s); run `rampart apply` again",
                        plan.changes.len()
                    ),
                );
                break Exit::Changes;
            }
            rounds += 1;
            output::note(g, format!("Round {rounds}:\n{}", plan.to_text()));
            if !a.auto_approve && !confirm(plan.changes.len(), "")? {
                output::note(g, "Nothing applied.");
                break Exit::Changes;
            }
            let r = rampart_baseline::apply::execute(&plan, &effects, &log, &opts);
            applied += r.applied.len();
            report(g, &r);
            if !r.is_complete() {
                break Exit::Error;
            }
        }
    };
    output::note(
        g,
        format!(
            "rampart apply: {applied} change(s) in {rounds} round(s), {} state-changing call(s) ({} failed) logged to {}; {} API request(s) to make the changes, {reads} to read the organization ({collections} collection(s)); {:.1} s",
            log.calls(),
            log.failures(),
            a.audit_log.display(),
            api_calls(&effects),
            started.elapsed().as_secs_f64()
        ),
    );
    if let Some(store) = store.as_mut() {
        let run = rampart_store::ApplyRun {
            started_at,
            finished_at: crate::cmd::store::now(),
            organization_id: None,
            complete: outcome == Exit::Ok,
            rounds: rounds as u32,
            calls: log.calls(),
            failures: log.failures(),
        };
        let entries = crate::cmd::store::apply_entries(&log.entries());
        let id = store
            .record_apply(&run, &entries)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::cmd::store::note_recorded(g, store, "apply", id);
    }
    Ok(outcome)
}

fn report(g: &Global, r: &ApplyReport) {
    output::note(g, r.to_text().trim_end());
}

/// Asks on the terminal; refuses when there is no terminal to ask on.
fn confirm(n: usize, kind: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "refusing to apply {n} {kind}change(s) without confirmation: stdin is not a terminal; review `rampart plan` and pass --auto-approve"
        );
    }
    eprint!("Apply these {n} {kind}change(s)? Only `yes` is accepted: ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

#[cfg(feature = "aws")]
type Effects = rampart_aws::apply::AwsEffects;

#[cfg(feature = "aws")]
fn connect(g: &Global, cfg: &Config) -> anyhow::Result<Effects> {
    let opts = crate::cmd::plan::baseline_options(g, cfg);
    rampart_aws::apply::AwsEffects::connect(&opts, cfg).map_err(|e| anyhow::anyhow!("apply: {e}"))
}

#[cfg(feature = "aws")]
fn api_calls(e: &Effects) -> u64 {
    e.api_calls()
}

#[cfg(not(feature = "aws"))]
type Effects = rampart_baseline::apply::fake::SnapshotEffects;

#[cfg(not(feature = "aws"))]
fn connect(_g: &Global, _cfg: &Config) -> anyhow::Result<Effects> {
    anyhow::bail!(
        "this rampart was built without AWS access (--no-default-features); build with the default `aws` feature to apply"
    )
}

#[cfg(not(feature = "aws"))]
fn api_calls(_e: &Effects) -> u64 {
    0
}

/// The dashboard's apply button: applies plan run `run_id` as `rampart apply PLAN.json` would
/// (same code, audit log beside rampart.toml, recorded in the store), after checking that it
/// is still the plan to apply: the latest plan or drift run, and what a fresh plan finds now
/// (same change ids and destructive flags). A stale plan is refused and the fresh one is
/// recorded, so the Drift page shows what to review. Destructive changes need the admin's
/// typed confirmation, as they need a `yes` on the command line.
pub fn apply_recorded(
    g: &Global,
    run_id: i64,
    confirm_destructive: bool,
) -> Result<String, rampart_serve::JobError> {
    use rampart_serve::JobError::{Failed, Refused};
    use rampart_store::RunKind;
    let fail = |e: anyhow::Error| Failed(format!("{e:#}").replace('\n', " "));
    let mut store = crate::cmd::store::for_reading(g).map_err(fail)?;
    let se = |e: rampart_store::StoreError| Failed(e.to_string());
    let latest = [RunKind::Plan, RunKind::Drift]
        .into_iter()
        .filter_map(|k| store.runs(Some(k), None, Some(1)).ok()?.into_iter().next())
        .max_by_key(|r| r.id)
        .ok_or_else(|| Refused("no plan or drift run is recorded".into()))?;
    if latest.id != run_id {
        return Err(Refused(format!(
            "plan run #{run_id} is not the latest (run #{} is); review that one",
            latest.id
        )));
    }
    let rows: Vec<rampart_store::ChangeRow> = store
        .changes(
            latest.kind,
            latest.started_at,
            latest.started_at + chrono::Duration::seconds(1),
        )
        .map_err(se)?
        .into_iter()
        .filter(|(id, _)| *id == run_id)
        .map(|(_, c)| c)
        .collect();
    let mut recorded = Plan::default();
    for row in &rows {
        let change = serde_json::from_str(&row.json).map_err(|e| {
            Failed(format!(
                "{} run #{run_id}: change {} cannot be read back ({e}); run `rampart drift` and apply the new plan",
                latest.kind.as_str(),
                row.change_id
            ))
        })?;
        recorded.changes.push(change);
    }
    if recorded.changes.is_empty() {
        return Err(Refused(format!(
            "plan run #{run_id} has no pending changes"
        )));
    }
    let destructive = recorded.changes.iter().filter(|c| c.destructive).count();
    if destructive > 0 && !confirm_destructive {
        return Err(Refused(format!(
            "{destructive} destructive change(s) need the typed confirmation"
        )));
    }
    let dir = g
        .config
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let plan_file = dir.join(format!(".rampart-dashboard-plan-{run_id}.json"));
    let audit_log = dir.join("rampart-audit.jsonl");
    let argv = [
        "rampart",
        "apply",
        plan_file.to_str().unwrap_or_default(),
        "--auto-approve",
        "--audit-log",
        audit_log.to_str().unwrap_or_default(),
    ];
    let crate::cli::Command::Apply(args) = <crate::cli::Cli as clap::Parser>::try_parse_from(argv)
        .map_err(|e| Failed(e.to_string().lines().next().unwrap_or_default().to_string()))?
        .command
    else {
        unreachable!("parsed as apply")
    };
    // Is the reviewed plan still what the organization needs?
    let cfg = crate::cmd::init::load_config(g).map_err(fail)?;
    let snap = crate::cmd::plan::collect_for(g, &args.collect, &cfg).map_err(fail)?;
    let fresh = rampart_baseline::plan(&cfg, &snap)
        .map_err(|e| Failed(format!("{}: {e}", g.config.display())))?;
    let key = |p: &Plan| {
        let mut k: Vec<(String, bool)> = p
            .changes
            .iter()
            .map(|c| (c.id.clone(), c.destructive))
            .collect();
        k.sort();
        k
    };
    if key(&fresh) != key(&recorded) {
        let now = crate::cmd::store::now();
        let run = rampart_store::PlanRun {
            kind: RunKind::Plan,
            started_at: now,
            finished_at: now,
            organization_id: snap.organization.as_ref().map(|o| o.id.clone()),
            unobserved: fresh.unobserved.clone(),
        };
        let newer = store
            .record_plan(&run, &crate::cmd::store::change_rows(&fresh))
            .map_err(se)?;
        return Err(Refused(format!(
            "the organization changed since plan run #{run_id}: a fresh plan (run #{newer}) has {} change(s) instead of {}; review it on the Drift page and apply again",
            fresh.changes.len(),
            recorded.changes.len()
        )));
    }
    drop(store);
    let text = serde_json::to_string_pretty(&recorded).map_err(|e| Failed(e.to_string()))?;
    std::fs::write(&plan_file, text)
        .map_err(|e| Failed(format!("cannot write {}: {e}", plan_file.display())))?;
    let mut quiet = g.clone();
    quiet.quiet = true;
    let result = run(&quiet, &args);
    let _ = std::fs::remove_file(&plan_file);
    let exit = result.map_err(fail)?;
    let store = crate::cmd::store::for_reading(g).map_err(fail)?;
    let applied = store
        .runs(Some(RunKind::Apply), None, Some(1))
        .map_err(se)?
        .into_iter()
        .next();
    let figures = match &applied {
        Some(r) => format!(
            "apply run #{}: {}; logged to {}",
            r.id,
            r.scope,
            audit_log.display()
        ),
        None => format!("logged to {}", audit_log.display()),
    };
    let n = recorded.changes.len();
    match exit {
        Exit::Ok => Ok(format!("applied {n} change(s) ({figures})")),
        _ => Err(Failed(format!(
            "not every one of the {n} change(s) applied ({figures})"
        ))),
    }
}
