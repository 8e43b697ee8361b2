//! `rampart rules list|test`.

use crate::cli::{Exit, Global};
use crate::cmd::detect::{RuleArgs, listed, load_rules};
use crate::cmd::output;
use anyhow::Context;
use rampart_detect::baseline::Baseline;
use rampart_detect::input::{ReadStats, Reader};
use rampart_detect::{Detector, Engine};
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// List every loaded rule and its status (active, disabled, unsupported with the reason).
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every built-in rule against its own positive and negative events; with EVENTS, also
    /// show which loaded rules fire on each event of that file.
    Test {
        #[command(flatten)]
        rules: RuleArgs,
        /// A CloudTrail file to evaluate the loaded rules on.
        #[arg(value_name = "EVENTS")]
        events: Option<PathBuf>,
    },
}

pub fn run(g: &Global, a: &RulesCommand) -> anyhow::Result<Exit> {
    match a {
        RulesCommand::List { rules } => list(g, rules),
        RulesCommand::Test { rules, events } => test(g, rules, events.as_deref()),
    }
}

/// The status `rules list` gives the baseline's rules: `detect --baseline FILE` raises them.
const BASELINE_STATUS: &str = "active with --baseline";

fn list(g: &Global, a: &RuleArgs) -> anyhow::Result<Exit> {
    let mut loaded = load_rules(g, a)?;
    let active = loaded
        .listed
        .iter()
        .filter(|l| l.status.starts_with("active"))
        .count();
    let not_loaded = loaded.listed.len() - active;
    let baseline = Baseline::catalogue();
    loaded
        .listed
        .extend(baseline.iter().map(|r| listed(r, BASELINE_STATUS)));
    let json = matches!(g.format.as_deref(), Some("json" | "jsonl"));
    let mut text = String::new();
    if json {
        for l in &loaded.listed {
            let v = serde_json::json!({"id": l.id, "source": l.source, "severity": l.severity, "status": l.status, "title": l.title, "attack": l.attack, "on_failure": l.on_failure});
            text.push_str(&v.to_string());
            text.push('\n');
        }
    } else {
        let w_id = loaded
            .listed
            .iter()
            .map(|l| l.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        text.push_str(&format!(
            "{:<w_id$}  {:<8}  {:<8}  {:<11}  {:<28}  {:<10}  STATUS\n",
            "ID", "SOURCE", "SEVERITY", "ATT&CK", "TITLE", "ON FAILURE"
        ));
        for l in &loaded.listed {
            let title: String = l.title.chars().take(60).collect();
            text.push_str(&format!(
                "{:<w_id$}  {:<8}  {:<8}  {:<11}  {:<28}  {:<10}  {}\n",
                l.id, l.source, l.severity, l.attack, title, l.on_failure, l.status
            ));
        }
    }
    output::emit(g, &text)?;
    // Rules that pin no eventName run on every event: the ones to look at when detection is slow.
    let every: Vec<&str> = loaded
        .rules
        .iter()
        .filter(|r| r.index.event_names.is_none())
        .map(|r| r.meta.id.as_str())
        .collect();
    output::note(
        g,
        format!(
            "rampart: {} rule(s): {active} active, {not_loaded} not loaded, {} {BASELINE_STATUS}; {} run on every event (no eventName to index by){}{}",
            loaded.listed.len(),
            baseline.len(),
            every.len(),
            if every.is_empty() { "" } else { ": " },
            every.join(", ")
        ),
    );
    Ok(Exit::Ok)
}

fn test(g: &Global, a: &RuleArgs, events: Option<&std::path::Path>) -> anyhow::Result<Exit> {
    let loaded = load_rules(g, a)?;
    let failures = rampart_detect::rules::self_test(&loaded.builtins);
    let cases: usize = loaded
        .builtins
        .iter()
        .map(|b| b.positives.len() + b.negatives.len())
        .sum();
    for f in &failures {
        eprintln!("rampart: FAIL {f}");
    }
    output::note(
        g,
        format!(
            "rampart: {} built-in rule(s), {cases} test event(s), {} failure(s)",
            loaded.builtins.len(),
            failures.len()
        ),
    );
    if let Some(path) = events {
        let engine = Engine::new(loaded.rules);
        let mut det = Detector::new(&engine, 0);
        if let Some(cfg) = loaded.signin {
            det = det.with_signin(cfg);
        }
        let mut alerts = Vec::new();
        let mut stats = ReadStats::default();
        let mut issues = Vec::new();
        let mut reader = Reader::new();
        if !path.exists() {
            return Err(anyhow::anyhow!("{}: no such file", path.display()))
                .context("rampart rules test");
        }
        let name = path.display().to_string();
        reader.read_file(path, &mut stats, &mut issues, &mut |raw, n| {
            if let Err(i) = det.process(raw, &|| format!("{name}:record {n}"), &mut alerts) {
                eprintln!("rampart: warning: {i}");
            }
        });
        det.finish(&mut alerts).map_err(anyhow::Error::msg)?;
        for i in &issues {
            eprintln!("rampart: warning: {i}");
        }
        let mut text = String::new();
        for al in &alerts {
            text.push_str(&format!(
                "{}  {}  {}  {}\n",
                al.origin.as_deref().unwrap_or("-"),
                al.rule_id(),
                al.event_name().unwrap_or("-"),
                al.title()
            ));
        }
        output::emit(g, &text)?;
        output::note(
            g,
            format!(
                "rampart: {} event(s), {} alert(s)",
                det.stats.events,
                alerts.len()
            ),
        );
    }
    Ok(if failures.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn rules(args: &[&str]) -> Exit {
        let c = crate::cli::Cli::try_parse_from(args).expect("arguments parse");
        match &c.command {
            crate::cli::Command::Rules(a) => run(&c.global, a).unwrap(),
            _ => unreachable!(),
        }
    }

    /// `rules list` shows the baseline's rules, active with `--baseline`, in text and JSON.
    #[test]
    fn list_shows_the_baseline_rules() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rules.txt");
        let conf = dir.path().join("none.toml");
        let (out_s, conf_s) = (out.to_str().unwrap(), conf.to_str().unwrap());
        let args = [
            "rampart", "rules", "list", "-q", "-o", out_s, "--config", conf_s,
        ];
        assert_eq!(rules(&args), Exit::Ok);
        let text = std::fs::read_to_string(&out).unwrap();
        for id in [
            "RD-BASE-REGION",
            "RD-BASE-API",
            "RD-BASE-NETWORK",
            "RD-BASE-AGENT",
        ] {
            let line = text.lines().find(|l| l.starts_with(id)).unwrap_or_default();
            assert!(
                line.contains("baseline") && line.ends_with("active with --baseline"),
                "{id}: {line:?}"
            );
        }
        assert!(
            text.contains("RD-TAMPER-001"),
            "built-in rules still listed"
        );
        let json = [&args[..], &["--format", "json"]].concat();
        assert_eq!(rules(&json), Exit::Ok);
        let agent = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["id"] == "RD-BASE-AGENT")
            .expect("RD-BASE-AGENT in the JSON list");
        assert_eq!(agent["source"], "baseline");
        assert_eq!(agent["severity"], "low");
        assert_eq!(agent["attack"], "T1078");
        assert_eq!(agent["status"], "active with --baseline");
    }
}
