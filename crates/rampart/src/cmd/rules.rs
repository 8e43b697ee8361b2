//! `rampart rules list|test`.

use crate::cli::{Exit, Global};
use crate::cmd::detect::{RuleArgs, load_rules};
use crate::cmd::output;
use anyhow::Context;
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

fn list(g: &Global, a: &RuleArgs) -> anyhow::Result<Exit> {
    let loaded = load_rules(g, a)?;
    let json = matches!(g.format.as_deref(), Some("json" | "jsonl"));
    let mut text = String::new();
    if json {
        for l in &loaded.listed {
            let v = serde_json::json!({"id": l.id, "source": l.source, "severity": l.severity, "status": l.status, "title": l.title, "attack": l.attack});
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
            "{:<w_id$}  {:<8}  {:<8}  {:<11}  {:<28}  STATUS\n",
            "ID", "SOURCE", "SEVERITY", "ATT&CK", "TITLE"
        ));
        for l in &loaded.listed {
            let title: String = l.title.chars().take(60).collect();
            text.push_str(&format!(
                "{:<w_id$}  {:<8}  {:<8}  {:<11}  {:<28}  {}\n",
                l.id, l.source, l.severity, l.attack, title, l.status
            ));
        }
    }
    output::emit(g, &text)?;
    let active = loaded
        .listed
        .iter()
        .filter(|l| l.status == "active")
        .count();
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
            "rampart: {} rule(s): {active} active, {} not loaded; {} run on every event (no eventName to index by){}{}",
            loaded.listed.len(),
            loaded.listed.len() - active,
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
