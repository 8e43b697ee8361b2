//! `rampart demo`: the main job on an embedded organization, with no AWS account.
//!
//! The demo is a sequence of steps over one embedded snapshot: the audit (summary on the
//! terminal, full HTML report on disk), detection over an embedded CloudTrail story, and the
//! baseline — the plan that would converge the demo organization to the default rampart.toml,
//! applied to an in-process model of the organization until nothing is left.

use crate::cli::{Exit, Global};
use crate::cmd::audit::{AuditConfig, color, evaluate};
use crate::cmd::output;
use anyhow::Context;
use rampart_core::Status;
use rampart_core::suppress::Suppression;
use rampart_report::{Format, Options};
use rampart_snapshot::Snapshot;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to write the HTML report.
    #[arg(long, value_name = "PATH", default_value = "rampart-report.html")]
    pub html: PathBuf,
    /// Write the embedded snapshot to this file too (to try `rampart audit --snapshot FILE`).
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
    /// The SQLite store the demo's twelve weeks of history are recorded in (re-created at each
    /// demo; try `rampart history --store sqlite://rampart-demo.db`).
    #[arg(long, value_name = "FILE", default_value = "rampart-demo.db")]
    pub history: PathBuf,
    /// Where to write the weekly report of the demo history (HTML).
    #[arg(long, value_name = "PATH", default_value = "rampart-weekly.html")]
    pub weekly: PathBuf,
    /// Then start the dashboard (`rampart serve`) on the demo history and print a one-time
    /// login link.
    #[arg(long)]
    pub serve: bool,
    /// Where `--serve` listens (loopback).
    #[arg(long, default_value = "127.0.0.1:8080", requires = "serve")]
    pub listen: std::net::SocketAddr,
}

/// The demo's `rampart.toml`: allowed regions and one accepted risk, to show suppressions.
pub(crate) fn demo_config() -> AuditConfig {
    let mut c = AuditConfig::default();
    c.audit.allowed_regions = vec![
        "us-east-1".into(),
        "eu-west-1".into(),
        "eu-central-1".into(),
    ];
    c.suppress.push(Suppression {
        control: Some("cis-2.1.2".into()),
        reason: "MFA Delete needs the root user; accepted until object lock covers every bucket (SEC-142)".into(),
        expires: Some("2099-12-31".into()),
        ..Suppression::default()
    });
    c
}

pub fn run(g: &Global, a: &DemoArgs) -> anyhow::Result<Exit> {
    let snapshot = rampart_core::sample::demo_org();
    if let Some(path) = &a.save_snapshot {
        std::fs::write(path, snapshot.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
        output::note(
            g,
            format!("rampart: demo snapshot written to {}", path.display()),
        );
    }
    audit_step(g, a, &snapshot)?;
    detect_step(g)?;
    baseline_step(g, &snapshot)?;
    history_step(g, a)?;
    if a.serve {
        crate::cmd::serve::demo(g, &format!("sqlite://{}", a.history.display()), a.listen)?;
    }
    Ok(Exit::Ok)
}

/// Records twelve weeks of the demo organization in a fresh SQLite store and writes the weekly
/// report of the last week.
fn history_step(g: &Global, a: &DemoArgs) -> anyhow::Result<()> {
    let url = format!("sqlite://{}", a.history.display());
    if a.history.exists() {
        // Only a store rampart made is re-created; anything else is left alone.
        drop(crate::cmd::store::open(&url).with_context(|| {
            format!(
                "--history {}: the file exists and is not a rampart store; choose another path",
                a.history.display()
            )
        })?);
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", a.history.display()));
            if p.exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("cannot replace {}", p.display()))?;
            }
        }
    }
    let mut store = crate::cmd::store::open(&url)?;
    let now = crate::cmd::store::now();
    let started = std::time::Instant::now();
    let runs = crate::cmd::demo_history::record(&mut store, now, &demo_config())?;
    let report = rampart_report::weekly::build(&store, now, chrono::Duration::days(7))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let html = rampart_report::weekly::render(&report, rampart_report::weekly::WeeklyFormat::Html);
    std::fs::write(&a.weekly, html)
        .with_context(|| format!("cannot write the weekly report to {}", a.weekly.display()))?;
    let score = |s: Option<f64>| s.map_or_else(|| "-".into(), |s| format!("{s:.1}%"));
    let first = report.trend.iter().find_map(|p| p.score);
    output::note(
        g,
        format!(
            "\nHistory: {runs} runs over {} weeks recorded in {} ({:.1} s); posture {} twelve weeks ago, {} now ({:+.1} this week): {} new failure(s), {} resolved, {} still open; {} alert(s) this week.\nWeekly report: {}\nNext: `rampart history --store {url}`, `rampart diff --store {url}`.",
            crate::cmd::demo_history::WEEKS,
            a.history.display(),
            started.elapsed().as_secs_f64(),
            score(first),
            score(report.score),
            report.score_change.unwrap_or(0.0),
            report.counts.new,
            report.counts.resolved,
            report.counts.still_open,
            report.alerts.total,
            a.weekly.display(),
        ),
    );
    Ok(())
}

