//! `rampart runbook`: a rule's runbook, its commands filled from an alert when one is given;
//! `--all --out DIR` writes the generated docs/runbooks.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_detect::Alert;
use rampart_detect::runbook::{self, Contacts, Format};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct RunbookArgs {
    /// The rule id (or finding type) whose runbook to print; optional with --alert, which
    /// names its rule.
    #[arg(value_name = "RULE")]
    pub rule: Option<String>,
    /// An alert (`rampart.alert/v1`): a JSON Lines file (the first alert of RULE in it, else
    /// the first), `-` for stdin, or the JSON itself. Its fields fill the commands.
    #[arg(long, value_name = "FILE_OR_JSON")]
    pub alert: Option<String>,
    /// Every runbook, as Markdown files plus an index README.md, into --out.
    #[arg(long, requires = "out", conflicts_with_all = ["rule", "alert"])]
    pub all: bool,
    /// The directory --all writes (created if missing; other files in it are left alone).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(g: &Global, a: &RunbookArgs) -> anyhow::Result<Exit> {
    if a.all {
        let dir = a.out.as_deref().context("--all needs --out DIR")?;
        return write_all(g, dir);
    }
    let format = match g.format.as_deref() {
        None => Format::Text,
        Some(f) => Format::parse(f)
            .with_context(|| format!("unknown format `{f}` for runbook: use markdown or text"))?,
    };
    let alert = a
        .alert
        .as_deref()
        .map(|src| read_alert(src, a.rule.as_deref()))
        .transpose()?;
    let id = match (&a.rule, &alert) {
        (Some(id), _) => id.clone(),
        (None, Some(al)) => runbook::runbook_key(al),
        (None, None) => bail!("name a rule (`rampart runbook RD-TAMPER-001`) or give --alert"),
    };
    // a rule id, else a finding type as SERVICE:TYPE (`guardduty:Recon:IAMUser/…`)
    let found =
        runbook::find(&id).or_else(|| rampart_findings::runbooks::find_key(&id).map(|f| &f.entry));
    let Some(entry) = found else {
        bail!(
            "no runbook for `{id}`: closest are {} (`rampart rules list` lists every rule; a finding type is SERVICE:TYPE, e.g. guardduty:Recon:IAMUser/MaliciousIPCaller)",
            runbook::closest(&id, 3).join(", ")
        );
    };
    let contacts = contacts(g)?;
    output::emit(
        g,
        &runbook::render(entry, alert.as_ref(), &contacts, format),
    )?;
    Ok(Exit::Ok)
}

/// The escalation names of `[detect.escalation]` in the config file, defaults without it.
fn contacts(g: &Global) -> anyhow::Result<Contacts> {
    crate::cmd::detect::escalation_contacts(&g.config)
}

/// The alert `src` names (a file, `-`, or inline JSON): the first record of `rule` when given
/// and present, else the first record.
fn read_alert(src: &str, rule: Option<&str>) -> anyhow::Result<Alert> {
    let text = if src.trim_start().starts_with('{') {
        src.to_string()
    } else if src == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read the alert from stdin")?
    } else {
        std::fs::read_to_string(src).with_context(|| {
            format!("cannot read alert file {src}: give a path, `-` or the JSON")
        })?
    };
    let label = match src {
        _ if src.trim_start().starts_with('{') => "--alert",
        "-" => "stdin",
        _ => src,
    };
    let mut alerts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{label}:{}: not JSON", n + 1))?;
        let a = Alert::from_record(&v).map_err(|e| anyhow::anyhow!("{label}:{}: {e}", n + 1))?;
        alerts.push(a);
    }
    let pick = rule
        .and_then(|r| {
            alerts
                .iter()
                .position(|a| a.rule_id().eq_ignore_ascii_case(r))
        })
        .unwrap_or(0);
    if alerts.is_empty() {
        bail!("{label}: no alert in it");
    }
    Ok(alerts.swap_remove(pick))
}

/// Writes docs/runbooks (or any `dir`): one file per runbook and the index.
fn write_all(g: &Global, dir: &Path) -> anyhow::Result<Exit> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    let docs = runbook::docs();
    for (name, text) in &docs {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    // the finding types' runbooks, in their own directory with their own index
    let finding_dir = dir.join("findings");
    std::fs::create_dir_all(&finding_dir)
        .with_context(|| format!("cannot create directory {}", finding_dir.display()))?;
    let finding_docs = rampart_findings::runbooks::docs();
    for (name, text) in &finding_docs {
        let path = finding_dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    output::note(
        g,
        format!(
            "rampart: wrote {} runbook(s) and the index to {}",
            docs.len() - 1 + finding_docs.len() - 1,
            dir.display()
        ),
    );
    Ok(Exit::Ok)
}