/// Plans the demo organization against the default rampart.toml, then converges an in-process
/// model of it (the same executor `rampart apply` runs against AWS) and shows each round.
fn baseline_step(g: &Global, snapshot: &Snapshot) -> anyhow::Result<()> {
    // Like detection, on stderr: the main output (stdout or -o) stays the audit summary.
    output::note(g, baseline_story(snapshot)?.trim_end());
    Ok(())
}

fn baseline_story(snapshot: &Snapshot) -> anyhow::Result<String> {
    use rampart_baseline::apply::{ApplyOptions, AuditLog, execute, fake::SnapshotEffects};
    let regions: Vec<String> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let cfg = demo_baseline_config_for(&regions)?;
    let model = SnapshotEffects::new(snapshot.clone(), &cfg);
    let log = AuditLog::counting();
    let mut out = String::from(
        "\nBaseline: `rampart init && rampart apply` on the demo organization (an in-process model; nothing leaves this machine)\n",
    );
    for round in 1..=6 {
        let plan = rampart_baseline::plan(&cfg, &model.snapshot())
            .map_err(|e| anyhow::anyhow!("demo plan: {e}"))?;
        if plan.changes.is_empty() {
            out.push_str(&format!(
                "  converged after {} round(s): `rampart plan` now reports no changes ({} state-changing call(s) made)\n",
                round - 1,
                log.calls()
            ));
            break;
        }
        let destructive = plan.changes.iter().filter(|c| c.destructive).count();
        out.push_str(&format!(
            "  round {round}: {} change(s), {destructive} destructive, e.g.\n",
            plan.changes.len()
        ));
        for c in plan.changes.iter().take(3) {
            out.push_str(&format!(
                "    {} {}\n",
                if c.destructive { "!" } else { "+" },
                c.description
            ));
        }
        let report = execute(&plan, &model, &log, &ApplyOptions::default());
        if !report.is_complete() {
            anyhow::bail!("demo apply did not complete: {}", report.to_text());
        }
    }
    Ok(out)
}

/// The default rampart.toml for the demo organization's regions.
pub(crate) fn demo_baseline_config() -> anyhow::Result<rampart_baseline::Config> {
    let snapshot = rampart_core::sample::demo_org();
    let regions: Vec<String> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    demo_baseline_config_for(&regions)
}

fn demo_baseline_config_for(regions: &[String]) -> anyhow::Result<rampart_baseline::Config> {
    let text = rampart_baseline::init_template("ops@example.com", regions).replace(
        rampart_baseline::config::PLACEHOLDER_BUCKET,
        "rampart-org-trail-demo",
    );
    rampart_baseline::Config::parse(&text, "rampart.toml (demo)")
        .map_err(|e| anyhow::anyhow!("internal error: the demo configuration: {e}"))
}

/// A short, hand-written CloudTrail story (one account, one morning): a console login without
/// MFA, persistence, tampering with the baseline, exposure, root use and leaving the organization.
pub(crate) const DEMO_TRAIL: &str = include_str!("demo_trail.json");

/// Alerts of the built-in rules over some CloudTrail records.
pub(crate) struct Detected {
    pub alerts: Vec<rampart_detect::Alert>,
    pub rules: u64,
}

/// Runs every enabled built-in rule (the demo's allowed regions) over `records`.
pub(crate) fn detect(records: &[serde_json::Value]) -> anyhow::Result<Detected> {
    let cfg = rampart_detect::BuiltinConfig {
        allowed_regions: vec!["eu-west-1".into(), "eu-central-1".into()],
        ..Default::default()
    };
    let rules: Vec<_> = rampart_detect::builtin(&cfg)
        .into_iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule)
        .collect();
    let n_rules = rules.len() as u64;
    let engine = rampart_detect::Engine::new(rules);
    let mut detector = rampart_detect::Detector::new(&engine, 0);
    let mut alerts = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let raw = serde_json::to_vec(r)?;
        detector
            .process(&raw, &|| format!("demo-trail.json#{i}"), &mut alerts)
            .map_err(|e| anyhow::anyhow!("{}: {}", e.location, e.message))?;
    }
    detector
        .finish(&mut alerts)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(Detected {
        alerts,
        rules: n_rules,
    })
}

/// Runs every built-in detection rule over the embedded trail and prints the alerts.
fn detect_step(g: &Global) -> anyhow::Result<()> {
    let doc: serde_json::Value = serde_json::from_str(DEMO_TRAIL).context("embedded demo trail")?;
    let records = doc["Records"].as_array().cloned().unwrap_or_default();
    let Detected { alerts, rules } = detect(&records)?;
    let n_rules = rules;
    output::note(
        g,
        format!(
            "\nrampart demo: detection over an embedded CloudTrail sample ({} events, {n_rules} built-in rules): {} alert(s)\n",
            records.len(),
            alerts.len()
        ),
    );
    if !g.quiet {
        eprint!("{}", rampart_detect::alert::table(&alerts));
    }
    Ok(())
}

/// Audits the demo organization: prints the per-control summary and writes the HTML report.
fn audit_step(g: &Global, a: &DemoArgs, snapshot: &Snapshot) -> anyhow::Result<()> {
    let org = snapshot.organization.as_ref();
    output::note(
        g,
        format!(
            "rampart demo: auditing the embedded organization {} ({} accounts, {} regions) against CIS AWS Foundations v3.0 and the baseline…\n",
            org.map(|o| o.id.as_str()).unwrap_or("?"),
            snapshot.accounts.len(),
            snapshot
                .accounts
                .first()
                .map(|a| a.regions.len())
                .unwrap_or(0)
        ),
    );
    let started = std::time::Instant::now();
    let ev = evaluate(snapshot, &demo_config(), "demo", None, None)?;
    let elapsed = started.elapsed();

    // Per control with problems: worst first.
    type WorstFirst = (std::cmp::Reverse<rampart_core::Severity>, String);
    let mut rows: BTreeMap<WorstFirst, (String, usize, usize, usize)> = BTreeMap::new();
    for f in ev
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
    {
        let e = rows
            .entry((std::cmp::Reverse(f.severity), f.control.to_string()))
            .or_insert_with(|| (f.title.to_string(), 0, 0, 0));
        match (f.suppressed.is_some(), f.status) {
            (true, _) => e.3 += 1,
            (false, Status::Fail) => e.1 += 1,
            _ => e.2 += 1,
        }
    }
    let mut text = format!(
        "{:<10} {:<26} {:>4} {:>5} {:>5}  TITLE\n",
        "SEVERITY", "CONTROL", "FAIL", "ERROR", "SUPPR"
    );
    for ((sev, control), (title, fail, err, sup)) in &rows {
        text.push_str(&format!(
            "{:<10} {:<26} {:>4} {:>5} {:>5}  {}\n",
            sev.0.as_str(),
            control,
            fail,
            err,
            sup,
            title
        ));
    }
    text.push('\n');
    text.push_str(&rampart_report::summary_line(&ev.run, color(g)));
    let html = rampart_report::render(Format::Html, &ev.run, &ev.findings, Options::default());
    std::fs::write(&a.html, html)
        .with_context(|| format!("cannot write the HTML report to {}", a.html.display()))?;
    text.push_str(&format!(
        "evaluated {} findings in {:.1} ms; HTML report: {}\n\nNext: `rampart audit --snapshot FILE --format sarif` on your own snapshot (`rampart collect --output FILE`).\n",
        ev.findings.len(),
        elapsed.as_secs_f64() * 1000.0,
        a.html.display()
    ));
    output::emit(g, &text)
}

#[cfg(test)]
mod tests {
    /// The baseline step converges the demo organization's model in a few rounds.
    #[test]
    fn demo_baseline_converges() {
        let story = super::baseline_story(&rampart_core::sample::demo_org()).unwrap();
        assert!(story.contains("round 1: "), "{story}");
        assert!(story.contains("converged after "), "{story}");
    }

    /// The embedded trail tells the story the demo promises: each step raises its alert.
    #[test]
    fn demo_trail_raises_the_expected_alerts() {
        let doc: serde_json::Value = serde_json::from_str(super::DEMO_TRAIL).unwrap();
        let cfg = rampart_detect::BuiltinConfig::default();
        let rules: Vec<_> = rampart_detect::builtin(&cfg)
            .into_iter()
            .filter(|b| b.disabled.is_none())
            .map(|b| b.rule)
            .collect();
        let engine = rampart_detect::Engine::new(rules);
        let mut d = rampart_detect::Detector::new(&engine, 0);
        let mut alerts = Vec::new();
        for r in doc["Records"].as_array().unwrap() {
            d.process(
                &serde_json::to_vec(r).unwrap(),
                &|| "demo".into(),
                &mut alerts,
            )
            .unwrap();
        }
        d.finish(&mut alerts).unwrap();
        let ids: Vec<&str> = alerts.iter().map(|a| a.rule_id()).collect();
        for want in [
            "RD-CIS-4.2",
            "RD-TAMPER-001",
            "RD-TAMPER-003",
            "RD-TAMPER-008",
            "RD-IAM-005",
            "RD-CIS-4.3",
        ] {
            assert!(ids.contains(&want), "{want} missing from {ids:?}");
        }
    }
}
